/* arena.c - bump allocator backing terms and other per-document data */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536

struct arena_block {
    struct arena_block *next;
    size_t size;
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
        free(b);
        b = next;
    }
    arena_init(a);
}

void arena_close(struct arena *a)
{
    arena_reset(a);
}

void *arena_alloc_raw(struct arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        oom(n);
    if (!a->head || a->used + need > a->head->size) {
        size_t size = need > ARENA_BLOCK / 4 ? need : ARENA_BLOCK;
        if (size > SIZE_MAX - sizeof(struct arena_block))
            oom(n);
        struct arena_block *b = malloc(sizeof(*b) + size);
        if (!b)
            oom(n);
        b->size = size;
        if (size == need && a->head) {
            /* a big allocation gets its own block behind the current one */
            b->next = a->head->next;
            a->head->next = b;
            a->total += need;
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    a->total += need;
    return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
    void *p = arena_alloc_raw(a, n);
    memset(p, 0, (n + 15) & ~(size_t)15);
    return p;
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
