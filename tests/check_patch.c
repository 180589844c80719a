/* check_patch.c - hot-patch planning on fixture beams compiled by OTP: the same instructions
 * as an appup, unchanged and unloaded modules, the low-level script, reading the arguments */
#define SUITE_FN patch_suite
#include "check_main.h"

#include "appup.h"
#include "buf.h"
#include "kerr.h"
#include "patch.h"
#include "term_parse.h"
#include "term_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char T[] = "/tmp/knit-check-patch.XXXXXX";
static struct arena A;

/* tests/appup/{v1,v2,v3} into T/appup, tests/patch/{v1,v2} into T/patch, in two VMs */
static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(T));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "escript tests/appup/compile.escript tests/appup %s/appup && "
             "escript tests/appup/compile.escript tests/patch %s/patch",
             T, T);
    ck_assert_msg(system(cmd) == 0, "compiling the fixtures failed: %s", cmd);
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", T);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", T);
}

static void each_setup(void)
{
    arena_init(&A);
    kerr_clear();
}

static void each_teardown(void)
{
    arena_close(&A);
}

static char *dir(const char *sub)
{
    return arena_sprintf(&A, "%s/%s", T, sub);
}

static const char *text(const struct term *t)
{
    struct buf b = BUF_INIT;
    term_write(&b, t);
    const char *s = arena_strdup(&A, buf_cstr(&b));
    buf_free(&b);
    return s;
}

static const char *errtext(void)
{
    char buf[4096];
    kerr_format(kerr_get(), buf, sizeof buf);
    return arena_strdup(&A, buf);
}

#define expect_term(got, want_text)                                                                \
    do {                                                                                           \
        const char *w_ = (want_text);                                                              \
        const struct term *want_ = term_parse_term(&A, "want", w_, strlen(w_));                    \
        ck_assert_msg(want_ != NULL, "bad expected text %s", w_);                                  \
        ck_assert_msg(term_equal((got), want_), "got\n  %s\nwant\n  %s", text(got), text(want_));  \
    } while (0)

static struct patch_beam *beams(const char *sub, size_t *n)
{
    char *d = dir(sub);
    struct patch_beam *b;
    ck_assert_msg(patch_read_beams(&A, &d, 1, &b, n) == 0, "reading %s: %s", d, errtext());
    return b;
}

/* loaded_from - for each of the N beams B, the md5 of the same module among the beams of
 * directory SUB (what a node running that version has loaded), NULL when it has none */
static const uint8_t **loaded_from(const struct patch_beam *b, size_t n, const char *sub)
{
    size_t on;
    struct patch_beam *o = beams(sub, &on);
    const uint8_t **l = arena_alloc(&A, (n + 1) * sizeof *l);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < on; j++)
            if (!strcmp(b[k].module, o[j].module))
                l[k] = o[j].md5;
    return l;
}

static struct patch_plan plan(const char *nw, const char *old, bool add)
{
    size_t n;
    struct patch_beam *b = beams(nw, &n);
    struct patch_plan p;
    int rc = patch_make_plan(&A, "7", b, n, loaded_from(b, n, old), add, NULL, &p);
    ck_assert_msg(rc == 0, "patch_make_plan failed: %s", errtext());
    return p;
}

/* without_deletes - the list L without its delete_module instructions */
static const struct term *without_deletes(const struct term *l)
{
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    struct term_vec v = {0};
    for (size_t k = 0; k < n; k++)
        if (!term_is_tagged(e[k], "delete_module", 2))
            term_vec_add(&A, &v, e[k]);
    return term_vec_list(&A, &v);
}

/* a patch gets the instructions the appup of the same beams gets (less what a patch cannot
 * do: delete modules), for every pair of fixture versions */
START_TEST(test_same_as_appup)
{
    const char *v[] = {"appup/v1", "appup/v2", "appup/v3"};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            if (i == j)
                continue;
            struct appup_from from = {"old", dir(v[i]), NULL, 0};
            struct appup_result r;
            ck_assert_msg(appup_generate(&A, "ka", "new", dir(v[j]), &from, 1, NULL, &r) == 0,
                          "appup_generate: %s", errtext());
            struct patch_plan p = plan(v[j], v[i], true);
            ck_assert_msg(term_equal(p.high, without_deletes(r.reports[0].up)),
                          "%s onto %s:\npatch  %s\nappup  %s", v[j], v[i], text(p.high),
                          text(r.reports[0].up));
        }
}
END_TEST

START_TEST(test_statuses)
{
    size_t n;
    struct patch_beam *b = beams("appup/v2", &n);
    struct patch_plan p;
    ck_assert_int_eq(patch_make_plan(&A, "7", b, n, loaded_from(b, n, "appup/v1"), true, NULL, &p),
                     0);
    const char *want[][2] = {{"ka_fsm", "c"},   {"ka_lib", "c"},  {"ka_new", "n"}, {"ka_new2", "n"},
                             {"ka_plain", "c"}, {"ka_same", "u"}, {"ka_srv", "c"}, {"ka_sup", "c"}};
    ck_assert_int_eq(n, 8);
    for (size_t k = 0; k < n; k++) {
        ck_assert_str_eq(b[k].module, want[k][0]);
        char got = p.status[k] == PATCH_CHANGED ? 'c' : p.status[k] == PATCH_NOT_LOADED ? 'n' : 'u';
        ck_assert_msg(got == want[k][1][0], "%s: status %c, want %s", b[k].module, got, want[k][1]);
    }
    ck_assert_int_eq(p.nmods, 7);
    for (size_t k = 0; k < p.nmods; k++)
        ck_assert_str_ne(p.mods[k]->module, "ka_same");
    /* the report says why each module got its instruction */
    for (size_t k = 0; k < p.rep.nmods; k++)
        if (!strcmp(p.rep.mods[k].name, "ka_srv")) {
            ck_assert_str_eq(p.rep.mods[k].kind, "code_change");
            ck_assert_int_eq(p.rep.mods[k].ninferred, 1);
            ck_assert_str_eq(p.rep.mods[k].inferred[0], "ka_lib");
        }
}
END_TEST

START_TEST(test_not_loaded)
{
    size_t n;
    struct patch_beam *b = beams("appup/v2", &n);
    struct patch_plan p;
    ck_assert_int_eq(patch_make_plan(&A, "7", b, n, loaded_from(b, n, "appup/v1"), false, NULL, &p),
                     -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
    ck_assert_msg(strstr(errtext(), "ka_new.beam: module 'ka_new' is not loaded on the node") &&
                      strstr(errtext(), "--add"),
                  "message: %s", errtext());
}
END_TEST

START_TEST(test_nothing_changed)
{
    struct patch_plan p = plan("appup/v1", "appup/v1", false);
    ck_assert_int_eq(p.nmods, 0);
    expect_term(p.high, "[]");
    expect_term(p.low, "[]");
}
END_TEST

/* the live fixture: one dependency group (kp_srv -> kp_calc -> kp_fmt) loaded callee first
 * under one suspend; the supervisor updated statically; knit_extra and knit_apply. The
 * expected script is what systools_rc:translate_scripts/4 gives for the same instructions
 * (tests/otp/patch_diff.escript checks that for every fixture pair, live) */
START_TEST(test_low_level)
{
    struct patch_plan p = plan("patch/v2", "patch/v1", true);
    expect_term(p.high,
                "[{add_module,kp_new},"
                " {load_module,kp_calc,brutal_purge,brutal_purge,[kp_fmt]},"
                " {load_module,kp_fmt,brutal_purge,brutal_purge,[]},"
                " {load_module,kp_loop,brutal_purge,brutal_purge,[]},"
                " {update,kp_srv,dynamic,default,{advanced,{migrate,42}},"
                "  brutal_purge,brutal_purge,[kp_calc]},"
                " {update,kp_sup,static,default,{advanced,[]},brutal_purge,brutal_purge,[]},"
                " {apply,{supervisor,restart_child,[kp_sup,kp_idle]}}]");
    expect_term(p.low, "[{load_object_code,{knit_patch,\"7\","
                       "   [kp_new,kp_srv,kp_calc,kp_fmt,kp_loop,kp_sup]}},"
                       " point_of_no_return,"
                       " {load,{kp_new,brutal_purge,brutal_purge}},"
                       " {suspend,[kp_srv]},"
                       " {load,{kp_fmt,brutal_purge,brutal_purge}},"
                       " {load,{kp_calc,brutal_purge,brutal_purge}},"
                       " {load,{kp_srv,brutal_purge,brutal_purge}},"
                       " {code_change,up,[{kp_srv,{migrate,42}}]},"
                       " {resume,[kp_srv]},"
                       " {load,{kp_loop,brutal_purge,brutal_purge}},"
                       " {suspend,[kp_sup]},"
                       " {load,{kp_sup,brutal_purge,brutal_purge}},"
                       " {code_change,up,[{kp_sup,[]}]},"
                       " {resume,[kp_sup]},"
                       " {apply,{supervisor,restart_child,[kp_sup,kp_idle]}}]");
}
END_TEST

START_TEST(test_translate_error)
{
    const char *mods[] = {"a"};
    const struct term *high =
        term_parse_term(&A, "t", "[{load_module,b,brutal_purge,brutal_purge,[]}]", 46);
    ck_assert_ptr_nonnull(high);
    ck_assert_ptr_null(patch_translate(&A, "1", mods, 1, high));
    ck_assert_int_eq(kerr_get()->cls, KERR_BUILD);
    ck_assert_msg(strstr(errtext(), "systools_rc"), "message: %s", errtext());
}
END_TEST

static int write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(s, f);
    return fclose(f);
}

START_TEST(test_read_beams)
{
    /* files and directories together, sorted by module */
    char *args[] = {dir("patch/v2/kp_srv.beam"), dir("appup/v1")};
    struct patch_beam *b;
    size_t n;
    ck_assert_msg(patch_read_beams(&A, args, 2, &b, &n) == 0, "%s", errtext());
    ck_assert_int_eq(n, 9);
    ck_assert_str_eq(b[0].module, "ka_fsm");
    ck_assert_str_eq(b[8].module, "kp_srv");
    expect_term(b[8].vsn, "\"2\"");

    /* a module twice */
    char *twice[] = {dir("patch/v1"), dir("patch/v2/kp_srv.beam")};
    ck_assert_int_eq(patch_read_beams(&A, twice, 2, &b, &n), -1);
    ck_assert_msg(strstr(errtext(), "module 'kp_srv' is given twice"), "%s", errtext());
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);

    /* neither a beam nor a directory */
    char *other[] = {dir("nothing.txt")};
    ck_assert_int_eq(patch_read_beams(&A, other, 1, &b, &n), -1);
    ck_assert_msg(strstr(errtext(), "expected a .beam file or an ebin directory"), "%s", errtext());

    /* a directory without beams */
    char *empty = dir("empty");
    ck_assert_int_eq(mkdir(empty, 0755), 0);
    ck_assert_int_eq(patch_read_beams(&A, &empty, 1, &b, &n), -1);
    ck_assert_msg(strstr(errtext(), "no .beam files"), "%s", errtext());

    /* not a beam, and a beam under another module's name */
    char *junk = dir("empty/junk.beam");
    ck_assert_int_eq(write_file(junk, "not a beam"), 0);
    ck_assert_int_eq(patch_read_beams(&A, &junk, 1, &b, &n), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
    ck_assert_msg(strstr(errtext(), "junk.beam"), "%s", errtext());
    unlink(junk);
    char *renamed = dir("empty/other.beam");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp %s/patch/v1/kp_fmt.beam %s", T, renamed);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(patch_read_beams(&A, &renamed, 1, &b, &n), -1);
    ck_assert_msg(strstr(errtext(), "module 'kp_fmt' is in a file named 'other.beam'"), "%s",
                  errtext());

    /* a missing file */
    char *missing = dir("missing.beam");
    ck_assert_int_eq(patch_read_beams(&A, &missing, 1, &b, &n), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
}
END_TEST

START_TEST(test_id)
{
    size_t n;
    struct patch_beam *b = beams("patch/v2", &n);
    const char *id = patch_id(&A, b, n, 1796288160LL); /* 2026-12-03 08:56:00 UTC */
    ck_assert_msg(strncmp(id, "20261203T085600Z.", 17) == 0 && strlen(id) == 25, "id %s", id);
    ck_assert_str_eq(id, patch_id(&A, b, n, 1796288160LL));
    ck_assert_str_ne(id, patch_id(&A, b, n - 1, 1796288160LL));
}
END_TEST

Suite *patch_suite(void)
{
    Suite *s = suite_create("patch");
    TCase *tc = tcase_create("plan");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(tc, each_setup, each_teardown);
    tcase_add_test(tc, test_same_as_appup);
    tcase_add_test(tc, test_statuses);
    tcase_add_test(tc, test_not_loaded);
    tcase_add_test(tc, test_nothing_changed);
    tcase_add_test(tc, test_low_level);
    tcase_add_test(tc, test_translate_error);
    tcase_add_test(tc, test_read_beams);
    tcase_add_test(tc, test_id);
    suite_add_tcase(s, tc);
    return s;
}
