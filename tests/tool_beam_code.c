/* tool_beam_code.c - print what beam_code_read decodes, one line per function, in the format
 * tests/check/disasm_counts.escript prints from beam_disasm, for the differential test */
#include "beam_code.h"
#include "fsutil.h"
#include "kerr.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct arena a;
        arena_init(&a);
        size_t len;
        struct beam_code c;
        const char *data = fs_read_file(&a, argv[i], &len);
        if (!data || beam_code_read(&a, argv[i], (const unsigned char *)data, len, &c) != 0) {
            char msg[4096];
            kerr_format(kerr_get(), msg, sizeof msg);
            fprintf(stderr, "tool_beam_code: %s\n", msg);
            status = 1;
            arena_close(&a);
            continue;
        }
        for (size_t f = 0; f < c.nfuncs; f++) {
            const struct bc_func *fn = &c.funcs[f];
            unsigned n[7] = {0};
            for (size_t e = fn->ev_lo; e < fn->ev_hi; e++)
                n[c.ev[e].kind]++;
            /* module function/arity entry wait wait_timeout call tail ext ext_tail make_fun
             * loop_rec first-line-index */
            printf("%s %s/%u %u %u %u %u %u %u %u %u %d %u\n", c.module, fn->name, fn->arity,
                   fn->entry, n[BC_WAIT], n[BC_WAIT_TIMEOUT], n[BC_CALL], n[BC_TAIL], n[BC_EXT],
                   n[BC_EXT_TAIL], n[BC_MAKE_FUN], fn->receives, fn->line);
        }
        arena_close(&a);
    }
    return status;
}
