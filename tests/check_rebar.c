/* check_rebar.c - rebar.config's relx section read into knit's config (rebar.c) */
#define SUITE_FN rebar_suite
#include "check_main.h"

#include "cfg.h"
#include "kerr.h"
#include "log.h"
#include "rebar.h"
#include "term_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/knit-check-rebar.XXXXXX";

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    ck_assert_msg(f != NULL, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

/* a project with _build/default/lib/aa/ebin/aa.app (and _build/prod/lib the same) */
static void setup(void)
{
    ck_assert(mkdtemp(dir) != NULL);
    const char *dirs[] = {"_build",
                          "_build/default",
                          "_build/default/lib",
                          "_build/default/lib/aa",
                          "_build/default/lib/aa/ebin",
                          "_build/prod",
                          "_build/prod/lib",
                          "_build/prod/lib/aa",
                          "_build/prod/lib/aa/ebin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, dirs[i]);
        mkdir(p, 0755);
    }
    const char *app = "{application, aa, [{vsn, \"1.0.0\"}, {applications, [kernel, stdlib]}]}.\n";
    put("_build/default/lib/aa/ebin/aa.app", app);
    put("_build/prod/lib/aa/ebin/aa.app", app);
    log_setup(LOG_INFO, true, NULL);
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

/* load - cfg_load of DIR/rebar.config with PROFILE; 0 or -1 */
static int load(struct arena *a, const char *profile, struct cfg *c)
{
    char p[512];
    snprintf(p, sizeof p, "%s/rebar.config", dir);
    rebar_set_profile(profile);
    int rc = cfg_load(a, p, NULL, 0, c);
    rebar_set_profile(NULL);
    return rc;
}

START_TEST(translates_release_and_dirs)
{
    put("rebar.config", "{relx, [{release, {myrel, \"1.2.3\"}, [aa, sasl]},\n"
                        "        {include_erts, false}]}.\n");
    struct arena a;
    arena_init(&a);
    struct cfg c;
    ck_assert_msg(load(&a, NULL, &c) == 0, "cfg_load: %s", kerr_get()->msg);
    ck_assert_str_eq(c.boot_rel->name, "myrel");
    ck_assert_str_eq(c.boot_rel->vsn, "1.2.3");
    ck_assert_int_eq((int)c.boot_rel->napps, 2);
    ck_assert(!c.include_erts);
    ck_assert(c.relx_layout);
    ck_assert_msg(strstr(c.lib_dirs[0], "/_build/default/lib") != NULL, "lib dir %s",
                  c.lib_dirs[0]);
    ck_assert_msg(strstr(c.release_dir, "/_build/default/rel/myrel") != NULL, "release_dir %s",
                  c.release_dir);
    ck_assert_msg(strstr(c.target_dir, "/_build/default/knit") != NULL, "target_dir %s",
                  c.target_dir);
    arena_close(&a);
}
END_TEST

START_TEST(profile_overrides_base)
{
    put("rebar.config", "{relx, [{release, {myrel, \"1.0.0\"}, [aa]}, {include_erts, true}]}.\n"
                        "{profiles, [{prod, [{relx, [{include_erts, false},\n"
                        "   {release, {myrel, \"2.0.0\"}, [aa]}]}]}]}.\n");
    struct arena a;
    arena_init(&a);
    struct cfg c;
    ck_assert_msg(load(&a, "prod", &c) == 0, "cfg_load: %s", kerr_get()->msg);
    ck_assert(!c.include_erts);
    ck_assert_str_eq(c.boot_rel->vsn, "2.0.0"); /* the highest version of the one name */
    ck_assert_msg(strstr(c.lib_dirs[0], "/_build/prod/lib") != NULL, "lib dir %s", c.lib_dirs[0]);
    struct cfg d;
    ck_assert(load(&a, NULL, &d) == 0);
    ck_assert(d.include_erts);
    ck_assert_str_eq(d.boot_rel->vsn, "1.0.0");
    arena_close(&a);
}
END_TEST

START_TEST(mode_prod_picks_prod_profile)
{
    put("rebar.config", "{relx, [{release, {myrel, \"1.0.0\"}, [aa]}, {mode, prod}]}.\n"
                        "{profiles, [{prod, [{relx, [{release, {myrel, \"3.0.0\"}, [aa]}]}]}]}.\n");
    struct arena a;
    arena_init(&a);
    struct cfg c;
    ck_assert_msg(load(&a, NULL, &c) == 0, "cfg_load: %s", kerr_get()->msg);
    ck_assert_str_eq(c.boot_rel->vsn, "3.0.0");
    ck_assert(c.include_erts);
    ck_assert_str_eq(c.debug_info, "strip");
    arena_close(&a);
}
END_TEST

static void expect_error(const char *config, const char *profile, const char *want)
{
    put("rebar.config", config);
    struct arena a;
    arena_init(&a);
    struct cfg c;
    ck_assert_msg(load(&a, profile, &c) != 0, "accepted: %s", config);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
    ck_assert_msg(strstr(kerr_get()->msg, want) != NULL, "message '%s' lacks '%s'", kerr_get()->msg,
                  want);
    arena_close(&a);
}

START_TEST(errors)
{
    expect_error("{deps, []}.\n", NULL, "no {relx, [...]} section");
    expect_error("{relx, [{release, {a, \"1\"}, [aa]}, {release, {b, \"1\"}, [aa]}]}.\n", NULL,
                 "no default_release");
    expect_error("{relx, [{release, {a, \"1\"}, [aa]}, {default_release, {c, \"1\"}}]}.\n", NULL,
                 "default_release names no");
    expect_error("{relx, [{release, {a, \"1\"}, [nope]}]}.\n", NULL, "rebar3 compile");
    expect_error("{relx, [{release, {a, \"1\"}, [aa]}]}.\n", "staging", "no profile 'staging'");
    expect_error("{relx, [{release, {a, \"1\"}, [aa]}, {include_src, maybe}]}.\n", NULL,
                 "include_src");
    expect_error("{relx, [{release, {a, \"1\"}, [aa]}, {sys_config, \"none.config\"}]}.\n", NULL,
                 "cannot be read");
}
END_TEST

START_TEST(default_release_picks)
{
    put("rebar.config", "{relx, [{release, {a, \"1\"}, [aa]}, {release, {b, \"2\"}, [aa]},\n"
                        "        {default_release, {b, \"2\"}}]}.\n");
    struct arena a;
    arena_init(&a);
    struct cfg c;
    ck_assert_msg(load(&a, NULL, &c) == 0, "cfg_load: %s", kerr_get()->msg);
    ck_assert_str_eq(c.boot_rel->name, "b");
    arena_close(&a);
}
END_TEST

START_TEST(versions_as_relx)
{
    struct arena a;
    arena_init(&a);
    const struct term *t = term_parse_term(&a, "t", "\"1.0.0\"", strlen("\"1.0.0\""));
    ck_assert_str_eq(rebar_resolve_vsn(&a, t, "/"), "1.0.0");
    t = term_parse_term(&a, "t", "{cmd, \"printf ' 4.5.6\\n'\"}",
                        strlen("{cmd, \"printf ' 4.5.6\\n'\"}"));
    ck_assert_msg(t != NULL, "parse");
    ck_assert_str_eq(rebar_resolve_vsn(&a, t, "/"), "4.5.6");
    t = term_parse_term(&a, "t", "{cmd, \"exit 3\"}", strlen("{cmd, \"exit 3\"}"));
    ck_assert_str_eq(rebar_resolve_vsn(&a, t, "/"), "0.0.0"); /* relx: a failure is 0.0.0 */
    t = term_parse_term(&a, "t", "{git, short}", strlen("{git, short}"));
    ck_assert_str_eq(rebar_resolve_vsn(&a, t, "/"), "0.0.0"); /* not a repository */
    t = term_parse_term(&a, "t", "{svn, x}", strlen("{svn, x}"));
    ck_assert(rebar_resolve_vsn(&a, t, "/") == NULL);
    arena_close(&a);
}
END_TEST

Suite *rebar_suite(void)
{
    Suite *s = suite_create("rebar");
    TCase *tc = tcase_create("rebar");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, translates_release_and_dirs);
    tcase_add_test(tc, profile_overrides_base);
    tcase_add_test(tc, mode_prod_picks_prod_profile);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, default_release_picks);
    tcase_add_test(tc, versions_as_relx);
    suite_add_tcase(s, tc);
    return s;
}
