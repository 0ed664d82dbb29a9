/* stats.c -- every counter warrend keeps, with one owner: the stats op
 * and /metrics both read them here. Loop thread only. */
#include <string.h>

#include "proto.h"
#include "stats.h"

/* Confirm latency buckets, in milliseconds. */
static const uint64_t stats_le_ms[] = { 1, 2, 5, 10, 25, 50, 100, 250, 500,
	1000, 2500, 5000, 10000 };
#define STATS_NBUCKETS (sizeof stats_le_ms / sizeof stats_le_ms[0])
#define STATS_NCODES 32 /* room for proto_error_codes */

static uint64_t stats_counters[STATS_NCOUNTERS];
static uint64_t stats_errors_total;
static uint64_t stats_by_code[STATS_NCODES];
static uint64_t stats_buckets[STATS_NBUCKETS];
static uint64_t stats_latency_count;
static uint64_t stats_latency_sum_ms;

/* One more of counter k. */
void
stats_count(enum stats_counter k)
{
	stats_counters[k]++;
}

/* The value of counter k. */
uint64_t
stats_get(enum stats_counter k)
{
	return (stats_counters[k]);
}

/* Count code by its index in proto_error_codes (an unknown code is a
 * broken invariant only metrics would notice: it is not counted). */
static void
stats_count_code(const char *code)
{
	size_t i;

	for (i = 0; i < STATS_NCODES && proto_error_codes[i] != NULL; i++) {
		if (strcmp(proto_error_codes[i], code) == 0) {
			stats_by_code[i]++;
			return;
		}
	}
}

/* An error reply with code is being sent. */
void
stats_error(const char *code)
{
	stats_errors_total++;
	stats_count_code(code);
}

/* A connection refused beyond max_clients. */
void
stats_refused(void)
{
	stats_counters[STATS_REFUSED]++;
	stats_count_code("too_many_clients");
}

/* Error replies of every code. */
uint64_t
stats_errors(void)
{
	return (stats_errors_total);
}

/* Error replies (and refusals) of code proto_error_codes[i]. */
uint64_t
stats_errors_by_code(size_t i)
{
	return (i < STATS_NCODES ? stats_by_code[i] : 0);
}

/* A publish was confirmed ms after it was accepted. */
void
stats_confirm_latency(uint64_t ms)
{
	size_t i;

	for (i = 0; i < STATS_NBUCKETS; i++) {
		if (ms <= stats_le_ms[i])
			stats_buckets[i]++;
	}
	stats_latency_count++;
	stats_latency_sum_ms += ms;
}

/* The confirm latency histogram. */
void
stats_get_latency(struct stats_latency *l)
{
	l->le_ms = stats_le_ms;
	l->buckets = stats_buckets;
	l->n = STATS_NBUCKETS;
	l->count = stats_latency_count;
	l->sum_ms = stats_latency_sum_ms;
}
