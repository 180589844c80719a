/* patch.h - plan a hot patch: which given beams differ from the code a node has loaded,
 * their appup instructions (as for a release upgrade), and the low-level script knit's
 * relup compiler makes of them for release_handler's evaluator
 *
 * The plan needs no node: the caller asks the node for the md5 of each module and hands the
 * answers in. The patched modules form one pseudo-application, PATCH_LIB ("knit_patch") at
 * version ID, so that the low-level script's load_object_code reads them from the patch's
 * own directory on the node (LIBDIR/ebin, LIBDIR named knit_patch-ID): never from the
 * release's lib/APP-VSN/ebin, whose files must keep giving code_change the old version.
 */
#ifndef KNIT_PATCH_H
#define KNIT_PATCH_H

#include "appup.h"
#include "arena.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATCH_LIB "knit_patch"

/* One beam given on the command line (everything in the arena given to patch_read_beams). */
struct patch_beam {
    const char *path;          /* as given, or DIR/NAME.beam for a directory argument */
    const unsigned char *data; /* the file's bytes */
    size_t len;
    const char *module;
    uint8_t md5[16];        /* beam_lib:md5 */
    const struct term *vsn; /* beam_lib:version's Vsn */
};

/* patch_read_beams - the beams of the N arguments ARGS: a .beam file, or a directory whose
 * *.beam files are all taken. Sets *OUT (sorted by module) and *NOUT. Returns 0, or -1 with
 * KERR_INPUT (not a beam, a module in a file not named after it, a module given twice, a
 * directory without beams, an argument that is neither), or KERR_IO (unreadable). */
int patch_read_beams(struct arena *a, char *const *args, size_t n, struct patch_beam **out,
                     size_t *nout);

/* patch_id - the id of a patch of the N beams B made at time NOW (seconds since the epoch):
 * "YYYYMMDDTHHMMSSZ." and the first 8 hex digits of the md5 of their md5s, so that ids sort
 * by time and two different patches of one second differ. */
const char *patch_id(struct arena *a, const struct patch_beam *b, size_t n, long long now);

enum patch_status { PATCH_UNCHANGED, PATCH_CHANGED, PATCH_NOT_LOADED };

/* What one node is to get. */
struct patch_plan {
    const char *id;
    enum patch_status *status;      /* per beam, parallel to the beams given */
    const struct patch_beam **mods; /* the beams in the patch (changed, and not loaded when
                                       ADD), sorted by module */
    size_t nmods;
    struct appup_report rep; /* their instructions, with kinds and dependencies */
    const struct term *high; /* the high-level instructions (rep.up) */
    const struct term *low;  /* the low-level script */
};

/* patch_make_plan - the plan for the N beams B on a node where LOADED[k] is the md5 of the
 * module of B[k] that is loaded, or NULL when none is. Modules with the same md5 are left
 * out (PATCH_UNCHANGED); modules not loaded are added (add_module) when ADD, else the plan
 * fails. OPTS may be NULL (defaults). An empty plan (nothing changed) is not an error:
 * NMODS is 0, HIGH and LOW are []. Returns 0, or -1 with KERR_INPUT naming the first module
 * that is not loaded (without ADD), or the errors of appup_changes and rc_translate_scripts
 * (a KERR_BUILD naming systools_rc's reason). Everything in OUT lives in A. */
int patch_make_plan(struct arena *a, const char *id, const struct patch_beam *b, size_t n,
                    const uint8_t *const *loaded, bool add, const struct appup_opts *opts,
                    struct patch_plan *out);

/* patch_translate - the low-level script of the high-level instructions HIGH for the
 * pseudo-application knit_patch at version ID holding the N modules MODS, as rc
 * translates one application's appup entry (the same call systools_rc:translate_scripts(up,
 * [HIGH], [App], []) makes). NULL with the rc error recorded. */
const struct term *patch_translate(struct arena *a, const char *id, const char *const *mods,
                                   size_t n, const struct term *high);

#endif
