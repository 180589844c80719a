/* cmd_make_script.c - `knit make-script`: systools:make_script/2 without a VM */
#include "arena.h"
#include "cmd.h"
#include "fsutil.h"
#include "kerr.h"
#include "relfile.h"
#include "report.h"
#include "script.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int cmd_make_script(struct knit_ctx *ctx, int argc, char **argv)
{
    struct arena a;
    arena_init(&a);
    int rc = -1;
    const char *rel = NULL, *outdir = NULL;
    bool no_dot_erlang = false;
    const char **patterns = arena_alloc(&a, (size_t)(argc + 1) * sizeof *patterns);
    size_t npatterns = 0;

    struct cmd_opts it;
    cmd_opts_init(&it, ctx, argc, argv);
    int r;
    while ((r = cmd_opts_next(&it)) > 0) {
        if (cmd_opt_is(&it, "--path")) {
            patterns[npatterns++] = it.val;
        } else if (cmd_opt_is(&it, "--outdir")) {
            outdir = it.val;
        } else if (cmd_opt_is(&it, "--no-dot-erlang")) {
            no_dot_erlang = true;
        } else if (rel) {
            rc = cmd_usage("make-script", "unexpected argument '%s'", it.val);
            goto done;
        } else {
            rel = it.val;
        }
    }
    if (r < 0)
        goto done;
    if (!rel || !rel[0]) {
        rc = cmd_usage("make-script", "needs a release file REL.rel");
        goto done;
    }

    /* systools takes the name without .rel */
    size_t len = fs_stem(rel, ".rel");
    const char *name = len ? arena_memdup(&a, rel, len) : arena_strdup(&a, rel);

    /* Path = make_set(mk_path(Path0) ++ code:get_path()) */
    struct relfile_path path = {0, NULL, NULL};
    relfile_path_expand(&a, patterns, npatterns, &path);
    relfile_code_path(&a, &path);
    relfile_path_dedup(&path);
    if (script_make_files(&a, name, &path, outdir, no_dot_erlang) != 0)
        goto done;
    if (ctx->json) {
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        const char *stem = outdir && *outdir ? arena_sprintf(&a, "%s/%s", outdir, base) : name;
        json_t *script = report_artifact("script", arena_sprintf(&a, "%s.script", stem));
        json_t *boot = report_artifact("boot", arena_sprintf(&a, "%s.boot", stem));
        if (!script || !boot) {
            json_decref(script);
            json_decref(boot);
            goto done;
        }
        if (report_print(json_pack("{s:s, s:[o, o]}", "command", "make-script", "artifacts", script,
                                   boot)) != 0)
            goto done;
    }
    rc = 0;
done:
    arena_close(&a);
    return rc;
}
