/* overlay.c - overlay variables (as rebar2's and knit's overlay_vars) and the overlay steps */
#include "overlay.h"

#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "mustache.h"
#include "term_parse.h"
#include "term_print.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper terms than this become their text rather than nested JSON. */
#define JSON_MAX_DEPTH 256

/* ---- terms as JSON ---- */

/* printable_cp - io_lib:printable_unicode_list's test for one character */
static bool printable_cp(int64_t c)
{
    return (c >= 32 && c < 127) || (c >= 0xA0 && c < 0xD800) || (c > 0xDFFF && c < 0xFFFE) ||
           (c > 0xFFFF && c <= 0x10FFFF) || (c >= 8 && c <= 13) || c == 27;
}

static bool printable_charlist(const struct term *t)
{
    if (t->type != TERM_LIST || t->u.list.tail->type != TERM_NIL)
        return false;
    for (size_t i = 0; i < t->u.list.n; i++) {
        const struct term *e = t->u.list.el[i];
        if (e->type != TERM_INT || !printable_cp(e->u.i))
            return false;
    }
    return true;
}

static bool atom_proplist(const struct term *t)
{
    if (t->type != TERM_LIST || t->u.list.tail->type != TERM_NIL)
        return false;
    for (size_t i = 0; i < t->u.list.n; i++) {
        const struct term *e = t->u.list.el[i];
        if (!term_is_tuple(e, 2) || term_elem(e, 0)->type != TERM_ATOM)
            return false;
    }
    return true;
}

static bool atom_keyed_map(const struct term *t)
{
    if (t->type != TERM_MAP)
        return false;
    for (size_t i = 0; i < t->u.map.n; i++)
        if (t->u.map.keys[i]->type != TERM_ATOM)
            return false;
    return true;
}

static json_t *text_json(struct arena *a, const struct term *t)
{
    const char *s = term_show(a, t, 0);
    json_t *j = json_string(s);
    return j ? j : json_string("");
}

static json_t *to_json(struct arena *a, const struct term *t, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return text_json(a, t);
    switch (t->type) {
    case TERM_INT:
        return json_integer((json_int_t)t->u.i);
    case TERM_FLOAT:
        return json_real(t->u.f);
    case TERM_ATOM:
        if (term_is_atom(t, "true"))
            return json_true();
        if (term_is_atom(t, "false"))
            return json_false();
        return json_stringn(t->u.atom.name, t->u.atom.len);
    case TERM_NIL:
        return json_string("");
    case TERM_BITS:
        if (t->u.bits.nbits % 8 == 0) {
            json_t *j = json_stringn((const char *)t->u.bits.data, t->u.bits.nbits / 8);
            if (j) /* NULL: not UTF-8 */
                return j;
        }
        return text_json(a, t);
    case TERM_LIST:
        if (printable_charlist(t)) {
            char *s = term_charlist(a, t);
            json_t *j = s ? json_string(s) : NULL;
            return j ? j : text_json(a, t);
        }
        if (atom_proplist(t)) {
            json_t *o = json_object();
            for (size_t i = 0; i < t->u.list.n; i++) {
                const struct term *k = term_elem(t->u.list.el[i], 0);
                if (json_object_getn(o, k->u.atom.name, k->u.atom.len))
                    continue; /* proplists:get_value takes the first */
                json_object_setn_new(o, k->u.atom.name, k->u.atom.len,
                                     to_json(a, term_elem(t->u.list.el[i], 1), depth + 1));
            }
            return o;
        }
        if (t->u.list.tail->type == TERM_NIL) {
            json_t *arr = json_array();
            for (size_t i = 0; i < t->u.list.n; i++)
                json_array_append_new(arr, to_json(a, t->u.list.el[i], depth + 1));
            return arr;
        }
        return text_json(a, t);
    case TERM_MAP:
        if (atom_keyed_map(t)) {
            json_t *o = json_object();
            for (size_t i = 0; i < t->u.map.n; i++) {
                const struct term *k = t->u.map.keys[i];
                json_object_setn_new(o, k->u.atom.name, k->u.atom.len,
                                     to_json(a, t->u.map.vals[i], depth + 1));
            }
            return o;
        }
        return text_json(a, t);
    default:
        return text_json(a, t);
    }
}

json_t *overlay_term_to_json(struct arena *a, const struct term *t)
{
    return to_json(a, t, 0);
}

/* ---- the context ---- */

struct ctxb {
    struct arena *a;
    const struct overlay_vars_src *src;
    json_t *vars;   /* name -> value, in first-definition order */
    json_t *origin; /* name -> [file, line] of the definition in force */
};

static void set_var(struct ctxb *b, const char *name, size_t len, json_t *val, const char *file,
                    int line)
{
    json_object_setn_new(b->vars, name, len, val);
    json_object_setn_new(b->origin, name, len, json_pack("[si]", file ? file : "", line));
}

static void set_builtin(struct ctxb *b, const char *name, const char *val)
{
    if (val)
        set_var(b, name, strlen(name), json_string(val), "built-in", 0);
}

/* add_pair - one {Name, Value} term from FILE */
static int add_pair(struct ctxb *b, const struct term *kv, const char *file)
{
    if (!term_is_tuple(kv, 2)) {
        char *s = term_show(b->a, kv, 0);
        return kerr_set(KERR_INPUT, file, (int)kv->line, 0,
                        "malformed overlay variable '%s': expected {Name, Value}", s);
    }
    const struct term *k = term_elem(kv, 0);
    if (k->type != TERM_ATOM) {
        log_warn("%s:%u: overlay variable name '%s' is not an atom: ignored", file, kv->line,
                 term_show(b->a, k, 0));
        return 0;
    }
    set_var(b, k->u.atom.name, k->u.atom.len, to_json(b->a, term_elem(kv, 1), 0), file,
            (int)kv->line);
    return 0;
}

static int add_file(struct ctxb *b, const char *name, const char *opt, const struct term *at)
{
    const char *path = name[0] == '/' || !b->src->cfg_dir
                           ? name
                           : arena_sprintf(b->a, "%s/%s", b->src->cfg_dir, name);
    const struct term *terms = term_consult_file(b->a, path);
    if (!terms) {
        const struct kerr *e = kerr_get();
        if (e->cls != KERR_IO)
            return -1; /* a syntax error, already at its file and line */
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return kerr_set(KERR_INPUT, b->src->cfg_file, (int)at->line, 0,
                        "cannot read %s file '%s': %s", opt, path, msg);
    }
    size_t n;
    const struct term *const *el = term_list_els(terms, &n);
    for (size_t i = 0; i < n; i++)
        if (add_pair(b, el[i], path) != 0)
            return -1;
    return 0;
}

/* add_option - the value of overlay_vars or extra_overlay_vars (see overlay.h) */
static int add_option(struct ctxb *b, const struct term *v, const char *opt)
{
    if (!v || v->type == TERM_NIL)
        return 0;
    if (v->type == TERM_BITS || printable_charlist(v)) {
        char *name = term_text(b->a, v);
        if (name && *name)
            return add_file(b, name, opt, v);
    } else if (term_is_list(v)) {
        size_t n;
        const struct term *const *el = term_list_els(v, &n);
        for (size_t i = 0; i < n; i++) {
            const struct term *e = el[i];
            int rc;
            if (e->type == TERM_TUPLE) {
                rc = add_pair(b, e, b->src->cfg_file);
            } else {
                char *name =
                    e->type == TERM_BITS || printable_charlist(e) ? term_text(b->a, e) : NULL;
                if (!name || !*name)
                    return kerr_set(KERR_INPUT, b->src->cfg_file, (int)e->line, 0,
                                    "malformed '%s' element '%s': expected a file name or "
                                    "{Name, Value}",
                                    opt, term_show(b->a, e, 0));
                rc = add_file(b, name, opt, e);
            }
            if (rc != 0)
                return -1;
        }
        return 0;
    }
    return kerr_set(KERR_INPUT, b->src->cfg_file, (int)v->line, 0,
                    "malformed '%s' value '%s': expected a file name or a list of file names "
                    "and {Name, Value} terms",
                    opt, term_show(b->a, v, 0));
}

struct expand {
    const json_t *ctx;
    const char *name; /* the variable being expanded */
    json_t *origin;
};

/* origin_err - MSG as a KERR_INPUT error at the definition of variable NAME */
static int origin_err(json_t *origin, const char *name, const char *msg)
{
    json_t *o = json_object_get(origin, name);
    const char *file = json_string_value(json_array_get(o, 0));
    int line = (int)json_integer_value(json_array_get(o, 1));
    return kerr_set(KERR_INPUT, file && *file ? file : NULL, line, 0, "%s", msg);
}

/* expand_one - render every string in V holding "{{" against the context, in place;
 * 1 when something changed, 0 when not, -1 on error */
static int expand_one(struct expand *x, json_t *v)
{
    int changed = 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (!memmem(s, len, "{{", 2))
            return 0;
        struct buf out = BUF_INIT;
        if (mustache_render_max(&out, x->name, s, len, x->ctx, NULL, MUSTACHE_NOESCAPE,
                                OVERLAY_VALUE_MAX) != 0) {
            buf_free(&out);
            if (strstr(kerr_get()->msg, "renders to more than")) {
                char msg[512];
                snprintf(msg, sizeof msg,
                         "overlay variable '%s' grows past %u bytes when expanded (does it "
                         "refer to itself?)",
                         x->name, OVERLAY_VALUE_MAX);
                return origin_err(x->origin, x->name, msg);
            }
            char msg[sizeof kerr_get()->msg + 256];
            snprintf(msg, sizeof msg, "bad template in overlay variable '%s': %s", x->name,
                     kerr_get()->msg);
            return origin_err(x->origin, x->name, msg);
        }
        if (out.len > OVERLAY_VALUE_MAX) {
            buf_free(&out);
            char msg[512];
            snprintf(msg, sizeof msg,
                     "overlay variable '%s' grows past %u bytes when expanded (does it refer "
                     "to itself?)",
                     x->name, OVERLAY_VALUE_MAX);
            return origin_err(x->origin, x->name, msg);
        }
        if (out.len != len || memcmp(out.p ? out.p : "", s, len) != 0) {
            /* a value whose expansion is not UTF-8 keeps what it had */
            changed = json_string_setn(v, out.p ? out.p : "", out.len) == 0;
        }
        buf_free(&out);
        return changed;
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int rc = expand_one(x, json_array_get(v, i));
            if (rc < 0)
                return -1;
            changed |= rc;
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            int rc = expand_one(x, e);
            if (rc < 0)
                return -1;
            changed |= rc;
        }
    }
    return changed;
}

/* holds_tag - whether a string in V still holds "{{" */
static bool holds_tag(const json_t *v)
{
    if (json_is_string(v))
        return memmem(json_string_value(v), json_string_length(v), "{{", 2) != NULL;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (holds_tag(json_array_get(v, i)))
                return true;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            if (holds_tag(e))
                return true;
        }
    }
    return false;
}

/* expand_all - expand until nothing changes or OVERLAY_EXPAND_ROUNDS are done */
static int expand_all(struct ctxb *b)
{
    struct expand x = {b->vars, NULL, b->origin};
    int changed = 1;
    for (int round = 0; round < OVERLAY_EXPAND_ROUNDS && changed; round++) {
        changed = 0;
        const char *k;
        json_t *v;
        json_object_foreach(b->vars, k, v)
        {
            x.name = k;
            int rc = expand_one(&x, v);
            if (rc < 0)
                return -1;
            changed |= rc;
        }
    }
    /* a variable still changing, or one left holding a tag that renders to itself, is in
     * a cycle: name it (the first defined, for a stable message) */
    const char *k, *worst = NULL;
    json_t *v;
    int worst_line = 0;
    json_t *copy = changed ? json_deep_copy(b->vars) : NULL;
    x.ctx = copy;
    json_object_foreach(b->vars, k, v)
    {
        bool cyc = holds_tag(v);
        if (!cyc && copy) {
            x.name = k;
            int rc = expand_one(&x, json_object_get(copy, k));
            if (rc < 0)
                kerr_clear();
            cyc = rc > 0;
        }
        int line = (int)json_integer_value(json_array_get(json_object_get(b->origin, k), 1));
        if (cyc && (!worst || line < worst_line)) {
            worst = k;
            worst_line = line;
        }
    }
    json_decref(copy);
    if (!worst)
        return 0;
    char msg[512];
    snprintf(msg, sizeof msg,
             "overlay variable '%s' refers to itself (through the variables it names): it "
             "does not settle after %d expansions",
             worst, OVERLAY_EXPAND_ROUNDS);
    return origin_err(b->origin, worst, msg);
}

json_t *overlay_context(struct arena *a, const struct overlay_vars_src *src)
{
    struct ctxb b = {a, src, json_object(), json_object()};
    char host[HOST_NAME_MAX + 1] = "localhost";
    const char *hostname = src->hostname;
    if (!hostname) {
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = '\0';
        hostname = host;
    }
    set_builtin(&b, "rel_name", src->rel_name);
    set_builtin(&b, "rel_vsn", src->rel_vsn);
    if (src->erts_vsn)
        set_builtin(&b, "erts_vsn", arena_sprintf(a, "erts-%s", src->erts_vsn));
    set_builtin(&b, "target_dir", src->target_dir);
    set_builtin(&b, "build_dir", src->build_dir);
    set_builtin(&b, "hostname", hostname);

    if (add_option(&b, src->overlay_vars, "overlay_vars") != 0 ||
        add_option(&b, src->extra_overlay_vars, "extra_overlay_vars") != 0)
        goto fail;
    for (size_t i = 0; i < src->ncli; i++)
        set_var(&b, src->cli_names[i], strlen(src->cli_names[i]), to_json(a, src->cli_values[i], 0),
                "command line", 0);
    if (expand_all(&b) != 0)
        goto fail;
    json_decref(b.origin);
    return b.vars;
fail:
    json_decref(b.origin);
    json_decref(b.vars);
    return NULL;
}

/* ---- the overlay steps ---- */

struct ov {
    struct arena *a;
    const char *cfg_file, *src_dir, *build_dir;
    char *root_real; /* realpath of build_dir */
    const json_t *ctx;
    const struct term *entry; /* the entry being run */
    struct overlay_trace *trace; /* where copied and rendered files came from, or NULL */
};

/* traced - remember that build-dir path REL came from SRC (absolute) */
static void traced(struct ov *o, const char *rel, const char *src)
{
    struct overlay_trace *t = o->trace;
    if (!t)
        return;
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 16;
        const char **d = arena_alloc(o->a, nc * sizeof *d), **sv = arena_alloc(o->a, nc * sizeof *sv);
        if (t->n) {
            memcpy(d, t->dst, t->n * sizeof *d);
            memcpy(sv, t->src, t->n * sizeof *sv);
        }
        t->dst = d;
        t->src = sv;
        t->cap = nc;
    }
    t->dst[t->n] = arena_strdup(o->a, rel);
    t->src[t->n++] = arena_strdup(o->a, src);
}

const char *overlay_trace_source(struct arena *a, const struct overlay_trace *t, const char *rel)
{
    for (size_t i = t ? t->n : 0; i-- > 0;) {
        size_t dl = strlen(t->dst[i]);
        if (!strcmp(t->dst[i], rel))
            return t->src[i];
        if (dl == 0)
            return arena_sprintf(a, "%s/%s", t->src[i], rel);
        if (!strncmp(t->dst[i], rel, dl) && rel[dl] == '/')
            return arena_sprintf(a, "%s%s", t->src[i], rel + dl);
    }
    return NULL;
}

static const char known_kinds[] = "mkdir, copy, template, template_wildcard, create, replace";

static int entry_err(struct ov *o, enum kerr_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int entry_err(struct ov *o, enum kerr_class cls, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kerr_set(cls, o->cfg_file, o->entry ? (int)o->entry->line : 0, 0, "%s", msg);
}

/* io_err - an I/O failure on PATH during the current entry */
static int io_err(struct ov *o, const char *path, const char *what)
{
    int e = errno;
    return entry_err(o, KERR_IO, "%s '%s': %s", what, path, strerror(e));
}

static int malformed(struct ov *o, const char *expected)
{
    return entry_err(o, KERR_INPUT, "malformed overlay entry '%s': expected %s",
                     term_show(o->a, o->entry, 0), expected);
}

/* render - the text of T rendered against the context; NULL with the error recorded */
static char *render(struct ov *o, const struct term *t, const char *expected)
{
    const char *s = t ? term_text(o->a, t) : NULL;
    if (!s) {
        malformed(o, expected);
        return NULL;
    }
    struct buf out = BUF_INIT;
    if (mustache_render(&out, o->cfg_file, s, strlen(s), o->ctx, NULL, MUSTACHE_NOESCAPE)) {
        char msg[sizeof kerr_get()->msg];
        snprintf(msg, sizeof msg, "%s", kerr_get()->msg);
        buf_free(&out);
        entry_err(o, KERR_INPUT, "bad template '%s' in overlay entry: %s", s, msg);
        return NULL;
    }
    char *r = arena_strdup(o->a, buf_cstr(&out));
    buf_free(&out);
    return r;
}

static const char *src_path(struct ov *o, const char *rel)
{
    return rel[0] == '/' ? rel : arena_sprintf(o->a, "%s/%s", o->src_dir, rel);
}

/* normalise - REL without ".", "..", empty components or a final '/'; NULL when ".."
 * climbs above the start */
static char *normalise(struct arena *a, const char *rel)
{
    size_t n = strlen(rel);
    char *out = arena_alloc(a, n + 1);
    size_t len = 0;
    const char *p = rel;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t cl = e ? (size_t)(e - p) : strlen(p);
        if (cl == 0 || (cl == 1 && p[0] == '.')) {
            /* skip */
        } else if (cl == 2 && p[0] == '.' && p[1] == '.') {
            if (len == 0)
                return NULL;
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the '/' before the dropped component */
        } else {
            if (len > 0)
                out[len++] = '/';
            memcpy(out + len, p, cl);
            len += cl;
        }
        p += cl;
        if (*p == '/')
            p++;
    }
    out[len] = '\0';
    return out;
}

static bool under(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (strcmp(root, "/") == 0)
        return true;
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

struct dest {
    char *rel;  /* normalised, relative to the build dir ("" for the root) */
    char *abs;  /* build_dir/rel */
    char *real; /* where it would be with every existing symlink resolved */
};

/* dest - check that destination REL stays inside the build dir; SHOWN is the rendered text
 * named in messages */
static int dest(struct ov *o, const char *rel, const char *shown, struct dest *d)
{
    if (rel[0] == '/')
        return entry_err(o, KERR_INPUT,
                         "overlay destination '%s' is an absolute path: destinations are "
                         "relative to the build dir",
                         shown);
    d->rel = normalise(o->a, rel);
    if (!d->rel)
        return entry_err(o, KERR_INPUT, "overlay destination '%s' leads outside the build dir",
                         shown);
    d->abs = d->rel[0] ? arena_sprintf(o->a, "%s/%s", o->build_dir, d->rel)
                       : arena_strdup(o->a, o->build_dir);
    /* resolve the longest existing prefix; what is left will be made as plain dirs/files */
    char *p = arena_strdup(o->a, d->abs);
    size_t plen = strlen(p), blen = strlen(o->build_dir);
    for (;;) {
        char *r = realpath(p, NULL);
        if (r) {
            bool ok = under(r, o->root_real);
            d->real = arena_sprintf(o->a, "%s%s", r, d->abs + plen);
            free(r);
            if (!ok)
                return entry_err(o, KERR_INPUT,
                                 "overlay destination '%s' leads outside the build dir through "
                                 "a symlink",
                                 shown);
            return 0;
        }
        if (errno != ENOENT && errno != ENOTDIR)
            return io_err(o, p, "cannot resolve");
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
            return entry_err(o, KERR_INPUT,
                             "overlay destination '%s' leads through the dangling symlink '%s'",
                             shown, p);
        if (plen <= blen)
            return io_err(o, o->build_dir, "cannot resolve");
        while (plen > blen && p[plen - 1] != '/')
            plen--;
        plen--;
        p[plen] = '\0';
    }
}

/* make_dirs - mkdir -p of REL (normalised) inside the build dir */
static int make_dirs(struct ov *o, const char *rel)
{
    char *path = arena_sprintf(o->a, "%s/%s", o->build_dir, rel);
    size_t base = strlen(o->build_dir) + 1;
    for (size_t i = base;; i++) {
        char c = path[i];
        if (c != '/' && c != '\0')
            continue;
        path[i] = '\0';
        if (i > base && mkdir(path, 0755) != 0) {
            struct stat st;
            if (errno != EEXIST || stat(path, &st) != 0)
                return io_err(o, path, "cannot make directory");
            if (!S_ISDIR(st.st_mode))
                return entry_err(o, KERR_INPUT, "'%s' is in the way of a directory", path);
        }
        path[i] = c;
        if (c == '\0')
            return 0;
    }
}

static int make_parent(struct ov *o, const struct dest *d)
{
    char *slash = strrchr(d->rel, '/');
    if (!slash)
        return 0;
    return make_dirs(o, arena_memdup(o->a, d->rel, (size_t)(slash - d->rel)));
}

/* clear_for_file - make PATH writable as a new file: a symlink there is removed (never
 * written through); a directory is an error */
static int clear_for_file(struct ov *o, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode))
        return entry_err(o, KERR_INPUT, "overlay destination '%s' is a directory", path);
    if (S_ISLNK(st.st_mode) && unlink(path) != 0)
        return io_err(o, path, "cannot remove");
    return 0;
}

/* put_file - write DATA to PATH with MODE (exact, not masked) */
static int put_file(struct ov *o, const char *path, const char *data, size_t len, mode_t mode)
{
    if (clear_for_file(o, path) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_err(o, path, "cannot create");
    if (fs_write_all(fd, data, len) != 0 || fchmod(fd, mode & 0777) != 0) {
        io_err(o, path, "cannot write");
        close(fd);
        return -1;
    }
    if (close(fd) != 0)
        return io_err(o, path, "cannot write");
    return 0;
}

/* copy_file - SRC's bytes and mode (& 0777) to DST */
static int copy_file(struct ov *o, const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    struct stat st, dst_st;
    if (in < 0)
        return io_err(o, src, "cannot open");
    if (fstat(in, &st) != 0) {
        io_err(o, src, "cannot stat");
        goto done;
    }
    if (stat(dst, &dst_st) == 0 && dst_st.st_dev == st.st_dev && dst_st.st_ino == st.st_ino) {
        entry_err(o, KERR_INPUT, "'%s' and '%s' are the same file", src, dst);
        goto done;
    }
    if (clear_for_file(o, dst) != 0)
        goto done;
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        io_err(o, dst, "cannot create");
        goto done;
    }
    char chunk[65536];
    for (;;) {
        ssize_t r = read(in, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            io_err(o, src, "cannot read");
            goto done;
        }
        if (r == 0)
            break;
        if (fs_write_all(out, chunk, (size_t)r) != 0) {
            io_err(o, dst, "cannot write");
            goto done;
        }
    }
    if (fchmod(out, st.st_mode & 0777) != 0) {
        io_err(o, dst, "cannot set the mode of");
        goto done;
    }
    rc = 0;
done:
    if (out >= 0 && close(out) != 0 && rc == 0)
        rc = io_err(o, dst, "cannot write");
    close(in);
    return rc;
}

/* copy_tree - cp -R of SRC (already stat'ed as ST) to DST; symlinks below the top are
 * copied as symlinks */
static int copy_tree(struct ov *o, const char *src, const struct stat *st, const char *dst)
{
    if (S_ISREG(st->st_mode))
        return copy_file(o, src, dst);
    if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0)
            return io_err(o, src, "cannot read link");
        target[n] = '\0';
        if (clear_for_file(o, dst) != 0)
            return -1;
        if (unlink(dst) != 0 && errno != ENOENT)
            return io_err(o, dst, "cannot remove");
        if (symlink(target, dst) != 0)
            return io_err(o, dst, "cannot make symlink");
        return 0;
    }
    if (!S_ISDIR(st->st_mode)) {
        log_warn("%s:%u: overlay copy skips '%s': not a file, directory or symlink", o->cfg_file,
                 o->entry->line, src);
        return 0;
    }
    struct stat dst_st;
    if (lstat(dst, &dst_st) == 0 && !S_ISDIR(dst_st.st_mode)) {
        if (!S_ISLNK(dst_st.st_mode))
            return entry_err(o, KERR_INPUT,
                             "cannot overwrite non-directory '%s' with directory "
                             "'%s'",
                             dst, src);
        if (unlink(dst) != 0)
            return io_err(o, dst, "cannot remove");
    }
    if (mkdir(dst, 0700) != 0 && errno != EEXIST)
        return io_err(o, dst, "cannot make directory");
    if (chmod(dst, 0700 | (st->st_mode & 0777)) != 0)
        return io_err(o, dst, "cannot set the mode of");
    DIR *d = opendir(src);
    if (!d)
        return io_err(o, src, "cannot open directory");
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *s = arena_sprintf(o->a, "%s/%s", src, de->d_name);
        char *t = arena_sprintf(o->a, "%s/%s", dst, de->d_name);
        struct stat cst;
        if (lstat(s, &cst) != 0)
            rc = io_err(o, s, "cannot stat");
        else
            rc = copy_tree(o, s, &cst, t);
    }
    if (rc == 0 && errno != 0)
        rc = io_err(o, src, "cannot read directory");
    closedir(d);
    if (rc == 0 && chmod(dst, st->st_mode & 0777) != 0)
        rc = io_err(o, dst, "cannot set the mode of");
    return rc;
}

static const char *base_name(struct arena *a, const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/')
        s--;
    return arena_memdup(a, path + s, n - s);
}

static int need_source(struct ov *o, const char *src, const char *shown, struct stat *st)
{
    if (stat(src, st) == 0)
        return 0;
    if (errno == ENOENT || errno == ENOTDIR)
        return entry_err(o, KERR_INPUT, "overlay source '%s' does not exist (looked for '%s')",
                         shown, src);
    return io_err(o, src, "cannot stat");
}

static int run_mkdir(struct ov *o)
{
    char *rel = render(o, term_elem(o->entry, 1), "{mkdir, Dir}");
    struct dest d;
    if (!rel || dest(o, rel, rel, &d) != 0)
        return -1;
    return make_dirs(o, d.rel);
}

static int run_copy(struct ov *o, size_t n)
{
    const char *expected = "{copy, Src} or {copy, Src, Dst}";
    char *src_rel = render(o, term_elem(o->entry, 1), expected);
    const char *dst_rel = n == 3 ? render(o, term_elem(o->entry, 2), expected) : "";
    if (!src_rel || !dst_rel)
        return -1;
    const char *src = src_path(o, src_rel);
    struct stat st;
    struct dest d;
    if (need_source(o, src, src_rel, &st) != 0 || dest(o, dst_rel, dst_rel, &d) != 0)
        return -1;
    size_t dl = strlen(dst_rel);
    bool into = d.rel[0] == '\0' || (dl > 0 && dst_rel[dl - 1] == '/') || fs_is_dir(d.abs);
    if (into) {
        const char *name = base_name(o->a, src_rel);
        const char *inside = d.rel[0] ? arena_sprintf(o->a, "%s/%s", d.rel, name) : name;
        const char *shown =
            arena_sprintf(o->a, "%s%s%s", dst_rel, dl && dst_rel[dl - 1] != '/' ? "/" : "", name);
        if (dest(o, inside, shown, &d) != 0)
            return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        char *rs = realpath(src, NULL);
        bool self = rs && under(d.real, rs);
        free(rs);
        if (self)
            return entry_err(o, KERR_INPUT, "cannot copy directory '%s' into itself ('%s')",
                             src_rel, d.abs);
    }
    log_verbose("overlay: copy %s %s", src_rel, d.rel[0] ? d.rel : ".");
    if (make_parent(o, &d) != 0)
        return -1;
    traced(o, d.rel, src);
    return copy_tree(o, src, &st, d.abs);
}

/* template_file - render SRC (absolute) into destination DST_REL, keeping SRC's mode */
static int template_file(struct ov *o, const char *src, const char *src_shown, const char *dst_rel)
{
    struct stat st;
    struct dest d;
    if (need_source(o, src, src_shown, &st) != 0 || dest(o, dst_rel, dst_rel, &d) != 0)
        return -1;
    if (S_ISDIR(st.st_mode))
        return entry_err(o, KERR_INPUT, "template source '%s' is a directory", src_shown);
    size_t len;
    char *text = fs_read_file(o->a, src, &len);
    if (!text)
        return -1;
    struct buf out = BUF_INIT;
    if (mustache_render(&out, src, text, len, o->ctx, NULL, MUSTACHE_NOESCAPE) != 0) {
        buf_free(&out);
        return -1; /* reported at the template's own file, line and column */
    }
    log_verbose("overlay: template %s %s", src_shown, d.rel);
    traced(o, d.rel, src);
    int rc = make_parent(o, &d);
    if (rc == 0)
        rc = put_file(o, d.abs, out.p ? out.p : "", out.len, st.st_mode);
    buf_free(&out);
    return rc;
}

static int run_template(struct ov *o)
{
    const char *expected = "{template, Src, Dst}";
    char *src_rel = render(o, term_elem(o->entry, 1), expected);
    char *dst_rel = src_rel ? render(o, term_elem(o->entry, 2), expected) : NULL;
    if (!dst_rel)
        return -1;
    return template_file(o, src_path(o, src_rel), src_rel, dst_rel);
}

/* glob_quote - S with glob's special characters escaped */
static char *glob_quote(struct arena *a, const char *s)
{
    char *out = arena_alloc(a, 2 * strlen(s) + 1), *q = out;
    for (; *s; s++) {
        if (strchr("*?[]{}\\", *s))
            *q++ = '\\';
        *q++ = *s;
    }
    *q = '\0';
    return out;
}

static int run_template_wildcard(struct ov *o)
{
    const char *expected = "{template_wildcard, Pattern, DstDir}";
    char *pat = render(o, term_elem(o->entry, 1), expected);
    char *dir = pat ? render(o, term_elem(o->entry, 2), expected) : NULL;
    if (!dir)
        return -1;
    char *full =
        pat[0] == '/' ? pat : arena_sprintf(o->a, "%s/%s", glob_quote(o->a, o->src_dir), pat);
    glob_t g;
    int grc = glob(full, GLOB_BRACE | GLOB_ERR, NULL, &g);
    if (grc == GLOB_NOMATCH || (grc == 0 && g.gl_pathc == 0)) {
        log_warn("%s:%u: template_wildcard '%s' matched no file", o->cfg_file, o->entry->line, pat);
        if (grc == 0)
            globfree(&g);
        return 0;
    }
    if (grc != 0)
        return entry_err(o, KERR_IO, "cannot read the directories for pattern '%s'", pat);
    int rc = 0;
    size_t skip = pat[0] == '/' ? 0 : strlen(o->src_dir) + 1;
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        const char *m = g.gl_pathv[i];
        if (fs_is_dir(m)) {
            log_warn("%s:%u: template_wildcard '%s' matched the directory '%s': skipped",
                     o->cfg_file, o->entry->line, pat, m);
            continue;
        }
        const char *dst = arena_sprintf(o->a, "%s/%s", dir, base_name(o->a, m));
        rc = template_file(o, m, strlen(m) > skip ? m + skip : m, dst);
    }
    globfree(&g);
    return rc;
}

static int run_create(struct ov *o)
{
    const char *expected = "{create, Dst, Contents} with text contents";
    char *dst_rel = render(o, term_elem(o->entry, 1), expected);
    if (!dst_rel)
        return -1;
    const struct term *c = term_elem(o->entry, 2);
    const char *text = c->type == TERM_ATOM ? NULL : term_text(o->a, c);
    if (!text)
        return malformed(o, expected);
    size_t len = c->type == TERM_BITS ? c->u.bits.nbits / 8 : strlen(text);
    struct dest d;
    if (dest(o, dst_rel, dst_rel, &d) != 0 || make_parent(o, &d) != 0)
        return -1;
    log_verbose("overlay: create %s", d.rel);
    return put_file(o, d.abs, text, len, 0644);
}

/* ---- replace ---- */

struct re_opts {
    uint32_t compile, match, newline, bsr;
};

struct re_flag {
    const char *name;
    uint32_t compile, match;
};

static const struct re_flag re_flags[] = {
    {"caseless", PCRE2_CASELESS, 0},
    {"multiline", PCRE2_MULTILINE, 0},
    {"dotall", PCRE2_DOTALL, 0},
    {"extended", PCRE2_EXTENDED, 0},
    {"unicode", PCRE2_UTF, 0},
    {"ucp", PCRE2_UCP, 0},
    {"ungreedy", PCRE2_UNGREEDY, 0},
    {"anchored", PCRE2_ANCHORED, 0},
    {"dollar_endonly", PCRE2_DOLLAR_ENDONLY, 0},
    {"firstline", PCRE2_FIRSTLINE, 0},
    {"no_auto_capture", PCRE2_NO_AUTO_CAPTURE, 0},
    {"dupnames", PCRE2_DUPNAMES, 0},
    {"notempty", 0, PCRE2_NOTEMPTY},
    {"notempty_atstart", 0, PCRE2_NOTEMPTY_ATSTART},
    {"notbol", 0, PCRE2_NOTBOL},
    {"noteol", 0, PCRE2_NOTEOL},
    {"global", 0, 0},
};

static const char re_known[] =
    "caseless, multiline, dotall, extended, unicode, ucp, ungreedy, anchored, dollar_endonly, "
    "firstline, no_auto_capture, dupnames, notempty, notempty_atstart, notbol, noteol, global, "
    "bsr_anycrlf, bsr_unicode, {newline, cr|lf|crlf|anycrlf|any}, {return, _}";

static int re_parse_opts(struct ov *o, const struct term *opts, struct re_opts *r)
{
    r->compile = 0;
    r->match = 0;
    r->newline = PCRE2_NEWLINE_LF; /* Erlang's re default */
    r->bsr = PCRE2_BSR_UNICODE;
    if (!term_is_list(opts))
        return malformed(o, "{replace, File, Regex, Replacement, Options} with a list of options");
    size_t n;
    const struct term *const *el = term_list_els(opts, &n);
    for (size_t i = 0; i < n; i++) {
        const struct term *e = el[i];
        bool ok = false;
        if (e->type == TERM_ATOM) {
            for (size_t k = 0; k < sizeof re_flags / sizeof re_flags[0]; k++) {
                if (term_is_atom(e, re_flags[k].name)) {
                    r->compile |= re_flags[k].compile;
                    r->match |= re_flags[k].match;
                    ok = true;
                }
            }
            if (term_is_atom(e, "bsr_anycrlf"))
                r->bsr = PCRE2_BSR_ANYCRLF, ok = true;
            if (term_is_atom(e, "bsr_unicode"))
                r->bsr = PCRE2_BSR_UNICODE, ok = true;
        } else if (term_is_tagged(e, "return", 2)) {
            ok = true;
        } else if (term_is_tagged(e, "newline", 2)) {
            static const struct {
                const char *name;
                uint32_t v;
            } nl[] = {{"cr", PCRE2_NEWLINE_CR},
                      {"lf", PCRE2_NEWLINE_LF},
                      {"crlf", PCRE2_NEWLINE_CRLF},
                      {"anycrlf", PCRE2_NEWLINE_ANYCRLF},
                      {"any", PCRE2_NEWLINE_ANY}};
            for (size_t k = 0; k < sizeof nl / sizeof nl[0]; k++)
                if (term_is_atom(term_elem(e, 1), nl[k].name))
                    r->newline = nl[k].v, ok = true;
        }
        if (!ok)
            return entry_err(o, KERR_INPUT, "unknown replace option '%s': known options are %s",
                             term_show(o->a, e, 0), re_known);
    }
    return 0;
}

/* A replacement as re:replace reads it: literal runs and group numbers. */
struct repl_part {
    const char *lit; /* NULL for a group */
    size_t len;
    size_t group;
};

static size_t read_int(const char *s, size_t *i, size_t n)
{
    size_t v = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (v < 100000)
            v = v * 10 + (size_t)(s[*i] - '0');
        (*i)++;
    }
    return v;
}

static int repl_parse(struct ov *o, const char *s, struct repl_part **parts, size_t *np)
{
    size_t n = strlen(s), cap = n + 1, k = 0;
    struct repl_part *p = arena_alloc(o->a, cap * sizeof *p);
    struct buf lit = BUF_INIT;
#define FLUSH()                                                                                    \
    do {                                                                                           \
        if (lit.len) {                                                                             \
            p[k++] = (struct repl_part){arena_memdup(o->a, lit.p, lit.len), lit.len, 0};           \
            buf_reset(&lit);                                                                       \
        }                                                                                          \
    } while (0)
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '&') {
            FLUSH();
            p[k++] = (struct repl_part){NULL, 0, 0};
            i++;
        } else if (c == '\\' && i + 1 < n && s[i + 1] == 'g' && i + 2 < n) {
            size_t start;
            bool braced = s[i + 2] == '{';
            i += braced ? 3 : 2;
            start = i;
            size_t g = read_int(s, &i, n);
            if (i == start || (braced && (i >= n || s[i] != '}'))) {
                buf_free(&lit);
                return entry_err(o, KERR_INPUT, "malformed replacement '%s': bad \\g reference", s);
            }
            if (braced)
                i++;
            FLUSH();
            p[k++] = (struct repl_part){NULL, 0, g};
        } else if (c == '\\' && i + 1 < n && s[i + 1] >= '1' && s[i + 1] <= '9') {
            i++;
            size_t g = read_int(s, &i, n);
            FLUSH();
            p[k++] = (struct repl_part){NULL, 0, g};
        } else if (c == '\\' && i + 1 < n) {
            buf_addc(&lit, s[i + 1]);
            i += 2;
        } else {
            buf_addc(&lit, c);
            i++;
        }
    }
    FLUSH();
#undef FLUSH
    buf_free(&lit);
    *parts = p;
    *np = k;
    return 0;
}

/* re_replace - re:replace(SUBJ, CODE, REPL, [global]) appended to OUT */
static int re_replace(struct ov *o, pcre2_code *code, const struct re_opts *ro, const char *subj,
                      size_t len, const struct repl_part *parts, size_t np, const char *file,
                      struct buf *out)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    uint32_t nl = 0;
    pcre2_pattern_info(code, PCRE2_INFO_NEWLINE, &nl);
    bool utf = ro->compile & PCRE2_UTF;
    bool crlf_nl =
        nl == PCRE2_NEWLINE_ANY || nl == PCRE2_NEWLINE_CRLF || nl == PCRE2_NEWLINE_ANYCRLF;
    size_t offset = 0, last = 0;
    uint32_t extra = 0;
    int rc = 0;
    const PCRE2_SPTR s = (PCRE2_SPTR)subj;
    for (;;) {
        int m = pcre2_match(code, s, len, offset, ro->match | extra, md, NULL);
        if (m == PCRE2_ERROR_NOMATCH) {
            if (extra == 0 || offset >= len)
                break;
            /* the empty match was the only one here: move on one character */
            extra = 0;
            if (crlf_nl && offset + 1 < len && subj[offset] == '\r' && subj[offset + 1] == '\n')
                offset += 2;
            else {
                offset++;
                while (utf && offset < len && (subj[offset] & 0xC0) == 0x80)
                    offset++;
            }
            continue;
        }
        if (m < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(m, msg, sizeof msg);
            rc = entry_err(o, KERR_INPUT, "cannot match in '%s': %s", file, (char *)msg);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t pairs = pcre2_get_ovector_count(md);
        if (ov[1] < ov[0]) {
            rc = entry_err(o, KERR_INPUT, "regular expression uses \\K to end before it starts");
            break;
        }
        buf_add(out, subj + last, ov[0] - last);
        for (size_t i = 0; i < np; i++) {
            if (parts[i].lit) {
                buf_add(out, parts[i].lit, parts[i].len);
            } else if (parts[i].group < (size_t)m && parts[i].group < pairs &&
                       ov[2 * parts[i].group] != PCRE2_UNSET) {
                size_t g = parts[i].group;
                buf_add(out, subj + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
            }
        }
        last = ov[1];
        offset = ov[1];
        extra = ov[0] == ov[1] ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
        if (ov[0] == ov[1] && offset >= len)
            break;
    }
    if (rc == 0)
        buf_add(out, subj + last, len - last);
    pcre2_match_data_free(md);
    return rc;
}

static int run_replace(struct ov *o, size_t n)
{
    const char *expected = "{replace, File, Regex, Replacement} or "
                           "{replace, File, Regex, Replacement, Options}";
    char *file = render(o, term_elem(o->entry, 1), expected);
    const struct term *rt = term_elem(o->entry, 2);
    const char *regex = rt->type == TERM_ATOM ? NULL : term_text(o->a, rt);
    if (!file)
        return -1;
    if (!regex)
        return malformed(o, expected);
    char *repl = render(o, term_elem(o->entry, 3), expected);
    struct re_opts ro;
    if (!repl || re_parse_opts(o, n == 5 ? term_elem(o->entry, 4) : term_nil(), &ro) != 0)
        return -1;
    struct repl_part *parts = NULL;
    size_t np = 0;
    struct dest d;
    if (repl_parse(o, repl, &parts, &np) != 0 || dest(o, file, file, &d) != 0)
        return -1;
    struct stat st;
    if (stat(d.abs, &st) != 0)
        return entry_err(o, KERR_INPUT,
                         "overlay replace target '%s' does not exist in the "
                         "build dir",
                         file);
    size_t len;
    char *data = fs_read_file(o->a, d.abs, &len);
    if (!data)
        return -1;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    pcre2_set_newline(cc, ro.newline);
    pcre2_set_bsr(cc, ro.bsr);
    int err;
    PCRE2_SIZE erroff;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, ro.compile, &err, &erroff, cc);
    pcre2_compile_context_free(cc);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return entry_err(o, KERR_INPUT, "bad regular expression '%s' at offset %zu: %s", regex,
                         (size_t)erroff, (char *)msg);
    }
    struct buf out = BUF_INIT;
    int rc = re_replace(o, code, &ro, data, len, parts, np, file, &out);
    pcre2_code_free(code);
    log_verbose("overlay: replace %s: s/%s/%s/", d.rel, regex, repl);
    if (rc == 0)
        rc = put_file(o, d.abs, out.p ? out.p : "", out.len, st.st_mode);
    buf_free(&out);
    return rc;
}

/* run_entry - one overlay entry, by kind and arity */
static int run_entry(struct ov *o)
{
    const struct term *e = o->entry;
    if (e->type != TERM_TUPLE || e->u.tuple.n == 0 || e->u.tuple.el[0]->type != TERM_ATOM)
        return entry_err(o, KERR_INPUT,
                         "malformed overlay entry '%s': expected a tuple {Kind, ...}, Kind one "
                         "of %s",
                         term_show(o->a, e, 0), known_kinds);
    size_t n = e->u.tuple.n;
    const struct term *k = e->u.tuple.el[0];
    if (term_is_atom(k, "mkdir"))
        return n == 2 ? run_mkdir(o) : malformed(o, "{mkdir, Dir}");
    if (term_is_atom(k, "copy"))
        return n == 2 || n == 3 ? run_copy(o, n) : malformed(o, "{copy, Src} or {copy, Src, Dst}");
    if (term_is_atom(k, "template"))
        return n == 3 ? run_template(o) : malformed(o, "{template, Src, Dst}");
    if (term_is_atom(k, "template_wildcard"))
        return n == 3 ? run_template_wildcard(o)
                      : malformed(o, "{template_wildcard, Pattern, DstDir}");
    if (term_is_atom(k, "create"))
        return n == 3 ? run_create(o) : malformed(o, "{create, Dst, Contents}");
    if (term_is_atom(k, "replace"))
        return n == 4 || n == 5 ? run_replace(o, n)
                                : malformed(o, "{replace, File, Regex, Replacement} or "
                                               "{replace, File, Regex, Replacement, Options}");
    return entry_err(o, KERR_INPUT, "unknown overlay kind '%s' in '%s': known kinds are %s",
                     term_show(o->a, k, 0), term_show(o->a, e, 0), known_kinds);
}

int overlay_apply(struct arena *a, const struct term *overlays, const char *cfg_file,
                  const char *src_dir, const char *build_dir, const json_t *ctx)
{
    return overlay_apply_traced(a, overlays, cfg_file, src_dir, build_dir, ctx, NULL);
}

int overlay_apply_traced(struct arena *a, const struct term *overlays, const char *cfg_file,
                         const char *src_dir, const char *build_dir, const json_t *ctx,
                         struct overlay_trace *trace)
{
    if (!overlays || overlays->type == TERM_NIL)
        return 0;
    size_t bl = strlen(build_dir);
    while (bl > 1 && build_dir[bl - 1] == '/')
        bl--;
    struct ov o = {a, cfg_file, src_dir, arena_memdup(a, build_dir, bl), NULL, ctx, NULL, trace};
    build_dir = o.build_dir;
    if (!term_is_list(overlays))
        return kerr_set(KERR_INPUT, cfg_file, (int)overlays->line, 0,
                        "malformed 'overlay' value '%s': expected a list of overlay entries",
                        term_show(a, overlays, 0));
    /* the build dir itself is ours to make */
    struct buf p = BUF_INIT;
    for (const char *s = build_dir;; s++) {
        if ((*s == '/' || *s == '\0') && p.len > 0 && mkdir(buf_cstr(&p), 0755) != 0 &&
            errno != EEXIST) {
            kerr_errno(buf_cstr(&p), "cannot make directory");
            buf_free(&p);
            return -1;
        }
        if (*s == '\0')
            break;
        buf_addc(&p, *s);
    }
    buf_free(&p);
    char *r = realpath(build_dir, NULL);
    if (!r)
        return kerr_errno(build_dir, "cannot resolve");
    o.root_real = arena_strdup(a, r);
    free(r);

    size_t n;
    const struct term *const *el = term_list_els(overlays, &n);
    for (size_t i = 0; i < n; i++) {
        o.entry = el[i];
        if (run_entry(&o) != 0)
            return -1;
    }
    return 0;
}
