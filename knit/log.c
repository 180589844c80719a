/* log.c - messages for people on stderr and, with -l, in a log file */
#include "log.h"

#include "kerr.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static enum log_level shown = LOG_INFO;
static FILE *log_fp;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int log_setup(enum log_level level, const char *log_file)
{
    shown = level;
    if (log_file) {
        log_fp = fopen(log_file, "a");
        if (!log_fp)
            return kerr_errno(log_file, "cannot open log file");
    }
    return 0;
}

void log_close(void)
{
    if (log_fp)
        fclose(log_fp);
    log_fp = NULL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *prefix[] = {"error: ", "warning: ", "", "", "debug: "};
    if (level > shown)
        return;
    pthread_mutex_lock(&log_lock);
    va_list ap;
    fprintf(stderr, "knit: %s", prefix[level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (log_fp) {
        fprintf(log_fp, "%s", prefix[level]);
        va_start(ap, fmt);
        vfprintf(log_fp, fmt, ap);
        va_end(ap);
        fputc('\n', log_fp);
    }
    pthread_mutex_unlock(&log_lock);
}
