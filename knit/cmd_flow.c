/* cmd_flow.c - `knit` (= `knit all`), `knit release`, `knit appup` and `knit relup`: the
 * command line of the build engine (flow.c) */
#include "cmd.h"
#include "flow.h"
#include "kerr.h"
#include "log.h"
#include "report.h"
#include "term_print.h"

#include <stdio.h>
#include <string.h>

static const char *mode_name(enum flow_mode m)
{
    return m == FLOW_RELEASE ? "release" : m == FLOW_ALL ? "all" : m == FLOW_APPUP ? "appup" : "relup";
}

static int parse_args(struct flow *f, const char **from, int argc, char **argv)
{
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--from=", 7))
            v = argv[i] + 7;
        if (f->mode == FLOW_RELEASE)
            return kerr_set(KERR_USAGE, NULL, 0, 0,
                            "release: unexpected argument '%s'; try 'knit --help'", argv[i]);
        if (!v || f->mode == FLOW_ALL || !*v)
            return kerr_set(KERR_USAGE, NULL, 0, 0,
                            "'%s' is not an argument of '%s'%s; try 'knit --help'", argv[i],
                            mode_name(f->mode),
                            !strcmp(argv[i], "--from") ? " (it needs a version)" : "");
        from[n++] = v;
    }
    f->from_args = from;
    f->nfrom_args = n;
    return 0;
}

/* print_appups - `knit appup` without --json: each appup, headed by its path */
static int print_appups(const struct flow *f)
{
    for (size_t i = 0; i < f->napps; i++) {
        struct buf b = BUF_INIT;
        buf_addf(&b, "%%%% %s\n", f->apps[i].appup_path);
        term_print(&b, f->apps[i].appup);
        buf_adds(&b, ".\n");
        fwrite(b.p, 1, b.len, stdout);
        buf_free(&b);
    }
    return 0;
}

static int flow(struct knit_ctx *ctx, int argc, char **argv, enum flow_mode mode)
{
    struct arena a;
    arena_init(&a);
    struct flow f;
    flow_init(&f, mode, &a);
    f.reltool_config = ctx->reltool_config;
    f.overrides = ctx->overrides;
    f.noverrides = (size_t)ctx->noverrides;
    f.force_arg = ctx->force;
    f.wait = ctx->wait;
    f.tarball_only = ctx->tarball_only;
    if (ctx->json)
        log_progress_off(); /* stderr keeps only messages; the document is the progress */
    const char **from = arena_alloc(&a, (size_t)(argc + 1) * sizeof *from);
    int rc = parse_args(&f, from, argc, argv);
    if (rc != 0) {
        arena_close(&a);
        return rc;
    }
    rc = flow_run(&f);
    if (ctx->json) {
        struct kerr err;
        kerr_copy(&err);
        if (report_flow(&f, rc == 0 ? NULL : &err) != 0 && rc == 0)
            rc = -1;
        if (rc != 0)
            kerr_restore(&err);
    } else if (rc == 0 && mode == FLOW_APPUP) {
        rc = print_appups(&f);
    }
    arena_close(&a);
    return rc;
}

int cmd_release(struct knit_ctx *ctx, int argc, char **argv)
{
    return flow(ctx, argc, argv, FLOW_RELEASE);
}

int cmd_all(struct knit_ctx *ctx, int argc, char **argv)
{
    return flow(ctx, argc, argv, FLOW_ALL);
}

int cmd_appup(struct knit_ctx *ctx, int argc, char **argv)
{
    return flow(ctx, argc, argv, FLOW_APPUP);
}

int cmd_relup(struct knit_ctx *ctx, int argc, char **argv)
{
    return flow(ctx, argc, argv, FLOW_RELUP);
}
