/* patch_conn.h - STAND-IN connection for `knit patch` (a hidden C node over libei: connect,
 * timed rpc returning knit terms) until the node branch's connection layer is merged; then
 * cmd_patch.c calls that layer and this file goes away. */
#ifndef KNIT_PATCH_CONN_H
#define KNIT_PATCH_CONN_H

#include "arena.h"
#include "term.h"

struct pconn;

struct pconn_opts {
    const char *cookie;      /* --cookie */
    const char *cookie_file; /* --cookie-file (default $HOME/.erlang.cookie) */
    unsigned timeout_ms;     /* --timeout S, per call (default 60 s) */
};

void pconn_opts_init(struct pconn_opts *o);
/* pconn_opts_arg - consume a node option at ARGV[0] (with its value): the number of
 * arguments used, 0 when ARGV[0] is no node option, -1 with KERR_USAGE */
int pconn_opts_arg(struct pconn_opts *o, int argc, char **argv);
/* pconn_open - connect to NAME (name@host, or a bare name for this host); -1 with exit
 * class 4 saying why; the connection is malloc'd: pconn_close it */
int pconn_open(struct arena *a, const char *name, const struct pconn_opts *o, struct pconn **out);
const char *pconn_name(const struct pconn *c);
/* pconn_rpc - M:F(ARGS) on the node through rex; the reply term in A, or NULL with class 4
 * (connection lost, timed out) */
const struct term *pconn_rpc(struct arena *a, struct pconn *c, const char *m, const char *f,
                             const struct term *args);
void pconn_close(struct pconn *c);

#endif
