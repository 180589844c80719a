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

static int usage(const char *what)
{
    return kerr_set(KERR_USAGE, NULL, 0, 0, "make-script: %s; try 'knit --help'", what);
}

/* option_value - the value of --NAME VALUE or --NAME=VALUE at ARGV[*I]; NULL if ARGV[*I]
 * is not that option; *MISSING set when the value is absent */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int cmd_make_script(struct knit_ctx *ctx, int argc, char **argv)
{
    struct arena a;
    arena_init(&a);
    int rc = -1;
    const char *rel = NULL, *outdir = NULL;
    bool no_dot_erlang = false;
    const char **patterns = arena_alloc(&a, (size_t)(argc + 1) * sizeof *patterns);
    size_t npatterns = 0;

    for (int i = 1; i < argc; i++) {
        bool missing = false;
        const char *v;
        if ((v = option_value(argc, argv, &i, "--path", &missing))) {
            patterns[npatterns++] = v;
        } else if ((v = option_value(argc, argv, &i, "--outdir", &missing))) {
            outdir = v;
        } else if (missing) {
            rc = usage(arena_sprintf(&a, "option '%s' needs a directory", argv[i]));
            goto done;
        } else if (!strcmp(argv[i], "--no-dot-erlang")) {
            no_dot_erlang = true;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            rc = usage(arena_sprintf(&a, "unknown option '%s'", argv[i]));
            goto done;
        } else if (rel) {
            rc = usage(arena_sprintf(&a, "unexpected argument '%s'", argv[i]));
            goto done;
        } else {
            rel = argv[i];
        }
    }
    if (!rel || !rel[0]) {
        rc = usage("needs a release file REL.rel");
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
