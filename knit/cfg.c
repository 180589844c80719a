/* cfg.c - read reltool.config: reltool's {sys, ...} and knit's own options, with overrides */
#include "cfg.h"

#include "fsutil.h"

#include "kerr.h"
#include "log.h"
#include "rebar.h"
#include "relfile.h"
#include "term_parse.h"
#include "term_print.h"
#include "vsn.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parsing context: the arena, the file (for messages) and the config being filled. */
struct pc {
    struct arena *a;
    const char *file;
    struct cfg *c;
};

/* grow - a copy of the N-element array OLD in A with room for one more (configs are small:
 * everything in a struct cfg lives in the arena, so nothing needs freeing) */
static void *grow(struct arena *a, const void *old, size_t n, size_t size)
{
    void *p = arena_alloc(a, (n + 1) * size);
    if (n)
        memcpy(p, old, n * size);
    return p;
}

/* bad - a malformed option: names the option, the file, the line and the value */
static int bad(struct pc *p, const struct term *at, const char *opt, const char *expected,
               const struct term *value)
{
    return kerr_set(KERR_INPUT, p->file, at ? (int)at->line : 0, 0,
                    "option '%s' must be %s, not %s", opt, expected, term_show(p->a, value, 200));
}

/* get_string - a charlist or binary as text; NULL when T is neither */
static const char *get_string(struct pc *p, const struct term *t)
{
    if (t->type == TERM_ATOM)
        return NULL;
    return term_text(p->a, t);
}

/* abs_path - PATH made absolute against the config's directory, normalised lexically */
static const char *abs_path(struct pc *p, const char *path)
{
    const char *joined = path[0] == '/' ? path : arena_sprintf(p->a, "%s/%s", p->c->dir, path);
    char *out = arena_alloc(p->a, strlen(joined) + 2);
    size_t n = 0;
    const char *s = joined;
    while (*s) {
        while (*s == '/')
            s++;
        size_t len = strcspn(s, "/");
        if (len == 0)
            break;
        if (len == 1 && s[0] == '.') {
            /* skip */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
        } else {
            out[n++] = '/';
            memcpy(out + n, s, len);
            n += len;
        }
        s += len;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = 0;
    return out;
}

static int get_bool(struct pc *p, const struct term *at, const char *opt, const struct term *v,
                    bool *out)
{
    if (term_is_atom(v, "true"))
        *out = true;
    else if (term_is_atom(v, "false"))
        *out = false;
    else
        return bad(p, at, opt, "true or false", v);
    return 0;
}

/* get_count - a positive integer, written as one or (from the command line) as its digits */
static int get_count(struct pc *p, const struct term *at, const char *opt, const struct term *v,
                     unsigned long long *out)
{
    if (v->type == TERM_INT && v->u.i > 0) {
        *out = (unsigned long long)v->u.i;
        return 0;
    }
    const char *s = v->type == TERM_INT ? NULL : get_string(p, v);
    char *end;
    errno = 0;
    unsigned long long n = s && *s >= '1' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    if (!n || errno || *end)
        return bad(p, at, opt, "a positive integer", v);
    *out = n;
    return 0;
}

static int get_choice(struct pc *p, const struct term *at, const char *opt, const struct term *v,
                      const char *const *choices, const char **out)
{
    if (v->type == TERM_ATOM)
        for (size_t i = 0; choices[i]; i++)
            if (strcmp(v->u.atom.name, choices[i]) == 0) {
                *out = choices[i];
                return 0;
            }
    char expected[256] = "one of";
    for (size_t i = 0; choices[i]; i++)
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s %s",
                 i ? "," : "", choices[i]);
    return bad(p, at, opt, expected, v);
}

static const char *const incl_conds[] = {"include", "exclude", "derived", NULL};
static const char *const mod_conds[] = {"all", "app", "ebin", "derived", "none", NULL};
static const char *const app_files[] = {"keep", "strip", "all", NULL};
static const char *const debug_infos[] = {"keep", "strip", NULL};
static const char *const profiles[] = {"development", "standalone", "embedded", NULL};
static const char *const app_types[] = {"permanent", "transient", "temporary",
                                        "load",      "none",      NULL};

/* get_filters - reltool regexps(): a list of strings, or {add, List} / {del, List} */
static int get_filters(struct pc *p, const struct term *at, const char *opt, const struct term *v,
                       const struct term **out)
{
    const struct term *list = v;
    if (term_is_tagged(v, "add", 2) || term_is_tagged(v, "del", 2))
        list = v->u.tuple.el[1];
    size_t n;
    const struct term *const *el = term_list_els(list, &n);
    if (!term_is_list(list))
        return bad(p, at, opt, "a list of regular expressions", v);
    for (size_t i = 0; i < n; i++)
        if (!get_string(p, el[i]))
            return bad(p, at, opt, "a list of regular expressions", v);
    *out = v;
    return 0;
}

/* app_option - one option of {app, Name, Opts} or {erts, Opts} */
static int app_option(struct pc *p, const char *what, const struct term *o, struct cfg_app *app)
{
    if (o->type != TERM_TUPLE || o->u.tuple.n < 2 || o->u.tuple.el[0]->type != TERM_ATOM)
        return bad(p, o, what, "a list of {Key, Value} options", o);
    const char *k = o->u.tuple.el[0]->u.atom.name;
    const struct term *v = o->u.tuple.el[1];
    char *opt = arena_sprintf(p->a, "%s %s", what, k);
    if (!strcmp(k, "vsn")) {
        if (!(app->vsn = get_string(p, v)))
            return bad(p, o, opt, "a version string", v);
    } else if (!strcmp(k, "lib_dir")) {
        const char *d = get_string(p, v);
        if (!d)
            return bad(p, o, opt, "a directory name", v);
        app->lib_dir = abs_path(p, d);
    } else if (!strcmp(k, "incl_cond")) {
        return get_choice(p, o, opt, v, incl_conds, &app->incl_cond);
    } else if (!strcmp(k, "mod_cond")) {
        return get_choice(p, o, opt, v, mod_conds, &app->mod_cond);
    } else if (!strcmp(k, "app_file")) {
        return get_choice(p, o, opt, v, app_files, &app->app_file);
    } else if (!strcmp(k, "debug_info")) {
        return get_choice(p, o, opt, v, debug_infos, &app->debug_info);
    } else if (!strcmp(k, "incl_app_filters")) {
        return get_filters(p, o, opt, v, &app->incl_app_filters);
    } else if (!strcmp(k, "excl_app_filters")) {
        return get_filters(p, o, opt, v, &app->excl_app_filters);
    } else if (!strcmp(k, "incl_archive_filters")) {
        return get_filters(p, o, opt, v, &app->incl_archive_filters);
    } else if (!strcmp(k, "excl_archive_filters")) {
        return get_filters(p, o, opt, v, &app->excl_archive_filters);
    } else if (!strcmp(k, "mod")) {
        app->mods = term_cons(p->a, o, app->mods ? app->mods : term_nil());
    } else if (!strcmp(k, "archive_opts")) {
        log_verbose("%s:%u: '%s' ignored: knit does not build archives", p->file, o->line, opt);
    } else {
        log_warn("%s:%u: unknown option '%s' ignored", p->file, o->line, opt);
    }
    return 0;
}

static int app_entry(struct pc *p, const struct term *e)
{
    /* {app, Name, Opts} */
    if (!term_is_tuple(e, 3) || e->u.tuple.el[1]->type != TERM_ATOM ||
        !term_is_list(e->u.tuple.el[2]))
        return bad(p, e, "app", "{app, Name, [Option]}", e);
    struct cfg *c = p->c;
    c->apps = grow(p->a, c->apps, c->napps, sizeof *c->apps);
    struct cfg_app *app = &c->apps[c->napps++];
    memset(app, 0, sizeof *app);
    app->name = e->u.tuple.el[1]->u.atom.name;
    app->line = e->line;
    size_t n;
    const struct term *const *el = term_list_els(e->u.tuple.el[2], &n);
    char *what = arena_sprintf(p->a, "app %s", app->name);
    for (size_t i = 0; i < n; i++)
        if (app_option(p, what, el[i], app) != 0)
            return -1;
    return 0;
}

static int rel_entry(struct pc *p, const struct term *e)
{
    /* {rel, Name, Vsn, Apps} or {rel, Name, Vsn, Apps, Opts} */
    if (!(term_is_tuple(e, 4) || term_is_tuple(e, 5)))
        return bad(p, e, "rel", "{rel, Name, Vsn, Apps}", e);
    const char *name = get_string(p, e->u.tuple.el[1]);
    if (!name || !*name)
        return bad(p, e, "rel", "{rel, Name, Vsn, Apps} with Name a string", e);
    const struct term *vt = e->u.tuple.el[2];
    const char *vsn;
    if (vt->type == TERM_ATOM && vcs_is_vcs(vt->u.atom.name)) {
        char *v = vcs_version(vt->u.atom.name, p->c->dir);
        if (!v) {
            struct kerr e2;
            kerr_copy(&e2);
            return kerr_set(KERR_INPUT, p->file, (int)e->line, 0, "release '%s': %s", name, e2.msg);
        }
        vsn = arena_strdup(p->a, v);
        free(v);
    } else if (!(vsn = get_string(p, vt))) {
        return bad(p, e, "rel", "{rel, Name, Vsn, Apps} with Vsn a string or a VCS name", e);
    }
    const struct term *apps = e->u.tuple.el[3];
    if (!term_is_list(apps))
        return bad(p, e, "rel", "{rel, Name, Vsn, Apps} with Apps a list", e);
    struct cfg *c = p->c;
    c->rels = grow(p->a, c->rels, c->nrels, sizeof *c->rels);
    struct cfg_rel *r = &c->rels[c->nrels++];
    memset(r, 0, sizeof *r);
    r->name = name;
    r->vsn = vsn;
    r->line = e->line;
    r->load_dot_erlang = true;
    size_t n;
    const struct term *const *el = term_list_els(apps, &n);
    r->apps = arena_alloc(p->a, (n ? n : 1) * sizeof *r->apps);
    for (size_t i = 0; i < n; i++) {
        const struct term *x = el[i];
        struct cfg_rel_app *ra = &r->apps[r->napps];
        if (x->type == TERM_ATOM) {
            ra->name = x->u.atom.name;
        } else if ((term_is_tuple(x, 2) || term_is_tuple(x, 3)) &&
                   x->u.tuple.el[0]->type == TERM_ATOM) {
            ra->name = x->u.tuple.el[0]->u.atom.name;
            for (size_t k = 1; k < x->u.tuple.n; k++) {
                const struct term *y = x->u.tuple.el[k];
                if (y->type == TERM_ATOM && k == 1) {
                    if (get_choice(p, x, "rel application type", y, app_types, &ra->type))
                        return -1;
                } else if (term_is_list(y) && k == x->u.tuple.n - 1) {
                    ra->incls = y;
                } else {
                    return bad(p, x, "rel", "App, {App, Type}, {App, Incls} or {App, Type, Incls}",
                               x);
                }
            }
        } else {
            return bad(p, x, "rel", "App, {App, Type}, {App, Incls} or {App, Type, Incls}", x);
        }
        /* reltool and systools reject a duplicate; real configs have them (riak lists
         * exometer_core twice): keep the first and say so */
        bool dup = false;
        for (size_t k = 0; k < r->napps; k++)
            if (!strcmp(r->apps[k].name, ra->name))
                dup = true;
        if (dup) {
            log_warn("%s:%u: application '%s' listed twice in release '%s'; the first is used",
                     p->file, x->line, ra->name, name);
            continue;
        }
        r->napps++;
    }
    if (e->u.tuple.n == 5) {
        const struct term *o = term_proplist_get(e->u.tuple.el[4], "load_dot_erlang");
        if (o && get_bool(p, e, "rel load_dot_erlang", o, &r->load_dot_erlang))
            return -1;
    }
    return 0;
}

static int sys_option(struct pc *p, const struct term *o)
{
    struct cfg *c = p->c;
    if (o->type != TERM_TUPLE || o->u.tuple.n < 2 || o->u.tuple.el[0]->type != TERM_ATOM)
        return bad(p, o, "sys", "a list of {Key, Value} options", o);
    const char *k = o->u.tuple.el[0]->u.atom.name;
    const struct term *v = o->u.tuple.el[1];
    if (!strcmp(k, "rel"))
        return rel_entry(p, o);
    if (!strcmp(k, "app"))
        return app_entry(p, o);
    if (o->u.tuple.n != 2 && strcmp(k, "escript") != 0)
        return bad(p, o, k, "{Key, Value}", o);
    if (!strcmp(k, "lib_dirs")) {
        size_t n;
        const struct term *const *el = term_list_els(v, &n);
        if (!term_is_list(v))
            return bad(p, o, k, "a list of directories", v);
        c->lib_dirs = arena_alloc(p->a, (n ? n : 1) * sizeof *c->lib_dirs);
        c->nlib_dirs = 0;
        for (size_t i = 0; i < n; i++) {
            const char *d = get_string(p, el[i]);
            if (!d)
                return bad(p, o, k, "a list of directories", v);
            c->lib_dirs[c->nlib_dirs++] = abs_path(p, d);
        }
    } else if (!strcmp(k, "root_dir")) {
        const char *d = get_string(p, v);
        if (!d)
            return bad(p, o, k, "a directory", v);
        c->root_dir = abs_path(p, d);
    } else if (!strcmp(k, "boot_rel")) {
        const char *b = get_string(p, v);
        if (!b)
            return bad(p, o, k, "a release name", v);
        c->boot_rel = (const struct cfg_rel *)b; /* resolved after all rels are read */
    } else if (!strcmp(k, "profile")) {
        return get_choice(p, o, k, v, profiles, &c->profile);
    } else if (!strcmp(k, "incl_cond")) {
        return get_choice(p, o, k, v, incl_conds, &c->incl_cond);
    } else if (!strcmp(k, "mod_cond")) {
        return get_choice(p, o, k, v, mod_conds, &c->mod_cond);
    } else if (!strcmp(k, "app_file")) {
        return get_choice(p, o, k, v, app_files, &c->app_file);
    } else if (!strcmp(k, "debug_info")) {
        return get_choice(p, o, k, v, debug_infos, &c->debug_info);
    } else if (!strcmp(k, "relocatable")) {
        return get_bool(p, o, k, v, &c->relocatable);
    } else if (!strcmp(k, "incl_sys_filters")) {
        return get_filters(p, o, k, v, &c->incl_sys_filters);
    } else if (!strcmp(k, "excl_sys_filters")) {
        return get_filters(p, o, k, v, &c->excl_sys_filters);
    } else if (!strcmp(k, "incl_app_filters")) {
        return get_filters(p, o, k, v, &c->incl_app_filters);
    } else if (!strcmp(k, "excl_app_filters")) {
        return get_filters(p, o, k, v, &c->excl_app_filters);
    } else if (!strcmp(k, "incl_archive_filters")) {
        return get_filters(p, o, k, v, &c->incl_archive_filters);
    } else if (!strcmp(k, "excl_archive_filters")) {
        return get_filters(p, o, k, v, &c->excl_archive_filters);
    } else if (!strcmp(k, "erts")) {
        if (!term_is_list(v))
            return bad(p, o, k, "a list of options", v);
        size_t n;
        const struct term *const *el = term_list_els(v, &n);
        c->erts.name = "erts";
        c->erts.line = o->line;
        for (size_t i = 0; i < n; i++)
            if (app_option(p, "erts", el[i], &c->erts) != 0)
                return -1;
    } else if (!strcmp(k, "archive_opts")) {
        log_verbose("%s:%u: 'archive_opts' ignored: knit does not build archives", p->file,
                    o->line);
    } else if (!strcmp(k, "emu_name")) {
        const char *e = get_string(p, v);
        if (!e || strcmp(e, "beam") != 0)
            return kerr_set(KERR_UNSUPPORTED, p->file, (int)o->line, 0,
                            "option 'emu_name' other than \"beam\" is not supported");
    } else if (!strcmp(k, "escript") || !strcmp(k, "excl_lib")) {
        /* ignoring either would build a release that differs from reltool's */
        return kerr_set(KERR_UNSUPPORTED, p->file, (int)o->line, 0,
                        "sys option '%s' is not supported by knit", k);
    } else {
        log_warn("%s:%u: unknown sys option '%s' ignored", p->file, o->line, k);
    }
    return 0;
}

static const char *const knit_options[] = {"force",
                                           "build_dir",
                                           "overlay",
                                           "overlay_vars",
                                           "extra_overlay_vars",
                                           "warnings_as_errors",
                                           "semver",
                                           "version_regex",
                                           "version_regexp",
                                           "version_min",
                                           "upgrade_versions",
                                           "remove_tmp",
                                           "target_dir",
                                           "release_dir",
                                           "upgrade_dir",
                                           "tmp_dir",
                                           "root_dir",
                                           "include_erts",
                                           "auto_depends",
                                           "allow_no_upgrade",
                                           "knit_defaults",
                                           "check_ignore",
                                           "extract_max_bytes",
                                           "extract_max_entry_bytes",
                                           "extract_max_entries",
                                           "extract_max_rel_bytes",
                                           NULL};

static bool is_knit_option(const char *k)
{
    for (size_t i = 0; knit_options[i]; i++)
        if (!strcmp(knit_options[i], k))
            return true;
    return false;
}

/* re:run's options that change what a version regex matches, as PCRE2 flags; options that
 * only shape re:run's result (capture, global, report_errors, ...) are accepted and change
 * nothing here */
static const struct {
    const char *name;
    uint32_t compile, match;
} re_options[] = {
    {"caseless", PCRE2_CASELESS, 0},
    {"extended", PCRE2_EXTENDED, 0},
    {"multiline", PCRE2_MULTILINE, 0},
    {"dotall", PCRE2_DOTALL, 0},
    {"anchored", PCRE2_ANCHORED, 0},
    {"dollar_endonly", PCRE2_DOLLAR_ENDONLY, 0},
    {"ungreedy", PCRE2_UNGREEDY, 0},
    {"firstline", PCRE2_FIRSTLINE, 0},
    {"no_auto_capture", PCRE2_NO_AUTO_CAPTURE, 0},
    {"dupnames", PCRE2_DUPNAMES, 0},
    {"ucp", PCRE2_UCP, 0},
    {"unicode", 0, 0},
    {"notbol", 0, PCRE2_NOTBOL},
    {"noteol", 0, PCRE2_NOTEOL},
    {"notempty", 0, PCRE2_NOTEMPTY},
    {"notempty_atstart", 0, PCRE2_NOTEMPTY_ATSTART},
    {"global", 0, 0},
    {"report_errors", 0, 0},
};

/* version_regex - version_regex / version_regexp (the original knit's name): Regex, or
 * {Regex, Options} with Options re:run's (caseless, anchored, ...); Regex a string or a
 * binary */
static int version_regex(struct pc *p, const struct term *at, const char *k,
                         const struct term *v)
{
    static const char expected[] = "a regex string or {Regex, [re option]}";
    struct cfg *c = p->c;
    const struct term *re = v, *opts = NULL;
    if (v->type == TERM_TUPLE) {
        if (v->u.tuple.n != 2)
            return bad(p, at, k, expected, v);
        re = v->u.tuple.el[0];
        opts = v->u.tuple.el[1];
        if (!term_is_list(opts))
            return bad(p, at, k, expected, v);
    }
    const char *s = get_string(p, re);
    if (!s)
        return bad(p, at, k, expected, v);
    uint32_t cf = 0, mf = 0;
    size_t n = 0;
    const struct term *const *el = opts ? term_list_els(opts, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct term *o = el[i];
        if (o->type == TERM_TUPLE && o->u.tuple.n >= 1 && o->u.tuple.el[0]->type == TERM_ATOM &&
            (term_is_atom(o->u.tuple.el[0], "capture") ||
             term_is_atom(o->u.tuple.el[0], "match_limit") ||
             term_is_atom(o->u.tuple.el[0], "match_limit_recursion")))
            continue;
        size_t j = 0, nre = sizeof re_options / sizeof re_options[0];
        while (j < nre && !(o->type == TERM_ATOM && term_is_atom(o, re_options[j].name)))
            j++;
        if (j == nre)
            return kerr_set(KERR_INPUT, p->file, at ? (int)at->line : 0, 0,
                            "option '%s': re option %s is not supported here (knit takes "
                            "caseless, extended, multiline, dotall, anchored, dollar_endonly, "
                            "ungreedy, firstline, no_auto_capture, dupnames, ucp, unicode, "
                            "notbol, noteol, notempty, notempty_atstart)",
                            k, term_show(p->a, o, 100));
        cf |= re_options[j].compile;
        mf |= re_options[j].match;
    }
    c->version_regex = s;
    c->version_regex_opt = k;
    c->version_regex_compile_flags = cf;
    c->version_regex_match_flags = mf;
    return 0;
}

/* knit_option - one top-level knit option K = V (AT is the term to name in messages) */
static int knit_option(struct pc *p, const struct term *at, const char *k, const struct term *v)
{
    struct cfg *c = p->c;
    if (!strcmp(k, "force"))
        return get_bool(p, at, k, v, &c->force);
    if (!strcmp(k, "warnings_as_errors"))
        return get_bool(p, at, k, v, &c->warnings_as_errors);
    if (!strcmp(k, "semver"))
        return get_bool(p, at, k, v, &c->semver);
    if (!strcmp(k, "remove_tmp"))
        return get_bool(p, at, k, v, &c->remove_tmp);
    if (!strcmp(k, "include_erts"))
        return get_bool(p, at, k, v, &c->include_erts);
    if (!strcmp(k, "auto_depends"))
        return get_bool(p, at, k, v, &c->auto_depends);
    if (!strcmp(k, "allow_no_upgrade"))
        return get_bool(p, at, k, v, &c->allow_no_upgrade);
    if (!strcmp(k, "build_dir"))
        return get_bool(p, at, k, v, &c->build_dir);
    if (!strcmp(k, "knit_defaults")) {
        /* the entries are checked where they are used (appup.c), with the module's own */
        if (!term_is_list(v))
            return bad(p, at, k, "a list of {App, Attrs} or {{App, Module}, Attrs}", v);
        c->knit_defaults = v;
        c->knit_defaults_line = at ? (int)at->line : 0;
        return 0;
    }
    if (!strcmp(k, "check_ignore")) {
        size_t n;
        const struct term *const *el = term_list_els(v, &n);
        bool ok = term_is_list(v);
        for (size_t i = 0; ok && i < n; i++)
            ok = el[i]->type == TERM_ATOM ||
                 (term_is_tuple(el[i], 2) && term_elem(el[i], 0)->type == TERM_ATOM &&
                  term_elem(el[i], 1)->type == TERM_ATOM);
        if (!ok)
            return bad(p, at, k, "a list of rule ids or {RuleId, Module}", v);
        c->check_ignore = v;
        return 0;
    }
    if (!strcmp(k, "extract_max_bytes"))
        return get_count(p, at, k, v, &c->limits.max_bytes);
    if (!strcmp(k, "extract_max_entry_bytes"))
        return get_count(p, at, k, v, &c->limits.max_entry_bytes);
    if (!strcmp(k, "extract_max_entries"))
        return get_count(p, at, k, v, &c->limits.max_entries);
    if (!strcmp(k, "extract_max_rel_bytes"))
        return get_count(p, at, k, v, &c->max_rel_bytes);
    if (!strcmp(k, "overlay")) {
        if (!term_is_list(v))
            return bad(p, at, k, "a list of overlay instructions", v);
        c->overlay = v;
        return 0;
    }
    if (!strcmp(k, "overlay_vars") || !strcmp(k, "extra_overlay_vars")) {
        bool ok = get_string(p, v) != NULL;
        if (!ok && term_is_list(v)) {
            size_t n;
            const struct term *const *el = term_list_els(v, &n);
            ok = true;
            /* file names, or inline {Name, Value} entries (see overlay.h) */
            for (size_t i = 0; i < n; i++)
                ok = ok && ((get_string(p, el[i]) && el[i]->type != TERM_INT) ||
                            (term_is_tuple(el[i], 2) && el[i]->u.tuple.el[0]->type == TERM_ATOM));
        }
        if (!ok)
            return bad(p, at, k, "a file name, or a list of file names and {Name, Value} entries",
                       v);
        if (!strcmp(k, "overlay_vars"))
            c->overlay_vars = v;
        else
            c->extra_overlay_vars = v;
        return 0;
    }
    if (!strcmp(k, "version_regex") || !strcmp(k, "version_regexp"))
        return version_regex(p, at, k, v);
    if (!strcmp(k, "version_min")) {
        const char *s = get_string(p, v);
        if (!s)
            return bad(p, at, k, "a string", v);
        c->version_min = s;
        return 0;
    }
    if (!strcmp(k, "upgrade_versions")) {
        const char *one = get_string(p, v);
        size_t n;
        const struct term *const *el = term_list_els(v, &n);
        if (one && (n == 0 || el[0]->type == TERM_INT)) {
            c->upgrade_versions = arena_alloc(p->a, sizeof *c->upgrade_versions);
            c->upgrade_versions[0] = one;
            c->nupgrade_versions = *one ? 1 : 0;
            return 0;
        }
        if (!term_is_list(v))
            return bad(p, at, k, "a list of version strings", v);
        c->upgrade_versions = arena_alloc(p->a, (n ? n : 1) * sizeof *c->upgrade_versions);
        for (size_t i = 0; i < n; i++)
            if (!(c->upgrade_versions[i] = get_string(p, el[i])))
                return bad(p, at, k, "a list of version strings", v);
        c->nupgrade_versions = n;
        return 0;
    }
    /* the directories */
    const char *d = get_string(p, v);
    if (!d || !*d)
        return bad(p, at, k, "a directory name", v);
    const char *abs = abs_path(p, d);
    if (!strcmp(k, "target_dir"))
        c->target_dir = abs;
    else if (!strcmp(k, "release_dir"))
        c->release_dir = abs;
    else if (!strcmp(k, "upgrade_dir"))
        c->upgrade_dir = abs;
    else if (!strcmp(k, "tmp_dir"))
        c->tmp_dir = abs;
    else if (!strcmp(k, "root_dir"))
        c->root_dir = abs;
    return 0;
}

/* check_dirs - SPEC: the dirs knit removes or writes into (tmp_dir, the build dir,
 * release_dir, upgrade_dir) are distinct, none inside another, none holds the config,
 * the sources (lib_dirs, each application's lib_dir) or the OTP root, none is inside the OTP
 * root or right in a lib_dirs entry: a mistaken option
 * must not make knit remove or replace what it did not make. Compared as the kernel will
 * resolve them (symlinks of existing parts followed). */
struct dir_note {
    const char *what, *path;
};

static int check_dirs(struct arena *a, const struct cfg *c)
{
    struct dir_note out[4] = {
        {"tmp_dir", c->tmp_dir},
        {"the build dir", arena_sprintf(a, "%s/%s", c->target_dir, c->boot_rel->name)},
        {"release_dir", c->release_dir},
        {"upgrade_dir", c->upgrade_dir}};
    for (size_t i = 0; i < 4; i++)
        out[i].path = fs_canon(a, out[i].path);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = i + 1; j < 4; j++) {
            const char *p = out[i].path, *q = out[j].path;
            if (!fs_within(p, q) && !fs_within(q, p))
                continue;
            return kerr_set(KERR_INPUT, c->file, 0, 0,
                            "%s '%s' %s %s '%s': refusing to run, as it would remove or "
                            "replace what is there",
                            out[i].what, p,
                            !strcmp(p, q)     ? "is the same directory as"
                            : fs_within(p, q) ? "is inside"
                                              : "holds",
                            out[j].what, q);
        }
    size_t nkeep = 3 + c->nlib_dirs + c->napps, k = 0;
    struct dir_note *keep = arena_alloc(a, nkeep * sizeof *keep);
    keep[k++] = (struct dir_note){"the config", c->file};
    keep[k++] = (struct dir_note){"root_dir", c->root_dir};
    for (size_t i = 0; i < c->nlib_dirs; i++)
        keep[k++] = (struct dir_note){"lib_dirs", c->lib_dirs[i]};
    for (size_t i = 0; i < c->napps; i++)
        if (c->apps[i].lib_dir)
            keep[k++] = (struct dir_note){"the lib_dir of an application", c->apps[i].lib_dir};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < k; j++) {
            const char *q = fs_canon(a, keep[j].path);
            /* Inside OTP's root, or right in a lib_dirs entry (where every directory is taken
             * for an application), what knit writes would be read back as an application.
             * Deeper inside a source dir is the usual layout (rel/NAME in the project that
             * is an application's lib_dir) and is fine. */
            const char *slash = strrchr(out[i].path, '/');
            bool child = slash && strlen(q) == (size_t)(slash - out[i].path) &&
                         !strncmp(out[i].path, q, strlen(q));
            bool in = (j == 1 && fs_within(out[i].path, q)) ||
                      (j >= 2 && j < 2 + c->nlib_dirs && child);
            if (fs_within(q, out[i].path) || in)
                return kerr_set(KERR_INPUT, c->file, 0, 0,
                                "%s '%s' %s %s '%s': refusing to run, as it would %s", out[i].what,
                                out[i].path, in ? "is inside" : "holds", keep[j].what, q,
                                in ? "write into the sources" : "remove or replace them");
        }
    return 0;
}

const char *cfg_find(struct arena *a, const char *explicit_path)
{
    if (explicit_path) {
        if (access(explicit_path, R_OK) != 0) {
            kerr_errno(explicit_path, "cannot read the config file");
            return NULL;
        }
        return arena_strdup(a, explicit_path);
    }
    static const char *const where[] = {"reltool.config", "rel/reltool.config"};
    for (size_t i = 0; i < 2; i++)
        if (access(where[i], R_OK) == 0)
            return arena_strdup(a, where[i]);
    if (access("rebar.config", R_OK) == 0) /* a rebar3 project: rebar.c reads its relx */
        return arena_strdup(a, "rebar.config");
    kerr_set(KERR_INPUT, NULL, 0, 0,
             "no 'reltool.config', 'rel/reltool.config' or 'rebar.config' here; name one with "
             "-r FILE");
    return NULL;
}

/* override - apply one command-line NAME=VALUE or NAME=!!TERM */
static int override(struct pc *p, const char *arg)
{
    struct cfg *c = p->c;
    const char *eq = strchr(arg, '=');
    const char *name = arena_memdup(p->a, arg, (size_t)(eq - arg));
    const char *val = eq + 1;
    const struct term *t;
    if (strncmp(val, "!!", 2) == 0) {
        t = term_parse_term(p->a, "<command line>", val + 2, strlen(val + 2));
        if (!t) {
            struct kerr e;
            kerr_copy(&e);
            return kerr_set(KERR_USAGE, NULL, 0, 0, "'%s': %s; try 'knit --help'", arg, e.msg);
        }
    } else if (is_knit_option(name) && (!strcmp(val, "true") || !strcmp(val, "false"))) {
        t = term_atomz(p->a, val);
    } else {
        t = term_stringz(p->a, val);
    }
    c->var_names = grow(p->a, c->var_names, c->nvars, sizeof *c->var_names);
    c->var_values = grow(p->a, c->var_values, c->nvars, sizeof *c->var_values);
    c->var_names[c->nvars] = name;
    c->var_values[c->nvars] = t;
    c->nvars++;
    if (!is_knit_option(name))
        return 0; /* an overlay variable only */
    const char *file = p->file;
    p->file = "<command line>";
    int rc = knit_option(p, NULL, name, t);
    p->file = file;
    return rc;
}

int cfg_load(struct arena *a, const char *path, char *const *overrides, size_t noverrides,
             struct cfg *c)
{
    memset(c, 0, sizeof *c);
    char real[PATH_MAX];
    if (!realpath(path, real))
        return kerr_errno(path, "cannot read the config file");
    c->file = arena_strdup(a, real);
    char *slash = strrchr(real, '/');
    *slash = 0;
    c->dir = arena_strdup(a, real[0] ? real : "/");
    c->semver = true;
    c->remove_tmp = true;
    c->include_erts = true;
    c->build_dir = true;
    c->auto_depends = true;
    c->limits = tarball_default_limits;
    c->max_rel_bytes = CFG_MAX_REL_BYTES;
    c->relocatable = true;
    c->profile = "development";
    c->incl_cond = "derived";
    c->mod_cond = "all";
    c->app_file = "keep";
    c->debug_info = "keep";
    struct pc p = {a, path, c};

    bool have_sys = rebar_is_config(path);
    const struct term *terms = have_sys ? term_nil() : term_consult_file(a, path);
    if (!terms || (have_sys && rebar_translate(a, path, c) != 0))
        return -1;
    size_t n;
    const struct term *const *el = term_list_els(terms, &n);
    for (size_t i = 0; i < n; i++) {
        const struct term *t = el[i];
        if (t->type != TERM_TUPLE || t->u.tuple.n < 1 || t->u.tuple.el[0]->type != TERM_ATOM) {
            log_warn("%s:%u: term %s is not an option; ignored", path, t->line,
                     term_show(a, t, 200));
            continue;
        }
        const char *k = t->u.tuple.el[0]->u.atom.name;
        if (!strcmp(k, "sys")) {
            if (have_sys)
                return kerr_set(KERR_INPUT, path, (int)t->line, 0, "a second 'sys' entry");
            have_sys = true;
            if (!term_is_tuple(t, 2) || !term_is_list(t->u.tuple.el[1]))
                return bad(&p, t, "sys", "{sys, [Option]}", t);
            size_t m;
            const struct term *const *so = term_list_els(t->u.tuple.el[1], &m);
            for (size_t j = 0; j < m; j++)
                if (sys_option(&p, so[j]) != 0)
                    return -1;
        } else if (is_knit_option(k)) {
            if (!term_is_tuple(t, 2))
                return bad(&p, t, k, "{Key, Value}", t);
            if (knit_option(&p, t, k, t->u.tuple.el[1]) != 0)
                return -1;
        } else {
            log_warn("%s:%u: unknown option '%s' ignored", path, t->line, k);
        }
    }
    if (!have_sys)
        return kerr_set(KERR_INPUT, path, 0, 0, "no {sys, [...]} entry");
    for (size_t i = 0; i < noverrides; i++)
        if (override(&p, overrides[i]) != 0)
            return -1;

    /* the boot release: named, or the only one that is not start_clean */
    const char *boot = (const char *)c->boot_rel;
    c->boot_rel = NULL;
    for (size_t i = 0; i < c->nrels; i++) {
        if (boot ? !strcmp(c->rels[i].name, boot) : strcmp(c->rels[i].name, "start_clean") != 0) {
            if (!boot && c->boot_rel)
                return kerr_set(KERR_INPUT, path, (int)c->rels[i].line, 0,
                                "several releases and no 'boot_rel' to say which to build");
            c->boot_rel = &c->rels[i];
            if (boot)
                break;
        }
    }
    if (!c->boot_rel)
        return kerr_set(KERR_INPUT, path, 0, 0,
                        boot ? "boot_rel '%s' names no {rel, ...} entry"
                             : "no {rel, Name, Vsn, Apps} entry to build%s",
                        boot ? boot : "");
    if (!c->root_dir) {
        c->root_dir = relfile_otp_root(a);
        if (!c->root_dir)
            return kerr_set(KERR_INPUT, path, 0, 0,
                            "no 'root_dir' given and no 'erl' on PATH to find OTP from");
    }
    if (!c->target_dir)
        c->target_dir = c->dir;
    if (!c->release_dir)
        c->release_dir = arena_sprintf(a, "%s/releases", c->target_dir);
    if (!c->upgrade_dir)
        c->upgrade_dir = arena_sprintf(a, "%s/upgrades", c->target_dir);
    if (!c->tmp_dir)
        c->tmp_dir = arena_sprintf(a, "%s/.knit_tmp", c->target_dir);
    if (check_dirs(a, c) != 0)
        return -1;
    if (c->version_regex) { /* before any work: a bad one would stop the run half-way */
        int err;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)c->version_regex, PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF, &err, &off, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            return kerr_set(KERR_INPUT, c->file, 0, 0, "option 'version_regex' '%s': %s at %zu",
                            c->version_regex, (char *)msg, (size_t)off);
        }
        pcre2_code_free(re);
    }
    bool all_excluded = false;
    if (c->excl_archive_filters && term_is_list(c->excl_archive_filters)) {
        size_t m;
        const struct term *const *f = term_list_els(c->excl_archive_filters, &m);
        for (size_t i = 0; i < m; i++) {
            const char *s = term_text(a, f[i]);
            if (s && (!strcmp(s, ".*") || !strcmp(s, "^.*$") || !strcmp(s, ".*$")))
                all_excluded = true;
        }
    }
    if (!all_excluded)
        log_warn("%s: reltool would pack some applications into .ez archives "
                 "(excl_archive_filters is not [\".*\"]); knit never builds archives and copies "
                 "them as directories",
                 path);
    return 0;
}

const struct cfg_app *cfg_app_settings(const struct cfg *c, const char *name)
{
    for (size_t i = 0; i < c->napps; i++)
        if (!strcmp(c->apps[i].name, name))
            return &c->apps[i];
    return NULL;
}
