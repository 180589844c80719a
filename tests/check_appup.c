/* check_appup.c - appup generation on fixture beams compiled by OTP, and hand-written appups */
#define SUITE_FN appup_suite
#include "check_main.h"

#include "appup.h"
#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "term_parse.h"
#include "term_print.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char T[] = "/tmp/knit-check-appup.XXXXXX";
static struct arena A;

/* One VM compiles every fixture: tests/appup/{v1,v2,v3}/ and each tests/appup/bad/X.erl */
static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(T));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "escript tests/appup/compile.escript tests/appup %s", T);
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

static const char *dir(const char *sub)
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

/* generate - the appup of ka at NEW from the NF (vsn, dir) pairs given after it */
static struct appup_result generate(bool infer, const char *new_vsn, const char *new_dir, size_t nf,
                                    ...)
{
    struct appup_from from[4];
    va_list ap;
    va_start(ap, nf);
    for (size_t k = 0; k < nf; k++) {
        const char *v = va_arg(ap, const char *);
        from[k] = (struct appup_from){v, dir(va_arg(ap, const char *)), NULL, 0};
    }
    va_end(ap);
    struct appup_opts o;
    appup_opts_init(&o);
    o.auto_depends = infer;
    struct appup_result r;
    int rc = appup_generate(&A, "ka", new_vsn, dir(new_dir), from, nf, &o, &r);
    ck_assert_msg(rc == 0, "appup_generate failed: %s", errtext());
    return r;
}

static const struct appup_module *mod_of(const struct appup_report *r, const char *name)
{
    for (size_t k = 0; k < r->nmods; k++)
        if (!strcmp(r->mods[k].name, name))
            return &r->mods[k];
    ck_abort_msg("module %s not in the report for %s", name, r->from_vsn);
    return NULL;
}

static const char *strv(const char **v, size_t n)
{
    struct buf b = BUF_INIT;
    for (size_t k = 0; k < n; k++)
        buf_addf(&b, "%s%s", k ? "," : "", v[k]);
    const char *s = arena_strdup(&A, buf_cstr(&b));
    buf_free(&b);
    return s;
}

#define V1_V2_UP                                                                                   \
    "[{apply,{ka_sup,pre,[]}},"                                                                    \
    " {add_module,ka_new2}, {add_module,ka_new}, {apply,{ka_new,init,[]}},"                        \
    " {load_module,ka_plain,brutal_purge,brutal_purge,[ka_new2]},"                                 \
    " {update,ka_srv,dynamic,default,{advanced,[x]},soft_purge,brutal_purge,"                      \
    "  [ka_new,ka_plain,ka_lib]},"                                                                 \
    " {apply,{ka_srv,early,[]}}, {apply,{ka_srv,migrated,[]}},"                                    \
    " {update,ka_fsm,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,[]},"                 \
    " {load_module,ka_lib,soft_purge,soft_purge,[]},"                                              \
    " {update,ka_sup,static,5000,{advanced,[]},brutal_purge,brutal_purge,[]},"                     \
    " {delete_module,ka_gone}, {delete_module,ka_old2},"                                           \
    " {apply,{ka_sup,after_all,[x]}}, {apply,{m,f,[]}}]"

#define V1_V2_DOWN                                                                                 \
    "[{add_module,ka_gone}, {add_module,ka_old2},"                                                 \
    " {load_module,ka_plain,brutal_purge,brutal_purge,[ka_new2]},"                                 \
    " {update,ka_srv,dynamic,default,{advanced,[x]},soft_purge,brutal_purge,"                      \
    "  [ka_new,ka_plain,ka_lib]},"                                                                 \
    " {update,ka_fsm,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,[]},"                 \
    " {load_module,ka_lib,soft_purge,soft_purge,[]},"                                              \
    " {update,ka_sup,static,5000,{advanced,[]},brutal_purge,brutal_purge,[]},"                     \
    " {delete_module,ka_new2}, {delete_module,ka_new}]"

/* every attribute, kinds, sort order and apply phases in one upgrade */
START_TEST(test_up_v1_v2)
{
    struct appup_result r = generate(true, "2", "v2", 1, "1", "v1");
    expect_term(r.appup, "{\"2\", [{\"1\", " V1_V2_UP "}], [{\"1\", " V1_V2_DOWN "}]}");
    ck_assert_int_eq(r.nreports, 1);
    expect_term(r.reports[0].up, V1_V2_UP);
    expect_term(r.reports[0].down, V1_V2_DOWN);
}
END_TEST

START_TEST(test_report)
{
    struct appup_result r = generate(true, "2", "v2", 1, "1", "v1");
    const struct appup_report *rep = &r.reports[0];
    ck_assert_str_eq(rep->from_vsn, "1");
    const char *order[] = {"ka_new2", "ka_new", "ka_plain", "ka_srv", "ka_fsm",
                           "ka_lib",  "ka_sup", "ka_gone",  "ka_old2"};
    ck_assert_int_eq(rep->nmods, 9);
    for (size_t k = 0; k < 9; k++)
        ck_assert_msg(!strcmp(rep->mods[k].name, order[k]), "module %zu is %s, expected %s", k,
                      rep->mods[k].name, order[k]);
    const struct appup_module *srv = mod_of(rep, "ka_srv");
    ck_assert_int_eq(srv->action, APPUP_CHANGED);
    ck_assert_str_eq(srv->kind, "code_change");
    ck_assert_str_eq(strv(srv->deps, srv->ndeps), "ka_new,ka_plain,ka_lib");
    ck_assert_str_eq(strv(srv->inferred, srv->ninferred), "ka_lib");
    ck_assert_str_eq(strv(srv->dropped, srv->ndropped), "ka_same,nosuch");
    expect_term(srv->applies, "[{apply,{ka_srv,migrated,[]}},{apply,{ka_srv,early,[]}}]");
    expect_term(srv->up, "{update,ka_srv,dynamic,default,{advanced,[x]},soft_purge,"
                         "brutal_purge,[ka_new,ka_plain,ka_lib]}");
    ck_assert_ptr_eq(srv->up, srv->down);
    const struct appup_module *sup = mod_of(rep, "ka_sup");
    ck_assert_str_eq(sup->kind, "supervisor");
    expect_term(sup->applies, "[{apply,{ka_sup,pre,[]}},{apply,{m,f,[]}},"
                              "{apply,{ka_sup,after_all,[x]}}]");
    ck_assert_str_eq(mod_of(rep, "ka_fsm")->kind, "code_change");
    ck_assert_str_eq(mod_of(rep, "ka_lib")->kind, "load_module");
    const struct appup_module *plain = mod_of(rep, "ka_plain");
    ck_assert_str_eq(strv(plain->inferred, plain->ninferred), "ka_new2");
    ck_assert_int_eq(plain->ndropped, 0);
    const struct appup_module *nw = mod_of(rep, "ka_new");
    ck_assert_int_eq(nw->action, APPUP_ADDED);
    ck_assert_str_eq(nw->kind, "add_module");
    expect_term(nw->down, "{delete_module,ka_new}");
    const struct appup_module *gone = mod_of(rep, "ka_gone");
    ck_assert_int_eq(gone->action, APPUP_DELETED);
    ck_assert_str_eq(gone->kind, "delete_module");
    expect_term(gone->down, "{add_module,ka_gone}");
    expect_term(gone->applies, "[]");
}
END_TEST

START_TEST(test_no_inference)
{
    struct appup_result r = generate(false, "2", "v2", 1, "1", "v1");
    const struct appup_report *rep = &r.reports[0];
    const struct appup_module *srv = mod_of(rep, "ka_srv");
    ck_assert_str_eq(strv(srv->deps, srv->ndeps), "ka_new,ka_plain");
    ck_assert_int_eq(srv->ninferred, 0);
    ck_assert_str_eq(strv(srv->dropped, srv->ndropped), "ka_same,nosuch");
    expect_term(mod_of(rep, "ka_plain")->up, "{load_module,ka_plain,brutal_purge,brutal_purge,[]}");
    expect_term(srv->up, "{update,ka_srv,dynamic,default,{advanced,[x]},soft_purge,"
                         "brutal_purge,[ka_new,ka_plain]}");
}
END_TEST

/* v3 from 2 then 1: the caller's order; each from-version gets its own instructions */
START_TEST(test_several_froms)
{
    struct appup_result r = generate(true, "3", "v3", 2, "2", "v2", "1", "v1");
    const char *up2 = "[{add_module,ka_v3},{load_module,ka_lib,brutal_purge,brutal_purge,[]},"
                      "{update,ka_srv,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,"
                      "[ka_lib,ka_v3]},{delete_module,ka_new}]";
    const char *dn2 = "[{add_module,ka_new},{load_module,ka_lib,brutal_purge,brutal_purge,[]},"
                      "{update,ka_srv,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,"
                      "[ka_lib,ka_v3]},{delete_module,ka_v3}]";
    const char *up1 =
        "[{apply,{ka_sup,pre,[]}},{add_module,ka_new2},{add_module,ka_v3},"
        "{load_module,ka_plain,brutal_purge,brutal_purge,[ka_new2]},"
        "{update,ka_fsm,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,[]},"
        "{load_module,ka_lib,brutal_purge,brutal_purge,[]},"
        "{update,ka_srv,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,[ka_lib,ka_v3]},"
        "{update,ka_sup,static,5000,{advanced,[]},brutal_purge,brutal_purge,[]},"
        "{delete_module,ka_gone},{delete_module,ka_old2},"
        "{apply,{ka_sup,after_all,[x]}},{apply,{m,f,[]}}]";
    const char *dn1 =
        "[{add_module,ka_gone},{add_module,ka_old2},"
        "{load_module,ka_plain,brutal_purge,brutal_purge,[ka_new2]},"
        "{update,ka_fsm,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,[]},"
        "{load_module,ka_lib,brutal_purge,brutal_purge,[]},"
        "{update,ka_srv,dynamic,default,{advanced,[]},brutal_purge,brutal_purge,[ka_lib,ka_v3]},"
        "{update,ka_sup,static,5000,{advanced,[]},brutal_purge,brutal_purge,[]},"
        "{delete_module,ka_new2},{delete_module,ka_v3}]";
    char want[4096];
    snprintf(want, sizeof want, "{\"3\",[{\"2\",%s},{\"1\",%s}],[{\"2\",%s},{\"1\",%s}]}", up2, up1,
             dn2, dn1);
    expect_term(r.appup, want);
    ck_assert_int_eq(r.nreports, 2);
    ck_assert_str_eq(r.reports[0].from_vsn, "2");
    ck_assert_str_eq(r.reports[1].from_vsn, "1");
}
END_TEST

START_TEST(test_unchanged_and_none)
{
    struct appup_result r = generate(true, "2", "v2", 1, "2", "v2");
    expect_term(r.appup, "{\"2\",[{\"2\",[]}],[{\"2\",[]}]}");
    ck_assert_int_eq(r.reports[0].nmods, 0);
    r = generate(true, "2", "v2", 0);
    expect_term(r.appup, "{\"2\",[],[]}");
    /* an empty old ebin: everything is added */
    ck_assert_int_eq(system(arena_sprintf(&A, "mkdir -p %s/empty", T)), 0);
    r = generate(true, "1", "v1", 1, "0", "empty");
    expect_term(r.reports[0].up, "[{add_module,ka_same},{add_module,ka_gone},{add_module,ka_fsm},"
                                 "{add_module,ka_lib},{add_module,ka_old2},{add_module,ka_plain},"
                                 "{add_module,ka_srv},{add_module,ka_sup}]");
    /* ka_same has priority 99, ka_gone 4, then the others by name */
}
END_TEST

/* invalid attributes: exit class 2, the message names module, attribute and value */
START_TEST(test_bad_attributes)
{
    static const struct {
        const char *mod, *attr, *value;
    } cases[] = {
        {"bad_prio", "knit_priority", "high"},
        {"bad_prio2", "knit_priority", "1, then 2"},
        {"bad_extra2", "knit_extra", "a, then b"},
        {"bad_timeout", "knit_timeout", "-1"},
        {"bad_timeout2", "knit_timeout", "1, then 2"},
        {"bad_purge", "knit_purge", "{soft_purge,gentle}"},
        {"bad_purge2", "knit_purge", "soft_purge, then brutal_purge"},
        {"bad_phase", "knit_apply", "{sometime,{m,f,[]}}"},
        {"bad_mfa", "knit_apply", "{m,f,notalist}"},
        {"bad_depends", "knit_depends", "[a,\"b\"]"},
    };
    ck_assert_int_eq(system(arena_sprintf(&A, "mkdir -p %s/empty", T)), 0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        kerr_clear();
        struct appup_from from = {"0", dir("empty"), NULL, 0};
        struct appup_result r;
        const char *ebin = dir(arena_sprintf(&A, "bad/%s", cases[k].mod));
        int rc = appup_generate(&A, "ka", "1", ebin, &from, 1, NULL, &r);
        ck_assert_msg(rc == -1, "%s accepted", cases[k].mod);
        const char *msg = errtext();
        ck_assert_msg(kerr_get()->cls == KERR_INPUT, "%s: class %d", cases[k].mod, kerr_get()->cls);
        char mod_q[64], attr_q[64];
        snprintf(mod_q, sizeof mod_q, "'%s'", cases[k].mod);
        snprintf(attr_q, sizeof attr_q, "'%s'", cases[k].attr);
        ck_assert_msg(strstr(msg, mod_q) && strstr(msg, attr_q) && strstr(msg, cases[k].value),
                      "message for %s lacks module, attribute or value '%s': %s", cases[k].mod,
                      cases[k].value, msg);
        ck_assert_msg(strstr(msg, arena_sprintf(&A, "%s.beam", cases[k].mod)) != NULL,
                      "message does not name the beam: %s", msg);
    }
}
END_TEST

START_TEST(test_bad_beams)
{
    const char *d = dir("misnamed");
    ck_assert_int_eq(
        system(arena_sprintf(&A, "mkdir -p %s && cp %s/v1/ka_lib.beam %s/other.beam", d, T, d)), 0);
    struct appup_result r;
    struct appup_from from = {"1", dir("v1"), NULL, 0};
    ck_assert_int_eq(appup_generate(&A, "ka", "2", d, &from, 1, NULL, &r), -1);
    const char *msg = errtext();
    ck_assert_msg(strstr(msg, "'ka_lib'") && strstr(msg, "other.beam"), "%s", msg);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);

    kerr_clear();
    from.ebin = dir("no-such-dir");
    ck_assert_int_eq(appup_generate(&A, "ka", "2", dir("v2"), &from, 1, NULL, &r), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
    ck_assert_msg(strstr(errtext(), "no-such-dir") != NULL, "%s", errtext());

    kerr_clear();
    const char *junk = dir("junk");
    ck_assert_int_eq(system(arena_sprintf(&A, "mkdir -p %s && echo nope > %s/x.beam", junk, junk)),
                     0);
    from.ebin = dir("v1");
    ck_assert_int_eq(appup_generate(&A, "ka", "2", junk, &from, 1, NULL, &r), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
    ck_assert_msg(strstr(errtext(), "x.beam") != NULL, "%s", errtext());
}
END_TEST

/* the printed appup reads back to the same term */
START_TEST(test_print_round_trip)
{
    struct appup_result r = generate(true, "3", "v3", 2, "2", "v2", "1", "v1");
    struct buf b = BUF_INIT;
    term_print_file_terms(&b, term_listv(&A, 1, r.appup));
    ck_assert_msg(strncmp(buf_cstr(&b), "%% coding: utf-8\n", 17) == 0, "%s", buf_cstr(&b));
    const struct term *back = term_consult_buf(&A, "appup", b.p, b.len);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(term_list_len(back), 1);
    ck_assert_msg(term_equal(back->u.list.el[0], r.appup), "%s", buf_cstr(&b));
    buf_free(&b);
}
END_TEST

/* ---- hand-written appups ---- */

static const char *write_appup(const char *name, const char *body)
{
    const char *path = dir(name);
    ck_assert_int_eq(fs_write_atomic(path, body, strlen(body), 0644), 0);
    return path;
}

START_TEST(test_handwritten_ok)
{
    const char *p = write_appup(
        "good.appup", "{\"2.0\",\n"
                      " [{\"1.0\", [{load_module, ka_lib}]},\n"
                      "  {<<\"1\\\\.1\\\\..*\">>, [{update, ka_srv, {advanced, []}}]}],\n"
                      " [{\"1.0\", []}, {<<\"1\\\\..*\">>, [{restart_application, ka}]}]}.\n");
    const char *froms[] = {"1.0", "1.1.3", "1.1.0"};
    const struct term *t = NULL;
    int rc = appup_check_handwritten(&A, p, "ka", "2.0", froms, 3, &t);
    ck_assert_msg(rc == 0, "rejected: %s", errtext());
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(appup_missing(&A, t, "1.0"), 0);
    ck_assert_int_eq(appup_missing(&A, t, "1.1.7"), 0);
    /* matched the way systools does: the first match must be all of the version */
    ck_assert_int_eq(appup_missing(&A, t, "1.2"), APPUP_MISSING_UP);
    ck_assert_int_eq(appup_missing(&A, t, "0.9"), APPUP_MISSING_UP | APPUP_MISSING_DOWN);
    ck_assert_int_eq(appup_missing(&A, t, "x1.1.1"), APPUP_MISSING_UP | APPUP_MISSING_DOWN);
    ck_assert_int_eq(kerr_get()->cls, KERR_OK);

    /* a from-version not covered: the strict check names it, read+missing lets it be skipped */
    const char *more[] = {"1.0", "1.2"};
    rc = appup_check_handwritten(&A, p, "ka", "2.0", more, 2, &t);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
    const char *msg = errtext();
    ck_assert_msg(strstr(msg, "good.appup") && strstr(msg, "upgrade") && strstr(msg, "\"1.2\""),
                  "%s", msg);
    kerr_clear();
    ck_assert_int_eq(appup_read_handwritten(&A, p, "ka", "2.0", &t), 0);

    const char *dn = write_appup("down.appup", "{\"2.0\", [{<<\".*\">>, []}], [{\"1.0\", []}]}.\n");
    const char *one[] = {"1.5"};
    ck_assert_int_eq(appup_check_handwritten(&A, dn, "ka", "2.0", one, 1, &t), -1);
    msg = errtext();
    ck_assert_msg(strstr(msg, "downgrade") && strstr(msg, "\"1.5\""), "%s", msg);
}
END_TEST

START_TEST(test_handwritten_bad)
{
    static const struct {
        const char *body, *want1, *want2;
    } cases[] = {
        /* two terms: the first is read (as systools reads it); it lacks 1.0 */
        {"{\"2.0\", [], []}.\n{\"2.0\", [], []}.\n", "no upgrade entry", "\"1.0\""},
        {"", "a {Vsn, UpFrom, DownTo} term", "found none"},
        {"{\"2.0\", []}.\n", "not a {Vsn, UpFrom, DownTo} tuple", "{\"2.0\",[]}"},
        {"{\"1.9\", [], []}.\n", "\"1.9\"", "\"2.0\""},
        {"{'2.0', [], []}.\n", "'2.0'", "version"},
        {"{\"2.0\", up, []}.\n", "upgrade list is not a list", "up"},
        {"{\"2.0\", [], [x]}.\n", "downgrade entry x", "tuple"},
        {"{\"2.0\", [{\"1.0\", []}],\n [{1.0, []}]}.\n", "downgrade version key 1.0", ":2:"},
        {"{\"2.0\", [{<<\"1.(\">>, []}], []}.\n", "not a valid regular expression", "<<\"1.(\">>"},
        {"{\"2.0\", [{\"1.0\", [{load_module, \"x\"}]}], []}.\n", "upgrade entry \"1.0\"",
         "load_module"},
        {"{\"2.0\", [{\"1.0\", nolist}], []}.\n", "upgrade entry \"1.0\"", "nolist"},
        {"{\"2.0\", [{\"1.0\" []}], []}.\n", "bad.appup:1:", ""},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        kerr_clear();
        const char *p = write_appup("bad.appup", cases[k].body);
        const char *froms[] = {"1.0"};
        const struct term *t = NULL;
        ck_assert_msg(appup_check_handwritten(&A, p, "ka", "2.0", froms, 1, &t) == -1,
                      "accepted: %s", cases[k].body);
        const char *msg = errtext();
        ck_assert_msg(kerr_get()->cls == KERR_INPUT, "class %d for %s", kerr_get()->cls, msg);
        ck_assert_msg(
            strstr(msg, "bad.appup") && strstr(msg, cases[k].want1) && strstr(msg, cases[k].want2),
            "case %zu: message lacks '%s' / '%s': %s", k, cases[k].want1, cases[k].want2, msg);
    }
    kerr_clear();
    const struct term *t;
    ck_assert_int_eq(appup_read_handwritten(&A, dir("absent.appup"), "ka", "2.0", &t), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
}
END_TEST

Suite *appup_suite(void)
{
    Suite *s = suite_create("appup");
    TCase *tc = tcase_create("appup");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(tc, each_setup, each_teardown);
    tcase_add_test(tc, test_up_v1_v2);
    tcase_add_test(tc, test_report);
    tcase_add_test(tc, test_no_inference);
    tcase_add_test(tc, test_several_froms);
    tcase_add_test(tc, test_unchanged_and_none);
    tcase_add_test(tc, test_bad_attributes);
    tcase_add_test(tc, test_bad_beams);
    tcase_add_test(tc, test_print_round_trip);
    tcase_add_test(tc, test_handwritten_ok);
    tcase_add_test(tc, test_handwritten_bad);
    suite_add_tcase(s, tc);
    return s;
}
