/* bench.h -- what warren-bench and raw-publish share: the event body, a clock. */
#ifndef WARREN_BENCH_H
#define WARREN_BENCH_H

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Bytes in every event body: the data object warrend forwards unchanged. */
#define BENCH_BODY_LEN	300

/* Large enough for one body and its NUL. */
#define BENCH_BODY_MAX	(BENCH_BODY_LEN + 64)

/* Write event n's body to buf; return its length, BENCH_BODY_LEN as a rule. */
static inline size_t
bench_body(char *buf, size_t size, unsigned long n)
{
	static const char	 tail[] = "\",\"accessed_at\":\"2026-11-27T05:18:40Z\""
	    ",\"user_agent\":\"bench/1.0\"}";
	static const char	 fill[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t			 len, pad, i;
	int			 n0;

	n0 = snprintf(buf, size, "{\"resource_id\":\"r-%06lu\","
	    "\"resource_name\":\"", n);
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
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

#endif
