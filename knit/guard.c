/* guard.c - one knit run at a time per project (flock), removing only what knit made
 * (marker files), and the leftovers of killed runs */
#include "guard.h"

#include "fsutil.h"
#include "kerr.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

bool guard_owned(const char *dir, const char *marker)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT;
    struct dirent *de;
    bool empty = true, marked = false;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        empty = false;
        if (!strcmp(de->d_name, marker))
            marked = true;
    }
    closedir(d);
    return empty || marked;
}

/* pid_suffix - the PID after PREFIX at the end of NAME ("x.tmp-123" with "-" style), or 0 */
static long pid_suffix(const char *name, const char *tag)
{
    const char *p = strstr(name, tag);
    if (!p)
        return 0;
    const char *last;
    while ((last = strstr(p + 1, tag)) != NULL)
        p = last;
    p += strlen(tag);
    if (!*p)
        return 0;
    char *end;
    long pid = strtol(p, &end, 10);
    return *end || pid <= 0 ? 0 : pid;
}

static void clean_tmp_files(struct arena *a, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long pid = pid_suffix(de->d_name, ".tmp-");
        if (!pid && de->d_name[0] == '.')
            pid = pid_suffix(de->d_name, ".knit-"); /* a staged artifact (fs_stage_path) */
        if (!pid || pid == (long)getpid() || fs_pid_alive(pid))
            continue;
        const char *p = arena_sprintf(a, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && unlink(p) == 0)
            log_verbose("removed %s, left by a knit run that was killed", p);
    }
    closedir(d);
}

void guard_clean_stale(struct arena *a, const struct cfg *c)
{
    DIR *d = opendir(c->target_dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] != '.')
                continue;
            long pid = pid_suffix(de->d_name, ".knit-new-");
            if (!pid)
                pid = pid_suffix(de->d_name, ".knit-old-");
            if (!pid || pid == (long)getpid() || fs_pid_alive(pid))
                continue;
            const char *p = arena_sprintf(a, "%s/%s", c->target_dir, de->d_name);
            struct stat st;
            if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode) ||
                access(arena_sprintf(a, "%s/%s", p, GUARD_BUILD_MARKER), F_OK) != 0)
                continue; /* not one knit made */
            if (fs_remove_tree(p) == 0)
                log_verbose("removed %s, left by a knit run that was killed", p);
            else
                kerr_clear();
        }
        closedir(d);
    }
    clean_tmp_files(a, c->release_dir);
    clean_tmp_files(a, c->upgrade_dir);
}

/* make_tmp - the tmp dir afresh, with its marker */
static int make_tmp(struct arena *a, struct guard *g, const struct cfg *c)
{
    struct stat st;
    if (lstat(c->tmp_dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode) || !guard_owned(c->tmp_dir, GUARD_TMP_MARKER))
            return kerr_set(KERR_INPUT, c->file, 0, 0,
                            "tmp_dir '%s' exists and was not made by knit (no '%s' in it): "
                            "refusing to remove it; remove it yourself or choose another "
                            "tmp_dir",
                            c->tmp_dir, GUARD_TMP_MARKER);
        if (fs_remove_tree(c->tmp_dir) != 0)
            return -1;
    }
    if (fs_mkdirs(c->tmp_dir) != 0)
        return -1;
    g->tmp_dir = c->tmp_dir;
    static const char note[] = "made by knit; removed with this directory\n";
    return fs_write_atomic(arena_sprintf(a, "%s/%s", c->tmp_dir, GUARD_TMP_MARKER), note,
                           sizeof note - 1, 0644);
}

int guard_begin(struct arena *a, struct guard *g, const struct cfg *c, bool wait, bool tmp)
{
    g->lock_fd = -1;
    g->tmp_dir = NULL;
    if (fs_mkdirs(c->target_dir) != 0)
        return -1;
    const char *lock = arena_sprintf(a, "%s/.knit.lock", c->target_dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return kerr_errno(lock, "cannot open the lock file");
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK || !wait) {
            int e = errno;
            close(fd);
            if (e != EWOULDBLOCK) {
                errno = e;
                return kerr_errno(lock, "cannot lock");
            }
            return kerr_set(KERR_IO, lock, 0, 0,
                            "another knit run is building in '%s' (it holds this lock): "
                            "refusing to run at the same time; wait for it, or use --wait",
                            c->target_dir);
        }
        log_info("another knit run is building in %s: waiting for it", c->target_dir);
        while (flock(fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                close(fd);
                return kerr_errno(lock, "cannot lock");
            }
        }
    }
    g->lock_fd = fd;
    guard_clean_stale(a, c);
    return tmp ? make_tmp(a, g, c) : 0;
}

int guard_end(struct guard *g, bool remove_tmp)
{
    int rc = 0;
    if (g->tmp_dir && remove_tmp)
        rc = fs_remove_tree(g->tmp_dir);
    g->tmp_dir = NULL;
    if (g->lock_fd >= 0)
        close(g->lock_fd); /* the lock goes with it; the file stays (removing it would race) */
    g->lock_fd = -1;
    return rc;
}
