/* vsn.h - release version ordering (knit's semver rules) and VCS-derived versions */
#ifndef KNIT_VSN_H
#define KNIT_VSN_H

#include <stdbool.h>
#include <stddef.h>

/* vsn_compare - <0, 0, >0. With SEMVER, versions split on '.', a leading 'v' is ignored,
 * numeric parts compare as numbers and sort before text parts, a part with a pre-release
 * tail ("0-rc1") sorts before the same number without one, and a version that is a prefix
 * of another sorts first ("1.0" < "1.0.0"). A `git describe` suffix "-N-gHEX" (hg's
 * "-N-mHEX") means N commits after the tag: it sorts after the tag and before the next
 * version ("2.0.0" < "2.0.0-1-gb761fcb" < "2.0.0-2-g0a1b2c3" < "2.0.1-rc1" < "2.0.1").
 * Without SEMVER: byte order. */
int vsn_compare(const char *a, const char *b, bool semver);
/* vsn_sort - sort the N strings of V in place by vsn_compare */
void vsn_sort(const char **v, size_t n, bool semver);

/* vcs_version - the version a `{rel, Name, VCS, Apps}` takes: VCS is git, hg, bzr, svn or
 * fossil, run in DIR (`git describe --always --tags`; hg: the latest tag, then
 * "-N-mHASH" when the working copy's parent is N commits after it, `bzr revno`,
 * `svnversion`, the checkout hash of `fossil info`). Returns a malloc'd string, or NULL with
 * KERR_INPUT (command failed or printed nothing) naming the command and DIR. */
char *vcs_version(const char *vcs, const char *dir);
/* vcs_is_vcs - whether NAME is one of the VCS words above */
bool vcs_is_vcs(const char *name);

#endif
