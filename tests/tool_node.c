/* tool_node.c - test helper: drive knit's node connection layer (node.c) directly
 *
 * usage: tool_node NODE [--cookie C] [--cookie-file F] [--timeout S] OP ARGS...
 *   eval SRC            print the value of SRC evaluated on NODE (~tp, one line)
 *   upload LOCAL REMOTE copy LOCAL to REMOTE on NODE (size + hash checked)
 *   lock WHAT SECS      take knit's node lock, print "locked", hold it SECS seconds
 *   calls SRC           eval SRC, then print how many rpc calls were made
 * Exit status: the error class (4 unreachable, 5 refused, ...), message on stderr. */
#include "kerr.h"
#include "node.h"
#include "term_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(void)
{
    char msg[4096];
    kerr_format(kerr_get(), msg, sizeof msg);
    fprintf(stderr, "tool_node: %s\n", msg);
    return kerr_get()->cls ? (int)kerr_get()->cls : 1;
}

int main(int argc, char **argv)
{
    struct node_opts o;
    node_opts_init(&o);
    char *rest[16];
    int nrest = 0;
    for (int i = 1; i < argc; i++) {
        int used = node_opts_arg(&o, argc - i, argv + i);
        if (used < 0)
            return fail();
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (nrest < 16)
            rest[nrest++] = argv[i];
    }
    if (nrest < 2) {
        fprintf(stderr, "usage: tool_node NODE [node options] OP ARGS...\n");
        return 1;
    }
    struct node_conn *c;
    if (node_open(rest[0], &o, &c) != 0)
        return fail();
    struct arena a;
    arena_init(&a);
    int rc = 0;
    const char *op = rest[1];
    if ((!strcmp(op, "eval") || !strcmp(op, "calls")) && nrest == 3) {
        const struct term *t = node_eval(&a, c, rest[2], NULL);
        if (!t) {
            rc = fail();
        } else {
            struct buf b = BUF_INIT;
            term_print_line(&b, t);
            if (!strcmp(op, "eval"))
                printf("%s\n", buf_cstr(&b));
            else
                printf("%u\n", node_calls(c));
            buf_free(&b);
        }
    } else if (!strcmp(op, "upload") && nrest == 4) {
        if (node_upload(c, rest[2], rest[3], false) != 0)
            rc = fail();
        else
            printf("uploaded\n");
    } else if (!strcmp(op, "lock") && nrest == 4) {
        if (node_lock(c, rest[2]) != 0) {
            rc = fail();
        } else {
            printf("locked\n");
            fflush(stdout);
            sleep((unsigned)atoi(rest[3]));
        }
    } else {
        fprintf(stderr, "tool_node: unknown operation '%s'\n", op);
        rc = 1;
    }
    arena_close(&a);
    node_close(c);
    return rc;
}
