/* tarball.c - reproducible gzip'd tarballs (libarchive), and safe extraction of untrusted ones */
#include "tarball.h"

#include "arena.h"
#include "fsutil.h"
#include "guard.h"
#include "kerr.h"
#include "log.h"
#include "pgzip.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int tarball_opts_from_env(struct tarball_opts *o, bool force)
{
    o->force = force;
    o->have_mtime = false;
    o->mtime = 0;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        errno = 0;
        long long v = strtoll(sde, &end, 10);
        if (errno || *end || v < 0)
            return kerr_set(KERR_INPUT, NULL, 0, 0,
                            "SOURCE_DATE_EPOCH '%s' is not a non-negative integer", sde);
        o->have_mtime = true;
        o->mtime = v;
    }
    return 0;
}

/* A sorted list of relative names to pack; a virtual file's entry points at it. */
struct pname {
    char *name;
    const struct tarball_vfile *v;
};
struct names {
    struct pname *v;
    size_t n, cap;
};

static void names_put(struct names *ns, const char *s, const struct tarball_vfile *v)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 64;
        ns->v = xrealloc(ns->v, ns->cap * sizeof *ns->v);
    }
    char *d = strdup(s);
    if (!d)
        abort();
    ns->v[ns->n++] = (struct pname){d, v};
}

static void names_add(struct names *ns, const char *s)
{
    names_put(ns, s, NULL);
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i].name);
    free(ns->v);
}

/* by name; of two entries with the same name the one on disk first (it is the one packed) */
static int cmp_names(const void *a, const void *b)
{
    const struct pname *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->v != NULL) - (y->v != NULL);
}

/* walk - add REL (relative to ROOT) and, for a real directory, everything below it */
static int walk(const char *root, const char *rel, struct names *ns)
{
    char full[PATH_MAX];
    if (snprintf(full, sizeof full, "%s/%s", root, rel) >= (int)sizeof full)
        return kerr_set(KERR_IO, root, 0, 0, "path too long below it: '%s'", rel);
    struct stat st;
    if (lstat(full, &st) != 0)
        return kerr_errno(full, "cannot stat");
    names_add(ns, rel);
    if (!S_ISDIR(st.st_mode))
        return 0;
    DIR *d = opendir(full);
    if (!d)
        return kerr_errno(full, "cannot open directory");
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s/%s", rel, de->d_name) >= (int)sizeof sub) {
            rc = kerr_set(KERR_IO, root, 0, 0, "path too long below it: '%s'", rel);
            break;
        }
        rc = walk(root, sub, ns);
    }
    closedir(d);
    return rc;
}

static int top_level(const char *root, struct names *ns)
{
    DIR *d = opendir(root);
    if (!d)
        return kerr_errno(root, "cannot open directory");
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, GUARD_BUILD_MARKER))
            continue;
        rc = walk(root, de->d_name, ns);
    }
    closedir(d);
    return rc;
}

static int archive_fail(struct archive *a, const char *path, const char *what)
{
    const char *msg = archive_error_string(a);
    return kerr_set(KERR_IO, path, 0, 0, "%s: %s", what, msg ? msg : "libarchive error");
}

/* write_data - the LEN bytes of P as the current entry's data */
static int write_data(struct archive *a, const void *p, size_t len, const char *out)
{
    const char *c = p;
    while (len > 0) {
        la_ssize_t w = archive_write_data(a, c, len);
        if (w <= 0)
            return archive_fail(a, out, "cannot write");
        c += w;
        len -= (size_t)w;
    }
    return 0;
}

/* add_virtual - the entry for virtual file V: a regular file, as the build dir's copy */
static int add_virtual(struct archive *a, struct archive_entry *e, const struct tarball_vfile *v,
                       const struct tarball_opts *o, time_t now, const char *out)
{
    struct arena s;
    arena_init(&s);
    int rc = -1;
    size_t len = v->len;
    const unsigned char *data =
        v->data ? v->data : (const unsigned char *)fs_read_file(&s, v->src, &len);
    unsigned char *made = NULL;
    if (!data)
        goto done;
    if (v->transform) {
        made = v->transform(v->src, data, len, &len);
        if (!made)
            goto done;
        data = made;
    }
    archive_entry_clear(e);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, o->have_mtime ? (time_t)o->mtime : now, 0);
    archive_entry_set_perm(e, (mode_t)v->mode & 07777);
    archive_entry_set_pathname(e, v->name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)len);
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        archive_fail(a, out, "cannot write tar header");
        goto done;
    }
    rc = write_data(a, data, len, out);
done:
    free(made);
    arena_close(&s);
    return rc;
}

static int add_entry(struct archive *a, struct archive_entry *e, const char *root, const char *rel,
                     const struct tarball_opts *o, const char *out)
{
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s/%s", root, rel);
    struct stat st;
    if (lstat(full, &st) != 0)
        return kerr_errno(full, "cannot stat");
    archive_entry_clear(e);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, o->have_mtime ? (time_t)o->mtime : st.st_mtime, 0);
    archive_entry_set_perm(e, st.st_mode & 07777);
    if (S_ISDIR(st.st_mode)) {
        char name[PATH_MAX + 1];
        snprintf(name, sizeof name, "%s/", rel);
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_size(e, 0);
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(full, target, sizeof target - 1);
        if (n < 0)
            return kerr_errno(full, "cannot read link");
        target[n] = 0;
        archive_entry_set_pathname(e, rel);
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, target);
        archive_entry_set_size(e, 0);
    } else if (S_ISREG(st.st_mode)) {
        archive_entry_set_pathname(e, rel);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, st.st_size);
    } else {
        return kerr_set(KERR_IO, full, 0, 0, "cannot pack: not a file, directory or symlink");
    }
    if (archive_write_header(a, e) != ARCHIVE_OK)
        return archive_fail(a, out, "cannot write tar header");
    if (!S_ISREG(st.st_mode))
        return 0;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kerr_errno(full, "cannot open");
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        if (archive_write_data(a, buf, (size_t)r) != r) {
            rc = archive_fail(a, out, "cannot write");
            break;
        }
    }
    if (r < 0)
        rc = kerr_errno(full, "cannot read");
    close(fd);
    return rc;
}

/* libarchive writes the tar; it goes through pgzip (compressed on every core) to the file */
static la_ssize_t to_pgzip(struct archive *a, void *z, const void *p, size_t n)
{
    if (pgzip_write(z, p, n) != 0) {
        archive_set_error(a, EIO, "%s", kerr_get()->msg);
        return -1;
    }
    return (la_ssize_t)n;
}

int tarball_pack(const char *path, const char *root, const char *const *paths, size_t npaths,
                 const struct tarball_opts *o)
{
    return tarball_pack_tree(path, root, paths, npaths, NULL, 0, o);
}

/* under - whether NAME is one of the NPATHS PATHS or below one */
static bool under(const char *name, const char *const *paths, size_t npaths)
{
    for (size_t i = 0; i < npaths; i++) {
        size_t n = strlen(paths[i]);
        if (!strncmp(name, paths[i], n) && (name[n] == 0 || name[n] == '/'))
            return true;
    }
    return false;
}

int tarball_pack_tree(const char *path, const char *root, const char *const *paths,
                      size_t npaths, const struct tarball_vfile *v, size_t nv,
                      const struct tarball_opts *o)
{
    struct names ns = {0};
    struct archive *a = NULL;
    struct archive_entry *e = NULL;
    struct pgzip *z = NULL;
    char tmp[PATH_MAX];
    int rc = -1, fd = -1;
    bool tmp_made = false;

    if (!o->force && access(path, F_OK) == 0) {
        kerr_set(KERR_IO, path, 0, 0,
                 "already exists; use --force (or {force, true}) to replace it");
        goto done;
    }
    if (paths) {
        for (size_t i = 0; i < npaths; i++) {
            /* the directories above a selected path get entries of their own */
            char anc[PATH_MAX];
            snprintf(anc, sizeof anc, "%s", paths[i]);
            for (char *s = strchr(anc, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                names_add(&ns, anc);
                *s = '/';
            }
            if (walk(root, paths[i], &ns) != 0)
                goto done;
        }
    } else if (top_level(root, &ns) != 0) {
        goto done;
    }
    for (size_t i = 0; i < nv; i++)
        if (!paths || under(v[i].name, paths, npaths))
            names_put(&ns, v[i].name, &v[i]);
    qsort(ns.v, ns.n, sizeof *ns.v, cmp_names);
    time_t now = time(NULL);
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        kerr_set(KERR_IO, path, 0, 0, "path too long");
        goto done;
    }
    a = archive_write_new();
    e = archive_entry_new();
    if (!a || !e) {
        kerr_set(KERR_IO, path, 0, 0, "out of memory");
        goto done;
    }
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_add_filter_none(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
        archive_fail(a, path, "cannot set up the tarball");
        goto done;
    }
    fd = fs_create_tmp(tmp, 0666);
    if (fd < 0)
        goto done;
    tmp_made = true;
    z = pgzip_open(fd, tmp, PGZIP_LEVEL);
    if (!z)
        goto done;
    if (archive_write_open(a, z, NULL, to_pgzip, NULL) != ARCHIVE_OK) {
        archive_fail(a, tmp, "cannot create");
        goto done;
    }
    for (size_t i = 0; i < ns.n; i++) {
        if (i + 1 == ns.n || i % 64 == 0) /* a terminal line per 64 files, not per file */
            log_progress_step("packing: file", i + 1, ns.n, path);
        if (i > 0 && strcmp(ns.v[i].name, ns.v[i - 1].name) == 0)
            continue;
        if (ns.v[i].v ? add_virtual(a, e, ns.v[i].v, o, now, path) != 0
                      : add_entry(a, e, root, ns.v[i].name, o, path) != 0)
            goto done;
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        archive_fail(a, tmp, "cannot finish");
        goto done;
    }
    int zr = pgzip_close(z);
    z = NULL;
    if (zr != 0)
        goto done;
    int cr = fsync(fd) != 0 ? -1 : close(fd);
    if (cr == 0)
        fd = -1;
    if (cr != 0) {
        kerr_errno(tmp, "cannot write");
        goto done;
    }
    if (rename(tmp, path) != 0) {
        kerr_errno(path, "cannot rename into place");
        goto done;
    }
    tmp_made = false;
    if (fs_sync_dir(path) != 0)
        goto done;
    rc = 0;
done:
    if (a)
        archive_write_free(a);
    if (e)
        archive_entry_free(e);
    pgzip_abort(z);
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp);
    names_free(&ns);
    return rc;
}

/* bad_name - why the entry name NAME may not be extracted, or NULL when it is fine */
static const char *bad_name(const char *name)
{
    if (name[0] == '/')
        return "absolute path";
    if (name[0] == 0)
        return "empty name";
    const char *p = name;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return "'..' in path";
        p += n;
        while (*p == '/')
            p++;
    }
    return NULL;
}

/* link_escapes - whether symlink NAME -> TARGET resolves outside the extraction root */
static bool link_escapes(const char *name, const char *target)
{
    if (target[0] == '/' || target[0] == 0)
        return true;
    /* depth of the directory holding the link, then walk the target's components */
    long depth = 0;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (p[n] == 0)
            break; /* the last component is the link itself */
        if (!(n == 1 && p[0] == '.') && n > 0)
            depth++;
        p += n;
        while (*p == '/')
            p++;
    }
    for (const char *p = target; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return true;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return false;
}

/* through_symlink - whether a parent directory of NAME below DEST is a symlink */
static bool through_symlink(const char *dest, const char *name)
{
    char path[PATH_MAX];
    size_t dl = strlen(dest);
    if (dl + 1 + strlen(name) >= sizeof path)
        return true;
    memcpy(path, dest, dl);
    path[dl] = '/';
    const char *p = name;
    size_t w = dl + 1;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (p[n] == 0)
            break;
        memcpy(path + w, p, n);
        path[w + n] = 0;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            return true;
        w += n;
        path[w++] = '/';
        p += n;
        while (*p == '/')
            p++;
    }
    return false;
}

int tarball_extract(const char *path, const char *dest)
{
    return tarball_extract_some(path, dest, NULL);
}

/* The archive's bytes as libarchive reads them: a gzip stream (every member's CRC-32 and
 * length checked, which libarchive's own gzip reader does not do) or a plain tar. Members
 * are inflated by ISA-L, which checks each one's trailer; their headers are read here. */
struct src {
    int fd;
    const char *path;
    bool gzip, in_member, eof;
    struct inflate_state st;
    unsigned char *next; /* the unread part of IN */
    size_t avail;
    unsigned char in[65536], out[65536];
    char err[256]; /* why the stream is refused, when it is */
    bool io_err;
};

static void src_close(struct src *s);

/* src_fill - more input into IN (when it is used up); the bytes read, 0 at the file's end */
static ssize_t src_fill(struct src *s)
{
    for (;;) {
        ssize_t r = read(s->fd, s->in, sizeof s->in);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(s->err, sizeof s->err, "cannot read: %s", strerror(errno));
            s->io_err = true;
            return -1;
        }
        s->next = s->in;
        s->avail = (size_t)r;
        return r;
    }
}

/* truncated - the stream ended inside a member: -1 with S->err set */
static int truncated(struct src *s)
{
    snprintf(s->err, sizeof s->err, "truncated gzip stream (its end and checksum are missing)");
    return -1;
}

/* src_byte - the next input byte into *B: 1, or 0 at the end of the file, -1 on error */
static int src_byte(struct src *s, unsigned char *b)
{
    if (s->avail == 0) {
        ssize_t r = src_fill(s);
        if (r <= 0)
            return (int)r;
    }
    *b = *s->next++;
    s->avail--;
    return 1;
}

/* src_header - a gzip member's header (RFC 1952), its first byte 0x1f already taken;
 * 0, or -1 with S->err set */
static int src_header(struct src *s)
{
    unsigned char h[10] = {0x1f}, b = 0;
    uLong crc;
    for (size_t k = 1; k < sizeof h; k++) {
        int r = src_byte(s, &h[k]);
        if (r <= 0)
            return r == 0 ? truncated(s) : -1;
    }
    if (h[1] != 0x8b) {
        snprintf(s->err, sizeof s->err, "corrupt gzip stream: incorrect header check");
        return -1;
    }
    if (h[2] != 8) {
        snprintf(s->err, sizeof s->err, "corrupt gzip stream: unknown compression method");
        return -1;
    }
    unsigned flags = h[3];
    if (flags & 0xe0) {
        snprintf(s->err, sizeof s->err, "corrupt gzip stream: unknown header flags set");
        return -1;
    }
    crc = crc32(0, h, sizeof h);
    /* FEXTRA: a length and that many bytes; FNAME, FCOMMENT: NUL-terminated; FHCRC: the
     * low 16 bits of the CRC-32 of the header before it */
    size_t extra = 0;
    if (flags & 4) {
        unsigned char x[2];
        for (int k = 0; k < 2; k++) {
            int r = src_byte(s, &x[k]);
            if (r <= 0)
                return r == 0 ? truncated(s) : -1;
        }
        crc = crc32(crc, x, 2);
        extra = (size_t)x[0] | (size_t)x[1] << 8;
    }
    for (size_t k = 0; k < extra; k++) {
        int r = src_byte(s, &b);
        if (r <= 0)
            return r == 0 ? truncated(s) : -1;
        crc = crc32(crc, &b, 1);
    }
    for (unsigned f = 8; f <= 16; f *= 2) {
        if (!(flags & f))
            continue;
        do {
            int r = src_byte(s, &b);
            if (r <= 0)
                return r == 0 ? truncated(s) : -1;
            crc = crc32(crc, &b, 1);
        } while (b != 0);
    }
    if (flags & 2) {
        unsigned char x[2];
        for (int k = 0; k < 2; k++) {
            int r = src_byte(s, &x[k]);
            if (r <= 0)
                return r == 0 ? truncated(s) : -1;
        }
        if (((unsigned)x[0] | (unsigned)x[1] << 8) != (crc & 0xffff)) {
            snprintf(s->err, sizeof s->err, "corrupt gzip stream: header crc mismatch");
            return -1;
        }
    }
    isal_inflate_init(&s->st);
    s->st.crc_flag = ISAL_GZIP_NO_HDR_VER; /* the trailer's CRC-32 and length are checked */
    return 0;
}

/* src_inflate - up to N bytes of the tar stream into BUF; 0 at its end, -1 on damage */
static ssize_t src_inflate(struct src *s, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got == 0) {
        if (!s->in_member) {
            /* between members: another member, the end, or zeros (padding) */
            unsigned char b = 0;
            int r = src_byte(s, &b);
            if (r <= 0)
                return r;
            if (b == 0)
                continue;
            if (b != 0x1f) {
                snprintf(s->err, sizeof s->err, "data after the end of the gzip stream");
                return -1;
            }
            if (src_header(s) != 0)
                return -1;
            s->in_member = true;
        }
        if (s->avail == 0) {
            ssize_t r = src_fill(s);
            if (r < 0)
                return -1;
            if (r == 0)
                return truncated(s);
        }
        size_t had = s->avail;
        s->st.next_in = s->next;
        s->st.avail_in = (uint32_t)s->avail;
        s->st.next_out = buf + got;
        s->st.avail_out = (uint32_t)(n - got);
        int zr = isal_inflate(&s->st);
        s->next = s->st.next_in;
        s->avail = s->st.avail_in;
        got = n - s->st.avail_out;
        if (zr == ISAL_INCORRECT_CHECKSUM) {
            snprintf(s->err, sizeof s->err,
                     "corrupt gzip stream: incorrect data or length check (CRC-32 or length "
                     "mismatch)");
            return -1;
        }
        if (zr != ISAL_DECOMP_OK) {
            snprintf(s->err, sizeof s->err, "corrupt gzip stream: %s",
                     zr == ISAL_INVALID_BLOCK      ? "invalid block"
                     : zr == ISAL_INVALID_SYMBOL   ? "invalid code"
                     : zr == ISAL_INVALID_LOOKBACK ? "invalid distance too far back"
                                                   : "invalid data");
            return -1;
        }
        if (s->st.block_state == ISAL_BLOCK_FINISH) {
            s->in_member = false;
        } else if (got == 0 && s->avail == had) {
            snprintf(s->err, sizeof s->err, "corrupt gzip stream: no progress");
            return -1;
        }
    }
    return (ssize_t)got;
}

static la_ssize_t src_read(struct archive *a, void *ctx, const void **buf)
{
    struct src *s = ctx;
    ssize_t r;
    if (s->gzip) {
        r = src_inflate(s, s->out, sizeof s->out);
        *buf = s->out;
    } else {
        do
            r = read(s->fd, s->in, sizeof s->in);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            snprintf(s->err, sizeof s->err, "cannot read: %s", strerror(errno));
            s->io_err = true;
        }
        *buf = s->in;
    }
    if (r < 0) {
        archive_set_error(a, EINVAL, "%s", s->err);
        return -1;
    }
    return r;
}

/* src_finish - read the rest of the stream after the tar's end, so that the checksum of
 * the last member is checked too; 0 or -1 with S->err set */
static int src_finish(struct src *s)
{
    if (!s->gzip)
        return 0;
    for (;;) {
        ssize_t r = src_inflate(s, s->out, sizeof s->out);
        if (r <= 0)
            return (int)r;
    }
}

static int src_open(struct src *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (s->fd < 0)
        return kerr_errno(path, "cannot open");
    struct stat st;
    if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(s->fd);
        s->fd = -1;
        return kerr_set(KERR_INPUT, path, 0, 0, "not a regular file");
    }
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_NONBLOCK);
    ssize_t r = src_fill(s);
    if (r < 0) {
        src_close(s);
        return kerr_set(KERR_IO, path, 0, 0, "%s", s->err);
    }
    s->gzip = r >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
    s->in_member = false; /* the first member's header is read with the first data */
    if (!s->gzip && lseek(s->fd, 0, SEEK_SET) != 0) {
        src_close(s);
        return kerr_errno(path, "cannot seek");
    }
    return 0;
}

static void src_close(struct src *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* The symlinks made so far, to check where each one leads once all are made. */
struct links {
    char **v;
    size_t n, cap;
};

/* links_check - each symlink made below ROOT resolved as the kernel will (through every
 * other link): one that leads outside ROOT, or loops, is refused */
static int links_check(const struct links *ls, const char *root, const char *path)
{
    size_t rl = strlen(root);
    for (size_t i = 0; i < ls->n; i++) {
        char full[PATH_MAX], res[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", root, ls->v[i]) >= (int)sizeof full)
            return kerr_set(KERR_INPUT, path, 0, 0, "refusing entry '%s': path too long",
                            ls->v[i]);
        if (!realpath(full, res)) {
            if (errno == ENOENT)
                continue; /* leads nowhere: nothing can be read through it */
            return kerr_set(KERR_INPUT, path, 0, 0, "refusing entry '%s': symlink that %s",
                            ls->v[i],
                            errno == ELOOP ? "loops" : "cannot be resolved inside the archive");
        }
        if (strncmp(res, root, rl) != 0 || (res[rl] != 0 && res[rl] != '/'))
            return kerr_set(KERR_INPUT, path, 0, 0,
                            "refusing entry '%s': symlink leading outside the archive "
                            "(through the symlinks it names)",
                            ls->v[i]);
    }
    return 0;
}

static void links_free(struct links *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->v[i]);
    free(ls->v);
}

const struct tarball_limits tarball_default_limits = {TARBALL_MAX_BYTES, TARBALL_MAX_ENTRY_BYTES,
                                                      TARBALL_MAX_ENTRIES};

/* too_big - the error for an entry over a cap: names the cap and the option raising it */
static int too_big(const char *path, const char *name, const char *what, unsigned long long cap,
                   const char *option)
{
    return kerr_set(KERR_INPUT, path, 0, 0,
                    "refusing entry '%s': %s over the limit of %llu (raise it with the "
                    "option '%s')",
                    name, what, cap, option);
}

/* read_entry - the data of entry NAME into memory for F->take */
static int read_entry(struct archive *in, struct archive_entry *e, const char *path,
                      const char *name, const struct tarball_filter *f)
{
    la_int64_t size = archive_entry_size(e);
    char *buf = xmalloc((size_t)size + 1);
    size_t got = 0;
    for (;;) {
        la_ssize_t r = archive_read_data(in, buf + got, (size_t)size - got);
        if (r < 0) {
            free(buf);
            return kerr_set(KERR_INPUT, path, 0, 0, "corrupt archive at '%s': %s", name,
                            archive_error_string(in));
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got == (size_t)size)
            break;
    }
    if (got != (size_t)size) {
        free(buf);
        return kerr_set(KERR_INPUT, path, 0, 0, "corrupt archive at '%s': short entry", name);
    }
    int rc = f->take(name, buf, got, f->ctx);
    free(buf);
    return rc;
}

int tarball_extract_some(const char *path, const char *dest, const struct tarball_filter *f)
{
    return tarball_extract_limited(path, dest, f, &tarball_default_limits);
}

int tarball_extract_limited(const char *path, const char *dest, const struct tarball_filter *f,
                            const struct tarball_limits *lim)
{
    struct archive *in = archive_read_new();
    struct archive *out = archive_write_disk_new();
    struct archive_entry *e;
    struct links links = {0};
    struct src *s = xmalloc(sizeof *s);
    int rc = -1;
    char root[PATH_MAX];
    unsigned long long taken = 0, entries = 0;

    s->fd = -1;
    if (!in || !out) {
        kerr_set(KERR_IO, path, 0, 0, "out of memory");
        goto done;
    }
    archive_read_support_filter_none(in);
    archive_read_support_format_tar(in);
    archive_read_support_format_gnutar(in);
    archive_write_disk_set_options(
        out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_NO_OVERWRITE);
    if (!realpath(dest, root)) {
        kerr_errno(dest, "cannot resolve directory");
        goto done;
    }
    if (src_open(s, path) != 0)
        goto done;
    if (archive_read_open(in, s, NULL, src_read, NULL) != ARCHIVE_OK) {
        kerr_set(KERR_INPUT, path, 0, 0, "cannot read archive: %s",
                 s->err[0] ? s->err : archive_error_string(in));
        goto done;
    }
    for (;;) {
        int r = archive_read_next_header(in, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK) {
            kerr_set(KERR_INPUT, path, 0, 0, "corrupt archive: %s",
                     s->err[0] ? s->err : archive_error_string(in));
            goto done;
        }
        const char *ename = archive_entry_pathname(e);
        char name[PATH_MAX];
        if (!ename || snprintf(name, sizeof name, "%s", ename) >= (int)sizeof name) {
            kerr_set(KERR_INPUT, path, 0, 0, "entry without a usable name");
            goto done;
        }
        if (++entries > lim->max_entries) {
            kerr_set(KERR_INPUT, path, 0, 0,
                     "more than %llu entries (raise the limit with the option "
                     "'extract_max_entries')",
                     lim->max_entries);
            goto done;
        }
        const char *why = bad_name(name);
        mode_t type = archive_entry_filetype(e);
        if (!why && archive_entry_hardlink(e))
            why = "hard link";
        if (!why && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
            why = "not a regular file, directory or symlink";
        if (!why && type == AE_IFLNK) {
            const char *target = archive_entry_symlink(e);
            if (!target || link_escapes(name, target))
                why = "symlink pointing outside the archive";
        }
        if (!why && through_symlink(root, name))
            why = "would be written through a symlink";
        if (why) {
            kerr_set(KERR_INPUT, path, 0, 0, "refusing entry '%s': %s", name, why);
            goto done;
        }
        enum tarball_choice c = type == AE_IFREG && f ? f->choose(name, f->ctx) : TARBALL_WRITE;
        if (c == TARBALL_SKIP)
            continue; /* checked like the others, not written */
        if (type == AE_IFREG) {
            la_int64_t size = archive_entry_size(e);
            if (size < 0 || (unsigned long long)size > lim->max_entry_bytes) {
                too_big(path, name, "size", lim->max_entry_bytes, "extract_max_entry_bytes");
                goto done;
            }
            taken += (unsigned long long)size;
            if (taken > lim->max_bytes) {
                too_big(path, name, "total size taken from the archive", lim->max_bytes,
                        "extract_max_bytes");
                goto done;
            }
        }
        if (c == TARBALL_READ) {
            if (read_entry(in, e, path, name, f) != 0)
                goto done;
            continue;
        }
        archive_entry_set_uid(e, getuid());
        archive_entry_set_gid(e, getgid());
        archive_entry_set_uname(e, NULL);
        archive_entry_set_gname(e, NULL);
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", root, name) >= (int)sizeof full) {
            kerr_set(KERR_INPUT, path, 0, 0, "refusing entry '%s': name too long", name);
            goto done;
        }
        struct stat st;
        if (type != AE_IFDIR && lstat(full, &st) == 0) {
            /* DEST started empty: an entry already there came earlier in the archive */
            kerr_set(KERR_INPUT, path, 0, 0, "refusing entry '%s': it is in the archive twice",
                     name);
            goto done;
        }
        archive_entry_set_pathname(e, full);
        if (archive_write_header(out, e) != ARCHIVE_OK) {
            int en = archive_errno(out);
            if (type == AE_IFREG && en == EEXIST)
                kerr_set(KERR_INPUT, path, 0, 0, "refusing entry '%s': it is in the archive twice",
                         name);
            else
                kerr_set(en == ENOSPC || en == EIO || en == EDQUOT ? KERR_IO : KERR_INPUT, path, 0,
                         0, "cannot extract '%s' to '%s': %s", name, full,
                         en ? strerror(en) : archive_error_string(out));
            goto done;
        }
        if (type == AE_IFLNK) {
            if (links.n == links.cap)
                links.v = xrealloc(links.v,
                                   (links.cap = links.cap ? 2 * links.cap : 16) * sizeof *links.v);
            links.v[links.n++] = strdup(name);
            if (!links.v[links.n - 1])
                abort();
        }
        const void *buf;
        size_t size;
        la_int64_t off;
        while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
            if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK) {
                int en = archive_errno(out);
                kerr_set(KERR_IO, path, 0, 0, "cannot write '%s': %s", full,
                         en ? strerror(en) : archive_error_string(out));
                goto done;
            }
        }
        if (r != ARCHIVE_EOF) {
            kerr_set(KERR_INPUT, path, 0, 0, "corrupt archive at '%s': %s", name,
                     s->err[0] ? s->err : archive_error_string(in));
            goto done;
        }
        if (archive_write_finish_entry(out) != ARCHIVE_OK) {
            int en = archive_errno(out);
            kerr_set(KERR_IO, path, 0, 0, "cannot finish '%s': %s", full,
                     en ? strerror(en) : archive_error_string(out));
            goto done;
        }
    }
    if (src_finish(s) != 0) {
        kerr_set(s->io_err ? KERR_IO : KERR_INPUT, path, 0, 0, "%s", s->err);
        goto done;
    }
    if (links_check(&links, root, path) != 0)
        goto done;
    rc = 0;
done:
    if (in)
        archive_read_free(in);
    if (out)
        archive_write_free(out);
    src_close(s);
    free(s);
    links_free(&links);
    return rc;
}

char *tarball_release_root(const char *dest, const char *archive_name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/releases", dest);
    if (fs_is_dir(p))
        return strdup(dest);
    DIR *d = opendir(dest);
    if (!d) {
        kerr_errno(dest, "cannot open directory");
        return NULL;
    }
    struct dirent *de;
    char *found = NULL;
    int count = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        count++;
        snprintf(p, sizeof p, "%s/%s/releases", dest, de->d_name);
        if (fs_is_dir(p) && !found) {
            snprintf(p, sizeof p, "%s/%s", dest, de->d_name);
            found = strdup(p);
        }
    }
    closedir(d);
    if (found && count == 1)
        return found;
    free(found);
    kerr_set(KERR_INPUT, archive_name, 0, 0,
             "not a release archive: no 'releases/' at the top or under one directory");
    return NULL;
}
