/* lint.h - knit check: the hazards that break hot upgrades, found in the beams before a node
 * finds them (SPEC "knit check")
 *
 * Rules (id, severity): receive_no_after (warning), local_loop (warning), fun_in_state
 * (warning), stored_fun (warning), shared_record_changed (warning), sup_children_changed
 * (warning), sup_child_no_down (error), removed_export_called (error),
 * deleted_module_called (error), state_record_changed (error); no_debug_info and
 * not_checked (info) say that a rule could not look at a module. The first four are
 * single-version rules (bytecode only: Code, ImpT, FunT and Line chunks); the others compare
 * a module with its version in an earlier release, reading the abstract code (Dbgi) where
 * they need source structure.
 */
#ifndef KNIT_LINT_H
#define KNIT_LINT_H

#include "arena.h"
#include "cfg.h"
#include "relfile.h"
#include "term.h"
#include "upgrade.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum lint_sev { LINT_INFO, LINT_WARNING, LINT_ERROR };

/* One finding; all strings arena-owned. */
struct lint_finding {
    const char *rule;
    enum lint_sev sev;
    const char *module;
    const char *app;      /* NULL for plain beams */
    const char *file;     /* source file from the Line chunk or debug info, or NULL */
    unsigned line;        /* 0 when unknown */
    const char *function; /* "f/a", or NULL */
    const char *from;     /* the earlier release compared with, or NULL */
    const char *what;     /* what goes wrong at upgrade time */
    const char *fix;
};

struct lint_report {
    struct lint_finding *f;
    size_t n, cap;
    size_t count[3]; /* per enum lint_sev */
    size_t silenced;
    size_t modules; /* modules looked at */
};

struct lint_opts {
    const struct term *ignore; /* the config's check_ignore list, or NULL */
};

/* An application of the new release. */
struct lint_app {
    const char *name, *vsn;
    const char *ebin; /* its ebin directory */
    bool otp;         /* one of the installed OTP's applications: not linted, and not searched
                         for includers of a shared record */
    const struct appup_beam *beams; /* when not NULL: its NBEAMS .beam files (read from their */
    size_t nbeams;                  /* paths), instead of EBIN's listing */
};

/* lint_beams - the single-version rules over the NPATHS beam files PATHS. Returns 0, or -1
 * with KERR_IO/KERR_INPUT for a file that cannot be read or is no beam. */
int lint_beams(struct arena *a, const struct lint_opts *o, const char *const *paths, size_t npaths,
               struct lint_report *r);

/* lint_release - the new release (NAPPS applications APPS) against each of the NFROM earlier
 * releases FROM (read by upgrade_extract): the version rules, and the single-version rules on
 * every module added or changed. With NFROM == 0, the single-version rules on every module of
 * an application that is not OTP's. Returns 0, or -1 (KERR_IO, KERR_INPUT) when a beam
 * cannot be read. */
int lint_release(struct arena *a, const struct lint_opts *o, const struct lint_app *apps,
                 size_t napps, const struct upgrade_from *from, size_t nfrom,
                 struct lint_report *r);

/* lint_print - the findings for people, one per line plus its fix, then a summary */
void lint_print(const struct lint_report *r, FILE *out);
/* lint_json - {"findings": [...], "summary": {...}}, a new reference */
json_t *lint_json(const struct lint_report *r);
/* lint_failed - whether R holds an error (or, with STRICT, a warning) */
bool lint_failed(const struct lint_report *r, bool strict);

/* lint_upgrade - what `knit` runs on every upgrade it builds: lint_release of the release
 * BUILT (NEW_REL) against the NFROM earlier releases FROM, leaving out those SKIP
 * marks (SKIP may be NULL); warnings are logged with log_warn (so they reach the --json
 * report), errors with log_error, notes with log_verbose, and an error-level finding makes
 * it return -1 with KERR_INPUT (exit 2) saying how many there are. */
struct target_result;
int lint_upgrade(struct arena *a, const struct cfg *c, const struct target_result *built,
                 const struct relfile_rel *new_rel, const struct upgrade_from *from, size_t nfrom,
                 const bool *skip);

#endif
