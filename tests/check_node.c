/* check_node.c - node.c without a node: option parsing, node names, the errors of a
 * connection that cannot be made (no epmd on a closed port, an unresolvable host, a
 * missing cookie file) */
#define SUITE_FN node_suite
#include "check_main.h"

#include "kerr.h"
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(opts_parse)
{
    struct node_opts o;
    node_opts_init(&o);
    ck_assert_uint_eq(o.timeout_ms, 60000);
    char *a1[] = {"--cookie", "abc", "x"};
    ck_assert_int_eq(node_opts_arg(&o, 3, a1), 2);
    ck_assert_str_eq(o.cookie, "abc");
    char *a2[] = {"--timeout=2.5"};
    ck_assert_int_eq(node_opts_arg(&o, 1, a2), 1);
    ck_assert_uint_eq(o.timeout_ms, 2500);
    char *a3[] = {"--cookie-file", "/f"};
    ck_assert_int_eq(node_opts_arg(&o, 2, a3), 2);
    ck_assert_str_eq(o.cookie_file, "/f");
    char *a4[] = {"--cookies"};
    ck_assert_int_eq(node_opts_arg(&o, 1, a4), 0);
    char *a5[] = {"--dry-run"};
    ck_assert_int_eq(node_opts_arg(&o, 1, a5), 0);
}
END_TEST

START_TEST(opts_errors)
{
    struct node_opts o;
    node_opts_init(&o);
    const char *bad[] = {"0", "-1", "x", "1s", "100000"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *a[] = {"--timeout", (char *)bad[k]};
        ck_assert_msg(node_opts_arg(&o, 2, a) == -1, "--timeout %s accepted", bad[k]);
        ck_assert_int_eq(kerr_get()->cls, KERR_USAGE);
    }
    char *a[] = {"--cookie"};
    ck_assert_int_eq(node_opts_arg(&o, 1, a), -1);
    ck_assert_msg(strstr(kerr_get()->msg, "needs a value"), "%s", kerr_get()->msg);
}
END_TEST

START_TEST(full_names)
{
    struct arena a;
    arena_init(&a);
    char h[256] = "";
    gethostname(h, sizeof h - 1);
    char *dot = strchr(h, '.');
    if (dot)
        *dot = 0;
    char want[300];
    snprintf(want, sizeof want, "shop@%s", h);
    ck_assert_str_eq(node_full_name(&a, "shop"), want);
    ck_assert_str_eq(node_full_name(&a, "shop@db1.example.com"), "shop@db1.example.com");
    arena_close(&a);
}
END_TEST

START_TEST(connect_errors)
{
    struct node_opts o;
    node_opts_init(&o);
    o.cookie = "c";
    o.timeout_ms = 3000;
    struct node_conn *c = NULL;
    /* an epmd port nothing listens on: "no epmd", exit class 4 */
    setenv("ERL_EPMD_PORT", "1", 1);
    ck_assert_int_eq(node_open("x@127.0.0.1", &o, &c), -1);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(kerr_get()->cls, KERR_NODE_DOWN);
    ck_assert_msg(strstr(kerr_get()->msg, "no epmd at host '127.0.0.1'"), "%s", kerr_get()->msg);
    unsetenv("ERL_EPMD_PORT");
    ck_assert_int_eq(node_open("x@no-such-host.invalid", &o, &c), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_NODE_DOWN);
    ck_assert_msg(strstr(kerr_get()->msg, "cannot resolve host 'no-such-host.invalid'"), "%s",
                  kerr_get()->msg);
    ck_assert_int_eq(node_open("@h", &o, &c), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_USAGE);
    o.cookie = NULL;
    o.cookie_file = "/nonexistent/cookie";
    ck_assert_int_eq(node_open("x@127.0.0.1", &o, &c), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
    ck_assert_msg(strstr(kerr_get()->file, "/nonexistent/cookie"), "%s", kerr_get()->file);
}
END_TEST

Suite *node_suite(void)
{
    Suite *s = suite_create("node");
    TCase *t = tcase_create("node");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, opts_parse);
    tcase_add_test(t, opts_errors);
    tcase_add_test(t, full_names);
    tcase_add_test(t, connect_errors);
    suite_add_tcase(s, t);
    return s;
}
