/* check_vsn.c - version ordering and VCS versions */
#define SUITE_FN vsn_suite
#include "check_main.h"

#include "kerr.h"
#include "vsn.h"

#include <stdio.h>
#include <string.h>

/* each row is an ascending chain under semver */
static const char *const chains[][7] = {
    {"0.0.1", "0.0.2", "0.0.10", "0.1.0", "1.0.0", NULL},
    {"1.0.0-rc1", "1.0.0-rc2", "1.0.0", "1.0.1", NULL},
    {"v1.2", "1.2.0", "1.10", "2", NULL},
    {"1.0", "1.0.0", "1.0.0.1", NULL},
    {"1.0.9", "1.0.a", "1.0.b", NULL},
    /* git describe: after the tag, before the next version (real pre-releases still before) */
    {"2.0.0", "2.0.0-1-gb761fcb", "2.0.0-2-g0a1b2c3", "2.0.0-10-gffffeee", "2.0.1-rc1", "2.0.1"},
    {"2.0.1-rc1", "2.0.1-rc1-3-gabcdef1", "2.0.1-rc2", "2.0.1", "2.0.1-1-mabcdef12", NULL},
    {"v3.0", "v3.0-1-g1234abcd", "3.0.1", NULL},
};

START_TEST(semver_orders_chains)
{
    for (size_t r = 0; r < sizeof chains / sizeof chains[0]; r++) {
        for (size_t i = 0; chains[r][i]; i++) {
            for (size_t j = 0; chains[r][j]; j++) {
                int want = i < j ? -1 : i > j ? 1 : 0;
                int got = vsn_compare(chains[r][i], chains[r][j], true);
                ck_assert_msg(got == want, "vsn_compare('%s', '%s') = %d, expected %d",
                              chains[r][i], chains[r][j], got, want);
            }
        }
    }
}
END_TEST

START_TEST(plain_order_without_semver)
{
    ck_assert_int_lt(vsn_compare("0.0.10", "0.0.2", false), 0);
    ck_assert_int_gt(vsn_compare("0.0.10", "0.0.2", true), 0);
    const char *v[] = {"1.10.0", "1.2.0", "1.9.3", "0.9"};
    vsn_sort(v, 4, true);
    const char *want[] = {"0.9", "1.2.0", "1.9.3", "1.10.0"};
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(v[i], want[i]);
}
END_TEST

START_TEST(git_version_from_repo)
{
    char dir[] = "/tmp/knit-vcs.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd %s && git init -q && git -c user.email=t@t -c user.name=t commit -q "
             "--allow-empty -m x && git tag 2.3.4",
             dir);
    ck_assert_int_eq(system(cmd), 0);
    char *v = vcs_version("git", dir);
    ck_assert_msg(v != NULL, "%s", kerr_get()->msg);
    ck_assert_str_eq(v, "2.3.4");
    free(v);
    /* one commit after the tag: a version that orders after it */
    snprintf(cmd, sizeof cmd,
             "cd %s && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m y", dir);
    ck_assert_int_eq(system(cmd), 0);
    v = vcs_version("git", dir);
    ck_assert_msg(v != NULL, "%s", kerr_get()->msg);
    ck_assert_msg(!strncmp(v, "2.3.4-1-g", 9), "git describe gave '%s'", v);
    ck_assert_msg(vsn_compare("2.3.4", v, true) < 0 && vsn_compare(v, "2.3.5", true) < 0,
                  "'%s' does not order between 2.3.4 and 2.3.5", v);
    free(v);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_ptr_null(vcs_version("git", "/"));
    ck_assert_msg(strstr(kerr_get()->msg, "git describe"), "message: %s", kerr_get()->msg);
    ck_assert_ptr_null(vcs_version("cvs", "/"));
}
END_TEST

Suite *vsn_suite(void)
{
    Suite *s = suite_create("vsn");
    TCase *tc = tcase_create("vsn");
    tcase_add_test(tc, semver_orders_chains);
    tcase_add_test(tc, plain_order_without_semver);
    tcase_add_test(tc, git_version_from_repo);
    suite_add_tcase(s, tc);
    return s;
}
