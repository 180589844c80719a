/* log.c - messages for people on stderr and, with -l, in a log file */
#include "log.h"

#include "arena.h"
#include "kerr.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum log_level shown = LOG_INFO;
static bool console_off;
static bool progress_off;  /* --json: stderr carries no progress either */
static bool progress_open; /* a step line is on the terminal, to be cleared */
static FILE *log_fp;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char **warnings;
static size_t nwarnings;

int log_setup(enum log_level level, bool quiet, const char *log_file)
{
    shown = level;
    console_off = quiet;
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
    for (size_t i = 0; i < nwarnings; i++)
        free(warnings[i]);
    free(warnings);
    warnings = NULL;
    nwarnings = 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *prefix[] = {"error: ", "warning: ", "", "", "debug: "};
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (level == LOG_WARN) {
        warnings = xrealloc(warnings, (nwarnings + 1) * sizeof *warnings);
        warnings[nwarnings] = strdup(text);
        if (warnings[nwarnings])
            nwarnings++;
    }
    if (level <= shown) {
        if (progress_open && !console_off) {
            fputs("\r\033[K", stderr);
            progress_open = false;
        }
        if (!console_off)
            fprintf(stderr, "knit: %s%s\n", prefix[level], text);
        if (log_fp)
            fprintf(log_fp, "%s%s\n", prefix[level], text);
    }
    pthread_mutex_unlock(&log_lock);
}

const char *const *log_warnings(size_t *n)
{
    *n = nwarnings;
    return (const char *const *)warnings;
}

void log_file_line(const char *line)
{
    if (log_fp)
        fprintf(log_fp, "%s\n", line);
}

void log_progress_off(void)
{
    progress_off = true;
}

void log_progress_step(const char *what, size_t k, size_t n, const char *item)
{
    if (console_off || progress_off || !isatty(STDERR_FILENO))
        return;
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "\r\033[Kknit: %s %zu/%zu %s", what, k, n, item);
    progress_open = true;
    if (k == n) {
        fputs("\r\033[K", stderr);
        progress_open = false;
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void log_progress(const char *fmt, ...)
{
    if (console_off || progress_off || !isatty(STDERR_FILENO))
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&log_lock);
    if (progress_open)
        fputs("\r\033[K", stderr);
    progress_open = false;
    fputs("knit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
    va_end(ap);
}
