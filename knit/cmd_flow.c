/* cmd_flow.c - `knit` (= `knit all`), `knit appup` and `knit relup`: the release, then the
 * appups, relup and slim upgrade tarball from earlier releases */
#include "appup.h"
#include "cfg.h"
#include "cmd.h"
#include "fsutil.h"
#include "guard.h"
#include "kerr.h"
#include "log.h"
#include "release.h"
#include "relfile.h"
#include "relup.h"
#include "report.h"
#include "term_print.h"
#include "upgrade.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum flow_mode { FLOW_ALL, FLOW_APPUP, FLOW_RELUP };

/* What one application's upgrade holds: its appup and where it came from. */
struct flow_app {
    const char *name, *vsn;
    const char *appup_path;
    const struct term *appup;
    bool generated;
    struct appup_result res; /* when generated */
};

struct flow {
    struct knit_ctx *ctx;
    enum flow_mode mode;
    struct arena *a;
    struct cfg cfg;
    struct release rel;
    struct release_result res;
    struct relfile_rel new_rel;
    const char **from_args;
    size_t nfrom_args;
    struct upgrade_from *from;
    size_t nfrom;
    bool *skip; /* per from-release */
    const char **skip_why;
    struct flow_app *apps;
    size_t napps;
    bool force;
    struct guard guard;
    json_t *artifacts, *skipped;
};

static const char *mode_name(enum flow_mode m)
{
    return m == FLOW_ALL ? "all" : m == FLOW_APPUP ? "appup" : "relup";
}

static int parse_args(struct flow *f, int argc, char **argv)
{
    f->from_args = arena_alloc(f->a, (size_t)(argc + 1) * sizeof *f->from_args);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--from=", 7))
            v = argv[i] + 7;
        if (!v || f->mode == FLOW_ALL || !*v)
            return kerr_set(KERR_USAGE, NULL, 0, 0,
                            "'%s' is not an argument of '%s'%s; try 'knit --help'", argv[i],
                            mode_name(f->mode),
                            !strcmp(argv[i], "--from") ? " (it needs a version)" : "");
        f->from_args[f->nfrom_args++] = v;
    }
    return 0;
}

/* from_app_vsn - the version of APP in earlier release J, or NULL */
static const char *from_app_vsn(const struct flow *f, size_t j, const char *app)
{
    const struct relfile_rel *r = &f->from[j].rel;
    for (size_t i = 0; i < r->napps; i++)
        if (!strcmp(r->apps[i].name, app))
            return r->apps[i].vsn;
    return NULL;
}

static void skip_from(struct flow *f, size_t j, const char *why)
{
    if (f->skip[j])
        return;
    f->skip[j] = true;
    f->skip_why[j] = why;
}

static int write_terms(struct arena *a, const char *path, const struct term *t)
{
    struct buf b = BUF_INIT;
    term_print_file_terms(&b, term_listv(a, 1, t));
    int rc = fs_write_atomic(path, buf_cstr(&b), b.len, 0644);
    buf_free(&b);
    return rc;
}

/* app_appup - the appup of one application whose version differs from some earlier release */
static int app_appup(struct flow *f, const char *name, const char *vsn)
{
    struct arena *a = f->a;
    struct appup_from *froms = arena_alloc(a, (f->nfrom + 1) * sizeof *froms);
    size_t n = 0;
    for (size_t j = 0; j < f->nfrom; j++) {
        const char *old = from_app_vsn(f, j, name);
        if (!old || !strcmp(old, vsn))
            continue;
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen = seen || !strcmp(froms[k].vsn, old);
        if (seen)
            continue;
        froms[n].vsn = old;
        froms[n].ebin = arena_sprintf(a, "%s/lib/%s-%s/ebin", f->from[j].root, name, old);
        froms[n].beams = upgrade_beams(a, &f->from[j], name, old, &froms[n].nbeams);
        n++;
    }
    if (n == 0)
        return 0;
    struct flow_app *fa = &f->apps[f->napps++];
    memset(fa, 0, sizeof *fa);
    fa->name = name;
    fa->vsn = vsn;
    const char *ebin = arena_sprintf(a, "%s/lib/%s-%s/ebin", f->res.build_dir, name, vsn);
    fa->appup_path = arena_sprintf(a, "%s/%s.appup", ebin, name);
    if (access(fa->appup_path, F_OK) == 0) {
        log_info("%s %s: using its hand-written %s.appup", name, vsn, name);
        if (appup_read_handwritten(a, fa->appup_path, name, vsn, &fa->appup) != 0)
            return -1;
        for (size_t j = 0; j < f->nfrom; j++) {
            const char *old = from_app_vsn(f, j, name);
            if (!old || !strcmp(old, vsn))
                continue;
            int miss = appup_missing(a, fa->appup, old);
            if (miss) {
                const char *why =
                    arena_sprintf(a, "application '%s' %s has no %s entry for its version %s", name,
                                  vsn, miss & APPUP_MISSING_UP ? "upgrade" : "downgrade", old);
                if (f->cfg.warnings_as_errors)
                    return kerr_set(KERR_INPUT, fa->appup_path, 0, 0, "%s (warnings_as_errors)",
                                    why);
                log_warn("skipping the upgrade from %s: %s", f->from[j].vsn, why);
                skip_from(f, j, why);
            }
        }
        return 0;
    }
    struct appup_opts o;
    appup_opts_init(&o);
    o.auto_depends = f->cfg.auto_depends;
    if (appup_generate(a, name, vsn, ebin, froms, n, &o, &fa->res) != 0)
        return -1;
    fa->generated = true;
    fa->appup = fa->res.appup;
    for (size_t r = 0; r < fa->res.nreports; r++) {
        const struct appup_report *rep = &fa->res.reports[r];
        for (size_t m = 0; m < rep->nmods; m++) {
            const struct appup_module *mod = &rep->mods[m];
            for (size_t d = 0; d < mod->ninferred; d++)
                log_verbose("%s %s -> %s: %s depends on %s (inferred from its calls)", name,
                            rep->from_vsn, vsn, mod->name, mod->inferred[d]);
        }
    }
    log_verbose("writing %s", fa->appup_path);
    return write_terms(a, fa->appup_path, fa->appup);
}

static int make_appups(struct flow *f)
{
    f->apps = arena_alloc(f->a, (f->new_rel.napps + 1) * sizeof *f->apps);
    for (size_t i = 0; i < f->new_rel.napps; i++)
        if (app_appup(f, f->new_rel.apps[i].name, f->new_rel.apps[i].vsn) != 0)
            return -1;
    return 0;
}

static int make_relup(struct flow *f, size_t *nup)
{
    struct arena *a = f->a;
    const char **ups = arena_alloc(a, (f->nfrom + 1) * sizeof *ups);
    const char **pats = arena_alloc(a, (f->nfrom + 2) * sizeof *pats);
    size_t n = 0, np = 0;
    pats[np++] = arena_sprintf(a, "%s/lib/*/ebin", f->res.build_dir);
    for (size_t j = 0; j < f->nfrom; j++) {
        if (f->skip[j])
            continue;
        size_t len = strlen(f->from[j].rel_file);
        ups[n++] = arena_memdup(a, f->from[j].rel_file, len - 4); /* without .rel */
        pats[np++] = arena_sprintf(a, "%s/lib/*/ebin", f->from[j].root);
    }
    *nup = n;
    if (n == 0)
        return 0;
    struct relfile_path path = {0, NULL, NULL};
    relfile_path_expand(a, pats, np, &path);
    relfile_path_cache(a, &path);
    struct relup_opts o = {false, f->cfg.warnings_as_errors};
    const char *top =
        arena_sprintf(a, "%s/releases/%s/%s", f->res.build_dir, f->res.rel_vsn, f->res.rel_name);
    const struct term *relup, *warnings;
    const char **texts = NULL;
    if (relup_make(a, top, ups, n, ups, n, &path, &o, &relup, &warnings, &texts) != 0)
        return -1;
    for (size_t i = 0; texts && texts[i]; i++)
        log_warn("%s", texts[i]);
    const char *file = arena_sprintf(a, "%s/releases/%s/relup", f->res.build_dir, f->res.rel_vsn);
    log_verbose("writing %s", file);
    return write_terms(a, file, relup);
}

static json_t *str_list(const char *const *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

/* upgrades_json - per earlier release: per application, the module changes */
static json_t *upgrades_json(struct flow *f)
{
    json_t *ups = json_array();
    for (size_t j = 0; j < f->nfrom; j++) {
        json_t *apps = json_array();
        for (size_t i = 0; i < f->napps; i++) {
            const struct flow_app *fa = &f->apps[i];
            const char *old = from_app_vsn(f, j, fa->name);
            if (!old || !strcmp(old, fa->vsn))
                continue;
            json_t *o =
                json_pack("{s:s, s:s, s:s, s:s}", "app", fa->name, "from_vsn", old, "to_vsn",
                          fa->vsn, "appup", fa->generated ? "generated" : "hand-written");
            const struct appup_report *rep = NULL;
            for (size_t r = 0; fa->generated && r < fa->res.nreports; r++)
                if (!strcmp(fa->res.reports[r].from_vsn, old))
                    rep = &fa->res.reports[r];
            if (rep) {
                json_t *added = json_array(), *deleted = json_array(), *changed = json_array();
                json_t *mods = json_array();
                for (size_t m = 0; m < rep->nmods; m++) {
                    const struct appup_module *mod = &rep->mods[m];
                    json_array_append_new(mod->action == APPUP_ADDED     ? added
                                          : mod->action == APPUP_DELETED ? deleted
                                                                         : changed,
                                          json_string(mod->name));
                    json_t *mj = json_pack(
                        "{s:s, s:s, s:o, s:o, s:o, s:o}", "module", mod->name, "kind", mod->kind,
                        "up", report_term(mod->up), "down", report_term(mod->down),
                        "inferred_depends", str_list(mod->inferred, mod->ninferred),
                        "dropped_depends", str_list(mod->dropped, mod->ndropped));
                    if (mod->applies)
                        json_object_set_new(mj, "applies", report_term(mod->applies));
                    json_array_append_new(mods, mj);
                }
                json_object_set_new(o, "added", added);
                json_object_set_new(o, "deleted", deleted);
                json_object_set_new(o, "changed", changed);
                json_object_set_new(o, "modules", mods);
                json_object_set_new(o, "up", report_term(rep->up));
                json_object_set_new(o, "down", report_term(rep->down));
            } else {
                json_object_set_new(o, "instructions", report_term(fa->appup));
            }
            json_array_append_new(apps, o);
        }
        json_array_append_new(ups, json_pack("{s:s, s:b, s:o}", "from", f->from[j].vsn, "skipped",
                                             f->skip[j], "apps", apps));
    }
    return ups;
}

static int print_appups(struct flow *f)
{
    for (size_t i = 0; i < f->napps; i++) {
        struct buf b = BUF_INIT;
        buf_addf(&b, "%%%% %s\n", f->apps[i].appup_path);
        term_print(&b, f->apps[i].appup);
        buf_adds(&b, ".\n");
        fwrite(b.p, 1, b.len, stdout);
        buf_free(&b);
    }
    return 0;
}

static int add_artifact(struct flow *f, const char *kind, const char *path)
{
    json_t *j = report_artifact(kind, path);
    if (!j)
        return -1;
    json_array_append_new(f->artifacts, j);
    return 0;
}

static int report(struct flow *f)
{
    json_t *apps = json_object();
    for (size_t i = 0; i < f->new_rel.napps; i++)
        json_object_set_new(apps, f->new_rel.apps[i].name, json_string(f->new_rel.apps[i].vsn));
    size_t nw;
    const char *const *w = log_warnings(&nw);
    json_t *doc =
        json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:o}, s:o, s:o, s:o, s:o}", "command",
                  mode_name(f->mode), "release", "name", f->res.rel_name, "vsn", f->res.rel_vsn,
                  "erts_vsn", f->res.erts_vsn, "build_dir", f->res.build_dir, "apps", apps,
                  "artifacts", json_incref(f->artifacts), "upgrades", upgrades_json(f), "skipped",
                  json_incref(f->skipped), "warnings", str_list(w, nw));
    if (!doc)
        return kerr_set(KERR_IO, NULL, 0, 0, "cannot build the JSON report");
    return report_print(doc);
}

static int run_flow(struct flow *f)
{
    struct arena *a = f->a;
    const char *cfgfile = cfg_find(a, f->ctx->reltool_config);
    if (!cfgfile || cfg_load(a, cfgfile, f->ctx->overrides, (size_t)f->ctx->noverrides, &f->cfg))
        return -1;
    f->force = f->ctx->force || f->cfg.force;
    if (guard_begin(a, &f->guard, &f->cfg, f->ctx->wait, true) != 0)
        return -1;
    if (release_analyse(a, &f->cfg, &f->rel) != 0)
        return -1;
    if (release_build(a, &f->rel, f->force, f->mode == FLOW_ALL, &f->res) != 0)
        return -1;
    if (f->mode == FLOW_ALL && add_artifact(f, "release_tarball", f->res.tarball) != 0)
        return -1;
    const char *top =
        arena_sprintf(a, "%s/releases/%s/%s", f->res.build_dir, f->res.rel_vsn, f->res.rel_name);
    struct relfile_path none = {0, NULL, NULL};
    if (relfile_read_rel(a, top, &none, &f->new_rel) != 0)
        return -1;

    const char **vsns;
    size_t nv;
    if (upgrade_versions(a, &f->cfg, f->res.rel_name, f->res.rel_vsn, f->from_args, f->nfrom_args,
                         &vsns, &nv) != 0)
        return -1;
    if (nv == 0) {
        /* a first release is a normal case: say so quietly */
        if (f->mode == FLOW_ALL)
            log_verbose("no earlier release of %s in %s: no upgrade to build", f->res.rel_name,
                        f->cfg.release_dir);
        else
            log_info("no earlier release of %s in %s: no upgrade to build", f->res.rel_name,
                     f->cfg.release_dir);
        return 0;
    }
    f->from = arena_alloc(a, nv * sizeof *f->from);
    f->skip = arena_alloc(a, nv * sizeof *f->skip);
    f->skip_why = arena_alloc(a, nv * sizeof *f->skip_why);
    for (size_t j = 0; j < nv; j++)
        if (upgrade_extract(a, &f->cfg, f->res.rel_name, vsns[j], &f->new_rel,
                            &f->from[f->nfrom++]) != 0)
            return -1;
    if (make_appups(f) != 0)
        return -1;
    for (size_t j = 0; j < f->nfrom; j++)
        if (f->skip[j])
            json_array_append_new(f->skipped, json_pack("{s:s, s:s}", "from", f->from[j].vsn,
                                                        "reason", f->skip_why[j]));
    if (f->mode == FLOW_APPUP) {
        for (size_t i = 0; i < f->napps; i++)
            if (add_artifact(f, "appup", f->apps[i].appup_path) != 0)
                return -1;
        return f->ctx->json ? 0 : print_appups(f);
    }
    size_t nup;
    if (make_relup(f, &nup) != 0)
        return -1;
    if (nup == 0) {
        log_warn("every earlier release was skipped: no upgrade built");
        return 0;
    }
    if (add_artifact(f, "relup",
                     arena_sprintf(a, "%s/releases/%s/relup", f->res.build_dir, f->res.rel_vsn)) !=
        0)
        return -1;
    struct upgrade_from *kept = arena_alloc(a, f->nfrom * sizeof *kept);
    size_t nk = 0;
    for (size_t j = 0; j < f->nfrom; j++)
        if (!f->skip[j])
            kept[nk++] = f->from[j];
    const char *tarball;
    if (upgrade_pack(a, &f->cfg, f->res.build_dir, &f->new_rel, kept, nk, f->force, &tarball))
        return -1;
    struct buf froms = BUF_INIT;
    for (size_t j = 0; j < nk; j++)
        buf_addf(&froms, "%s%s", j ? ", " : "", kept[j].vsn);
    log_info("upgrade from %s to %s: %s", buf_cstr(&froms), f->res.rel_vsn, tarball);
    buf_free(&froms);
    return add_artifact(f, "upgrade_tarball", tarball);
}

static int flow(struct knit_ctx *ctx, int argc, char **argv, enum flow_mode mode)
{
    struct arena a;
    arena_init(&a);
    struct flow f = {0};
    f.guard.lock_fd = -1;
    f.ctx = ctx;
    f.mode = mode;
    f.a = &a;
    f.artifacts = json_array();
    f.skipped = json_array();
    int rc = parse_args(&f, argc, argv);
    if (rc == 0)
        rc = run_flow(&f);
    /* the earlier build dir goes last, after the extractions (see release_finish) */
    release_finish(&f.res);
    struct kerr saved;
    kerr_copy(&saved);
    if (guard_end(&f.guard, f.cfg.remove_tmp) != 0 && rc == 0)
        rc = -1;
    else
        kerr_restore(&saved);
    if (rc == 0 && ctx->json)
        rc = report(&f);
    json_decref(f.artifacts);
    json_decref(f.skipped);
    arena_close(&a);
    return rc;
}

int cmd_all(struct knit_ctx *ctx, int argc, char **argv)
{
    return flow(ctx, argc, argv, FLOW_ALL);
}

int cmd_appup(struct knit_ctx *ctx, int argc, char **argv)
{
    return flow(ctx, argc, argv, FLOW_APPUP);
}

int cmd_relup(struct knit_ctx *ctx, int argc, char **argv)
{
    return flow(ctx, argc, argv, FLOW_RELUP);
}
