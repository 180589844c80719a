/* release.c - the release model: candidate applications and modules, and what a target system
 * holds, decided as OTP's reltool_server does (refresh/1, analyse/3) */
#include "release.h"

#include "buf.h"

#include "beam.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "term_parse.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/* A growable array of pointers (malloc-owned; freed by the caller). */
struct vec {
    void **p;
    size_t n, cap;
};

static void vec_push(struct vec *v, void *x)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->p = xrealloc(v->p, v->cap * sizeof *v->p);
    }
    v->p[v->n++] = x;
}

static bool str_in(const char *s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, v[i]))
            return true;
    return false;
}

/* ---- directory names: reltool_utils split_app_name / app_dir_test ---- */

/* split_name - "asn1-1.6.2" -> name "asn1", vsn "1.6.2"; "asn1" -> "asn1", "" */
static void split_name(struct arena *a, const char *base, const char **name, const char **vsn)
{
    size_t n = strlen(base), i = n;
    while (i > 0 && (base[i - 1] == '.' || (base[i - 1] >= '0' && base[i - 1] <= '9')))
        i--;
    if (i > 0 && base[i - 1] == '-') {
        *name = arena_memdup(a, base, i - 1);
        *vsn = arena_strdup(a, base + i);
    } else {
        *name = arena_strdup(a, base);
        *vsn = "";
    }
}

/* vsn_key - the version as app_dir_test compares it: a list of integers when every
 * '.'-separated part is one, else the characters; returns the element count */
static size_t vsn_key(const char *vsn, long *out, size_t max)
{
    size_t n = 0;
    bool numeric = true;
    const char *s = vsn;
    while (*s && numeric) {
        while (*s == '.')
            s++;
        if (!*s)
            break;
        size_t len = strcspn(s, ".");
        size_t k = (s[0] == '+' || s[0] == '-') && len > 1 ? 1 : 0;
        for (; k < len; k++)
            if (s[k] < '0' || s[k] > '9')
                numeric = false;
        if (numeric && n < max)
            out[n++] = strtol(s, NULL, 10);
        s += len;
    }
    if (numeric)
        return n;
    n = 0;
    for (s = vsn; *s && n < max; s++)
        out[n++] = (unsigned char)*s;
    return n;
}

/* dir_cmp - app_dir_test(D1, D2) as a comparison: name ascending, version descending, parent ascending */
static int dir_cmp(struct arena *a, const char *d1, const char *d2)
{
    const char *b1 = strrchr(d1, '/') + 1, *b2 = strrchr(d2, '/') + 1;
    const char *n1, *v1, *n2, *v2;
    split_name(a, b1, &n1, &v1);
    split_name(a, b2, &n2, &v2);
    int c = strcmp(n1, n2);
    if (c)
        return c;
    long k1[64], k2[64];
    size_t l1 = vsn_key(v1, k1, 64), l2 = vsn_key(v2, k2, 64);
    for (size_t i = 0; i < l1 && i < l2; i++)
        if (k1[i] != k2[i])
            return k1[i] > k2[i] ? -1 : 1;
    if (l1 != l2)
        return l1 > l2 ? -1 : 1;
    size_t p1 = (size_t)(b1 - d1), p2 = (size_t)(b2 - d2);
    c = strncmp(d1, d2, p1 < p2 ? p1 : p2);
    if (c)
        return c;
    return p1 < p2 ? -1 : p1 > p2 ? 1 : 0;
}

/* ---- finding candidates: reltool_server libs_to_dirs ---- */

struct found {
    const char *name, *dir;
};

/* app_name_of - find_app_name: the one .app file in EBIN names the app, else the dir name */
static const char *app_name_of(struct arena *a, const char *base, const char *ebin)
{
    DIR *d = opendir(ebin);
    const char *one = NULL;
    int napp = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = fs_stem(e->d_name, ".app");
            if (l) {
                napp++;
                one = arena_memdup(a, e->d_name, l);
            }
        }
        closedir(d);
    }
    if (napp == 1)
        return one;
    const char *name, *vsn;
    split_name(a, base, &name, &vsn);
    return name;
}

static int scan_lib(struct arena *a, const char *lib, struct vec *out)
{
    DIR *d = opendir(lib);
    if (!d)
        return kerr_set(KERR_INPUT, lib, 0, 0, "cannot read library directory: %s",
                        strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        const char *dir = arena_sprintf(a, "%s/%s", lib, e->d_name);
        const char *ebin = arena_sprintf(a, "%s/ebin", dir);
        if (!fs_is_dir(ebin))
            continue;
        const char *name = app_name_of(a, e->d_name, ebin);
        if (!strcmp(name, "erts"))
            continue;
        struct found *f = arena_alloc(a, sizeof *f);
        f->name = name;
        f->dir = dir;
        vec_push(out, f);
    }
    closedir(d);
    return 0;
}

static int found_cmp(const void *x, const void *y)
{
    const struct found *a = *(struct found *const *)x, *b = *(struct found *const *)y;
    int c = strcmp(a->name, b->name);
    return c ? c : strcmp(a->dir, b->dir);
}

/* searched - the directories searched, for messages */
static const char *searched(struct arena *a, const struct cfg *c)
{
    char *s = arena_sprintf(a, "'%s/lib'", c->root_dir);
    for (size_t i = 0; i < c->nlib_dirs; i++)
        s = arena_sprintf(a, "%s, '%s'", s, c->lib_dirs[i]);
    return s;
}

static int find_candidates(struct arena *a, const struct cfg *c, struct vec *found)
{
    const char *rootlib = arena_sprintf(a, "%s/lib", c->root_dir);
    for (size_t i = 0; i < c->nlib_dirs; i++) {
        if (!strcmp(c->lib_dirs[i], rootlib))
            return kerr_set(KERR_INPUT, c->file, 0, 0, "duplicate library '%s' in lib_dirs",
                            c->lib_dirs[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->lib_dirs[i], c->lib_dirs[j]))
                return kerr_set(KERR_INPUT, c->file, 0, 0, "duplicate library '%s' in lib_dirs",
                                c->lib_dirs[i]);
    }
    /* erts: each ROOT/erts-VSN as ROOT/lib/erts-VSN, or ROOT/erts-VSN/preloaded */
    DIR *d = opendir(c->root_dir);
    if (!d)
        return kerr_set(KERR_INPUT, c->file, 0, 0, "missing root directory '%s': %s", c->root_dir,
                        strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "erts", 4) != 0)
            continue;
        struct found *f = arena_alloc(a, sizeof *f);
        f->name = "erts";
        f->dir = arena_sprintf(a, "%s/%s", rootlib, e->d_name);
        if (!fs_is_dir(arena_sprintf(a, "%s/ebin", f->dir)))
            f->dir = arena_sprintf(a, "%s/%s/preloaded", c->root_dir, e->d_name);
        vec_push(found, f);
    }
    closedir(d);
    if (scan_lib(a, rootlib, found) != 0)
        return -1;
    for (size_t i = 0; i < c->nlib_dirs; i++)
        if (scan_lib(a, c->lib_dirs[i], found) != 0)
            return -1;
    qsort(found->p, found->n, sizeof *found->p, found_cmp);
    return 0;
}

/* ---- the .app file: reltool_server read_app_info / parse_app_info ---- */

static const char **atom_list(struct arena *a, const struct term *t, size_t *n)
{
    size_t m;
    const struct term *const *el = term_list_els(t, &m);
    const char **out = arena_alloc(a, (m ? m : 1) * sizeof *out);
    *n = 0;
    if (!term_is_list(t))
        return out;
    for (size_t i = 0; i < m; i++)
        if (el[i]->type == TERM_ATOM)
            out[(*n)++] = el[i]->u.atom.name;
    return out;
}

static const char *get_base(const struct release_app *app, const char *dir)
{
    const char *b = strrchr(dir, '/') + 1;
    if (!strcmp(app->name, "erts") && !strcmp(b, "preloaded")) {
        const char *end = b - 1, *s = end;
        while (s > dir && s[-1] != '/')
            s--;
        static char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)(end - s), s);
        return buf;
    }
    return b;
}

/* read_info - fill APP's vsn and info from DIR/ebin/NAME.app (erts: from the dir name) */
static void read_info(struct arena *a, struct release_app *app, const char *dir)
{
    const char *base = get_base(app, dir);
    size_t pl = strlen(app->name);
    app->vsn =
        !strncmp(base, app->name, pl) && base[pl] == '-' ? arena_strdup(a, base + pl + 1) : "";
    app->info = term_nil();
    app->napplications = app->nincl_apps = app->nopt_apps = app->nmodules = 0;
    app->start_mod = NULL;
    if (!strcmp(app->name, "erts"))
        return;
    const char *file = arena_sprintf(a, "%s/ebin/%s.app", dir, app->name);
    const struct term *terms = term_consult_file(a, file);
    if (!terms) {
        log_warn("%s: cannot read app file '%s'", app->name, file);
        kerr_clear();
        return;
    }
    const struct term *t = term_list_len(terms) == 1 ? terms->u.list.el[0] : NULL;
    if (!t || !term_is_tuple(t, 3) || !term_is_atom(t->u.tuple.el[0], "application") ||
        !term_is_atom(t->u.tuple.el[1], app->name) || !term_is_list(t->u.tuple.el[2])) {
        log_warn("%s: illegal contents in app file '%s', application tuple with arity 3 expected",
                 app->name, file);
        return;
    }
    app->info = t->u.tuple.el[2];
    size_t n;
    const struct term *const *el = term_list_els(app->info, &n);
    for (size_t i = 0; i < n; i++) {
        if (!term_is_tuple(el[i], 2) || el[i]->u.tuple.el[0]->type != TERM_ATOM)
            continue;
        const char *k = el[i]->u.tuple.el[0]->u.atom.name;
        const struct term *v = el[i]->u.tuple.el[1];
        if (!strcmp(k, "vsn")) {
            const char *s = term_charlist(a, v);
            if (s)
                app->vsn = s;
        } else if (!strcmp(k, "modules")) {
            app->modules = atom_list(a, v, &app->nmodules);
        } else if (!strcmp(k, "applications")) {
            app->applications = atom_list(a, v, &app->napplications);
        } else if (!strcmp(k, "included_applications")) {
            app->incl_apps = atom_list(a, v, &app->nincl_apps);
        } else if (!strcmp(k, "optional_applications")) {
            app->opt_apps = atom_list(a, v, &app->nopt_apps);
        } else if (!strcmp(k, "mod")) {
            app->start_mod = term_is_tuple(v, 2) && v->u.tuple.el[0]->type == TERM_ATOM
                                 ? v->u.tuple.el[0]->u.atom.name
                                 : NULL;
        }
    }
}

/* ---- modules: reltool_server refresh_app ---- */

static int mod_cmp(const void *x, const void *y)
{
    return strcmp(((const struct release_mod *)x)->name, ((const struct release_mod *)y)->name);
}

static void read_mods(struct arena *a, struct release_app *app)
{
    struct vec names = {0};
    struct vec ebin = {0};
    if (app->dir) {
        DIR *d = opendir(arena_sprintf(a, "%s/ebin", app->dir));
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t l = fs_stem(e->d_name, ".beam");
            if (l)
                vec_push(&ebin, arena_memdup(a, e->d_name, l));
        }
        if (d)
            closedir(d);
    }
    /* the .app's modules (and its start module) that are not in ebin exist only by name */
    for (size_t i = 0; i < app->nmodules; i++)
        vec_push(&names, (void *)app->modules[i]);
    if (app->start_mod && !str_in(app->start_mod, app->modules, app->nmodules))
        vec_push(&names, (void *)app->start_mod);
    size_t cap = ebin.n + names.n + 1;
    const struct term *mods_cfg = app->cfg ? app->cfg->mods : NULL;
    cap += mods_cfg ? (size_t)term_list_len(mods_cfg) : 0;
    app->mods = arena_alloc(a, cap * sizeof *app->mods);
    app->nmods = 0;
    for (size_t i = 0; i < ebin.n; i++) {
        struct release_mod *m = &app->mods[app->nmods++];
        m->name = ebin.p[i];
        m->exists = m->is_ebin_mod = true;
    }
    for (size_t i = 0; i < names.n; i++) {
        if (str_in(names.p[i], (const char *const *)ebin.p, ebin.n))
            continue;
        bool dup = false;
        for (size_t k = 0; k < app->nmods; k++)
            dup = dup || !strcmp(app->mods[k].name, names.p[i]);
        if (dup)
            continue;
        struct release_mod *m = &app->mods[app->nmods++];
        m->name = names.p[i];
        m->uses_read = true; /* a missing module uses nothing */
    }
    /* {mod, Name, Opts} settings */
    size_t nm;
    const struct term *const *el = mods_cfg ? term_list_els(mods_cfg, &nm) : NULL;
    for (size_t i = 0; el && i < nm; i++) {
        const struct term *o = el[i];
        if (!term_is_tuple(o, 3) || o->u.tuple.el[1]->type != TERM_ATOM)
            continue;
        const char *mn = o->u.tuple.el[1]->u.atom.name;
        struct release_mod *m = NULL;
        for (size_t k = 0; k < app->nmods && !m; k++)
            if (!strcmp(app->mods[k].name, mn))
                m = &app->mods[k];
        if (!m) {
            m = &app->mods[app->nmods++];
            m->name = mn;
            m->uses_read = true;
        }
        const struct term *ic = term_proplist_get(o->u.tuple.el[2], "incl_cond");
        const struct term *di = term_proplist_get(o->u.tuple.el[2], "debug_info");
        if (ic && ic->type == TERM_ATOM)
            m->incl_cond = ic->u.atom.name;
        if (di && di->type == TERM_ATOM)
            m->debug_info = di->u.atom.name;
    }
    qsort(app->mods, app->nmods, sizeof *app->mods, mod_cmp);
    for (size_t i = 0; i < app->nmods; i++) {
        struct release_mod *m = &app->mods[i];
        m->app = app;
        m->is_app_mod = str_in(m->name, app->modules, app->nmodules) ||
                        (app->start_mod && !strcmp(app->start_mod, m->name));
        m->incl = m->pre = RELEASE_UNDEF;
    }
    free(ebin.p);
    free(names.p);
}

/* mod_uses - the modules M calls, from its beam's imports, as xref's "UM" in modules mode
 * gives them. xref leaves out BIFs; knit cannot ask the VM which functions are BIFs and
 * leaves out every call into 'erlang' instead (the other BIF modules live in kernel, stdlib
 * and erts, which every release includes anyway). */
static void mod_uses(struct arena *a, struct release_mod *m)
{
    if (m->uses_read)
        return;
    m->uses_read = true;
    struct arena scratch;
    arena_init(&scratch);
    const char *path = arena_sprintf(&scratch, "%s/ebin/%s.beam", m->app->dir, m->name);
    size_t len;
    /* kept in A: the target packs these very bytes (a second read of thousands of files
     * was a quarter of a large release's time) */
    const char *data = fs_read_file(a, path, &len);
    if (data) {
        m->beam = (const uint8_t *)data;
        m->beam_len = len;
    }
    struct beam_info bi;
    if (!data || beam_read_facts(&scratch, path, (const uint8_t *)data, len, &bi) != 0) {
        m->uses_unread = arena_strdup(a, path); /* said by propagate_mods, in its order */
        kerr_clear();
        arena_close(&scratch);
        return;
    }
    m->uses = arena_alloc(a, (bi.nimports ? bi.nimports : 1) * sizeof *m->uses);
    for (size_t i = 0; i < bi.nimports; i++) {
        const char *mod = bi.imports[i].mod;
        if (!mod || !strcmp(mod, m->name) || !strcmp(mod, "erlang"))
            continue;
        if (m->nuses > 0 && !strcmp(m->uses[m->nuses - 1], mod))
            continue; /* imports are sorted */
        m->uses[m->nuses++] = arena_strdup(a, mod);
    }
    arena_close(&scratch);
}

/* ---- the module table ---- */

static size_t hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static struct release_mod **tab_slot(const struct release *r, const char *name)
{
    size_t i = hash(name) & (r->mod_tab_size - 1);
    while (r->mod_tab[i] && strcmp(r->mod_tab[i]->name, name) != 0)
        i = (i + 1) & (r->mod_tab_size - 1);
    return &r->mod_tab[i];
}

struct release_app *release_app_find(const struct release *r, const char *name)
{
    size_t lo = 0, hi = r->napps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->apps[mid].name, name);
        if (c == 0)
            return &r->apps[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool release_app_selected(const struct release_app *app)
{
    return app->incl == RELEASE_YES || app->pre == RELEASE_YES;
}

static const struct cfg_app *app_cfg(const struct cfg *c, const char *name)
{
    if (!strcmp(name, "erts"))
        return c->erts.name ? &c->erts : NULL;
    return cfg_app_settings(c, name);
}

static const char *incl_cond_of(const struct release *r, const struct release_app *app)
{
    return app->cfg && app->cfg->incl_cond ? app->cfg->incl_cond : r->cfg->incl_cond;
}

static const char *mod_cond_of(const struct release *r, const struct release_app *app)
{
    return app->cfg && app->cfg->mod_cond ? app->cfg->mod_cond : r->cfg->mod_cond;
}

/* mod_cond_takes - whether an app's mod_cond takes M when the app gets included */
static bool mod_cond_takes(const char *mc, const struct release_mod *m)
{
    if (!strcmp(mc, "all"))
        return true;
    if (!strcmp(mc, "app"))
        return m->is_app_mod;
    if (!strcmp(mc, "ebin"))
        return m->is_ebin_mod;
    return false;
}

/* ---- candidates and their versions: merge_app_dirs, ensure_app_info, refresh_app ---- */

static void sort_dirs(struct arena *a, const char **d, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && dir_cmp(a, d[j - 1], d[j]) > 0; j--) {
            const char *t = d[j];
            d[j] = d[j - 1];
            d[j - 1] = t;
        }
}

static const char *dir_list(struct arena *a, const char *const *d, size_t n)
{
    const char *s = "";
    for (size_t i = 0; i < n; i++)
        s = arena_sprintf(a, "%s%s'%s'", s, i ? ", " : "", d[i]);
    return s;
}

/* choose_dir - ensure_app_info for an application with {app, ...} settings */
static int choose_dir(struct arena *a, const struct release *r, struct release_app *app)
{
    const struct cfg *c = r->cfg;
    const char *cond = incl_cond_of(r, app);
    if (app->ndirs == 0) {
        if (app->cfg->incl_cond && !strcmp(app->cfg->incl_cond, "exclude")) {
            log_warn("%s: missing application directory", app->name);
            return 0;
        }
        (void)cond;
        return kerr_set(KERR_INPUT, c->file, (int)app->cfg->line, 0,
                        "application '%s' is in none of the searched directories: %s", app->name,
                        searched(a, c));
    }
    const char **vsns = arena_alloc(a, app->ndirs * sizeof *vsns);
    for (size_t i = 0; i < app->ndirs; i++) {
        read_info(a, app, app->dirs[i]);
        vsns[i] = app->vsn;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(vsns[k], vsns[i]))
                return kerr_set(KERR_INPUT, c->file, (int)app->cfg->line, 0,
                                "application '%s': version '%s' is in more than one directory: "
                                "'%s' and '%s'",
                                app->name, vsns[i], app->dirs[k], app->dirs[i]);
    }
    if (app->cfg->lib_dir) {
        app->dir = app->cfg->lib_dir;
    } else if (app->cfg->vsn) {
        app->dir = NULL;
        for (size_t i = 0; i < app->ndirs && !app->dir; i++)
            if (!strcmp(vsns[i], app->cfg->vsn))
                app->dir = app->dirs[i];
        if (!app->dir)
            return kerr_set(KERR_INPUT, c->file, (int)app->cfg->line, 0,
                            "application '%s': no directory holds the selected version '%s' "
                            "(found: %s)",
                            app->name, app->cfg->vsn, dir_list(a, app->dirs, app->ndirs));
    } else {
        app->dir = app->dirs[0];
    }
    return 0;
}

static int app_name_cmp(const void *x, const void *y)
{
    return strcmp(((const struct release_app *)x)->name, ((const struct release_app *)y)->name);
}

static int build_apps(struct arena *a, struct release *r)
{
    const struct cfg *c = r->cfg;
    struct vec found = {0};
    int rc = -1;
    if (find_candidates(a, c, &found) != 0)
        goto done;
    size_t cap = found.n + c->napps + 2;
    r->apps = arena_alloc(a, cap * sizeof *r->apps);
    r->napps = 0;
    for (size_t i = 0; i < found.n;) {
        size_t j = i;
        while (j < found.n &&
               !strcmp(((struct found *)found.p[j])->name, ((struct found *)found.p[i])->name))
            j++;
        struct release_app *app = &r->apps[r->napps++];
        app->name = ((struct found *)found.p[i])->name;
        app->dirs = arena_alloc(a, (j - i + 1) * sizeof *app->dirs);
        for (size_t k = i; k < j; k++)
            app->dirs[app->ndirs++] = ((struct found *)found.p[k])->dir;
        i = j;
    }
    /* applications named in the config but found nowhere */
    for (size_t i = 0; i <= c->napps; i++) {
        const char *name = i < c->napps ? c->apps[i].name : c->erts.name;
        if (!name)
            continue;
        bool have = false;
        for (size_t k = 0; k < r->napps && !have; k++)
            have = !strcmp(r->apps[k].name, name);
        if (!have) {
            struct release_app *app = &r->apps[r->napps++];
            app->name = name;
            app->dirs = arena_alloc(a, sizeof *app->dirs);
        }
    }
    qsort(r->apps, r->napps, sizeof *r->apps, app_name_cmp);
    for (size_t i = 0; i < r->napps; i++) {
        struct release_app *app = &r->apps[i];
        app->cfg = app_cfg(c, app->name);
        if (app->cfg && app->cfg->lib_dir) {
            if (!fs_is_dir(app->cfg->lib_dir))
                return kerr_set(KERR_INPUT, c->file, (int)app->cfg->line, 0,
                                "illegal lib_dir for '%s': '%s' is not a directory", app->name,
                                app->cfg->lib_dir);
            if (!str_in(app->cfg->lib_dir, app->dirs, app->ndirs)) {
                const char **d = arena_alloc(a, (app->ndirs + 1) * sizeof *d);
                memcpy(d, app->dirs, app->ndirs * sizeof *d);
                d[app->ndirs++] = app->cfg->lib_dir;
                app->dirs = d;
            }
        }
        sort_dirs(a, app->dirs, app->ndirs);
        if (app->cfg) {
            if (choose_dir(a, r, app) != 0)
                goto done;
        } else {
            app->dir = app->dirs[0];
        }
        if (app->dir)
            read_info(a, app, app->dir);
        else
            app->info = term_nil(), app->vsn = "";
        app->label = *app->vsn ? arena_sprintf(a, "%s-%s", app->name, app->vsn) : app->name;
        read_mods(a, app);
        app->incl = app->pre = RELEASE_UNDEF;
        if (!strcmp(app->name, "erts"))
            r->erts = app;
    }
    if (!r->erts || !r->erts->dir)
        return kerr_set(KERR_INPUT, c->file, 0, 0,
                        "erts cannot be found in the root directory "
                        "'%s'",
                        c->root_dir);
    r->erts_vsn = r->erts->vsn;
    if (!*r->erts_vsn)
        log_warn("erts has no version");
    rc = 0;
done:
    free(found.p);
    return rc;
}

/* ---- analyse/3 ---- */

struct dep {
    const char *name;
    const char *by; /* the application that needs it */
    bool optional;
};

/* more_deps - build_more_apps: APP's applications (flagged optional or not), then INCLS */
static void more_deps(struct arena *a, const struct release_app *app, const char **incls,
                      size_t nincls, struct vec *out)
{
    for (size_t i = 0; i < app->napplications; i++) {
        struct dep *d = arena_alloc(a, sizeof *d);
        d->name = app->applications[i];
        d->by = app->name;
        d->optional = str_in(d->name, app->opt_apps, app->nopt_apps);
        vec_push(out, d);
    }
    for (size_t i = 0; i < nincls; i++) {
        struct dep *d = arena_alloc(a, sizeof *d);
        d->name = incls[i];
        d->by = app->name;
        vec_push(out, d);
    }
}

/* missing_add - note application NAME, needed by BY, as found nowhere (each once) */
static void missing_add(struct buf *miss, const char *name, const char *by)
{
    char key[512];
    snprintf(key, sizeof key, "'%s' (", name);
    if (strstr(buf_cstr(miss), key))
        return;
    buf_addf(miss, "%s'%s' (needed by %s)", miss->len ? ", " : "", name, by);
}

/* more_apps - more_apps_in_rels: add DEPS and their closure to ACC (names); applications
 * found nowhere go to MISS, so that all of them are reported at once */
static void more_apps(struct arena *a, const struct release *r, struct vec *deps, size_t from,
                      struct vec *acc, struct buf *miss)
{
    for (size_t i = from; i < deps->n; i++) {
        struct dep *d = deps->p[i];
        if (str_in(d->name, (const char *const *)acc->p, acc->n))
            continue;
        struct release_app *app = release_app_find(r, d->name);
        if (!app || !app->dir) {
            if (!d->optional)
                missing_add(miss, d->name, arena_sprintf(a, "'%s'", d->by));
            continue;
        }
        vec_push(acc, (void *)app->name);
        struct vec extra = {0};
        more_deps(a, app, app->incl_apps, app->nincl_apps, &extra);
        more_apps(a, r, &extra, 0, acc, miss);
        free(extra.p);
    }
}

/* rel_apps - apps_in_rel: the names of the applications REL needs (into ACC); -1 with
 * KERR_INPUT naming every application found nowhere and what needs it */
static int rel_apps(struct arena *a, const struct release *r, const struct cfg_rel *rel,
                    struct vec *acc)
{
    vec_push(acc, "kernel");
    vec_push(acc, "stdlib");
    for (size_t i = 0; i < rel->napps; i++)
        vec_push(acc, (void *)rel->apps[i].name);
    struct vec deps = {0};
    struct buf miss = BUF_INIT;
    for (size_t i = 0; i < rel->napps; i++) {
        const struct cfg_rel_app *ra = &rel->apps[i];
        struct release_app *app = release_app_find(r, ra->name);
        if (!app || !app->dir) {
            missing_add(&miss, ra->name, arena_sprintf(a, "release '%s'", rel->name));
            continue;
        }
        const char **incls = app->incl_apps;
        size_t nincls = app->nincl_apps;
        if (ra->incls)
            incls = atom_list(a, ra->incls, &nincls);
        struct vec more = {0};
        more_deps(a, app, incls, nincls, &more);
        for (size_t k = 0; k < more.n; k++)
            if (!str_in(((struct dep *)more.p[k])->name, (const char *const *)acc->p, acc->n))
                vec_push(&deps, more.p[k]);
        free(more.p);
    }
    more_apps(a, r, &deps, 0, acc, &miss);
    free(deps.p);
    int rc = 0;
    if (miss.len)
        rc = kerr_set(KERR_INPUT, r->cfg->file, (int)rel->line, 0,
                      "release '%s' uses applications that are in none of the searched "
                      "directories: %s; searched: %s",
                      rel->name, buf_cstr(&miss), searched(a, r->cfg));
    buf_free(&miss);
    return rc;
}

/* mark_mod - a module reached for the first time: its own incl_cond decides */
static void mark_mod(struct release_mod *m)
{
    if (m->incl_cond && !strcmp(m->incl_cond, "include")) {
        m->pre = m->incl = RELEASE_YES;
    } else if (m->incl_cond && !strcmp(m->incl_cond, "exclude")) {
        m->pre = m->incl = RELEASE_NO;
    } else {
        m->incl = RELEASE_YES;
    }
}

/* init_app - app_init_is_included: the app's and its modules' first state */
static int init_app(struct release *r, struct release_app *app, const char *rel_name,
                    struct buf *excluded)
{
    const char *ac = incl_cond_of(r, app), *mc = mod_cond_of(r, app);
    int def = RELEASE_UNDEF;
    if (!strcmp(ac, "include")) {
        app->pre = app->incl = RELEASE_YES;
    } else if (!strcmp(ac, "exclude")) {
        if (app->in_rels) {
            /* reported with every other one after the loop (SPEC "Never silent") */
            const char *by = NULL;
            for (size_t i = 0; i < r->napps && !by; i++)
                if (r->apps[i].in_rels &&
                    (str_in(app->name, r->apps[i].applications, r->apps[i].napplications) ||
                     str_in(app->name, r->apps[i].incl_apps, r->apps[i].nincl_apps)))
                    by = r->apps[i].name;
            buf_addf(excluded, "%s'%s' (needed by %s%s%s)", excluded->len ? ", " : "", app->name,
                     by ? "'" : "release '", by ? by : rel_name, "'");
        }
        app->pre = app->incl = RELEASE_NO;
    } else if (app->in_rels) {
        app->incl = RELEASE_YES;
        def = RELEASE_YES;
    }
    for (size_t i = 0; i < app->nmods; i++) {
        struct release_mod *m = &app->mods[i];
        int v;
        const char *mic = m->incl_cond;
        if (!strcmp(ac, "exclude")) {
            v = RELEASE_NO;
        } else if (mic && !strcmp(mic, "include")) {
            v = RELEASE_YES;
        } else if (mic && !strcmp(mic, "exclude")) {
            v = RELEASE_NO;
        } else if (mic) {
            v = RELEASE_UNDEF;
        } else if (!strcmp(ac, "derived")) {
            v = def;
        } else if (!strcmp(mc, "all")) {
            v = RELEASE_YES;
        } else if (!strcmp(mc, "app")) {
            v = m->is_app_mod ? RELEASE_YES : RELEASE_UNDEF;
        } else if (!strcmp(mc, "ebin")) {
            v = m->is_ebin_mod ? RELEASE_YES : RELEASE_UNDEF;
        } else if (!strcmp(mc, "derived")) {
            v = def;
        } else {
            v = RELEASE_NO;
        }
        m->pre = m->incl = v;
        struct release_mod **slot = tab_slot(r, m->name);
        struct release_mod *old = *slot;
        if (!old) {
            *slot = m;
        } else if (old->incl == RELEASE_NO) {
            log_verbose("module '%s' exists in applications '%s' and '%s'; using the one in '%s'",
                        m->name, old->app->name, app->name, app->name);
            *slot = m;
        } else if (v == RELEASE_NO) {
            log_verbose("module '%s' exists in applications '%s' and '%s'; using the one in '%s'",
                        m->name, old->app->name, app->name, old->app->name);
        } else {
            return kerr_set(KERR_INPUT, r->cfg->file, 0, 0,
                            "module '%s' potentially included by two different applications: "
                            "'%s' ('%s') and '%s' ('%s')",
                            m->name, old->app->name, old->app->dir, app->name, app->dir);
        }
    }
    return 0;
}

/* mark_app_mods - an application reached for the first time takes the modules its mod_cond
 * names; their calls are followed by the caller */
static void mark_app_mods(struct release *r, struct release_app *app, struct vec *work)
{
    const char *mc = mod_cond_of(r, app);
    for (size_t i = 0; i < app->nmods; i++) {
        struct release_mod *m = &app->mods[i];
        if (!mod_cond_takes(mc, m))
            continue;
        /* app_mark_is_included writes the app's own record into the table;
         * mod_mark_is_included (WORK given) marks whatever record the table holds */
        if (work)
            m = *tab_slot(r, m->name);
        if (m->incl != RELEASE_UNDEF)
            continue;
        mark_mod(m);
        *tab_slot(r, m->name) = m;
        if (m->incl == RELEASE_YES && work)
            vec_push(work, m);
    }
}

/* app_mark - app_mark_is_included: USED_BY needs the applications NAMES */
static int app_mark(struct release *r, const char *used_by, const char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct release_app *app = release_app_find(r, names[i]);
        if (!app)
            return kerr_set(KERR_INPUT, r->cfg->file, 0, 0,
                            "application '%s' uses application '%s', which is in none of the "
                            "searched directories",
                            used_by, names[i]);
        if (app->incl != RELEASE_UNDEF)
            continue;
        const char *ic = app->cfg ? app->cfg->incl_cond : NULL;
        if (ic && !strcmp(ic, "include"))
            app->pre = app->incl = RELEASE_YES;
        else if (ic && !strcmp(ic, "exclude"))
            app->pre = app->incl = RELEASE_NO;
        else
            app->incl = RELEASE_YES;
        mark_app_mods(r, app, NULL);
        if (app_mark(r, app->name, app->applications, app->napplications) != 0 ||
            app_mark(r, app->name, app->incl_apps, app->nincl_apps) != 0)
            return -1;
    }
    return 0;
}

/* The beams of the modules included so far, read (and their calls found) side by side. */
struct uses_queue {
    struct release_mod **m;
    size_t n, next;
    pthread_mutex_t mu;
};

static void *uses_worker(void *arg)
{
    struct uses_queue *q = arg;
    struct arena own; /* adopted by the release's arena when all are done */
    arena_init(&own);
    struct arena *mine = xmalloc(sizeof *mine);
    for (;;) {
        pthread_mutex_lock(&q->mu);
        size_t from = q->next, to = from + 64 < q->n ? from + 64 : q->n;
        q->next = to;
        pthread_mutex_unlock(&q->mu);
        if (from >= to)
            break;
        for (size_t k = from; k < to; k++)
            mod_uses(&own, q->m[k]);
    }
    *mine = own;
    return mine;
}

/* prefetch_uses - mod_uses of the N modules M on the machine's cores: reading thousands of
 * beams is most of the analysis */
static void prefetch_uses(struct arena *a, struct release_mod **m, size_t n)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cpus > 1 ? (size_t)(cpus > 8 ? 8 : cpus) : 1;
    if (n < 256 || nt < 2)
        return; /* mod_uses reads them as they come */
    struct uses_queue q = {m, n, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t th[8];
    size_t started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, uses_worker, &q) != 0)
            break;
    for (size_t k = 0; k < started; k++) {
        void *res = NULL;
        pthread_join(th[k], &res);
        if (res) {
            arena_adopt(a, res);
            free(res);
        }
    }
    pthread_mutex_destroy(&q.mu);
}

/* propagate_mods - mod_propagate_is_included: follow the calls of every included module */
static void propagate_mods(struct arena *a, struct release *r)
{
    struct vec work = {0}, missing = {0};
    for (size_t i = 0; i < r->mod_tab_size; i++)
        if (r->mod_tab[i] && r->mod_tab[i]->incl == RELEASE_YES)
            vec_push(&work, r->mod_tab[i]);
    prefetch_uses(a, (struct release_mod **)work.p, work.n);
    while (work.n > 0) {
        struct release_mod *m = work.p[--work.n];
        mod_uses(a, m);
        if (m->uses_unread) {
            log_warn("%s: cannot read the calls of module '%s'; taken as calling nothing",
                     m->uses_unread, m->name);
            m->uses_unread = NULL;
        }
        for (size_t i = 0; i < m->nuses; i++) {
            struct release_mod *u = *tab_slot(r, m->uses[i]);
            if (!u) {
                if (!str_in(m->uses[i], (const char *const *)missing.p, missing.n))
                    vec_push(&missing, (void *)m->uses[i]);
                continue;
            }
            if (u->incl != RELEASE_UNDEF)
                continue;
            mark_mod(u);
            if (u->incl == RELEASE_YES)
                vec_push(&work, u);
            if (u->app->incl == RELEASE_UNDEF) {
                u->app->incl = RELEASE_YES;
                mark_app_mods(r, u->app, &work);
            }
        }
    }
    r->missing_mods = arena_alloc(a, (missing.n + 1) * sizeof *r->missing_mods);
    for (size_t i = 0; i < missing.n; i++)
        r->missing_mods[r->nmissing_mods++] = missing.p[i];
    if (missing.n)
        log_verbose("%zu called modules are in no application (reltool's *MISSING*)", missing.n);
    free(work.p);
    free(missing.p);
}

int release_analyse(struct arena *a, const struct cfg *cfg, struct release *r)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    if (build_apps(a, r) != 0)
        return -1;
    size_t nmods = 0;
    for (size_t i = 0; i < r->napps; i++)
        nmods += r->apps[i].nmods;
    r->mod_tab_size = 64;
    while (r->mod_tab_size < nmods * 2)
        r->mod_tab_size *= 2;
    r->mod_tab = arena_alloc(a, r->mod_tab_size * sizeof *r->mod_tab);

    /* apps_in_rels: which release needs which application */
    const char **first_rel = arena_alloc(a, (r->napps + 1) * sizeof *first_rel);
    struct vec *per_rel = arena_alloc(a, (cfg->nrels + 1) * sizeof *per_rel);
    for (size_t k = 0; k < cfg->nrels; k++) {
        if (rel_apps(a, r, &cfg->rels[k], &per_rel[k]) != 0)
            goto fail;
        for (size_t j = 0; j < per_rel[k].n; j++) {
            struct release_app *app = release_app_find(r, per_rel[k].p[j]);
            if (app && !app->in_rels) {
                app->in_rels = true;
                first_rel[app - r->apps] = cfg->rels[k].name;
            }
        }
    }
    struct buf excluded = BUF_INIT;
    int bad = 0;
    for (size_t i = 0; i < r->napps && !bad; i++)
        bad = init_app(r, &r->apps[i], first_rel[i], &excluded);
    if (!bad && excluded.len)
        bad = kerr_set(KERR_INPUT, cfg->file, 0, 0,
                       "applications used in a release cannot be excluded: %s; include them "
                       "({app, Name, [{incl_cond, include}]}) or change incl_cond",
                       buf_cstr(&excluded));
    buf_free(&excluded);
    if (bad)
        goto fail;
    for (size_t i = 0; i < r->napps; i++) {
        struct release_app *app = &r->apps[i];
        if (app->incl == RELEASE_YES && !app->in_rels &&
            (app_mark(r, app->name, app->applications, app->napplications) != 0 ||
             app_mark(r, app->name, app->incl_apps, app->nincl_apps) != 0))
            goto fail;
    }
    propagate_mods(a, r);
    /* app_recap_dependencies: an application with an included module is included */
    for (size_t i = 0; i < r->napps; i++) {
        struct release_app *app = &r->apps[i];
        for (size_t k = 0; k < app->nmods; k++)
            if (*tab_slot(r, app->mods[k].name) == &app->mods[k] &&
                app->mods[k].incl == RELEASE_YES)
                app->incl = RELEASE_YES;
    }
    /* verify_config: every application a release uses is included */
    struct buf unsel = BUF_INIT;
    int line = 0;
    for (size_t k = 0; k < cfg->nrels; k++)
        for (size_t j = 0; j < per_rel[k].n; j++) {
            struct release_app *app = release_app_find(r, per_rel[k].p[j]);
            if (app && app->dir && !release_app_selected(app)) {
                buf_addf(&unsel, "%s'%s' (used by release '%s')", unsel.len ? ", " : "",
                         app->name, cfg->rels[k].name);
                line = line ? line : (int)cfg->rels[k].line;
            }
        }
    if (unsel.len) {
        kerr_set(KERR_INPUT, cfg->file, line, 0, "applications not included: %s",
                 buf_cstr(&unsel));
        buf_free(&unsel);
        goto fail;
    }
    for (size_t k = 0; k < cfg->nrels; k++)
        free(per_rel[k].p);
    return 0;
fail:
    for (size_t k = 0; k < cfg->nrels; k++)
        free(per_rel[k].p);
    return -1;
}

/* ---- the .rel: reltool_target merge_apps, sort_used_and_incl_apps, sort_apps ---- */

struct merged {
    struct release_app *app;
    const char *type;
    const char **uses, **incls; /* sorted into merge order */
    size_t nuses, nincls;
    bool rel_incls; /* the rel gave the included applications */
};

struct merge {
    struct arena *a;
    const struct release *r;
    const struct cfg_rel *rel;
    struct vec acc; /* struct merged *, newest first as reltool's Acc */
};

struct todo {
    const char *name;
    const struct cfg_rel_app *ra; /* NULL for a plain name */
};

static bool already_merged(struct merge *mg, const char *name, struct todo *rest, size_t nrest)
{
    for (size_t i = 0; i < nrest; i++)
        if (!strcmp(rest[i].name, name))
            return true;
    for (size_t i = 0; i < mg->acc.n; i++)
        if (!strcmp(((struct merged *)mg->acc.p[i])->app->name, name))
            return true;
    return false;
}

/* merge_list - do_merge_apps over the work list TODO (consumed from the front) */
static int merge_list(struct merge *mg, struct todo *todo, size_t n, const char *type)
{
    if (n == 0)
        return 0;
    struct todo *t = &todo[0];
    if (already_merged(mg, t->name, todo + 1, n - 1))
        return merge_list(mg, todo + 1, n - 1, type);
    struct release_app *app = release_app_find(mg->r, t->name);
    if (!app || !app->dir)
        return kerr_set(KERR_INPUT, mg->r->cfg->file, (int)mg->rel->line, 0,
                        "release '%s' needs application '%s', which is in none of the searched "
                        "directories",
                        mg->rel->name, t->name);
    struct merged *m = arena_alloc(mg->a, sizeof *m);
    m->app = app;
    m->type = t->ra && t->ra->type ? t->ra->type : type;
    m->incls = app->incl_apps;
    m->nincls = app->nincl_apps;
    if (t->ra && t->ra->incls) {
        m->rel_incls = true;
        m->incls = atom_list(mg->a, t->ra->incls, &m->nincls);
        for (size_t i = 0; i < m->nincls; i++)
            if (!str_in(m->incls[i], app->incl_apps, app->nincl_apps))
                return kerr_set(KERR_INPUT, mg->r->cfg->file, (int)mg->rel->line, 0,
                                "application '%s': release '%s' includes '%s', which its app "
                                "file does not list in included_applications",
                                app->name, mg->rel->name, m->incls[i]);
    }
    m->uses = app->applications;
    m->nuses = app->napplications;
    vec_push(&mg->acc, m);
    /* ReqNames ++ IncNames ++ RelApps */
    size_t cap = app->napplications + m->nincls + n;
    struct todo *next = xmalloc((cap ? cap : 1) * sizeof *next);
    size_t k = 0;
    for (size_t i = 0; i < app->napplications; i++)
        if (!str_in(app->applications[i], app->opt_apps, app->nopt_apps) &&
            release_app_find(mg->r, app->applications[i]))
            next[k++] = (struct todo){app->applications[i], NULL};
    for (size_t i = 0; i < m->nincls; i++)
        next[k++] = (struct todo){m->incls[i], NULL};
    for (size_t i = 1; i < n; i++)
        next[k++] = todo[i];
    int rc = merge_list(mg, next, k, type);
    free(next);
    return rc;
}

/* sort_by_pos - sort_appl_list: NAMES in the order of ORDER; names not there go last */
static const char **sort_by_pos(struct arena *a, const char **names, size_t n, struct vec *order)
{
    if (n <= 1)
        return names;
    const char **out = arena_alloc(a, n * sizeof *out);
    size_t k = 0;
    for (size_t p = 0; p < order->n; p++)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(names[i], ((struct merged *)order->p[p])->app->name))
                out[k++] = names[i];
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t p = 0; p < order->n && !found; p++)
            found = !strcmp(names[i], ((struct merged *)order->p[p])->app->name);
        if (!found)
            out[k++] = names[i];
    }
    return out;
}

static struct merged *take(struct vec *apps, const char *name)
{
    for (size_t i = 0; i < apps->n; i++) {
        struct merged *m = apps->p[i];
        if (!strcmp(m->app->name, name)) {
            memmove(&apps->p[i], &apps->p[i + 1], (apps->n - i - 1) * sizeof *apps->p);
            apps->n--;
            return m;
        }
    }
    return NULL;
}

/* find_all - the applications among NAMES (walked backwards, as reltool reverses them)
 * still in APPS and not including CHECKING: taken out of APPS into FOUND (in NAMES order);
 * the others not yet visited go to NOTFOUND */
static void find_all(const char *checking, const char **names, size_t n, struct vec *apps,
                     struct vec *visited, struct vec *found, struct vec *notfound)
{
    size_t first = found->n;
    for (size_t j = n; j-- > 0;) {
        const char *name = names[j];
        struct merged *m = NULL;
        for (size_t i = 0; i < apps->n && !m; i++)
            if (!strcmp(((struct merged *)apps->p[i])->app->name, name))
                m = apps->p[i];
        bool seen = str_in(name, (const char *const *)visited->p, visited->n);
        if (m && !str_in(checking, m->incls, m->nincls)) {
            take(apps, name);
            vec_push(found, m);
        } else if (!seen) {
            vec_push(notfound, (void *)name);
        }
    }
    /* found was pushed walking backwards: reltool prepends, giving NAMES order */
    for (size_t i = first, k = found->n; i < first + (k - first) / 2; i++) {
        void *t = found->p[i];
        found->p[i] = found->p[k - 1 - (i - first)];
        found->p[k - 1 - (i - first)] = t;
    }
}

/* sort_apps - start order (Ulf Wiger's algorithm as systools and reltool have it) */
static int sort_apps(const struct release *r, const struct cfg_rel *rel, struct vec *apps,
                     struct vec *out)
{
    struct vec visited = {0}, missing = {0}, circular = {0};
    int rc = 0;
    while (apps->n > 0) {
        struct merged *m = apps->p[0];
        memmove(&apps->p[0], &apps->p[1], (apps->n - 1) * sizeof *apps->p);
        apps->n--;
        struct vec uses = {0}, nf1 = {0}, nf2 = {0};
        find_all(m->app->name, m->uses, m->nuses, apps, &visited, &uses, &nf1);
        find_all(m->app->name, m->incls, m->nincls, apps, &visited, &uses, &nf2);
        for (size_t i = 0; i < nf1.n; i++)
            if (!str_in(nf1.p[i], m->app->opt_apps, m->app->nopt_apps))
                vec_push(&missing, nf1.p[i]);
        for (size_t i = 0; i < nf2.n; i++)
            vec_push(&missing, nf2.p[i]);
        if (uses.n == 0) {
            vec_push(out, m);
        } else {
            bool circ = false;
            for (size_t i = 0; i < uses.n; i++) {
                const char *nm = ((struct merged *)uses.p[i])->app->name;
                if (str_in(nm, (const char *const *)visited.p, visited.n)) {
                    vec_push(&circular, (void *)nm);
                    circ = true;
                }
            }
            if (circ)
                vec_push(&circular, (void *)m->app->name);
            /* L ++ [App | Apps2], circular ones left out */
            struct vec next = {0};
            for (size_t i = 0; i < uses.n; i++)
                if (!str_in(((struct merged *)uses.p[i])->app->name, (const char *const *)visited.p,
                            visited.n))
                    vec_push(&next, uses.p[i]);
            vec_push(&next, m);
            for (size_t i = 0; i < apps->n; i++)
                vec_push(&next, apps->p[i]);
            free(apps->p);
            *apps = next;
            /* the app itself goes back too, once its dependencies are placed */
        }
        vec_push(&visited, (void *)m->app->name);
        free(uses.p);
        free(nf1.p);
        free(nf2.p);
    }
    if (missing.n || circular.n) {
        char buf[1024] = "";
        struct vec *v = circular.n ? &circular : &missing;
        for (size_t i = 0; i < v->n; i++)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s'%s'", i ? ", " : "",
                     (const char *)v->p[i]);
        rc = kerr_set(
            KERR_INPUT, r->cfg->file, (int)rel->line, 0, "release '%s': %s: %s", rel->name,
            circular.n ? "circular dependencies between applications" : "undefined applications",
            buf);
    }
    free(visited.p);
    free(missing.p);
    free(circular.p);
    return rc;
}

static const struct term *atoms_term(struct arena *a, const char **names, size_t n)
{
    const struct term **el = arena_alloc(a, (n ? n : 1) * sizeof *el);
    for (size_t i = 0; i < n; i++)
        el[i] = term_atomz(a, names[i]);
    return term_list(a, el, n, term_nil());
}

const struct term *release_rel_term(struct arena *a, const struct release *r,
                                    const struct cfg_rel *rel)
{
    struct merge mg = {a, r, rel, {0}};
    const struct term *result = NULL;
    struct vec sorted = {0}, work = {0};
    struct todo mand[2] = {{"kernel", NULL}, {"stdlib", NULL}};
    if (merge_list(&mg, mand, 2, "permanent") != 0)
        goto done;
    struct todo *ras = xmalloc((rel->napps + 1) * sizeof *ras);
    for (size_t i = 0; i < rel->napps; i++)
        ras[i] = (struct todo){rel->apps[i].name, &rel->apps[i]};
    int rc = merge_list(&mg, ras, rel->napps, "permanent");
    free(ras);
    if (rc != 0)
        goto done;
    /* the embedded profile loads every other included application */
    if (!strcmp(r->cfg->profile, "embedded")) {
        struct todo *emb = xmalloc((r->napps + 1) * sizeof *emb);
        size_t k = 0;
        for (size_t i = 0; i < r->napps; i++) {
            const struct release_app *app = &r->apps[i];
            bool merged = false;
            for (size_t j = 0; j < mg.acc.n && !merged; j++)
                merged = ((struct merged *)mg.acc.p[j])->app == app;
            if (app->incl == RELEASE_YES && strcmp(app->name, "erts") != 0 && !merged)
                emb[k++] = (struct todo){app->name, NULL};
        }
        rc = merge_list(&mg, emb, k, "load");
        free(emb);
        if (rc != 0)
            goto done;
    }
    /* mg.acc is already in merge order (reltool's lists:reverse of its Acc) */
    for (size_t i = 0; i < mg.acc.n; i++) {
        struct merged *m = mg.acc.p[i];
        m->uses = sort_by_pos(a, m->uses, m->nuses, &mg.acc);
        m->incls = sort_by_pos(a, m->incls, m->nincls, &mg.acc);
        vec_push(&work, m);
    }
    if (sort_apps(r, rel, &work, &sorted) != 0)
        goto done;
    const struct term **el = arena_alloc(a, (sorted.n + 1) * sizeof *el);
    for (size_t i = 0; i < sorted.n; i++) {
        struct merged *m = sorted.p[i];
        const struct term *name = term_atomz(a, m->app->name);
        const struct term *vsn = term_stringz(a, m->app->vsn);
        bool perm = !strcmp(m->type, "permanent");
        const struct term *incls = atoms_term(a, m->incls, m->nincls);
        const struct term *type = term_atomz(a, m->type);
        if (perm && !m->rel_incls)
            el[i] = term_tuplev(a, 2, name, vsn);
        else if (perm)
            el[i] = term_tuplev(a, 3, name, vsn, incls);
        else if (!m->rel_incls)
            el[i] = term_tuplev(a, 3, name, vsn, type);
        else
            el[i] = term_tuplev(a, 4, name, vsn, type, incls);
    }
    result = term_tuplev(a, 4, term_atomz(a, "release"),
                         term_tuplev(a, 2, term_stringz(a, rel->name), term_stringz(a, rel->vsn)),
                         term_tuplev(a, 2, term_atomz(a, "erts"), term_stringz(a, r->erts_vsn)),
                         term_list(a, el, sorted.n, term_nil()));
done:
    free(mg.acc.p);
    free(work.p);
    free(sorted.p);
    return result;
}
