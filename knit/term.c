/* term.c - constructing, inspecting and comparing Erlang terms */
#include "term.h"
#include "utf8.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct term nil_term = {.type = TERM_NIL};

const struct term *term_nil(void)
{
    return &nil_term;
}

static struct term *new_term(struct arena *a, enum term_type type)
{
    struct term *t = arena_alloc(a, sizeof *t);
    t->type = (uint8_t)type;
    return t;
}

const struct term *term_int(struct arena *a, int64_t v)
{
    struct term *t = new_term(a, TERM_INT);
    t->u.i = v;
    return t;
}

const struct term *term_bigint(struct arena *a, bool neg, const uint8_t *mag, size_t n)
{
    while (n > 0 && mag[n - 1] == 0)
        n--;
    if (n <= 8) {
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;)
            v = (v << 8) | mag[i];
        if (!neg && v <= (uint64_t)INT64_MAX)
            return term_int(a, (int64_t)v);
        if (neg && v <= (uint64_t)INT64_MAX + 1)
            return term_int(a, v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v);
    }
    struct term *t = new_term(a, TERM_BIG);
    t->u.big.neg = neg;
    t->u.big.n = n;
    t->u.big.mag = arena_memdup(a, mag, n);
    return t;
}

const struct term *term_float(struct arena *a, double f)
{
    struct term *t = new_term(a, TERM_FLOAT);
    t->u.f = f;
    return t;
}

const struct term *term_atom(struct arena *a, const char *name, size_t len)
{
    struct term *t = new_term(a, TERM_ATOM);
    t->u.atom.name = arena_memdup(a, name, len);
    t->u.atom.len = len;
    return t;
}

const struct term *term_atomz(struct arena *a, const char *name)
{
    return term_atom(a, name, strlen(name));
}

const struct term *term_list(struct arena *a, const struct term *const *el, size_t n,
                             const struct term *tail)
{
    if (n == 0)
        return tail;
    size_t extra = tail->type == TERM_LIST ? tail->u.list.n : 0;
    const struct term **v = arena_alloc(a, (n + extra) * sizeof *v);
    memcpy(v, el, n * sizeof *v);
    if (extra) {
        memcpy(v + n, tail->u.list.el, extra * sizeof *v);
        tail = tail->u.list.tail;
    }
    struct term *t = new_term(a, TERM_LIST);
    t->u.list.n = n + extra;
    t->u.list.el = v;
    t->u.list.tail = tail;
    return t;
}

const struct term *term_cons(struct arena *a, const struct term *head, const struct term *tail)
{
    return term_list(a, &head, 1, tail);
}

const struct term *term_tuple(struct arena *a, const struct term *const *el, size_t n)
{
    struct term *t = new_term(a, TERM_TUPLE);
    const struct term **v = arena_alloc(a, n * sizeof *v);
    if (n)
        memcpy(v, el, n * sizeof *v);
    t->u.tuple.n = n;
    t->u.tuple.el = v;
    return t;
}

const struct term *term_tuplev(struct arena *a, size_t n, ...)
{
    const struct term **v = arena_alloc(a, n * sizeof *v);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        v[i] = va_arg(ap, const struct term *);
    va_end(ap);
    struct term *t = new_term(a, TERM_TUPLE);
    t->u.tuple.n = n;
    t->u.tuple.el = v;
    return t;
}

const struct term *term_listv(struct arena *a, size_t n, ...)
{
    if (n == 0)
        return term_nil();
    const struct term **v = arena_alloc(a, n * sizeof *v);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        v[i] = va_arg(ap, const struct term *);
    va_end(ap);
    struct term *t = new_term(a, TERM_LIST);
    t->u.list.n = n;
    t->u.list.el = v;
    t->u.list.tail = term_nil();
    return t;
}

const struct term *term_bits(struct arena *a, const uint8_t *data, size_t nbits)
{
    struct term *t = new_term(a, TERM_BITS);
    size_t nbytes = (nbits + 7) / 8;
    uint8_t *d = arena_memdup(a, data, nbytes);
    if (nbits % 8)
        d[nbytes - 1] &= (uint8_t)(0xFF << (8 - nbits % 8));
    t->u.bits.nbits = nbits;
    t->u.bits.data = d;
    return t;
}

const struct term *term_binary(struct arena *a, const void *data, size_t n)
{
    return term_bits(a, data, n * 8);
}

struct kv {
    const struct term *k, *v;
    size_t pos;
};

static int kv_cmp(const void *x, const void *y)
{
    const struct kv *p = x, *q = y;
    /* map keys are ordered by exact term order: an integer sorts before an equal float */
    int c = term_compare(p->k, q->k);
    if (c == 0 && p->k->type != q->k->type)
        c = (p->k->type == TERM_FLOAT) - (q->k->type == TERM_FLOAT);
    if (c == 0)
        c = p->pos < q->pos ? -1 : p->pos > q->pos;
    return c;
}

const struct term *term_map(struct arena *a, const struct term *const *keys,
                            const struct term *const *vals, size_t n)
{
    struct kv *kv = xmalloc((n ? n : 1) * sizeof *kv);
    for (size_t i = 0; i < n; i++) {
        kv[i].k = keys[i];
        kv[i].v = vals[i];
        kv[i].pos = i;
    }
    qsort(kv, n, sizeof *kv, kv_cmp);
    const struct term **k = arena_alloc(a, n * sizeof *k);
    const struct term **v = arena_alloc(a, n * sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && term_equal(k[m - 1], kv[i].k)) {
            v[m - 1] = kv[i].v; /* later pair wins */
            continue;
        }
        k[m] = kv[i].k;
        v[m] = kv[i].v;
        m++;
    }
    free(kv);
    struct term *t = new_term(a, TERM_MAP);
    t->u.map.n = m;
    t->u.map.keys = k;
    t->u.map.vals = v;
    return t;
}

const struct term *term_string(struct arena *a, const char *s, size_t len)
{
    if (len == 0)
        return term_nil();
    const struct term **v = xmalloc(len * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t used;
        uint32_t cp = utf8_decode_or_latin1((const uint8_t *)s + i, len - i, &used);
        v[n++] = term_int(a, (int64_t)cp);
        i += used;
    }
    const struct term *t = term_list(a, v, n, term_nil());
    free(v);
    return t;
}

const struct term *term_stringz(struct arena *a, const char *s)
{
    return term_string(a, s, strlen(s));
}

const struct term *term_opaque(struct arena *a, enum term_type type, const uint8_t *ext, size_t len,
                               const char *text)
{
    struct term *t = new_term(a, type);
    t->u.opaque.ext = arena_memdup(a, ext, len);
    t->u.opaque.len = len;
    t->u.opaque.text = arena_strdup(a, text);
    return t;
}

const struct term *term_with_line(struct arena *a, const struct term *t, uint32_t line)
{
    if (t->type == TERM_NIL && line == 0)
        return t;
    struct term *c = arena_alloc(a, sizeof *c);
    *c = *t;
    c->line = line;
    return c;
}

const struct term *term_copy(struct arena *a, const struct term *t)
{
    struct term *c;
    switch ((enum term_type)t->type) {
    case TERM_NIL:
        return term_with_line(a, t, t->line);
    case TERM_INT:
    case TERM_FLOAT:
        c = new_term(a, t->type);
        *c = *t;
        return c;
    case TERM_BIG:
        c = new_term(a, TERM_BIG);
        *c = *t;
        c->u.big.mag = arena_memdup(a, t->u.big.mag, t->u.big.n);
        return c;
    case TERM_ATOM:
        c = new_term(a, TERM_ATOM);
        *c = *t;
        c->u.atom.name = arena_memdup(a, t->u.atom.name, t->u.atom.len);
        return c;
    case TERM_BITS:
        c = new_term(a, TERM_BITS);
        *c = *t;
        c->u.bits.data = arena_memdup(a, t->u.bits.data, (t->u.bits.nbits + 7) / 8);
        return c;
    case TERM_REF:
    case TERM_FUN:
    case TERM_PORT:
    case TERM_PID:
        c = new_term(a, t->type);
        *c = *t;
        c->u.opaque.ext = arena_memdup(a, t->u.opaque.ext, t->u.opaque.len);
        c->u.opaque.text = arena_strdup(a, t->u.opaque.text);
        return c;
    case TERM_TUPLE: {
        const struct term **v = arena_alloc(a, t->u.tuple.n * sizeof *v);
        for (size_t i = 0; i < t->u.tuple.n; i++)
            v[i] = term_copy(a, t->u.tuple.el[i]);
        c = new_term(a, TERM_TUPLE);
        *c = *t;
        c->u.tuple.el = v;
        return c;
    }
    case TERM_LIST: {
        const struct term **v = arena_alloc(a, t->u.list.n * sizeof *v);
        for (size_t i = 0; i < t->u.list.n; i++)
            v[i] = term_copy(a, t->u.list.el[i]);
        c = new_term(a, TERM_LIST);
        *c = *t;
        c->u.list.el = v;
        c->u.list.tail = term_copy(a, t->u.list.tail);
        return c;
    }
    case TERM_MAP: {
        const struct term **k = arena_alloc(a, t->u.map.n * sizeof *k);
        const struct term **v = arena_alloc(a, t->u.map.n * sizeof *v);
        for (size_t i = 0; i < t->u.map.n; i++) {
            k[i] = term_copy(a, t->u.map.keys[i]);
            v[i] = term_copy(a, t->u.map.vals[i]);
        }
        c = new_term(a, TERM_MAP);
        *c = *t;
        c->u.map.keys = k;
        c->u.map.vals = v;
        return c;
    }
    }
    return t;
}

void term_vec_add(struct arena *a, struct term_vec *t, const struct term *x)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        t->v = arena_extend(a, t->v, t->n * sizeof *t->v, cap * sizeof *t->v);
        t->cap = cap;
    }
    t->v[t->n++] = x;
}

const struct term *term_vec_list(struct arena *a, const struct term_vec *t)
{
    return term_list(a, t->v, t->n, term_nil());
}

bool term_is_atom(const struct term *t, const char *name)
{
    return t && t->type == TERM_ATOM && strcmp(t->u.atom.name, name) == 0;
}

bool term_is_int(const struct term *t)
{
    return t && (t->type == TERM_INT || t->type == TERM_BIG);
}

bool term_is_list(const struct term *t)
{
    return t && (t->type == TERM_NIL || (t->type == TERM_LIST && t->u.list.tail->type == TERM_NIL));
}

bool term_is_tuple(const struct term *t, size_t n)
{
    return t && t->type == TERM_TUPLE && t->u.tuple.n == n;
}

bool term_is_tagged(const struct term *t, const char *tag, size_t n)
{
    return term_is_tuple(t, n) && n > 0 && term_is_atom(t->u.tuple.el[0], tag);
}

long term_list_len(const struct term *t)
{
    if (t->type == TERM_NIL)
        return 0;
    if (t->type == TERM_LIST && t->u.list.tail->type == TERM_NIL)
        return (long)t->u.list.n;
    return -1;
}

const struct term *const *term_list_els(const struct term *t, size_t *n)
{
    if (t->type == TERM_LIST) {
        *n = t->u.list.n;
        return t->u.list.el;
    }
    *n = 0;
    return NULL;
}

const struct term *term_elem(const struct term *t, size_t i)
{
    if (t->type != TERM_TUPLE || i >= t->u.tuple.n)
        return NULL;
    return t->u.tuple.el[i];
}

char *term_charlist(struct arena *a, const struct term *t)
{
    if (t->type == TERM_NIL)
        return arena_strdup(a, "");
    if (!term_is_list(t))
        return NULL;
    size_t n = t->u.list.n;
    char *s = arena_alloc(a, n * 4 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct term *c = t->u.list.el[i];
        if (c->type != TERM_INT || c->u.i < 0 || c->u.i > 0x10FFFF)
            return NULL;
        unsigned long cp = (unsigned long)c->u.i;
        if (cp < 0x80) {
            s[k++] = (char)cp;
        } else if (cp < 0x800) {
            s[k++] = (char)(0xC0 | (cp >> 6));
            s[k++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            s[k++] = (char)(0xE0 | (cp >> 12));
            s[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            s[k++] = (char)(0x80 | (cp & 0x3F));
        } else {
            s[k++] = (char)(0xF0 | (cp >> 18));
            s[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            s[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            s[k++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    s[k] = 0;
    return s;
}

char *term_text(struct arena *a, const struct term *t)
{
    if (t->type == TERM_ATOM)
        return arena_memdup(a, t->u.atom.name, t->u.atom.len);
    if (t->type == TERM_BITS && t->u.bits.nbits % 8 == 0)
        return arena_memdup(a, t->u.bits.data, t->u.bits.nbits / 8);
    return term_charlist(a, t);
}

const struct term *term_proplist_get(const struct term *t, const char *key)
{
    static const struct term true_term = {.type = TERM_ATOM, .u.atom = {"true", 4}};
    if (t->type != TERM_LIST)
        return NULL;
    for (size_t i = 0; i < t->u.list.n; i++) {
        const struct term *e = t->u.list.el[i];
        if (e->type == TERM_TUPLE && e->u.tuple.n >= 1 && term_is_atom(e->u.tuple.el[0], key))
            return e->u.tuple.n == 2 ? e->u.tuple.el[1] : e;
        if (term_is_atom(e, key))
            return &true_term;
    }
    return NULL;
}

static int type_class(const struct term *t)
{
    return t->type <= TERM_FLOAT ? 0 : t->type;
}

static int cmp_big_mag(const struct term *a, const struct term *b)
{
    if (a->u.big.n != b->u.big.n)
        return a->u.big.n < b->u.big.n ? -1 : 1;
    for (size_t i = a->u.big.n; i-- > 0;)
        if (a->u.big.mag[i] != b->u.big.mag[i])
            return a->u.big.mag[i] < b->u.big.mag[i] ? -1 : 1;
    return 0;
}

static double big_to_double(const struct term *t)
{
    double d = 0;
    for (size_t i = t->u.big.n; i-- > 0;)
        d = d * 256.0 + t->u.big.mag[i];
    return t->u.big.neg ? -d : d;
}

static int cmp_int_float(int64_t i, double f)
{
    /* exact: doubles beyond 2^63 are out of int64 range anyway */
    if (f >= 9223372036854775808.0)
        return -1;
    if (f < -9223372036854775808.0)
        return 1;
    double fl = floor(f);
    int64_t fi = (int64_t)fl;
    if (i < fi)
        return -1;
    if (i > fi)
        return 1;
    return fl < f ? -1 : 0;
}

static int cmp_numbers(const struct term *a, const struct term *b)
{
    if (a->type == TERM_INT && b->type == TERM_INT)
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    if (a->type == TERM_FLOAT && b->type == TERM_FLOAT)
        return a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
    if (a->type == TERM_INT && b->type == TERM_FLOAT)
        return cmp_int_float(a->u.i, b->u.f);
    if (a->type == TERM_FLOAT && b->type == TERM_INT)
        return -cmp_int_float(b->u.i, a->u.f);
    if (a->type == TERM_BIG && b->type == TERM_BIG) {
        if (a->u.big.neg != b->u.big.neg)
            return a->u.big.neg ? -1 : 1;
        int c = cmp_big_mag(a, b);
        return a->u.big.neg ? -c : c;
    }
    if (a->type == TERM_BIG && b->type == TERM_INT)
        return a->u.big.neg ? -1 : 1;
    if (a->type == TERM_INT && b->type == TERM_BIG)
        return b->u.big.neg ? 1 : -1;
    /* big against float */
    double x = a->type == TERM_BIG ? big_to_double(a) : a->u.f;
    double y = b->type == TERM_BIG ? big_to_double(b) : b->u.f;
    return x < y ? -1 : x > y;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

int term_compare(const struct term *a, const struct term *b)
{
    int ca = type_class(a), cb = type_class(b);
    if (ca != cb) {
        /* [] sorts before non-empty lists; both are "lists" only for ordering by class */
        return ca < cb ? -1 : 1;
    }
    switch ((enum term_type)a->type) {
    case TERM_INT:
    case TERM_BIG:
    case TERM_FLOAT:
        return cmp_numbers(a, b);
    case TERM_ATOM:
        return cmp_bytes(a->u.atom.name, a->u.atom.len, b->u.atom.name, b->u.atom.len);
    case TERM_REF:
    case TERM_FUN:
    case TERM_PORT:
    case TERM_PID:
        return cmp_bytes((const char *)a->u.opaque.ext, a->u.opaque.len,
                         (const char *)b->u.opaque.ext, b->u.opaque.len);
    case TERM_TUPLE:
        if (a->u.tuple.n != b->u.tuple.n)
            return a->u.tuple.n < b->u.tuple.n ? -1 : 1;
        for (size_t i = 0; i < a->u.tuple.n; i++) {
            int c = term_compare(a->u.tuple.el[i], b->u.tuple.el[i]);
            if (c)
                return c;
        }
        return 0;
    case TERM_MAP:
        /* by size, then keys, then values, in key order */
        if (a->u.map.n != b->u.map.n)
            return a->u.map.n < b->u.map.n ? -1 : 1;
        for (size_t i = 0; i < a->u.map.n; i++) {
            int c = term_compare(a->u.map.keys[i], b->u.map.keys[i]);
            if (c)
                return c;
        }
        for (size_t i = 0; i < a->u.map.n; i++) {
            int c = term_compare(a->u.map.vals[i], b->u.map.vals[i]);
            if (c)
                return c;
        }
        return 0;
    case TERM_NIL:
        return 0;
    case TERM_LIST: {
        size_t n = a->u.list.n < b->u.list.n ? a->u.list.n : b->u.list.n;
        for (size_t i = 0; i < n; i++) {
            int c = term_compare(a->u.list.el[i], b->u.list.el[i]);
            if (c)
                return c;
        }
        if (a->u.list.n == b->u.list.n)
            return term_compare(a->u.list.tail, b->u.list.tail);
        /* the shorter list's tail meets the longer list's next element */
        if (a->u.list.n < b->u.list.n) {
            struct term rest = {.type = TERM_LIST};
            rest.u.list.n = b->u.list.n - n;
            rest.u.list.el = b->u.list.el + n;
            rest.u.list.tail = b->u.list.tail;
            return term_compare(a->u.list.tail, &rest);
        } else {
            struct term rest = {.type = TERM_LIST};
            rest.u.list.n = a->u.list.n - n;
            rest.u.list.el = a->u.list.el + n;
            rest.u.list.tail = a->u.list.tail;
            return term_compare(&rest, b->u.list.tail);
        }
    }
    case TERM_BITS: {
        size_t an = a->u.bits.nbits, bn = b->u.bits.nbits;
        size_t n = (an < bn ? an : bn) / 8;
        int c = n ? memcmp(a->u.bits.data, b->u.bits.data, n) : 0;
        if (c)
            return c < 0 ? -1 : 1;
        for (size_t bit = n * 8; bit < an && bit < bn; bit++) {
            int x = (a->u.bits.data[bit / 8] >> (7 - bit % 8)) & 1;
            int y = (b->u.bits.data[bit / 8] >> (7 - bit % 8)) & 1;
            if (x != y)
                return x < y ? -1 : 1;
        }
        return an < bn ? -1 : an > bn;
    }
    }
    return 0;
}

bool term_equal(const struct term *a, const struct term *b)
{
    if (a == b)
        return true;
    if (a->type != b->type)
        return false;
    switch ((enum term_type)a->type) {
    case TERM_FLOAT:
        /* =:= tells 0.0 from -0.0 since OTP 27; byte equality is the strict reading */
        return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case TERM_TUPLE:
        if (a->u.tuple.n != b->u.tuple.n)
            return false;
        for (size_t i = 0; i < a->u.tuple.n; i++)
            if (!term_equal(a->u.tuple.el[i], b->u.tuple.el[i]))
                return false;
        return true;
    case TERM_LIST:
        if (a->u.list.n != b->u.list.n)
            return false;
        for (size_t i = 0; i < a->u.list.n; i++)
            if (!term_equal(a->u.list.el[i], b->u.list.el[i]))
                return false;
        return term_equal(a->u.list.tail, b->u.list.tail);
    case TERM_MAP:
        if (a->u.map.n != b->u.map.n)
            return false;
        for (size_t i = 0; i < a->u.map.n; i++)
            if (!term_equal(a->u.map.keys[i], b->u.map.keys[i]) ||
                !term_equal(a->u.map.vals[i], b->u.map.vals[i]))
                return false;
        return true;
    default:
        return term_compare(a, b) == 0;
    }
}

struct big_stack_call {
    int (*fn)(void *);
    void *arg;
    int result;
};

static void *big_stack_main(void *p)
{
    struct big_stack_call *c = p;
    c->result = c->fn(c->arg);
    return NULL;
}

int knit_run_big_stack(int (*fn)(void *), void *arg)
{
    struct big_stack_call call = {fn, arg, 0};
    pthread_attr_t attr;
    pthread_t th;
    if (pthread_attr_init(&attr) != 0)
        return fn(arg);
    /* virtual reservation only: pages are touched as deep recursion needs them */
    if (pthread_attr_setstacksize(&attr, (size_t)1 << 30) != 0 ||
        pthread_create(&th, &attr, big_stack_main, &call) != 0) {
        pthread_attr_destroy(&attr);
        return fn(arg);
    }
    pthread_attr_destroy(&attr);
    pthread_join(th, NULL);
    return call.result;
}
