/* target.c - write the target system (build dir) of a release model as reltool_target's
 * gen_target does (file filters, app dirs, erts), plus knit's releases/, bin/ and tarball */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "target.h"

#include "beam.h"

#include "buf.h"
#include "fsutil.h"
#include "guard.h"
#include "kerr.h"
#include "log.h"
#include "mustache.h"
#include "overlay.h"
#include "relfile.h"
#include "script.h"
#include "tarball.h"
#include "term_parse.h"
#include "term_print.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- file filters: reltool_utils decode_regexps, reltool_target match ---- */

#define FILTER_MAX 256

struct filter {
    size_t n;
    const char *src[FILTER_MAX];
    pcre2_code *re[FILTER_MAX];
};

struct tctx {
    struct arena *a;
    const struct release *r;
    const struct cfg *c;
    const char *dir;         /* the fresh build dir being written */
    const char *tmpl_dir;    /* knit's templates/ */
    json_t *tctx;            /* the context templates/ files are rendered with */
    struct filter **filters; /* every filter made, for filters_free (malloc'd array) */
    size_t nfilters;
    bool stream;                /* bulk files not written: recorded in VF */
    struct tarball_vfile *vf;   /* (arena) */
    size_t nvf, capvf;
};

static const char *const dev_incl[] = {".*", NULL};
static const char *const none[] = {NULL};
static const char *const emb_incl_sys[] = {"^bin", "^erts", "^lib", "^releases", NULL};
static const char *const emb_excl_sys[] = {"^bin/(erlc|dialyzer|typer)(|\\.exe)$",
                                           "^erts.*/bin/(erlc|dialyzer|typer)(|\\.exe)$",
                                           "^erts.*/bin/.*(debug|pdb)", NULL};
static const char *const emb_incl_app[] = {"^ebin", "^include", "^priv", NULL};
static const char *const sa_incl_sys[] = {"^bin/(erl|epmd)(|\\.exe|\\.ini)$",
                                          "^bin/start(|_clean).boot$",
                                          "^bin/no_dot_erlang\\.boot$",
                                          "^erts.*/bin",
                                          "^lib$",
                                          NULL};
static const char *const sa_excl_sys[] = {"^erts.*/bin/(erlc|dialyzer|typer)(|\\.exe)$",
                                          "^erts.*/bin/(start|escript|to_erl|run_erl)(|\\.exe)$",
                                          "^erts.*/bin/.*(debug|pdb)", NULL};
static const char *const sa_incl_app[] = {"^ebin", "^priv", NULL};
static const char *const sa_excl_app[] = {"^ebin/.*\\.appup$", NULL};

/* profile_filters - reltool_utils:choose_default for KIND 0..3 (incl/excl sys, incl/excl app) */
static const char *const *profile_filters(const char *profile, int kind)
{
    if (!strcmp(profile, "embedded")) {
        const char *const *v[] = {emb_incl_sys, emb_excl_sys, emb_incl_app, none};
        return v[kind];
    }
    if (!strcmp(profile, "standalone")) {
        const char *const *v[] = {sa_incl_sys, sa_excl_sys, sa_incl_app, sa_excl_app};
        return v[kind];
    }
    const char *const *v[] = {dev_incl, none, dev_incl, none};
    return v[kind];
}

static void filter_add(struct filter *f, const char *s)
{
    if (f->n < FILTER_MAX)
        f->src[f->n++] = s;
}

/* filter_make - BASE (NULL-terminated, may be NULL) changed by the option value OPT (a list
 * replaces, {add, L} appends, {del, L} removes), compiled. NULL with KERR_INPUT on a bad
 * regular expression. */
static struct filter *filter_make(struct tctx *t, const char *key, const char *const *base,
                                  const struct term *opt)
{
    struct filter *f = arena_alloc(t->a, sizeof *f);
    for (size_t i = 0; base && base[i]; i++)
        filter_add(f, base[i]);
    if (opt) {
        const struct term *list = opt;
        bool add = term_is_tagged(opt, "add", 2), del = term_is_tagged(opt, "del", 2);
        if (add || del)
            list = opt->u.tuple.el[1];
        else
            f->n = 0;
        size_t n;
        const struct term *const *el = term_list_els(list, &n);
        for (size_t i = 0; i < n; i++) {
            const char *s = term_text(t->a, el[i]);
            if (!s)
                continue;
            if (!del) {
                filter_add(f, s);
                continue;
            }
            size_t k = 0;
            for (size_t j = 0; j < f->n; j++)
                if (strcmp(f->src[j], s) != 0)
                    f->src[k++] = f->src[j];
            f->n = k;
        }
    }
    t->filters = xrealloc(t->filters, (t->nfilters + 1) * sizeof *t->filters);
    t->filters[t->nfilters++] = f;
    for (size_t i = 0; i < f->n; i++) {
        int err;
        PCRE2_SIZE off;
        f->re[i] = pcre2_compile((PCRE2_SPTR)f->src[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err,
                                 &off, NULL);
        if (!f->re[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            kerr_set(KERR_INPUT, t->c->file, 0, 0, "illegal option {%s, \"%s\"}: %s at %zu", key,
                     f->src[i], (const char *)msg, (size_t)off);
            return NULL;
        }
    }
    return f;
}

static void filters_free(struct tctx *t)
{
    for (size_t i = 0; i < t->nfilters; i++)
        for (size_t k = 0; k < t->filters[i]->n; k++)
            if (t->filters[i]->re[k])
                pcre2_code_free(t->filters[i]->re[k]);
    free(t->filters);
}

static bool filter_any(const struct filter *f, const char *s)
{
    for (size_t i = 0; i < f->n; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(f->re[i], NULL);
        int rc = pcre2_match(f->re[i], (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
        pcre2_match_data_free(md);
        if (rc >= 0)
            return true;
    }
    return false;
}

static bool match(const char *s, const struct filter *incl, const struct filter *excl)
{
    return filter_any(incl, s) && !filter_any(excl, s);
}

/* ---- file specs: a tree of what to create, filtered before anything is written ---- */

enum spec_kind { SPEC_DIR, SPEC_COPY, SPEC_WRITE, SPEC_STRIP };

struct spec {
    const char *name;
    enum spec_kind kind;
    const char *src;  /* SPEC_COPY / SPEC_STRIP: the file to read */
    int src_mode;     /* its permission bits when known (spec_dir stats it), else -1 */
    const void *bytes; /* SRC's bytes when already read (a beam the release read), or NULL */
    size_t nbytes;
    const char *data; /* SPEC_WRITE */
    size_t len;
    int mode; /* SPEC_WRITE */
    struct spec **kids;
    size_t nkids, cap;
};

static struct spec *spec_new(struct tctx *t, const char *name, enum spec_kind k)
{
    struct spec *s = arena_alloc(t->a, sizeof *s);
    s->name = name;
    s->kind = k;
    s->src_mode = -1;
    return s;
}

static void spec_add(struct tctx *t, struct spec *dir, struct spec *kid)
{
    if (dir->nkids == dir->cap) {
        dir->cap = dir->cap ? dir->cap * 2 : 8;
        struct spec **k = arena_alloc(t->a, dir->cap * sizeof *k);
        if (dir->nkids)
            memcpy(k, dir->kids, dir->nkids * sizeof *k);
        dir->kids = k;
    }
    dir->kids[dir->nkids++] = kid;
}

static struct spec *spec_find(struct spec *dir, const char *name)
{
    for (size_t i = 0; i < dir->nkids; i++)
        if (!strcmp(dir->kids[i]->name, name))
            return dir->kids[i];
    return NULL;
}

/* spec_store - lists:keystore: replace the entry named KID->name, or add it */
static void spec_store(struct tctx *t, struct spec *dir, struct spec *kid)
{
    for (size_t i = 0; i < dir->nkids; i++)
        if (!strcmp(dir->kids[i]->name, kid->name)) {
            dir->kids[i] = kid;
            return;
        }
    spec_add(t, dir, kid);
}

static void spec_delete(struct spec *dir, const char *name)
{
    for (size_t i = 0; i < dir->nkids; i++)
        if (!strcmp(dir->kids[i]->name, name)) {
            memmove(&dir->kids[i], &dir->kids[i + 1], (dir->nkids - i - 1) * sizeof *dir->kids);
            dir->nkids--;
            return;
        }
}

/* spec_dir - the files below PATH (symlinks followed, as reltool's read_file_info does) */
static struct spec *spec_dir(struct tctx *t, const char *path, const char *name)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        kerr_set(KERR_INPUT, path, 0, 0, "cannot read file info: %s", strerror(errno));
        return NULL;
    }
    if (S_ISREG(st.st_mode)) {
        struct spec *s = spec_new(t, name, SPEC_COPY);
        s->src = path;
        s->src_mode = (int)(st.st_mode & 0777);
        return s;
    }
    if (!S_ISDIR(st.st_mode)) {
        kerr_set(KERR_INPUT, path, 0, 0, "neither a file nor a directory");
        return NULL;
    }
    DIR *d = opendir(path);
    if (!d) {
        kerr_errno(path, "cannot list directory");
        return NULL;
    }
    struct spec *s = spec_new(t, name, SPEC_DIR);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        const char *n = arena_strdup(t->a, e->d_name);
        const char *kp = arena_sprintf(t->a, "%s/%s", path, n);
        struct stat kst;
        if (t->c->relx_layout && stat(kp, &kst) != 0 && errno == ENOENT)
            continue; /* rebar3 links priv/include/src to the source even when absent */
        struct spec *k = spec_dir(t, kp, n);
        if (!k) {
            closedir(d);
            return NULL;
        }
        spec_add(t, s, k);
    }
    closedir(d);
    return s;
}

/* spec_filter - do_filter_spec: files whose path (from the filter root) matches are kept;
 * a directory is kept when something below it is, or, empty, when its own path matches */
static struct spec *spec_filter(struct tctx *t, struct spec *s, const char *path,
                                const struct filter *incl, const struct filter *excl)
{
    const char *p = *path ? arena_sprintf(t->a, "%s/%s", path, s->name) : s->name;
    if (s->kind != SPEC_DIR)
        return match(p, incl, excl) ? s : NULL;
    struct spec *out = spec_new(t, s->name, SPEC_DIR);
    for (size_t i = 0; i < s->nkids; i++) {
        struct spec *k = spec_filter(t, s->kids[i], p, incl, excl);
        if (k)
            spec_add(t, out, k);
    }
    if (out->nkids == 0 && !match(p, incl, excl))
        return NULL;
    return out;
}

/* put_file - create PATH (in the fresh build dir) holding DATA, with permission bits MODE */
static int put_file(const char *path, const void *data, size_t len, int mode)
{
    static mode_t mask = (mode_t)-1;
    if (mask == (mode_t)-1) {
        mask = umask(022);
        umask(mask);
    }
    /* a new file gets MODE less the umask: fchmod only when that is not MODE */
    bool fix = ((mode_t)mode & mask) != 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        fix = true;
    }
    if (fd < 0)
        return kerr_errno(path, "cannot create");
    if (fs_write_all(fd, data, len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return kerr_errno(path, "cannot write");
    }
    if ((fix && fchmod(fd, (mode_t)mode) != 0) || close(fd) != 0)
        return kerr_errno(path, "cannot write");
    return 0;
}

static unsigned char *strip_beam(const char *src, const unsigned char *data, size_t len,
                                 size_t *out_len)
{
    return beam_strip(src, data, len, out_len);
}

/* streamed - whether the copy of S at PATH is left to the tarball (a virtual file): every
 * copied file but the .app and .appup files, which later phases read from the build dir */
static int streamed(struct tctx *t, const struct spec *s, const char *path, bool *virt)
{
    *virt = false;
    if (!t->stream || s->kind == SPEC_WRITE || s->kind == SPEC_DIR || fs_stem(s->name, ".app") ||
        fs_stem(s->name, ".appup"))
        return 0;
    int mode = 0644;
    if (s->kind == SPEC_COPY && s->src_mode >= 0) {
        mode = s->src_mode;
    } else if (s->kind == SPEC_COPY) {
        struct stat st;
        if (stat(s->src, &st) != 0)
            return kerr_errno(s->src, "cannot read file info");
        mode = (int)(st.st_mode & 0777);
    }
    if (t->nvf == t->capvf) {
        t->capvf = t->capvf ? 2 * t->capvf : 1024;
        struct tarball_vfile *v = arena_alloc(t->a, t->capvf * sizeof *v);
        if (t->nvf)
            memcpy(v, t->vf, t->nvf * sizeof *v);
        t->vf = v;
    }
    t->vf[t->nvf++] = (struct tarball_vfile){path + strlen(t->dir) + 1, s->src, s->bytes,
                                              s->nbytes, mode,
                                              s->kind == SPEC_STRIP ? strip_beam : NULL};
    *virt = true;
    return 0;
}

/* spec_eval - create S inside DIR */
static int spec_eval(struct tctx *t, const struct spec *s, const char *dir)
{
    const char *path = arena_sprintf(t->a, "%s/%s", dir, s->name);
    bool virt;
    if (streamed(t, s, path, &virt) != 0 || virt)
        return virt ? 0 : -1;
    if (s->kind == SPEC_DIR) {
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return kerr_errno(path, "cannot create directory");
        for (size_t i = 0; i < s->nkids; i++)
            if (spec_eval(t, s->kids[i], path) != 0)
                return -1;
        return 0;
    }
    if (s->kind == SPEC_WRITE)
        return put_file(path, s->data, s->len, s->mode);
    struct stat st;
    size_t len = s->nbytes;
    struct arena scratch;
    arena_init(&scratch);
    int rc = -1;
    const char *data = s->bytes;
    if (data && s->src_mode >= 0)
        st.st_mode = (mode_t)s->src_mode;
    else
        data = fs_read_file_stat(&scratch, s->src, &len, &st);
    if (!data)
        goto done;
    if (s->kind == SPEC_STRIP) {
        size_t n;
        unsigned char *out = beam_strip(s->src, (const unsigned char *)data, len, &n);
        if (!out)
            goto done;
        rc = put_file(path, out, n, 0644);
        free(out);
    } else {
        rc = put_file(path, data, len, (int)(st.st_mode & 0777));
    }
done:
    arena_close(&scratch);
    return rc;
}

/* ---- lib/: reltool_target spec_lib_files / spec_app ---- */

/* info_get - the value of KEY in an .app option list (a later entry wins, as in reltool) */
static const struct term *info_get(const struct term *info, const char *key)
{
    size_t n;
    const struct term *const *el = term_list_els(info, &n);
    const struct term *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (term_is_tuple(el[i], 2) && term_is_atom(el[i]->u.tuple.el[0], key))
            v = el[i]->u.tuple.el[1];
    return v;
}

/* gen_app - reltool_target:gen_app/1 with module list MODS, as the file text */
static struct spec *gen_app(struct tctx *t, const struct release_app *app, const char **mods,
                            size_t nmods)
{
    struct arena *a = t->a;
    static const char *const keys[] = {"description",
                                       "vsn",
                                       "id",
                                       "modules",
                                       "registered",
                                       "applications",
                                       "optional_applications",
                                       "included_applications",
                                       "env",
                                       "maxT",
                                       "maxP"};
    const struct term *el[13];
    size_t n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct term *v = info_get(app->info, keys[i]);
        if (i == 1) {
            v = term_stringz(a, app->vsn);
        } else if (i == 3) {
            const struct term **m = arena_alloc(a, (nmods ? nmods : 1) * sizeof *m);
            for (size_t k = 0; k < nmods; k++)
                m[k] = term_atomz(a, mods[k]);
            v = term_list(a, m, nmods, term_nil());
        } else if (!v) {
            v = i == 0 || i == 2 ? term_stringz(a, "")
                : i >= 9         ? term_atomz(a, "infinity")
                                 : term_nil();
        }
        el[n++] = term_tuplev(a, 2, term_atomz(a, keys[i]), v);
    }
    const struct term *mod = info_get(app->info, "mod");
    const struct term *phases = info_get(app->info, "start_phases");
    if (mod)
        el[n++] = term_tuplev(a, 2, term_atomz(a, "mod"), mod);
    if (phases)
        el[n++] = term_tuplev(a, 2, term_atomz(a, "start_phases"), phases);
    const struct term *app_term =
        term_tuplev(a, 3, term_atomz(a, "application"), term_atomz(a, app->name),
                    term_list(a, el, n, term_nil()));
    struct buf b = BUF_INIT;
    buf_adds(&b, "%% coding: utf-8\n");
    term_print(&b, app_term);
    buf_adds(&b, ".\n\n");
    struct spec *s = spec_new(t, arena_sprintf(a, "%s.app", app->name), SPEC_WRITE);
    s->data = arena_memdup(a, b.p, b.len);
    s->len = b.len;
    s->mode = 0644;
    buf_free(&b);
    return s;
}

static bool str_in_list(const char *s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, v[i]))
            return true;
    return false;
}

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* spec_app - the directory lib/DIR for APP: its files, with ebin/ rebuilt from the appup
 * (when there is one), the .app file (kept or generated, per app_file) and the included
 * modules' beams (stripped per debug_info), then the app filters applied */
static int spec_app(struct tctx *t, const struct release_app *app, struct spec *lib)
{
    struct arena *a = t->a;
    const struct cfg *c = t->c;
    const struct cfg_app *ac = app->cfg;
    struct spec *top = spec_dir(t, app->dir, "");
    if (!top)
        return -1;
    struct spec *ebin = spec_new(t, "ebin", SPEC_DIR);
    struct spec *walked = spec_find(top, "ebin");
    const char *ebin_dir = arena_sprintf(a, "%s/ebin", app->dir);
    const char *appup = arena_sprintf(a, "%s.appup", app->name);
    if (is_regular(arena_sprintf(a, "%s/%s", ebin_dir, appup))) {
        struct spec *s = spec_new(t, appup, SPEC_COPY);
        s->src = arena_sprintf(a, "%s/%s", ebin_dir, appup);
        spec_add(t, ebin, s);
    }
    const char *app_file = ac && ac->app_file ? ac->app_file : c->app_file;
    const char **mods = arena_alloc(a, (app->nmods + 1) * sizeof *mods);
    size_t nmods = 0;
    for (size_t i = 0; i < app->nmods; i++) {
        const struct release_mod *m = &app->mods[i];
        if (m->incl == RELEASE_YES &&
            (!strcmp(app_file, "all") || str_in_list(m->name, app->modules, app->nmodules)))
            mods[nmods++] = m->name;
    }
    const char *app_name = arena_sprintf(a, "%s.app", app->name);
    if (!strcmp(app_file, "keep")) {
        if (is_regular(arena_sprintf(a, "%s/%s", ebin_dir, app_name))) {
            struct spec *s = spec_new(t, app_name, SPEC_COPY);
            s->src = arena_sprintf(a, "%s/%s", ebin_dir, app_name);
            spec_add(t, ebin, s);
        }
    } else {
        spec_add(t, ebin, gen_app(t, app, mods, nmods));
    }
    for (size_t i = 0; i < app->nmods; i++) {
        const struct release_mod *m = &app->mods[i];
        if (m->incl != RELEASE_YES || !m->exists)
            continue;
        const char *di = m->debug_info          ? m->debug_info
                         : ac && ac->debug_info ? ac->debug_info
                                                : c->debug_info;
        struct spec *s = spec_new(t, arena_sprintf(a, "%s.beam", m->name),
                                  !strcmp(di, "strip") ? SPEC_STRIP : SPEC_COPY);
        s->src = arena_sprintf(a, "%s/%s", ebin_dir, s->name);
        const struct spec *seen = walked ? spec_find(walked, s->name) : NULL;
        if (seen && seen->kind == SPEC_COPY)
            s->src_mode = seen->src_mode; /* stat'ed by spec_dir already */
        s->bytes = m->beam;
        s->nbytes = m->beam_len;
        spec_add(t, ebin, s);
    }
    spec_store(t, top, ebin);
    const struct term *io = ac && ac->incl_app_filters ? ac->incl_app_filters : NULL;
    const struct term *eo = ac && ac->excl_app_filters ? ac->excl_app_filters : NULL;
    struct filter *incl, *excl;
    if (io)
        incl = filter_make(t, "incl_app_filters", NULL, io);
    else
        incl =
            filter_make(t, "incl_app_filters", profile_filters(c->profile, 2), c->incl_app_filters);
    if (eo)
        excl = filter_make(t, "excl_app_filters", NULL, eo);
    else
        excl =
            filter_make(t, "excl_app_filters", profile_filters(c->profile, 3), c->excl_app_filters);
    if (!incl || !excl)
        return -1;
    /* the directory is named as in ROOT/lib, or APP-VSN for an application from elsewhere */
    const char *rootlib = arena_sprintf(a, "%s/lib/", c->root_dir);
    const char *name = app->label;
    if (!strncmp(app->dir, rootlib, strlen(rootlib)))
        name = app->dir + strlen(rootlib);
    struct spec *out = spec_new(t, name, SPEC_DIR);
    for (size_t i = 0; i < top->nkids; i++) {
        struct spec *k = spec_filter(t, top->kids[i], "", incl, excl);
        if (k)
            spec_add(t, out, k);
    }
    spec_add(t, lib, out);
    return 0;
}

/* ---- templates/ ---- */

/* template_dir - knit's templates/: $KNIT_TEMPLATES, else beside the binary (../templates,
 * ../share/knit/templates, ../../templates for a build directory) */
static const char *template_dir(struct arena *a)
{
    const char *env = getenv("KNIT_TEMPLATES");
    if (env && *env)
        return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        static const char *const rel[] = {"../templates", "../share/knit/templates", "templates"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            const char *d = arena_sprintf(a, "%s/%s", exe, rel[i]);
            if (is_regular(arena_sprintf(a, "%s/bin_script", d)))
                return d;
        }
    }
    return NULL;
}

/* render - templates/NAME rendered (no HTML escaping) into a SPEC_WRITE named AS */
static struct spec *render(struct tctx *t, const char *name, const char *as, int mode)
{
    if (!t->tmpl_dir) {
        kerr_set(KERR_IO, NULL, 0, 0,
                 "cannot find knit's templates directory (set KNIT_TEMPLATES to it)");
        return NULL;
    }
    const char *path = arena_sprintf(t->a, "%s/%s", t->tmpl_dir, name);
    size_t len;
    const char *text = fs_read_file(t->a, path, &len);
    if (!text)
        return NULL;
    struct buf b = BUF_INIT;
    if (mustache_render(&b, path, text, len, t->tctx, NULL, MUSTACHE_NOESCAPE) != 0) {
        buf_free(&b);
        return NULL;
    }
    struct spec *s = spec_new(t, as, SPEC_WRITE);
    s->data = arena_memdup(t->a, buf_cstr(&b), b.len);
    s->len = b.len;
    s->mode = mode;
    buf_free(&b);
    return s;
}

/* ---- erts-EVSN/ ---- */

static int write_erts(struct tctx *t)
{
    const struct cfg *c = t->c;
    const char *label = arena_sprintf(t->a, "erts-%s", t->r->erts_vsn);
    const char *src = arena_sprintf(t->a, "%s/%s", c->root_dir, label);
    if (!fs_is_dir(src))
        return kerr_set(KERR_INPUT, c->file, 0, 0,
                        "this system is not installed: the directory '%s' is missing", src);
    struct spec *erts = spec_dir(t, src, label);
    if (!erts)
        return -1;
    struct spec *bin = spec_find(erts, "bin");
    if (bin) {
        /* relocatable: erl (and start) find their root at run time; dyn_erl is not needed */
        spec_delete(bin, "dyn_erl");
        struct spec *erl = render(t, "erl", "erl", 0755);
        if (!erl)
            return -1;
        spec_store(t, bin, erl);
        if (spec_find(bin, "start")) {
            struct spec *start = render(t, "start", "start", 0755);
            if (!start)
                return -1;
            spec_store(t, bin, start);
        }
    }
    struct filter *incl =
        filter_make(t, "incl_sys_filters", profile_filters(c->profile, 0), c->incl_sys_filters);
    struct filter *excl =
        filter_make(t, "excl_sys_filters", profile_filters(c->profile, 1), c->excl_sys_filters);
    if (!incl || !excl)
        return -1;
    if (c->relocatable)
        filter_add(excl, "^erts.*/bin/.*src$");
    if (excl->n && !excl->re[excl->n - 1]) {
        int err;
        PCRE2_SIZE off;
        excl->re[excl->n - 1] = pcre2_compile((PCRE2_SPTR) "^erts.*/bin/.*src$",
                                              PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
    }
    /* reltool_target:check_sys: the sys filters must leave something in bin/ (reltool puts
     * the root's bin/ files there, filtered as bin/NAME; an emptied bin/ stays when "bin"
     * itself matches, as do_filter_spec keeps it: the embedded profile with ^bin/.* passes) */
    DIR *rb = opendir(arena_sprintf(t->a, "%s/bin", c->root_dir));
    bool bin_kept = rb == NULL || match("bin", incl, excl);
    for (struct dirent *e; rb && (e = readdir(rb)) && !bin_kept;)
        bin_kept = e->d_name[0] != '.' &&
                   match(arena_sprintf(t->a, "bin/%s", e->d_name), incl, excl);
    if (rb)
        closedir(rb);
    if (!bin_kept)
        return kerr_set(KERR_INPUT, c->file, 0, 0,
                        "mandatory system directory 'bin' is not included: the sys filters "
                        "(profile %s, incl_sys_filters, excl_sys_filters) exclude every bin/ "
                        "file, as reltool refuses it (Mandatory system directory bin is not "
                        "included)",
                        c->profile);
    struct spec *kept = spec_filter(t, erts, "", incl, excl);
    if (!kept)
        return kerr_set(KERR_INPUT, c->file, 0, 0,
                        "mandatory system directory '%s' is not included (sys filters)", label);
    return spec_eval(t, kept, t->dir);
}

/* ---- lib/ ---- */

static int write_lib(struct tctx *t)
{
    struct spec *lib = spec_new(t, "lib", SPEC_DIR);
    const struct release *r = t->r;
    bool kernel = false, stdlib = false;
    size_t total = 0, k = 0;
    for (size_t i = 0; i < r->napps; i++)
        total += release_app_selected(&r->apps[i]) && r->apps[i].dir;
    for (size_t i = 0; i < r->napps; i++) {
        const struct release_app *app = &r->apps[i];
        if (!release_app_selected(app) || !app->dir)
            continue;
        kernel = kernel || !strcmp(app->name, "kernel");
        stdlib = stdlib || !strcmp(app->name, "stdlib");
        log_progress_step("lib: application", ++k, total, app->label);
        log_verbose("lib/%s from %s", app->label, app->dir);
        if (spec_app(t, app, lib) != 0)
            return -1;
    }
    if (!kernel || !stdlib)
        return kerr_set(KERR_INPUT, t->c->file, 0, 0, "mandatory application '%s' is not included",
                        kernel ? "stdlib" : "kernel");
    return spec_eval(t, lib, t->dir);
}

/* ---- releases/ ---- */

static int write_terms_file(const char *path, const struct term *t, bool blank_line)
{
    struct buf b = BUF_INIT;
    buf_adds(&b, "%% coding: utf-8\n");
    term_print(&b, t);
    buf_adds(&b, blank_line ? ".\n\n" : ".\n");
    int rc = put_file(path, b.p, b.len, 0644);
    buf_free(&b);
    return rc;
}

/* boot_rel - write VSNDIR/NAME.rel (term REL) and set *PATH to systools' Path for its
 * boot script: the build dir's lib/APP/ebin dirs, then the code path. The base name
 * VSNDIR/NAME, or NULL on error. */
static const char *boot_rel(struct tctx *t, const char *vsndir, const char *name,
                            const struct term *rel, struct relfile_path *path)
{
    const char *base = arena_sprintf(t->a, "%s/%s", vsndir, name);
    if (write_terms_file(arena_sprintf(t->a, "%s.rel", base), rel, true) != 0)
        return NULL;
    const char *pattern = arena_sprintf(t->a, "%s/lib/*/ebin", t->dir);
    *path = (struct relfile_path){0, NULL, NULL};
    relfile_path_expand(t->a, &pattern, 1, path);
    relfile_code_path(t->a, path);
    relfile_path_dedup(path);
    return base;
}

/* make_boot - NAME.rel (term REL) and its NAME.script / NAME.boot in VSNDIR */
static int make_boot(struct tctx *t, const char *vsndir, const char *name, const struct term *rel,
                     bool no_dot_erlang)
{
    struct relfile_path path;
    const char *base = boot_rel(t, vsndir, name, rel, &path);
    return base ? script_make_files(t->a, base, &path, NULL, no_dot_erlang) : -1;
}

static int copy_plain(struct tctx *t, const char *from, const char *to)
{
    size_t len;
    const char *d = fs_read_file(t->a, from, &len);
    return d ? put_file(to, d, len, 0644) : -1;
}

/* relx_boot - NAME.rel (term REL) and NAME.script / NAME.boot in VSNDIR as make_boot, but
 * without systools' missing-sasl warning (relx makes its start_clean and no_dot_erlang
 * boots with no_warn_sasl) */
static int relx_boot(struct tctx *t, const char *vsndir, const char *name, const struct term *rel,
                     bool no_dot_erlang)
{
    struct relfile_path path;
    const char *base = boot_rel(t, vsndir, name, rel, &path);
    if (!base)
        return -1;
    struct script_otp otp;
    struct relfile_release release;
    if (script_learn_otp(t->a, t->c->root_dir, &otp) != 0 ||
        relfile_get_release(t->a, base, &path, &release) != 0)
        return -1;
    const struct term *script = script_make(t->a, &release, &otp, no_dot_erlang);
    return script ? script_write(base, script) : -1;
}

/* relx_layout - what a relx release has beside knit's (rebar3 projects): releases/NAME.rel,
 * no_dot_erlang.boot in releases/VSN and bin/, and bin/NAME-VSN (relx's install script
 * copies it over bin/NAME when a release is made permanent) */
static int relx_layout(struct tctx *t, const char *vsndir, const struct term *rel)
{
    struct arena *a = t->a;
    const struct cfg_rel *boot = t->c->boot_rel;
    if (copy_plain(t, arena_sprintf(a, "%s/%s.rel", vsndir, boot->name),
                   arena_sprintf(a, "%s/releases/%s.rel", t->dir, boot->name)) != 0)
        return -1;
    const struct release_app *k = release_app_find(t->r, "kernel");
    const struct release_app *s = release_app_find(t->r, "stdlib");
    const struct term *apps =
        term_listv(a, 2, term_tuplev(a, 2, term_atomz(a, "kernel"), term_stringz(a, k->vsn)),
                   term_tuplev(a, 2, term_atomz(a, "stdlib"), term_stringz(a, s->vsn)));
    const struct term *rt = term_tuplev(
        a, 4, term_atomz(a, "release"),
        term_tuplev(a, 2, term_stringz(a, "no_dot_erlang"), term_stringz(a, "1.0")),
        term_tuplev(a, 2, term_atomz(a, "erts"), term_stringz(a, t->r->erts_vsn)), apps);
    /* relx's start_clean: kernel, stdlib, and the release's other applications loaded
     * only (type none); shipped as the .boot alone */
    struct term_vec clean = {0};
    term_vec_add(a, &clean, term_list_els(apps, &(size_t){0})[0]);
    term_vec_add(a, &clean, term_list_els(apps, &(size_t){0})[1]);
    size_t nr;
    const struct term *const *ra = term_list_els(rel->u.tuple.el[3], &nr);
    for (size_t i = 0; i < nr; i++) {
        const struct term *an = ra[i]->u.tuple.el[0];
        if (!term_is_atom(an, "kernel") && !term_is_atom(an, "stdlib"))
            term_vec_add(a, &clean,
                         term_tuplev(a, 3, an, ra[i]->u.tuple.el[1], term_atomz(a, "none")));
    }
    const struct term *ct =
        term_tuplev(a, 4, term_atomz(a, "release"),
                    term_tuplev(a, 2, term_stringz(a, "start_clean"), term_stringz(a, "1.0")),
                    term_tuplev(a, 2, term_atomz(a, "erts"), term_stringz(a, t->r->erts_vsn)),
                    term_vec_list(a, &clean));
    if (relx_boot(t, vsndir, "start_clean", ct, false) != 0)
        return -1;
    unlink(arena_sprintf(a, "%s/start_clean.rel", vsndir));
    unlink(arena_sprintf(a, "%s/start_clean.script", vsndir));
    const char *base = arena_sprintf(a, "%s/no_dot_erlang", vsndir);
    if (relx_boot(t, vsndir, "no_dot_erlang", rt, true) != 0)
        return -1;
    unlink(arena_sprintf(a, "%s.rel", base));
    unlink(arena_sprintf(a, "%s.script", base));
    if (copy_plain(t, arena_sprintf(a, "%s.boot", base),
                   arena_sprintf(a, "%s/bin/no_dot_erlang.boot", t->dir)) != 0)
        return -1;
    size_t len;
    const char *d = fs_read_file(a, arena_sprintf(a, "%s/bin/%s", t->dir, boot->name), &len);
    return d ? put_file(arena_sprintf(a, "%s/bin/%s-%s", t->dir, boot->name, boot->vsn), d, len,
                        0755)
             : -1;
}

/* relx_src - with relx's sys.config.src / vm.args.src the start script writes sys.config /
 * vm.args at boot: the defaults are not shipped beside them */
static void relx_src(struct tctx *t)
{
    const char *vsndir = arena_sprintf(t->a, "%s/releases/%s", t->dir, t->c->boot_rel->vsn);
    static const char *const files[] = {"sys.config", "vm.args"};
    for (size_t i = 0; i < 2; i++)
        if (is_regular(arena_sprintf(t->a, "%s/%s.src", vsndir, files[i])))
            unlink(arena_sprintf(t->a, "%s/%s", vsndir, files[i]));
}

static int write_releases(struct tctx *t, struct target_result *res)
{
    struct arena *a = t->a;
    const struct cfg *c = t->c;
    const struct cfg_rel *boot = c->boot_rel;
    const char *rels = arena_sprintf(a, "%s/releases", t->dir);
    const char *vsndir = arena_sprintf(a, "%s/%s", rels, boot->vsn);
    if ((mkdir(rels, 0755) != 0 && errno != EEXIST) ||
        (mkdir(vsndir, 0755) != 0 && errno != EEXIST))
        return kerr_errno(vsndir, "cannot create directory");
    bool have_clean = false;
    for (size_t i = 0; i < c->nrels; i++) {
        const struct cfg_rel *rel = &c->rels[i];
        const struct term *rt = release_rel_term(a, t->r, rel);
        if (!rt || make_boot(t, vsndir, rel->name, rt, !rel->load_dot_erlang) != 0)
            return -1;
        if (rel == boot)
            res->rel = rt;
        have_clean = have_clean || !strcmp(rel->name, "start_clean");
    }
    if (!have_clean && !c->relx_layout) { /* relx_layout makes relx's own */
        /* OTP's start_clean: kernel and stdlib only, in this release's versions */
        const struct release_app *k = release_app_find(t->r, "kernel");
        const struct release_app *s = release_app_find(t->r, "stdlib");
        const struct term *apps =
            term_listv(a, 2, term_tuplev(a, 2, term_atomz(a, "kernel"), term_stringz(a, k->vsn)),
                       term_tuplev(a, 2, term_atomz(a, "stdlib"), term_stringz(a, s->vsn)));
        const struct term *rt = term_tuplev(
            a, 4, term_atomz(a, "release"),
            term_tuplev(a, 2, term_stringz(a, "start_clean"), term_stringz(a, "1.0")),
            term_tuplev(a, 2, term_atomz(a, "erts"), term_stringz(a, t->r->erts_vsn)), apps);
        if (make_boot(t, vsndir, "start_clean", rt, false) != 0)
            return -1;
    }
    if (copy_plain(t, arena_sprintf(a, "%s/%s.boot", vsndir, boot->name),
                   arena_sprintf(a, "%s/start.boot", vsndir)) != 0)
        return -1;
    /* releases/NAME-VSN.rel: what release_handler:unpack_release("NAME-VSN") looks for, so
     * the release tarball and the upgrade tarball both unpack on a running node */
    if (copy_plain(t, arena_sprintf(a, "%s/%s.rel", vsndir, boot->name),
                   arena_sprintf(a, "%s/%s-%s.rel", rels, boot->name, boot->vsn)) != 0)
        return -1;
    /* RELEASES as release_handler:create_RELEASES("", ...) writes it: paths relative to
     * the root, so the release can be moved */
    size_t n;
    const struct term *const *el = term_list_els(res->rel->u.tuple.el[3], &n);
    const struct term **libs = arena_alloc(a, (n ? n : 1) * sizeof *libs);
    for (size_t i = 0; i < n; i++) {
        const struct term *name = el[i]->u.tuple.el[0], *vsn = el[i]->u.tuple.el[1];
        const char *dir = arena_sprintf(a, "lib/%s-%s", name->u.atom.name, term_text(a, vsn));
        libs[i] = term_tuplev(a, 3, name, vsn, term_stringz(a, dir));
    }
    const struct term *release =
        term_tuplev(a, 6, term_atomz(a, "release"), term_stringz(a, boot->name),
                    term_stringz(a, boot->vsn), term_stringz(a, t->r->erts_vsn),
                    term_list(a, libs, n, term_nil()), term_atomz(a, "permanent"));
    if (write_terms_file(arena_sprintf(a, "%s/RELEASES", rels), term_listv(a, 1, release), false) !=
        0)
        return -1;
    const char *data = arena_sprintf(a, "%s %s\n", t->r->erts_vsn, boot->vsn);
    if (put_file(arena_sprintf(a, "%s/start_erl.data", rels), data, strlen(data), 0644) != 0)
        return -1;
    /* defaults for sys.config and vm.args; overlays may replace them */
    struct spec *sys = render(t, "sys.config", "sys.config", 0644);
    struct spec *vm = sys ? render(t, "vm.args", "vm.args", 0644) : NULL;
    if (!vm || spec_eval(t, sys, vsndir) != 0 || spec_eval(t, vm, vsndir) != 0)
        return -1;
    struct spec *bin = spec_new(t, "bin", SPEC_DIR);
    struct spec *script = render(t, "bin_script", boot->name, 0755);
    if (!script)
        return -1;
    spec_add(t, bin, script);
    if (spec_eval(t, bin, t->dir) != 0)
        return -1;
    return c->relx_layout ? relx_layout(t, vsndir, res->rel) : 0;
}

int target_check_config(struct arena *a, const char *vsndir, const char *shown,
                        const char *sys_src)
{
    const char *path = arena_sprintf(a, "%s/sys.config", vsndir);
    const char *shown_sys = sys_src ? sys_src : arena_sprintf(a, "%s/sys.config", shown);
    if (!is_regular(path) && is_regular(arena_sprintf(a, "%s.src", path)))
        /* relx's sys.config.src: bin/NAME writes sys.config from it, at boot and before an
         * upgrade is installed */
        return is_regular(arena_sprintf(a, "%s/vm.args", vsndir)) ||
                       is_regular(arena_sprintf(a, "%s/vm.args.src", vsndir))
                   ? 0
                   : kerr_set(KERR_INPUT, arena_sprintf(a, "%s/vm.args", shown), 0, 0, "missing");
    if (!is_regular(path))
        return kerr_set(KERR_INPUT, shown_sys, 0, 0,
                        "missing: release_handler "
                        "would boot the release without a config");
    const struct term *terms = term_consult_file(a, path);
    if (!terms) {
        struct kerr e;
        kerr_copy(&e);
        return kerr_set(KERR_INPUT, shown_sys, e.line, e.col, "%s", e.msg);
    }
    bool ok = term_list_len(terms) == 1 && term_is_list(terms->u.list.el[0]);
    size_t n = 0;
    const struct term *const *el = ok ? term_list_els(terms->u.list.el[0], &n) : NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (term_is_tuple(el[i], 2) && el[i]->u.tuple.el[0]->type == TERM_ATOM &&
              term_is_list(el[i]->u.tuple.el[1])) ||
             (el[i]->type != TERM_NIL && term_charlist(a, el[i]) != NULL);
    if (!ok)
        return kerr_set(KERR_INPUT, shown_sys, 0, 0,
                        "must hold one list of {Application, Env} terms (or config file "
                        "names); release_handler would install an empty configuration");
    if (!is_regular(arena_sprintf(a, "%s/vm.args", vsndir)) &&
        !is_regular(arena_sprintf(a, "%s/vm.args.src", vsndir)))
        return kerr_set(KERR_INPUT, arena_sprintf(a, "%s/vm.args", shown), 0, 0, "missing");
    return 0;
}

/* check_config - SPEC: sys.config parses as a list of {App, Env} and vm.args exists;
 * messages name the overlay source of sys.config (the file the user edits) when one wrote it */
static int check_config(struct tctx *t, const struct overlay_trace *trace)
{
    const char *vsndir = arena_sprintf(t->a, "%s/releases/%s", t->dir, t->c->boot_rel->vsn);
    const char *rel = arena_sprintf(t->a, "releases/%s", t->c->boot_rel->vsn);
    return target_check_config(
        t->a, vsndir, rel,
        overlay_trace_source(t->a, trace, arena_sprintf(t->a, "%s/sys.config", rel)));
}

/* ---- the build ---- */

/* name_source - when the recorded error names a file in the new build dir (a copy), name
 * the file the user edits instead: lib/APP-VSN/... -> the application's own directory,
 * anything an overlay wrote -> its source (SPEC "Never silent") */
static void name_source(struct tctx *t, const struct overlay_trace *trace)
{
    struct kerr e;
    kerr_copy(&e);
    size_t dl = strlen(t->dir);
    if (strncmp(e.file, t->dir, dl) != 0 || e.file[dl] != '/')
        return;
    const char *rel = e.file + dl + 1;
    const char *src = overlay_trace_source(t->a, trace, rel);
    if (!src && !strncmp(rel, "lib/", 4)) {
        size_t n = strcspn(rel + 4, "/");
        for (size_t i = 0; i < t->r->napps && !src; i++) {
            const struct release_app *app = &t->r->apps[i];
            if (app->dir && strlen(app->label) == n && !strncmp(app->label, rel + 4, n))
                src = arena_sprintf(t->a, "%s%s", app->dir, rel + 4 + n);
        }
    }
    if (!src)
        src = arena_sprintf(t->a, "%s/%s", t->r->cfg->target_dir, rel); /* where it will be */
    snprintf(e.file, sizeof e.file, "%s", src);
    kerr_restore(&e);
}

static int build_tree(struct tctx *t, struct target_result *res)
{
    const struct cfg *c = t->c;
    struct overlay_trace trace = {0};
    int rc = -1;
    if (write_lib(t) != 0)
        goto done;
    if (c->include_erts && write_erts(t) != 0)
        goto done;
    if (write_releases(t, res) != 0)
        goto done;
    struct overlay_vars_src src = {.cfg_file = c->file,
                                   .cfg_dir = c->dir,
                                   .overlay_vars = c->overlay_vars,
                                   .extra_overlay_vars = c->extra_overlay_vars,
                                   .ncli = c->nvars,
                                   .cli_names = c->var_names,
                                   .cli_values = c->var_values,
                                   .rel_name = c->boot_rel->name,
                                   .rel_vsn = c->boot_rel->vsn,
                                   .erts_vsn = t->r->erts_vsn,
                                   .target_dir = c->target_dir,
                                   .build_dir = res->build_dir};
    json_t *ctx = overlay_context(t->a, &src);
    if (!ctx)
        goto done;
    rc = overlay_apply_traced(t->a, c->overlay, c->file, c->dir, t->dir, ctx, &trace);
    json_decref(ctx);
    if (rc == 0 && c->relx_layout)
        relx_src(t);
    if (rc == 0)
        rc = check_config(t, &trace);
done:
    if (rc != 0)
        name_source(t, &trace);
    return rc;
}

void target_finish(struct target_result *res)
{
    if (res->old_dir)
        fs_remove_tree(res->old_dir);
    res->old_dir = NULL;
    if (res->streamed && res->build_dir) {
        fs_remove_tree(res->build_dir);
        res->build_dir = NULL;
    }
}

static int cmp_vfile(const void *x, const void *y)
{
    return strcmp(((const struct tarball_vfile *)x)->name, ((const struct tarball_vfile *)y)->name);
}

static int cmp_beam_name(const void *x, const void *y)
{
    return strcmp(((const struct appup_beam *)x)->name, ((const struct appup_beam *)y)->name);
}

const struct appup_beam *target_beams(struct arena *a, const struct target_result *res,
                                      const char *dir, size_t *n)
{
    *n = 0;
    const char *ebin = arena_sprintf(a, "lib/%s/ebin/", dir);
    size_t el = strlen(ebin), m = 0;
    struct appup_beam *v;
    if (res->streamed) {
        /* the virtual files of lib/DIR/ebin/ are one run of the sorted list */
        size_t lo = 0, hi = res->nvfiles;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(res->vfiles[mid].name, ebin) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (hi = lo; hi < res->nvfiles && !strncmp(res->vfiles[hi].name, ebin, el); hi++)
            ;
        v = arena_alloc(a, (hi - lo + 1) * sizeof *v);
        for (size_t i = lo; i < hi; i++) {
            const char *file = res->vfiles[i].name + el;
            if (!strchr(file, '/') && fs_stem(file, ".beam"))
                v[m++] = (struct appup_beam){file, res->vfiles[i].data, res->vfiles[i].len,
                                             res->vfiles[i].src};
        }
    } else {
        const char *path = arena_sprintf(a, "%s/%s", res->build_dir, ebin);
        DIR *d = opendir(path);
        if (!d) {
            kerr_errno(path, "cannot list");
            return NULL;
        }
        size_t cap = 64;
        v = arena_alloc(a, cap * sizeof *v);
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (!fs_stem(e->d_name, ".beam"))
                continue;
            if (m == cap) {
                struct appup_beam *w = arena_alloc(a, 2 * cap * sizeof *w);
                memcpy(w, v, m * sizeof *v);
                v = w;
                cap *= 2;
            }
            const char *name = arena_strdup(a, e->d_name);
            v[m++] = (struct appup_beam){name, NULL, 0, arena_sprintf(a, "%s%s", path, name)};
        }
        closedir(d);
        qsort(v, m, sizeof *v, cmp_beam_name);
    }
    *n = m;
    return v;
}

const char *target_path(struct arena *a, const struct target_result *res, const char *rel)
{
    if (res->streamed) {
        struct tarball_vfile key = {rel, NULL, NULL, 0, 0, NULL};
        const struct tarball_vfile *f =
            res->nvfiles ? bsearch(&key, res->vfiles, res->nvfiles, sizeof key, cmp_vfile) : NULL;
        if (f)
            return f->src;
    }
    return arena_sprintf(a, "%s/%s", res->build_dir, rel);
}

/* swap_in - the new build dir T->dir in place of $target_dir/NAME; the earlier one is set
 * aside (RES->old_dir, for target_finish), and goes only once the new one is complete */
static int swap_in(struct tctx *t, struct target_result *res)
{
    const char *old = arena_sprintf(t->a, "%s/.%s.knit-old-%ld", t->c->target_dir,
                                    t->c->boot_rel->name, (long)getpid());
    bool had_old = access(res->build_dir, F_OK) == 0;
    if (had_old && rename(res->build_dir, old) != 0)
        return kerr_errno(res->build_dir, "cannot move the earlier build dir aside");
    if (rename(t->dir, res->build_dir) != 0) {
        kerr_errno(res->build_dir, "cannot move the new build dir into place");
        if (had_old)
            rename(old, res->build_dir);
        return -1;
    }
    if (had_old)
        res->old_dir = old;
    log_info("built %s", res->build_dir);
    return 0;
}

int target_build(struct arena *a, const struct release *r, bool force, bool pack, bool stream,
                 struct target_result *res)
{
    const struct cfg *c = r->cfg;
    const struct cfg_rel *boot = c->boot_rel;
    memset(res, 0, sizeof *res);
    res->rel_name = boot->name;
    res->rel_vsn = boot->vsn;
    res->erts_vsn = r->erts_vsn;
    res->build_dir = arena_sprintf(a, "%s/%s", c->target_dir, boot->name);
    res->tarball = arena_sprintf(a, "%s/%s-%s.tar.gz", c->release_dir, boot->name, boot->vsn);
    struct tarball_opts topts;
    if (tarball_opts_from_env(&topts, force) != 0)
        return -1;
    (void)force; /* an existing tarball is judged when the staged one is committed */
    if (!pack)
        res->tarball = NULL;
    else
        res->tarball_stage = fs_stage_path(a, res->tarball);
    if (fs_mkdirs(c->target_dir) != 0)
        return -1;
    if (!stream && !guard_owned(res->build_dir, GUARD_BUILD_MARKER))
        return kerr_set(KERR_INPUT, c->file, 0, 0,
                        "the build dir '%s' exists and was not made by knit (no '%s' in it): "
                        "refusing to replace it; move it away or choose another target_dir",
                        res->build_dir, GUARD_BUILD_MARKER);
    struct tctx t = {.a = a, .r = r, .c = c, .tmpl_dir = template_dir(a), .stream = stream};
    t.dir = arena_sprintf(a, "%s/.%s.knit-new-%ld", c->target_dir, boot->name, (long)getpid());
    t.tctx = json_pack("{s:s, s:s, s:s}", "rel_name", boot->name, "rel_vsn", boot->vsn, "erts_vsn",
                       r->erts_vsn);
    fs_remove_tree(t.dir);
    int rc = -1;
    if (mkdir(t.dir, 0755) != 0) {
        kerr_errno(t.dir, "cannot create directory");
        goto done;
    }
    static const char note[] = "made by knit; not packed\n";
    if (fs_write_atomic(arena_sprintf(a, "%s/%s", t.dir, GUARD_BUILD_MARKER), note, sizeof note - 1,
                        0644) != 0)
        goto done;
    if (build_tree(&t, res) != 0) /* overlays see $target_dir/NAME as {{build_dir}} */
        goto done;
    if (stream) {
        /* no build dir: the staging dir stays until target_finish, for the later phases */
        res->build_dir = t.dir;
        if (t.nvf)
            qsort(t.vf, t.nvf, sizeof *t.vf, cmp_vfile);
        res->streamed = true;
        res->vfiles = t.vf;
        res->nvfiles = t.nvf;
        log_info("streamed %s (%zu files from their sources, no build dir)", boot->name, t.nvf);
    } else if (swap_in(&t, res) != 0) {
        goto done;
    }
    if (pack) {
        log_progress("packing %s ...", res->tarball);
        topts.force = true; /* the staged path is this run's own */
        if (fs_mkdirs(c->release_dir) != 0 ||
            tarball_pack_tree(res->tarball_stage, res->build_dir, NULL, 0, res->vfiles,
                              res->nvfiles, &topts) != 0)
            goto done;
        log_verbose("packed %s (renamed into place when the run succeeds)", res->tarball_stage);
    }
    rc = 0;
done:
    if (rc != 0) {
        fs_remove_tree(t.dir);
        if (stream)
            res->build_dir = NULL;
    }
    json_decref(t.tctx);
    filters_free(&t);
    return rc;
}
