/* guard.h - one knit run at a time per project, and removing only what knit made */
#ifndef KNIT_GUARD_H
#define KNIT_GUARD_H

#include "arena.h"
#include "cfg.h"

#include <stdbool.h>

/* The marker files that say a directory was made by knit (so that it may be removed). */
#define GUARD_TMP_MARKER ".knit-tmp"
#define GUARD_BUILD_MARKER ".knit-build"

/* A run's hold on its project. */
struct guard {
    int lock_fd;         /* $target_dir/.knit.lock, flock'ed; -1 when not held */
    const char *tmp_dir; /* made by this run (with its marker), or NULL */
};

/* guard_begin - take the lock $target_dir/.knit.lock for the run (a second run waits for
 * it when WAIT, else is refused with KERR_IO saying so), remove what killed runs left
 * (see guard_clean_stale), and when MAKE_TMP make C->tmp_dir afresh with its marker (an
 * existing tmp_dir is removed only when it holds the marker or is empty; otherwise
 * KERR_INPUT naming it). Returns 0 or -1; G is set either way (for guard_end). */
int guard_begin(struct arena *a, struct guard *g, const struct cfg *c, bool wait, bool make_tmp);

/* guard_end - remove the tmp dir this run made (when REMOVE_TMP) and release the lock;
 * 0, or -1 (KERR_IO) when the tmp dir could not be removed */
int guard_end(struct guard *g, bool remove_tmp);

/* guard_clean_stale - remove the leftovers of knit runs that were killed (their PID is no
 * longer running): $target_dir/.NAME.knit-new-PID and .NAME.knit-old-PID dirs holding
 * GUARD_BUILD_MARKER, and NAME.tmp-PID files and staged artifacts .NAME.knit-PID
 * (fs_stage_path) in release_dir and upgrade_dir. Best effort:
 * what cannot be removed is left. */
void guard_clean_stale(struct arena *a, const struct cfg *c);

/* guard_owned - whether DIR may be removed by knit: it is missing, empty, or holds MARKER */
bool guard_owned(const char *dir, const char *marker);

#endif
