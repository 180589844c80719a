/* buf.h - growable byte buffer (malloc-owned), the one sink every writer appends to */
#ifndef KNIT_BUF_H
#define KNIT_BUF_H

#include <stddef.h>

struct buf {
    char *p; /* NUL-terminated once anything was added; NULL when empty */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* buf_add - append N bytes of DATA; aborts on out-of-memory like every allocation here */
void buf_add(struct buf *b, const void *data, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_add_utf8 - append code point CP encoded as UTF-8 */
void buf_add_utf8(struct buf *b, unsigned long cp);
/* buf_reserve - make room for N more bytes; returns the write position */
char *buf_reserve(struct buf *b, size_t n);
/* buf_cstr - the contents as a C string ("" when empty); still owned by B */
const char *buf_cstr(const struct buf *b);
void buf_reset(struct buf *b); /* empty it, keep the memory */
void buf_free(struct buf *b);  /* release the memory */

#endif
