/* check_overlay.c - overlay variables (context, precedence, expansion) and every overlay step */
#define SUITE_FN overlay_suite
#include "check_main.h"

#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "kerr.h"
#include "log.h"
#include "overlay.h"
#include "term.h"
#include "term_parse.h"

/* The external corpus is read at run time from $KNIT_CORPUS/reltool, KNIT_CORPUS defaulting
 * to ../shared/corpus (relative to the repository, where tests/run.sh runs us); its cases
 * are skipped, and say so, when it is absent. */
#define CORPUS_ENV "KNIT_CORPUS"
#define CORPUS_DEFAULT "../shared/corpus"

static struct arena A;
static char tmp[256];   /* a fresh directory per test */
static char src[300];   /* tmp/src: the "config file's directory" */
static char build[320]; /* tmp/out/rel: the build dir */
static char cfg[340];   /* tmp/src/reltool.config (named in messages only) */

static void setup(void)
{
    arena_init(&A);
    snprintf(tmp, sizeof tmp, "/tmp/check_overlay-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(src, sizeof src, "%s/src", tmp);
    snprintf(build, sizeof build, "%s/out/rel", tmp);
    snprintf(cfg, sizeof cfg, "%s/reltool.config", src);
    ck_assert_int_eq(mkdir(src, 0755), 0);
    kerr_clear();
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmp);
    arena_close(&A);
}

static const char *path_in(const char *dir, const char *rel)
{
    return arena_sprintf(&A, "%s/%s", dir, rel);
}

/* put - write TEXT to DIR/REL (parents made) with MODE */
static void put(const char *dir, const char *rel, const char *text, mode_t mode)
{
    char *p = arena_sprintf(&A, "%s/%s", dir, rel);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    FILE *f = fopen(p, "w");
    ck_assert_msg(f != NULL, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(p, mode), 0);
}

/* slurp - the contents of PATH, or NULL when it cannot be read */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    char *s = arena_strdup(&A, buf_cstr(&b));
    buf_free(&b);
    return s;
}

#define ck_file_eq(path, want)                                                                     \
    do {                                                                                           \
        const char *got_ = slurp(path);                                                            \
        ck_assert_msg(got_ != NULL, "file %s missing", (path));                                    \
        ck_assert_msg(strcmp(got_, (want)) == 0, "file %s: got '%s', want '%s'", (path), got_,     \
                      (want));                                                                     \
    } while (0)

static int mode_of(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return -1;
    return (int)(st.st_mode & 07777);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* overlay_of - the value of {overlay, [...]} in config TEXT parsed as file CFG, so every
 * entry carries its line (line 1 is the first line of TEXT) */
static const struct term *overlay_of(const char *text)
{
    const struct term *terms = term_consult_buf(&A, cfg, text, strlen(text));
    ck_assert_msg(terms != NULL, "config does not parse: %s", kerr_get()->msg);
    const struct term *v = term_proplist_get(terms, "overlay");
    ck_assert_ptr_nonnull(v);
    return v;
}

static json_t *basic_ctx(void)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s}", "erts_vsn", "erts-13.1.5", "rel_vsn", "1.2.3",
                     "name", "demo", "debug", 1, "html", "<a&b>");
}

/* run - apply the overlay in config TEXT with the basic context; returns overlay_apply's */
static int run(const char *text)
{
    json_t *ctx = basic_ctx();
    int rc = overlay_apply(&A, overlay_of(text), cfg, src, build, ctx);
    json_decref(ctx);
    return rc;
}

#define ck_ok(rc)                                                                                  \
    ck_assert_msg((rc) == 0, "failed: %s:%d: %s", kerr_get()->file, kerr_get()->line,              \
                  kerr_get()->msg)

/* ck_err - the last call failed with class CLS at CFG line LINE and a message holding SUB */
#define ck_err(rc_, cls_, line_, sub_)                                                             \
    do {                                                                                           \
        const struct kerr *e_ = kerr_get();                                                        \
        ck_assert_msg((rc_) == -1, "expected failure, got %d", (rc_));                             \
        ck_assert_msg(e_->cls == (cls_), "class %d, want %d (%s)", e_->cls, (cls_), e_->msg);      \
        ck_assert_msg(e_->line == (line_), "line %d, want %d (%s)", e_->line, (line_), e_->msg);   \
        ck_assert_msg(strstr(e_->msg, (sub_)) != NULL, "message '%s' lacks '%s'", e_->msg,         \
                      (sub_));                                                                     \
    } while (0)

/* ---- overlay steps ---- */

START_TEST(mkdir_renders_and_nests)
{
    ck_ok(run("{overlay, [{mkdir, \"log/sasl\"},\n"
              "           {mkdir, \"\\{\\{erts_vsn\\}\\}/bin\"}]}.\n"));
    struct stat st;
    ck_assert_int_eq(stat(path_in(build, "log/sasl"), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(stat(path_in(build, "erts-13.1.5/bin"), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
}
END_TEST

START_TEST(copy_file_forms)
{
    put(src, "files/nodetool", "#!/bin/sh\necho {{name}}\n", 0755);
    put(src, "files/app.config", "[].\n", 0640);
    put(src, "files/vm.args", "-name x\n", 0644);
    ck_ok(run("{overlay, [\n"
              "  {copy, \"files/nodetool\", \"{{erts_vsn}}/bin/nodetool\"},\n"
              "  {copy, \"files/app.config\"},\n"
              "  {mkdir, \"etc\"},\n"
              "  {copy, \"files/app.config\", \"etc\"},\n"
              "  {copy, \"files/vm.args\", \"conf/\"},\n"
              "  {copy, \"files/vm.args\", \"conf/renamed.args\"}]}.\n"));
    /* copied as is (not rendered), mode kept */
    ck_file_eq(path_in(build, "erts-13.1.5/bin/nodetool"), "#!/bin/sh\necho {{name}}\n");
    ck_assert_int_eq(mode_of(path_in(build, "erts-13.1.5/bin/nodetool")), 0755);
    /* {copy, Src}: into the root under its own name */
    ck_file_eq(path_in(build, "app.config"), "[].\n");
    ck_assert_int_eq(mode_of(path_in(build, "app.config")), 0640);
    /* an existing directory, or a '/' at the end: into it */
    ck_file_eq(path_in(build, "etc/app.config"), "[].\n");
    ck_file_eq(path_in(build, "conf/vm.args"), "-name x\n");
    ck_file_eq(path_in(build, "conf/renamed.args"), "-name x\n");
}
END_TEST

START_TEST(copy_directory_recursive)
{
    put(src, "priv/www/index.html", "<html>{{name}}</html>", 0644);
    put(src, "priv/www/js/app.js", "x()", 0600);
    put(src, "priv/bin/run", "#!/bin/sh\n", 0750);
    ck_assert_int_eq(symlink("www/index.html", path_in(src, "priv/link")), 0);
    ck_ok(run("{overlay, [{copy, \"priv\", \"share/priv\"},\n"
              "            {mkdir, \"lib\"},\n"
              "            {copy, \"priv/www\", \"lib\"},\n"
              "            {copy, \"priv/www/\"}]}.\n"));
    /* Dst does not exist: the tree becomes Dst */
    ck_file_eq(path_in(build, "share/priv/www/index.html"), "<html>{{name}}</html>");
    ck_file_eq(path_in(build, "share/priv/www/js/app.js"), "x()");
    ck_assert_int_eq(mode_of(path_in(build, "share/priv/www/js/app.js")), 0600);
    ck_assert_int_eq(mode_of(path_in(build, "share/priv/bin/run")), 0750);
    /* a symlink inside the tree stays a symlink */
    char target[64] = "";
    ck_assert_int_gt(readlink(path_in(build, "share/priv/link"), target, sizeof target - 1), 0);
    ck_assert_str_eq(target, "www/index.html");
    ck_file_eq(path_in(build, "share/priv/link"), "<html>{{name}}</html>");
    /* Dst an existing directory: the tree goes inside it */
    ck_file_eq(path_in(build, "lib/www/js/app.js"), "x()");
    /* {copy, Dir}: into the root, a trailing '/' on the source does not matter */
    ck_file_eq(path_in(build, "www/index.html"), "<html>{{name}}</html>");
    /* copying again over what is there merges and overwrites */
    put(src, "priv/www/js/app.js", "y()", 0644);
    ck_ok(run("{overlay, [{copy, \"priv\", \"share\"}]}.\n"));
    ck_file_eq(path_in(build, "share/priv/www/js/app.js"), "y()");
    ck_assert(!exists(path_in(build, "share/priv/priv")));
}
END_TEST

START_TEST(copy_refuses_itself)
{
    /* the build dir lies inside the source dir, as $target_dir/NAME usually does */
    snprintf(build, sizeof build, "%s/rel", src);
    put(src, "a.txt", "a", 0644);
    int rc = run("{overlay, [\n{copy, \".\", \"all\"}]}.\n");
    ck_err(rc, KERR_INPUT, 2, "into itself");
}
END_TEST

START_TEST(template_renders_keeps_mode)
{
    put(src, "files/vm.args", "-name {{name}}@127.0.0.1\n{{#debug}}-debug{{/debug}} {{html}}\n",
        0600);
    put(src, "files/run.sh", "exec erts/{{erts_vsn}}\n", 0755);
    ck_ok(run("{overlay, [{template, \"files/vm.args\", \"releases/{{rel_vsn}}/vm.args\"},\n"
              "            {template, <<\"files/run.sh\">>, \"bin/{{name}}\"}]}.\n"));
    ck_file_eq(path_in(build, "releases/1.2.3/vm.args"), "-name demo@127.0.0.1\n-debug <a&b>\n");
    ck_assert_int_eq(mode_of(path_in(build, "releases/1.2.3/vm.args")), 0600);
    ck_file_eq(path_in(build, "bin/demo"), "exec erts/erts-13.1.5\n");
    ck_assert_int_eq(mode_of(path_in(build, "bin/demo")), 0755);
}
END_TEST

START_TEST(template_error_in_file)
{
    put(src, "files/bad", "line one\n{{#open}}\n", 0644);
    int rc = run("{overlay, [{template, \"files/bad\", \"bad\"}]}.\n");
    const struct kerr *e = kerr_get();
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(e->cls, KERR_INPUT);
    ck_assert_msg(strstr(e->file, "files/bad") != NULL, "file '%s'", e->file);
    ck_assert_int_eq(e->line, 2);
    ck_assert(!exists(path_in(build, "bad")));
}
END_TEST

START_TEST(template_wildcard_each_match)
{
    char logf[400];
    snprintf(logf, sizeof logf, "%s/log", tmp);
    ck_ok(log_setup(LOG_WARN, false, logf));
    put(src, "tpl/a.config", "a={{name}}", 0644);
    put(src, "tpl/b.config", "b={{rel_vsn}}", 0640);
    put(src, "tpl/c.txt", "not matched", 0644);
    ck_assert_int_eq(mkdir(path_in(src, "tpl/d.config"), 0755), 0);
    ck_ok(run("{overlay, [{template_wildcard, \"tpl/*.config\", \"etc\"},\n"
              "            {template_wildcard, \"tpl/*.none\", \"etc\"}]}.\n"));
    log_close();
    ck_file_eq(path_in(build, "etc/a.config"), "a=demo");
    ck_file_eq(path_in(build, "etc/b.config"), "b=1.2.3");
    ck_assert_int_eq(mode_of(path_in(build, "etc/b.config")), 0640);
    ck_assert(!exists(path_in(build, "etc/c.txt")));
    ck_assert(!exists(path_in(build, "etc/d.config")));
    const char *log = slurp(logf);
    ck_assert_msg(strstr(log, ":2: template_wildcard 'tpl/*.none' matched no file"), "log: %s",
                  log);
    ck_assert_msg(strstr(log, "matched the directory"), "log: %s", log);
}
END_TEST

START_TEST(create_writes_contents_as_is)
{
    ck_ok(run("{overlay, [{create, \"etc/{{name}}.txt\", \"hello {{name}}\\n\"},\n"
              "            {create, \"bin.dat\", <<\"raw\\0bytes\">>}]}.\n"));
    ck_file_eq(path_in(build, "etc/demo.txt"), "hello {{name}}\n");
    ck_assert_int_eq(mode_of(path_in(build, "etc/demo.txt")), 0644);
    struct stat st;
    ck_assert_int_eq(stat(path_in(build, "bin.dat"), &st), 0);
    ck_assert_int_eq(st.st_size, 9);
}
END_TEST

/* Expected outputs below are what OTP 25's re:replace(Subject, Regex, Repl,
 * [global, {return, binary} | Opts]) gives for the same Erlang strings. */
START_TEST(replace_as_re_replace)
{
    put(build, "a", "abc", 0644);
    put(build, "b", "foo=1 bar=22", 0751);
    put(build, "c", "Foo foo FOO", 0644);
    put(build, "d", "a\nb\n", 0644);
    put(build, "e", "ab", 0644);
    put(build, "f", "h\xc3\xa9llo", 0644);
    put(build, "g", "node = NAME", 0644);
    ck_ok(run("{overlay, [\n"
              "  {replace, \"a\", \"x*\", \"-\"},\n"
              "  {replace, \"b\", \"(\\\\w+)=(\\\\d+)\", \"\\\\2:\\\\1[&]\\\\\\\\\\\\&\"},\n"
              "  {replace, \"c\", \"foo\", \"x\", [caseless, {return, list}]},\n"
              "  {replace, \"d\", \"^\", \"> \", [multiline]},\n"
              "  {replace, \"e\", \"(a)(x)?b\", \"[\\\\2|\\\\g{1}|\\\\g1|\\\\0|\\\\9]\"},\n"
              "  {replace, \"f\", \".\", \"<&>\", [unicode, global]},\n"
              "  {replace, \"g\", <<\"NAME\">>, \"{{name}}@{{rel_vsn}}\"}]}.\n"));
    ck_file_eq(path_in(build, "a"), "-a-b-c-");
    ck_file_eq(path_in(build, "b"), "1:foo[foo=1]\\& 22:bar[bar=22]\\&");
    ck_assert_int_eq(mode_of(path_in(build, "b")), 0751);
    ck_file_eq(path_in(build, "c"), "x x x");
    ck_file_eq(path_in(build, "d"), "> a\n> b\n");
    ck_file_eq(path_in(build, "e"), "[|a|a|0|]");
    ck_file_eq(path_in(build, "f"), "<h><\xc3\xa9><l><l><o>");
    ck_file_eq(path_in(build, "g"), "node = demo@1.2.3");
}
END_TEST

START_TEST(replace_errors)
{
    put(build, "f", "x", 0644);
    int rc = run("{overlay, [\n{replace, \"f\", \"(\", \"y\"}]}.\n");
    ck_err(rc, KERR_INPUT, 2, "bad regular expression '('");
    rc = run("{overlay, [\n\n{replace, \"f\", \"x\", \"y\", [bogus]}]}.\n");
    ck_err(rc, KERR_INPUT, 3, "unknown replace option 'bogus': known options are caseless");
    rc = run("{overlay, [\n{replace, \"missing\", \"x\", \"y\"}]}.\n");
    ck_err(rc, KERR_INPUT, 2, "'missing' does not exist in the build dir");
    rc = run("{overlay, [{replace, \"f\", \"x\", \"\\\\g{1\"}]}.\n");
    ck_err(rc, KERR_INPUT, 1, "malformed replacement");
    ck_file_eq(path_in(build, "f"), "x");
}
END_TEST

START_TEST(destinations_stay_inside)
{
    char outside[400];
    snprintf(outside, sizeof outside, "%s/outside", tmp);
    ck_assert_int_eq(mkdir(outside, 0755), 0);
    put(src, "f", "data", 0644);
    ck_ok(run("{overlay, [{mkdir, \"d\"}]}.\n"));
    ck_assert_int_eq(symlink(outside, path_in(build, "escape")), 0);
    ck_assert_int_eq(symlink("../../nowhere/x", path_in(build, "dangling")), 0);
    ck_assert_int_eq(symlink("d", path_in(build, "inner")), 0);
    struct {
        const char *overlay, *sub;
    } cases[] = {
        {"{overlay, [\n{copy, \"f\", \"/tmp/x\"}]}.", "is an absolute path"},
        {"{overlay, [\n{copy, \"f\", \"../x\"}]}.", "'../x' leads outside the build dir"},
        {"{overlay, [\n{create, \"d/../../x\", \"y\"}]}.", "leads outside the build dir"},
        {"{overlay, [\n{template, \"f\", \"escape/x\"}]}.", "through a symlink"},
        {"{overlay, [\n{copy, \"f\", \"escape\"}]}.", "through a symlink"},
        {"{overlay, [\n{mkdir, \"escape/sub\"}]}.", "through a symlink"},
        {"{overlay, [\n{create, \"dangling\", \"y\"}]}.", "dangling symlink"},
        {"{overlay, [\n{replace, \"escape/f\", \"a\", \"b\"}]}.", "through a symlink"},
        {"{overlay, [\n{copy, \"f\", \"{{up}}/x\"}]}.", "leads outside the build dir"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *ctx = json_pack("{s:s}", "up", "..");
        int rc = overlay_apply(&A, overlay_of(cases[i].overlay), cfg, src, build, ctx);
        json_decref(ctx);
        ck_err(rc, KERR_INPUT, 2, cases[i].sub);
    }
    ck_assert_msg(!exists(path_in(outside, "x")) && !exists(path_in(outside, "sub")) &&
                      !exists(path_in(outside, "f")) && !exists(path_in(tmp, "out/x")) &&
                      !exists(path_in(tmp, "x")) && !exists(path_in(tmp, "nowhere")),
                  "something was written outside the build dir");
    /* a symlink that stays inside is fine, and is replaced rather than written through */
    ck_ok(run("{overlay, [{create, \"inner/ok\", \"1\"}, {create, \"inner\", \"2\"}]}.\n"));
    ck_file_eq(path_in(build, "d/ok"), "1");
    ck_file_eq(path_in(build, "inner"), "2");
    ck_assert(exists(path_in(build, "d/ok")));
}
END_TEST

START_TEST(entry_errors_name_lines)
{
    int rc = run("{overlay, [\n  {mkdir, \"a\"},\n  {copy, \"nope.txt\", \"x\"}]}.\n");
    ck_err(rc, KERR_INPUT, 3, "overlay source 'nope.txt' does not exist");
    ck_assert_msg(strcmp(kerr_get()->file, cfg) == 0, "file '%s'", kerr_get()->file);
    ck_assert(exists(path_in(build, "a"))); /* steps before the failing one are done */

    rc = run("{overlay, [\n\n  {copy, 1, 2}]}.\n");
    ck_err(rc, KERR_INPUT, 3, "malformed overlay entry '{copy,1,2}': expected {copy, Src}");
    rc = run("{overlay, [\n  {template, \"a\"}]}.\n");
    ck_err(rc, KERR_INPUT, 2, "malformed overlay entry '{template,\"a\"}'");
    rc = run("{overlay, [\n  {link, \"a\", \"b\"}]}.\n");
    ck_err(rc, KERR_INPUT, 2,
           "unknown overlay kind 'link' in '{link,\"a\",\"b\"}': known kinds are mkdir, copy, "
           "template, template_wildcard, create, replace");
    rc = run("{overlay, [\n  \"mkdir\"]}.\n");
    ck_err(rc, KERR_INPUT, 2, "malformed overlay entry '\"mkdir\"'");
    rc = run("{overlay, [\n  {mkdir, \"{{#x}}\"}]}.\n");
    ck_err(rc, KERR_INPUT, 2, "bad template '{{#x}}' in overlay entry");
    rc = run("{overlay,\n  {mkdir, \"x\"}}.\n");
    ck_err(rc, KERR_INPUT, 2, "malformed 'overlay' value");
    rc = run("{overlay, [\n{template, \"missing.tpl\", \"x\"}]}.\n");
    ck_err(rc, KERR_INPUT, 2, "overlay source 'missing.tpl' does not exist");
}
END_TEST

/* ---- the context ---- */

static struct overlay_vars_src base_src(void)
{
    struct overlay_vars_src s = {0};
    s.cfg_file = cfg;
    s.cfg_dir = src;
    s.rel_name = "demo";
    s.rel_vsn = "1.0.0";
    s.erts_vsn = "13.1.5";
    s.target_dir = "/t";
    s.build_dir = "/t/demo";
    s.hostname = "host1";
    return s;
}

static const struct term *tm(const char *text)
{
    const struct term *t = term_parse_term(&A, "test", text, strlen(text));
    ck_assert_msg(t != NULL, "'%s' does not parse: %s", text, kerr_get()->msg);
    return t;
}

/* ck_json - the context's value at NAME, dumped compactly, equals WANT */
#define ck_json(ctx, name, want)                                                                   \
    do {                                                                                           \
        json_t *v_ = json_object_get((ctx), (name));                                               \
        char *d_ = v_ ? json_dumps(v_, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;                     \
        ck_assert_msg(d_ &&strcmp(d_, (want)) == 0, "%s: got %s, want %s", (name),                 \
                      d_ ? d_ : "(missing)", (want));                                              \
        free(d_);                                                                                  \
    } while (0)

static json_t *ctx_ok(const struct overlay_vars_src *s)
{
    json_t *ctx = overlay_context(&A, s);
    ck_assert_msg(ctx != NULL, "overlay_context failed: %s:%d: %s", kerr_get()->file,
                  kerr_get()->line, kerr_get()->msg);
    return ctx;
}

START_TEST(builtins)
{
    struct overlay_vars_src s = base_src();
    json_t *ctx = ctx_ok(&s);
    ck_json(ctx, "rel_name", "\"demo\"");
    ck_json(ctx, "rel_vsn", "\"1.0.0\"");
    ck_json(ctx, "erts_vsn", "\"erts-13.1.5\"");
    ck_json(ctx, "target_dir", "\"/t\"");
    ck_json(ctx, "build_dir", "\"/t/demo\"");
    ck_json(ctx, "hostname", "\"host1\"");
    json_decref(ctx);
    s.hostname = NULL;
    ctx = ctx_ok(&s);
    char host[256];
    ck_assert_int_eq(gethostname(host, sizeof host), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "hostname")), host);
    json_decref(ctx);
}
END_TEST

START_TEST(precedence_file_extra_cli)
{
    put(src, "vars.config", "{a, \"file\"}. {b, \"file\"}. {c, \"file\"}. {rel_vsn, \"9\"}.\n",
        0644);
    put(src, "sub/extra.config", "{b, \"extra\"}. {c, \"extra\"}.\n", 0644);
    struct overlay_vars_src s = base_src();
    s.overlay_vars = tm("\"vars.config\"");
    s.extra_overlay_vars = tm("[\"sub/extra.config\", {d, \"inline\"}]");
    const char *names[] = {"c", "e"};
    const struct term *vals[] = {tm("\"cli\""), tm("{1, two}")};
    s.ncli = 2;
    s.cli_names = names;
    s.cli_values = vals;
    json_t *ctx = ctx_ok(&s);
    ck_json(ctx, "a", "\"file\"");
    ck_json(ctx, "b", "\"extra\"");
    ck_json(ctx, "c", "\"cli\"");
    ck_json(ctx, "d", "\"inline\"");
    ck_json(ctx, "e", "\"{1,two}\"");
    ck_json(ctx, "rel_vsn", "\"9\""); /* built-ins can be overridden */
    json_decref(ctx);
    /* a list of files, in order; an absolute name */
    s.overlay_vars = tm(arena_sprintf(&A, "[\"sub/extra.config\", <<\"%s/vars.config\">>]", src));
    s.extra_overlay_vars = NULL;
    s.ncli = 0;
    ctx = ctx_ok(&s);
    ck_json(ctx, "b", "\"file\"");
    json_decref(ctx);
}
END_TEST

START_TEST(term_to_json_rules)
{
    const struct {
        const char *term, *json;
    } cases[] = {
        {"\"text\"", "\"text\""},
        {"\"\"", "\"\""},
        {"<<\"bin\">>", "\"bin\""},
        {"<<255>>", "\"<<\\\"\xc3\xbf\\\">>\""}, /* not UTF-8: ~tp's <<"\xff">> */
        {"some_atom", "\"some_atom\""},
        {"true", "true"},
        {"false", "false"},
        {"42", "42"},
        {"-7", "-7"},
        {"1.5", "1.5"},
        {"123456789012345678901234567890", "\"123456789012345678901234567890\""},
        {"[1, 2, 3]", "[1,2,3]"},
        {"[\"a\", b, [{x, 1}]]", "[\"a\",\"b\",{\"x\":1}]"},
        {"[{a, 1}, {b, [{c, true}, {d, \"deep\"}]}, {a, 2}]",
         "{\"a\":1,\"b\":{\"c\":true,\"d\":\"deep\"}}"},
        {"#{k => \"v\", n => 1}", "{\"k\":\"v\",\"n\":1}"},
        {"#{\"k\" => 1}", "\"#{\\\"k\\\" => 1}\""},
        {"{a, \"b\", 1}", "\"{a,\\\"b\\\",1}\""},
        {"[a | b]", "\"[a|b]\""},
        {"\"h\\x{e9}\"", "\"h\xc3\xa9\""},
        {"[{\"str\", 1}]", "[\"{\\\"str\\\",1}\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = overlay_term_to_json(&A, tm(cases[i].term));
        char *d = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        ck_assert_msg(d && strcmp(d, cases[i].json) == 0, "%s: got %s, want %s", cases[i].term,
                      d ? d : "(null)", cases[i].json);
        free(d);
        json_decref(j);
    }
}
END_TEST

START_TEST(nested_vars_render_in_templates)
{
    put(src, "vars.config",
        "{opts, [{debug, true}, {level, 3}, {paths, [\"a\", \"b\"]}, {quiet, false}]}.\n", 0644);
    put(src, "t",
        "{{#opts.debug}}D{{/opts.debug}}{{^opts.quiet}}Q{{/opts.quiet}}"
        "{{opts.level}}{{#opts.paths}}[{{.}}]{{/opts.paths}}",
        0644);
    struct overlay_vars_src s = base_src();
    s.overlay_vars = tm("\"vars.config\"");
    json_t *ctx = ctx_ok(&s);
    ck_ok(overlay_apply(&A, overlay_of("{overlay, [{template, \"t\", \"t\"}]}."), cfg, src, build,
                        ctx));
    json_decref(ctx);
    ck_file_eq(path_in(build, "t"), "DQ3[a][b]");
}
END_TEST

START_TEST(values_expand_references)
{
    /* defined before the variables they use, through two levels, nested, and built-ins */
    put(src, "vars.config",
        "{log, \"{{base}}/log\"}.\n"
        "{sasl, \"{{log}}/sasl\"}.\n"
        "{base, \"{{target_dir}}/x\"}.\n"
        "{n, [{dir, \"{{log}}\"}, {list, [\"{{rel_name}}\"]}]}.\n"
        "{port, 80}.\n"
        "{url, \"http://h:{{port}}/\"}.\n",
        0644);
    struct overlay_vars_src s = base_src();
    s.overlay_vars = tm("\"vars.config\"");
    const char *names[] = {"base"};
    const struct term *vals[] = {tm("\"/cli\"")};
    s.ncli = 1;
    s.cli_names = names;
    s.cli_values = vals;
    json_t *ctx = ctx_ok(&s);
    ck_json(ctx, "log", "\"/cli/log\"");
    ck_json(ctx, "sasl", "\"/cli/log/sasl\"");
    ck_json(ctx, "n", "{\"dir\":\"/cli/log\",\"list\":[\"demo\"]}");
    ck_json(ctx, "url", "\"http://h:80/\"");
    json_decref(ctx);
}
END_TEST

START_TEST(self_reference_terminates)
{
    char logf[400];
    snprintf(logf, sizeof logf, "%s/log", tmp);
    ck_ok(log_setup(LOG_WARN, false, logf));
    /* a cycle is an error naming the variable: one that grows, and two that settle on
     * tags that render to themselves */
    put(src, "vars.config", "{z, \"ok\"}.\n{a, \"x{{a}}\"}.\n", 0644);
    struct overlay_vars_src s = base_src();
    s.overlay_vars = tm("\"vars.config\"");
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 2, "overlay variable 'a' refers to itself");
    put(src, "vars.config", "{z, \"ok\"}.\n{b, \"{{c}}\"}.\n{c, \"{{b}}\"}.\n", 0644);
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 2, "overlay variable 'b' refers to itself");
    /* {a, "{{a}}{{a}}"} squares its length each round: stopped while rendering */
    put(src, "vars.config", "{a, \"{{a}}{{a}}\"}.\n", 0644);
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 1, "overlay variable 'a' grows past 1048576 bytes");
    log_close();

    /* growth past the limit is an error at the variable's line */
    put(src, "big.config",
        "%% grows a hundredfold a round\n"
        "{g, \"{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}"
        "{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}{{g}}\"}.\n",
        0644);
    s.overlay_vars = tm("\"big.config\"");
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 2, "overlay variable 'g' grows past 1048576 bytes");
}
END_TEST

START_TEST(context_errors)
{
    struct overlay_vars_src s = base_src();
    /* a var file that is missing: the config's file and the option's line */
    const struct term *opts = term_consult_buf(&A, cfg, "\n{overlay_vars, \"nope.config\"}.",
                                               strlen("\n{overlay_vars, \"nope.config\"}."));
    s.overlay_vars = term_elem(term_list_els(opts, &(size_t){0})[0], 1);
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 2, "cannot read overlay_vars file");
    ck_assert_str_eq(kerr_get()->file, cfg);
    /* a term that is not {Name, Value} */
    put(src, "bad.config", "{a, 1}.\n{b, 2, 3}.\n", 0644);
    s.overlay_vars = tm("\"bad.config\"");
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 2, "malformed overlay variable '{b,2,3}'");
    ck_assert_msg(strstr(kerr_get()->file, "bad.config"), "file %s", kerr_get()->file);
    /* a syntax error keeps its own position */
    put(src, "syntax.config", "{a, 1}.\n{b, }.\n", 0644);
    s.overlay_vars = tm("\"syntax.config\"");
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_assert_int_eq(kerr_get()->line, 2);
    /* a value that is not a template */
    put(src, "tpl.config", "{a, 1}.\n\n{b, \"{{#x}}\"}.\n", 0644);
    s.overlay_vars = tm("\"tpl.config\"");
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 3, "bad template in overlay variable 'b'");
    /* the option's shape */
    s.overlay_vars = tm("42");
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 1, "malformed 'overlay_vars' value '42'");
    s.overlay_vars = NULL;
    s.extra_overlay_vars = tm("[\"tpl.config\", 7]");
    ck_assert_ptr_null(overlay_context(&A, &s));
    ck_err(-1, KERR_INPUT, 1, "malformed 'extra_overlay_vars' element '7'");
}
END_TEST

/* the same rules on knit's own vars file: a name that is not an atom is skipped with a
 * warning naming the file and line; strings holding config text stay as they are */
START_TEST(vars_skip_stray_terms)
{
    char logf[400], varsf[400];
    snprintf(logf, sizeof logf, "%s/log", tmp);
    snprintf(varsf, sizeof varsf, "%s/node1_vars.config", tmp);
    FILE *fp = fopen(varsf, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("%% vars of node 1\n{port, 5279}.\n{{peer, \"h2\"}, {127,0,0,1}}.\n"
          "{mod_last, \"{mod_last, []},\"}.\n{policy, \"allow\"}.\n",
          fp);
    fclose(fp);
    ck_ok(log_setup(LOG_WARN, false, logf));
    struct overlay_vars_src s = base_src();
    s.overlay_vars = tm("[]");
    s.extra_overlay_vars = term_stringz(&A, varsf);
    json_t *ctx = ctx_ok(&s);
    log_close();
    ck_json(ctx, "port", "5279");
    ck_json(ctx, "policy", "\"allow\"");
    ck_json(ctx, "mod_last", "\"{mod_last, []},\"");
    const char *log = slurp(logf);
    ck_assert_msg(strstr(log, "node1_vars.config:3: overlay variable name '{peer,\"h2\"}' is not "
                              "an atom: ignored"),
                  "log: %s", log);
    json_decref(ctx);
}
END_TEST

static const char *corpus_file(const char *name)
{
    const char *dir = getenv(CORPUS_ENV);
    const char *p = arena_sprintf(&A, "%s/reltool/%s", dir && *dir ? dir : CORPUS_DEFAULT, name);
    char *abs = realpath(p, NULL);
    ck_assert_msg(abs != NULL, "corpus file %s is missing", p);
    p = arena_strdup(&A, abs);
    free(abs);
    return p;
}

START_TEST(riak_vars_expand)
{
    const char *f = corpus_file("basho__riak__rel_vars__riak-1.0.0.config");
    ck_assert_msg(access(f, R_OK) == 0, "corpus file %s is missing", f);
    struct overlay_vars_src s = base_src();
    s.overlay_vars = term_stringz(&A, f);
    json_t *ctx = ctx_ok(&s);
    ck_json(ctx, "platform_data_dir", "\"./data\"");
    ck_json(ctx, "ring_state_dir", "\"./data/ring\"");
    ck_json(ctx, "bitcask_data_root", "\"./data/bitcask\"");
    ck_json(ctx, "sasl_error_log", "\"./log/sasl-error.log\"");
    ck_json(ctx, "merge_index_data_root_2i", "\"./data/merge_index_2i\"");
    ck_json(ctx, "web_port", "8098");
    ck_json(ctx, "runner_script_dir", "\"$(cd ${0%/*} && pwd)\"");
    ck_json(ctx, "runner_user", "\"\"");
    ck_json(ctx, "erts_vsn", "\"erts-13.1.5\"");
    /* and a template using them */
    put(src, "app.config", "{ring_state_dir, \"{{ring_state_dir}}\"}, {port, {{web_port}}}", 0644);
    ck_ok(overlay_apply(&A,
                        overlay_of("{overlay, [{template, \"app.config\", \"etc/app.config\"}]}."),
                        cfg, src, build, ctx));
    ck_file_eq(path_in(build, "etc/app.config"), "{ring_state_dir, \"./data/ring\"}, {port, 8098}");
    json_decref(ctx);
}
END_TEST

START_TEST(mongooseim_vars_skip_stray_terms)
{
    char logf[400];
    snprintf(logf, sizeof logf, "%s/log", tmp);
    ck_ok(log_setup(LOG_WARN, false, logf));
    const char *f = corpus_file("esl__MongooseIM__rel_reltool_vars_node1_vars.config");
    ck_assert_msg(access(f, R_OK) == 0, "corpus file %s is missing", f);
    struct overlay_vars_src s = base_src();
    s.overlay_vars = tm("[]");
    s.extra_overlay_vars = term_stringz(&A, f);
    json_t *ctx = ctx_ok(&s);
    log_close();
    ck_json(ctx, "outgoing_s2s_port", "5279");
    ck_json(ctx, "s2s_default_policy", "\"allow\"");
    ck_json(ctx, "mod_last", "\"{mod_last, []},\"");
    ck_json(ctx, "tls_config", "\"{certfile, \\\"/tmp/server.pem\\\"}, starttls,\"");
    ck_json(ctx, "zlib", "\"{zlib, 10000},\"");
    ck_assert_ptr_nonnull(json_object_get(ctx, "mod_vcard"));
    const char *log = slurp(logf);
    ck_assert_msg(strstr(log, "overlay variable name '{s2s_addr,\"localhost2\"}' is not an "
                              "atom: ignored"),
                  "log: %s", log);
    ck_assert_msg(strstr(log, "vars.config:39: overlay variable name '{s2s_addr,[109,"), "log: %s",
                  log);
    json_decref(ctx);
}
END_TEST

/* every vars file of the corpus that is not a .src template for another tool loads */
START_TEST(corpus_vars_files_load)
{
    const char *dir = corpus_file("INDEX.md");
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "%.*s/*vars*.config", (int)(strrchr(dir, '/') - dir), dir);
    glob_t g;
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    ck_assert_uint_ge(g.gl_pathc, 10);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct overlay_vars_src s = base_src();
        s.overlay_vars = term_stringz(&A, g.gl_pathv[i]);
        json_t *ctx = overlay_context(&A, &s);
        ck_assert_msg(ctx != NULL, "%s: %s:%d: %s", g.gl_pathv[i], kerr_get()->file,
                      kerr_get()->line, kerr_get()->msg);
        /* nothing is left to expand in a file that refers only to defined names */
        const char *k;
        json_t *v;
        json_object_foreach(ctx, k, v)
        {
            const char *t = json_string_value(v);
            ck_assert_msg(!t || !strstr(t, "{{"), "%s: %s = %s", g.gl_pathv[i], k, t);
        }
        json_decref(ctx);
    }
    globfree(&g);
}
END_TEST

Suite *overlay_suite(void)
{
    Suite *s = suite_create("overlay");
    TCase *steps = tcase_create("steps");
    tcase_add_checked_fixture(steps, setup, teardown);
    tcase_add_test(steps, mkdir_renders_and_nests);
    tcase_add_test(steps, copy_file_forms);
    tcase_add_test(steps, copy_directory_recursive);
    tcase_add_test(steps, copy_refuses_itself);
    tcase_add_test(steps, template_renders_keeps_mode);
    tcase_add_test(steps, template_error_in_file);
    tcase_add_test(steps, template_wildcard_each_match);
    tcase_add_test(steps, create_writes_contents_as_is);
    tcase_add_test(steps, replace_as_re_replace);
    tcase_add_test(steps, replace_errors);
    tcase_add_test(steps, destinations_stay_inside);
    tcase_add_test(steps, entry_errors_name_lines);
    suite_add_tcase(s, steps);
    TCase *vars = tcase_create("vars");
    tcase_add_checked_fixture(vars, setup, teardown);
    tcase_add_test(vars, builtins);
    tcase_add_test(vars, precedence_file_extra_cli);
    tcase_add_test(vars, term_to_json_rules);
    tcase_add_test(vars, nested_vars_render_in_templates);
    tcase_add_test(vars, values_expand_references);
    tcase_add_test(vars, self_reference_terminates);
    tcase_add_test(vars, context_errors);
    tcase_add_test(vars, vars_skip_stray_terms);
    suite_add_tcase(s, vars);
    /* the external corpus: run when present, else named as skipped */
    const char *dir = getenv(CORPUS_ENV);
    char cdir[1024];
    snprintf(cdir, sizeof cdir, "%s/reltool", dir && *dir ? dir : CORPUS_DEFAULT);
    struct stat st;
    if (stat(cdir, &st) == 0 && S_ISDIR(st.st_mode)) {
        TCase *corpus = tcase_create("corpus");
        tcase_add_checked_fixture(corpus, setup, teardown);
        tcase_add_test(corpus, riak_vars_expand);
        tcase_add_test(corpus, mongooseim_vars_skip_stray_terms);
        tcase_add_test(corpus, corpus_vars_files_load);
        suite_add_tcase(s, corpus);
    } else {
        printf("SKIPPED: check_overlay corpus vars files (3 cases): no reltool corpus at '%s' "
               "(set %s)\n", cdir, CORPUS_ENV);
        fflush(stdout);
    }
    return s;
}
