/* flow.c - the build engine: release, earlier releases, appups, relup, upgrade tarball,
 * commit (see flow.h) */
#include "flow.h"

#include "fsutil.h"
#include "kerr.h"
#include "lint.h"
#include "log.h"
#include "relup.h"
#include "term_print.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void flow_init(struct flow *f, enum flow_mode mode, struct arena *a)
{
    memset(f, 0, sizeof *f);
    f->guard.lock_fd = -1;
    f->mode = mode;
    f->a = a;
}

const char *flow_from_app_vsn(const struct flow *f, size_t j, const char *app)
{
    const struct relfile_rel *r = &f->from[j].rel;
    for (size_t i = 0; i < r->napps; i++)
        if (!strcmp(r->apps[i].name, app))
            return r->apps[i].vsn;
    return NULL;
}

static int write_terms(struct arena *a, const char *path, const struct term *t)
{
    struct buf b = BUF_INIT;
    term_print_file_terms(&b, term_listv(a, 1, t));
    int rc = fs_write_atomic(path, buf_cstr(&b), b.len, 0644);
    buf_free(&b);
    return rc;
}

int flow_load_config(struct flow *f)
{
    const char *cfgfile = cfg_find(f->a, f->reltool_config);
    if (!cfgfile || cfg_load(f->a, cfgfile, f->overrides, f->noverrides, &f->cfg) != 0)
        return -1;
    f->cfg_loaded = true;
    f->force = f->force_arg || f->cfg.force;
    /* one run at a time per project; the tmp dir (not for a release alone) made afresh */
    if (guard_begin(f->a, &f->guard, &f->cfg, f->wait, f->mode != FLOW_RELEASE) != 0)
        return -1;
    log_verbose("config %s: release %s %s", f->cfg.file, f->cfg.boot_rel->name,
                f->cfg.boot_rel->vsn);
    f->done = FLOW_DONE_CONFIG;
    return 0;
}

int flow_build_release(struct flow *f)
{
    struct arena *a = f->a;
    if (release_analyse(a, &f->cfg, &f->rel) != 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < f->rel.napps; i++)
        n += release_app_selected(&f->rel.apps[i]);
    log_verbose("%zu of %zu applications found are included", n, f->rel.napps);
    bool pack = f->mode == FLOW_ALL || f->mode == FLOW_RELEASE;
    if (f->tarball_only && !pack)
        return kerr_set(KERR_USAGE, NULL, 0, 0,
                        "--tarball-only: knit appup and knit relup write into the build dir; "
                        "use it with knit or knit release");
    /* {build_dir, false} too is for the runs that pack: appup and relup write into it */
    bool stream = pack && (f->tarball_only || !f->cfg.build_dir);
    if (target_build(a, &f->rel, f->force, pack, stream, &f->res) != 0)
        return -1;
    if (pack) {
        struct flow_stage *s = &f->stages[f->nstages++];
        s->kind = "release_tarball";
        s->path = f->res.tarball;
        s->stage = f->res.tarball_stage;
    }
    f->done = FLOW_DONE_BUILT;
    return 0;
}

/* same_version_changed - SPEC "Never silent": an application whose code differs from the
 * same version in an earlier release would be a silent no-op upgrade: exit 2 naming the
 * application's .app, its version and the modules (every such application at once) */
static int same_version_changed(struct flow *f)
{
    struct buf b = BUF_INIT;
    const char *first_app = NULL;
    size_t napps = 0;
    for (size_t j = 0; j < f->nfrom; j++) {
        const struct upgrade_from *u = &f->from[j];
        bool skip_dir = false;
        for (size_t i = 0; i < u->nchanged; i++) {
            const char *d = u->changed[i].dir, *dash = strchr(d, '-');
            if (i == 0 || strcmp(u->changed[i - 1].dir, d) != 0) {
                const char *head = arena_sprintf(f->a, "'%.*s' %s ", (int)(dash - d), d, dash + 1);
                skip_dir = strstr(buf_cstr(&b), head) != NULL; /* reported for another release */
                if (skip_dir)
                    continue;
                buf_addf(&b, "%s%s(the version in release %s): ", napps ? "; " : "", head, u->vsn);
                if (!first_app)
                    first_app = d;
                napps++;
            } else if (skip_dir) {
                continue;
            } else {
                buf_adds(&b, ", ");
            }
            buf_addf(&b, "%s %s", u->changed[i].module, u->changed[i].how);
        }
    }
    if (!napps)
        return 0;
    /* name the .app the user edits to give the application a new version */
    const char *file = f->cfg.file;
    const char *dash = strchr(first_app, '-');
    const struct release_app *ra =
        release_app_find(&f->rel, arena_memdup(f->a, first_app, (size_t)(dash - first_app)));
    if (ra && napps == 1)
        file = arena_sprintf(f->a, "%s/ebin/%s.app", ra->dir, ra->name);
    kerr_set(KERR_INPUT, file, 0, 0,
             "changed code under an unchanged application version (the upgrade would not load "
             "it): %s; give %s a new version",
             buf_cstr(&b), napps == 1 ? "the application" : "each application");
    buf_free(&b);
    return -1;
}

/* no_upgrade - SPEC "Never silent": release tarballs exist but none gives an upgrade. An
 * error listing each and why, unless the set was narrowed on purpose (--from,
 * upgrade_versions: then nothing is excluded) or {allow_no_upgrade, true}. */
static int no_upgrade(struct flow *f)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < f->nexcluded; i++)
        buf_addf(&b, "%s%s %s", i ? "; " : "", f->excluded[i].vsn, f->excluded[i].why);
    if (f->cfg.allow_no_upgrade) {
        log_info("no upgrade built ({allow_no_upgrade, true}): %s", buf_cstr(&b));
        buf_free(&b);
        return 0;
    }
    kerr_set(KERR_INPUT, f->cfg.file, 0, 0,
             "no upgrade to %s %s: every earlier release in %s was skipped: %s; name the ones "
             "to upgrade from (--from, upgrade_versions) or set {allow_no_upgrade, true}",
             f->res.rel_name, f->res.rel_vsn, f->cfg.release_dir, buf_cstr(&b));
    buf_free(&b);
    return -1;
}

/* One earlier release to read, in a thread of its own. */
struct extract_job {
    struct flow *f;
    const char *vsn;
    struct arena a; /* adopted by the flow's arena afterwards */
    struct upgrade_from out;
    int rc;
    struct kerr err; /* the error, when RC is -1 (kerr is per thread) */
};

struct extract_queue {
    struct extract_job *jobs;
    size_t n, next;
    pthread_mutex_t mu;
};

static void *extract_worker(void *arg)
{
    struct extract_queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        size_t j = q->next < q->n ? q->next++ : q->n;
        pthread_mutex_unlock(&q->mu);
        if (j == q->n)
            return NULL;
        struct extract_job *job = &q->jobs[j];
        struct flow *f = job->f;
        job->rc = upgrade_extract(&job->a, &f->cfg, f->res.rel_name, job->vsn, &f->new_rel,
                                  &f->res, &job->out);
        if (job->rc != 0)
            kerr_copy(&job->err);
    }
}

/* extract_all - upgrade_extract of the NV earlier releases VSNS into F->from, side by side
 * on the machine's cores (each decompresses a whole tarball); the first error in VSNS's
 * order is the one recorded */
static int extract_all(struct flow *f, const char *const *vsns, size_t nv)
{
    if (nv == 0)
        return 0;
    struct extract_queue q = {arena_alloc(f->a, nv * sizeof *q.jobs), nv, 0,
                              PTHREAD_MUTEX_INITIALIZER};
    for (size_t j = 0; j < nv; j++) {
        q.jobs[j].f = f;
        q.jobs[j].vsn = vsns[j];
        arena_init(&q.jobs[j].a);
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cpus > 1 ? (size_t)cpus - 1 : 0; /* the calling thread is one of them */
    if (nt > nv - 1)
        nt = nv - 1;
    pthread_t th[8];
    size_t started = 0;
    for (; started < nt && started < 8; started++)
        if (pthread_create(&th[started], NULL, extract_worker, &q) != 0)
            break;
    extract_worker(&q);
    for (size_t k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&q.mu);
    int rc = 0;
    for (size_t j = 0; j < nv; j++) {
        arena_adopt(f->a, &q.jobs[j].a);
        if (rc != 0)
            continue;
        f->from[f->nfrom++] = q.jobs[j].out; /* as far as the first that failed */
        if (q.jobs[j].rc != 0) {
            kerr_restore(&q.jobs[j].err);
            rc = -1;
        }
    }
    return rc;
}

int flow_find_earlier(struct flow *f)
{
    struct arena *a = f->a;
    const char *top =
        arena_sprintf(a, "%s/releases/%s/%s", f->res.build_dir, f->res.rel_vsn, f->res.rel_name);
    /* The new release is read back from the NAME.rel the target stage just wrote, not taken
     * from its model: the relup compiler reads the .rel files as systools_relup does (both
     * sides through one reader), which is what keeps the relup byte-equal to systools'. */
    struct relfile_path none = {0, NULL, NULL};
    if (relfile_read_rel(a, top, &none, &f->new_rel) != 0)
        return -1;
    const char **vsns;
    size_t nv;
    if (upgrade_versions(a, &f->cfg, f->res.rel_name, f->res.rel_vsn, f->from_args, f->nfrom_args,
                         &vsns, &nv, &f->excluded, &f->nexcluded) != 0)
        return -1;
    f->from = arena_alloc(a, (nv + 1) * sizeof *f->from);
    f->skip = arena_alloc(a, (nv + 1) * sizeof *f->skip);
    f->skip_why = arena_alloc(a, (nv + 1) * sizeof *f->skip_why);
    if (extract_all(f, vsns, nv) != 0)
        return -1;
    if (same_version_changed(f) != 0)
        return -1;
    if (nv == 0 && f->nexcluded > 0)
        return no_upgrade(f);
    if (nv == 0) {
        /* a first release is a normal case: say so quietly */
        if (f->mode == FLOW_ALL)
            log_verbose("no earlier release of %s in %s: no upgrade to build", f->res.rel_name,
                        f->cfg.release_dir);
        else
            log_info("no earlier release of %s in %s: no upgrade to build", f->res.rel_name,
                     f->cfg.release_dir);
    }
    f->done = FLOW_DONE_EARLIER;
    return 0;
}

/* app_appup - the appup of one application whose version differs from some earlier release */
static int app_appup(struct flow *f, const char *name, const char *vsn)
{
    struct arena *a = f->a;
    struct appup_from *froms = arena_alloc(a, (f->nfrom + 1) * sizeof *froms);
    size_t n = 0;
    for (size_t j = 0; j < f->nfrom; j++) {
        const char *old = flow_from_app_vsn(f, j, name);
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
        /* messages name the appup the user edits, not its copy in the build dir */
        const struct release_app *ra = release_app_find(&f->rel, name);
        const char *src = ra ? arena_sprintf(a, "%s/ebin/%s.appup", ra->dir, name) : NULL;
        fa->appup_src = src && access(src, R_OK) == 0 ? src : fa->appup_path;
        log_info("%s %s: using its hand-written %s", name, vsn, fa->appup_src);
        if (appup_read_handwritten(a, fa->appup_src, name, vsn, &fa->appup) != 0)
            return -1;
        for (size_t j = 0; j < f->nfrom; j++) {
            const char *old = flow_from_app_vsn(f, j, name);
            if (!old || !strcmp(old, vsn))
                continue;
            int miss = appup_missing(a, fa->appup, old);
            if (miss) /* systools_relup refuses it (no_relup): so does knit */
                return kerr_set(KERR_INPUT, fa->appup_src, (int)fa->appup->line, 0,
                                "no %s entry for version \"%s\" of '%s' (in release %s) in the "
                                "appup of '%s' %s (systools_relup: no_relup)",
                                miss & APPUP_MISSING_UP ? "upgrade" : "downgrade", old, name,
                                f->from[j].vsn, name, vsn);
        }
        return 0;
    }
    struct appup_opts o;
    appup_opts_init(&o);
    o.auto_depends = f->cfg.auto_depends;
    o.defaults = f->cfg.knit_defaults;
    o.defaults_file = f->cfg.file;
    o.defaults_line = f->cfg.knit_defaults_line;
    if (f->res.streamed) {
        o.new_beams = target_beams(a, &f->res, arena_sprintf(a, "%s-%s", name, vsn), &o.nnew_beams);
        if (!o.new_beams)
            return -1;
    }
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

int flow_make_appups(struct flow *f)
{
    f->apps = arena_alloc(f->a, (f->new_rel.napps + 1) * sizeof *f->apps);
    for (size_t i = 0; i < f->new_rel.napps; i++) {
        if (f->nfrom)
            log_progress_step("appups: application", i + 1, f->new_rel.napps,
                              f->new_rel.apps[i].name);
        if (app_appup(f, f->new_rel.apps[i].name, f->new_rel.apps[i].vsn) != 0)
            return -1;
    }
    f->done = FLOW_DONE_APPUPS;
    return 0;
}

int flow_make_relup(struct flow *f)
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
    f->nup = n;
    if (n == 0) {
        if (f->nfrom > 0)
            log_warn("every earlier release was skipped: no upgrade built");
        f->done = FLOW_DONE_RELUP;
        return 0;
    }
    struct relfile_path path = {0, NULL, NULL};
    relfile_path_expand(a, pats, np, &path);
    relfile_path_cache(a, &path);
    struct relup_opts o = {false, f->cfg.warnings_as_errors};
    /* the new .rel is read back from the build dir by path, as systools reads it: the
     * relup is compared byte for byte with what systools makes from the same files */
    const char *top =
        arena_sprintf(a, "%s/releases/%s/%s", f->res.build_dir, f->res.rel_vsn, f->res.rel_name);
    const struct term *relup, *warnings;
    const char **texts = NULL;
    const char *file = arena_sprintf(a, "%s/releases/%s/relup", f->res.build_dir, f->res.rel_vsn);
    /* the files read and every translation live only until the relup is written */
    struct arena s;
    arena_init(&s);
    int rc = relup_make(&s, top, ups, n, ups, n, &path, &o, &relup, &warnings, &texts);
    for (size_t i = 0; rc == 0 && texts && texts[i]; i++)
        log_warn("%s", texts[i]);
    if (rc == 0) {
        log_verbose("writing %s", file);
        rc = write_terms(&s, file, relup);
    }
    arena_close(&s);
    if (rc != 0)
        return -1;
    f->relup = file;
    f->done = FLOW_DONE_RELUP;
    return 0;
}

int flow_pack_upgrade(struct flow *f)
{
    struct arena *a = f->a;
    if (f->nup == 0) {
        f->done = FLOW_DONE_PACKED;
        return 0;
    }
    struct upgrade_from *kept = arena_alloc(a, f->nfrom * sizeof *kept);
    size_t nk = 0;
    for (size_t j = 0; j < f->nfrom; j++)
        if (!f->skip[j])
            kept[nk++] = f->from[j];
    struct flow_stage *s = &f->stages[f->nstages];
    if (upgrade_pack(a, &f->cfg, &f->res, &f->new_rel, kept, nk, &s->path, &s->stage))
        return -1;
    s->kind = "upgrade_tarball";
    f->nstages++;
    struct buf froms = BUF_INIT;
    for (size_t j = 0; j < nk; j++)
        buf_addf(&froms, "%s%s", j ? ", " : "", kept[j].vsn);
    log_info("upgrade from %s to %s: %s", buf_cstr(&froms), f->res.rel_vsn, s->path);
    buf_free(&froms);
    f->done = FLOW_DONE_PACKED;
    return 0;
}

int flow_commit(struct flow *f)
{
    /* judge every existing tarball before renaming any: all or nothing */
    bool *same = arena_alloc(f->a, (f->nstages + 1) * sizeof *same);
    for (size_t i = 0; i < f->nstages; i++) {
        const struct flow_stage *s = &f->stages[i];
        same[i] = false;
        if (f->force || access(s->path, F_OK) != 0)
            continue;
        int r = fs_same_content(s->stage, s->path);
        if (r < 0)
            return -1;
        if (r == 0)
            return kerr_set(KERR_IO, s->path, 0, 0,
                            "already exists and differs from this build; use --force (or "
                            "{force, true}) to replace it");
        same[i] = true;
    }
    for (size_t i = 0; i < f->nstages; i++) {
        struct flow_stage *s = &f->stages[i];
        if (same[i]) {
            log_verbose("%s already exists with the same content: kept", s->path);
            unlink(s->stage);
        } else if (rename(s->stage, s->path) != 0) {
            return kerr_errno(s->path, "cannot rename into place");
        }
        s->committed = true;
        if (!strcmp(s->kind, "release_tarball"))
            log_info("packed %s", s->path);
    }
    f->done = FLOW_DONE_COMMITTED;
    return 0;
}

int flow_finish(struct flow *f, int ok)
{
    int rc = 0;
    for (size_t i = 0; i < f->nstages; i++)
        if (!f->stages[i].committed)
            unlink(f->stages[i].stage);
    /* the earlier build dir goes last, after the extractions (see target_finish) */
    target_finish(&f->res);
    struct kerr saved;
    kerr_copy(&saved);
    if (guard_end(&f->guard, f->cfg_loaded && f->cfg.remove_tmp) != 0 && ok == 0)
        rc = -1;
    else
        kerr_restore(&saved);
    return rc;
}

/* peak_kb - the process's peak resident memory so far (VmHWM), or -1 */
static long peak_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (fp)
        fclose(fp);
    return kb;
}

/* timed - run phase NAME; its wall time and the peak memory after it are a debug message */
static int timed(struct flow *f, const char *name, int (*phase)(struct flow *))
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = phase(f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_debug("phase %s: %.1f ms (peak memory %ld kB)", name,
              (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
              peak_kb());
    return rc;
}

/* knit check on the upgrade: warnings are logged, an error stops the build */
static int check_upgrade(struct flow *f)
{
    return lint_upgrade(f->a, &f->cfg, &f->res, &f->new_rel, f->from, f->nfrom, f->skip);
}

static int run_phases(struct flow *f)
{
    if (timed(f, "config", flow_load_config) != 0 || timed(f, "release", flow_build_release) != 0)
        return -1;
    if (f->mode == FLOW_RELEASE)
        return timed(f, "commit", flow_commit);
    if (timed(f, "earlier", flow_find_earlier) != 0 || timed(f, "appups", flow_make_appups) != 0 ||
        timed(f, "check", check_upgrade) != 0)
        return -1;
    if (f->mode == FLOW_APPUP)
        return timed(f, "commit", flow_commit);
    if (timed(f, "relup", flow_make_relup) != 0 || timed(f, "upgrade", flow_pack_upgrade) != 0)
        return -1;
    return timed(f, "commit", flow_commit);
}

static int finish_ok(struct flow *f)
{
    return flow_finish(f, 0);
}

static int finish_failed(struct flow *f)
{
    return flow_finish(f, -1);
}

int flow_run(struct flow *f)
{
    int rc = run_phases(f);
    if (timed(f, "finish", rc == 0 ? finish_ok : finish_failed) != 0)
        rc = -1;
    return rc;
}
