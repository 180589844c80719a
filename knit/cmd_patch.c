/* cmd_patch.c - `knit patch NODE... BEAM|EBIN_DIR...`: hot-patch running nodes without a
 * release, through release_handler's own evaluator
 *
 * Phases, each completed on every node before the next starts (SPEC "Part 2", patch):
 * connect -> ask the loaded md5s and plan (patch.c) -> pre-flight (processes the purges would
 * kill; stop with exit 5 unless --force) -> upload the beams into a new directory ->
 * load (release_handler_1:eval_script) -> purge -> record. A failure before the load
 * removes the uploaded directories everywhere: no node changes. Decisions:
 * - The patch directory is ROOT/releases/knit_patches/knit_patch-ID on a node that runs a
 *   release (release_handler is up; sasl's releases_dir when set), else
 *   CWD/knit_patches/knit_patch-ID (CWD: the node's working directory). Its ebin replaces
 *   the previous patch's in the code path (code:replace_path, as the evaluator does at
 *   point_of_no_return for every library it loaded from).
 * - The record is an entry in the environment of application knit on the node
 *   (PATCH_ENV_APP/PATCH_ENV_KEY, newest first): it lives exactly as long as the patched
 *   code in memory does (a restart loads the release's code and forgets both), needs no
 *   writable release directory (a plain node has none), and no release upgrade touches it
 *   (knit is no application of the release).
 */
#include "cmd.h"
#include "etf.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "patch_conn.h"
#include "patch.h"
#include "report.h"
#include "term_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A process the pre-flight found. */
struct pproc {
    const struct term *pid; /* as the node sent it */
    const char *pid_text;
    const char *name;    /* registered name, or NULL */
    const char *initial; /* initial call, M:F/A */
    const char *current; /* current function, M:F/A */
    const char *module;  /* the patched module whose purge kills it */
    const char *why;
};

struct pnode {
    const char *name;
    struct pconn *conn;
    const char *dir; /* the patch directory on the node */
    const uint8_t **loaded;
    struct patch_plan plan;
    struct pproc *kill; /* what the purges would kill */
    size_t nkill;
    const char **refused; /* soft_purge modules with processes on old code */
    size_t nrefused;
    bool uploaded, evaluated;
    const struct term *unpurged; /* eval_script's {Mod, PostPurge} list */
    const char **kept;           /* soft-purged modules whose old code stays */
    size_t nkept;
    struct pproc *killed;
    size_t nkilled;
};

/* exit 5: a node refused the operation or its pre-flight failed */
#define PATCH_REFUSED ((enum kerr_class)5)

struct popts {
    bool dry_run, force, add, json;
    struct pconn_opts node;
};

static const struct term *A(struct arena *a, const char *s)
{
    return term_atomz(a, s);
}

static const struct term *S(struct arena *a, const char *s)
{
    return term_stringz(a, s);
}

/* call - M:F(ARGS...) on node N; NULL with the error recorded (the connection layer's class
 * for a lost node, exit 5 for a {badrpc, _} answer, naming the node and the call) */
static const struct term *call(struct arena *a, struct pnode *n, const char *m, const char *f,
                               const struct term *args)
{
    const struct term *r = pconn_rpc(a, n->conn, m, f, args);
    if (r && term_is_tagged(r, "badrpc", 2)) {
        kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: %s:%s failed: %s", n->name, m, f,
                 term_show(a, r->u.tuple.el[1], 300));
        return NULL;
    }
    return r;
}

/* export_fun - the fun M:F/ARITY, as the node will read it */
static const struct term *export_fun(struct arena *a, const char *m, const char *f, int arity)
{
    struct buf b = BUF_INIT;
    buf_addc(&b, 113);
    const char *s[2] = {m, f};
    for (int k = 0; k < 2; k++) {
        buf_addc(&b, 119); /* SMALL_ATOM_UTF8_EXT */
        buf_addc(&b, (char)strlen(s[k]));
        buf_adds(&b, s[k]);
    }
    buf_addc(&b, 97);
    buf_addc(&b, (char)arity);
    const uint8_t *ext = arena_memdup(a, b.p, b.len);
    size_t len = b.len;
    buf_free(&b);
    return term_opaque(a, TERM_FUN, ext, len, arena_sprintf(a, "fun %s:%s/%d", m, f, arity));
}

static const char *mfa_text(struct arena *a, const struct term *t)
{
    if (term_is_tuple(t, 3) && t->u.tuple.el[0]->type == TERM_ATOM &&
        t->u.tuple.el[1]->type == TERM_ATOM && term_is_int(t->u.tuple.el[2]))
        return arena_sprintf(a, "%s:%s/%lld", t->u.tuple.el[0]->u.atom.name,
                             t->u.tuple.el[1]->u.atom.name, (long long)t->u.tuple.el[2]->u.i);
    return term_show(a, t, 200);
}

/* ---- asking the node ---- */

/* ask_loaded - the md5 of each beam's module on N: of the loaded code, or, for a module not
 * loaded yet but on the code path (an interactive node loads on first call), of the file
 * the node would load; NULL when the node has neither */
static int ask_loaded(struct arena *a, struct pnode *n, const struct patch_beam *b, size_t nb)
{
    n->loaded = arena_alloc(a, (nb + 1) * sizeof *n->loaded);
    for (size_t k = 0; k < nb; k++) {
        const struct term *mod = A(a, b[k].module);
        const struct term *r = call(a, n, "code", "is_loaded", term_listv(a, 1, mod));
        if (!r)
            return -1;
        if (term_is_atom(r, "false")) {
            r = call(a, n, "code", "which", term_listv(a, 1, mod));
            if (!r)
                return -1;
            if (!term_charlist(a, r))
                continue; /* non_existing */
            r = call(a, n, "beam_lib", "md5", term_listv(a, 1, r));
            if (!r)
                return -1;
            if (!term_is_tagged(r, "ok", 2) || !term_is_tuple(r->u.tuple.el[1], 2))
                continue; /* an unreadable file: as good as none */
            r = r->u.tuple.el[1]->u.tuple.el[1];
        } else {
            r = call(a, n, "erlang", "get_module_info", term_listv(a, 2, mod, A(a, "md5")));
            if (!r)
                return -1;
        }
        if (r->type != TERM_BITS || r->u.bits.nbits != 128)
            return kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: unexpected md5 of '%s': %s",
                            n->name, b[k].module, term_show(a, r, 200));
        n->loaded[k] = r->u.bits.data;
    }
    return 0;
}

/* patch_dir - where N keeps this patch (see the file comment) */
static int patch_dir(struct arena *a, struct pnode *n, const char *id)
{
    const struct term *rh = call(a, n, "erlang", "whereis", term_listv(a, 1, A(a, "release_handler")));
    if (!rh)
        return -1;
    const char *base;
    if (rh->type == TERM_PID) {
        const struct term *r = call(a, n, "application", "get_env",
                                    term_listv(a, 2, A(a, "sasl"), A(a, "releases_dir")));
        if (!r)
            return -1;
        if (term_is_tagged(r, "ok", 2) && term_charlist(a, r->u.tuple.el[1])) {
            base = term_charlist(a, r->u.tuple.el[1]);
        } else {
            r = call(a, n, "code", "root_dir", term_nil());
            if (!r || !(base = term_charlist(a, r)))
                return r ? kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: no root directory",
                                    n->name)
                         : -1;
            base = arena_sprintf(a, "%s/releases", base);
        }
    } else {
        const struct term *r = call(a, n, "file", "get_cwd", term_nil());
        if (!r)
            return -1;
        if (!term_is_tagged(r, "ok", 2) || !(base = term_charlist(a, r->u.tuple.el[1])))
            return kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: no working directory: %s",
                            n->name, term_show(a, r, 200));
    }
    n->dir = arena_sprintf(a, "%s/knit_patches/%s-%s", base, PATCH_LIB, id);
    return 0;
}

/* instr_purges - the pre- and post-purge of module M in the plan's instructions */
static void instr_purges(const struct patch_plan *p, const char *m, const char **pre,
                         const char **post, bool *updated)
{
    *pre = *post = "brutal_purge";
    *updated = false;
    for (size_t k = 0; k < p->rep.nmods; k++) {
        const struct term *i = p->rep.mods[k].up;
        if (strcmp(p->rep.mods[k].name, m) != 0)
            continue;
        if (term_is_tagged(i, "update", 8)) {
            *pre = i->u.tuple.el[5]->u.atom.name;
            *post = i->u.tuple.el[6]->u.atom.name;
            *updated = true;
        } else if (term_is_tagged(i, "load_module", 5)) {
            *pre = i->u.tuple.el[2]->u.atom.name;
            *post = i->u.tuple.el[3]->u.atom.name;
        }
    }
}

static bool pid_in(const struct term *pid, const struct term *const *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (term_equal(pid, v[k]))
            return true;
    return false;
}

/* add_proc - append P to V unless its pid is there already */
static void add_proc(struct arena *a, struct pproc **v, size_t *n, const struct pproc *p)
{
    for (size_t k = 0; k < *n; k++)
        if (term_equal((*v)[k].pid, p->pid))
            return;
    struct pproc *nv = arena_alloc(a, (*n + 1) * sizeof *nv);
    if (*n)
        memcpy(nv, *v, *n * sizeof *nv);
    nv[(*n)++] = *p;
    *v = nv;
}

/* local_pid_text - PID (of the node asked) as that node prints it: <0.N.S> */
static const char *local_pid_text(struct arena *a, const struct term *pid)
{
    if (pid->type != TERM_PID)
        return term_show(a, pid, 80);
    const char *t = pid->u.opaque.text, *dot = strchr(t, '.');
    return t[0] == '<' && dot ? arena_sprintf(a, "<0%s", dot) : t;
}

/* proc_of - a pproc from PID and its process_info list INFO ([] or undefined when gone) */
static struct pproc proc_of(struct arena *a, const struct term *pid, const struct term *info,
                            const char *module, const char *why)
{
    struct pproc p = {pid, local_pid_text(a, pid), NULL, NULL, NULL, module, why};
    const struct term *v = term_proplist_get(info, "registered_name");
    if (v && v->type == TERM_ATOM)
        p.name = v->u.atom.name;
    if ((v = term_proplist_get(info, "initial_call")))
        p.initial = mfa_text(a, v);
    if ((v = term_proplist_get(info, "current_stacktrace")) && term_list_len(v) > 0) {
        const struct term *f = v->u.list.el[0];
        if (term_is_tuple(f, 4))
            p.current = mfa_text(a, term_tuplev(a, 3, f->u.tuple.el[0], f->u.tuple.el[1],
                                                 f->u.tuple.el[2]));
    }
    return p;
}

/* stack_has - whether a current_stacktrace in INFO has a frame in module M */
static bool stack_has(const struct term *info, const char *m)
{
    const struct term *st = term_proplist_get(info, "current_stacktrace");
    size_t n;
    const struct term *const *f = term_list_els(st && term_is_list(st) ? st : term_nil(), &n);
    for (size_t k = 0; k < n; k++)
        if (term_is_tuple(f[k], 4) && term_is_atom(f[k]->u.tuple.el[0], m))
            return true;
    return false;
}

/* old_code_victims - when MOD has old code on N, whoever runs it (PIDS, INFOS: the node's
 * processes and their process_info) dies at the load with a brutal PRE purge, or makes the
 * evaluator refuse with a soft one (N's REFUSED) */
static int old_code_victims(struct arena *a, struct pnode *n, const char *mod, const char *pre,
                            const struct term *pids, const struct term *infos)
{
    size_t np, ni;
    const struct term *const *pv = term_list_els(pids, &np);
    const struct term *const *iv = term_list_els(infos, &ni);
    const struct term *old = call(a, n, "erlang", "check_old_code", term_listv(a, 1, A(a, mod)));
    if (!old)
        return -1;
    if (!term_is_atom(old, "true"))
        return 0;
    const struct term **mods = arena_alloc(a, (np + 1) * sizeof *mods);
    for (size_t j = 0; j < np; j++)
        mods[j] = A(a, mod);
    const struct term *cpc =
        call(a, n, "lists", "zipwith",
             term_listv(a, 3, export_fun(a, "erlang", "check_process_code", 2), pids,
                        term_list(a, mods, np, term_nil())));
    if (!cpc)
        return -1;
    size_t nc;
    const struct term *const *cv = term_list_els(cpc, &nc);
    for (size_t j = 0; j < nc && j < np && j < ni; j++) {
        if (!term_is_atom(cv[j], "true"))
            continue;
        if (!strcmp(pre, "soft_purge")) {
            if (!n->nrefused || strcmp(n->refused[n->nrefused - 1], mod) != 0) {
                const char **nv = arena_alloc(a, (n->nrefused + 1) * sizeof *nv);
                if (n->nrefused)
                    memcpy(nv, n->refused, n->nrefused * sizeof *nv);
                nv[n->nrefused++] = mod;
                n->refused = nv;
            }
            continue;
        }
        struct pproc pr =
            proc_of(a, pv[j], iv[j], mod, arena_sprintf(a, "runs old code of '%s'", mod));
        add_proc(a, &n->kill, &n->nkill, &pr);
    }
    return 0;
}

/* preflight - the processes the plan's purges would kill on N: those running old code of a
 * module loaded with brutal pre-purge (killed when it loads), and those running its current
 * code (a frame in their stack) that will not be suspended for a code change, when the
 * post-purge is brutal (killed by the purge phase). A soft pre-purge with processes on old
 * code makes the evaluator refuse: listed in REFUSED. */
static int preflight(struct arena *a, struct pnode *n)
{
    const struct patch_plan *p = &n->plan;
    if (!p->nmods)
        return 0;
    const struct term *pids = call(a, n, "erlang", "processes", term_nil());
    if (!pids)
        return -1;
    size_t np;
    const struct term *const *pv = term_list_els(pids, &np);
    const struct term **items = arena_alloc(a, (np + 1) * sizeof *items);
    const struct term *want = term_listv(a, 3, A(a, "current_stacktrace"), A(a, "registered_name"),
                                         A(a, "initial_call"));
    for (size_t k = 0; k < np; k++)
        items[k] = want;
    const struct term *infos =
        call(a, n, "lists", "zipwith",
             term_listv(a, 3, export_fun(a, "erlang", "process_info", 2), pids,
                        term_list(a, items, np, term_nil())));
    if (!infos)
        return -1;
    size_t ni;
    const struct term *const *iv = term_list_els(infos, &ni);
    if (ni != np)
        return kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: process_info gave %zu answers for %zu "
                        "processes", n->name, ni, np);
    /* processes the evaluator suspends, by module: {Sup, Name, Pid, Mods}; when the tree
     * cannot be walked now, none counts as suspended (more processes named, none missed) */
    const struct term *sup = call(a, n, "release_handler_1", "get_supervised_procs", term_nil());
    if (!sup) {
        if (kerr_get()->cls != PATCH_REFUSED)
            return -1;
        log_warn("%s", kerr_get()->msg);
        kerr_clear();
        sup = term_nil();
    }
    size_t ns;
    const struct term *const *sv = term_list_els(term_is_list(sup) ? sup : term_nil(), &ns);
    for (size_t m = 0; m < p->rep.nmods; m++) {
        if (p->rep.mods[m].action != APPUP_CHANGED)
            continue; /* an added module: nobody runs it yet */
        const char *mod = p->rep.mods[m].name;
        const char *pre, *post;
        bool updated;
        instr_purges(p, mod, &pre, &post, &updated);
        /* suspended for the code change: not killed */
        const struct term **susp = arena_alloc(a, (ns + 1) * sizeof *susp);
        size_t nsusp = 0;
        for (size_t j = 0; updated && j < ns; j++) {
            const struct term *e = sv[j];
            if (!term_is_tuple(e, 4) || !term_is_list(e->u.tuple.el[3]))
                continue;
            size_t nm;
            const struct term *const *mv = term_list_els(e->u.tuple.el[3], &nm);
            for (size_t q = 0; q < nm; q++)
                if (term_is_atom(mv[q], mod))
                    susp[nsusp++] = e->u.tuple.el[2];
        }
        if (old_code_victims(a, n, mod, pre, pids, infos) != 0)
            return -1;
        if (strcmp(post, "brutal_purge") != 0)
            continue;
        for (size_t j = 0; j < np; j++) {
            if (!stack_has(iv[j], mod) || pid_in(pv[j], susp, nsusp))
                continue;
            struct pproc pr = proc_of(
                a, pv[j], iv[j], mod,
                arena_sprintf(a, "runs the code of '%s' that the patch replaces", mod));
            add_proc(a, &n->kill, &n->nkill, &pr);
        }
    }
    return 0;
}

/* ---- changing the node ---- */

/* upload - the plan's beams into N's patch directory (DIR/ebin, new) */
static int upload(struct arena *a, struct pnode *n)
{
    const char *ebin = arena_sprintf(a, "%s/ebin", n->dir);
    const struct term *r =
        call(a, n, "filelib", "ensure_dir", term_listv(a, 1, S(a, arena_sprintf(a, "%s/x", ebin))));
    if (!r)
        return -1;
    n->uploaded = true;
    if (!term_is_atom(r, "ok"))
        return kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: cannot make '%s': %s", n->name, ebin,
                        term_show(a, r, 200));
    for (size_t k = 0; k < n->plan.nmods; k++) {
        const struct patch_beam *b = n->plan.mods[k];
        const char *path = arena_sprintf(a, "%s/%s.beam", ebin, b->module);
        r = call(a, n, "file", "write_file",
                 term_listv(a, 2, S(a, path), term_binary(a, b->data, b->len)));
        if (!r)
            return -1;
        if (!term_is_atom(r, "ok"))
            return kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: cannot write '%s': %s", n->name, path,
                            term_show(a, r, 200));
    }
    return 0;
}

/* unupload - remove N's patch directory again (a failure before anything was loaded) */
static void unupload(struct arena *a, struct pnode *n)
{
    if (!n->uploaded || n->evaluated)
        return;
    struct kerr keep;
    kerr_copy(&keep);
    if (!pconn_rpc(a, n->conn, "file", "del_dir_r", term_listv(a, 1, S(a, n->dir))))
        log_warn("%s: could not remove '%s'", n->name, n->dir);
    kerr_restore(&keep);
}

/* evaluate - the low-level script through release_handler's evaluator, with the patch
 * directory as the one library it loads from */
static int evaluate(struct arena *a, struct pnode *n)
{
    const struct term *lib = term_tuplev(a, 3, A(a, PATCH_LIB), S(a, n->plan.id), S(a, n->dir));
    const struct term *libs = term_listv(a, 1, lib);
    const struct term *r = call(a, n, "release_handler_1", "eval_script",
                                term_listv(a, 5, n->plan.low, term_nil(), libs, libs, term_nil()));
    if (!r)
        return -1;
    n->evaluated = true;
    if (!term_is_tagged(r, "ok", 2))
        return kerr_set(PATCH_REFUSED, NULL, 0, 0, "%s: release_handler's evaluator failed: %s",
                        n->name, term_show(a, r, 600));
    n->unpurged = r->u.tuple.el[1];
    return 0;
}

/* purge - what the evaluator left unpurged: brutal_purge modules purged (whoever still runs
 * their old code dies), soft_purge ones tried once and kept when processes still use them */
static int purge(struct arena *a, struct pnode *n)
{
    size_t nu;
    const struct term *const *u = term_list_els(term_is_list(n->unpurged) ? n->unpurged
                                                                          : term_nil(), &nu);
    for (size_t k = 0; k < nu; k++) {
        if (!term_is_tuple(u[k], 2) || u[k]->u.tuple.el[0]->type != TERM_ATOM)
            continue;
        const struct term *m = u[k]->u.tuple.el[0];
        bool brutal = term_is_atom(u[k]->u.tuple.el[1], "brutal_purge");
        const struct term *r =
            call(a, n, "code", brutal ? "purge" : "soft_purge", term_listv(a, 1, m));
        if (!r)
            return -1;
        if (!brutal && term_is_atom(r, "false")) {
            const char **nv = arena_alloc(a, (n->nkept + 1) * sizeof *nv);
            if (n->nkept)
                memcpy(nv, n->kept, n->nkept * sizeof *nv);
            nv[n->nkept++] = m->u.atom.name;
            n->kept = nv;
        }
    }
    /* killed: the processes the pre-flight named that are gone now */
    for (size_t k = 0; k < n->nkill; k++) {
        const struct term *r = call(a, n, "erlang", "is_process_alive",
                                    term_listv(a, 1, n->kill[k].pid));
        if (!r)
            return -1;
        if (term_is_atom(r, "false"))
            add_proc(a, &n->killed, &n->nkilled, &n->kill[k]);
    }
    return 0;
}

/* record - the patch, newest first, in the knit application's environment on N */
static int record(struct arena *a, struct pnode *n, long long now)
{
    const struct term *r = call(a, n, "application", "get_env",
                                term_listv(a, 2, A(a, PATCH_ENV_APP), A(a, PATCH_ENV_KEY)));
    if (!r)
        return -1;
    const struct term *old = term_is_tagged(r, "ok", 2) && term_is_list(r->u.tuple.el[1])
                                 ? r->u.tuple.el[1]
                                 : term_nil();
    const struct patch_plan *p = &n->plan;
    const struct term **mods = arena_alloc(a, (p->nmods + 1) * sizeof *mods);
    const struct term **md5s = arena_alloc(a, (p->nmods + 1) * sizeof *md5s);
    for (size_t k = 0; k < p->nmods; k++) {
        mods[k] = A(a, p->mods[k]->module);
        md5s[k] = term_tuplev(a, 2, mods[k], term_binary(a, p->mods[k]->md5, 16));
    }
    const struct term *keys[] = {A(a, "id"),      A(a, "time"), A(a, "modules"),
                                 A(a, "md5"),     A(a, "dir")};
    const struct term *vals[] = {S(a, p->id), term_int(a, now),
                                 term_list(a, mods, p->nmods, term_nil()),
                                 term_list(a, md5s, p->nmods, term_nil()), S(a, n->dir)};
    const struct term *rec = term_map(a, keys, vals, 5);
    r = call(a, n, "application", "set_env",
             term_listv(a, 3, A(a, PATCH_ENV_APP), A(a, PATCH_ENV_KEY), term_cons(a, rec, old)));
    return r ? 0 : -1;
}

/* resume_after_failure - the evaluator stopped midway on N (a code_change failed, say): the
 * processes it suspended stay suspended. Resume, best effort, every supervised process of
 * a module the script suspends (sys:resume of a running process is harmless). */
static void resume_after_failure(struct arena *a, struct pnode *n)
{
    struct kerr keep;
    kerr_copy(&keep);
    size_t nl;
    const struct term *const *l = term_list_els(n->plan.low, &nl);
    const struct term *procs = pconn_rpc(a, n->conn, "release_handler_1", "get_supervised_procs",
                                         term_nil());
    size_t np = 0, resumed = 0;
    const struct term *const *pv =
        procs && term_is_list(procs) ? term_list_els(procs, &np) : NULL;
    for (size_t k = 0; k < np; k++) {
        if (!term_is_tuple(pv[k], 4) || !term_is_list(pv[k]->u.tuple.el[3]))
            continue;
        bool hit = false;
        for (size_t i = 0; i < nl && !hit; i++) {
            if (!term_is_tagged(l[i], "suspend", 2))
                continue;
            size_t ns, nm;
            const struct term *const *sv = term_list_els(l[i]->u.tuple.el[1], &ns);
            const struct term *const *mv = term_list_els(pv[k]->u.tuple.el[3], &nm);
            for (size_t j = 0; j < ns && !hit; j++) {
                const struct term *m = term_is_tuple(sv[j], 2) ? sv[j]->u.tuple.el[0] : sv[j];
                for (size_t q = 0; q < nm && !hit; q++)
                    hit = term_equal(m, mv[q]);
            }
        }
        if (hit && pconn_rpc(a, n->conn, "sys", "resume",
                             term_listv(a, 2, pv[k]->u.tuple.el[2], term_int(a, 5000))))
            resumed++;
    }
    log_warn("%s: the evaluator stopped midway: %zu suspended process%s resumed; the modules "
             "loaded before the failure stay loaded",
             n->name, resumed, resumed == 1 ? "" : "es");
    kerr_restore(&keep);
}

/* where_loaded - add to the recorded error which nodes the patch was loaded on */
static void where_loaded(struct arena *a, const struct pnode *pn, size_t nn)
{
    static const char *const head[] = {"; loaded on ", "; stopped midway on ",
                                       "; not loaded on "};
    struct buf b = BUF_INIT;
    for (int pass = 0; pass < 3; pass++) {
        size_t cnt = 0;
        for (size_t k = 0; k < nn; k++) {
            int cls = pn[k].unpurged ? 0 : pn[k].evaluated ? 1 : 2;
            if (pn[k].plan.nmods && cls == pass)
                buf_addf(&b, "%s%s", cnt++ ? ", " : head[pass], pn[k].name);
        }
    }
    kerr_wrap("", buf_cstr(&b));
    buf_free(&b);
    (void)a;
}

/* ---- the report ---- */

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *j = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(j, json_string(v[k]));
    return j;
}

static json_t *procs_json(const struct pproc *v, size_t n)
{
    json_t *j = json_array();
    for (size_t k = 0; k < n; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "pid", json_string(v[k].pid_text));
        json_object_set_new(o, "name", v[k].name ? json_string(v[k].name) : json_null());
        json_object_set_new(o, "initial_call",
                            v[k].initial ? json_string(v[k].initial) : json_null());
        json_object_set_new(o, "current_function",
                            v[k].current ? json_string(v[k].current) : json_null());
        json_object_set_new(o, "module", json_string(v[k].module));
        json_object_set_new(o, "why", json_string(v[k].why));
        json_array_append_new(j, o);
    }
    return j;
}

/* script_mods - the modules of the low-level instructions TAG ({load, {M, _, _}} or
 * {code_change, up, [{M, _}]}) */
static json_t *script_mods(const struct term *low, const char *tag)
{
    json_t *j = json_array();
    size_t n;
    const struct term *const *e = term_list_els(low, &n);
    for (size_t k = 0; k < n; k++) {
        if (!strcmp(tag, "load") && term_is_tagged(e[k], "load", 2) &&
            term_is_tuple(e[k]->u.tuple.el[1], 3))
            json_array_append_new(j, json_string(e[k]->u.tuple.el[1]->u.tuple.el[0]->u.atom.name));
        if (!strcmp(tag, "code_change") && term_is_tagged(e[k], "code_change", 3)) {
            size_t nm;
            const struct term *const *m = term_list_els(e[k]->u.tuple.el[2], &nm);
            for (size_t q = 0; q < nm; q++)
                if (term_is_tuple(m[q], 2))
                    json_array_append_new(j, json_string(m[q]->u.tuple.el[0]->u.atom.name));
        }
    }
    return j;
}

static json_t *node_json(struct arena *a, const struct pnode *n, const struct patch_beam *b,
                         size_t nb)
{
    json_t *o = json_object();
    const struct patch_plan *p = &n->plan;
    json_object_set_new(o, "node", json_string(n->name));
    json_object_set_new(o, "dir", n->dir ? json_string(n->dir) : json_null());
    const char **unch = arena_alloc(a, (nb + 1) * sizeof *unch);
    const char **added = arena_alloc(a, (nb + 1) * sizeof *added);
    size_t nu = 0, na = 0;
    for (size_t k = 0; p->status && k < nb; k++) {
        if (p->status[k] == PATCH_UNCHANGED)
            unch[nu++] = b[k].module;
        else if (p->status[k] == PATCH_NOT_LOADED)
            added[na++] = b[k].module;
    }
    json_object_set_new(o, "unchanged", str_array(unch, nu));
    json_object_set_new(o, "added", str_array(added, na));
    json_t *mods = json_array();
    for (size_t k = 0; k < p->rep.nmods; k++) {
        const struct appup_module *m = &p->rep.mods[k];
        json_t *mo = json_object();
        json_object_set_new(mo, "module", json_string(m->name));
        json_object_set_new(mo, "kind", json_string(m->kind));
        json_object_set_new(mo, "deps", str_array(m->deps, m->ndeps));
        json_object_set_new(mo, "inferred", str_array(m->inferred, m->ninferred));
        json_object_set_new(mo, "instruction", report_term(m->up));
        json_array_append_new(mods, mo);
    }
    json_object_set_new(o, "modules", mods);
    json_object_set_new(o, "instructions", p->high ? report_term(p->high) : json_null());
    json_object_set_new(o, "script", p->low ? report_term(p->low) : json_null());
    json_object_set_new(o, "would_kill", procs_json(n->kill, n->nkill));
    json_object_set_new(o, "refused_soft_purge", str_array(n->refused, n->nrefused));
    bool done = n->evaluated && n->unpurged;
    json_object_set_new(o, "loaded", done ? script_mods(p->low, "load") : json_array());
    json_object_set_new(o, "code_changed", done ? script_mods(p->low, "code_change") : json_array());
    json_object_set_new(o, "killed", procs_json(n->killed, n->nkilled));
    json_object_set_new(o, "old_code_kept", str_array(n->kept, n->nkept));
    return o;
}

static void print_procs(const char *node, const char *what, const struct pproc *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        printf("  %s %s%s%s (initial call %s, current %s): it %s\n", what, v[k].pid_text,
               v[k].name ? " " : "", v[k].name ? v[k].name : "",
               v[k].initial ? v[k].initial : "?", v[k].current ? v[k].current : "?", v[k].why);
    (void)node;
}

/* print_list - "  LABEL: a, b, c" for the modules of the JSON array J (nothing when empty) */
static void print_list(const char *label, json_t *j)
{
    size_t n = json_array_size(j);
    if (n) {
        printf("  %s:", label);
        for (size_t k = 0; k < n; k++)
            printf("%s %s", k ? "," : "", json_string_value(json_array_get(j, k)));
        printf("\n");
    }
    json_decref(j);
}

static void print_node(const struct pnode *n, const struct patch_beam *b, size_t nb, bool dry)
{
    const struct patch_plan *p = &n->plan;
    printf("%s:%s%s\n", n->name, p->nmods ? " patch directory " : " nothing to patch",
           p->nmods ? n->dir : "");
    for (size_t k = 0; p->status && k < nb; k++)
        if (p->status[k] == PATCH_UNCHANGED)
            printf("  unchanged   %s\n", b[k].module);
    for (size_t k = 0; k < p->rep.nmods; k++) {
        const struct appup_module *m = &p->rep.mods[k];
        printf("  %-11s %s", m->action == APPUP_ADDED ? "added" : m->kind, m->name);
        for (size_t d = 0; d < m->ndeps; d++)
            printf("%s%s", d ? ", " : " (after ", m->deps[d]);
        printf("%s\n", m->ndeps ? ")" : "");
    }
    if (dry || !n->evaluated) {
        print_procs(n->name, "would kill", n->kill, n->nkill);
        return;
    }
    print_list("loaded", script_mods(p->low, "load"));
    print_list("code-changed", script_mods(p->low, "code_change"));
    print_procs(n->name, "killed", n->killed, n->nkilled);
    for (size_t k = 0; k < n->nkept; k++)
        printf("  old code of %s kept: processes still run it (soft_purge)\n", n->kept[k]);
}

/* error_json - {"message", "file", "line", "exit_code"} of the recorded error */
static json_t *error_json(void)
{
    const struct kerr *e = kerr_get();
    json_t *o = json_object();
    json_object_set_new(o, "message", json_string(e->msg));
    json_object_set_new(o, "file", e->file[0] ? json_string(e->file) : json_null());
    json_object_set_new(o, "line", e->line ? json_integer(e->line) : json_null());
    json_object_set_new(o, "exit_code", json_integer(e->cls ? (int)e->cls : KERR_BUILD));
    return o;
}

/* ---- the command ---- */

static int usage(const char *msg, const char *arg)
{
    return kerr_set(KERR_USAGE, NULL, 0, 0, "patch: %s%s%s%s; try 'knit --help'", msg,
                    arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
}

/* is_beam_arg - a BEAM|EBIN_DIR argument rather than a NODE */
static bool is_beam_arg(const char *s)
{
    return fs_stem(s, ".beam") || fs_is_dir(s) || strchr(s, '/');
}

/* One run of the command. */
struct prun {
    struct arena a;
    struct popts o;
    char **nodes, **beams;
    size_t nn, nbargs;
    struct patch_beam *b;
    size_t nb;
    const char *id;
    long long now;
    struct pnode *pn; /* NN, once the beams are read */
    size_t total;     /* modules to load, over all nodes */
};

/* parse_args - options, NODE..., then BEAM|EBIN_DIR... */
static int parse_args(struct prun *r, int argc, char **argv)
{
    struct popts *o = &r->o;
    r->nodes = arena_alloc(&r->a, (size_t)(argc + 1) * sizeof *r->nodes);
    r->beams = arena_alloc(&r->a, (size_t)(argc + 1) * sizeof *r->beams);
    for (int i = 1; i < argc; i++) {
        const char *x = argv[i];
        int used;
        if (!strcmp(x, "--dry-run"))
            o->dry_run = true;
        else if (!strcmp(x, "--force") || !strcmp(x, "-f"))
            o->force = true;
        else if (!strcmp(x, "--add"))
            o->add = true;
        else if (!strcmp(x, "--json"))
            o->json = true;
        else if ((used = pconn_opts_arg(&o->node, argc - i, argv + i)) != 0) {
            if (used < 0)
                return -1;
            i += used - 1;
        } else if (x[0] == '-')
            return usage("unknown option", x);
        else if (r->nbargs || is_beam_arg(x))
            r->beams[r->nbargs++] = argv[i];
        else
            r->nodes[r->nn++] = argv[i];
    }
    if (!r->nn || !r->nbargs)
        return usage(r->nn ? "no BEAM or EBIN_DIR given" : "no NODE given", NULL);
    for (size_t k = 0; k < r->nn; k++)
        for (size_t j = 0; j < k; j++)
            if (!strcmp(r->nodes[j], r->nodes[k]))
                return usage("node given twice:", r->nodes[k]);
    return 0;
}

/* plan_node - N's loaded md5s, plan, patch directory and pre-flight */
static int plan_node(struct prun *r, struct pnode *n)
{
    if (ask_loaded(&r->a, n, r->b, r->nb) != 0)
        return -1;
    if (patch_make_plan(&r->a, r->id, r->b, r->nb, n->loaded, r->o.add, NULL, &n->plan) != 0) {
        if (kerr_get()->cls == KERR_INPUT && strstr(kerr_get()->msg, "is not loaded")) {
            struct kerr e;
            kerr_copy(&e);
            kerr_set(PATCH_REFUSED, e.file, 0, 0, "%s: %s", n->name, e.msg);
        }
        return -1;
    }
    if (patch_dir(&r->a, n, r->id) != 0 || preflight(&r->a, n) != 0)
        return -1;
    r->total += n->plan.nmods;
    for (size_t j = 0; j < n->nkill; j++)
        log_warn("%s: process %s%s%s (current %s) would be killed: it %s", n->name,
                 n->kill[j].pid_text, n->kill[j].name ? " " : "",
                 n->kill[j].name ? n->kill[j].name : "",
                 n->kill[j].current ? n->kill[j].current : "?", n->kill[j].why);
    if (n->nrefused)
        return kerr_set(PATCH_REFUSED, NULL, 0, 0,
                        "%s: pre-flight failed: processes run old code of '%s', which is "
                        "loaded with soft_purge",
                        n->name, n->refused[0]);
    return 0;
}

/* plan_all - connect to every node, plan and pre-flight each: nothing changes anywhere */
static int plan_all(struct prun *r)
{
    for (size_t k = 0; k < r->nn; k++) {
        r->pn[k].name = r->nodes[k];
        if (pconn_open(&r->a, r->nodes[k], &r->o.node, &r->pn[k].conn) != 0)
            return -1;
        r->pn[k].name = pconn_name(r->pn[k].conn);
    }
    for (size_t k = 0; k < r->nn; k++)
        if (plan_node(r, &r->pn[k]) != 0)
            return -1;
    for (size_t k = 0; k < r->nn && !r->o.force; k++)
        if (r->pn[k].nkill)
            return kerr_set(PATCH_REFUSED, NULL, 0, 0,
                            "%s: pre-flight failed: %zu process%s would be killed by the purge "
                            "(--force patches anyway); nothing was loaded on any node",
                            r->pn[k].name, r->pn[k].nkill, r->pn[k].nkill == 1 ? "" : "es");
    return 0;
}

/* apply_all - upload everywhere, load everywhere, purge everywhere, record everywhere */
static int apply_all(struct prun *r)
{
    struct pnode *pn = r->pn;
    size_t nn = r->nn;
    for (size_t k = 0; k < nn; k++)
        if (pn[k].plan.nmods && upload(&r->a, &pn[k]) != 0) {
            for (size_t j = 0; j <= k; j++)
                unupload(&r->a, &pn[j]);
            return -1;
        }
    for (size_t k = 0; k < nn; k++)
        if (pn[k].plan.nmods && evaluate(&r->a, &pn[k]) != 0) {
            if (pn[k].evaluated)
                resume_after_failure(&r->a, &pn[k]);
            for (size_t j = k + 1; j < nn; j++)
                unupload(&r->a, &pn[j]);
            where_loaded(&r->a, pn, nn);
            return -1;
        }
    for (size_t k = 0; k < nn; k++)
        if (pn[k].plan.nmods && purge(&r->a, &pn[k]) != 0) {
            where_loaded(&r->a, pn, nn);
            return -1;
        }
    for (size_t k = 0; k < nn; k++)
        if (pn[k].plan.nmods && record(&r->a, &pn[k], r->now) != 0)
            return -1;
    return 0;
}

/* report - the JSON document (always with --json, failed or not) or the text report */
static int report(struct prun *r, int rc)
{
    if (r->o.json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "command", json_string("patch"));
        json_object_set_new(doc, "id", r->id ? json_string(r->id) : json_null());
        json_object_set_new(doc, "dry_run", json_boolean(r->o.dry_run));
        json_object_set_new(doc, "forced", json_boolean(r->o.force));
        json_t *arr = json_array();
        for (size_t k = 0; r->pn && k < r->nn; k++)
            if (r->pn[k].conn)
                json_array_append_new(arr, node_json(&r->a, &r->pn[k], r->b, r->nb));
        json_object_set_new(doc, "nodes", arr);
        if (rc != 0)
            json_object_set_new(doc, "error", error_json());
        struct kerr keep;
        kerr_copy(&keep);
        if (report_print(doc) != 0 && rc == 0)
            return -1;
        kerr_restore(&keep);
        return rc;
    }
    if (rc == 0 && r->pn && !r->total)
        printf("nothing to patch: every module given is loaded with the same md5\n");
    for (size_t k = 0; r->pn && k < r->nn; k++)
        if (r->pn[k].conn && r->pn[k].plan.status && (rc == 0 || r->o.dry_run || r->pn[k].evaluated))
            print_node(&r->pn[k], r->b, r->nb, r->o.dry_run);
    return rc;
}

int cmd_patch(struct knit_ctx *ctx, int argc, char **argv)
{
    struct prun r;
    memset(&r, 0, sizeof r);
    arena_init(&r.a);
    r.o.force = ctx->force;
    r.o.json = ctx->json;
    pconn_opts_init(&r.o.node);
    int rc = -1;
    if (parse_args(&r, argc, argv) != 0 ||
        patch_read_beams(&r.a, r.beams, r.nbargs, &r.b, &r.nb) != 0)
        goto done;
    r.now = (long long)time(NULL);
    r.id = patch_id(&r.a, r.b, r.nb, r.now);
    r.pn = arena_alloc(&r.a, r.nn * sizeof *r.pn);
    if (plan_all(&r) != 0)
        goto done;
    rc = r.o.dry_run || !r.total ? 0 : apply_all(&r);
done:
    rc = report(&r, rc);
    for (size_t k = 0; r.pn && k < r.nn; k++)
        if (r.pn[k].conn)
            pconn_close(r.pn[k].conn);
    arena_close(&r.a);
    return rc;
}
