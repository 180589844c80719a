/* relup.h - compile appups into a relup, as OTP's systools_relup:mk_relup/4 does */
#ifndef KNIT_RELUP_H
#define KNIT_RELUP_H

#include "arena.h"
#include "relfile.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

struct relup_opts {
    bool restart_emulator;   /* systools' restart_emulator option */
    bool warnings_as_errors; /* fail when there is any warning */
};

/* relup_make - the relup for release file TOP (without .rel) upgraded from the releases
 * UPS and downgraded to DOWNS, applications and appups found along PATH (already holding
 * the code path, as systools adds it). On success *RELUP is {Vsn, Up, Down} as systools
 * builds it, *WARNINGS a list of warning terms ({bad_vsn, _}, {erts_vsn_changed, _},
 * pre_R15_emulator_upgrade) in systools' order and *TEXTS (may be NULL) their messages, one
 * per line; all in A. Returns 0, or -1 with the error recorded: KERR_BUILD for relup and
 * appup errors (message ending "(systools_relup: KIND)", "(systools_rc: KIND)" or
 * "(systools_make: KIND)"), KERR_INPUT for unreadable or malformed files.
 * The appups are read from the ebin directories along PATH, also when knit has just
 * generated them (cmd_flow writes each appup, then calls this): the relup is then built from
 * exactly the bytes a user can review and systools would read, which is what makes it equal
 * to systools' relup for the same files. */
int relup_make(struct arena *a, const char *top, const char *const *ups, size_t nups,
               const char *const *downs, size_t ndowns, const struct relfile_path *path,
               const struct relup_opts *opts, const struct term **relup,
               const struct term **warnings, const char ***texts);

/* relup_search_version - systools_relup:appup_search_for_version/2: the instructions of the
 * first {Vsn, Instrs} in LIST whose Vsn is the charlist VSN or a regex (binary) whose first
 * match is all of VSN. Returns NULL when none matches (*BAD set when LIST is malformed or a
 * regex does not compile, with the error recorded).
 * It lives here, in the port of systools_relup, although appup.c calls it too (against the
 * pipeline's direction): appup.c checks a hand-written appup with the very lookup the relup
 * compiler will make, so that an appup accepted there is one relup_make can use. */
const struct term *relup_search_version(struct arena *a, const char *vsn, const struct term *list,
                                        bool *bad);

#endif
