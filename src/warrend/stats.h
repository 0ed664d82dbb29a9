/* stats.h -- every counter warrend keeps, with one owner: the stats op
 * (request.c) and /metrics (metrics.c) both read them here. Loop thread
 * only; the AMQP threads' own figures come from their get_stats calls. */
#ifndef WARREN_STATS_H
#define WARREN_STATS_H

#include <stddef.h>
#include <stdint.h>

enum stats_counter {
	STATS_ACCEPTED,	   /* publishes handed to the publisher */
	STATS_CONFIRMED,   /* answered ok after the broker's confirm */
	STATS_UNROUTABLE,  /* confirmed but returned */
	STATS_NACKED,	   /* refused by the broker */
	STATS_TIMED_OUT,   /* not confirmed within publish_timeout_ms */
	STATS_SPOOLED,	   /* answered ok, spooled */
	STATS_CONNECTIONS, /* local connections taken */
	STATS_REFUSED,	   /* connections beyond max_clients */
	STATS_DELIVERIES,  /* messages handed to local subscribers */
	STATS_ACKS,
	STATS_NACKS,
	STATS_DEAD_LETTERED, /* consumed bodies that broke their contract */
	STATS_REQUEUED,	     /* given back unsettled */
	STATS_NCOUNTERS
};

/* Confirm latency buckets: upper bounds in ms and their counts. */
struct stats_latency {
	const uint64_t *le_ms;
	const uint64_t *buckets; /* cumulative, as Prometheus wants */
	size_t		n;
	uint64_t	count;
	uint64_t	sum_ms;
};

/* One more of counter k; its value. */
void	 stats_count(enum stats_counter k);
uint64_t stats_get(enum stats_counter k);
/* An error reply with code is being sent: counted in errors and by code. */
void stats_error(const char *code);
/* A connection refused beyond max_clients: refused and its code, but
 * not errors (no request was answered). */
void stats_refused(void);
/* Error replies of every code; of code proto_error_codes[i]. */
uint64_t stats_errors(void);
uint64_t stats_errors_by_code(size_t i);
/* A publish was confirmed ms after it was accepted. */
void stats_confirm_latency(uint64_t ms);
void stats_get_latency(struct stats_latency *);

#endif
