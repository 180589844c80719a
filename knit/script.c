/* script.c - make boot scripts from a release, as OTP's systools_make does */
#include "script.h"

#include "buf.h"
#include "etf.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "term_parse.h"
#include "term_print.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- learning the OTP side from start_clean.script ---- */

static bool file_p(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* find_start_clean - ROOT/releases/VSN/start_clean.script for the release start_erl.data
 * names, else the first (in name order) releases/ entry that has one; NULL if none */
static const char *find_start_clean(struct arena *a, const char *root)
{
    size_t len;
    const char *erl_data = arena_sprintf(a, "%s/releases/start_erl.data", root);
    if (file_p(erl_data)) {
        char *text = fs_read_file(a, erl_data, &len);
        char erts[256], vsn[256];
        if (text && sscanf(text, "%255s %255s", erts, vsn) == 2) {
            const char *p = arena_sprintf(a, "%s/releases/%s/start_clean.script", root, vsn);
            if (file_p(p))
                return p;
        }
        kerr_clear();
    }
    const char *rel_dir = arena_sprintf(a, "%s/releases", root);
    DIR *dh = opendir(rel_dir);
    if (!dh)
        return NULL;
    size_t n = 0, cap = 16;
    const char **names = xmalloc(cap * sizeof *names);
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap)
            names = xrealloc(names, (cap *= 2) * sizeof *names);
        names[n++] = arena_strdup(a, de->d_name);
    }
    closedir(dh);
    qsort(names, n, sizeof *names, cmp_cstr);
    const char *found = NULL;
    for (size_t i = 0; i < n && !found; i++) {
        const char *p = arena_sprintf(a, "%s/%s/start_clean.script", rel_dir, names[i]);
        if (file_p(p))
            found = p;
    }
    free(names);
    return found;
}

/* atom_list_p - a proper list of atoms */
static bool atom_list_p(const struct term *t)
{
    size_t n;
    if (!term_is_list(t))
        return false;
    const struct term *const *el = term_list_els(t, &n);
    for (size_t i = 0; i < n; i++)
        if (el[i]->type != TERM_ATOM)
            return false;
    return true;
}

/* kernel_args_p - ARGS is [{application, kernel, _}], as systools' application_controller
 * kernel process takes it */
static bool kernel_args_p(const struct term *args)
{
    if (term_list_len(args) != 1)
        return false;
    const struct term *e = args->u.list.el[0];
    return term_is_tagged(e, "application", 3) && term_is_atom(e->u.tuple.el[1], "kernel");
}

/* learn - pick the OTP-specific parts out of the instructions of a systools-made script */
static int learn(struct arena *a, const char *file, const struct term *instrs,
                 struct script_otp *out)
{
    size_t n;
    const struct term *const *el = term_list_els(instrs, &n);
    const struct term *last_prim = NULL;
    out->procs = arena_alloc(a, (n + 1) * sizeof *out->procs);
    out->procs_kernel = arena_alloc(a, (n + 1) * sizeof *out->procs_kernel);
    for (size_t i = 0; i < n; i++) {
        const struct term *e = el[i];
        if (term_is_tagged(e, "preLoaded", 2) && !out->preloaded) {
            if (!atom_list_p(e->u.tuple.el[1]))
                break;
            out->preloaded = e->u.tuple.el[1];
        } else if (term_is_tagged(e, "primLoad", 2)) {
            last_prim = e->u.tuple.el[1];
        } else if (term_is_tagged(e, "kernel_load_completed", 1) && !out->mandatory) {
            out->mandatory = last_prim;
        } else if (term_is_tagged(e, "kernelProcess", 3)) {
            const struct term *mfa = e->u.tuple.el[2];
            if (!term_is_tuple(mfa, 3) || !term_is_list(mfa->u.tuple.el[2]))
                break;
            out->procs_kernel[out->nprocs] = kernel_args_p(mfa->u.tuple.el[2]);
            out->procs[out->nprocs++] = e;
        }
    }
    if (!out->preloaded || !out->mandatory || !atom_list_p(out->mandatory) || out->nprocs == 0)
        return kerr_set(KERR_UNSUPPORTED, file, 0, 0,
                        "boot script has no preLoaded, mandatory primLoad or kernelProcess "
                        "instructions to learn this OTP's boot sequence from");
    return 0;
}

int script_learn_otp(struct arena *a, const char *root, struct script_otp *out)
{
    memset(out, 0, sizeof *out);
    const char *file = find_start_clean(a, root);
    if (!file)
        return kerr_set(KERR_UNSUPPORTED, NULL, 0, 0,
                        "no start_clean.script under '%s/releases' to learn this OTP's boot "
                        "sequence from",
                        root);
    const struct term *terms = term_consult_file(a, file);
    if (!terms)
        return -1;
    if (term_list_len(terms) < 1 || !term_is_tagged(terms->u.list.el[0], "script", 3) ||
        !term_is_list(terms->u.list.el[0]->u.tuple.el[2]))
        return kerr_set(KERR_UNSUPPORTED, file, 0, 0,
                        "boot script is not {script, {Name, Vsn}, [Instruction]}");
    return learn(a, file, terms->u.list.el[0]->u.tuple.el[2], out);
}

/* ---- application specs ---- */

/* dict_val - the value V of the first {KEY, V} in the .app dictionary DICT, or NULL */
static const struct term *dict_val(const struct term *dict, const char *key)
{
    size_t n;
    const struct term *const *el = term_list_els(dict, &n);
    for (size_t i = 0; i < n; i++)
        if (el[i]->type == TERM_TUPLE && el[i]->u.tuple.n == 2 &&
            term_is_atom(el[i]->u.tuple.el[0], key))
            return el[i]->u.tuple.el[1];
    return NULL;
}

static const struct term *atoms(struct arena *a, const char *const *names, size_t n)
{
    const struct term **el = arena_alloc(a, (n + 1) * sizeof *el);
    for (size_t i = 0; i < n; i++)
        el[i] = term_atomz(a, names[i]);
    return term_list(a, el, n, term_nil());
}

static const struct term *kv(struct arena *a, const char *key, const struct term *v)
{
    return term_tuplev(a, 2, term_atomz(a, key), v);
}

/* or_default - V, or the default systools_make:check_item/2 gives a missing item */
static const struct term *or_default(struct arena *a, const struct term *v, const char *dflt)
{
    if (v)
        return v;
    return dflt ? term_atomz(a, dflt) : term_nil();
}

const struct term *script_app_spec(struct arena *a, const struct relfile_app *app)
{
    const struct term *dict = app->app->u.tuple.el[2];
    const struct term *el[13];
    size_t n = 0;
    el[n++] = kv(a, "description", or_default(a, dict_val(dict, "description"), NULL));
    el[n++] = kv(a, "vsn", app->vsn_term);
    el[n++] = kv(a, "id", or_default(a, dict_val(dict, "id"), NULL));
    el[n++] = kv(a, "modules", atoms(a, app->mods, app->nmods));
    el[n++] = kv(a, "registered", atoms(a, app->regs, app->nregs));
    el[n++] = kv(a, "applications", atoms(a, app->uses, app->nuses));
    el[n++] = kv(a, "optional_applications", atoms(a, app->optional, app->noptional));
    el[n++] = kv(a, "included_applications", atoms(a, app->incls, app->nincls));
    el[n++] = kv(a, "env", or_default(a, dict_val(dict, "env"), NULL));
    el[n++] = kv(a, "maxT", or_default(a, dict_val(dict, "maxT"), "infinity"));
    el[n++] = kv(a, "maxP", or_default(a, dict_val(dict, "maxP"), "infinity"));
    /* behave/1: start_phases and mod only when they differ from their defaults */
    const struct term *phases = dict_val(dict, "start_phases");
    if (phases && !term_is_atom(phases, "undefined"))
        el[n++] = kv(a, "start_phases", phases);
    const struct term *mod = dict_val(dict, "mod");
    if (mod && mod->type != TERM_NIL)
        el[n++] = kv(a, "mod", mod);
    return term_tuplev(a, 3, term_atomz(a, "application"), term_atomz(a, app->name),
                       term_list(a, el, n, term_nil()));
}

/* ---- the script ---- */

/* cr_path - systools_make:cr_path/5 with the default path flag and no variables:
 * filename:join(["$ROOT", "lib", Name ++ "-" ++ Vsn, "ebin"]), whose only effect on such
 * parts is to collapse repeated and drop trailing slashes */
static const char *cr_path(struct arena *a, const struct relfile_app *app)
{
    const char *raw = arena_sprintf(a, "$ROOT/lib/%s-%s/ebin", app->name, app->vsn);
    char *s = arena_strdup(a, raw);
    size_t k = 0;
    for (size_t i = 0; raw[i]; i++)
        if (raw[i] != '/' || k == 0 || s[k - 1] != '/')
            s[k++] = raw[i];
    while (k > 1 && s[k - 1] == '/')
        k--;
    s[k] = 0;
    return s;
}

/* path_set_add - add DIR to the path list unless it is there (systools_make:make_set/1) */
static void path_set_add(struct arena *a, struct term_vec *l, const char *dir)
{
    const struct term *t = term_stringz(a, dir);
    for (size_t i = 0; i < l->n; i++)
        if (term_equal(l->v[i], t))
            return;
    term_vec_add(a, l, t);
}

static const struct term *tag1(struct arena *a, const char *tag)
{
    return term_tuplev(a, 1, term_atomz(a, tag));
}

static const struct term *tag2(struct arena *a, const char *tag, const struct term *v)
{
    return term_tuplev(a, 2, term_atomz(a, tag), v);
}

static const struct term *progress(struct arena *a, const char *what)
{
    return tag2(a, "progress", term_atomz(a, what));
}

/* apply - {apply, {M, F, Args}} */
static const struct term *apply(struct arena *a, const char *m, const char *f,
                                const struct term *args)
{
    return tag2(a, "apply", term_tuplev(a, 3, term_atomz(a, m), term_atomz(a, f), args));
}

static bool atom_in(const struct term *list, const char *name)
{
    size_t n;
    const struct term *const *el = term_list_els(list, &n);
    for (size_t i = 0; i < n; i++)
        if (term_is_atom(el[i], name))
            return true;
    return false;
}

static int cmp_term(const void *x, const void *y)
{
    return term_compare(*(const struct term *const *)x, *(const struct term *const *)y);
}

/* load_appl_mods - {path, [Dir]} and {primLoad, sorted modules} per application, leaving
 * out the mandatory and preloaded modules */
static void load_appl_mods(struct arena *a, const struct relfile_release *rel,
                           const struct script_otp *otp, struct term_vec *out)
{
    for (size_t i = 0; i < rel->napps; i++) {
        const struct relfile_app *app = &rel->apps[i];
        struct term_vec mods = {0};
        for (size_t k = 0; k < app->nmods; k++)
            if (!atom_in(otp->mandatory, app->mods[k]) && !atom_in(otp->preloaded, app->mods[k]))
                term_vec_add(a, &mods, term_atomz(a, app->mods[k]));
        if (mods.n > 1)
            qsort(mods.v, mods.n, sizeof *mods.v, cmp_term);
        term_vec_add(a, out, tag2(a, "path", term_listv(a, 1, term_stringz(a, cr_path(a, app)))));
        term_vec_add(a, out, tag2(a, "primLoad", term_vec_list(a, &mods)));
    }
    term_vec_add(a, out, progress(a, "modules_loaded"));
}

static bool name_in(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return true;
    return false;
}

/* start_appls - systools_make:create_start_appls/1: start_boot every application that is
 * no one's included application and whose type is neither none nor load */
static void start_appls(struct arena *a, const struct relfile_release *rel, struct term_vec *out)
{
    for (size_t i = 0; i < rel->napps; i++) {
        const struct relfile_app *app = &rel->apps[i];
        bool included = false;
        for (size_t k = 0; k < rel->napps && !included; k++)
            included = name_in(rel->apps[k].incls, rel->apps[k].nincls, app->name);
        if (included || !strcmp(app->type, "none") || !strcmp(app->type, "load"))
            continue;
        term_vec_add(a, out,
                     apply(a, "application", "start_boot",
                           term_listv(a, 2, term_atomz(a, app->name), term_atomz(a, app->type))));
    }
}

const struct term *script_make(struct arena *a, const struct relfile_release *rel,
                               const struct script_otp *otp, bool no_dot_erlang)
{
    const struct relfile_app *kernel = NULL;
    for (size_t i = 0; i < rel->napps && !kernel; i++)
        if (!strcmp(rel->apps[i].name, "kernel"))
            kernel = &rel->apps[i];
    if (!kernel) {
        kerr_set(KERR_BUILD, rel->rel.path, 0, 0,
                 "application 'kernel' is missing from the release");
        return NULL;
    }
    struct term_vec s = {0};
    term_vec_add(a, &s, tag2(a, "preLoaded", otp->preloaded));
    term_vec_add(a, &s, progress(a, "preloaded"));

    struct term_vec mand = {0};
    for (size_t i = 0; i < rel->napps; i++)
        if (!strcmp(rel->apps[i].name, "kernel") || !strcmp(rel->apps[i].name, "stdlib"))
            path_set_add(a, &mand, cr_path(a, &rel->apps[i]));
    term_vec_add(a, &s, tag2(a, "path", term_vec_list(a, &mand)));
    term_vec_add(a, &s, tag2(a, "primLoad", otp->mandatory));
    term_vec_add(a, &s, tag1(a, "kernel_load_completed"));
    term_vec_add(a, &s, progress(a, "kernel_load_completed"));

    load_appl_mods(a, rel, otp, &s);

    struct term_vec all = {0};
    for (size_t i = 0; i < rel->napps; i++)
        path_set_add(a, &all, cr_path(a, &rel->apps[i]));
    term_vec_add(a, &s, tag2(a, "path", term_vec_list(a, &all)));

    for (size_t i = 0; i < otp->nprocs; i++) {
        const struct term *p = otp->procs[i];
        if (otp->procs_kernel[i]) {
            const struct term *mfa = p->u.tuple.el[2];
            const struct term *args = term_listv(a, 1, script_app_spec(a, kernel));
            p = term_tuplev(a, 3, p->u.tuple.el[0], p->u.tuple.el[1],
                            term_tuplev(a, 3, mfa->u.tuple.el[0], mfa->u.tuple.el[1], args));
        }
        term_vec_add(a, &s, p);
    }
    term_vec_add(a, &s, progress(a, "init_kernel_started"));

    for (size_t i = 0; i < rel->napps; i++) {
        const struct relfile_app *app = &rel->apps[i];
        if (!strcmp(app->name, "kernel") || !strcmp(app->type, "none"))
            continue;
        term_vec_add(a, &s,
                     apply(a, "application", "load", term_listv(a, 1, script_app_spec(a, app))));
    }
    term_vec_add(a, &s, progress(a, "applications_loaded"));

    start_appls(a, rel, &s);
    if (!no_dot_erlang)
        term_vec_add(a, &s, apply(a, "c", "erlangrc", term_nil()));
    term_vec_add(a, &s, progress(a, "started"));

    const struct term *id = term_tuplev(a, 2, rel->rel.name_term, rel->rel.vsn_term);
    return term_tuplev(a, 3, term_atomz(a, "script"), id, term_vec_list(a, &s));
}

/* ---- writing ---- */

int script_write(const char *output, const struct term *script)
{
    struct arena a;
    arena_init(&a);
    struct buf text = BUF_INIT, boot = BUF_INIT;
    int rc = -1;
    const char *script_file = arena_sprintf(&a, "%s.script", output);
    const char *boot_file = arena_sprintf(&a, "%s.boot", output);

    term_print_file_terms(&text, term_listv(&a, 1, script));
    etf_encode(&boot, script);

    /* keep what was at OUTPUT.script, to put it back if the .boot cannot be written */
    size_t old_len = 0;
    char *old = file_p(script_file) ? fs_read_file(&a, script_file, &old_len) : NULL;
    if (!old && file_p(script_file))
        goto done;
    if (fs_write_atomic(script_file, text.p ? text.p : "", text.len, 0666) != 0)
        goto done;
    if (fs_write_atomic(boot_file, boot.p, boot.len, 0666) != 0) {
        struct kerr e;
        kerr_copy(&e);
        if (old)
            fs_write_atomic(script_file, old, old_len, 0666);
        else
            unlink(script_file);
        kerr_restore(&e);
        goto done;
    }
    rc = 0;
done:
    buf_free(&text);
    buf_free(&boot);
    arena_close(&a);
    return rc;
}

int script_make_files(struct arena *a, const char *rel_name, const struct relfile_path *path,
                      const char *outdir, bool no_dot_erlang)
{
    /* systools builds the output name first: OutDir joined with the .rel's base name */
    const char *output = rel_name;
    if (outdir && outdir[0]) {
        const char *base = strrchr(rel_name, '/');
        output = arena_sprintf(a, "%s/%s", outdir, base ? base + 1 : rel_name);
    }
    const char *root = relfile_otp_root(a);
    if (!root)
        return kerr_set(KERR_UNSUPPORTED, NULL, 0, 0,
                        "no Erlang installation ('erl' on PATH) to make a boot script for");
    struct script_otp otp;
    if (script_learn_otp(a, root, &otp) != 0)
        return -1;
    struct relfile_release release;
    if (relfile_get_release(a, rel_name, path, &release) != 0)
        return -1;
    if (release.rel.missing_sasl)
        log_warn("missing application 'sasl': cannot upgrade with this release");
    const struct term *script = script_make(a, &release, &otp, no_dot_erlang);
    if (!script)
        return -1;
    return script_write(output, script);
}
