/* cmd.h - the command table's types, what every command receives, the option parser
 * commands share (cmd_opts.c), and the commands main.c dispatches to */
#ifndef KNIT_CMD_H
#define KNIT_CMD_H

#include <stdbool.h>

/* One option of the command line.  Long spellings are matched with '-' and '_' equal
 * (--log-file and --log_file are one option), and `--opt=VAL` equals `--opt VAL`.  No
 * option is told apart from another by one character: every option is looked up by its
 * whole spelling in a table. */
struct cmd_option {
    const char *name;       /* the long spelling with its dashes: "--log-file" */
    const char *short_name; /* "-l", or NULL */
    const char *arg;        /* placeholder of the value ("FILE"), NULL for a flag; ending
                               in "..." (e.g. "OLD.rel...") the option takes every following
                               argument up to the next option */
    const char *help;       /* one line for --help */
};

/* Where a command is listed in --help; CMD_BUILD commands take name=value overrides. */
enum cmd_group { CMD_BUILD, CMD_NODE, CMD_PLUMBING };

struct knit_ctx;

/* One entry of main.c's command table; --help is generated from the table.
 * FN NULL: the command is known but not supported by this build (exit 126).
 * OPTS: the options the command takes after its name, terminated by an entry whose name
 * is NULL. main.c rejects any other option after the command name (exit 1), accepts both
 * spellings, and hands the command its options in ARGV normalised to `--name VAL` (the
 * long spelling, '-' not '_', the value as the next argument), so a command may parse ARGV
 * by hand or with cmd_opts_next() below.  OPTS NULL: every argument after the name reaches
 * the command untouched and the command checks them itself. */
struct command {
    const char *name;
    int (*fn)(struct knit_ctx *ctx, int argc, char **argv);
    enum cmd_group group;
    const char *args;    /* the positional arguments for --help: "FILE...", or "" */
    const char *summary; /* one line for --help */
    const struct cmd_option *opts;
};

struct knit_ctx {
    int verbose;                /* -v count, or the N of -v N */
    bool debug;                 /* -d */
    bool quiet;                 /* -q */
    bool force;                 /* -f --force (global: also the node commands' --force) */
    bool json;                  /* --json (global) */
    bool wait;                  /* --wait: for another run's lock on the project */
    bool tarball_only;          /* --tarball-only: no build dir */
    const char *log_file;       /* -l */
    const char *reltool_config; /* -r */
    int noverrides;             /* name=value / name=!!term arguments, in order */
    char **overrides;
    const struct command *cmd;  /* the table entry being run */
};

/* Parsing a command's ARGV (ARGV[0] is the command name):
 *
 *     struct cmd_opts it;
 *     cmd_opts_init(&it, ctx, argc, argv);
 *     int r;
 *     while ((r = cmd_opts_next(&it)) > 0) {
 *         if (!it.opt)                         positional argument it.val
 *         else if (cmd_opt_is(&it, "--from"))  option with value it.val
 *         else if (cmd_opt_is(&it, "--strict")) flag (it.val NULL)
 *     }
 *     if (r < 0) return -1;                    usage error recorded (exit 1)
 *
 * The options are ctx->cmd->opts.  Both spellings are accepted (`--opt=VAL`, `--opt VAL`,
 * '_' for '-'), so a command that is called from tests without main's normalisation still
 * parses the same.  `--` ends the options. */
struct cmd_opts {
    int argc;
    char **argv;
    int i;                         /* next index of ARGV to read */
    const char *cmd;               /* the command's name, for messages */
    const struct cmd_option *opts; /* may be NULL: then every argument is positional */
    bool done;                     /* `--` seen */
    const struct cmd_option *multi; /* a "..." option still taking arguments */
    const struct cmd_option *opt;  /* out: the option read, NULL for a positional argument */
    const char *val;               /* out: its value (NULL for a flag), or the argument */
};

/* cmd_opts_init - start reading ARGV[1..] against CTX's command options */
void cmd_opts_init(struct cmd_opts *it, const struct knit_ctx *ctx, int argc, char **argv);
/* cmd_opts_next - read the next option or argument into IT->opt / IT->val; returns 1, 0 at
 * the end, -1 with a usage error recorded (unknown option, missing value, a value given to
 * a flag, a "..." option followed by no argument) */
int cmd_opts_next(struct cmd_opts *it);
/* cmd_opt_is - whether the option just read is NAME (its long spelling, "--from") */
bool cmd_opt_is(const struct cmd_opts *it, const char *name);
/* cmd_opt_find - the entry of OPTS spelled ARG ("--log_file", "-l"; any "=VAL" after the
 * name is ignored), or NULL */
const struct cmd_option *cmd_opt_find(const struct cmd_option *opts, const char *arg);
/* cmd_usage - record a usage error "CMD: MESSAGE; try 'knit --help'" (CMD NULL: no prefix);
 * returns -1 */
int cmd_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A command returns 0, or -1 with the error recorded (kerr); ARGV[0] is the command name
 * and holds only the command's own arguments after it. */
int cmd_inspect(struct knit_ctx *ctx, int argc, char **argv);
int cmd_make_script(struct knit_ctx *ctx, int argc, char **argv);
int cmd_make_relup(struct knit_ctx *ctx, int argc, char **argv);
int cmd_release(struct knit_ctx *ctx, int argc, char **argv);
int cmd_all(struct knit_ctx *ctx, int argc, char **argv);
int cmd_appup(struct knit_ctx *ctx, int argc, char **argv);
int cmd_relup(struct knit_ctx *ctx, int argc, char **argv);
int cmd_check(struct knit_ctx *ctx, int argc, char **argv);
int cmd_status(struct knit_ctx *ctx, int argc, char **argv);
int cmd_install(struct knit_ctx *ctx, int argc, char **argv);
int cmd_downgrade(struct knit_ctx *ctx, int argc, char **argv);
int cmd_remove(struct knit_ctx *ctx, int argc, char **argv);
int cmd_patch(struct knit_ctx *ctx, int argc, char **argv);

#endif
