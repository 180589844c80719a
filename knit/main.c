/* main.c - knit's command line: options, the command table, errors and exit codes */
#include "cmd.h"
#include "kerr.h"
#include "log.h"
#include "term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KNIT_VERSION "0.1.0"

struct command {
    const char *name;
    int (*fn)(struct knit_ctx *ctx, int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"inspect", cmd_inspect, "inspect FILE...    beam facts, or the terms of any other file"},
    {"make-script", cmd_make_script, "make-script REL.rel  = systools:make_script/2"},
    {"make-relup", cmd_make_relup, "make-relup REL.rel --up OLD.rel...  = systools:make_relup/4"},
    {"release", cmd_release, "release   target directory + release tarball"},
    {"all", cmd_all, "all       release, then upgrades from every earlier release found"},
    {"appup", cmd_appup, "appup     write the generated appups and print them"},
    {"relup", cmd_relup, "relup     appups + relup + upgrade tarball"},
};

static const char usage_text[] =
    "usage: knit [options] [command] [name=value | name=!!term ...]\n"
    "commands:\n"
    "  (none) | all     release, then upgrades from every earlier release found\n"
    "  release          target directory + release tarball only\n"
    "  appup  [--from VSN]...   write the generated appups and print them\n"
    "  relup  [--from VSN]...   appups + relup + upgrade tarball\n"
    "  check            lint the current code for hot-upgrade hazards\n"
    "plumbing:\n"
    "  inspect FILE...  [--json] .beam facts (module, md5, vsn, attributes, exports,\n"
    "                   imports); any other file: its terms as io_lib:format(\"~tp.~n\")\n"
    "  make-script REL.rel [--path DIR]... [--outdir DIR] [--no-dot-erlang]\n"
    "  make-relup REL.rel --up OLD.rel... [--down OLD.rel...] [--path DIR]...\n"
    "             [--outdir DIR] [--restart-emulator] [--warnings-as-errors]\n"
    "options:\n"
    "  -h --help  -V --version  -v --verbose (repeatable)  -d --debug  -q --quiet\n"
    "  -l --log-file FILE   -r --reltool-config FILE   -f --force   --json\n"
    "  --wait  wait for another knit run on the same target_dir instead of refusing\n";

static int usage_error(const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return kerr_set(KERR_USAGE, NULL, 0, 0, "%s; try 'knit --help'", msg);
}

struct run {
    int argc;
    char **argv;
    int status;
};

static int run_main(void *p)
{
    struct run *r = p;
    int argc = r->argc;
    char **argv = r->argv;
    struct knit_ctx ctx = {0};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    char **over = calloc((size_t)argc + 1, sizeof *over);
    int nrest = 0;
    int rc = 0;
    bool options_done = false;

    if (!rest || !over) {
        rc = kerr_set(KERR_IO, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == 0) {
            /* name=value before or after the command; plumbing commands take files */
            bool plumbing =
                nrest > 0 && (strncmp(rest[0], "make-", 5) == 0 || strcmp(rest[0], "inspect") == 0);
            if (!plumbing && strchr(a, '=') && a[0] != '-' && a[0] != '=') {
                over[ctx.noverrides++] = argv[i];
                continue;
            }
            rest[nrest++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            goto done;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("knit %s\n", KNIT_VERSION);
            goto done;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            ctx.verbose++;
        } else if (a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
            ctx.verbose += (int)strlen(a + 1);
        } else if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
            ctx.debug = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            ctx.quiet = true;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
            ctx.force = true;
        } else if (!strcmp(a, "--wait")) {
            ctx.wait = true;
        } else if (!strcmp(a, "--json")) {
            ctx.json = true;
        } else if (!strcmp(a, "-l") || !strcmp(a, "--log-file") || !strcmp(a, "-r") ||
                   !strcmp(a, "--reltool-config")) {
            if (i + 1 >= argc) {
                rc = usage_error("option '%s' needs a file name", a);
                goto done;
            }
            if (a[1] == 'l' || a[2] == 'l')
                ctx.log_file = argv[++i];
            else
                ctx.reltool_config = argv[++i];
        } else if (nrest > 0) {
            /* an option the command itself takes (--from, --up, ...) */
            rest[nrest++] = argv[i];
        } else {
            rc = usage_error("unknown option '%s'", a);
            goto done;
        }
    }
    ctx.overrides = over;

    enum log_level level = LOG_INFO;
    if (ctx.verbose)
        level = ctx.verbose > 1 ? LOG_DEBUG : LOG_VERBOSE;
    if (ctx.debug)
        level = LOG_DEBUG;
    if (log_setup(level, ctx.quiet, ctx.log_file) != 0) {
        rc = -1;
        goto done;
    }

    const char *name = nrest > 0 ? rest[0] : "all";
    const struct command *cmd = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(commands[k].name, name) == 0)
            cmd = &commands[k];
    if (!cmd) {
        static const char *later[] = {"check"};
        for (size_t k = 0; k < sizeof later / sizeof later[0]; k++)
            if (strcmp(later[k], name) == 0) {
                rc = kerr_set(KERR_UNSUPPORTED, NULL, 0, 0,
                              "command '%s' is not supported by this version yet", name);
                goto done;
            }
        rc = usage_error("unknown command '%s'", name);
        goto done;
    }
    if (nrest == 0) {
        rest[0] = (char *)name;
        nrest = 1;
    }
    rc = cmd->fn(&ctx, nrest, rest);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        rc = kerr_errno("<stdout>", "cannot write");

done:
    free(rest);
    free(over);
    if (rc != 0) {
        /* the one line a failed run always prints, -q or not: pipelines need the reason */
        const struct kerr *e = kerr_get();
        char msg[4096];
        kerr_format(e, msg, sizeof msg);
        fprintf(stderr, "knit: %s\n", msg);
        char line[4200];
        snprintf(line, sizeof line, "error: %s", msg);
        log_file_line(line);
        r->status = e->cls ? (int)e->cls : KERR_BUILD;
    }
    log_close();
    return 0;
}

int main(int argc, char **argv)
{
    struct run r = {argc, argv, 0};
    /* term code recurses; a big stack makes TERM_MAX_DEPTH nesting safe */
    knit_run_big_stack(run_main, &r);
    return r.status;
}
