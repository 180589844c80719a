/* fsutil.c - file helpers */
#include "fsutil.h"

#include "kerr.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fs_read_file_stat(struct arena *a, const char *path, size_t *len, struct stat *st)
{
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below like any file that
     * is not a regular one (a device such as /dev/zero would never end) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        kerr_errno(path, "cannot open");
        return NULL;
    }
    if (fstat(fd, st) != 0) {
        kerr_errno(path, "cannot stat");
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st->st_mode)) {
        kerr_set(KERR_IO, path, 0, 0, "is a directory");
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st->st_mode)) {
        kerr_set(KERR_INPUT, path, 0, 0, "not a regular file: refusing to read it");
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    /* read into the arena, with a byte to spare so that the read seeing the end of a file
     * of the size stat gave needs no more room; a file that grew meanwhile is read on */
    size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 4096, n = 0;
    char *data = arena_alloc_raw(a, cap + 1);
    for (;;) {
        if (n == cap) {
            char *more = arena_alloc_raw(a, 2 * cap + 1);
            memcpy(more, data, n);
            data = more;
            cap *= 2;
        }
        ssize_t r = read(fd, data + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            kerr_errno(path, "cannot read");
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    data[n] = 0;
    if (len)
        *len = n;
    return data;
}

char *fs_read_file(struct arena *a, const char *path, size_t *len)
{
    struct stat st;
    return fs_read_file_stat(a, path, len, &st);
}

size_t fs_stem(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n > m && !memcmp(name + n - m, suffix, m) ? n - m : 0;
}

int fs_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, int mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return kerr_set(KERR_IO, path, 0, 0, "path too long");
    int fd = fs_create_tmp(tmp, mode);
    if (fd < 0)
        return -1;
    if (fs_write_all(fd, data, len) != 0) {
        kerr_errno(tmp, "cannot write");
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        kerr_errno(tmp, "cannot write");
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        kerr_errno(path, "cannot rename into place");
        unlink(tmp);
        return -1;
    }
    return fs_sync_dir(path);
}

int fs_create_tmp(const char *tmp, int mode)
{
    /* whatever is there (a leftover, or a planted symlink) goes, and a new file is made:
     * never opened through a link, never one that someone else made meanwhile */
    if (unlink(tmp) != 0 && errno != ENOENT)
        return kerr_errno(tmp, "cannot remove the earlier temp file");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return kerr_errno(tmp, "cannot create");
    return fd;
}

int fs_sync_dir(const char *path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return kerr_set(KERR_IO, path, 0, 0, "path too long");
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return kerr_errno(dir, "cannot open directory");
    int r = fsync(fd);
    close(fd);
    /* some file systems cannot sync a directory: that is no error of the rename */
    if (r != 0 && errno != EINVAL && errno != ENOTSUP)
        return kerr_errno(dir, "cannot sync directory");
    return 0;
}

int fs_mkdirs(const char *path)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return kerr_set(KERR_IO, path, 0, 0, "path too long");
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != 0)
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return kerr_errno(p, "cannot create directory");
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            return kerr_set(KERR_IO, p, 0, 0, "cannot create directory: not a directory");
        *s = c;
        if (c == 0)
            break;
    }
    return 0;
}

static _Thread_local int remove_failed;
static _Thread_local char remove_failed_path[PATH_MAX];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = flag == FTW_DP ? rmdir(path) : unlink(path);
    if (r != 0 && errno != ENOENT && !remove_failed) {
        remove_failed = errno;
        snprintf(remove_failed_path, sizeof remove_failed_path, "%s", path);
    }
    return 0;
}

int fs_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : kerr_errno(path, "cannot remove");
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 0 : kerr_errno(path, "cannot remove");
    remove_failed = 0;
    if (nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
        return kerr_errno(path, "cannot remove");
    if (remove_failed) {
        errno = remove_failed;
        return kerr_errno(remove_failed_path, "cannot remove");
    }
    return 0;
}

int fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fs_stage_path(struct arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return arena_sprintf(a, ".%s.knit-%ld", path, (long)getpid());
    return arena_sprintf(a, "%.*s/.%s.knit-%ld", (int)(slash - path), path, slash + 1,
                         (long)getpid());
}

int fs_same_content(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb");
    if (!fa)
        return kerr_errno(a, "cannot open");
    FILE *fb = fopen(b, "rb");
    if (!fb) {
        fclose(fa);
        return errno == ENOENT ? 0 : kerr_errno(b, "cannot open");
    }
    int same = 1;
    char ba[65536], bb[65536];
    for (;;) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na) != 0) {
            same = 0;
            break;
        }
        if (na == 0)
            break;
    }
    if (ferror(fa) || ferror(fb))
        same = kerr_errno(ferror(fa) ? a : b, "cannot read");
    fclose(fa);
    fclose(fb);
    return same;
}

const char *fs_canon(struct arena *a, const char *path)
{
    char p[PATH_MAX], res[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return arena_strdup(a, path);
    /* the longest prefix that resolves, then the rest component by component */
    size_t cut = strlen(p);
    for (;;) {
        char c = p[cut];
        p[cut] = 0;
        bool got = realpath(cut ? p : "/", res) != NULL;
        p[cut] = c;
        if (got || cut == 0)
            break;
        while (cut > 0 && p[cut - 1] != '/')
            cut--;
        while (cut > 0 && p[cut - 1] == '/')
            cut--;
    }
    if (cut == 0 && !realpath("/", res))
        snprintf(res, sizeof res, "/");
    size_t n = strlen(res);
    for (const char *s = p + cut; *s;) {
        while (*s == '/')
            s++;
        size_t len = strcspn(s, "/");
        if (len == 0)
            break;
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (n > 1 && res[n - 1] != '/')
                n--;
            if (n > 1)
                n--;
            res[n] = 0;
        } else if (!(len == 1 && s[0] == '.') && n + 1 + len < sizeof res) {
            if (n > 1)
                res[n++] = '/';
            memcpy(res + n, s, len);
            n += len;
            res[n] = 0;
        }
        s += len;
    }
    return arena_strdup(a, res);
}

int fs_within(const char *p, const char *q)
{
    size_t n = strlen(q);
    if (n == 1 && q[0] == '/')
        return 1;
    return strncmp(p, q, n) == 0 && (p[n] == 0 || p[n] == '/');
}

int fs_pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH);
}

int fs_plain_name(const char *s)
{
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}
