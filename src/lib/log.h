/* log.h -- one line per event on stderr, journal-aware. */
#ifndef WARREN_LOG_H
#define WARREN_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* Copy src into dst (len bytes, terminated) with control characters and
 * bytes that are not UTF-8 escaped (\\n, \\xNN); every line is written so. */
void log_escape(char *dst, size_t len, const char *src);
void log_init(const char *progname, int debug);
void log_set_debug(int);
void log_set_tool(int);
void log_warn(const char *, ...) LOG_FMT(1, 2); /* adds strerror */
void log_warnx(const char *, ...) LOG_FMT(1, 2);
void log_info(const char *, ...) LOG_FMT(1, 2);
void log_debug(const char *, ...) LOG_FMT(1, 2);
void fatal(const char *, ...) LOG_FMT(1, 2) __attribute__((noreturn));
void fatalx(const char *, ...) LOG_FMT(1, 2) __attribute__((noreturn));

#endif
