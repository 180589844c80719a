/* upgrade.c - earlier releases (found, filtered, extracted safely) and slim upgrade tarballs */
#include "upgrade.h"

#include "beam.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "relfile.h"
#include "release.h"
#include "target.h"
#include "tarball.h"
#include "term_parse.h"
#include "vsn.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tarball_path(struct arena *a, const struct cfg *c, const char *name,
                                const char *vsn)
{
    return arena_sprintf(a, "%s/%s-%s.tar.gz", c->release_dir, name, vsn);
}

/* relx_rel - with relx's layout (rebar3 projects), the .rel of VSN that relx left unpacked
 * in $release_dir/releases/VSN (rebar3 release / tar keep each version they built), or NULL */
static const char *relx_rel(struct arena *a, const struct cfg *c, const char *name, const char *vsn)
{
    if (!c->relx_layout)
        return NULL;
    const char *f = arena_sprintf(a, "%s/releases/%s/%s.rel", c->release_dir, vsn, name);
    return access(f, R_OK) == 0 ? f : NULL;
}

/* relx_linked - the first lib/APP-AVSN of REL (read) under ROOT that is a symlink: relx's
 * dev_mode links them into _build, which holds the new code by now; NULL when none is */
static const char *relx_linked(struct arena *a, const char *root, const struct relfile_rel *rel)
{
    for (size_t i = 0; i < rel->napps; i++) {
        const char *d = arena_sprintf(a, "%s/lib/%s-%s", root, rel->apps[i].name, rel->apps[i].vsn);
        struct stat st;
        if (lstat(d, &st) == 0 && S_ISLNK(st.st_mode))
            return d;
    }
    return NULL;
}

/* named - the explicitly named versions, each checked to have a tarball */
static int named(struct arena *a, const struct cfg *c, const char *name, const char *current,
                 const char *const *v, size_t n, const char *what, const char ***out, size_t *nout)
{
    const char **r = arena_alloc(a, (n ? n : 1) * sizeof *r);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = tarball_path(a, c, name, v[i]);
        if (strcmp(v[i], current) == 0) {
            log_warn("%s names the version being built, %s: skipped", what, v[i]);
            continue;
        }
        if (access(t, R_OK) != 0 && !relx_rel(a, c, name, v[i]))
            return kerr_set(KERR_INPUT, NULL, 0, 0,
                            "%s names version '%s' but there is no release tarball for it: "
                            "looked for '%s'",
                            what, v[i], t);
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup = dup || strcmp(r[j], v[i]) == 0;
        if (!dup)
            r[k++] = v[i];
    }
    vsn_sort(r, k, c->semver);
    *out = r;
    *nout = k;
    return 0;
}

/* exclude - record release V as not upgraded from, and why */
static void exclude(struct arena *a, struct upgrade_excluded **ex, size_t *nex, size_t *cap,
                    const char *v, const char *why, bool later)
{
    log_verbose("release %s %s", v, why);
    if (*nex == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct upgrade_excluded *g = arena_alloc(a, nc * sizeof *g);
        if (*nex)
            memcpy(g, *ex, *nex * sizeof *g);
        *ex = g;
        *cap = nc;
    }
    (*ex)[*nex].later = later;
    (*ex)[*nex].vsn = v;
    (*ex)[(*nex)++].why = why;
}

int upgrade_versions(struct arena *a, const struct cfg *c, const char *name, const char *current,
                     const char *const *from, size_t nfrom, const char ***out, size_t *n,
                     struct upgrade_excluded **excl, size_t *nexcl)
{
    size_t ecap = 0;
    *excl = NULL;
    *nexcl = 0;
    if (nfrom > 0)
        return named(a, c, name, current, from, nfrom, "--from", out, n);
    if (c->upgrade_versions)
        return named(a, c, name, current, c->upgrade_versions, c->nupgrade_versions,
                     "upgrade_versions", out, n);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(c->release_dir);
    if (!d)
        return 0; /* no release dir yet: a first release */
    pcre2_code *re = NULL;
    if (c->version_regex) {
        int err;
        PCRE2_SIZE off;
        re = pcre2_compile((PCRE2_SPTR)c->version_regex, PCRE2_ZERO_TERMINATED,
                           PCRE2_UTF | c->version_regex_compile_flags, &err, &off, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            closedir(d);
            return kerr_set(KERR_INPUT, c->file, 0, 0, "option '%s' '%s': %s at %zu",
                            c->version_regex_opt ? c->version_regex_opt : "version_regex",
                            c->version_regex, (char *)msg, (size_t)off);
        }
    }
    pcre2_match_data *md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
    size_t cap = 16, k = 0;
    const char **r = xmalloc(cap * sizeof *r);
    size_t plen = strlen(name);
    /* the candidates: NAME-VSN.tar.gz, and with relx's layout releases/VSN/NAME.rel */
    struct term_vec cand = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        size_t len = strlen(f);
        if (len <= plen + 1 + 7 || strncmp(f, name, plen) != 0 || f[plen] != '-' ||
            strcmp(f + len - 7, ".tar.gz") != 0)
            continue;
        term_vec_add(a, &cand, term_string(a, f + plen + 1, len - plen - 1 - 7));
    }
    closedir(d);
    d = c->relx_layout ? opendir(arena_sprintf(a, "%s/releases", c->release_dir)) : NULL;
    while (d && (de = readdir(d)) != NULL) {
        const char *v = arena_strdup(a, de->d_name);
        if (v[0] == '.' || !relx_rel(a, c, name, v) ||
            access(tarball_path(a, c, name, v), F_OK) == 0)
            continue;
        struct relfile_path none = {0, NULL, NULL};
        struct relfile_rel rr;
        const char *base = arena_sprintf(a, "%s/releases/%s/%s", c->release_dir, v, name);
        const char *link = NULL;
        if (relfile_read_rel(a, base, &none, &rr) != 0 ||
            (link = relx_linked(a, c->release_dir, &rr)) != NULL) {
            kerr_clear();
            log_verbose("relx's release %s in %s: not upgraded from (%s)", v, c->release_dir,
                        link ? "built with dev_mode: its applications link into _build"
                             : "unreadable .rel");
            continue;
        }
        term_vec_add(a, &cand, term_stringz(a, v));
    }
    if (d)
        closedir(d);
    for (size_t ci = 0; ci < cand.n; ci++) {
        const char *v = term_text(a, cand.v[ci]);
        if (vsn_compare(v, current, c->semver) >= 0) {
            /* only earlier releases: an upgrade from a later one would go backwards */
            if (strcmp(v, current) != 0)
                exclude(a, excl, nexcl, &ecap, v,
                        arena_sprintf(a, "is not older than %s (by %s order): an upgrade from it "
                                         "would go backwards",
                                      current, c->semver ? "semver" : "byte"),
                        true);
            continue;
        }
        if (re && pcre2_match(re, (PCRE2_SPTR)v, strlen(v), 0, c->version_regex_match_flags, md,
                              NULL) < 0) {
            exclude(a, excl, nexcl, &ecap, v,
                    arena_sprintf(a, "does not match %s '%s'",
                                  c->version_regex_opt ? c->version_regex_opt : "version_regex",
                                  c->version_regex),
                    false);
            continue;
        }
        if (c->version_min && vsn_compare(v, c->version_min, c->semver) < 0) {
            exclude(a, excl, nexcl, &ecap, v,
                    arena_sprintf(a, "is older than version_min %s", c->version_min), false);
            continue;
        }
        if (k == cap)
            r = xrealloc(r, (cap *= 2) * sizeof *r);
        r[k++] = v;
    }
    if (md)
        pcre2_match_data_free(md);
    if (re)
        pcre2_code_free(re);
    const char **res = arena_alloc(a, (k ? k : 1) * sizeof *res);
    if (k)
        memcpy(res, r, k * sizeof *res);
    free(r);
    vsn_sort(res, k, c->semver);
    *out = res;
    *n = k;
    return 0;
}

/* comp - component K (from 0) of the path NAME, as a pointer and a length; false when
 * there is none */
static bool comp(const char *name, int k, const char **p, size_t *n)
{
    for (;;) {
        size_t len = strcspn(name, "/");
        if (k-- == 0) {
            *p = name;
            *n = len;
            return len > 0;
        }
        if (!name[len])
            return false;
        name += len + 1;
    }
}

static bool comp_is(const char *name, int k, const char *want)
{
    const char *p;
    size_t n;
    return comp(name, k, &p, &n) && n == strlen(want) && !memcmp(p, want, n);
}

/* What upgrade_extract takes from an earlier release (see upgrade.h), in either layout (top
 * level or under NAME/). */
struct take_ctx {
    struct arena *a;
    const struct relfile_rel *now;
    const struct target_result *built; /* the new release, for same-version beams; or NULL */
    struct upgrade_from *out;
    size_t cap;
    const char **seen; /* DIR/FILE of each same-version beam compared */
    size_t nseen, seencap;
    size_t changedcap;
};

/* ebin_file - whether NAME is [X/]lib/DIR/ebin/FILE (with TOP = 0 or 1 leading components) */
static bool ebin_file(const char *name, int top, const char **dir, size_t *dn, const char **file)
{
    size_t fn;
    return comp_is(name, top, "lib") && comp(name, top + 1, dir, dn) &&
           comp_is(name, top + 2, "ebin") && comp(name, top + 3, file, &fn) && (*file)[fn] == 0;
}

/* same_version - whether DIR (DN bytes, APP-AVSN) is an application version NOW has too */
static bool same_version(const struct relfile_rel *now, const char *dir, size_t dn)
{
    for (size_t i = 0; now && i < now->napps; i++) {
        size_t an = strlen(now->apps[i].name), vn = strlen(now->apps[i].vsn);
        if (dn == an + 1 + vn && !memcmp(dir, now->apps[i].name, an) && dir[an] == '-' &&
            !memcmp(dir + an + 1, now->apps[i].vsn, vn))
            return true;
    }
    return false;
}

static enum tarball_choice choose(const char *name, void *ctx)
{
    const struct take_ctx *t = ctx;
    for (int top = 0; top < 2; top++) {
        if (comp_is(name, top, "releases"))
            return TARBALL_WRITE;
        const char *dir = NULL, *file = NULL;
        size_t dn = 0;
        if (!ebin_file(name, top, &dir, &dn, &file))
            continue;
        if (fs_stem(file, ".app") || fs_stem(file, ".appup"))
            return TARBALL_WRITE;
        if (!fs_stem(file, ".beam"))
            continue;
        if (same_version(t->now, dir, dn)) /* no appup: only compared (SPEC "Never silent") */
            return t->built ? TARBALL_READ : TARBALL_SKIP;
        return TARBALL_READ;
    }
    return TARBALL_SKIP;
}

static void add_changed(struct take_ctx *t, const char *dir, const char *mod, const char *how)
{
    struct upgrade_from *o = t->out;
    if (o->nchanged == t->changedcap) {
        t->changedcap = t->changedcap ? 2 * t->changedcap : 16;
        struct upgrade_changed *v = arena_alloc(t->a, t->changedcap * sizeof *v);
        if (o->nchanged)
            memcpy(v, o->changed, o->nchanged * sizeof *v);
        o->changed = v;
    }
    o->changed[o->nchanged++] = (struct upgrade_changed){dir, mod, how};
}

/* same_code - whether the old beam DATA and the new one at PATH have the same
 * beam_lib:md5 (equal bytes first: the common case, no parsing) */
static bool same_code(const char *path, const void *data, size_t len)
{
    struct arena s;
    arena_init(&s);
    size_t nlen;
    struct kerr saved;
    kerr_copy(&saved);
    const char *now = fs_read_file(&s, path, &nlen);
    bool same = now && nlen == len && !memcmp(now, data, len);
    struct beam_info bo, bn;
    if (now && !same && beam_read_facts(&s, path, (const uint8_t *)now, nlen, &bn) == 0 &&
        beam_read_facts(&s, path, data, len, &bo) == 0)
        same = !memcmp(bo.md5, bn.md5, sizeof bo.md5);
    kerr_restore(&saved);
    arena_close(&s);
    return same;
}

/* compare_same - an earlier beam of an application version the new release has too */
static void compare_same(struct take_ctx *t, const char *dir, size_t dn, const char *file,
                         const void *data, size_t len)
{
    const char *d = arena_memdup(t->a, dir, dn);
    const char *path = target_path(t->a, t->built, arena_sprintf(t->a, "lib/%s/ebin/%s", d, file));
    if (t->nseen == t->seencap) {
        t->seencap = t->seencap ? 2 * t->seencap : 256;
        const char **v = arena_alloc(t->a, t->seencap * sizeof *v);
        if (t->nseen)
            memcpy(v, t->seen, t->nseen * sizeof *v);
        t->seen = v;
    }
    t->seen[t->nseen++] = arena_sprintf(t->a, "%s/%s", d, file);
    const char *mod = arena_memdup(t->a, file, fs_stem(file, ".beam"));
    if (access(path, F_OK) != 0)
        add_changed(t, d, mod, "removed");
    else if (!same_code(path, data, len))
        add_changed(t, d, mod, "changed");
}

static int take(const char *name, const void *data, size_t len, void *ctx)
{
    struct take_ctx *t = ctx;
    const char *dir = NULL, *file = NULL;
    size_t dn = 0;
    if (!ebin_file(name, 0, &dir, &dn, &file) && !ebin_file(name, 1, &dir, &dn, &file))
        return 0; /* choose asks only for ebin files */
    if (same_version(t->now, dir, dn)) {
        compare_same(t, dir, dn, file, data, len);
        return 0;
    }
    struct upgrade_from *o = t->out;
    if (o->nbeams == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        struct upgrade_file *v = arena_alloc(t->a, t->cap * sizeof *v);
        if (o->nbeams)
            memcpy(v, o->beams, o->nbeams * sizeof *v);
        o->beams = v;
    }
    o->beams[o->nbeams++] = (struct upgrade_file){
        arena_memdup(t->a, dir, dn), {arena_strdup(t->a, file), arena_memdup(t->a, data, len), len, NULL}};
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int cmp_changed(const void *x, const void *y)
{
    const struct upgrade_changed *p = x, *q = y;
    int c = strcmp(p->dir, q->dir);
    return c ? c : strcmp(p->module, q->module);
}

/* added_same - beams of same-version applications that the earlier release lacks */
static int added_same(struct take_ctx *t)
{
    struct upgrade_from *o = t->out;
    if (t->nseen)
        qsort(t->seen, t->nseen, sizeof *t->seen, cmp_str);
    for (size_t i = 0; i < o->rel.napps; i++) {
        const char *d = arena_sprintf(t->a, "%s-%s", o->rel.apps[i].name, o->rel.apps[i].vsn);
        if (!same_version(t->now, d, strlen(d)))
            continue;
        struct kerr saved;
        kerr_copy(&saved);
        size_t nb;
        const struct appup_beam *b = target_beams(t->a, t->built, d, &nb);
        kerr_restore(&saved); /* an ebin that cannot be listed has nothing added */
        for (size_t k = 0; b && k < nb; k++) {
            const char *key = arena_sprintf(t->a, "%s/%s", d, b[k].name);
            if (!t->nseen || !bsearch(&key, t->seen, t->nseen, sizeof *t->seen, cmp_str))
                add_changed(t, d, arena_memdup(t->a, b[k].name, fs_stem(b[k].name, ".beam")),
                            "added");
        }
    }
    return 0;
}

static int cmp_file(const void *x, const void *y)
{
    const struct upgrade_file *p = x, *q = y;
    int c = strcmp(p->dir, q->dir);
    return c ? c : strcmp(p->beam.name, q->beam.name);
}

const struct appup_beam *upgrade_beams(struct arena *a, const struct upgrade_from *f,
                                       const char *app, const char *avsn, size_t *n)
{
    const char *dir = arena_sprintf(a, "%s-%s", app, avsn);
    size_t lo = 0, hi = f->nbeams;
    while (lo < hi) { /* the first file of DIR or after it (f->beams is sorted) */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(f->beams[mid].dir, dir) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (hi = lo; hi < f->nbeams && !strcmp(f->beams[hi].dir, dir); hi++)
        ;
    struct appup_beam *v = arena_alloc(a, (hi - lo + 1) * sizeof *v);
    for (size_t i = lo; i < hi; i++)
        v[i - lo] = f->beams[i].beam;
    *n = hi - lo;
    return v;
}

/* from_relx_dir - upgrade_extract for a release relx left unpacked in $release_dir: read in
 * place; the beams of application versions NOW lacks are read into memory, those of versions
 * it has too compared with BUILD_DIR's (when given), as from a tarball */
static int from_relx_dir(struct arena *a, const struct cfg *c, const char *name, const char *vsn,
                         const struct relfile_rel *now, const struct target_result *built,
                         struct upgrade_from *out)
{
    out->root = c->release_dir;
    out->tarball = arena_sprintf(a, "%s/releases/%s", c->release_dir, vsn);
    const char *base = arena_sprintf(a, "%s/releases/%s/%s", out->root, vsn, name);
    out->rel_file = arena_sprintf(a, "%s.rel", base);
    struct relfile_path none = {0, NULL, NULL};
    if (relfile_read_rel(a, base, &none, &out->rel) != 0)
        return -1;
    const char *link = relx_linked(a, out->root, &out->rel);
    if (link)
        return kerr_set(KERR_INPUT, link, 0, 0,
                        "release %s was built with relx's dev_mode: its applications link "
                        "into _build, which holds the new code; build it with 'rebar3 tar'",
                        vsn);
    log_verbose("reading relx's release %s in %s", vsn, out->root);
    struct take_ctx tc = {.a = a, .now = now, .built = built, .out = out};
    for (size_t i = 0; i < out->rel.napps; i++) {
        const char *dir = arena_sprintf(a, "%s-%s", out->rel.apps[i].name, out->rel.apps[i].vsn);
        if (!built && same_version(now, dir, strlen(dir)))
            continue; /* no appup, nothing to compare with */
        const char *rel = arena_sprintf(a, "lib/%s/ebin", dir);
        DIR *d = opendir(arena_sprintf(a, "%s/%s", out->root, rel));
        if (!d)
            continue; /* the relup step reports an application it cannot find */
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!fs_stem(e->d_name, ".beam"))
                continue;
            size_t len;
            const char *name_in = arena_sprintf(a, "%s/%s", rel, e->d_name);
            const char *data = fs_read_file(a, arena_sprintf(a, "%s/%s", out->root, name_in), &len);
            if (!data) {
                closedir(d);
                return -1;
            }
            take(name_in, data, len, &tc);
        }
        closedir(d);
    }
    if (out->nbeams)
        qsort(out->beams, out->nbeams, sizeof *out->beams, cmp_file);
    if (built && added_same(&tc) != 0)
        return -1;
    if (out->nchanged)
        qsort(out->changed, out->nchanged, sizeof *out->changed, cmp_changed);
    return 0;
}

int upgrade_extract(struct arena *a, const struct cfg *c, const char *name, const char *vsn,
                    const struct relfile_rel *now, const struct target_result *built,
                    struct upgrade_from *out)
{
    memset(out, 0, sizeof *out);
    out->vsn = vsn;
    out->tarball = tarball_path(a, c, name, vsn);
    if (access(out->tarball, R_OK) != 0 && relx_rel(a, c, name, vsn))
        return from_relx_dir(a, c, name, vsn, now, built, out);
    const char *dest = arena_sprintf(a, "%s/from/%s", c->tmp_dir, vsn);
    if (fs_remove_tree(dest) != 0 || fs_mkdirs(dest) != 0)
        return -1;
    log_verbose("extracting %s", out->tarball);
    log_progress("extracting %s ...", out->tarball);
    struct take_ctx tc = {.a = a, .now = now, .built = built, .out = out};
    struct tarball_filter filter = {choose, take, &tc};
    if (tarball_extract_limited(out->tarball, dest, &filter, &c->limits) != 0)
        return -1;
    /* by directory, for upgrade_beams; a file twice is refused, as extracting it would be */
    if (out->nbeams)
        qsort(out->beams, out->nbeams, sizeof *out->beams, cmp_file);
    for (size_t i = 1; i < out->nbeams; i++)
        if (!cmp_file(&out->beams[i - 1], &out->beams[i]))
            return kerr_set(KERR_INPUT, out->tarball, 0, 0,
                            "refusing entry 'lib/%s/ebin/%s': it is in the archive twice",
                            out->beams[i].dir, out->beams[i].beam.name);
    char *root = tarball_release_root(dest, out->tarball);
    if (!root)
        return -1;
    out->root = arena_strdup(a, root);
    free(root);
    const char *base = arena_sprintf(a, "%s/releases/%s/%s", out->root, vsn, name);
    out->rel_file = arena_sprintf(a, "%s.rel", base);
    if (access(out->rel_file, R_OK) != 0)
        return kerr_set(KERR_INPUT, out->tarball, 0, 0,
                        "not a release of '%s' %s: no 'releases/%s/%s.rel' in it", name, vsn, vsn,
                        name);
    struct stat st;
    if (lstat(out->rel_file, &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size > c->max_rel_bytes)
        return kerr_set(KERR_INPUT, out->tarball, 0, 0,
                        "refusing entry 'releases/%s/%s.rel': %lld bytes, over the limit of %llu "
                        "(raise it with the option 'extract_max_rel_bytes')",
                        vsn, name, (long long)st.st_size, c->max_rel_bytes);
    struct relfile_path none = {0, NULL, NULL};
    if (relfile_read_rel(a, base, &none, &out->rel) != 0)
        return -1;
    for (size_t i = 0; i < out->rel.napps; i++) {
        const char *an = out->rel.apps[i].name, *av = out->rel.apps[i].vsn;
        /* both make the path lib/NAME-VSN that is read: no way out of the tmp dir */
        if (!fs_plain_name(an) || !fs_plain_name(av))
            return kerr_set(KERR_INPUT, out->tarball, 0, 0,
                            "releases/%s/%s.rel: application '%s' version '%s' is not a plain "
                            "name (no '/', not '.' or '..')",
                            vsn, name, an, av);
        /* a broken .app would otherwise make the relup look for the version elsewhere and
         * blame the new release's .app */
        const char *app = arena_sprintf(a, "%s/lib/%s-%s/ebin/%s.app", out->root, an, av, an);
        struct stat ast;
        if (lstat(app, &ast) != 0)
            continue;
        const struct term *t = term_consult_file(a, app);
        if (!t)
            return kerr_wrap(arena_sprintf(a, "in the earlier release %s: ", out->tarball), "");
        size_t nt;
        const struct term *const *el = term_list_els(t, &nt);
        if (nt != 1 || !term_is_tuple(el[0], 3) ||
            !term_is_atom(el[0]->u.tuple.el[0], "application") ||
            !term_is_atom(el[0]->u.tuple.el[1], an) || !term_is_list(el[0]->u.tuple.el[2]))
            return kerr_set(KERR_INPUT, app, 0, 0,
                            "in the earlier release %s: expected one term "
                            "{application, %s, [...]}",
                            out->tarball, an);
    }
    if (strcmp(out->rel.vsn, vsn) != 0)
        return kerr_set(KERR_INPUT, out->tarball, 0, 0,
                        "its release file says version '%s', the tarball name says '%s'",
                        out->rel.vsn, vsn);
    if (built && added_same(&tc) != 0)
        return -1;
    if (out->nchanged)
        qsort(out->changed, out->nchanged, sizeof *out->changed, cmp_changed);
    return 0;
}

static bool from_has_app(const struct upgrade_from *f, const char *app, const char *vsn)
{
    for (size_t i = 0; i < f->rel.napps; i++)
        if (!strcmp(f->rel.apps[i].name, app) && !strcmp(f->rel.apps[i].vsn, vsn))
            return true;
    return false;
}

int upgrade_pack(struct arena *a, const struct cfg *c, const struct target_result *built,
                 const struct relfile_rel *new_rel, const struct upgrade_from *from, size_t nfrom,
                 const char **path, const char **stage)
{
    const char *build_dir = built->build_dir;
    const char *name = new_rel->name, *vsn = new_rel->vsn;
    const char *reldir = arena_sprintf(a, "%s/releases/%s", build_dir, vsn);
    if (target_check_config(a, reldir, reldir, NULL) != 0)
        return -1;
    size_t cap = new_rel->napps + 18, n = 0;
    const char **paths = arena_alloc(a, cap * sizeof *paths);
    for (size_t i = 0; i < new_rel->napps; i++) {
        const char *app = new_rel->apps[i].name, *avsn = new_rel->apps[i].vsn;
        bool lacking = false;
        for (size_t f = 0; f < nfrom; f++)
            lacking = lacking || !from_has_app(&from[f], app, avsn);
        if (lacking)
            paths[n++] = arena_sprintf(a, "lib/%s-%s", app, avsn);
    }
    bool erts_changed = false;
    for (size_t f = 0; f < nfrom; f++)
        erts_changed = erts_changed || strcmp(from[f].rel.erts_vsn, new_rel->erts_vsn) != 0;
    const char *erts = arena_sprintf(a, "erts-%s", new_rel->erts_vsn);
    if (erts_changed) {
        if (fs_is_dir(arena_sprintf(a, "%s/%s", build_dir, erts)))
            paths[n++] = erts;
        else
            log_warn("the ERTS version changes to %s but the release does not include ERTS "
                     "(include_erts is false): the node must already have it",
                     new_rel->erts_vsn);
    }
    /* releases/VSN/ files; SUFFIX files are named NAME.SUFFIX */
    static const struct {
        const char *file;
        bool suffix;
    } files[] = {{".rel", true},         {"relup", false},      {".boot", true},
                 {"start.boot", false},  {"start_clean.boot", false},
                 {"sys.config", false},  {"vm.args", false}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *fname =
            files[i].suffix ? arena_sprintf(a, "%s%s", name, files[i].file) : files[i].file;
        const char *rel = arena_sprintf(a, "releases/%s/%s", vsn, fname);
        const char *src = arena_sprintf(a, "%s.src", rel); /* relx's sys.config.src & co. */
        if (i >= 5 && access(arena_sprintf(a, "%s/%s", build_dir, src), R_OK) == 0) {
            paths[n++] = src;
            if (access(arena_sprintf(a, "%s/%s", build_dir, rel), R_OK) != 0)
                continue;
        }
        if (access(arena_sprintf(a, "%s/%s", build_dir, rel), R_OK) != 0)
            return kerr_set(KERR_BUILD, build_dir, 0, 0, "cannot pack the upgrade: '%s' is missing",
                            rel);
        paths[n++] = rel;
    }
    const char *toprel = arena_sprintf(a, "releases/%s-%s.rel", name, vsn);
    if (access(arena_sprintf(a, "%s/%s", build_dir, toprel), R_OK) != 0)
        return kerr_set(KERR_BUILD, build_dir, 0, 0, "cannot pack the upgrade: '%s' is missing",
                        toprel);
    paths[n++] = toprel;
    if (fs_mkdirs(c->upgrade_dir) != 0)
        return -1;
    struct tarball_opts o;
    if (tarball_opts_from_env(&o, true) != 0)
        return -1;
    *path = arena_sprintf(a, "%s/%s-%s.tar.gz", c->upgrade_dir, name, vsn);
    *stage = fs_stage_path(a, *path);
    log_progress("packing %s ...", *path);
    return tarball_pack_tree(*stage, build_dir, paths, n, built->vfiles, built->nvfiles, &o);
}
