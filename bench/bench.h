/* bench.h -- what the bench programs share: the event body, the clocks,
 * option numbers, the socket connection and the consumers' tally of rate
 * and latency. */
#ifndef WARREN_BENCH_H
#define WARREN_BENCH_H

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Read a number from 1 to max for option c, or exit. */
static inline unsigned long
bench_number(int c, const char *s, unsigned long max)
{
	char	     *end;
	unsigned long v;

	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v == 0 || v > max)
		errx(2, "-%c: bad number: %s", c, s);
	return (v);
}

/* Connect to warrend's socket; return a nonblocking fd, or exit. */
static inline int
bench_connect(const char *path)
{
	struct sockaddr_un sun;
	int		   fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		errx(1, "%s: socket path too long", path);
	strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		err(1, "connect: %s", path);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		err(1, "fcntl");
	return (fd);
}

/*
 * Read from fd until it would block, handing each whole line to fn (without
 * its newline) and keeping a partial one in buf (*len bytes of size); after
 * the lines of each read, fn gets (NULL, 0).
 * Return 0 when the socket is drained, -1 when the peer closed it; exit on
 * an error or a line that does not fit.
 */
static inline int
bench_read_lines(int fd, char *buf, size_t *len, size_t size,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	char   *p, *nl, *end;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + *len, size - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n == -1)
			err(1, "read");
		if (n == 0)
			return (-1);
		end = buf + *len + n;
		for (p = buf; (nl = memchr(p, '\n', end - p)) != NULL;
		     p = nl + 1)
			fn(arg, p, nl - p);
		fn(arg, NULL, 0);
		*len = end - p;
		memmove(buf, p, *len);
		if (*len == size)
			errx(1, "line longer than %zu bytes", size);
	}
}

/* Bytes in every event body: the data object warrend forwards unchanged. */
#define BENCH_BODY_LEN 300

/* Large enough for one body and its NUL. */
#define BENCH_BODY_MAX (BENCH_BODY_LEN + 64)

/*
 * Write event n's body to buf; return its length, BENCH_BODY_LEN as a rule.
 * A sent_ns other than 0 goes first in the body as "sent_ns", the time of
 * sending that consumers measure their latency from.
 */
static inline size_t
bench_body(char *buf, size_t size, unsigned long n, uint64_t sent_ns)
{
	static const char tail[] = "\",\"accessed_at\":\"2026-11-27T05:18:40Z\""
				   ",\"user_agent\":\"bench/1.0\"}";
	static const char fill[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t		  len, pad, i;
	int		  n0;

	if (sent_ns != 0)
		n0 = snprintf(buf, size,
		    "{\"sent_ns\":%llu,\"resource_id\":"
		    "\"r-%06lu\",\"resource_name\":\"",
		    (unsigned long long)sent_ns, n);
	else
		n0 = snprintf(buf, size,
		    "{\"resource_id\":\"r-%06lu\","
		    "\"resource_name\":\"",
		    n);
	if (n0 < 0 || (size_t)n0 + sizeof tail + 1 > size)
		return (0);
	len = n0;
	pad = 0;
	if (len + sizeof tail - 1 < BENCH_BODY_LEN)
		pad = BENCH_BODY_LEN - len - (sizeof tail - 1);
	if (len + pad + sizeof tail > size)
		pad = size - len - sizeof tail;
	for (i = 0; i < pad; i++)
		buf[len++] = fill[i % (sizeof fill - 1)];
	memcpy(buf + len, tail, sizeof tail);
	return (len + sizeof tail - 1);
}

/* Seconds on the monotonic clock. */
static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Nanoseconds on the real-time clock, which every process here shares. */
static inline uint64_t
bench_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

/* What a consumer saw: how many deliveries, when, and how late. */
struct bench_tally {
	unsigned long received;
	unsigned long untimed; /* deliveries with no send time */
	unsigned long nlat;
	unsigned long cap;
	uint64_t     *lat;   /* ns from publish to receipt */
	double	      first; /* bench_now() of the first */
	double	      last;  /* and of the latest */
};

/* Make room for the latencies of up to cap deliveries. */
static inline void
bench_tally_init(struct bench_tally *t, unsigned long cap)
{
	memset(t, 0, sizeof *t);
	if ((t->lat = calloc(cap, sizeof *t->lat)) == NULL)
		err(1, "calloc");
	t->cap = cap;
}

/* Count a delivery received at now_ns (real time) that was sent at sent_ns
 * (0: unknown). */
static inline void
bench_tally_add(struct bench_tally *t, uint64_t now_ns, uint64_t sent_ns)
{
	t->last = bench_now();
	if (t->received++ == 0)
		t->first = t->last;
	if (sent_ns == 0)
		t->untimed++;
	else if (t->nlat < t->cap)
		t->lat[t->nlat++] = now_ns > sent_ns ? now_ns - sent_ns : 0;
}

/* Order two latencies. */
static inline int
bench_lat_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The p-th percentile latency in microseconds (nearest rank; sorted). */
static inline double
bench_tally_pct(const struct bench_tally *t, unsigned long p)
{
	unsigned long rank;

	if (t->nlat == 0)
		return (0);
	rank = (t->nlat * p + 99) / 100;
	return (t->lat[rank == 0 ? 0 : rank - 1] / 1e3);
}

/* Print the rate (first delivery to last) and the latency percentiles as
 * key=value pairs, with no newline: the caller adds its own. */
static inline void
bench_tally_print(struct bench_tally *t)
{
	double secs = t->last - t->first;

	qsort(t->lat, t->nlat, sizeof *t->lat, bench_lat_cmp);
	printf("events=%lu seconds=%.3f events_per_s=%.0f p50_us=%.0f "
	       "p99_us=%.0f max_us=%.0f untimed=%lu",
	    t->received, secs, secs > 0 ? t->received / secs : 0,
	    bench_tally_pct(t, 50), bench_tally_pct(t, 99),
	    bench_tally_pct(t, 100), t->untimed);
}

#endif
