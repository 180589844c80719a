/* fuzz_parse.c - libFuzzer target: the term text reader (term_consult_buf), then the printer
 * and the encoder on whatever it accepts, with round-trip checks that abort on a mismatch */
#include "etf.h"
#include "kerr.h"
#include "term.h"
#include "term_parse.h"
#include "term_print.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct input {
    const uint8_t *data;
    size_t size;
};

static void check(bool cond, const char *what, const struct buf *b)
{
    if (cond)
        return;
    fprintf(stderr, "fuzz_parse: %s\n%.2000s\n", what, b ? buf_cstr(b) : "");
    abort();
}

/* Each accepted term must survive: etf_encode -> etf_decode, and ~tp -> parse again. */
static int run(void *p)
{
    const struct input *in = p;
    struct arena a;
    arena_init(&a);
    const struct term *ts = term_consult_buf(&a, "fuzz", (const char *)in->data, in->size);
    if (ts) {
        size_t n = 0;
        const struct term *const *el = term_list_els(ts, &n);
        struct buf b = BUF_INIT;
        for (size_t i = 0; i < n; i++) {
            buf_reset(&b);
            etf_encode(&b, el[i]);
            const struct term *back = etf_decode(&a, "enc", (const uint8_t *)b.p, b.len);
            check(back && term_equal(back, el[i]), "etf_decode(etf_encode(T)) != T", NULL);
            buf_reset(&b);
            term_print(&b, el[i]);
            buf_adds(&b, ".\n");
            const struct term *re = term_consult_buf(&a, "printed", b.p, b.len);
            size_t m = 0;
            check(re && term_list_len(re) == 1 && term_equal(term_list_els(re, &m)[0], el[i]),
                  "parse(~tp of T) != T", &b);
            buf_reset(&b);
            term_write(&b, el[i]);
        }
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
