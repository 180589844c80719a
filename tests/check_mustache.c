/* check_mustache.c - mustache.c against knit's own conformance cases
 * (tests/data/mustache_cases.json), the external mustache spec suite when present, and
 * error cases */
#define SUITE_FN mustache_suite
#include "check_main.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "buf.h"
#include "kerr.h"
#include "mustache.h"

/* The external suite is read at run time from KNIT_MUSTACHE_SPEC, else
 * ../shared/mustache-spec (relative to the repository, where tests/run.sh runs us); a
 * "specs" directory inside it is used when present, as in a checkout of the mustache spec.
 * When that directory does not exist the spec cases are reported as SKIPPED (tests/run.sh
 * counts the line); knit's own cases always run. */
#define SPEC_ENV "KNIT_MUSTACHE_SPEC"
#define SPEC_DEFAULT "../shared/mustache-spec"
#define OWN_CASES "tests/data/mustache_cases.json"
#define MAX_FILES 64
#define MAX_CASES 1024

static const char *const core_files[] = {"comments.json", "delimiters.json",
                                         "interpolation.json", "inverted.json",
                                         "partials.json", "sections.json"};
#define NCORE (sizeof core_files / sizeof core_files[0])

struct spec_case {
    const char *file;
    const json_t *t; /* the test object: name, data, template, partials, expected */
};

static const char *spec_dir;
static char spec_error[4096]; /* why the suite could not be read, "" when it was */
static char *files[MAX_FILES], *skipped[MAX_FILES];
static size_t nfiles, nskipped;
static json_t *docs[MAX_FILES];
static struct spec_case cases[MAX_CASES];
static size_t ncases;
static bool spec_absent; /* the external suite is not here: skipped, not failed */
static json_t *own_doc;
static struct spec_case own[MAX_CASES];
static size_t nown;
static char own_error[1024];

/* load_own - read knit's own conformance cases into own[]; sets own_error */
static void load_own(void)
{
    json_error_t err;
    own_doc = json_load_file(OWN_CASES, 0, &err);
    const json_t *tests = json_object_get(own_doc, "tests");
    if (!json_is_array(tests)) {
        snprintf(own_error, sizeof own_error, "%s:%d: cannot read the cases: %s", OWN_CASES,
                 err.line, own_doc ? "no 'tests' array" : err.text);
        return;
    }
    for (size_t k = 0; k < json_array_size(tests) && nown < MAX_CASES; k++)
        own[nown++] = (struct spec_case){OWN_CASES, json_array_get(tests, k)};
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* load_spec - read every non-optional spec file into docs/cases; sets spec_error */
static void load_spec(void)
{
    const char *env = getenv(SPEC_ENV);
    struct buf dir = BUF_INIT;
    buf_adds(&dir, env && *env ? env : SPEC_DEFAULT);
    size_t base = dir.len;
    buf_adds(&dir, "/specs");
    if (!is_dir(dir.p)) {
        dir.len = base;
        dir.p[base] = '\0';
    }
    spec_dir = dir.p; /* kept for the whole run */
    if (!is_dir(spec_dir)) {
        spec_absent = true;
        return;
    }
    DIR *d = opendir(spec_dir);
    if (!d) {
        snprintf(spec_error, sizeof spec_error, "cannot open spec dir '%.1000s' (set %s)", spec_dir,
                 SPEC_ENV);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        /* '~' marks the spec's optional modules: lambdas, inheritance, dynamic names */
        if (e->d_name[0] == '~') {
            if (nskipped < MAX_FILES)
                skipped[nskipped++] = strdup(e->d_name);
        } else if (nfiles < MAX_FILES) {
            files[nfiles++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(files, nfiles, sizeof files[0], cmp_str);
    qsort(skipped, nskipped, sizeof skipped[0], cmp_str);
    for (size_t i = 0; i < nfiles; i++) {
        struct buf path = BUF_INIT;
        buf_addf(&path, "%s/%s", spec_dir, files[i]);
        json_error_t err;
        docs[i] = json_load_file(path.p, 0, &err);
        const json_t *tests = json_object_get(docs[i], "tests");
        if (!json_is_array(tests)) {
            snprintf(spec_error, sizeof spec_error, "%.1000s:%d: cannot read spec file: %s",
                     path.p, err.line, docs[i] ? "no 'tests' array" : err.text);
            buf_free(&path);
            return;
        }
        buf_free(&path);
        for (size_t k = 0; k < json_array_size(tests) && ncases < MAX_CASES; k++)
            cases[ncases++] = (struct spec_case){files[i], json_array_get(tests, k)};
    }
}

/* show - V as a one-line JSON text (strings quoted, newlines escaped); caller frees */
static char *show(const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    return s ? s : strdup("(none)");
}

/* run_case - render spec case C; returns 1 when it matches, else 0 with *MSG explaining
 * (caller frees *MSG) */
static int run_case(const struct spec_case *c, char **msg)
{
    const json_t *t = c->t;
    const json_t *tmpl = json_object_get(t, "template");
    const json_t *want = json_object_get(t, "expected");
    const json_t *data = json_object_get(t, "data");
    const json_t *partials = json_object_get(t, "partials");
    const char *name = json_string_value(json_object_get(t, "name"));
    struct buf out = BUF_INIT;
    kerr_clear();
    int rc = -1;
    if (json_is_string(tmpl))
        rc = mustache_render(&out, name, json_string_value(tmpl), json_string_length(tmpl),
                             data, partials, 0);
    int ok = rc == 0 && json_is_string(want) && out.len == json_string_length(want) &&
             memcmp(buf_cstr(&out), json_string_value(want), out.len) == 0;
    *msg = NULL;
    if (!ok) {
        json_t *got = json_stringn(buf_cstr(&out), out.len);
        char *st = show(tmpl), *sd = show(data), *sp = show(partials), *se = show(want);
        char *sg = show(got);
        char ebuf[3200] = "";
        if (rc < 0)
            kerr_format(kerr_get(), ebuf, sizeof ebuf);
        size_t cap = strlen(st) + strlen(sd) + strlen(sp) + strlen(se) + strlen(sg) +
                     strlen(ebuf) + 512;
        *msg = malloc(cap);
        snprintf(*msg, cap,
                 "%s: '%s'\n  template: %s\n  data: %s\n  partials: %s\n  expected: %s\n"
                 "  got: %s%s%s", c->file, name ? name : "?", st, sd, sp, se, sg,
                 rc < 0 ? "\n  error: " : "", ebuf);
        free(st), free(sd), free(sp), free(se), free(sg);
        json_decref(got);
    }
    buf_free(&out);
    return ok;
}

START_TEST(test_spec_case)
{
    char *msg;
    int ok = run_case(&cases[_i], &msg);
    ck_assert_msg(ok, "%s", msg ? msg : "");
    free(msg);
}
END_TEST

START_TEST(test_own_case)
{
    char *msg;
    int ok = run_case(&own[_i], &msg);
    ck_assert_msg(ok, "%s", msg ? msg : "");
    free(msg);
}
END_TEST

START_TEST(test_own_summary)
{
    ck_assert_msg(own_error[0] == '\0', "%s", own_error);
    ck_assert_msg(nown >= 50, "%zu own cases read from %s, expected at least 50", nown, OWN_CASES);
    /* every core module of mustache has cases of its own */
    static const char *const groups[] = {"variables", "sections", "inverted",
                                         "comments",  "delimiters", "partials"};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        size_t n = 0;
        for (size_t i = 0; i < nown; i++)
            n += json_is_string(json_object_get(own[i].t, "group")) &&
                 !strcmp(json_string_value(json_object_get(own[i].t, "group")), groups[g]);
        ck_assert_msg(n >= 4, "%s: %zu cases of group '%s', expected at least 4", OWN_CASES, n,
                      groups[g]);
    }
}
END_TEST

START_TEST(test_spec_summary)
{
    ck_assert_msg(spec_error[0] == '\0', "%s", spec_error);
    size_t passed = 0;
    for (size_t i = 0; i < ncases; i++) {
        char *msg;
        passed += (size_t)run_case(&cases[i], &msg);
        free(msg);
    }
    fprintf(stderr, "mustache spec %s: %zu files, %zu cases, %zu passed; optional skipped:",
            spec_dir, nfiles, ncases, passed);
    for (size_t i = 0; i < nskipped; i++)
        fprintf(stderr, " %s", skipped[i]);
    fprintf(stderr, "\n");
    for (size_t k = 0; k < NCORE; k++) {
        int found = 0;
        for (size_t i = 0; i < nfiles; i++)
            found |= strcmp(files[i], core_files[k]) == 0;
        ck_assert_msg(found, "spec file '%s' missing from %s", core_files[k], spec_dir);
    }
    ck_assert_msg(ncases > 0 && ncases < MAX_CASES, "%zu spec cases read", ncases);
}
END_TEST

/* render - TMPL against the JSON text DATA (and PARTIALS, JSON text or NULL); returns the
 * output (caller frees) or NULL on error */
static char *render(const char *tmpl, const char *data, const char *partials, unsigned flags)
{
    json_t *ctx = data ? json_loads(data, JSON_DECODE_ANY, NULL) : NULL;
    json_t *pj = partials ? json_loads(partials, 0, NULL) : NULL;
    ck_assert_msg(!data || ctx, "bad test data %s", data);
    ck_assert_msg(!partials || pj, "bad test partials %s", partials);
    struct buf out = BUF_INIT;
    kerr_clear();
    int rc = mustache_render(&out, "t.mustache", tmpl, strlen(tmpl), ctx, pj, flags);
    char *res = rc == 0 ? strdup(buf_cstr(&out)) : NULL;
    buf_free(&out);
    json_decref(ctx);
    json_decref(pj);
    return res;
}

static const struct {
    const char *tmpl, *data, *want;
    unsigned flags;
} outputs[] = {
    {"{{x}}", "{\"x\": 1.5}", "1.5", 0},
    {"{{x}}", "{\"x\": 2.0}", "2", 0},
    {"{{x}}", "{\"x\": 0.1}", "0.1", 0},
    {"{{x}}", "{\"x\": -12345678901}", "-12345678901", 0},
    {"{{x}}/{{y}}/{{z}}", "{\"x\": true, \"y\": false, \"z\": null}", "true/false/", 0},
    {"[{{x}}]", "{\"x\": [1]}", "[]", 0},
    {"{{x}}", "{\"x\": \"<a href=\\\"&\\\">'\"}", "&lt;a href=&quot;&amp;&quot;&gt;'", 0},
    {"{{x}}", "{\"x\": \"-name \\\"a&b\\\"\"}", "-name \"a&b\"", MUSTACHE_NOESCAPE},
    {"{{#x}}yes{{/x}}{{^x}}no{{/x}}", "{\"x\": \"\"}", "no", 0},
    {"{{#x}}yes{{/x}}{{^x}}no{{/x}}", "{\"x\": 0}", "yes", 0},
    {"{{#x}}{{.}}{{/x}}", "{\"x\": \"v\"}", "v", 0},
    {"a{{x}}b", NULL, "ab", 0},
    {"{{=<% %>=}}<%#a%><%={{ }}=%>{{b}}{{/a}}", "{\"a\": {\"b\": 7}}", "7", 0},
    {"", "{}", "", 0},
};

START_TEST(test_outputs)
{
    char *got = render(outputs[_i].tmpl, outputs[_i].data, NULL, outputs[_i].flags);
    ck_assert_msg(got && strcmp(got, outputs[_i].want) == 0,
                  "template %s data %s: expected '%s', got '%s'%s%s", outputs[_i].tmpl,
                  outputs[_i].data ? outputs[_i].data : "NULL", outputs[_i].want,
                  got ? got : "(error)", got ? "" : ": ", got ? "" : kerr_get()->msg);
    free(got);
}
END_TEST

static const struct {
    const char *tmpl, *partials, *file;
    int line, col;
    const char *msg;
} errors[] = {
    {"a\n  {{#foo}}\nb", NULL, "t.mustache", 2, 3, "unclosed section 'foo'"},
    {"{{#a}}{{#b}}{{/a}}{{/b}}", NULL, "t.mustache", 1, 13,
     "mismatched close tag 'a', expected 'b' (opened at 1:7)"},
    {"x\n{{/a}}", NULL, "t.mustache", 2, 1, "unexpected close tag 'a', no section is open"},
    {"ab {{x", NULL, "t.mustache", 1, 4, "unclosed tag, no '}}' after '{{'"},
    {"{{{x}}", NULL, "t.mustache", 1, 1, "unclosed tag, no '}}}' after '{{'"},
    {"{{=<% %>=}}\n <%x", NULL, "t.mustache", 2, 2, "unclosed tag, no '%>' after '<%'"},
    {"\n\n{{=<%>=}}", NULL, "t.mustache", 3, 1,
     "bad delimiter change '{{=<%>=}}', expected two delimiters without '=' or spaces"},
    {"{{=<% =%>=}}", NULL, "t.mustache", 1, 1,
     "bad delimiter change '{{=<% =%>=}}', expected two delimiters without '=' or spaces"},
    {"{{=<% %>}}", NULL, "t.mustache", 1, 1, "bad delimiter change, no '=}}' after '{{'"},
    {"x{{ }}", NULL, "t.mustache", 1, 2, "empty tag name in '{{ }}'"},
    {"{{#a}}ok{{/a}}{{>p}}", "{\"p\": \"line\\n {{^q}}\"}", "p", 2, 2,
     "unclosed section 'q'"},
    /* positions in an indented standalone partial point at the partial as written */
    {"  {{>p}}\n", "{\"p\": \"x\\n{{#q}}\\n\"}", "p", 2, 1, "unclosed section 'q'"},
    {"{{>p}}", "{\"p\": \"x{{>p}}\"}", "p", 1, 2,
     "partial 'p' nested too deeply (more than 64 partials, or 1024 sections and partials)"},
};

START_TEST(test_errors)
{
    char *got = render(errors[_i].tmpl, "{\"a\": true}", errors[_i].partials, 0);
    const struct kerr *e = kerr_get();
    ck_assert_msg(!got, "template %s: expected error '%s', got output '%s'", errors[_i].tmpl,
                  errors[_i].msg, got);
    ck_assert_msg(e->cls == KERR_INPUT && strcmp(e->file, errors[_i].file) == 0 &&
                      e->line == errors[_i].line && e->col == errors[_i].col &&
                      strcmp(e->msg, errors[_i].msg) == 0,
                  "template %s: expected class 2 %s:%d:%d: %s\n  got class %d %s:%d:%d: %s",
                  errors[_i].tmpl, errors[_i].file, errors[_i].line, errors[_i].col,
                  errors[_i].msg, e->cls, e->file, e->line, e->col, e->msg);
}
END_TEST

START_TEST(test_deep_sections)
{
    struct buf t = BUF_INIT;
    for (int i = 0; i < 300; i++)
        buf_adds(&t, "{{#a}}");
    char *got = render(buf_cstr(&t), "{}", NULL, 0);
    const struct kerr *e = kerr_get();
    ck_assert_msg(!got && e->line == 1 && e->col == 256 * 6 + 1 &&
                      strcmp(e->msg, "section 'a' nested too deeply (more than 256 levels)") == 0,
                  "300 nested sections: expected 1:1537 nested too deeply, got %d:%d: %s",
                  e->line, e->col, e->msg);
    free(got);
    buf_free(&t);
}
END_TEST

/* 200 sections per partial, recursing: stopped by the 1024 levels cap inside the 6th p */
START_TEST(test_deep_partials)
{
    struct buf t = BUF_INIT;
    for (int i = 0; i < 200; i++)
        buf_adds(&t, "{{#a}}");
    buf_adds(&t, "{{>p}}");
    for (int i = 0; i < 200; i++)
        buf_adds(&t, "{{/a}}");
    json_t *pj = json_pack("{s:s}", "p", buf_cstr(&t));
    char *pjs = json_dumps(pj, 0);
    char *got = render(buf_cstr(&t), "{\"a\": true}", pjs, 0);
    const struct kerr *e = kerr_get();
    ck_assert_msg(!got && strcmp(e->file, "p") == 0 && e->line == 1 && e->col == 115 &&
                      strcmp(e->msg, "section 'a' nested too deeply (more than 1024 sections "
                             "and partials)") == 0,
                  "recursive partial: expected p:1:115 section nested too deeply, got %s:%d:%d: %s",
                  e->file, e->line, e->col, e->msg);
    free(got);
    free(pjs);
    json_decref(pj);
    buf_free(&t);
}
END_TEST

/* fan-out partials: 4 levels of 20 each would render 168420 partials */
START_TEST(test_partial_bomb)
{
    struct buf pj = BUF_INIT;
    buf_adds(&pj, "{");
    for (int k = 0; k < 4; k++) {
        buf_addf(&pj, "\"p%d\": \"", k);
        for (int i = 0; i < 20; i++)
            buf_addf(&pj, "{{>p%d}}", k + 1);
        buf_adds(&pj, "\", ");
    }
    buf_adds(&pj, "\"p4\": \"x\"}");
    char *got = render("{{>p0}}", "{}", pj.p, 0);
    buf_free(&pj);
    const struct kerr *e = kerr_get();
    ck_assert_msg(!got && strcmp(e->msg, "too many partials rendered (more than 100000)") == 0,
                  "partial bomb: expected 'too many partials rendered', got %s:%d:%d: %s",
                  e->file, e->line, e->col, got ? "(output)" : e->msg);
    free(got);
}
END_TEST

/* nested sections over a list multiply the work without output: stopped by the step cap;
 * a render past its byte cap stops while rendering */
START_TEST(test_render_bounded)
{
    struct buf t = BUF_INIT;
    for (int i = 0; i < 40; i++)
        buf_adds(&t, "{{#l}}");
    for (int i = 0; i < 40; i++)
        buf_adds(&t, "{{/l}}");
    char *got = render(t.p, "{\"l\": [1, 2]}", NULL, 0);
    buf_free(&t);
    const struct kerr *e = kerr_get();
    ck_assert_msg(!got && strstr(e->msg, "rendering takes more than"),
                  "nested sections: expected the step cap, got %s", got ? "(output)" : e->msg);
    free(got);
    struct buf out = BUF_INIT;
    json_t *ctx = json_pack("{s:s}", "a", "0123456789");
    int rc = mustache_render_max(&out, "t", "{{a}}{{a}}{{a}}{{a}}", 20, ctx, NULL, 0, 25);
    ck_assert_msg(rc == -1 && strstr(kerr_get()->msg, "renders to more than 25 bytes") &&
                      out.len <= 35,
                  "byte cap: rc %d, %zu bytes out, %s", rc, out.len, kerr_get()->msg);
    json_decref(ctx);
    buf_free(&out);
}
END_TEST

Suite *mustache_suite(void)
{
    Suite *s = suite_create("mustache");
    load_own();
    TCase *tc = tcase_create("own");
    tcase_add_test(tc, test_own_summary);
    if (nown > 0)
        tcase_add_loop_test(tc, test_own_case, 0, (int)nown);
    suite_add_tcase(s, tc);

    load_spec();
    if (spec_absent) {
        printf("SKIPPED: check_mustache spec suite: no mustache spec at '%s' (set %s)\n",
               spec_dir, SPEC_ENV);
        fflush(stdout);
    } else {
        tc = tcase_create("spec");
        tcase_add_test(tc, test_spec_summary);
        if (ncases > 0)
            tcase_add_loop_test(tc, test_spec_case, 0, (int)ncases);
        suite_add_tcase(s, tc);
    }

    tc = tcase_create("unit");
    tcase_add_loop_test(tc, test_outputs, 0, (int)(sizeof outputs / sizeof outputs[0]));
    tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof errors / sizeof errors[0]));
    tcase_add_test(tc, test_deep_sections);
    tcase_add_test(tc, test_partial_bomb);
    tcase_add_test(tc, test_deep_partials);
    tcase_add_test(tc, test_render_bounded);
    /* the step cap is millions of steps: seconds under the sanitizers on a loaded machine,
     * more than Check's default of 4 (a bound on a hang, not a timing assertion) */
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}
