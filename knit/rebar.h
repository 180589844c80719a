/* rebar.h - rebar3 projects: rebar.config's {relx, [...]} read into knit's config model */
#ifndef KNIT_REBAR_H
#define KNIT_REBAR_H

#include "arena.h"
#include "cfg.h"

#include <stdbool.h>

/* rebar_set_profile - the rebar3 profile of `--profile P` (NULL: "default", or "prod" when
 * the relx section says {mode, prod}); the string is not copied */
void rebar_set_profile(const char *profile);

/* rebar_is_config - whether PATH names a rebar.config (by its file name) */
bool rebar_is_config(const char *path);

/* rebar_translate - read the rebar.config at PATH (C->file and C->dir already set, the
 * defaults of cfg_load already in C) and fill C as relx would build the release: the chosen
 * release, applications from _build/PROFILE/lib, _build/PROFILE/checkouts, _checkouts and
 * the OTP installation, sys.config/vm.args (and their .src forms) as overlay copies, relx's
 * layout (C->relx_layout). Relx options knit does not support are warnings naming them.
 * Everything lives in A. Returns 0, or -1 with KERR_INPUT (no relx section, several
 * releases and no default_release, an application missing from _build, a malformed
 * option). */
int rebar_translate(struct arena *a, const char *path, struct cfg *c);

/* rebar_resolve_vsn - a relx release version term T resolved in DIR as relx resolves it: a
 * string as it is; {git, short} / {git, long}: `git rev-parse [--short] HEAD`; {cmd, Cmd}:
 * the command's output; semver / {semver, _} / git: the last tag (leading 'v's dropped),
 * with "+build.N.refREF" when N commits follow it. A failing command gives "0.0.0" (with a
 * warning), as in relx. Returns an arena string, or NULL when T is no version form. */
const char *rebar_resolve_vsn(struct arena *a, const struct term *t, const char *dir);

#endif
