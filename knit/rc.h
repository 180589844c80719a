/* rc.h - translate high-level appup instructions to low-level ones, as OTP's systools_rc does */
#ifndef KNIT_RC_H
#define KNIT_RC_H

#include "arena.h"
#include "relfile.h"
#include "term.h"

#include <stddef.h>

enum rc_mode { RC_UP, RC_DN };

/* rc_translate_scripts - systools_rc:translate_scripts(Mode, Scripts, Appls, PreAppls):
 * SCRIPTS is a list of instruction lists (one per appup entry, plus the ones relup adds);
 * APPLS are the applications after the change (their modules give load_object_code's
 * library and version), PRE those before it. Returns the low-level script as a list term
 * in A, or NULL with a KERR_BUILD error whose message ends in "(systools_rc: KIND)", KIND
 * being the reason systools gives (bad_instruction, undef_module, no_such_module, ...). */
const struct term *rc_translate_scripts(struct arena *a, enum rc_mode mode,
                                        const struct term *scripts, const struct relfile_app *appls,
                                        size_t nappls, const struct relfile_app *pre, size_t npre);


/* rc_check_syntax - systools_rc's check of every instruction of SCRIPT (one appup entry's
 * list, expanded as translate_scripts expands it): 0, or -1 with the error recorded as
 * rc_translate_scripts records it */
int rc_check_syntax(struct arena *a, const struct term *script);

#endif
