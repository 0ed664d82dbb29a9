/* util.h -- allocation that cannot fail quietly, small string helpers. */
#ifndef WARREN_UTIL_H
#define WARREN_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));
int xvasprintf(char **, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

/* Wait at most timeout_ms for thread t to exit; -1 if it has not. */
int util_join(pthread_t t, int timeout_ms);

/* Milliseconds on the monotonic clock. */
uint64_t util_now_ms(void);

/* Milliseconds since the epoch on the wall clock (event time stamps). */
int64_t util_wall_ms(void);

/* Fill buf with len bytes from the kernel's generator (fatal if it
 * fails: only a broken kernel does). */
void util_random(void *buf, size_t len);

/* FNV-1a, 64 bits, of len bytes at p: the hash of short names and ids for
 * the hash tables (contracts, fields, JSON keys, acked ids). */
uint64_t util_fnv1a(const void *p, size_t len);

/* min_ms doubled n times, at most max_ms, jittered: half fixed, half
 * random. */
uint64_t util_backoff_ms(uint64_t min_ms, uint64_t max_ms, int n);

/* strerror that any thread may call: the text lives in a per-thread
 * buffer, valid until that thread's next call. */
const char *util_strerror(int error);

/* Write a new random (version 4) UUID, 36 characters and a NUL, to out. */
void util_uuid(char out[37]);

/* Format t (seconds) and ms as RFC 3339 UTC, "2026-11-27T05:18:40.123Z". */
void util_rfc3339(char out[64], int64_t t, int ms);

/* "s" unless n is 1: "%d client%s", n, PLURAL(n). */
#define PLURAL(n) ((n) == 1 ? "" : "s")

#endif
