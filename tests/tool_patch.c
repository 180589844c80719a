/* tool_patch.c - test helper: plan hot patches with knit (patch_make_plan) for jobs in a file
 *
 * usage: tool_patch JOBS OUT
 * JOBS holds terms {Id, NewDir, OldDir, Add}: the beams of NewDir patched onto a node where the
 * modules of OldDir's beams are loaded (with their md5s) and no others. OUT gets per job
 * {Id, {ok, PatchId, Mods, High, Low}} or {Id, {error, Message}}. Written for
 * tests/otp/patch_diff.escript, which translates High with systools_rc itself and compares
 * with Low. */
#include "beam.h"
#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "patch.h"
#include "term_parse.h"
#include "term_print.h"

#include <stdio.h>
#include <string.h>

static const struct term *run_job(struct arena *a, const struct term *job)
{
    const struct term *const *el = job->u.tuple.el;
    char *nw = term_charlist(a, el[1]), *old = term_charlist(a, el[2]);
    bool add = term_is_atom(el[3], "true");
    struct patch_beam *b, *ob;
    size_t n, on;
    const struct term *err = NULL;
    if (patch_read_beams(a, &nw, 1, &b, &n) != 0 || patch_read_beams(a, &old, 1, &ob, &on) != 0)
        goto fail;
    const uint8_t **loaded = arena_alloc(a, (n + 1) * sizeof *loaded);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < on; j++)
            if (!strcmp(b[k].module, ob[j].module))
                loaded[k] = ob[j].md5;
    const char *id = patch_id(a, b, n, 0);
    struct patch_plan p;
    if (patch_make_plan(a, id, b, n, loaded, add, NULL, &p) != 0)
        goto fail;
    const struct term **mods = arena_alloc(a, (p.nmods + 1) * sizeof *mods);
    for (size_t k = 0; k < p.nmods; k++)
        mods[k] = term_atomz(a, p.mods[k]->module);
    return term_tuplev(a, 5, term_atomz(a, "ok"), term_stringz(a, id),
                       term_list(a, mods, p.nmods, term_nil()), p.high, p.low);
fail:;
    char msg[4096];
    kerr_format(kerr_get(), msg, sizeof msg);
    err = term_stringz(a, msg);
    return term_tuplev(a, 2, term_atomz(a, "error"), err);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tool_patch JOBS OUT\n");
        return 1;
    }
    struct arena a;
    arena_init(&a);
    const struct term *jobs = term_consult_file(&a, argv[1]);
    if (!jobs) {
        char msg[4096];
        kerr_format(kerr_get(), msg, sizeof msg);
        fprintf(stderr, "tool_patch: %s\n", msg);
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
