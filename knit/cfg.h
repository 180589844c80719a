/* cfg.h - the project configuration: reltool.config ({sys, ...} plus knit's options) */
#ifndef KNIT_CFG_H
#define KNIT_CFG_H

#include "arena.h"
#include "tarball.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

/* One application of a {rel, Name, Vsn, Apps} entry. */
struct cfg_rel_app {
    const char *name;
    const char *type;         /* permanent/transient/temporary/load/none, NULL when not given */
    const struct term *incls; /* included-applications override, NULL when not given */
};

struct cfg_rel {
    const char *name;
    const char *vsn; /* a VCS word is already replaced by the version it gives */
    struct cfg_rel_app *apps;
    size_t napps;
    bool load_dot_erlang; /* {load_dot_erlang, false} in the rel's options turns it off */
    uint32_t line;
};

/* reltool's per-application settings ({app, Name, [...]}) and the {erts, [...]} entry. */
struct cfg_app {
    const char *name;
    const char *incl_cond; /* NULL: inherit the sys setting */
    const char *mod_cond;
    const char *vsn;     /* pinned version, or NULL */
    const char *lib_dir; /* absolute, or NULL */
    const char *app_file;
    const char *debug_info;
    const struct term *incl_app_filters, *excl_app_filters; /* NULL: inherit */
    const struct term *incl_archive_filters, *excl_archive_filters;
    const struct term *mods; /* {mod, ...} entries, as given */
    uint32_t line;
};

/* The largest .rel of an earlier release knit reads: real ones are a few KB (200
 * applications); 1 MiB holds some 50,000. */
#define CFG_MAX_REL_BYTES (1ULL << 20)

struct cfg {
    const char *file; /* the config file (absolute) */
    const char *dir;  /* its directory */

    /* reltool {sys, [...]} */
    const char *root_dir;  /* the OTP installation (absolute) */
    const char **lib_dirs; /* absolute, in order */
    size_t nlib_dirs;
    struct cfg_rel *rels;
    size_t nrels;
    const struct cfg_rel *boot_rel;
    const char *profile;    /* development (default), standalone, embedded */
    const char *incl_cond;  /* default derived */
    const char *mod_cond;   /* default all */
    const char *app_file;   /* default keep */
    const char *debug_info; /* default keep */
    bool relocatable;
    /* filters: NULL when not given (the profile's defaults apply) */
    const struct term *incl_sys_filters, *excl_sys_filters;
    const struct term *incl_app_filters, *excl_app_filters;
    const struct term *incl_archive_filters, *excl_archive_filters;
    struct cfg_app *apps;
    size_t napps;
    struct cfg_app erts;

    /* knit options (README "knit options") */
    bool force, warnings_as_errors, semver, remove_tmp, include_erts, auto_depends;
    bool build_dir; /* false: knit and knit release write no build dir (--tarball-only) */
    bool allow_no_upgrade;           /* earlier releases but no upgrade is fine */
    const struct term *knit_defaults; /* [{App | {App, Module}, Attrs}], or NULL */
    int knit_defaults_line;
    const struct term *overlay;            /* list, or NULL */
    const struct term *overlay_vars;       /* a path or list of paths, or NULL */
    const struct term *extra_overlay_vars; /* same */
    const char *version_regex;            /* version_regex, or the original's version_regexp */
    const char *version_regex_opt;        /* which of the two spellings set it (messages) */
    uint32_t version_regex_compile_flags; /* PCRE2 flags from {Regex, Options}, as re:run's */
    uint32_t version_regex_match_flags;
    const char *version_min;
    const char **upgrade_versions; /* NULL when not given */
    size_t nupgrade_versions;
    const char *target_dir, *release_dir, *upgrade_dir, *tmp_dir; /* absolute */
    const struct term *check_ignore; /* {check_ignore, [Rule | {Rule, Module}]}, or NULL */
    bool relx_layout; /* a rebar3 project (rebar.c): the release laid out as relx lays it out */
    /* caps on what is taken from an earlier release (extract_max_bytes,
     * extract_max_entry_bytes, extract_max_entries; see tarball.h) and on the size of its
     * .rel (extract_max_rel_bytes: reading a term file costs ~30 times its size) */
    struct tarball_limits limits;
    unsigned long long max_rel_bytes;

    /* command-line name=value / name=!!term, in order, for the overlay context too */
    size_t nvars;
    const char **var_names;
    const struct term **var_values; /* charlist for name=value */
};

/* cfg_find - the config file to use: EXPLICIT when given, else reltool.config, else
 * rel/reltool.config in the current directory. Returns an arena string, or NULL with
 * KERR_INPUT saying where it looked. */
const char *cfg_find(struct arena *a, const char *explicit_path);

/* cfg_load - read and check the config at PATH, apply the command-line OVERRIDES
 * (name=value / name=!!term) and fill OUT (everything in it lives in A). Unknown options are warnings;
 * malformed ones fail with KERR_INPUT naming the option, the file and its line; options
 * that knit cannot honour without building a wrong release fail with KERR_UNSUPPORTED.
 * Returns 0 or -1. */
int cfg_load(struct arena *a, const char *path, char *const *overrides, size_t noverrides,
             struct cfg *out);

/* cfg_app_settings - the {app, NAME, ...} entry for NAME, or NULL */
const struct cfg_app *cfg_app_settings(const struct cfg *c, const char *name);

#endif
