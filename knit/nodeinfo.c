/* nodeinfo.c - what a running node runs, and the pre-flight of a code change on it: each
 * question one node_eval of plain OTP calls, decoded into the structs of nodeinfo.h */
#include "nodeinfo.h"
#include "kerr.h"
#include "term_print.h"

#include <stdio.h>
#include <string.h>

/* PI(Pid) -> {"<0.1.0>", RegisteredName | undefined, InitialCall} */
#define PI_SRC \
    "PI = fun(Pid) ->\n" \
    "         Reg = case process_info(Pid, registered_name) of\n" \
    "                   {registered_name, R} -> R;\n" \
    "                   _ -> undefined\n" \
    "               end,\n" \
    "         Init = case process_info(Pid, dictionary) of\n" \
    "                    {dictionary, Dict} ->\n" \
    "                        case lists:keyfind('$initial_call', 1, Dict) of\n" \
    "                            {_, {Mo, Fu, Ar}} -> {Mo, Fu, Ar};\n" \
    "                            _ -> case process_info(Pid, initial_call) of\n" \
    "                                     {initial_call, IC} -> IC;\n" \
    "                                     _ -> undefined\n" \
    "                                 end\n" \
    "                        end;\n" \
    "                    _ -> undefined\n" \
    "                end,\n" \
    "         {pid_to_list(Pid), Reg, Init}\n" \
    "     end,\n"
static const char status_src[] =
    "WR = case whereis(release_handler) of\n"
    "         undefined -> none;\n"
    "         _ -> release_handler:which_releases()\n"
    "     end,\n"
    "Rels = case WR of none -> none; _ -> [{N, V, S} || {N, V, _, S} <- WR] end,\n"
    "Cur = case WR of\n"
    "          none -> none;\n"
    "          _ -> case [R || {_, _, _, current} = R <- WR] ++ [R || {_, _, _, permanent} = R <- WR] of\n"
    "                   [R0 | _] -> R0;\n"
    "                   [] -> none\n"
    "               end\n"
    "      end,\n"
    "Libs = case Cur of none -> []; {_, _, L, _} -> L end,\n"
    "LibMap = maps:from_list([case string:split(AV, \"-\", trailing) of\n"
    "                             [AN, _] -> {list_to_atom(AN), AV};\n"
    "                             _ -> {x, AV}\n"
    "                         end || AV <- Libs]),\n"
    "Root = code:root_dir(),\n"
    "RelDir = case application:get_env(sasl, releases_dir) of\n"
    "             {ok, RD} -> RD;\n"
    "             _ -> case os:getenv(\"RELDIR\") of false -> filename:join(Root, \"releases\"); RD -> RD end\n"
    "         end,\n"
    "Loaded = application:which_applications(),\n"
    "ModApp = maps:from_list(lists:append([case application:get_key(A, modules) of\n"
    "                                          {ok, Ms} -> [{M, A} || M <- Ms];\n"
    "                                          _ -> []\n"
    "                                      end || {A, _, _} <- Loaded])),\n"
    "Disk = fun(M) ->\n"
    "           Beam = atom_to_list(M) ++ \".beam\",\n"
    "           case maps:find(M, ModApp) of\n"
    "               {ok, A} ->\n"
    "                   case maps:find(A, LibMap) of\n"
    "                       {ok, AV} -> filename:join([Root, \"lib\", AV, \"ebin\", Beam]);\n"
    "                       error -> code:where_is_file(Beam)\n"
    "                   end;\n"
    "               error -> code:where_is_file(Beam)\n"
    "           end\n"
    "       end,\n"
    "Check = fun({M, F}, {N, P, C}) when is_list(F) ->\n"
    "                case catch M:module_info(md5) of\n"
    "                    LMd5 when is_binary(LMd5) ->\n"
    "                        D = Disk(M),\n"
    "                        DMd5 = case is_list(D) andalso beam_lib:md5(D) of\n"
    "                                   {ok, {_, X}} -> X;\n"
    "                                   _ -> none\n"
    "                               end,\n"
    "                        if\n"
    "                            DMd5 =:= LMd5 -> {N + 1, P, C};\n"
    "                            is_list(D), F =/= \"\", D =:= F -> {N + 1, P, [{M, F, D, LMd5, DMd5} | C]};\n"
    "                            true -> {N + 1, [{M, F, D, LMd5, DMd5} | P], C}\n"
    "                        end;\n"
    "                    _ -> {N, P, C}\n"
    "                end;\n"
    "           (_, Acc) -> Acc\n"
    "        end,\n"
    "{NMods, Patched, Changed} = lists:foldl(Check, {0, [], []}, code:all_loaded()),\n"
    PI_SRC
    "Old = [{M, [PI(Pid) || Pid <- processes(), erlang:check_process_code(Pid, M)]}\n"
    "       || {M, _} <- code:all_loaded(), erlang:check_old_code(M)],\n"
    "Patches = case application:get_env(knit, patches) of {ok, PL} when is_list(PL) -> PL; _ -> [] end,\n"
    "[{otp, erlang:system_info(otp_release)}, {erts, erlang:system_info(version)},\n"
    " {release_handler, WR =/= none}, {root, Root}, {releases_dir, RelDir},\n"
    " {current, case Cur of none -> none; {CN, CV, _, CS} -> {CN, CV, CS} end},\n"
    " {releases, Rels}, {apps, [{A, V} || {A, _, V} <- Loaded]},\n"
    " {modules, NMods}, {patched, Patched}, {changed, Changed}, {old, Old}, {patches, Patches}]";
static const char preflight_src[] =
    PI_SRC
    "Mods = fun(Ms) -> [case X of {Mo, _} -> Mo; Mo -> Mo end || X <- Ms] end,\n"
    "Brutal = lists:usort([M || {load, {M, _, brutal_purge}} <- I]\n"
    "                     ++ [M || {remove, {M, _, brutal_purge}} <- I]\n"
    "                     ++ lists:append([Ms || {purge, Ms} <- I])),\n"
    "PreBrutal = lists:usort([M || {load, {M, brutal_purge, _}} <- I]\n"
    "                        ++ [M || {remove, {M, brutal_purge, _}} <- I]),\n"
    "Susp = lists:usort(lists:append([Mods(Ms) || {suspend, Ms} <- I])),\n"
    "Changed = lists:usort(lists:append([Mods(Ms) || {code_change, _, Ms} <- I]\n"
    "                                   ++ [Mods(Ms) || {code_change, Ms} <- I])),\n"
    "Sup = case Susp of\n"
    "          [] -> [];\n"
    "          _ -> [{P, Ms} || {_, _, P, Ms} <- catch release_handler_1:get_supervised_procs(),\n"
    "                           is_pid(P), is_list(Ms)]\n"
    "      end,\n"
    "Suspended = fun(P, M) ->\n"
    "                lists:member(M, Susp) andalso lists:member(M, Changed) andalso\n"
    "                    lists:any(fun({Q, Ms}) -> Q =:= P andalso lists:member(M, Ms) end, Sup)\n"
    "            end,\n"
    "Stack = fun(P) ->\n"
    "            case process_info(P, current_stacktrace) of\n"
    "                {current_stacktrace, S} -> [element(1, Fr) || Fr <- S];\n"
    "                _ -> []\n"
    "            end\n"
    "        end,\n"
    "Procs = [{P, Stack(P)} || P <- processes(), P =/= self()],\n"
    "OldOf = fun(P, M) -> erlang:check_old_code(M) andalso erlang:check_process_code(P, M) end,\n"
    "Cur = [{M, false, PI(P)} || M <- Brutal, {P, S} <- Procs, lists:member(M, S),\n"
    "                            not Suspended(P, M), not OldOf(P, M)],\n"
    "OldV = [{M, true, PI(P)} || M <- PreBrutal, erlang:check_old_code(M),\n"
    "                             {P, _} <- Procs, erlang:check_process_code(P, M)],\n"
    "Touched = lists:usort([M || {load, {M, _, _}} <- I] ++ [M || {remove, {M, _, _}} <- I]),\n"
    "{Brutal, Cur ++ OldV, Touched}";

static const char relup_src[] =
    "case file:consult(filename:join([D, V, \"relup\"])) of\n"
    "  {ok, [{V, Ups, Downs}]} ->\n"
    "    L = case Up of true -> Ups; false -> Downs end,\n"
    "    case [Is || {F, _, Is} <- L, F =:= From] of\n"
    "      [Is | _] -> {ok, Is};\n"
    "      [] -> {error, {no_entry, [F || {F, _, _} <- L]}}\n"
    "    end;\n"
    "  {ok, Other} -> {error, {bad_relup, Other}};\n"
    "  {error, E} -> {error, E}\n"
    "end";

/* text - T as UTF-8 text (charlist, binary, atom), or its ~tp text */
static const char *text(struct arena *a, const struct term *t)
{
    if (!t)
        return "";
    const char *s = term_text(a, t);
    return s ? s : term_show(a, t, 200);
}

static void md5_hex(const struct term *t, char out[33])
{
    out[0] = 0;
    if (!t || t->type != TERM_BITS || t->u.bits.nbits != 128)
        return;
    for (int k = 0; k < 16; k++)
        snprintf(out + 2 * k, 3, "%02x", t->u.bits.data[k]);
}

static void proc_of(struct arena *a, const struct term *t, struct nodeinfo_proc *p)
{
    memset(p, 0, sizeof *p);
    if (!term_is_tuple(t, 3))
        return;
    p->pid = text(a, t->u.tuple.el[0]);
    const struct term *n = t->u.tuple.el[1];
    p->name = n->type == TERM_ATOM && !term_is_atom(n, "undefined") && !term_is_atom(n, "[]")
                  ? n->u.atom.name
                  : NULL;
    const struct term *ic = t->u.tuple.el[2];
    if (term_is_tuple(ic, 3))
        p->initial = arena_sprintf(a, "%s:%s/%s", text(a, ic->u.tuple.el[0]),
                                   text(a, ic->u.tuple.el[1]), text(a, ic->u.tuple.el[2]));
    else
        p->initial = "?";
}

const char *nodeinfo_proc_text(struct arena *a, const struct nodeinfo_proc *p)
{
    if (p->name)
        return arena_sprintf(a, "%s (%s, %s)", p->pid, p->name, p->initial);
    return arena_sprintf(a, "%s (%s)", p->pid, p->initial);
}

/* mods_of - {M, LoadedFrom, Disk, LoadedMd5, DiskMd5} entries */
static struct nodeinfo_mod *mods_of(struct arena *a, const struct term *l, size_t *n)
{
    size_t k;
    const struct term *const *e = term_is_list(l) ? term_list_els(l, &k) : NULL;
    if (!e)
        k = 0;
    struct nodeinfo_mod *v = arena_alloc(a, (k + 1) * sizeof *v);
    *n = 0;
    for (size_t i = 0; i < k; i++) {
        if (!term_is_tuple(e[i], 5))
            continue;
        struct nodeinfo_mod *m = &v[(*n)++];
        m->module = text(a, e[i]->u.tuple.el[0]);
        m->loaded_from = text(a, e[i]->u.tuple.el[1]);
        m->disk = term_is_list(e[i]->u.tuple.el[2]) ? text(a, e[i]->u.tuple.el[2]) : NULL;
        md5_hex(e[i]->u.tuple.el[3], m->loaded_md5);
        md5_hex(e[i]->u.tuple.el[4], m->disk_md5);
    }
    /* the node folds in reverse: give them in module order */
    for (size_t i = 0; i + 1 < *n; i++)
        for (size_t j = i + 1; j < *n; j++)
            if (strcmp(v[j].module, v[i].module) < 0) {
                struct nodeinfo_mod t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    return v;
}

static const struct term *map_get(const struct term *m, const char *key)
{
    if (!m || m->type != TERM_MAP)
        return NULL;
    for (size_t k = 0; k < m->u.map.n; k++)
        if (term_is_atom(m->u.map.keys[k], key))
            return m->u.map.vals[k];
    return NULL;
}

int nodeinfo_get(struct arena *a, struct node_conn *c, struct nodeinfo *ni)
{
    memset(ni, 0, sizeof *ni);
    ni->node = node_name(c);
    const struct term *r = node_eval(a, c, status_src, NULL);
    if (!r)
        return -1;
    if (!term_is_list(r))
        return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: unexpected status reply %s",
                        node_name(c), term_show(a, r, 200));
    ni->otp = text(a, term_proplist_get(r, "otp"));
    ni->erts = text(a, term_proplist_get(r, "erts"));
    ni->has_release_handler = term_is_atom(term_proplist_get(r, "release_handler"), "true");
    ni->root = text(a, term_proplist_get(r, "root"));
    ni->releases_dir = text(a, term_proplist_get(r, "releases_dir"));
    const struct term *cur = term_proplist_get(r, "current");
    if (term_is_tuple(cur, 3)) {
        ni->rel_name = text(a, cur->u.tuple.el[0]);
        ni->rel_vsn = text(a, cur->u.tuple.el[1]);
        ni->rel_status = text(a, cur->u.tuple.el[2]);
    }
    size_t n;
    const struct term *rels = term_proplist_get(r, "releases");
    const struct term *const *e = term_is_list(rels) ? term_list_els(rels, &n) : NULL;
    if (!e)
        n = 0;
    ni->rels = arena_alloc(a, (n + 1) * sizeof *ni->rels);
    for (size_t k = 0; k < n; k++)
        if (term_is_tuple(e[k], 3)) {
            struct nodeinfo_release *x = &ni->rels[ni->nrels++];
            x->name = text(a, e[k]->u.tuple.el[0]);
            x->vsn = text(a, e[k]->u.tuple.el[1]);
            x->status = text(a, e[k]->u.tuple.el[2]);
        }
    const struct term *apps = term_proplist_get(r, "apps");
    e = term_is_list(apps) ? term_list_els(apps, &n) : NULL;
    if (!e)
        n = 0;
    ni->apps = arena_alloc(a, (n + 1) * sizeof *ni->apps);
    for (size_t k = 0; k < n; k++)
        if (term_is_tuple(e[k], 2)) {
            struct nodeinfo_app *x = &ni->apps[ni->napps++];
            x->name = text(a, e[k]->u.tuple.el[0]);
            x->vsn = text(a, e[k]->u.tuple.el[1]);
        }
    const struct term *nm = term_proplist_get(r, "modules");
    ni->nmodules = nm && nm->type == TERM_INT ? (long)nm->u.i : 0;
    ni->patched = mods_of(a, term_proplist_get(r, "patched"), &ni->npatched);
    ni->changed = mods_of(a, term_proplist_get(r, "changed"), &ni->nchanged);
    const struct term *old = term_proplist_get(r, "old");
    e = term_is_list(old) ? term_list_els(old, &n) : NULL;
    if (!e)
        n = 0;
    ni->old = arena_alloc(a, (n + 1) * sizeof *ni->old);
    for (size_t k = 0; k < n; k++) {
        if (!term_is_tuple(e[k], 2))
            continue;
        struct nodeinfo_old *o = &ni->old[ni->nold++];
        o->module = text(a, e[k]->u.tuple.el[0]);
        size_t np;
        const struct term *const *p =
            term_is_list(e[k]->u.tuple.el[1]) ? term_list_els(e[k]->u.tuple.el[1], &np) : NULL;
        if (!p)
            np = 0;
        o->procs = arena_alloc(a, (np + 1) * sizeof *o->procs);
        for (size_t i = 0; i < np; i++)
            proc_of(a, p[i], &o->procs[o->nprocs++]);
    }
    const struct term *pl = term_proplist_get(r, "patches");
    e = term_is_list(pl) ? term_list_els(pl, &n) : NULL;
    if (!e)
        n = 0;
    ni->patches = arena_alloc(a, (n + 1) * sizeof *ni->patches);
    for (size_t k = 0; k < n; k++) {
        struct nodeinfo_patch *p = &ni->patches[ni->npatches++];
        p->id = text(a, map_get(e[k], "id"));
        const struct term *t = map_get(e[k], "time");
        p->time = t && t->type == TERM_INT ? t->u.i : 0;
        const struct term *ms = map_get(e[k], "modules");
        size_t nms;
        const struct term *const *me = ms && term_is_list(ms) ? term_list_els(ms, &nms) : NULL;
        if (!me)
            nms = 0;
        p->modules = arena_alloc(a, (nms + 1) * sizeof *p->modules);
        for (size_t i = 0; i < nms; i++)
            p->modules[p->nmodules++] = text(a, me[i]);
        /* which patched modules this patch loaded: its md5 is the one in memory */
        const struct term *md5s = map_get(e[k], "md5");
        const struct term *const *de = md5s && term_is_list(md5s) ? term_list_els(md5s, &nms) : NULL;
        for (size_t i = 0; de && i < nms; i++) {
            if (!term_is_tuple(de[i], 2))
                continue;
            char hex[33];
            md5_hex(de[i]->u.tuple.el[1], hex);
            const char *mod = text(a, de[i]->u.tuple.el[0]);
            for (size_t j = 0; j < ni->npatched; j++)
                if (!ni->patched[j].patch_id && !strcmp(ni->patched[j].module, mod) &&
                    !strcmp(ni->patched[j].loaded_md5, hex))
                    ni->patched[j].patch_id = p->id;
        }
    }
    return 0;
}

const char *nodeinfo_summary(struct arena *a, const struct nodeinfo *ni)
{
    const char *s;
    if (ni->rel_vsn)
        s = arena_sprintf(a, "%s: %s (%s)", ni->node, ni->rel_vsn, ni->rel_status);
    else if (!ni->has_release_handler)
        s = arena_sprintf(a, "%s: no release (OTP %s)", ni->node, ni->otp);
    else
        s = arena_sprintf(a, "%s: no current release", ni->node);
    if (ni->npatched)
        s = arena_sprintf(a, "%s + %zu hot patch%s", s, ni->npatched, ni->npatched == 1 ? "" : "es");
    if (ni->nchanged)
        s = arena_sprintf(a, "%s; %zu module%s changed on disk, not loaded", s, ni->nchanged,
                          ni->nchanged == 1 ? "" : "s");
    if (ni->nold) {
        size_t np = 0;
        for (size_t k = 0; k < ni->nold; k++)
            np += ni->old[k].nprocs;
        s = arena_sprintf(a, "%s; old code in %zu module%s held by %zu process%s", s, ni->nold,
                          ni->nold == 1 ? "" : "s", np, np == 1 ? "" : "es");
    }
    return s;
}

int nodeinfo_preflight(struct arena *a, struct node_conn *c, const struct term *script,
                       const struct nodeinfo *ni, struct nodeinfo_preflight *out)
{
    memset(out, 0, sizeof *out);
    const struct term *r =
        node_eval(a, c, preflight_src, term_listv(a, 1, node_bind(a, "I", script)));
    if (!r)
        return -1;
    if (!term_is_tuple(r, 3))
        return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: unexpected pre-flight reply %s",
                        node_name(c), term_show(a, r, 200));
    size_t n;
    const struct term *const *e = term_list_els(r->u.tuple.el[0], &n);
    out->brutal = arena_alloc(a, (n + 1) * sizeof *out->brutal);
    for (size_t k = 0; k < n; k++)
        out->brutal[out->nbrutal++] = text(a, e[k]);
    e = term_list_els(r->u.tuple.el[1], &n);
    out->victims = arena_alloc(a, (n + 1) * sizeof *out->victims);
    for (size_t k = 0; k < n; k++) {
        if (!term_is_tuple(e[k], 3))
            continue;
        struct nodeinfo_victim *v = &out->victims[out->nvictims++];
        v->module = text(a, e[k]->u.tuple.el[0]);
        v->old_code = term_is_atom(e[k]->u.tuple.el[1], "true");
        proc_of(a, e[k]->u.tuple.el[2], &v->proc);
    }
    size_t nt;
    const struct term *const *touched = term_list_els(r->u.tuple.el[2], &nt);
    out->undone = arena_alloc(a, ((ni ? ni->npatched : 0) + 1) * sizeof *out->undone);
    for (size_t k = 0; ni && k < ni->npatched; k++)
        for (size_t i = 0; i < nt; i++)
            if (!strcmp(text(a, touched[i]), ni->patched[k].module)) {
                out->undone[out->nundone++] = ni->patched[k];
                break;
            }
    return 0;
}

const struct term *nodeinfo_relup_script(struct arena *a, struct node_conn *c, const char *reldir,
                                         const char *from, const char *to, bool up)
{
    const char *vsn = up ? to : from, *other = up ? from : to;
    const struct term *bs =
        term_listv(a, 4, node_bind(a, "D", node_str(a, reldir)), node_bind(a, "V", node_str(a, vsn)),
                   node_bind(a, "From", node_str(a, other)),
                   node_bind(a, "Up", term_atomz(a, up ? "true" : "false")));
    const struct term *r = node_eval(a, c, relup_src, bs);
    if (!r)
        return NULL;
    if (term_is_tagged(r, "ok", 2))
        return r->u.tuple.el[1];
    kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: no relup from %s to %s in %s/%s/relup: %s",
             node_name(c), up ? from : from, to, reldir, vsn,
             term_show(a, term_is_tuple(r, 2) ? r->u.tuple.el[1] : r, 300));
    return NULL;
}
