/* pgzip.h - gzip compression on every core, with output that does not depend on timing */
#ifndef KNIT_PGZIP_H
#define KNIT_PGZIP_H
#include <stddef.h>

/* The input is cut into fixed-size chunks; each is deflated by a worker thread with the
 * 32 KB of input before it as its dictionary and ends byte-aligned (a sync flush), so the
 * chunks join into one deflate stream in one gzip member: any gunzip reads it, and the same
 * input always gives the same bytes (mtime 0, no name). */
struct pgzip;

/* PGZIP_LEVEL - the default: ISA-L's best (its levels are 0 to 3) */
#define PGZIP_LEVEL 3
/* pgzip_open - start a gzip stream written to FD (NAME for messages) at ISA-L deflate LEVEL
 * (0-3; -1 for PGZIP_LEVEL); NULL with KERR_IO when no thread could be started */
struct pgzip *pgzip_open(int fd, const char *name, int level);
/* pgzip_write - compress N bytes at P; -1 with KERR_IO once writing FD failed */
int pgzip_write(struct pgzip *z, const void *p, size_t n);
/* pgzip_close - finish the stream (last chunk, trailer) and free Z, which may be NULL;
 * -1 with KERR_IO when any write failed. FD stays open. */
int pgzip_close(struct pgzip *z);
/* pgzip_abort - stop and free Z without finishing the stream */
void pgzip_abort(struct pgzip *z);
#endif
