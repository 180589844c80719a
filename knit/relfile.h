/* relfile.h - read .rel and .app files and resolve applications along a path, as systools does */
#ifndef KNIT_RELFILE_H
#define KNIT_RELFILE_H

#include "arena.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

/* A directory search path (systools' Path), in search order. */
struct relfile_cache;
struct relfile_path {
    size_t n;
    const char **dirs;
    struct relfile_cache *cache; /* NULL, or set by relfile_path_cache */
};

/* An application as systools_make's #application record holds it. Strings are UTF-8 and
 * arena-owned; name lists are arrays of atom names. */
struct relfile_app {
    const char *name;
    const char *vsn;
    const char *type;  /* start type from the .rel: permanent, transient, temporary, load, none */
    const char *dir;   /* the directory the .app was found in (as systools joins it) */
    const char **mods; /* modules, in .app order */
    size_t nmods;
    const char **uses; /* applications (sorted into .rel order when there are several) */
    size_t nuses;
    const char **optional; /* optional_applications */
    size_t noptional;
    const char **incls; /* included_applications (or the .rel's override) */
    size_t nincls;
    const char **regs; /* registered */
    size_t nregs;
    const struct term *vsn_term; /* the vsn charlist */
    const struct term *app;      /* the raw {application, Name, Dict} term */
};

/* One application entry of a .rel file: {Name, Vsn[, Type][, Incls]}. */
struct relfile_rel_app {
    const char *name;
    const char *vsn;
    const char *type;         /* permanent when not given */
    const struct term *incls; /* the included-applications override, or NULL */
};

/* A .rel file: {release, {Name, Vsn}, {erts, EVsn}, Apps}. */
struct relfile_rel {
    const char *path; /* the file that was read */
    const char *name;
    const char *vsn;
    const char *erts_vsn;
    const struct term *name_term, *vsn_term, *erts_vsn_term;
    size_t napps;
    struct relfile_rel_app *apps; /* in .rel order */
    bool missing_sasl;            /* systools' {warning, missing_sasl} */
};

/* A release with its applications resolved, as systools_make:get_release/2 returns it. */
struct relfile_release {
    struct relfile_rel rel;
    size_t napps;
    struct relfile_app *apps; /* in start order (systools_make:sort_appls) */
};

/* Errors: every function below returns -1 (or NULL) with the error recorded; the message
 * ends with "(systools_make: KIND)" naming the reason systools would give, e.g.
 * not_found, no_valid_version, undefined_applications. Unreadable or unparsable files are
 * KERR_INPUT (file:line:col from the parser) or KERR_IO; the rest are KERR_BUILD. */

/* relfile_read_first_term - the first term of PATH, read as systools_lib:read_term does
 * (only the tokens up to the first full stop count; what follows is ignored). Returns the
 * term in A, or NULL with KERR_IO (cannot open), or KERR_INPUT (no full stop: "read" error,
 * or a parse error with its line). *KIND, when not NULL, is set to "open", "read" or "parse"
 * on failure. */
const struct term *relfile_read_first_term(struct arena *a, const char *path, const char **kind);

/* relfile_path_expand - systools_lib:get_path/1: each pattern is split at '/', components
 * holding '*' are regular expressions ('*' meaning [^/]*) matched against directory entries
 * in readdir order, and only directories are kept; patterns that match nothing vanish.
 * Appends to OUT (arena memory); never fails. */
void relfile_path_expand(struct arena *a, const char *const *patterns, size_t n,
                         struct relfile_path *out);

/* relfile_otp_root - the root of the Erlang installation that `erl` on PATH belongs to
 * (symlinks resolved), e.g. /usr/lib/erlang; NULL when there is none.
 * It lives here beside relfile_code_path (code:get_path() of a plain `erl`, which the
 * plumbing commands search as systools does without any config); cfg.c calls it too, for
 * root_dir's default, so a config and the plumbing find the same OTP. */
const char *relfile_otp_root(struct arena *a);

/* relfile_code_path - what code:get_path() holds in a plain `erl`: ".", then
 * ROOT/lib/kernel-*, stdlib-* and every other ROOT/lib/APP-VSN/ebin. Appends to OUT. */
void relfile_code_path(struct arena *a, struct relfile_path *out);

/* relfile_path_dedup - drop later duplicates of a directory (systools' make_set); drops the
 * path's cache */
void relfile_path_dedup(struct relfile_path *p);
/* relfile_path_cache - from now on, list each directory of P once and parse each .app file
 * found through P once, keeping both in A for later lookups through P (for work that looks
 * up the same applications several times: the files must not change meanwhile) */
void relfile_path_cache(struct arena *a, struct relfile_path *p);

/* relfile_read_rel - read FILE.rel (FILE without the extension), searched for as systools
 * does in "." and then PATH, and check it as systools_make:check_rel does. */
int relfile_read_rel(struct arena *a, const char *file, const struct relfile_path *path,
                     struct relfile_rel *out);

/* relfile_get_release - systools_make:get_release(File, Path): the .rel, every application
 * found and checked (undefined, duplicate registered names/modules/includes), sorted into
 * start order. */
int relfile_get_release(struct arena *a, const char *file, const struct relfile_path *path,
                        struct relfile_release *out);

#endif
