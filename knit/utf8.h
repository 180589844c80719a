/* utf8.h - the one UTF-8 decoder: well-formed sequences as Erlang's <<C/utf8>> and
 * unicode:characters_to_list accept them (no overlong forms, no surrogates, nothing past
 * U+10FFFF) */
#ifndef KNIT_UTF8_H
#define KNIT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* utf8_decode - the code point of the well-formed sequence starting at S (N > 0 bytes
 * left), its length in *LEN (1 to 4); *LEN is 0 (and the result 0) when S does not start
 * one: a bad lead byte, a missing or bad continuation byte, an overlong form, a surrogate
 * or a code point past U+10FFFF */
uint32_t utf8_decode(const uint8_t *s, size_t n, size_t *len);

/* utf8_decode_or_latin1 - utf8_decode, but a byte that does not start a well-formed
 * sequence is taken as the latin-1 character it is (*LEN 1): how knit reads text that may
 * be either */
uint32_t utf8_decode_or_latin1(const uint8_t *s, size_t n, size_t *len);

/* utf8_count - the number of code points in the N bytes at S, or -1 when they are not
 * well-formed UTF-8 throughout */
long utf8_count(const uint8_t *s, size_t n);

/* utf8_valid - whether the N bytes at S are well-formed UTF-8 throughout */
bool utf8_valid(const uint8_t *s, size_t n);

#endif
