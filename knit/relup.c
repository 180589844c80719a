/* relup.c - compile appups into a relup, as OTP's systools_relup:mk_relup/4 does */
#include "relup.h"

#include "buf.h"
#include "kerr.h"
#include "rc.h"
#include "term_print.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* sasl before this version means the old release predates R15 (systools' ?R15_SASL_VSN) */
#define R15_SASL_VSN "2.2"

static void vec_push_front(struct arena *a, struct term_vec *t, const struct term *x)
{
    term_vec_add(a, t, x);
    memmove(t->v + 1, t->v, (t->n - 1) * sizeof *t->v);
    t->v[0] = x;
}

/* fail - record an error whose message ends with "(systools_relup: KIND)" */
#define fail(cls, file, kind, ...) kerr_set_kind(cls, file, "systools_relup", kind, __VA_ARGS__)

/* The state of one mk_relup run. */
struct run {
    struct arena *a;
    const struct relfile_path *path;
    const struct relup_opts *opts;
    struct relfile_release top;
    const struct term **appups; /* appups[k]: the appup of top.apps[k], once read */
    struct base {               /* the releases read so far, by file name */
        const char *file;
        struct relfile_release rel;
    } *bases;
    size_t nbases;
    struct term_vec warn; /* warning terms, newest first as systools keeps them */
    const char **texts;   /* their messages, in the same order */
};

static void warn(struct run *r, const struct term *w, const char *text)
{
    const char **t = arena_alloc(r->a, (r->warn.n + 2) * sizeof *t);
    t[0] = text;
    if (r->warn.n)
        memcpy(t + 1, r->texts, r->warn.n * sizeof *t);
    r->texts = t;
    vec_push_front(r->a, &r->warn, w);
}

static bool regex_full_match(const struct term *re_bin, const char *s, bool *bad)
{
    int e;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)re_bin->u.bits.data, re_bin->u.bits.nbits / 8,
                                   PCRE2_UTF, &e, &off, NULL);
    if (!re) {
        *bad = true;
        return false;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    size_t len = strlen(s);
    bool ok = false;
    if (pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL) >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        ok = ov[0] == 0 && ov[1] == len;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return ok;
}

const struct term *relup_search_version(struct arena *a, const char *vsn, const struct term *list,
                                        bool *bad)
{
    *bad = false;
    if (!term_is_list(list)) {
        *bad = true;
        fail(KERR_BUILD, NULL, "function_clause", "version list %s is not a list",
             term_show(a, list, 300));
        return NULL;
    }
    const struct term *want = term_stringz(a, vsn);
    size_t n;
    const struct term *const *e = term_list_els(list, &n);
    for (size_t k = 0; k < n; k++) {
        if (!term_is_tuple(e[k], 2))
            continue;
        const struct term *key = e[k]->u.tuple.el[0];
        if (term_equal(key, want))
            return e[k]->u.tuple.el[1];
        if (key->type == TERM_BITS && key->u.bits.nbits % 8 == 0) {
            if (regex_full_match(key, vsn, bad))
                return e[k]->u.tuple.el[1];
            if (*bad) {
                fail(KERR_BUILD, NULL, "badarg", "version key %s is not a valid regular expression",
                     term_show(a, key, 300));
                return NULL;
            }
        }
    }
    return NULL;
}

/* appup_script - the instructions of APP's appup for moving from/to BASE_VSN */
static int appup_script(struct run *r, bool up, const struct relfile_app *app, const char *base_vsn,
                        struct term_vec *scripts, const struct relfile_app **who)
{
    struct arena *a = r->a;
    const char *file = arena_sprintf(a, "%s/%s.appup", app->dir, app->name);
    const char *kind = "";
    const struct term **slot = &r->appups[app - r->top.apps];
    const struct term *t = *slot ? *slot : relfile_read_first_term(a, file, &kind);
    *slot = t;
    if (!t && !strcmp(kind, "open"))
        return fail(KERR_BUILD, file, "file_problem",
                    "cannot open the appup of '%s' (%s), needed for the change from \"%s\"",
                    app->name, app->vsn, base_vsn);
    if (!t)
        return kerr_wrap("", " (systools_relup: file_problem)");
    if (!term_is_tuple(t, 3))
        return fail(KERR_INPUT, file, "file_problem", "appup is not a {Vsn, UpFrom, DownTo} tuple");
    const struct term *top_vsn = t->u.tuple.el[0];
    if (!term_equal(top_vsn, app->vsn_term)) {
        const char *text = arena_sprintf(a,
                                         "appup '%s' says version %s, the application is \"%s\" "
                                         "(bad_vsn)",
                                         file, term_show(a, top_vsn, 300), app->vsn);
        warn(r,
             term_tuplev(a, 2, term_atomz(a, "bad_vsn"), term_tuplev(a, 2, top_vsn, app->vsn_term)),
             text);
    }
    bool bad;
    const struct term *ru = relup_search_version(a, base_vsn, t->u.tuple.el[up ? 1 : 2], &bad);
    if (bad)
        return kerr_wrap(arena_sprintf(a, "%s: ", file), "");
    if (!ru)
        return fail(KERR_BUILD, file, "no_relup",
                    "no %s entry for version \"%s\" of '%s' in the appup of '%s' %s",
                    up ? "upgrade" : "downgrade", base_vsn, app->name, app->name, app->vsn);
    who[scripts->n] = app;
    term_vec_add(a, scripts, ru);
    return 0;
}

static const struct relfile_rel_app *rel_find(const struct relfile_rel *rel, const char *name)
{
    for (size_t k = 0; k < rel->napps; k++)
        if (!strcmp(rel->apps[k].name, name))
            return &rel->apps[k];
    return NULL;
}

/* scripts_for - every appup script of one from/to release pair, plus the added and removed
 * applications and the emulator restarts (systools' collect_appup_scripts and the rest) */
static int scripts_for(struct run *r, bool up, const struct relfile_release *base,
                       struct term_vec *scripts, struct term_vec *appups,
                       const struct relfile_app **who)
{
    struct arena *a = r->a;
    const struct relfile_rel *from = up ? &base->rel : &r->top.rel;
    const struct relfile_rel *to = up ? &r->top.rel : &base->rel;
    for (size_t k = 0; k < r->top.napps; k++) {
        const struct relfile_app *app = &r->top.apps[k];
        const struct relfile_rel_app *b = rel_find(&base->rel, app->name);
        if (b && strcmp(b->vsn, app->vsn) != 0 && appup_script(r, up, app, b->vsn, appups, who))
            return -1;
    }
    for (size_t k = 0; k < to->napps; k++)
        if (!rel_find(from, to->apps[k].name))
            term_vec_add(a, scripts,
                         term_listv(a, 1,
                                    term_tuplev(a, 3, term_atomz(a, "add_application"),
                                                term_atomz(a, to->apps[k].name),
                                                term_atomz(a, to->apps[k].type))));
    for (size_t k = 0; k < appups->n; k++)
        term_vec_add(a, scripts, appups->v[k]);
    for (size_t k = 0; k < from->napps; k++)
        if (!rel_find(to, from->apps[k].name))
            term_vec_add(a, scripts,
                         term_listv(a, 1,
                                    term_tuplev(a, 2, term_atomz(a, "remove_application"),
                                                term_atomz(a, from->apps[k].name))));
    const struct relfile_rel *t = &r->top.rel, *b = &base->rel;
    if (strcmp(t->erts_vsn, b->erts_vsn) != 0) {
        vec_push_front(a, scripts, term_listv(a, 1, term_atomz(a, "restart_new_emulator")));
        const struct term *w =
            term_tuplev(a, 2, term_atomz(a, "erts_vsn_changed"),
                        term_tuplev(a, 2, term_tuplev(a, 2, t->name_term, t->erts_vsn_term),
                                    term_tuplev(a, 2, b->name_term, b->erts_vsn_term)));
        warn(r, w,
             arena_sprintf(a, "the ERTS version changed between %s and %s (erts_vsn_changed)",
                           term_show(a, w->u.tuple.el[1]->u.tuple.el[0], 300),
                           term_show(a, w->u.tuple.el[1]->u.tuple.el[1], 300)));
    }
    if (r->opts->restart_emulator)
        term_vec_add(a, scripts, term_listv(a, 1, term_atomz(a, "restart_emulator")));
    return 0;
}

/* fix_r15 - systools' fix_r15_sasl_upgrade: from a pre-R15 sasl the new emulator is started
 * last, after the code was loaded by the old one */
static const struct term *fix_r15(struct run *r, const struct term *ru,
                                  const struct relfile_release *base)
{
    struct arena *a = r->a;
    size_t n;
    const struct term *const *e = term_list_els(ru, &n);
    if (n == 0 || !term_is_atom(e[0], "restart_new_emulator"))
        return ru;
    const char *sasl = NULL;
    for (size_t k = 0; k < base->napps && !sasl; k++)
        if (!strcmp(base->apps[k].name, "sasl"))
            sasl = base->apps[k].vsn;
    if (!sasl || strcmp(sasl, R15_SASL_VSN) >= 0)
        return ru;
    struct term_vec out = {0};
    bool deleted = false;
    for (size_t k = 1; k < n; k++) {
        if (!deleted && term_is_atom(e[k], "restart_emulator")) {
            deleted = true;
            continue;
        }
        term_vec_add(a, &out, e[k]);
    }
    term_vec_add(a, &out, e[0]);
    warn(r, term_atomz(a, "pre_R15_emulator_upgrade"),
         "upgrade from an OTP version earlier than R15: new code should be compiled with the "
         "old emulator (pre_R15_emulator_upgrade)");
    return term_vec_list(a, &out);
}

/* one_base - the {Vsn, Descr, Instructions} entry for one release to upgrade from (UP) or
 * downgrade to */
static int one_base(struct run *r, bool up, const char *file, const struct term **vdr)
{
    struct arena *a = r->a;
    /* up and down lists often name the same release: read it once */
    size_t b;
    for (b = 0; b < r->nbases && strcmp(r->bases[b].file, file) != 0; b++)
        ;
    if (b == r->nbases) {
        if (relfile_get_release(a, file, r->path, &r->bases[b].rel) != 0)
            return -1;
        r->bases[b].file = file;
        r->nbases++;
    }
    const struct relfile_release base = r->bases[b].rel;
    if (base.rel.missing_sasl)
        return fail(KERR_BUILD, base.rel.path, "missing_sasl",
                    "release \"%s\" \"%s\" has no sasl application and cannot be upgraded",
                    base.rel.name, base.rel.vsn);
    struct term_vec scripts = {0}, appups = {0};
    const struct relfile_app **who = arena_alloc(a, (r->top.napps + 1) * sizeof *who);
    if (scripts_for(r, up, &base, &scripts, &appups, who) != 0)
        return -1;
    const struct term *ru =
        up ? rc_translate_scripts(a, RC_UP, term_vec_list(a, &scripts), r->top.apps, r->top.napps,
                                  base.apps, base.napps)
           : rc_translate_scripts(a, RC_DN, term_vec_list(a, &scripts), base.apps, base.napps,
                                  r->top.apps, r->top.napps);
    if (!ru) {
        /* systools merges the scripts first; find the appup a bad instruction came from */
        const char *in = "";
        struct kerr e;
        kerr_copy(&e);
        for (size_t k = 0; k < appups.n && !in[0]; k++)
            if (rc_check_syntax(a, appups.v[k]) != 0)
                in = arena_sprintf(a, " (appup of '%s' %s)", who[k]->name, who[k]->vsn);
        kerr_restore(&e);
        return kerr_wrap(arena_sprintf(a, "%s release \"%s\"%s: ",
                                       up ? "upgrade from" : "downgrade to", base.rel.vsn, in),
                         "");
    }
    if (up)
        ru = fix_r15(r, ru, &base);
    *vdr = term_tuplev(a, 3, base.rel.vsn_term, term_nil(), ru);
    return 0;
}

int relup_make(struct arena *a, const char *top, const char *const *ups, size_t nups,
               const char *const *downs, size_t ndowns, const struct relfile_path *path,
               const struct relup_opts *opts, const struct term **relup,
               const struct term **warnings, const char ***texts)
{
    struct run r;
    memset(&r, 0, sizeof r);
    r.a = a;
    r.path = path;
    r.opts = opts;
    if (relfile_get_release(a, top, path, &r.top) != 0)
        return -1;
    if (r.top.rel.missing_sasl)
        return fail(KERR_BUILD, r.top.rel.path, "missing_sasl",
                    "release \"%s\" \"%s\" has no sasl application and cannot be upgraded",
                    r.top.rel.name, r.top.rel.vsn);
    r.appups = arena_alloc(a, (r.top.napps + 1) * sizeof *r.appups);
    r.bases = arena_alloc(a, (nups + ndowns + 1) * sizeof *r.bases);
    struct term_vec upv = {0}, dnv = {0};
    for (size_t k = 0; k < nups + ndowns; k++) {
        bool up = k < nups;
        const struct term *vdr = NULL;
        if (one_base(&r, up, up ? ups[k] : downs[k - nups], &vdr) != 0)
            return -1;
        /* systools accumulates each list in reverse */
        vec_push_front(a, up ? &upv : &dnv, vdr);
    }
    if (opts->warnings_as_errors && r.warn.n) {
        struct buf b = BUF_INIT;
        for (size_t k = 0; k < r.warn.n; k++)
            buf_addf(&b, "%s%s", k ? "; " : "", r.texts[k]);
        fail(KERR_BUILD, NULL, "warnings_treated_as_errors", "warnings treated as errors: %.1500s",
             buf_cstr(&b));
        buf_free(&b);
        return -1;
    }
    *relup = term_tuplev(a, 3, r.top.rel.vsn_term, term_vec_list(a, &upv), term_vec_list(a, &dnv));
    *warnings = term_vec_list(a, &r.warn);
    if (texts)
        *texts = r.texts;
    return 0;
}
