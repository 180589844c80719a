/* cmd_check.c - `knit check [--from VSN]... [--strict] [BEAM...]`: lint for hot-upgrade
 * hazards, the plain beams given, or the project's release against its earlier releases */
#include "cmd.h"
#include "fsutil.h"
#include "guard.h"
#include "kerr.h"
#include "lint.h"
#include "log.h"
#include "release.h"
#include "report.h"
#include "upgrade.h"

#include <stdio.h>
#include <string.h>

struct check_args {
    const char **from;
    size_t nfrom;
    const char **beams;
    size_t nbeams;
    bool strict;
};

static int parse(struct arena *a, struct knit_ctx *ctx, int argc, char **argv,
                 struct check_args *o)
{
    o->from = arena_alloc(a, (size_t)(argc + 1) * sizeof *o->from);
    o->beams = arena_alloc(a, (size_t)(argc + 1) * sizeof *o->beams);
    struct cmd_opts it;
    cmd_opts_init(&it, ctx, argc, argv);
    int r;
    while ((r = cmd_opts_next(&it)) > 0) {
        if (!it.opt)
            o->beams[o->nbeams++] = it.val;
        else if (cmd_opt_is(&it, "--strict"))
            o->strict = true;
        else if (cmd_opt_is(&it, "--from") && *it.val)
            o->from[o->nfrom++] = it.val;
        else
            return cmd_usage("check", "'%s' needs a version", it.opt->name);
    }
    if (r < 0)
        return -1;
    if (o->nbeams && o->nfrom)
        return kerr_set(KERR_USAGE, NULL, 0, 0,
                        "'--from' compares releases and cannot be used with beam files; try "
                        "'knit --help'");
    return 0;
}

/* project - the boot release of the project's config against its earlier releases */
static int project(struct arena *a, struct knit_ctx *ctx, const struct check_args *args,
                   struct lint_report *r, const char ***vsns_out, size_t *nv_out,
                   const struct cfg **cfg_out, struct guard *g)
{
    const char *cfgfile = cfg_find(a, ctx->reltool_config);
    struct cfg *cfg = arena_alloc(a, sizeof *cfg);
    if (!cfgfile || cfg_load(a, cfgfile, ctx->overrides, (size_t)ctx->noverrides, cfg) != 0)
        return -1;
    *cfg_out = cfg;
    struct release rel;
    if (release_analyse(a, cfg, &rel) != 0)
        return -1;
    const struct cfg_rel *boot = cfg->boot_rel;
    const struct term *rt = release_rel_term(a, &rel, boot);
    if (!rt)
        return -1;
    size_t n;
    const struct term *const *el = term_list_els(term_elem(rt, 3), &n);
    struct lint_app *apps = arena_alloc(a, (n + 1) * sizeof *apps);
    struct relfile_rel now = {0};
    now.apps = arena_alloc(a, (n + 1) * sizeof *now.apps);
    const char *otp_lib = cfg->root_dir ? arena_sprintf(a, "%s/lib/", cfg->root_dir) : NULL;
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = term_text(a, term_elem(el[i], 0));
        const struct release_app *app = name ? release_app_find(&rel, name) : NULL;
        if (!app)
            continue;
        apps[na].name = app->name;
        apps[na].vsn = app->vsn;
        apps[na].ebin = arena_sprintf(a, "%s/ebin", app->dir);
        apps[na].otp = otp_lib && !strncmp(app->dir, otp_lib, strlen(otp_lib));
        now.apps[na].name = app->name;
        now.apps[na].vsn = app->vsn;
        na++;
    }
    now.napps = na;
    const char **vsns;
    size_t nv;
    struct upgrade_excluded *excl;
    size_t nexcl;
    if (upgrade_versions(a, cfg, boot->name, boot->vsn, args->from, args->nfrom, &vsns, &nv,
                         &excl, &nexcl) != 0)
        return -1;
    *vsns_out = vsns;
    *nv_out = nv;
    struct upgrade_from *from = arena_alloc(a, (nv + 1) * sizeof *from);
    /* the project's lock, and a fresh tmp dir (with knit's marker) for the earlier releases */
    if (guard_begin(a, g, cfg, ctx->wait, nv > 0) != 0)
        return -1;
    for (size_t j = 0; j < nv; j++)
        if (upgrade_extract(a, cfg, boot->name, vsns[j], &now, NULL, &from[j]) != 0)
            return -1;
    if (nv == 0)
        log_info("no earlier release of %s in %s: single-version rules only", boot->name,
                 cfg->release_dir);
    struct lint_opts o = {cfg->check_ignore};
    return lint_release(a, &o, apps, na, from, nv, r);
}

int cmd_check(struct knit_ctx *ctx, int argc, char **argv)
{
    struct arena a;
    arena_init(&a);
    struct check_args args = {0};
    struct lint_report r = {0};
    const char **vsns = NULL;
    size_t nv = 0;
    const struct cfg *cfg = NULL;
    int rc = parse(&a, ctx, argc, argv, &args);
    if (rc == 0 && args.nbeams) {
        struct lint_opts o = {NULL};
        rc = lint_beams(&a, &o, args.beams, args.nbeams, &r);
    } else if (rc == 0) {
        struct guard g = {-1, NULL};
        rc = project(&a, ctx, &args, &r, &vsns, &nv, &cfg, &g);
        struct kerr saved;
        kerr_copy(&saved);
        if (guard_end(&g, cfg && cfg->remove_tmp) != 0 && rc == 0)
            rc = -1;
        else
            kerr_restore(&saved);
    }
    if (rc == 0) {
        if (ctx->json) {
            json_t *doc = lint_json(&r);
            json_t *from = json_array();
            for (size_t j = 0; j < nv; j++)
                json_array_append_new(from, json_string(vsns[j]));
            json_object_set_new(doc, "command", json_string("check"));
            json_object_set_new(doc, "from", from);
            json_object_set_new(doc, "strict", json_boolean(args.strict));
            rc = report_print(doc);
        } else {
            lint_print(&r, stdout);
        }
    }
    if (rc == 0 && lint_failed(&r, args.strict))
        rc = kerr_set(KERR_INPUT, NULL, 0, 0, "check failed: %zu error%s, %zu warning%s%s",
                      r.count[LINT_ERROR], r.count[LINT_ERROR] == 1 ? "" : "s",
                      r.count[LINT_WARNING], r.count[LINT_WARNING] == 1 ? "" : "s",
                      args.strict ? " (--strict)" : "");
    free(r.f);
    arena_close(&a);
    return rc;
}
