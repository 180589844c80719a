/* log.h - messages for people, on stderr (stdout is kept for results and --json) */
#ifndef KNIT_LOG_H
#define KNIT_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_VERBOSE, LOG_DEBUG };

/* log_setup - LEVEL is the most detailed level shown; QUIET turns console output off (as
 * the original knit's -q) while LOG_FILE (may be NULL) still gets every message at LEVEL.
 * Returns -1 (KERR_IO) if LOG_FILE cannot be opened. */
int log_setup(enum log_level level, bool quiet, const char *log_file);
void log_close(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* log_progress - a progress line for long steps (packing, extracting): shown only when
 * stderr is a terminal and -q is off; never in the log file */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_progress_step - "WHAT K/N ITEM" on one terminal line that the next step overwrites
 * and K == N clears (per application, per file count); same conditions as log_progress */
void log_progress_step(const char *what, size_t k, size_t n, const char *item);
/* log_progress_off - no progress at all (--json: stderr stays for messages only) */
void log_progress_off(void);

/* log_warnings - every warning logged so far (for the --json report), in order; the
 * strings stay valid until log_close */
const char *const *log_warnings(size_t *n);
/* log_file_line - write LINE (plus a newline) to the log file only */
void log_file_line(const char *line);

#endif
