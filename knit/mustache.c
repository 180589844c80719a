/* mustache.c - mustache templates: parse to a tree (all errors found first), then render */
#include "mustache.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "kerr.h"

/* Bounds that keep the C stack safe on hostile templates: parse and render recurse once
 * per section level and per partial. */
#define MAX_SECTION_DEPTH 256
#define MAX_PARTIAL_DEPTH 64
#define MAX_RENDER_DEPTH 1024 /* sections and partials together, across partials */
/* "{{>p}}{{>p}}" in p doubles the work per level: cap the partials rendered per call */
#define MAX_PARTIAL_RENDERS 100000

enum mnode_kind { MN_TEXT, MN_VAR, MN_RAW, MN_SECTION, MN_INVERTED, MN_PARTIAL };

struct mnode {
    enum mnode_kind kind;
    const char *s; /* the text, or the tag's name (trimmed) */
    size_t n;
    const char *indent; /* MN_PARTIAL: whitespace before a standalone tag */
    size_t indent_len;
    size_t off;          /* sections and partials: offset of the tag in its source */
    struct mnode *child; /* sections: the body */
    struct mnode *next;
};

struct mparser {
    struct arena *a;
    const char *name;
    const char *t;
    size_t len;
    size_t pos;
    const char *otag, *ctag; /* current delimiters: point into T or at "{{" / "}}" */
    size_t olen, clen;
    size_t line_start; /* offset where the current output line began */
    bool tag_on_line;  /* a tag already sits on the current line */
};

struct mframe {
    struct mnode *sec; /* NULL for the root */
    struct mnode **tail;
    size_t open_off; /* offset of the opening tag */
};

/* where - 1-based line and column (in bytes) of offset OFF in T */
static void where(const char *t, size_t off, int *line, int *col)
{
    int l = 1;
    size_t ls = 0;
    for (size_t i = 0; i < off; i++) {
        if (t[i] == '\n') {
            l++;
            ls = i + 1;
        }
    }
    *line = l;
    *col = (int)(off - ls) + 1;
}

/* perr - record a KERR_INPUT error at offset OFF of the template being parsed */
__attribute__((format(printf, 3, 4))) static int perr(const struct mparser *p, size_t off,
                                                      const char *fmt, ...)
{
    int line, col;
    where(p->t, off, &line, &col);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kerr_set(KERR_INPUT, p->name, line, col, "%s", msg);
}

/* shown - how much of a tag to quote in a message */
static int shown(size_t n)
{
    return n > 60 ? 60 : (int)n;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

/* find - offset of the first NEEDLE at or after FROM in T[0..LEN), or LEN when none */
static size_t find(const char *t, size_t len, size_t from, const char *needle, size_t nlen)
{
    if (from > len)
        return len;
    const char *hit = memmem(t + from, len - from, needle, nlen);
    return hit ? (size_t)(hit - t) : len;
}

/* find_close - offset of the first PREFIX+ctag at or after FROM (PREFIX 0: just ctag) */
static size_t find_close(const struct mparser *p, size_t from, char prefix)
{
    for (size_t at = from;; at++) {
        size_t e = find(p->t, p->len, at, p->ctag, p->clen);
        if (e == p->len || !prefix)
            return e;
        if (e > from && p->t[e - 1] == prefix)
            return e - 1;
        at = e;
    }
}

static struct mnode *add_node(struct mparser *p, struct mframe *f, enum mnode_kind kind,
                              const char *s, size_t n)
{
    struct mnode *nd = arena_alloc(p->a, sizeof *nd);
    nd->kind = kind;
    nd->s = s;
    nd->n = n;
    *f->tail = nd;
    f->tail = &nd->next;
    return nd;
}

static void add_text(struct mparser *p, struct mframe *f, size_t from, size_t to)
{
    if (to > from)
        add_node(p, f, MN_TEXT, p->t + from, to - from);
}

/* set_delims - apply "{{=OPEN CLOSE=}}" whose inner text is S[0..N) */
static int set_delims(struct mparser *p, size_t tag_off, size_t tag_end, const char *s, size_t n)
{
    trim(&s, &n);
    size_t i = 0;
    while (i < n && !is_space(s[i]))
        i++;
    const char *o = s, *c = s + i;
    size_t on = i, cn = n - i;
    trim(&c, &cn);
    bool ok = on > 0 && cn > 0 && !memchr(o, '=', on) && !memchr(c, '=', cn);
    for (size_t k = 0; ok && k < cn; k++)
        ok = !is_space(c[k]);
    if (!ok) {
        return perr(p, tag_off,
                    "bad delimiter change '%.*s', expected two delimiters "
                    "without '=' or spaces",
                    shown(tag_end - tag_off), p->t + tag_off);
    }
    p->otag = o;
    p->olen = on;
    p->ctag = c;
    p->clen = cn;
    return 0;
}

/* parse - build the node list of the whole template in P; returns it (NULL when empty)
 * through *OUT, or -1 with kerr set */
static int parse(struct mparser *p, struct mnode **out)
{
    struct mframe stack[MAX_SECTION_DEPTH + 1];
    int depth = 0;
    *out = NULL;
    stack[0] = (struct mframe){NULL, out, 0};

    while (p->pos < p->len) {
        struct mframe *f = &stack[depth];
        size_t tag = find(p->t, p->len, p->pos, p->otag, p->olen);
        for (size_t i = p->pos; i < tag; i++) {
            if (p->t[i] == '\n') {
                p->line_start = i + 1;
                p->tag_on_line = false;
            }
        }
        if (tag == p->len) {
            add_text(p, f, p->pos, p->len);
            p->pos = p->len;
            break;
        }

        size_t c = tag + p->olen;
        char sigil = c < p->len ? p->t[c] : '\0';
        size_t body, body_end, tag_end;
        if (sigil == '{' || sigil == '=') {
            body = c + 1;
            body_end = find_close(p, body, sigil == '{' ? '}' : '=');
            tag_end = body_end + 1 + p->clen;
        } else {
            body = sigil && strchr("#^/!>&", sigil) ? c + 1 : c;
            body_end = find_close(p, body, 0);
            tag_end = body_end + p->clen;
        }
        if (body_end == p->len) {
            if (sigil == '=')
                return perr(p, tag, "bad delimiter change, no '=%.*s' after '%.*s'", (int)p->clen,
                            p->ctag, (int)p->olen, p->otag);
            return perr(p, tag, "unclosed tag, no '%.*s%.*s' after '%.*s'", sigil == '{' ? 1 : 0,
                        "}", (int)p->clen, p->ctag, (int)p->olen, p->otag);
        }
        const char *nm = p->t + body;
        size_t nn = body_end - body;
        trim(&nm, &nn);

        /* a standalone tag: alone on its line but for blanks; the line disappears */
        bool standalone = false;
        size_t after = tag_end;
        if (sigil && strchr("#^/!>=", sigil) && !p->tag_on_line) {
            standalone = true;
            for (size_t i = p->line_start; i < tag && standalone; i++)
                standalone = is_blank(p->t[i]);
            while (after < p->len && is_blank(p->t[after]))
                after++;
            if (after < p->len && p->t[after] == '\n')
                after++;
            else if (after + 1 < p->len && p->t[after] == '\r' && p->t[after + 1] == '\n')
                after += 2;
            else if (after < p->len)
                standalone = false;
        }
        size_t indent_from = tag;
        if (standalone) {
            indent_from = p->line_start;
            add_text(p, f, p->pos, p->line_start);
            p->pos = after;
            p->line_start = after;
            p->tag_on_line = false;
        } else {
            add_text(p, f, p->pos, tag);
            p->pos = tag_end;
            p->tag_on_line = true;
        }

        if (sigil == '!')
            continue;
        if (sigil == '=') {
            if (set_delims(p, tag, tag_end, p->t + body, body_end - body) < 0)
                return -1;
            continue;
        }
        if (nn == 0)
            return perr(p, tag, "empty tag name in '%.*s'", shown(tag_end - tag), p->t + tag);
        struct mnode *nd;
        switch (sigil) {
        case '#':
        case '^':
            if (depth == MAX_SECTION_DEPTH)
                return perr(p, tag, "section '%.*s' nested too deeply (more than %d levels)",
                            shown(nn), nm, MAX_SECTION_DEPTH);
            nd = add_node(p, f, sigil == '#' ? MN_SECTION : MN_INVERTED, nm, nn);
            nd->off = tag;
            stack[++depth] = (struct mframe){nd, &nd->child, tag};
            break;
        case '/':
            if (depth == 0)
                return perr(p, tag, "unexpected close tag '%.*s', no section is open", shown(nn),
                            nm);
            if (f->sec->n != nn || memcmp(f->sec->s, nm, nn) != 0) {
                int ol, oc;
                where(p->t, f->open_off, &ol, &oc);
                return perr(p, tag,
                            "mismatched close tag '%.*s', expected '%.*s' (opened at "
                            "%d:%d)",
                            shown(nn), nm, shown(f->sec->n), f->sec->s, ol, oc);
            }
            depth--;
            break;
        case '>':
            nd = add_node(p, f, MN_PARTIAL, nm, nn);
            nd->off = tag;
            if (standalone) {
                nd->indent = p->t + indent_from;
                nd->indent_len = tag - indent_from;
            }
            break;
        case '{':
        case '&':
            add_node(p, f, MN_RAW, nm, nn);
            break;
        default:
            add_node(p, f, MN_VAR, nm, nn);
            break;
        }
    }
    if (depth > 0)
        return perr(p, stack[depth].open_off, "unclosed section '%.*s'", shown(stack[depth].sec->n),
                    stack[depth].sec->s);
    return 0;
}

struct mrender {
    struct buf *out;
    const json_t *partials;
    unsigned flags;
    const json_t **ctx; /* the context stack, top last */
    size_t nctx, capctx;
    const char *name; /* the template being rendered, for errors */
    const char *src;  /* its source text */
    int partial_depth;
    int depth;            /* sections and partials being rendered */
    long partial_renders; /* partials rendered so far */
    size_t start, max;    /* OUT's length at the start; the most it may grow by */
    unsigned long steps;  /* nodes rendered so far (nested sections over lists multiply) */
};

static void push(struct mrender *r, const json_t *v)
{
    if (r->nctx == r->capctx) {
        r->capctx = r->capctx ? r->capctx * 2 : 16;
        r->ctx = xrealloc(r->ctx, r->capctx * sizeof *r->ctx);
    }
    r->ctx[r->nctx++] = v;
}

static const json_t *member(const json_t *obj, const char *key, size_t n)
{
    if (!json_is_object(obj))
        return NULL;
    return json_object_getn(obj, key, n);
}

/* lookup - resolve NAME: '.' is the top of the stack; otherwise the first part is
 * looked up from the top of the stack down, the other parts only inside what it found */
static const json_t *lookup(const struct mrender *r, const char *name, size_t n)
{
    if (n == 1 && name[0] == '.')
        return r->nctx ? r->ctx[r->nctx - 1] : NULL;
    const char *dot = memchr(name, '.', n);
    size_t first = dot ? (size_t)(dot - name) : n;
    const json_t *v = NULL;
    for (size_t i = r->nctx; i-- > 0 && !v;)
        v = member(r->ctx[i], name, first);
    while (v && dot) {
        const char *part = dot + 1;
        size_t rest = n - (size_t)(part - name);
        dot = memchr(part, '.', rest);
        v = member(v, part, dot ? (size_t)(dot - part) : rest);
    }
    return v;
}

static bool truthy(const json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    return true;
}

static void add_escaped(struct buf *out, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        default:
            continue;
        }
        buf_add(out, s + from, i - from);
        buf_adds(out, rep);
        from = i + 1;
    }
    buf_add(out, s + from, n - from);
}

/* format_value - V as text into TMP (or pointing into V); sets *S and *N */
static void format_value(const json_t *v, char *tmp, size_t tmpsz, const char **s, size_t *n)
{
    *s = tmp;
    tmp[0] = '\0';
    if (json_is_string(v)) {
        *s = json_string_value(v);
        *n = json_string_length(v);
        return;
    }
    if (json_is_integer(v)) {
        snprintf(tmp, tmpsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        /* the shortest precision that reads back as the same double */
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, tmpsz, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    } else if (json_is_true(v)) {
        snprintf(tmp, tmpsz, "true");
    } else if (json_is_false(v)) {
        snprintf(tmp, tmpsz, "false");
    }
    *n = strlen(tmp);
}

static int render_source(struct mrender *r, const char *name, const char *tmpl, size_t len);
static int render_partial(struct mrender *r, const struct mnode *nd);
static int render_nodes(struct mrender *r, const struct mnode *nd);

/* render_body - render the body of section SEC with V (NULL: nothing) pushed on the stack */
static int render_body(struct mrender *r, const json_t *v, const struct mnode *sec)
{
    /* a section's depth is bounded by its parse, but partials stack them */
    if (r->depth >= MAX_RENDER_DEPTH) {
        int line, col;
        where(r->src, sec->off, &line, &col);
        return kerr_set(KERR_INPUT, r->name, line, col,
                        "section '%.*s' nested too deeply "
                        "(more than %d sections and partials)",
                        shown(sec->n), sec->s, MAX_RENDER_DEPTH);
    }
    if (v)
        push(r, v);
    r->depth++;
    int rc = render_nodes(r, sec->child);
    r->depth--;
    if (v)
        r->nctx--;
    return rc;
}

/* over_limit - whether R has grown past its caps (checked as it renders, not after) */
static int over_limit(struct mrender *r, const struct mnode *nd)
{
    if (++r->steps <= MUSTACHE_MAX_STEPS && r->out->len - r->start <= r->max)
        return 0;
    int line, col;
    where(r->src, nd->off, &line, &col);
    if (r->steps > MUSTACHE_MAX_STEPS)
        return kerr_set(KERR_INPUT, r->name, line, col,
                        "rendering takes more than %lu steps (sections nested over lists?)",
                        (unsigned long)MUSTACHE_MAX_STEPS);
    return kerr_set(KERR_INPUT, r->name, line, col, "renders to more than %zu bytes", r->max);
}

static int render_nodes(struct mrender *r, const struct mnode *nd)
{
    for (; nd; nd = nd->next) {
        const json_t *v;
        if (over_limit(r, nd))
            return -1;
        switch (nd->kind) {
        case MN_TEXT:
            buf_add(r->out, nd->s, nd->n);
            break;
        case MN_VAR:
        case MN_RAW: {
            v = lookup(r, nd->s, nd->n);
            char tmp[64];
            const char *s;
            size_t n;
            format_value(v, tmp, sizeof tmp, &s, &n);
            if (nd->kind == MN_VAR && !(r->flags & MUSTACHE_NOESCAPE))
                add_escaped(r->out, s, n);
            else
                buf_add(r->out, s, n);
            break;
        }
        case MN_SECTION:
            v = lookup(r, nd->s, nd->n);
            if (!truthy(v))
                break;
            if (!json_is_array(v)) {
                if (render_body(r, v, nd) < 0)
                    return -1;
                break;
            }
            for (size_t i = 0; i < json_array_size(v); i++) {
                if (render_body(r, json_array_get(v, i), nd) < 0)
                    return -1;
            }
            break;
        case MN_INVERTED:
            if (!truthy(lookup(r, nd->s, nd->n)) && render_body(r, NULL, nd) < 0)
                return -1;
            break;
        case MN_PARTIAL:
            if (render_partial(r, nd) < 0)
                return -1;
            break;
        }
    }
    return 0;
}

/* render_source - parse TMPL whole, then render it with R's context stack */
static int render_source(struct mrender *r, const char *name, const char *tmpl, size_t len)
{
    struct arena a;
    arena_init(&a);
    struct mparser p = {.a = &a,
                        .name = name,
                        .t = tmpl,
                        .len = len,
                        .otag = "{{",
                        .olen = 2,
                        .ctag = "}}",
                        .clen = 2};
    struct mnode *root;
    int rc = parse(&p, &root);
    r->src = tmpl;
    if (rc == 0)
        rc = render_nodes(r, root);
    arena_close(&a);
    return rc;
}

/* render_partial - render the partial ND names, indenting each of its lines by ND's
 * indentation (the spec indents the partial's source, not what it renders) */
static int render_partial(struct mrender *r, const struct mnode *nd)
{
    const json_t *p = member(r->partials, nd->s, nd->n);
    if (!json_is_string(p))
        return 0;
    const char *s = json_string_value(p);
    size_t n = json_string_length(p);
    char *pname = xmalloc(nd->n + 1);
    memcpy(pname, nd->s, nd->n);
    pname[nd->n] = '\0';
    struct buf ind = BUF_INIT;
    int rc = -1;
    int line, col;
    where(r->src, nd->off, &line, &col);
    if (r->partial_depth == MAX_PARTIAL_DEPTH || r->depth >= MAX_RENDER_DEPTH) {
        kerr_set(KERR_INPUT, r->name, line, col,
                 "partial '%s' nested too deeply (more than %d "
                 "partials, or %d sections and partials)",
                 pname, MAX_PARTIAL_DEPTH, MAX_RENDER_DEPTH);
        goto done;
    }
    if (++r->partial_renders > MAX_PARTIAL_RENDERS) {
        kerr_set(KERR_INPUT, r->name, line, col, "too many partials rendered (more than %d)",
                 MAX_PARTIAL_RENDERS);
        goto done;
    }
    if (nd->indent_len > 0) {
        /* check the partial as written first, so errors point into it */
        struct arena a;
        arena_init(&a);
        struct mparser pp = {.a = &a,
                             .name = pname,
                             .t = s,
                             .len = n,
                             .otag = "{{",
                             .olen = 2,
                             .ctag = "}}",
                             .clen = 2};
        struct mnode *unused;
        rc = parse(&pp, &unused);
        arena_close(&a);
        if (rc < 0)
            goto done;
        for (size_t i = 0; i < n; i++) {
            if (i == 0 || s[i - 1] == '\n')
                buf_add(&ind, nd->indent, nd->indent_len);
            buf_addc(&ind, s[i]);
        }
        s = buf_cstr(&ind);
        n = ind.len;
    }
    const char *outer = r->name, *outer_src = r->src;
    r->name = pname;
    r->partial_depth++;
    r->depth++;
    rc = render_source(r, pname, s, n);
    r->depth--;
    r->partial_depth--;
    r->name = outer;
    r->src = outer_src;
done:
    buf_free(&ind);
    free(pname);
    return rc;
}

int mustache_render(struct buf *out, const char *name, const char *tmpl, size_t len,
                    const json_t *ctx, const json_t *partials, unsigned flags)
{
    return mustache_render_max(out, name, tmpl, len, ctx, partials, flags, MUSTACHE_MAX_OUT);
}

int mustache_render_max(struct buf *out, const char *name, const char *tmpl, size_t len,
                        const json_t *ctx, const json_t *partials, unsigned flags, size_t max)
{
    struct mrender r = {.out = out,
                        .partials = partials,
                        .flags = flags,
                        .name = name,
                        .start = out->len,
                        .max = max};
    if (ctx)
        push(&r, ctx);
    int rc = render_source(&r, name, tmpl, len);
    free(r.ctx);
    return rc;
}
