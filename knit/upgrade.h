/* upgrade.h - earlier releases (found, filtered, extracted safely) and slim upgrade tarballs */
#ifndef KNIT_UPGRADE_H
#define KNIT_UPGRADE_H

#include "appup.h"
#include "arena.h"
#include "cfg.h"
#include "relfile.h"

#include <stdbool.h>
#include <stddef.h>

/* A file kept in memory rather than extracted: lib/DIR/ebin/BEAM.name of an earlier
 * release. */
struct upgrade_file {
    const char *dir; /* APP-AVSN */
    struct appup_beam beam;
};

/* A module of an application version both releases have, whose code differs. */
struct upgrade_changed {
    const char *dir;    /* APP-AVSN */
    const char *module;
    const char *how;    /* "changed" (beam_lib:md5 differs), "added", "removed" */
};

/* An earlier release to upgrade from. Arena-owned. */
struct upgrade_from {
    const char *vsn;
    const char *tarball;  /* $release_dir/NAME-VSN.tar.gz */
    const char *root;     /* where it was extracted (the dir holding releases/) */
    const char *rel_file; /* ROOT/releases/VSN/NAME.rel */
    struct relfile_rel rel;
    struct upgrade_file *beams; /* the .beam files read, sorted by dir and name */
    size_t nbeams;
    struct upgrade_changed *changed; /* same application version, different code */
    size_t nchanged;
};

/* upgrade_versions - the versions to build upgrades from, sorted by knit's version order
 * (cfg->semver): FROM (NFROM versions from --from) when given, else cfg->upgrade_versions,
 * else every $release_dir/NAME-*.tar.gz older than CURRENT, filtered by cfg->version_regex
 * (PCRE2 with the flags of its {Regex, Options} form, unanchored as re:run) and
 * cfg->version_min (inclusive). A named version without
 * a tarball is KERR_INPUT saying where it looked. Sets *OUT (arena array) and *N (0 is a
 * normal answer: a first release), and *EXCL and *NEXCL to the other release tarballs found in
 * $release_dir that are not upgraded from, each with the reason (none when the versions
 * were named). */
struct upgrade_excluded {
    const char *vsn, *why;
    bool later; /* not older than CURRENT (the others were filtered out) */
};
int upgrade_versions(struct arena *a, const struct cfg *c, const char *name, const char *current,
                     const char *const *from, size_t nfrom, const char ***out, size_t *n,
                     struct upgrade_excluded **excl, size_t *nexcl);

/* upgrade_extract - extract the release tarball of VSN into TMP_DIR/from/VSN (treating it
 * as untrusted, see tarball_extract), accept both layouts, and read its NAME.rel. Only what
 * appups and relups read is taken: releases/ and the .app and .appup files of
 * lib/APP-AVSN/ebin are written; the .beam files of lib/APP-AVSN/ebin are read into memory
 * (OUT->beams, in A), except for application versions that NOW (the new release, or NULL)
 * has too, which need no appup: with BUILT (the new release's target, or NULL) their
 * beams are compared with its lib/APP-AVSN/ebin (target_beams) by beam_lib:md5, and each module that
 * changed, was added or removed under the same version goes to OUT->changed. Returns 0 or
 * -1 (KERR_INPUT for a bad archive or a missing/bad .rel). */
struct target_result;
int upgrade_extract(struct arena *a, const struct cfg *c, const char *name, const char *vsn,
                    const struct relfile_rel *now, const struct target_result *built,
                    struct upgrade_from *out);
/* upgrade_beams - the .beam files of lib/APP-AVSN/ebin read by upgrade_extract, as an array
 * in A (*N of them) */
const struct appup_beam *upgrade_beams(struct arena *a, const struct upgrade_from *f,
                                       const char *app, const char *avsn, size_t *n);

/* upgrade_pack - the slim upgrade tarball $upgrade_dir/NAME-VSN.tar.gz from BUILT (the
 * new release's build dir, relup already written), for the release NEW upgrading from the
 * NFROM releases FROM: lib/APP-AVSN for each application version some from-release lacks,
 * erts-EVSN when the ERTS version changed, releases/NAME-VSN.rel, and releases/VSN/{NAME.rel,
 * relup, NAME.boot, start.boot, start_clean.boot, sys.config, vm.args}. sys.config must
 * parse as a list of {App, Env} and vm.args must exist (KERR_INPUT otherwise: a broken
 * sys.config is silently replaced by an empty one by release_handler). Reproducible and
 * reproducible like the release tarball. *PATH gets the tarball's final path; it is written
 * at *STAGE (fs_stage_path) for the caller to rename into place when its whole run
 * succeeded. Returns 0 or -1. */
int upgrade_pack(struct arena *a, const struct cfg *c, const struct target_result *built,
                 const struct relfile_rel *new_rel, const struct upgrade_from *from, size_t nfrom,
                 const char **path, const char **stage);

#endif
