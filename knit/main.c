/* main.c - knit's command line: the command table, global options, errors and exit codes */
#include "cmd.h"
#include "kerr.h"
#include "log.h"
#include "rebar.h"
#include "term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KNIT_VERSION "0.1.0"

/* Options before or after the command; handled here and kept out of the command's ARGV. */
static const struct cmd_option global_opts[] = {
    {"--help", "-h", NULL, "print this help (after a command: the command's help) and exit"},
    {"--version", "-V", NULL, "print knit's version and exit"},
    {"--verbose", "-v", NULL, "say more; repeat (-vv) or give a level (-v 2, --verbose=2)"},
    {"--debug", "-d", NULL, "say everything (the same as -v 2)"},
    {"--quiet", "-q", NULL, "print nothing but errors (and the --json document)"},
    {"--log-file", "-l", "FILE", "also write every message, at debug level, to FILE"},
    {"--reltool-config", "-r", "FILE", "the configuration (default: reltool.config, then "
                                       "rel/reltool.config, then rebar.config)"},
    {"--force", "-f", NULL, "replace existing tarballs; node commands: go on despite the "
                            "pre-flight"},
    {"--json", NULL, NULL, "print one JSON report on stdout (messages go to stderr)"},
    {"--wait", NULL, NULL, "wait for another knit run on the same target_dir instead of "
                           "refusing"},
    {"--tarball-only", NULL, NULL, "knit, knit release: no build dir; the release tarball is "
                                   "streamed from the sources (as {build_dir, false})"},
    {"--profile", NULL, "P", "in a rebar3 project: the rebar3 profile whose relx options apply"},
    {NULL, NULL, NULL, NULL},
};

static const struct cmd_option no_opts[] = {{NULL, NULL, NULL, NULL}};

/* the connection options every node command takes */
#define NODE_OPTS                                                                            \
    {"--cookie", NULL, "C", "the distribution cookie"},                                       \
        {"--cookie-file", NULL, "F", "read the cookie from F (default: ~/.erlang.cookie)"},   \
        {"--timeout", NULL, "S", "give up on a node after S seconds"}

/* The command table: --help is generated from it, options are checked against it.  A new
 * command is one entry (and its prototype in cmd.h). */
static const struct command commands[] = {
    {"all", cmd_all, CMD_BUILD, "", "release, then upgrades from every earlier release found "
                                    "(the default command)", no_opts},
    {"release", cmd_release, CMD_BUILD, "", "target directory + release tarball only", no_opts},
    {"appup", cmd_appup, CMD_BUILD, "", "write the generated appups into the build dir and "
                                        "print them",
     (const struct cmd_option[]){
         {"--from", NULL, "VSN", "only from earlier release VSN (repeatable)"},
         {NULL, NULL, NULL, NULL}}},
    {"relup", cmd_relup, CMD_BUILD, "", "appups + relup + upgrade tarball (default: from "
                                        "every earlier release)",
     (const struct cmd_option[]){
         {"--from", NULL, "VSN", "only from earlier release VSN (repeatable)"},
         {NULL, NULL, NULL, NULL}}},
    {"check", cmd_check, CMD_BUILD, "[BEAM...]", "lint for hot-upgrade hazards",
     (const struct cmd_option[]){
         {"--from", NULL, "VSN", "only against earlier release VSN (repeatable)"},
         {"--strict", NULL, NULL, "warnings fail the run too (exit 2)"},
         {NULL, NULL, NULL, NULL}}},
    {"status", cmd_status, CMD_NODE, "NODE...", "what each node runs: releases, apps, patches, "
                                          "old code",
     (const struct cmd_option[]){NODE_OPTS, {NULL, NULL, NULL, NULL}}},
    {"install", cmd_install, CMD_NODE, "NODE... TARBALL", "upload, pre-flight, unpack, install, "
                                                   "make permanent",
     (const struct cmd_option[]){
         NODE_OPTS,
         {"--dry-run", NULL, NULL, "upload and pre-flight only"},
         {"--no-permanent", NULL, NULL, "install without making the release permanent"},
         {NULL, NULL, NULL, NULL}}},
    {"downgrade", cmd_downgrade, CMD_NODE, "NODE... VSN",
     "install an older release the nodes still hold, and make it permanent",
     (const struct cmd_option[]){
         NODE_OPTS,
         {"--dry-run", NULL, NULL, "pre-flight only"},
         {"--no-permanent", NULL, NULL, "install without making the release permanent"},
         {NULL, NULL, NULL, NULL}}},
    {"remove", cmd_remove, CMD_NODE, "NODE... VSN", "remove an unpacked, non-current release",
     (const struct cmd_option[]){NODE_OPTS, {NULL, NULL, NULL, NULL}}},
    {"patch", cmd_patch, CMD_NODE, "NODE... BEAM|EBIN_DIR...", "hot-patch changed modules "
                                                          "without a release",
     (const struct cmd_option[]){
         NODE_OPTS,
         {"--dry-run", NULL, NULL, "compare and pre-flight only"},
         {"--add", NULL, NULL, "also load modules the node does not have"},
         {NULL, NULL, NULL, NULL}}},
    {"inspect", cmd_inspect, CMD_PLUMBING, "FILE...",
     ".beam: module, md5, vsn, attributes, exports, imports; any other file: its terms as "
     "io_lib:format(\"~tp.~n\") prints them",
     no_opts},
    {"make-script", cmd_make_script, CMD_PLUMBING, "REL.rel",
     "= systools:make_script/2: writes NAME.script and NAME.boot",
     (const struct cmd_option[]){
         {"--path", NULL, "DIR", "look for applications in DIR (repeatable; wildcards as "
                                 "systools)"},
         {"--outdir", NULL, "DIR", "write into DIR (default: beside REL.rel)"},
         {"--no-dot-erlang", NULL, NULL, "boot script without loading .erlang"},
         {NULL, NULL, NULL, NULL}}},
    {"make-relup", cmd_make_relup, CMD_PLUMBING, "REL.rel",
     "= systools:make_relup/4: writes relup",
     (const struct cmd_option[]){
         {"--up", NULL, "OLD.rel...", "releases to upgrade from (repeatable)"},
         {"--down", NULL, "OLD.rel...", "releases to downgrade to (repeatable)"},
         {"--path", NULL, "DIR", "look for applications in DIR (repeatable)"},
         {"--outdir", NULL, "DIR", "write relup into DIR (default: .)"},
         {"--restart-emulator", NULL, NULL, "restart the emulator after the upgrade"},
         {"--warnings-as-errors", NULL, NULL, "fail on warnings"},
         {NULL, NULL, NULL, NULL}}},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (!strcmp(commands[k].name, name))
            return &commands[k];
    return NULL;
}

#define HELP_WIDTH 96

/* print_row - LEFT padded to column COL, then TEXT (and MORE) wrapped at HELP_WIDTH with
 * continuation lines starting at COL */
static void print_row(const char *left, int col, const char *text, const char *more)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", text, more);
    int at = printf("%-*s", col, left);
    if (at > col) {
        printf("\n%*s", col, "");
        at = col;
    }
    for (const char *w = buf; *w;) {
        size_t n = strcspn(w, " ");
        if (at > col && at + 1 + (int)n > HELP_WIDTH) {
            printf("\n%*s", col, "");
            at = col;
        }
        if (at > col)
            at += printf(" ");
        at += printf("%.*s", (int)n, w);
        w += n;
        w += strspn(w, " ");
    }
    printf("\n");
}

static void print_option(const struct cmd_option *o, const char *indent)
{
    char left[160];
    snprintf(left, sizeof left, "%s%s%s%s%s%s ", indent, o->short_name ? o->short_name : "",
             o->short_name ? ", " : "", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    print_row(left, (int)strlen(indent) + 29, o->help, "");
}

static void print_command(const struct command *c)
{
    char left[160];
    snprintf(left, sizeof left, "  %s%s%s ", c->name, c->args[0] ? " " : "", c->args);
    print_row(left, 33, c->summary, c->fn ? "" : " (not in this build)");
    for (const struct cmd_option *o = c->opts; o && o->name; o++)
        print_option(o, "      ");
}

static const char *const group_title[] = {
    [CMD_BUILD] = "commands (in a project: reltool.config or rel/reltool.config):",
    [CMD_NODE] = "node commands (NODE is name@host, or a bare name for name@<this host>):",
    [CMD_PLUMBING] = "plumbing (no reltool.config needed):",
};

static void print_help(const struct command *only)
{
    if (only) {
        printf("usage: knit [options] %s%s%s [%s options]\n%s\n", only->name,
               only->args[0] ? " " : "", only->args, only->name, only->summary);
        if (only->opts && only->opts->name) {
            printf("%s options:\n", only->name);
            for (const struct cmd_option *o = only->opts; o->name; o++)
                print_option(o, "  ");
        }
    } else {
        printf("usage: knit [options] [command] [name=value | name=!!term ...]\n");
        for (int g = CMD_BUILD; g <= CMD_PLUMBING; g++) {
            printf("%s\n", group_title[g]);
            for (size_t k = 0; k < NCOMMANDS; k++)
                if ((int)commands[k].group == g)
                    print_command(&commands[k]);
        }
    }
    printf("options (anywhere on the line; --opt=VAL or --opt VAL, '_' for '-'):\n");
    for (const struct cmd_option *o = global_opts; o->name; o++)
        print_option(o, "  ");
    if (!only || only->group == CMD_BUILD)
        printf("name=value overrides the knit option NAME; name=!!TERM gives it as an Erlang "
               "term\n");
}

static bool is_option(const char *a)
{
    return a[0] == '-' && a[1] != 0;
}

static bool is_override(const char *a)
{
    return a[0] != '-' && a[0] != '=' && strchr(a, '=') != NULL;
}

static bool all_digits(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 6;
}

/* option_value - the value of option O at ARGV[*I] (`--o=V` or `--o V`); NULL with a usage
 * error recorded when it is missing */
static const char *option_value(const char *cmd, const struct cmd_option *o, int argc,
                                char **argv, int *i)
{
    const char *a = argv[*i];
    const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
    if (eq)
        return eq + 1;
    if (*i + 1 < argc && !is_option(argv[*i + 1]))
        return argv[++*i];
    cmd_usage(cmd, "option '%s' needs %s", a, o->arg);
    return NULL;
}

/* global_option - apply global option G found at ARGV[*I]; 1: go on, 0: stop (help or
 * version printed), -1: error */
static int global_option(struct knit_ctx *ctx, const struct cmd_option *g, int argc,
                         char **argv, int *i, bool *help)
{
    const char *a = argv[*i];
    const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
    const char *n = g->name;
    if (eq && !g->arg && strcmp(n, "--verbose"))
        return cmd_usage(NULL, "option '%s' takes no value", n);
    if (!strcmp(n, "--help")) {
        *help = true;
    } else if (!strcmp(n, "--version")) {
        printf("knit %s\n", KNIT_VERSION);
        return 0;
    } else if (!strcmp(n, "--verbose")) {
        /* the original knit's -v N (an integer level), and -v repeated */
        if (eq) {
            if (!all_digits(eq + 1))
                return cmd_usage(NULL, "option '%s' needs an integer level", n);
            ctx->verbose = atoi(eq + 1);
        } else if (*i + 1 < argc && all_digits(argv[*i + 1])) {
            ctx->verbose = atoi(argv[++*i]);
        } else {
            ctx->verbose++;
        }
    } else if (!strcmp(n, "--debug")) {
        ctx->debug = true;
    } else if (!strcmp(n, "--quiet")) {
        ctx->quiet = true;
    } else if (!strcmp(n, "--force")) {
        ctx->force = true;
    } else if (!strcmp(n, "--json")) {
        ctx->json = true;
    } else if (!strcmp(n, "--wait")) {
        ctx->wait = true;
    } else if (!strcmp(n, "--tarball-only")) {
        ctx->tarball_only = true;
    } else if (!strcmp(n, "--profile")) {
        const char *v = option_value(NULL, g, argc, argv, i);
        if (!v)
            return -1;
        if (!*v)
            return cmd_usage(NULL, "option '%s' needs %s", n, g->arg);
        rebar_set_profile(v);
    } else if (!strcmp(n, "--log-file") || !strcmp(n, "--reltool-config")) {
        const char *v = option_value(NULL, g, argc, argv, i);
        if (!v)
            return -1;
        if (!*v)
            return cmd_usage(NULL, "option '%s' needs %s", n, g->arg);
        if (!strcmp(n, "--log-file"))
            ctx->log_file = v;
        else
            ctx->reltool_config = v;
    }
    return 1;
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
    /* a command's ARGV: the name, then its arguments with options normalised to --name VAL */
    char **rest = calloc((size_t)argc * 2 + 2, sizeof *rest);
    char **over = calloc((size_t)argc + 1, sizeof *over);
    int nrest = 1;
    int rc = 0;
    bool options_done = false, help = false;
    const struct command *cmd = NULL;
    bool named = false; /* the command was given (for --help) */

    if (!rest || !over) {
        rc = kerr_set(KERR_IO, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (options_done || !is_option(a)) {
            if (!cmd && is_override(a)) {
                over[ctx.noverrides++] = a;
            } else if (!cmd) {
                cmd = find_command(a);
                named = true;
                if (!cmd) {
                    rc = cmd_usage(NULL, "unknown command '%s'", a);
                    goto done;
                }
            } else if (cmd->group == CMD_BUILD && is_override(a)) {
                over[ctx.noverrides++] = a;
            } else {
                rest[nrest++] = a;
            }
            continue;
        }
        if (!strcmp(a, "--")) {
            options_done = true;
            if (cmd)
                rest[nrest++] = a;
            continue;
        }
        const struct cmd_option *g = cmd_opt_find(global_opts, a);
        if (!g && a[1] != '-' && strspn(a + 1, "v") == strlen(a + 1)) {
            ctx.verbose += (int)strlen(a + 1); /* -vv, -vvv */
            continue;
        }
        if (g) {
            rc = global_option(&ctx, g, argc, argv, &i, &help);
            if (rc <= 0)
                goto done;
            rc = 0;
            continue;
        }
        if (cmd && !cmd->opts) {
            rest[nrest++] = a; /* the command checks its own options */
            continue;
        }
        const struct cmd_option *o = cmd ? cmd_opt_find(cmd->opts, a) : NULL;
        if (!o) {
            rc = cmd_usage(cmd ? cmd->name : NULL, "unknown option '%s'", a);
            goto done;
        }
        rest[nrest++] = (char *)o->name;
        if (o->arg) {
            const char *v = option_value(cmd->name, o, argc, argv, &i);
            if (!v) {
                rc = -1;
                goto done;
            }
            rest[nrest++] = (char *)v;
        } else if (a[1] == '-' && strchr(a, '=')) {
            rc = cmd_usage(cmd->name, "option '%s' takes no value", o->name);
            goto done;
        }
    }
    if (!cmd)
        cmd = find_command("all");
    if (help) {
        print_help(named ? cmd : NULL);
        goto done;
    }
    ctx.overrides = over;
    ctx.cmd = cmd;
    rest[0] = (char *)cmd->name;

    enum log_level level = LOG_INFO;
    if (ctx.verbose)
        level = ctx.verbose > 1 ? LOG_DEBUG : LOG_VERBOSE;
    if (ctx.debug)
        level = LOG_DEBUG;
    if (log_setup(level, ctx.quiet, ctx.log_file) != 0) {
        rc = -1;
        goto done;
    }
    if (!cmd->fn) {
        rc = kerr_set(KERR_UNSUPPORTED, NULL, 0, 0,
                      "command '%s' is not supported by this version yet", cmd->name);
        goto done;
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
