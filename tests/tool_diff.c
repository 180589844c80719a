/* tool_diff.c - the C side of the differential test: knit's readers, printer and encoder
 * against the facts tests/otp/otp_side.escript wrote from real OTP */
#include "beam.h"
#include "etf.h"
#include "fsutil.h"
#include "kerr.h"
#include "term.h"
#include "term_parse.h"
#include "term_print.h"

#include <openssl/evp.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts for the summary; a "diff" is one field (or term) where knit and OTP disagree. */
struct stats {
    long beams, beams_equal, beam_fields, beam_fields_equal;
    long files, files_equal, both_accept, both_reject, lines_differ;
    long terms, ttb_equal, tp_equal, tw_equal;
    long boots, boots_equal;
    long notes, diffs, shown, max_shown;
};

static struct stats st = {.max_shown = 10};

/* One record of the OTP file: the head line and its "key value" lines up to "end". */
struct record {
    const char *kind; /* "beam", "term" or "boot" */
    const char *path;
    char **keys;
    char **vals;
    size_t n, cap;
};

/* A printable excerpt of LEN bytes around OFF: hex for binary fields, text otherwise. */
static void show_bytes(const char *who, const uint8_t *p, size_t len, size_t off, bool text)
{
    size_t from = off > 24 ? off - 24 : 0;
    size_t to = off + 40 < len ? off + 40 : len;
    printf("    %s (%zu bytes): %s", who, len, from ? "..." : "");
    for (size_t i = from; i < to; i++) {
        if (text)
            putchar(p[i] == '\n' ? '|' : p[i]);
        else
            printf(i == off ? "[%02x]" : "%02x", p[i]);
    }
    printf("%s\n", to < len ? "..." : "");
}

/* report - count a difference; print it while fewer than max_shown were printed. Returns
 * whether it printed (the caller then prints both sides). */
static bool report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool report(const char *fmt, ...)
{
    st.diffs++;
    if (st.shown >= st.max_shown)
        return false;
    st.shown++;
    va_list ap;
    va_start(ap, fmt);
    printf("DIFF ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* unhex - decode the hex digits of S (up to a space or the end) into A; NULL if malformed */
static uint8_t *unhex(struct arena *a, const char *s, size_t *len)
{
    size_t n = strcspn(s, " ");
    if (n % 2)
        return NULL;
    uint8_t *out = arena_alloc(a, n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return NULL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

/* A one-line ~tw rendering of the ETF bytes E (via knit's own decoder), for diagnostics. */
static void show_term_of(const char *who, struct arena *a, const uint8_t *e, size_t n)
{
    const struct term *t = etf_decode(a, "otp", e, n);
    if (!t)
        return;
    struct buf b = BUF_INIT;
    term_write(&b, t);
    printf("    %s as ~tw: %.300s%s\n", who, buf_cstr(&b), b.len > 300 ? "..." : "");
    buf_free(&b);
}

/* cmp_bytes - compare knit's bytes with OTP's for FIELD of PATH; shows where they differ.
 * Returns whether they are equal. */
static bool cmp_bytes(struct arena *a, const char *path, const char *field, const uint8_t *otp,
                      size_t otplen, const uint8_t *knit, size_t knitlen, bool text, bool etf)
{
    size_t i = 0;
    bool shown;
    while (i < otplen && i < knitlen && otp[i] == knit[i])
        i++;
    if (i == otplen && i == knitlen)
        return true;
    if (text) {
        size_t line = 1, col = 1;
        for (size_t k = 0; k < i; k++) {
            col++;
            if (otp[k] == '\n')
                line++, col = 1;
        }
        shown = report("%s: %s: first difference at byte %zu (line %zu, column %zu)", path, field,
                       i, line, col);
    } else {
        shown = report("%s: %s: first difference at byte %zu", path, field, i);
    }
    if (shown) {
        show_bytes("otp ", otp, otplen, i, text);
        show_bytes("knit", knit, knitlen, i, text);
        if (etf) {
            show_term_of("otp ", a, otp, otplen);
            show_term_of("knit", a, knit, knitlen);
        }
    }
    return false;
}

static const char *rec_get(const struct record *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->keys[i], key) == 0)
            return r->vals[i];
    return NULL;
}

/* cmp_etf - etf_encode(T) against the OTP hex HEX */
static bool cmp_etf(struct arena *a, const char *path, const char *field, const char *hex,
                    const struct term *t)
{
    size_t n;
    const uint8_t *otp = hex ? unhex(a, hex, &n) : NULL;
    if (!otp) {
        report("%s: %s: OTP side missing or malformed", path, field);
        return false;
    }
    if (!t) {
        report("%s: %s: knit has no value", path, field);
        return false;
    }
    struct buf b = BUF_INIT;
    etf_encode(&b, t);
    bool eq = cmp_bytes(a, path, field, otp, n, (const uint8_t *)b.p, b.len, false, true);
    buf_free(&b);
    return eq;
}

/* A list of {F,A} (MOD NULL) or {M,F,A} tuples, in the order knit gives them. */
static const struct term *mfa_list(struct arena *a, const struct beam_mfa *v, size_t n,
                                   bool with_mod)
{
    const struct term **el = arena_alloc(a, (n + 1) * sizeof *el);
    for (size_t i = 0; i < n; i++) {
        const struct term *f = term_atomz(a, v[i].fun);
        const struct term *ar = term_int(a, v[i].arity);
        el[i] = with_mod ? term_tuplev(a, 3, term_atomz(a, v[i].mod ? v[i].mod : "?"), f, ar)
                         : term_tuplev(a, 2, f, ar);
    }
    return term_list(a, el, n, term_nil());
}

static void md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    EVP_Digest(data, len, d, &dn, EVP_md5(), NULL);
    for (unsigned i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02X", d[i]);
}

static bool cmp_str(const char *path, const char *field, const char *otp, const char *knit)
{
    if (otp && knit && strcasecmp(otp, knit) == 0)
        return true;
    if (report("%s: %s differs", path, field))
        printf("    otp:  %s\n    knit: %s\n", otp ? otp : "(missing)", knit ? knit : "(none)");
    return false;
}

static void knit_error(const char *path, const char *what)
{
    char msg[4096];
    kerr_format(kerr_get(), msg, sizeof msg);
    if (report("%s: %s", path, what))
        printf("    knit: %s\n", msg);
}

/* fact - count one compared beam fact */
static bool fact(bool eq)
{
    st.beam_fields++;
    st.beam_fields_equal += eq;
    return eq;
}

static void do_beam(struct arena *a, const struct record *r)
{
    struct beam_info bi;
    st.beams++;
    int rc = beam_read_file(a, r->path, &bi);
    const char *err = rec_get(r, "error");
    if (err) {
        if (rc == 0)
            report("%s: OTP cannot read it (%s) but knit can", r->path, err);
        else
            st.beams_equal++;
        return;
    }
    if (rc != 0) {
        knit_error(r->path, "OTP reads it but knit fails");
        return;
    }
    const struct term **beh = arena_alloc(a, (bi.nbehaviours + 1) * sizeof *beh);
    for (size_t i = 0; i < bi.nbehaviours; i++)
        beh[i] = term_atomz(a, bi.behaviours[i]);
    const struct {
        const char *field, *key;
        const struct term *t;
    } terms[] = {
        {"vsn", "vsn", bi.vsn},
        {"exports", "exp", mfa_list(a, bi.exports, bi.nexports, false)},
        {"imports", "imp", mfa_list(a, bi.imports, bi.nimports, true)},
        {"locals", "loc", mfa_list(a, bi.locals, bi.nlocals, false)},
        {"attributes", "att", bi.attributes},
        {"compile_info", "cinf", bi.compile_info},
        {"behaviours", "beh", term_list(a, beh, bi.nbehaviours, term_nil())},
    };
    size_t mlen = strlen(bi.module);
    char *modhex = arena_alloc(a, 2 * mlen + 1);
    for (size_t i = 0; i < mlen; i++)
        sprintf(modhex + 2 * i, "%02X", (unsigned char)bi.module[i]);
    char md5[33], nfuns[32], dbgmd5[33] = "none";
    beam_md5_hex(&bi, md5);
    snprintf(nfuns, sizeof nfuns, "%zu", bi.nfuns);
    if (bi.debug_info) {
        struct buf b = BUF_INIT;
        etf_encode(&b, bi.debug_info);
        md5_hex(b.p, b.len, dbgmd5);
        buf_free(&b);
    }
    bool all = fact(cmp_str(r->path, "module", rec_get(r, "mod"), modhex));
    all &= fact(cmp_str(r->path, "md5", rec_get(r, "md5"), md5));
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++)
        all &= fact(cmp_etf(a, r->path, terms[i].field, rec_get(r, terms[i].key), terms[i].t));
    all &= fact(cmp_str(r->path, "nfuns", rec_get(r, "nfuns"), nfuns));
    all &=
        fact(cmp_str(r->path, "has_debug_info", rec_get(r, "dbg"), bi.has_debug_info ? "1" : "0"));
    all &=
        fact(cmp_str(r->path, "md5 of term_to_binary(debug_info)", rec_get(r, "dbgmd5"), dbgmd5));
    if (all)
        st.beams_equal++;
}

/* The t lines of a term record, in order. */
static void do_terms(struct arena *a, const struct record *r)
{
    st.files++;
    const struct term *ts = term_consult_file(a, r->path);
    const char *err = rec_get(r, "error");
    if (err) {
        if (ts) {
            report("%s: file:consult rejects it (%s) but knit accepts it", r->path, err);
            return;
        }
        st.both_reject++;
        st.files_equal++;
        /* the line OTP names should be the one knit names: reported, not a failure */
        long oline = strtol(err, NULL, 10);
        if (oline && kerr_get()->line != oline) {
            st.lines_differ++;
            char msg[4096];
            kerr_format(kerr_get(), msg, sizeof msg);
            printf("note: %s: error line differs: otp %ld (%s), knit %s\n", r->path, oline,
                   strchr(err, ' ') ? strchr(err, ' ') + 1 : err, msg);
        }
        return;
    }
    if (!ts) {
        knit_error(r->path, "file:consult accepts it but knit rejects it");
        return;
    }
    st.both_accept++;
    size_t nk = 0, no = 0;
    const struct term *const *el = term_list_els(ts, &nk);
    for (size_t i = 0; i < r->n; i++)
        no += strcmp(r->keys[i], "t") == 0;
    if (nk != no) {
        report("%s: file:consult gives %zu terms, knit %zu", r->path, no, nk);
        return;
    }
    bool all = true;
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->keys[i], "t") != 0)
            continue;
        char field[64];
        const char *v = r->vals[i];
        const char *tp = strchr(v, ' ');
        const char *tw = tp ? strchr(tp + 1, ' ') : NULL;
        size_t n1 = 0, n2 = 0;
        const uint8_t *ptp = tp ? unhex(a, tp + 1, &n1) : NULL;
        const uint8_t *ptw = tw ? unhex(a, tw + 1, &n2) : NULL;
        if (!ptp || !ptw) {
            report("%s: term %zu: malformed OTP record", r->path, k + 1);
            return;
        }
        st.terms++;
        snprintf(field, sizeof field, "term %zu term_to_binary", k + 1);
        bool eq = cmp_etf(a, r->path, field, v, el[k]);
        st.ttb_equal += eq;
        all &= eq;
        struct buf b = BUF_INIT;
        term_print(&b, el[k]);
        snprintf(field, sizeof field, "term %zu ~tp", k + 1);
        eq = cmp_bytes(a, r->path, field, ptp, n1, (const uint8_t *)b.p, b.len, true, false);
        st.tp_equal += eq;
        all &= eq;
        buf_reset(&b);
        term_write(&b, el[k]);
        snprintf(field, sizeof field, "term %zu ~tw", k + 1);
        eq = cmp_bytes(a, r->path, field, ptw, n2, (const uint8_t *)b.p, b.len, true, false);
        st.tw_equal += eq;
        all &= eq;
        buf_free(&b);
        k++;
    }
    if (all)
        st.files_equal++;
}

static void do_boot(struct arena *a, const struct record *r)
{
    st.boots++;
    size_t len;
    char *data = fs_read_file(a, r->path, &len);
    if (!data) {
        knit_error(r->path, "cannot read");
        return;
    }
    const struct term *t = etf_decode(a, r->path, (const uint8_t *)data, len);
    if (!t) {
        knit_error(r->path, "binary_to_term accepts it but knit's etf_decode fails");
        return;
    }
    bool all = cmp_etf(a, r->path, "term_to_binary(binary_to_term(Boot))", rec_get(r, "b2t"), t);
    const char *sc = rec_get(r, "script");
    if (!sc) {
        report("%s: OTP found no script for it", r->path);
        return;
    }
    const char *hex = strchr(sc, ' ');
    char *spath = arena_memdup(a, sc, hex ? (size_t)(hex - sc) : strlen(sc));
    const struct term *ts = term_consult_file(a, spath);
    if (!ts || term_list_len(ts) != 1) {
        knit_error(spath, "knit cannot consult the script as one term");
        return;
    }
    const struct term *s = term_list_els(ts, &len)[0];
    all &= cmp_etf(a, spath, "term_to_binary(script term)", hex ? hex + 1 : NULL, s);
    if (!term_equal(t, s)) {
        all = false;
        report("%s: decodes to a term not equal to %s's term", r->path, spath);
    }
    if (all)
        st.boots_equal++;
}

struct job {
    char *text; /* the OTP file, split in place */
    size_t len;
    int rc; /* 2 when the OTP file is malformed */
};

/* run - split the OTP file into records and compare each (on a big stack: deep terms) */
static int run(void *p)
{
    struct job *j = p;
    struct arena a;
    struct record r = {0};
    arena_init(&a);
    char *s = j->text, *end = j->text + j->len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            nl = end;
        *nl = 0;
        char *line = s;
        s = nl + 1;
        if (!r.kind) {
            char *sp = strchr(line, ' ');
            if (!sp) {
                fprintf(stderr, "tool_diff: malformed record head '%.80s'\n", line);
                j->rc = 2;
                break;
            }
            *sp = 0;
            r.kind = line;
            r.path = sp + 1;
            r.n = 0;
            continue;
        }
        if (strcmp(line, "end") != 0) {
            if (r.n == r.cap) {
                r.cap = r.cap ? 2 * r.cap : 64;
                r.keys = xrealloc(r.keys, r.cap * sizeof *r.keys);
                r.vals = xrealloc(r.vals, r.cap * sizeof *r.vals);
            }
            char *sp = strchr(line, ' ');
            if (sp)
                *sp = 0;
            r.keys[r.n] = line;
            r.vals[r.n++] = sp ? sp + 1 : line + strlen(line);
            if (strcmp(line, "note") == 0) {
                st.notes++;
                printf("note: %s: %s\n", r.path, r.vals[r.n - 1]);
            }
            continue;
        }
        kerr_clear();
        if (strcmp(r.kind, "beam") == 0)
            do_beam(&a, &r);
        else if (strcmp(r.kind, "term") == 0)
            do_terms(&a, &r);
        else if (strcmp(r.kind, "boot") == 0)
            do_boot(&a, &r);
        r.kind = NULL;
        arena_reset(&a);
    }
    if (r.kind && !j->rc) {
        fprintf(stderr, "tool_diff: record for '%s' has no end (OTP side cut short?)\n", r.path);
        j->rc = 2;
    }
    free(r.keys);
    free(r.vals);
    arena_close(&a);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tool_diff OTP-FILE [MAX-DIFFS-SHOWN]\n");
        return 2;
    }
    if (argc > 2)
        st.max_shown = atol(argv[2]);
    struct arena a;
    arena_init(&a);
    struct job j = {0};
    j.text = fs_read_file(&a, argv[1], &j.len);
    if (!j.text) {
        fprintf(stderr, "tool_diff: cannot read %s\n", argv[1]);
        return 2;
    }
    knit_run_big_stack(run, &j);
    printf("beams: %ld compared, %ld equal in every fact (%ld facts compared, %ld equal)\n",
           st.beams, st.beams_equal, st.beam_fields, st.beam_fields_equal);
    printf("term files: %ld compared, %ld equal (%ld accepted by both, %ld rejected by both, "
           "%ld with a different error line)\n",
           st.files, st.files_equal, st.both_accept, st.both_reject, st.lines_differ);
    printf("terms: %ld compared: term_to_binary %ld equal, ~tp %ld equal, ~tw %ld equal\n",
           st.terms, st.ttb_equal, st.tp_equal, st.tw_equal);
    printf("boot files: %ld compared, %ld equal\n", st.boots, st.boots_equal);
    printf("notes: %ld; differences: %ld\n", st.notes, st.diffs);
    arena_close(&a);
    if (j.rc)
        return j.rc;
    return st.diffs == 0 && st.beams + st.files + st.boots > 0 ? 0 : 1;
}
