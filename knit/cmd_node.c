/* cmd_node.c - the node commands: `knit status`, `knit install`, `knit downgrade`,
 * `knit remove` (SPEC "Part 2 - the node")
 *
 * Every command connects once to each node (node.c) and, except status, takes knit's lock
 * on it. With several nodes each phase completes on every node before the next starts:
 * connect -> inspect -> upload -> unpack -> pre-flight -> install -> permanent. A failure
 * before install undoes what was done everywhere (uploaded tarballs deleted, unpacked
 * releases removed with release_handler:remove_release), so every node is as it was; a
 * failure during install stops there and the report says which node runs which version.
 * Decisions: a pre-flight finding of check_install_release is never forced; processes that
 * would be killed and hot patches that would be undone stop the run (exit 5) unless
 * --force. A node that already holds the version is refused (remove it first).
 */
#include "cmd.h"
#include "kerr.h"
#include "log.h"
#include "node.h"
#include "nodeinfo.h"
#include "report.h"
#include "tarball.h"
#include "term_parse.h"
#include "term_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/* One node of the command. */
struct nnode {
    const char *arg;  /* as given */
    const char *name; /* name@host */
    struct node_conn *c;
    struct nodeinfo ni;
    bool have_ni;
    bool uploaded, unpacked, installed, permanent;
    const char *tar_remote;
    struct nodeinfo_preflight pf;
    bool have_pf;
    const char *problem; /* check_install_release's complaint */
    const char *from;    /* the version it ran before */
    json_t *j;           /* its part of the --json report */
    json_t *phases;
};

struct run {
    struct knit_ctx *ctx;
    struct arena a;
    struct node_opts o;
    struct nnode *v;
    size_t n;
    const char *cmd;
    bool dry_run, no_permanent;
    const char *rel_name, *rel_vsn; /* install: the tarball's release; downgrade/remove: VSN */
    json_t *doc;
};

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000.0 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void phase_done(struct nnode *n, const char *phase, const struct timespec *t0, bool ok,
                       const char *detail)
{
    json_t *p = json_pack("{s:s, s:b, s:f}", "phase", phase, "ok", ok, "ms", ms_since(t0));
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    json_array_append_new(n->phases, p);
}

static int usage(const char *cmd, const char *what)
{
    return kerr_set(KERR_USAGE, NULL, 0, 0, "%s: %s; try 'knit --help'", cmd, what);
}

/* parse_args - node options and flags out, positionals in POS */
static int parse_args(struct run *r, int argc, char **argv, char ***pos, int *npos)
{
    *pos = arena_alloc(&r->a, ((size_t)argc + 1) * sizeof **pos);
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        int used = node_opts_arg(&r->o, argc - i, argv + i);
        if (used < 0)
            return -1;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        const char *a = argv[i];
        if (!strcmp(a, "--dry-run") && !strcmp(r->cmd, "install"))
            r->dry_run = true;
        else if (!strcmp(a, "--no-permanent") && !strcmp(r->cmd, "install"))
            r->no_permanent = true;
        else if (a[0] == '-' && a[1])
            return kerr_set(KERR_USAGE, NULL, 0, 0, "%s: unknown option '%s'; try 'knit --help'",
                            r->cmd, a);
        else
            (*pos)[(*npos)++] = argv[i];
    }
    return 0;
}

static int add_nodes(struct run *r, char **names, int n)
{
    r->v = arena_alloc(&r->a, ((size_t)n + 1) * sizeof *r->v);
    for (int k = 0; k < n; k++) {
        const char *full = node_full_name(&r->a, names[k]);
        for (size_t i = 0; i < r->n; i++)
            if (!strcmp(r->v[i].name, full))
                return usage(r->cmd, arena_sprintf(&r->a, "node '%s' is given twice", full));
        struct nnode *x = &r->v[r->n++];
        x->arg = names[k];
        x->name = full;
        x->j = json_pack("{s:s}", "node", full);
        x->phases = json_array();
        json_object_set(x->j, "phases", x->phases);
    }
    return 0;
}

/* --- the report */

static json_t *proc_json(const struct nodeinfo_proc *p)
{
    return json_pack("{s:s, s:s?, s:s}", "pid", p->pid, "name", p->name, "initial_call",
                     p->initial);
}

static json_t *mod_json(const struct nodeinfo_mod *m)
{
    return json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?}", "module", m->module, "loaded_from",
                     m->loaded_from, "release_beam", m->disk, "loaded_md5", m->loaded_md5,
                     "disk_md5", m->disk_md5[0] ? m->disk_md5 : NULL, "knit_patch", m->patch_id);
}

static json_t *info_json(struct arena *a, const struct nodeinfo *ni)
{
    json_t *o = json_object();
    json_object_set_new(o, "summary", json_string(nodeinfo_summary(a, ni)));
    json_object_set_new(o, "otp", json_string(ni->otp));
    json_object_set_new(o, "erts", json_string(ni->erts));
    json_object_set_new(o, "release_handler", json_boolean(ni->has_release_handler));
    json_object_set_new(o, "root", json_string(ni->root));
    if (ni->rel_vsn)
        json_object_set_new(o, "current", json_pack("{s:s, s:s, s:s}", "name", ni->rel_name,
                                                    "vsn", ni->rel_vsn, "status", ni->rel_status));
    json_t *rels = json_array();
    for (size_t k = 0; k < ni->nrels; k++)
        json_array_append_new(rels, json_pack("{s:s, s:s, s:s}", "name", ni->rels[k].name, "vsn",
                                              ni->rels[k].vsn, "status", ni->rels[k].status));
    json_object_set_new(o, "releases", rels);
    json_t *apps = json_array();
    for (size_t k = 0; k < ni->napps; k++)
        json_array_append_new(apps, json_pack("{s:s, s:s}", "name", ni->apps[k].name, "vsn",
                                              ni->apps[k].vsn));
    json_object_set_new(o, "applications", apps);
    json_object_set_new(o, "modules_compared", json_integer(ni->nmodules));
    json_t *p = json_array();
    for (size_t k = 0; k < ni->npatched; k++)
        json_array_append_new(p, mod_json(&ni->patched[k]));
    json_object_set_new(o, "hot_patches", p);
    json_t *ch = json_array();
    for (size_t k = 0; k < ni->nchanged; k++)
        json_array_append_new(ch, mod_json(&ni->changed[k]));
    json_object_set_new(o, "changed_on_disk", ch);
    json_t *old = json_array();
    for (size_t k = 0; k < ni->nold; k++) {
        json_t *procs = json_array();
        for (size_t i = 0; i < ni->old[k].nprocs; i++)
            json_array_append_new(procs, proc_json(&ni->old[k].procs[i]));
        json_array_append_new(old, json_pack("{s:s, s:o}", "module", ni->old[k].module,
                                             "processes", procs));
    }
    json_object_set_new(o, "old_code", old);
    json_t *kp = json_array();
    for (size_t k = 0; k < ni->npatches; k++) {
        json_t *mods = json_array();
        for (size_t i = 0; i < ni->patches[k].nmodules; i++)
            json_array_append_new(mods, json_string(ni->patches[k].modules[i]));
        json_array_append_new(kp, json_pack("{s:s, s:I, s:o}", "id", ni->patches[k].id, "time",
                                            (json_int_t)ni->patches[k].time, "modules", mods));
    }
    json_object_set_new(o, "knit_patches", kp);
    return o;
}

static void print_info(struct arena *a, const struct nodeinfo *ni)
{
    printf("%s\n", nodeinfo_summary(a, ni));
    printf("  OTP %s, ERTS %s\n", ni->otp, ni->erts);
    if (!ni->has_release_handler)
        printf("  not started as a release (no release_handler)\n");
    if (ni->nrels) {
        printf("  releases:");
        for (size_t k = 0; k < ni->nrels; k++)
            printf("%s %s %s (%s)", k ? "," : "", ni->rels[k].name, ni->rels[k].vsn,
                   ni->rels[k].status);
        printf("\n");
    }
    printf("  applications:");
    for (size_t k = 0; k < ni->napps; k++)
        printf("%s %s %s", k ? "," : "", ni->apps[k].name, ni->apps[k].vsn);
    printf("\n  modules: %ld compared with the beams on disk", ni->nmodules);
    if (!ni->npatched && !ni->nchanged)
        printf(", all equal");
    printf("\n");
    for (size_t k = 0; k < ni->npatched; k++) {
        const struct nodeinfo_mod *m = &ni->patched[k];
        printf("  hot patch: %s loaded from '%s' (md5 %s)", m->module, m->loaded_from,
               m->loaded_md5);
        if (m->disk_md5[0])
            printf(", not the beam '%s' (md5 %s)", m->disk ? m->disk : "?", m->disk_md5);
        else
            printf(", no beam in the release");
        if (m->patch_id)
            printf(" [knit patch %s]", m->patch_id);
        printf("\n");
    }
    for (size_t k = 0; k < ni->nchanged; k++)
        printf("  changed on disk, not loaded: %s ('%s' is %s, loaded md5 %s)\n",
               ni->changed[k].module, ni->changed[k].loaded_from,
               ni->changed[k].disk_md5[0] ? ni->changed[k].disk_md5 : "gone",
               ni->changed[k].loaded_md5);
    for (size_t k = 0; k < ni->nold; k++) {
        printf("  old code: %s", ni->old[k].module);
        if (!ni->old[k].nprocs)
            printf(", no process runs it");
        for (size_t i = 0; i < ni->old[k].nprocs; i++)
            printf("%s %s", i ? "," : ", held by", nodeinfo_proc_text(a, &ni->old[k].procs[i]));
        printf("\n");
    }
    for (size_t k = 0; k < ni->npatches; k++) {
        printf("  knit patch %s:", ni->patches[k].id);
        for (size_t i = 0; i < ni->patches[k].nmodules; i++)
            printf(" %s", ni->patches[k].modules[i]);
        printf("\n");
    }
}

/* finish - the --json document (with the error when RC is -1), then RC */
static int finish(struct run *r, int rc)
{
    if (r->ctx->json) {
        json_t *nodes = json_array();
        for (size_t k = 0; k < r->n; k++)
            json_array_append(nodes, r->v[k].j);
        json_object_set_new(r->doc, "nodes", nodes);
        if (rc != 0) {
            char msg[4096];
            const struct kerr *e = kerr_get();
            kerr_format(e, msg, sizeof msg);
            json_object_set_new(r->doc, "error",
                                json_pack("{s:s, s:i}", "message", msg, "exit_code", (int)e->cls));
        }
        struct kerr keep;
        kerr_copy(&keep);
        if (report_print(r->doc) != 0 && rc == 0)
            rc = -1;
        else
            kerr_restore(&keep);
        r->doc = NULL;
    }
    return rc;
}

static void run_close(struct run *r)
{
    for (size_t k = 0; k < r->n; k++) {
        node_close(r->v[k].c);
        json_decref(r->v[k].j);
        json_decref(r->v[k].phases);
    }
    json_decref(r->doc);
    arena_close(&r->a);
}

/* connect_all - connect (and lock unless LOCK is NULL) every node, then inspect it */
static int connect_all(struct run *r, const char *lock)
{
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        log_progress("%s: connecting", n->name);
        if (node_open(n->name, &r->o, &n->c) != 0) {
            phase_done(n, "connect", &t0, false, kerr_get()->msg);
            return -1;
        }
        if (lock && node_lock(n->c, lock) != 0) {
            phase_done(n, "lock", &t0, false, kerr_get()->msg);
            return -1;
        }
        phase_done(n, "connect", &t0, true, node_self(n->c));
    }
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        log_progress("%s: inspecting", n->name);
        if (nodeinfo_get(&r->a, n->c, &n->ni) != 0) {
            phase_done(n, "inspect", &t0, false, kerr_get()->msg);
            return -1;
        }
        n->have_ni = true;
        n->from = n->ni.rel_vsn;
        phase_done(n, "inspect", &t0, true, NULL);
    }
    return 0;
}

static void set_calls(struct run *r)
{
    for (size_t k = 0; k < r->n; k++)
        if (r->v[k].c)
            json_object_set_new(r->v[k].j, "rpc_calls", json_integer(node_calls(r->v[k].c)));
}

/* --- status */

int cmd_status(struct knit_ctx *ctx, int argc, char **argv)
{
    struct run r = {.ctx = ctx, .cmd = "status"};
    arena_init(&r.a);
    node_opts_init(&r.o);
    r.doc = json_pack("{s:s}", "command", "status");
    char **pos;
    int npos, rc = -1;
    if (parse_args(&r, argc, argv, &pos, &npos) != 0)
        goto done;
    if (npos == 0) {
        rc = usage("status", "expected NODE...");
        goto done;
    }
    if (add_nodes(&r, pos, npos) != 0)
        goto done;
    /* status goes on past a node that fails: the others are still worth seeing */
    struct kerr first = {0};
    for (size_t k = 0; k < r.n; k++) {
        struct nnode *n = &r.v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        log_progress("%s: connecting", n->name);
        if (node_open(n->name, &r.o, &n->c) != 0 || nodeinfo_get(&r.a, n->c, &n->ni) != 0) {
            phase_done(n, "status", &t0, false, kerr_get()->msg);
            json_object_set_new(n->j, "error", json_string(kerr_get()->msg));
            if (first.cls == KERR_OK)
                kerr_copy(&first);
            if (!ctx->json)
                printf("%s: %s\n", n->name, kerr_get()->msg);
            continue;
        }
        n->have_ni = true;
        phase_done(n, "status", &t0, true, NULL);
        json_object_set_new(n->j, "status", info_json(&r.a, &n->ni));
        if (!ctx->json)
            print_info(&r.a, &n->ni);
    }
    set_calls(&r);
    if (first.cls != KERR_OK) {
        kerr_restore(&first);
        rc = -1;
    } else {
        rc = 0;
    }
done:
    rc = finish(&r, rc);
    run_close(&r);
    return rc;
}

/* --- install and its undo */

struct relfind {
    struct arena *a;
    const struct term *rel;
    const char *err;
};

static enum tarball_choice rel_choose(const char *name, void *ctx)
{
    (void)ctx;
    const char *p = name;
    if (!strncmp(p, "./", 2))
        p += 2;
    size_t n = strlen(p);
    if (strncmp(p, "releases/", 9) == 0 && n > 4 && !strcmp(p + n - 4, ".rel"))
        return TARBALL_READ;
    return TARBALL_SKIP;
}

static int rel_take(const char *name, const void *data, size_t len, void *ctx)
{
    struct relfind *f = ctx;
    if (f->rel)
        return 0;
    const struct term *t = term_consult_buf(f->a, name, data, len);
    if (!t)
        return -1;
    size_t n;
    const struct term *const *e = term_list_els(t, &n);
    if (n >= 1 && term_is_tagged(e[0], "release", 4) && term_is_tuple(e[0]->u.tuple.el[1], 2))
        f->rel = e[0];
    return 0;
}

/* tarball_release - name and version of the release in TARBALL, reading the whole archive
 * (a corrupted one is refused here, before anything is sent) */
static int tarball_release(struct run *r, const char *tarball)
{
    char tmpl[] = "/tmp/knit-install.XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return kerr_errno("/tmp", "cannot make a temporary directory");
    struct relfind f = {&r->a, NULL, NULL};
    struct tarball_filter flt = {rel_choose, rel_take, &f};
    int rc = tarball_extract_some(tarball, dir, &flt);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        log_warn("cannot remove %s", dir);
    if (rc != 0)
        return kerr_wrap("", " (the tarball is refused before anything is sent to a node)");
    if (!f.rel)
        return kerr_set(KERR_INPUT, tarball, 0, 0,
                        "no releases/*.rel in the tarball: not a release package");
    const struct term *nv = f.rel->u.tuple.el[1];
    r->rel_name = term_text(&r->a, nv->u.tuple.el[0]);
    r->rel_vsn = term_text(&r->a, nv->u.tuple.el[1]);
    if (!r->rel_name || !r->rel_vsn)
        return kerr_set(KERR_INPUT, tarball, 0, 0, "the .rel in the tarball has no name and version");
    return 0;
}

/* undo - put every node back as it was before this run (best effort, error kept) */
static void undo(struct run *r)
{
    struct kerr keep;
    kerr_copy(&keep);
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        if (!n->c)
            continue;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bool did = false, ok = true;
        if (n->unpacked) {
            did = true;
            const struct term *x = node_call(&r->a, n->c, "release_handler", "remove_release",
                                             term_listv(&r->a, 1, node_str(&r->a, r->rel_vsn)));
            if (!x || !term_is_atom(x, "ok")) {
                ok = false;
                log_warn("%s: could not remove the unpacked release %s: %s", n->name, r->rel_vsn,
                         x ? term_show(&r->a, x, 200) : kerr_get()->msg);
            } else {
                n->unpacked = false;
            }
        }
        if (n->uploaded && n->tar_remote) {
            did = true;
            if (node_delete(n->c, n->tar_remote) != 0) {
                ok = false;
                log_warn("%s: could not delete %s: %s", n->name, n->tar_remote, kerr_get()->msg);
            }
        }
        if (did)
            phase_done(n, "undo", &t0, ok, NULL);
    }
    kerr_restore(&keep);
}

/* preflight_one - check_install_release, then the purges and patches of the script taking
 * N from its version to VSN; findings are recorded in N */
static int preflight_one(struct run *r, struct nnode *n, const char *vsn, bool up)
{
    const struct term *x = node_call(&r->a, n->c, "release_handler", "check_install_release",
                                     term_listv(&r->a, 1, node_str(&r->a, vsn)));
    if (!x)
        return -1;
    if (!term_is_tagged(x, "ok", 3)) {
        n->problem = term_show(&r->a, term_is_tagged(x, "error", 2) ? x->u.tuple.el[1] : x, 600);
        return 0;
    }
    const struct term *script = nodeinfo_relup_script(&r->a, n->c, n->ni.releases_dir,
                                                      n->from, vsn, up);
    if (!script)
        return -1;
    if (nodeinfo_preflight(&r->a, n->c, script, &n->ni, &n->pf) != 0)
        return -1;
    n->have_pf = true;
    return 0;
}

static json_t *preflight_json(struct nnode *n)
{
    json_t *o = json_object();
    json_object_set_new(o, "check_install_release", n->problem ? json_string(n->problem)
                                                               : json_string("ok"));
    json_t *v = json_array();
    for (size_t k = 0; k < n->pf.nvictims; k++) {
        json_t *p = proc_json(&n->pf.victims[k].proc);
        json_object_set_new(p, "module", json_string(n->pf.victims[k].module));
        json_object_set_new(p, "old_code", json_boolean(n->pf.victims[k].old_code));
        json_array_append_new(v, p);
    }
    json_object_set_new(o, "would_kill", v);
    json_t *u = json_array();
    for (size_t k = 0; k < n->pf.nundone; k++)
        json_array_append_new(u, mod_json(&n->pf.undone[k]));
    json_object_set_new(o, "patches_undone", u);
    json_t *b = json_array();
    for (size_t k = 0; k < n->pf.nbrutal; k++)
        json_array_append_new(b, json_string(n->pf.brutal[k]));
    json_object_set_new(o, "brutal_purge", b);
    return o;
}

/* preflight_all - every node's pre-flight, printed; -1 (exit 5) naming the nodes when a
 * finding stops the run */
static int preflight_all(struct run *r, const char *vsn, bool up)
{
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        log_progress("%s: pre-flight", n->name);
        if (preflight_one(r, n, vsn, up) != 0) {
            phase_done(n, "preflight", &t0, false, kerr_get()->msg);
            return -1;
        }
        phase_done(n, "preflight", &t0, true, NULL);
        json_object_set_new(n->j, "preflight", preflight_json(n));
    }
    struct buf bad = BUF_INIT;
    bool hard = false;
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        if (n->problem) {
            if (!r->ctx->json)
                printf("%s: pre-flight: check_install_release: %s\n", n->name, n->problem);
            buf_addf(&bad, "%s%s (check_install_release)", bad.len ? ", " : "", n->name);
            hard = true;
            continue;
        }
        if (!r->ctx->json) {
            printf("%s: pre-flight: %s -> %s: check_install_release ok", n->name,
                   n->from ? n->from : "?", vsn);
            if (!n->pf.nvictims && !n->pf.nundone)
                printf(", no process would be killed, no hot patch undone");
            printf("\n");
            for (size_t i = 0; i < n->pf.nvictims; i++)
                printf("  would be killed by the %spurge of %s: %s\n",
                       n->pf.victims[i].old_code ? "old-code " : "", n->pf.victims[i].module,
                       nodeinfo_proc_text(&r->a, &n->pf.victims[i].proc));
            for (size_t i = 0; i < n->pf.nundone; i++)
                printf("  hot patch undone: %s (loaded from '%s'%s%s)\n", n->pf.undone[i].module,
                       n->pf.undone[i].loaded_from, n->pf.undone[i].patch_id ? ", knit patch " : "",
                       n->pf.undone[i].patch_id ? n->pf.undone[i].patch_id : "");
        }
        if (n->pf.nvictims || n->pf.nundone)
            buf_addf(&bad, "%s%s (%zu process%s would be killed, %zu hot patch%s undone)",
                     bad.len ? ", " : "", n->name, n->pf.nvictims,
                     n->pf.nvictims == 1 ? "" : "es", n->pf.nundone,
                     n->pf.nundone == 1 ? "" : "es");
    }
    int rc = 0;
    if (bad.len && (hard || !r->ctx->force))
        rc = kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "pre-flight failed on %s%s", buf_cstr(&bad),
                      hard ? "" : "; --force to go on anyway");
    else if (bad.len)
        log_warn("pre-flight findings on %s: going on (--force)", buf_cstr(&bad));
    buf_free(&bad);
    return rc;
}

/* who_runs_what - "a@h runs 2.0.0, b@h runs 1.0.0" after an install stopped midway */
static const char *who_runs_what(struct run *r)
{
    struct buf b = BUF_INIT;
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        const char *v = "an unknown version";
        if (n->c) {
            struct kerr keep;
            kerr_copy(&keep);
            struct nodeinfo ni;
            if (nodeinfo_get(&r->a, n->c, &ni) == 0 && ni.rel_vsn)
                v = arena_sprintf(&r->a, "%s (%s)", ni.rel_vsn, ni.rel_status);
            kerr_restore(&keep);
        }
        json_object_set_new(n->j, "runs", json_string(v));
        buf_addf(&b, "%s%s runs %s", k ? ", " : "", n->name, v);
    }
    const char *s = arena_strdup(&r->a, buf_cstr(&b));
    buf_free(&b);
    return s;
}

/* install_all - install_release VSN, then make_permanent unless NO_PERMANENT, on every node */
static int install_all(struct run *r, const char *vsn, bool no_permanent)
{
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        log_progress("%s: installing %s", n->name, vsn);
        const struct term *x = node_call(&r->a, n->c, "release_handler", "install_release",
                                         term_listv(&r->a, 1, node_str(&r->a, vsn)));
        if (!x || !term_is_tagged(x, "ok", 3)) {
            if (x)
                kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: install_release(\"%s\") failed: %s",
                         n->name, vsn, term_show(&r->a, x, 600));
            phase_done(n, "install", &t0, false, kerr_get()->msg);
            return kerr_wrap("", arena_sprintf(&r->a, "; stopped: %s", who_runs_what(r)));
        }
        n->installed = true;
        n->unpacked = false;
        phase_done(n, "install", &t0, true, NULL);
        /* the processes the pre-flight named: which did the purge kill (--force) */
        if (n->have_pf && n->pf.nvictims) {
            struct term_vec pids = {0};
            for (size_t i = 0; i < n->pf.nvictims; i++)
                term_vec_add(&r->a, &pids, node_str(&r->a, n->pf.victims[i].proc.pid));
            const struct term *alive = node_eval(
                &r->a, n->c, "[P || P <- Ps, is_process_alive(list_to_pid(P))]",
                term_listv(&r->a, 1, node_bind(&r->a, "Ps", term_vec_list(&r->a, &pids))));
            json_t *killed = json_array();
            for (size_t i = 0; i < n->pf.nvictims; i++) {
                bool still = false;
                size_t na;
                const struct term *const *ae = alive ? term_list_els(alive, &na) : NULL;
                for (size_t j = 0; ae && j < na; j++) {
                    const char *s = term_text(&r->a, ae[j]);
                    if (s && !strcmp(s, n->pf.victims[i].proc.pid))
                        still = true;
                }
                if (!still) {
                    json_array_append_new(killed, proc_json(&n->pf.victims[i].proc));
                    if (!r->ctx->json)
                        printf("%s: killed by the purge of %s: %s\n", n->name,
                               n->pf.victims[i].module,
                               nodeinfo_proc_text(&r->a, &n->pf.victims[i].proc));
                }
            }
            json_object_set_new(n->j, "killed", killed);
        }
    }
    if (no_permanent)
        return 0;
    for (size_t k = 0; k < r->n; k++) {
        struct nnode *n = &r->v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        log_progress("%s: make_permanent %s", n->name, vsn);
        const struct term *x = node_call(&r->a, n->c, "release_handler", "make_permanent",
                                         term_listv(&r->a, 1, node_str(&r->a, vsn)));
        if (!x || !term_is_atom(x, "ok")) {
            if (x)
                kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: make_permanent(\"%s\") failed: %s",
                         n->name, vsn, term_show(&r->a, x, 600));
            phase_done(n, "permanent", &t0, false, kerr_get()->msg);
            return kerr_wrap("", arena_sprintf(&r->a, "; stopped: %s", who_runs_what(r)));
        }
        n->permanent = true;
        phase_done(n, "permanent", &t0, true, NULL);
    }
    return 0;
}

static bool has_vsn(const struct nodeinfo *ni, const char *vsn, const char **status)
{
    for (size_t k = 0; k < ni->nrels; k++)
        if (!strcmp(ni->rels[k].vsn, vsn)) {
            if (status)
                *status = ni->rels[k].status;
            return true;
        }
    return false;
}

int cmd_install(struct knit_ctx *ctx, int argc, char **argv)
{
    struct run r = {.ctx = ctx, .cmd = "install"};
    arena_init(&r.a);
    node_opts_init(&r.o);
    r.doc = json_pack("{s:s}", "command", "install");
    char **pos;
    int npos, rc = -1;
    if (parse_args(&r, argc, argv, &pos, &npos) != 0)
        goto done;
    if (npos < 2) {
        rc = usage("install", "expected NODE... TARBALL");
        goto done;
    }
    const char *tarball = pos[npos - 1];
    if (add_nodes(&r, pos, npos - 1) != 0)
        goto done;
    if (tarball_release(&r, tarball) != 0)
        goto done;
    json_object_set_new(r.doc, "release",
                        json_pack("{s:s, s:s, s:s}", "name", r.rel_name, "vsn", r.rel_vsn,
                                  "tarball", tarball));
    json_object_set_new(r.doc, "dry_run", json_boolean(r.dry_run));
    if (connect_all(&r, "install") != 0)
        goto done;
    for (size_t k = 0; k < r.n; k++) {
        struct nnode *n = &r.v[k];
        const char *st;
        json_object_set_new(n->j, "before", n->from ? json_string(n->from) : json_null());
        if (!n->ni.has_release_handler) {
            kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                     "%s was not started as a release (no release_handler running): knit install "
                     "needs a node booted from a release (bin/NAME start)",
                     n->name);
            goto done;
        }
        if (!n->ni.rel_name || strcmp(n->ni.rel_name, r.rel_name) != 0) {
            kerr_set(KERR_NODE_REFUSED, tarball, 0, 0,
                     "the tarball holds release '%s' %s, but %s runs release '%s'", r.rel_name,
                     r.rel_vsn, n->name, n->ni.rel_name ? n->ni.rel_name : "(none)");
            goto done;
        }
        if (has_vsn(&n->ni, r.rel_vsn, &st)) {
            kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                     "%s already holds release %s (%s): nothing to install (knit remove %s %s "
                     "first to install it again)",
                     n->name, r.rel_vsn, st, n->name, r.rel_vsn);
            goto done;
        }
    }
    for (size_t k = 0; k < r.n; k++) {
        struct nnode *n = &r.v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        n->tar_remote = arena_sprintf(&r.a, "%s/%s-%s.tar.gz", n->ni.releases_dir, r.rel_name,
                                      r.rel_vsn);
        log_progress("%s: upload to %s", n->name, n->tar_remote);
        n->uploaded = true; /* a partial upload removes itself; the undo deletes a whole one */
        if (node_upload(n->c, tarball, n->tar_remote, true) != 0) {
            n->uploaded = false;
            phase_done(n, "upload", &t0, false, kerr_get()->msg);
            goto undo;
        }
        phase_done(n, "upload", &t0, true, n->tar_remote);
    }
    for (size_t k = 0; k < r.n; k++) {
        struct nnode *n = &r.v[k];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        log_progress("%s: unpack %s", n->name, r.rel_vsn);
        const char *rel = arena_sprintf(&r.a, "%s-%s", r.rel_name, r.rel_vsn);
        const struct term *x = node_call(&r.a, n->c, "release_handler", "unpack_release",
                                         term_listv(&r.a, 1, node_str(&r.a, rel)));
        if (!x || !term_is_tagged(x, "ok", 2)) {
            if (x)
                kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: unpack_release(\"%s\") failed: %s",
                         n->name, rel, term_show(&r.a, x, 600));
            phase_done(n, "unpack", &t0, false, kerr_get()->msg);
            goto undo;
        }
        n->unpacked = true;
        phase_done(n, "unpack", &t0, true, NULL);
    }
    if (preflight_all(&r, r.rel_vsn, true) != 0)
        goto undo;
    if (r.dry_run) {
        undo(&r);
        if (!ctx->json)
            printf("dry run: nothing installed; every node is as it was\n");
        rc = 0;
        goto done;
    }
    if (install_all(&r, r.rel_vsn, r.no_permanent) != 0)
        goto done;
    for (size_t k = 0; k < r.n; k++) {
        json_object_set_new(r.v[k].j, "after", json_string(r.rel_vsn));
        if (!ctx->json)
            printf("%s: %s -> %s%s\n", r.v[k].name, r.v[k].from ? r.v[k].from : "?", r.rel_vsn,
                   r.no_permanent ? " (current, not permanent)" : " (permanent)");
    }
    rc = 0;
    goto done;
undo:
    undo(&r);
    rc = -1;
done:
    set_calls(&r);
    rc = finish(&r, rc);
    run_close(&r);
    return rc;
}

/* --- downgrade, remove */

static int release_cmd(struct knit_ctx *ctx, int argc, char **argv, const char *cmd)
{
    struct run r = {.ctx = ctx, .cmd = cmd};
    arena_init(&r.a);
    node_opts_init(&r.o);
    r.doc = json_pack("{s:s}", "command", cmd);
    char **pos;
    int npos, rc = -1;
    bool down = !strcmp(cmd, "downgrade");
    if (parse_args(&r, argc, argv, &pos, &npos) != 0)
        goto done;
    if (npos < 2) {
        rc = usage(cmd, "expected NODE... VSN");
        goto done;
    }
    r.rel_vsn = pos[npos - 1];
    json_object_set_new(r.doc, "vsn", json_string(r.rel_vsn));
    if (add_nodes(&r, pos, npos - 1) != 0)
        goto done;
    if (connect_all(&r, cmd) != 0)
        goto done;
    for (size_t k = 0; k < r.n; k++) {
        struct nnode *n = &r.v[k];
        const char *st = NULL;
        json_object_set_new(n->j, "before", n->from ? json_string(n->from) : json_null());
        if (!n->ni.has_release_handler) {
            kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                     "%s was not started as a release (no release_handler running)", n->name);
            goto done;
        }
        if (!has_vsn(&n->ni, r.rel_vsn, &st)) {
            kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s holds no release %s", n->name, r.rel_vsn);
            goto done;
        }
        if (n->from && !strcmp(n->from, r.rel_vsn)) {
            kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s already runs %s (%s)%s", n->name,
                     r.rel_vsn, st, down ? "" : ": it cannot be removed");
            goto done;
        }
        if (!down && !strcmp(st, "permanent")) {
            kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                     "%s: release %s is permanent: it cannot be removed", n->name, r.rel_vsn);
            goto done;
        }
    }
    if (down) {
        if (preflight_all(&r, r.rel_vsn, false) != 0)
            goto done;
        if (install_all(&r, r.rel_vsn, false) != 0)
            goto done;
        for (size_t k = 0; k < r.n; k++) {
            json_object_set_new(r.v[k].j, "after", json_string(r.rel_vsn));
            if (!ctx->json)
                printf("%s: %s -> %s (permanent)\n", r.v[k].name, r.v[k].from, r.rel_vsn);
        }
    } else {
        for (size_t k = 0; k < r.n; k++) {
            struct nnode *n = &r.v[k];
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            log_progress("%s: remove %s", n->name, r.rel_vsn);
            const struct term *x = node_call(&r.a, n->c, "release_handler", "remove_release",
                                             term_listv(&r.a, 1, node_str(&r.a, r.rel_vsn)));
            if (!x || !term_is_atom(x, "ok")) {
                if (x)
                    kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                             "%s: remove_release(\"%s\") failed: %s", n->name, r.rel_vsn,
                             term_show(&r.a, x, 600));
                phase_done(n, "remove", &t0, false, kerr_get()->msg);
                goto done;
            }
            phase_done(n, "remove", &t0, true, NULL);
            if (!ctx->json)
                printf("%s: release %s removed\n", n->name, r.rel_vsn);
        }
    }
    rc = 0;
done:
    set_calls(&r);
    rc = finish(&r, rc);
    run_close(&r);
    return rc;
}

int cmd_downgrade(struct knit_ctx *ctx, int argc, char **argv)
{
    return release_cmd(ctx, argc, argv, "downgrade");
}

int cmd_remove(struct knit_ctx *ctx, int argc, char **argv)
{
    return release_cmd(ctx, argc, argv, "remove");
}
