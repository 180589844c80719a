/* kerr.c - per-thread error record and its formatting */
#include "kerr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct kerr last;

int kerr_set(enum kerr_class cls, const char *file, int line, int col, const char *fmt, ...)
{
    last.cls = cls;
    snprintf(last.file, sizeof last.file, "%s", file ? file : "");
    last.line = line;
    last.col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last.msg, sizeof last.msg, fmt, ap);
    va_end(ap);
    return -1;
}

int kerr_set_kind(enum kerr_class cls, const char *file, const char *module, const char *kind,
                  const char *fmt, ...)
{
    char msg[1800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kerr_set(cls, file, 0, 0, "%s (%s: %s)", msg, module, kind);
}

int kerr_wrap(const char *prefix, const char *suffix)
{
    struct kerr e = last;
    return kerr_set(e.cls, e.file[0] ? e.file : NULL, e.line, e.col, "%s%.1800s%s", prefix, e.msg,
                    suffix);
}

int kerr_errno(const char *file, const char *what)
{
    int e = errno;
    return kerr_set(KERR_IO, file, 0, 0, "%s: %s", what, strerror(e));
}

const struct kerr *kerr_get(void)
{
    return &last;
}

void kerr_copy(struct kerr *dst)
{
    *dst = last;
}

void kerr_restore(const struct kerr *src)
{
    last = *src;
}

void kerr_clear(void)
{
    memset(&last, 0, sizeof last);
}

void kerr_format(const struct kerr *e, char *buf, unsigned long size)
{
    if (e->file[0] && e->line > 0 && e->col > 0)
        snprintf(buf, size, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
    else if (e->file[0] && e->line > 0)
        snprintf(buf, size, "%s:%d: %s", e->file, e->line, e->msg);
    else if (e->file[0])
        snprintf(buf, size, "%s: %s", e->file, e->msg);
    else
        snprintf(buf, size, "%s", e->msg);
}
