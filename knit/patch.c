/* patch.c - plan a hot patch: compare beams with loaded md5s, generate their instructions as
 * for an appup, translate them with knit's systools_rc port */
#include "patch.h"

#include "beam.h"
#include "fsutil.h"
#include "kerr.h"
#include "rc.h"
#include "relfile.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_name(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int cmp_beam(const void *x, const void *y)
{
    const struct patch_beam *p = x, *q = y;
    return strcmp(p->module, q->module);
}

/* read_one - PATH into B: its bytes and facts */
static int read_one(struct arena *a, const char *path, struct patch_beam *b)
{
    size_t len;
    char *data = fs_read_file(a, path, &len);
    if (!data)
        return -1;
    struct beam_info bi;
    if (beam_read_facts(a, path, (const uint8_t *)data, len, &bi) != 0)
        return -1;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t stem = fs_stem(base, ".beam");
    if (!stem || strlen(bi.module) != stem || memcmp(bi.module, base, stem) != 0)
        return kerr_set(KERR_INPUT, path, 0, 0,
                        "module '%s' is in a file named '%s' (expected '%s.beam')", bi.module, base,
                        bi.module);
    b->path = path;
    b->data = (const unsigned char *)data;
    b->len = len;
    b->module = bi.module;
    memcpy(b->md5, bi.md5, sizeof b->md5);
    b->vsn = bi.vsn;
    return 0;
}

/* dir_beams - the *.beam names in DIR, sorted */
static const char **dir_beams(struct arena *a, const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        kerr_errno(dir, "cannot list");
        return NULL;
    }
    size_t cap = 16;
    const char **v = arena_alloc(a, cap * sizeof *v);
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!fs_stem(de->d_name, ".beam"))
            continue;
        if (*n == cap) {
            const char **nv = arena_alloc(a, 2 * cap * sizeof *nv);
            memcpy(nv, v, cap * sizeof *nv);
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = arena_sprintf(a, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, cmp_name);
    return v;
}

int patch_read_beams(struct arena *a, char *const *args, size_t n, struct patch_beam **out,
                     size_t *nout)
{
    size_t cap = n + 16, nb = 0;
    struct patch_beam *v = arena_alloc(a, cap * sizeof *v);
    for (size_t k = 0; k < n; k++) {
        const char **files = (const char **)&args[k];
        size_t nf = 1;
        if (fs_is_dir(args[k])) {
            files = dir_beams(a, args[k], &nf);
            if (!files)
                return -1;
            if (!nf)
                return kerr_set(KERR_INPUT, args[k], 0, 0, "no .beam files in the directory");
        } else if (!fs_stem(args[k], ".beam")) {
            return kerr_set(KERR_INPUT, args[k], 0, 0,
                            "expected a .beam file or an ebin directory");
        }
        for (size_t j = 0; j < nf; j++) {
            if (nb == cap) {
                struct patch_beam *nv = arena_alloc(a, 2 * cap * sizeof *nv);
                memcpy(nv, v, cap * sizeof *nv);
                v = nv;
                cap *= 2;
            }
            if (read_one(a, files[j], &v[nb]) != 0)
                return -1;
            nb++;
        }
    }
    if (nb)
        qsort(v, nb, sizeof *v, cmp_beam);
    for (size_t k = 1; k < nb; k++)
        if (!strcmp(v[k - 1].module, v[k].module))
            return kerr_set(KERR_INPUT, v[k].path, 0, 0, "module '%s' is given twice: also in '%s'",
                            v[k].module, v[k - 1].path);
    *out = v;
    *nout = nb;
    return 0;
}

const char *patch_id(struct arena *a, const struct patch_beam *b, size_t n, long long now)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (md && EVP_DigestInit_ex(md, EVP_md5(), NULL) == 1) {
        for (size_t k = 0; k < n; k++)
            EVP_DigestUpdate(md, b[k].md5, sizeof b[k].md5);
        EVP_DigestFinal_ex(md, sum, &len);
    }
    EVP_MD_CTX_free(md);
    if (len < 4)
        memset(sum, 0, 4);
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
    return arena_sprintf(a, "%s.%02x%02x%02x%02x", when, sum[0], sum[1], sum[2], sum[3]);
}

const struct term *patch_translate(struct arena *a, const char *id, const char *const *mods,
                                   size_t n, const struct term *high)
{
    struct relfile_app app;
    memset(&app, 0, sizeof app);
    app.name = PATCH_LIB;
    app.vsn = id;
    app.vsn_term = term_stringz(a, id);
    app.type = "permanent";
    app.mods = arena_memdup(a, mods, n * sizeof *mods);
    app.nmods = n;
    app.app = term_nil();
    return rc_translate_scripts(a, RC_UP, term_listv(a, 1, high), &app, 1, NULL, 0);
}

int patch_make_plan(struct arena *a, const char *id, const struct patch_beam *b, size_t n,
                    const uint8_t *const *loaded, bool add, const struct appup_opts *opts,
                    struct patch_plan *out)
{
    memset(out, 0, sizeof *out);
    out->id = id;
    out->status = arena_alloc(a, (n + 1) * sizeof *out->status);
    out->mods = arena_alloc(a, (n + 1) * sizeof *out->mods);
    struct appup_change *ch = arena_alloc(a, (n + 1) * sizeof *ch);
    const char **names = arena_alloc(a, (n + 1) * sizeof *names);
    for (size_t k = 0; k < n; k++)
        out->status[k] = !loaded[k]                                      ? PATCH_NOT_LOADED
                         : !memcmp(loaded[k], b[k].md5, sizeof b[k].md5) ? PATCH_UNCHANGED
                                                                         : PATCH_CHANGED;
    for (size_t k = 0; k < n; k++) {
        if (out->status[k] == PATCH_NOT_LOADED && !add)
            return kerr_set(KERR_INPUT, b[k].path, 0, 0,
                            "module '%s' is not loaded on the node (--add loads it as a new "
                            "module)",
                            b[k].module);
        if (out->status[k] == PATCH_UNCHANGED)
            continue;
        size_t j = out->nmods++;
        out->mods[j] = &b[k];
        names[j] = b[k].module;
        ch[j] = (struct appup_change){b[k].path, b[k].data, b[k].len,
                                      loaded[k] ? APPUP_CHANGED : APPUP_ADDED};
    }
    if (appup_changes(a, PATCH_LIB, id, ch, out->nmods, opts, &out->rep) != 0)
        return -1;
    out->high = out->rep.up;
    if (!out->nmods) {
        out->low = term_nil();
        return 0;
    }
    out->low = patch_translate(a, id, names, out->nmods, out->high);
    return out->low ? 0 : -1;
}
