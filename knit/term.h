/* term.h - the Erlang term value model shared by the parser, printer, ETF codec and beam reader
 *
 * Ownership: terms are immutable and live in the struct arena that made them; they are never
 * freed one by one (arena_reset frees them all) and may share sub-terms, so copy a result out
 * with term_copy before resetting a scratch arena.
 */
#ifndef KNIT_TERM_H
#define KNIT_TERM_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is rejected by every reader (parser, ETF decoder); code that
 * recurses over terms runs on a big stack (see knit_run_big_stack) so this depth is safe. */
#define TERM_MAX_DEPTH 100000

/* The types, declared in Erlang's term order: number < atom < reference < fun < port < pid
 * < tuple < map < nil < list < bitstring (integers and floats compare as numbers). */
enum term_type {
    TERM_INT,   /* an integer that fits int64_t */
    TERM_BIG,   /* an integer that does not fit int64_t */
    TERM_FLOAT, /* an IEEE double (Erlang has no NaN or infinity) */
    TERM_ATOM,  /* UTF-8 name */
    TERM_REF,   /* opaque, only from ETF */
    TERM_FUN,   /* opaque, only from ETF (FUN_EXT, NEW_FUN_EXT, EXPORT_EXT) */
    TERM_PORT,  /* opaque, only from ETF */
    TERM_PID,   /* opaque, only from ETF */
    TERM_TUPLE,
    TERM_MAP,
    TERM_NIL,  /* [] */
    TERM_LIST, /* one or more elements and a tail */
    TERM_BITS, /* binary (nbits % 8 == 0) or bitstring */
};

struct term {
    uint8_t type;  /* enum term_type */
    uint32_t line; /* source line where the parser found it; 0 when unknown */
    union {
        int64_t i;
        double f;
        struct {
            const char *name; /* NUL-terminated UTF-8 */
            size_t len;       /* bytes */
        } atom;
        struct {
            bool neg;
            size_t n;           /* bytes in mag, mag[n-1] != 0 */
            const uint8_t *mag; /* magnitude, little-endian bytes (as in ETF) */
        } big;
        struct {
            size_t n;                     /* >= 1 */
            const struct term *const *el; /* n elements */
            const struct term *tail;      /* TERM_NIL for a proper list; never TERM_LIST */
        } list;
        struct {
            size_t n;
            const struct term *const *el;
        } tuple;
        struct {
            size_t nbits;
            const uint8_t *data; /* (nbits+7)/8 bytes; unused low bits of the last are 0 */
        } bits;
        struct {
            size_t n;
            const struct term *const *keys; /* sorted in term order, no two equal */
            const struct term *const *vals;
        } map;
        struct {
            const uint8_t *ext; /* the ETF bytes (tag included, no 131) for re-encoding */
            size_t len;
            const char *text; /* how OTP prints it: <0.80.0>, #Ref<...>, fun m:f/1, ... */
        } opaque;
    } u;
};

/* Constructors: each returns an arena-owned term and never fails (allocation aborts). */
const struct term *term_nil(void); /* a static [] */
const struct term *term_int(struct arena *a, int64_t v);
/* term_bigint - integer from sign and little-endian magnitude; gives TERM_INT when it fits */
const struct term *term_bigint(struct arena *a, bool neg, const uint8_t *mag, size_t n);
const struct term *term_float(struct arena *a, double f);
const struct term *term_atom(struct arena *a, const char *name, size_t len);
const struct term *term_atomz(struct arena *a, const char *name);
/* term_list - [el[0], ..., el[n-1] | tail]; n == 0 gives tail; a list tail is flattened in */
const struct term *term_list(struct arena *a, const struct term *const *el, size_t n,
                             const struct term *tail);
const struct term *term_cons(struct arena *a, const struct term *head, const struct term *tail);
const struct term *term_tuple(struct arena *a, const struct term *const *el, size_t n);
/* term_tuplev - a tuple of N terms given as arguments */
const struct term *term_tuplev(struct arena *a, size_t n, ...);
/* term_listv - a proper list of N terms given as arguments */
const struct term *term_listv(struct arena *a, size_t n, ...);
const struct term *term_bits(struct arena *a, const uint8_t *data, size_t nbits);
const struct term *term_binary(struct arena *a, const void *data, size_t n);
/* term_map - keys/vals are sorted into term order; for equal keys the later pair wins */
const struct term *term_map(struct arena *a, const struct term *const *keys,
                            const struct term *const *vals, size_t n);
/* term_string - the charlist of UTF-8 text S (invalid bytes are taken as latin-1) */
const struct term *term_string(struct arena *a, const char *s, size_t len);
const struct term *term_stringz(struct arena *a, const char *s);
/* term_opaque - a pid/port/ref/fun as decoded from ETF */
const struct term *term_opaque(struct arena *a, enum term_type type, const uint8_t *ext, size_t len,
                               const char *text);
/* term_with_line - a copy of T carrying source line LINE */
const struct term *term_with_line(struct arena *a, const struct term *t, uint32_t line);
/* term_copy - deep copy of T into A (for moving results out of a scratch arena) */
const struct term *term_copy(struct arena *a, const struct term *t);

/* A growable array of terms in an arena, for building lists: start it zeroed. */
struct term_vec {
    const struct term **v;
    size_t n, cap;
};
/* term_vec_add - append X (the array moves to a bigger arena block as it grows) */
void term_vec_add(struct arena *a, struct term_vec *t, const struct term *x);
/* term_vec_list - the proper list of T's terms, in order */
const struct term *term_vec_list(struct arena *a, const struct term_vec *t);

/* Predicates and accessors. */
bool term_is_atom(const struct term *t, const char *name);            /* an atom named NAME */
bool term_is_int(const struct term *t);                               /* TERM_INT or TERM_BIG */
bool term_is_list(const struct term *t);                              /* [] or a proper list */
bool term_is_tuple(const struct term *t, size_t n);                   /* a tuple of size N */
bool term_is_tagged(const struct term *t, const char *tag, size_t n); /* {tag, ...} of size N */
/* term_list_len - elements of a proper list, or -1 when T is not one */
long term_list_len(const struct term *t);
/* term_list_els - the element array of a list ([] gives NULL and *n = 0) */
const struct term *const *term_list_els(const struct term *t, size_t *n);
const struct term *term_elem(const struct term *t, size_t i); /* tuple element i (0-based) */
/* term_charlist - UTF-8 text of a flat list of code points into A; NULL if T is not one */
char *term_charlist(struct arena *a, const struct term *t);
/* term_text - a charlist, binary or atom as UTF-8 text; NULL if T is none of those */
char *term_text(struct arena *a, const struct term *t);
/* term_proplist_get - value V of the first {KEY, V} (or true for a bare atom KEY) in list T */
const struct term *term_proplist_get(const struct term *t, const char *key);

/* Comparison. */
/* term_compare - Erlang term order: <0, 0 or >0; 1 and 1.0 compare equal (==) */
int term_compare(const struct term *a, const struct term *b);
/* term_equal - exact equality (=:=): 1 and 1.0 differ; source lines are ignored */
bool term_equal(const struct term *a, const struct term *b);

/* knit_run_big_stack - run FN(ARG) on a thread with a stack deep enough for TERM_MAX_DEPTH
 * recursion and return its result; runs FN directly if the thread cannot be made */
int knit_run_big_stack(int (*fn)(void *), void *arg);

#endif
