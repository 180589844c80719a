/* cmd_patch.c - `knit patch NODE... BEAM|EBIN_DIR...`: hot-patch running nodes without a
 * release, through release_handler's own evaluator
 *
 * Phases, each completed on every node before the next starts (SPEC "Part 2", patch):
 * connect and lock -> ask the loaded md5s and plan (patch.c) -> pre-flight (install's,
 * nodeinfo_preflight; exit 5 unless --force) -> upload the beams into a new directory ->
 * load (release_handler_1:eval_script) -> purge -> record. A failure before the load
 * removes the uploaded directories everywhere: no node changes. Decisions:
 * - The patch directory is ROOT/releases/knit_patches/knit_patch-ID on a node that runs a
 *   release (release_handler is up; sasl's releases_dir when set), else
 *   CWD/knit_patches/knit_patch-ID (CWD: the node's working directory). Its ebin replaces
 *   the previous patch's in the code path (code:replace_path, as the evaluator does at
 *   point_of_no_return for every library it loaded from).
 * - The record is an entry in the environment of application knit on the node
 *   (NODEINFO_PATCH_APP/KEY, newest first, as nodeinfo.h describes it): it lives exactly
 *   as long as the patched code in memory does (a restart loads the release's code and
 *   forgets both), needs no writable release directory (a plain node has none), and no
 *   release upgrade touches it (knit is no application of the release).
 */
#include "cmd.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "node.h"
#include "nodeinfo.h"
#include "patch.h"
#include "report.h"
#include "term_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pnode {
    const char *name;
    struct node_conn *conn;
    const char *dir; /* the patch directory on the node */
    const uint8_t **loaded;
    struct patch_plan plan;
    struct nodeinfo_preflight pf; /* what the purges would kill (as install's pre-flight) */
    const char **refused;         /* soft_purge modules with processes on old code */
    size_t nrefused;
    bool uploaded, evaluated;
    const struct term *unpurged; /* eval_script's {Mod, PostPurge} list */
    const char **kept;           /* soft-purged modules whose old code stays */
    size_t nkept;
    struct nodeinfo_victim *killed;
    size_t nkilled;
};

struct popts {
    bool dry_run, force, add, json;
    struct node_opts node;
};

static const struct term *A(struct arena *a, const char *s)
{
    return term_atomz(a, s);
}

static const struct term *S(struct arena *a, const char *s)
{
    return term_stringz(a, s);
}

/* call - M:F(ARGS) on N: NULL with the error recorded (KERR_NODE_DOWN for a lost node,
 * KERR_NODE_REFUSED naming the node and call for a {badrpc, _} answer) */
static const struct term *call(struct arena *a, struct pnode *n, const char *m, const char *f,
                               const struct term *args)
{
    return node_call(a, n->conn, m, f, args);
}

/* ---- asking the node ---- */

/* The md5 of each module of Ms on the node: {loaded, Md5} for loaded code; {path, Md5} for
 * a module not loaded yet whose beam is on the code path (an interactive node loads it at
 * the first call: what it would load is what the patch replaces); none otherwise. */
static const char loaded_src[] =
    "[case code:is_loaded(M) of\n"
    "     false -> case code:which(M) of\n"
    "                  F when is_list(F) -> case beam_lib:md5(F) of\n"
    "                                           {ok, {_, D}} -> {path, D};\n"
    "                                           _ -> none\n"
    "                                       end;\n"
    "                  _ -> none\n"
    "              end;\n"
    "     _ -> {loaded, erlang:get_module_info(M, md5)}\n"
    " end || M <- Ms]";

/* ask_loaded - N's md5 for each beam's module (NULL: the node has none) */
static int ask_loaded(struct arena *a, struct pnode *n, const struct patch_beam *b, size_t nb)
{
    const struct term **ms = arena_alloc(a, (nb + 1) * sizeof *ms);
    for (size_t k = 0; k < nb; k++)
        ms[k] = A(a, b[k].module);
    const struct term *r =
        node_eval(a, n->conn, loaded_src,
                  term_listv(a, 1, node_bind(a, "Ms", term_list(a, ms, nb, term_nil()))));
    if (!r)
        return -1;
    size_t nr;
    const struct term *const *e = term_list_els(term_is_list(r) ? r : term_nil(), &nr);
    if (nr != nb)
        return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: unexpected md5 answer %s", n->name,
                        term_show(a, r, 200));
    n->loaded = arena_alloc(a, (nb + 1) * sizeof *n->loaded);
    for (size_t k = 0; k < nb; k++) {
        if (!term_is_tuple(e[k], 2))
            continue;
        const struct term *md5 = e[k]->u.tuple.el[1];
        if (md5->type != TERM_BITS || md5->u.bits.nbits != 128)
            return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: unexpected md5 of '%s': %s",
                            n->name, b[k].module, term_show(a, md5, 200));
        n->loaded[k] = md5->u.bits.data;
    }
    return 0;
}

/* Where patches go (see the file comment). */
static const char dir_src[] = "case whereis(release_handler) of\n"
                              "    P when is_pid(P) ->\n"
                              "        case application:get_env(sasl, releases_dir) of\n"
                              "            {ok, D} when is_list(D) -> D;\n"
                              "            _ -> filename:join(code:root_dir(), \"releases\")\n"
                              "        end;\n"
                              "    _ -> {ok, C} = file:get_cwd(), C\n"
                              "end";

/* patch_dir - where N keeps this patch */
static int patch_dir(struct arena *a, struct pnode *n, const char *id)
{
    const struct term *r = node_eval(a, n->conn, dir_src, NULL);
    if (!r)
        return -1;
    const char *base = term_charlist(a, r);
    if (!base)
        return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: no directory for patches: %s", n->name,
                        term_show(a, r, 200));
    n->dir = arena_sprintf(a, "%s/knit_patches/%s-%s", base, PATCH_LIB, id);
    return 0;
}

/* Modules of the script loaded with soft_purge whose old code some process still runs: the
 * evaluator refuses to start (release_handler_1:check_old_processes). */
static const char soft_src[] =
    "[M || {load, {M, soft_purge, _}} <- I, erlang:check_old_code(M),\n"
    "      lists:any(fun(P) -> erlang:check_process_code(P, M) end, processes())]";

/* preflight - install's pre-flight of the plan's script (nodeinfo_preflight: the processes
 * the purges would kill), and the soft purges the evaluator would refuse */
static int preflight(struct arena *a, struct pnode *n)
{
    if (!n->plan.nmods)
        return 0;
    if (nodeinfo_preflight(a, n->conn, n->plan.low, NULL, &n->pf) != 0)
        return -1;
    const struct term *r =
        node_eval(a, n->conn, soft_src, term_listv(a, 1, node_bind(a, "I", n->plan.low)));
    if (!r)
        return -1;
    size_t nr;
    const struct term *const *e = term_list_els(term_is_list(r) ? r : term_nil(), &nr);
    n->refused = arena_alloc(a, (nr + 1) * sizeof *n->refused);
    for (size_t k = 0; k < nr; k++)
        if (e[k]->type == TERM_ATOM)
            n->refused[n->nrefused++] = e[k]->u.atom.name;
    return 0;
}

/* victim_why - why the purges kill V */
static const char *victim_why(struct arena *a, const struct nodeinfo_victim *v)
{
    return v->old_code
               ? arena_sprintf(a, "runs old code of '%s'", v->module)
               : arena_sprintf(a, "runs the code of '%s' that the patch replaces", v->module);
}

/* ---- changing the node ---- */

/* upload - the plan's beams into N's patch directory (DIR/ebin, new), each checked on the
 * node by size and SHA-256 (node_upload) */
static int upload(struct arena *a, struct pnode *n)
{
    const char *ebin = arena_sprintf(a, "%s/ebin", n->dir);
    const struct term *r =
        call(a, n, "filelib", "ensure_dir", term_listv(a, 1, S(a, arena_sprintf(a, "%s/x", ebin))));
    if (!r)
        return -1;
    n->uploaded = true;
    if (!term_is_atom(r, "ok"))
        return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: cannot make '%s': %s", n->name, ebin,
                        term_show(a, r, 200));
    for (size_t k = 0; k < n->plan.nmods; k++) {
        const struct patch_beam *b = n->plan.mods[k];
        const char *path = arena_sprintf(a, "%s/%s.beam", ebin, b->module);
        if (node_upload(n->conn, b->path, path, false) != 0)
            return -1;
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
    if (!node_rpc(a, n->conn, "file", "del_dir_r", term_listv(a, 1, S(a, n->dir))))
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
        return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: release_handler's evaluator failed: %s",
                        n->name, term_show(a, r, 600));
    n->unpurged = r->u.tuple.el[1];
    return 0;
}

/* purge - what the evaluator left unpurged: brutal_purge modules purged (whoever still runs
 * their old code dies), soft_purge ones tried once and kept when processes still use them */
static int purge(struct arena *a, struct pnode *n)
{
    size_t nu;
    const struct term *const *u =
        term_list_els(term_is_list(n->unpurged) ? n->unpurged : term_nil(), &nu);
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
    if (!n->pf.nvictims)
        return 0;
    const struct term **pids = arena_alloc(a, (n->pf.nvictims + 1) * sizeof *pids);
    for (size_t k = 0; k < n->pf.nvictims; k++)
        pids[k] = S(a, n->pf.victims[k].proc.pid);
    const struct term *dead = node_eval(
        a, n->conn, "[S || S <- L, not is_process_alive(list_to_pid(S))]",
        term_listv(a, 1, node_bind(a, "L", term_list(a, pids, n->pf.nvictims, term_nil()))));
    if (!dead)
        return -1;
    n->killed = arena_alloc(a, (n->pf.nvictims + 1) * sizeof *n->killed);
    for (size_t k = 0; k < n->pf.nvictims; k++) {
        bool gone = false;
        size_t nd;
        const struct term *const *d = term_list_els(term_is_list(dead) ? dead : term_nil(), &nd);
        for (size_t j = 0; j < nd && !gone; j++)
            gone = term_equal(d[j], pids[k]);
        bool dup = false;
        for (size_t j = 0; j < n->nkilled && !dup; j++)
            dup = !strcmp(n->killed[j].proc.pid, n->pf.victims[k].proc.pid);
        if (gone && !dup)
            n->killed[n->nkilled++] = n->pf.victims[k];
    }
    return 0;
}

/* record - the patch, newest first, in the knit application's environment on N */
static int record(struct arena *a, struct pnode *n, long long now)
{
    const struct term *r =
        call(a, n, "application", "get_env",
             term_listv(a, 2, A(a, NODEINFO_PATCH_APP), A(a, NODEINFO_PATCH_KEY)));
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
    const struct term *keys[] = {A(a, "id"), A(a, "time"), A(a, "modules"), A(a, "md5"),
                                 A(a, "dir")};
    const struct term *vals[] = {S(a, p->id), term_int(a, now),
                                 term_list(a, mods, p->nmods, term_nil()),
                                 term_list(a, md5s, p->nmods, term_nil()), S(a, n->dir)};
    const struct term *rec = term_map(a, keys, vals, 5);
    r = call(a, n, "application", "set_env",
             term_listv(a, 3, A(a, NODEINFO_PATCH_APP), A(a, NODEINFO_PATCH_KEY),
                        term_cons(a, rec, old)));
    return r ? 0 : -1;
}

/* Resume every supervised process of a module the script I suspends; how many answered. */
static const char resume_src[] =
    "Mods = lists:usort([case X of {M, _} -> M; M -> M end || {suspend, Ms} <- I, X <- Ms]),\n"
    "Sup = case catch release_handler_1:get_supervised_procs() of\n"
    "          L when is_list(L) -> L;\n"
    "          _ -> []\n"
    "      end,\n"
    "Ps = lists:usort([P || {_, _, P, Ms} <- Sup, is_pid(P), is_list(Ms),\n"
    "                       lists:any(fun(M) -> lists:member(M, Ms) end, Mods)]),\n"
    "length([P || P <- Ps, (catch sys:resume(P, 5000)) =:= ok])";

/* resume_after_failure - the evaluator stopped midway on N (a code_change failed, say): the
 * processes it suspended stay suspended. Resume, best effort, every supervised process of
 * a module the script suspends (sys:resume of a running process is harmless). */
static void resume_after_failure(struct arena *a, struct pnode *n)
{
    struct kerr keep;
    kerr_copy(&keep);
    const struct term *r =
        node_eval(a, n->conn, resume_src, term_listv(a, 1, node_bind(a, "I", n->plan.low)));
    long resumed = r && r->type == TERM_INT ? (long)r->u.i : 0;
    log_warn("%s: the evaluator stopped midway: %ld suspended process%s resumed; the modules "
             "loaded before the failure stay loaded",
             n->name, resumed, resumed == 1 ? "" : "es");
    kerr_restore(&keep);
}

/* where_loaded - add to the recorded error which nodes the patch was loaded on */
static void where_loaded(struct arena *a, const struct pnode *pn, size_t nn)
{
    static const char *const head[] = {"; loaded on ", "; stopped midway on ", "; not loaded on "};
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

static json_t *procs_json(struct arena *a, const struct nodeinfo_victim *v, size_t n)
{
    json_t *j = json_array();
    for (size_t k = 0; k < n; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "pid", json_string(v[k].proc.pid));
        json_object_set_new(o, "name", v[k].proc.name ? json_string(v[k].proc.name) : json_null());
        json_object_set_new(o, "initial_call",
                            v[k].proc.initial ? json_string(v[k].proc.initial) : json_null());
        json_object_set_new(o, "module", json_string(v[k].module));
        json_object_set_new(o, "old_code", json_boolean(v[k].old_code));
        json_object_set_new(o, "why", json_string(victim_why(a, &v[k])));
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
    json_object_set_new(o, "would_kill", procs_json(a, n->pf.victims, n->pf.nvictims));
    json_object_set_new(o, "refused_soft_purge", str_array(n->refused, n->nrefused));
    bool done = n->evaluated && n->unpurged;
    json_object_set_new(o, "loaded", done ? script_mods(p->low, "load") : json_array());
    json_object_set_new(o, "code_changed",
                        done ? script_mods(p->low, "code_change") : json_array());
    json_object_set_new(o, "killed", procs_json(a, n->killed, n->nkilled));
    json_object_set_new(o, "old_code_kept", str_array(n->kept, n->nkept));
    return o;
}

static void print_procs(struct arena *a, const char *what, const struct nodeinfo_victim *v,
                        size_t n)
{
    for (size_t k = 0; k < n; k++)
        printf("  %s %s: it %s\n", what, nodeinfo_proc_text(a, &v[k].proc), victim_why(a, &v[k]));
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

static void print_node(struct arena *a, const struct pnode *n, const struct patch_beam *b,
                       size_t nb, bool dry)
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
        print_procs(a, "would kill", n->pf.victims, n->pf.nvictims);
        return;
    }
    print_list("loaded", script_mods(p->low, "load"));
    print_list("code-changed", script_mods(p->low, "code_change"));
    print_procs(a, "killed", n->killed, n->nkilled);
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
        else if ((used = node_opts_arg(&o->node, argc - i, argv + i)) != 0) {
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
            kerr_set(KERR_NODE_REFUSED, e.file, 0, 0, "%s: %s", n->name, e.msg);
        }
        return -1;
    }
    if (patch_dir(&r->a, n, r->id) != 0 || preflight(&r->a, n) != 0)
        return -1;
    r->total += n->plan.nmods;
    for (size_t j = 0; j < n->pf.nvictims; j++)
        log_warn("%s: process %s would be killed: it %s", n->name,
                 nodeinfo_proc_text(&r->a, &n->pf.victims[j].proc),
                 victim_why(&r->a, &n->pf.victims[j]));
    if (n->nrefused)
        return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
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
        if (node_open(r->nodes[k], &r->o.node, &r->pn[k].conn) != 0 ||
            node_lock(r->pn[k].conn, "patch") != 0)
            return -1;
        r->pn[k].name = node_name(r->pn[k].conn);
    }
    for (size_t k = 0; k < r->nn; k++)
        if (plan_node(r, &r->pn[k]) != 0)
            return -1;
    for (size_t k = 0; k < r->nn && !r->o.force; k++)
        if (r->pn[k].pf.nvictims)
            return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                            "%s: pre-flight failed: %zu process%s would be killed by the purge "
                            "(--force patches anyway); nothing was loaded on any node",
                            r->pn[k].name, r->pn[k].pf.nvictims,
                            r->pn[k].pf.nvictims == 1 ? "" : "es");
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
        if (r->pn[k].conn && r->pn[k].plan.status &&
            (rc == 0 || r->o.dry_run || r->pn[k].evaluated))
            print_node(&r->a, &r->pn[k], r->b, r->nb, r->o.dry_run);
    return rc;
}

int cmd_patch(struct knit_ctx *ctx, int argc, char **argv)
{
    struct prun r;
    memset(&r, 0, sizeof r);
    arena_init(&r.a);
    r.o.force = ctx->force;
    r.o.json = ctx->json;
    node_opts_init(&r.o.node);
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
            node_close(r.pn[k].conn);
    arena_close(&r.a);
    return rc;
}
