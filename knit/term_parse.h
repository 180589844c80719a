/* term_parse.h - Erlang term text reader with file:consult/1 semantics */
#ifndef KNIT_TERM_PARSE_H
#define KNIT_TERM_PARSE_H

#include "term.h"

#include <stdbool.h>
#include <stddef.h>

/* term_consult_buf - parse TEXT (LEN bytes) as file:consult/1 does: zero or more terms, each
 * ended by '.' and whitespace/EOF, with % comments. Returns a proper list of the terms
 * (arena-owned; every term carries the line it starts on), or NULL with the error recorded
 * (KERR_INPUT, NAME:line:col, what was expected). NAME is used only in messages. */
const struct term *term_consult_buf(struct arena *a, const char *name, const char *text,
                                    size_t len);
/* term_consult_file - read PATH and term_consult_buf it; KERR_IO when it cannot be read */
const struct term *term_consult_file(struct arena *a, const char *path);
/* term_parse_term - exactly one term with an optional final '.' (for name=!!TERM);
 * NULL with the error recorded otherwise */
const struct term *term_parse_term(struct arena *a, const char *name, const char *text, size_t len);

/* term_parse_latin1 - whether TEXT declares itself latin-1 the way epp:set_encoding/1 reads
 * a coding comment (file:consult and systools honour it); such text is one byte per
 * character, otherwise it is UTF-8 */
bool term_parse_latin1(const char *text, size_t len);

#endif
