/* cmd_release.c - `knit release`: reltool.config -> build dir (target system) + release tarball */
#include "arena.h"
#include "cfg.h"
#include "cmd.h"
#include "guard.h"
#include "kerr.h"
#include "log.h"
#include "release.h"
#include "report.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* report - the --json document: the release, its applications and the artifacts */
static int report(struct arena *a, const struct release_result *res)
{
    json_t *apps = json_object();
    size_t n;
    const struct term *const *el = term_list_els(res->rel->u.tuple.el[3], &n);
    for (size_t i = 0; i < n; i++)
        json_object_set_new(apps, el[i]->u.tuple.el[0]->u.atom.name,
                            json_string(term_text(a, el[i]->u.tuple.el[1])));
    json_t *tarball = report_artifact("release_tarball", res->tarball);
    if (!tarball) {
        json_decref(apps);
        return -1;
    }
    size_t nw;
    const char *const *w = log_warnings(&nw);
    json_t *warnings = json_array();
    for (size_t i = 0; i < nw; i++)
        json_array_append_new(warnings, json_string(w[i]));
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:o}, s:[o], s:o}", "command", "release",
                            "release", "name", res->rel_name, "vsn", res->rel_vsn, "erts_vsn",
                            res->erts_vsn, "build_dir", res->build_dir, "apps", apps, "artifacts",
                            tarball, "warnings", warnings);
    if (!doc)
        return kerr_set(KERR_IO, NULL, 0, 0, "cannot build the JSON report");
    return report_print(doc);
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
    struct guard g = {-1, NULL};
    const char *path = cfg_find(&a, ctx->reltool_config);
    if (!path || cfg_load(&a, path, ctx->overrides, (size_t)ctx->noverrides, &c) != 0)
        goto done;
    if (guard_begin(&a, &g, &c, ctx->wait, false) != 0)
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
    int built = release_build(&a, &r, ctx->force || c.force, true, &res);
    release_finish(&res);
    if (built != 0)
        goto done;
    if (ctx->json && report(&a, &res) != 0)
        goto done;
    rc = 0;
done:
    guard_end(&g, false);
    arena_close(&a);
    return rc;
}
