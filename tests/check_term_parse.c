/* check_term_parse.c - the term reader against OTP's file:consult/1 (golden cases) and its
 * error messages, positions and depth limits */
#define SUITE_FN term_parse_suite
#include "check_main.h"

#include "buf.h"
#include "kerr.h"
#include "term.h"
#include "term_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a canonical dump, the same as tests/otp/parse_cases.escript writes ---- */

static void dump_name(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '@' || c == '.')
            buf_addc(b, (char)c);
        else
            buf_addf(b, "%%%02X", c);
    }
}

static void dump_hex(struct buf *b, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_addf(b, "%02X", d[i]);
}

static void dump_big(struct buf *b, const struct term *t)
{
    size_t n = t->u.big.n;
    uint8_t *m = malloc(n);
    char *dig = malloc(n * 3 + 2);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) /* most significant first, for long division */
        m[i] = t->u.big.mag[n - 1 - i];
    for (bool zero = false; !zero;) {
        unsigned rem = 0;
        zero = true;
        for (size_t i = 0; i < n; i++) {
            unsigned cur = rem * 256 + m[i];
            m[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero = zero && m[i] == 0;
        }
        dig[nd++] = (char)('0' + rem);
    }
    buf_addc(b, 'I');
    if (t->u.big.neg)
        buf_addc(b, '-');
    while (nd > 0)
        buf_addc(b, dig[--nd]);
    free(m);
    free(dig);
}

static void dump(struct buf *b, const struct term *t)
{
    uint64_t u;
    switch (t->type) {
    case TERM_INT:
        buf_addf(b, "I%lld", (long long)t->u.i);
        break;
    case TERM_BIG:
        dump_big(b, t);
        break;
    case TERM_FLOAT:
        memcpy(&u, &t->u.f, 8);
        buf_addf(b, "F%016llX", (unsigned long long)u);
        break;
    case TERM_ATOM:
        buf_addc(b, 'A');
        dump_name(b, t->u.atom.name, t->u.atom.len);
        break;
    case TERM_BITS:
        buf_addf(b, "B%zu:", t->u.bits.nbits);
        dump_hex(b, t->u.bits.data, (t->u.bits.nbits + 7) / 8);
        break;
    case TERM_TUPLE:
        buf_addc(b, '{');
        for (size_t i = 0; i < t->u.tuple.n; i++) {
            if (i)
                buf_addc(b, ',');
            dump(b, t->u.tuple.el[i]);
        }
        buf_addc(b, '}');
        break;
    case TERM_NIL:
        buf_adds(b, "[]");
        break;
    case TERM_LIST:
        buf_addc(b, '[');
        for (size_t i = 0; i < t->u.list.n; i++) {
            if (i)
                buf_addc(b, ',');
            dump(b, t->u.list.el[i]);
        }
        if (t->u.list.tail->type != TERM_NIL) {
            buf_addc(b, '|');
            dump(b, t->u.list.tail);
        }
        buf_addc(b, ']');
        break;
    case TERM_MAP:
        buf_adds(b, "#{");
        for (size_t i = 0; i < t->u.map.n; i++) {
            if (i)
                buf_addc(b, ',');
            dump(b, t->u.map.keys[i]);
            buf_adds(b, "=>");
            dump(b, t->u.map.vals[i]);
        }
        buf_addc(b, '}');
        break;
    case TERM_FUN:
        buf_addc(b, 'X');
        dump_hex(b, t->u.opaque.ext, t->u.opaque.len);
        buf_addc(b, ':');
        dump_name(b, t->u.opaque.text, strlen(t->u.opaque.text));
        break;
    default:
        buf_adds(b, "?");
    }
}

/* ---- golden cases from tests/data/parse_cases.txt ---- */

struct gcase {
    char *input; /* unescaped */
    size_t len;
    char *shown;  /* as in the file */
    char *expect; /* "ok ..." or "error LINE KIND" */
};

static struct gcase *cases;
static int ncases;

static const char *data_path(const char *file)
{
    static char path[4096];
    const char *src = __FILE__; /* tests/check_term_parse.c, relative to the top */
    const char *slash = strrchr(src, '/');
    snprintf(path, sizeof path, "%.*s/data/%s", slash ? (int)(slash - src) : 1, slash ? src : ".",
             file);
    return path;
}

static size_t unescape(const char *s, char *out)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s != '\\') {
            out[n++] = *s;
            continue;
        }
        s++;
        if (*s == 'n')
            out[n++] = '\n';
        else if (*s == 't')
            out[n++] = '\t';
        else if (*s == 'x') {
            unsigned v;
            sscanf(s + 1, "%2x", &v);
            out[n++] = (char)v;
            s += 2;
        } else
            out[n++] = *s;
    }
    out[n] = 0;
    return n;
}

static void load_cases(void)
{
    FILE *f = fopen(data_path("parse_cases.txt"), "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    int cap_cases = 0;
    while ((r = getline(&line, &cap, f)) > 0) {
        if (line[r - 1] == '\n')
            line[--r] = 0;
        if (strncmp(line, "# generated by:", 15) == 0 || r == 0)
            continue;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        if (ncases == cap_cases) {
            cap_cases = cap_cases ? cap_cases * 2 : 256;
            cases = realloc(cases, (size_t)cap_cases * sizeof *cases);
        }
        struct gcase *c = &cases[ncases++];
        c->shown = strdup(line);
        c->expect = strdup(tab + 1);
        c->input = malloc(strlen(line) + 1);
        c->len = unescape(line, c->input);
    }
    free(line);
    fclose(f);
}

START_TEST(test_golden_file_present)
{
    ck_assert_msg(ncases >= 160, "expected the golden cases in %s, found %d",
                  data_path("parse_cases.txt"), ncases);
}
END_TEST

START_TEST(test_golden)
{
    struct gcase *c = &cases[_i];
    struct arena a;
    arena_init(&a);
    kerr_clear();
    const struct term *t = term_consult_buf(&a, "case", c->input, c->len);
    if (strncmp(c->expect, "ok", 2) == 0) {
        char msg[2048] = "";
        kerr_format(kerr_get(), msg, sizeof msg);
        ck_assert_msg(t != NULL, "input %s: OTP reads it, we fail: %s", c->shown, msg);
        struct buf b = BUF_INIT;
        buf_adds(&b, "ok");
        size_t n;
        const struct term *const *el = term_list_els(t, &n);
        for (size_t i = 0; i < n; i++) {
            buf_addf(&b, " %u:", (unsigned)el[i]->line);
            dump(&b, el[i]);
        }
        ck_assert_msg(strcmp(b.p, c->expect) == 0, "input %s:\n  got  %s\n  want %s", c->shown, b.p,
                      c->expect);
        buf_free(&b);
    } else {
        ck_assert_msg(t == NULL, "input %s: OTP says %s, we read it", c->shown, c->expect);
        const struct kerr *e = kerr_get();
        ck_assert_int_eq(e->cls, KERR_INPUT);
        int line;
        char kind[32];
        ck_assert_int_eq(sscanf(c->expect, "error %d %31s", &line, kind), 2);
        /* scan and syntax errors must be on OTP's line; for a bad term OTP names the line
         * the term starts on and we the part that is wrong */
        if (strcmp(kind, "scan") == 0 || strcmp(kind, "syntax") == 0)
            ck_assert_msg(e->line == line, "input %s: error on line %d (%s), OTP says %d", c->shown,
                          e->line, e->msg, line);
    }
    arena_close(&a);
}
END_TEST

/* ---- error messages and positions ---- */

struct errcase {
    const char *input;
    int line, col;
    const char *msg;
};

static const struct errcase errcases[] = {
    {"{sys, [a]\n  lib_dirs}.", 2, 3, "expected ',' or '}' before 'lib_dirs'"},
    {"{sys, [\n  {lib_dirs, [\"a\"]}\n  {rel, x}]}.", 3, 3, "expected ',', '|' or ']' before '{'"},
    {"{a,\n  \"abc}.\n", 2, 3, "unterminated string starting with '\"abc}.\\n'"},
    {"{a, 'abc}.", 1, 5, "unterminated quoted atom starting with ''abc}.'"},
    {"{a}", 1, 4, "unexpected end of file, expected '.'"},
    {"{a}.\n{b, c}\n\n", 2, 7, "unexpected end of file, expected '.'"},
    {"{a}.\n\"x\ny\"\n", 2, 1, "unexpected end of file, expected '.'"},
    {"{a, b \"c}.\n", 1, 7, "unterminated string starting with '\"c}.\\n'"},
    {"Var.", 1, 1, "variable 'Var' is not allowed in a term (quote it to make an atom)"},
    {"{ok, end}.", 1, 6, "reserved word 'end' must be quoted to be an atom"},
    {"a.b.", 1, 2, "'.' after a term must be followed by whitespace, '%' or the end"},
    {"\"bad \\x{D800}\".", 1, 6, "illegal escape sequence '\\x{D800}'"},
    {"\"bad \\x4g\".", 1, 6, "illegal escape sequence '\\x4g'"},
    {"{a, \xf0\x9f\x98\x80}.", 1, 5, "illegal character U+1F600"},
    {"<<1, 1.0>>.", 1, 6, "bad binary segment: value is not an integer"},
    {"<<1:8/big-little>>.", 1, 11, "conflicting binary segment type 'little'"},
    {"<<1/foo>>.", 1, 5, "unknown binary segment type 'foo'"},
    {"#{a := 1}.", 1, 5, "':=' is not allowed in a term (use '=>')"},
    {"{X, a b}.", 1, 7, "expected ',' or '}' before 'b'"},
    {"{X, Y}.", 1, 2, "variable 'X' is not allowed in a term (quote it to make an atom)"},
    {"fun f/1.", 1, 1, "local fun is not allowed in a term (write 'fun M:F/A')"},
    {"- - 1.", 1, 1, "unary '-' is allowed only before a number"},
    {"1.0e400.", 1, 1, "float '1.0e400' is out of range"},
    {"1.0e.", 1, 1, "illegal float '1.0e'"},
    {"37#1.", 1, 1, "illegal base '37'"},
    {"16#G.", 1, 1, "illegal integer '16#' (no digits in base 16)"},
    {"{a}.\n{\"\xe4\"}.", 2, 3,
     "invalid UTF-8 byte 0xE4 (a latin-1 file needs a '%% coding: latin-1' comment on its "
     "first line)"},
    {"fun m:f/256.", 1, 9, "fun arity '256' is out of range (0..255)"},
    {"[a,b.", 1, 5, "expected ',', '|' or ']' before '.'"},
    {"{a,}.", 1, 4, "expected a term before '}'"},
    {"$", 1, 1, "unterminated character literal '$'"},
    {"not true.", 1, 1, "operator 'not' is not allowed in a term"},
    {"\xef\xbb\xbf{a}.", 1, 1, "illegal character U+FEFF"},
};

START_TEST(test_error_messages)
{
    const struct errcase *c = &errcases[_i];
    struct arena a;
    arena_init(&a);
    kerr_clear();
    const struct term *t = term_consult_buf(&a, "f.config", c->input, strlen(c->input));
    ck_assert_msg(t == NULL, "input '%s' was accepted", c->input);
    const struct kerr *e = kerr_get();
    ck_assert_int_eq(e->cls, KERR_INPUT);
    ck_assert_str_eq(e->file, "f.config");
    ck_assert_str_eq(e->msg, c->msg);
    ck_assert_msg(e->line == c->line && e->col == c->col, "input '%s': at %d:%d, want %d:%d",
                  c->input, e->line, e->col, c->line, c->col);
    arena_close(&a);
}
END_TEST

/* ---- term_parse_term ---- */

START_TEST(test_parse_term)
{
    struct arena a;
    arena_init(&a);
    struct buf b = BUF_INIT;
    static const char *const ok[][2] = {
        {"{a,b}", "{Aa,Ab}"},     {"{a,b}.", "{Aa,Ab}"},          {" [1, 2] . ", "[I1,I2]"},
        {"\"x\"", "[I120]"},      {"1.5", "F3FF8000000000000"},   {"-3", "I-3"},
        {"% c\nfoo % d", "Afoo"}, {"<<\"ä\"/utf8>>", "B16:C3A4"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        const struct term *t = term_parse_term(&a, "arg", ok[i][0], strlen(ok[i][0]));
        ck_assert_msg(t != NULL, "'%s' rejected: %s", ok[i][0], kerr_get()->msg);
        buf_reset(&b);
        dump(&b, t);
        ck_assert_str_eq(b.p, ok[i][1]);
    }
    static const char *const bad[][2] = {
        {"{a,b}. x", "expected end of input before 'x'"},
        {"a b", "expected '.' or end of input before 'b'"},
        {"", "unexpected end of input, expected a term"},
        {"a.b", "'.' after a term must be followed by whitespace, '%' or the end"},
        {"a. b.", "expected end of input before 'b'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kerr_clear();
        const struct term *t = term_parse_term(&a, "arg", bad[i][0], strlen(bad[i][0]));
        ck_assert_msg(t == NULL, "'%s' accepted", bad[i][0]);
        ck_assert_str_eq(kerr_get()->msg, bad[i][1]);
        ck_assert_str_eq(kerr_get()->file, "arg");
    }
    buf_free(&b);
    arena_close(&a);
}
END_TEST

/* ---- lines, files ---- */

START_TEST(test_lines_of_subterms)
{
    struct arena a;
    arena_init(&a);
    const char *s = "\n{a,\n [b,\n  \"c\"],\n #{k =>\n  -1},\n <<>>, []}.";
    const struct term *l = term_consult_buf(&a, "x", s, strlen(s));
    ck_assert_ptr_nonnull(l);
    const struct term *t = term_list_els(l, &(size_t){0})[0];
    ck_assert_int_eq(t->line, 2);
    ck_assert_int_eq(term_elem(t, 0)->line, 2);
    const struct term *lst = term_elem(t, 1);
    ck_assert_int_eq(lst->line, 3);
    ck_assert_int_eq(lst->u.list.el[0]->line, 3);
    ck_assert_int_eq(lst->u.list.el[1]->line, 4);
    ck_assert_int_eq(lst->u.list.el[1]->u.list.el[0]->line, 4);
    const struct term *m = term_elem(t, 2);
    ck_assert_int_eq(m->line, 5);
    ck_assert_int_eq(m->u.map.vals[0]->line, 6);
    ck_assert_int_eq(m->u.map.vals[0]->u.i, -1);
    ck_assert_int_eq(term_elem(t, 3)->line, 7);
    ck_assert_int_eq(term_elem(t, 4)->line, 7);
    ck_assert_int_eq(term_elem(t, 4)->type, TERM_NIL);
    ck_assert_int_eq(term_nil()->line, 0); /* the shared [] is never written to */
    arena_close(&a);
}
END_TEST

START_TEST(test_consult_file)
{
    char path[] = "/tmp/knit-check-parse-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *s = "%% coding: latin-1\n{name, \"\xe4\"}.\n";
    ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    close(fd);
    struct arena a;
    arena_init(&a);
    const struct term *l = term_consult_file(&a, path);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(term_list_len(l), 1);
    const struct term *t = term_list_els(l, &(size_t){0})[0];
    ck_assert_int_eq(t->line, 2);
    ck_assert_str_eq(term_charlist(&a, term_elem(t, 1)), "\xc3\xa4");
    unlink(path);
    kerr_clear();
    ck_assert_ptr_null(term_consult_file(&a, path));
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
    ck_assert_str_eq(kerr_get()->file, path);
    arena_close(&a);
}
END_TEST

START_TEST(test_fun_term)
{
    struct arena a;
    arena_init(&a);
    const char *s = "fun lists:map/2.";
    const struct term *t = term_parse_term(&a, "x", s, strlen(s));
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->type, TERM_FUN);
    ck_assert_str_eq(t->u.opaque.text, "fun lists:map/2");
    /* erl: term_to_binary(fun lists:map/2) =
     * <<131,113,100,0,5,"lists",100,0,3,"map",97,2>> */
    static const uint8_t ext[] = {113, 100, 0, 5,   'l', 'i', 's', 't', 's',
                                  100, 0,   3, 'm', 'a', 'p', 97,  2};
    ck_assert_uint_eq(t->u.opaque.len, sizeof ext);
    ck_assert_mem_eq(t->u.opaque.ext, ext, sizeof ext);
    arena_close(&a);
}
END_TEST

/* ---- depth ---- */

struct deep {
    size_t levels;
    char open, close;
    bool parse_term;
    const struct term *result;
    struct kerr err;
    struct arena a;
};

static int deep_run(void *arg)
{
    struct deep *d = arg;
    size_t n = d->levels;
    char *s = malloc(2 * n + 2);
    memset(s, d->open, n);
    memset(s + n, d->close, n);
    s[2 * n] = '.';
    s[2 * n + 1] = 0;
    kerr_clear();
    d->result = d->parse_term ? term_parse_term(&d->a, "deep", s, 2 * n + 1)
                              : term_consult_buf(&d->a, "deep", s, 2 * n + 1);
    if (d->result && !d->parse_term)
        d->result = term_list_els(d->result, &(size_t){0})[0];
    kerr_copy(&d->err);
    free(s);
    return 0;
}

static size_t depth_of(const struct term *t)
{
    size_t n = 0;
    for (;;) {
        n++;
        if (t->type == TERM_LIST)
            t = t->u.list.el[0];
        else if (t->type == TERM_TUPLE && t->u.tuple.n == 1)
            t = t->u.tuple.el[0];
        else
            return n;
    }
}

START_TEST(test_deep_nesting)
{
    static const struct {
        size_t levels;
        char open, close;
        bool ok;
    } runs[] = {
        {10000, '[', ']', true},
        {10000, '{', '}', true},
        {TERM_MAX_DEPTH, '[', ']', true},
        {TERM_MAX_DEPTH + 1, '[', ']', false},
        {TERM_MAX_DEPTH + 1, '{', '}', false},
        {TERM_MAX_DEPTH + 1, '(', ')', false},
    };
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        struct deep d = {runs[i].levels, runs[i].open, runs[i].close, i % 2 == 1, NULL, {0}, {0}};
        arena_init(&d.a);
        knit_run_big_stack(deep_run, &d);
        if (runs[i].ok) {
            ck_assert_msg(d.result != NULL, "%zu levels of %c rejected: %s", d.levels, d.open,
                          d.err.msg);
            /* [[...[]...]]: the innermost [] is a level; {{...{}...}} ends in {} */
            ck_assert_uint_eq(depth_of(d.result), d.levels);
        } else {
            ck_assert_msg(d.result == NULL, "%zu levels of %c accepted", d.levels, d.open);
            ck_assert_str_eq(d.err.msg, "term nested deeper than 100000 levels");
            ck_assert_int_eq(d.err.line, 1);
            ck_assert_int_eq(d.err.col, TERM_MAX_DEPTH + 1);
        }
        arena_close(&d.a);
    }
}
END_TEST

Suite *term_parse_suite(void)
{
    load_cases();
    Suite *s = suite_create("term_parse");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_golden_file_present);
    if (ncases > 0)
        tcase_add_loop_test(tc, test_golden, 0, ncases);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_error_messages, 0, sizeof errcases / sizeof *errcases);
    tcase_add_test(tc, test_parse_term);
    suite_add_tcase(s, tc);
    tc = tcase_create("misc");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lines_of_subterms);
    tcase_add_test(tc, test_consult_file);
    tcase_add_test(tc, test_fun_term);
    tcase_add_test(tc, test_deep_nesting);
    suite_add_tcase(s, tc);
    return s;
}
