/* script.h - make boot scripts from a release, as OTP's systools_make does */
#ifndef KNIT_SCRIPT_H
#define KNIT_SCRIPT_H

#include "arena.h"
#include "relfile.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

/* The parts of a boot script that belong to the OTP it boots (systools_make's preloaded/0,
 * mandatory_modules/0 and kernel_processes/0), learned from that OTP's own
 * releases/VSN/start_clean.script rather than from a table. Arena-owned. */
struct script_otp {
    const struct term *preloaded; /* {preLoaded, L}: L, a list of atoms */
    const struct term *mandatory; /* the {primLoad, L} before {kernel_load_completed}: L */
    size_t nprocs;
    const struct term **procs; /* each {kernelProcess, Name, {M, F, Args}}, in script order */
    bool *procs_kernel;        /* Args is [{application, kernel, _}]: the release's kernel
                                * application spec goes there */
};

/* script_learn_otp - learn OUT from ROOT/releases/VSN/start_clean.script, VSN taken from
 * ROOT/releases/start_erl.data (else the first releases/ entry holding the file). Returns 0,
 * or -1 with KERR_UNSUPPORTED (no such script, or not the shape systools writes), KERR_IO
 * or KERR_INPUT (unreadable or unparsable). */
int script_learn_otp(struct arena *a, const char *root, struct script_otp *out);

/* script_app_spec - systools_make:pack_app/1: the {application, Name, [...]} term that the
 * boot script loads, with systools' defaults filled in and its key order. Never fails. */
const struct term *script_app_spec(struct arena *a, const struct relfile_app *app);

/* script_make - systools_make:generate_script/4 for a resolved release: the term
 * {script, {Name, Vsn}, Instructions}, with every application's path as
 * "$ROOT/lib/APP-VSN/ebin" (systools' default path flag, no variables). NO_DOT_ERLANG
 * leaves out {apply, {c, erlangrc, []}}. Returns NULL with KERR_BUILD when the release has
 * no kernel application. */
const struct term *script_make(struct arena *a, const struct relfile_release *rel,
                               const struct script_otp *otp, bool no_dot_erlang);

/* script_write - write OUTPUT.script ("%% coding: utf-8" and the term as ~tp) and
 * OUTPUT.boot (term_to_binary), each written beside and renamed into place. Returns 0, or
 * -1 with KERR_IO; a .script written before the .boot failed is removed again. */
int script_write(const char *output, const struct term *script);

/* script_make_files - systools:make_script(REL_NAME, [{path, ...}, {outdir, OUTDIR}]):
 * read REL_NAME.rel (REL_NAME without the extension, looked for in "." and then PATH), find
 * its applications along PATH (the full search path: the caller appends the code path),
 * learn the OTP side from the installation `erl` on PATH belongs to, and write NAME.script
 * and NAME.boot beside REL_NAME, or in OUTDIR when it is neither NULL nor "". Warns (log)
 * about a missing sasl as systools does. Returns 0, or -1 with the error recorded and
 * nothing written. */
int script_make_files(struct arena *a, const char *rel_name, const struct relfile_path *path,
                      const char *outdir, bool no_dot_erlang);

#endif
