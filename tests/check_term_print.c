/* check_term_print.c - the printer against OTP: golden ~tp/~tw cases, real files, depth, speed */
#define SUITE_FN term_print_suite
#include "check_main.h"

#include "arena.h"
#include "buf.h"
#include "term.h"
#include "term_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CASES_FILE "tests/data/print_cases.txt"
#define GEN_SCRIPT "tests/otp/print_cases.escript"

/* ---- reading the dump notation of tests/otp/print_cases.escript ----------------------- */

struct reader {
    struct arena *a;
    const char *p;
    bool bad;
};

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/* the token's hex digits as bytes into A (NUL-terminated); *N gets the count */
static uint8_t *read_hex(struct reader *r, size_t *n)
{
    const char *s = r->p;
    size_t len = strcspn(s, " \t");
    uint8_t *out = arena_alloc(r->a, len / 2 + 1);
    for (size_t i = 0; i + 1 < len; i += 2) {
        int h = hexval(s[i]), l = hexval(s[i + 1]);
        if (h < 0 || l < 0)
            r->bad = true;
        out[i / 2] = (uint8_t)(h << 4 | l);
    }
    *n = len / 2;
    r->p = s + len;
    return out;
}

static long read_num(struct reader *r)
{
    char *end;
    long v = strtol(r->p, &end, 10);
    if (end == r->p)
        r->bad = true;
    r->p = end;
    return v;
}

/* a decimal integer of any size: int64 when it fits, else a bignum */
static const struct term *read_int(struct reader *r)
{
    const char *s = r->p;
    bool neg = *s == '-';
    if (neg)
        s++;
    size_t nd = strspn(s, "0123456789");
    r->p = s + nd;
    uint8_t *mag = arena_alloc(r->a, nd / 2 + 2);
    size_t n = 0;
    for (size_t i = 0; i < nd; i++) {
        unsigned carry = (unsigned)(s[i] - '0');
        for (size_t j = 0; j < n; j++) {
            unsigned v = mag[j] * 10u + carry;
            mag[j] = (uint8_t)v;
            carry = v >> 8;
        }
        while (carry) {
            mag[n++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    if (n == 0)
        return term_int(r->a, 0);
    return term_bigint(r->a, neg, mag, n);
}

static const struct term *read_term(struct reader *r, int depth)
{
    while (*r->p == ' ')
        r->p++;
    if (depth > TERM_MAX_DEPTH + 1) {
        r->bad = true;
        return term_nil();
    }
    char tag = *r->p++;
    size_t n;
    switch (tag) {
    case 'i':
        return read_int(r);
    case 'f': {
        uint8_t *b = read_hex(r, &n);
        uint64_t bits = 0;
        for (size_t i = 0; i < n; i++)
            bits = bits << 8 | b[i];
        double d;
        memcpy(&d, &bits, sizeof d);
        return term_float(r->a, d);
    }
    case 'a': {
        uint8_t *b = read_hex(r, &n);
        return term_atom(r->a, (const char *)b, n);
    }
    case 'n':
        return term_nil();
    case 'l': {
        long k = read_num(r);
        const struct term **el = arena_alloc(r->a, (size_t)(k + 1) * sizeof *el);
        for (long i = 0; i < k; i++)
            el[i] = read_term(r, depth + 1);
        const struct term *tail = read_term(r, depth + 1);
        return term_list(r->a, el, (size_t)k, tail);
    }
    case 't': {
        long k = read_num(r);
        const struct term **el = arena_alloc(r->a, (size_t)(k + 1) * sizeof *el);
        for (long i = 0; i < k; i++)
            el[i] = read_term(r, depth + 1);
        return term_tuple(r->a, el, (size_t)k);
    }
    case 'm': {
        long k = read_num(r);
        const struct term **ks = arena_alloc(r->a, (size_t)(k + 1) * sizeof *ks);
        const struct term **vs = arena_alloc(r->a, (size_t)(k + 1) * sizeof *vs);
        for (long i = 0; i < k; i++) {
            ks[i] = read_term(r, depth + 1);
            vs[i] = read_term(r, depth + 1);
        }
        return term_map(r->a, ks, vs, (size_t)k);
    }
    case 'b': {
        long bits = read_num(r);
        if (*r->p++ != ':')
            r->bad = true;
        uint8_t *b = read_hex(r, &n);
        return term_bits(r->a, b, (size_t)bits);
    }
    case 'P':
    case 'O':
    case 'R':
    case 'F': {
        uint8_t *b = read_hex(r, &n);
        enum term_type ty = tag == 'P'   ? TERM_PID
                            : tag == 'O' ? TERM_PORT
                            : tag == 'R' ? TERM_REF
                                         : TERM_FUN;
        return term_opaque(r->a, ty, b, n, (const char *)b);
    }
    default:
        r->bad = true;
        return term_nil();
    }
}

/* undo the \\ \n \xHH escaping of the expected output, in place; returns the length */
static size_t unescape(char *s)
{
    char *w = s;
    for (const char *p = s; *p;) {
        if (*p != '\\') {
            *w++ = *p++;
        } else if (p[1] == 'n') {
            *w++ = '\n';
            p += 2;
        } else if (p[1] == 'x' && p[2] && p[3]) {
            *w++ = (char)(hexval(p[2]) << 4 | hexval(p[3]));
            p += 4;
        } else {
            *w++ = p[1];
            p += 2;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* ---- running a case file ----------------------------------------------------------- */

struct run {
    const char *path;
    int cases, wraps, failed, bad_lines;
    char first_fail[600];
};

static void note_fail(struct run *run, int line, const char *what, const char *got,
                      const char *want)
{
    if (run->failed++ < 12)
        fprintf(stderr, "%s:%d: %s differs\n  got:  %.300s\n  want: %.300s\n", run->path, line,
                what, got, want);
    if (!run->first_fail[0])
        snprintf(run->first_fail, sizeof run->first_fail, "line %d %s: got '%.200s' want '%.200s'",
                 line, what, got, want);
}

static int run_file(void *arg)
{
    struct run *run = arg;
    FILE *f = fopen(run->path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    struct arena a;
    arena_init(&a);
    struct buf out = BUF_INIT;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[0] == '#')
            continue;
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        char *field[5];
        char *s = line;
        int nf = 0;
        while (nf < 5) {
            field[nf++] = s;
            char *tab = strchr(s, '\t');
            if (!tab)
                break;
            *tab = '\0';
            s = tab + 1;
        }
        if (nf != 5) {
            run->bad_lines++;
            continue;
        }
        struct reader r = {&a, field[2], false};
        const struct term *t = read_term(&r, 0);
        if (r.bad || *r.p) {
            run->bad_lines++;
            continue;
        }
        int col = atoi(field[0]), width = atoi(field[1]);
        size_t tplen = unescape(field[3]), twlen = unescape(field[4]);
        run->cases++;
        if (memchr(field[3], '\n', tplen) && strchr(strchr(field[3], '\n') + 1, '\n'))
            run->wraps++;
        buf_reset(&out);
        term_print_at(&out, t, col, width);
        if (out.len != tplen || memcmp(buf_cstr(&out), field[3], tplen) != 0)
            note_fail(run, lineno, "~tp", buf_cstr(&out), field[3]);
        buf_reset(&out);
        term_write(&out, t);
        if (out.len != twlen || memcmp(buf_cstr(&out), field[4], twlen) != 0)
            note_fail(run, lineno, "~tw", buf_cstr(&out), field[4]);
        arena_reset(&a);
    }
    buf_free(&out);
    arena_close(&a);
    free(line);
    fclose(f);
    return 0;
}

/* KNIT_PRINT_CASES names another case file (e.g. from print_cases.escript --random) */
START_TEST(golden_cases)
{
    const char *path = getenv("KNIT_PRINT_CASES");
    struct run run = {.path = path ? path : CASES_FILE};
    ck_assert_int_eq(knit_run_big_stack(run_file, &run), 0);
    ck_assert_msg(run.bad_lines == 0, "%d unreadable lines in %s", run.bad_lines, run.path);
    ck_assert_msg(run.cases >= 2000, "only %d cases in %s", run.cases, run.path);
    ck_assert_msg(run.wraps >= 200, "only %d cases span three lines or more", run.wraps);
    ck_assert_msg(run.failed == 0, "%d of %d cases differ from OTP; first: %s", run.failed,
                  run.cases, run.first_fail);
}
END_TEST

/* every term of every .app/.rel/.script/.appup/RELEASES file of the installed OTP, printed
 * live by OTP and by us */
START_TEST(real_world_files)
{
    char tmp[] = "/tmp/knit-print-rw.XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "escript " GEN_SCRIPT " --realworld $(find /usr/lib/erlang \\( -name '*.app' -o "
             "-name '*.rel' -o -name '*.script' -o -name '*.appup' -o -name RELEASES \\) "
             "-type f | sort) > %s 2>/dev/null",
             tmp);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "'%s' exited %d", cmd, rc);
    struct run run = {.path = tmp};
    ck_assert_int_eq(knit_run_big_stack(run_file, &run), 0);
    unlink(tmp);
    ck_assert_msg(run.bad_lines == 0, "%d unreadable lines", run.bad_lines);
    ck_assert_msg(run.cases >= 60, "only %d real-world terms", run.cases);
    ck_assert_msg(run.failed == 0, "%d of %d real-world terms differ from OTP; first: %s",
                  run.failed, run.cases, run.first_fail);
}
END_TEST

/* ---- depth and speed --------------------------------------------------------------- */

struct deep {
    size_t levels;
    struct buf out;
};

static int print_deep(void *arg)
{
    struct deep *d = arg;
    struct arena a;
    arena_init(&a);
    const struct term *t = term_atomz(&a, "a");
    for (size_t i = 0; i < d->levels; i++)
        t = term_listv(&a, 1, t);
    term_print(&d->out, t);
    buf_addc(&d->out, '\n');
    term_write(&d->out, t);
    arena_close(&a);
    return 0;
}

/* nesting as deep as any reader allows: [[[...[a]...]]] (OTP keeps a lone element on the
 * line of its bracket; the 10 000-level case in the golden data checks that against OTP) */
START_TEST(deep_nesting)
{
    struct deep d = {TERM_MAX_DEPTH, BUF_INIT};
    knit_run_big_stack(print_deep, &d);
    struct buf want = BUF_INIT;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < d.levels; i++)
            buf_addc(&want, '[');
        buf_addc(&want, 'a');
        for (size_t i = 0; i < d.levels; i++)
            buf_addc(&want, ']');
        if (k == 0)
            buf_addc(&want, '\n');
    }
    ck_assert_uint_eq(d.out.len, want.len);
    ck_assert_msg(memcmp(d.out.p, want.p, want.len) == 0, "deep list printed wrongly: %.80s",
                  d.out.p);
    buf_free(&want);
    buf_free(&d.out);
}
END_TEST

/* OTP's output for an Erlang expression, run live */
static char *otp_output(const char *expr, size_t *len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "erl -noshell -eval 'io:put_chars(unicode:characters_to_binary(%s)), halt().'", expr);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    struct buf b = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_add(&b, chunk, n);
    if (pclose(p) != 0) {
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p ? b.p : strdup("");
}

/* long flat lists print as OTP prints them (their speed is a benchmark matter, not a test's) */
START_TEST(long_flat_lists)
{
    enum { N = 100000 };
    struct arena a;
    arena_init(&a);
    const struct term **ints = arena_alloc(&a, N * sizeof *ints);
    const struct term **tups = arena_alloc(&a, N * sizeof *tups);
    for (int i = 0; i < N; i++) {
        ints[i] = term_int(&a, i + 1);
        tups[i] = term_tuplev(&a, 2, term_atomz(&a, "k"), term_int(&a, i + 1));
    }
    const struct term *l1 = term_list(&a, ints, N, term_nil());
    const struct term *l2 = term_list(&a, tups, N, term_nil());
    struct buf o1 = BUF_INIT, o2 = BUF_INIT;
    term_print(&o1, l1);
    term_print(&o2, l2);

    size_t n1, n2;
    char *w1 = otp_output("io_lib:format(\"~tp\", [lists:seq(1, 100000)])", &n1);
    char *w2 = otp_output("io_lib:format(\"~tp\", [[{k, I} || I <- lists:seq(1, 100000)]])", &n2);
    ck_assert_msg(w1 && w2, "erl did not run");
    ck_assert_msg(o1.len == n1 && memcmp(o1.p, w1, n1) == 0,
                  "lists:seq(1, 100000) differs: %zu bytes, OTP %zu", o1.len, n1);
    ck_assert_msg(o2.len == n2 && memcmp(o2.p, w2, n2) == 0,
                  "[{k, I}] list differs: %zu bytes, OTP %zu", o2.len, n2);
    free(w1);
    free(w2);
    buf_free(&o1);
    buf_free(&o2);
    arena_close(&a);
}
END_TEST

/* the file layout of relup/.script/RELEASES, against a file OTP writes the way
 * systools_relup does: io:format(Fd, "%% ~s~n~tp.~n", ...) on a utf8 file */
START_TEST(file_terms)
{
    struct arena a;
    arena_init(&a);
    const struct term *t1 =
        term_tuplev(&a, 3, term_atomz(&a, "release"), term_stringz(&a, "r\xc3\xa9l"),
                    term_atomz(&a, "\xe6\x97\xa5\xe6\x9c\xac"));
    const struct term **many = arena_alloc(&a, 30 * sizeof *many);
    for (int i = 0; i < 30; i++)
        many[i] = term_tuplev(&a, 2, term_atomz(&a, "load_module"), term_int(&a, i));
    const struct term *t2 = term_list(&a, many, 30, term_nil());
    struct buf out = BUF_INIT;
    term_print_file_terms(&out, term_listv(&a, 2, t1, t2));

    char tmp[] = "/tmp/knit-print-ft.XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "erl -noshell -eval '{ok, Fd} = file:open(\"%s\", [write, {encoding, utf8}]), "
             "[io:format(Fd, \"%%%% ~s~n\", [epp:encoding_to_string(utf8)])], "
             "[io:format(Fd, \"~tp.~n\", [T]) || T <- [{release, \"r\\x{e9}l\", "
             "list_to_atom([16#65E5, 16#672C])}, [{load_module, I} || I <- lists:seq(0, 29)]]], "
             "file:close(Fd), halt().'",
             tmp);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(tmp, "rb");
    ck_assert_ptr_nonnull(f);
    char want[8192];
    size_t n = fread(want, 1, sizeof want - 1, f);
    want[n] = '\0';
    fclose(f);
    unlink(tmp);
    ck_assert_str_eq(buf_cstr(&out), want);
    buf_free(&out);
    arena_close(&a);
}
END_TEST

/* a few spellings pinned by hand, checked against OTP's documented output */
START_TEST(atomic_spellings)
{
    struct arena a;
    arena_init(&a);
    struct {
        const struct term *t;
        const char *want;
    } cases[] = {
        {term_atomz(&a, "ok"), "ok"},
        {term_atomz(&a, "Ok"), "'Ok'"},
        {term_atomz(&a, "end"), "'end'"},
        {term_atomz(&a, ""), "''"},
        {term_atomz(&a, "a\nb"), "'a\\nb'"},
        {term_float(&a, 1.0), "1.0"},
        {term_float(&a, 0.1), "0.1"},
        {term_float(&a, 1e-300), "1.0e-300"},
        {term_float(&a, 5e-324), "5.0e-324"},
        {term_int(&a, -42), "-42"},
        {term_stringz(&a, "hi\"x"), "\"hi\\\"x\""},
        {term_binary(&a, "abc", 3), "<<\"abc\">>"},
        {term_bits(&a, (const uint8_t *)"\xa0", 3), "<<5:3>>"},
    };
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&out);
        term_print(&out, cases[i].t);
        ck_assert_str_eq(buf_cstr(&out), cases[i].want);
    }
    buf_free(&out);
    arena_close(&a);
}
END_TEST

Suite *term_print_suite(void)
{
    Suite *s = suite_create("term_print");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, atomic_spellings);
    tcase_add_test(tc, golden_cases);
    tcase_add_test(tc, real_world_files);
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, long_flat_lists);
    tcase_add_test(tc, file_terms);
    suite_add_tcase(s, tc);
    return s;
}
