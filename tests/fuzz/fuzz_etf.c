/* fuzz_etf.c - libFuzzer target: the external term format decoder (etf_decode); whatever
 * decodes is re-encoded (encode(decode(encode(T))) must equal encode(T)) and printed */
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

static int run(void *p)
{
    const struct input *in = p;
    struct arena a;
    arena_init(&a);
    const struct term *t = etf_decode(&a, "fuzz", in->data, in->size);
    if (t) {
        struct buf e1 = BUF_INIT, e2 = BUF_INIT, txt = BUF_INIT;
        etf_encode(&e1, t);
        const struct term *t2 = etf_decode(&a, "enc", (const uint8_t *)e1.p, e1.len);
        if (!t2 || !term_equal(t, t2)) {
            fprintf(stderr, "fuzz_etf: etf_decode(etf_encode(T)) != T\n");
            abort();
        }
        etf_encode(&e2, t2);
        if (e1.len != e2.len || memcmp(e1.p, e2.p, e1.len) != 0) {
            fprintf(stderr, "fuzz_etf: encoding is not stable\n");
            abort();
        }
        term_print(&txt, t);
        buf_reset(&txt);
        term_write(&txt, t);
        buf_free(&e1);
        buf_free(&e2);
        buf_free(&txt);
    }
    size_t used = 0;
    if (etf_decode_prefix(&a, "fuzz", in->data, in->size, &used) && used > in->size) {
        fprintf(stderr, "fuzz_etf: etf_decode_prefix used %zu of %zu bytes\n", used, in->size);
        abort();
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
