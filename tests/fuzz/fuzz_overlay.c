/* fuzz_overlay.c - libFuzzer target: a reltool.config (the input) through cfg_load, then
 * its overlay variables (overlay_context: vars files, inline {Name, Value} entries,
 * repeated mustache rendering) and its overlay steps (overlay_apply) on a scratch build
 * dir. Each run works in a fresh directory under $TMPDIR holding the config and a small
 * vars file; steps that name absolute paths or '..' are not run (they would reach the
 * machine's files, which is what the overlay's own checks are for, not the fuzzer's). */
#include "cfg.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "overlay.h"
#include "term.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char base[4096];

/* tame - whether no string in T starts with '/' or holds ".." or "{{" (a rendered path
 * could name anything) */
static bool tame(const struct term *t, struct arena *a)
{
    if (!t)
        return true;
    const char *s = term_text(a, t);
    if (s && (s[0] == '/' || s[0] == '~' || strstr(s, "..") || strstr(s, "{{")))
        return false;
    size_t n = 0;
    const struct term *const *el = NULL;
    if (t->type == TERM_TUPLE) {
        el = t->u.tuple.el;
        n = t->u.tuple.n;
    } else if (term_is_list(t)) {
        el = term_list_els(t, &n);
    }
    for (size_t i = 0; i < n; i++)
        if (!tame(el[i], a))
            return false;
    return true;
}

static int run(void *p)
{
    const uint8_t **in = p;
    struct arena a;
    arena_init(&a);
    const char *dir = arena_sprintf(&a, "%s/cfg", base);
    const char *build = arena_sprintf(&a, "%s/build", base);
    const char *file = arena_sprintf(&a, "%s/reltool.config", dir);
    fs_mkdirs(dir);
    fs_write_atomic(file, in[0], (size_t)(in[1] - in[0]), 0644);
    static const char vars[] = "{a, \"x{{b}}\"}. {b, \"y\"}. {n, 3}. {l, [1, 2]}.\n";
    fs_write_atomic(arena_sprintf(&a, "%s/vars.config", dir), vars, sizeof vars - 1, 0644);
    char root[] = "root_dir=/usr/lib/erlang", target[4200];
    snprintf(target, sizeof target, "target_dir=%s/t", base);
    char *over[] = {root, target};
    struct cfg c;
    if (cfg_load(&a, file, over, 2, &c) == 0) {
        struct overlay_vars_src src = {.cfg_file = c.file,
                                       .cfg_dir = c.dir,
                                       .overlay_vars = c.overlay_vars,
                                       .extra_overlay_vars = c.extra_overlay_vars,
                                       .rel_name = c.boot_rel->name,
                                       .rel_vsn = c.boot_rel->vsn,
                                       .erts_vsn = "13.1.5",
                                       .target_dir = c.target_dir,
                                       .build_dir = build,
                                       .hostname = "fuzz"};
        json_t *ctx = overlay_context(&a, &src);
        if (ctx && tame(c.overlay, &a))
            overlay_apply(&a, c.overlay, c.file, c.dir, build, ctx);
        json_decref(ctx);
    }
    kerr_clear();
    fs_remove_tree(base);
    kerr_clear();
    arena_close(&a);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/knit-fuzz-overlay.%ld", t && *t ? t : "/tmp",
                 (long)getpid());
        log_setup(LOG_ERROR, true, NULL); /* the configs' warnings are no findings */
    }
    const uint8_t *in[2] = {data, data + size};
    knit_run_big_stack(run, in);
    return 0;
}
