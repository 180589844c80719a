/* release.h - the release model: which applications and modules a target system holds, as
 * reltool_server decides it (target.h writes the target system from it) */
#ifndef KNIT_RELEASE_H
#define KNIT_RELEASE_H

#include "arena.h"
#include "cfg.h"
#include "term.h"

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* A three-valued flag as reltool keeps is_included: undefined until something decides. */
enum release_tri { RELEASE_UNDEF = -1, RELEASE_NO = 0, RELEASE_YES = 1 };

struct release_app;

/* One module of one candidate application (reltool's #mod{}). */
struct release_mod {
    const char *name;
    struct release_app *app;
    const char *incl_cond;  /* {mod, M, [{incl_cond, _}]}, or NULL */
    const char *debug_info; /* {mod, M, [{debug_info, _}]}, or NULL */
    bool exists;            /* ebin/M.beam is there */
    bool is_app_mod;        /* listed in the .app (or its start module) */
    bool is_ebin_mod;
    bool uses_read;    /* uses/nuses filled (read lazily from the beam's imports) */
    const char **uses; /* modules it calls (xref "UM": imports, BIFs left out) */
    size_t nuses;
    const char *uses_unread; /* the beam whose calls could not be read, until said */
    const uint8_t *beam; /* the beam's bytes, as read for USES (NULL when not read); the */
    size_t beam_len;     /* target copies or streams them without reading the file again */
    int incl; /* enum release_tri */
    int pre;  /* is_pre_included */
};

/* A candidate application (reltool's #app{} with its #app_info{}). */
struct release_app {
    const char *name;
    const char *vsn;   /* from the .app, else from the directory name, else "" */
    const char *dir;   /* the active directory (absolute) */
    const char *label; /* NAME-VSN (NAME when VSN is "") */
    const char **dirs; /* every directory found for it, best first */
    size_t ndirs;
    const struct cfg_app *cfg; /* the {app, ...} or {erts, ...} settings, or NULL */
    /* from the .app file; defaults as reltool's #app_info{} */
    const struct term *info; /* the .app's option list, [] when unreadable */
    const char **applications, **incl_apps, **opt_apps, **modules;
    size_t napplications, nincl_apps, nopt_apps, nmodules;
    const char *start_mod;    /* {mod, {M, _}}, or NULL */
    struct release_mod *mods; /* sorted by name */
    size_t nmods;
    bool in_rels; /* used by some {rel, ...} (reltool's rels =/= []) */
    int incl;     /* enum release_tri */
    int pre;
};

/* The analysed system. */
struct release {
    const struct cfg *cfg;
    struct release_app *apps; /* every candidate, sorted by name */
    size_t napps;
    struct release_app *erts; /* the erts application (ROOT/lib/erts-VSN) */
    const char *erts_vsn;
    const char **missing_mods; /* modules called but found nowhere (reltool's *MISSING*) */
    size_t nmissing_mods;
    /* module name -> the struct release_mod that owns the name (reltool's mod_tab) */
    struct release_mod **mod_tab;
    size_t mod_tab_size;
};

/* release_analyse - find the candidate applications in cfg's lib_dirs and ROOT/lib, pick
 * each one's version, and decide which applications and modules the target system holds,
 * as reltool_server:refresh/1 and analyse/3 do (incl_cond, mod_cond, module calls read
 * from the beams' imports). Everything lives in A. Returns 0, or -1 with KERR_INPUT naming
 * the application (and the directories searched) for a missing, duplicate, conflicting
 * or excluded-but-needed application, KERR_IO when a directory cannot be read. */
int release_analyse(struct arena *a, const struct cfg *cfg, struct release *out);

/* release_app_find - the candidate NAME, or NULL */
struct release_app *release_app_find(const struct release *r, const char *name);

/* release_app_selected - whether APP goes into lib/ (reltool: is_included or
 * is_pre_included) */
bool release_app_selected(const struct release_app *app);

/* release_rel_term - the {release, {Name, Vsn}, {erts, EVsn}, Apps} term reltool writes
 * for REL (reltool_target:gen_rel: the rel's applications, their dependencies, the
 * embedded profile's load-only applications, sorted into start order). Returns an
 * arena-owned term, or NULL with KERR_INPUT for undefined or circular dependencies. */
const struct term *release_rel_term(struct arena *a, const struct release *r,
                                    const struct cfg_rel *rel);

#endif
