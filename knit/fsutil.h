/* fsutil.h - file helpers: whole-file reads, write-beside-and-rename, directories */
#ifndef KNIT_FSUTIL_H
#define KNIT_FSUTIL_H

#include "arena.h"

#include <stddef.h>
#include <sys/stat.h>

/* fs_read_file - the whole of PATH into A (NUL-terminated; *LEN without it);
 * NULL with a KERR_IO error naming PATH */
char *fs_read_file(struct arena *a, const char *path, size_t *len);
/* fs_read_file_stat - the same, with *ST set from the open file */
char *fs_read_file_stat(struct arena *a, const char *path, size_t *len, struct stat *st);
/* fs_stem - the length of NAME without SUFFIX (e.g. "mod" of "mod.beam": 3) when NAME is
 * at least one character followed by SUFFIX; 0 otherwise */
size_t fs_stem(const char *name, const char *suffix);
/* fs_write_all - write all N bytes of P to FD, retrying short writes and EINTR; 0, or -1
 * with errno set (nothing recorded: the caller names the file) */
int fs_write_all(int fd, const void *p, size_t n);
/* fs_write_atomic - write DATA to PATH.tmp-PID beside it, fsync, rename into place;
 * -1 with KERR_IO (and nothing left at PATH changed) on failure */
int fs_write_atomic(const char *path, const void *data, size_t len, int mode);

/* fs_stage_path - DIR/.BASE.knit-PID for PATH = DIR/BASE: where an artifact is written
 * before it is renamed into place (a dot file, so no NAME-*.tar.gz glob sees it) */
const char *fs_stage_path(struct arena *a, const char *path);
/* fs_same_content - 1 when files A and B hold the same bytes, 0 when not (or B is
 * missing), -1 with KERR_IO when one cannot be read */
int fs_same_content(const char *a, const char *b);
/* fs_create_tmp - create the temp file TMP (mode MODE) for writing, exclusively and without
 * following a symlink (whatever was at TMP is unlinked first); the fd, or -1 (KERR_IO) */
int fs_create_tmp(const char *tmp, int mode);
/* fs_sync_dir - fsync the directory holding PATH (after a rename into it); 0 or -1 */
int fs_sync_dir(const char *path);

/* fs_mkdirs - mkdir -p PATH (mode 0755); -1 with KERR_IO naming the part that failed */
int fs_mkdirs(const char *path);
/* fs_remove_tree - rm -rf PATH without following symlinks; a missing PATH is fine;
 * -1 with KERR_IO when something could not be removed */
int fs_remove_tree(const char *path);
/* fs_is_dir - whether PATH is a directory (following symlinks) */
int fs_is_dir(const char *path);

/* fs_canon - PATH (absolute) with every symlink of its longest existing prefix resolved and
 * the rest normalised lexically, as the kernel would find it once the rest is made; an
 * arena string */
const char *fs_canon(struct arena *a, const char *path);
/* fs_within - whether the canonical path P is Q or below it */
int fs_within(const char *p, const char *q);
/* fs_plain_name - whether S can be one path component: not empty, no '/', not "." or "..",
 * no NUL byte before its end */
int fs_plain_name(const char *s);
/* fs_pid_alive - whether process PID exists (signal 0 is not refused with ESRCH) */
int fs_pid_alive(long pid);

#endif
