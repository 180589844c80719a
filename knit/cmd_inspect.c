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
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSPECT_MAX_THREADS 16
#define INSPECT_WRAP 100

struct inspect_job {
    const char *path;
    struct buf out; /* this file's text, or its JSON object */
    bool is_beam;
    bool done;
    int rc;
    struct kerr err; /* the worker's error when rc != 0 */
};

struct inspect_run {
    struct inspect_job *jobs;
    size_t n;
    bool json;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;      /* next job to start */
    size_t first_err; /* lowest failed job, n when none */
    size_t waiting;   /* the job the collecting thread waits for */
};

/* Written forms of the atoms of one beam, keyed by name pointer: the beam reader hands out
 * one pointer per distinct atom, and import lists repeat module names many times. */
struct atom_memo {
    struct arena *a;
    size_t cap; /* a power of two */
    const char **keys;
    const char **texts;
    size_t *lens;
};

static void memo_init(struct atom_memo *m, struct arena *a, size_t atoms)
{
    m->a = a;
    m->cap = 16;
    while (m->cap < 2 * atoms)
        m->cap *= 2;
    m->keys = arena_alloc(a, m->cap * sizeof *m->keys);
    m->texts = arena_alloc(a, m->cap * sizeof *m->texts);
    m->lens = arena_alloc(a, m->cap * sizeof *m->lens);
}

/* write_atom - an atom's name as ~tw writes it (quoted when it must be) */
static void write_atom(struct atom_memo *m, struct buf *b, const char *name)
{
    size_t i = (size_t)(((uintptr_t)name >> 3) * 0x9e3779b97f4a7c15u) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != name)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        size_t start = b->len;
        term_write(b, term_atomz(m->a, name));
        m->keys[i] = name;
        m->lens[i] = b->len - start;
        m->texts[i] = arena_memdup(m->a, b->p + start, m->lens[i]);
        return;
    }
    buf_add(b, m->texts[i], m->lens[i]);
}

static void write_mfa(struct atom_memo *a, struct buf *b, const struct beam_mfa *m)
{
    if (m->mod) {
        write_atom(a, b, m->mod);
        buf_addc(b, ':');
    }
    write_atom(a, b, m->fun);
    char num[16];
    int k = (int)sizeof num;
    unsigned v = m->arity;
    do
        num[--k] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    buf_addc(b, '/');
    buf_add(b, num + k, sizeof num - (size_t)k);
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

/* json_text - a JSON string holding BYTES, or NULL (error recorded) if not valid UTF-8 */
static json_t *json_text(const char *path, const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (!j)
        kerr_set(KERR_INPUT, path, 0, 0, "text '%.60s' is not valid UTF-8", s);
    return j;
}

static json_t *json_term(const char *path, const struct term *t)
{
    struct buf b = BUF_INIT;
    term_print_line(&b, t);
    json_t *j = json_text(path, buf_cstr(&b), b.len);
    buf_free(&b);
    return j;
}

/* put - json_object_set_new that fails cleanly when VAL is NULL */
static int put(json_t *obj, const char *key, json_t *val)
{
    if (!val)
        return -1;
    return json_object_set_new(obj, key, val) == 0 ? 0 : -1;
}

/* jstr - a JSON string, or an error naming PATH when TEXT is not valid UTF-8 */
static int jstr(struct buf *out, const char *path, const char *text, size_t len)
{
    if (report_json_string(out, text, len) == 0)
        return 0;
    return kerr_set(KERR_INPUT, path, 0, 0, "text '%.60s' is not valid UTF-8", text);
}

static int jmfas(struct atom_memo *a, struct buf *out, const char *path, const char *key,
                 const struct beam_mfa *m, size_t n, struct buf *tmp)
{
    buf_addf(out, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        buf_reset(tmp);
        write_mfa(a, tmp, &m[i]);
        if (i)
            buf_addc(out, ',');
        if (jstr(out, path, buf_cstr(tmp), tmp->len) != 0)
            return -1;
    }
    buf_addc(out, ']');
    return 0;
}

/* jattributes - name -> one text per occurrence of the attribute, in file order, names in
 * first-seen order. The compiler stores -a(V) as {a, [V]} when V is not a list and as
 * {a, V} when it is, so a value [E] is given as E and any other value as it is: the text
 * is the value as written (-app_vsn("inets-8.2.2") gives "\"inets-8.2.2\"") */
static int jattributes(struct buf *out, const char *path, const struct term *attrs)
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
            report_json_term(out, v);
        }
        buf_addc(out, ']');
    }
    buf_addc(out, '}');
    return 0;
}

static int beam_json(struct atom_memo *a, const char *path, const struct beam_info *b,
                     struct buf *out)
{
    char hex[33];
    beam_md5_hex(b, hex);
    struct buf tmp = BUF_INIT;
    int rc = -1;
    buf_adds(out, "{\"path\":");
    if (jstr(out, path, path, strlen(path)) != 0)
        goto done;
    buf_adds(out, ",\"type\":\"beam\",\"module\":");
    if (jstr(out, path, b->module, strlen(b->module)) != 0)
        goto done;
    buf_addf(out, ",\"md5\":\"%s\",\"vsn\":", hex);
    report_json_term(out, b->vsn);
    buf_adds(out, ",\"behaviours\":[");
    for (size_t i = 0; i < b->nbehaviours; i++) {
        if (i)
            buf_addc(out, ',');
        if (jstr(out, path, b->behaviours[i], strlen(b->behaviours[i])) != 0)
            goto done;
    }
    buf_addc(out, ']');
    if (jattributes(out, path, b->attributes) != 0 ||
        jmfas(a, out, path, "exports", b->exports, b->nexports, &tmp) != 0 ||
        jmfas(a, out, path, "imports", b->imports, b->nimports, &tmp) != 0)
        goto done;
    buf_addf(out, ",\"has_debug_info\":%s}", b->has_debug_info ? "true" : "false");
    rc = 0;
done:
    buf_free(&tmp);
    return rc;
}

/* terms_out - TERMS (a proper list) as "~tp.~n" each, or as a JSON object of ~tw texts */
static int terms_out(const char *path, const char *type, const struct term *terms, bool json,
                     struct buf *out)
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
    json_t *o = json_object();
    json_t *arr = json_array();
    int rc = -1;
    if (put(o, "path", json_text(path, path, strlen(path))) || put(o, "type", json_string(type)) ||
        put(o, "terms", json_incref(arr)))
        goto done;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(arr, json_term(path, el[i])) != 0)
            goto done;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s) {
        kerr_set(KERR_IO, path, 0, 0, "cannot encode the report as JSON");
        goto done;
    }
    buf_adds(out, s);
    free(s);
    rc = 0;
done:
    json_decref(arr);
    json_decref(o);
    return rc;
}

/* read_whole - PATH's bytes into the worker's reusable buffer *BUF of *CAP bytes (grown as
 * needed, NUL-terminated), so no fresh pages are faulted in per file; -1 with a KERR_IO
 * error naming PATH */
static int read_whole(const char *path, uint8_t **buf, size_t *cap, size_t *len)
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
    size_t want = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    if (*cap < want) {
        free(*buf);
        *cap = want;
        *buf = xmalloc(*cap + 1);
    }
    for (;;) {
        if (n == *cap) {
            *cap *= 2;
            *buf = xrealloc(*buf, *cap + 1);
        }
        ssize_t r = read(fd, *buf + n, *cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return kerr_errno(path, "cannot read");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    (*buf)[n] = 0;
    *len = n;
    return 0;
}

/* inspect_file - the output for one file into JOB->out; -1 with the error recorded */
static int inspect_file(struct inspect_job *job, bool json, uint8_t **rbuf, size_t *rcap)
{
    struct arena a;
    arena_init(&a);
    size_t len = 0;
    int rc = -1;
    const char *path = job->path;
    if (read_whole(path, rbuf, rcap, &len) != 0)
        goto done;
    const uint8_t *data = *rbuf;
    if (beam_is_beam(data, len)) {
        struct beam_info b;
        job->is_beam = true;
        if (beam_read_facts(&a, path, data, len, &b) != 0)
            goto done;
        struct atom_memo memo;
        memo_init(&memo, &a, b.nexports + 2 * b.nimports + b.nbehaviours);
        if (json)
            rc = beam_json(&memo, path, &b, &job->out);
        else {
            beam_text(&memo, path, &b, &job->out);
            rc = 0;
        }
    } else if (len > 0 && data[0] == 131) {
        const struct term *t = etf_decode(&a, path, data, len);
        if (t)
            rc = terms_out(path, "etf", term_listv(&a, 1, t), json, &job->out);
    } else {
        const struct term *terms = term_consult_buf(&a, path, (const char *)data, len);
        if (terms)
            rc = terms_out(path, "terms", terms, json, &job->out);
    }
done:
    arena_close(&a);
    return rc;
}

static void *inspect_worker(void *p)
{
    struct inspect_run *r = p;
    uint8_t *rbuf = NULL;
    size_t rcap = 0;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->next++;
        bool skip = i >= r->n || i > r->first_err;
        pthread_mutex_unlock(&r->mu);
        if (skip)
            break;
        struct inspect_job *job = &r->jobs[i];
        kerr_clear();
        job->rc = inspect_file(job, r->json, &rbuf, &rcap);
        if (job->rc != 0)
            kerr_copy(&job->err);
        pthread_mutex_lock(&r->mu);
        job->done = true;
        if (job->rc != 0 && i < r->first_err)
            r->first_err = i;
        if (i == r->waiting)
            pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    free(rbuf);
    return NULL;
}

static int emit(const struct buf *b)
{
    if (b->len && fwrite(b->p, 1, b->len, stdout) != b->len)
        return kerr_errno("<stdout>", "cannot write");
    return 0;
}

/* collect - wait for the jobs in order, write (or gather, for JSON) their output */
static int collect(struct inspect_run *r)
{
    struct buf doc = BUF_INIT;
    int rc = 0;
    bool printed_any = false;
    if (r->json)
        buf_adds(&doc, "{\"files\":[\n");
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        struct inspect_job *job = &r->jobs[i];
        pthread_mutex_lock(&r->mu);
        r->waiting = i;
        while (!job->done)
            pthread_cond_wait(&r->cv, &r->mu);
        pthread_mutex_unlock(&r->mu);
        if (job->rc != 0) {
            kerr_restore(&job->err);
            rc = -1;
        } else if (r->json) {
            if (i)
                buf_adds(&doc, ",\n");
            buf_add(&doc, job->out.p, job->out.len);
        } else {
            /* a blank line sets a beam report apart from what came before it */
            if (job->is_beam && printed_any && fputc('\n', stdout) == EOF)
                rc = kerr_errno("<stdout>", "cannot write");
            if (rc == 0)
                rc = emit(&job->out);
            printed_any = printed_any || job->out.len > 0;
        }
        buf_free(&job->out);
    }
    if (rc == 0 && r->json) {
        buf_adds(&doc, "\n]}\n");
        rc = emit(&doc);
    }
    buf_free(&doc);
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
    argc = (int)n + 1;

    struct inspect_run r;
    memset(&r, 0, sizeof r);
    r.jobs = xcalloc(n, sizeof *r.jobs);
    r.n = n;
    r.json = ctx->json;
    r.first_err = n;
    for (int i = 1, k = 0; i < argc; i++)
        r.jobs[k++].path = argv[i];
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    json_object_seed(0); /* seed jansson's hashing once, before any thread uses it */

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = cores > 1 ? (size_t)cores : 1;
    if (nthreads > INSPECT_MAX_THREADS)
        nthreads = INSPECT_MAX_THREADS;
    if (nthreads > n)
        nthreads = n;
    pthread_t th[INSPECT_MAX_THREADS];
    size_t started = 0;
    if (nthreads > 1) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        /* terms are printed recursively: give workers the stack the main thread has */
        pthread_attr_setstacksize(&attr, (size_t)1 << 30);
        for (; started < nthreads; started++)
            if (pthread_create(&th[started], &attr, inspect_worker, &r) != 0)
                break;
        pthread_attr_destroy(&attr);
    }
    if (started == 0)
        inspect_worker(&r); /* no threads: do it all here, then collect */
    int rc = collect(&r);
    /* on an early error the workers stop after the job they hold */
    pthread_mutex_lock(&r.mu);
    if (rc != 0 && r.first_err == n)
        r.first_err = 0;
    pthread_mutex_unlock(&r.mu);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (size_t i = 0; i < n; i++)
        buf_free(&r.jobs[i].out);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    free(r.jobs);
    return rc;
}
