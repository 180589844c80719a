/* beam.h - read compiled .beam files without a VM: the facts beam_lib gives */
#ifndef KNIT_BEAM_H
#define KNIT_BEAM_H

#include "term.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* beam_be32 - the big-endian 32-bit number at P (chunk sizes, table entries) */
static inline uint32_t beam_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct beam_mfa {
    const char *mod; /* NULL for exports and locals (the module itself) */
    const char *fun;
    unsigned arity;
};

/* Everything lives in the arena given to beam_read_*. */
struct beam_info {
    const char *module;
    uint8_t md5[16];                 /* = beam_lib:md5/1 */
    const struct term *attributes;   /* = Mod:module_info(attributes), a proper list */
    const struct term *compile_info; /* CInf chunk decoded, or [] */
    const struct term *vsn;          /* the vsn attribute's value (a list) as
                                        beam_lib:version/1 gives it; [] when none; never NULL */
    struct beam_mfa *exports;        /* sorted, as beam_lib:chunks(F, [exports]) lists them */
    size_t nexports;
    struct beam_mfa *imports; /* sorted, as beam_lib:chunks(F, [imports]) */
    size_t nimports;
    struct beam_mfa *locals; /* sorted, as beam_lib:chunks(F, [locals]) */
    size_t nlocals;
    const char **behaviours; /* from behaviour and behavior attributes, file order */
    size_t nbehaviours;
    size_t nfuns;                  /* entries in FunT (funs defined in the module) */
    bool has_debug_info;           /* a non-empty Dbgi or Abst chunk is present, and Dbgi
                                      is not {debug_info_v1, _, {none, _}} (erlc without
                                      +debug_info writes that) */
    const struct term *debug_info; /* the decoded Dbgi/Abst term; NULL when there is no
                                      debug info, it is encrypted, or beam_read_facts */
};

/* beam_read_buf - parse the beam image DATA (plain IFF or gzip-compressed); NAME is used in
 * messages. Returns 0, or -1 with a KERR_INPUT error naming NAME and what is wrong. */
int beam_read_buf(struct arena *a, const char *name, const uint8_t *data, size_t len,
                  struct beam_info *out);
/* beam_read_facts - beam_read_buf without decoding the debug info term (debug_info stays
 * NULL, has_debug_info is still set): decoding it dominates the cost of reading a beam */
int beam_read_facts(struct arena *a, const char *name, const uint8_t *data, size_t len,
                    struct beam_info *out);
/* beam_read_summary - beam_read_facts without the locals (LocT), which beam_lib:chunks(F,
 * [attributes, exports, imports]) does not read either: the facts `inspect` shows; locals
 * stays NULL (nlocals 0). CInf is still decoded (and checked). */
int beam_read_summary(struct arena *a, const char *name, const uint8_t *data, size_t len,
                      struct beam_info *out);
/* beam_read_file - read PATH and beam_read_buf it (KERR_IO when it cannot be read) */
int beam_read_file(struct arena *a, const char *path, struct beam_info *out);
/* beam_md5_hex - the md5 as 32 lower-case hex digits into HEX (33 bytes) */
void beam_md5_hex(const struct beam_info *b, char hex[33]);
/* beam_is_beam - whether DATA looks like a beam file (FOR1...BEAM or gzip) */
bool beam_is_beam(const uint8_t *data, size_t len);

/* beam_strip - beam_lib:strip/1 of the beam image DATA (plain or gzip'd): only the
 * significant chunks are kept and the result is gzip'd as zlib:gzip/1 does. Returns a
 * malloc'd buffer (*OUT_LEN bytes), or NULL with KERR_INPUT naming NAME when DATA is not a
 * beam or its gzip data is bad. */
unsigned char *beam_strip(const char *name, const unsigned char *data, size_t len,
                          size_t *out_len);

#endif
