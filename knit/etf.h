/* etf.h - the External Term Format: term_to_binary/1 and binary_to_term/1 */
#ifndef KNIT_ETF_H
#define KNIT_ETF_H

#include "buf.h"
#include "term.h"

#include <stddef.h>
#include <stdint.h>

/* etf_encode - append term_to_binary(T) of the installed OTP (version byte 131 first) to
 * OUT; byte-identical to OTP. Returns 0. */
int etf_encode(struct buf *out, const struct term *t);
/* etf_decode - binary_to_term(DATA): DATA must start with 131 and hold exactly one term
 * (compressed terms, tag 80, are inflated). Returns an arena-owned term, or NULL with a
 * KERR_INPUT error naming NAME and the byte offset; never reads outside DATA. */
const struct term *etf_decode(struct arena *a, const char *name, const uint8_t *data, size_t len);
/* etf_decode_prefix - like etf_decode but DATA may hold more bytes after the term; the
 * bytes used are stored in *USED */
const struct term *etf_decode_prefix(struct arena *a, const char *name, const uint8_t *data,
                                     size_t len, size_t *used);

#endif
