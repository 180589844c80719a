/* fuzz_beam_code.c - libFuzzer target: the Code chunk decoder (beam_code_read), then every
 * fact it gives is walked: events, call targets, imports, funs, line table */
#include "beam_code.h"
#include "kerr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct beam_code c;
    if (beam_code_read(&a, "fuzz", data, size, &c) == 0) {
        size_t sum = strlen(c.module);
        for (size_t i = 0; i < c.nfuncs; i++) {
            const struct bc_func *f = &c.funcs[i];
            if (f->ev_lo > f->ev_hi || f->ev_hi > c.nev)
                abort();
            sum += strlen(f->name) + f->arity;
            const char *w = beam_code_where(&a, &c, f->line);
            sum += w ? strlen(w) : 0;
            for (size_t k = f->ev_lo; k < f->ev_hi; k++) {
                const struct bc_event *e = &c.ev[k];
                if (e->kind == BC_EXT || e->kind == BC_EXT_TAIL)
                    sum += strlen(c.imports[e->arg].mod) + strlen(c.imports[e->arg].fun);
                else if (e->kind == BC_CALL || e->kind == BC_TAIL)
                    sum += beam_code_func_at(&c, e->arg) != NULL;
                else if (e->kind == BC_MAKE_FUN && e->arg < c.nfuns)
                    sum += beam_code_func_at(&c, c.fun_labels[e->arg]) != NULL;
                for (int x = 0; x < 3; x++)
                    if (e->x[x] && e->x[x] <= c.natoms)
                        sum += strlen(c.atoms[e->x[x]]);
                w = beam_code_where(&a, &c, e->line);
                sum += w ? strlen(w) : 0;
            }
        }
        if (sum == (size_t)-1)
            abort(); /* keeps the walk from being optimised away */
    }
    kerr_clear();
    arena_close(&a);
    return 0;
}
