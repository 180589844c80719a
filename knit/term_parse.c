/* term_parse.c - Erlang term text reader: file:consult/1 as OTP's epp, erl_scan and
 * erl_parse:parse_term/1 (with its normalise/1 and eval_bits) read terms */
#include "term_parse.h"

#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "utf8.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CP_EOF 0xFFFFFFFFu
#define MAX_ATOM_CHARS 255
#define MAX_SEGMENT_BITS ((size_t)1 << 31)
/* Integers of at most 32,768 bits (9,864 decimal digits; an RSA-8192 modulus has 2,467):
 * reading one costs time quadratic in its digits, so a file cannot make knit work for
 * minutes on one number. */
#define MAX_INT_BITS 32768
/* The bytes of binaries a text may produce: 64 KiB plus 16 per byte of text, so that
 * <<1:2000000000>>. (19 bytes) cannot allocate 250 MB. Every other term costs memory in
 * proportion to the text that writes it. */
#define BIN_BYTES_FREE ((size_t)64 << 10)
#define BIN_BYTES_PER_BYTE 16

enum tok_kind { TK_EOF, TK_DOT, TK_ATOM, TK_VAR, TK_KEYWORD, TK_NUM, TK_STRING, TK_PUNCT };

struct token {
    enum tok_kind kind;
    uint32_t line, col;
    uint32_t pline, pcol;   /* where the token before it ended (started, if on another line) */
    size_t start, end;      /* code point offsets of the token's source text */
    const struct term *num; /* TK_NUM: its value */
    bool is_char;           /* TK_NUM written as $c */
    char punct[4];          /* TK_PUNCT: the ASCII symbol ("" for a latin-1 one) */
};

struct parser {
    struct arena *a;
    const char *name;
    bool consult;   /* "end of file" (consult) or "end of input" (one term) */
    bool scan_only; /* checking a form for scan errors: make no terms */
    uint32_t *cp;   /* the text decoded to code points */
    size_t n;
    size_t pos; /* scan position */
    uint32_t line, col;
    struct token tok; /* the current token */
    uint32_t *sv;     /* TK_STRING/TK_ATOM/TK_VAR/TK_KEYWORD code points */
    size_t sn, scap;
    uint32_t *acc; /* adjacent strings being joined */
    size_t an, acap;
    const struct term **stk; /* elements of the containers being read */
    size_t top, stkcap;
    struct buf tmp; /* digits of a number, UTF-8 of a name */
    size_t depth;
    size_t bin_left; /* bits of binaries this text may still produce */
    bool bad; /* the form parses but is no term: the first reason, reported at its end */
    uint32_t bad_line, bad_col;
    char bad_msg[1024];
};

static int perr(struct parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int perr(struct parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kerr_set(KERR_INPUT, p->name, (int)line, (int)col, "%s", msg);
}

static void bad(struct parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* bad - note that the form being read is no term (normalise/1 fails on it) and read on: OTP
 * parses the whole form before it normalises, so a syntax error later in it wins */
static void bad(struct parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (p->bad)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->bad_msg, sizeof p->bad_msg, fmt, ap);
    va_end(ap);
    p->bad = true;
    p->bad_line = line;
    p->bad_col = col;
}

/* ---- characters ---- */

static bool is_white(uint32_t c)
{
    return c <= ' ' || (c >= 0x80 && c <= 0xA0);
}

/* ?UNICODE in erl_scan: what strings, quoted atoms and comments may hold */
static bool is_unicode(uint32_t c)
{
    return c < 0xD800 || (c > 0xDFFF && c < 0xFFFE) || (c > 0xFFFF && c <= 0x10FFFF);
}

static bool is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           c == '@' || (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7);
}

static unsigned digit_value(uint32_t c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/* ---- input decoding ---- */

/* coding_latin1 - whether epp:set_encoding/1 finds a latin-1 coding comment: a '%' comment
 * on one of the first two lines, within the first 512 bytes, holding "coding" then optional
 * spaces, ':' or '=', optional spaces and a name whose '-'-separated parts start latin, 1 */
static bool coding_latin1(const char *t, size_t len)
{
    size_t lim = len < 512 ? len : 512, i = 0;
    bool eof = len <= 480; /* epp reads 16 chunks of 32 bytes: EOF seen in the 16th */
    int nl = 0;
    for (;;) { /* com: looking for '%' */
        for (;;) {
            if (i == lim)
                return false;
            char c = t[i++];
            if (c == '\n' && ++nl == 2)
                return false;
            if (c == '%')
                break;
        }
    com_c: /* in a comment: looking for "coding" */
        for (;;) {
            if (i == lim)
                return false;
            char c = t[i++];
            if (c == '\n') {
                if (++nl == 2)
                    return false;
                break;
            }
            if (c != 'c')
                continue;
            if (lim - i < 5)
                return false;
            if (memcmp(t + i, "oding", 5) != 0)
                continue;
            i += 5;
            while (i < lim && t[i] == ' ')
                i++;
            if (i == lim)
                return false;
            if (t[i] != ':' && t[i] != '=')
                goto com_c;
            i++;
            while (i < lim && t[i] == ' ')
                i++;
            if (i == lim)
                return false;
            char parts[2][8];
            size_t np = 0, pl = 0;
            bool over = false;
            parts[0][0] = parts[1][0] = 0;
            for (;; i++) {
                if (i == lim) {
                    if (!eof)
                        return false; /* epp stops reading after 512 bytes */
                    break;
                }
                char e = t[i];
                if (e == '-') {
                    np++, pl = 0;
                    continue;
                }
                if (!((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')))
                    break;
                if (np < 2) {
                    if (pl < 7) {
                        parts[np][pl++] = (char)(e >= 'A' && e <= 'Z' ? e - 'A' + 'a' : e);
                        parts[np][pl] = 0;
                    } else {
                        over = true;
                    }
                }
            }
            return np >= 1 && !over && strcmp(parts[0], "latin") == 0 && strcmp(parts[1], "1") == 0;
        }
    }
}

bool term_parse_latin1(const char *text, size_t len)
{
    return coding_latin1(text, len);
}

/* decode - TEXT into p->cp: latin-1 bytes, or strict UTF-8 (as unicode:characters_to_list,
 * which the file io server applies, rejects overlong forms, surrogates and > U+10FFFF) */
static int decode(struct parser *p, const char *text, size_t len, bool latin1)
{
    const unsigned char *s = (const unsigned char *)text;
    p->bin_left = len > (MAX_SEGMENT_BITS / 8 - BIN_BYTES_FREE) / BIN_BYTES_PER_BYTE
                      ? MAX_SEGMENT_BITS
                      : (BIN_BYTES_FREE + len * BIN_BYTES_PER_BYTE) * 8;
    p->cp = xmalloc((len ? len : 1) * sizeof *p->cp);
    size_t n = 0;
    uint32_t line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        uint32_t c = s[i];
        size_t k = 1;
        if (c >= 0x80 && !latin1) {
            c = utf8_decode(s + i, len - i, &k);
            if (k == 0)
                return perr(p, line, col,
                            "invalid UTF-8 byte 0x%02X (a latin-1 file needs a "
                            "'%%%% coding: latin-1' comment on its first line)",
                            s[i]);
        }
        p->cp[n++] = c;
        i += k;
        if (c == '\n')
            line++, col = 1;
        else
            col++;
    }
    p->n = n;
    return 0;
}

/* ---- scanner (erl_scan) ---- */

static uint32_t peek(const struct parser *p, size_t k)
{
    return p->pos + k < p->n ? p->cp[p->pos + k] : CP_EOF;
}

static void adv(struct parser *p)
{
    if (p->cp[p->pos++] == '\n')
        p->line++, p->col = 1;
    else
        p->col++;
}

static void sv_push(struct parser *p, uint32_t c)
{
    if (p->sn == p->scap) {
        p->scap = p->scap ? p->scap * 2 : 64;
        p->sv = xrealloc(p->sv, p->scap * sizeof *p->sv);
    }
    p->sv[p->sn++] = c;
}

/* src_text - source code points [FROM, TO) as UTF-8 in single quotes, shortened */
static const char *src_text(struct parser *p, size_t from, size_t to, char *out, size_t size)
{
    struct buf b = BUF_INIT;
    buf_addc(&b, '\'');
    for (size_t i = from; i < to && i < p->n; i++) {
        if (i - from == 24) {
            buf_adds(&b, "...");
            break;
        }
        uint32_t c = p->cp[i];
        if (c == '\n')
            buf_adds(&b, "\\n");
        else if (c < ' ' || c == 0x7F)
            buf_addf(&b, "\\x%02X", (unsigned)c);
        else
            buf_add_utf8(&b, c);
    }
    buf_addc(&b, '\'');
    snprintf(out, size, "%s", b.p);
    buf_free(&b);
    return out;
}

static int illegal_char(struct parser *p, uint32_t c)
{
    return perr(p, p->line, p->col, "illegal character U+%04X", (unsigned)c);
}

/* escape - the value of the escape sequence after a backslash (erl_scan's scan_escape);
 * 1 at end of input, -1 on an error */
static int escape(struct parser *p, uint32_t *val)
{
    uint32_t bl = p->line, bc = p->col - 1;
    size_t bs = p->pos - 1;
    char txt[160];
    uint32_t c = peek(p, 0);
    if (c == CP_EOF)
        return 1;
    if (c >= '0' && c <= '7') {
        uint32_t v = 0;
        for (int k = 0; k < 3 && peek(p, 0) >= '0' && peek(p, 0) <= '7'; k++) {
            v = v * 8 + (peek(p, 0) - '0');
            adv(p);
        }
        *val = v;
        return 0;
    }
    if (c == 'x') {
        adv(p);
        if (peek(p, 0) == '{') {
            adv(p);
            uint32_t v = 0;
            size_t nd = 0;
            while (peek(p, 0) != CP_EOF && digit_value(peek(p, 0)) < 16) {
                v = v > 0x110000 ? v : v * 16 + digit_value(peek(p, 0));
                nd++;
                adv(p);
            }
            if (peek(p, 0) == CP_EOF)
                return 1;
            bool close = peek(p, 0) == '}';
            if (close)
                adv(p);
            if (!close || nd == 0 || !is_unicode(v))
                return perr(p, bl, bc, "illegal escape sequence %s",
                            src_text(p, bs, p->pos + !close, txt, sizeof txt));
            *val = v;
            return 0;
        }
        uint32_t h1 = peek(p, 0), h2 = peek(p, 1);
        if (h1 == CP_EOF)
            return 1;
        if (digit_value(h1) < 16 && h2 != CP_EOF && digit_value(h2) < 16) {
            *val = digit_value(h1) * 16 + digit_value(h2);
            adv(p), adv(p);
            return 0;
        }
        if (digit_value(h1) < 16 && h2 == CP_EOF)
            return 1;
        return perr(p, bl, bc, "illegal escape sequence %s",
                    src_text(p, bs, p->pos + 1 + (digit_value(h1) < 16), txt, sizeof txt));
    }
    if (c == '^') {
        adv(p);
        uint32_t c2 = peek(p, 0);
        if (c2 == CP_EOF)
            return 1;
        *val = c2 == '\n' ? '\n' : (c2 & 31);
        adv(p);
        return 0;
    }
    if (!is_unicode(c))
        return illegal_char(p, c);
    static const char from[] = "nrtvbfesd", to[] = "\n\r\t\v\b\f\033 \177";
    const char *e = c < 128 && c ? strchr(from, (int)c) : NULL;
    *val = e ? (uint32_t)(unsigned char)to[e - from] : c;
    adv(p);
    return 0;
}

/* lex_quoted - a string or quoted atom into p->sv */
static int lex_quoted(struct parser *p, uint32_t q)
{
    uint32_t sl = p->line, sc = p->col;
    size_t start = p->pos;
    char txt[160];
    const char *what = q == '"' ? "string" : "quoted atom";
    p->sn = 0;
    adv(p);
    for (;;) {
        uint32_t c = peek(p, 0), v;
        if (c == CP_EOF)
            return perr(p, sl, sc, "unterminated %s starting with %s", what,
                        src_text(p, start, p->pos, txt, sizeof txt));
        if (c == q) {
            adv(p);
            return 0;
        }
        if (c == '\\') {
            adv(p);
            int r = escape(p, &v);
            if (r < 0)
                return -1;
            if (r > 0)
                return perr(p, sl, sc, "unterminated %s starting with %s", what,
                            src_text(p, start, p->pos, txt, sizeof txt));
            sv_push(p, v);
            continue;
        }
        if (!is_unicode(c))
            return illegal_char(p, c);
        sv_push(p, c);
        adv(p);
    }
}

/* lex_digits - digits of BASE into p->tmp, with '_' allowed between two digits; returns
 * how many digits it took */
static size_t lex_digits(struct parser *p, unsigned base)
{
    size_t nd = 0;
    for (;;) {
        uint32_t c = peek(p, 0);
        if (c != CP_EOF && digit_value(c) < base) {
            buf_addc(&p->tmp, (char)c);
            nd++;
            adv(p);
        } else if (c == '_' && nd > 0 && peek(p, 1) != CP_EOF && digit_value(peek(p, 1)) < base) {
            adv(p);
        } else {
            return nd;
        }
    }
}

/* too_long - whether the number just read into p->tmp has more digits of BASE than
 * MAX_INT_BITS allow (recorded as the error when it has) */
static bool too_long(struct parser *p, const struct token *t, unsigned base)
{
    double bits_per_digit = log2((double)base);
    size_t max = (size_t)(MAX_INT_BITS / bits_per_digit);
    if (p->tmp.len <= max)
        return false;
    perr(p, t->line, t->col,
         "number of %zu digits: knit reads integers of at most %d bits (%zu digits in base %u)",
         p->tmp.len, MAX_INT_BITS, max, base);
    return true;
}

/* make_int - the integer written with LEN digits D in BASE */
static const struct term *make_int(struct parser *p, const char *d, size_t len, unsigned base)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < len; i++) {
        uint64_t dv = digit_value((unsigned char)d[i]);
        if (v > (UINT64_MAX - dv) / base)
            break;
        v = v * base + dv;
    }
    if (i == len && v <= (uint64_t)INT64_MAX)
        return term_int(p->a, (int64_t)v);
    /* bignum: 32-bit limbs, several digits at a time */
    unsigned chunk = 1;
    uint64_t mul = base;
    while (mul * base <= UINT32_MAX)
        mul *= base, chunk++;
    size_t cap = len / chunk + 3, nl = 0;
    uint32_t *limb = xcalloc(cap, sizeof *limb);
    for (i = 0; i < len;) {
        uint64_t cv = 0, cm = 1;
        for (unsigned k = 0; k < chunk && i < len; k++, i++) {
            cv = cv * base + digit_value((unsigned char)d[i]);
            cm *= base;
        }
        uint64_t carry = cv;
        for (size_t j = 0; j < nl; j++) {
            uint64_t x = (uint64_t)limb[j] * cm + carry;
            limb[j] = (uint32_t)x;
            carry = x >> 32;
        }
        if (carry)
            limb[nl++] = (uint32_t)carry;
    }
    uint8_t *mag = xmalloc(nl * 4 + 1);
    for (size_t j = 0; j < nl; j++)
        for (int b = 0; b < 4; b++)
            mag[j * 4 + b] = (uint8_t)(limb[j] >> (8 * b));
    const struct term *t = term_bigint(p->a, false, mag, nl * 4);
    free(mag);
    free(limb);
    return t;
}

static const struct term *at_line(struct parser *p, const struct term *t, uint32_t line);

static int lex_number(struct parser *p)
{
    struct token *t = &p->tok;
    char txt[160];
    buf_reset(&p->tmp);
    lex_digits(p, 10);
    if (peek(p, 0) == '.' && is_digit(peek(p, 1))) {
        buf_addc(&p->tmp, '.');
        adv(p);
        lex_digits(p, 10);
        uint32_t e = peek(p, 0);
        if (e == 'e' || e == 'E') {
            buf_addc(&p->tmp, 'e');
            adv(p);
            if (peek(p, 0) == '+' || peek(p, 0) == '-') {
                buf_addc(&p->tmp, (char)peek(p, 0));
                adv(p);
            }
            if (lex_digits(p, 10) == 0)
                return perr(p, t->line, t->col, "illegal float %s",
                            src_text(p, t->start, p->pos, txt, sizeof txt));
        }
        double f = strtod(p->tmp.p, NULL);
        if (isinf(f))
            return perr(p, t->line, t->col, "float %s is out of range",
                        src_text(p, t->start, p->pos, txt, sizeof txt));
        if (!p->scan_only)
            t->num = term_float(p->a, f);
    } else if (peek(p, 0) == '#') {
        unsigned base = 0;
        for (size_t i = 0; i < p->tmp.len && base <= 36; i++)
            base = base * 10 + (unsigned)(p->tmp.p[i] - '0');
        if (base < 2 || base > 36)
            return perr(p, t->line, t->col, "illegal base %s",
                        src_text(p, t->start, p->pos, txt, sizeof txt));
        adv(p);
        buf_reset(&p->tmp);
        if (lex_digits(p, base) == 0)
            return perr(p, t->line, t->col, "illegal integer %s (no digits in base %u)",
                        src_text(p, t->start, p->pos, txt, sizeof txt), base);
        if (too_long(p, t, base))
            return -1;
        if (!p->scan_only)
            t->num = make_int(p, p->tmp.p, p->tmp.len, base);
    } else if (too_long(p, t, 10)) {
        return -1;
    } else if (!p->scan_only) {
        t->num = make_int(p, p->tmp.p, p->tmp.len, 10);
    }
    if (!p->scan_only)
        t->num = at_line(p, t->num, t->line);
    t->kind = TK_NUM;
    return 0;
}

static int lex_char(struct parser *p)
{
    struct token *t = &p->tok;
    uint32_t v;
    adv(p);
    uint32_t c = peek(p, 0);
    if (c == CP_EOF)
        return perr(p, t->line, t->col, "unterminated character literal '$'");
    if (c == '\\') {
        adv(p);
        int r = escape(p, &v);
        if (r < 0)
            return -1;
        if (r > 0)
            return perr(p, t->line, t->col, "unterminated character literal");
    } else if (is_unicode(c)) {
        v = c;
        adv(p);
    } else {
        return illegal_char(p, c);
    }
    t->kind = TK_NUM;
    t->is_char = true;
    if (!p->scan_only)
        t->num = at_line(p, term_int(p->a, v), t->line);
    return 0;
}

static const char *const reserved[] = {
    "after", "begin", "case", "try", "cond",    "catch", "andalso", "orelse", "end",
    "fun",   "if",    "let",  "of",  "receive", "when",  "bnot",    "not",    "div",
    "rem",   "band",  "and",  "bor", "bxor",    "bsl",   "bsr",     "or",     "xor",
};

/* sv_is - whether the name in p->sv is the ASCII string S */
static bool sv_is(const struct parser *p, const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= p->sn || p->sv[i] != (unsigned char)s[i])
            return false;
    return i == p->sn;
}

/* multi-character symbols, longest first where they share a prefix (as erl_scan) */
static const char *const symbols[] = {
    "...", "=:=", "=/=", "..", "?=", "<<", "<-", "<=", ">>", ">=",
    "->",  "--",  "++",  "=<", "=>", "==", "/=", "||", ":=", "::",
};
#define NSYMBOLS (sizeof symbols / sizeof *symbols)

/* lex - scan the next token into p->tok; -1 with the error recorded */
static int lex(struct parser *p)
{
    struct token *t = &p->tok;
    uint32_t pline = p->line, pcol = p->col;
    if (t->line != 0 && t->line != pline) /* a token over lines: OTP names where it starts */
        pline = t->line, pcol = t->col;
    for (;;) {
        uint32_t c = peek(p, 0);
        if (c == CP_EOF || !(is_white(c) || c == '%'))
            break;
        if (c == '%') {
            while ((c = peek(p, 0)) != CP_EOF && c != '\n') {
                if (!is_unicode(c))
                    return illegal_char(p, c);
                adv(p);
            }
        } else {
            adv(p);
        }
    }
    memset(t, 0, sizeof *t);
    t->line = p->line;
    t->col = p->col;
    t->pline = pline;
    t->pcol = pcol;
    t->start = p->pos;
    uint32_t c = peek(p, 0);
    int r = 0;
    if (c == CP_EOF) {
        t->kind = TK_EOF;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7)) {
        bool var = (c >= 'A' && c <= 'Z') || c == '_' || (c >= 0xC0 && c <= 0xDE);
        p->sn = 0;
        while (is_name_char(peek(p, 0))) {
            sv_push(p, peek(p, 0));
            adv(p);
        }
        t->kind = var ? TK_VAR : TK_ATOM;
        if (!var && p->sn <= 7)
            for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
                if (sv_is(p, reserved[i]))
                    t->kind = TK_KEYWORD;
        if (p->sn > MAX_ATOM_CHARS)
            r = perr(p, t->line, t->col, "%s is longer than 255 characters",
                     var ? "variable" : "atom");
    } else if (is_digit(c)) {
        r = lex_number(p);
    } else if (c == '"' || c == '\'') {
        r = lex_quoted(p, c);
        t->kind = c == '"' ? TK_STRING : TK_ATOM;
        if (r == 0 && c == '\'' && p->sn > MAX_ATOM_CHARS)
            r = perr(p, t->line, t->col, "atom is longer than 255 characters");
    } else if (c == '$') {
        r = lex_char(p);
    } else if (c == '.' && (peek(p, 1) == CP_EOF || is_white(peek(p, 1)) || peek(p, 1) == '%')) {
        t->kind = TK_DOT;
        adv(p);
    } else if (c <= 0xFF) {
        t->kind = TK_PUNCT;
        size_t len = 1;
        for (size_t i = 0; c < 0x80 && strchr(".=?<>-+/|:", (int)c) && i < NSYMBOLS; i++) {
            size_t k = strlen(symbols[i]), j = 0;
            while (j < k && peek(p, j) == (unsigned char)symbols[i][j])
                j++;
            if (j == k) {
                len = k;
                break;
            }
        }
        for (size_t j = 0; j < len; j++) {
            if (c < 0x80)
                t->punct[j] = (char)peek(p, 0);
            adv(p);
        }
    } else {
        r = illegal_char(p, c);
    }
    t->end = p->pos;
    return r;
}

/* ---- parser (erl_parse:parse_term/1 and normalise/1) ---- */

#define F_NUM 1 /* a number literal, maybe in parentheses: unary +/- may apply to it */
#define F_STR 2 /* a string literal: a binary segment takes it as a list of characters */

static bool is_punct(const struct parser *p, const char *s)
{
    return p->tok.kind == TK_PUNCT && strcmp(p->tok.punct, s) == 0;
}

/* at_line - T carrying LINE; T is a term this parser just made, so it may be written to
 * (the static [] is copied instead) */
static const struct term *at_line(struct parser *p, const struct term *t, uint32_t line)
{
    if (t == term_nil())
        return term_with_line(p->a, t, line);
    ((struct term *)t)->line = line;
    return t;
}

/* syntax - "expected WHAT before 'TOKEN'" at the current token */
static int syntax(struct parser *p, const char *what)
{
    struct token *t = &p->tok;
    char txt[160];
    if (t->kind == TK_EOF) /* placed after the last token, as OTP places it on its line */
        return perr(p, t->pline, t->pcol, "unexpected end of %s, expected %s",
                    p->consult ? "file" : "input", what);
    if (t->kind == TK_DOT)
        return perr(p, t->line, t->col, "expected %s before '.'", what);
    return perr(p, t->line, t->col, "expected %s before %s", what,
                src_text(p, t->start, t->end, txt, sizeof txt));
}

static int push(struct parser *p, const struct term *t)
{
    if (p->top == p->stkcap) {
        p->stkcap = p->stkcap ? p->stkcap * 2 : 64;
        p->stk = xrealloc(p->stk, p->stkcap * sizeof *p->stk);
    }
    p->stk[p->top++] = t;
    return 0;
}

static const struct term *sv_atom(struct parser *p)
{
    buf_reset(&p->tmp);
    for (size_t i = 0; i < p->sn; i++)
        buf_add_utf8(&p->tmp, p->sv[i]);
    return at_line(p, term_atom(p->a, p->tmp.len ? p->tmp.p : "", p->tmp.len), p->tok.line);
}

static const struct term *parse_expr(struct parser *p, int *flags);
static const struct term *parse_max(struct parser *p, int *flags);

static const struct term *negate(struct parser *p, const struct term *t)
{
    if (t->type == TERM_FLOAT)
        return term_float(p->a, -t->u.f);
    if (t->type == TERM_BIG)
        return term_bigint(p->a, !t->u.big.neg, t->u.big.mag, t->u.big.n);
    if (t->u.i == INT64_MIN) {
        uint8_t mag[9] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0};
        return term_bigint(p->a, false, mag, 8);
    }
    return term_int(p->a, -t->u.i);
}

static const struct term *parse_list(struct parser *p)
{
    uint32_t line = p->tok.line;
    int f;
    if (lex(p))
        return NULL;
    if (is_punct(p, "]"))
        return lex(p) ? NULL : at_line(p, term_nil(), line);
    size_t base = p->top;
    const struct term *tail = term_nil(), *e;
    for (;;) {
        if (!(e = parse_expr(p, &f)))
            return NULL;
        push(p, e);
        if (is_punct(p, ",")) {
            if (lex(p))
                return NULL;
            continue;
        }
        if (is_punct(p, "|")) {
            if (lex(p) || !(tail = parse_expr(p, &f)))
                return NULL;
            if (!is_punct(p, "]"))
                return syntax(p, "']'"), NULL;
            break;
        }
        if (is_punct(p, "]"))
            break;
        return syntax(p, "',', '|' or ']'"), NULL;
    }
    if (lex(p))
        return NULL;
    const struct term *t = term_list(p->a, p->stk + base, p->top - base, tail);
    p->top = base;
    return at_line(p, t, line);
}

static const struct term *parse_tuple(struct parser *p)
{
    uint32_t line = p->tok.line;
    size_t base = p->top;
    int f;
    if (lex(p))
        return NULL;
    if (!is_punct(p, "}")) {
        for (;;) {
            const struct term *e = parse_expr(p, &f);
            if (!e)
                return NULL;
            push(p, e);
            if (is_punct(p, "}"))
                break;
            if (!is_punct(p, ","))
                return syntax(p, "',' or '}'"), NULL;
            if (lex(p))
                return NULL;
        }
    }
    if (lex(p))
        return NULL;
    const struct term *t = term_tuple(p->a, p->stk + base, p->top - base);
    p->top = base;
    return at_line(p, t, line);
}

static const struct term *parse_map(struct parser *p)
{
    uint32_t line = p->tok.line;
    size_t base = p->top;
    int f;
    if (lex(p))
        return NULL;
    if (!is_punct(p, "{"))
        return syntax(p, "'{'"), NULL;
    if (lex(p))
        return NULL;
    if (!is_punct(p, "}")) {
        for (;;) {
            const struct term *k = parse_expr(p, &f), *v;
            if (!k)
                return NULL;
            if (is_punct(p, ":="))
                bad(p, p->tok.line, p->tok.col, "':=' is not allowed in a term (use '=>')");
            else if (!is_punct(p, "=>"))
                return syntax(p, "'=>'"), NULL;
            if (lex(p) || !(v = parse_expr(p, &f)))
                return NULL;
            push(p, k);
            push(p, v);
            if (is_punct(p, "}"))
                break;
            if (!is_punct(p, ","))
                return syntax(p, "',' or '}'"), NULL;
            if (lex(p))
                return NULL;
        }
    }
    if (lex(p))
        return NULL;
    size_t n = (p->top - base) / 2;
    const struct term **kv = xmalloc((2 * n + 1) * sizeof *kv);
    for (size_t i = 0; i < n; i++) {
        kv[i] = p->stk[base + 2 * i];
        kv[n + i] = p->stk[base + 2 * i + 1];
    }
    const struct term *t = term_map(p->a, kv, kv + n, n);
    free(kv);
    p->top = base;
    return at_line(p, t, line);
}

static const struct term *parse_string(struct parser *p)
{
    uint32_t line = p->tok.line;
    p->an = 0;
    while (p->tok.kind == TK_STRING) {
        if (p->an + p->sn > p->acap) {
            while (p->an + p->sn > p->acap)
                p->acap = p->acap ? p->acap * 2 : 64;
            p->acc = xrealloc(p->acc, p->acap * sizeof *p->acc);
        }
        if (p->sn)
            memcpy(p->acc + p->an, p->sv, p->sn * sizeof *p->sv);
        p->an += p->sn;
        if (lex(p))
            return NULL;
    }
    size_t base = p->top;
    for (size_t i = 0; i < p->an; i++)
        push(p, at_line(p, term_int(p->a, p->acc[i]), line));
    const struct term *t = term_list(p->a, p->stk + base, p->an, term_nil());
    p->top = base;
    return at_line(p, t, line);
}

/* fun_atom_ext - an atom as OTP 25's term_to_binary writes it: ATOM_EXT when latin-1,
 * else SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT */
static void fun_atom_ext(struct buf *ext, const struct term *atom, const uint32_t *cps, size_t n)
{
    bool latin1 = true;
    for (size_t i = 0; i < n; i++)
        latin1 = latin1 && cps[i] <= 0xFF;
    if (latin1) {
        buf_addc(ext, 100);
        buf_addc(ext, (char)(n >> 8));
        buf_addc(ext, (char)n);
        for (size_t i = 0; i < n; i++)
            buf_addc(ext, (char)cps[i]);
    } else if (atom->u.atom.len <= 255) {
        buf_addc(ext, 119);
        buf_addc(ext, (char)atom->u.atom.len);
        buf_add(ext, atom->u.atom.name, atom->u.atom.len);
    } else {
        buf_addc(ext, 118);
        buf_addc(ext, (char)(atom->u.atom.len >> 8));
        buf_addc(ext, (char)atom->u.atom.len);
        buf_add(ext, atom->u.atom.name, atom->u.atom.len);
    }
}

/* fun_atom_text - an atom as erts's fun_to_list/1 shows it: bare when it is a lower-case
 * latin-1 letter then latin-1 letters, digits and '_' (no '@', no reserved-word check),
 * else quoted with \b \t \n \v \f \r, and octal for other control characters */
static void fun_atom_text(struct buf *out, const uint32_t *cps, size_t n)
{
    bool plain = n > 0 && ((cps[0] >= 'a' && cps[0] <= 'z') ||
                           (cps[0] >= 0xDF && cps[0] <= 0xFF && cps[0] != 0xF7));
    for (size_t i = 0; i < n && plain; i++)
        plain = cps[i] != '@' && is_name_char(cps[i]);
    if (!plain)
        buf_addc(out, '\'');
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        const char *letter = c >= 8 && c <= 13 ? &"btnvfr"[c - 8] : NULL;
        if (plain)
            buf_add_utf8(out, c);
        else if (c == '\'' || c == '\\')
            buf_addc(out, '\\'), buf_addc(out, (char)c);
        else if (letter)
            buf_addc(out, '\\'), buf_addc(out, *letter);
        else if (c < ' ' || (c >= 0x80 && c < 0xA0))
            buf_addf(out, "\\%03o", (unsigned)c);
        else
            buf_add_utf8(out, c);
    }
    if (!plain)
        buf_addc(out, '\'');
}

/* parse_fun - fun M:F/A, which normalise/1 turns into an external fun; the other forms
 * the grammar allows (fun F/A, variables) are no terms */
static const struct term *parse_fun(struct parser *p)
{
    uint32_t line = p->tok.line, col = p->tok.col;
    struct buf ext = BUF_INIT, text = BUF_INIT;
    const struct term *t = NULL;
    bool var = false;
    buf_addc(&ext, 113);
    buf_adds(&text, "fun ");
    if (lex(p))
        goto done;
    for (int part = 0; part < 2; part++) {
        if (p->tok.kind == TK_VAR) {
            var = true;
        } else if (p->tok.kind == TK_ATOM) {
            const struct term *atom = sv_atom(p);
            fun_atom_ext(&ext, atom, p->sv, p->sn);
            fun_atom_text(&text, p->sv, p->sn);
        } else {
            syntax(p, part ? "a function name" : "a module name");
            goto done;
        }
        bool was_atom = p->tok.kind == TK_ATOM;
        if (lex(p))
            goto done;
        if (part == 0 && was_atom && is_punct(p, "/")) { /* fun F/A: a local fun */
            if (lex(p))
                goto done;
            if (p->tok.kind != TK_NUM || p->tok.is_char || p->tok.num->type == TERM_FLOAT) {
                syntax(p, "an arity");
                goto done;
            }
            bad(p, line, col, "local fun is not allowed in a term (write 'fun M:F/A')");
            t = lex(p) ? NULL : term_nil();
            goto done;
        }
        if (!is_punct(p, part ? "/" : ":")) {
            syntax(p, part ? "'/'" : "':'");
            goto done;
        }
        buf_addc(&text, part ? '/' : ':');
        if (lex(p))
            goto done;
    }
    if (p->tok.kind == TK_VAR) {
        var = true;
    } else if (p->tok.kind != TK_NUM || p->tok.is_char || p->tok.num->type == TERM_FLOAT) {
        syntax(p, "an arity");
        goto done;
    }
    if (var) {
        bad(p, line, col, "fun with a variable is not allowed in a term");
        t = lex(p) ? NULL : term_nil();
        goto done;
    }
    const struct term *ar = p->tok.num;
    if (ar->type != TERM_INT || ar->u.i > 255) {
        char txt[160];
        bad(p, p->tok.line, p->tok.col, "fun arity %s is out of range (0..255)",
            src_text(p, p->tok.start, p->tok.end, txt, sizeof txt));
        t = lex(p) ? NULL : term_nil();
        goto done;
    }
    buf_addc(&ext, 97);
    buf_addc(&ext, (char)ar->u.i);
    buf_addf(&text, "%d", (int)ar->u.i);
    if (lex(p))
        goto done;
    t = at_line(p, term_opaque(p->a, TERM_FUN, (const uint8_t *)ext.p, ext.len, text.p), line);
done:
    buf_free(&ext);
    buf_free(&text);
    return t;
}

/* ---- binaries (eval_bits and erl_bits) ---- */

struct bitbuf {
    uint8_t *d;
    size_t nbits, cap;
    size_t max_bits; /* the most it may hold (the text's budget, see BIN_BYTES_FREE) */
};

static void put_bit(struct bitbuf *b, int bit)
{
    if (b->nbits / 8 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        b->d = xrealloc(b->d, cap);
        memset(b->d + b->cap, 0, cap - b->cap);
        b->cap = cap;
    }
    uint8_t m = (uint8_t)(0x80 >> (b->nbits & 7));
    if (bit)
        b->d[b->nbits / 8] |= m;
    else
        b->d[b->nbits / 8] &= (uint8_t)~m;
    b->nbits++;
}

/* reserve_bytes - room for N more whole bytes at a byte-aligned end */
static void reserve_bytes(struct bitbuf *b, size_t n)
{
    size_t need = b->nbits / 8 + n;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->d = xrealloc(b->d, cap);
    memset(b->d + b->cap, 0, cap - b->cap);
    b->cap = cap;
}

/* put_byte - 8 bits at any alignment (bits past nbits are always zero) */
static void put_byte(struct bitbuf *b, uint8_t v)
{
    reserve_bytes(b, 2);
    size_t i = b->nbits / 8;
    unsigned o = b->nbits & 7;
    if (o == 0) {
        b->d[i] = v;
    } else {
        b->d[i] = (uint8_t)((b->d[i] & (0xFF << (8 - o))) | (v >> o));
        b->d[i + 1] = (uint8_t)(v << (8 - o));
    }
    b->nbits += 8;
}

/* put_bits - the low K bits of V, most significant first */
static void put_bits(struct bitbuf *b, uint64_t v, unsigned k)
{
    if (k == 8) {
        put_byte(b, (uint8_t)v);
        return;
    }
    while (k-- > 0)
        put_bit(b, (int)((v >> k) & 1));
}

/* put_fill - N copies of BYTE (the sign fill of a wide integer segment) */
static void put_fill(struct bitbuf *b, uint8_t byte, size_t n)
{
    unsigned o = b->nbits & 7;
    if (n == 0)
        return;
    if (o != 0 && byte != 0x00 && byte != 0xFF) {
        while (n-- > 0)
            put_byte(b, byte);
        return;
    }
    /* all-zero or all-one bits read the same at any shift: a memset, whatever the alignment */
    reserve_bytes(b, n + 1);
    size_t i = b->nbits / 8;
    if (o != 0) {
        b->d[i] = (uint8_t)((b->d[i] & (0xFF << (8 - o))) | (byte >> o));
        i++;
        memset(b->d + i, byte, n - 1);
        b->d[i + n - 1] = (uint8_t)(byte << (8 - o));
    } else {
        memset(b->d + i, byte, n);
    }
    b->nbits += 8 * n;
}

enum seg_type { SEG_NONE, SEG_INTEGER, SEG_FLOAT, SEG_BINARY, SEG_UTF8, SEG_UTF16, SEG_UTF32 };
enum seg_endian { END_NONE, END_BIG, END_LITTLE, END_NATIVE };

struct segspec {
    enum seg_type type;
    unsigned unit; /* 0: not given */
    int sign;      /* 0, 1 signed, 2 unsigned */
    enum seg_endian endian;
};

/* int_mag - sign and little-endian magnitude of the integer T (into SMALL when it fits) */
static const uint8_t *int_mag(const struct term *t, bool *neg, size_t *n, uint8_t small[8])
{
    if (t->type == TERM_BIG) {
        *neg = t->u.big.neg;
        *n = t->u.big.n;
        return t->u.big.mag;
    }
    uint64_t v = t->u.i < 0 ? (uint64_t)0 - (uint64_t)t->u.i : (uint64_t)t->u.i;
    *neg = t->u.i < 0;
    for (int i = 0; i < 8; i++)
        small[i] = (uint8_t)(v >> (8 * i));
    *n = 8;
    return small;
}

/* put_int - integer T as BITS bits, two's complement, big or little endian */
static void put_int(struct bitbuf *b, const struct term *t, size_t bits, bool little)
{
    uint8_t small[8];
    bool neg;
    size_t n;
    const uint8_t *mag = int_mag(t, &neg, &n, small);
    uint8_t *m1 = NULL;
    if (neg) { /* two's complement: ~(|v| - 1) */
        m1 = xmalloc(n);
        memcpy(m1, mag, n);
        for (size_t i = 0; i < n && m1[i]-- == 0; i++)
            ;
    }
    size_t nbytes = (bits + 7) / 8;
#define BYTE_AT(k) ((uint8_t)(neg ? ~((k) < n ? m1[k] : 0) : ((k) < n ? mag[k] : 0)))
    uint8_t fill = neg ? 0xFF : 0x00; /* every byte past the magnitude */
    size_t full = bits / 8;
    if (little) {
        size_t k = 0;
        for (; k < full && k < n; k++)
            put_bits(b, BYTE_AT(k), 8);
        if (full > k)
            put_fill(b, fill, full - k);
        if (bits % 8)
            put_bits(b, BYTE_AT(full), (unsigned)(bits % 8));
    } else {
        size_t k = nbytes;
        if (bits % 8) {
            k--; /* BYTE_AT names its argument more than once */
            put_bits(b, BYTE_AT(k), (unsigned)(bits % 8));
        }
        if (k > n) {
            put_fill(b, fill, k - n);
            k = n;
        }
        while (k-- > 0)
            put_bits(b, BYTE_AT(k), 8);
    }
#undef BYTE_AT
    free(m1);
}

/* to_double - a number term as a double (bignums as erts converts them, 64 bits at a time,
 * most significant first); false when it does not fit */
static bool to_double(const struct term *t, double *out)
{
    if (t->type == TERM_FLOAT) {
        *out = t->u.f;
        return true;
    }
    if (t->type == TERM_INT) {
        *out = (double)t->u.i;
        return true;
    }
    double d = 0;
    size_t nd = (t->u.big.n + 7) / 8;
    for (size_t k = nd; k-- > 0;) {
        uint64_t digit = 0;
        for (size_t j = 8; j-- > 0;)
            digit = (digit << 8) | (k * 8 + j < t->u.big.n ? t->u.big.mag[k * 8 + j] : 0);
        d = d * 18446744073709551616.0 + (double)digit;
    }
    *out = t->u.big.neg ? -d : d;
    return !isinf(d);
}

/* half_bits - IEEE binary16 of D, rounded to nearest even */
static uint16_t half_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    uint16_t sign = (uint16_t)((u >> 48) & 0x8000);
    int e = (int)((u >> 52) & 0x7FF) - 1023;
    uint64_t mant = u & ((UINT64_C(1) << 52) - 1);
    if (e == 1024) /* inf: Erlang has no NaN */
        return sign | 0x7C00;
    if (e > 15)
        return sign | 0x7C00;
    if (e >= -14) {
        uint64_t m = mant >> 42, rest = mant & ((UINT64_C(1) << 42) - 1);
        uint64_t half = UINT64_C(1) << 41;
        uint32_t h = ((uint32_t)(e + 15) << 10) + (uint32_t)m;
        if (rest > half || (rest == half && (m & 1)))
            h++;
        return (uint16_t)(sign | (h > 0x7C00 ? 0x7C00 : h));
    }
    if (e == -1023 && mant == 0)
        return sign;
    uint64_t sig = mant | (UINT64_C(1) << 52);
    if (e == -1023) /* a subnormal double is far below the smallest half */
        return sign;
    int s = 28 - e;
    if (s >= 54)
        return sign;
    uint64_t q = sig >> s, rest = sig & ((UINT64_C(1) << s) - 1), half = UINT64_C(1) << (s - 1);
    if (rest > half || (rest == half && (q & 1)))
        q++;
    return (uint16_t)(sign | q);
}

/* float_bits32 - D as an IEEE single (overflow gives infinity, as erts's conversion) */
static uint32_t float_bits32(double d)
{
    float f;
    double a = fabs(d);
    if (a <= FLT_MAX)
        f = (float)d;
    else if (a < 0x1p128 - 0x1p103)
        f = d < 0 ? -FLT_MAX : FLT_MAX;
    else
        f = d < 0 ? -INFINITY : INFINITY;
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static bool host_little(void)
{
    uint16_t x = 1;
    uint8_t c;
    memcpy(&c, &x, 1);
    return c == 1;
}

static void put_bytes_endian(struct bitbuf *b, uint64_t v, unsigned nbytes, bool little)
{
    for (unsigned i = 0; i < nbytes; i++)
        put_bits(b, v >> (8 * (little ? i : nbytes - 1 - i)), 8);
}

/* put_segment - append value V as one segment; NULL on success, else why it fails */
static const char *put_segment(struct bitbuf *b, const struct term *v, const struct segspec *s,
                               const struct term *size)
{
    bool little = s->endian == END_LITTLE || (s->endian == END_NATIVE && host_little());
    size_t bits = 0;
    if (s->type == SEG_INTEGER || s->type == SEG_FLOAT ||
        (s->type == SEG_BINARY && !term_is_atom(size, "all"))) {
        if (size->type != TERM_INT && size->type != TERM_BIG)
            return "size is not an integer";
        if (size->type == TERM_BIG || size->u.i < 0)
            return size->type == TERM_BIG && !size->u.big.neg ? "is too large" : "size is negative";
        if ((uint64_t)size->u.i > MAX_SEGMENT_BITS / s->unit)
            return "is too large";
        bits = (size_t)size->u.i * s->unit;
    }
    /* the whole binary is capped like one segment: a string segment with a size repeats
     * that size for every character */
    if (b->nbits > b->max_bits || bits > b->max_bits - b->nbits)
        return b->max_bits < MAX_SEGMENT_BITS
                   ? "makes the binary larger than a text of this size may produce"
                   : "makes the binary too large";
    switch (s->type) {
    case SEG_INTEGER:
        if (v->type != TERM_INT && v->type != TERM_BIG)
            return "value is not an integer";
        put_int(b, v, bits, little);
        return NULL;
    case SEG_FLOAT: {
        double d;
        if (!term_is_int(v) && v->type != TERM_FLOAT)
            return "value is not a number";
        if (bits != 16 && bits != 32 && bits != 64)
            return "float size is not 16, 32 or 64 bits";
        if (!to_double(v, &d))
            return "value does not fit a float";
        uint64_t u;
        if (bits == 64)
            memcpy(&u, &d, 8);
        else
            u = bits == 32 ? float_bits32(d) : half_bits(d);
        put_bytes_endian(b, u, (unsigned)(bits / 8), little);
        return NULL;
    }
    case SEG_BINARY: {
        if (v->type != TERM_BITS)
            return "value is not a binary";
        size_t have = v->u.bits.nbits;
        if (term_is_atom(size, "all")) {
            if (have % s->unit)
                return "value is not a whole number of units";
            bits = have;
        } else if (bits > have) {
            return "value is shorter than the segment size";
        }
        if (bits > b->max_bits - b->nbits)
            return "makes the binary too large";
        size_t i = 0;
        for (; i + 8 <= bits; i += 8) /* whole bytes, a byte at a time when aligned */
            put_bits(b, v->u.bits.data[i / 8], 8);
        for (; i < bits; i++)
            put_bit(b, (v->u.bits.data[i / 8] >> (7 - i % 8)) & 1);
        return NULL;
    }
    default: {
        if (v->type != TERM_INT || v->u.i < 0 || v->u.i > 0x10FFFF ||
            (v->u.i >= 0xD800 && v->u.i <= 0xDFFF))
            return "value is not a unicode code point";
        uint32_t c = (uint32_t)v->u.i;
        if (s->type == SEG_UTF32) {
            put_bytes_endian(b, c, 4, little);
        } else if (s->type == SEG_UTF16) {
            if (c < 0x10000) {
                put_bytes_endian(b, c, 2, little);
            } else {
                put_bytes_endian(b, 0xD800 + ((c - 0x10000) >> 10), 2, little);
                put_bytes_endian(b, 0xDC00 + ((c - 0x10000) & 0x3FF), 2, little);
            }
        } else {
            struct buf u = BUF_INIT;
            buf_add_utf8(&u, c);
            for (size_t i = 0; i < u.len; i++)
                put_bits(b, (unsigned char)u.p[i], 8);
            buf_free(&u);
        }
        return NULL;
    }
    }
}

/* parse_typespec - '/' type ('-' type)*, merged as erl_bits:set_bit_type/2 does */
static int parse_typespec(struct parser *p, struct segspec *s)
{
    static const struct {
        const char *name;
        int type, unit, sign, endian;
    } types[] = {
        {"integer", SEG_INTEGER, 0, 0, 0},  {"float", SEG_FLOAT, 0, 0, 0},
        {"binary", SEG_BINARY, 0, 0, 0},    {"bytes", SEG_BINARY, 8, 0, 0},
        {"bitstring", SEG_BINARY, 1, 0, 0}, {"bits", SEG_BINARY, 1, 0, 0},
        {"utf8", SEG_UTF8, 0, 0, 0},        {"utf16", SEG_UTF16, 0, 0, 0},
        {"utf32", SEG_UTF32, 0, 0, 0},      {"signed", 0, 0, 1, 0},
        {"unsigned", 0, 0, 2, 0},           {"big", 0, 0, 0, END_BIG},
        {"little", 0, 0, 0, END_LITTLE},    {"native", 0, 0, 0, END_NATIVE},
    };
    char txt[160];
    for (;;) {
        if (lex(p))
            return -1;
        if (p->tok.kind != TK_ATOM)
            return syntax(p, "a binary segment type");
        struct token at = p->tok;
        int type = 0, unit = 0, sign = 0, endian = 0;
        bool known = false;
        bool is_unit = sv_is(p, "unit");
        for (size_t i = 0; !is_unit && i < sizeof types / sizeof *types; i++) {
            if (sv_is(p, types[i].name)) {
                known = true;
                type = types[i].type, unit = types[i].unit;
                sign = types[i].sign, endian = types[i].endian;
            }
        }
        if (lex(p))
            return -1;
        if (is_punct(p, ":")) {
            if (lex(p))
                return -1;
            if (p->tok.kind != TK_NUM || p->tok.is_char || p->tok.num->type == TERM_FLOAT)
                return syntax(p, "an integer");
            const struct term *u = p->tok.num;
            if (is_unit && u->type == TERM_INT && u->u.i >= 1 && u->u.i <= 256)
                known = true, unit = (int)u->u.i;
            else
                known = false;
            at.end = p->tok.end;
            if (lex(p))
                return -1;
        }
        if (!known) {
            bad(p, at.line, at.col, "unknown binary segment type %s",
                src_text(p, at.start, at.end, txt, sizeof txt));
        } else if ((type && s->type && type != (int)s->type) ||
                   (unit && s->unit && (unsigned)unit != s->unit) ||
                   (sign && s->sign && sign != s->sign) ||
                   (endian && s->endian && endian != (int)s->endian)) {
            bad(p, at.line, at.col, "conflicting binary segment type %s",
                src_text(p, at.start, at.end, txt, sizeof txt));
        }
        if (type)
            s->type = (enum seg_type)type;
        if (unit)
            s->unit = (unsigned)unit;
        if (sign)
            s->sign = sign;
        if (endian)
            s->endian = (enum seg_endian)endian;
        if (!is_punct(p, "-"))
            return 0;
    }
}

/* parse_segment - Value[:Size][/Types] appended to B, as eval_bits:expr_grp/3 builds it */
static int parse_segment(struct parser *p, struct bitbuf *b)
{
    uint32_t line = p->tok.line, col = p->tok.col;
    int vflags = 0, sflags;
    const struct term *v = parse_expr(p, &vflags), *size = NULL;
    if (!v)
        return -1;
    if (is_punct(p, ":")) {
        if (lex(p) || !(size = parse_max(p, &sflags)))
            return -1;
    }
    struct segspec s = {SEG_NONE, 0, 0, END_NONE};
    bool typed = is_punct(p, "/");
    if (typed && parse_typespec(p, &s))
        return -1;
    /* a string literal is a list of characters, each one a segment */
    size_t nch = 0;
    const struct term *const *ch = (vflags & F_STR) ? term_list_els(v, &nch) : NULL;
    if (!typed && !size && (vflags & F_STR)) { /* the common <<"text">>: a byte per char */
        for (size_t i = 0; i < nch; i++)
            put_bits(b, (uint64_t)ch[i]->u.i & 0xFF, 8);
        return 0;
    }
    /* apply_defaults */
    if (s.type == SEG_NONE)
        s.type = SEG_INTEGER;
    const char *why = NULL;
    bool utf = s.type == SEG_UTF8 || s.type == SEG_UTF16 || s.type == SEG_UTF32;
    if (utf && (size || s.unit))
        why = "a utf segment takes no size or unit";
    else if (!size && s.unit && (s.type == SEG_INTEGER || s.type == SEG_FLOAT))
        why = "a unit needs a size";
    if (!size)
        size = s.type == SEG_BINARY ? term_atomz(p->a, "all")
                                    : term_int(p->a, s.type == SEG_FLOAT ? 64 : 8);
    if (!s.unit)
        s.unit = s.type == SEG_BINARY ? 8 : 1;
    if (!why && (vflags & F_STR)) {
        size_t before = b->nbits;
        for (size_t i = 0; !why && i < nch; i++)
            why = put_segment(b, ch[i], &s, size);
        if (!why && nch == 0) { /* eval_bits checks an empty string with 0 */
            why = put_segment(b, term_int(p->a, 0), &s, size);
            b->nbits = before;
        }
    } else if (!why) {
        why = put_segment(b, v, &s, size);
    }
    if (why)
        bad(p, line, col, "bad binary segment: %s", why);
    return 0;
}

static const struct term *parse_binary(struct parser *p)
{
    uint32_t line = p->tok.line;
    struct bitbuf b = {NULL, 0, 0, p->bin_left};
    const struct term *t = NULL;
    if (lex(p))
        return NULL;
    if (!is_punct(p, ">>")) {
        for (;;) {
            if (parse_segment(p, &b))
                goto done;
            if (is_punct(p, ">>"))
                break;
            if (!is_punct(p, ",")) {
                syntax(p, "',' or '>>'");
                goto done;
            }
            if (lex(p))
                goto done;
        }
    }
    if (lex(p))
        goto done;
    static const uint8_t none = 0;
    t = at_line(p, term_bits(p->a, b.d ? b.d : &none, b.nbits), line);
    p->bin_left -= b.nbits <= p->bin_left ? b.nbits : p->bin_left;
done:
    free(b.d);
    return t;
}

/* parse_max - one expr_max: a literal, a container, a fun or a term in parentheses */
static const struct term *parse_max(struct parser *p, int *flags)
{
    struct token *t = &p->tok;
    const struct term *r = NULL;
    char txt[160];
    *flags = 0;
    if (++p->depth > TERM_MAX_DEPTH) {
        p->depth--;
        return perr(p, t->line, t->col, "term nested deeper than %d levels", TERM_MAX_DEPTH), NULL;
    }
    switch (t->kind) {
    case TK_NUM:
        r = t->num;
        *flags = F_NUM;
        if (lex(p))
            r = NULL;
        break;
    case TK_ATOM:
        r = sv_atom(p);
        if (lex(p))
            r = NULL;
        break;
    case TK_STRING:
        r = parse_string(p);
        *flags = F_STR;
        break;
    case TK_VAR:
        bad(p, t->line, t->col, "variable %s is not allowed in a term (quote it to make an atom)",
            src_text(p, t->start, t->end, txt, sizeof txt));
        r = lex(p) ? NULL : term_nil();
        break;
    case TK_KEYWORD:
        if (sv_is(p, "fun"))
            r = parse_fun(p);
        else
            perr(p, t->line, t->col, "reserved word %s must be quoted to be an atom",
                 src_text(p, t->start, t->end, txt, sizeof txt));
        break;
    case TK_PUNCT:
        if (is_punct(p, "["))
            r = parse_list(p);
        else if (is_punct(p, "{"))
            r = parse_tuple(p);
        else if (is_punct(p, "#"))
            r = parse_map(p);
        else if (is_punct(p, "<<"))
            r = parse_binary(p);
        else if (is_punct(p, "(")) {
            if (lex(p) || !(r = parse_expr(p, flags)))
                r = NULL;
            else if (!is_punct(p, ")"))
                r = NULL, syntax(p, "')'");
            else if (lex(p))
                r = NULL;
        } else {
            syntax(p, "a term");
        }
        break;
    default:
        syntax(p, "a term");
        break;
    }
    p->depth--;
    return r;
}

/* parse_expr - a term, maybe with unary + or - (which normalise/1 allows on numbers only) */
static const struct term *parse_expr(struct parser *p, int *flags)
{
    struct token *t = &p->tok;
    char txt[160];
    bool minus = is_punct(p, "-"), plus = is_punct(p, "+");
    if (minus || plus || (t->kind == TK_KEYWORD && (sv_is(p, "bnot") || sv_is(p, "not")))) {
        uint32_t line = t->line, col = t->col;
        if (!minus && !plus)
            bad(p, line, col, "operator %s is not allowed in a term",
                src_text(p, t->start, t->end, txt, sizeof txt));
        if (++p->depth > TERM_MAX_DEPTH) {
            p->depth--;
            return perr(p, line, col, "term nested deeper than %d levels", TERM_MAX_DEPTH), NULL;
        }
        const struct term *r = NULL;
        if (lex(p) == 0 && (r = parse_expr(p, flags)) != NULL && !(*flags & F_NUM) &&
            (minus || plus))
            bad(p, line, col, "unary '%c' is allowed only before a number", minus ? '-' : '+');
        p->depth--;
        if (r && minus && (*flags & F_NUM))
            r = at_line(p, negate(p, r), line);
        *flags = 0;
        return r;
    }
    return parse_max(p, flags);
}

/* ---- entry points ---- */

/* prescan - scan the next form up to its '.' for scan errors first, as io:read/3 does
 * (erl_scan:tokens/3 before erl_parse), so a form's scan error wins over its syntax errors */
static int prescan(struct parser *p)
{
    size_t pos = p->pos;
    uint32_t line = p->line, col = p->col;
    int r = 0;
    p->scan_only = true;
    do {
        r = lex(p);
    } while (r == 0 && p->tok.kind != TK_DOT && p->tok.kind != TK_EOF);
    p->scan_only = false;
    p->pos = pos, p->line = line, p->col = col;
    memset(&p->tok, 0, sizeof p->tok);
    return r;
}

static void parser_init(struct parser *p, struct arena *a, const char *name, bool consult)
{
    memset(p, 0, sizeof *p);
    p->a = a;
    p->name = name;
    p->consult = consult;
    p->line = p->col = 1;
    /* allocated up front: stk + base must never be arithmetic on a null pointer */
    p->stkcap = 64;
    p->stk = xmalloc(p->stkcap * sizeof *p->stk);
}

static void parser_free(struct parser *p)
{
    free(p->cp);
    free(p->sv);
    free(p->acc);
    free(p->stk);
    buf_free(&p->tmp);
}

/* report_bad - record the form's first reason for being no term, if it has one */
static int report_bad(struct parser *p)
{
    return p->bad ? perr(p, p->bad_line, p->bad_col, "%s", p->bad_msg) : 0;
}

/* dot_error - the token after a term is not the '.' that ends it */
static int dot_error(struct parser *p, bool optional)
{
    if (is_punct(p, "."))
        return perr(p, p->tok.line, p->tok.col,
                    "'.' after a term must be followed by whitespace, '%%' or the end");
    return syntax(p, optional ? "'.' or end of input" : "'.'");
}

const struct term *term_consult_buf(struct arena *a, const char *name, const char *text, size_t len)
{
    struct parser p;
    const struct term *r = NULL, **terms = NULL;
    size_t n = 0;
    int f;
    parser_init(&p, a, name, true);
    if (decode(&p, text, len, coding_latin1(text, len)))
        goto done;
    for (;;) {
        if (prescan(&p) || lex(&p))
            goto done;
        if (p.tok.kind == TK_EOF)
            break;
        const struct term *t = parse_expr(&p, &f);
        if (!t || (p.tok.kind != TK_DOT && dot_error(&p, false) < 0) || report_bad(&p))
            goto done;
        if ((n & (n - 1)) == 0)
            terms = xrealloc(terms, (n ? 2 * n : 1) * sizeof *terms);
        terms[n++] = t;
    }
    r = term_list(a, terms, n, term_nil());
done:
    free(terms);
    parser_free(&p);
    return r;
}

const struct term *term_consult_file(struct arena *a, const char *path)
{
    struct arena scratch;
    size_t len;
    arena_init(&scratch);
    const char *text = fs_read_file(&scratch, path, &len);
    const struct term *r = text ? term_consult_buf(a, path, text, len) : NULL;
    arena_close(&scratch);
    return r;
}

const struct term *term_parse_term(struct arena *a, const char *name, const char *text, size_t len)
{
    struct parser p;
    const struct term *r = NULL;
    int f;
    parser_init(&p, a, name, false);
    if (decode(&p, text, len, false) || prescan(&p) || lex(&p))
        goto done;
    const struct term *t = parse_expr(&p, &f);
    if (!t)
        goto done;
    if (p.tok.kind == TK_DOT) {
        if (lex(&p))
            goto done;
        if (p.tok.kind != TK_EOF) {
            syntax(&p, "end of input");
            goto done;
        }
    } else if (p.tok.kind != TK_EOF) {
        dot_error(&p, true);
        goto done;
    }
    if (report_bad(&p))
        goto done;
    r = t;
done:
    parser_free(&p);
    return r;
}
