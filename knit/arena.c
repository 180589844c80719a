/* arena.c - bump allocator backing terms and other per-document data */
#include "arena.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_BLOCK 65536

/* Blocks of the standard size come from regions the kernel may back with 2 MB pages: a
 * run that builds megabytes of terms takes a few large page faults instead of hundreds of
 * small ones. Released blocks wait on a free list for the next arena. Sanitizer builds
 * keep to malloc, so that every block stays a heap object they can watch. */
#if defined(__SANITIZE_ADDRESS__)
#define POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define POOL 0
#endif
#endif
#ifndef POOL
#define POOL 1
#endif
#define POOL_REGION ((size_t)8 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

struct arena_block {
    struct arena_block *next;
    size_t size;
    bool pooled; /* from the pool, not malloc */
    bool fresh;  /* from a new pool region: its unused part is still the kernel's zeros */
    _Alignas(16) unsigned char data[];
};

static void oom(size_t n)
{
    fprintf(stderr, "knit: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        oom(n * m);
    return p;
}

static struct {
    pthread_mutex_t mu;
    unsigned char *next, *end; /* the unused part of the current region */
    struct arena_block *free;  /* released standard blocks */
    bool failed;               /* mmap failed once: malloc from then on */
} pool = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, false};

#define BLOCK_BYTES (sizeof(struct arena_block) + ARENA_BLOCK)

/* pool_get - a standard block, or NULL (then malloc); *FRESH says it was never used */
static struct arena_block *pool_get(bool *fresh)
{
    *fresh = false;
    if (!POOL)
        return NULL;
    struct arena_block *b = NULL;
    pthread_mutex_lock(&pool.mu);
    if (pool.free) {
        b = pool.free;
        pool.free = b->next;
    } else if (!pool.failed) {
        if (pool.next == NULL || (size_t)(pool.end - pool.next) < BLOCK_BYTES) {
            /* a region aligned to the huge page size */
            unsigned char *m = mmap(NULL, POOL_REGION + HUGE_PAGE, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (m == MAP_FAILED) {
                pool.failed = true;
            } else {
                unsigned char *al =
                    (unsigned char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#if defined(MADV_HUGEPAGE) && !defined(NO_THP)
                madvise(al, POOL_REGION, MADV_HUGEPAGE);
#endif
                pool.next = al;
                pool.end = al + POOL_REGION;
            }
        }
        if (!pool.failed) {
            b = (struct arena_block *)pool.next;
            pool.next += BLOCK_BYTES;
            *fresh = true;
        }
    }
    pthread_mutex_unlock(&pool.mu);
    return b;
}

/* a block handed out by pool_get goes back to the pool; the others were malloc'd */
static void block_free(struct arena_block *b, bool pooled)
{
    if (!pooled) {
        free(b);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    b->next = pool.free;
    pool.free = b;
    pthread_mutex_unlock(&pool.mu);
}

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        block_free(b, b->pooled);
        b = next;
    }
    arena_init(a);
}

void arena_close(struct arena *a)
{
    arena_reset(a);
}

void arena_adopt(struct arena *into, struct arena *from)
{
    if (!from->head)
        return;
    if (!into->head) {
        *into = *from;
        arena_init(from);
        return;
    }
    /* FROM's blocks go behind INTO's current one, which keeps serving new allocations */
    struct arena_block *last = from->head;
    while (last->next)
        last = last->next;
    last->next = into->head->next;
    into->head->next = from->head;
    into->total += from->total;
    arena_init(from);
}

/* alloc - N bytes; ZERO: zeroed. Memory is cleared only where it may hold old data: a fresh
 * pool block is still as the kernel gave it, and a big block zeroed comes from calloc (for
 * large sizes fresh pages, not a memset). */
static void *alloc(struct arena *a, size_t n, bool zero)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        oom(n);
    if (!a->head || a->used + need > a->head->size) {
        size_t size = need > ARENA_BLOCK / 4 ? need : ARENA_BLOCK;
        if (size > SIZE_MAX - sizeof(struct arena_block))
            oom(n);
        bool fresh = false;
        struct arena_block *b = size == ARENA_BLOCK ? pool_get(&fresh) : NULL;
        bool pooled = b != NULL;
        if (!b) {
            /* calloc: a big block's bytes are all the allocation's */
            b = zero && size == need ? calloc(1, sizeof(*b) + size) : malloc(sizeof(*b) + size);
            fresh = zero && size == need;
        }
        if (!b)
            oom(n);
        b->size = size;
        b->pooled = pooled;
        b->fresh = fresh;
        if (size == need && a->head) {
            /* a big allocation gets its own block behind the current one */
            b->next = a->head->next;
            a->head->next = b;
            a->total += need;
            if (zero && !fresh)
                memset(b->data, 0, need);
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    a->total += need;
    /* a fresh block's memory past the bump pointer has never been handed out */
    if (zero && !a->head->fresh)
        memset(p, 0, need);
    return p;
}

void *arena_alloc_raw(struct arena *a, size_t n)
{
    return alloc(a, n, false);
}

void *arena_extend(struct arena *a, void *p, size_t old, size_t n)
{
    size_t had = (old + 15) & ~(size_t)15, need = (n + 15) & ~(size_t)15;
    if (need < n)
        oom(n);
    struct arena_block *h = a->head;
    if (p && h && need >= had) {
        /* the last allocation of the current block: it grows where it is */
        if ((unsigned char *)p + had == h->data + a->used && a->used - had + need <= h->size) {
            a->used += need - had;
            a->total += need - had;
            return p;
        }
        /* the last big allocation, in its own malloc'd block behind the current one */
        struct arena_block *b = h->next;
        if (b && !b->pooled && b->data == p && b->size == had) {
            if (need > SIZE_MAX - sizeof(struct arena_block))
                oom(n);
            struct arena_block *nb = realloc(b, sizeof(*nb) + need);
            if (!nb)
                oom(n);
            nb->size = need;
            h->next = nb;
            a->total += need - had;
            return nb->data;
        }
    }
    void *q = arena_alloc_raw(a, n);
    if (old)
        memcpy(q, p, old < n ? old : n);
    return q;
}

void *arena_alloc(struct arena *a, size_t n)
{
    return alloc(a, n, true);
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
    char *q = arena_alloc(a, n + 1);
    if (n)
        memcpy(q, p, n);
    q[n] = 0;
    return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_memdup(a, s, strlen(s));
}

char *arena_sprintf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
