/* lint.c - knit check: hot-upgrade hazards found in beams (bytecode and abstract code) */
#include "lint.h"

#include "target.h"

#include "beam.h"
#include "beam_code.h"
#include "buf.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "relfile.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- rules */

struct rule {
    const char *id;
    enum lint_sev sev;
    const char *fix;
};

enum {
    R_RECEIVE,
    R_LOOP,
    R_FUN_STATE,
    R_STORED_FUN,
    R_SHARED_RECORD,
    R_SUP_CHANGED,
    R_SUP_NO_DOWN,
    R_REMOVED_EXPORT,
    R_DELETED_MODULE,
    R_STATE_RECORD,
    R_NO_DEBUG_INFO,
    R_NOT_CHECKED,
};

static const struct rule rules[] = {
    [R_RECEIVE] = {"receive_no_after", LINT_WARNING,
                   "give the receive an 'after' (a timeout) that loops through a fully "
                   "qualified call (?MODULE:loop(State)), or make the process a gen_server"},
    [R_LOOP] = {"local_loop", LINT_WARNING,
                "recurse with a fully qualified call (?MODULE:loop(State)) so the process "
                "moves to the new code at its next message, or use a gen_server"},
    [R_FUN_STATE] = {"fun_in_state", LINT_WARNING,
                     "keep {Module, Function} or an external fun (fun ?MODULE:f/1) in the "
                     "state instead of a local fun, or rebuild the fun in code_change"},
    [R_STORED_FUN] = {"stored_fun", LINT_WARNING,
                      "hand over an external fun (fun ?MODULE:f/N) or {M, F}: it survives "
                      "code loading, a local fun is purged with the code that made it"},
    [R_SHARED_RECORD] = {"shared_record_changed", LINT_WARNING,
                         "do not change a record that several applications share: add a new "
                         "record (or a versioned tuple/map) and convert at the boundary, or "
                         "upgrade every application that includes the header together and "
                         "convert in-flight values in code_change"},
    [R_SUP_CHANGED] = {"sup_children_changed", LINT_WARNING,
                       "add -knit_apply({last, {M, F, A}}) with a function that starts the "
                       "added children (supervisor:start_child/2) and stops the removed ones "
                       "(terminate_child/2 + delete_child/2): an update of a supervisor only "
                       "changes the specs of children that already run"},
    [R_SUP_NO_DOWN] = {"sup_child_no_down", LINT_ERROR,
                       "add -knit_apply({down, first, {M, F, A}}) with a function that "
                       "terminates and deletes the child (supervisor:terminate_child/2 and "
                       "delete_child/2) so the downgrade takes it away again"},
    [R_REMOVED_EXPORT] = {"removed_export_called", LINT_ERROR,
                          "keep the old function exported for one more release (a wrapper "
                          "calling the new one), or change every caller in the same upgrade"},
    [R_DELETED_MODULE] = {"deleted_module_called", LINT_ERROR,
                          "keep the module for one more release, or change every caller in "
                          "the same upgrade"},
    [R_STATE_RECORD] = {"state_record_changed", LINT_ERROR,
                        "export code_change/3 (gen_statem: /4) that converts the old record "
                        "to the new one; knit then updates the module with {advanced, Extra}"},
    [R_NO_DEBUG_INFO] = {"no_debug_info", LINT_INFO,
                         "compile with debug_info (erlc +debug_info, rebar3 does by default) "
                         "so these rules can read the source structure"},
    [R_NOT_CHECKED] = {"not_checked", LINT_INFO,
                       "report the beam to knit's maintainers if it was made by a supported "
                       "OTP release"},
};

static const char *const sev_names[] = {"info", "warning", "error"};

/* ---------------------------------------------------------------- modules */

struct rec;

struct cmod {
    const char *name;
    const char *app, *avsn; /* NULL for plain beams */
    bool otp;
    const char *path; /* for messages */
    const uint8_t *data;
    size_t len;
    bool loaded, linted, noted;
    size_t in_from; /* 1 + the index of the last earlier release that has it */
    struct beam_info info;
    struct beam_code code;
    bool code_tried, code_ok;
    const struct term *forms; /* the abstract code, or NULL */
    bool forms_tried;
    /* what the record rules need of the abstract code, kept when the forms are not */
    bool sum_tried, sum_ok;
    struct rec *recs;
    size_t nrecs;
};

/* The modules loaded, by their bytes: earlier releases often ship the very same beam (an
 * application version two earlier releases share); the first module read from those bytes
 * owns their facts and decoded abstract code, and the others share them. */
struct beam_table {
    const struct cmod **slot; /* open addressing on bytes_hash; malloc'd */
    size_t cap, n;
};

struct cx {
    struct arena *a;  /* module data: may be a scratch arena reset between modules */
    struct arena *ra; /* the findings' strings */
    const struct lint_opts *o;
    struct lint_report *r;
    struct beam_table *bytes; /* NULL: nothing shared (module data in a scratch arena) */
};

static void add(struct cx *c, const struct cmod *m, int rule, const char *file, unsigned line,
                const char *func, const char *from, const char *what);

/* bytes_hash - the beam table's hash of a module's bytes: their length and first bytes */
static size_t bytes_hash(const struct cmod *m)
{
    size_t h = 1469598103934665603ULL ^ m->len, n = m->len < 512 ? m->len : 512;
    for (size_t i = 0; i < n; i++)
        h = (h ^ m->data[i]) * 1099511628211ULL;
    return h;
}

/* bytes_find - a module loaded earlier from the same bytes as M, or NULL */
static struct cmod *bytes_find(struct cx *c, const struct cmod *m)
{
    struct beam_table *t = c->bytes;
    if (!t || !t->cap)
        return NULL;
    for (size_t i = bytes_hash(m) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1)) {
        struct cmod *o = (struct cmod *)t->slot[i];
        if (o->len == m->len && !memcmp(o->data, m->data, m->len))
            return o;
    }
    return NULL;
}

/* bytes_add - M (loaded) into the beam table, as the owner of its bytes */
static void bytes_add(struct cx *c, struct cmod *m)
{
    struct beam_table *t = c->bytes;
    if (!t)
        return;
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        const struct cmod **slot = xcalloc(cap, sizeof *slot);
        for (size_t k = 0; k < t->cap; k++) {
            if (!t->slot[k])
                continue;
            size_t i = bytes_hash(t->slot[k]) & (cap - 1);
            while (slot[i])
                i = (i + 1) & (cap - 1);
            slot[i] = t->slot[k];
        }
        free(t->slot);
        t->slot = slot;
        t->cap = cap;
    }
    size_t i = bytes_hash(m) & (t->cap - 1);
    while (t->slot[i])
        i = (i + 1) & (t->cap - 1);
    t->slot[i] = m;
    t->n++;
}

static int load(struct cx *c, struct cmod *m)
{
    if (m->loaded)
        return 0;
    if (!m->data) { /* read when first needed: most of OTP's beams never are */
        size_t len;
        const char *data = fs_read_file(c->a, m->path, &len);
        if (!data)
            return -1;
        m->data = (const uint8_t *)data;
        m->len = len;
    }
    m->loaded = true;
    /* the same beam in another earlier release (most of two consecutive releases): its
     * facts are shared; messages about it name the first one read */
    struct cmod *same = bytes_find(c, m);
    if (same) {
        m->info = same->info;
        m->name = m->info.module;
        return 0;
    }
    if (beam_read_facts(c->a, m->path, m->data, m->len, &m->info) != 0)
        return -1;
    m->name = m->info.module;
    bytes_add(c, m);
    return 0;
}

/* code - whether M's bytecode is decoded, decoding it when first asked: an earlier
 * version compared by md5 only, or a module that did not change, never needs it */
static bool code(struct cx *c, struct cmod *m)
{
    if (m->code_tried)
        return m->code_ok;
    m->code_tried = true;
    m->code_ok = beam_code_read(c->a, m->path, m->data, m->len, &m->code) == 0;
    if (!m->code_ok) {
        const char *why = arena_strdup(c->a, kerr_get()->msg);
        kerr_clear();
        m->code.module = m->name;
        /* never a silent pass: say the bytecode rules could not look at it */
        add(c, m, R_NOT_CHECKED, NULL, 0, NULL, NULL,
            arena_sprintf(c->a,
                          "the bytecode rules could not check this module: its Code chunk "
                          "could not be decoded (%s)",
                          why));
    }
    return m->code_ok;
}

static const struct term *decode_forms(struct arena *a, struct cmod *m);
static struct rec *records(struct arena *a, const struct term *fs, size_t *nout);

/* forms - the abstract code of M (erl_abstract_code in Dbgi, or an old Abst), or NULL; kept
 * for the module's life (the supervisor and state rules, and findings' lines, need it) */
static const struct term *forms(struct cx *c, struct cmod *m)
{
    if (m->forms_tried)
        return m->forms;
    m->forms_tried = true;
    if (!m->info.has_debug_info)
        return NULL;
    struct cmod *own = bytes_find(c, m);
    m->forms = own && own != m ? forms(c, own) : decode_forms(c->a, m);
    return m->forms;
}

/* summary - whether M's abstract code could be read; its records are then M->recs. The
 * forms themselves are decoded in a scratch arena and dropped (thousands of changed
 * modules' abstract code is most of a check's memory), unless they were kept already. */
static bool summary(struct cx *c, struct cmod *m)
{
    if (m->sum_tried)
        return m->sum_ok;
    m->sum_tried = true;
    if (!m->info.has_debug_info)
        return m->sum_ok = false;
    struct cmod *own = bytes_find(c, m);
    if (own && own != m) {
        m->sum_ok = summary(c, own);
        m->recs = own->recs;
        m->nrecs = own->nrecs;
        return m->sum_ok;
    }
    if (m->forms_tried) {
        m->sum_ok = m->forms != NULL;
        if (m->sum_ok)
            m->recs = records(c->a, m->forms, &m->nrecs);
        return m->sum_ok;
    }
    struct arena s;
    arena_init(&s);
    const struct term *f = decode_forms(&s, m);
    m->sum_ok = f != NULL;
    if (f)
        m->recs = records(c->a, f, &m->nrecs);
    arena_close(&s);
    return m->sum_ok;
}

/* decode_forms - the abstract code of M read from its Dbgi (or Abst) chunk into A, or NULL */
static const struct term *decode_forms(struct arena *a, struct cmod *m)
{
    struct beam_info full;
    if (beam_read_buf(a, m->path, m->data, m->len, &full) != 0 || !full.debug_info) {
        kerr_clear();
        return NULL;
    }
    const struct term *d = full.debug_info;
    if (term_is_tagged(d, "debug_info_v1", 3)) {
        const struct term *data = term_elem(d, 2);
        if (!term_is_atom(term_elem(d, 1), "erl_abstract_code") || !term_is_tuple(data, 2))
            return NULL;
        d = term_elem(data, 0);
    } else if (term_is_tagged(d, "raw_abstract_v1", 2)) {
        d = term_elem(d, 1);
    } else {
        return NULL;
    }
    return term_is_list(d) ? d : NULL;
}

/* ---------------------------------------------------------------- findings */

static bool ignored_in(const struct term *list, const char *rule, const char *module)
{
    size_t n;
    const struct term *const *el = term_list_els(list, &n);
    for (size_t i = 0; i < n; i++) {
        if (term_is_atom(el[i], rule))
            return true;
        if (term_is_tuple(el[i], 2) && term_is_atom(term_elem(el[i], 0), rule) && module &&
            term_is_atom(term_elem(el[i], 1), module))
            return true;
    }
    return false;
}

static bool silenced(struct cx *c, const struct cmod *m, const char *rule)
{
    if (c->o && c->o->ignore && ignored_in(c->o->ignore, rule, m ? m->name : NULL))
        return true;
    if (!m || !m->loaded)
        return false;
    size_t n;
    const struct term *const *el = term_list_els(m->info.attributes, &n);
    for (size_t i = 0; i < n; i++)
        if (term_is_tuple(el[i], 2) && term_is_atom(term_elem(el[i], 0), "knit_check_ignore")) {
            const struct term *v = term_elem(el[i], 1);
            if (ignored_in(v, rule, NULL))
                return true;
            size_t k; /* -knit_check_ignore([[a, b]]) stores a list in the list */
            const struct term *const *vv = term_list_els(v, &k);
            for (size_t j = 0; j < k; j++)
                if (term_is_list(vv[j]) && ignored_in(vv[j], rule, NULL))
                    return true;
        }
    return false;
}

/* show_path - a source path as a person looks for it, src/mod.erl or include/rec.hrl: a
 * relative one (erlc run in another directory) is placed beside the source file the
 * compile info names, then an absolute one is cut to its last two parts */
static const char *show_path(struct arena *a, const struct cmod *m, const char *p)
{
    if (!p)
        return NULL;
    if (p[0] != '/' && m && m->loaded) {
        const struct term *src = term_proplist_get(m->info.compile_info, "source");
        const char *s = src ? term_text(a, src) : NULL;
        const char *slash = s && s[0] == '/' ? strrchr(s, '/') : NULL;
        if (slash) {
            /* DIR/P with . and .. resolved */
            char *j = arena_sprintf(a, "%.*s/%s", (int)(slash - s), s, p);
            char *out = arena_alloc(a, strlen(j) + 2);
            size_t o = 0;
            for (char *q = j; *q;) {
                char *e = strchr(q, '/');
                size_t n = e ? (size_t)(e - q) : strlen(q);
                if (n == 2 && q[0] == '.' && q[1] == '.') {
                    while (o > 0 && out[--o] != '/')
                        ;
                } else if (n && !(n == 1 && q[0] == '.')) {
                    out[o++] = '/';
                    memcpy(out + o, q, n);
                    o += n;
                }
                q += n + (e != NULL);
            }
            out[o] = 0;
            if (o)
                p = out;
        }
    }
    if (p[0] != '/')
        return p;
    const char *last = strrchr(p, '/');
    const char *prev = last;
    while (prev > p && prev[-1] != '/')
        prev--;
    return prev > p ? prev : last + 1;
}

static void add(struct cx *c, const struct cmod *m, int rule, const char *file, unsigned line,
                const char *func, const char *from, const char *what)
{
    if (silenced(c, m, rules[rule].id)) {
        c->r->silenced++;
        return;
    }
    struct lint_report *r = c->r;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->f = xrealloc(r->f, r->cap * sizeof *r->f);
    }
    struct lint_finding *f = &r->f[r->n++];
    struct arena *ra = c->ra;
#define COPY(x) ((x) ? arena_strdup(ra, (x)) : NULL)
    f->rule = rules[rule].id;
    f->sev = rules[rule].sev;
    f->module = COPY(m ? m->name : NULL);
    f->app = COPY(m ? m->app : NULL);
    f->file = COPY(show_path(c->a, m, file));
    f->line = line;
    f->function = COPY(func);
    f->from = COPY(from);
    f->what = COPY(what);
#undef COPY
    f->fix = rules[rule].fix;
    r->count[f->sev]++;
}

/* code_loc - file and line of line-table entry LINE of M */
static void code_loc(const struct cmod *m, uint32_t line, const char **file, unsigned *ln)
{
    *file = NULL;
    *ln = 0;
    if (line == 0 || line > m->code.nlines)
        return;
    uint32_t f = m->code.line_file[line];
    *file = f < m->code.nfnames ? m->code.fnames[f] : NULL;
    *ln = m->code.line_no[line];
}

static const char *fa(struct cx *c, const struct bc_func *f)
{
    return arena_sprintf(c->a, "%s/%u", f->name, f->arity);
}

/* ---------------------------------------------------------------- single-version rules */

enum { FIND_RECEIVE, FIND_CALL, FIND_FUN };
static void refine(struct cx *c, struct cmod *m, const struct bc_func *f, int kind,
                   const char *name, long arity, const char **file, unsigned *line);

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

static bool prefixed(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strncmp(s, list[i], strlen(list[i])))
            return true;
    return false;
}

/* spawn_kind - for a spawn of M:F(Args) by MFA: 0, with *XM the x register holding M (F is
 * in the next one); -1 when the import is no such spawn, -2 when it spawns a fun */
static int spawn_kind(const struct bc_import *im, int *xm)
{
    static const char *const fns[] = {"spawn", "spawn_link", "spawn_monitor", "spawn_opt",
                                      "start", "start_link", "start_monitor", NULL};
    bool erl = !strcmp(im->mod, "erlang"), pl = !strcmp(im->mod, "proc_lib");
    if (!(erl || pl) || !in_list(im->fun, fns) || (erl && !strncmp(im->fun, "start", 5)))
        return -1;
    if (im->arity <= 2)
        return -2;
    /* spawn(M, F, A), spawn_opt(M, F, A, O), proc_lib:start(M, F, A, ...): M in x0;
     * spawn(Node, M, F, A) and spawn_opt(Node, M, F, A, O): M in x1 */
    bool node = erl && ((im->arity == 4 && strcmp(im->fun, "spawn_opt")) || im->arity == 5);
    *xm = node ? 1 : 0;
    return 0;
}

/* next_call - the first call event after event I of function F, or NULL */
static const struct bc_event *next_call(const struct cmod *m, const struct bc_func *f, size_t i)
{
    for (size_t k = i + 1; k < f->ev_hi; k++) {
        uint8_t kd = m->code.ev[k].kind;
        if (kd == BC_CALL || kd == BC_TAIL || kd == BC_EXT || kd == BC_EXT_TAIL)
            return &m->code.ev[k];
    }
    return NULL;
}

/* consumes - whether a call of IM uses a fun and drops it (lists:map, maps:fold, ...) */
static bool consumes(const struct bc_import *im)
{
    static const char *const mods[] = {
        "lists",  "maps",    "sets",      "ordsets",      "gb_sets", "gb_trees",
        "dict",   "orddict", "proplists", "string",       "binary",  "unicode",
        "io",     "io_lib",  "logger",    "error_logger", "rpc",     "erpc",
        "mnesia", "timer",   "proc_lib",  "array",        "digraph", "queue",
        "file",   "filelib", "re",        "erl_eval",     "sys",     NULL};
    if (in_list(im->mod, mods))
        return true;
    if (!strcmp(im->mod, "erlang"))
        return strcmp(im->fun, "put") && strcmp(im->fun, "send_after") &&
               strcmp(im->fun, "start_timer") && strcmp(im->fun, "send");
    if (!strcmp(im->mod, "ets"))
        return strcmp(im->fun, "insert") && strcmp(im->fun, "insert_new");
    return false;
}

/* stores - whether a call of IM keeps a fun beyond the call (a registered callback) */
static bool stores(const struct beam_code *code, const struct bc_import *im)
{
    static const char *const pre[] = {"attach",       "subscribe",       "register_",
                                      "add_handler",  "add_hook",        "add_callback",
                                      "set_callback", "set_handler",     "add_primary_filter",
                                      "add_filter",   "install_handler", NULL};
    if (im->arity == 0 || !strcmp(im->mod, code->module))
        return false; /* the module's own functions: not another module */
    if (!strcmp(im->fun, "register"))
        return strcmp(im->mod, "erlang") && strcmp(im->mod, "global");
    if (!strcmp(im->mod, "persistent_term") && !strcmp(im->fun, "put"))
        return true;
    if (!strcmp(im->mod, "ets") && (!strcmp(im->fun, "insert") || !strcmp(im->fun, "insert_new")))
        return true;
    if (!strcmp(im->mod, "application") && !strcmp(im->fun, "set_env"))
        return true;
    if (!strcmp(im->mod, "erlang"))
        return false;
    return prefixed(im->fun, pre);
}

static bool is_callback(const struct cmod *m, const struct bc_func *f, bool statem)
{
    if (!strcmp(f->name, "init") && f->arity == 1)
        return true;
    if (!strncmp(f->name, "handle_", 7) || !strcmp(f->name, "code_change"))
        return true;
    if (statem && f->arity == 3) { /* state functions: exported, arity 3 */
        for (size_t i = 0; i < m->info.nexports; i++)
            if (m->info.exports[i].arity == 3 && !strcmp(m->info.exports[i].fun, f->name))
                return true;
    }
    return false;
}

static bool has_behaviour(const struct cmod *m, const char *const *names)
{
    for (size_t i = 0; i < m->info.nbehaviours; i++)
        if (in_list(m->info.behaviours[i], names))
            return true;
    return false;
}

static const char *const server_behaviours[] = {"gen_server", "gen_statem",        "gen_event",
                                                "gen_fsm",    "supervisor_bridge", NULL};

/* tail_cycle - whether function I gets back to itself through local tail calls */
static bool tail_cycle(const struct beam_code *code, size_t i, size_t at, int depth, uint8_t *seen)
{
    const struct bc_func *f = &code->funcs[at];
    for (size_t k = f->ev_lo; k < f->ev_hi; k++) {
        if (code->ev[k].kind != BC_TAIL)
            continue;
        int32_t t = code->ev[k].arg < code->nlabels ? code->label_func[code->ev[k].arg] : -1;
        if (t < 0)
            continue;
        if ((size_t)t == i)
            return true;
        if (depth > 0 && !seen[t]) {
            seen[t] = 1;
            if (tail_cycle(code, i, (size_t)t, depth - 1, seen))
                return true;
        }
    }
    return false;
}

static void lint(struct cx *c, struct cmod *m, const char *from)
{
    if (m->linted || !code(c, m))
        return;
    m->linted = true;
    const struct beam_code *code = &m->code;
    size_t nf = code->nfuncs;
    if (nf == 0)
        return;
    uint8_t *entry = arena_alloc(c->a, nf);
    uint8_t *seen = arena_alloc(c->a, nf);
    /* spawn entry points: funs and M:F handed to spawn functions */
    for (size_t i = 0; i < nf; i++) {
        const struct bc_func *f = &code->funcs[i];
        for (size_t k = f->ev_lo; k < f->ev_hi; k++) {
            const struct bc_event *e = &code->ev[k];
            if (e->kind == BC_MAKE_FUN && e->arg < code->nfuns) {
                const struct bc_event *n = next_call(m, f, k);
                int xm;
                if (n && (n->kind == BC_EXT || n->kind == BC_EXT_TAIL) &&
                    spawn_kind(&code->imports[n->arg], &xm) == -2) {
                    const struct bc_func *g = beam_code_func_at(code, code->fun_labels[e->arg]);
                    if (g) {
                        entry[g - code->funcs] = 1;
                        /* spawn(fun() -> loop(S) end): the wrapper's tail call is the entry */
                        for (size_t q = g->ev_lo; q < g->ev_hi; q++)
                            if (code->ev[q].kind == BC_TAIL) {
                                const struct bc_func *h = beam_code_func_at(code, code->ev[q].arg);
                                if (h)
                                    entry[h - code->funcs] = 1;
                            }
                    }
                }
            } else if (e->kind == BC_EXT || e->kind == BC_EXT_TAIL) {
                int xm;
                if (spawn_kind(&code->imports[e->arg], &xm) == 0 && e->x[xm] &&
                    e->x[xm] <= code->natoms && !strcmp(code->atoms[e->x[xm]], code->module) &&
                    e->x[xm + 1] && e->x[xm + 1] <= code->natoms)
                    for (size_t j = 0; j < nf; j++)
                        if (!strcmp(code->funcs[j].name, code->atoms[e->x[xm + 1]]))
                            entry[j] = 1;
            }
        }
    }
    bool server = has_behaviour(m, server_behaviours);
    static const char *const statem[] = {"gen_statem", NULL};
    bool is_statem = has_behaviour(m, statem);
    for (size_t i = 0; i < nf; i++) {
        const struct bc_func *f = &code->funcs[i];
        memset(seen, 0, nf);
        bool cycle = tail_cycle(code, i, i, 4, seen);
        bool ext_self = false, blocks = false;
        for (size_t k = f->ev_lo; k < f->ev_hi; k++) {
            const struct bc_event *e = &code->ev[k];
            blocks = blocks || e->kind == BC_WAIT || e->kind == BC_WAIT_TIMEOUT;
            if (e->kind == BC_EXT || e->kind == BC_EXT_TAIL) {
                const struct bc_import *im = &code->imports[e->arg];
                ext_self = ext_self || (!strcmp(im->mod, code->module) &&
                                        !strcmp(im->fun, f->name) && im->arity == f->arity);
            }
        }
        bool loop = cycle || ext_self || entry[i];
        const char *file;
        unsigned line;
        /* a receive that only has 'after 0' (no wait instruction) drains the mailbox and
         * never blocks: flush loops are not process loops */
        if (cycle && ((f->receives && blocks) || entry[i])) {
            uint32_t at = f->line;
            const struct bc_func *at_g = NULL;
            for (size_t k = f->ev_lo; k < f->ev_hi && !at_g; k++)
                if (code->ev[k].kind == BC_TAIL) {
                    const struct bc_func *g = beam_code_func_at(code, code->ev[k].arg);
                    if (g &&
                        (g == f || (memset(seen, 0, nf),
                                    tail_cycle(code, i, (size_t)(g - code->funcs), 4, seen)))) {
                        at = code->ev[k].line;
                        at_g = g;
                    }
                }
            code_loc(m, at, &file, &line);
            refine(c, m, f, FIND_CALL, at_g ? at_g->name : f->name, at_g ? at_g->arity : f->arity,
                   &file, &line);
            add(c, m, R_LOOP, file, line, fa(c, f), from,
                arena_sprintf(c->a,
                              "%s:%s/%u is a process loop (%s) that recurses with a local call: "
                              "the process stays on the old code when %s is loaded again, and "
                              "the purge at the next load kills it",
                              m->name, f->name, f->arity,
                              entry[i] ? "a spawned entry point" : "it receives", m->name));
        }
        if (loop) {
            for (size_t k = f->ev_lo; k < f->ev_hi; k++)
                if (code->ev[k].kind == BC_WAIT) {
                    code_loc(m, code->ev[k].line, &file, &line);
                    refine(c, m, f, FIND_RECEIVE, NULL, 0, &file, &line);
                    add(c, m, R_RECEIVE, file, line, fa(c, f), from,
                        arena_sprintf(c->a,
                                      "receive without 'after' in the process loop %s/%u: a "
                                      "process blocked there never reaches the new code, "
                                      "and the second load of %s kills it",
                                      f->name, f->arity, m->name));
                    break;
                }
        }
        bool cb = server && is_callback(m, f, is_statem);
        bool said_state = false, said_stored = false;
        for (size_t k = f->ev_lo; k < f->ev_hi; k++) {
            const struct bc_event *e = &code->ev[k];
            if (e->kind != BC_MAKE_FUN)
                continue;
            const struct bc_event *n = next_call(m, f, k);
            const struct bc_import *im =
                n && (n->kind == BC_EXT || n->kind == BC_EXT_TAIL) ? &code->imports[n->arg] : NULL;
            int xm;
            if (im && stores(code, im)) {
                if (said_stored)
                    continue;
                said_stored = true;
                code_loc(m, n->line, &file, &line);
                refine(c, m, f, FIND_FUN, NULL, 0, &file, &line);
                add(c, m, R_STORED_FUN, file, line, fa(c, f), from,
                    arena_sprintf(c->a,
                                  "a local fun made in %s/%u is handed to %s:%s/%u, which "
                                  "keeps it: once %s is loaded twice the fun's code is purged "
                                  "and whoever calls it crashes (badfun)",
                                  f->name, f->arity, im->mod, im->fun, im->arity, m->name));
            } else if (cb && !said_state &&
                       (!n || (im && !consumes(im) && spawn_kind(im, &xm) == -1))) {
                /* the fun flows into the result (no call after it) or to another module;
                 * a local call is taken as using it (dyn_map(fun ..., S)) */
                said_state = true;
                code_loc(m, e->line, &file, &line);
                refine(c, m, f, FIND_FUN, NULL, 0, &file, &line);
                add(c, m, R_FUN_STATE, file, line, fa(c, f), from,
                    arena_sprintf(c->a,
                                  "the callback %s/%u makes a local fun that can end up in the "
                                  "process state: after %s is loaded twice, calling it "
                                  "crashes the process (badfun)",
                                  f->name, f->arity, m->name));
            }
        }
    }
}

/* ---------------------------------------------------------------- abstract code */

/* is_anno - whether T is a form's annotation (Line, {Line, Col} or an anno list) */
static bool is_anno(const struct term *t)
{
    if (t->type == TERM_INT)
        return true;
    if (term_is_tuple(t, 2) && term_elem(t, 0)->type == TERM_INT)
        return true;
    if (t->type == TERM_NIL)
        return true;
    if (t->type == TERM_LIST) {
        const struct term *h = t->u.list.el[0];
        return term_is_tuple(h, 2) && term_elem(h, 0)->type == TERM_ATOM;
    }
    return false;
}

static unsigned anno_line(const struct term *t)
{
    if (t->type == TERM_INT)
        return (unsigned)t->u.i;
    if (term_is_tuple(t, 2) && term_elem(t, 0)->type == TERM_INT)
        return (unsigned)term_elem(t, 0)->u.i;
    if (term_is_list(t)) {
        const struct term *l = term_proplist_get(t, "location");
        return l ? anno_line(l) : 0;
    }
    return 0;
}

/* skip_anno - whether element 1 of tuple T is an annotation to leave out of comparisons */
static bool skip_anno(const struct term *t)
{
    return t->u.tuple.n >= 2 && t->u.tuple.el[0]->type == TERM_ATOM &&
           !term_is_atom(t->u.tuple.el[0], "clauses") && is_anno(t->u.tuple.el[1]);
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* hash - a hash of abstract code T with line annotations left out */
static uint64_t hash(uint64_t h, const struct term *t)
{
    uint8_t ty = t->type;
    h = mix(h, &ty, 1);
    switch (t->type) {
    case TERM_INT:
        return mix(h, &t->u.i, sizeof t->u.i);
    case TERM_ATOM:
        return mix(h, t->u.atom.name, t->u.atom.len);
    case TERM_BITS:
        return mix(h, t->u.bits.data, (t->u.bits.nbits + 7) / 8);
    case TERM_FLOAT:
        return mix(h, &t->u.f, sizeof t->u.f);
    case TERM_TUPLE:
        for (size_t i = 0; i < t->u.tuple.n; i++)
            if (!(i == 1 && skip_anno(t)))
                h = hash(h, t->u.tuple.el[i]);
        return h;
    case TERM_LIST:
        for (size_t i = 0; i < t->u.list.n; i++)
            h = hash(h, t->u.list.el[i]);
        return hash(h, t->u.list.tail);
    case TERM_MAP:
        for (size_t i = 0; i < t->u.map.n; i++)
            h = hash(hash(h, t->u.map.keys[i]), t->u.map.vals[i]);
        return h;
    default:
        return h;
    }
}

/* visit - call FN on every tuple inside T */
static void visit(const struct term *t, void (*fn)(const struct term *, void *), void *arg)
{
    if (t->type == TERM_TUPLE) {
        fn(t, arg);
        for (size_t i = 0; i < t->u.tuple.n; i++)
            visit(t->u.tuple.el[i], fn, arg);
    } else if (t->type == TERM_LIST) {
        for (size_t i = 0; i < t->u.list.n; i++)
            visit(t->u.list.el[i], fn, arg);
    }
}

static const char *atom_of(const struct term *t)
{
    return t && t->type == TERM_ATOM ? t->u.atom.name : NULL;
}

/* A function form, its line and the file it is in (as the compiler was given it). */
struct fform {
    const struct term *form;
    unsigned line;
    const struct term *file; /* the charlist of the last -file before it, or NULL */
};

/* find_function - the form of NAME/ARITY in FORMS */
static bool find_function(const struct term *fs, const char *name, long arity, struct fform *out)
{
    size_t n;
    const struct term *const *el = term_list_els(fs, &n);
    const struct term *file = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct term *f = el[i];
        if (term_is_tagged(f, "attribute", 4) && term_is_atom(term_elem(f, 2), "file") &&
            term_is_tuple(term_elem(f, 3), 2))
            file = term_elem(term_elem(f, 3), 0);
        if (term_is_tagged(f, "function", 5) && term_is_atom(term_elem(f, 2), name) &&
            term_elem(f, 3)->type == TERM_INT && term_elem(f, 3)->u.i == arity) {
            out->form = f;
            out->file = file;
            out->line = anno_line(term_elem(f, 1));
            return true;
        }
    }
    return false;
}

/* A record definition. */
struct rec {
    const char *name;
    const char *file; /* the file that defines it (an .hrl for a shared one) */
    unsigned line;
    const char *fields; /* "a,b,c" */
};

static const char *field_names(struct arena *a, const struct term *fields)
{
    struct buf b = BUF_INIT;
    size_t n;
    const struct term *const *el = term_list_els(fields, &n);
    for (size_t i = 0; i < n; i++) {
        const struct term *f = el[i];
        if (term_is_tagged(f, "typed_record_field", 3))
            f = term_elem(f, 1);
        const char *nm = f->type == TERM_TUPLE && f->u.tuple.n >= 3
                             ? atom_of(term_elem(term_elem(f, 2), 2))
                             : NULL;
        buf_addf(&b, "%s%s", i ? "," : "", nm ? nm : "?");
    }
    const char *s = arena_strdup(a, buf_cstr(&b));
    buf_free(&b);
    return s;
}

/* records - the records FORMS defines, with the file each comes from */
static struct rec *records(struct arena *a, const struct term *fs, size_t *nout)
{
    size_t n;
    const struct term *const *el = term_list_els(fs, &n);
    struct rec *v = arena_alloc(a, (n + 1) * sizeof *v);
    size_t k = 0;
    const char *file = "";
    for (size_t i = 0; i < n; i++) {
        const struct term *f = el[i];
        if (!term_is_tagged(f, "attribute", 4))
            continue;
        const struct term *val = term_elem(f, 3);
        if (term_is_atom(term_elem(f, 2), "file") && term_is_tuple(val, 2)) {
            const char *t = term_text(a, term_elem(val, 0));
            if (t)
                file = t;
        } else if (term_is_atom(term_elem(f, 2), "record") && term_is_tuple(val, 2) &&
                   atom_of(term_elem(val, 0))) {
            v[k].name = arena_strdup(a, atom_of(term_elem(val, 0)));
            v[k].file = file;
            v[k].line = anno_line(term_elem(f, 1));
            v[k].fields = field_names(a, term_elem(val, 1));
            k++;
        }
    }
    *nout = k;
    return v;
}

static const struct rec *find_rec(const struct rec *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return &v[i];
    return NULL;
}

static const char *first_file(struct arena *a, const struct term *fs)
{
    size_t n;
    const struct term *const *el = term_list_els(fs, &n);
    for (size_t i = 0; i < n; i++)
        if (term_is_tagged(el[i], "attribute", 4) && term_is_atom(term_elem(el[i], 2), "file") &&
            term_is_tuple(term_elem(el[i], 3), 2))
            return term_text(a, term_elem(term_elem(el[i], 3), 0));
    return NULL;
}

struct find {
    int kind;
    const char *name;
    long arity;
    unsigned line;
};

static void find_visit(const struct term *t, void *arg)
{
    struct find *q = arg;
    if (q->line)
        return;
    bool hit = false;
    if (q->kind == FIND_RECEIVE)
        hit = term_is_tagged(t, "receive", 3);
    else if (q->kind == FIND_CALL)
        hit = term_is_tagged(t, "call", 4) && term_is_tagged(term_elem(t, 2), "atom", 3) &&
              term_is_atom(term_elem(term_elem(t, 2), 2), q->name) &&
              term_list_len(term_elem(t, 3)) == q->arity;
    else
        hit =
            (term_is_tagged(t, "fun", 3) && (term_is_tagged(term_elem(t, 2), "clauses", 2) ||
                                             (term_is_tagged(term_elem(t, 2), "function", 3) &&
                                              term_elem(term_elem(t, 2), 1)->type == TERM_ATOM))) ||
            term_is_tagged(t, "named_fun", 4);
    if (hit)
        q->line = anno_line(term_elem(t, 1));
}

/* refine - where the abstract code (when M has it) puts what the bytecode found in F: the
 * first receive without after, local call of NAME/ARITY or local fun */
static void refine(struct cx *c, struct cmod *m, const struct bc_func *f, int kind,
                   const char *name, long arity, const char **file, unsigned *line)
{
    struct fform ff;
    const struct term *fs = m->info.has_debug_info ? forms(c, m) : NULL;
    if (!fs || !find_function(fs, f->name, f->arity, &ff))
        return;
    struct find q = {kind, name, arity, 0};
    visit(ff.form, find_visit, &q);
    if (!q.line)
        return;
    *line = q.line;
    const char *t = ff.file ? term_text(c->a, ff.file) : NULL;
    if (t)
        *file = t;
}

/* The closure of a function over local calls, for supervisors' init/1. */
struct closure {
    const struct term *fs;
    const struct term **funs;
    size_t n, cap;
    struct arena *a;
};

static void closure_add(struct closure *cl, const char *name, long arity);

static void closure_visit(const struct term *t, void *arg)
{
    struct closure *cl = arg;
    if (term_is_tagged(t, "call", 4)) {
        const struct term *f = term_elem(t, 2);
        long ar = term_list_len(term_elem(t, 3));
        if (term_is_tagged(f, "atom", 3) && ar >= 0)
            closure_add(cl, atom_of(term_elem(f, 2)), ar);
    }
}

static void closure_add(struct closure *cl, const char *name, long arity)
{
    struct fform ff;
    if (!name || !find_function(cl->fs, name, arity, &ff))
        return;
    for (size_t i = 0; i < cl->n; i++)
        if (cl->funs[i] == ff.form)
            return;
    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 8;
        const struct term **v = arena_alloc(cl->a, cap * sizeof *v);
        if (cl->n)
            memcpy(v, cl->funs, cl->n * sizeof *v);
        cl->funs = v;
        cl->cap = cap;
    }
    cl->funs[cl->n++] = ff.form;
    visit(ff.form, closure_visit, cl);
}

/* Child ids found in child specs: #{id => Id, ...} and {Id, {M, F, A}, ...}. */
struct ids {
    struct arena *a;
    const char **v;
    size_t n, cap;
    const struct closure *cl;  /* the functions looked at */
    const struct term *params; /* the parameters of the clause being visited */
    const char *fname;         /* and its function */
    long farity;
};

static const char *expr_text(struct arena *a, const struct term *e)
{
    if (term_is_tagged(e, "atom", 3) || term_is_tagged(e, "integer", 3))
        return term_elem(e, 2)->type == TERM_ATOM
                   ? atom_of(term_elem(e, 2))
                   : arena_sprintf(a, "%lld", (long long)term_elem(e, 2)->u.i);
    if (term_is_tagged(e, "string", 3)) {
        const char *s = term_charlist(a, term_elem(e, 2));
        return arena_sprintf(a, "\"%s\"", s ? s : "");
    }
    return arena_sprintf(a, "<expression %016llx>",
                         (unsigned long long)hash(14695981039346656037ULL, e));
}

static void ids_add(struct ids *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], id))
            return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        const char **v = arena_alloc(s->a, cap * sizeof *v);
        if (s->n)
            memcpy(v, s->v, s->n * sizeof *v);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = id;
}

/* A call of a local function whose argument K is a child id: the literal ids it is given. */
struct id_calls {
    struct ids *s;
    const char *name;
    long arity;
    size_t k;
};

static void id_calls_visit(const struct term *t, void *arg)
{
    struct id_calls *q = arg;
    if (!term_is_tagged(t, "call", 4) || !term_is_tagged(term_elem(t, 2), "atom", 3) ||
        !term_is_atom(term_elem(term_elem(t, 2), 2), q->name) ||
        term_list_len(term_elem(t, 3)) != q->arity)
        return;
    size_t n;
    const struct term *const *args = term_list_els(term_elem(t, 3), &n);
    const struct term *e = args[q->k];
    if (term_is_tagged(e, "atom", 3) || term_is_tagged(e, "integer", 3) ||
        term_is_tagged(e, "string", 3))
        ids_add(q->s, expr_text(q->s->a, e));
}

static void visit_closure(const struct closure *cl, void (*fn)(const struct term *, void *),
                          void *arg);

/* id_expr - a child id expression: a parameter of its function (spec(Id) -> #{id => Id})
 * stands for the literal ids the function is called with */
static void id_expr(struct ids *s, const struct term *e)
{
    size_t n;
    const struct term *const *ps = s->params ? term_list_els(s->params, &n) : NULL;
    if (term_is_tagged(e, "var", 3) && ps) {
        for (size_t k = 0; k < n; k++)
            if (term_is_tagged(ps[k], "var", 3) &&
                term_equal(term_elem(ps[k], 2), term_elem(e, 2))) {
                struct id_calls q = {s, s->fname, s->farity, k};
                visit_closure(s->cl, id_calls_visit, &q);
                return;
            }
    }
    ids_add(s, expr_text(s->a, e));
}

static void ids_visit(const struct term *t, void *arg)
{
    struct ids *s = arg;
    if ((term_is_tagged(t, "map", 3) || term_is_tagged(t, "map", 4))) {
        size_t n;
        const struct term *const *el = term_list_els(term_elem(t, t->u.tuple.n - 1), &n);
        for (size_t i = 0; i < n; i++)
            if (el[i]->type == TERM_TUPLE && el[i]->u.tuple.n == 4 &&
                term_is_tagged(term_elem(el[i], 2), "atom", 3) &&
                term_is_atom(term_elem(term_elem(el[i], 2), 2), "id"))
                id_expr(s, term_elem(el[i], 3));
    } else if (term_is_tagged(t, "tuple", 3)) {
        size_t n;
        const struct term *const *el = term_list_els(term_elem(t, 2), &n);
        if (n == 6 && term_is_tagged(el[1], "tuple", 3) && term_list_len(term_elem(el[1], 2)) == 3)
            id_expr(s, el[0]);
    }
}


static void visit_closure(const struct closure *cl, void (*fn)(const struct term *, void *),
                          void *arg)
{
    for (size_t i = 0; i < cl->n; i++)
        visit(cl->funs[i], fn, arg);
}

static void collect_ids(struct ids *s, const struct closure *cl)
{
    s->cl = cl;
    for (size_t i = 0; i < cl->n; i++) {
        const struct term *f = cl->funs[i]; /* {function, Anno, Name, Arity, Clauses} */
        size_t n;
        const struct term *const *cs = term_list_els(term_elem(f, 4), &n);
        for (size_t j = 0; j < n; j++) {
            if (!term_is_tagged(cs[j], "clause", 5))
                continue;
            s->params = term_elem(cs[j], 2);
            s->fname = atom_of(term_elem(f, 2));
            s->farity = (long)term_elem(f, 3)->u.i;
            visit(term_elem(cs[j], 4), ids_visit, s);
        }
    }
    s->params = NULL;
}

static bool has_id(const struct ids *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], id))
            return true;
    return false;
}

/* applies - whether M has a knit_apply for the upgrade (UP) and for the downgrade (DOWN) */
static void applies(const struct cmod *m, bool *up, bool *down)
{
    *up = *down = false;
    size_t n;
    const struct term *const *el = term_list_els(m->info.attributes, &n);
    for (size_t i = 0; i < n; i++) {
        if (!term_is_tuple(el[i], 2) || !term_is_atom(term_elem(el[i], 0), "knit_apply"))
            continue;
        const struct term *v = term_elem(el[i], 1);
        size_t k;
        const struct term *const *vv = term_list_els(v, &k);
        for (size_t j = 0; j < k; j++) {
            const struct term *x = vv[j];
            size_t kk = 1;
            const struct term *const *xs = &vv[j];
            if (term_is_list(x) && x->type == TERM_LIST)
                xs = term_list_els(x, &kk);
            for (size_t q = 0; q < kk; q++) {
                const struct term *y = xs[q];
                /* {up | down, Phase, {M,F,A}}: the third element is a tuple, where {M,F,A}
                 * has its argument list */
                if (term_is_tuple(y, 3) && term_is_tuple(term_elem(y, 2), 3) &&
                    (term_is_atom(term_elem(y, 0), "up") ||
                     term_is_atom(term_elem(y, 0), "down"))) {
                    if (term_is_atom(term_elem(y, 0), "down"))
                        *down = true;
                    else
                        *up = true;
                } else {
                    *up = true;
                }
            }
        }
    }
}

/* appup_applies - a hand-written APP.appup beside NEW's beam is used as it is: its apply
 * instructions for the version OLD_VSN (a version string, or any regex key) count as the
 * supervisor's start/stop code, up and down */
static void appup_applies(struct cx *c, const struct cmod *new, const char *old_vsn, bool *up,
                          bool *down)
{
    const char *slash = new->app ? strrchr(new->path, '/') : NULL;
    if (!slash)
        return;
    const char *path =
        arena_sprintf(c->a, "%.*s/%s.appup", (int)(slash - new->path), new->path, new->app);
    if (access(path, R_OK) != 0)
        return;
    const struct term *t = relfile_read_first_term(c->a, path, NULL);
    kerr_clear();
    if (!term_is_tuple(t, 3))
        return;
    for (int dir = 1; dir <= 2; dir++) {
        size_t n;
        const struct term *const *el = term_list_els(term_elem(t, (size_t)dir), &n);
        for (size_t i = 0; i < n; i++) {
            if (!term_is_tuple(el[i], 2))
                continue;
            const struct term *key = term_elem(el[i], 0);
            const char *k = key->type == TERM_BITS ? NULL : term_text(c->a, key);
            if (k && old_vsn && strcmp(k, old_vsn))
                continue;
            size_t m;
            const struct term *const *ins = term_list_els(term_elem(el[i], 1), &m);
            for (size_t q = 0; q < m; q++)
                if (term_is_tagged(ins[q], "apply", 2)) {
                    if (dir == 1)
                        *up = true;
                    else
                        *down = true;
                }
        }
    }
}

static bool exports_code_change(const struct cmod *m)
{
    for (size_t i = 0; i < m->info.nexports; i++)
        if (!strcmp(m->info.exports[i].fun, "code_change"))
            return true;
    return false;
}

/* ---------------------------------------------------------------- version rules */

struct set {
    struct cmod *m; /* sorted by name */
    size_t n;
};

static int cmp_mod(const void *x, const void *y)
{
    return strcmp(((const struct cmod *)x)->name, ((const struct cmod *)y)->name);
}

static struct cmod *set_find(const struct set *s, const char *name)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->m[mid].name, name);
        if (c == 0)
            return &s->m[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* note_no_debug - once per module: which rules could not read it */
static void note_no_debug(struct cx *c, struct cmod *m, const char *from, const char *which,
                          const char *rules_text)
{
    if (m->noted)
        return;
    m->noted = true;
    add(c, m, R_NO_DEBUG_INFO, NULL, 0, NULL, from,
        arena_sprintf(c->a, "%s has no debug info in %s: %s could not check it", m->name, which,
                      rules_text));
}

static void sup_rule(struct cx *c, struct cmod *old, struct cmod *new, const char *from)
{
    const struct term *fo = forms(c, old), *fn = forms(c, new);
    struct closure co = {fo, NULL, 0, 0, c->a}, cn = {fn, NULL, 0, 0, c->a};
    closure_add(&co, "init", 1);
    closure_add(&cn, "init", 1);
    uint64_t ho = 14695981039346656037ULL, hn = ho;
    for (size_t i = 0; i < co.n; i++)
        ho = hash(ho, co.funs[i]);
    for (size_t i = 0; i < cn.n; i++)
        hn = hash(hn, cn.funs[i]);
    if (ho == hn)
        return;
    struct ids io = {c->a, NULL, 0, 0, NULL, NULL, NULL, 0};
    struct ids in = {c->a, NULL, 0, 0, NULL, NULL, NULL, 0};
    collect_ids(&io, &co);
    collect_ids(&in, &cn);
    struct buf added = BUF_INIT, removed = BUF_INIT;
    for (size_t i = 0; i < in.n; i++)
        if (!has_id(&io, in.v[i]))
            buf_addf(&added, "%s%s", added.len ? ", " : "", in.v[i]);
    for (size_t i = 0; i < io.n; i++)
        if (!has_id(&in, io.v[i]))
            buf_addf(&removed, "%s%s", removed.len ? ", " : "", io.v[i]);
    bool up, down;
    applies(new, &up, &down);
    appup_applies(c, new, old->avsn, &up, &down);
    struct fform ff = {NULL, 0, NULL};
    find_function(fn, "init", 1, &ff);
    const char *file = first_file(c->a, fn);
    if (added.len && !down)
        add(c, new, R_SUP_NO_DOWN, file, ff.line, "init/1", from,
            arena_sprintf(c->a,
                          "the upgrade from %s adds the child %s to the supervisor %s, and no "
                          "knit_apply {down, ...} removes it: a downgrade keeps the child "
                          "(supervisor:code_change keeps children the old init/1 does not "
                          "list), running code the old release lacks; once it is purged or "
                          "exits its restarts fail and the supervisor dies with its tree",
                          from, buf_cstr(&added), new->name));
    /* flags or the specs of children that stay: the supervisor's code_change handles those */
    bool unknown = io.n == 0 && in.n == 0;
    if (!up && (added.len || removed.len || unknown))
        add(c, new, R_SUP_CHANGED, file, ff.line, "init/1", from,
            arena_sprintf(c->a,
                          "the children of the supervisor %s changed since %s (%s%s%s%s%s) and "
                          "no knit_apply starts or stops them: the update only changes the "
                          "specs of running children, so added children never start and "
                          "removed ones keep running",
                          new->name, from, added.len ? "added: " : "", buf_cstr(&added),
                          added.len && removed.len ? "; " : "", removed.len ? "removed: " : "",
                          unknown ? "init/1 changed; no child ids could be read from it"
                                  : buf_cstr(&removed)));
    buf_free(&added);
    buf_free(&removed);
}

struct rec_uses {
    const char **names;
    size_t n, cap;
    struct arena *a;
};

static void rec_visit(const struct term *t, void *arg)
{
    struct rec_uses *u = arg;
    if (term_is_tagged(t, "record", 4) && atom_of(term_elem(t, 2))) {
        if (u->n == u->cap) {
            size_t cap = u->cap ? u->cap * 2 : 8;
            const char **v = arena_alloc(u->a, cap * sizeof *v);
            if (u->n)
                memcpy(v, u->names, u->n * sizeof *v);
            u->names = v;
            u->cap = cap;
        }
        u->names[u->n++] = atom_of(term_elem(t, 2));
    }
}

static void state_rule(struct cx *c, struct cmod *old, struct cmod *new, const char *from)
{
    const struct term *fn = forms(c, new);
    summary(c, old);
    summary(c, new);
    size_t nro = old->nrecs, nrn = new->nrecs;
    const struct rec *ro = old->recs, *rn = new->recs;
    struct rec_uses u = {NULL, 0, 0, c->a};
    struct fform ff;
    if (find_function(fn, "init", 1, &ff))
        visit(ff.form, rec_visit, &u);
    for (size_t i = 0; i < nrn; i++) {
        bool cand = !strcmp(rn[i].name, "state");
        for (size_t k = 0; k < u.n && !cand; k++)
            cand = !strcmp(u.names[k], rn[i].name);
        const struct rec *o = cand ? find_rec(ro, nro, rn[i].name) : NULL;
        if (!o || !strcmp(o->fields, rn[i].fields) || exports_code_change(new))
            continue;
        add(c, new, R_STATE_RECORD, rn[i].file[0] ? rn[i].file : NULL, rn[i].line, NULL, from,
            arena_sprintf(c->a,
                          "the state record #%s{} of %s changed since %s (fields %s -> %s) and "
                          "%s exports no code_change: it is loaded without converting the "
                          "state, and the running process crashes on its next message when "
                          "the new code matches the old record",
                          rn[i].name, new->name, from, o->fields, rn[i].fields, new->name));
    }
}

static bool is_hrl(const char *f)
{
    size_t n = strlen(f);
    return n > 4 && !strcmp(f + n - 4, ".hrl");
}

static const char *base_name(const char *f)
{
    const char *s = strrchr(f, '/');
    return s ? s + 1 : f;
}

/* shared_records - records from an .hrl whose fields changed between OLD and NEW, checked for
 * includers in other applications of the new release NOW */
static void shared_records(struct cx *c, struct cmod *old, struct cmod *new, struct set *now,
                           const char *from)
{
    size_t nro, nrn;
    summary(c, old);
    summary(c, new);
    const struct rec *ro = old->recs, *rn = new->recs;
    nro = old->nrecs;
    nrn = new->nrecs;
    for (size_t i = 0; i < nrn; i++) {
        if (!is_hrl(rn[i].file))
            continue;
        const struct rec *o = find_rec(ro, nro, rn[i].name);
        if (!o || !strcmp(o->fields, rn[i].fields))
            continue;
        /* who includes it: modules of the release with a record of that name from an .hrl
         * of that name */
        const char *hb = base_name(rn[i].file);
        struct buf apps = BUF_INIT;
        size_t napps = 0;
        const char **seen = arena_alloc(c->a, (now->n + 1) * sizeof *seen);
        for (size_t k = 0; k < now->n; k++) {
            struct cmod *m = &now->m[k];
            if (m->otp || !m->app)
                continue;
            bool dup = false;
            for (size_t q = 0; q < napps && !dup; q++)
                dup = !strcmp(seen[q], m->app);
            if (dup || load(c, m) != 0)
                continue;
            if (!summary(c, m)) {
                /* it may include the header: say that it could not be read */
                note_no_debug(c, m, from, "the new release", "shared_record_changed");
                continue;
            }
            size_t nr = m->nrecs;
            const struct rec *r = m->recs;
            for (size_t q = 0; q < nr; q++)
                if (!strcmp(r[q].name, rn[i].name) && is_hrl(r[q].file) &&
                    !strcmp(base_name(r[q].file), hb)) {
                    seen[napps++] = m->app;
                    buf_addf(&apps, "%s%s (%s)", apps.len ? ", " : "", m->app, m->name);
                    break;
                }
        }
        if (napps >= 2)
            add(c, new, R_SHARED_RECORD, rn[i].file, rn[i].line, NULL, from,
                arena_sprintf(c->a,
                              "the record #%s{} of %s changed since %s (fields %s -> %s) and "
                              "%zu applications include it: %s; values built by one side's "
                              "old code (in messages, ETS, process state) do not match the "
                              "other side's new code during and after the upgrade",
                              rn[i].name, hb, from, o->fields, rn[i].fields, napps,
                              buf_cstr(&apps)));
        buf_free(&apps);
    }
}

/* A removed export or deleted module, for the search of callers. */
struct gone {
    const char *mod, *fun; /* FUN NULL: the whole module was deleted */
    unsigned arity;
    const char *app;
};

/* gone entries ordered by module, then by their place in the list (the first that matches
 * a call is the one reported, as when the list is scanned) */
static int cmp_gone(const void *x, const void *y)
{
    const struct gone *const *p = x, *const *q = y;
    int d = strcmp((*p)->mod, (*q)->mod);
    return d ? d : (*p < *q ? -1 : *p > *q);
}

static void callers(struct cx *c, struct set *now, const struct gone *g, size_t ng,
                    const char *from)
{
    if (ng == 0)
        return;
    /* each call looks up its module among the removed names: a sort and a binary search,
     * not a scan of every removed name per call (quadratic at 1,000 applications) */
    const struct gone **by = xmalloc(ng * sizeof *by);
    for (size_t q = 0; q < ng; q++)
        by[q] = &g[q];
    qsort(by, ng, sizeof *by, cmp_gone);
    static const char *const rpcs[] = {"call",       "cast",         "block_call",
                                       "async_call", "send_request", NULL};
    for (size_t k = 0; k < now->n; k++) {
        struct cmod *m = &now->m[k];
        if (m->otp || load(c, m) != 0 || !code(c, m))
            continue;
        for (size_t i = 0; i < m->code.nfuncs; i++) {
            const struct bc_func *f = &m->code.funcs[i];
            for (size_t e = f->ev_lo; e < f->ev_hi; e++) {
                const struct bc_event *ev = &m->code.ev[e];
                if (ev->kind != BC_EXT && ev->kind != BC_EXT_TAIL)
                    continue;
                const struct bc_import *im = &m->code.imports[ev->arg];
                const char *tm = im->mod, *tf = im->fun;
                long ta = im->arity;
                bool rpc = (!strcmp(im->mod, "rpc") || !strcmp(im->mod, "erpc")) &&
                           in_list(im->fun, rpcs) && im->arity >= 4;
                if (rpc) {
                    /* rpc:call(Node, M, F, Args): M and F in x1 and x2 when literal */
                    if (!ev->x[1] || !ev->x[2] || ev->x[1] > m->code.natoms ||
                        ev->x[2] > m->code.natoms)
                        continue;
                    tm = m->code.atoms[ev->x[1]];
                    tf = m->code.atoms[ev->x[2]];
                    ta = -1;
                }
                if (!strcmp(tm, m->name))
                    continue;
                size_t lo = 0, hi = ng;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (strcmp(by[mid]->mod, tm) < 0)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                for (size_t q = lo; q < ng && !strcmp(by[q]->mod, tm); q++) {
                    const struct gone *gq = by[q];
                    if (gq->fun && (strcmp(gq->fun, tf) || (ta >= 0 && (long)gq->arity != ta)))
                        continue;
                    const char *file;
                    unsigned line;
                    code_loc(m, ev->line, &file, &line);
                    const char *how =
                        rpc ? arena_sprintf(c->a, " (by %s:%s)", im->mod, im->fun) : "";
                    if (gq->fun)
                        add(c, m, R_REMOVED_EXPORT, file, line, fa(c, f), from,
                            arena_sprintf(c->a,
                                          "%s calls %s:%s/%u%s, which the upgrade from %s "
                                          "removes (no longer exported, or its arity "
                                          "changed): the call fails with undef after the "
                                          "upgrade",
                                          m->name, gq->mod, gq->fun, gq->arity, how, from));
                    else
                        add(c, m, R_DELETED_MODULE, file, line, fa(c, f), from,
                            arena_sprintf(c->a,
                                          "%s calls %s:%s/%u%s, but the upgrade from %s "
                                          "deletes the module %s: the call fails with undef "
                                          "(and the module's old code is purged)",
                                          m->name, tm, tf, im->arity, how, from, gq->mod));
                    break;
                }
            }
        }
    }
    free(by);
}

/* ---------------------------------------------------------------- reading beams */

/* add_mod - a new entry at the end of *V for module NAME (STEM bytes) of APP at PATH */
static struct cmod *add_mod(struct cx *c, const struct lint_app *app, const char *name,
                            size_t stem, const char *path, struct cmod **v, size_t *n,
                            size_t *cap)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        struct cmod *nv = arena_alloc(c->a, *cap * sizeof *nv);
        if (*n)
            memcpy(nv, *v, *n * sizeof *nv);
        *v = nv;
    }
    struct cmod *m = &(*v)[(*n)++];
    memset(m, 0, sizeof *m);
    m->name = arena_memdup(c->a, name, stem);
    m->app = app->name;
    m->avsn = app->vsn;
    m->otp = app->otp;
    m->path = path;
    return m;
}

/* read_dir - the modules of APP: its BEAMS when given, else the .beam files of its ebin */
static int read_dir(struct cx *c, const struct lint_app *app, struct cmod **v, size_t *n,
                    size_t *cap)
{
    if (app->beams) {
        for (size_t k = 0; k < app->nbeams; k++) {
            const struct appup_beam *b = &app->beams[k];
            struct cmod *m =
                add_mod(c, app, b->name, fs_stem(b->name, ".beam"),
                        b->path ? b->path : arena_sprintf(c->a, "%s/%s", app->ebin, b->name), v,
                        n, cap);
            m->data = b->data; /* read already (NULL: read when needed) */
            m->len = b->len;
        }
        return 0;
    }
    DIR *d = opendir(app->ebin);
    if (!d)
        return kerr_errno(app->ebin, "cannot list");
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t stem = fs_stem(de->d_name, ".beam");
        if (stem)
            add_mod(c, app, de->d_name, stem, arena_sprintf(c->a, "%s/%s", app->ebin, de->d_name),
                    v, n, cap);
    }
    closedir(d);
    return 0;
}

static struct cmod *mods_of(struct cx *c, const struct appup_beam *b, size_t n, const char *app,
                            const char *avsn, const char *where)
{
    struct cmod *v = arena_alloc(c->a, (n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        size_t stem = fs_stem(b[i].name, ".beam");
        v[i].name = arena_memdup(c->a, b[i].name, stem ? stem : strlen(b[i].name));
        v[i].app = app;
        v[i].avsn = avsn;
        v[i].path = arena_sprintf(c->a, "%s/%s", where, b[i].name);
        v[i].data = b[i].data;
        v[i].len = b[i].len;
    }
    return v;
}

/* ---------------------------------------------------------------- entry points */

int lint_beams(struct arena *a, const struct lint_opts *o, const char *const *paths, size_t npaths,
               struct lint_report *r)
{
    /* one module at a time in a scratch arena: only the findings are kept */
    struct arena scratch;
    arena_init(&scratch);
    struct cx c = {&scratch, a, o, r, NULL};
    int rc = 0;
    for (size_t i = 0; i < npaths && rc == 0; i++) {
        struct cmod *m = arena_alloc(&scratch, sizeof *m);
        size_t len;
        const char *data = fs_read_file(&scratch, paths[i], &len);
        if (!data)
            rc = -1;
        else if (!beam_is_beam((const uint8_t *)data, len))
            rc = kerr_set(KERR_INPUT, paths[i], 0, 0, "not a beam file");
        if (rc != 0)
            break;
        m->path = paths[i];
        m->data = (const uint8_t *)data;
        m->len = len;
        if ((rc = load(&c, m)) != 0)
            break;
        r->modules++;
        lint(&c, m, NULL);
        arena_reset(&scratch);
    }
    arena_close(&scratch);
    return rc;
}

static const char *from_app_vsn(const struct upgrade_from *f, const char *app)
{
    for (size_t i = 0; i < f->rel.napps; i++)
        if (!strcmp(f->rel.apps[i].name, app))
            return f->rel.apps[i].vsn;
    return NULL;
}

static void debug_rules(struct cx *c, struct cmod *old, struct cmod *nm, struct set *now,
                        const char *from)
{
    static const char *const sup[] = {"supervisor", NULL};
    static const char *const gens[] = {"gen_server", "gen_statem", "gen_event", "gen_fsm", NULL};
    bool is_sup = has_behaviour(nm, sup), is_gen = has_behaviour(nm, gens);
    const char *which = !summary(c, nm) ? "the new release" : !summary(c, old) ? from : NULL;
    if (which) {
        note_no_debug(c, nm, from, which,
                      is_sup   ? "sup_child_no_down, sup_children_changed and shared_record_changed"
                      : is_gen ? "state_record_changed and shared_record_changed"
                               : "shared_record_changed");
        return;
    }
    if (is_sup)
        sup_rule(c, old, nm, from);
    if (is_gen)
        state_rule(c, old, nm, from);
    shared_records(c, old, nm, now, from);
}

/* warn_unknown_rules - a check_ignore entry that names no rule silences nothing: say so */
static void warn_unknown_rules(const struct lint_opts *o)
{
    size_t n;
    const struct term *const *el = o && o->ignore ? term_list_els(o->ignore, &n) : NULL;
    for (size_t i = 0; el && i < n; i++) {
        const struct term *id = term_is_tuple(el[i], 2) ? term_elem(el[i], 0) : el[i];
        bool known = false;
        for (size_t k = 0; k < sizeof rules / sizeof rules[0] && !known; k++)
            known = term_is_atom(id, rules[k].id);
        if (!known)
            log_warn("check_ignore: '%s' is no rule of knit check; it silences nothing",
                     id->type == TERM_ATOM ? id->u.atom.name : "?");
    }
}

static int release_run(struct cx *cx, const struct lint_app *apps, size_t napps,
                       const struct upgrade_from *from, size_t nfrom);

int lint_release(struct arena *a, const struct lint_opts *o, const struct lint_app *apps,
                 size_t napps, const struct upgrade_from *from, size_t nfrom, struct lint_report *r)
{
    struct beam_table bytes = {NULL, 0, 0};
    struct cx c = {a, a, o, r, &bytes};
    int rc = release_run(&c, apps, napps, from, nfrom);
    free(bytes.slot);
    return rc;
}

static int release_run(struct cx *cx, const struct lint_app *apps, size_t napps,
                       const struct upgrade_from *from, size_t nfrom)
{
    struct cx c = *cx;
    struct arena *a = c.a;
    struct lint_report *r = c.r;
    const struct lint_opts *o = c.o;
    struct set now = {NULL, 0};
    size_t cap = 0;
    warn_unknown_rules(o);
    for (size_t i = 0; i < napps; i++)
        if (read_dir(&c, &apps[i], &now.m, &now.n, &cap) != 0)
            return -1;
    if (now.n)
        qsort(now.m, now.n, sizeof *now.m, cmp_mod);
    if (nfrom == 0) {
        for (size_t k = 0; k < now.n; k++) {
            if (now.m[k].otp)
                continue;
            if (load(&c, &now.m[k]) != 0)
                return -1;
            r->modules++;
            lint(&c, &now.m[k], NULL);
        }
        return 0;
    }
    for (size_t j = 0; j < nfrom; j++) {
        const struct upgrade_from *f = &from[j];
        struct gone *gone = NULL;
        size_t ngone = 0, gcap = 0;
        /* every application of the earlier release whose version differs (or is gone) */
        for (size_t i = 0; i < f->rel.napps; i++) {
            const char *app = f->rel.apps[i].name, *ov = f->rel.apps[i].vsn;
            const struct lint_app *na = NULL;
            for (size_t q = 0; q < napps; q++)
                if (!strcmp(apps[q].name, app))
                    na = &apps[q];
            if (na && !strcmp(na->vsn, ov))
                continue;
            size_t nb;
            const struct appup_beam *b = upgrade_beams(a, f, app, ov, &nb);
            const char *where = arena_sprintf(a, "%s/lib/%s-%s/ebin", f->tarball, app, ov);
            struct cmod *old = mods_of(&c, b, nb, app, ov, where);
            for (size_t k = 0; k < nb; k++) {
                struct cmod *om = &old[k];
                struct cmod *nm = set_find(&now, om->name);
                if (load(&c, om) != 0)
                    return -1;
                if (!nm) {
                    if (ngone == gcap) {
                        gcap = gcap ? gcap * 2 : 16;
                        gone = xrealloc(gone, gcap * sizeof *gone);
                    }
                    gone[ngone++] = (struct gone){om->name, NULL, 0, app};
                    continue;
                }
                if (load(&c, nm) != 0) {
                    free(gone);
                    return -1;
                }
                nm->in_from = j + 1;
                if (!memcmp(om->info.md5, nm->info.md5, 16))
                    continue;
                r->modules += !nm->linted;
                lint(&c, nm, f->vsn);
                /* exports the new version no longer has */
                for (size_t e = 0; e < om->info.nexports; e++) {
                    const struct beam_mfa *x = &om->info.exports[e];
                    bool kept = false;
                    for (size_t q = 0; q < nm->info.nexports && !kept; q++)
                        kept = nm->info.exports[q].arity == x->arity &&
                               !strcmp(nm->info.exports[q].fun, x->fun);
                    if (kept)
                        continue;
                    if (ngone == gcap) {
                        gcap = gcap ? gcap * 2 : 16;
                        gone = xrealloc(gone, gcap * sizeof *gone);
                    }
                    gone[ngone++] = (struct gone){om->name, x->fun, x->arity, app};
                }
                if (!nm->otp) /* OTP's own supervisors and records: not the user's to fix */
                    debug_rules(&c, om, nm, &now, f->vsn);
            }
        }
        /* modules added to a new or changed application version */
        for (size_t k = 0; k < now.n; k++) {
            struct cmod *nm = &now.m[k];
            const char *ov = from_app_vsn(f, nm->app);
            if (nm->otp || (ov && !strcmp(ov, nm->avsn)) || nm->in_from == j + 1)
                continue;
            if (load(&c, nm) != 0) {
                free(gone);
                return -1;
            }
            if (!nm->linted) {
                r->modules++;
                lint(&c, nm, f->vsn);
            }
        }
        callers(&c, &now, gone, ngone, f->vsn);
        free(gone);
    }
    return 0;
}

/* ---------------------------------------------------------------- output */

static const char *loc_text(struct arena *a, const struct lint_finding *f)
{
    if (f->file && f->line)
        return arena_sprintf(a, "%s:%u", f->file, f->line);
    if (f->file)
        return f->file;
    if (f->function)
        return arena_sprintf(a, "%s:%s", f->module ? f->module : "?", f->function);
    return f->module ? f->module : "?";
}

void lint_print(const struct lint_report *r, FILE *out)
{
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *f = &r->f[i];
        fprintf(out, "%s: %s [%s] %s%s%s%s\n    fix: %s\n", loc_text(&a, f), sev_names[f->sev],
                f->rule, f->function && f->file ? f->module : "", f->function && f->file ? ":" : "",
                f->function && f->file ? f->function : "",
                arena_sprintf(&a, "%s%s", f->function && f->file ? ": " : "", f->what), f->fix);
    }
    fprintf(out, "knit check: %zu module%s, %zu error%s, %zu warning%s, %zu note%s", r->modules,
            r->modules == 1 ? "" : "s", r->count[LINT_ERROR], r->count[LINT_ERROR] == 1 ? "" : "s",
            r->count[LINT_WARNING], r->count[LINT_WARNING] == 1 ? "" : "s", r->count[LINT_INFO],
            r->count[LINT_INFO] == 1 ? "" : "s");
    if (r->silenced)
        fprintf(out, " (%zu silenced)", r->silenced);
    fputc('\n', out);
    arena_close(&a);
}

json_t *lint_json(const struct lint_report *r)
{
    struct arena a;
    arena_init(&a);
    json_t *list = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *f = &r->f[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "rule", f->rule, "severity", sev_names[f->sev],
                      "location", loc_text(&a, f), "message", f->what, "fix", f->fix);
        json_object_set_new(o, "module", f->module ? json_string(f->module) : json_null());
        json_object_set_new(o, "app", f->app ? json_string(f->app) : json_null());
        json_object_set_new(o, "file", f->file ? json_string(f->file) : json_null());
        json_object_set_new(o, "line", f->line ? json_integer(f->line) : json_null());
        json_object_set_new(o, "function", f->function ? json_string(f->function) : json_null());
        json_object_set_new(o, "from", f->from ? json_string(f->from) : json_null());
        json_array_append_new(list, o);
    }
    arena_close(&a);
    return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "findings", list, "summary", "modules",
                     (json_int_t)r->modules, "errors", (json_int_t)r->count[LINT_ERROR], "warnings",
                     (json_int_t)r->count[LINT_WARNING], "notes", (json_int_t)r->count[LINT_INFO],
                     "silenced", (json_int_t)r->silenced);
}

bool lint_failed(const struct lint_report *r, bool strict)
{
    return r->count[LINT_ERROR] > 0 || (strict && r->count[LINT_WARNING] > 0);
}

/* ---------------------------------------------------------------- the flow's hook */

int lint_upgrade(struct arena *a, const struct cfg *c, const struct target_result *built,
                 const struct relfile_rel *new_rel, const struct upgrade_from *from, size_t nfrom,
                 const bool *skip)
{
    struct lint_app *apps = arena_alloc(a, (new_rel->napps + 1) * sizeof *apps);
    for (size_t i = 0; i < new_rel->napps; i++) {
        const char *n = new_rel->apps[i].name, *v = new_rel->apps[i].vsn;
        apps[i].name = n;
        apps[i].vsn = v;
        apps[i].ebin = arena_sprintf(a, "%s/lib/%s-%s/ebin", built->build_dir, n, v);
        apps[i].beams = NULL;
        apps[i].nbeams = 0;
        if (built->streamed) {
            apps[i].beams = target_beams(a, built, arena_sprintf(a, "%s-%s", n, v), &apps[i].nbeams);
            if (!apps[i].beams)
                return -1;
        }
        apps[i].otp =
            c->root_dir && access(arena_sprintf(a, "%s/lib/%s-%s", c->root_dir, n, v), F_OK) == 0;
    }
    struct upgrade_from *kept = arena_alloc(a, (nfrom + 1) * sizeof *kept);
    size_t nk = 0;
    for (size_t j = 0; j < nfrom; j++)
        if (!skip || !skip[j])
            kept[nk++] = from[j];
    if (nk == 0)
        return 0; /* no upgrade is built */
    struct lint_opts o = {c->check_ignore};
    struct lint_report r = {0};
    int rc = lint_release(a, &o, apps, new_rel->napps, kept, nk, &r);
    for (size_t i = 0; rc == 0 && i < r.n; i++) {
        const struct lint_finding *f = &r.f[i];
        const char *line =
            arena_sprintf(a, "%s: [%s] %s (fix: %s)", loc_text(a, f), f->rule, f->what, f->fix);
        if (f->sev == LINT_ERROR)
            log_error("%s", line);
        else if (f->sev == LINT_WARNING)
            log_warn("%s", line);
        else
            log_verbose("%s", line);
    }
    if (rc == 0 && r.count[LINT_ERROR])
        rc = kerr_set(KERR_INPUT, NULL, 0, 0,
                      "knit check found %zu error%s in the upgrade (listed above; silence a "
                      "rule with -knit_check_ignore([Rule]) or {check_ignore, [...]})",
                      r.count[LINT_ERROR], r.count[LINT_ERROR] == 1 ? "" : "s");
    free(r.f);
    return rc;
}
