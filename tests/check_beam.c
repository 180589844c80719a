/* check_beam.c - the beam reader against OTP's beam_lib on fixture beams, and on broken ones */
#define SUITE_FN beam_suite
#include "check_main.h"

#include "beam.h"
#include "buf.h"
#include "etf.h"
#include "fsutil.h"
#include "kerr.h"
#include "term_print.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURES "tests/fixtures/beam"
static const char *fixture_names[] = {"knit_fx_server", "knit_fx_sup", "knit_fx_plain",
                                      "knit_fx_latin"};
#define NFIXTURES (sizeof fixture_names / sizeof fixture_names[0])

static char workdir[] = "/tmp/knit-check-beam.XXXXXX";
static char *oracle; /* tests/otp/beam_terms.escript output for every beam */
static size_t oracle_len;

/* ---- a beam image as a list of chunks, to take apart and put back together ---- */

struct img {
    size_t n;
    char id[32][5];
    uint8_t *data[32];
    size_t len[32];
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void img_parse(struct img *im, const uint8_t *p, size_t len)
{
    memset(im, 0, sizeof *im);
    ck_assert_msg(len >= 12 && memcmp(p, "FOR1", 4) == 0, "fixture is not a plain beam");
    size_t pos = 12;
    while (pos + 8 <= len) {
        size_t sz = be32(p + pos + 4);
        ck_assert_int_lt(im->n, 32);
        memcpy(im->id[im->n], p + pos, 4);
        im->data[im->n] = malloc(sz + 1);
        memcpy(im->data[im->n], p + pos + 8, sz);
        im->len[im->n] = sz;
        im->n++;
        pos += 8 + ((sz + 3) & ~(size_t)3);
    }
}

static int img_find(const struct img *im, const char *id)
{
    for (size_t i = 0; i < im->n; i++)
        if (memcmp(im->id[i], id, 4) == 0)
            return (int)i;
    return -1;
}

static void img_set(struct img *im, int i, const void *data, size_t len)
{
    free(im->data[i]);
    im->data[i] = malloc(len + 1);
    memcpy(im->data[i], data, len);
    im->len[i] = len;
}

static uint8_t *img_build(const struct img *im, size_t *len)
{
    size_t total = 12;
    for (size_t i = 0; i < im->n; i++)
        total += 8 + ((im->len[i] + 3) & ~(size_t)3);
    uint8_t *out = calloc(1, total);
    memcpy(out, "FOR1", 4);
    put32(out + 4, (uint32_t)(total - 8));
    memcpy(out + 8, "BEAM", 4);
    size_t pos = 12;
    for (size_t i = 0; i < im->n; i++) {
        memcpy(out + pos, im->id[i], 4);
        put32(out + pos + 4, (uint32_t)im->len[i]);
        memcpy(out + pos + 8, im->data[i], im->len[i]);
        pos += 8 + ((im->len[i] + 3) & ~(size_t)3);
    }
    *len = total;
    return out;
}

static void img_free(struct img *im)
{
    for (size_t i = 0; i < im->n; i++)
        free(im->data[i]);
}

/* ---- fixtures compiled by erlc, and what OTP says about them ---- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    struct buf b = BUF_INIT;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(&b, tmp, n);
    fclose(f);
    *len = b.len;
    if (!b.p)
        buf_addc(&b, 0);
    return b.p;
}

static void write_all(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void run(const char *cmd)
{
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
}

static const char *beam_path(const char *variant, const char *mod)
{
    static _Thread_local char path[4][512];
    static _Thread_local int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s/%s.beam", workdir, variant, mod);
    return path[k];
}

/* the "Atom" (latin-1) version of knit_fx_latin: beam_lib reads it, so OTP is its oracle */
static void make_latin1_variant(void)
{
    size_t len;
    char *src = read_all(beam_path("d", "knit_fx_latin"), &len);
    struct img im;
    img_parse(&im, (const uint8_t *)src, len);
    int i = img_find(&im, "AtU8");
    ck_assert_int_ge(i, 0);
    struct buf b = BUF_INIT;
    buf_add(&b, im.data[i], 4);
    for (size_t pos = 4; pos < im.len[i];) {
        size_t n = im.data[i][pos++];
        char lat[256];
        size_t o = 0;
        for (size_t j = 0; j < n; j++) {
            uint8_t c = im.data[i][pos + j];
            if (c >= 0xc0) /* all of this fixture's atoms are latin-1: two-byte sequences */
                lat[o++] = (char)(((c & 0x1f) << 6) | (im.data[i][pos + ++j] & 0x3f));
            else
                lat[o++] = (char)c;
        }
        buf_addc(&b, (char)o);
        buf_add(&b, lat, o);
        pos += n;
    }
    img_set(&im, i, b.p, b.len);
    memcpy(im.id[i], "Atom", 4);
    size_t outlen;
    uint8_t *out = img_build(&im, &outlen);
    write_all(beam_path("l", "knit_fx_latin"), out, outlen);
    free(out);
    buf_free(&b);
    img_free(&im);
    free(src);
}

static void setup(void)
{
    char cmd[PATH_MAX + 2048];
    ck_assert_msg(mkdtemp(workdir) != NULL, "mkdtemp failed");
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/d %s/n %s/z %s/l && erlc +debug_info -o %s/d " FIXTURES "/*.erl && "
             "erlc -o %s/n " FIXTURES "/*.erl && "
             "erlc +compressed +debug_info -o %s/z " FIXTURES "/*.erl",
             workdir, workdir, workdir, workdir, workdir, workdir, workdir);
    run(cmd);
    /* compiled without debug info from a long, repetitive cwd: the {none, [{cwd, ...}]}
     * Dbgi term is big enough for term_to_binary to store it compressed */
    char fx[PATH_MAX];
    ck_assert_msg(realpath(FIXTURES "/knit_fx_latin.erl", fx) != NULL, "no fixture");
    snprintf(cmd, sizeof cmd, "d=%s/c/%0200d/%0200d && mkdir -p $d && cd $d && erlc -o %s/c %s",
             workdir, 0, 0, workdir, fx);
    run(cmd);
    make_latin1_variant();
    snprintf(cmd, sizeof cmd,
             "tests/otp/beam_terms.escript %s/d/*.beam %s/n/*.beam %s/z/*.beam %s/l/*.beam "
             "%s/c/*.beam > %s/oracle.txt",
             workdir, workdir, workdir, workdir, workdir, workdir);
    run(cmd);
    char path[600];
    snprintf(path, sizeof path, "%s/oracle.txt", workdir);
    oracle = read_all(path, &oracle_len);
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", workdir);
    free(oracle);
}

/* oracle_get - OTP's text for KEY of the beam at PATH */
static char *oracle_get(const char *path, const char *key)
{
    size_t pl = strlen(path), kl = strlen(key);
    const char *p = oracle;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > pl + kl + 2 && memcmp(p, path, pl) == 0 && p[pl] == '\t' &&
            memcmp(p + pl + 1, key, kl) == 0 && p[pl + 1 + kl] == '\t')
            return strndup(p + pl + kl + 2, ll - pl - kl - 2);
        p = eol ? eol + 1 : NULL;
    }
    ck_abort_msg("no %s for %s from beam_terms.escript", key, path);
    return NULL;
}

static char *write_term(const struct term *t)
{
    struct buf b = BUF_INIT;
    term_write(&b, t);
    char *s = strdup(buf_cstr(&b));
    buf_free(&b);
    return s;
}

/* mfas_text - the MFAs as ~tw writes beam_lib's list of {F,A} or {M,F,A} */
static char *mfas_text(struct arena *a, const struct beam_mfa *m, size_t n)
{
    const struct term **el = arena_alloc(a, (n + 1) * sizeof *el);
    for (size_t i = 0; i < n; i++) {
        const struct term *f = term_atomz(a, m[i].fun), *ar = term_int(a, m[i].arity);
        el[i] =
            m[i].mod ? term_tuplev(a, 3, term_atomz(a, m[i].mod), f, ar) : term_tuplev(a, 2, f, ar);
    }
    return write_term(term_list(a, el, n, term_nil()));
}

static void check_eq(const char *what, const char *path, char *want, char *got)
{
    ck_assert_msg(strcmp(want, got) == 0, "%s of %s: OTP says\n  %s\nknit says\n  %s", what, path,
                  want, got);
    free(want);
    free(got);
}

static void check_against_otp(const char *path, bool full)
{
    struct arena a;
    arena_init(&a);
    struct beam_info b;
    size_t len;
    char *data = read_all(path, &len);
    int rc = full ? beam_read_buf(&a, path, (const uint8_t *)data, len, &b)
                  : beam_read_facts(&a, path, (const uint8_t *)data, len, &b);
    ck_assert_msg(rc == 0, "reading %s failed: %s", path, kerr_get()->msg);
    char hex[33];
    beam_md5_hex(&b, hex);
    check_eq("module", path, oracle_get(path, "module"), write_term(term_atomz(&a, b.module)));
    check_eq("md5", path, oracle_get(path, "md5"), strdup(hex));
    check_eq("attributes", path, oracle_get(path, "attributes"), write_term(b.attributes));
    check_eq("compile_info", path, oracle_get(path, "compile_info"), write_term(b.compile_info));
    check_eq("vsn", path, oracle_get(path, "vsn"), write_term(b.vsn));
    check_eq("exports", path, oracle_get(path, "exports"), mfas_text(&a, b.exports, b.nexports));
    check_eq("imports", path, oracle_get(path, "imports"), mfas_text(&a, b.imports, b.nimports));
    check_eq("locals", path, oracle_get(path, "locals"), mfas_text(&a, b.locals, b.nlocals));
    char nf[32];
    snprintf(nf, sizeof nf, "%zu", b.nfuns);
    check_eq("nfuns", path, oracle_get(path, "nfuns"), strdup(nf));
    bool nodebug = strstr(path, "/n/") != NULL || strstr(path, "/c/") != NULL;
    ck_assert_msg(b.has_debug_info == !nodebug, "%s: has_debug_info is %d", path, b.has_debug_info);
    if (full && !nodebug) {
        ck_assert_ptr_nonnull(b.debug_info);
        check_eq("debug_info", path, oracle_get(path, "debug_info"), write_term(b.debug_info));
    } else {
        ck_assert_msg(b.debug_info == NULL, "%s: debug_info should be NULL", path);
    }
    free(data);
    arena_close(&a);
}

START_TEST(test_fixtures_equal_beam_lib)
{
    static const char *variants[] = {"d", "n", "z"};
    for (size_t v = 0; v < 3; v++)
        for (size_t i = 0; i < NFIXTURES; i++) {
            check_against_otp(beam_path(variants[v], fixture_names[i]), true);
            check_against_otp(beam_path(variants[v], fixture_names[i]), false);
        }
}
END_TEST

START_TEST(test_latin1_atom_chunk)
{
    const char *path = beam_path("l", "knit_fx_latin");
    check_against_otp(path, false);
    struct arena a;
    arena_init(&a);
    struct beam_info b;
    ck_assert_int_eq(beam_read_file(&a, path, &b), 0);
    ck_assert_str_eq(b.exports[0].fun, "caf\xc3\xa9");
    arena_close(&a);
}
END_TEST

START_TEST(test_compressed_dbgi_without_debug_info)
{
    const char *path = beam_path("c", "knit_fx_latin");
    size_t len;
    char *src = read_all(path, &len);
    struct img im;
    img_parse(&im, (const uint8_t *)src, len);
    int i = img_find(&im, "Dbgi");
    ck_assert_msg(i >= 0 && im.len[i] > 2 && im.data[i][0] == 131 && im.data[i][1] == 80,
                  "the fixture's Dbgi chunk is not a compressed term");
    check_against_otp(path, true);
    img_free(&im);
    free(src);
}
END_TEST

START_TEST(test_behaviours_and_vsn)
{
    struct arena a;
    arena_init(&a);
    struct beam_info b;
    ck_assert_int_eq(beam_read_file(&a, beam_path("d", "knit_fx_sup"), &b), 0);
    ck_assert_uint_eq(b.nbehaviours, 2);
    ck_assert_str_eq(b.behaviours[0], "supervisor");
    ck_assert_str_eq(b.behaviours[1], "application");
    ck_assert_int_eq(beam_read_file(&a, beam_path("z", "knit_fx_server"), &b), 0);
    ck_assert_uint_eq(b.nbehaviours, 1);
    ck_assert_str_eq(b.behaviours[0], "gen_server");
    char *vsn = write_term(b.vsn);
    ck_assert_str_eq(vsn, "[49,46,50,46,51]");
    free(vsn);
    arena_close(&a);
}
END_TEST

/* expect_error - DATA must be rejected with an input error naming NAME and containing WANT */
static void expect_error(const uint8_t *data, size_t len, const char *want)
{
    struct arena a;
    arena_init(&a);
    struct beam_info b;
    kerr_clear();
    int rc = beam_read_buf(&a, "broken.beam", data, len, &b);
    const struct kerr *e = kerr_get();
    ck_assert_msg(rc == -1, "expected an error containing \"%s\", got success", want);
    ck_assert_int_eq(e->cls, KERR_INPUT);
    ck_assert_str_eq(e->file, "broken.beam");
    ck_assert_msg(strstr(e->msg, want) != NULL, "error \"%s\" lacks \"%s\"", e->msg, want);
    arena_close(&a);
}

static struct img fixture_img(const char *variant, const char *mod)
{
    size_t len;
    char *src = read_all(beam_path(variant, mod), &len);
    struct img im;
    img_parse(&im, (const uint8_t *)src, len);
    free(src);
    return im;
}

static void expect_img_error(const struct img *im, const char *want)
{
    size_t len;
    uint8_t *data = img_build(im, &len);
    expect_error(data, len, want);
    free(data);
}

START_TEST(test_wrong_magic)
{
    expect_error((const uint8_t *)"", 0, "not a beam file");
    expect_error((const uint8_t *)"FOR1\0\0\0\4BEAX", 12, "not a beam file");
    expect_error((const uint8_t *)"FOR2\0\0\0\4BEAM", 12, "not a beam file");
    expect_error((const uint8_t *)"{application, x, []}.\n", 22, "not a beam file");
    ck_assert(!beam_is_beam((const uint8_t *)"FOR1\0\0\0\4BEA", 11));
    ck_assert(beam_is_beam((const uint8_t *)"FOR1\0\0\0\4BEAM", 12));
    ck_assert(beam_is_beam((const uint8_t *)"\x1f\x8b", 2));
    /* only the header: no atom table */
    expect_error((const uint8_t *)"FOR1\0\0\0\4BEAM", 12, "missing atom table");
}
END_TEST

START_TEST(test_truncated_everywhere)
{
    size_t len;
    const char *path = beam_path("d", "knit_fx_server");
    uint8_t *data = (uint8_t *)read_all(path, &len);
    /* offsets where every chunk before is whole: there, a shorter beam may still be valid */
    bool *whole = calloc(len + 1, 1);
    for (size_t pos = 12; pos + 8 <= len;) {
        size_t sz = be32(data + pos + 4), end = pos + 8 + sz;
        size_t padded = pos + 8 + ((sz + 3) & ~(size_t)3);
        for (size_t o = end; o <= padded && o <= len; o++)
            whole[o] = true;
        pos = padded;
    }
    size_t failed = 0;
    for (size_t cut = 0; cut < len; cut++) {
        struct arena a;
        arena_init(&a);
        struct beam_info b;
        kerr_clear();
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees any overread */
        memcpy(copy, data, cut);
        int rc = beam_read_buf(&a, "cut.beam", copy, cut, &b);
        if (rc == 0) {
            ck_assert_msg(whole[cut], "a beam cut at byte %zu of %zu was accepted", cut, len);
            ck_assert_str_eq(b.module, "knit_fx_server");
        } else {
            ck_assert_str_eq(kerr_get()->file, "cut.beam");
            ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
            failed++;
        }
        free(copy);
        arena_close(&a);
    }
    ck_assert_uint_gt(failed, len * 9 / 10);
    free(whole);
    free(data);
}
END_TEST

START_TEST(test_chunk_size_past_end)
{
    size_t len;
    uint8_t *data = (uint8_t *)read_all(beam_path("d", "knit_fx_plain"), &len);
    /* the second chunk (Code, after AtU8) claims far more than the file holds */
    size_t pos = 12 + 8 + ((be32(data + 16) + 3) & ~(size_t)3);
    ck_assert(memcmp(data + pos, "Code", 4) == 0);
    put32(data + pos + 4, 0x7ffffff0u);
    expect_error(data, len, "chunk 'Code'");
    put32(data + pos + 4, 0xffffffffu);
    expect_error(data, len, "only");
    free(data);
}
END_TEST

START_TEST(test_atom_index_out_of_range)
{
    struct img im = fixture_img("d", "knit_fx_server");
    int at = img_find(&im, "AtU8"), imp = img_find(&im, "ImpT"), exp = img_find(&im, "ExpT");
    ck_assert(at >= 0 && imp >= 0 && exp >= 0);
    size_t natoms = 0;
    for (size_t pos = 4; pos < im.len[at]; pos += 1 + im.data[at][pos])
        natoms++;
    uint8_t save[4];
    memcpy(save, im.data[imp] + 4, 4);
    put32(im.data[imp] + 4, (uint32_t)natoms + 1);
    expect_img_error(&im, "atom index");
    expect_img_error(&im, "'ImpT'");
    put32(im.data[imp] + 4, 0);
    expect_img_error(&im, "atom index 0 out of range");
    memcpy(im.data[imp] + 4, save, 4);
    put32(im.data[exp] + 4, 0xffffffffu);
    expect_img_error(&im, "'ExpT'");
    img_free(&im);
}
END_TEST

START_TEST(test_missing_chunks)
{
    struct img im = fixture_img("d", "knit_fx_server");
    int at = img_find(&im, "AtU8");
    memcpy(im.id[at], "XtU8", 4);
    expect_img_error(&im, "missing atom table");
    memcpy(im.id[at], "AtU8", 4);
    int code = img_find(&im, "Code");
    memcpy(im.id[code], "Cxde", 4);
    expect_img_error(&im, "missing chunk 'Code'");
    memcpy(im.id[code], "Code", 4);
    /* a beam without Attr (what beam_lib:strip leaves) has no attributes */
    int attr = img_find(&im, "Attr");
    memcpy(im.id[attr], "Xttr", 4);
    size_t len;
    uint8_t *data = img_build(&im, &len);
    struct arena a;
    arena_init(&a);
    struct beam_info b;
    ck_assert_int_eq(beam_read_buf(&a, "x.beam", data, len, &b), 0);
    ck_assert_int_eq(b.attributes->type, TERM_NIL);
    ck_assert_int_eq(b.vsn->type, TERM_NIL);
    ck_assert_uint_eq(b.nbehaviours, 0);
    arena_close(&a);
    free(data);
    img_free(&im);
}
END_TEST

START_TEST(test_malformed_chunks)
{
    struct img im = fixture_img("d", "knit_fx_server");
    int attr = img_find(&im, "Attr"), imp = img_find(&im, "ImpT"), funt = img_find(&im, "FunT");
    int at = img_find(&im, "AtU8");
    im.data[attr][0] = 99; /* not the ETF version byte */
    expect_img_error(&im, "malformed chunk 'Attr'");
    im.data[attr][0] = 131;
    im.len[imp] -= 1;
    expect_img_error(&im, "malformed chunk 'ImpT'");
    im.len[imp] += 1;
    put32(im.data[funt], 1000);
    expect_img_error(&im, "malformed chunk 'FunT'");
    put32(im.data[funt], 1);
    im.data[at][4] = 200; /* the module name's length runs past the chunk */
    expect_img_error(&im, "malformed chunk 'AtU8'");
    im.data[at][4] = 2;
    im.data[at][5] = 0xc3; /* a broken UTF-8 sequence */
    im.data[at][6] = 0x28;
    expect_img_error(&im, "not valid UTF-8");
    img_free(&im);
}
END_TEST

START_TEST(test_bad_gzip)
{
    size_t len;
    uint8_t *data = (uint8_t *)read_all(beam_path("z", "knit_fx_server"), &len);
    ck_assert(data[0] == 0x1f && data[1] == 0x8b);
    expect_error(data, len / 2, "gzip");
    for (size_t i = 20; i < len - 8; i++)
        data[i] ^= 0x5a;
    expect_error(data, len, "gzip");
    free(data);
    expect_error((const uint8_t *)"\x1f\x8b", 2, "gzip");
}
END_TEST

/* the AtU8 of OTP 26 and later: a negative count, then lengths in the compact encoding */
START_TEST(test_compact_atom_lengths)
{
    struct img im = fixture_img("d", "knit_fx_plain");
    int at = img_find(&im, "AtU8");
    struct buf b = BUF_INIT;
    uint32_t count = be32(im.data[at]);
    uint8_t hdr[4];
    put32(hdr, (uint32_t) - (int32_t)count);
    buf_add(&b, hdr, 4);
    bool saw_long = false;
    for (size_t pos = 4; pos < im.len[at];) {
        size_t n = im.data[at][pos++];
        if (n < 16) {
            buf_addc(&b, (char)(n << 4));
        } else {
            buf_addc(&b, (char)(((n >> 3) & 0xe0) | 0x08));
            buf_addc(&b, (char)(n & 0xff));
            saw_long = true;
        }
        buf_add(&b, im.data[at] + pos, n);
        pos += n;
    }
    ck_assert(saw_long);
    img_set(&im, at, b.p, b.len);
    size_t len;
    uint8_t *data = img_build(&im, &len);
    struct arena a;
    arena_init(&a);
    struct beam_info x, y;
    ck_assert_int_eq(beam_read_buf(&a, "compact.beam", data, len, &x), 0);
    ck_assert_int_eq(beam_read_file(&a, beam_path("d", "knit_fx_plain"), &y), 0);
    ck_assert_str_eq(x.module, y.module);
    ck_assert_uint_eq(x.nexports, y.nexports);
    for (size_t i = 0; i < x.nexports; i++) {
        ck_assert_str_eq(x.exports[i].fun, y.exports[i].fun);
        ck_assert_uint_eq(x.exports[i].arity, y.exports[i].arity);
    }
    ck_assert_str_eq(x.exports[0].fun, "a_function_with_a_rather_long_name_for_compact_lengths");
    arena_close(&a);
    free(data);
    buf_free(&b);
    img_free(&im);
}
END_TEST

/* an Attr chunk of [{deep, [[[...]]]}] nested DEPTH lists deep */
static void deep_attr(struct buf *b, size_t depth)
{
    static const uint8_t head[] = {131, 108, 0, 0, 0, 1, 104, 2, 100, 0, 4, 'd', 'e', 'e', 'p'};
    static const uint8_t cons[] = {108, 0, 0, 0, 1};
    buf_add(b, head, sizeof head);
    for (size_t i = 0; i < depth; i++)
        buf_add(b, cons, sizeof cons);
    buf_addc(b, 106);
    for (size_t i = 0; i < depth; i++)
        buf_addc(b, 106);
    buf_addc(b, 106);
}

struct deep_job {
    uint8_t *data;
    size_t len;
    struct beam_info b;
    struct arena a;
    struct kerr err;
};

/* deep_read - runs on the big stack's thread: its error is carried back in the job */
static int deep_read(void *p)
{
    struct deep_job *j = p;
    int rc = beam_read_buf(&j->a, "deep.beam", j->data, j->len, &j->b);
    kerr_copy(&j->err);
    return rc;
}

START_TEST(test_deep_attribute)
{
    struct img im = fixture_img("n", "knit_fx_plain");
    int attr = img_find(&im, "Attr");
    static const size_t depths[] = {10000, TERM_MAX_DEPTH * 2};
    for (size_t k = 0; k < 2; k++) {
        struct buf b = BUF_INIT;
        deep_attr(&b, depths[k]);
        img_set(&im, attr, b.p, b.len);
        buf_free(&b);
        struct deep_job j;
        arena_init(&j.a);
        j.data = img_build(&im, &j.len);
        kerr_clear();
        int rc = knit_run_big_stack(deep_read, &j);
        kerr_restore(&j.err);
        if (k == 0) {
            ck_assert_msg(rc == 0, "10000-deep attribute rejected: %s", kerr_get()->msg);
            const struct term *v = j.b.attributes->u.list.el[0]->u.tuple.el[1];
            size_t d = 0;
            while (v->type == TERM_LIST) {
                v = v->u.list.el[0];
                d++;
            }
            ck_assert_uint_eq(d, depths[k]);
        } else {
            ck_assert_int_eq(rc, -1);
            ck_assert_msg(strstr(kerr_get()->msg, "'Attr'") != NULL, "error \"%s\"",
                          kerr_get()->msg);
        }
        free(j.data);
        arena_close(&j.a);
    }
    img_free(&im);
}
END_TEST

START_TEST(test_read_file_errors)
{
    struct arena a;
    arena_init(&a);
    struct beam_info b;
    ck_assert_int_eq(beam_read_file(&a, "/nonexistent/x.beam", &b), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_IO);
    ck_assert_str_eq(kerr_get()->file, "/nonexistent/x.beam");
    arena_close(&a);
}
END_TEST

Suite *beam_suite(void)
{
    Suite *s = suite_create("beam");
    TCase *tc = tcase_create("beam");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fixtures_equal_beam_lib);
    tcase_add_test(tc, test_latin1_atom_chunk);
    tcase_add_test(tc, test_compressed_dbgi_without_debug_info);
    tcase_add_test(tc, test_behaviours_and_vsn);
    tcase_add_test(tc, test_wrong_magic);
    tcase_add_test(tc, test_truncated_everywhere);
    tcase_add_test(tc, test_chunk_size_past_end);
    tcase_add_test(tc, test_atom_index_out_of_range);
    tcase_add_test(tc, test_missing_chunks);
    tcase_add_test(tc, test_malformed_chunks);
    tcase_add_test(tc, test_bad_gzip);
    tcase_add_test(tc, test_compact_atom_lengths);
    tcase_add_test(tc, test_deep_attribute);
    tcase_add_test(tc, test_read_file_errors);
    suite_add_tcase(s, tc);
    return s;
}
