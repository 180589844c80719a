/* appup.h - generate an application's .appup from its beams' md5s and knit_* attributes
 *
 * Generation (README "Module attributes"): modules of the new and of each from-version's
 * ebin are compared by beam_lib:md5. Decisions the README leaves open, as implemented:
 * - From-versions appear in the appup in the order the caller gives them.
 * - Instruction order, up: `first` applies; then each module (added, then changed, then
 *   deleted; priority descending; name) followed by its `immediate` applies; then `last`
 *   applies. Applies within a phase: priority ascending, then MFA in term order.
 * - A changed module is dynamic when it exports code_change of any arity (gen_server has
 *   /3, gen_statem and gen_fsm /4), unless it is a supervisor (static).
 * - Deps = knit_depends entries in attribute order (deduplicated), then, with auto_depends,
 *   the changed or added modules it imports (calls), in module-name order. A dependency on
 *   a module that gets no instruction from this application's appup (unchanged, unknown,
 *   or in another application) or on the module itself is dropped and reported.
 * - Down: for every from-version, the instructions back to it: modules added by the
 *   upgrade are deleted, deleted ones added back, changed ones updated exactly as on the way
 *   up (same kind, Timeout, Extra, purge and Deps: all from the NEW beam, which is the code
 *   being replaced and whose code_change({down, Vsn}, ...) systools calls). Sorted as up:
 *   added back, changed, deleted; a module added back takes its priority from its old beam.
 *   knit_apply hooks run on upgrade; those written {down, Phase, MFA} run in the down
 *   instructions instead, at the same phases (first, after the module's own instruction,
 *   last), taken from the new beam (the code the downgrade replaces).
 * - Attributes are validated in every beam of the new version (so the same application
 *   fails the same way whatever the from-versions) and in the old beam of a deleted module.
 *   knit_depends and knit_apply take one item or a list of items per occurrence.
 */
#ifndef KNIT_APPUP_H
#define KNIT_APPUP_H

#include "arena.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

struct appup_beam;
struct appup_opts {
    bool auto_depends; /* infer Deps from imports (SPEC "Dependency inference"); default true */
    /* knit_defaults: [{App, Attrs} | {{App, Module}, Attrs}] from the config (NULL: none);
     * used for the attributes a module does not set itself ({App, Module} wins over App).
     * DEFAULTS_FILE and DEFAULTS_LINE name it in messages. */
    const struct term *defaults;
    const char *defaults_file;
    int defaults_line;
    /* when not NULL: the new version's .beam files (NNEW_BEAMS), read from their paths
     * instead of listing NEW_EBIN (a streamed release has no beams in its ebin) */
    const struct appup_beam *new_beams;
    size_t nnew_beams;
};

/* appup_opts_init - the defaults (auto_depends true) */
void appup_opts_init(struct appup_opts *o);

/* A .beam file in memory (from an earlier release's tarball). */
struct appup_beam {
    const char *name; /* mod.beam */
    const unsigned char *data;
    size_t len;
    const char *path; /* when DATA is NULL: the file to read (NULL: EBIN/NAME) */
};

/* One earlier version of the application. */
struct appup_from {
    const char *vsn;  /* its version, e.g. "1.0.0": the appup's key for it */
    const char *ebin; /* its ebin directory */
    const struct appup_beam *beams; /* when not NULL: the ebin's .beam files (NBEAMS), read */
    size_t nbeams;                  /* from here instead, EBIN only naming them in messages */
};

enum appup_action { APPUP_ADDED, APPUP_CHANGED, APPUP_DELETED };

/* What happens to one module in the upgrade from one version (all arena-owned). */
struct appup_module {
    const char *name;
    enum appup_action action;
    const char *kind;           /* "add_module", "delete_module", "supervisor" (static
                                   update), "code_change" (dynamic update), "load_module" */
    const struct term *up;      /* its upgrade instruction */
    const struct term *down;    /* its downgrade instruction */
    const struct term *applies; /* the {apply, MFA} instructions its knit_apply adds (up) */
    const char **deps;          /* Deps of a changed module, as in the instruction */
    size_t ndeps;
    const char **inferred; /* those of DEPS that came from imports, not knit_depends */
    size_t ninferred;
    const char **dropped; /* knit_depends entries left out of DEPS (no instruction) */
    size_t ndropped;
};

/* The upgrade from one version. */
struct appup_report {
    const char *from_vsn;
    struct appup_module *mods; /* in upgrade instruction order */
    size_t nmods;
    const struct term *up;   /* the up instructions for FROM_VSN */
    const struct term *down; /* the down instructions back to FROM_VSN */
};

struct appup_result {
    const struct term *appup;     /* {NewVsn, [{FromVsn, Up}, ...], [{FromVsn, Down}, ...]} */
    struct appup_report *reports; /* one per from-version, in the caller's order */
    size_t nreports;
};

/* appup_generate - the appup of application APP at version NEW_VSN (beams in NEW_EBIN) for
 * the NFROM earlier versions FROM. Everything in OUT lives in A. Write it with
 * term_print_file_terms. Returns 0, or -1 with the error recorded: KERR_INPUT naming the
 * beam for an unreadable beam, a beam whose module is not its file name, or an invalid
 * knit_* attribute (the message names module, attribute and value); KERR_IO for an ebin
 * directory that cannot be listed. Dropped dependencies are logged with log_verbose. */
int appup_generate(struct arena *a, const char *app, const char *new_vsn, const char *new_ebin,
                   const struct appup_from *from, size_t nfrom, const struct appup_opts *opts,
                   struct appup_result *out);

/* A beam handed to appup_changes, and what it is to the code it replaces. */
struct appup_change {
    const char *path;          /* the beam file (its base name must be MODULE.beam) */
    const unsigned char *data; /* its bytes, or NULL to read PATH */
    size_t len;
    enum appup_action action; /* APPUP_CHANGED (a module is loaded with another md5) or
                                 APPUP_ADDED (none is) */
};

/* appup_changes - the upgrade instructions for N beams the caller has already compared (a
 * hot patch: no earlier release, only what is loaded), generated exactly as appup_generate
 * generates them for changed and added modules (kinds, knit_* attributes, sort order, apply
 * phases, dependencies between the N modules). Fills REP (from_vsn = LABEL, everything in
 * A). Returns 0, or -1 with KERR_INPUT for an unreadable beam, a module not in a file of
 * its name, an invalid knit_* attribute, or a module given twice; KERR_IO when a PATH
 * cannot be read. */
int appup_changes(struct arena *a, const char *app, const char *label,
                  const struct appup_change *ch, size_t n, const struct appup_opts *opts,
                  struct appup_report *rep);

/* appup_read_handwritten - read the hand-written appup PATH of APP at version VSN and check
 * it as systools_relup reads it: the first term (later terms are a warning: libraries such as
 * ranch ship one term per version), a {Vsn, UpFrom, DownTo} tuple, Vsn the string VSN, UpFrom and DownTo lists of
 * {Key, Instrs}, Key a version string or a binary regular expression that compiles,
 * Instrs instructions systools_rc accepts. Sets *APPUP (in A) and returns 0, or returns -1
 * with KERR_INPUT (KERR_IO if PATH cannot be read) naming PATH, the line, and what is
 * wrong. Coverage of from-versions is not checked: see appup_missing. */
int appup_read_handwritten(struct arena *a, const char *path, const char *app, const char *vsn,
                           const struct term **appup);

#define APPUP_MISSING_UP 1   /* no upgrade entry for the version */
#define APPUP_MISSING_DOWN 2 /* no downgrade entry for the version */

/* appup_missing - which entries APPUP (a checked {Vsn, Up, Down}) lacks for FROM_VSN, as
 * systools_relup looks them up (a version string equal to it, or a binary regex whose
 * first match is the whole of it): 0 when both exist, else APPUP_MISSING_* bits. A caller
 * that skips such a from-version (with a warning) uses this instead of the strict check. */
int appup_missing(struct arena *a, const struct term *appup, const char *from_vsn);

/* appup_check_handwritten - appup_read_handwritten plus: every one of the NFROM versions
 * FROM_VSNS has an up and a down entry; -1 with KERR_INPUT naming PATH and the first
 * version and direction that is missing otherwise */
int appup_check_handwritten(struct arena *a, const char *path, const char *app, const char *vsn,
                            const char *const *from_vsns, size_t nfrom, const struct term **appup);

#endif
