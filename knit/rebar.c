/* rebar.c - rebar3 projects: rebar.config's {relx, [...]} (with profile overrides) read as
 * relx reads it and translated into knit's config model, so the rest of the pipeline is the
 * one a reltool.config feeds */
#include "rebar.h"

#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "relfile.h"
#include "term_parse.h"
#include "term_print.h"
#include "vsn.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *rebar_profile;

void rebar_set_profile(const char *profile)
{
    rebar_profile = profile;
}

bool rebar_is_config(const char *path)
{
    const char *slash = strrchr(path, '/');
    return !strcmp(slash ? slash + 1 : path, "rebar.config");
}

/* sh - run CMD in DIR and return its whole output (stdout and stderr, as relx's rlx_util:sh
 * takes them), or NULL when it cannot run or exits non-zero */
static char *sh(struct arena *a, const char *cmd, const char *dir)
{
    char *line = arena_sprintf(a, "cd '%s' && ( %s ) 2>&1", dir, cmd);
    FILE *p = popen(line, "r");
    if (!p)
        return NULL;
    size_t cap = 256, n = 0;
    char *out = xmalloc(cap);
    size_t got;
    while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap)
            out = xrealloc(out, cap *= 2);
    }
    out[n] = 0;
    int status = pclose(p);
    char *r = status == 0 ? arena_strdup(a, out) : NULL;
    free(out);
    return r;
}

/* strip - S without the characters of SET at its ends (LEAD/TRAIL say which ends) */
static char *strip(struct arena *a, const char *s, const char *set, bool lead, bool trail)
{
    while (lead && *s && strchr(set, *s))
        s++;
    size_t n = strlen(s);
    while (trail && n > 0 && strchr(set, s[n - 1]))
        n--;
    return arena_memdup(a, s, n);
}

/* no_space - S without any whitespace (relx's re:replace(S, "\\s", "", [global])) */
static char *no_space(struct arena *a, const char *s)
{
    char *o = arena_alloc(a, strlen(s) + 1);
    size_t n = 0;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            o[n++] = *s;
    o[n] = 0;
    return o;
}

static const char *fallback(const char *what, const char *dir)
{
    log_warn("release version %s failed in '%s': using \"0.0.0\", as relx does", what, dir);
    return "0.0.0";
}

/* git_tag_vsn - relx's semver version: TAG, or TAG+build.COUNT.refREF past the tag */
static const char *git_tag_vsn(struct arena *a, const char *dir)
{
    const char *ref = sh(a, "git log -n 1 --pretty=format:'%h\n'", dir);
    const char *tag = ref ? sh(a, "git describe --abbrev=0 --tags", dir) : NULL;
    if (!tag)
        return fallback("from git tags", dir);
    const char *vsn = strip(a, strip(a, tag, "v", true, false), "\n", false, true);
    const char *count =
        sh(a, arena_sprintf(a, "git rev-list --count %s..HEAD", no_space(a, tag)), dir);
    if (!count)
        return fallback("from git tags", dir);
    char *digits = arena_alloc(a, strlen(count) + 1);
    size_t n = 0;
    for (const char *s = count; *s; s++)
        if (isdigit((unsigned char)*s))
            digits[n++] = *s;
    digits[n] = 0;
    if (!strcmp(digits, "0"))
        return vsn;
    return arena_sprintf(a, "%s+build.%s.ref%s", vsn, digits, no_space(a, ref));
}

const char *rebar_resolve_vsn(struct arena *a, const struct term *t, const char *dir)
{
    if (t->type != TERM_ATOM && t->type != TERM_TUPLE) {
        const char *s = term_text(a, t);
        if (s && (strcmp(s, "git") != 0 && strcmp(s, "semver") != 0))
            return s;
        if (!s)
            return NULL;
        return git_tag_vsn(a, dir);
    }
    if (term_is_atom(t, "git") || term_is_atom(t, "semver") || term_is_tagged(t, "semver", 2))
        return git_tag_vsn(a, dir);
    if (term_is_tagged(t, "git", 2) &&
        (term_is_atom(t->u.tuple.el[1], "short") || term_is_atom(t->u.tuple.el[1], "long"))) {
        bool shrt = term_is_atom(t->u.tuple.el[1], "short");
        const char *out = sh(a, shrt ? "git rev-parse --short HEAD" : "git rev-parse  HEAD", dir);
        const char *v = out ? strip(a, out, "\n", true, true) : NULL;
        if (!v)
            return fallback(shrt ? "{git, short}" : "{git, long}", dir);
        /* relx accepts only the lengths of a full and of a default short hash */
        if (strlen(v) != 40 && strlen(v) != 7) {
            log_warn("getting the ref of the git repository in '%s' failed: using \"0.0.0\", as "
                     "relx does",
                     dir);
            return "0.0.0";
        }
        return v;
    }
    if (term_is_tagged(t, "cmd", 2)) {
        const char *cmd = term_text(a, t->u.tuple.el[1]);
        if (!cmd)
            return NULL;
        const char *out = sh(a, cmd, dir);
        if (!out)
            return fallback(arena_sprintf(a, "command '%s'", cmd), dir);
        /* relx keeps the output as it is, final newline included, which no release
         * directory survives; knit drops the surrounding whitespace */
        return strip(a, out, " \t\r\n", true, true);
    }
    if (term_is_tagged(t, "file", 2)) {
        const char *f = term_text(a, t->u.tuple.el[1]);
        if (!f)
            return NULL;
        const char *path = f[0] == '/' ? f : arena_sprintf(a, "%s/%s", dir, f);
        size_t len;
        FILE *fp = fopen(path, "r");
        if (!fp)
            return fallback(arena_sprintf(a, "from file '%s'", f), dir);
        char buf[4096];
        len = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[len] = 0;
        return strip(a, buf, "\n", true, true);
    }
    return NULL;
}

/* ---- the relx section ---- */

struct rx {
    struct arena *a;
    const char *file, *dir;
    struct cfg *c;
    const char *profile;
    struct term_vec opts; /* the merged relx options, in order */
    struct term_vec rels; /* {release, ...} entries */
    struct term_vec overlays;
    const struct term *default_rel; /* the value of default_release, or NULL */
    const char *sys_config, *sys_config_src, *vm_args, *vm_args_src; /* absolute */
    bool include_src;
    const struct term *lib_dirs;
};

static int bad(struct rx *x, const struct term *at, const char *opt, const char *expected)
{
    return kerr_set(KERR_INPUT, x->file, at ? (int)at->line : 0, 0,
                    "relx option '%s' must be %s, not %s", opt, expected, term_show(x->a, at, 200));
}

static const char *key_of(const struct term *o)
{
    if (o->type == TERM_TUPLE && o->u.tuple.n >= 1 && o->u.tuple.el[0]->type == TERM_ATOM)
        return o->u.tuple.el[0]->u.atom.name;
    return NULL;
}

/* merge - rebar3's merge of a profile's relx options over the base ones: releases and
 * overlays accumulate, any other option of the profile replaces the base's */
static void merge(struct rx *x, const struct term *base, const struct term *prof)
{
    size_t nb, np;
    const struct term *const *b = term_list_els(base, &nb);
    const struct term *const *p = prof ? term_list_els(prof, &np) : NULL;
    if (!prof)
        np = 0;
    for (size_t i = 0; i < nb; i++) {
        const char *k = key_of(b[i]);
        bool replaced = false;
        for (size_t j = 0; k && j < np && strcmp(k, "release") && strcmp(k, "overlay"); j++) {
            const char *pk = key_of(p[j]);
            replaced = replaced || (pk && !strcmp(pk, k));
        }
        if (!replaced)
            term_vec_add(x->a, &x->opts, b[i]);
    }
    for (size_t j = 0; j < np; j++)
        term_vec_add(x->a, &x->opts, p[j]);
}

static const char *abs_of(struct rx *x, const char *p)
{
    return p[0] == '/' ? p : arena_sprintf(x->a, "%s/%s", x->dir, p);
}

/* path_opt - sys_config & co.: a file name, or false / undefined for none */
static int path_opt(struct rx *x, const struct term *o, const char *k, const char **out)
{
    const struct term *v = o->u.tuple.el[1];
    if (term_is_atom(v, "false") || term_is_atom(v, "undefined")) {
        *out = NULL;
        return 0;
    }
    const char *s = v->type == TERM_ATOM ? NULL : term_text(x->a, v);
    if (!s || !*s)
        return bad(x, o, k, "a file name or false");
    *out = abs_of(x, s);
    if (access(*out, R_OK) != 0)
        return kerr_set(KERR_INPUT, x->file, (int)o->line, 0,
                        "relx option '%s' names '%s', which cannot be read", k, s);
    return 0;
}

static int get_bool(struct rx *x, const struct term *o, const char *k, bool *out)
{
    const struct term *v = o->u.tuple.el[1];
    if (term_is_atom(v, "true") || term_is_atom(v, "false")) {
        *out = term_is_atom(v, "true");
        return 0;
    }
    return bad(x, o, k, "true or false");
}

static void set_mode(struct rx *x, const char *mode)
{
    bool dev = !strcmp(mode, "dev"), prod = !strcmp(mode, "prod");
    x->include_src = dev;
    x->c->include_erts = prod;
    x->c->debug_info = dev ? "keep" : "strip";
}

static const char *const supported[] = {"release",
                                        "default_release",
                                        "sys_config",
                                        "sys_config_src",
                                        "vm_args",
                                        "vm_args_src",
                                        "include_erts",
                                        "include_src",
                                        "overlay",
                                        "overlay_vars",
                                        "extended_start_script",
                                        "mode",
                                        "dev_mode",
                                        "debug_info",
                                        "lib_dirs",
                                        NULL};

static int one_option(struct rx *x, const struct term *o)
{
    const char *k = key_of(o);
    if (!k) {
        log_warn("%s:%u: relx term %s is not an option; ignored", x->file, o->line,
                 term_show(x->a, o, 200));
        return 0;
    }
    bool known = false;
    for (size_t i = 0; supported[i]; i++)
        known = known || !strcmp(supported[i], k);
    if (!known) {
        log_warn("%s:%u: relx option '%s' is not supported by knit; ignored", x->file, o->line, k);
        return 0;
    }
    if (!strcmp(k, "release")) {
        term_vec_add(x->a, &x->rels, o);
        return 0;
    }
    if (!strcmp(k, "overlay")) {
        if (!term_is_tuple(o, 2) || !term_is_list(o->u.tuple.el[1]))
            return bad(x, o, k, "a list of overlay instructions");
        size_t n;
        const struct term *const *el = term_list_els(o->u.tuple.el[1], &n);
        for (size_t i = 0; i < n; i++)
            term_vec_add(x->a, &x->overlays, el[i]);
        return 0;
    }
    if (!strcmp(k, "default_release")) {
        x->default_rel = o;
        return 0;
    }
    if (!term_is_tuple(o, 2))
        return bad(x, o, k, "{Key, Value}");
    const struct term *v = o->u.tuple.el[1];
    if (!strcmp(k, "sys_config"))
        return path_opt(x, o, k, &x->sys_config);
    if (!strcmp(k, "sys_config_src"))
        return path_opt(x, o, k, &x->sys_config_src);
    if (!strcmp(k, "vm_args"))
        return path_opt(x, o, k, &x->vm_args);
    if (!strcmp(k, "vm_args_src"))
        return path_opt(x, o, k, &x->vm_args_src);
    if (!strcmp(k, "include_src"))
        return get_bool(x, o, k, &x->include_src);
    if (!strcmp(k, "extended_start_script")) {
        bool b;
        if (get_bool(x, o, k, &b) != 0)
            return -1;
        if (!b)
            log_warn("%s:%u: {extended_start_script, false}: knit's bin/NAME is always the "
                     "extended script",
                     x->file, o->line);
        return 0;
    }
    if (!strcmp(k, "dev_mode")) {
        bool b;
        if (get_bool(x, o, k, &b) != 0)
            return -1;
        if (b) {
            /* relx: dev_mode true is mode dev (sources in, ERTS out), then symlinks,
             * which knit never makes: a release tarball cannot point into _build */
            set_mode(x, "dev");
            log_verbose("%s:%u: dev_mode: knit copies the applications", x->file, o->line);
        }
        return 0;
    }
    if (!strcmp(k, "mode")) {
        if (!term_is_atom(v, "dev") && !term_is_atom(v, "prod") && !term_is_atom(v, "minimal"))
            return bad(x, o, k, "dev, prod or minimal");
        set_mode(x, v->u.atom.name);
        return 0;
    }
    if (!strcmp(k, "debug_info")) {
        if (!term_is_atom(v, "keep") && !term_is_atom(v, "strip"))
            return bad(x, o, k, "keep or strip");
        x->c->debug_info = v->u.atom.name;
        return 0;
    }
    if (!strcmp(k, "include_erts")) {
        if (term_is_atom(v, "true") || term_is_atom(v, "false")) {
            x->c->include_erts = term_is_atom(v, "true");
            return 0;
        }
        const char *s = v->type == TERM_ATOM ? NULL : term_text(x->a, v);
        if (!s || !*s)
            return bad(x, o, k, "true, false or the OTP installation to take ERTS from");
        x->c->include_erts = true;
        x->c->root_dir = abs_of(x, s);
        return 0;
    }
    if (!strcmp(k, "overlay_vars")) {
        const char *one = v->type == TERM_ATOM ? NULL : term_text(x->a, v);
        if (one && *one) {
            x->c->overlay_vars = term_stringz(x->a, abs_of(x, one));
            return 0;
        }
        size_t n;
        const struct term *const *el = term_list_els(v, &n);
        if (!term_is_list(v))
            return bad(x, o, k, "a file name or a list of file names");
        const struct term **files = arena_alloc(x->a, (n ? n : 1) * sizeof *files);
        for (size_t i = 0; i < n; i++) {
            const char *f = el[i]->type == TERM_ATOM ? NULL : term_text(x->a, el[i]);
            if (!f || !*f)
                return bad(x, o, k, "a file name or a list of file names");
            files[i] = term_stringz(x->a, abs_of(x, f));
        }
        x->c->overlay_vars = term_list(x->a, files, n, term_nil());
        return 0;
    }
    if (!strcmp(k, "lib_dirs")) {
        if (!term_is_list(v))
            return bad(x, o, k, "a list of directories");
        x->lib_dirs = v;
        return 0;
    }
    return 0;
}

/* rel_name_vsn - the Name and (unresolved) Vsn of a {release, {Name, Vsn}, Apps} entry */
static int rel_head(struct rx *x, const struct term *o, const char **name, const struct term **vt,
                    const struct term **apps)
{
    if (!(term_is_tuple(o, 3) || term_is_tuple(o, 4)))
        return bad(x, o, "release", "{release, {Name, Vsn}, [App]}");
    const struct term *h = o->u.tuple.el[1];
    if (term_is_tuple(h, 3))
        return kerr_set(KERR_UNSUPPORTED, x->file, (int)o->line, 0,
                        "relx release %s: extended releases ({Name, Vsn, {extend, ...}}) are "
                        "not supported by knit",
                        term_show(x->a, h, 100));
    if (term_is_tuple(o, 4) && term_is_tagged(o->u.tuple.el[2], "erts", 2))
        return kerr_set(KERR_UNSUPPORTED, x->file, (int)o->line, 0,
                        "relx release with {erts, Vsn} is not supported by knit");
    if (!term_is_tuple(h, 2) || h->u.tuple.el[0]->type != TERM_ATOM ||
        !term_is_list(o->u.tuple.el[2]))
        return bad(x, o, "release", "{release, {Name, Vsn}, [App]}");
    *name = h->u.tuple.el[0]->u.atom.name;
    *vt = h->u.tuple.el[1];
    *apps = o->u.tuple.el[2];
    if (term_is_tuple(o, 4))
        log_warn("%s:%u: the per-release options of release '%s' are not supported by knit; "
                 "ignored",
                 x->file, o->line, *name);
    return 0;
}

/* app_file - the .app file of APP in the lib dirs or the OTP installation, or NULL */
static const char *app_file(struct rx *x, const char *app)
{
    const char *dirs[64];
    size_t nd = 0;
    for (size_t i = 0; i < x->c->nlib_dirs && nd < 63; i++)
        dirs[nd++] = x->c->lib_dirs[i];
    if (x->c->root_dir)
        dirs[nd++] = arena_sprintf(x->a, "%s/lib", x->c->root_dir);
    for (size_t i = 0; i < nd; i++) {
        const char *f = arena_sprintf(x->a, "%s/%s/ebin/%s.app", dirs[i], app, app);
        if (access(f, R_OK) == 0)
            return f;
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *e;
        size_t n = strlen(app);
        f = NULL;
        while (!f && (e = readdir(d))) {
            const char *g = arena_sprintf(x->a, "%s/%s/ebin/%s.app", dirs[i], e->d_name, app);
            if (!strncmp(e->d_name, app, n) && e->d_name[n] == '-' && access(g, R_OK) == 0)
                f = g;
        }
        closedir(d);
        if (f)
            return f;
    }
    return NULL;
}

/* include_app - APP and the applications its .app needs, each as {app, A, [{incl_cond,
 * include}]} (relx packs the release's applications and their dependencies, nothing else) */
static void include_app(struct rx *x, const char *app)
{
    struct cfg *c = x->c;
    for (size_t i = 0; i < c->napps; i++)
        if (!strcmp(c->apps[i].name, app)) {
            c->apps[i].incl_cond = "include";
            return;
        }
    struct cfg_app *v = arena_alloc(x->a, (c->napps + 1) * sizeof *v);
    if (c->napps)
        memcpy(v, c->apps, c->napps * sizeof *v);
    memset(&v[c->napps], 0, sizeof *v);
    v[c->napps].name = app;
    v[c->napps].incl_cond = "include";
    c->apps = v;
    c->napps++;
    const char *f = app_file(x, app);
    const struct term *t = f ? term_consult_file(x->a, f) : NULL;
    if (!t || t->type == TERM_NIL || !term_is_tuple(t->u.list.el[0], 3)) {
        kerr_clear();
        return; /* release.c reports a missing or broken .app */
    }
    const struct term *props = t->u.list.el[0]->u.tuple.el[2];
    static const char *const keys[] = {"applications", "included_applications"};
    for (size_t k = 0; k < 2; k++) {
        const struct term *l = term_proplist_get(props, keys[k]);
        size_t n;
        const struct term *const *el = l && term_is_list(l) ? term_list_els(l, &n) : NULL;
        for (size_t i = 0; el && i < n; i++)
            if (el[i]->type == TERM_ATOM)
                include_app(x, el[i]->u.atom.name);
    }
}

/* add_rel - the chosen release O as knit's one {rel, ...} */
static int add_rel(struct rx *x, const struct term *o)
{
    struct cfg *c = x->c;
    const char *name;
    const struct term *vt, *apps;
    if (rel_head(x, o, &name, &vt, &apps) != 0)
        return -1;
    const char *vsn = rebar_resolve_vsn(x->a, vt, x->dir);
    if (!vsn || !*vsn)
        return bad(x, o, "release",
                   "{release, {Name, Vsn}, [App]} with Vsn a string, semver, {git, short}, "
                   "{git, long}, {cmd, Cmd} or {file, File}");
    size_t n;
    const struct term *const *el = term_list_els(apps, &n);
    struct cfg_rel *r = arena_alloc(x->a, sizeof *r);
    r->name = name;
    r->vsn = vsn;
    r->line = o->line;
    r->load_dot_erlang = true;
    r->apps = arena_alloc(x->a, (n ? n : 1) * sizeof *r->apps);
    for (size_t i = 0; i < n; i++) {
        const struct term *e = el[i];
        struct cfg_rel_app *ra = &r->apps[r->napps];
        const char *pin = NULL;
        if (e->type == TERM_ATOM) {
            ra->name = e->u.atom.name;
        } else if (e->type == TERM_TUPLE && e->u.tuple.n >= 2 && e->u.tuple.n <= 4 &&
                   e->u.tuple.el[0]->type == TERM_ATOM) {
            /* {App, Type}, {App, Vsn}, {App, Vsn, Type}, {App, Type, Incls}, ... */
            ra->name = e->u.tuple.el[0]->u.atom.name;
            for (size_t k = 1; k < e->u.tuple.n; k++) {
                const struct term *y = e->u.tuple.el[k];
                if (y->type == TERM_ATOM)
                    ra->type = y->u.atom.name;
                else if (term_is_list(y) &&
                         (y->type == TERM_NIL || y->u.list.el[0]->type == TERM_ATOM))
                    ra->incls = y;
                else if (!(pin = term_text(x->a, y)))
                    return bad(x, e, "release", "App, {App, Type}, {App, Vsn} or {App, Vsn, Type}");
            }
        } else {
            return bad(x, e, "release", "App, {App, Type}, {App, Vsn} or {App, Vsn, Type}");
        }
        if (!app_file(x, ra->name))
            return kerr_set(KERR_INPUT, x->file, (int)e->line, 0,
                            "release '%s' uses application '%s', which is in neither "
                            "_build/%s/lib nor the OTP installation (run 'rebar3%s%s compile' "
                            "first?)",
                            name, ra->name, x->profile, strcmp(x->profile, "default") ? " as " : "",
                            strcmp(x->profile, "default") ? x->profile : "");
        include_app(x, ra->name);
        if (pin) {
            for (size_t k = 0; k < c->napps; k++)
                if (!strcmp(c->apps[k].name, ra->name))
                    c->apps[k].vsn = pin;
        }
        r->napps++;
    }
    c->rels = r;
    c->nrels = 1;
    c->boot_rel = (const struct cfg_rel *)name; /* cfg_load resolves it */
    return 0;
}

/* choose - the release to build: default_release, else the only name (its highest version) */
static const struct term *choose(struct rx *x)
{
    const struct term *best = NULL;
    const char *bname = NULL, *bvsn = NULL;
    const char *want = NULL, *want_vsn = NULL;
    if (x->default_rel) {
        const struct term *d = x->default_rel;
        const struct term *v = d->u.tuple.n == 2 ? d->u.tuple.el[1] : NULL;
        if (v && v->type == TERM_ATOM) {
            want = v->u.atom.name;
        } else if (v && term_is_tuple(v, 2) && v->u.tuple.el[0]->type == TERM_ATOM) {
            want = v->u.tuple.el[0]->u.atom.name;
            want_vsn = term_text(x->a, v->u.tuple.el[1]);
        } else if (term_is_tuple(d, 3) && d->u.tuple.el[1]->type == TERM_ATOM) {
            want = d->u.tuple.el[1]->u.atom.name;
            want_vsn = term_text(x->a, d->u.tuple.el[2]);
        } else {
            bad(x, d, "default_release",
                "{default_release, {Name, Vsn}} or {default_release, Name}");
            return NULL;
        }
    }
    for (size_t i = 0; i < x->rels.n; i++) {
        const char *name;
        const struct term *vt, *apps;
        if (rel_head(x, x->rels.v[i], &name, &vt, &apps) != 0)
            return NULL;
        const char *vsn =
            vt->type == TERM_ATOM || vt->type == TERM_TUPLE ? "" : term_text(x->a, vt);
        if (want && strcmp(want, name) != 0)
            continue;
        if (want_vsn && (!vsn || strcmp(want_vsn, vsn) != 0))
            continue;
        if (!want && bname && strcmp(bname, name) != 0) {
            kerr_set(KERR_INPUT, x->file, (int)x->rels.v[i]->line, 0,
                     "relx section has releases '%s' and '%s' and no default_release to say "
                     "which to build",
                     bname, name);
            return NULL;
        }
        if (!best || vsn_compare(vsn ? vsn : "", bvsn, true) > 0) {
            best = x->rels.v[i];
            bname = name;
            bvsn = vsn ? vsn : "";
        }
    }
    if (!best)
        kerr_set(KERR_INPUT, x->file, x->default_rel ? (int)x->default_rel->line : 0, 0,
                 x->default_rel ? "default_release names no {release, ...} of the relx section"
                                : "the relx section has no {release, {Name, Vsn}, [App]}");
    return best;
}

static const struct term *copy_entry(struct arena *a, const char *from, const char *to)
{
    return term_tuplev(a, 3, term_atomz(a, "copy"), term_stringz(a, from), term_stringz(a, to));
}

int rebar_translate(struct arena *a, const char *path, struct cfg *c)
{
    struct rx x = {.a = a, .file = path, .dir = c->dir, .c = c};
    const struct term *terms = term_consult_file(a, path);
    if (!terms)
        return -1;
    const struct term *relx = NULL, *profiles = NULL;
    size_t n;
    const struct term *const *el = term_list_els(terms, &n);
    for (size_t i = 0; i < n; i++) {
        if (term_is_tagged(el[i], "relx", 2))
            relx = el[i];
        else if (term_is_tagged(el[i], "profiles", 2))
            profiles = el[i]->u.tuple.el[1];
    }
    if (!relx)
        return kerr_set(KERR_INPUT, path, 0, 0,
                        "no {relx, [...]} section: knit builds the release relx would build "
                        "(or name a reltool.config with -r)");
    if (!term_is_list(relx->u.tuple.el[1]))
        return kerr_set(KERR_INPUT, path, (int)relx->line, 0, "expected {relx, [Option]}, not %s",
                        term_show(a, relx, 200));
    const struct term *mode = term_proplist_get(relx->u.tuple.el[1], "mode");
    x.profile = rebar_profile                        ? rebar_profile
                : mode && term_is_atom(mode, "prod") ? "prod"
                                                     : "default";
    const struct term *prof = NULL;
    if (strcmp(x.profile, "default") != 0) {
        const struct term *p = profiles ? term_proplist_get(profiles, x.profile) : NULL;
        if (!p && rebar_profile)
            return kerr_set(KERR_INPUT, path, 0, 0, "no profile '%s' in {profiles, [...]}",
                            x.profile);
        prof = p ? term_proplist_get(p, "relx") : NULL;
        if (prof && !term_is_list(prof))
            return kerr_set(KERR_INPUT, path, (int)prof->line, 0,
                            "expected the relx options of profile '%s' as a list", x.profile);
    }
    merge(&x, relx->u.tuple.el[1], prof);

    /* relx's defaults (rlx_state:new): ERTS included, sources included, debug info kept */
    c->include_erts = true;
    x.include_src = false; /* rebar3's default for a release (relx's own is true) */
    c->debug_info = "keep";
    c->relx_layout = true;
    c->profile = "development";
    for (size_t i = 0; i < x.opts.n; i++)
        if (one_option(&x, x.opts.v[i]) != 0)
            return -1;

    /* where relx finds applications: the profile's lib and checkouts, then OTP */
    const char *build = arena_sprintf(a, "%s/_build/%s", c->dir, x.profile);
    const char *cands[3] = {arena_sprintf(a, "%s/lib", build),
                            arena_sprintf(a, "%s/checkouts", build),
                            arena_sprintf(a, "%s/_checkouts", c->dir)};
    size_t nextra = 0;
    const struct term *const *extra = x.lib_dirs ? term_list_els(x.lib_dirs, &nextra) : NULL;
    c->lib_dirs = arena_alloc(a, (3 + nextra) * sizeof *c->lib_dirs);
    c->nlib_dirs = 0;
    if (!fs_is_dir(cands[0]))
        return kerr_set(KERR_INPUT, path, 0, 0,
                        "no '_build/%s/lib' here: run 'rebar3%s%s compile' first?", x.profile,
                        strcmp(x.profile, "default") ? " as " : "",
                        strcmp(x.profile, "default") ? x.profile : "");
    for (size_t i = 0; i < 3; i++)
        if (fs_is_dir(cands[i]))
            c->lib_dirs[c->nlib_dirs++] = cands[i];
    for (size_t i = 0; i < nextra; i++) {
        const char *d = extra[i]->type == TERM_ATOM ? NULL : term_text(a, extra[i]);
        if (!d)
            return bad(&x, x.lib_dirs, "lib_dirs", "a list of directories");
        c->lib_dirs[c->nlib_dirs++] = abs_of(&x, d);
    }
    if (!c->root_dir) {
        c->root_dir = relfile_otp_root(a);
        if (!c->root_dir)
            return kerr_set(KERR_INPUT, path, 0, 0, "no 'erl' on PATH to find OTP from");
    }

    const struct term *chosen = choose(&x);
    if (!chosen || add_rel(&x, chosen) != 0)
        return -1;

    /* what `rebar3 tar` packs (systools:make_tar): the .app and the beams of ebin, priv,
     * and with include_src the sources; only the release's applications and what their
     * .app files need, as relx resolves them; ERTS's bin without the compile-time tools */
    struct term_vec f = {0};
    term_vec_add(a, &f, term_stringz(a, "^ebin/[^/]*\\.(app|beam)$"));
    term_vec_add(a, &f, term_stringz(a, "^priv"));
    if (x.include_src) {
        term_vec_add(a, &f, term_stringz(a, "^src"));
        term_vec_add(a, &f, term_stringz(a, "^include"));
    }
    c->incl_app_filters = term_vec_list(a, &f);
    c->incl_cond = "exclude";
    c->incl_sys_filters = term_listv(a, 4, term_stringz(a, "^bin"), term_stringz(a, "^erts.*/bin"),
                                     term_stringz(a, "^lib"), term_stringz(a, "^releases"));
    c->excl_sys_filters = term_listv(
        a, 1, term_stringz(a, "^erts.*/bin/(ct_run|dialyzer|erlc|typer|yielding_c_fun)$"));
    c->excl_archive_filters = term_listv(a, 1, term_stringz(a, ".*"));

    /* sys.config and vm.args (or their .src, kept for bin/NAME to fill in at boot) go in
     * before the user's overlays, as relx copies them first */
    struct term_vec ov = {0};
    const char *rd = "releases/{{rel_vsn}}";
    if (x.sys_config_src)
        term_vec_add(a, &ov,
                     copy_entry(a, x.sys_config_src, arena_sprintf(a, "%s/sys.config.src", rd)));
    else if (x.sys_config)
        term_vec_add(a, &ov, copy_entry(a, x.sys_config, arena_sprintf(a, "%s/sys.config", rd)));
    if (x.vm_args_src)
        term_vec_add(a, &ov, copy_entry(a, x.vm_args_src, arena_sprintf(a, "%s/vm.args.src", rd)));
    else if (x.vm_args)
        term_vec_add(a, &ov, copy_entry(a, x.vm_args, arena_sprintf(a, "%s/vm.args", rd)));
    for (size_t i = 0; i < x.overlays.n; i++)
        term_vec_add(a, &ov, x.overlays.v[i]);
    c->overlay = term_vec_list(a, &ov);

    /* relx's built-in overlay variables beside knit's (rel_name, rel_vsn, erts_vsn, ...) */
    const char *vars[][2] = {
        {"release_name", c->rels[0].name},
        {"release_version", c->rels[0].vsn},
        {"default_release_name", c->rels[0].name},
        {"default_release_version", c->rels[0].vsn},
        {"output_dir", arena_sprintf(a, "%s/knit/%s", build, c->rels[0].name)}};
    size_t nv = sizeof vars / sizeof vars[0];
    const char **names = arena_alloc(a, (c->nvars + nv) * sizeof *names);
    const struct term **values = arena_alloc(a, (c->nvars + nv) * sizeof *values);
    for (size_t i = 0; i < nv; i++) {
        names[c->nvars] = vars[i][0];
        values[c->nvars] = term_stringz(a, vars[i][1]);
        c->nvars++;
    }
    c->var_names = names;
    c->var_values = values;

    /* outputs: the build dir beside relx's, tarballs where `rebar3 tar` puts them (so each
     * finds the other's earlier releases) */
    const char *name = c->rels[0].name;
    c->target_dir = arena_sprintf(a, "%s/knit", build);
    c->release_dir = arena_sprintf(a, "%s/rel/%s", build, name);
    c->upgrade_dir = arena_sprintf(a, "%s/knit/upgrades", build);
    log_verbose("%s: relx release %s %s (profile %s)", path, name, c->rels[0].vsn, x.profile);
    return 0;
}
