/* fuzz_beam.c - libFuzzer target: the beam reader (beam_read_buf), then every fact it gives
 * is walked: encoded, printed, the md5 formatted */
#include "beam.h"
#include "etf.h"
#include "kerr.h"
#include "term.h"
#include "term_print.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct input {
    const uint8_t *data;
    size_t size;
};

static size_t touch_mfas(const struct beam_mfa *v, size_t n)
{
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (v[i].mod ? strlen(v[i].mod) : 0) + strlen(v[i].fun) + v[i].arity;
    return sum;
}

static int run(void *p)
{
    const struct input *in = p;
    struct arena a;
    arena_init(&a);
    struct beam_info bi;
    if (beam_read_buf(&a, "fuzz", in->data, in->size, &bi) == 0) {
        struct buf b = BUF_INIT;
        char hex[33];
        beam_md5_hex(&bi, hex);
        const struct term *facts[] = {bi.attributes, bi.compile_info, bi.vsn, bi.debug_info};
        for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
            if (!facts[i])
                continue;
            buf_reset(&b);
            etf_encode(&b, facts[i]);
            buf_reset(&b);
            term_write(&b, facts[i]);
        }
        size_t sum = strlen(bi.module) + touch_mfas(bi.exports, bi.nexports) +
                     touch_mfas(bi.imports, bi.nimports) + touch_mfas(bi.locals, bi.nlocals);
        for (size_t i = 0; i < bi.nbehaviours; i++)
            sum += strlen(bi.behaviours[i]);
        if (sum == (size_t)-1)
            abort(); /* keeps the walk from being optimised away */
        buf_free(&b);
    }
    kerr_clear();
    arena_close(&a);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    knit_run_big_stack(run, &in);
    return 0;
}
