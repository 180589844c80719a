/* relfile.c - read .rel and .app files and resolve applications along a path, as systools does */
#include "relfile.h"

#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "term_parse.h"
#include "term_print.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- errors ---- */

/* fail - record CLS with FILE and a message ending in "(systools_make: KIND)" */
#define fail(cls, file, kind, ...) kerr_set_kind(cls, file, "systools_make", kind, __VA_ARGS__)

/* add_kind - append "(MOD: KIND)" to the error recorded last, keeping its place */
static int add_kind(const char *mod, const char *kind)
{
    char suffix[256];
    snprintf(suffix, sizeof suffix, " (%s: %s)", mod, kind);
    return kerr_wrap("", suffix);
}

/* ---- term shapes systools checks ---- */

/* string_p - a flat list of valid code points, as unicode:characters_to_list(S) =:= S */
static bool string_p(const struct term *t)
{
    if (t->type == TERM_NIL)
        return true;
    if (t->type != TERM_LIST || t->u.list.tail->type != TERM_NIL)
        return false;
    for (size_t i = 0; i < t->u.list.n; i++) {
        const struct term *c = t->u.list.el[i];
        if (c->type != TERM_INT || c->u.i < 0 || c->u.i > 0x10FFFF ||
            (c->u.i >= 0xD800 && c->u.i <= 0xDFFF))
            return false;
    }
    return true;
}

static bool a_list_p(const struct term *t)
{
    if (!term_is_list(t))
        return false;
    size_t n;
    const struct term *const *el = term_list_els(t, &n);
    for (size_t i = 0; i < n; i++)
        if (el[i]->type != TERM_ATOM)
            return false;
    return true;
}

static bool t_list_p(const struct term *t)
{
    if (!term_is_list(t))
        return false;
    size_t n;
    const struct term *const *el = term_list_els(t, &n);
    for (size_t i = 0; i < n; i++)
        if (!term_is_tuple(el[i], 2) || el[i]->u.tuple.el[0]->type != TERM_ATOM)
            return false;
    return true;
}

/* atom_names - the names of a list of atoms (checked by a_list_p) */
static const char **atom_names(struct arena *a, const struct term *t, size_t *n)
{
    const struct term *const *el = term_list_els(t, n);
    const char **v = arena_alloc(a, (*n + 1) * sizeof *v);
    for (size_t i = 0; i < *n; i++)
        v[i] = el[i]->u.atom.name;
    return v;
}

static bool is_app_type(const struct term *t)
{
    static const char *types[] = {"permanent", "transient", "temporary", "none", "load"};
    for (size_t i = 0; i < 5; i++)
        if (term_is_atom(t, types[i]))
            return true;
    return false;
}

/* ---- reading the first term of a file ---- */

/* first_term_end - offset just past the '.' that ends the first term, or 0 if none */
static size_t first_term_end(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '%') {
            while (i < len && s[i] != '\n')
                i++;
        } else if (c == '"' || c == '\'') {
            for (i++; i < len && s[i] != c; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (c == '$') {
            i += (i + 1 < len && s[i + 1] == '\\') ? 3 : 2;
        } else if (c == '.') {
            if (i + 1 == len || s[i + 1] == ' ' || s[i + 1] == '\t' || s[i + 1] == '\n' ||
                s[i + 1] == '\r' || s[i + 1] == '\f' || s[i + 1] == '%')
                return i + 1;
            i++;
        } else {
            i++;
        }
    }
    return 0;
}

const struct term *relfile_read_first_term(struct arena *a, const char *path, const char **kind)
{
    size_t len;
    const char *k = "open";
    const struct term *t = NULL;
    char *text = fs_read_file(a, path, &len);
    if (!text)
        goto done;
    if (term_parse_latin1(text, len)) {
        /* a "%% coding: latin-1" file: its bytes are characters; the term reader takes UTF-8 */
        char *u = arena_alloc(a, 2 * len + 1);
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)text[i];
            if (ch < 0x80) {
                u[n++] = (char)ch;
            } else {
                u[n++] = (char)(0xC0 | (ch >> 6));
                u[n++] = (char)(0x80 | (ch & 0x3F));
            }
        }
        u[n] = 0;
        text = u;
        len = n;
    }
    size_t end = first_term_end(text, len);
    if (end == 0) {
        k = "read";
        kerr_set(KERR_INPUT, path, 0, 0, "no complete term (no final '.') in '%s'", path);
        goto done;
    }
    k = "parse";
    t = term_parse_term(a, path, text, end);
done:
    if (kind)
        *kind = t ? NULL : k;
    return t;
}

/* ---- paths ---- */

/* path_add - DIR at the end of P; the array doubles when N reaches a power of two (it is
 * only ever made here, and dedup only shortens it) */
static void path_add(struct arena *a, struct relfile_path *p, const char *dir)
{
    if ((p->n & (p->n - 1)) == 0) {
        const char **v = arena_alloc(a, (p->n ? 2 * p->n : 1) * sizeof *v);
        if (p->n)
            memcpy(v, p->dirs, p->n * sizeof *v);
        p->dirs = v;
    }
    p->dirs[p->n++] = dir;
}


/* join - filename:join(D, F) for simple names */
static const char *join(struct arena *a, const char *d, const char *f)
{
    size_t n = strlen(d);
    if (n > 0 && d[n - 1] == '/')
        return arena_sprintf(a, "%s%s", d, f);
    return arena_sprintf(a, "%s/%s", d, f);
}

/* full_match - re:run(S, RE, [{capture, first, list}]) gives {match, [S]}: the first match
 * covers all of S */
static bool full_match(const pcre2_code *re, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    size_t len = strlen(s);
    bool ok = false;
    if (pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL) >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        ok = ov[0] == 0 && ov[1] == len;
    }
    pcre2_match_data_free(md);
    return ok;
}

/* match_dirs - entries of D0 (readdir order) fully matched by RE that are directories */
static void match_dirs(struct arena *a, const char *re_text, const char *d0, bool root,
                       struct relfile_path *out)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)re_text, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
    DIR *dh = re ? opendir(d0) : NULL;
    struct dirent *de;
    while (dh && (de = readdir(dh))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!full_match(re, de->d_name))
            continue;
        const char *d = root ? arena_strdup(a, de->d_name) : join(a, d0, de->d_name);
        if (fs_is_dir(d))
            path_add(a, out, d);
    }
    if (dh)
        closedir(dh);
    pcre2_code_free(re);
}

/* expand_one - systools_lib:get_dirs/1 for one pattern */
static void expand_one(struct arena *a, const char *pat, struct relfile_path *out)
{
    struct relfile_path cur = {0, NULL, NULL};
    bool root = true;
    const char *p = pat;
    if (*p == '/') {
        path_add(a, &cur, "/");
        root = false;
        while (*p == '/')
            p++;
    }
    while (*p) {
        size_t n = strcspn(p, "/");
        char *name = arena_memdup(a, p, n);
        p += n;
        while (*p == '/')
            p++;
        struct relfile_path next = {0, NULL, NULL};
        if (strchr(name, '*')) {
            struct buf re = BUF_INIT;
            if (!strcmp(name, "*"))
                buf_adds(&re, "[^/]+");
            else
                for (const char *c = name; *c; c++)
                    *c == '*' ? buf_adds(&re, "[^/]*") : buf_addc(&re, *c);
            if (root)
                match_dirs(a, buf_cstr(&re), ".", true, &next);
            else
                for (size_t i = 0; i < cur.n; i++)
                    match_dirs(a, buf_cstr(&re), cur.dirs[i], false, &next);
            buf_free(&re);
        } else if (root) {
            if (fs_is_dir(name))
                path_add(a, &next, name);
        } else {
            for (size_t i = 0; i < cur.n; i++) {
                const char *d = join(a, cur.dirs[i], name);
                if (fs_is_dir(d))
                    path_add(a, &next, d);
            }
        }
        cur = next;
        root = false;
    }
    for (size_t i = 0; i < cur.n; i++)
        path_add(a, out, cur.dirs[i]);
}

void relfile_path_expand(struct arena *a, const char *const *patterns, size_t n,
                         struct relfile_path *out)
{
    for (size_t i = 0; i < n; i++)
        expand_one(a, patterns[i], out);
}

void relfile_path_dedup(struct relfile_path *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(p->dirs[j], p->dirs[i]) == 0;
        if (!seen)
            p->dirs[k++] = p->dirs[i];
    }
    p->n = k;
    p->cache = NULL; /* its listings were for the directories as they were */
}

const char *relfile_otp_root(struct arena *a)
{
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    while (*path) {
        size_t n = strcspn(path, ":");
        char *cand = arena_sprintf(a, "%.*s/erl", (int)n, path);
        char real[PATH_MAX];
        path += n + (path[n] == ':');
        if (access(cand, X_OK) != 0 || !realpath(cand, real))
            continue;
        /* ROOT/bin/erl or ROOT/erts-VSN/bin/erl */
        char *s = strrchr(real, '/');
        if (!s)
            continue;
        *s = 0;
        s = strrchr(real, '/');
        if (!s)
            continue;
        *s = 0;
        const char *base = strrchr(real, '/');
        if (base && !strncmp(base + 1, "erts-", 5))
            *(char *)base = 0;
        char *root = arena_strdup(a, real[0] ? real : "/");
        if (fs_is_dir(join(a, root, "lib")))
            return root;
    }
    return NULL;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void relfile_code_path(struct arena *a, struct relfile_path *out)
{
    path_add(a, out, ".");
    const char *root = relfile_otp_root(a);
    if (!root)
        return;
    const char *lib = join(a, root, "lib");
    DIR *dh = opendir(lib);
    if (!dh)
        return;
    struct relfile_path all = {0, NULL, NULL};
    struct dirent *de;
    while ((de = readdir(dh)))
        if (de->d_name[0] != '.')
            path_add(a, &all, arena_strdup(a, de->d_name));
    closedir(dh);
    qsort(all.dirs, all.n, sizeof *all.dirs, cmp_str);
    /* kernel and stdlib come first, as in the boot script */
    static const char *first[] = {"kernel-", "stdlib-", ""};
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < all.n; i++) {
            bool is_first =
                !strncmp(all.dirs[i], "kernel-", 7) || !strncmp(all.dirs[i], "stdlib-", 7);
            if (pass < 2 ? strncmp(all.dirs[i], first[pass], 7) != 0 : is_first)
                continue;
            const char *ebin = join(a, join(a, lib, all.dirs[i]), "ebin");
            if (fs_is_dir(ebin))
                path_add(a, out, ebin);
        }
}

/* ---- .rel files ---- */

static bool is_list_any(const struct term *t)
{
    return t->type == TERM_NIL || t->type == TERM_LIST;
}

/* rel_app - one entry of the .rel application list, as systools_make:check_appl/1 and
 * split_app_incl/1 take it; -1 when it is illegal */
static int rel_app(struct arena *a, const struct term *e, struct relfile_rel_app *ra)
{
    size_t n = e->type == TERM_TUPLE ? e->u.tuple.n : 0;
    if (n < 2 || n > 4 || e->u.tuple.el[0]->type != TERM_ATOM || !string_p(e->u.tuple.el[1]))
        return -1;
    const struct term *const *el = e->u.tuple.el;
    ra->name = el[0]->u.atom.name;
    ra->vsn = term_charlist(a, el[1]);
    ra->type = "permanent";
    ra->incls = NULL;
    if (n == 3 && is_list_any(el[2])) {
        if (!a_list_p(el[2]))
            return -1;
        ra->incls = el[2];
    } else if (n == 3 && el[2]->type == TERM_ATOM) {
        if (!is_app_type(el[2]))
            return -1;
        ra->type = el[2]->u.atom.name;
    } else if (n == 4 && el[2]->type == TERM_ATOM && is_list_any(el[3])) {
        if (!is_app_type(el[2]) || !a_list_p(el[3]))
            return -1;
        ra->type = el[2]->u.atom.name;
        ra->incls = el[3];
    } else if (n != 2) {
        return -1;
    }
    return 0;
}

/* mandatory - systools_make:mandatory_applications/4 */
static int mandatory(struct relfile_rel *r)
{
    const char *types[3] = {NULL, NULL, NULL};
    static const char *names[3] = {"kernel", "stdlib", "sasl"};
    for (size_t i = 0; i < r->napps; i++)
        for (int k = 0; k < 3; k++)
            if (!types[k] && !strcmp(r->apps[i].name, names[k]))
                types[k] = r->apps[i].type;
    for (int k = 0; k < 2; k++) {
        if (!types[k])
            return fail(KERR_INPUT, r->path, "missing_mandatory_app",
                        "mandatory application '%s' is missing from the release", names[k]);
        if (strcmp(types[k], "permanent") != 0)
            return fail(KERR_INPUT, r->path, "mandatory_app",
                        "mandatory application '%s' has start type '%s', must be 'permanent'",
                        names[k], types[k]);
    }
    r->missing_sasl = types[2] == NULL;
    return 0;
}

/* check_rel - systools_make:check_rel/1 */
static int check_rel(struct arena *a, const struct term *t, struct relfile_rel *r)
{
    const char *f = r->path;
    if (!term_is_tagged(t, "release", 4) || !term_is_tuple(t->u.tuple.el[1], 2) ||
        !term_is_tagged(t->u.tuple.el[2], "erts", 2) || !term_is_list(t->u.tuple.el[3]))
        return fail(KERR_INPUT, f, "badly_formatted_release",
                    "release file is not {release, {Name, Vsn}, {erts, Vsn}, [App]}");
    const struct term *nv = t->u.tuple.el[1];
    r->name_term = nv->u.tuple.el[0];
    r->vsn_term = nv->u.tuple.el[1];
    r->erts_vsn_term = t->u.tuple.el[2]->u.tuple.el[1];
    if (!string_p(r->name_term))
        return fail(KERR_INPUT, f, "illegal_name", "release name %s is not a string",
                    term_show(a, r->name_term, 300));
    if (!string_p(r->vsn_term))
        return fail(KERR_INPUT, f, "illegal_form", "release version %s is not a string",
                    term_show(a, r->vsn_term, 300));
    if (!string_p(r->erts_vsn_term))
        return fail(KERR_INPUT, f, "illegal_form", "erts version %s is not a string",
                    term_show(a, r->erts_vsn_term, 300));
    r->name = term_charlist(a, r->name_term);
    r->vsn = term_charlist(a, r->vsn_term);
    r->erts_vsn = term_charlist(a, r->erts_vsn_term);
    size_t n;
    const struct term *const *el = term_list_els(t->u.tuple.el[3], &n);
    r->napps = n;
    r->apps = arena_alloc(a, (n + 1) * sizeof *r->apps);
    for (size_t i = 0; i < n; i++)
        if (rel_app(a, el[i], &r->apps[i]) != 0)
            return fail(KERR_INPUT, f, "illegal_applications",
                        "illegal application entry %s in the release", term_show(a, el[i], 300));
    return mandatory(r);
}

/* open_first - file:path_open(Dirs, File): the first DIR/FILE that can be read */
static const char *open_first(struct arena *a, const char *file, const struct relfile_path *path)
{
    if (file[0] == '/')
        return access(file, R_OK) == 0 && !fs_is_dir(file) ? file : NULL;
    for (size_t i = 0; i <= path->n; i++) {
        const char *d = i == 0 ? "." : path->dirs[i - 1];
        const char *full = join(a, d, file);
        if (access(full, R_OK) == 0 && !fs_is_dir(full))
            return full;
    }
    return NULL;
}

int relfile_read_rel(struct arena *a, const char *file, const struct relfile_path *path,
                     struct relfile_rel *out)
{
    memset(out, 0, sizeof *out);
    const char *name = arena_sprintf(a, "%s.rel", file);
    const char *full = open_first(a, name, path);
    if (!full)
        return fail(KERR_INPUT, NULL, "not_found", "release file '%s' not found", name);
    const char *kind;
    const struct term *t = relfile_read_first_term(a, full, &kind);
    if (!t)
        return add_kind("systools_make", kind);
    out->path = full;
    return check_rel(a, t, out);
}

/* ---- .app files ---- */

/* dict_get - the first tuple of DICT whose first element is the atom KEY (lists:keysearch) */
static const struct term *dict_get(const struct term *dict, const char *key)
{
    size_t n;
    const struct term *const *el = term_list_els(dict, &n);
    for (size_t i = 0; i < n; i++)
        if (el[i]->type == TERM_TUPLE && el[i]->u.tuple.n >= 1 &&
            term_is_atom(el[i]->u.tuple.el[0], key))
            return el[i];
    return NULL;
}

/* check_items - systools_make:get_items/2; returns the name of the first bad item or NULL,
 * with *MISSING telling missing_param from bad_param */
static const char *check_items(const struct term *dict, bool *missing)
{
    static const char *items[] = {"vsn",
                                  "id",
                                  "description",
                                  "modules",
                                  "registered",
                                  "applications",
                                  "optional_applications",
                                  "included_applications",
                                  "mod",
                                  "start_phases",
                                  "env",
                                  "maxT",
                                  "maxP"};
    for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
        const char *k = items[i];
        const struct term *e = dict_get(dict, k);
        *missing = true;
        if (!e) {
            if (i <= 5 && i != 1)
                return k; /* vsn, description, modules, registered, applications */
            continue;
        }
        if (e->u.tuple.n != 2)
            return k;
        const struct term *v = e->u.tuple.el[1];
        *missing = false;
        bool ok;
        if (!strcmp(k, "mod")) {
            *missing = true;
            ok =
                (term_is_tuple(v, 2) && v->u.tuple.el[0]->type == TERM_ATOM) || v->type == TERM_NIL;
        } else if (!strcmp(k, "vsn") || !strcmp(k, "id") || !strcmp(k, "description")) {
            ok = string_p(v);
        } else if (!strcmp(k, "start_phases")) {
            ok = term_is_atom(v, "undefined") || t_list_p(v);
        } else if (!strcmp(k, "env")) {
            ok = t_list_p(v);
        } else if (!strcmp(k, "maxT") || !strcmp(k, "maxP")) {
            ok = term_is_atom(v, "infinity") || (v->type == TERM_INT && v->u.i > 0) ||
                 (v->type == TERM_BIG && !v->u.big.neg);
        } else {
            ok = a_list_p(v);
        }
        if (!ok)
            return k;
    }
    return NULL;
}

static const char **names_of(struct arena *a, const struct term *dict, const char *key, size_t *n)
{
    const struct term *e = dict_get(dict, key);
    if (!e) {
        *n = 0;
        return arena_alloc(a, sizeof(const char *));
    }
    return atom_names(a, e->u.tuple.el[1], n);
}

static bool member(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

/* parse_app - systools_make:parse_application/4: 0 ok, 1 another vsn (*OTHER set), -1 error */
static int parse_app(struct arena *a, const struct term *t, const char *file, const char *vsn,
                     const struct term *incls, struct relfile_app *app, const char **other)
{
    if (!term_is_tagged(t, "application", 3) || t->u.tuple.el[1]->type != TERM_ATOM ||
        !term_is_list(t->u.tuple.el[2]))
        return fail(KERR_BUILD, file, "badly_formatted_application",
                    "not an {application, Name, [Key-value]} term");
    const struct term *dict = t->u.tuple.el[2];
    bool missing;
    const char *bad = check_items(dict, &missing);
    if (bad)
        return fail(KERR_BUILD, file, missing ? "missing_param" : "bad_param",
                    "%s parameter '%s' in the .app file", missing ? "missing" : "bad", bad);
    const struct term *v = dict_get(dict, "vsn")->u.tuple.el[1];
    char *found = term_charlist(a, v);
    if (strcmp(found, vsn) != 0) {
        *other = found;
        return 1;
    }
    memset(app, 0, sizeof *app);
    app->name = t->u.tuple.el[1]->u.atom.name;
    app->vsn = found;
    app->vsn_term = v;
    app->type = "permanent";
    app->app = t;
    app->mods = names_of(a, dict, "modules", &app->nmods);
    app->uses = names_of(a, dict, "applications", &app->nuses);
    app->optional = names_of(a, dict, "optional_applications", &app->noptional);
    app->incls = names_of(a, dict, "included_applications", &app->nincls);
    app->regs = names_of(a, dict, "registered", &app->nregs);
    if (incls) {
        size_t n;
        const char **over = atom_names(a, incls, &n);
        for (size_t i = 0; i < n; i++)
            if (!member(app->incls, app->nincls, over[i]))
                return fail(KERR_BUILD, file, "override_include",
                            "the release includes '%s' in '%s', but its .app file does not",
                            over[i], app->name);
        app->incls = over;
        app->nincls = n;
    }
    return 0;
}

struct strv {
    const char **v;
    size_t n, cap;
};

static void sv_add(struct arena *a, struct strv *s, const char *x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        const char **v = arena_alloc(a, cap * sizeof *v);
        if (s->n)
            memcpy(v, s->v, s->n * sizeof *v);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

/* The .app files in each directory of a path, listed once when first needed: a release of a few
 * hundred applications probes every directory of a long path for every APP.app, and one
 * readdir per directory replaces an access() per probe. The .app files read through a
 * listing are kept beside their names: relup work reads the same files for the new release
 * and for every release it upgrades from or downgrades to. */
struct listing {
    const char **names; /* the NAME.app entries, sorted; NULL until read */
    const struct term **terms; /* terms[k]: the first term of names[k], once read */
    size_t n;
    bool unreadable; /* fall back to probing */
};

struct relfile_cache {
    struct arena *a; /* holds the listings and the terms */
    size_t n;        /* one listing per directory of the path */
    struct listing *lists;
};

void relfile_path_cache(struct arena *a, struct relfile_path *p)
{
    p->cache = arena_alloc(a, sizeof *p->cache);
    p->cache->a = a;
    p->cache->n = p->n;
    p->cache->lists = arena_alloc(a, (p->n + 1) * sizeof *p->cache->lists);
}

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* may_hold - false only when directory DIR surely has no entry FILE (a NAME.app); *SLOT is
 * where FILE's term is kept, when there is a listing */
static bool may_hold(struct arena *a, struct listing *l, const char *dir, const char *file,
                     const struct term ***slot)
{
    *slot = NULL;
    if (!l)
        return true;
    if (!l->names && !l->unreadable) {
        DIR *d = opendir(dir);
        if (!d) {
            l->unreadable = true;
            return true;
        }
        struct strv v = {0};
        struct dirent *de;
        while ((de = readdir(d)) != NULL) { /* only .app files are looked up */
            if (fs_stem(de->d_name, ".app"))
                sv_add(a, &v, arena_strdup(a, de->d_name));
        }
        closedir(d);
        l->names = v.v;
        l->n = v.n;
        if (!l->names)
            l->names = arena_alloc(a, sizeof *l->names);
        qsort(l->names, l->n, sizeof *l->names, cmp_cstr);
        l->terms = arena_alloc(a, (l->n + 1) * sizeof *l->terms);
    }
    if (l->unreadable)
        return true;
    const char **hit = bsearch(&file, l->names, l->n, sizeof *l->names, cmp_cstr);
    if (hit)
        *slot = &l->terms[hit - l->names];
    return hit != NULL;
}

/* find_app - the first NAME.app along PATH whose vsn is VSN (systools_make's
 * read_application): parsed and checked, with INCLS (a .rel override, or NULL) replacing
 * its included_applications. Type is set to permanent. */
static int find_app(struct arena *a, const char *name, const char *vsn,
                    const struct relfile_path *path, const struct term *incls,
                    struct relfile_app *out, struct relfile_cache *cache)
{
    struct kerr first;
    bool have_first = false;
    const char *file = arena_sprintf(a, "%s.app", name);
    for (size_t i = 0; i < path->n; i++) {
        const struct term **slot;
        if (!may_hold(cache ? cache->a : a, cache ? &cache->lists[i] : NULL, path->dirs[i], file,
                      &slot))
            continue;
        const char *full = join(a, path->dirs[i], file);
        const struct term *t = slot ? *slot : NULL;
        if (!t) {
            if (access(full, R_OK) != 0 || fs_is_dir(full))
                continue;
            const char *kind;
            t = relfile_read_first_term(cache ? cache->a : a, full, &kind);
            if (!t) {
                if (!strcmp(kind, "parse") && !have_first) {
                    add_kind("systools_make", "parse_error");
                    kerr_copy(&first);
                    have_first = true;
                }
                continue;
            }
            if (slot)
                *slot = t;
        }
        const char *other = NULL;
        int rc = parse_app(a, t, full, vsn, incls, out, &other);
        if (rc == 1) {
            if (!have_first) {
                fail(KERR_BUILD, full, "no_valid_version",
                     "no version \"%s\" of application '%s' in the path; the first '%s' found "
                     "has version \"%s\"",
                     vsn, name, file, other);
                kerr_copy(&first);
                have_first = true;
            }
            continue;
        }
        if (rc == 0) {
            const char *slash = strrchr(full, '/');
            out->dir = slash == full ? "/" : arena_memdup(a, full, (size_t)(slash - full));
        }
        return rc;
    }
    if (have_first) {
        kerr_restore(&first);
        return -1;
    }
    return fail(KERR_BUILD, NULL, "not_found", "application '%s' (%s) not found in the path", file,
                vsn);
}

/* ---- releases: systools_make:get_release/2 ---- */

/* A growable array of names or indices in an arena (lists are short). */
/* sv_del - remove the first occurrence of X (Erlang's L -- [X]) */
static void sv_del(struct strv *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x)) {
            memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof *s->v);
            s->n--;
            return;
        }
}

static void sv_from(struct arena *a, struct strv *s, const char *const *v, size_t n)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n; i++)
        sv_add(a, s, v[i]);
}

/* sv_join - names as "'a', 'b'" for messages */
static const char *sv_join(struct arena *a, const struct strv *s)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < s->n && i < 20; i++)
        buf_addf(&b, "%s'%s'", i ? ", " : "", s->v[i]);
    const char *r = arena_strdup(a, buf_cstr(&b));
    buf_free(&b);
    return r;
}

/* sv_set - systools' make_set: drop later duplicates */
static void sv_set(struct strv *s)
{
    struct relfile_path p = {s->n, s->v, NULL};
    relfile_path_dedup(&p);
    s->n = p.n;
}

static int collect_apps(struct arena *a, struct relfile_release *r, const struct relfile_path *path)
{
    struct kerr last;
    int nerr = 0;
    r->napps = r->rel.napps;
    r->apps = arena_alloc(a, (r->napps + 1) * sizeof *r->apps);
    /* without the path's cache, one for this release */
    struct relfile_cache own = {a, path->n, NULL}, *cache = path->cache;
    if (!cache || cache->n != path->n) {
        own.lists = arena_alloc(a, (path->n + 1) * sizeof *own.lists);
        cache = &own;
    }
    for (size_t i = 0; i < r->rel.napps; i++) {
        const struct relfile_rel_app *ra = &r->rel.apps[i];
        struct relfile_app *app = &r->apps[i];
        if (find_app(a, ra->name, ra->vsn, path, ra->incls, app, cache) != 0) {
            kerr_copy(&last);
            nerr++;
            continue;
        }
        if (strcmp(app->name, ra->name) != 0) {
            fail(KERR_BUILD, app->dir, "bad_application_name", "'%s.app' defines application '%s'",
                 ra->name, app->name);
            kerr_copy(&last);
            nerr++;
        }
        app->type = ra->type;
    }
    if (nerr) {
        /* systools reports every failure, the last one first */
        kerr_restore(&last);
        return -1;
    }
    return 0;
}

static const char *find_top_app(const struct strv *inc, const struct strv *by, const char *app)
{
    for (int depth = 0; depth < 1000; depth++) {
        size_t i;
        for (i = 0; i < inc->n && strcmp(inc->v[i], app) != 0; i++)
            ;
        if (i == inc->n)
            return app;
        app = by->v[i];
    }
    return app;
}

/* check_apps - systools_make:check_applications/1 */
static int check_apps(struct arena *a, struct relfile_release *r)
{
    struct strv undef = {0}, inc = {0}, by = {0};
    for (size_t i = 0; i < r->napps; i++) {
        const struct relfile_app *p = &r->apps[i];
        struct strv need;
        sv_from(a, &need, p->uses, p->nuses);
        for (size_t k = 0; k < p->noptional; k++)
            sv_del(&need, p->optional[k]);
        for (size_t k = 0; k < p->nincls; k++)
            sv_add(a, &need, p->incls[k]);
        for (size_t k = 0; k < need.n; k++) {
            bool def = false;
            for (size_t j = 0; j < r->napps && !def; j++)
                def = !strcmp(r->apps[j].name, need.v[k]);
            if (!def)
                sv_add(a, &undef, need.v[k]);
        }
    }
    if (undef.n) {
        sv_set(&undef);
        return fail(KERR_BUILD, r->rel.path, "undefined_applications",
                    "undefined applications %s: used or included but not in the release",
                    sv_join(a, &undef));
    }
    for (size_t i = 0; i < r->napps; i++)
        for (size_t k = 0; k < r->apps[i].nregs; k++)
            for (size_t j = 0; j <= i; j++)
                for (size_t l = 0; l < r->apps[j].nregs && (j < i || l < k); l++)
                    if (!strcmp(r->apps[j].regs[l], r->apps[i].regs[k]))
                        return fail(KERR_BUILD, r->rel.path, "duplicate_register",
                                    "duplicate registered name '%s' in '%s' and '%s'",
                                    r->apps[i].regs[k], r->apps[j].name, r->apps[i].name);
    for (size_t i = 0; i < r->napps; i++)
        for (size_t k = 0; k < r->apps[i].nincls; k++) {
            const char *x = r->apps[i].incls[k];
            for (size_t j = 0; j < inc.n; j++)
                if (!strcmp(inc.v[j], x))
                    return fail(KERR_BUILD, r->rel.path, "duplicate_include",
                                "application '%s' is included by both '%s' and '%s'", x, by.v[j],
                                r->apps[i].name);
            sv_add(a, &inc, x);
            sv_add(a, &by, r->apps[i].name);
        }
    /* add_top_apps_to_uses: a used application that is included somewhere is replaced by
     * its top application, so start order follows the including application */
    for (size_t i = 0; i < r->napps; i++) {
        struct relfile_app *p = &r->apps[i];
        const char *mytop = find_top_app(&inc, &by, p->name);
        struct strv acc;
        sv_from(a, &acc, p->uses, p->nuses);
        for (size_t k = 0; k < p->nuses; k++) {
            const char *u = p->uses[k];
            if (!strcmp(u, mytop)) {
                sv_del(&acc, mytop);
                continue;
            }
            size_t j;
            for (j = 0; j < inc.n && strcmp(inc.v[j], u) != 0; j++)
                ;
            if (j == inc.n)
                continue;
            const char *utop = find_top_app(&inc, &by, by.v[j]);
            if (member(acc.v, acc.n, utop)) {
                sv_del(&acc, u);
            } else if (strcmp(mytop, utop) != 0) {
                sv_del(&acc, u);
                sv_add(a, &acc, utop);
            }
        }
        p->uses = acc.v;
        p->nuses = acc.n;
    }
    return 0;
}

/* sort_by_rel - systools_make:sort_appl_list/2: stable, in .rel order, unknown names last */
static void sort_by_rel(const struct relfile_rel *rel, const char **v, size_t n)
{
    if (n < 2)
        return;
    for (size_t i = 1; i < n; i++) {
        const char *x = v[i];
        size_t px = rel->napps;
        for (size_t k = 0; k < rel->napps; k++)
            if (!strcmp(rel->apps[k].name, x)) {
                px = k;
                break;
            }
        size_t j = i;
        while (j > 0) {
            size_t py = rel->napps;
            for (size_t k = 0; k < rel->napps; k++)
                if (!strcmp(rel->apps[k].name, v[j - 1])) {
                    py = k;
                    break;
                }
            if (py <= px)
                break;
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* check_modules - no module may belong to two applications (or appear twice); the pair
 * reported is the one a scan in release order meets first */
struct modref {
    const char *name;
    size_t app, pos;
};

static int cmp_modref(const void *x, const void *y)
{
    const struct modref *p = x, *q = y;
    int c = strcmp(p->name, q->name);
    return c ? c : (p->pos > q->pos) - (p->pos < q->pos);
}

static int check_modules(struct arena *a, const struct relfile_release *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->napps; i++)
        n += r->apps[i].nmods;
    struct modref *m = arena_alloc(a, (n + 1) * sizeof *m);
    size_t k = 0;
    for (size_t i = 0; i < r->napps; i++)
        for (size_t j = 0; j < r->apps[i].nmods; j++, k++)
            m[k] = (struct modref){r->apps[i].mods[j], i, k};
    qsort(m, n, sizeof *m, cmp_modref);
    const struct modref *first = NULL, *dup = NULL;
    for (size_t i = 1; i < n; i++)
        if (!strcmp(m[i].name, m[i - 1].name) && (i < 2 || strcmp(m[i - 2].name, m[i].name)) &&
            (!dup || m[i].pos < dup->pos)) {
            first = &m[i - 1];
            dup = &m[i];
        }
    if (dup)
        return fail(KERR_BUILD, r->rel.path, "duplicate_modules",
                    "module '%s' is in both '%s' and '%s'", dup->name, r->apps[first->app].name,
                    r->apps[dup->app].name);
    return 0;
}

/* An application list for sort_appls: indices into the release's apps. */
struct idxv {
    size_t *v;
    size_t n;
};

static struct idxv iv_new(struct arena *a, size_t cap)
{
    struct idxv x = {arena_alloc(a, (cap + 1) * sizeof(size_t)), 0};
    return x;
}

/* find_all - systools_make:find_all/6 over NAMES (already reversed) */
static void find_all(struct arena *a, const struct relfile_release *r, const char *checking,
                     const char *const *names, size_t nnames, struct idxv *l,
                     const struct idxv *visited, struct idxv *found, struct strv *notfound)
{
    for (size_t q = nnames; q-- > 0;) {
        const char *name = names[q];
        size_t i;
        for (i = 0; i < l->n && strcmp(r->apps[l->v[i]].name, name) != 0; i++)
            ;
        bool in_visited = false;
        for (size_t k = 0; k < visited->n && !in_visited; k++)
            in_visited = !strcmp(r->apps[visited->v[k]].name, name);
        if (i < l->n && !member(r->apps[l->v[i]].incls, r->apps[l->v[i]].nincls, checking)) {
            memmove(found->v + 1, found->v, found->n * sizeof(size_t));
            found->v[0] = l->v[i];
            found->n++;
            memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof(size_t));
            l->n--;
        } else if (!in_visited) {
            struct strv tmp = {0};
            sv_add(a, &tmp, name);
            for (size_t k = 0; k < notfound->n; k++)
                sv_add(a, &tmp, notfound->v[k]);
            *notfound = tmp;
        }
    }
}

/* sort_appls - systools_make:sort_appls/1: every application after those it uses and
 * includes, otherwise in .rel order */
static int sort_appls_in(struct arena *a, struct arena *sc, struct relfile_release *r)
{
    size_t n = r->napps, cap = n * 4 + 8;
    struct idxv list = iv_new(a, n), out = iv_new(a, n);
    struct idxv visited = iv_new(a, 0), circular = iv_new(a, 0);
    struct strv missing = {0};
    for (size_t i = 0; i < n; i++)
        list.v[list.n++] = i;
    for (long guard = 0; list.n > 0; guard++) {
        if (guard > (long)(n * n * 4 + 100))
            return fail(KERR_BUILD, r->rel.path, "circular_dependencies",
                        "circular dependencies among applications");
        /* what one round makes and the next reads (list, visited, missing) lives in one of
         * two scratch arenas, in turn: the round after next reuses it (memory linear, not
         * quadratic, in the number of applications) */
        struct arena *s = &sc[guard % 2];
        arena_reset(s);
        size_t me = list.v[0];
        const struct relfile_app *p = &r->apps[me];
        struct idxv t = iv_new(s, list.n), found = iv_new(s, n), incs = iv_new(s, n);
        memcpy(t.v, list.v + 1, (list.n - 1) * sizeof(size_t));
        t.n = list.n - 1;
        struct strv nf1 = {0}, nf2 = {0};
        find_all(s, r, p->name, p->uses, p->nuses, &t, &visited, &found, &nf1);
        find_all(s, r, p->name, p->incls, p->nincls, &t, &visited, &incs, &nf2);
        for (size_t k = 0; k < p->noptional; k++)
            sv_del(&nf1, p->optional[k]);
        struct strv m = {0};
        for (size_t k = 0; k < nf1.n; k++)
            sv_add(s, &m, nf1.v[k]);
        for (size_t k = 0; k < nf2.n; k++)
            sv_add(s, &m, nf2.v[k]);
        for (size_t k = 0; k < missing.n; k++)
            sv_add(s, &m, missing.v[k]);
        missing = m;
        for (size_t k = 0; k < incs.n; k++)
            found.v[found.n++] = incs.v[k];
        struct idxv nv = iv_new(s, visited.n + 1);
        nv.v[nv.n++] = me;
        memcpy(nv.v + 1, visited.v, visited.n * sizeof(size_t));
        nv.n += visited.n;
        if (found.n == 0) {
            out.v[out.n++] = me;
            list = t;
            visited = nv;
            continue;
        }
        struct idxv circ = iv_new(s, found.n * (visited.n + 1));
        for (size_t k = 0; k < found.n; k++)
            for (size_t j = 0; j < visited.n; j++)
                if (found.v[k] == visited.v[j])
                    circ.v[circ.n++] = found.v[k];
        if (circ.n) {
            struct idxv c = iv_new(a, circular.n + circ.n + 1);
            c.v[c.n++] = me;
            for (size_t k = 0; k < circ.n; k++)
                c.v[c.n++] = circ.v[k];
            for (size_t k = 0; k < circular.n; k++)
                c.v[c.n++] = circular.v[k];
            circular = c;
        }
        struct idxv next = iv_new(s, found.n + 1 + t.n + cap);
        for (size_t k = 0; k < found.n; k++)
            next.v[next.n++] = found.v[k];
        next.v[next.n++] = me;
        for (size_t k = 0; k < t.n; k++)
            next.v[next.n++] = t.v[k];
        for (size_t k = 0; k < circ.n; k++)
            for (size_t j = 0; j < next.n; j++)
                if (next.v[j] == circ.v[k]) {
                    memmove(next.v + j, next.v + j + 1, (next.n - j - 1) * sizeof(size_t));
                    next.n--;
                    break;
                }
        list = next;
        visited = nv;
    }
    struct strv circ_names = {0};
    for (size_t k = 0; k < circular.n; k++)
        sv_add(a, &circ_names, r->apps[circular.v[k]].name);
    sv_set(&circ_names);
    sv_set(&missing);
    if (missing.n && circ_names.n)
        return fail(KERR_BUILD, r->rel.path, "apps",
                    "circular dependencies among applications %s and undefined applications %s",
                    sv_join(a, &circ_names), sv_join(a, &missing));
    if (missing.n)
        return fail(KERR_BUILD, r->rel.path, "undefined_applications", "undefined applications %s",
                    sv_join(a, &missing));
    if (circ_names.n)
        return fail(KERR_BUILD, r->rel.path, "circular_dependencies",
                    "circular dependencies among applications %s", sv_join(a, &circ_names));
    struct relfile_app *sorted = arena_alloc(a, (n + 1) * sizeof *sorted);
    for (size_t i = 0; i < out.n; i++)
        sorted[i] = r->apps[out.v[i]];
    r->apps = sorted;
    r->napps = out.n;
    return 0;
}

static int sort_appls(struct arena *a, struct relfile_release *r)
{
    struct arena sc[2];
    arena_init(&sc[0]);
    arena_init(&sc[1]);
    int rc = sort_appls_in(a, sc, r);
    arena_close(&sc[0]);
    arena_close(&sc[1]);
    return rc;
}

int relfile_get_release(struct arena *a, const char *file, const struct relfile_path *path,
                        struct relfile_release *out)
{
    memset(out, 0, sizeof *out);
    if (relfile_read_rel(a, file, path, &out->rel) != 0)
        return -1;
    if (collect_apps(a, out, path) != 0 || check_apps(a, out) != 0)
        return -1;
    for (size_t i = 0; i < out->napps; i++) {
        struct relfile_app *p = &out->apps[i];
        sort_by_rel(&out->rel, p->incls, p->nincls);
        sort_by_rel(&out->rel, p->uses, p->nuses);
    }
    if (check_modules(a, out) != 0)
        return -1;
    return sort_appls(a, out);
}
