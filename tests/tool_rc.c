/* tool_rc.c - test helper: run knit's systools_rc port on appup entries listed in a job file
 *
 * usage: tool_rc JOBS OUT
 * JOBS holds terms {Id, AppupFile, up | dn, Index, Appls, PreAppls} with Appls a list of
 * {Name, Vsn, Type, [Mod]}; the Index-th {Vsn, Instrs} entry of the appup's up or down list
 * (the appup read as knit reads it: first term only) is translated with rc_translate_scripts.
 * OUT gets {Id, {ok, Script}} or {Id, {error, Kind}} per job, Kind the systools_rc reason.
 * Written by tests/otp/relup_diff.escript, which compares with systools_rc itself. */
#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "rc.h"
#include "relfile.h"
#include "term_parse.h"
#include "term_print.h"

#include <stdio.h>
#include <string.h>

static struct relfile_app *apps_of(struct arena *a, const struct term *l, size_t *n)
{
    const struct term *const *e = term_list_els(l, n);
    struct relfile_app *v = arena_alloc(a, (*n + 1) * sizeof *v);
    for (size_t k = 0; k < *n; k++) {
        const struct term *t = e[k];
        v[k].name = t->u.tuple.el[0]->u.atom.name;
        v[k].vsn_term = t->u.tuple.el[1];
        v[k].vsn = term_charlist(a, t->u.tuple.el[1]);
        v[k].type = t->u.tuple.el[2]->u.atom.name;
        size_t nm;
        const struct term *const *m = term_list_els(t->u.tuple.el[3], &nm);
        v[k].mods = arena_alloc(a, (nm + 1) * sizeof(char *));
        v[k].nmods = nm;
        for (size_t j = 0; j < nm; j++)
            v[k].mods[j] = m[j]->u.atom.name;
    }
    return v;
}

static const struct term *error_kind(struct arena *a, const char *fallback)
{
    const char *msg = kerr_get()->msg, *p = NULL, *q;
    for (q = strstr(msg, "(systools_"); q; q = strstr(q + 1, "(systools_"))
        p = q;
    if (!p || !(p = strchr(p, ' ')))
        return term_atomz(a, fallback);
    p++;
    q = strchr(p, ')');
    return term_atom(a, p, q ? (size_t)(q - p) : strlen(p));
}

static const struct term *run_job(struct arena *a, const struct term *job)
{
    const struct term *const *el = job->u.tuple.el;
    char *file = term_charlist(a, el[1]);
    const struct term *t = relfile_read_first_term(a, file, NULL);
    if (!t || !term_is_tuple(t, 3))
        return term_tuplev(a, 2, term_atomz(a, "error"), term_atomz(a, "unreadable_appup"));
    const struct term *l = t->u.tuple.el[term_is_atom(el[2], "up") ? 1 : 2];
    size_t n;
    const struct term *const *e = term_list_els(l, &n);
    int64_t idx = el[3]->u.i;
    if (idx < 1 || (size_t)idx > n || !term_is_tuple(e[idx - 1], 2))
        return term_tuplev(a, 2, term_atomz(a, "error"), term_atomz(a, "no_such_entry"));
    size_t na, np;
    struct relfile_app *appls = apps_of(a, el[4], &na);
    struct relfile_app *pre = apps_of(a, el[5], &np);
    enum rc_mode mode = term_is_atom(el[2], "up") ? RC_UP : RC_DN;
    const struct term *scripts = term_listv(a, 1, e[idx - 1]->u.tuple.el[1]);
    const struct term *s = rc_translate_scripts(a, mode, scripts, appls, na, pre, np);
    if (!s)
        return term_tuplev(a, 2, term_atomz(a, "error"), error_kind(a, "unknown"));
    return term_tuplev(a, 2, term_atomz(a, "ok"), s);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tool_rc JOBS OUT\n");
        return 1;
    }
    struct arena a;
    arena_init(&a);
    const struct term *jobs = term_consult_file(&a, argv[1]);
    if (!jobs) {
        char msg[4096];
        kerr_format(kerr_get(), msg, sizeof msg);
        fprintf(stderr, "tool_rc: %s\n", msg);
        return 2;
    }
    size_t n;
    const struct term *const *e = term_list_els(jobs, &n);
    const struct term **res = arena_alloc(&a, (n + 1) * sizeof *res);
    for (size_t k = 0; k < n; k++)
        res[k] = term_tuplev(&a, 2, e[k]->u.tuple.el[0], run_job(&a, e[k]));
    struct buf out = BUF_INIT;
    term_print_file_terms(&out, term_list(&a, res, n, term_nil()));
    int rc = fs_write_atomic(argv[2], out.p ? out.p : "", out.len, 0644) == 0 ? 0 : 3;
    buf_free(&out);
    arena_close(&a);
    return rc;
}
