/* cmd_make_relup.c - `knit make-relup`: systools:make_relup/4 without an Erlang VM */
#include "buf.h"
#include "cmd.h"
#include "fsutil.h"
#include "kerr.h"
#include "log.h"
#include "relfile.h"
#include "relup.h"
#include "report.h"
#include "term_print.h"

#include <stdlib.h>
#include <string.h>

/* strip_rel - systools takes release files without their extension; accept both */
static const char *strip_rel(struct arena *a, const char *p)
{
    size_t n = fs_stem(p, ".rel");
    return n ? arena_memdup(a, p, n) : p;
}

struct args {
    const char *top, *outdir;
    const char **ups, **downs, **paths;
    size_t nups, ndowns, npaths;
    struct relup_opts opts;
};

static int parse_args(const struct knit_ctx *ctx, struct arena *a, int argc, char **argv,
                      struct args *g)
{
    size_t cap = (size_t)argc + 1;
    g->ups = arena_alloc(a, cap * sizeof(char *));
    g->downs = arena_alloc(a, cap * sizeof(char *));
    g->paths = arena_alloc(a, cap * sizeof(char *));
    g->outdir = ".";
    struct cmd_opts it;
    cmd_opts_init(&it, ctx, argc, argv);
    int r;
    while ((r = cmd_opts_next(&it)) > 0) {
        if (cmd_opt_is(&it, "--up")) {
            g->ups[g->nups++] = strip_rel(a, it.val);
        } else if (cmd_opt_is(&it, "--down")) {
            g->downs[g->ndowns++] = strip_rel(a, it.val);
        } else if (cmd_opt_is(&it, "--path")) {
            g->paths[g->npaths++] = it.val;
        } else if (cmd_opt_is(&it, "--outdir")) {
            g->outdir = it.val;
        } else if (cmd_opt_is(&it, "--restart-emulator")) {
            g->opts.restart_emulator = true;
        } else if (cmd_opt_is(&it, "--warnings-as-errors")) {
            g->opts.warnings_as_errors = true;
        } else if (!g->top) {
            g->top = strip_rel(a, it.val);
        } else {
            return cmd_usage("make-relup", "more than one new release given: '%s'", it.val);
        }
    }
    if (r < 0)
        return -1;
    if (!g->top)
        return cmd_usage("make-relup", "no release file given");
    return 0;
}

int cmd_make_relup(struct knit_ctx *ctx, int argc, char **argv)
{
    struct arena a;
    struct args g;
    struct buf out = BUF_INIT;
    int rc = -1;
    arena_init(&a);
    memset(&g, 0, sizeof g);
    if (parse_args(ctx, &a, argc, argv, &g) != 0)
        goto done;
    /* systools searches the given directories (wildcards expanded), then the code path */
    struct relfile_path path = {0, NULL, NULL};
    relfile_path_expand(&a, g.paths, g.npaths, &path);
    relfile_code_path(&a, &path);
    relfile_path_dedup(&path);
    relfile_path_cache(&a, &path);
    if (ctx->verbose > 1)
        for (size_t k = 0; k < path.n; k++)
            log_verbose("path: %s", path.dirs[k]);
    const struct term *relup, *warnings;
    const char **texts;
    if (relup_make(&a, g.top, g.ups, g.nups, g.downs, g.ndowns, &path, &g.opts, &relup, &warnings,
                   &texts) != 0)
        goto done;
    for (long k = 0; k < term_list_len(warnings); k++)
        log_warn("%s", texts[k]);
    if (getenv("KNIT_MEMDBG")) fprintf(stderr, "main arena %zu\n", a.total);
    term_print_file_terms(&out, term_listv(&a, 1, relup));
    const char *file = arena_sprintf(&a, "%s/relup", g.outdir);
    if (fs_write_atomic(file, out.p ? out.p : "", out.len, 0644) != 0)
        goto done;
    log_verbose("wrote %s", file);
    if (ctx->json) {
        json_t *art = report_artifact("relup", file);
        json_t *warns = json_array();
        for (long k = 0; k < term_list_len(warnings); k++)
            json_array_append_new(warns, json_string(texts[k]));
        if (!art) {
            json_decref(warns);
            goto done;
        }
        if (report_print(json_pack("{s:s, s:[o], s:o, s:o}", "command", "make-relup", "artifacts",
                                   art, "relup", report_term(relup), "warnings", warns)) != 0)
            goto done;
    }
    rc = 0;
done:
    buf_free(&out);
    arena_close(&a);
    return rc;
}
