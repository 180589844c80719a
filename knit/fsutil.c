/* fsutil.c - file helpers */
#include "fsutil.h"

#include "kerr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fs_read_file(struct arena *a, const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        kerr_errno(path, "cannot open");
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        kerr_errno(path, "cannot stat");
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        kerr_set(KERR_IO, path, 0, 0, "is a directory");
        close(fd);
        return NULL;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, n = 0;
    char *data = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            data = xrealloc(data, cap + 1);
        }
        ssize_t r = read(fd, data + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            kerr_errno(path, "cannot read");
            free(data);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    char *out = arena_memdup(a, data, n);
    free(data);
    if (len)
        *len = n;
    return out;
}

int fs_write_atomic(const char *path, const void *data, size_t len, int mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return kerr_set(KERR_IO, path, 0, 0, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return kerr_errno(tmp, "cannot create");
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            kerr_errno(tmp, "cannot write");
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
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
    return 0;
}
