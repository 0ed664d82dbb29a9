/* lograte.c -- once when it starts, a count every few seconds, once when
 * it ends: how a repeated condition is logged. */
#include "lograte.h"

/* n more occurrences: the start, a count that is due, or nothing. */
enum lograte_line
lograte_hit(struct lograte *lr, uint64_t now, uint64_t n, uint64_t *count)
{
	if (!lr->on) {
		lr->on = 1;
		lr->started = lr->last = now;
		lr->pending = n > 0 ? n - 1 : 0;
		lr->total = n;
		return (LOGRATE_FIRST);
	}
	lr->pending += n;
	lr->total += n;
	return (lograte_tick(lr, now, count));
}

/* A count of what happened since the last line, once the interval is up. */
enum lograte_line
lograte_tick(struct lograte *lr, uint64_t now, uint64_t *count)
{
	if (!lr->on || lr->pending == 0 || now - lr->last < LOGRATE_INTERVAL_MS)
		return (LOGRATE_QUIET);
	*count = lr->pending;
	lr->pending = 0;
	lr->last = now;
	return (LOGRATE_COUNT);
}

/* The condition ended: report its total and length, if it was on. */
int
lograte_end(struct lograte *lr, uint64_t now, uint64_t *total, uint64_t *ms)
{
	if (!lr->on)
		return (0);
	*total = lr->total;
	*ms = now - lr->started;
	lr->on = 0;
	lr->pending = lr->total = 0;
	return (1);
}
