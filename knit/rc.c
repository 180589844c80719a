/* rc.c - translate high-level appup instructions to low-level ones, as OTP's systools_rc does */
#include "rc.h"

#include "buf.h"
#include "kerr.h"
#include "term_print.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static void tv_cat(struct arena *a, struct term_vec *t, const struct term_vec *u)
{
    for (size_t i = 0; i < u->n; i++)
        term_vec_add(a, t, u->v[i]);
}

/* The atoms this translation writes, made once: a relup names brutal_purge, load and
 * load_object_code thousands of times. */
#define ATOM(s)                                                                                    \
    {                                                                                              \
        .type = TERM_ATOM, .u.atom = { s, sizeof s - 1 }                                           \
    }
static const struct term fixed_atoms[] = {
    ATOM("add_module"),
    ATOM("advanced"),
    ATOM("application"),
    ATOM("apply"),
    ATOM("brutal_purge"),
    ATOM("code_change"),
    ATOM("default"),
    ATOM("dynamic"),
    ATOM("load"),
    ATOM("load_module"),
    ATOM("load_object_code"),
    ATOM("permanent"),
    ATOM("point_of_no_return"),
    ATOM("purge"),
    ATOM("remove"),
    ATOM("restart_emulator"),
    ATOM("restart_new_emulator"),
    ATOM("resume"),
    ATOM("soft"),
    ATOM("start"),
    ATOM("static"),
    ATOM("stop"),
    ATOM("suspend"),
    ATOM("unload"),
    ATOM("up"),
    ATOM("down"),
};
#undef ATOM

/* A - the atom NAME: one of the fixed ones when it is (literals in this file are usually
 * the very strings of the table), else a new one */
static const struct term *A(struct arena *a, const char *name)
{
    size_t n = sizeof fixed_atoms / sizeof *fixed_atoms;
    for (size_t k = 0; k < n; k++)
        if (fixed_atoms[k].u.atom.name == name)
            return &fixed_atoms[k];
    for (size_t k = 0; k < n; k++)
        if (!strcmp(fixed_atoms[k].u.atom.name, name))
            return &fixed_atoms[k];
    return term_atomz(a, name);
}

/* is - whether T is a tuple of N elements tagged TAG */
static bool is(const struct term *t, const char *tag, size_t n)
{
    return term_is_tagged(t, tag, n);
}

static const struct term *el(const struct term *t, size_t i)
{
    return t->u.tuple.el[i];
}

static bool is_list_any(const struct term *t)
{
    return t->type == TERM_NIL || t->type == TERM_LIST;
}

/* err - record a KERR_BUILD whose message ends with "(systools_rc: KIND)" */
#define err(kind, ...) kerr_set_kind(KERR_BUILD, NULL, "systools_rc", kind, __VA_ARGS__)

/* member - atom X is in list term L (lists:member) */
static bool member(const struct term *x, const struct term *l)
{
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    for (size_t i = 0; i < n; i++)
        if (term_equal(e[i], x))
            return true;
    return false;
}

static bool tv_member(const struct term *x, const struct term_vec *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (term_equal(t->v[i], x))
            return true;
    return false;
}

/* ---- syntax ---- */

static int check_mod(struct arena *a, const struct term *m, const struct term *in)
{
    if (m->type == TERM_ATOM)
        return 0;
    return err("bad_module", "bad module %s in %s: must be an atom", term_show(a, m, 400),
               term_show(a, in, 400));
}

static int check_purge(struct arena *a, const struct term *p, const struct term *in)
{
    if (term_is_atom(p, "soft_purge") || term_is_atom(p, "brutal_purge"))
        return 0;
    return err("bad_purge_method", "bad purge method %s in %s: must be soft_purge or brutal_purge",
               term_show(a, p, 400), term_show(a, in, 400));
}

static int check_timeout(struct arena *a, const struct term *t, const struct term *in)
{
    if (term_is_atom(t, "default") || term_is_atom(t, "infinity") ||
        (t->type == TERM_INT && t->u.i > 0) || (t->type == TERM_BIG && !t->u.big.neg))
        return 0;
    return err("bad_timeout", "bad timeout %s in %s: must be default, infinity or an integer > 0",
               term_show(a, t, 400), term_show(a, in, 400));
}

/* check_mods - check_list(L) and check_mod on each element */
static int check_mods(struct arena *a, const struct term *l, const struct term *in)
{
    if (!is_list_any(l))
        return err("bad_list", "bad list %s in %s", term_show(a, l, 400), term_show(a, in, 400));
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    for (size_t i = 0; i < n; i++)
        if (check_mod(a, e[i], in) != 0)
            return -1;
    if (l->type == TERM_LIST && l->u.list.tail->type != TERM_NIL)
        return err("function_clause", "improper list %s in %s", term_show(a, l, 400),
                   term_show(a, in, 400));
    return 0;
}

static int check_atom(struct arena *a, const struct term *x, const char *kind, const char *what,
                      const struct term *in)
{
    if (x->type == TERM_ATOM)
        return 0;
    return err(kind, "bad %s %s in %s: must be an atom", what, term_show(a, x, 400),
               term_show(a, in, 400));
}

/* check_update - {update, Mod, [ModType,] [Timeout,] Change, Pre, Post, Mods} */
static int check_update(struct arena *a, const struct term *i)
{
    size_t n = i->u.tuple.n, k = 2;
    if (check_mod(a, el(i, 1), i))
        return -1;
    if (n == 8) {
        const struct term *mt = el(i, k++);
        if (!term_is_atom(mt, "static") && !term_is_atom(mt, "dynamic"))
            return err("bad_mod_type", "bad module type %s in %s: must be static or dynamic",
                       term_show(a, mt, 400), term_show(a, i, 400));
    }
    if (n >= 7 && check_timeout(a, el(i, k++), i))
        return -1;
    const struct term *ch = el(i, k++);
    if (!term_is_atom(ch, "soft") && !is(ch, "advanced", 2))
        return err("bad_change", "bad change %s in %s: must be soft or {advanced, Extra}",
                   term_show(a, ch, 400), term_show(a, i, 400));
    if (check_purge(a, el(i, k), i) || check_purge(a, el(i, k + 1), i))
        return -1;
    return check_mods(a, el(i, k + 2), i);
}

static int check_code_change(struct arena *a, const struct term *i)
{
    const struct term *l = el(i, i->u.tuple.n - 1);
    if (!is_list_any(l))
        return err("bad_list", "bad list %s in %s", term_show(a, l, 400), term_show(a, i, 400));
    if (i->u.tuple.n == 3 && !term_is_atom(el(i, 1), "up") && !term_is_atom(el(i, 1), "down"))
        return err("bad_mode", "bad mode %s in %s: must be up or down", term_show(a, el(i, 1), 400),
                   term_show(a, i, 400));
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    for (size_t k = 0; k < n; k++) {
        if (!term_is_tuple(e[k], 2))
            return err("bad_code_change", "bad code_change entry %s in %s: must be {Mod, Extra}",
                       term_show(a, e[k], 400), term_show(a, i, 400));
        if (check_mod(a, el(e[k], 0), i))
            return -1;
    }
    return 0;
}

static int check_suspend(struct arena *a, const struct term *i)
{
    const struct term *l = el(i, 1);
    if (!is_list_any(l))
        return err("bad_list", "bad list %s in %s", term_show(a, l, 400), term_show(a, i, 400));
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    for (size_t k = 0; k < n; k++) {
        if (term_is_tuple(e[k], 2)) {
            if (check_mod(a, el(e[k], 0), i) || check_timeout(a, el(e[k], 1), i))
                return -1;
        } else if (check_mod(a, e[k], i)) {
            return -1;
        }
    }
    return 0;
}

/* check_mfa - {M, F, A}: module and function atoms, a list of arguments */
static int check_mfa(struct arena *a, const struct term *mfa, const struct term *i)
{
    if (check_mod(a, el(mfa, 0), i) || check_atom(a, el(mfa, 1), "bad_func", "function", i))
        return -1;
    if (!is_list_any(el(mfa, 2)))
        return err("bad_args_list", "bad argument list %s in %s", term_show(a, el(mfa, 2), 400),
                   term_show(a, i, 400));
    return 0;
}

static int check_start_type(struct arena *a, const struct term *t, const struct term *i)
{
    static const char *types[] = {"none", "load", "temporary", "transient", "permanent"};
    for (size_t k = 0; k < 5; k++)
        if (term_is_atom(t, types[k]))
            return 0;
    return err("bad_start_type", "bad start type %s in %s", term_show(a, t, 400),
               term_show(a, i, 400));
}

/* check_op - systools_rc:check_op/1 for one instruction */
static int check_op(struct arena *a, const struct term *i)
{
    static const char *plain[] = {"restart", "reboot", "point_of_no_return", "restart_new_emulator",
                                  "restart_emulator"};
    if (term_is_atom(i, "mnesia_backup"))
        return err("not_yet_implemented", "instruction mnesia_backup is not implemented");
    for (size_t k = 0; k < 5; k++)
        if (term_is_atom(i, plain[k]))
            return 0;
    if (i->type == TERM_TUPLE && i->u.tuple.n >= 2 && el(i, 0)->type == TERM_ATOM) {
        const char *tag = el(i, 0)->u.atom.name;
        size_t n = i->u.tuple.n;
        const struct term *x = el(i, 1);
        if (!strcmp(tag, "update") && n >= 6 && n <= 8)
            return check_update(a, i);
        if (!strcmp(tag, "load_module") && n == 5)
            return check_mod(a, x, i) || check_purge(a, el(i, 2), i) ||
                           check_purge(a, el(i, 3), i) || check_mods(a, el(i, 4), i)
                       ? -1
                       : 0;
        if ((!strcmp(tag, "add_module") || !strcmp(tag, "delete_module")) && n <= 3)
            return check_mod(a, x, i) || (n == 3 && check_mods(a, el(i, 2), i)) ? -1 : 0;
        if ((!strcmp(tag, "remove_application") || !strcmp(tag, "restart_application")) && n == 2)
            return check_atom(a, x, "bad_application", "application", i);
        if (!strcmp(tag, "add_application") && n == 3)
            return check_atom(a, x, "bad_application", "application", i) ||
                           check_start_type(a, el(i, 2), i)
                       ? -1
                       : 0;
        if (!strcmp(tag, "load_object_code") && n == 2 && term_is_tuple(x, 3)) {
            if (check_atom(a, el(x, 0), "bad_lib", "library", i))
                return -1;
            if (!is_list_any(el(x, 1)))
                return err("bad_lib_vsn", "bad library version %s in %s: must be a string",
                           term_show(a, el(x, 1), 400), term_show(a, i, 400));
            return check_mods(a, el(x, 2), i);
        }
        if ((!strcmp(tag, "load") || !strcmp(tag, "remove")) && n == 2 && term_is_tuple(x, 3))
            return check_mod(a, el(x, 0), i) || check_purge(a, el(x, 1), i) ||
                           check_purge(a, el(x, 2), i)
                       ? -1
                       : 0;
        if ((!strcmp(tag, "purge") || !strcmp(tag, "resume") || !strcmp(tag, "stop") ||
             !strcmp(tag, "start")) &&
            n == 2)
            return check_mods(a, x, i);
        if (!strcmp(tag, "suspend") && n == 2)
            return check_suspend(a, i);
        if (!strcmp(tag, "code_change") && (n == 2 || n == 3))
            return check_code_change(a, i);
        if (!strcmp(tag, "sync_nodes") && n == 3) {
            const struct term *y = el(i, 2);
            if (term_is_tuple(y, 3))
                return check_mfa(a, y, i);
            if (!is_list_any(y))
                return err("bad_list", "bad list %s in %s", term_show(a, y, 400),
                           term_show(a, i, 400));
            size_t m;
            const struct term *const *e = term_list_els(y, &m);
            for (size_t k = 0; k < m; k++)
                if (check_atom(a, e[k], "bad_node", "node", i))
                    return -1;
            return 0;
        }
        if (!strcmp(tag, "apply") && n == 2 && term_is_tuple(x, 3))
            return check_mfa(a, x, i);
    }
    return err("bad_instruction", "bad instruction %s", term_show(a, i, 400));
}

static int check_tv(struct arena *a, const struct term_vec *t)
{
    for (size_t k = 0; k < t->n; k++)
        if (check_op(a, t->v[k]) != 0)
            return -1;
    return 0;
}

static void expand_one(struct arena *a, const struct term *i, struct term_vec *out);

int rc_check_syntax(struct arena *a, const struct term *script)
{
    struct term_vec ex = {0};
    if (!term_is_list(script))
        return err("function_clause", "instruction list %s is not a list",
                   term_show(a, script, 400));
    size_t n;
    const struct term *const *e = term_list_els(script, &n);
    for (size_t k = 0; k < n; k++)
        expand_one(a, e[k], &ex);
    return check_tv(a, &ex);
}

/* ---- expansion, splitting, merging ---- */

/* expand_one - systools_rc:expand_script/1 for one instruction, appended to OUT */
static void expand_one(struct arena *a, const struct term *i, struct term_vec *out)
{
    const struct term *bp = A(a, "brutal_purge"), *nil = term_nil();
    if (is(i, "load_module", 2)) {
        i = term_tuplev(a, 5, el(i, 0), el(i, 1), bp, bp, nil);
    } else if (is(i, "load_module", 3) && is_list_any(el(i, 2))) {
        i = term_tuplev(a, 5, el(i, 0), el(i, 1), bp, bp, el(i, 2));
    } else if (is(i, "update", 2)) {
        i = term_tuplev(a, 6, el(i, 0), el(i, 1), A(a, "soft"), bp, bp, nil);
    } else if (is(i, "update", 3) && term_is_atom(el(i, 2), "supervisor")) {
        const struct term *adv = term_tuplev(a, 2, A(a, "advanced"), nil);
        i = term_tuplev(a, 8, el(i, 0), el(i, 1), A(a, "static"), A(a, "default"), adv, bp, bp,
                        nil);
    } else if (is(i, "update", 3) &&
               (el(i, 2)->type == TERM_TUPLE || term_is_atom(el(i, 2), "soft"))) {
        i = term_tuplev(a, 6, el(i, 0), el(i, 1), el(i, 2), bp, bp, nil);
    } else if (is(i, "update", 3) && is_list_any(el(i, 2))) {
        i = term_tuplev(a, 6, el(i, 0), el(i, 1), A(a, "soft"), bp, bp, el(i, 2));
    } else if (is(i, "update", 4) &&
               (el(i, 2)->type == TERM_TUPLE || term_is_atom(el(i, 2), "soft")) &&
               is_list_any(el(i, 3))) {
        i = term_tuplev(a, 6, el(i, 0), el(i, 1), el(i, 2), bp, bp, el(i, 3));
    } else if (is(i, "add_application", 2)) {
        i = term_tuplev(a, 3, el(i, 0), el(i, 1), A(a, "permanent"));
    } else if (is_list_any(i)) {
        size_t n;
        const struct term *const *e = term_list_els(i, &n);
        for (size_t k = 0; k < n; k++)
            term_vec_add(a, out, e[k]);
        return;
    }
    term_vec_add(a, out, i);
}

/* split_script - {Before, After} around the one point_of_no_return, load_object_code
 * moved to Before; only load_object_code and apply may stand before it */
static int split_script(struct arena *a, const struct term_vec *s, struct term_vec *before,
                        struct term_vec *after)
{
    size_t k, ponr = s->n;
    for (k = 0; k < s->n; k++)
        if (term_is_atom(s->v[k], "point_of_no_return")) {
            if (ponr < s->n)
                return err("too_many_point_of_no_return",
                           "more than one point_of_no_return in a script");
            ponr = k;
        }
    size_t start = 0;
    if (ponr < s->n) {
        for (k = 0; k < ponr; k++) {
            const struct term *i = s->v[k];
            if (!is(i, "load_object_code", 2) && !is(i, "apply", 2))
                return err("bad_op_before_point_of_no_return",
                           "instruction %s before point_of_no_return (only load_object_code "
                           "and apply may come before it)",
                           term_show(a, i, 400));
            term_vec_add(a, before, i);
        }
        start = ponr + 1;
    }
    for (k = start; k < s->n; k++)
        if (is(s->v[k], "load_object_code", 2))
            term_vec_add(a, before, s->v[k]);
    for (k = start; k < s->n; k++)
        if (!is(s->v[k], "load_object_code", 2))
            term_vec_add(a, after, s->v[k]);
    return 0;
}

/* normalize - update and add_module/delete_module variants into one form each */
static const struct term *normalize(struct arena *a, const struct term *i)
{
    if (is(i, "update", 6))
        return term_tuplev(a, 8, el(i, 0), el(i, 1), A(a, "dynamic"), A(a, "default"), el(i, 2),
                           el(i, 3), el(i, 4), el(i, 5));
    if (is(i, "update", 7))
        return term_tuplev(a, 8, el(i, 0), el(i, 1), A(a, "dynamic"), el(i, 2), el(i, 3), el(i, 4),
                           el(i, 5), el(i, 6));
    if (is(i, "add_module", 2) || is(i, "delete_module", 2))
        return term_tuplev(a, 3, el(i, 0), el(i, 1), term_nil());
    return i;
}

/* ---- checks on the merged script ---- */

/* difference - the elements of X not in Y (systools_rc:difference/2) */
static void difference(struct arena *a, const struct term_vec *x, const struct term_vec *y,
                       struct term_vec *out)
{
    for (size_t k = 0; k < x->n; k++)
        if (!tv_member(x->v[k], y))
            term_vec_add(a, out, x->v[k]);
}

static void collect(struct arena *a, const struct term_vec *s, const char *tag, bool strip,
                    struct term_vec *out)
{
    for (size_t k = 0; k < s->n; k++) {
        if (!is(s->v[k], tag, 2))
            continue;
        size_t n;
        const struct term *const *e = term_list_els(el(s->v[k], 1), &n);
        for (size_t j = 0; j < n; j++)
            term_vec_add(a, out, strip && term_is_tuple(e[j], 2) ? el(e[j], 0) : e[j]);
    }
}

static int check_pair(struct arena *a, const struct term_vec *after, const char *t1, const char *t2,
                      const char *k1, const char *k2, const char *what)
{
    struct term_vec x = {0}, y = {0}, d1 = {0}, d2 = {0};
    collect(a, after, t1, true, &x);
    collect(a, after, t2, false, &y);
    difference(a, &x, &y, &d1);
    if (d1.n)
        return err(k1, "modules %s are %s but not %s", term_show(a, term_vec_list(a, &d1), 400),
                   what, !strcmp(t1, "suspend") ? "resumed" : "stopped");
    difference(a, &y, &x, &d2);
    if (d2.n)
        return err(k2, "modules %s are %s but not %s", term_show(a, term_vec_list(a, &d2), 400),
                   !strcmp(t1, "suspend") ? "resumed" : "stopped", what);
    return 0;
}

/* check_script - every load has its load_object_code, suspend/resume and start/stop pair */
static int check_script(struct arena *a, const struct term_vec *before,
                        const struct term_vec *after)
{
    for (size_t k = 0; k < after->n; k++) {
        const struct term *i = after->v[k];
        if (!is(i, "load", 2) || !term_is_tuple(el(i, 1), 3))
            continue;
        const struct term *mod = el(el(i, 1), 0);
        bool found = false;
        for (size_t j = 0; j < before->n && !found; j++)
            if (is(before->v[j], "load_object_code", 2) && term_is_tuple(el(before->v[j], 1), 3))
                found = member(mod, el(el(before->v[j], 1), 2));
        if (!found)
            return err("no_object_code", "no load_object_code for module %s (in %s)",
                       term_show(a, mod, 400), term_show(a, i, 400));
    }
    if (check_pair(a, after, "suspend", "resume", "suspended_not_resumed", "resumed_not_suspended",
                   "suspended"))
        return -1;
    return check_pair(a, after, "start", "stop", "start_not_stop", "stop_not_start", "started");
}

/* ---- applications ---- */

static const struct relfile_app *find_app(const struct term *name, const struct relfile_app *v,
                                          size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(v[k].name, name->u.atom.name))
            return &v[k];
    return NULL;
}

static void app_apply(struct arena *a, const struct term *app, const char *type,
                      struct term_vec *out)
{
    const struct term *m = A(a, "application");
    if (!strcmp(type, "none"))
        return;
    if (!strcmp(type, "load"))
        term_vec_add(a, out,
                     term_tuplev(a, 2, A(a, "apply"),
                                 term_tuplev(a, 3, m, A(a, "load"), term_listv(a, 1, app))));
    else
        term_vec_add(
            a, out,
            term_tuplev(a, 2, A(a, "apply"),
                        term_tuplev(a, 3, m, A(a, "start"), term_listv(a, 2, app, A(a, type)))));
}

static void app_stop_remove(struct arena *a, const struct term *app, const struct relfile_app *p,
                            struct term_vec *out)
{
    const struct term *m = A(a, "application"), *bp = A(a, "brutal_purge");
    struct term_vec mods = {0};
    term_vec_add(a, out,
                 term_tuplev(a, 2, A(a, "apply"),
                             term_tuplev(a, 3, m, A(a, "stop"), term_listv(a, 1, app))));
    for (size_t k = 0; k < p->nmods; k++) {
        const struct term *mod = term_atomz(a, p->mods[k]);
        term_vec_add(a, &mods, mod);
        term_vec_add(a, out, term_tuplev(a, 2, A(a, "remove"), term_tuplev(a, 3, mod, bp, bp)));
    }
    term_vec_add(a, out, term_tuplev(a, 2, A(a, "purge"), term_vec_list(a, &mods)));
}

static void app_add_modules(struct arena *a, const struct relfile_app *p, struct term_vec *out)
{
    for (size_t k = 0; k < p->nmods; k++)
        term_vec_add(a, out,
                     term_tuplev(a, 3, A(a, "add_module"), term_atomz(a, p->mods[k]), term_nil()));
}

/* translate_apps - add_application, remove_application and restart_application into
 * add_module, remove, purge and apply (systools_rc:translate_application_instrs/3) */
static int translate_apps(struct arena *a, const struct term_vec *s,
                          const struct relfile_app *appls, size_t nappls,
                          const struct relfile_app *pre, size_t npre, struct term_vec *out)
{
    for (size_t k = 0; k < s->n; k++) {
        const struct term *i = s->v[k];
        if (is(i, "add_application", 3)) {
            const struct relfile_app *p = find_app(el(i, 1), appls, nappls);
            if (!p)
                return err("no_such_application", "application %s of %s is not in the release",
                           term_show(a, el(i, 1), 400), term_show(a, i, 400));
            app_add_modules(a, p, out);
            app_apply(a, el(i, 1), el(i, 2)->u.atom.name, out);
        } else if (is(i, "remove_application", 2)) {
            if (find_app(el(i, 1), appls, nappls))
                return err("removed_application_present",
                           "application %s is removed but still in the new release",
                           term_show(a, el(i, 1), 400));
            const struct relfile_app *p = find_app(el(i, 1), pre, npre);
            if (!p)
                return err("no_such_application", "application %s of %s is not in the release",
                           term_show(a, el(i, 1), 400), term_show(a, i, 400));
            app_stop_remove(a, el(i, 1), p, out);
            term_vec_add(a, out,
                         term_tuplev(a, 2, A(a, "apply"),
                                     term_tuplev(a, 3, A(a, "application"), A(a, "unload"),
                                                 term_listv(a, 1, el(i, 1)))));
        } else if (is(i, "restart_application", 2)) {
            const struct relfile_app *p = find_app(el(i, 1), pre, npre);
            const struct relfile_app *q = p ? find_app(el(i, 1), appls, nappls) : NULL;
            if (!p || !q)
                return err("no_such_application", "application %s of %s is not in both releases",
                           term_show(a, el(i, 1), 400), term_show(a, i, 400));
            app_stop_remove(a, el(i, 1), p, out);
            app_add_modules(a, q, out);
            app_apply(a, el(i, 1), q->type, out);
        } else {
            term_vec_add(a, out, i);
        }
    }
    return 0;
}

/* ---- instructions with dependencies ---- */

static bool is_dep(const struct term *i)
{
    return i->type == TERM_TUPLE && i->u.tuple.n > 1 &&
           (is(i, "update", i->u.tuple.n) || is(i, "load_module", i->u.tuple.n) ||
            is(i, "add_module", i->u.tuple.n) || is(i, "delete_module", i->u.tuple.n));
}

/* The dependency graph: vertex k is dependent instruction ins[k], for module mod[k]; an
 * edge k -> j says ins[k] lists mod[j] among its dependencies. The weak components are
 * numbered in order of their first vertex: cid[k] is k's, and members[cstart[c] ..
 * cstart[c + 1]) are component c's vertices in input order. */
struct graph {
    size_t n;
    const struct term **ins;
    const char **mod;
    size_t **out; /* out[k]: targets, nout[k] of them */
    size_t *nout;
    size_t *cid, ncomp, *cstart, *members;
};

static size_t find_root(size_t *p, size_t x)
{
    while (p[x] != x)
        x = p[x] = p[p[x]];
    return x;
}

/* A sorted index of names with their positions (ties in position order), so that a binary
 * search finds a name's first position as a scan would. */
struct name_ix {
    const char *name;
    size_t pos;
};

static int cmp_name_ix(const void *x, const void *y)
{
    const struct name_ix *p = x, *q = y;
    int c = strcmp(p->name, q->name);
    return c ? c : (p->pos > q->pos) - (p->pos < q->pos);
}

/* name_first - the first position of NAME in the N sorted entries IX, or SIZE_MAX */
static size_t name_first(const struct name_ix *ix, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first entry not below NAME */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && !strcmp(ix[lo].name, name) ? ix[lo].pos : SIZE_MAX;
}

/* weak_components - number the weak components by first vertex and list their members */
static void weak_components(struct arena *a, struct graph *g, size_t *parent)
{
    size_t n = g->n, *num = arena_alloc(a, (n + 1) * sizeof(size_t));
    g->cid = arena_alloc(a, (n + 1) * sizeof(size_t));
    g->ncomp = 0;
    for (size_t k = 0; k < n; k++)
        num[k] = SIZE_MAX; /* roots are numbered when first met */
    for (size_t k = 0; k < n; k++) {
        size_t r = find_root(parent, k);
        if (num[r] == SIZE_MAX)
            num[r] = g->ncomp++;
        g->cid[k] = num[r];
    }
    g->cstart = arena_alloc(a, (g->ncomp + 1) * sizeof(size_t));
    g->members = arena_alloc(a, (n + 1) * sizeof(size_t));
    for (size_t k = 0; k < n; k++)
        g->cstart[g->cid[k] + 1]++;
    for (size_t c = 0; c < g->ncomp; c++)
        g->cstart[c + 1] += g->cstart[c];
    size_t *fill = arena_memdup(a, g->cstart, (g->ncomp + 1) * sizeof(size_t));
    for (size_t k = 0; k < n; k++)
        g->members[fill[g->cid[k]]++] = k;
}

static int graph_make(struct arena *a, const struct term_vec *after, struct graph *g)
{
    g->n = 0;
    g->ins = arena_alloc(a, (after->n + 1) * sizeof *g->ins);
    g->mod = arena_alloc(a, (after->n + 1) * sizeof *g->mod);
    for (size_t k = 0; k < after->n; k++) {
        if (!is_dep(after->v[k]))
            continue;
        g->ins[g->n] = after->v[k];
        g->mod[g->n++] = el(after->v[k], 1)->u.atom.name;
    }
    size_t n = g->n;
    struct name_ix *ix = arena_alloc(a, (n + 1) * sizeof *ix);
    for (size_t k = 0; k < n; k++)
        ix[k] = (struct name_ix){g->mod[k], k};
    qsort(ix, n, sizeof *ix, cmp_name_ix);
    /* systools adds the vertices in order and fails at the first module met twice: the
     * earliest second occurrence of any module */
    size_t dup = n;
    for (size_t k = 1; k < n; k++)
        if (!strcmp(ix[k].name, ix[k - 1].name) && (k < 2 || strcmp(ix[k - 2].name, ix[k].name)) &&
            ix[k].pos < dup)
            dup = ix[k].pos;
    if (dup < n)
        return err("muldef_module", "module '%s' has more than one instruction", g->mod[dup]);
    g->out = arena_alloc(a, (n + 1) * sizeof *g->out);
    g->nout = arena_alloc(a, (n + 1) * sizeof *g->nout);
    size_t *parent = arena_alloc(a, (n + 1) * sizeof(size_t));
    for (size_t k = 0; k < n; k++)
        parent[k] = k;
    for (size_t k = 0; k < n; k++) {
        const struct term *i = g->ins[k];
        size_t nd;
        const struct term *const *deps = term_list_els(el(i, i->u.tuple.n - 1), &nd);
        g->out[k] = arena_alloc(a, (nd + 1) * sizeof(size_t));
        for (size_t d = 0; d < nd; d++) {
            size_t j = name_first(ix, n, deps[d]->u.atom.name);
            if (j == SIZE_MAX)
                return err("undef_module",
                           "module '%s' is a dependency of '%s' but has no instruction",
                           deps[d]->u.atom.name, g->mod[k]);
            g->out[k][g->nout[k]++] = j;
            parent[find_root(parent, k)] = find_root(parent, j);
        }
    }
    weak_components(a, g, parent);
    return 0;
}

/* Tarjan's strongly connected components of one weak component: vertices are local indices
 * 0..m-1 (mem[i] the graph vertex, local[mem[i]] = i). A component gets its number when it
 * is complete, after every component it reaches: edges go from higher numbers to lower. */
struct scc {
    const struct graph *g;
    const size_t *mem, *local;
    long *index, *low, counter;
    size_t *stack, sp, *sccid, nscc;
    bool *onstack;
};

static void scc_visit(struct scc *s, size_t v)
{
    s->index[v] = s->low[v] = s->counter++;
    s->stack[s->sp++] = v;
    s->onstack[v] = true;
    size_t gv = s->mem[v];
    for (size_t e = 0; e < s->g->nout[gv]; e++) {
        size_t w = s->local[s->g->out[gv][e]];
        if (s->index[w] < 0) {
            scc_visit(s, w);
            if (s->low[w] < s->low[v])
                s->low[v] = s->low[w];
        } else if (s->onstack[w] && s->index[w] < s->low[v]) {
            s->low[v] = s->index[w];
        }
    }
    if (s->low[v] == s->index[v]) {
        size_t w;
        do {
            w = s->stack[--s->sp];
            s->onstack[w] = false;
            s->sccid[w] = s->nscc;
        } while (w != v);
        s->nscc++;
    }
}

/* A reverse-postorder walk over the condensation with its edges closed transitively
 * (systools_rc's condensation/1 adds an edge to every reachable component; digraph_utils'
 * topsort walks it): each component's successors are visited in ORDER, and finished
 * components are appended to DONE, so the walk's result is DONE read backwards. */
struct post {
    const size_t *order; /* components in visiting order */
    size_t nc, words;
    const uint64_t *reach; /* bit j of row i: component j is reachable from component i */
    bool *visited;
    size_t *done, ndone;
};

static void post_visit(struct post *p, size_t v)
{
    p->visited[v] = true;
    const uint64_t *row = p->reach + v * p->words;
    for (size_t j = 0; j < p->nc; j++) {
        size_t w = p->order[j];
        if (!p->visited[w] && (row[w / 64] >> (w % 64) & 1))
            post_visit(p, w);
    }
    p->done[p->ndone++] = v;
}

/* dep_order - the instructions of one weak component (its M vertices MEM, in input order):
 * strong components in topological order (dependents before what they depend on), each in
 * input order. systools leaves the order of unrelated components to its digraph's hashing;
 * here the one with the earliest instruction goes first. */
static void dep_order(struct arena *a, const struct graph *g, const size_t *mem, size_t m,
                      size_t *local, struct term_vec *out)
{
    for (size_t i = 0; i < m; i++)
        local[mem[i]] = i;
    struct scc s = {g,
                    mem,
                    local,
                    arena_alloc(a, (m + 1) * sizeof(long)),
                    arena_alloc(a, (m + 1) * sizeof(long)),
                    0,
                    arena_alloc(a, (m + 1) * sizeof(size_t)),
                    0,
                    arena_alloc(a, (m + 1) * sizeof(size_t)),
                    0,
                    arena_alloc(a, m + 1)};
    for (size_t i = 0; i < m; i++)
        s.index[i] = -1;
    for (size_t i = 0; i < m; i++)
        if (s.index[i] < 0)
            scc_visit(&s, i);
    size_t nc = s.nscc, words = (nc + 63) / 64;
    /* the members of each strong component, in input order */
    size_t *sstart = arena_alloc(a, (nc + 1) * sizeof(size_t));
    size_t *smem = arena_alloc(a, (m + 1) * sizeof(size_t));
    for (size_t i = 0; i < m; i++)
        sstart[s.sccid[i] + 1]++;
    for (size_t c = 0; c < nc; c++)
        sstart[c + 1] += sstart[c];
    size_t *fill = arena_memdup(a, sstart, (nc + 1) * sizeof(size_t));
    for (size_t i = 0; i < m; i++)
        smem[fill[s.sccid[i]]++] = i;
    /* components in order of first instruction */
    size_t *corder = arena_alloc(a, (nc + 1) * sizeof(size_t));
    bool *seen = arena_alloc(a, nc + 1);
    size_t nseen = 0;
    for (size_t i = 0; i < m; i++)
        if (!seen[s.sccid[i]]) {
            seen[s.sccid[i]] = true;
            corder[nseen++] = s.sccid[i];
        }
    /* transitive closure: every successor of a component is numbered lower, so rows are
     * complete when taken in increasing order */
    uint64_t *reach = arena_alloc(a, (nc * words + 1) * sizeof(uint64_t));
    for (size_t c = 0; c < nc; c++) {
        uint64_t *row = reach + c * words;
        for (size_t x = sstart[c]; x < sstart[c + 1]; x++) {
            size_t gv = mem[smem[x]];
            for (size_t e = 0; e < g->nout[gv]; e++) {
                size_t d = s.sccid[local[g->out[gv][e]]];
                if (d == c)
                    continue;
                row[d / 64] |= (uint64_t)1 << (d % 64);
                const uint64_t *drow = reach + d * words;
                for (size_t w = 0; w <= d / 64; w++)
                    row[w] |= drow[w];
            }
        }
    }
    struct post p = {
        corder, nc, words, reach, arena_alloc(a, nc + 1), arena_alloc(a, (nc + 1) * sizeof(size_t)),
        0};
    for (size_t j = 0; j < nc; j++)
        if (!p.visited[corder[j]])
            post_visit(&p, corder[j]);
    for (size_t c = p.ndone; c-- > 0;)
        for (size_t x = sstart[p.done[c]]; x < sstart[p.done[c] + 1]; x++)
            term_vec_add(a, out, g->ins[mem[smem[x]]]);
}

/* Every module of the release's applications, sorted by name: position k is the k-th
 * module in release order, of application app[k] (a lookup finds the first application, as
 * a scan would). */
struct lib_index {
    struct name_ix *v;
    const struct relfile_app **app;
    size_t n;
};

static struct lib_index lib_index(struct arena *a, const struct relfile_app *v, size_t n)
{
    struct lib_index ix = {NULL, NULL, 0};
    for (size_t k = 0; k < n; k++)
        ix.n += v[k].nmods;
    ix.v = arena_alloc(a, (ix.n + 1) * sizeof *ix.v);
    ix.app = arena_alloc(a, (ix.n + 1) * sizeof *ix.app);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < v[k].nmods; j++, m++) {
            ix.v[m] = (struct name_ix){v[k].mods[j], m};
            ix.app[m] = &v[k];
        }
    qsort(ix.v, ix.n, sizeof *ix.v, cmp_name_ix);
    return ix;
}

/* get_lib - the application (name, vsn) whose modules include MOD */
static const struct relfile_app *get_lib(const struct term *mod, const struct lib_index *ix)
{
    size_t pos = name_first(ix->v, ix->n, mod->u.atom.name);
    return pos == SIZE_MAX ? NULL : ix->app[pos];
}

static void add_code_change(struct arena *a, const char *dir, const struct term_vec *mods,
                            struct term_vec *out)
{
    if (mods->n)
        term_vec_add(a, out,
                     term_tuplev(a, 3, A(a, "code_change"), A(a, dir), term_vec_list(a, mods)));
}

/* dep_to_low - systools_rc:translate_dep_to_low/3 for one ordered group */
static int dep_to_low(struct arena *a, struct arena *tmp, enum rc_mode mode,
                      const struct term_vec *ins, const struct lib_index *libs,
                      struct term_vec *before, struct term_vec *after)
{
    struct term_vec susp = {0}, res = {0}, lr = {0}, cc = {0}, pre = {0}, post = {0};
    size_t *lr_start = arena_alloc(tmp, (ins->n + 1) * sizeof(size_t));
    const struct term *bp = A(a, "brutal_purge");
    for (size_t k = 0; k < ins->n; k++) {
        const struct term *i = ins->v[k];
        lr_start[k] = lr.n;
        if (is(i, "update", 8)) {
            const struct term *m = el(i, 1), *t = el(i, 3), *ch = el(i, 4);
            term_vec_add(tmp, &susp, term_is_atom(t, "default") ? m : term_tuplev(a, 2, m, t));
            term_vec_add(tmp, &lr,
                         term_tuplev(a, 2, A(a, "load"), term_tuplev(a, 3, m, el(i, 5), el(i, 6))));
            if (is(ch, "advanced", 2)) {
                const struct term *me = term_tuplev(a, 2, m, el(ch, 1));
                term_vec_add(tmp, &cc, me);
                if (term_is_atom(el(i, 2), "dynamic"))
                    term_vec_add(tmp, &pre, me);
                else if (term_is_atom(el(i, 2), "static"))
                    term_vec_add(tmp, &post, me);
            }
        } else if (is(i, "load_module", 5)) {
            term_vec_add(
                tmp, &lr,
                term_tuplev(a, 2, A(a, "load"), term_tuplev(a, 3, el(i, 1), el(i, 2), el(i, 3))));
        } else if (is(i, "delete_module", 3)) {
            term_vec_add(tmp, &lr,
                         term_tuplev(a, 2, A(a, "remove"), term_tuplev(a, 3, el(i, 1), bp, bp)));
            term_vec_add(tmp, &lr, term_tuplev(a, 2, A(a, "purge"), term_listv(a, 1, el(i, 1))));
        }
    }
    lr_start[ins->n] = lr.n;
    for (size_t k = susp.n; k-- > 0;)
        term_vec_add(tmp, &res, term_is_tuple(susp.v[k], 2) ? el(susp.v[k], 0) : susp.v[k]);
    for (size_t k = 0; k < lr.n; k++) {
        if (!is(lr.v[k], "load", 2))
            continue;
        const struct term *m = el(el(lr.v[k], 1), 0);
        const struct relfile_app *p = get_lib(m, libs);
        if (!p)
            return err("no_such_module", "module %s is in no application of the release",
                       term_show(a, m, 400));
        term_vec_add(a, before,
                     term_tuplev(a, 2, A(a, "load_object_code"),
                                 term_tuplev(a, 3, term_atomz(a, p->name), p->vsn_term,
                                             term_listv(a, 1, m))));
    }
    if (susp.n)
        term_vec_add(a, after, term_tuplev(a, 2, A(a, "suspend"), term_vec_list(a, &susp)));
    if (mode == RC_UP) {
        /* loaded in reverse dependency order: what others depend on first */
        for (size_t k = ins->n; k-- > 0;)
            for (size_t j = lr_start[k]; j < lr_start[k + 1]; j++)
                term_vec_add(a, after, lr.v[j]);
        add_code_change(a, "up", &cc, after);
    } else {
        add_code_change(a, "down", &pre, after);
        tv_cat(a, after, &lr);
        add_code_change(a, "down", &post, after);
    }
    if (res.n)
        term_vec_add(a, after, term_tuplev(a, 2, A(a, "resume"), term_vec_list(a, &res)));
    return 0;
}

/* translate_deps - systools_rc:translate_dependent_instrs/4 */
static int translate_deps(struct arena *a, enum rc_mode mode, const struct term_vec *after_in,
                          const struct relfile_app *appls, size_t nappls, struct term_vec *before,
                          struct term_vec *after)
{
    struct graph g;
    if (graph_make(a, after_in, &g) != 0)
        return -1;
    struct lib_index libs = lib_index(a, appls, nappls);
    bool *done = arena_alloc(a, g.ncomp + 1);
    /* each group's ordering and lists are garbage once its instructions are out */
    struct arena tmp;
    arena_init(&tmp);
    size_t *local = arena_alloc(a, (g.n + 1) * sizeof(size_t));
    size_t v = 0; /* the vertices are the dependent instructions in order */
    for (size_t k = 0; k < after_in->n; k++) {
        const struct term *i = after_in->v[k];
        if (!is_dep(i)) {
            term_vec_add(a, after, i);
            continue;
        }
        size_t c = g.cid[v++];
        if (done[c])
            continue;
        done[c] = true;
        struct term_vec group = {0};
        dep_order(&tmp, &g, g.members + g.cstart[c], g.cstart[c + 1] - g.cstart[c], local, &group);
        int rc = dep_to_low(a, &tmp, mode, &group, &libs, before, after);
        arena_reset(&tmp);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- load_object_code merging and emulator restarts ---- */

/* An element of one library's load_object_code lists: ENTRY is the list's place in the
 * library's run of entries, POS its place in that list. */
struct loc_el {
    const struct term *t;
    size_t entry, pos;
};

static int cmp_loc_el(const void *x, const void *y)
{
    const struct loc_el *p = x, *q = y;
    int c = term_compare(p->t, q->t);
    if (c)
        return c;
    return p->entry != q->entry ? (p->entry > q->entry) - (p->entry < q->entry)
                                : (p->pos > q->pos) - (p->pos < q->pos);
}

/* union_all - systools_rc's foldr of union/2 over the module lists LISTS[0 .. n) of one
 * library (mlo/1): union(X, L) keeps the elements of X not in L before L, so an element of
 * list r stays iff no later list holds it (=:=), and the kept elements come out in list
 * order. Found by sorting, not by a scan per element (quadratic in time and, with lists as
 * arrays, in memory). */
static const struct term *union_all(struct arena *a, const struct term *const *lists, size_t n)
{
    size_t total = 0;
    for (size_t r = 0; r < n; r++)
        total += (size_t)term_list_len(lists[r]);
    struct loc_el *e = arena_alloc_raw(a, (total + 1) * sizeof *e);
    size_t m = 0;
    for (size_t r = 0; r < n; r++) {
        size_t k;
        const struct term *const *v = term_list_els(lists[r], &k);
        for (size_t j = 0; j < k; j++)
            e[m++] = (struct loc_el){v[j], r, j};
    }
    qsort(e, m, sizeof *e, cmp_loc_el);
    /* drop[list][pos]: flattened by list start */
    size_t *start = arena_alloc(a, (n + 1) * sizeof(size_t));
    for (size_t r = 0; r < n; r++)
        start[r + 1] = start[r] + (size_t)term_list_len(lists[r]);
    bool *drop = arena_alloc(a, total + 1);
    for (size_t i = 0; i < m;) {
        size_t end = i + 1; /* a run that compares equal (==); =:= decides within it */
        while (end < m && term_compare(e[end].t, e[i].t) == 0)
            end++;
        for (size_t x = i; x < end; x++)
            for (size_t y = end; y-- > x + 1 && e[y].entry > e[x].entry;)
                if (term_equal(e[x].t, e[y].t)) {
                    drop[start[e[x].entry] + e[x].pos] = true;
                    break;
                }
        i = end;
    }
    const struct term **out = arena_alloc_raw(a, (total + 1) * sizeof *out);
    size_t no = 0;
    for (size_t r = 0; r < n; r++) {
        size_t k;
        const struct term *const *v = term_list_els(lists[r], &k);
        for (size_t j = 0; j < k; j++)
            if (!drop[start[r] + j])
                out[no++] = v[j];
    }
    return term_list(a, out, no, term_nil());
}

struct loc_ref {
    const struct term *lib;
    size_t idx;
};

static int cmp_loc_ref(const void *x, const void *y)
{
    const struct loc_ref *p = x, *q = y;
    int c = term_compare(p->lib, q->lib);
    return c ? c : (p->idx > q->idx) - (p->idx < q->idx);
}

/* merge_loc - one load_object_code per library, in first-seen order, first in Before. The
 * entries of one library are found by sorting (systools scans the rest of the list for
 * each library, which is quadratic in the number of modules loaded). */
static int merge_loc(struct arena *a, const struct term_vec *before, struct term_vec *out)
{
    struct term_vec loc = {0};
    for (size_t k = 0; k < before->n; k++)
        if (is(before->v[k], "load_object_code", 2))
            term_vec_add(a, &loc, before->v[k]);
    size_t n = loc.n;
    struct loc_ref *ref = arena_alloc(a, (n + 1) * sizeof *ref);
    for (size_t k = 0; k < n; k++)
        ref[k] = (struct loc_ref){el(el(loc.v[k], 1), 0), k};
    qsort(ref, n, sizeof *ref, cmp_loc_ref);
    /* group[k]: where entry k's library starts in REF, for its first entry; SIZE_MAX else */
    size_t *group = arena_alloc(a, (n + 1) * sizeof *group);
    for (size_t k = 0; k < n; k++)
        group[k] = SIZE_MAX;
    for (size_t r = 0; r < n; r++)
        if (r == 0 || term_compare(ref[r - 1].lib, ref[r].lib) != 0)
            group[ref[r].idx] = r;
    for (size_t k = 0; k < n; k++) {
        if (group[k] == SIZE_MAX)
            continue;
        size_t first = group[k], end = first + 1;
        while (end < n && term_compare(ref[end].lib, ref[first].lib) == 0)
            end++;
        const struct term *x = el(loc.v[k], 1);
        /* systools' split/2 tests the list from its end, so the last conflict is reported */
        for (size_t r = end; r-- > first + 1;) {
            const struct term *y = el(loc.v[ref[r].idx], 1);
            if (term_compare(el(x, 1), el(y, 1)) != 0)
                return err("conflicting_versions", "conflicting versions %s and %s of library %s",
                           term_show(a, el(x, 1), 400), term_show(a, el(y, 1), 400),
                           term_show(a, el(x, 0), 400));
        }
        const struct term **lists = arena_alloc_raw(a, (end - first) * sizeof *lists);
        for (size_t r = first; r < end; r++)
            lists[r - first] = el(el(loc.v[ref[r].idx], 1), 2);
        const struct term *acc = union_all(a, lists, end - first);
        term_vec_add(
            a, out, term_tuplev(a, 2, el(loc.v[k], 0), term_tuplev(a, 3, el(x, 0), el(x, 1), acc)));
    }
    for (size_t k = 0; k < before->n; k++)
        if (!is(before->v[k], "load_object_code", 2))
            term_vec_add(a, out, before->v[k]);
    return 0;
}

static bool drop_atom(struct arena *a, const struct term_vec *in, const char *name,
                      struct term_vec *out)
{
    bool dropped = false;
    for (size_t k = 0; k < in->n; k++) {
        if (term_is_atom(in->v[k], name))
            dropped = true;
        else
            term_vec_add(a, out, in->v[k]);
    }
    return dropped;
}

/* sort_restart - restart_new_emulator first when upgrading (a restart_emulator last when
 * downgrading); any restart_emulator moved to the very end */
static void sort_restart(struct arena *a, enum rc_mode mode, struct term_vec *before,
                         struct term_vec *after)
{
    struct term_vec a1 = {0}, a2 = {0};
    if (drop_atom(a, after, "restart_new_emulator", &a1)) {
        if (mode == RC_UP) {
            struct term_vec b = {0};
            term_vec_add(a, &b, A(a, "restart_new_emulator"));
            tv_cat(a, &b, before);
            *before = b;
        } else {
            term_vec_add(a, &a1, A(a, "restart_emulator"));
        }
    }
    if (drop_atom(a, &a1, "restart_emulator", &a2))
        term_vec_add(a, &a2, A(a, "restart_emulator"));
    *after = a2;
}

/* ---- the whole translation ---- */

static int to_tv(struct arena *a, const struct term *l, struct term_vec *out)
{
    if (!term_is_list(l))
        return err("function_clause", "instruction list %s is not a list", term_show(a, l, 400));
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    for (size_t k = 0; k < n; k++)
        term_vec_add(a, out, e[k]);
    return 0;
}

/* ---- the result, out of the scratch arena ---- */

/* Atoms met while copying a result, by name (open addressing; a power of two of slots). */
struct atom_tab {
    const struct term **slot;
    size_t cap, n;
};

static uint64_t name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t k = 0; k < n; k++)
        h = (h ^ (unsigned char)s[k]) * 1099511628211u;
    return h;
}

/* keep_atom - one copy in KEEP per distinct atom; the fixed atoms are shared as they are */
static const struct term *keep_atom(struct arena *keep, struct atom_tab *tab, const struct term *t)
{
    const struct term *end = fixed_atoms + sizeof fixed_atoms / sizeof *fixed_atoms;
    if (t >= fixed_atoms && t < end)
        return t;
    if (2 * (tab->n + 1) > tab->cap) {
        struct atom_tab b = {xcalloc(tab->cap ? 2 * tab->cap : 256, sizeof *b.slot),
                             tab->cap ? 2 * tab->cap : 256, 0};
        for (size_t k = 0; k < tab->cap; k++)
            if (tab->slot[k]) {
                const struct term *x = tab->slot[k];
                size_t i = name_hash(x->u.atom.name, x->u.atom.len) & (b.cap - 1);
                while (b.slot[i])
                    i = (i + 1) & (b.cap - 1);
                b.slot[i] = x;
                b.n++;
            }
        free(tab->slot);
        *tab = b;
    }
    size_t i = name_hash(t->u.atom.name, t->u.atom.len) & (tab->cap - 1);
    for (; tab->slot[i]; i = (i + 1) & (tab->cap - 1))
        if (tab->slot[i]->u.atom.len == t->u.atom.len &&
            !memcmp(tab->slot[i]->u.atom.name, t->u.atom.name, t->u.atom.len))
            return tab->slot[i];
    tab->n++;
    return tab->slot[i] = term_copy(keep, t);
}

/* keep_copy - T copied into KEEP: lists and tuples rebuilt, atoms once per name, anything
 * else deep-copied (term_copy) */
static const struct term *keep_copy(struct arena *keep, struct atom_tab *tab, const struct term *t)
{
    switch ((enum term_type)t->type) {
    case TERM_ATOM:
        return keep_atom(keep, tab, t);
    case TERM_NIL: /* the parser's [] may live in the arena being left */
        return term_nil();
    case TERM_TUPLE:
    case TERM_LIST: {
        bool tuple = t->type == TERM_TUPLE;
        size_t n = tuple ? t->u.tuple.n : t->u.list.n;
        const struct term *const *el = tuple ? t->u.tuple.el : t->u.list.el;
        const struct term **v = arena_alloc_raw(keep, (n + 1) * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = keep_copy(keep, tab, el[i]);
        struct term *c = arena_alloc(keep, sizeof *c);
        *c = *t;
        if (tuple) {
            c->u.tuple.el = v;
        } else {
            c->u.list.el = v;
            c->u.list.tail = keep_copy(keep, tab, t->u.list.tail);
        }
        return c;
    }
    default:
        return term_copy(keep, t);
    }
}

static const struct term *translate(struct arena *a, enum rc_mode mode, const struct term *scripts,
                                    const struct relfile_app *appls, size_t nappls,
                                    const struct relfile_app *pre, size_t npre);

/* The translation's intermediate lists and instructions (several times the size of the
 * result) live in a scratch arena that is gone when it returns: only the result is kept. */
const struct term *rc_translate_scripts(struct arena *a, enum rc_mode mode,
                                        const struct term *scripts, const struct relfile_app *appls,
                                        size_t nappls, const struct relfile_app *pre, size_t npre)
{
    struct arena s;
    arena_init(&s);
    const struct term *r = translate(&s, mode, scripts, appls, nappls, pre, npre);
    struct atom_tab tab = {NULL, 0, 0};
    if (r)
        r = keep_copy(a, &tab, r);
    free(tab.slot);
    arena_close(&s);
    return r;
}

static const struct term *translate(struct arena *a, enum rc_mode mode, const struct term *scripts,
                                    const struct relfile_app *appls, size_t nappls,
                                    const struct relfile_app *pre, size_t npre)
{
    struct term_vec list = {0}, b = {0}, af = {0}, merged = {0}, norm = {0};
    if (to_tv(a, scripts, &list) != 0)
        return NULL;
    struct term_vec *ex = arena_alloc(a, (list.n + 1) * sizeof *ex);
    for (size_t k = 0; k < list.n; k++) {
        struct term_vec raw = {0};
        if (to_tv(a, list.v[k], &raw) != 0)
            return NULL;
        for (size_t j = 0; j < raw.n; j++)
            expand_one(a, raw.v[j], &ex[k]);
    }
    for (size_t k = 0; k < list.n; k++)
        if (split_script(a, &ex[k], &b, &af) != 0)
            return NULL;
    tv_cat(a, &merged, &b);
    term_vec_add(a, &merged, A(a, "point_of_no_return"));
    tv_cat(a, &merged, &af);
    if (check_tv(a, &merged) != 0)
        return NULL;
    for (size_t k = 0; k < merged.n; k++)
        term_vec_add(a, &norm, normalize(a, merged.v[k]));
    struct term_vec before = {0}, after = {0}, apps = {0}, after2 = {0}, before2 = {0}, final = {0};
    if (split_script(a, &norm, &before, &after) != 0 || check_script(a, &before, &after) != 0)
        return NULL;
    if (translate_apps(a, &after, appls, nappls, pre, npre, &apps) != 0)
        return NULL;
    for (size_t k = 0; k < apps.n; k++) {
        const struct term *i = apps.v[k];
        if (is(i, "add_module", 3)) {
            const struct term *bp = A(a, "brutal_purge");
            i = term_tuplev(a, 5, A(a, "load_module"), el(i, 1), bp, bp, el(i, 2));
        }
        apps.v[k] = i;
    }
    tv_cat(a, &before2, &before);
    if (translate_deps(a, mode, &apps, appls, nappls, &before2, &after2) != 0)
        return NULL;
    if (merge_loc(a, &before2, &final) != 0)
        return NULL;
    sort_restart(a, mode, &final, &after2);
    term_vec_add(a, &final, A(a, "point_of_no_return"));
    tv_cat(a, &final, &after2);
    if (check_tv(a, &final) != 0)
        return NULL;
    return term_vec_list(a, &final);
}
