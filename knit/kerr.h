/* kerr.h - error recording: the detecting function records, callers propagate, main prints */
#ifndef KNIT_KERR_H
#define KNIT_KERR_H

/* Error classes double as process exit codes (README "Exit codes"). */
enum kerr_class {
    KERR_OK = 0,
    KERR_USAGE = 1, /* bad command line */
    KERR_INPUT = 2, /* bad configuration or input */
    KERR_IO = 3,    /* I/O error */
    KERR_NODE_DOWN = 4,    /* node unreachable: no such node, refused, timed out */
    KERR_NODE_REFUSED = 5, /* node refused: cookie, badrpc, pre-flight failed, locked */
    KERR_UNSUPPORTED = 126,
    KERR_BUILD = 127, /* the build itself failed (appup/relup error) */
};

struct kerr {
    enum kerr_class cls;
    char file[1024]; /* "" when no file is involved */
    int line;        /* 0 when unknown */
    int col;         /* 0 when unknown */
    char msg[2048];
};

/* kerr_set - record an error for this thread, replacing any earlier one; returns -1 so
 * callers can write `return kerr_set(...)`. FILE may be NULL. */
int kerr_set(enum kerr_class cls, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* kerr_set_kind - kerr_set with " (MODULE: KIND)" after the message: the reason OTP's
 * MODULE gives for the same failure (systools_make, systools_relup, systools_rc); no line
 * or column is recorded */
int kerr_set_kind(enum kerr_class cls, const char *file, const char *module, const char *kind,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* kerr_wrap - put PREFIX before and SUFFIX after the message of this thread's last error,
 * keeping its class and place; returns -1 */
int kerr_wrap(const char *prefix, const char *suffix);
/* kerr_errno - record an I/O error for FILE from errno, with a short description of what
 * was attempted ("cannot open", "cannot write"); returns -1 */
int kerr_errno(const char *file, const char *what);
/* kerr_get - this thread's last recorded error (class KERR_OK when none) */
const struct kerr *kerr_get(void);
/* kerr_copy / kerr_restore - move an error between threads */
void kerr_copy(struct kerr *dst);
void kerr_restore(const struct kerr *src);
/* kerr_clear - forget this thread's error */
void kerr_clear(void);
/* kerr_format - "FILE:LINE:COL: message" (parts that are unknown left out) into BUF */
void kerr_format(const struct kerr *e, char *buf, unsigned long size);

#endif
