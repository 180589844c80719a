/* patch_conn.c - STAND-IN hidden C node for `knit patch` over libei (see patch_conn.h) */
#include "patch_conn.h"

#include "buf.h"
#include "etf.h"
#include "fsutil.h"
#include "kerr.h"

#define _REENTRANT 1 /* libei is the threaded build: erl_errno is per thread */
#include <ei.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNREACHABLE ((enum kerr_class)4)

struct pconn {
    ei_cnode ec;
    int fd;
    unsigned timeout_ms;
    char name[512];
};

void pconn_opts_init(struct pconn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = 60000;
}

int pconn_opts_arg(struct pconn_opts *o, int argc, char **argv)
{
    const char *x = argv[0];
    if (strcmp(x, "--cookie") && strcmp(x, "--cookie-file") && strcmp(x, "--timeout"))
        return 0;
    if (argc < 2)
        return kerr_set(KERR_USAGE, NULL, 0, 0, "option '%s' needs a value; try 'knit --help'", x);
    if (!strcmp(x, "--cookie")) {
        o->cookie = argv[1];
    } else if (!strcmp(x, "--cookie-file")) {
        o->cookie_file = argv[1];
    } else {
        char *end;
        double s = strtod(argv[1], &end);
        if (*end || s <= 0 || s > 86400)
            return kerr_set(KERR_USAGE, NULL, 0, 0,
                            "--timeout takes seconds (0 < S <= 86400), not '%s'; try 'knit --help'",
                            argv[1]);
        o->timeout_ms = (unsigned)(s * 1000);
    }
    return 2;
}

static const char *cookie_of(struct arena *a, const struct pconn_opts *o)
{
    if (o->cookie)
        return o->cookie;
    const char *f = o->cookie_file;
    if (!f) {
        const char *home = getenv("HOME");
        f = arena_sprintf(a, "%s/.erlang.cookie", home ? home : ".");
    }
    size_t len;
    char *c = fs_read_file(a, f, &len);
    if (!c)
        return NULL;
    while (len && (c[len - 1] == '\n' || c[len - 1] == '\r' || c[len - 1] == ' '))
        c[--len] = 0;
    return c;
}

int pconn_open(struct arena *a, const char *name, const struct pconn_opts *o, struct pconn **out)
{
    static int inited;
    if (!inited) {
        ei_init();
        inited = 1;
    }
    const char *cookie = cookie_of(a, o);
    if (!cookie)
        return -1;
    const char *full = name;
    if (!strchr(name, '@')) {
        char host[256];
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = 0;
        char *dot = strchr(host, '.');
        if (dot)
            *dot = 0;
        full = arena_sprintf(a, "%s@%s", name, host);
    }
    struct pconn *c = xcalloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", full);
    c->timeout_ms = o->timeout_ms;
    const char *host = strchr(full, '@') + 1;
    char alive[64], me[600];
    snprintf(alive, sizeof alive, "knit_%ld_%d", (long)getpid(), rand() % 100000);
    snprintf(me, sizeof me, "%s@%s", alive, host);
    if (ei_connect_xinit(&c->ec, host, alive, me, NULL, cookie, 0) < 0) {
        free(c);
        return kerr_set(UNREACHABLE, NULL, 0, 0, "%s: cannot set up the C node", full);
    }
    c->fd = ei_connect_tmo(&c->ec, c->name, o->timeout_ms);
    if (c->fd < 0) {
        int e = erl_errno;
        if (getenv("KNIT_DEBUG_EI"))
            fprintf(stderr, "ei: fd %d erl_errno %d\n", c->fd, e);
        const char *why = c->fd == ERL_TIMEOUT || e == ETIMEDOUT ? "timed out"
                          : c->fd == ERL_NO_PORT ? "no such node at that host's epmd"
                          : e == ECONNREFUSED    ? "connection refused"
                          : e == EIO             ? "cookie rejected (the handshake failed)"
                                                 : strerror(e);
        free(c);
        return kerr_set(UNREACHABLE, NULL, 0, 0, "%s: node unreachable: %s", full, why);
    }
    *out = c;
    return 0;
}

const char *pconn_name(const struct pconn *c)
{
    return c->name;
}

const struct term *pconn_rpc(struct arena *a, struct pconn *c, const char *m, const char *f,
                             const struct term *args)
{
    struct buf b = BUF_INIT;
    etf_encode(&b, args);
    int rc = ei_rpc_to(&c->ec, c->fd, (char *)m, (char *)f, b.p + 1, (int)b.len - 1);
    buf_free(&b);
    if (rc < 0)
        return kerr_set(UNREACHABLE, NULL, 0, 0, "%s: lost the connection calling %s:%s", c->name,
                        m, f),
               NULL;
    ei_x_buff x;
    ei_x_new(&x);
    erlang_msg msg;
    for (;;) {
        x.index = 0;
        rc = ei_rpc_from(&c->ec, c->fd, (int)c->timeout_ms, &msg, &x);
        if (rc == ERL_TICK)
            continue;
        break;
    }
    const struct term *t = NULL;
    if (rc == ERL_TIMEOUT || rc < 0) {
        kerr_set(UNREACHABLE, NULL, 0, 0, "%s: %s calling %s:%s", c->name,
                 rc == ERL_TIMEOUT ? "timed out" : "lost the connection", m, f);
    } else {
        t = etf_decode(a, c->name, (const uint8_t *)x.buff, (size_t)x.index);
        if (t && term_is_tagged(t, "rex", 2))
            t = t->u.tuple.el[1];
        else if (t)
            t = (kerr_set(UNREACHABLE, NULL, 0, 0, "%s: unexpected answer to %s:%s", c->name, m,
                          f),
                 NULL);
    }
    ei_x_free(&x);
    return t;
}

void pconn_close(struct pconn *c)
{
    if (!c)
        return;
    ei_close_connection(c->fd);
    free(c);
}
