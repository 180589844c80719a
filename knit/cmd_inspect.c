/* cmd_inspect.c - `knit inspect FILE... [--json]`: beam facts, or the terms of any other file
 *
 * A file is a beam when its bytes say so (FOR1...BEAM or gzip), whatever its name. Any other
 * file starting with byte 131 is one external-format term (a .boot file); anything else is
 * read as file:consult/1 reads it. Without --json a beam gives a short report and other files
 * give each term as io_lib:format("~tp.~n", [T]) does, nothing else, so the output diffs
 * against OTP. With --json stdout holds one document:
 *   {"files":[{"path":P,"type":"beam","module":M,"md5":HEX,"vsn":TEXT,"behaviours":[M...],
 *              "attributes":{Name:[TEXT...]},"exports":["f/a"...],"imports":["m:f/a"...],
 *              "has_debug_info":BOOL},
 *             {"path":P,"type":"terms"|"etf","terms":[TEXT...]}]}
 * one file per line, where TEXT is a term written on one line as io_lib:format("~0tp")
 * writes it (strings stay strings) and atoms in "f/a" are quoted as ~tw quotes them. An
 * attribute gives one TEXT per occurrence, in file order: its value as written (the
 * compiler's [E] for -a(E) read back as E; see jattributes). Files are read in parallel; output keeps argument
 * order. The first failing file (in argument order) ends the run: its error is returned,
 * text output of the files before it has been written, and --json writes nothing.
 */
#include "beam.h"
#include "buf.h"
#include "cmd.h"
#include "etf.h"
#include "kerr.h"
#include "report.h"
#include "term_parse.h"
#include "term_print.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define INSPECT_MAX_THREADS 16
#define INSPECT_WRAP 100
#define INSPECT_IOV 1024 /* iovecs per writev (IOV_MAX on Linux) */
#define INSPECT_HUGE ((size_t)2 << 20)

struct inspect_job {
    const char *path;
    const char *out; /* this file's text, or its JSON object, in its worker's keep arena */
    size_t len;
    size_t worker; /* the worker that did it */
    int rc;
    bool is_beam;
};

/* One per thread (the calling thread is worker 0). Everything a file needs is reused from
 * one file to the next, so the run faults in few fresh pages. */
struct inspect_worker {
    struct inspect_run *run;
    size_t id;
    struct buf out;    /* the file being done's output */
    struct buf tmp;    /* scratch text */
    uint8_t *rbuf;     /* the file being read, rcap + 1 bytes */
    size_t rcap;
    bool rbuf_mapped;  /* rbuf is one huge page of our own mapping, not malloc'd */
    struct arena a;    /* reset after every file */
    struct arena keep; /* the outputs, kept to the end: pooled blocks, which the arena
                          backs with huge pages, so a few faults instead of one per 4 KB */
    struct kerr err;   /* the error of this worker's failed job, if any (it is its last) */
};

struct inspect_run {
    struct inspect_job *jobs;
    size_t n;
    bool json;
    pthread_mutex_t mu;
    size_t next;      /* next job to start */
    size_t first_err; /* lowest failed job, n when none */
};

/* Written forms of the atoms of one beam, keyed by name pointer: the beam reader hands out
 * one pointer per distinct atom, and import lists repeat module names many times. For
 * --json the form kept is the one escaped for a JSON string. */
struct atom_memo {
    struct arena *a;
    struct buf *tmp;
    bool json;
    size_t cap; /* a power of two */
    const char **keys;
    const char **texts;
    size_t *lens;
};

static void memo_init(struct atom_memo *m, struct arena *a, struct buf *tmp, bool json,
                      size_t atoms)
{
    m->a = a;
    m->tmp = tmp;
    m->json = json;
    m->cap = 16;
    while (m->cap < 2 * atoms)
        m->cap *= 2;
    m->keys = NULL; /* made when first needed: most atoms take the short way */
}

/* put - buf_add without keeping the contents NUL-terminated, for the many small pieces of
 * the export and import lists (a later buf_add terminates them) */
static inline void put(struct buf *b, const void *p, size_t n)
{
    if (b->cap - b->len <= n)
        buf_reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* write_atom - an atom's name as ~tw writes it (quoted when it must be); -1 (nothing
 * recorded) when the text cannot be put in a JSON string */
static int write_atom(struct atom_memo *m, struct buf *b, const char *name)
{
    /* most names are [a-z][a-zA-Z0-9_@]*, written as they are (and so in JSON) unless
     * they are reserved words, which are all 2 to 7 lower-case letters */
    /* name characters as bits: '0'-'9' in the first word; '@', 'A'-'Z', '_', 'a'-'z' in
     * the second (bit = character - 64) */
    static const uint64_t name_lo = 0x03ff000000000000u, name_hi = 0x07fffffe87ffffffu;
    const unsigned char *q = (const unsigned char *)name;
    bool lower = true;
    if (*q >= 'a' && *q <= 'z') {
        for (q++; *q < 128 && ((*q < 64 ? name_lo >> *q : name_hi >> (*q - 64)) & 1); q++)
            lower = lower && *q >= 'a';
        size_t len = (size_t)((const char *)q - name);
        if (*q == 0 && (!lower || len < 2 || len > 7 || !term_atom_needs_quotes(name, len))) {
            put(b, name, len);
            return 0;
        }
    }
    if (!m->keys) {
        m->keys = arena_alloc(m->a, m->cap * sizeof *m->keys);
        m->texts = arena_alloc_raw(m->a, m->cap * sizeof *m->texts);
        m->lens = arena_alloc_raw(m->a, m->cap * sizeof *m->lens);
    }
    size_t i = (size_t)(((uintptr_t)name >> 3) * 0x9e3779b97f4a7c15u) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != name)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i]) {
        buf_add(b, m->texts[i], m->lens[i]);
        return 0;
    }
    size_t start = b->len;
    if (m->json) {
        buf_reset(m->tmp);
        term_write(m->tmp, term_atomz(m->a, name));
        if (report_json_chars(b, buf_cstr(m->tmp), m->tmp->len) != 0)
            return -1;
    } else {
        term_write(b, term_atomz(m->a, name));
    }
    m->keys[i] = name;
    m->lens[i] = b->len - start;
    m->texts[i] = arena_memdup(m->a, b->p + start, m->lens[i]);
    return 0;
}

/* write_fa - "f/a" with the atom as ~tw writes it; -1 as write_atom */
static int write_fa(struct atom_memo *a, struct buf *b, const struct beam_mfa *m)
{
    if (write_atom(a, b, m->fun) != 0)
        return -1;
    char num[16];
    int k = (int)sizeof num;
    unsigned v = m->arity;
    do
        num[--k] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    num[--k] = '/';
    put(b, num + k, sizeof num - (size_t)k);
    return 0;
}

/* write_mfa - "m:f/a" or "f/a" with the atoms as ~tw writes them; -1 as write_atom */
static int write_mfa(struct atom_memo *a, struct buf *b, const struct beam_mfa *m)
{
    if (m->mod) {
        if (write_atom(a, b, m->mod) != 0)
            return -1;
        put(b, ":", 1);
    }
    return write_fa(a, b, m);
}

/* add_wrapped - "  LABEL" then ITEMS separated by ", ", lines broken before INSPECT_WRAP
 * columns and continued under the first item */
static void add_wrapped(struct buf *out, const char *label, struct buf *items, size_t n)
{
    buf_addf(out, "  %-14s", label);
    int col = 16;
    for (size_t i = 0; i < n; i++) {
        size_t len = items[i].len;
        if (i > 0) {
            if (col + 2 + (int)len > INSPECT_WRAP) {
                buf_adds(out, ",\n                ");
                col = 16;
            } else {
                buf_adds(out, ", ");
                col += 2;
            }
        }
        buf_add(out, buf_cstr(&items[i]), len);
        col += (int)len;
    }
    buf_addc(out, '\n');
}

static void add_mfas(struct atom_memo *a, struct buf *out, const char *what,
                     const struct beam_mfa *m, size_t n)
{
    char label[64];
    snprintf(label, sizeof label, "%s (%zu)", what, n);
    if (n == 0) {
        buf_addf(out, "  %s\n", label);
        return;
    }
    struct buf *items = xcalloc(n, sizeof *items);
    for (size_t i = 0; i < n; i++)
        write_mfa(a, &items[i], &m[i]);
    add_wrapped(out, label, items, n);
    for (size_t i = 0; i < n; i++)
        buf_free(&items[i]);
    free(items);
}

static void beam_text(struct atom_memo *a, const char *path, const struct beam_info *b,
                      struct buf *out)
{
    char hex[33];
    beam_md5_hex(b, hex);
    buf_addf(out, "%s\n  %-14s%s\n  %-14s%s\n  %-14s", path, "module", b->module, "md5", hex,
             "vsn");
    term_print_line(out, b->vsn);
    buf_addf(out, "\n  %-14s", "behaviours");
    for (size_t i = 0; i < b->nbehaviours; i++) {
        if (i)
            buf_adds(out, ", ");
        write_atom(a, out, b->behaviours[i]);
    }
    buf_addf(out, "\n  %-14s%s\n", "debug info", b->has_debug_info ? "yes" : "no");
    size_t n = 0;
    const struct term *const *el = term_list_els(b->attributes, &n);
    buf_addf(out, "  %-14s", "attributes");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_addf(out, "%16s", "");
        term_write(out, el[i]->u.tuple.el[0]);
        buf_addc(out, ' ');
        term_print_line(out, el[i]->u.tuple.el[1]);
        buf_addc(out, '\n');
    }
    if (n == 0)
        buf_addc(out, '\n');
    add_mfas(a, out, "exports", b->exports, b->nexports);
    add_mfas(a, out, "imports", b->imports, b->nimports);
}

/* jstr - a JSON string, or an error naming PATH when TEXT is not valid UTF-8 */
static int jstr(struct buf *out, const char *path, const char *text, size_t len)
{
    if (report_json_string(out, text, len) == 0)
        return 0;
    return kerr_set(KERR_INPUT, path, 0, 0, "text '%.60s' is not valid UTF-8", text);
}

/* jterm - T as a JSON string holding its one-line ~tp text, printed through TMP */
static int jterm(struct buf *out, const char *path, const struct term *t, struct buf *tmp)
{
    buf_reset(tmp);
    term_print_line(tmp, t);
    return jstr(out, path, buf_cstr(tmp), tmp->len);
}

static int jmfas(struct atom_memo *a, struct buf *out, const char *path, const char *key,
                 const struct beam_mfa *m, size_t n)
{
    buf_adds(out, ",\"");
    buf_adds(out, key);
    buf_adds(out, "\":[");
    const char *mod = NULL; /* imports come sorted: a module's text is copied from the last */
    size_t mod_at = 0, mod_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(out, ",", 1);
        put(out, "\"", 1);
        int rc = 0;
        if (m[i].mod && m[i].mod == mod) {
            if (out->cap - out->len <= mod_len + 1)
                buf_reserve(out, mod_len + 1);
            memcpy(out->p + out->len, out->p + mod_at, mod_len + 1);
            out->len += mod_len + 1;
        } else if (m[i].mod) {
            mod = m[i].mod;
            mod_at = out->len;
            rc = write_atom(a, out, mod);
            mod_len = out->len - mod_at;
            put(out, ":", 1);
        }
        if (rc != 0 || write_fa(a, out, &m[i]) != 0)
            return kerr_set(KERR_INPUT, path, 0, 0, "text '%s%s%.60s' is not valid UTF-8",
                            m[i].mod ? m[i].mod : "", m[i].mod ? ":" : "", m[i].fun);
        put(out, "\"", 1);
    }
    buf_addc(out, ']');
    return 0;
}

/* jattributes - name -> one text per occurrence of the attribute, in file order, names in
 * first-seen order. The compiler stores -a(V) as {a, [V]} when V is not a list and as
 * {a, V} when it is, so a value [E] is given as E and any other value as it is: the text
 * is the value as written (-app_vsn("inets-8.2.2") gives "\"inets-8.2.2\"") */
static int jattributes(struct buf *out, const char *path, const struct term *attrs,
                       struct buf *tmp)
{
    size_t n = 0;
    const struct term *const *el = term_list_els(attrs, &n);
    buf_adds(out, ",\"attributes\":{");
    bool first_key = true;
    for (size_t i = 0; i < n; i++) {
        const struct term *key = el[i]->u.tuple.el[0];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = term_equal(el[j]->u.tuple.el[0], key);
        if (seen)
            continue;
        if (!first_key)
            buf_addc(out, ',');
        first_key = false;
        if (jstr(out, path, key->u.atom.name, key->u.atom.len) != 0)
            return -1;
        buf_adds(out, ":[");
        bool first_val = true;
        for (size_t j = i; j < n; j++) {
            if (!term_equal(el[j]->u.tuple.el[0], key))
                continue;
            const struct term *v = el[j]->u.tuple.el[1];
            size_t m = 0;
            const struct term *const *vs = term_is_list(v) ? term_list_els(v, &m) : NULL;
            if (m == 1)
                v = vs[0]; /* a one-character string is [C] too: beam_lib cannot tell */
            if (!first_val)
                buf_addc(out, ',');
            first_val = false;
            if (jterm(out, path, v, tmp) != 0)
                return -1;
        }
        buf_addc(out, ']');
    }
    buf_addc(out, '}');
    return 0;
}

static int beam_json(struct atom_memo *a, const char *path, const struct beam_info *b,
                     struct buf *out, struct buf *tmp)
{
    char hex[33];
    beam_md5_hex(b, hex);
    buf_adds(out, "{\"path\":");
    if (jstr(out, path, path, strlen(path)) != 0)
        return -1;
    buf_adds(out, ",\"type\":\"beam\",\"module\":");
    if (jstr(out, path, b->module, strlen(b->module)) != 0)
        return -1;
    buf_adds(out, ",\"md5\":\"");
    buf_add(out, hex, 32);
    buf_adds(out, "\",\"vsn\":");
    if (jterm(out, path, b->vsn, tmp) != 0)
        return -1;
    buf_adds(out, ",\"behaviours\":[");
    for (size_t i = 0; i < b->nbehaviours; i++) {
        if (i)
            buf_addc(out, ',');
        if (jstr(out, path, b->behaviours[i], strlen(b->behaviours[i])) != 0)
            return -1;
    }
    buf_addc(out, ']');
    if (jattributes(out, path, b->attributes, tmp) != 0 ||
        jmfas(a, out, path, "exports", b->exports, b->nexports) != 0 ||
        jmfas(a, out, path, "imports", b->imports, b->nimports) != 0)
        return -1;
    buf_adds(out, b->has_debug_info ? ",\"has_debug_info\":true}" : ",\"has_debug_info\":false}");
    return 0;
}

/* terms_out - TERMS (a proper list) as "~tp.~n" each, or as a JSON object of ~tw texts */
static int terms_out(const char *path, const char *type, const struct term *terms, bool json,
                     struct buf *out, struct buf *tmp)
{
    size_t n = 0;
    const struct term *const *el = term_list_els(terms, &n);
    if (!json) {
        for (size_t i = 0; i < n; i++) {
            term_print(out, el[i]);
            buf_adds(out, ".\n");
        }
        return 0;
    }
    buf_adds(out, "{\"path\":");
    if (jstr(out, path, path, strlen(path)) != 0)
        return -1;
    buf_adds(out, ",\"type\":\"");
    buf_adds(out, type);
    buf_adds(out, "\",\"terms\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_addc(out, ',');
        if (jterm(out, path, el[i], tmp) != 0)
            return -1;
    }
    buf_adds(out, "]}");
    return 0;
}

/* rbuf_huge - one 2 MB region the kernel may back with a huge page, or NULL: the read
 * buffer is touched afresh up to the largest file, and each 4 KB page touched the first time
 * costs a fault (many microseconds under virtualization) where one huge page costs one */
static uint8_t *rbuf_huge(void)
{
#if defined(MADV_HUGEPAGE) && !defined(NO_THP)
    size_t span = 2 * INSPECT_HUGE;
    uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uint8_t *al = (uint8_t *)(((uintptr_t)m + INSPECT_HUGE - 1) & ~(uintptr_t)(INSPECT_HUGE - 1));
    if (al > m)
        munmap(m, (size_t)(al - m));
    if (m + span > al + INSPECT_HUGE)
        munmap(al + INSPECT_HUGE, (size_t)(m + span - (al + INSPECT_HUGE)));
    madvise(al, INSPECT_HUGE, MADV_HUGEPAGE);
    return al;
#else
    return NULL;
#endif
}

static void rbuf_free(struct inspect_worker *w)
{
    if (w->rbuf_mapped)
        munmap(w->rbuf, INSPECT_HUGE);
    else
        free(w->rbuf);
    w->rbuf = NULL;
    w->rcap = 0;
    w->rbuf_mapped = false;
}

/* rbuf_grow - room for at least WANT bytes (and a NUL), the first KEEP bytes kept */
static void rbuf_grow(struct inspect_worker *w, size_t want, size_t keep)
{
    if (!w->rbuf && want < INSPECT_HUGE && (w->rbuf = rbuf_huge()) != NULL) {
        w->rcap = INSPECT_HUGE - 1;
        w->rbuf_mapped = true;
        return;
    }
    size_t cap = w->rcap ? 2 * w->rcap : (size_t)1 << 20;
    while (cap < want)
        cap *= 2;
    if (w->rbuf_mapped || !keep) {
        uint8_t *nb = xmalloc(cap + 1);
        if (keep)
            memcpy(nb, w->rbuf, keep);
        rbuf_free(w);
        w->rbuf = nb;
    } else {
        w->rbuf = xrealloc(w->rbuf, cap + 1);
    }
    w->rcap = cap;
}

/* read_whole - PATH's bytes into the worker's reusable buffer (NUL-terminated), so pages
 * are faulted in once per run, not per file; -1 with a KERR_IO error naming PATH. A
 * regular file is read up to the size fstat gave (no read to see the end). */
static int read_whole(const char *path, struct inspect_worker *w, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kerr_errno(path, "cannot open");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = kerr_errno(path, "cannot stat");
        close(fd);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return kerr_set(KERR_IO, path, 0, 0, "is a directory");
    }
    bool sized = S_ISREG(st.st_mode) && st.st_size > 0;
    size_t want = sized ? (size_t)st.st_size : 4096, n = 0;
    if (w->rcap < want)
        rbuf_grow(w, want, 0);
    for (;;) {
        if (n == w->rcap)
            rbuf_grow(w, n + 1, n);
        ssize_t r = read(fd, w->rbuf + n, w->rcap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return kerr_errno(path, "cannot read");
        }
        n += (size_t)r;
        if (r == 0 || (sized && n >= want))
            break;
    }
    close(fd);
    w->rbuf[n] = 0;
    *len = n;
    return 0;
}

/* inspect_file - the output for JOB appended to W->out; -1 with the error recorded */
static int inspect_file(struct inspect_worker *w, struct inspect_job *job, bool json)
{
    size_t len = 0;
    int rc = -1;
    const char *path = job->path;
    struct arena *a = &w->a;
    if (read_whole(path, w, &len) != 0)
        goto done;
    const uint8_t *data = w->rbuf;
    if (beam_is_beam(data, len)) {
        struct beam_info b;
        job->is_beam = true;
        if (beam_read_summary(a, path, data, len, &b) != 0)
            goto done;
        struct atom_memo memo;
        memo_init(&memo, a, &w->tmp, json, b.nexports + 2 * b.nimports + b.nbehaviours);
        if (json)
            rc = beam_json(&memo, path, &b, &w->out, &w->tmp);
        else {
            beam_text(&memo, path, &b, &w->out);
            rc = 0;
        }
    } else if (len > 0 && data[0] == 131) {
        const struct term *t = etf_decode(a, path, data, len);
        if (t)
            rc = terms_out(path, "etf", term_listv(a, 1, t), json, &w->out, &w->tmp);
    } else {
        const struct term *terms = term_consult_buf(a, path, (const char *)data, len);
        if (terms)
            rc = terms_out(path, "terms", terms, json, &w->out, &w->tmp);
    }
done:
    arena_reset(a);
    return rc;
}

static void *inspect_work(void *p)
{
    struct inspect_worker *w = p;
    struct inspect_run *r = w->run;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->next++;
        bool skip = i >= r->n || i > r->first_err;
        pthread_mutex_unlock(&r->mu);
        if (skip)
            break;
        struct inspect_job *job = &r->jobs[i];
        job->worker = w->id;
        kerr_clear();
        buf_reset(&w->out);
        job->rc = inspect_file(w, job, r->json);
        if (job->rc != 0)
            kerr_copy(&w->err); /* and no output */
        else if (w->out.len) {
            char *o = arena_alloc_raw(&w->keep, w->out.len);
            memcpy(o, w->out.p, w->out.len);
            job->out = o;
            job->len = w->out.len;
        }
        pthread_mutex_lock(&r->mu);
        if (job->rc != 0 && i < r->first_err)
            r->first_err = i;
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

/* struct out - iovecs gathered for stdout, written by writev as the array fills */
struct out {
    struct iovec iov[INSPECT_IOV];
    int n;
};

static int out_flush(struct out *o)
{
    struct iovec *v = o->iov;
    int cnt = o->n;
    o->n = 0;
    while (cnt > 0) {
        ssize_t w = writev(STDOUT_FILENO, v, cnt);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return kerr_errno("<stdout>", "cannot write");
        size_t done = (size_t)w;
        while (cnt > 0 && done >= v->iov_len) {
            done -= v->iov_len;
            v++;
            cnt--;
        }
        if (cnt > 0) {
            v->iov_base = (char *)v->iov_base + done;
            v->iov_len -= done;
        }
    }
    return 0;
}

static int out_add(struct out *o, const void *p, size_t len)
{
    if (len == 0)
        return 0;
    if (o->n == INSPECT_IOV && out_flush(o) != 0)
        return -1;
    o->iov[o->n].iov_base = (void *)p;
    o->iov[o->n].iov_len = len;
    o->n++;
    return 0;
}

/* emit - the jobs' output in argument order: with --json the whole document, or nothing when
 * a file failed; as text, the reports of the files before the first failed one */
static int emit(struct inspect_run *r)
{
    size_t upto = r->first_err < r->n ? r->first_err : r->n;
    if (r->json && upto < r->n)
        return 0;
    if (fflush(stdout) != 0)
        return kerr_errno("<stdout>", "cannot write");
    struct out *o = xmalloc(sizeof *o);
    o->n = 0;
    int rc = 0;
    bool printed_any = false;
    if (r->json)
        rc = out_add(o, "{\"files\":[\n", 11);
    for (size_t i = 0; i < upto && rc == 0; i++) {
        const struct inspect_job *job = &r->jobs[i];
        if (r->json && i)
            rc = out_add(o, ",\n", 2);
        /* a blank line sets a beam report apart from what came before it */
        else if (!r->json && job->is_beam && printed_any)
            rc = out_add(o, "\n", 1);
        if (rc == 0)
            rc = out_add(o, job->out, job->len);
        printed_any = printed_any || job->len > 0;
    }
    if (rc == 0 && r->json)
        rc = out_add(o, "\n]}\n", 4);
    if (rc == 0)
        rc = out_flush(o);
    free(o);
    return rc;
}

int cmd_inspect(struct knit_ctx *ctx, int argc, char **argv)
{
    size_t n = 0;
    struct cmd_opts it;
    int more;
    cmd_opts_init(&it, ctx, argc, argv);
    while ((more = cmd_opts_next(&it)) > 0)
        argv[++n] = (char *)it.val; /* inspect takes no options: every one is a FILE */
    if (more < 0)
        return -1;
    if (n == 0)
        return cmd_usage("inspect", "needs a FILE");

    struct inspect_run r;
    memset(&r, 0, sizeof r);
    r.jobs = xcalloc(n, sizeof *r.jobs);
    r.n = n;
    r.json = ctx->json;
    r.first_err = n;
    for (size_t i = 0; i < n; i++)
        r.jobs[i].path = argv[i + 1];
    pthread_mutex_init(&r.mu, NULL);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = cores > 1 ? (size_t)cores : 1;
    if (nthreads > INSPECT_MAX_THREADS)
        nthreads = INSPECT_MAX_THREADS;
    if (nthreads > n)
        nthreads = n;
    struct inspect_worker w[INSPECT_MAX_THREADS];
    memset(w, 0, sizeof w);
    for (size_t i = 0; i < nthreads; i++) {
        w[i].run = &r;
        w[i].id = i;
        arena_init(&w[i].a);
        arena_init(&w[i].keep);
    }
    pthread_t th[INSPECT_MAX_THREADS];
    size_t started = 1; /* worker 0 is this thread */
    if (nthreads > 1) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        /* terms are printed recursively: give workers the stack the main thread has */
        pthread_attr_setstacksize(&attr, (size_t)1 << 30);
        for (; started < nthreads; started++)
            if (pthread_create(&th[started], &attr, inspect_work, &w[started]) != 0)
                break;
        pthread_attr_destroy(&attr);
    }
    inspect_work(&w[0]);
    for (size_t i = 1; i < started; i++)
        pthread_join(th[i], NULL);
    int rc = emit(&r);
    if (r.first_err < n) {
        kerr_restore(&w[r.jobs[r.first_err].worker].err);
        rc = -1;
    }
    for (size_t i = 0; i < nthreads; i++) {
        buf_free(&w[i].out);
        buf_free(&w[i].tmp);
        rbuf_free(&w[i]);
        arena_close(&w[i].a);
        arena_close(&w[i].keep);
    }
    pthread_mutex_destroy(&r.mu);
    free(r.jobs);
    return rc;
}
