/* cmd.h - what every command receives, and the commands main.c dispatches to */
#ifndef KNIT_CMD_H
#define KNIT_CMD_H

#include <stdbool.h>

struct knit_ctx {
    int verbose;                /* -v count */
    bool debug;                 /* -d */
    bool quiet;                 /* -q */
    bool force;                 /* -f */
    bool json;                  /* --json */
    bool wait;                  /* --wait: for another run's lock on the project */
    const char *log_file;       /* -l */
    const char *reltool_config; /* -r */
    int noverrides;             /* name=value / name=!!term arguments, in order */
    char **overrides;
};

/* A command returns 0, or -1 with the error recorded (kerr); ARGV[0] is the command name
 * and holds only the command's own arguments after it. */
int cmd_inspect(struct knit_ctx *ctx, int argc, char **argv);
int cmd_make_script(struct knit_ctx *ctx, int argc, char **argv);
int cmd_make_relup(struct knit_ctx *ctx, int argc, char **argv);
int cmd_release(struct knit_ctx *ctx, int argc, char **argv);
int cmd_all(struct knit_ctx *ctx, int argc, char **argv);
int cmd_appup(struct knit_ctx *ctx, int argc, char **argv);
int cmd_relup(struct knit_ctx *ctx, int argc, char **argv);

#endif
