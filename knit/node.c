/* node.c - knit as a hidden C node: epmd lookup, libei handshake through our own socket
 * callbacks (timeouts, and what the peer said), timed rpc through rex, evaluation of Erlang
 * text on the node, chunked upload with a size + hash check, and knit's node lock */
#define _REENTRANT 1 /* libei is the threaded build: erl_errno is per thread */
#include "node.h"
#include "buf.h"
#include "etf.h"
#include "kerr.h"
#include "log.h"
#include "term_parse.h"
#include "term_print.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <ei.h>
#include <openssl/evp.h>

#define DEFAULT_TIMEOUT_MS 60000u
#define UPLOAD_CHUNK (1024 * 1024)
#define CLIENT_NAMES 8 /* knit, knit_2 ... knit_8 */

/* What the peer sent during the handshake, kept by our socket callbacks so that a failed
 * ei connect can be told apart: name in use, not allowed, cookie rejected, timed out. */
struct handshake {
    unsigned char in[1024]; /* the first bytes read, before the handshake completed */
    size_t nin;
    bool complete;
    bool timed_out;
};

struct sock {
    int fd;
    struct handshake *hs;
};

struct node_conn {
    ei_cnode ec;
    int fd;
    bool broken; /* a reply did not come in time: later replies could be a stale one's */
    unsigned timeout_ms;
    unsigned calls;
    char name[512];
    char self[300];
    struct handshake hs;
};

void node_opts_init(struct node_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = DEFAULT_TIMEOUT_MS;
}

int node_opts_arg(struct node_opts *o, int argc, char **argv)
{
    static const char *const names[] = {"--cookie", "--cookie-file", "--timeout"};
    const char *a = argv[0];
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(names[k]);
        if (strncmp(a, names[k], n) != 0 || (a[n] != 0 && a[n] != '='))
            continue;
        const char *v;
        int used;
        if (a[n] == '=') {
            v = a + n + 1;
            used = 1;
        } else if (argc > 1) {
            v = argv[1];
            used = 2;
        } else {
            return kerr_set(KERR_USAGE, NULL, 0, 0, "option '%s' needs a value; try 'knit --help'",
                            names[k]);
        }
        if (k == 0) {
            o->cookie = v;
        } else if (k == 1) {
            o->cookie_file = v;
        } else {
            char *end;
            double s = strtod(v, &end);
            if (end == v || *end || !(s > 0) || s > 86400)
                return kerr_set(KERR_USAGE, NULL, 0, 0,
                                "--timeout: expected seconds (0 < S <= 86400), got '%s'; try "
                                "'knit --help'",
                                v);
            o->timeout_ms = (unsigned)(s * 1000);
            if (o->timeout_ms == 0)
                o->timeout_ms = 1;
        }
        return used;
    }
    return 0;
}

/* this host's name up to the first dot, as erl -sname takes it */
static void short_host(char *out, size_t size)
{
    char h[256] = "localhost";
    if (gethostname(h, sizeof h - 1) != 0)
        snprintf(h, sizeof h, "localhost");
    h[sizeof h - 1] = 0;
    char *dot = strchr(h, '.');
    if (dot)
        *dot = 0;
    snprintf(out, size, "%s", h);
}

const char *node_full_name(struct arena *a, const char *name)
{
    if (strchr(name, '@'))
        return arena_strdup(a, name);
    char h[256];
    short_host(h, sizeof h);
    return arena_sprintf(a, "%s@%s", name, h);
}

unsigned node_calls(const struct node_conn *c)
{
    return c->calls;
}
const char *node_name(const struct node_conn *c)
{
    return c->name;
}
const char *node_self(const struct node_conn *c)
{
    return c->self;
}

/* --- cookie */

static int read_cookie(const struct node_opts *o, char *out, size_t size)
{
    if (o->cookie) {
        if (!*o->cookie || strlen(o->cookie) >= size)
            return kerr_set(KERR_USAGE, NULL, 0, 0, "--cookie: expected 1 to %zu characters",
                            size - 1);
        snprintf(out, size, "%s", o->cookie);
        return 0;
    }
    char path[1024];
    if (o->cookie_file) {
        snprintf(path, sizeof path, "%s", o->cookie_file);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return kerr_set(KERR_INPUT, NULL, 0, 0,
                            "no cookie: give --cookie or --cookie-file (HOME is not set)");
        snprintf(path, sizeof path, "%s/.erlang.cookie", home);
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return kerr_errno(path, "cannot read the cookie file");
    size_t n = fread(out, 1, size - 1, f);
    fclose(f);
    out[n] = 0;
    /* erl takes the first line, without surrounding blanks */
    char *nl = strpbrk(out, "\r\n");
    if (nl)
        *nl = 0;
    size_t b = strspn(out, " \t");
    memmove(out, out + b, strlen(out + b) + 1);
    n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        out[--n] = 0;
    if (n == 0)
        return kerr_set(KERR_INPUT, path, 0, 0, "the cookie file is empty");
    return 0;
}

/* --- time */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd - poll FD for EV up to TMO ms (EI_SCLBK_INF_TMO: forever); 0, or an errno */
static int wait_fd(int fd, short ev, unsigned tmo)
{
    struct pollfd p = {fd, ev, 0};
    int ms = tmo == EI_SCLBK_INF_TMO ? -1 : (int)(tmo > 0x7fffffff ? 0x7fffffff : tmo);
    for (;;) {
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 0;
        if (r == 0)
            return ETIMEDOUT;
        if (errno != EINTR)
            return errno;
    }
}

/* --- socket callbacks for ei: plain TCP with poll timeouts, recording the handshake */

static int cb_socket(void **ctx, void *setup)
{
    struct sock *s = calloc(1, sizeof *s);
    if (!s)
        return ENOMEM;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0) {
        int e = errno;
        free(s);
        return e;
    }
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->hs = setup;
    *ctx = s;
    return 0;
}

static int cb_close(void *ctx)
{
    struct sock *s = ctx;
    int r = close(s->fd) == 0 ? 0 : errno;
    free(s);
    return r;
}

static int cb_listen(void *ctx, void *addr, int *len, int backlog)
{
    (void)ctx, (void)addr, (void)len, (void)backlog;
    return EOPNOTSUPP;
}

static int cb_accept(void **ctx, void *addr, int *len, unsigned tmo)
{
    (void)ctx, (void)addr, (void)len, (void)tmo;
    return EOPNOTSUPP;
}

static int cb_connect(void *ctx, void *addr, int len, unsigned tmo)
{
    struct sock *s = ctx;
    int fl = fcntl(s->fd, F_GETFL);
    fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
    int r = connect(s->fd, addr, (socklen_t)len);
    int e = 0;
    if (r != 0) {
        e = errno;
        if (e == EINPROGRESS) {
            e = wait_fd(s->fd, POLLOUT, tmo);
            if (e == 0) {
                socklen_t el = sizeof e;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el);
            }
        }
    }
    if (e == ETIMEDOUT && s->hs)
        s->hs->timed_out = true;
    fcntl(s->fd, F_SETFL, fl);
    return e;
}

static int cb_writev(void *ctx, const void *iov, int iovcnt, ssize_t *len, unsigned tmo)
{
    struct sock *s = ctx;
    int e = wait_fd(s->fd, POLLOUT, tmo);
    if (e) {
        if (e == ETIMEDOUT && s->hs)
            s->hs->timed_out = true;
        return e;
    }
    ssize_t n = writev(s->fd, iov, iovcnt);
    if (n < 0)
        return errno;
    *len = n;
    return 0;
}

static int cb_write(void *ctx, const char *buf, ssize_t *len, unsigned tmo)
{
    struct iovec v = {(void *)buf, (size_t)*len};
    return cb_writev(ctx, &v, 1, len, tmo);
}

static int cb_read(void *ctx, char *buf, ssize_t *len, unsigned tmo)
{
    struct sock *s = ctx;
    int e = wait_fd(s->fd, POLLIN, tmo);
    if (e) {
        if (e == ETIMEDOUT && s->hs)
            s->hs->timed_out = true;
        return e;
    }
    ssize_t n = read(s->fd, buf, (size_t)*len);
    if (n < 0)
        return errno;
    *len = n;
    if (s->hs && !s->hs->complete && n > 0) {
        size_t room = sizeof s->hs->in - s->hs->nin;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(s->hs->in + s->hs->nin, buf, k);
        s->hs->nin += k;
    }
    return 0;
}

static int cb_hs_header(void *ctx, int *sz)
{
    (void)ctx;
    *sz = 2;
    return 0;
}

static int cb_connect_done(void *ctx)
{
    struct sock *s = ctx;
    if (s->hs)
        s->hs->complete = true;
    return 0;
}

static int cb_accept_done(void *ctx)
{
    (void)ctx;
    return 0;
}

static int cb_get_fd(void *ctx, int *fd)
{
    *fd = ((struct sock *)ctx)->fd;
    return 0;
}

static ei_socket_callbacks knit_cbs = {
    EI_SCLBK_FLG_FULL_IMPL, cb_socket, cb_close,     cb_listen,     cb_accept,
    cb_connect,             cb_writev, cb_write,     cb_read,       cb_hs_header,
    cb_connect_done,        cb_accept_done, cb_get_fd,
};

/* --- epmd */

static int resolve(const char *host, struct in_addr *out)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int r = getaddrinfo(host, NULL, &hints, &res);
    if (r != 0 || !res)
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "cannot resolve host '%s': %s", host,
                        gai_strerror(r));
    *out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

/* io_all - read or write exactly N bytes before DEADLINE; 0, or an errno (0 bytes read:
 * EPIPE) */
static int io_all(int fd, bool wr, unsigned char *p, size_t n, long long deadline)
{
    while (n > 0) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return ETIMEDOUT;
        int e = wait_fd(fd, wr ? POLLOUT : POLLIN, (unsigned)left);
        if (e)
            return e;
        ssize_t k = wr ? write(fd, p, n) : read(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return EPIPE;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* epmd_port - the distribution port of ALIVE at HOST (address ADDR), from its epmd
 * (PORT_PLEASE2_REQ); -1 with KERR_NODE_DOWN saying which step failed */
static int epmd_port(const char *alive, const char *host, struct in_addr addr, unsigned tmo,
                     int *port)
{
    long long deadline = now_ms() + tmo;
    int epmd = 4369;
    const char *env = getenv("ERL_EPMD_PORT");
    if (env && atoi(env) > 0)
        epmd = atoi(env);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return kerr_errno(host, "cannot make a socket");
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)epmd);
    sa.sin_addr = addr;
    struct sock s = {fd, NULL};
    int e = cb_connect(&s, &sa, sizeof sa, tmo);
    if (e) {
        close(fd);
        if (e == ETIMEDOUT)
            return kerr_set(KERR_NODE_DOWN, NULL, 0, 0,
                            "timed out after %g s reaching epmd at host '%s'", tmo / 1000.0, host);
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0,
                        "no epmd at host '%s' (port %d): %s; no Erlang node runs there", host,
                        epmd, strerror(e));
    }
    size_t n = strlen(alive);
    unsigned char req[300];
    req[0] = (unsigned char)((n + 1) >> 8);
    req[1] = (unsigned char)(n + 1);
    req[2] = 122; /* PORT_PLEASE2_REQ */
    memcpy(req + 3, alive, n);
    unsigned char rep[4];
    e = io_all(fd, true, req, n + 3, deadline);
    if (!e)
        e = io_all(fd, false, rep, 2, deadline);
    if (!e && rep[0] == 119 && rep[1] == 0)
        e = io_all(fd, false, rep + 2, 2, deadline);
    close(fd);
    if (e == ETIMEDOUT)
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "timed out after %g s asking epmd at host '%s'",
                        tmo / 1000.0, host);
    if (e)
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "epmd at host '%s' did not answer: %s", host,
                        strerror(e));
    if (rep[0] != 119)
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "epmd at host '%s' gave an unknown reply",
                        host);
    if (rep[1] != 0)
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "no node '%s' at host '%s' (epmd knows no such name)",
                        alive, host);
    *port = rep[2] << 8 | rep[3];
    return 0;
}

/* hs_status - the status the peer sent in the handshake ("ok", "alive", "nok", ...) into
 * OUT, and whether its challenge came after it (then a closed connection means the cookie) */
static void hs_status(const struct handshake *h, char *out, size_t size, bool *challenged)
{
    out[0] = 0;
    *challenged = false;
    size_t at = 0;
    int pkt = 0;
    while (at + 2 <= h->nin) {
        size_t len = (size_t)h->in[at] << 8 | h->in[at + 1];
        if (at + 2 + len > h->nin)
            break;
        const unsigned char *p = h->in + at + 2;
        if (pkt == 0 && len > 0 && p[0] == 's') {
            size_t k = len - 1 < size - 1 ? len - 1 : size - 1;
            memcpy(out, p + 1, k);
            out[k] = 0;
        } else if (pkt == 1 && len > 0 && p[0] == 'N') {
            *challenged = true;
        } else if (pkt == 1 && len > 0 && p[0] == 'n') {
            *challenged = true;
        }
        pkt++;
        at += 2 + len;
    }
}

int node_open(const char *name, const struct node_opts *o, struct node_conn **out)
{
    *out = NULL;
    char cookie[EI_MAX_COOKIE_SIZE + 1];
    if (read_cookie(o, cookie, sizeof cookie) != 0)
        return -1;
    struct node_conn *c = calloc(1, sizeof *c);
    if (!c)
        return kerr_set(KERR_IO, NULL, 0, 0, "out of memory");
    c->fd = -1;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    const char *at = strchr(name, '@');
    char alive[256], host[256];
    if (at) {
        snprintf(alive, sizeof alive, "%.*s", (int)(at - name), name);
        snprintf(host, sizeof host, "%s", at + 1);
    } else {
        snprintf(alive, sizeof alive, "%s", name);
        short_host(host, sizeof host);
    }
    snprintf(c->name, sizeof c->name, "%s@%s", alive, host);
    if (!alive[0] || !host[0] || strlen(alive) > 200) {
        free(c);
        return kerr_set(KERR_USAGE, NULL, 0, 0, "'%s' is no node name (expected name@host)", name);
    }
    struct in_addr addr = {0};
    int port = 0;
    if (resolve(host, &addr) != 0 || epmd_port(alive, host, addr, c->timeout_ms, &port) != 0) {
        free(c);
        return -1;
    }
    /* our host part has the target's form: a long name (with a dot) talks to long names */
    char self_host[256];
    if (strchr(host, '.')) {
        if (!strcmp(host, "127.0.0.1") || !strcmp(host, "localhost.localdomain"))
            snprintf(self_host, sizeof self_host, "%s", host);
        else {
            char h[256] = "";
            gethostname(h, sizeof h - 1);
            h[sizeof h - 1] = 0;
            snprintf(self_host, sizeof self_host, "%s", strchr(h, '.') ? h : host);
        }
    } else {
        short_host(self_host, sizeof self_host);
    }
    unsigned creation = (unsigned)(time(NULL) & 0x7fffffff) | 4;
    for (int k = 1; k <= CLIENT_NAMES; k++) {
        char alive_self[32];
        if (k == 1)
            snprintf(alive_self, sizeof alive_self, "knit");
        else
            snprintf(alive_self, sizeof alive_self, "knit_%d", k);
        snprintf(c->self, sizeof c->self, "%s@%s", alive_self, self_host);
        memset(&c->hs, 0, sizeof c->hs);
        struct in_addr self_addr;
        inet_aton("127.0.0.1", &self_addr);
        if (ei_connect_xinit_ussi(&c->ec, self_host, alive_self, c->self, &self_addr, cookie,
                                  creation, &knit_cbs, sizeof knit_cbs, &c->hs) < 0) {
            kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "cannot set up a client node '%s'", c->self);
            free(c);
            return -1;
        }
        struct in_addr a2 = addr;
        int fd = ei_xconnect_host_port_tmo(&c->ec, &a2, port, c->timeout_ms);
        if (fd >= 0) {
            c->fd = fd;
            *out = c;
            log_verbose("connected to %s as %s", c->name, c->self);
            return 0;
        }
        int err = erl_errno;
        char st[64];
        bool challenged;
        hs_status(&c->hs, st, sizeof st, &challenged);
        if (!strcmp(st, "alive"))
            continue; /* another knit holds this client name: take the next */
        bool timed_out = c->hs.timed_out;
        free(c);
        if (timed_out || err == ETIMEDOUT)
            return kerr_set(KERR_NODE_DOWN, NULL, 0, 0,
                            "timed out after %g s connecting to %s@%s (it does not answer)",
                            o->timeout_ms / 1000.0, alive, host);
        if (err == ECONNREFUSED)
            return kerr_set(KERR_NODE_DOWN, NULL, 0, 0,
                            "connection refused by %s@%s (port %d that epmd gave)", alive, host,
                            port);
        if (!strcmp(st, "ok") && challenged)
            return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                            "cookie rejected by %s@%s (give --cookie or --cookie-file)", alive,
                            host);
        if (st[0] && strcmp(st, "ok") && strcmp(st, "ok_simultaneous"))
            return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                            "%s@%s refused the connection (handshake status '%s')", alive, host,
                            st);
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0,
                        "%s@%s closed the connection during the handshake (a node started "
                        "with -name is not reachable as a short name, nor the reverse): %s",
                        alive, host, strerror(err ? err : EIO));
    }
    free(c);
    return kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                    "%s@%s: all %d knit client names are connected (knit, knit_2 ... knit_%d)",
                    alive, host, CLIENT_NAMES, CLIENT_NAMES);
}

void node_close(struct node_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        ei_close_connection(c->fd);
    free(c);
}

/* --- rpc */

const struct term *node_atom(struct arena *a, const char *s)
{
    return term_atomz(a, s);
}

const struct term *node_str(struct arena *a, const char *s)
{
    return term_stringz(a, s);
}

const struct term *node_bind(struct arena *a, const char *name, const struct term *v)
{
    return term_tuplev(a, 2, term_atomz(a, name), v);
}

const struct term *node_rpc(struct arena *a, struct node_conn *c, const char *m, const char *f,
                            const struct term *args)
{
    if (c->broken)
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0,
                        "%s: the connection is unusable after an earlier timeout", c->name),
               NULL;
    struct buf b = BUF_INIT;
    etf_encode(&b, args);
    c->calls++;
    /* ei_xrpc_to wants the argument list without the version byte */
    if (ei_rpc_to(&c->ec, c->fd, (char *)m, (char *)f, b.p + 1, (int)b.len - 1) < 0) {
        buf_free(&b);
        c->broken = true;
        return kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "%s: cannot send the call %s:%s: %s", c->name,
                        m, f, strerror(erl_errno ? erl_errno : EIO)),
               NULL;
    }
    buf_free(&b);
    long long deadline = now_ms() + c->timeout_ms;
    ei_x_buff x;
    ei_x_new(&x);
    const struct term *result = NULL;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            c->broken = true;
            kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "timed out after %g s waiting for %s (%s:%s)",
                     c->timeout_ms / 1000.0, c->name, m, f);
            break;
        }
        erlang_msg msg;
        x.index = 0;
        int r = ei_xreceive_msg_tmo(c->fd, &msg, &x, (unsigned)left);
        if (r == ERL_TICK)
            continue;
        if (r == ERL_ERROR) {
            int e = erl_errno;
            c->broken = true;
            if (e == ETIMEDOUT)
                kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "timed out after %g s waiting for %s (%s:%s)",
                         c->timeout_ms / 1000.0, c->name, m, f);
            else
                kerr_set(KERR_NODE_DOWN, NULL, 0, 0, "lost the connection to %s during %s:%s: %s",
                         c->name, m, f, strerror(e ? e : EIO));
            break;
        }
        if (msg.msgtype != ERL_SEND && msg.msgtype != ERL_REG_SEND)
            continue;
        const struct term *t = etf_decode(a, c->name, (const uint8_t *)x.buff, (size_t)x.index);
        if (!t) {
            kerr_wrap("a reply that knit cannot read: ", "");
            break;
        }
        if (term_is_tuple(t, 2) && term_is_atom(t->u.tuple.el[0], "rex")) {
            result = t->u.tuple.el[1];
            break;
        }
        /* something else sent to our pid: not ours to answer */
    }
    ei_x_free(&x);
    return result;
}

const struct term *node_call(struct arena *a, struct node_conn *c, const char *m, const char *f,
                             const struct term *args)
{
    const struct term *r = node_rpc(a, c, m, f, args);
    if (r && term_is_tagged(r, "badrpc", 2)) {
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: %s:%s failed: %s", c->name, m, f,
                 term_show(a, r->u.tuple.el[1], 600));
        return NULL;
    }
    return r;
}

/* The expression node_eval sends to erl_eval:expr/5 (ReturnFormat value: only the value
 * comes back, not the bindings): scan S, parse it, evaluate it with bindings B. */
static const char bootstrap_text[] =
    "{block,1,["
    "{match,1,{tuple,1,[{atom,1,ok},{var,1,'T'},{var,1,'_'}]},"
    "{call,1,{remote,1,{atom,1,erl_scan},{atom,1,string}},[{var,1,'S'}]}},"
    "{match,1,{tuple,1,[{atom,1,ok},{var,1,'F'}]},"
    "{call,1,{remote,1,{atom,1,erl_parse},{atom,1,parse_exprs}},[{var,1,'T'}]}},"
    "{match,1,{tuple,1,[{atom,1,value},{var,1,'V'},{var,1,'_'}]},"
    "{call,1,{remote,1,{atom,1,erl_eval},{atom,1,exprs}},[{var,1,'F'},{var,1,'B'}]}},"
    "{var,1,'V'}]}";

const struct term *node_eval(struct arena *a, struct node_conn *c, const char *src,
                             const struct term *bindings)
{
    const struct term *form =
        term_parse_term(a, "node.c", bootstrap_text, sizeof bootstrap_text - 1);
    if (!form)
        return NULL;
    /* erl_parse:parse_exprs wants the final dot */
    char *text = arena_sprintf(a, "%s\n.", src);
    const struct term *bs = term_listv(a, 2, node_bind(a, "B", bindings ? bindings : term_nil()),
                                       node_bind(a, "S", term_stringz(a, text)));
    const struct term *args = term_listv(a, 5, form, bs, term_atomz(a, "none"),
                                         term_atomz(a, "none"), term_atomz(a, "value"));
    const struct term *r = node_rpc(a, c, "erl_eval", "expr", args);
    if (r && term_is_tagged(r, "badrpc", 2)) {
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: evaluation failed: %s", c->name,
                 term_show(a, r->u.tuple.el[1], 800));
        return NULL;
    }
    return r;
}

/* --- upload */

int node_delete(struct node_conn *c, const char *path)
{
    struct arena a;
    arena_init(&a);
    const struct term *r = node_call(&a, c, "file", "delete", term_listv(&a, 1, node_str(&a, path)));
    int rc = 0;
    if (!r)
        rc = -1;
    else if (!term_is_atom(r, "ok") && !term_is_tagged(r, "error", 2))
        rc = kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: cannot delete '%s': %s", c->name, path,
                      term_show(&a, r, 300));
    else if (term_is_tagged(r, "error", 2) && !term_is_atom(r->u.tuple.el[1], "enoent"))
        rc = kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: cannot delete '%s': %s", c->name, path,
                      term_show(&a, r->u.tuple.el[1], 300));
    arena_close(&a);
    return rc;
}

static const char upload_check_src[] =
    "case file:read_file(P) of\n"
    "  {ok, Bin} ->\n"
    "    H = try crypto:hash(sha256, Bin) of X -> {sha256, X}\n"
    "        catch _:_ -> {md5, erlang:md5(Bin)} end,\n"
    "    {ok, byte_size(Bin), H};\n"
    "  Err -> Err\n"
    "end";

int node_upload(struct node_conn *c, const char *local, const char *remote, bool progress)
{
    struct arena a;
    arena_init(&a);
    int rc = -1;
    bool part_written = false;
    const char *part = arena_sprintf(&a, "%s.knit-upload", remote);
    unsigned char *chunk = xmalloc(UPLOAD_CHUNK);
    unsigned char sha[32], md5[16];
    EVP_MD_CTX *hs = EVP_MD_CTX_new(), *hm = EVP_MD_CTX_new();
    FILE *f = fopen(local, "rb");
    if (!f) {
        kerr_errno(local, "cannot open");
        goto done;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        kerr_errno(local, "cannot stat");
        goto done;
    }
    if (!hs || !hm || EVP_DigestInit_ex(hs, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(hm, EVP_md5(), NULL) != 1) {
        kerr_set(KERR_IO, NULL, 0, 0, "cannot set up SHA-256");
        goto done;
    }
    long long sent = 0;
    for (bool first = true;; first = false) {
        size_t n = fread(chunk, 1, UPLOAD_CHUNK, f);
        if (n == 0 && ferror(f)) {
            kerr_errno(local, "cannot read");
            goto done;
        }
        if (n == 0 && !first)
            break;
        EVP_DigestUpdate(hs, chunk, n);
        EVP_DigestUpdate(hm, chunk, n);
        struct arena s;
        arena_init(&s);
        const struct term *args =
            first ? term_listv(&s, 2, node_str(&s, part), term_binary(&s, chunk, n))
                  : term_listv(&s, 3, node_str(&s, part), term_binary(&s, chunk, n),
                               term_listv(&s, 1, term_atomz(&s, "append")));
        const struct term *r = node_call(&s, c, "file", "write_file", args);
        part_written = true;
        if (!r || !term_is_atom(r, "ok")) {
            if (r)
                kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: cannot write '%s': %s", c->name, part,
                         term_show(&s, r, 300));
            arena_close(&s);
            goto done;
        }
        arena_close(&s);
        sent += (long long)n;
        if (progress)
            log_progress("%s: upload %lld/%lld KiB", c->name, sent / 1024,
                         (long long)st.st_size / 1024);
        if (n < UPLOAD_CHUNK)
            break;
    }
    EVP_DigestFinal_ex(hs, sha, NULL);
    EVP_DigestFinal_ex(hm, md5, NULL);
    const struct term *r =
        node_eval(&a, c, upload_check_src, term_listv(&a, 1, node_bind(&a, "P", node_str(&a, part))));
    if (!r)
        goto done;
    if (!term_is_tuple(r, 3) || !term_is_atom(r->u.tuple.el[0], "ok")) {
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: cannot read back '%s': %s", c->name, part,
                 term_show(&a, r, 300));
        goto done;
    }
    const struct term *size = r->u.tuple.el[1], *h = r->u.tuple.el[2];
    if (size->type != TERM_INT || size->u.i != (long long)sent) {
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                 "%s: '%s' has %s bytes on the node, %lld were sent: upload refused", c->name,
                 remote, term_show(&a, size, 40), sent);
        goto done;
    }
    bool is_sha = term_is_tuple(h, 2) && term_is_atom(h->u.tuple.el[0], "sha256");
    const struct term *hv = term_is_tuple(h, 2) ? h->u.tuple.el[1] : NULL;
    size_t want = is_sha ? 32 : 16;
    if (!hv || hv->type != TERM_BITS || hv->u.bits.nbits != want * 8 ||
        memcmp(hv->u.bits.data, is_sha ? sha : md5, want) != 0) {
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: '%s' on the node differs from '%s' (%s): upload refused",
                 c->name, remote, local, is_sha ? "sha256" : "md5");
        goto done;
    }
    r = node_call(&a, c, "file", "rename",
                  term_listv(&a, 2, node_str(&a, part), node_str(&a, remote)));
    if (!r)
        goto done;
    if (!term_is_atom(r, "ok")) {
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s: cannot rename '%s' to '%s': %s", c->name, part,
                 remote, term_show(&a, r, 300));
        goto done;
    }
    part_written = false;
    rc = 0;
done:
    if (part_written && !c->broken) {
        struct kerr keep;
        kerr_copy(&keep);
        node_delete(c, part);
        kerr_restore(&keep);
    }
    if (f)
        fclose(f);
    EVP_MD_CTX_free(hs);
    EVP_MD_CTX_free(hm);
    free(chunk);
    arena_close(&a);
    return rc;
}

/* --- lock */

static const char lock_src[] =
    "Me = self(),\n"
    "P = spawn(fun() ->\n"
    "      case catch register(knit_lock, self()) of\n"
    "        true ->\n"
    "          put(knit_lock, {Client, What, erlang:system_time(second)}),\n"
    "          erlang:monitor_node(Client, true),\n"
    "          Me ! {self(), ok},\n"
    "          receive {nodedown, Client} -> ok end;\n"
    "        _ -> Me ! {self(), held}\n"
    "      end\n"
    "    end),\n"
    "receive\n"
    "  {P, ok} -> ok;\n"
    "  {P, held} ->\n"
    "    case whereis(knit_lock) of\n"
    "      undefined -> {held, unknown};\n"
    "      H -> case process_info(H, dictionary) of\n"
    "             {dictionary, D} -> {held, proplists:get_value(knit_lock, D, unknown)};\n"
    "             _ -> {held, unknown}\n"
    "           end\n"
    "    end\n"
    "after 10000 -> timeout\n"
    "end";

int node_lock(struct node_conn *c, const char *what)
{
    struct arena a;
    arena_init(&a);
    int rc = -1;
    const struct term *bs = term_listv(&a, 2, node_bind(&a, "Client", term_atomz(&a, c->self)),
                                       node_bind(&a, "What", node_str(&a, what)));
    const struct term *r = node_eval(&a, c, lock_src, bs);
    if (!r)
        goto done;
    if (term_is_atom(r, "ok")) {
        rc = 0;
    } else if (term_is_tagged(r, "held", 2) && term_is_tuple(r->u.tuple.el[1], 3)) {
        const struct term *h = r->u.tuple.el[1];
        char *who = term_show(&a, h->u.tuple.el[0], 100);
        char *cmd = term_text(&a, h->u.tuple.el[1]);
        long long since = h->u.tuple.el[2]->type == TERM_INT ? h->u.tuple.el[2]->u.i : 0;
        time_t ago = time(NULL) - (time_t)since;
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0,
                 "%s is locked by another knit (%s, '%s', for %lld s): try again when it is done",
                 c->name, who, cmd ? cmd : "?", (long long)ago);
    } else {
        kerr_set(KERR_NODE_REFUSED, NULL, 0, 0, "%s is locked by another knit: %s", c->name,
                 term_show(&a, r, 200));
    }
done:
    arena_close(&a);
    return rc;
}
