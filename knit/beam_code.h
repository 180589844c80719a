/* beam_code.h - the Code chunk of a .beam decoded without a VM (the generic instruction set
 * in its compact-term encoding, as beam_disasm reads it), reduced to the facts knit check
 * needs: per function, its receives, local and external calls, and the funs it makes */
#ifndef KNIT_BEAM_CODE_H
#define KNIT_BEAM_CODE_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bc_kind {
    BC_WAIT,         /* wait: a receive without after */
    BC_WAIT_TIMEOUT, /* wait_timeout: a receive with after */
    BC_CALL,         /* call: local, not tail (ARG = target label) */
    BC_TAIL,         /* call_last / call_only: local tail call (ARG = target label) */
    BC_EXT,          /* call_ext (ARG = import index) */
    BC_EXT_TAIL,     /* call_ext_last / call_ext_only (ARG = import index) */
    BC_MAKE_FUN,     /* make_fun2 / make_fun3 (ARG = FunT index) */
};

struct bc_event {
    uint8_t kind;  /* enum bc_kind */
    uint32_t arg;  /* see enum bc_kind */
    uint32_t line; /* index into the line table (0: no location) */
    uint32_t x[3]; /* BC_EXT*: atom index last moved into x0..x2 before the call, 0 unknown */
};

struct bc_func {
    const char *name;
    unsigned arity;
    uint32_t entry;      /* the label after func_info */
    size_t ev_lo, ev_hi; /* its events: ev[ev_lo .. ev_hi) */
    uint32_t line;       /* the first line index seen in it (0: none) */
    bool receives;       /* has loop_rec */
};

struct bc_import {
    const char *mod, *fun;
    unsigned arity;
};

/* Everything lives in the arena given to beam_code_read. */
struct beam_code {
    const char *module;
    const char **atoms; /* atoms[1..natoms] */
    size_t natoms;
    struct bc_import *imports;
    size_t nimports;
    uint32_t *fun_labels; /* FunT: entry label of fun I */
    size_t nfuns;
    struct bc_func *funcs; /* in code order */
    size_t nfuncs;
    struct bc_event *ev;
    size_t nev;
    uint32_t *line_no;   /* line table: line_no[i], line_file[i] for i in 1..nlines */
    uint32_t *line_file; /* index into fnames */
    size_t nlines;
    const char **fnames; /* fnames[0] is "MODULE.erl" (the compiler's convention) */
    size_t nfnames;
    int32_t *label_func; /* entry label -> index into funcs, -1 elsewhere */
    size_t nlabels;
};

/* beam_code_read - decode the Code, ImpT, FunT and Line chunks of the beam image DATA
 * (plain IFF or gzip). NAME is used in messages. Returns 0, or -1 with KERR_INPUT naming
 * NAME, the byte offset in the Code chunk and what is wrong. */
int beam_code_read(struct arena *a, const char *name, const uint8_t *data, size_t len,
                   struct beam_code *out);

/* beam_code_func_at - the function whose entry label is LABEL, or NULL */
const struct bc_func *beam_code_func_at(const struct beam_code *c, uint32_t label);

/* beam_code_find - the function NAME/ARITY, or NULL */
const struct bc_func *beam_code_find(const struct beam_code *c, const char *name, unsigned arity);

/* beam_code_where - "FILE:LINE" for line index LINE, or NULL when there is no location */
const char *beam_code_where(struct arena *a, const struct beam_code *c, uint32_t line);

#endif
