/* util.c -- allocation that cannot fail quietly, small string helpers. */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

/* Allocate or die: running out of memory is a broken invariant here. */
void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatal("malloc");
	return (p);
}

/* Allocate zeroed memory or die. */
void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("calloc");
	return (p);
}

/* Resize an array, checking n * size for overflow, or die. */
void *
xreallocarray(void *old, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", n, size);
	if ((p = realloc(old, n * size == 0 ? 1 : n * size)) == NULL)
		fatal("realloc");
	return (p);
}

/* Duplicate a string or die. */
char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return (p);
}

/* Duplicate at most n bytes of a string or die. */
char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return (p);
}

/* Print into a new string or die. */
int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int n;

	if ((n = vasprintf(ret, fmt, ap)) == -1)
		fatal("vasprintf");
	return (n);
}

/* Print into a new string or die. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return (n);
}

/* Wait at most timeout_ms for thread t to exit; -1 if it has not. */
int
util_join(pthread_t t, int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return (pthread_timedjoin_np(t, NULL, &ts) == 0 ? 0 : -1);
}

/* strerror for any thread: strerror() may share one buffer between
 * threads, strerror_r (the GNU one, _GNU_SOURCE) fills ours. */
const char *
util_strerror(int error)
{
	static __thread char buf[128];

	return (strerror_r(error, buf, sizeof buf));
}

/* Milliseconds since the epoch on the wall clock: what events are
 * stamped with. */
int64_t
util_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Milliseconds on the monotonic clock. */
uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* FNV-1a, 64 bits, of len bytes at p. */
uint64_t
util_fnv1a(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t	     h = 0xcbf29ce484222325ULL;
	size_t		     i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return (h);
}

/* A retry delay: min_ms doubled n times, at most max_ms, then half of it
 * fixed and half random, so that many retries do not come in step. */
uint64_t
util_backoff_ms(uint64_t min_ms, uint64_t max_ms, int n)
{
	uint64_t      delay = min_ms;
	unsigned char r[2];
	int	      i;

	for (i = 0; i < n && delay < max_ms; i++)
		delay *= 2;
	if (delay > max_ms)
		delay = max_ms;
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r[0] = r[1] = 0x80;
	return (delay / 2 + (delay / 2) * (uint64_t)(r[0] << 8 | r[1]) / 65535);
}

/* Fill buf from the kernel's generator; it only fails on a broken kernel. */
void
util_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t	       n;

	while (len > 0) {
		if ((n = getrandom(p, len, 0)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Write a new random (version 4) UUID; random bytes are fetched in blocks. */
void
util_uuid(char out[37])
{
	static __thread unsigned char pool[4096];
	static __thread size_t	      used = sizeof pool;
	static const char	      hex[] = "0123456789abcdef";
	unsigned char		      b[16];
	size_t			      i;
	char			     *o = out;

	if (used + sizeof b > sizeof pool) {
		util_random(pool, sizeof pool);
		used = 0;
	}
	memcpy(b, pool + used, sizeof b);
	memset(pool + used, 0, sizeof b);
	used += sizeof b;
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 0xf];
	}
	*o = '\0';
}

/* Format t and ms as RFC 3339 in UTC. */
void
util_rfc3339(char out[64], int64_t t, int ms)
{
	struct tm tm;
	time_t	  tt = (time_t)t;

	gmtime_r(&tt, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ms);
}
