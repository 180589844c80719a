/* node.h - knit as a hidden C node (libei): connect to a running Erlang node, timed rpc
 * returning knit terms, evaluation of Erlang text on the node, file upload, a node lock
 *
 * Nothing is installed on the node: everything goes through rex (rpc) to plain OTP modules.
 * One connection per node per command. The client node name is one of a fixed set
 * (knit, knit_2 ... knit_8 at this host) so that repeated runs create no new atoms on the
 * node and two knit runs at once can still both connect (the second takes knit_2).
 *
 * Errors: connection problems are KERR_NODE_DOWN (exit 4): "no node 'x' at host h",
 * "connection refused", "timed out after S s"; refusals by the node are KERR_NODE_REFUSED
 * (exit 5): "cookie rejected by x@h", a {badrpc, _} reply, the node lock held.
 */
#ifndef KNIT_NODE_H
#define KNIT_NODE_H

#include "arena.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

struct node_conn;

struct node_opts {
    const char *cookie;      /* --cookie C */
    const char *cookie_file; /* --cookie-file F (default $HOME/.erlang.cookie) */
    unsigned timeout_ms;     /* --timeout S: connect, and every call (default 60 s) */
};

/* node_opts_init - the defaults (no cookie given, 60 s) */
void node_opts_init(struct node_opts *o);
/* node_opts_arg - consume a node option at ARGV[0] (--cookie C, --cookie-file F,
 * --timeout S, also as --opt=value): the number of arguments used, 0 when ARGV[0] is no
 * node option, -1 with KERR_USAGE when its value is missing or bad */
int node_opts_arg(struct node_opts *o, int argc, char **argv);
/* node_full_name - NAME as name@host: a bare name gets this host's short name (as
 * erl -sname does); arena-owned */
const char *node_full_name(struct arena *a, const char *name);

/* node_open - connect to NAME (name@host or a bare name). The host's epmd is asked first
 * so that each failure says what it is. Returns 0 and a malloc'd connection in *OUT
 * (node_close it), or -1 with KERR_NODE_DOWN / KERR_NODE_REFUSED / KERR_INPUT (no cookie) */
int node_open(const char *name, const struct node_opts *o, struct node_conn **out);
/* node_close - drop the connection (the node releases knit's lock when it sees it go) */
void node_close(struct node_conn *c);
/* node_name - the node's full name, name@host */
const char *node_name(const struct node_conn *c);
/* node_self - knit's own node name on this connection (knit@host, knit_2@host, ...) */
const char *node_self(const struct node_conn *c);
/* node_calls - how many rpc calls went over C so far */
unsigned node_calls(const struct node_conn *c);

/* node_rpc - M:F(ARGS) on the node (ARGS a proper list), waiting at most the timeout.
 * Returns the reply term in A; a {badrpc, Reason} reply is returned as it is (callers
 * that want it as an error use node_call). NULL with KERR_NODE_DOWN when the connection
 * is lost or the reply does not come in time. */
const struct term *node_rpc(struct arena *a, struct node_conn *c, const char *m, const char *f,
                            const struct term *args);
/* node_call - node_rpc, but {badrpc, Reason} is an error (KERR_NODE_REFUSED, naming the
 * node, M:F and the reason) */
const struct term *node_call(struct arena *a, struct node_conn *c, const char *m, const char *f,
                             const struct term *args);

/* node_eval - evaluate SRC (Erlang expressions, the last one's value is the result; no
 * final '.') on the node in ONE rpc call, with the variables of BINDINGS bound: a proper
 * list of {'Name', Value} (or NULL for none). The text is scanned, parsed and evaluated by
 * the node's own erl_scan/erl_parse/erl_eval. Returns the value in A, or NULL: an
 * exception or a syntax error is KERR_NODE_REFUSED with the reason. */
const struct term *node_eval(struct arena *a, struct node_conn *c, const char *src,
                             const struct term *bindings);
/* node_bind - {'NAME', V}, for the BINDINGS list of node_eval */
const struct term *node_bind(struct arena *a, const char *name, const struct term *v);

/* node_upload - copy the local file LOCAL to REMOTE on the node over the distribution: in
 * chunks (file:write_file, appending) to REMOTE.knit-upload, then checked on the node by
 * size and SHA-256 (crypto:hash; erlang:md5 when the node has no crypto) against the local
 * file, then renamed to REMOTE. On any failure the partial file is deleted. PROGRESS, when
 * true, shows a progress line on a terminal. 0, or -1 (KERR_IO for the local file,
 * KERR_NODE_REFUSED when the node cannot write or the check fails, KERR_NODE_DOWN) */
int node_upload(struct node_conn *c, const char *local, const char *remote, bool progress);
/* node_delete - file:delete(PATH) on the node; a missing file is fine. 0 or -1 */
int node_delete(struct node_conn *c, const char *path);

/* node_lock - take knit's lock on the node for the rest of this connection: a process on
 * the node registered as knit_lock that holds WHAT (e.g. "install") and this client's
 * name, and exits when knit's connection goes down. -1 with KERR_NODE_REFUSED naming the
 * holder when another knit holds it. */
int node_lock(struct node_conn *c, const char *what);

/* node_term_* - small constructors for call arguments */
const struct term *node_atom(struct arena *a, const char *s);
const struct term *node_str(struct arena *a, const char *s); /* a charlist */

#endif
