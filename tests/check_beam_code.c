/* check_beam_code.c - the Code chunk decoder: what it finds in a compiled fixture, gzip'd
 * beams, and broken Code chunks (truncated anywhere, unknown opcodes) that must fail cleanly */
#define SUITE_FN beam_code_suite
#include "check_main.h"

#include "beam_code.h"
#include "fsutil.h"
#include "kerr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char workdir[] = "/tmp/knit-check-beam-code.XXXXXX";
static uint8_t *beam;
static size_t beam_len;

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(workdir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "erlc +debug_info -o %s tests/check/single/loop_bad.erl", workdir);
    ck_assert_msg(system(cmd) == 0, "compiling the fixture failed: %s", cmd);
    char path[512];
    snprintf(path, sizeof path, "%s/loop_bad.beam", workdir);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    beam = malloc(1 << 20);
    beam_len = fread(beam, 1, 1 << 20, f);
    fclose(f);
    ck_assert_uint_gt(beam_len, 100);
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
    ck_assert_int_eq(system(cmd), 0);
    free(beam);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* code_chunk - offset and size of the Code chunk's data in BEAM */
static size_t code_chunk(size_t *n)
{
    size_t pos = 12;
    while (pos + 8 <= beam_len) {
        size_t size = be32(beam + pos + 4);
        if (!memcmp(beam + pos, "Code", 4)) {
            *n = size;
            return pos + 8;
        }
        pos += 8 + ((size + 3) & ~(size_t)3);
    }
    ck_abort_msg("no Code chunk");
    return 0;
}

START_TEST(test_loop_facts)
{
    struct arena a;
    arena_init(&a);
    struct beam_code c;
    ck_assert_int_eq(beam_code_read(&a, "loop_bad.beam", beam, beam_len, &c), 0);
    ck_assert_str_eq(c.module, "loop_bad");
    const struct bc_func *loop = beam_code_find(&c, "loop", 1);
    ck_assert_ptr_nonnull(loop);
    ck_assert(loop->receives);
    ck_assert_ptr_eq(beam_code_func_at(&c, loop->entry), loop);
    /* a local tail call to itself, and a wait_timeout (the receive has an after) */
    bool self = false, timeout = false, wait = false;
    for (size_t k = loop->ev_lo; k < loop->ev_hi; k++) {
        self = self || (c.ev[k].kind == BC_TAIL && beam_code_func_at(&c, c.ev[k].arg) == loop);
        timeout = timeout || c.ev[k].kind == BC_WAIT_TIMEOUT;
        wait = wait || c.ev[k].kind == BC_WAIT;
    }
    ck_assert(self);
    ck_assert(timeout);
    ck_assert(!wait);
    /* start/0 calls erlang:spawn/3 with the module and 'loop' in x0 and x1 */
    const struct bc_func *start = beam_code_find(&c, "start", 0);
    ck_assert_ptr_nonnull(start);
    bool spawn = false;
    for (size_t k = start->ev_lo; k < start->ev_hi; k++) {
        const struct bc_event *e = &c.ev[k];
        if (e->kind != BC_EXT_TAIL && e->kind != BC_EXT)
            continue;
        const struct bc_import *im = &c.imports[e->arg];
        if (!strcmp(im->mod, "erlang") && !strcmp(im->fun, "spawn") && im->arity == 3) {
            spawn = true;
            ck_assert_str_eq(c.atoms[e->x[0]], "loop_bad");
            ck_assert_str_eq(c.atoms[e->x[1]], "loop");
        }
    }
    ck_assert(spawn);
    /* the line table: loop/1 starts at line 7 of the source */
    const char *where = beam_code_where(&a, &c, loop->line);
    ck_assert_ptr_nonnull(where);
    ck_assert_msg(strstr(where, "loop_bad.erl:7") != NULL, "loop/1 is at %s", where);
    arena_close(&a);
}
END_TEST

START_TEST(test_gzip)
{
    /* a gzip-compressed beam (as beam_lib:strip may write) decodes to the same facts */
    uLongf zn = compressBound(beam_len) + 64;
    uint8_t *z = malloc(zn);
    z_stream s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    s.next_in = beam;
    s.avail_in = (uInt)beam_len;
    s.next_out = z;
    s.avail_out = (uInt)zn;
    ck_assert_int_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
    size_t zlen = s.total_out;
    deflateEnd(&s);
    struct arena a;
    arena_init(&a);
    struct beam_code c1, c2;
    ck_assert_int_eq(beam_code_read(&a, "plain", beam, beam_len, &c1), 0);
    ck_assert_int_eq(beam_code_read(&a, "gz", z, zlen, &c2), 0);
    ck_assert_uint_eq(c1.nfuncs, c2.nfuncs);
    ck_assert_uint_eq(c1.nev, c2.nev);
    ck_assert_int_eq(memcmp(c1.ev, c2.ev, c1.nev * sizeof *c1.ev), 0);
    /* a broken gzip stream is an input error */
    z[zlen / 2] ^= 0xff;
    ck_assert_int_eq(beam_code_read(&a, "gz", z, zlen, &c2), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
    kerr_clear();
    free(z);
    arena_close(&a);
}
END_TEST

START_TEST(test_truncated_code)
{
    /* the Code chunk cut short at every byte (its size field shrunk to match): a clean -1 with
     * KERR_INPUT, or a shorter decode, never a read past the end (run under ASan) */
    size_t n;
    size_t off = code_chunk(&n);
    uint8_t *copy = malloc(beam_len);
    size_t failed = 0;
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(copy, beam, beam_len);
        copy[off - 4] = (uint8_t)(cut >> 24);
        copy[off - 3] = (uint8_t)(cut >> 16);
        copy[off - 2] = (uint8_t)(cut >> 8);
        copy[off - 1] = (uint8_t)cut;
        /* what follows the cut chunk is garbage to the walker: end the image there */
        uint8_t *img = malloc(off + cut);
        memcpy(img, copy, off + cut);
        struct arena a;
        arena_init(&a);
        struct beam_code c;
        if (beam_code_read(&a, "cut.beam", img, off + cut, &c) != 0) {
            ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
            ck_assert_msg(strstr(kerr_get()->msg, "cut.beam") ||
                              strstr(kerr_get()->file, "cut.beam"),
                          "message names the file: %s", kerr_get()->msg);
            kerr_clear();
            failed++;
        }
        arena_close(&a);
        free(img);
    }
    ck_assert_uint_gt(failed, n / 2);
    free(copy);
}
END_TEST

START_TEST(test_unknown_opcode)
{
    size_t n;
    size_t off = code_chunk(&n);
    size_t hdr = be32(beam + off);
    uint8_t *copy = malloc(beam_len);
    memcpy(copy, beam, beam_len);
    copy[off + 4 + hdr] = 250; /* the first instruction */
    struct arena a;
    arena_init(&a);
    struct beam_code c;
    ck_assert_int_eq(beam_code_read(&a, "op.beam", copy, beam_len, &c), -1);
    ck_assert_int_eq(kerr_get()->cls, KERR_INPUT);
    ck_assert_msg(strstr(kerr_get()->msg, "unknown opcode 250"), "%s", kerr_get()->msg);
    kerr_clear();
    /* and a header whose size runs past the chunk */
    memcpy(copy, beam, beam_len);
    copy[off] = 0x7f;
    ck_assert_int_eq(beam_code_read(&a, "hdr.beam", copy, beam_len, &c), -1);
    ck_assert_msg(strstr(kerr_get()->msg, "bad header"), "%s", kerr_get()->msg);
    kerr_clear();
    ck_assert_int_eq(beam_code_read(&a, "x.beam", (const uint8_t *)"FOR1\0\0\0\4BEAN", 12, &c), -1);
    ck_assert_msg(strstr(kerr_get()->msg, "not a beam file"), "%s", kerr_get()->msg);
    kerr_clear();
    free(copy);
    arena_close(&a);
}
END_TEST

Suite *beam_code_suite(void)
{
    Suite *s = suite_create("beam_code");
    TCase *tc = tcase_create("beam_code");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_loop_facts);
    tcase_add_test(tc, test_gzip);
    tcase_add_test(tc, test_truncated_code);
    tcase_add_test(tc, test_unknown_opcode);
    suite_add_tcase(s, tc);
    return s;
}
