/* appup.c - generate .appup files from beam md5s and knit_* module attributes, and check
 * hand-written ones */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "appup.h"

#include "beam.h"
#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "rc.h"
#include "relup.h"
#include "term_parse.h"
#include "term_print.h"

#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum phase { PH_FIRST, PH_IMMEDIATE, PH_LAST };

struct apply {
    bool down; /* {down, Phase, MFA}: runs in the downgrade script */
    enum phase phase;
    const struct term *prio; /* an integer */
    const struct term *mfa;  /* {M, F, A} */
};

/* One beam of one version, with what generation needs of it (all in the result arena). */
struct mod {
    const char *name;
    const char *path;
    uint8_t md5[16];
    bool is_sup;
    bool has_cc;
    const char **imports; /* other modules it calls: sorted, distinct */
    size_t nimports;
    const struct term *attrs; /* its knit_* attributes as {Name, Value}, file order */
    bool parsed;
    const struct term *prio, *extra, *timeout, *pre, *post;
    const char **depends;
    size_t ndepends;
    struct apply *applies;
    size_t napplies;
};

struct ebin {
    const char *dir;
    struct mod *m; /* sorted by name */
    size_t n;
};

/* ---- small helpers ---- */

static const struct term *A(struct arena *a, const char *name)
{
    return term_atomz(a, name);
}

static void strv_add(struct arena *a, const char ***v, size_t *n, const char *s)
{
    /* grow by doubling at powers of two; old blocks stay in the arena */
    if ((*n & (*n - 1)) == 0) {
        const char **nv = arena_alloc(a, (*n ? *n * 2 : 1) * sizeof *nv);
        if (*n)
            memcpy(nv, *v, *n * sizeof *nv);
        *v = nv;
    }
    (*v)[(*n)++] = s;
}

static bool strv_has(const char *const *v, size_t n, const char *s)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(v[k], s))
            return true;
    return false;
}

static const struct term *atom_list(struct arena *a, const char *const *v, size_t n)
{
    const struct term **el = arena_alloc(a, (n + 1) * sizeof *el);
    for (size_t k = 0; k < n; k++)
        el[k] = A(a, v[k]);
    return term_list(a, el, n, term_nil());
}

/* ---- reading an ebin directory ---- */

/* read_beam - the facts of PATH (file FNAME), read from DATA (LEN bytes) when it is not
 * NULL, else from the file */
static int read_beam(struct arena *a, const char *path, const char *fname, const void *data,
                     size_t len, struct mod *m)
{
    struct arena s;
    arena_init(&s);
    int rc = -1;
    if (!data)
        data = fs_read_file(&s, path, &len);
    struct beam_info bi;
    if (!data || beam_read_facts(&s, path, (const uint8_t *)data, len, &bi) != 0)
        goto done;
    size_t flen = fs_stem(fname, ".beam");
    if (strlen(bi.module) != flen || memcmp(bi.module, fname, flen) != 0) {
        kerr_set(KERR_INPUT, path, 0, 0, "module '%s' is in a file named '%s'", bi.module, fname);
        goto done;
    }
    memset(m, 0, sizeof *m);
    m->name = arena_strdup(a, bi.module);
    m->path = arena_strdup(a, path);
    memcpy(m->md5, bi.md5, sizeof m->md5);
    for (size_t k = 0; k < bi.nbehaviours; k++)
        m->is_sup |= !strcmp(bi.behaviours[k], "supervisor");
    for (size_t k = 0; k < bi.nexports; k++)
        m->has_cc |= !strcmp(bi.exports[k].fun, "code_change");
    for (size_t k = 0; k < bi.nimports; k++) {
        const char *im = bi.imports[k].mod;
        if (!im || !strcmp(im, bi.module) ||
            (m->nimports && !strcmp(m->imports[m->nimports - 1], im)))
            continue;
        strv_add(a, &m->imports, &m->nimports, arena_strdup(a, im));
    }
    size_t n;
    const struct term *const *e = term_list_els(bi.attributes, &n);
    const struct term **keep = arena_alloc(&s, (n + 1) * sizeof *keep);
    size_t nk = 0;
    for (size_t k = 0; k < n; k++)
        if (term_is_tuple(e[k], 2) && e[k]->u.tuple.el[0]->type == TERM_ATOM &&
            !strncmp(e[k]->u.tuple.el[0]->u.atom.name, "knit_", 5))
            keep[nk++] = e[k];
    m->attrs = term_copy(a, term_list(&s, keep, nk, term_nil()));
    rc = 0;
done:
    arena_close(&s);
    return rc;
}

static int cmp_mod(const void *x, const void *y)
{
    return strcmp(((const struct mod *)x)->name, ((const struct mod *)y)->name);
}

static int cmp_beam(const void *x, const void *y)
{
    return strcmp(((const struct appup_beam *)x)->name, ((const struct appup_beam *)y)->name);
}

/* read_ebin - every DIR/ *.beam into EB, sorted by module name; from the NB .beam files
 * BEAMS instead when BEAMS is not NULL */
static int read_ebin(struct arena *a, const char *dir, const struct appup_beam *beams, size_t nb,
                     struct ebin *eb)
{
    eb->dir = dir;
    eb->m = NULL;
    eb->n = 0;
    struct appup_beam *v = NULL;
    size_t nn = 0;
    if (beams) {
        struct stat st; /* the directory is there all the same (its .app was extracted) */
        if (stat(dir, &st) != 0)
            return kerr_errno(dir, "cannot list");
        v = arena_memdup(a, beams, nb * sizeof *v); /* sorted below */
        nn = nb;
    } else {
        DIR *d = opendir(dir);
        if (!d)
            return kerr_errno(dir, "cannot list");
        const char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (fs_stem(de->d_name, ".beam"))
                strv_add(a, &names, &n, arena_strdup(a, de->d_name));
        closedir(d);
        v = arena_alloc(a, (n + 1) * sizeof *v);
        for (size_t k = 0; k < n; k++)
            v[nn++] = (struct appup_beam){names[k], NULL, 0, NULL};
    }
    if (nn)
        qsort(v, nn, sizeof *v, cmp_beam);
    eb->m = arena_alloc(a, (nn + 1) * sizeof *eb->m);
    for (size_t k = 0; k < nn; k++) {
        const char *path = v[k].path ? v[k].path : arena_sprintf(a, "%s/%s", dir, v[k].name);
        if (read_beam(a, path, v[k].name, v[k].data, v[k].len, &eb->m[k]) != 0)
            return -1;
    }
    eb->n = nn;
    qsort(eb->m, eb->n, sizeof *eb->m, cmp_mod);
    return 0;
}

/* ---- knit_* attributes ---- */

static int bad_attr(struct arena *a, const struct mod *m, const char *attr, const struct term *v,
                    const char *expected)
{
    return kerr_set(KERR_INPUT, m->path, 0, 0,
                    "invalid attribute '%s' in module '%s': %s (expected %s)", attr, m->name,
                    term_show(a, v, 0), expected);
}

static bool is_purge(const struct term *t)
{
    return term_is_atom(t, "soft_purge") || term_is_atom(t, "brutal_purge");
}

static int parse_phase(const struct term *p, enum phase *ph)
{
    if (term_is_atom(p, "first"))
        *ph = PH_FIRST;
    else if (term_is_atom(p, "immediate"))
        *ph = PH_IMMEDIATE;
    else if (term_is_atom(p, "last"))
        *ph = PH_LAST;
    else
        return -1;
    return 0;
}

/* parse_apply - one knit_apply item: {M,F,A}, {Phase, {M,F,A}} or {up | down, Phase,
 * {M,F,A}} */
static int parse_apply(struct arena *a, const struct term *t, struct apply *ap)
{
    ap->down = false;
    ap->phase = PH_LAST;
    ap->prio = term_int(a, 0);
    if (term_is_tuple(t, 3) && (term_is_atom(t->u.tuple.el[0], "up") ||
                                term_is_atom(t->u.tuple.el[0], "down"))) {
        ap->down = term_is_atom(t->u.tuple.el[0], "down");
        t = term_tuplev(a, 2, t->u.tuple.el[1], t->u.tuple.el[2]);
        if (!term_is_tuple(t->u.tuple.el[1], 3))
            return -1;
    }
    const struct term *mfa = t;
    if (term_is_tuple(t, 2)) {
        const struct term *p = t->u.tuple.el[0];
        mfa = t->u.tuple.el[1];
        if (term_is_tuple(p, 2)) {
            if (!term_is_int(p->u.tuple.el[1]))
                return -1;
            ap->prio = p->u.tuple.el[1];
            p = p->u.tuple.el[0];
        }
        if (parse_phase(p, &ap->phase) != 0)
            return -1;
    }
    if (!term_is_tuple(mfa, 3) || mfa->u.tuple.el[0]->type != TERM_ATOM ||
        mfa->u.tuple.el[1]->type != TERM_ATOM || !term_is_list(mfa->u.tuple.el[2]))
        return -1;
    ap->mfa = mfa;
    return 0;
}

/* items - the items of a repeatable attribute's value: a list is its elements, anything
 * else one item */
static const struct term *const *items(const struct term *v, const struct term **one, size_t *n)
{
    if (term_is_list(v))
        return term_list_els(v, n);
    *one = v;
    *n = 1;
    return one;
}

/* One knit_* attribute value to apply, from the module or from knit_defaults. */
struct attr_src {
    const char *name;
    const struct term *v;
};

static bool attr_known(const char *name)
{
    static const char *const k[] = {"knit_priority", "knit_extra", "knit_timeout", "knit_purge",
                                    "knit_depends",  "knit_apply", NULL};
    for (size_t i = 0; k[i]; i++)
        if (!strcmp(k[i], name))
            return true;
    return false;
}

/* defaults_for - the Attrs of the knit_defaults entry for KEY (an atom App, or {App,
 * Module}), or NULL; -1 with KERR_INPUT naming the config for a malformed entry */
static int defaults_for(struct arena *a, const struct appup_opts *o, const char *app,
                        const char *mod, const struct term **attrs)
{
    *attrs = NULL;
    if (!o || !o->defaults)
        return 0;
    size_t n;
    const struct term *const *e = term_list_els(o->defaults, &n);
    for (size_t i = 0; i < n; i++) {
        const struct term *k = term_is_tuple(e[i], 2) ? e[i]->u.tuple.el[0] : NULL;
        bool ok = k && term_is_list(e[i]->u.tuple.el[1]) &&
                  (k->type == TERM_ATOM ||
                   (term_is_tuple(k, 2) && k->u.tuple.el[0]->type == TERM_ATOM &&
                    k->u.tuple.el[1]->type == TERM_ATOM));
        if (!ok)
            return kerr_set(KERR_INPUT, o->defaults_file, o->defaults_line, 0,
                            "option 'knit_defaults': entry %s is not {App, Attrs} or {{App, "
                            "Module}, Attrs}",
                            term_show(a, e[i], 200));
        bool hit = mod ? term_is_tuple(k, 2) && term_is_atom(k->u.tuple.el[0], app) &&
                             term_is_atom(k->u.tuple.el[1], mod)
                       : term_is_atom(k, app);
        if (hit)
            *attrs = e[i]->u.tuple.el[1];
    }
    return 0;
}

/* add_defaults - the entries of ATTRS (a knit_defaults Attrs list) whose attribute M does
 * not set itself (nor an entry already taken), appended to V */
static int add_defaults(struct arena *a, const struct appup_opts *o, const struct mod *m,
                        const struct term *attrs, struct attr_src **v, size_t *n, size_t own)
{
    size_t na;
    const struct term *const *e = term_list_els(attrs, &na);
    for (size_t i = 0; i < na; i++) {
        if (!term_is_tuple(e[i], 2) || e[i]->u.tuple.el[0]->type != TERM_ATOM ||
            !attr_known(e[i]->u.tuple.el[0]->u.atom.name))
            return kerr_set(KERR_INPUT, o->defaults_file, o->defaults_line, 0,
                            "option 'knit_defaults': %s is not a {knit_Attribute, Value} pair "
                            "(knit_purge, knit_timeout, knit_priority, knit_extra, "
                            "knit_depends, knit_apply)",
                            term_show(a, e[i], 200));
        const char *name = e[i]->u.tuple.el[0]->u.atom.name;
        bool set = false;
        for (size_t k = 0; k < *n && !set; k++)
            set = !strcmp((*v)[k].name, name); /* the module's own (k < OWN), or taken */
        if (set)
            continue;
        struct attr_src *nv = arena_alloc(a, (*n + 1) * sizeof *nv);
        if (*n)
            memcpy(nv, *v, *n * sizeof *nv);
        nv[(*n)++] = (struct attr_src){name, e[i]->u.tuple.el[1]};
        *v = nv;
    }
    (void)m;
    (void)own;
    return 0;
}

/* parse_attrs - validate M's knit_* attributes, with the knit_defaults of APP for those it
 * does not set (SPEC "Module attributes: additions": the module's own win, then an {App,
 * Module} entry, then an App entry), and fill in their values (defaults where absent); -1
 * with KERR_INPUT naming the module, attribute and value */
static int parse_attrs(struct arena *a, struct mod *m, const char *app,
                       const struct appup_opts *o)
{
    if (m->parsed)
        return 0;
    const struct term *seen_prio = NULL, *seen_extra = NULL, *seen_to = NULL, *seen_purge = NULL;
    m->prio = term_int(a, 0);
    m->extra = term_nil();
    m->timeout = A(a, "default");
    m->pre = m->post = A(a, "brutal_purge");
    size_t n0;
    const struct term *const *e0 = term_list_els(m->attrs, &n0);
    struct attr_src *e = arena_alloc(a, (n0 + 1) * sizeof *e);
    size_t n = 0;
    for (size_t k = 0; k < n0; k++) {
        const struct term *v = e0[k]->u.tuple.el[1];
        /* the compiler stores -a(V) as {a, [V]} for a non-list V, {a, V} for a list */
        if (term_list_len(v) == 1)
            v = v->u.list.el[0];
        e[n++] = (struct attr_src){e0[k]->u.tuple.el[0]->u.atom.name, v};
    }
    size_t own = n;
    const struct term *dm, *da;
    if (defaults_for(a, o, app, m->name, &dm) != 0 || defaults_for(a, o, app, NULL, &da) != 0)
        return -1;
    if ((dm && add_defaults(a, o, m, dm, &e, &n, own) != 0) ||
        (da && add_defaults(a, o, m, da, &e, &n, own) != 0))
        return -1;
    if (n > own)
        log_debug("%s: %zu knit_defaults attribute(s) applied to '%s'", m->path, n - own, m->name);
    for (size_t k = 0; k < n; k++) {
        const char *name = e[k].name;
        const struct term *v = e[k].v;
        const struct term **seen = NULL;
        if (!strcmp(name, "knit_priority"))
            seen = &seen_prio;
        else if (!strcmp(name, "knit_extra"))
            seen = &seen_extra;
        else if (!strcmp(name, "knit_timeout"))
            seen = &seen_to;
        else if (!strcmp(name, "knit_purge"))
            seen = &seen_purge;
        if (seen && *seen)
            return kerr_set(KERR_INPUT, m->path, 0, 0,
                            "duplicate attribute '%s' in module '%s': %s, then %s (it takes "
                            "one value)",
                            name, m->name, term_show(a, *seen, 0), term_show(a, v, 0));
        if (seen)
            *seen = v;
        if (!strcmp(name, "knit_priority")) {
            if (!term_is_int(v))
                return bad_attr(a, m, name, v, "an integer");
            m->prio = v;
        } else if (!strcmp(name, "knit_extra")) {
            m->extra = v;
        } else if (!strcmp(name, "knit_timeout")) {
            bool ok = term_is_atom(v, "default") || term_is_atom(v, "infinity") ||
                      (v->type == TERM_INT && v->u.i >= 0) ||
                      (v->type == TERM_BIG && !v->u.big.neg);
            if (!ok)
                return bad_attr(a, m, name, v, "default, infinity or an integer >= 0");
            m->timeout = v;
        } else if (!strcmp(name, "knit_purge")) {
            if (is_purge(v)) {
                m->pre = m->post = v;
            } else if (term_is_tuple(v, 2) && is_purge(v->u.tuple.el[0]) &&
                       is_purge(v->u.tuple.el[1])) {
                m->pre = v->u.tuple.el[0];
                m->post = v->u.tuple.el[1];
            } else {
                return bad_attr(a, m, name, v, "soft_purge, brutal_purge or {PrePurge, PostPurge}");
            }
        } else if (!strcmp(name, "knit_depends")) {
            const struct term *one;
            size_t ni;
            const struct term *const *it = items(v, &one, &ni);
            if (!term_is_list(v) && v->type != TERM_ATOM)
                return bad_attr(a, m, name, v, "a module name or a list of them");
            for (size_t j = 0; j < ni; j++) {
                if (it[j]->type != TERM_ATOM)
                    return bad_attr(a, m, name, v, "a module name or a list of them");
                if (!strv_has(m->depends, m->ndepends, it[j]->u.atom.name))
                    strv_add(a, &m->depends, &m->ndepends, it[j]->u.atom.name);
            }
        } else if (!strcmp(name, "knit_apply")) {
            const struct term *one;
            size_t ni;
            const struct term *const *it = items(v, &one, &ni);
            struct apply *nv = arena_alloc(a, (m->napplies + ni + 1) * sizeof *nv);
            if (m->napplies)
                memcpy(nv, m->applies, m->napplies * sizeof *nv);
            m->applies = nv;
            for (size_t j = 0; j < ni; j++)
                if (parse_apply(a, it[j], &m->applies[m->napplies++]) != 0)
                    return bad_attr(a, m, name, it[j],
                                    "{M, F, Args}, {Phase, {M, F, Args}} or {up | down, Phase, "
                                    "{M, F, Args}} with Phase first, immediate, last or {Phase, "
                                    "Priority}");
        } else {
            log_warn("%s: unknown attribute '%s' in module '%s' ignored", m->path, name, m->name);
        }
    }
    m->parsed = true;
    return 0;
}

/* ---- one from-version ---- */

struct ent {
    struct mod *m; /* the new beam for added and changed modules, the old for deleted */
    enum appup_action act;
    size_t idx; /* its place in the upgrade order */
};

static int cmp_ent_by(const struct ent *x, const struct ent *y, int ax, int ay)
{
    if (ax != ay)
        return ax - ay;
    int c = term_compare(y->m->prio, x->m->prio); /* higher priority first */
    if (c)
        return c;
    return strcmp(x->m->name, y->m->name);
}

static int cmp_ent_name(const void *p, const void *q)
{
    return strcmp(((const struct ent *)p)->m->name, ((const struct ent *)q)->m->name);
}

static int cmp_ent_up(const void *p, const void *q)
{
    const struct ent *x = p, *y = q;
    return cmp_ent_by(x, y, (int)x->act, (int)y->act);
}

/* down: modules deleted by the upgrade are added back first, added ones deleted last */
static int cmp_ent_down(const void *p, const void *q)
{
    const struct ent *x = p, *y = q;
    return cmp_ent_by(x, y, 2 - (int)x->act, 2 - (int)y->act);
}

static int cmp_apply(const void *p, const void *q)
{
    const struct apply *x = p, *y = q;
    int c = term_compare(x->prio, y->prio);
    return c ? c : term_compare(x->mfa, y->mfa);
}

/* ent_find - the module NAME's entry in V (sorted by name), NULL when it gets no
 * instruction in this from-version */
static const struct ent *ent_find(const struct ent *v, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid].m->name, name);
        if (c == 0)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* applies_of - append the {apply, MFA} instructions of PHASE and direction DOWN from the N
 * entries, sorted */
static void applies_of(struct arena *a, const struct ent *v, size_t n, enum phase phase,
                       bool down, struct term_vec *out)
{
    size_t cnt = 0;
    for (size_t k = 0; k < n; k++)
        if (v[k].act != APPUP_DELETED)
            cnt += v[k].m->napplies;
    struct apply *ap = arena_alloc(a, (cnt + 1) * sizeof *ap);
    size_t na = 0;
    for (size_t k = 0; k < n; k++)
        if (v[k].act != APPUP_DELETED)
            for (size_t j = 0; j < v[k].m->napplies; j++)
                if (v[k].m->applies[j].phase == phase && v[k].m->applies[j].down == down)
                    ap[na++] = v[k].m->applies[j];
    if (na)
        qsort(ap, na, sizeof *ap, cmp_apply);
    for (size_t k = 0; k < na; k++)
        term_vec_add(a, out, term_tuplev(a, 2, A(a, "apply"), ap[k].mfa));
}

static const struct term *instr_for(struct arena *a, struct appup_module *r, const struct mod *m,
                                    const struct term *deps)
{
    const struct term *name = A(a, m->name);
    if (m->is_sup) {
        r->kind = "supervisor";
        return term_tuplev(a, 8, A(a, "update"), name, A(a, "static"), m->timeout,
                           term_tuplev(a, 2, A(a, "advanced"), term_nil()), m->pre, m->post, deps);
    }
    if (m->has_cc) {
        r->kind = "code_change";
        return term_tuplev(a, 8, A(a, "update"), name, A(a, "dynamic"), m->timeout,
                           term_tuplev(a, 2, A(a, "advanced"), m->extra), m->pre, m->post, deps);
    }
    r->kind = "load_module";
    return term_tuplev(a, 5, A(a, "load_module"), name, m->pre, m->post, deps);
}

/* deps_for - Deps of the changed module M: knit_depends, then with INFER the changed or
 * added modules it imports; BYNAME (N entries) are this from-version's, sorted by name */
static void deps_for(struct arena *a, const char *app, const char *from, const struct mod *m,
                     const struct ent *byname, size_t n, bool infer, struct appup_module *r)
{
    for (size_t k = 0; k < m->ndepends; k++) {
        const char *d = m->depends[k];
        bool self = !strcmp(d, m->name);
        if (self || !ent_find(byname, n, d)) {
            log_verbose("%s %s: dependency '%s' of '%s' dropped: %s", app, from, d, m->name,
                        self ? "a module does not depend on itself"
                             : "it gets no instruction in this upgrade");
            strv_add(a, &r->dropped, &r->ndropped, d);
        } else {
            strv_add(a, &r->deps, &r->ndeps, d);
        }
    }
    if (!infer)
        return;
    for (size_t k = 0; k < m->nimports; k++) {
        const char *d = m->imports[k];
        const struct ent *t = ent_find(byname, n, d);
        if (!t || t->act == APPUP_DELETED || strv_has(r->deps, r->ndeps, d))
            continue;
        strv_add(a, &r->deps, &r->ndeps, d);
        strv_add(a, &r->inferred, &r->ninferred, d);
    }
}

/* gen_ents - the report (instructions up and down) from FROM_VSN for the N modules BYNAME
 * (sorted by name, attributes parsed) */
static int gen_ents(struct arena *a, const char *app, const char *from_vsn, struct ent *byname,
                    size_t n, const struct appup_opts *opts, struct appup_report *rep)
{
    struct ent *v = arena_alloc(a, (n + 1) * sizeof *v);
    if (n) {
        memcpy(v, byname, n * sizeof *v);
        qsort(v, n, sizeof *v, cmp_ent_up);
    }
    rep->from_vsn = arena_strdup(a, from_vsn);
    rep->nmods = n;
    rep->mods = arena_alloc(a, (n + 1) * sizeof *rep->mods);
    struct term_vec up = {0};
    applies_of(a, v, n, PH_FIRST, false, &up);
    for (size_t k = 0; k < n; k++) {
        struct appup_module *r = &rep->mods[k];
        const struct mod *m = v[k].m;
        v[k].idx = k;
        r->name = m->name;
        r->action = v[k].act;
        const struct term *name = A(a, m->name);
        if (v[k].act == APPUP_CHANGED) {
            deps_for(a, app, from_vsn, m, byname, n, opts->auto_depends, r);
            r->up = r->down = instr_for(a, r, m, atom_list(a, r->deps, r->ndeps));
        } else if (v[k].act == APPUP_ADDED) {
            r->kind = "add_module";
            r->up = term_tuplev(a, 2, A(a, "add_module"), name);
            r->down = term_tuplev(a, 2, A(a, "delete_module"), name);
        } else {
            r->kind = "delete_module";
            r->up = term_tuplev(a, 2, A(a, "delete_module"), name);
            r->down = term_tuplev(a, 2, A(a, "add_module"), name);
        }
        term_vec_add(a, &up, r->up);
        struct term_vec own = {0};
        if (v[k].act != APPUP_DELETED)
            for (size_t p = 0; p < m->napplies; p++)
                if (!m->applies[p].down)
                    term_vec_add(a, &own, term_tuplev(a, 2, A(a, "apply"), m->applies[p].mfa));
        r->applies = term_list(a, own.v, own.n, term_nil());
        applies_of(a, &v[k], 1, PH_IMMEDIATE, false, &up);
    }
    applies_of(a, v, n, PH_LAST, false, &up);
    rep->up = term_list(a, up.v, up.n, term_nil());

    /* down: the same modules, each instruction reversed, sorted for the way back */
    if (n)
        qsort(v, n, sizeof *v, cmp_ent_down);
    /* {down, Phase, MFA} applies of the new code (the code being replaced) at their phases */
    struct term_vec down = {0};
    applies_of(a, v, n, PH_FIRST, true, &down);
    for (size_t k = 0; k < n; k++) {
        term_vec_add(a, &down, rep->mods[v[k].idx].down);
        applies_of(a, &v[k], 1, PH_IMMEDIATE, true, &down);
    }
    applies_of(a, v, n, PH_LAST, true, &down);
    rep->down = term_list(a, down.v, down.n, term_nil());
    return 0;
}

/* gen_from - the report (instructions up and down) for the upgrade from OLD to NW */
static int gen_from(struct arena *a, const char *app, struct ebin *nw, const char *from_vsn,
                    struct ebin *old, const struct appup_opts *opts, struct appup_report *rep)
{
    struct ent *byname = arena_alloc(a, (nw->n + old->n + 1) * sizeof *byname);
    size_t n = 0, i = 0, j = 0;
    while (i < nw->n || j < old->n) {
        int c = i == nw->n ? 1 : j == old->n ? -1 : strcmp(nw->m[i].name, old->m[j].name);
        if (c < 0) {
            byname[n++] = (struct ent){&nw->m[i++], APPUP_ADDED, 0};
        } else if (c > 0) {
            if (parse_attrs(a, &old->m[j], app, opts) != 0)
                return -1;
            byname[n++] = (struct ent){&old->m[j++], APPUP_DELETED, 0};
        } else {
            if (memcmp(nw->m[i].md5, old->m[j].md5, 16) != 0)
                byname[n++] = (struct ent){&nw->m[i], APPUP_CHANGED, 0};
            i++;
            j++;
        }
    }
    return gen_ents(a, app, from_vsn, byname, n, opts, rep);
}

void appup_opts_init(struct appup_opts *o)
{
    memset(o, 0, sizeof *o);
    o->auto_depends = true;
}

int appup_generate(struct arena *a, const char *app, const char *new_vsn, const char *new_ebin,
                   const struct appup_from *from, size_t nfrom, const struct appup_opts *opts,
                   struct appup_result *out)
{
    struct appup_opts dflt;
    if (!opts) {
        appup_opts_init(&dflt);
        opts = &dflt;
    }
    memset(out, 0, sizeof *out);
    struct ebin nw;
    if (read_ebin(a, new_ebin, opts->new_beams, opts->nnew_beams, &nw) != 0)
        return -1;
    for (size_t k = 0; k < nw.n; k++)
        if (parse_attrs(a, &nw.m[k], app, opts) != 0)
            return -1;
    struct appup_report *reps = arena_alloc(a, (nfrom + 1) * sizeof *reps);
    const struct term **ups = arena_alloc(a, (nfrom + 1) * sizeof *ups);
    const struct term **downs = arena_alloc(a, (nfrom + 1) * sizeof *downs);
    for (size_t k = 0; k < nfrom; k++) {
        struct ebin old;
        if (read_ebin(a, from[k].ebin, from[k].beams, from[k].nbeams, &old) != 0 ||
            gen_from(a, app, &nw, from[k].vsn, &old, opts, &reps[k]) != 0)
            return -1;
        const struct term *key = term_stringz(a, from[k].vsn);
        ups[k] = term_tuplev(a, 2, key, reps[k].up);
        downs[k] = term_tuplev(a, 2, key, reps[k].down);
    }
    out->appup = term_tuplev(a, 3, term_stringz(a, new_vsn), term_list(a, ups, nfrom, term_nil()),
                             term_list(a, downs, nfrom, term_nil()));
    out->reports = reps;
    out->nreports = nfrom;
    return 0;
}

int appup_changes(struct arena *a, const char *app, const char *label,
                  const struct appup_change *ch, size_t n, const struct appup_opts *opts,
                  struct appup_report *rep)
{
    struct appup_opts dflt;
    if (!opts) {
        appup_opts_init(&dflt);
        opts = &dflt;
    }
    memset(rep, 0, sizeof *rep);
    struct mod *m = arena_alloc(a, (n + 1) * sizeof *m);
    for (size_t k = 0; k < n; k++) {
        const char *base = strrchr(ch[k].path, '/');
        base = base ? base + 1 : ch[k].path;
        if (read_beam(a, ch[k].path, base, ch[k].data, ch[k].len, &m[k]) != 0 ||
            parse_attrs(a, &m[k], app, opts) != 0)
            return -1;
    }
    /* sorted by name with the action alongside: sort the modules, then look each up */
    struct ent *byname = arena_alloc(a, (n + 1) * sizeof *byname);
    for (size_t k = 0; k < n; k++)
        byname[k] = (struct ent){&m[k], ch[k].action == APPUP_ADDED ? APPUP_ADDED : APPUP_CHANGED,
                                 0};
    if (n)
        qsort(byname, n, sizeof *byname, cmp_ent_name);
    for (size_t k = 1; k < n; k++)
        if (!strcmp(byname[k - 1].m->name, byname[k].m->name))
            return kerr_set(KERR_INPUT, byname[k].m->path, 0, 0,
                            "module '%s' is given twice: also in '%s'", byname[k].m->name,
                            byname[k - 1].m->path);
    return gen_ents(a, app, label, byname, n, opts, rep);
}

/* ---- hand-written appups ---- */

static int hw_err(const char *path, const struct term *at, const char *fmt, const char *x,
                  const char *y)
{
    return kerr_set(KERR_INPUT, path, at ? (int)at->line : 0, 0, fmt, x, y);
}

/* check_entries - UpFrom or DownTo: a list of {Key, Instrs} */
static int check_entries(struct arena *a, const char *path, const struct term *top,
                         const struct term *l, const char *what)
{
    if (!term_is_list(l))
        return hw_err(path, l->line ? l : top, "the %s list is not a list: %s", what,
                      term_show(a, l, 0));
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    for (size_t k = 0; k < n; k++) {
        const struct term *at = e[k]->line ? e[k] : top;
        if (!term_is_tuple(e[k], 2))
            return hw_err(path, at, "%s entry %s is not a {Version, Instructions} tuple", what,
                          term_show(a, e[k], 0));
        const struct term *key = e[k]->u.tuple.el[0], *ins = e[k]->u.tuple.el[1];
        if (key->type == TERM_BITS) {
            if (key->u.bits.nbits % 8)
                return hw_err(path, at, "%s version key %s is not a binary", what,
                              term_show(a, key, 0));
            int ec;
            PCRE2_SIZE off;
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)key->u.bits.data, key->u.bits.nbits / 8,
                                           PCRE2_UTF, &ec, &off, NULL);
            if (!re) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(ec, msg, sizeof msg);
                return kerr_set(KERR_INPUT, path, (int)at->line, 0,
                                "%s version key %s is not a valid regular expression: %s", what,
                                term_show(a, key, 0), (const char *)msg);
            }
            pcre2_code_free(re);
        } else if (!term_charlist(a, key)) {
            return hw_err(path, at, "%s version key %s is neither a string nor a binary", what,
                          term_show(a, key, 0));
        }
        if (rc_check_syntax(a, ins) != 0) {
            char msg[sizeof kerr_get()->msg];
            snprintf(msg, sizeof msg, "%s", kerr_get()->msg);
            return kerr_set(KERR_INPUT, path, (int)at->line, 0, "%s entry %s: %s", what,
                            term_show(a, key, 0), msg);
        }
    }
    return 0;
}

int appup_read_handwritten(struct arena *a, const char *path, const char *app, const char *vsn,
                           const struct term **appup)
{
    const struct term *terms = term_consult_file(a, path);
    if (!terms)
        return -1;
    size_t n;
    const struct term *const *e = term_list_els(terms, &n);
    if (n == 0)
        return kerr_set(KERR_INPUT, path, 0, 0,
                        "expected a {Vsn, UpFrom, DownTo} term in the appup of '%s', found none",
                        app);
    if (n > 1) /* systools_lib:read_term/1 takes the first term (ranch 2.x ships several) */
        log_warn("%s:%d: the appup of '%s' holds %zu terms; only the first is read, as "
                 "systools reads it",
                 path, (int)e[1]->line, app, n);
    const struct term *t = e[0];
    if (!term_is_tuple(t, 3))
        return hw_err(path, t, "appup of '%s' is not a {Vsn, UpFrom, DownTo} tuple: %s", app,
                      term_show(a, t, 0));
    const struct term *v = t->u.tuple.el[0];
    if (!term_equal(v, term_stringz(a, vsn)))
        return kerr_set(KERR_INPUT, path, (int)t->line, 0,
                        "appup version %s is not the version \"%s\" of '%s'", term_show(a, v, 0),
                        vsn, app);
    if (check_entries(a, path, t, t->u.tuple.el[1], "upgrade") != 0 ||
        check_entries(a, path, t, t->u.tuple.el[2], "downgrade") != 0)
        return -1;
    *appup = t;
    return 0;
}

int appup_missing(struct arena *a, const struct term *appup, const char *from_vsn)
{
    int miss = 0;
    bool bad;
    if (!relup_search_version(a, from_vsn, appup->u.tuple.el[1], &bad))
        miss |= APPUP_MISSING_UP;
    if (!relup_search_version(a, from_vsn, appup->u.tuple.el[2], &bad))
        miss |= APPUP_MISSING_DOWN;
    if (miss)
        kerr_clear();
    return miss;
}

int appup_check_handwritten(struct arena *a, const char *path, const char *app, const char *vsn,
                            const char *const *from_vsns, size_t nfrom, const struct term **appup)
{
    const struct term *t;
    if (appup_read_handwritten(a, path, app, vsn, &t) != 0)
        return -1;
    for (size_t k = 0; k < nfrom; k++) {
        int miss = appup_missing(a, t, from_vsns[k]);
        if (miss)
            return kerr_set(KERR_INPUT, path, (int)t->line, 0,
                            "no %s entry for version \"%s\" in the appup of '%s'",
                            (miss & APPUP_MISSING_UP) ? "upgrade" : "downgrade", from_vsns[k], app);
    }
    *appup = t;
    return 0;
}
