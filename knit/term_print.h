/* term_print.h - write terms byte for byte as OTP's io_lib:format("~tp" / "~tw") does */
#ifndef KNIT_TERM_PRINT_H
#define KNIT_TERM_PRINT_H

#include "buf.h"
#include "term.h"

/* Printing recurses over the term: callers with terms nested deeper than a few thousand
 * levels run it through knit_run_big_stack (main already does). */
/* term_print - append io_lib:format("~tp", [T]) (line width 80, start column 1) to OUT */
void term_print(struct buf *out, const struct term *t);
/* term_print_at - the same as if the term started at column COL (1-based) with line width
 * WIDTH, as io_lib_pretty:print(T, Col, Width, ...) with the ~tp defaults */
void term_print_at(struct buf *out, const struct term *t, int col, int width);
/* term_print_line - append io_lib:format("~0tp", [T]): ~tp on one line (strings stay
 * strings); the form of an Erlang term inside knit's JSON */
void term_print_line(struct buf *out, const struct term *t);
/* term_show - T in A as one line of ~tp text (term_print_line), cut to about MAX bytes with
 * "..." when longer (MAX 0: whole): for naming a value in a message */
char *term_show(struct arena *a, const struct term *t, size_t max);
/* term_write - append io_lib:format("~tw", [T]): one line, no pretty-printing */
void term_write(struct buf *out, const struct term *t);
/* term_atom_needs_quotes - whether ~tw writes the atom NAME (LEN bytes of UTF-8) quoted
 * (io_lib:quote_atom/2): a reserved word, or not a lower-case letter and name characters */
bool term_atom_needs_quotes(const char *name, size_t len);
/* term_print_file_terms - "%% coding: utf-8\n" followed by each element of the proper list
 * TERMS as "~tp.~n": the way OTP's tools write relup, .rel, .script, .appup and RELEASES */
void term_print_file_terms(struct buf *out, const struct term *terms);

#endif
