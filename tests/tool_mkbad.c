/* tool_mkbad.c - write the crafted malformed inputs tests/t_malformed.sh feeds to knit inspect
 *
 * Usage: tool_mkbad OUTDIR GOOD.beam GOOD.boot GOOD.config
 * Writes into OUTDIR:
 *   bad_*.beam   broken beams derived from GOOD.beam: knit must reject each (exit 2)
 *   flip_*.beam  GOOD.beam with one pseudo-random bit flipped: knit may accept or reject
 *   odd_*.beam   damage beam_lib does not look at (the LitT size, the AtU8 and ImpT counts,
 *                which it ignores): knit may accept or reject, but must not crash or
 *                allocate what the field claims
 *   bad_*.boot   broken external-term-format files: knit and binary_to_term must reject each
 *   bad_*.config broken term text: knit and file:consult must reject each
 * OTP accepts the files whose name contains "deep" (nesting deeper than TERM_MAX_DEPTH) or
 * "strict" (bytes after the term, which binary_to_term ignores); knit must reject them too,
 * as its readers' contracts say.
 */
#include <zlib.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEEP (100000 + 5) /* just past TERM_MAX_DEPTH */

static const char *outdir;

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "tool_mkbad: %s '%s': %s\n", what, arg, strerror(errno));
    exit(2);
}

static void put(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot create", path);
    if ((len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
        die("cannot write", path);
}

static void puts_file(const char *name, const char *text)
{
    put(name, text, strlen(text));
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = malloc(cap);
    size_t got;
    while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            p = realloc(p, cap *= 2);
    }
    if (!p || ferror(f))
        die("cannot read", path);
    fclose(f);
    *len = n;
    return p;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A chunk of the good beam: where its 8-byte header starts, its id and data size. */
struct chunk {
    char id[5];
    size_t at;
    uint32_t size;
};

static struct chunk chunks[64];
static size_t nchunks;

static void scan_beam(const uint8_t *b, size_t len, const char *path)
{
    if (len < 12 || memcmp(b, "FOR1", 4) != 0 || memcmp(b + 8, "BEAM", 4) != 0) {
        errno = EINVAL;
        die("not a plain beam", path);
    }
    for (size_t at = 12; at + 8 <= len && nchunks < 64; nchunks++) {
        struct chunk *c = &chunks[nchunks];
        memcpy(c->id, b + at, 4);
        c->at = at;
        c->size = get32(b + at + 4);
        at += 8 + ((c->size + 3u) & ~3u);
    }
}

static const struct chunk *find_chunk(const char *id)
{
    for (size_t i = 0; i < nchunks; i++)
        if (strcmp(chunks[i].id, id) == 0)
            return &chunks[i];
    return NULL;
}

/* A copy of the good beam with one 32-bit field at OFF replaced by V, written as NAME. */
static void beam_with32(const char *name, const uint8_t *b, size_t len, size_t off, uint32_t v)
{
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    set32(c + off, v);
    put(name, c, len);
    free(c);
}

static void beam_with8(const char *name, const uint8_t *b, size_t len, size_t off, uint8_t v)
{
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    c[off] = v;
    put(name, c, len);
    free(c);
}

static void make_beams(const uint8_t *b, size_t len)
{
    char name[128];
    put("bad_header_only.beam", b, 11);
    put("bad_no_chunks_truncated.beam", b, 12 + 5);
    beam_with8("bad_magic_for2.beam", b, len, 3, '2');
    beam_with8("bad_magic_bean.beam", b, len, 11, 'N');
    /* cut in the middle of every chunk's data, and inside the second chunk's header */
    for (size_t i = 0; i < nchunks; i++) {
        if (chunks[i].size < 2)
            continue;
        snprintf(name, sizeof name, "bad_trunc_in_%.4s.beam", chunks[i].id);
        put(name, b, chunks[i].at + 8 + chunks[i].size / 2);
    }
    if (nchunks > 1)
        put("bad_trunc_chunk_header.beam", b, chunks[1].at + 5);
    /* chunk sizes reaching past the end of the file */
    static const char *const grow[] = {"AtU8", "Code", "ImpT", "ExpT", "Attr", "LitT"};
    for (size_t i = 0; i < sizeof grow / sizeof grow[0]; i++) {
        const struct chunk *c = find_chunk(grow[i]);
        if (!c)
            continue;
        snprintf(name, sizeof name, "bad_size_past_end_%.4s.beam", c->id);
        beam_with32(name, b, len, c->at + 4, 0x7ffffff0u);
    }
    beam_with32("bad_size_ffffffff_first.beam", b, len, chunks[0].at + 4, 0xffffffffu);
    beam_with32("bad_size_ffffffff_last.beam", b, len, chunks[nchunks - 1].at + 4, 0xffffffffu);
    const struct chunk *c;
    if ((c = find_chunk("LitT")) != NULL) /* LitT: <<UncompressedSize:32, Zlib/binary>> */
        beam_with32("odd_litt_huge_size.beam", b, len, c->at + 8, 0xfffffff0u);
    if ((c = find_chunk("Attr")) != NULL) {
        beam_with8("bad_attr_badtag.beam", b, len, c->at + 9, 0x01);
        beam_with8("bad_attr_version.beam", b, len, c->at + 8, 0x82);
        uint8_t *cp = malloc(len);
        memcpy(cp, b, len);
        cp[c->at + 9] = 'l'; /* LIST_EXT with a length far beyond the chunk */
        set32(cp + c->at + 10, 0xfffffff0u);
        put("bad_attr_huge_list.beam", cp, len);
        free(cp);
    }
    if ((c = find_chunk("CInf")) != NULL)
        beam_with8("bad_cinf_badtag.beam", b, len, c->at + 9, 0x02);
    if ((c = find_chunk("AtU8")) != NULL)
        beam_with32("odd_atom_count_huge.beam", b, len, c->at + 8, 0x7ffffff0u);
    if ((c = find_chunk("ImpT")) != NULL)
        beam_with32("odd_impt_count_huge.beam", b, len, c->at + 8, 0x10000000u);
    if ((c = find_chunk("ExpT")) != NULL) /* the first export's function atom index */
        beam_with32("bad_expt_atom_index.beam", b, len, c->at + 12, 0x00ffffffu);
    static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 'g', 'a', 'r', 'b'};
    put("bad_gzip_garbage.beam", gz, sizeof gz);

    /* one bit flipped at deterministic pseudo-random places */
    uint32_t x = 12345;
    uint8_t *cp = malloc(len);
    for (int k = 0; k < 48; k++) {
        x = x * 1103515245u + 12345u;
        size_t off = (x >> 8) % len;
        memcpy(cp, b, len);
        cp[off] ^= (uint8_t)(1u << ((x >> 4) & 7));
        snprintf(name, sizeof name, "flip_%02d_at_%zu.beam", k, off);
        put(name, cp, len);
    }
    free(cp);
}

#define PUTB(name, ...)                                                                            \
    do {                                                                                           \
        static const uint8_t d_[] = {__VA_ARGS__};                                                 \
        put(name, d_, sizeof d_);                                                                  \
    } while (0)

static void make_etf(const uint8_t *boot, size_t len)
{
    PUTB("bad_version_only.boot", 131);
    PUTB("bad_version.boot", 130, 106);
    PUTB("bad_tag.boot", 131, 1);
    PUTB("bad_tag_in_list.boot", 131, 108, 0, 0, 0, 2, 97, 1, 255, 106);
    PUTB("bad_list_huge.boot", 131, 108, 255, 255, 255, 255, 106);
    PUTB("bad_tuple_huge.boot", 131, 105, 255, 255, 255, 255);
    PUTB("bad_binary_huge.boot", 131, 109, 255, 255, 255, 240, 65);
    PUTB("bad_bitstring_huge.boot", 131, 77, 127, 255, 255, 255, 3, 65);
    PUTB("bad_bitstring_bits0.boot", 131, 77, 0, 0, 0, 1, 0, 65);
    PUTB("bad_string_past_end.boot", 131, 107, 255, 255, 65);
    PUTB("bad_atom_past_end.boot", 131, 119, 255, 65);
    PUTB("bad_atom_ext_past_end.boot", 131, 118, 255, 255, 65);
    PUTB("bad_atom_badutf8.boot", 131, 119, 2, 0xc3, 0x28);
    PUTB("bad_big_huge.boot", 131, 111, 255, 255, 255, 255, 0, 1);
    PUTB("bad_small_big_past_end.boot", 131, 110, 200, 0, 1, 2);
    PUTB("bad_map_huge.boot", 131, 116, 255, 255, 255, 255);
    PUTB("bad_map_odd.boot", 131, 116, 0, 0, 0, 1, 97, 1);
    PUTB("bad_float_truncated.boot", 131, 70, 64, 9, 33);
    PUTB("bad_float_nan.boot", 131, 70, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0);
    PUTB("bad_strict_trailing_byte.boot", 131, 106, 0);
    PUTB("bad_compressed_huge.boot", 131, 80, 255, 255, 255, 255, 0x78, 0x9c, 1, 2, 3);
    PUTB("bad_compressed_garbage.boot", 131, 80, 0, 0, 0, 16, 1, 2, 3, 4, 5, 6);
    /* a zlib stream of [] (one byte) that claims to inflate to 16 bytes */
    uint8_t z[64];
    uLongf zn = sizeof z - 6;
    static const uint8_t nil = 106;
    if (compress2(z + 6, &zn, &nil, 1, 6) == Z_OK) {
        z[0] = 131, z[1] = 80;
        set32(z + 2, 16);
        put("bad_compressed_size_lie.boot", z, zn + 6);
    }
    put("bad_truncated_start.boot", boot, len / 2);
    put("bad_truncated_start_last.boot", boot, len - 1);

    /* [[[...]]] one level deeper than TERM_MAX_DEPTH: each level is LIST_EXT of length 1 */
    size_t n = 1 + (size_t)DEEP * 6 + 1 + (size_t)DEEP;
    uint8_t *d = malloc(n), *p = d;
    *p++ = 131;
    for (int i = 0; i < DEEP; i++) {
        static const uint8_t lvl[] = {108, 0, 0, 0, 1};
        memcpy(p, lvl, 5);
        p += 5;
    }
    *p++ = 106;
    for (int i = 0; i < DEEP; i++)
        *p++ = 106;
    put("bad_deep_lists.boot", d, (size_t)(p - d));
    /* the same with tuples: SMALL_TUPLE_EXT of arity 1 */
    p = d;
    *p++ = 131;
    for (int i = 0; i < DEEP; i++) {
        *p++ = 104;
        *p++ = 1;
    }
    *p++ = 106;
    put("bad_deep_tuples.boot", d, (size_t)(p - d));
    free(d);
}

static void make_text(const char *good, size_t glen)
{
    puts_file("bad_syntax.config", "{a, b.\n");
    puts_file("bad_unterminated_string.config", "{a, \"abc}.\n");
    puts_file("bad_unterminated_atom.config", "{a, 'abc}.\n");
    puts_file("bad_unterminated_binary.config", "{a, <<\"abc\"}.\n");
    puts_file("bad_escape_hex.config", "{a, \"\\x{zz}\"}.\n");
    puts_file("bad_escape_too_big.config", "{a, \"\\x{110000}\"}.\n");
    puts_file("bad_no_final_dot.config", "{a, b}\n");
    puts_file("bad_dot_no_space.config", "{a, b}.{c, d}.\n");
    puts_file("bad_variable.config", "{a, X}.\n");
    puts_file("bad_unbalanced.config", "[{a, b]}.\n");
    puts_file("bad_map_syntax.config", "#{a => }.\n");
    puts_file("bad_radix.config", "{a, 16#}.\n");
    puts_file("bad_radix_base.config", "{a, 37#10}.\n");
    puts_file("bad_float_exp.config", "{a, 1.0e}.\n");
    puts_file("bad_dollar_eof.config", "{a, $");
    puts_file("bad_control_char.config", "{a, \x01}.\n");
    puts_file("bad_second_term.config", "{a, b}.\n{c, }.\n");
    puts_file("bad_expression.config", "{a, 1 + }.\n");
    puts_file("bad_binary_type.config", "<<1:8/foo>>.\n");
    /* a real config file cut in the middle */
    put("bad_truncated.config", good, glen / 2);
    /* '[' one level deeper than TERM_MAX_DEPTH */
    char *d = malloc(2 * (size_t)DEEP + 3), *p = d;
    for (int i = 0; i < DEEP; i++)
        *p++ = '[';
    for (int i = 0; i < DEEP; i++)
        *p++ = ']';
    *p++ = '.';
    *p++ = '\n';
    put("bad_deep_lists.config", d, (size_t)(p - d));
    free(d);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: tool_mkbad OUTDIR GOOD.beam GOOD.boot GOOD.config\n");
        return 2;
    }
    outdir = argv[1];
    size_t blen, tlen, clen;
    uint8_t *beam = slurp(argv[2], &blen);
    uint8_t *boot = slurp(argv[3], &tlen);
    uint8_t *cfg = slurp(argv[4], &clen);
    scan_beam(beam, blen, argv[2]);
    make_beams(beam, blen);
    make_etf(boot, tlen);
    make_text((const char *)cfg, clen);
    free(beam);
    free(boot);
    free(cfg);
    return 0;
}
