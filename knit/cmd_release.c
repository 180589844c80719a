/* cmd_release.c - `knit release`: reltool.config -> build dir (target system) + release tarball */
#include "arena.h"
#include "cfg.h"
#include "cmd.h"
#include "kerr.h"
#include "log.h"
#include "release.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* sha256_file - the SHA-256 of PATH as 64 hex digits into HEX; -1 with KERR_IO */
static int sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kerr_errno(path, "cannot open");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = -1;
    unsigned char buf[65536], out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto done;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(md, buf, got);
    if (ferror(f)) {
        kerr_errno(path, "cannot read");
        goto done;
    }
    EVP_DigestFinal_ex(md, out, &n);
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    rc = 0;
done:
    EVP_MD_CTX_free(md);
    fclose(f);
    return rc;
}

/* report - the --json document: the release, its applications and the artifacts */
static int report(struct arena *a, const struct release_result *res)
{
    json_t *apps = json_object();
    size_t n;
    const struct term *const *el = term_list_els(res->rel->u.tuple.el[3], &n);
    for (size_t i = 0; i < n; i++)
        json_object_set_new(apps, el[i]->u.tuple.el[0]->u.atom.name,
                            json_string(term_text(a, el[i]->u.tuple.el[1])));
    char hex[65] = "";
    struct stat st;
    if (sha256_file(res->tarball, hex) != 0 || stat(res->tarball, &st) != 0) {
        json_decref(apps);
        return kerr_errno(res->tarball, "cannot read");
    }
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:[{s:s, s:s}, {s:s, s:s, s:I, s:s}]}", "command", "release",
        "release", "name", res->rel_name, "vsn", res->rel_vsn, "erts_vsn", res->erts_vsn,
        "applications", apps, "artifacts", "kind", "build_dir", "path", res->build_dir, "kind",
        "release_tarball", "path", res->tarball, "size", (json_int_t)st.st_size, "sha256", hex);
    if (!doc)
        return kerr_set(KERR_IO, NULL, 0, 0, "cannot build the JSON report");
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text)
        return kerr_set(KERR_IO, NULL, 0, 0, "cannot build the JSON report");
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
    return 0;
}

int cmd_release(struct knit_ctx *ctx, int argc, char **argv)
{
    if (argc > 1)
        return kerr_set(KERR_USAGE, NULL, 0, 0,
                        "release: unexpected argument '%s'; try 'knit "
                        "--help'",
                        argv[1]);
    struct arena a;
    arena_init(&a);
    int rc = -1;
    struct cfg c;
    memset(&c, 0, sizeof c);
    const char *path = cfg_find(&a, ctx->reltool_config);
    if (!path || cfg_load(&a, path, ctx->overrides, (size_t)ctx->noverrides, &c) != 0)
        goto done;
    log_verbose("config %s: release %s %s", c.file, c.boot_rel->name, c.boot_rel->vsn);
    struct release r;
    if (release_analyse(&a, &c, &r) != 0)
        goto done;
    size_t n = 0;
    for (size_t i = 0; i < r.napps; i++)
        n += release_app_selected(&r.apps[i]);
    log_verbose("%zu of %zu applications found are included", n, r.napps);
    struct release_result res;
    if (release_build(&a, &r, ctx->force || c.force, true, &res) != 0)
        goto done;
    if (ctx->json && report(&a, &res) != 0)
        goto done;
    rc = 0;
done:
    free(c.apps);
    free(c.rels);
    free(c.var_names);
    free(c.var_values);
    arena_close(&a);
    return rc;
}
