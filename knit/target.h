/* target.h - the target system (build dir) of a release model, written as reltool_target's
 * gen_target writes it, plus knit's releases/, bin/, overlays and the release tarball */
#ifndef KNIT_TARGET_H
#define KNIT_TARGET_H

#include "appup.h"
#include "arena.h"
#include "release.h"
#include "tarball.h"
#include "term.h"

#include <stdbool.h>

/* The outputs of target_build, for the report. Arena-owned. */
struct target_result {
    const char *build_dir; /* $target_dir/NAME */
    const char *tarball;   /* $release_dir/NAME-VSN.tar.gz: where it goes */
    const char *tarball_stage; /* where target_build wrote it (fs_stage_path) */
    const char *rel_name, *rel_vsn, *erts_vsn;
    const struct term *rel; /* the boot release's .rel term */
    const char *old_dir;    /* the earlier build dir, set aside for target_finish; or NULL */
    /* streamed (--tarball-only, {build_dir, false}): BUILD_DIR is a staging dir beside
     * $target_dir/NAME holding all but the bulk of the release (the .app and .appup files,
     * releases/, bin/, what the overlays wrote); the other files are VFILES (sorted by name),
     * packed from their sources. target_finish removes the staging dir. */
    bool streamed;
    struct tarball_vfile *vfiles;
    size_t nvfiles;
};

/* target_build - write the target system for R into a fresh directory beside
 * $target_dir/NAME, run the overlays, check sys.config and vm.args, swap it into place
 * (an earlier build dir is replaced only once the new one is complete), then pack the
 * release tarball when PACK (otherwise OUT->tarball is NULL) at OUT->tarball_stage, beside
 * OUT->tarball: the caller renames it into place when its whole run succeeded (flow_commit
 * judges an existing tarball; FORCE is unused here). Returns 0, or -1 with the
 * error recorded: KERR_IO (a failed write), KERR_INPUT (bad
 * sys.config, missing vm.args, overlay errors), KERR_BUILD (boot script errors). */
int target_build(struct arena *a, const struct release *r, bool force, bool pack, bool stream,
                 struct target_result *out);
/* target_finish - remove the earlier build dir that target_build set aside (renamed
 * beside the new one), or a streamed build's staging dir. Callers that create many files after target_build (extracting
 * earlier releases) call it last: on ext4 without a journal, files created just after
 * thousands were deleted are slow to allocate. */
void target_finish(struct target_result *res);

/* target_beams - the .beam files of lib/DIR/ebin of the built release (DIR is APP-VSN):
 * in RES's build dir, or (streamed) the virtual ones, each with the path of its source (and
 * its bytes when the release read them already).
 * Sorted by name; *N of them. Returns NULL (KERR_IO) when a build dir's ebin cannot be
 * listed. */
const struct appup_beam *target_beams(struct arena *a, const struct target_result *res,
                                      const char *dir, size_t *n);
/* target_path - the file on disk that holds REL (relative to the build dir) */
const char *target_path(struct arena *a, const struct target_result *res, const char *rel);

/* target_check_config - VSNDIR/sys.config parses as one list of {App, Env} (or
 * config file names) and VSNDIR/vm.args exists; messages name sys.config as SYS_SRC (the
 * file the user edits, NULL when knit wrote it) and the others as SHOWN/...
 * Returns 0, or -1 with KERR_INPUT (release_handler would silently install an empty
 * configuration for a broken sys.config, so knit refuses to pack one). Declared here, with
 * the target system that writes those files, and called by upgrade.c too: the upgrade
 * tarball carries the same two files and must not be packed with broken ones either. */
int target_check_config(struct arena *a, const char *vsndir, const char *shown,
                        const char *sys_src);

#endif
