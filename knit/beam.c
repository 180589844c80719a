/* beam.c - read compiled .beam files without a VM: the facts OTP's beam_lib gives */
#include "beam.h"

#include "buf.h"
#include "etf.h"
#include "fsutil.h"
#include "kerr.h"
#include "utf8.h"

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A gzip-compressed beam may not inflate to more than this. */
#define BEAM_GUNZIP_MAX ((size_t)256 << 20)

/* The chunks we look at. The first nine are the ones beam_lib:md5/1 hashes, in its order. */
enum beam_chunk {
    CH_ATOM,
    CH_ATU8,
    CH_CODE,
    CH_STRT,
    CH_IMPT,
    CH_EXPT,
    CH_FUNT,
    CH_LITT,
    CH_META,
    CH_LOCT,
    CH_ATTR,
    CH_CINF,
    CH_DBGI,
    CH_ABST,
    CH_COUNT
};
#define CH_MD5_LAST CH_META

static const char chunk_ids[CH_COUNT][5] = {
    "Atom", "AtU8", "Code", "StrT", "ImpT", "ExpT", "FunT",
    "LitT", "Meta", "LocT", "Attr", "CInf", "Dbgi", "Abst",
};

struct chunk {
    const uint8_t *p;
    size_t n;
    bool found;
};

struct atom_ref {
    const uint8_t *p; /* into the image: latin-1 for "Atom", UTF-8 for "AtU8" */
    size_t len;
};

struct beam_ctx {
    struct arena *a;
    const char *name;
    struct chunk ch[CH_COUNT];
    struct atom_ref *atoms; /* atoms[1..natoms]: beam atom indices are 1-based */
    size_t natoms;
    bool latin1;
    const char **atom_text; /* NUL-terminated UTF-8 copies, made when first needed */
};

/* An ImpT/ExpT/LocT entry as atom indices, sorted the way beam_lib sorts the tuples. */
struct sym {
    uint64_t kmod, kfun; /* atom_key of mod and fun */
    uint32_t mod;        /* 0 for exports and locals */
    uint32_t fun;
    uint32_t arity;
};

/* bad - record a malformed beam (KERR_INPUT, naming the file) and return -1 */
#define bad(name, ...) kerr_set(KERR_INPUT, (name), 0, 0, __VA_ARGS__)


/* printable copy of a 4-byte chunk id for messages */
static void id_text(const uint8_t *p, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' ? (char)p[i] : '?';
    out[4] = 0;
}

bool beam_is_beam(const uint8_t *data, size_t len)
{
    if (len >= 12 && memcmp(data, "FOR1", 4) == 0 && memcmp(data + 8, "BEAM", 4) == 0)
        return true;
    return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/* gunzip - inflate the gzip image IN into a malloc'd *OUT (caller frees); -1 on bad data */
static int gunzip(const char *name, const uint8_t *in, size_t n, uint8_t **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (n > UINT_MAX)
        return bad(name, "gzip-compressed beam is too large");
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return bad(name, "cannot start zlib inflate");
    size_t cap = n < BEAM_GUNZIP_MAX / 4 ? n * 4 + 4096 : BEAM_GUNZIP_MAX;
    size_t len = 0;
    uint8_t *buf = xmalloc(cap);
    int rc = -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    for (;;) {
        if (len == cap) {
            if (cap >= BEAM_GUNZIP_MAX) {
                bad(name, "gzip-compressed beam inflates to more than %zu bytes", BEAM_GUNZIP_MAX);
                goto done;
            }
            cap = cap * 2 < BEAM_GUNZIP_MAX ? cap * 2 : BEAM_GUNZIP_MAX;
            buf = xrealloc(buf, cap);
        }
        size_t room = cap - len < UINT_MAX ? cap - len : UINT_MAX;
        z.next_out = buf + len;
        z.avail_out = (uInt)room;
        int zr = inflate(&z, Z_NO_FLUSH);
        len += room - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && z.avail_out == 0)
            continue;
        if (zr != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
            bad(name, "bad gzip data: %s",
                zr == Z_OK || zr == Z_BUF_ERROR ? "unexpected end of data"
                                                : (z.msg ? z.msg : "inflate failed"));
            goto done;
        }
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    rc = 0;
done:
    inflateEnd(&z);
    free(buf);
    return rc;
}

/* read_u_compact - a value in the compact term encoding with tag u (beam_asm:encode/2), as
 * OTP 26+ uses for atom lengths when the atom count is negative; -1 when malformed */
static int read_u_compact(const uint8_t *p, size_t n, size_t *pos, size_t *val)
{
    if (*pos >= n)
        return -1;
    uint8_t b = p[(*pos)++];
    if ((b & 0x07) != 0)
        return -1;
    if (!(b & 0x08)) {
        *val = b >> 4;
        return 0;
    }
    if (!(b & 0x10)) {
        if (*pos >= n)
            return -1;
        *val = (size_t)(b & 0xe0) << 3 | p[(*pos)++];
        return 0;
    }
    size_t nbytes = (size_t)(b >> 5) + 2;
    if (nbytes == 9)
        return -1; /* a length that needs more than 8 bytes is no atom length */
    if (nbytes > n - *pos || nbytes > sizeof(size_t))
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < nbytes; i++)
        v = v << 8 | p[(*pos)++];
    *val = v;
    return 0;
}

/* ascii_only - whether no byte of P[0..N) has its high bit set */
static bool ascii_only(const uint8_t *p, size_t n)
{
    uint64_t acc = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return (acc & 0x8080808080808080u) == 0;
}

/* read_atoms - the atom table; like beam_lib, the count is not trusted: atoms run to the end
 * of the chunk (a negative count means OTP 26's compact length encoding) */
static int read_atoms(struct beam_ctx *c)
{
    const struct chunk *ch = c->ch[CH_ATU8].found ? &c->ch[CH_ATU8] : &c->ch[CH_ATOM];
    const char *id = c->ch[CH_ATU8].found ? "AtU8" : "Atom";
    if (!ch->found)
        return bad(c->name, "missing atom table (no 'AtU8' or 'Atom' chunk)");
    c->latin1 = !c->ch[CH_ATU8].found;
    if (ch->n < 4)
        return bad(c->name, "malformed chunk '%s': %zu bytes is too short", id, ch->n);
    bool compact = (int32_t)beam_be32(ch->p) < 0;
    const uint8_t *p = ch->p;
    size_t n = ch->n;
    /* a chunk of ASCII bytes only (lengths included) holds valid UTF-8 atoms */
    bool check_utf8 = !c->latin1 && !ascii_only(p + 4, n - 4);
    /* two passes: check and count, then record; the count in the chunk is not trusted */
    for (int pass = 0; pass < 2; pass++) {
        size_t pos = 4, k = 0;
        while (pos < n) {
            size_t len;
            if (compact) {
                if (read_u_compact(p, n, &pos, &len) != 0)
                    return bad(c->name, "malformed chunk '%s': bad length of atom %zu", id, k + 1);
            } else {
                len = p[pos++];
            }
            if (len > n - pos)
                return bad(c->name, "malformed chunk '%s': atom %zu runs past the end of the chunk",
                           id, k + 1);
            if (pass == 0 && check_utf8 && !utf8_valid(p + pos, len))
                return bad(c->name, "malformed chunk '%s': atom %zu is not valid UTF-8", id, k + 1);
            k++;
            if (pass == 1) {
                c->atoms[k].p = p + pos;
                c->atoms[k].len = len;
            }
            pos += len;
        }
        if (k == 0)
            return bad(c->name, "malformed chunk '%s': no atoms (the module name is missing)", id);
        if (pass == 0) {
            c->natoms = k;
            c->atoms = arena_alloc(c->a, (k + 1) * sizeof *c->atoms);
            c->atom_text = arena_alloc(c->a, (k + 1) * sizeof *c->atom_text);
        }
    }
    return 0;
}

/* atom_text - atom I (already range-checked) as NUL-terminated UTF-8 in the arena */
static const char *atom_text(struct beam_ctx *c, uint32_t i)
{
    if (c->atom_text[i])
        return c->atom_text[i];
    const struct atom_ref *r = &c->atoms[i];
    char *s;
    if (!c->latin1) {
        s = arena_memdup(c->a, r->p, r->len);
    } else {
        size_t hi = 0;
        for (size_t j = 0; j < r->len; j++)
            hi += r->p[j] >= 0x80;
        s = arena_alloc(c->a, r->len + hi + 1);
        size_t o = 0;
        for (size_t j = 0; j < r->len; j++) {
            uint8_t b = r->p[j];
            if (b < 0x80) {
                s[o++] = (char)b;
            } else {
                s[o++] = (char)(0xc0 | b >> 6);
                s[o++] = (char)(0x80 | (b & 0x3f));
            }
        }
        s[o] = 0;
    }
    c->atom_text[i] = s;
    return s;
}

/* atom order: byte-wise on the names (code point order for UTF-8 and latin-1 alike) */
static int atom_cmp(const struct beam_ctx *c, uint32_t x, uint32_t y)
{
    if (x == y)
        return 0;
    const struct atom_ref *a = &c->atoms[x], *b = &c->atoms[y];
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(a->p, b->p, n) : 0;
    if (r)
        return r;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* atom_key - the first 8 bytes of atom I's name, big-endian, zero-padded: keys that differ
 * order their atoms as atom_cmp does (a shorter name pads with zeros, which sort first) */
static uint64_t atom_key(const struct beam_ctx *c, uint32_t i)
{
    const struct atom_ref *r = &c->atoms[i];
    uint64_t k = 0;
    if (r->len >= 8) {
        memcpy(&k, r->p, 8);
        return __builtin_bswap64(k);
    }
    for (size_t j = 0; j < 8; j++)
        k = k << 8 | (j < r->len ? r->p[j] : 0);
    return k;
}

static bool sym_less(const struct beam_ctx *c, const struct sym *x, const struct sym *y)
{
    if (x->kmod != y->kmod)
        return x->kmod < y->kmod;
    int r = x->mod == y->mod ? 0 : atom_cmp(c, x->mod, y->mod);
    if (r)
        return r < 0;
    if (x->kfun != y->kfun)
        return x->kfun < y->kfun;
    r = x->fun == y->fun ? 0 : atom_cmp(c, x->fun, y->fun);
    if (r)
        return r < 0;
    return x->arity < y->arity;
}

/* sym_sort - S[0..N) in beam_lib's order: runs of 16 by insertion, then merged through TMP
 * (N entries); most comparisons are settled by the keys, without touching the names */
static void sym_sort(const struct beam_ctx *c, struct sym *s, struct sym *tmp, size_t n)
{
    enum { RUN = 16 };
    for (size_t lo = 0; lo < n; lo += RUN) {
        size_t hi = lo + RUN < n ? lo + RUN : n;
        for (size_t i = lo + 1; i < hi; i++) {
            struct sym v = s[i];
            size_t j = i;
            for (; j > lo && sym_less(c, &v, &s[j - 1]); j--)
                s[j] = s[j - 1];
            s[j] = v;
        }
    }
    struct sym *from = s, *to = tmp;
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                to[o++] = sym_less(c, &from[j], &from[i]) ? from[j++] : from[i++];
            while (i < mid)
                to[o++] = from[i++];
            while (j < hi)
                to[o++] = from[j++];
        }
        struct sym *t = from;
        from = to;
        to = t;
    }
    if (from != s)
        memcpy(s, from, n * sizeof *s);
}

/* read_symbols - ImpT (WITH_MOD) or ExpT/LocT: 12-byte entries after a count that beam_lib
 * ignores; the result is sorted as beam_lib:chunks/2 sorts it */
static int read_symbols(struct beam_ctx *c, enum beam_chunk which, bool with_mod,
                        struct beam_mfa **out, size_t *nout)
{
    const struct chunk *ch = &c->ch[which];
    const char *id = chunk_ids[which];
    *out = NULL;
    *nout = 0;
    if (!ch->found)
        return 0;
    if (ch->n < 4 || (ch->n - 4) % 12 != 0)
        return bad(c->name, "malformed chunk '%s': size %zu is not 4 + 12 * entries", id, ch->n);
    size_t n = (ch->n - 4) / 12;
    if (n == 0)
        return 0;
    struct sym *s = arena_alloc_raw(c->a, 2 * n * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = ch->p + 4 + 12 * i;
        uint32_t a1 = beam_be32(e), a2 = beam_be32(e + 4), a3 = beam_be32(e + 8);
        uint32_t fun = with_mod ? a2 : a1;
        if (a1 == 0 || a1 > c->natoms || (with_mod && (a2 == 0 || a2 > c->natoms)))
            return bad(c->name, "atom index %u out of range in chunk '%s' entry %zu (%zu atoms)",
                       a1 == 0 || a1 > c->natoms ? a1 : a2, id, i + 1, c->natoms);
        s[i].mod = with_mod ? a1 : 0;
        s[i].fun = fun;
        s[i].arity = with_mod ? a3 : a2;
        s[i].kmod = with_mod ? atom_key(c, a1) : 0;
        s[i].kfun = atom_key(c, fun);
    }
    sym_sort(c, s, s + n, n);
    struct beam_mfa *m = arena_alloc_raw(c->a, n * sizeof *m);
    for (size_t i = 0; i < n; i++) {
        m[i].mod = s[i].mod ? atom_text(c, s[i].mod) : NULL;
        m[i].fun = atom_text(c, s[i].fun);
        m[i].arity = s[i].arity;
    }
    *out = m;
    *nout = n;
    return 0;
}

/* The MD5 implementation, fetched once: EVP_md5() would be looked up again in the
 * provider tables at every EVP_DigestInit_ex, which costs as much as hashing a small beam */
static EVP_MD *md5_impl;
static pthread_once_t md5_once = PTHREAD_ONCE_INIT;

static void md5_fetch(void)
{
    md5_impl = EVP_MD_fetch(NULL, "MD5", NULL);
}

/* compute_md5 - beam_lib:md5/1: the md5 chunks that are present, in its order; in FunT the
 * old-uniq word of each entry is hashed as zero (beam_lib's filter_funtab) */
static int compute_md5(struct beam_ctx *c, uint8_t md5[16])
{
    int rc = -1;
    unsigned int mdlen = 0;
    pthread_once(&md5_once, md5_fetch);
    EVP_MD_CTX *md = md5_impl ? EVP_MD_CTX_new() : NULL;
    if (!md || EVP_DigestInit_ex(md, md5_impl, NULL) != 1) {
        bad(c->name, "cannot start md5");
        goto done;
    }
    for (int i = 0; i <= CH_MD5_LAST; i++) {
        const struct chunk *ch = &c->ch[i];
        if (!ch->found)
            continue;
        if (i != CH_FUNT || ch->n < 4) {
            EVP_DigestUpdate(md, ch->p, ch->n);
            continue;
        }
        /* FunT in batches of whole entries, each with its old-uniq word zeroed */
        uint8_t batch[24 * 64];
        size_t pos = 4, k = 0;
        EVP_DigestUpdate(md, ch->p, 4);
        for (; ch->n - pos >= 24; pos += 24) {
            memcpy(batch + k, ch->p + pos, 20);
            memset(batch + k + 20, 0, 4);
            if ((k += 24) == sizeof batch) {
                EVP_DigestUpdate(md, batch, k);
                k = 0;
            }
        }
        EVP_DigestUpdate(md, batch, k);
        EVP_DigestUpdate(md, ch->p + pos, ch->n - pos);
    }
    if (EVP_DigestFinal_ex(md, md5, &mdlen) != 1 || mdlen != 16) {
        bad(c->name, "cannot compute md5");
        goto done;
    }
    rc = 0;
done:
    EVP_MD_CTX_free(md);
    return rc;
}

/* decode_chunk - binary_to_term of chunk WHICH; an ETF error is reported for the chunk */
static const struct term *decode_chunk(struct beam_ctx *c, enum beam_chunk which, const uint8_t *p,
                                       size_t n)
{
    const struct term *t = etf_decode(c->a, c->name, p, n);
    if (!t) {
        char msg[sizeof kerr_get()->msg];
        snprintf(msg, sizeof msg, "%s", kerr_get()->msg);
        bad(c->name, "malformed chunk '%s': %s", chunk_ids[which], msg);
    }
    return t;
}

/* merge_attr - the values of every {KEY, V} in ATTRS appended, as beam_lib merges repeated
 * attributes; *OUT is NULL when there is none; -1 when a value other than the last is not a
 * proper list (beam_lib fails on those too) */
static int merge_attr(struct beam_ctx *c, const struct term *attrs, const char *key,
                      const struct term **out)
{
    size_t n = 0, nel = 0, lasti = 0, count = 0;
    const struct term *const *el = term_list_els(attrs, &n);
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!term_is_atom(el[i]->u.tuple.el[0], key))
            continue;
        if (count++ > 0) {
            long m = term_list_len(el[lasti]->u.tuple.el[1]);
            if (m < 0)
                return bad(c->name, "attribute '%s' has a value that is not a list", key);
            nel += (size_t)m;
        }
        lasti = i;
    }
    if (count == 0)
        return 0;
    const struct term *last = el[lasti]->u.tuple.el[1];
    if (count == 1) {
        *out = last;
        return 0;
    }
    const struct term **all = arena_alloc(c->a, (nel ? nel : 1) * sizeof *all);
    size_t o = 0;
    for (size_t i = 0; i < lasti; i++) {
        if (!term_is_atom(el[i]->u.tuple.el[0], key))
            continue;
        size_t m;
        const struct term *const *vs = term_list_els(el[i]->u.tuple.el[1], &m);
        for (size_t j = 0; j < m; j++)
            all[o++] = vs[j];
    }
    *out = term_list(c->a, all, o, last);
    return 0;
}

/* read_attributes - the Attr chunk as module_info(attributes), plus vsn and behaviours */
static int read_attributes(struct beam_ctx *c, struct beam_info *out)
{
    out->attributes = term_nil();
    out->vsn = term_nil();
    const struct chunk *ch = &c->ch[CH_ATTR];
    if (!ch->found)
        return 0;
    const struct term *t = decode_chunk(c, CH_ATTR, ch->p, ch->n);
    if (!t)
        return -1;
    size_t n = 0;
    const struct term *const *el = term_list_els(t, &n);
    if (!term_is_list(t))
        return bad(c->name, "malformed chunk 'Attr': not a list");
    for (size_t i = 0; i < n; i++)
        if (!term_is_tuple(el[i], 2) || el[i]->u.tuple.el[0]->type != TERM_ATOM)
            return bad(c->name, "malformed chunk 'Attr': element %zu is not {Name, Value}", i + 1);
    out->attributes = t;

    const struct term *v;
    if (merge_attr(c, t, "vsn", &v) != 0)
        return -1;
    if (v)
        out->vsn = v;
    /* behaviours: both spellings, each occurrence in file order */
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        const struct term *k = el[i]->u.tuple.el[0];
        if (term_is_atom(k, "behaviour") || term_is_atom(k, "behavior")) {
            long m = term_list_len(el[i]->u.tuple.el[1]);
            nb += m > 0 ? (size_t)m : 1;
        }
    }
    out->behaviours = arena_alloc(c->a, (nb ? nb : 1) * sizeof *out->behaviours);
    for (size_t i = 0; i < n; i++) {
        const struct term *k = el[i]->u.tuple.el[0], *val = el[i]->u.tuple.el[1];
        if (!term_is_atom(k, "behaviour") && !term_is_atom(k, "behavior"))
            continue;
        size_t m = 1;
        const struct term *const *vs = &val;
        if (term_is_list(val))
            vs = term_list_els(val, &m);
        for (size_t j = 0; j < m; j++)
            if (vs[j]->type == TERM_ATOM)
                out->behaviours[out->nbehaviours++] = vs[j]->u.atom.name;
    }
    return 0;
}

/* skip_atom_ext - past one ETF atom at H[*I]: 1 when it is one (and equals WANT, unless
 * WANT is NULL), 0 when it is not, -1 when it runs past N */
static int skip_atom_ext(const uint8_t *h, size_t n, size_t *i, const char *want)
{
    if (*i >= n)
        return -1;
    uint8_t tag = h[(*i)++];
    size_t len;
    if (tag == 100 || tag == 118) {
        if (n - *i < 2)
            return -1;
        len = (size_t)h[*i] << 8 | h[*i + 1];
        *i += 2;
    } else if (tag == 115 || tag == 119) {
        if (n - *i < 1)
            return -1;
        len = h[(*i)++];
    } else {
        return 0;
    }
    if (len > n - *i)
        return -1;
    bool match = !want || (strlen(want) == len && memcmp(h + *i, want, len) == 0);
    *i += len;
    return match;
}

/* head_is_none - whether the term text HEAD[0..HN) (after the version byte) starts
 * {debug_info_v1, _, {none, ...: 1 yes, 0 no, -1 when HN bytes do not tell */
static int head_is_none(const uint8_t *head, size_t hn)
{
    size_t i = 0;
    if (hn < 2)
        return -1;
    if (head[0] != 104 || head[1] != 3)
        return 0;
    i = 2;
    int r = skip_atom_ext(head, hn, &i, "debug_info_v1");
    if (r != 1)
        return r;
    if ((r = skip_atom_ext(head, hn, &i, NULL)) != 1)
        return r;
    if (hn - i < 2)
        return -1;
    if (head[i] != 104 || head[i + 1] != 2)
        return 0;
    i += 2;
    return skip_atom_ext(head, hn, &i, "none");
}

/* zlib's default allocator zeroes its 40 KB of state and window; inflate does not need it */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

/* ---- the head of a zlib stream, inflated here ----
 * Telling whether Dbgi says {none, _} needs only its first bytes, and for those zlib's
 * set-up (its state and window allocated, its decoding tables built) costs more than the
 * decoding. This reader decodes canonical Huffman codes bit by bit (RFC 1950, RFC 1951)
 * and gives up on anything unusual (a preset dictionary, an incomplete or invalid code,
 * the stream's end, which zlib would check against the Adler-32): zlib then decides, so
 * every answer is the one zlib gives. */

struct hbits {
    const uint8_t *p;
    size_t n, pos;
    uint64_t buf; /* bits read ahead and not yet used, the next one lowest */
    int cnt;
};

static void hbits_fill(struct hbits *s)
{
    while (s->cnt <= 56 && s->pos < s->n) {
        s->buf |= (uint64_t)s->p[s->pos++] << s->cnt;
        s->cnt += 8;
    }
}

/* hbits_get - the next K (<= 16) bits, first bit lowest; -1 at the end of the input */
static int hbits_get(struct hbits *s, int k, uint32_t *v)
{
    if (s->cnt < k) {
        hbits_fill(s);
        if (s->cnt < k)
            return -1;
    }
    *v = (uint32_t)(s->buf & ((1u << k) - 1));
    s->buf >>= k;
    s->cnt -= k;
    return 0;
}

struct hcode {
    uint16_t count[16]; /* codes of each length */
    uint16_t sym[288];  /* symbols by code */
};

/* hcode_build - the canonical code of LENS[0..N); -1 unless the code is complete */
static int hcode_build(struct hcode *h, const uint8_t *lens, int n)
{
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++)
        h->count[lens[i]]++;
    int left = 1;
    for (int len = 1; len < 16; len++) {
        left = 2 * left - h->count[len];
        if (left < 0)
            return -1;
    }
    if (left != 0)
        return -1;
    uint16_t next[16];
    next[1] = 0;
    for (int len = 1; len < 15; len++)
        next[len + 1] = (uint16_t)(next[len] + h->count[len]);
    for (int i = 0; i < n; i++)
        if (lens[i])
            h->sym[next[lens[i]]++] = (uint16_t)i;
    return 0;
}

/* hcode_decode - the next symbol, its code read bit by bit (codes are sent first bit
 * highest); -1 at the end of the input */
static int hcode_decode(struct hbits *s, const struct hcode *h)
{
    if (s->cnt < 15)
        hbits_fill(s);
    uint64_t b = s->buf;
    int code = 0, first = 0, index = 0;
    for (int len = 1; len < 16 && len <= s->cnt; len++) {
        code |= (int)(b & 1);
        b >>= 1;
        int count = h->count[len];
        if (code - first < count) {
            s->buf = b;
            s->cnt -= len;
            return h->sym[index + code - first];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

/* hcode_table7 - T[b] = symbol << 3 | length of the code (of at most 7 bits, complete)
 * that the next 7 bits B start with: the code-length code read a symbol at a time */
static void hcode_table7(const struct hcode *h, uint8_t t[128])
{
    int code = 0, idx = 0;
    for (int len = 1; len <= 7; len++) {
        for (int k = 0; k < h->count[len]; k++, code++, idx++) {
            int r = 0;
            for (int b = 0; b < len; b++)
                r |= ((code >> b) & 1) << (len - 1 - b);
            for (int e = r; e < 128; e += 1 << len)
                t[e] = (uint8_t)(h->sym[idx] << 3 | len);
        }
        code <<= 1;
    }
}

/* hcode_dynamic - the literal/length and distance codes of a dynamic block */
static int hcode_dynamic(struct hbits *s, struct hcode *lit, struct hcode *dist)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                      11, 4, 12, 3, 13, 2, 14, 1, 15};
    uint32_t hlit, hdist, hclen, v;
    if (hbits_get(s, 5, &hlit) || hbits_get(s, 5, &hdist) || hbits_get(s, 4, &hclen))
        return -1;
    int nlit = (int)hlit + 257, ndist = (int)hdist + 1;
    if (nlit > 286 || ndist > 30)
        return -1;
    uint8_t lens[286 + 30];
    memset(lens, 0, 19);
    for (uint32_t i = 0; i < hclen + 4; i++) {
        if (hbits_get(s, 3, &v))
            return -1;
        lens[order[i]] = (uint8_t)v;
    }
    struct hcode cl;
    uint8_t clt[128];
    if (hcode_build(&cl, lens, 19) != 0)
        return -1;
    hcode_table7(&cl, clt);
    for (int i = 0; i < nlit + ndist;) {
        int sym;
        if (s->cnt < 7)
            hbits_fill(s);
        if (s->cnt >= 7) {
            uint8_t e = clt[s->buf & 127];
            s->buf >>= e & 7;
            s->cnt -= e & 7;
            sym = e >> 3;
        } else {
            sym = hcode_decode(s, &cl);
        }
        if (sym < 0)
            return -1;
        if (sym < 16) {
            lens[i++] = (uint8_t)sym;
            continue;
        }
        uint8_t val = 0;
        int rep;
        if (sym == 16) {
            if (i == 0 || hbits_get(s, 2, &v))
                return -1;
            val = lens[i - 1];
            rep = 3 + (int)v;
        } else if (sym == 17) {
            if (hbits_get(s, 3, &v))
                return -1;
            rep = 3 + (int)v;
        } else {
            if (hbits_get(s, 7, &v))
                return -1;
            rep = 11 + (int)v;
        }
        if (rep > nlit + ndist - i)
            return -1;
        while (rep--)
            lens[i++] = val;
    }
    if (lens[256] == 0)
        return -1;
    if (hcode_build(lit, lens, nlit) != 0 || hcode_build(dist, lens + nlit, ndist) != 0)
        return -1;
    return 0;
}

/* hcode_fixed - the codes of a fixed block */
static void hcode_fixed(struct hcode *lit, struct hcode *dist)
{
    uint8_t lens[288];
    int i = 0;
    for (; i < 144; i++)
        lens[i] = 8;
    for (; i < 256; i++)
        lens[i] = 9;
    for (; i < 280; i++)
        lens[i] = 7;
    for (; i < 288; i++)
        lens[i] = 8;
    hcode_build(lit, lens, 288);
    /* 32 codes of 5 bits, of which 30 and 31 are invalid */
    memset(dist->count, 0, sizeof dist->count);
    dist->count[5] = 32;
    for (i = 0; i < 32; i++)
        dist->sym[i] = (uint16_t)i;
}

/* head_inflate - the first WANT bytes of the zlib stream P[0..N) into OUT; 0, or -1 when
 * this reader gives up (see above) */
static int head_inflate(const uint8_t *p, size_t n, uint8_t *out, size_t want)
{
    static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,
                                          15, 17, 19, 23, 27, 31, 35, 43, 51,  59,
                                          67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                          2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const uint16_t dist_base[30] = {
        1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                           6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    if (n < 2 || (p[0] & 0x0f) != 8 || (p[0] >> 4) > 7 || ((p[0] << 8) | p[1]) % 31 != 0 ||
        (p[1] & 0x20))
        return -1;
    struct hbits s = {p + 2, n - 2, 0, 0, 0};
    struct hcode lit, dist;
    size_t o = 0;
    while (o < want) {
        uint32_t last, type, v;
        if (hbits_get(&s, 1, &last) || hbits_get(&s, 2, &type))
            return -1;
        if (type == 0) {
            /* to the byte boundary; whole bytes read ahead go back to the input */
            s.pos -= (size_t)(s.cnt / 8);
            s.buf = 0;
            s.cnt = 0;
            if (s.n - s.pos < 4)
                return -1;
            size_t len = s.p[s.pos] | (size_t)s.p[s.pos + 1] << 8;
            size_t nlen = s.p[s.pos + 2] | (size_t)s.p[s.pos + 3] << 8;
            s.pos += 4;
            if (len != (~nlen & 0xffff) || len > s.n - s.pos)
                return -1;
            size_t k = len < want - o ? len : want - o;
            memcpy(out + o, s.p + s.pos, k);
            s.pos += len;
            o += k;
        } else {
            if (type == 1)
                hcode_fixed(&lit, &dist);
            else if (type != 2 || hcode_dynamic(&s, &lit, &dist) != 0)
                return -1;
            for (;;) {
                if (o == want)
                    return 0;
                int sym = hcode_decode(&s, &lit);
                if (sym < 0 || sym > 285)
                    return -1;
                if (sym == 256)
                    break;
                if (sym < 256) {
                    out[o++] = (uint8_t)sym;
                    continue;
                }
                sym -= 257;
                if (hbits_get(&s, len_extra[sym], &v))
                    return -1;
                size_t len = len_base[sym] + v;
                int d = hcode_decode(&s, &dist);
                if (d < 0 || d > 29 || hbits_get(&s, dist_extra[d], &v))
                    return -1;
                size_t back = dist_base[d] + v;
                if (back > o)
                    return -1;
                for (; len > 0 && o < want; len--, o++)
                    out[o] = out[o - back];
            }
        }
        if (o < want && last)
            return -1; /* the stream ends: zlib would check it */
    }
    return 0;
}

/* dbgi_is_none - whether Dbgi holds {debug_info_v1, Backend, {none, _}} (what erlc writes
 * without +debug_info), judged from the first bytes so nothing large is decoded: 64 bytes
 * tell for every backend name up to 30 bytes long, the rest are inflated only when needed
 * (building the Huffman tables costs the most; each byte inflated costs too) */
static bool dbgi_is_none(const uint8_t *p, size_t n)
{
    uint8_t head[256]; /* enough for {debug_info_v1, <any atom>, {none, ... */
    if (n < 2 || p[0] != 131)
        return false;
    if (p[1] != 80) {
        size_t hn = n - 1 < sizeof head ? n - 1 : sizeof head;
        return head_is_none(p + 1, hn) == 1;
    }
    if (n < 6 || n - 6 > UINT_MAX)
        return false;
    if (head_inflate(p + 6, n - 6, head, 64) == 0) {
        int r = head_is_none(head, 64);
        if (r >= 0)
            return r == 1;
        if (head_inflate(p + 6, n - 6, head, sizeof head) == 0)
            return head_is_none(head, sizeof head) == 1;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = z_alloc;
    z.zfree = z_free;
    if (inflateInit(&z) != Z_OK)
        return false;
    z.next_in = (Bytef *)(p + 6);
    z.avail_in = (uInt)(n - 6);
    size_t got = 0;
    int r = -1;
    for (size_t want = 64;; want = sizeof head) {
        z.next_out = head + got;
        z.avail_out = (uInt)(want - got);
        int zr = inflate(&z, Z_SYNC_FLUSH);
        got = want - z.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            break;
        r = head_is_none(head, got);
        /* decided, or no more bytes to come */
        if (r >= 0 || zr == Z_STREAM_END || z.avail_out != 0 || want == sizeof head)
            break;
    }
    inflateEnd(&z);
    return r == 1;
}

/* read_debug_info - Dbgi (or the older Abst): whether there is debug info, and its term */
static int read_debug_info(struct beam_ctx *c, bool decode, struct beam_info *out)
{
    enum beam_chunk which = c->ch[CH_DBGI].found && c->ch[CH_DBGI].n > 0 ? CH_DBGI : CH_ABST;
    const struct chunk *ch = &c->ch[which];
    if (!ch->found || ch->n == 0)
        return 0;
    if (ch->p[0] == 0) {
        out->has_debug_info = true; /* encrypted: <<0, N, Mode:N/binary, Crypted/binary>> */
        return 0;
    }
    if (which == CH_DBGI && dbgi_is_none(ch->p, ch->n))
        return 0;
    out->has_debug_info = true;
    if (decode && !(out->debug_info = decode_chunk(c, which, ch->p, ch->n)))
        return -1;
    return 0;
}

/* walk_chunks - find every chunk we know (the first of each id) in the IFF image */
static int walk_chunks(struct beam_ctx *c, const uint8_t *data, size_t len)
{
    if (len < 12 || memcmp(data, "FOR1", 4) != 0 || memcmp(data + 8, "BEAM", 4) != 0)
        return bad(c->name, "not a beam file (no 'FOR1' ... 'BEAM' header)");
    /* like beam_lib, the FOR1 size is not used: chunks run to the end of the data */
    size_t pos = 12;
    while (pos < len) {
        char id[5];
        if (len - pos < 8)
            return bad(c->name, "truncated chunk header at byte %zu (%zu bytes left)", pos,
                       len - pos);
        id_text(data + pos, id);
        size_t size = beam_be32(data + pos + 4);
        if (size > len - pos - 8)
            return bad(c->name,
                       "chunk '%s' at byte %zu is %zu bytes but only %zu remain in the file", id,
                       pos, size, len - pos - 8);
        uint32_t tag = beam_be32(data + pos);
        for (int i = 0; i < CH_COUNT; i++) {
            if (tag == beam_be32((const uint8_t *)chunk_ids[i]) && !c->ch[i].found) {
                c->ch[i].p = data + pos + 8;
                c->ch[i].n = size;
                c->ch[i].found = true;
                break;
            }
        }
        size_t padded = (size + 3) & ~(size_t)3;
        /* a last chunk whose padding is cut off is accepted, as beam_lib accepts it */
        pos = padded > len - pos - 8 ? len : pos + 8 + padded;
    }
    return 0;
}

/* What beam_parse decodes besides the facts every reader gets. */
enum beam_parts {
    BEAM_DEBUG = 1,  /* the debug info term */
    BEAM_LOCALS = 2, /* LocT */
    BEAM_CINF = 4,   /* CInf */
};

static int beam_parse(struct arena *a, const char *name, const uint8_t *data, size_t len,
                      unsigned parts, struct beam_info *out)
{
    struct beam_ctx c;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    c.a = a;
    c.name = name;
    out->attributes = term_nil();
    out->compile_info = term_nil();
    out->vsn = term_nil();

    if (walk_chunks(&c, data, len) != 0 || read_atoms(&c) != 0)
        return -1;
    static const enum beam_chunk mandatory[] = {CH_CODE, CH_EXPT, CH_IMPT, CH_STRT};
    for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++)
        if (!c.ch[mandatory[i]].found)
            return bad(name, "missing chunk '%s'", chunk_ids[mandatory[i]]);
    out->module = atom_text(&c, 1);
    if (compute_md5(&c, out->md5) != 0)
        return -1;
    if (read_symbols(&c, CH_IMPT, true, &out->imports, &out->nimports) != 0 ||
        read_symbols(&c, CH_EXPT, false, &out->exports, &out->nexports) != 0 ||
        ((parts & BEAM_LOCALS) &&
         read_symbols(&c, CH_LOCT, false, &out->locals, &out->nlocals) != 0))
        return -1;
    const struct chunk *funt = &c.ch[CH_FUNT];
    if (funt->found) {
        if (funt->n < 4)
            return bad(name, "malformed chunk 'FunT': %zu bytes is too short", funt->n);
        size_t nf = beam_be32(funt->p);
        if (nf > (funt->n - 4) / 24)
            return bad(name, "malformed chunk 'FunT': %zu entries do not fit in %zu bytes", nf,
                       funt->n);
        out->nfuns = nf;
    }
    if (read_attributes(&c, out) != 0)
        return -1;
    if ((parts & BEAM_CINF) && c.ch[CH_CINF].found &&
        !(out->compile_info = decode_chunk(&c, CH_CINF, c.ch[CH_CINF].p, c.ch[CH_CINF].n)))
        return -1;
    return read_debug_info(&c, (parts & BEAM_DEBUG) != 0, out);
}

static int beam_read_any(struct arena *a, const char *name, const uint8_t *data, size_t len,
                         unsigned parts, struct beam_info *out)
{
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        uint8_t *raw = NULL;
        size_t rawlen = 0;
        if (gunzip(name, data, len, &raw, &rawlen) != 0)
            return -1;
        int rc = beam_parse(a, name, raw, rawlen, parts, out);
        free(raw);
        return rc;
    }
    return beam_parse(a, name, data, len, parts, out);
}

int beam_read_buf(struct arena *a, const char *name, const uint8_t *data, size_t len,
                  struct beam_info *out)
{
    return beam_read_any(a, name, data, len, BEAM_DEBUG | BEAM_LOCALS | BEAM_CINF, out);
}

int beam_read_facts(struct arena *a, const char *name, const uint8_t *data, size_t len,
                    struct beam_info *out)
{
    return beam_read_any(a, name, data, len, BEAM_LOCALS | BEAM_CINF, out);
}

int beam_read_summary(struct arena *a, const char *name, const uint8_t *data, size_t len,
                      struct beam_info *out)
{
    return beam_read_any(a, name, data, len, BEAM_CINF, out);
}

int beam_read_file(struct arena *a, const char *path, struct beam_info *out)
{
    struct arena scratch;
    arena_init(&scratch);
    size_t len = 0;
    const char *data = fs_read_file(&scratch, path, &len);
    int rc = data ? beam_read_buf(a, path, (const uint8_t *)data, len, out) : -1;
    arena_close(&scratch);
    return rc;
}

void beam_md5_hex(const struct beam_info *b, char hex[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[2 * i] = digits[b->md5[i] >> 4];
        hex[2 * i + 1] = digits[b->md5[i] & 15];
    }
    hex[32] = 0;
}

/* ---- beam_lib:strip ---- */

/* the chunks beam_lib:strip/1 keeps (its significant_chunks), in the order it writes them */
static const char *const strip_keep[] = {"Line", "Type", "Atom", "AtU8", "Code", "StrT",
                                         "ImpT", "ExpT", "FunT", "LitT", "Meta", NULL};

unsigned char *beam_strip(const char *name, const unsigned char *data, size_t len,
                          size_t *out_len)
{
    uint8_t *plain = NULL;
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        if (gunzip(name, data, len, &plain, &len) != 0)
            return NULL;
        data = plain;
    }
    if (len < 12 || memcmp(data, "FOR1", 4) != 0 || memcmp(data + 8, "BEAM", 4) != 0) {
        free(plain);
        kerr_set(KERR_INPUT, name, 0, 0, "not a beam file");
        return NULL;
    }
    size_t end = 8 + (size_t)beam_be32(data + 4);
    if (end > len)
        end = len;
    struct buf b = BUF_INIT;
    buf_add(&b, "FOR1\0\0\0\0BEAM", 12);
    for (size_t k = 0; strip_keep[k]; k++) {
        for (size_t off = 12; off + 8 <= end;) {
            size_t sz = beam_be32(data + off + 4);
            if (sz > end - off - 8)
                break;
            if (!memcmp(data + off, strip_keep[k], 4)) {
                buf_add(&b, data + off, 8 + sz);
                static const char zero[4] = {0};
                if (sz % 4)
                    buf_add(&b, zero, 4 - sz % 4);
                break;
            }
            off += 8 + ((sz + 3) & ~(size_t)3);
        }
    }
    free(plain);
    uint32_t total = (uint32_t)(b.len - 8);
    unsigned char hdr[4] = {total >> 24, total >> 16 & 0xff, total >> 8 & 0xff, total & 0xff};
    memcpy(b.p + 4, hdr, 4);
    /* zlib:gzip/1: deflate at the default level into a gzip wrapper */
    z_stream z = {0};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&z, b.len) + 32;
    unsigned char *out = xmalloc(cap);
    z.next_in = (unsigned char *)b.p;
    z.avail_in = (uInt)b.len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    buf_free(&b);
    return out;
}
