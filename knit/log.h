/* log.h - messages for people, on stderr (stdout is kept for results and --json) */
#ifndef KNIT_LOG_H
#define KNIT_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_VERBOSE, LOG_DEBUG };

/* log_setup - LEVEL is the most detailed level shown; LOG_FILE (may be NULL) also gets
 * every message at that level; returns -1 (KERR_IO) if LOG_FILE cannot be opened */
int log_setup(enum log_level level, const char *log_file);
void log_close(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
