/* etf.c - the External Term Format: term_to_binary/1 and binary_to_term/1 as OTP 25 does them */
#include "etf.h"
#include "utf8.h"

#include "kerr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum {
    ETF_VERSION = 131,
    TAG_NEW_FLOAT = 70,
    TAG_BIT_BINARY = 77,
    TAG_COMPRESSED = 80,
    TAG_NEW_PID = 88,
    TAG_NEW_PORT = 89,
    TAG_NEWER_REFERENCE = 90,
    TAG_SMALL_INTEGER = 97,
    TAG_INTEGER = 98,
    TAG_FLOAT = 99,
    TAG_ATOM = 100,
    TAG_REFERENCE = 101,
    TAG_PORT = 102,
    TAG_PID = 103,
    TAG_SMALL_TUPLE = 104,
    TAG_LARGE_TUPLE = 105,
    TAG_NIL = 106,
    TAG_STRING = 107,
    TAG_LIST = 108,
    TAG_BINARY = 109,
    TAG_SMALL_BIG = 110,
    TAG_LARGE_BIG = 111,
    TAG_NEW_FUN = 112,
    TAG_EXPORT = 113,
    TAG_NEW_REFERENCE = 114,
    TAG_SMALL_ATOM = 115,
    TAG_MAP = 116,
    TAG_FUN = 117,
    TAG_ATOM_UTF8 = 118,
    TAG_SMALL_ATOM_UTF8 = 119,
    TAG_V4_PORT = 120,
};

/* OTP refuses atoms of more than this many characters */
#define ATOM_MAX_CHARS 255
/* deflate cannot expand data by more than about 1032:1; a larger declared size is a lie */
#define INFLATE_MAX_RATIO 1032
#define INFLATE_SLACK 4096
/* NEWER_REFERENCE_EXT carries at most this many 32-bit words */
#define REF_MAX_WORDS 5
/* the node a fresh non-distributed VM calls itself: its pids print with channel 0 */
#define LOCAL_NODE "nonode@nohost"

/* ---------------------------------------------------------------- encoding */

/* put_bytes - append N bytes of S; the encoder's hot path, so it skips buf_add's NUL */
static inline void put_bytes(struct buf *b, const uint8_t *s, size_t n)
{
    char *w = buf_reserve(b, n);
    memcpy(w, s, n);
    b->len += n;
}

static inline void put_u8(struct buf *b, unsigned v)
{
    if (b->len + 2 > b->cap)
        buf_reserve(b, 1);
    b->p[b->len++] = (char)(uint8_t)v;
}

static void put_u16(struct buf *b, unsigned v)
{
    uint8_t s[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(b, s, 2);
}

static void put_u32(struct buf *b, uint32_t v)
{
    uint8_t s[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(b, s, 4);
}

/* latin1_len - characters of the UTF-8 NAME when every one fits latin-1, else -1 */
static long latin1_len(const uint8_t *s, size_t n)
{
    long chars = 0;
    for (size_t i = 0; i < n; chars++) {
        if (s[i] < 0x80) {
            i++;
        } else if ((s[i] == 0xC2 || s[i] == 0xC3) && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            i += 2;
        } else {
            return -1;
        }
    }
    return chars;
}

static void enc_atom(struct buf *out, const char *name, size_t len)
{
    const uint8_t *s = (const uint8_t *)name;
    long chars = latin1_len(s, len);
    if (chars >= 0) {
        /* OTP 25 writes every latin-1 atom as ATOM_EXT with latin-1 bytes */
        put_u8(out, TAG_ATOM);
        put_u16(out, (unsigned)chars);
        for (size_t i = 0; i < len; i++) {
            if (s[i] < 0x80) {
                put_u8(out, s[i]);
            } else {
                put_u8(out, (unsigned)(((s[i] & 0x03) << 6) | (s[i + 1] & 0x3F)));
                i++;
            }
        }
        return;
    }
    if (len <= 255) {
        put_u8(out, TAG_SMALL_ATOM_UTF8);
        put_u8(out, (unsigned)len);
    } else {
        put_u8(out, TAG_ATOM_UTF8);
        put_u16(out, (unsigned)len);
    }
    buf_add(out, name, len);
}

static void enc_big(struct buf *out, bool neg, const uint8_t *mag, size_t n)
{
    if (n <= 255) {
        put_u8(out, TAG_SMALL_BIG);
        put_u8(out, (unsigned)n);
    } else {
        put_u8(out, TAG_LARGE_BIG);
        put_u32(out, (uint32_t)n);
    }
    put_u8(out, neg ? 1 : 0);
    buf_add(out, mag, n);
}

static void enc_int(struct buf *out, int64_t v)
{
    if (v >= 0 && v <= 255) {
        put_u8(out, TAG_SMALL_INTEGER);
        put_u8(out, (unsigned)v);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        put_u8(out, TAG_INTEGER);
        put_u32(out, (uint32_t)(int32_t)v);
    } else {
        uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        uint8_t mag[8];
        size_t n = 0;
        while (m) {
            mag[n++] = (uint8_t)m;
            m >>= 8;
        }
        enc_big(out, v < 0, mag, n);
    }
}

/* is_byte_string - T is a proper list of integers 0..255 short enough for STRING_EXT */
static bool is_byte_string(const struct term *t)
{
    if (t->u.list.tail->type != TERM_NIL || t->u.list.n > 0xFFFF)
        return false;
    for (size_t i = 0; i < t->u.list.n; i++) {
        const struct term *e = t->u.list.el[i];
        if (e->type != TERM_INT || e->u.i < 0 || e->u.i > 255)
            return false;
    }
    return true;
}

static void enc_term(struct buf *out, const struct term *t)
{
    switch ((enum term_type)t->type) {
    case TERM_INT:
        enc_int(out, t->u.i);
        return;
    case TERM_BIG:
        enc_big(out, t->u.big.neg, t->u.big.mag, t->u.big.n);
        return;
    case TERM_FLOAT: {
        uint64_t bits;
        memcpy(&bits, &t->u.f, sizeof bits);
        put_u8(out, TAG_NEW_FLOAT);
        put_u32(out, (uint32_t)(bits >> 32));
        put_u32(out, (uint32_t)bits);
        return;
    }
    case TERM_ATOM:
        enc_atom(out, t->u.atom.name, t->u.atom.len);
        return;
    case TERM_REF:
    case TERM_FUN:
    case TERM_PORT:
    case TERM_PID:
        buf_add(out, t->u.opaque.ext, t->u.opaque.len);
        return;
    case TERM_TUPLE:
        if (t->u.tuple.n <= 255) {
            put_u8(out, TAG_SMALL_TUPLE);
            put_u8(out, (unsigned)t->u.tuple.n);
        } else {
            put_u8(out, TAG_LARGE_TUPLE);
            put_u32(out, (uint32_t)t->u.tuple.n);
        }
        for (size_t i = 0; i < t->u.tuple.n; i++)
            enc_term(out, t->u.tuple.el[i]);
        return;
    case TERM_MAP:
        /* OTP writes a map of up to 32 keys in key order, which is the model's order; larger
         * maps come out in OTP's internal hash order, which this does not reproduce */
        put_u8(out, TAG_MAP);
        put_u32(out, (uint32_t)t->u.map.n);
        for (size_t i = 0; i < t->u.map.n; i++) {
            enc_term(out, t->u.map.keys[i]);
            enc_term(out, t->u.map.vals[i]);
        }
        return;
    case TERM_NIL:
        put_u8(out, TAG_NIL);
        return;
    case TERM_LIST:
        if (is_byte_string(t)) {
            put_u8(out, TAG_STRING);
            put_u16(out, (unsigned)t->u.list.n);
            uint8_t *w = (uint8_t *)buf_reserve(out, t->u.list.n);
            for (size_t i = 0; i < t->u.list.n; i++)
                w[i] = (uint8_t)t->u.list.el[i]->u.i;
            out->len += t->u.list.n;
            out->p[out->len] = 0;
            return;
        }
        put_u8(out, TAG_LIST);
        put_u32(out, (uint32_t)t->u.list.n);
        for (size_t i = 0; i < t->u.list.n; i++)
            enc_term(out, t->u.list.el[i]);
        enc_term(out, t->u.list.tail);
        return;
    case TERM_BITS: {
        size_t nbytes = (t->u.bits.nbits + 7) / 8;
        unsigned rest = (unsigned)(t->u.bits.nbits % 8);
        put_u8(out, rest ? TAG_BIT_BINARY : TAG_BINARY);
        put_u32(out, (uint32_t)nbytes);
        if (rest)
            put_u8(out, rest);
        buf_add(out, t->u.bits.data, nbytes);
        return;
    }
    }
}

int etf_encode(struct buf *out, const struct term *t)
{
    put_u8(out, ETF_VERSION);
    enc_term(out, t);
    buf_reserve(out, 0)[0] = 0; /* keep the buffer's NUL-termination promise */
    return 0;
}

/* ---------------------------------------------------------------- decoding */

struct atom_slot {
    const uint8_t *raw; /* the atom's ETF bytes, tag included */
    size_t len;
    const struct term *t;
};

#define ATOM_CACHE 256

struct dec {
    struct arena *a;
    const char *name;
    const uint8_t *p; /* the bytes being decoded */
    size_t len;
    size_t pos;
    const char *where; /* appended to offsets: "" or " of the inflated data" */
    /* decoding shares the terms of small integers and repeated atoms: beam literal tables
     * and abstract code repeat them endlessly */
    const struct term *ints[256];
    struct atom_slot atoms[ATOM_CACHE];
};

__attribute__((format(printf, 3, 4))) static const struct term *dec_fail(struct dec *d, size_t at,
                                                                         const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kerr_set(KERR_INPUT, d->name, 0, 0, "%s at byte %zu%s", msg, at, d->where);
    return NULL;
}

static size_t dec_left(const struct dec *d)
{
    return d->len - d->pos;
}

/* dec_need - true when N more bytes are there; records the error otherwise */
static bool dec_need(struct dec *d, size_t n)
{
    if (dec_left(d) >= n)
        return true;
    dec_fail(d, d->pos, "unexpected end of data");
    return false;
}

/* dec_count - a declared count of N items of at least UNIT bytes each must fit what is left */
static bool dec_count(struct dec *d, uint64_t n, size_t unit, size_t at)
{
    if (n <= dec_left(d) / unit)
        return true;
    dec_fail(d, at, "declared length %llu runs past the end of the data", (unsigned long long)n);
    return false;
}

static uint32_t get_u16(struct dec *d)
{
    const uint8_t *s = d->p + d->pos;
    d->pos += 2;
    return (uint32_t)s[0] << 8 | s[1];
}

static uint32_t get_u32(struct dec *d)
{
    const uint8_t *s = d->p + d->pos;
    d->pos += 4;
    return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
}

static uint64_t get_u64(struct dec *d)
{
    uint64_t hi = get_u32(d);
    return hi << 32 | get_u32(d);
}

static const struct term *dec_small_int(struct dec *d, unsigned v)
{
    if (!d->ints[v])
        d->ints[v] = term_int(d->a, (int64_t)v);
    return d->ints[v];
}

static const struct term *dec_atom_text(struct dec *d, int tag, size_t start)
{
    bool small = tag == TAG_SMALL_ATOM || tag == TAG_SMALL_ATOM_UTF8;
    if (!dec_need(d, small ? 1 : 2))
        return NULL;
    size_t n = small ? d->p[d->pos++] : get_u16(d);
    if (!dec_count(d, n, 1, start))
        return NULL;
    const uint8_t *s = d->p + d->pos;
    d->pos += n;

    size_t raw_len = d->pos - start;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    struct atom_slot *slot = &d->atoms[(h ^ (uint32_t)tag) % ATOM_CACHE];
    if (slot->t && slot->len == raw_len && memcmp(slot->raw, d->p + start, raw_len) == 0)
        return slot->t;

    const struct term *t;
    if (tag == TAG_ATOM || tag == TAG_SMALL_ATOM) {
        if (n > ATOM_MAX_CHARS)
            return dec_fail(d, start, "atom of %zu characters is longer than 255", n);
        char tmp[2 * ATOM_MAX_CHARS];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] < 0x80) {
                tmp[k++] = (char)s[i];
            } else {
                tmp[k++] = (char)(0xC0 | s[i] >> 6);
                tmp[k++] = (char)(0x80 | (s[i] & 0x3F));
            }
        }
        t = term_atom(d->a, tmp, k);
    } else {
        long chars = utf8_count(s, n);
        if (chars < 0)
            return dec_fail(d, start, "invalid UTF-8 in atom");
        if (chars > ATOM_MAX_CHARS)
            return dec_fail(d, start, "atom of %ld characters is longer than 255", chars);
        t = term_atom(d->a, (const char *)s, n);
    }
    slot->raw = d->p + start;
    slot->len = raw_len;
    slot->t = t;
    return t;
}

static bool is_atom_tag(int tag)
{
    return tag == TAG_ATOM || tag == TAG_SMALL_ATOM || tag == TAG_ATOM_UTF8 ||
           tag == TAG_SMALL_ATOM_UTF8;
}

/* dec_atom - an atom where the format demands one (node names, fun modules) */
static const struct term *dec_atom(struct dec *d, const char *what)
{
    size_t start = d->pos;
    if (!dec_need(d, 1))
        return NULL;
    int tag = d->p[d->pos++];
    if (!is_atom_tag(tag))
        return dec_fail(d, start, "expected an atom as the %s, found tag %d", what, tag);
    return dec_atom_text(d, tag, start);
}

/* node_channel - the number OTP prints first in a pid, port or reference: 0 for the local
 * node; for other nodes OTP prints the node atom's index in its atom table, which depends on
 * the VM's history, so a stable 15-bit hash of the node name stands in for it */
static unsigned long node_channel(const struct term *node)
{
    if (node->u.atom.len == strlen(LOCAL_NODE) &&
        memcmp(node->u.atom.name, LOCAL_NODE, node->u.atom.len) == 0)
        return 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < node->u.atom.len; i++)
        h = (h ^ (uint8_t)node->u.atom.name[i]) * 16777619u;
    return 1 + h % 32767;
}

/* is_local - OTP checks pids, ports and refs of its own incarnation more strictly */
static bool is_local(const struct term *node, uint32_t creation)
{
    return creation == 0 && node_channel(node) == 0;
}

static const struct term *dec_opaque(struct dec *d, enum term_type type, size_t start,
                                     const char *text)
{
    return term_opaque(d->a, type, d->p + start, d->pos - start, text);
}

static const struct term *dec_pid(struct dec *d, int tag, size_t start)
{
    const struct term *node = dec_atom(d, "node of a pid");
    bool old = tag == TAG_PID;
    if (!node || !dec_need(d, old ? 9 : 12))
        return NULL;
    uint32_t id = get_u32(d), serial = get_u32(d);
    uint32_t creation = old ? d->p[d->pos++] : get_u32(d);
    if (old && creation > 3)
        return dec_fail(d, start, "pid creation %u is out of range", (unsigned)creation);
    if (is_local(node, creation) && (id >= 1u << 15 || serial >= 1u << 13))
        return dec_fail(d, start, "local pid <0.%u.%u> is out of range", (unsigned)id,
                        (unsigned)serial);
    char text[64];
    snprintf(text, sizeof text, "<%lu.%lu.%lu>", node_channel(node), (unsigned long)id,
             (unsigned long)serial);
    return dec_opaque(d, TERM_PID, start, text);
}

static const struct term *dec_port(struct dec *d, int tag, size_t start)
{
    const struct term *node = dec_atom(d, "node of a port");
    size_t need = tag == TAG_PORT ? 5 : tag == TAG_NEW_PORT ? 8 : 12;
    if (!node || !dec_need(d, need))
        return NULL;
    uint64_t id = tag == TAG_V4_PORT ? get_u64(d) : get_u32(d);
    uint32_t creation = tag == TAG_PORT ? d->p[d->pos++] : get_u32(d);
    if (tag == TAG_PORT && creation > 3)
        return dec_fail(d, start, "port creation %u is out of range", (unsigned)creation);
    if (is_local(node, creation) && id >= 1u << 28)
        return dec_fail(d, start, "local port number %llu is out of range", (unsigned long long)id);
    char text[64];
    snprintf(text, sizeof text, "#Port<%lu.%llu>", node_channel(node), (unsigned long long)id);
    return dec_opaque(d, TERM_PORT, start, text);
}

static const struct term *dec_ref(struct dec *d, int tag, size_t start)
{
    size_t n = 1;
    if (tag != TAG_REFERENCE) {
        if (!dec_need(d, 2))
            return NULL;
        n = get_u16(d);
        if (n > REF_MAX_WORDS)
            return dec_fail(d, start, "reference of %zu words is longer than %d", n, REF_MAX_WORDS);
    }
    const struct term *node = dec_atom(d, "node of a reference");
    if (!node)
        return NULL;
    uint32_t words[REF_MAX_WORDS];
    uint32_t creation;
    if (tag == TAG_REFERENCE) {
        if (!dec_need(d, 5))
            return NULL;
        words[0] = get_u32(d);
        creation = d->p[d->pos++];
    } else {
        bool old = tag == TAG_NEW_REFERENCE;
        if (!dec_need(d, (old ? 1 : 4) + 4 * n))
            return NULL;
        creation = old ? d->p[d->pos++] : get_u32(d);
        for (size_t i = 0; i < n; i++)
            words[i] = get_u32(d);
    }
    if (tag != TAG_NEWER_REFERENCE && creation > 3)
        return dec_fail(d, start, "reference creation %u is out of range", (unsigned)creation);
    if (is_local(node, creation)) {
        if (n == 0 || n > 3 || words[0] >= 1u << 18)
            return dec_fail(d, start, "local reference is out of range");
        /* OTP widens short local references to three words */
        while (n < 3)
            words[n++] = 0;
    }
    char text[128];
    int k = snprintf(text, sizeof text, "#Ref<%lu", node_channel(node));
    for (size_t i = n; i-- > 0;)
        k += snprintf(text + k, sizeof text - (size_t)k, ".%lu", (unsigned long)words[i]);
    snprintf(text + k, sizeof text - (size_t)k, ">");
    return dec_opaque(d, TERM_REF, start, text);
}

/* latin1_lower, latin1_alnum - erts prints an atom bare when it starts with a latin-1
 * lowercase letter and goes on with latin-1 alphanumerics and '_' (funs print through erts,
 * not io_lib, so keywords stay bare) */
static bool latin1_lower(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

static bool latin1_alnum(unsigned c)
{
    return latin1_lower(c) || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 0xC0 && c <= 0xDE && c != 0xD7) || c == '_';
}

/* erts_char - the character erts tests at byte I of UTF-8 S: it looks at one byte at a time,
 * taking a continuation byte as a letter and a 3- or 4-byte lead as needing quotes */
static unsigned erts_char(const uint8_t *s, size_t n, size_t i)
{
    uint8_t c = s[i];
    if (c < 0x80)
        return c;
    if ((c & 0xE0) == 0xC0)
        return i + 1 < n ? (unsigned)(c & 0x1F) << 6 | (s[i + 1] & 0x3F) : 0;
    if ((c & 0xC0) == 0x80)
        return 'a';
    return 0;
}

/* add_byte_char - erts prints an atom's UTF-8 bytes and fun_to_list/1 hands them to io_lib
 * one byte per character, so OTP's text holds each byte as a latin-1 character */
static void add_byte_char(struct buf *b, uint8_t c)
{
    buf_add_utf8(b, c);
}

static void add_byte_chars(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        add_byte_char(b, (uint8_t)s[i]);
}

/* erts_atom - append ATOM as erts prints it in a fun: quoted when needed, escapes as erts
 * writes them, other bytes as latin-1 characters */
static void erts_atom(struct buf *b, const struct term *atom)
{
    const uint8_t *s = (const uint8_t *)atom->u.atom.name;
    size_t n = atom->u.atom.len;
    bool quote = n == 0 || !latin1_lower(erts_char(s, n, 0));
    for (size_t i = 1; i < n && !quote; i++)
        quote = !latin1_alnum(erts_char(s, n, i));
    if (quote)
        buf_addc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '\'':
            buf_adds(b, "\\'");
            break;
        case '\\':
            buf_adds(b, "\\\\");
            break;
        case '\n':
            buf_adds(b, "\\n");
            break;
        case '\f':
            buf_adds(b, "\\f");
            break;
        case '\t':
            buf_adds(b, "\\t");
            break;
        case '\r':
            buf_adds(b, "\\r");
            break;
        case '\b':
            buf_adds(b, "\\b");
            break;
        case '\v':
            buf_adds(b, "\\v");
            break;
        default:
            if (c < ' ') {
                buf_addf(b, "\\%03o", c);
            } else if (c == 0xC2 && i + 1 < n && s[i + 1] < 0xA0) {
                buf_addf(b, "\\%03o", s[i + 1]); /* a latin-1 control character, 128..159 */
                i++;
            } else {
                add_byte_char(b, c);
            }
        }
    }
    if (quote)
        buf_addc(b, '\'');
}

static const struct term *dec_term(struct dec *d, size_t depth);

/* dec_int_field - an integer field of a fun, given as a term */
static bool dec_int_field(struct dec *d, size_t depth, const char *what, int64_t *v)
{
    size_t at = d->pos;
    const struct term *t = dec_term(d, depth);
    if (!t)
        return false;
    if (t->type != TERM_INT) {
        dec_fail(d, at, "expected an integer as the %s", what);
        return false;
    }
    *v = t->u.i;
    return true;
}

static bool dec_fun_pid(struct dec *d, size_t depth)
{
    size_t at = d->pos;
    const struct term *t = dec_term(d, depth);
    if (t && t->type != TERM_PID)
        dec_fail(d, at, "expected a pid in a fun");
    return t && t->type == TERM_PID;
}

static bool dec_free_vars(struct dec *d, size_t depth, uint32_t nfree, size_t at)
{
    if (!dec_count(d, nfree, 1, at))
        return false;
    for (uint32_t i = 0; i < nfree; i++)
        if (!dec_term(d, depth))
            return false;
    return true;
}

static const struct term *dec_fun(struct dec *d, int tag, size_t start, size_t depth)
{
    const struct term *mod;
    int64_t index, uniq;
    if (tag == TAG_NEW_FUN) {
        /* OTP ignores the Size field, so it is not checked here either */
        if (!dec_need(d, 4 + 1 + 16 + 4 + 4))
            return NULL;
        d->pos += 4 + 1 + 16 + 4;
        uint32_t nfree = get_u32(d);
        if (!(mod = dec_atom(d, "module of a fun")) ||
            !dec_int_field(d, depth, "old index of a fun", &index) ||
            !dec_int_field(d, depth, "old uniq of a fun", &uniq) || !dec_fun_pid(d, depth) ||
            !dec_free_vars(d, depth, nfree, start))
            return NULL;
    } else {
        if (!dec_need(d, 4))
            return NULL;
        uint32_t nfree = get_u32(d);
        if (!dec_fun_pid(d, depth) || !(mod = dec_atom(d, "module of a fun")) ||
            !dec_int_field(d, depth, "index of a fun", &index) ||
            !dec_int_field(d, depth, "uniq of a fun", &uniq) ||
            !dec_free_vars(d, depth, nfree, start))
            return NULL;
    }
    struct buf text = BUF_INIT;
    buf_adds(&text, "#Fun<");
    add_byte_chars(&text, mod->u.atom.name, mod->u.atom.len);
    buf_addf(&text, ".%lld.%lld>", (long long)index, (long long)uniq);
    const struct term *t = dec_opaque(d, TERM_FUN, start, buf_cstr(&text));
    buf_free(&text);
    return t;
}

static const struct term *dec_export(struct dec *d, size_t start, size_t depth)
{
    const struct term *mod = dec_atom(d, "module of an external fun");
    const struct term *fun = mod ? dec_atom(d, "function of an external fun") : NULL;
    if (!fun)
        return NULL;
    size_t at = d->pos;
    const struct term *arity = dec_term(d, depth);
    if (!arity)
        return NULL;
    if (arity->type != TERM_INT || arity->u.i < 0 || arity->u.i > 255)
        return dec_fail(d, at, "expected an arity 0..255 in an external fun");
    struct buf text = BUF_INIT;
    buf_adds(&text, "fun ");
    erts_atom(&text, mod);
    buf_addc(&text, ':');
    erts_atom(&text, fun);
    buf_addf(&text, "/%d", (int)arity->u.i);
    const struct term *t = dec_opaque(d, TERM_FUN, start, buf_cstr(&text));
    buf_free(&text);
    return t;
}

/* dec_old_float - FLOAT_EXT: 31 bytes of "%.20e" text, NUL-padded (or not); OTP accepts
 * [+-]digits(.|,)digits[(e|E)[+-]digits] up to the first NUL and nothing else */
static const struct term *dec_old_float(struct dec *d, size_t start)
{
    if (!dec_need(d, 31))
        return NULL;
    const char *s = (const char *)d->p + d->pos;
    d->pos += 31;
    char tmp[32];
    size_t n = 0;
    while (n < 31 && s[n])
        n++;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    size_t i = 0;
    if (tmp[i] == '+' || tmp[i] == '-')
        i++;
    size_t digits = i;
    while (tmp[i] >= '0' && tmp[i] <= '9')
        i++;
    bool ok = i > digits && (tmp[i] == '.' || tmp[i] == ',');
    if (ok) {
        tmp[i++] = '.';
        digits = i;
        while (tmp[i] >= '0' && tmp[i] <= '9')
            i++;
        ok = i > digits;
    }
    if (ok && (tmp[i] == 'e' || tmp[i] == 'E')) {
        i++;
        if (tmp[i] == '+' || tmp[i] == '-')
            i++;
        digits = i;
        while (tmp[i] >= '0' && tmp[i] <= '9')
            i++;
        ok = i > digits;
    }
    double f = ok && tmp[i] == 0 ? strtod(tmp, NULL) : NAN;
    if (!isfinite(f))
        return dec_fail(d, start, "bad float text");
    return term_float(d->a, f);
}

/* dec_list - LIST_EXT (tag read): elements, then a tail; chained LIST_EXT and STRING_EXT
 * tails are folded into one element array without recursing */
static const struct term *dec_list(struct dec *d, size_t start, size_t depth)
{
    const struct term **els = NULL;
    size_t count = 0, cap = 0;
    size_t at = start;
    for (;;) {
        if (!dec_need(d, 4))
            return NULL;
        uint32_t n = get_u32(d);
        if (!dec_count(d, (uint64_t)n + 1, 1, at))
            return NULL;
        if (count + n > cap) {
            size_t ncap = cap * 2 > count + n ? cap * 2 : count + n;
            const struct term **v = arena_alloc(d->a, ncap * sizeof *v);
            if (count)
                memcpy(v, els, count * sizeof *v);
            els = v;
            cap = ncap;
        }
        for (uint32_t i = 0; i < n; i++)
            if (!(els[count++] = dec_term(d, depth)))
                return NULL;
        at = d->pos;
        if (!dec_need(d, 1))
            return NULL;
        if (d->p[d->pos] != TAG_LIST)
            break;
        d->pos++;
    }
    const struct term *tail;
    int tag = d->p[d->pos];
    if (tag == TAG_NIL) {
        d->pos++;
        tail = term_nil();
    } else if (tag == TAG_STRING && count > 0) {
        d->pos++;
        if (!dec_need(d, 2))
            return NULL;
        size_t n = get_u16(d);
        if (!dec_count(d, n, 1, at))
            return NULL;
        const struct term **v = arena_alloc(d->a, (count + n) * sizeof *v);
        memcpy(v, els, count * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[count++] = dec_small_int(d, d->p[d->pos++]);
        els = v;
        tail = term_nil();
    } else if (!(tail = dec_term(d, depth))) {
        return NULL;
    }
    if (count == 0)
        return tail;
    struct term *t = arena_alloc(d->a, sizeof *t);
    t->type = TERM_LIST;
    t->u.list.n = count;
    t->u.list.el = els;
    t->u.list.tail = tail;
    return t;
}

static const struct term *dec_map(struct dec *d, size_t start, size_t depth)
{
    if (!dec_need(d, 4))
        return NULL;
    uint32_t n = get_u32(d);
    if (!dec_count(d, n, 2, start))
        return NULL;
    const struct term **kv = xmalloc((n ? 2 * (size_t)n : 1) * sizeof *kv);
    const struct term *t = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (!(kv[i] = dec_term(d, depth)) || !(kv[n + i] = dec_term(d, depth)))
            goto done;
    }
    t = term_map(d->a, kv, kv + n, n);
    if (t->u.map.n != n)
        t = dec_fail(d, start, "map has a duplicate key");
done:
    free(kv);
    return t;
}

static const struct term *dec_big(struct dec *d, int tag, size_t start)
{
    if (!dec_need(d, tag == TAG_SMALL_BIG ? 2 : 5))
        return NULL;
    size_t n = tag == TAG_SMALL_BIG ? d->p[d->pos++] : get_u32(d);
    bool neg = d->p[d->pos++] != 0;
    if (!dec_count(d, n, 1, start))
        return NULL;
    const uint8_t *mag = d->p + d->pos;
    d->pos += n;
    return term_bigint(d->a, neg, mag, n);
}

static const struct term *dec_string(struct dec *d, size_t start)
{
    if (!dec_need(d, 2))
        return NULL;
    size_t n = get_u16(d);
    if (!dec_count(d, n, 1, start))
        return NULL;
    if (n == 0)
        return term_nil();
    const struct term **v = arena_alloc(d->a, n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = dec_small_int(d, d->p[d->pos++]);
    struct term *t = arena_alloc(d->a, sizeof *t);
    t->type = TERM_LIST;
    t->u.list.n = n;
    t->u.list.el = v;
    t->u.list.tail = term_nil();
    return t;
}

static const struct term *dec_binary(struct dec *d, int tag, size_t start)
{
    if (!dec_need(d, tag == TAG_BINARY ? 4 : 5))
        return NULL;
    uint32_t n = get_u32(d);
    unsigned bits = 8;
    if (tag == TAG_BIT_BINARY) {
        bits = d->p[d->pos++];
        if ((n == 0) != (bits == 0) || bits > 8)
            return dec_fail(d, start, "bit binary of %u bytes cannot end in %u bits", (unsigned)n,
                            bits);
    }
    if (!dec_count(d, n, 1, start))
        return NULL;
    d->pos += n;
    return term_bits(d->a, d->p + d->pos - n, n ? ((size_t)n - 1) * 8 + bits : 0);
}

static const struct term *dec_number(struct dec *d, int tag, size_t start)
{
    if (tag == TAG_SMALL_INTEGER) {
        if (!dec_need(d, 1))
            return NULL;
        return dec_small_int(d, d->p[d->pos++]);
    }
    if (tag == TAG_INTEGER) {
        if (!dec_need(d, 4))
            return NULL;
        int32_t v = (int32_t)get_u32(d);
        return v >= 0 && v <= 255 ? dec_small_int(d, (unsigned)v) : term_int(d->a, v);
    }
    if (!dec_need(d, 8))
        return NULL;
    uint64_t bits = get_u64(d);
    double f;
    memcpy(&f, &bits, sizeof f);
    if (!isfinite(f))
        return dec_fail(d, start, "float is not finite");
    return term_float(d->a, f);
}

static const struct term *dec_tuple(struct dec *d, int tag, size_t start, size_t depth)
{
    if (!dec_need(d, tag == TAG_SMALL_TUPLE ? 1 : 4))
        return NULL;
    uint32_t n = tag == TAG_SMALL_TUPLE ? d->p[d->pos++] : get_u32(d);
    if (!dec_count(d, n, 1, start))
        return NULL;
    const struct term **v = arena_alloc(d->a, (n ? n : 1) * sizeof *v);
    for (uint32_t i = 0; i < n; i++)
        if (!(v[i] = dec_term(d, depth)))
            return NULL;
    struct term *t = arena_alloc(d->a, sizeof *t);
    t->type = TERM_TUPLE;
    t->u.tuple.n = n;
    t->u.tuple.el = v;
    return t;
}

/* dec_term - one term at d->pos; DEPTH counts the containers around it */
static const struct term *dec_term(struct dec *d, size_t depth)
{
    size_t start = d->pos;
    if (!dec_need(d, 1))
        return NULL;
    int tag = d->p[d->pos++];
    switch (tag) {
    case TAG_SMALL_INTEGER:
    case TAG_INTEGER:
    case TAG_NEW_FLOAT:
        return dec_number(d, tag, start);
    case TAG_FLOAT:
        return dec_old_float(d, start);
    case TAG_SMALL_BIG:
    case TAG_LARGE_BIG:
        return dec_big(d, tag, start);
    case TAG_ATOM:
    case TAG_SMALL_ATOM:
    case TAG_ATOM_UTF8:
    case TAG_SMALL_ATOM_UTF8:
        return dec_atom_text(d, tag, start);
    case TAG_NIL:
        return term_nil();
    case TAG_STRING:
        return dec_string(d, start);
    case TAG_BINARY:
    case TAG_BIT_BINARY:
        return dec_binary(d, tag, start);
    case TAG_NEW_PID:
    case TAG_PID:
        return dec_pid(d, tag, start);
    case TAG_NEW_PORT:
    case TAG_PORT:
    case TAG_V4_PORT:
        return dec_port(d, tag, start);
    case TAG_NEWER_REFERENCE:
    case TAG_NEW_REFERENCE:
    case TAG_REFERENCE:
        return dec_ref(d, tag, start);
    default:
        break;
    }

    /* everything below contains other terms */
    if (depth >= TERM_MAX_DEPTH)
        return dec_fail(d, start, "term is nested deeper than %d levels", TERM_MAX_DEPTH);
    switch (tag) {
    case TAG_SMALL_TUPLE:
    case TAG_LARGE_TUPLE:
        return dec_tuple(d, tag, start, depth + 1);
    case TAG_LIST:
        return dec_list(d, start, depth + 1);
    case TAG_MAP:
        return dec_map(d, start, depth + 1);
    case TAG_NEW_FUN:
    case TAG_FUN:
        return dec_fun(d, tag, start, depth + 1);
    case TAG_EXPORT:
        return dec_export(d, start, depth + 1);
    default:
        return dec_fail(d, start, "unknown tag %d", tag);
    }
}

/* dec_compressed - decode the term compressed at DATA[0..LEN) (after the 131, 80 header);
 * *USED gets the compressed bytes consumed */
static const struct term *dec_compressed(struct dec *d, const uint8_t *data, size_t len,
                                         size_t *used)
{
    if (!dec_need(d, 4))
        return NULL;
    uint32_t size = get_u32(d);
    size_t avail = len - d->pos;
    if (size > (uint64_t)avail * INFLATE_MAX_RATIO + INFLATE_SLACK)
        return dec_fail(d, 2, "declared inflated size %lu is impossible for %zu compressed bytes",
                        (unsigned long)size, avail);
    uint8_t *out = xmalloc(size ? size : 1);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    const struct term *t = NULL;
    if (inflateInit(&zs) != Z_OK) {
        free(out);
        return dec_fail(d, d->pos, "cannot start inflating");
    }
    zs.next_in = (Bytef *)(uintptr_t)(data + d->pos);
    zs.avail_in = (uInt)(avail > UINT32_MAX ? UINT32_MAX : avail);
    zs.next_out = out;
    zs.avail_out = size;
    int r = inflate(&zs, Z_FINISH);
    size_t consumed = (size_t)(zs.next_in - (data + d->pos));
    size_t produced = zs.total_out;
    bool full = zs.avail_out == 0;
    inflateEnd(&zs);
    if (r == Z_STREAM_END && produced == size) {
        struct dec *in = xcalloc(1, sizeof *in);
        in->a = d->a;
        in->name = d->name;
        in->p = out;
        in->len = size;
        in->where = " of the inflated data";
        t = dec_term(in, 0);
        if (t && in->pos != in->len)
            t = dec_fail(in, in->pos, "trailing bytes after the term");
        free(in);
        *used = d->pos + consumed;
    } else if (r == Z_BUF_ERROR && full) {
        dec_fail(d, 2, "inflated data is longer than the declared %lu bytes", (unsigned long)size);
    } else if (r == Z_STREAM_END) {
        dec_fail(d, 2, "inflated data is %zu bytes, not the declared %lu", produced,
                 (unsigned long)size);
    } else {
        dec_fail(d, d->pos + consumed, "bad compressed data");
    }
    free(out);
    return t;
}

static const struct term *decode(struct arena *a, const char *name, const uint8_t *data, size_t len,
                                 size_t *used)
{
    struct dec *d = xcalloc(1, sizeof *d);
    const struct term *t = NULL;
    d->a = a;
    d->name = name;
    d->p = data;
    d->len = len;
    d->where = "";
    if (len == 0) {
        dec_fail(d, 0, "expected version byte 131, found no data");
    } else if (data[0] != ETF_VERSION) {
        dec_fail(d, 0, "expected version byte 131, found %u", data[0]);
    } else if (len >= 2 && data[1] == TAG_COMPRESSED) {
        d->pos = 2;
        t = dec_compressed(d, data, len, used);
    } else {
        d->pos = 1;
        t = dec_term(d, 0);
        *used = d->pos;
    }
    free(d);
    return t;
}

const struct term *etf_decode_prefix(struct arena *a, const char *name, const uint8_t *data,
                                     size_t len, size_t *used)
{
    size_t n = 0;
    const struct term *t = decode(a, name, data, len, &n);
    if (t && used)
        *used = n;
    return t;
}

const struct term *etf_decode(struct arena *a, const char *name, const uint8_t *data, size_t len)
{
    size_t n = 0;
    const struct term *t = decode(a, name, data, len, &n);
    if (t && n != len) {
        kerr_set(KERR_INPUT, name, 0, 0, "trailing bytes after the term at byte %zu", n);
        return NULL;
    }
    return t;
}
