/* arena.h - bump allocator: everything allocated from an arena is freed at once */
#ifndef KNIT_ARENA_H
#define KNIT_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head;
    size_t used;  /* bytes used in head */
    size_t total; /* bytes handed out, for statistics */
};

/* arena_init - make an empty arena; never fails (blocks are allocated lazily) */
void arena_init(struct arena *a);
/* arena_reset - free every allocation made from A; A stays usable */
void arena_reset(struct arena *a);
/* arena_close - same as arena_reset; for symmetry with _open/_close pairs */
void arena_close(struct arena *a);
/* arena_adopt - FROM's allocations become INTO's (freed with it); FROM is left empty. For
 * work done in another thread's arena whose results outlive it. */
void arena_adopt(struct arena *into, struct arena *from);
/* arena_alloc - N bytes aligned to 16, zeroed; aborts the process on out-of-memory */
void *arena_alloc(struct arena *a, size_t n);
/* arena_alloc_raw - the same, not zeroed (for memory about to be filled whole) */
void *arena_alloc_raw(struct arena *a, size_t n);
/* arena_extend - P (the OLD bytes of an allocation from A) resized to N bytes, contents
 * kept, not zeroed beyond OLD: in place when P is A's latest allocation, else a copy (the old
 * bytes stay allocated until the arena is reset) */
void *arena_extend(struct arena *a, void *p, size_t old, size_t n);
/* arena_memdup - copy N bytes of P into A (plus a NUL byte after them) */
void *arena_memdup(struct arena *a, const void *p, size_t n);
/* arena_strdup - copy the NUL-terminated S into A */
char *arena_strdup(struct arena *a, const char *s);
/* arena_sprintf - printf into memory owned by A */
char *arena_sprintf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* xmalloc/xrealloc/xcalloc - libc allocation that aborts with a message on OOM */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
void *xcalloc(size_t n, size_t m);

#endif
