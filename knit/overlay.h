/* overlay.h - the overlay-variable context and the {overlay, [...]} steps run on the build dir */
#ifndef KNIT_OVERLAY_H
#define KNIT_OVERLAY_H

#include "arena.h"
#include "term.h"

#include <stddef.h>

#include <jansson.h>

/*
 * Where overlay variables come from, lowest precedence first (a later definition of a name
 * replaces an earlier one, as rebar2's and knit's dict:store did):
 *   1. the built-ins rel_name, rel_vsn, erts_vsn ("erts-EVSN", as rebar2 and knit define
 *      it, so "{{erts_vsn}}/bin" names the ERTS directory), target_dir, build_dir and
 *      hostname. They come first so that a project can override them, as rebar2 and the
 *      original knit allowed ("basics that can get overwritten").
 *   2. overlay_vars, then 3. extra_overlay_vars. Each is a file name, or a list whose
 *      elements are file names or inline {Name, Value} terms, taken in order. A file holds
 *      {Name, Value} terms (file:consult syntax); a relative name is relative to CFG_DIR.
 *   4. the command line's name=value (a string) and name=!!TERM, in order.
 * Names are atoms. A two-tuple whose first element is not an atom (MongooseIM's vars files
 * hold {{s2s_addr, "h"}, {127,0,0,1}}) cannot be named by a template: it is skipped with a
 * warning, as rebar2 accepted and ignored it. Any other term is an error.
 *
 * Values become JSON for mustache: a printable charlist ("" included) or a UTF-8 binary is
 * a string; true/false are booleans (so sections work); other atoms are strings; integers
 * that fit 64 bits and floats are numbers; a non-empty list of {atom, V} two-tuples, or a
 * map whose keys are all atoms, is an object (first key wins, as proplists:get_value);
 * any other list is an array; anything else (tuples, bignums, pids, other binaries) is
 * its Erlang text as ~tp writes it on one line ({a,"b"}, where ~tw would write {a,[98]}).
 *
 * Every string value holding "{{" is then rendered (no HTML escaping) against the whole
 * context, again and again until nothing changes, at most OVERLAY_EXPAND_ROUNDS times, so
 * {ring_state_dir, "{{platform_data_dir}}/ring"} works whatever the order of definition
 * (rebar2 rendered once, in hash order). A value still changing after the last round, or
 * left holding a tag that renders to itself, refers to itself: an error naming it (the
 * first defined of the cycle). Strings nested in objects
 * and arrays are expanded too. A value that does not parse as a template is an error, and
 * so is one that grows past OVERLAY_VALUE_MAX bytes (checked while it renders).
 */
#define OVERLAY_EXPAND_ROUNDS 10
#define OVERLAY_VALUE_MAX (1u << 20)

struct overlay_vars_src {
    const char *cfg_file;            /* reltool.config: named in messages about the options below */
    const char *cfg_dir;             /* its directory: the base of relative vars file names */
    const struct term *overlay_vars; /* the option's value, or NULL */
    const struct term *extra_overlay_vars; /* the option's value, or NULL */
    /* command-line name=value / name=!!TERM pairs in order (a charlist for name=value) */
    size_t ncli;
    const char *const *cli_names;
    const struct term *const *cli_values;
    /* built-ins; a NULL one is left out, except hostname (NULL: gethostname()) */
    const char *rel_name, *rel_vsn;
    const char *erts_vsn; /* the bare version ("13.1.5"); the variable gets "erts-" in front */
    const char *target_dir, *build_dir, *hostname;
};

/* overlay_context - build the overlay variable context described above. Returns a new
 * JSON object that the caller owns (json_decref), or NULL with the error recorded:
 * KERR_INPUT for a malformed option or vars file (its file and line), a vars file that
 * cannot be read (the config's file and line, and the reason), a bad template in a value
 * or a value that grows too large (the file and line defining the variable). A is used for
 * scratch terms and text only. */
json_t *overlay_context(struct arena *a, const struct overlay_vars_src *src);

/* overlay_term_to_json - TERM as JSON by the rules above (no expansion); a new reference
 * the caller owns; never fails (allocation aborts) */
json_t *overlay_term_to_json(struct arena *a, const struct term *t);

/*
 * The overlay steps, run in order (rebar2's and knit's set):
 *   {mkdir, Dir}                        mkdir -p BUILD/Dir
 *   {copy, Src}                         = {copy, Src, ""}: into the build dir's root
 *   {copy, Src, Dst}                    cp -R: a file or a whole tree; when Dst is an
 *                                       existing directory or ends in '/', Src goes inside
 *                                       it under its own name; modes are kept (& 0777);
 *                                       inside a copied tree symlinks stay symlinks, a
 *                                       symlinked Src itself is followed
 *   {template, Src, Dst}                Src rendered (no HTML escaping), Src's mode kept
 *   {template_wildcard, Pattern, Dir}   glob(3) of Pattern (braces too) under the source
 *                                       dir; each file F is {template, F, Dir/basename(F)};
 *                                       no match, or a directory matched, is a warning
 *   {create, Dst, Contents}             Contents (text) written as is, not rendered, as
 *                                       knit and rebar2 did; mode 0644
 *   {replace, File, Regex, Repl}        re:replace(File's data, Regex, render(Repl),
 *   {replace, File, Regex, Repl, Opts}  [global | Opts]) on a file in the build dir;
 *                                       Repl's & and \N, \gN, \g{N} as re:replace; Opts:
 *                                       caseless, multiline, dotall, extended, unicode,
 *                                       ungreedy, anchored, dollar_endonly, firstline,
 *                                       no_auto_capture, notempty, notempty_atstart,
 *                                       notbol, noteol, bsr_anycrlf, bsr_unicode,
 *                                       {newline, cr|lf|crlf|anycrlf|any}; global and
 *                                       {return, _} are accepted and change nothing
 * Every path (and Repl) is rendered against CTX first. A source is relative to SRC_DIR
 * unless absolute; a destination is relative to BUILD_DIR and must stay inside it:
 * absolute, climbing out with "..", or reaching out through a symlink is refused. An
 * existing symlink at a destination is replaced, never written through.
 */

/* overlay_apply - run the list OVERLAYS (NULL or [] does nothing) against BUILD_DIR (made
 * if missing). CFG_FILE names the config in messages; entries carry their lines. Returns 0,
 * or -1 with the error recorded, after the steps before the failing one are done:
 * KERR_INPUT (CFG_FILE:LINE of the entry) for a malformed or unknown entry, a bad template
 * in a path or file, a missing source, a destination outside the build dir, a bad regular
 * expression or option; KERR_IO for a failed read or write. */
int overlay_apply(struct arena *a, const struct term *overlays, const char *cfg_file,
                  const char *src_dir, const char *build_dir, const json_t *ctx);

/* Where the files copy and template wrote came from (arena-owned; zero it first). */
struct overlay_trace {
    const char **dst; /* relative to the build dir ("" for the build dir itself) */
    const char **src; /* the absolute source path the user edits */
    size_t n, cap;
};
/* overlay_apply_traced - overlay_apply, recording into TRACE (may be NULL) */
int overlay_apply_traced(struct arena *a, const struct term *overlays, const char *cfg_file,
                         const char *src_dir, const char *build_dir, const json_t *ctx,
                         struct overlay_trace *trace);
/* overlay_trace_source - the source of build-dir path REL (the last overlay step that wrote
 * it or a directory above it), or NULL when no overlay wrote it */
const char *overlay_trace_source(struct arena *a, const struct overlay_trace *t, const char *rel);

#endif
