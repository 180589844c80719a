/* beam_code.c - decode a beam's Code chunk (compact-term encoding of the generic
 * instruction set, as OTP's beam_disasm reads it) into per-function facts for knit check */
#include "beam_code.h"
#include "beam.h"

#include "beam_ops.h"
#include "kerr.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BC_GUNZIP_MAX ((size_t)256 << 20)

/* compact-term tags (beam_opcodes.hrl) */
enum { TAG_U, TAG_I, TAG_A, TAG_X, TAG_Y, TAG_F, TAG_H, TAG_Z };

/* the opcodes looked at (beam_opcodes:opname/1) */
enum {
    OP_LABEL = 1,
    OP_FUNC_INFO = 2,
    OP_INT_CODE_END = 3,
    OP_CALL = 4,
    OP_CALL_LAST = 5,
    OP_CALL_ONLY = 6,
    OP_CALL_EXT = 7,
    OP_CALL_EXT_LAST = 8,
    OP_LOOP_REC = 23,
    OP_WAIT = 25,
    OP_WAIT_TIMEOUT = 26,
    OP_MOVE = 64,
    OP_CALL_EXT_ONLY = 78,
    OP_MAKE_FUN2 = 103,
    OP_LINE = 153,
    OP_MAKE_FUN3 = 171,
};

/* One decoded operand. VAL is meaningful for u/i/a/x/y/f/h when !BIG. */
struct opnd {
    uint8_t tag;
    bool big;
    uint64_t val;
};

struct rd {
    const char *name;
    const uint8_t *p;
    size_t n, pos;
    size_t base; /* offset of P in the chunk, for messages */
};

/* bad - record a malformed beam (KERR_INPUT, naming the file) and return -1 */
#define bad(name, ...) kerr_set(KERR_INPUT, (name), 0, 0, __VA_ARGS__)


static int trunc_err(struct rd *r)
{
    return bad(r->name, "malformed chunk 'Code': operand runs past the end at byte %zu",
               r->base + r->pos);
}

/* read_int - the integer part of a non-z operand whose first byte is B */
static int read_int(struct rd *r, uint8_t b, struct opnd *o)
{
    o->big = false;
    if (!(b & 0x08)) {
        o->val = b >> 4;
        return 0;
    }
    if (!(b & 0x10)) {
        if (r->pos >= r->n)
            return trunc_err(r);
        o->val = (uint64_t)(b & 0xe0) << 3 | r->p[r->pos++];
        return 0;
    }
    size_t len = (size_t)(b >> 5) + 2;
    if (len == 9) {
        /* the length itself follows as a u operand, plus 9 */
        struct opnd l;
        if (r->pos >= r->n)
            return trunc_err(r);
        uint8_t lb = r->p[r->pos++];
        if ((lb & 7) != TAG_U)
            return bad(r->name, "malformed chunk 'Code': bad bignum length at byte %zu",
                       r->base + r->pos - 1);
        if (read_int(r, lb, &l) != 0)
            return -1;
        if (l.big || l.val > r->n)
            return trunc_err(r);
        len = (size_t)l.val + 9;
    }
    if (len > r->n - r->pos)
        return trunc_err(r);
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        v = v << 8 | r->p[r->pos + i];
    o->big = len > 8;
    o->val = v;
    r->pos += len;
    return 0;
}

static int read_opnd(struct rd *r, struct opnd *o);

/* read_z - an extended operand (float, list, fr, alloc list, literal, typed register) */
static int read_z(struct rd *r, uint8_t b, struct opnd *o)
{
    if (b & 0x08)
        return bad(r->name, "malformed chunk 'Code': bad extended operand at byte %zu",
                   r->base + r->pos - 1);
    struct opnd t;
    switch (b >> 4) {
    case 0: /* float: 8 bytes */
        if (r->n - r->pos < 8)
            return trunc_err(r);
        r->pos += 8;
        return 0;
    case 1: { /* list: a u length, then that many operands */
        if (read_opnd(r, &t) != 0)
            return -1;
        if (t.tag != TAG_U || t.big || t.val > r->n - r->pos)
            return bad(r->name, "malformed chunk 'Code': bad list length at byte %zu",
                       r->base + r->pos);
        for (uint64_t i = 0; i < t.val; i++)
            if (read_opnd(r, &o[0]) != 0)
                return -1;
        o->tag = TAG_Z;
        return 0;
    }
    case 2: /* float register */
    case 4: /* literal */
        return read_opnd(r, &t);
    case 3: { /* allocation list: N pairs */
        if (read_opnd(r, &t) != 0)
            return -1;
        if (t.big || t.val > r->n - r->pos)
            return trunc_err(r);
        for (uint64_t i = 0; i < 2 * t.val; i++)
            if (read_opnd(r, &o[0]) != 0)
                return -1;
        o->tag = TAG_Z;
        return 0;
    }
    case 5: /* type-tagged register: the register, then a u type index */
        if (read_opnd(r, o) != 0)
            return -1;
        return read_opnd(r, &t);
    default:
        return bad(r->name, "malformed chunk 'Code': unknown extended operand %d at byte %zu",
                   b >> 4, r->base + r->pos - 1);
    }
}

static int read_opnd(struct rd *r, struct opnd *o)
{
    if (r->pos >= r->n)
        return trunc_err(r);
    uint8_t b = r->p[r->pos++];
    o->tag = b & 7;
    o->big = false;
    o->val = 0;
    if (o->tag == TAG_Z) {
        int rc = read_z(r, b, o);
        if (rc == 0 && o->tag == TAG_Z)
            o->val = 0;
        return rc;
    }
    return read_int(r, b, o);
}

/* find_chunk - the first chunk named ID in the IFF image, or NULL */
static const uint8_t *find_chunk(const uint8_t *d, size_t len, const char *id, size_t *n)
{
    size_t pos = 12;
    while (pos + 8 <= len) {
        size_t size = beam_be32(d + pos + 4);
        if (size > len - pos - 8)
            return NULL;
        if (memcmp(d + pos, id, 4) == 0) {
            *n = size;
            return d + pos + 8;
        }
        size_t padded = (size + 3) & ~(size_t)3;
        if (padded > len - pos - 8)
            break;
        pos += 8 + padded;
    }
    return NULL;
}

static int read_atoms(struct arena *a, const char *name, const uint8_t *d, size_t len,
                      struct beam_code *out)
{
    size_t n;
    const uint8_t *p = find_chunk(d, len, "AtU8", &n);
    if (!p)
        p = find_chunk(d, len, "Atom", &n);
    if (!p || n < 4)
        return bad(name, "missing or malformed atom table");
    int32_t cnt = (int32_t)beam_be32(p);
    bool compact = cnt < 0;
    size_t count = compact ? (size_t)(-(int64_t)cnt) : (size_t)cnt;
    if (count > n)
        return bad(name, "malformed atom table: %zu atoms in %zu bytes", count, n);
    out->atoms = arena_alloc(a, (count + 1) * sizeof *out->atoms);
    struct rd r = {name, p, n, 4, 0};
    for (size_t k = 1; k <= count; k++) {
        size_t l;
        if (compact) {
            struct opnd o;
            if (read_opnd(&r, &o) != 0 || o.big || o.val > n)
                return bad(name, "malformed atom table: bad length of atom %zu", k);
            l = (size_t)o.val;
        } else {
            if (r.pos >= n)
                return bad(name, "malformed atom table: atom %zu is missing", k);
            l = p[r.pos++];
        }
        if (l > n - r.pos)
            return bad(name, "malformed atom table: atom %zu runs past the end", k);
        out->atoms[k] = arena_memdup(a, p + r.pos, l);
        r.pos += l;
    }
    out->natoms = count;
    out->module = count ? out->atoms[1] : "";
    return 0;
}

static const char *atom_at(const struct beam_code *c, uint64_t i)
{
    return i >= 1 && i <= c->natoms ? c->atoms[i] : NULL;
}

static int read_tables(struct arena *a, const char *name, const uint8_t *d, size_t len,
                       struct beam_code *out)
{
    size_t n;
    const uint8_t *p = find_chunk(d, len, "ImpT", &n);
    if (p && n >= 4) {
        size_t cnt = beam_be32(p);
        if (cnt > (n - 4) / 12)
            return bad(name, "malformed chunk 'ImpT'");
        out->imports = arena_alloc(a, (cnt + 1) * sizeof *out->imports);
        for (size_t i = 0; i < cnt; i++) {
            const uint8_t *e = p + 4 + 12 * i;
            const char *m = atom_at(out, beam_be32(e)), *f = atom_at(out, beam_be32(e + 4));
            if (!m || !f)
                return bad(name, "malformed chunk 'ImpT': bad atom in entry %zu", i);
            out->imports[i] = (struct bc_import){m, f, beam_be32(e + 8)};
        }
        out->nimports = cnt;
    }
    p = find_chunk(d, len, "FunT", &n);
    if (p && n >= 4) {
        size_t cnt = beam_be32(p);
        if (cnt > (n - 4) / 24)
            return bad(name, "malformed chunk 'FunT'");
        out->fun_labels = arena_alloc(a, (cnt + 1) * sizeof *out->fun_labels);
        for (size_t i = 0; i < cnt; i++)
            out->fun_labels[i] = beam_be32(p + 4 + 24 * i + 8);
        out->nfuns = cnt;
    }
    out->fnames = arena_alloc(a, sizeof *out->fnames);
    out->fnames[0] = arena_sprintf(a, "%s.erl", out->module);
    out->nfnames = 1;
    p = find_chunk(d, len, "Line", &n);
    if (!p || n < 20)
        return 0; /* no line information: locations fall back to module and function */
    size_t nlines = beam_be32(p + 12), nf = beam_be32(p + 16);
    if (nlines > n || nf > n)
        return bad(name, "malformed chunk 'Line'");
    out->line_no = arena_alloc(a, (nlines + 1) * sizeof *out->line_no);
    out->line_file = arena_alloc(a, (nlines + 1) * sizeof *out->line_file);
    struct rd r = {name, p, n, 20, 0};
    uint32_t file = 0;
    size_t k = 0;
    while (k < nlines) {
        struct opnd o;
        if (read_opnd(&r, &o) != 0)
            return bad(name, "malformed chunk 'Line': bad item at byte %zu", r.pos);
        if (o.tag == TAG_A) {
            file = (uint32_t)o.val;
        } else {
            k++;
            out->line_no[k] = (uint32_t)o.val;
            out->line_file[k] = file;
        }
    }
    out->nlines = nlines;
    const char **fn = arena_alloc(a, (nf + 1) * sizeof *fn);
    fn[0] = out->fnames[0];
    for (size_t i = 1; i <= nf; i++) {
        if (n - r.pos < 2)
            return bad(name, "malformed chunk 'Line': file name %zu is missing", i);
        size_t l = (size_t)p[r.pos] << 8 | p[r.pos + 1];
        r.pos += 2;
        if (l > n - r.pos)
            return bad(name, "malformed chunk 'Line': file name %zu runs past the end", i);
        fn[i] = arena_memdup(a, p + r.pos, l);
        r.pos += l;
    }
    out->fnames = fn;
    out->nfnames = nf + 1;
    return 0;
}

struct vec {
    void *v;
    size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->v = xrealloc(v->v, v->cap * v->size);
    }
    void *p = (char *)v->v + v->n++ * v->size;
    memset(p, 0, v->size);
    return p;
}

/* decode - walk the instructions of the Code chunk */
static int decode(struct arena *a, const char *name, const uint8_t *p, size_t n,
                  struct beam_code *out)
{
    if (n < 4 || beam_be32(p) > n - 4 || beam_be32(p) < 16)
        return bad(name, "malformed chunk 'Code': bad header");
    size_t hdr = beam_be32(p);
    size_t nlabels = beam_be32(p + 12);
    if (nlabels > n * 2)
        return bad(name, "malformed chunk 'Code': %zu labels", nlabels);
    out->label_func = arena_alloc_raw(a, (nlabels + 1) * sizeof *out->label_func);
    memset(out->label_func, 0xff, (nlabels + 1) * sizeof *out->label_func);
    out->nlabels = nlabels + 1;
    struct rd r = {name, p + 4 + hdr, n - 4 - hdr, 0, 4 + hdr};
    struct vec funcs = {NULL, 0, 0, sizeof(struct bc_func)};
    struct vec ev = {NULL, 0, 0, sizeof(struct bc_event)};
    struct bc_func *cur = NULL;
    bool want_entry = false;
    uint32_t line = 0;
    uint32_t x[3] = {0, 0, 0};
    int rc = 0;
    while (r.pos < r.n) {
        size_t at = r.pos;
        uint8_t op = r.p[r.pos++];
        if (op == 0 || op > BEAM_OP_MAX || !beam_ops[op].name) {
            rc =
                bad(name, "malformed chunk 'Code': unknown opcode %u at byte %zu", op, r.base + at);
            break;
        }
        struct opnd o[8];
        unsigned ar = beam_ops[op].arity;
        for (unsigned i = 0; i < ar && rc == 0; i++)
            rc = read_opnd(&r, &o[i < 8 ? i : 7]);
        if (rc != 0)
            break;
        if (op == OP_INT_CODE_END)
            break;
        switch (op) {
        case OP_FUNC_INFO:
            if (cur)
                cur->ev_hi = ev.n;
            cur = vec_push(&funcs);
            cur->name = atom_at(out, o[1].val);
            cur->arity = (unsigned)o[2].val;
            cur->ev_lo = ev.n;
            if (!cur->name) {
                rc = bad(name, "malformed chunk 'Code': bad func_info at byte %zu", r.base + at);
                break;
            }
            /* a function starts with line, label, func_info: the line is its own (0 for
             * module_info) */
            cur->line = line;
            want_entry = true;
            break;
        case OP_LABEL:
            if (want_entry && cur) {
                cur->entry = (uint32_t)o[0].val;
                if (o[0].val < out->nlabels)
                    out->label_func[o[0].val] = (int32_t)(funcs.n - 1);
                want_entry = false;
            }
            break;
        case OP_LINE:
            line = (uint32_t)o[0].val;
            break;
        case OP_MOVE:
            if (o[1].tag == TAG_X && o[1].val < 3)
                x[o[1].val] = o[0].tag == TAG_A ? (uint32_t)o[0].val : 0;
            break;
        case OP_LOOP_REC:
            if (cur)
                cur->receives = true;
            break;
        default:
            break;
        }
        if (rc != 0 || !cur)
            continue;
        int kind = -1;
        uint32_t arg = 0;
        switch (op) {
        case OP_WAIT:
            kind = BC_WAIT;
            break;
        case OP_WAIT_TIMEOUT:
            kind = BC_WAIT_TIMEOUT;
            break;
        case OP_CALL:
            kind = BC_CALL, arg = (uint32_t)o[1].val;
            break;
        case OP_CALL_LAST:
        case OP_CALL_ONLY:
            kind = BC_TAIL, arg = (uint32_t)o[1].val;
            break;
        case OP_CALL_EXT:
            kind = BC_EXT, arg = (uint32_t)o[1].val;
            break;
        case OP_CALL_EXT_LAST:
        case OP_CALL_EXT_ONLY:
            kind = BC_EXT_TAIL, arg = (uint32_t)o[1].val;
            break;
        case OP_MAKE_FUN2:
        case OP_MAKE_FUN3:
            kind = BC_MAKE_FUN, arg = (uint32_t)o[0].val;
            break;
        default:
            break;
        }
        if (kind < 0)
            continue;
        struct bc_event *e = vec_push(&ev);
        e->kind = (uint8_t)kind;
        e->arg = arg;
        e->line = line;
        if (kind == BC_EXT || kind == BC_EXT_TAIL) {
            memcpy(e->x, x, sizeof x);
            if (arg >= out->nimports)
                rc = bad(name, "malformed chunk 'Code': import %u out of range at byte %zu", arg,
                         r.base + at);
        }
        if (kind == BC_CALL || kind == BC_TAIL || kind == BC_EXT || kind == BC_EXT_TAIL)
            memset(x, 0, sizeof x);
    }
    if (cur)
        cur->ev_hi = ev.n;
    if (rc == 0) {
        out->funcs = arena_memdup(a, funcs.v ? funcs.v : "", funcs.n * funcs.size);
        out->nfuncs = funcs.n;
        out->ev = arena_memdup(a, ev.v ? ev.v : "", ev.n * ev.size);
        out->nev = ev.n;
    }
    free(funcs.v);
    free(ev.v);
    return rc;
}

static int gunzip(const char *name, const uint8_t *in, size_t n, uint8_t **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (n > UINT_MAX || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return bad(name, "cannot inflate the gzip-compressed beam");
    size_t cap = n * 4 + 4096, len = 0;
    uint8_t *buf = xmalloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    int zr;
    do {
        if (len == cap) {
            if (cap >= BC_GUNZIP_MAX) {
                zr = Z_DATA_ERROR;
                break;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t room = cap - len < UINT_MAX ? cap - len : UINT_MAX;
        z.next_out = buf + len;
        z.avail_out = (uInt)room;
        zr = inflate(&z, Z_NO_FLUSH);
        len += room - z.avail_out;
    } while (zr == Z_OK || (zr == Z_BUF_ERROR && z.avail_out == 0));
    inflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return bad(name, "bad gzip data in the compressed beam");
    }
    *out = buf;
    *outlen = len;
    return 0;
}

int beam_code_read(struct arena *a, const char *name, const uint8_t *data, size_t len,
                   struct beam_code *out)
{
    memset(out, 0, sizeof *out);
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        uint8_t *raw = NULL;
        size_t rawlen = 0;
        if (gunzip(name, data, len, &raw, &rawlen) != 0)
            return -1;
        int rc = beam_code_read(a, name, raw, rawlen, out);
        /* the results are arena copies, except nothing points into RAW */
        free(raw);
        return rc;
    }
    if (len < 12 || memcmp(data, "FOR1", 4) != 0 || memcmp(data + 8, "BEAM", 4) != 0)
        return bad(name, "not a beam file (no 'FOR1' ... 'BEAM' header)");
    if (read_atoms(a, name, data, len, out) != 0 || read_tables(a, name, data, len, out) != 0)
        return -1;
    size_t n;
    const uint8_t *code = find_chunk(data, len, "Code", &n);
    if (!code)
        return bad(name, "missing chunk 'Code'");
    return decode(a, name, code, n, out);
}

const struct bc_func *beam_code_func_at(const struct beam_code *c, uint32_t label)
{
    if (label >= c->nlabels || c->label_func[label] < 0)
        return NULL;
    return &c->funcs[c->label_func[label]];
}

const struct bc_func *beam_code_find(const struct beam_code *c, const char *name, unsigned arity)
{
    for (size_t i = 0; i < c->nfuncs; i++)
        if (c->funcs[i].arity == arity && !strcmp(c->funcs[i].name, name))
            return &c->funcs[i];
    return NULL;
}

const char *beam_code_where(struct arena *a, const struct beam_code *c, uint32_t line)
{
    if (line == 0 || line > c->nlines)
        return NULL;
    uint32_t f = c->line_file[line];
    return arena_sprintf(a, "%s:%u", f < c->nfnames ? c->fnames[f] : "?", c->line_no[line]);
}
