/* cmd_opts.c - the one option parser of the command line (main.c and every command) */
#include "cmd.h"
#include "kerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool is_option(const char *a)
{
    return a[0] == '-' && a[1] != 0;
}

/* long_eq - whether ARG (up to '=' or its end) spells NAME, '-' and '_' alike */
static bool long_eq(const char *name, const char *arg)
{
    size_t i = 0;
    for (; name[i] && arg[i] && arg[i] != '='; i++) {
        char x = name[i] == '_' ? '-' : name[i];
        char y = arg[i] == '_' ? '-' : arg[i];
        if (x != y)
            return false;
    }
    return name[i] == 0 && (arg[i] == 0 || arg[i] == '=');
}

const struct cmd_option *cmd_opt_find(const struct cmd_option *opts, const char *arg)
{
    if (!opts || !is_option(arg))
        return NULL;
    for (const struct cmd_option *o = opts; o->name; o++) {
        if (arg[1] == '-' ? long_eq(o->name, arg) : (o->short_name && !strcmp(o->short_name, arg)))
            return o;
    }
    return NULL;
}

int cmd_usage(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd)
        return kerr_set(KERR_USAGE, NULL, 0, 0, "%s: %s; try 'knit --help'", cmd, msg);
    return kerr_set(KERR_USAGE, NULL, 0, 0, "%s; try 'knit --help'", msg);
}

void cmd_opts_init(struct cmd_opts *it, const struct knit_ctx *ctx, int argc, char **argv)
{
    memset(it, 0, sizeof *it);
    it->argc = argc;
    it->argv = argv;
    it->i = 1;
    it->cmd = ctx && ctx->cmd ? ctx->cmd->name : (argc > 0 ? argv[0] : NULL);
    it->opts = ctx && ctx->cmd ? ctx->cmd->opts : NULL;
}

/* takes_many - whether O takes every argument up to the next option ("OLD.rel...") */
static bool takes_many(const struct cmd_option *o)
{
    size_t n = strlen(o->arg);
    return n >= 3 && !strcmp(o->arg + n - 3, "...");
}

int cmd_opts_next(struct cmd_opts *it)
{
    it->opt = NULL;
    it->val = NULL;
    if (it->i >= it->argc)
        return 0;
    const char *a = it->argv[it->i];
    if (!it->done && it->multi && !is_option(a)) {
        it->i++;
        it->opt = it->multi;
        it->val = a;
        return 1;
    }
    it->multi = NULL;
    if (it->done || !is_option(a)) {
        it->i++;
        it->val = a;
        return 1;
    }
    if (!strcmp(a, "--")) {
        it->done = true;
        it->i++;
        return cmd_opts_next(it);
    }
    const struct cmd_option *o = cmd_opt_find(it->opts, a);
    if (!o)
        return cmd_usage(it->cmd, "unknown option '%s'", a);
    const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
    it->i++;
    it->opt = o;
    if (!o->arg) {
        if (eq)
            return cmd_usage(it->cmd, "option '%s' takes no value", o->name);
        return 1;
    }
    if (eq) {
        it->val = eq + 1;
    } else if (it->i < it->argc && !is_option(it->argv[it->i])) {
        it->val = it->argv[it->i++];
    } else {
        return cmd_usage(it->cmd, "option '%s' needs %s", o->name, o->arg);
    }
    if (takes_many(o))
        it->multi = o;
    return 1;
}

bool cmd_opt_is(const struct cmd_opts *it, const char *name)
{
    return it->opt && !strcmp(it->opt->name, name);
}
