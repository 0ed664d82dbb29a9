/* hops.c -- per-hop timing of publishes: stamps in each job, counted on
 * the loop when its reply is written, percentiles logged at exit. Loop
 * thread only, except hops_now (the publisher stamps its own hops). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hops.h"
#include "log.h"
#include "util.h"

#define HOPS_MAX 200000 /* samples kept per hop; later ones are not */
#define HOPS_BATCH 4096 /* answered, not yet written; more are not kept */

int hops_on;

static uint64_t	 hops_early[HOP_N]; /* READ and VALID of the current line */
static uint64_t *hops_samples[HOP_N];
static size_t	 hops_n;
static uint64_t	 hops_batch[HOPS_BATCH][HOP_N];
static size_t	 hops_nbatch;

static const char *const hops_name[HOP_N] = { "read", "validate", "submit",
	"take", "publish", "confirm", "hand-back", "write" };

/* Read WARREND_HOPS from the environment. */
void
hops_init(void)
{
	const char *v = getenv("WARREND_HOPS");
	int	    i;

	if (v == NULL || strcmp(v, "1") != 0)
		return;
	for (i = 1; i < HOP_N; i++)
		hops_samples[i] = xcalloc(HOPS_MAX, sizeof *hops_samples[i]);
	hops_on = 1;
}

/* Nanoseconds on the monotonic clock. */
uint64_t
hops_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* Note the time of a hop that comes before the job exists. */
void
hops_mark(enum hop h)
{
	hops_early[h] = hops_now();
}

/* Copy the early hops into a new job's stamps and stamp SUBMIT. */
void
hops_start(uint64_t *stamps)
{
	memcpy(stamps, hops_early, sizeof hops_early);
	stamps[HOP_SUBMIT] = hops_now();
}

/* Count a job's stamps: the time from each hop to the next. A job that
 * skipped a hop (spooled, cancelled, a projection) is not counted. */
static void
hops_count(const uint64_t *stamps)
{
	int i;

	if (hops_n == HOPS_MAX)
		return;
	for (i = 0; i < HOP_N; i++) {
		if (stamps[i] == 0 || (i > 0 && stamps[i] < stamps[i - 1]))
			return;
	}
	for (i = 1; i < HOP_N; i++)
		hops_samples[i][hops_n] = stamps[i] - stamps[i - 1];
	hops_n++;
}

/* A job's reply is queued: keep its stamps until hops_written. */
void
hops_answered(const uint64_t *stamps)
{
	if (hops_nbatch < HOPS_BATCH)
		memcpy(hops_batch[hops_nbatch++], stamps, sizeof hops_batch[0]);
}

/* The replies queued so far are written: stamp WRITTEN, count them. */
void
hops_written(void)
{
	uint64_t now;
	size_t	 i;

	if (hops_nbatch == 0)
		return;
	now = hops_now();
	for (i = 0; i < hops_nbatch; i++) {
		hops_batch[i][HOP_WRITTEN] = now;
		hops_count(hops_batch[i]);
	}
	hops_nbatch = 0;
}

/* Order two samples. */
static int
hops_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The per-mille pm of the sorted samples of hop h, in microseconds. */
static double
hops_pct(int h, size_t pm)
{
	size_t rank = (hops_n * pm + 999) / 1000;

	return (hops_samples[h][rank == 0 ? 0 : rank - 1] / 1e3);
}

/* Log each hop's p50, p99 and p99.9 in microseconds, then free. */
void
hops_report(void)
{
	int i;

	if (!hops_on)
		return;
	for (i = 1; i < HOP_N && hops_n > 0; i++) {
		qsort(hops_samples[i], hops_n, sizeof *hops_samples[i],
		    hops_cmp);
		log_info("hops: %s -> %s: p50 %.1f us, p99 %.1f us, "
			 "p99.9 %.1f us (%zu publishes)",
		    hops_name[i - 1], hops_name[i], hops_pct(i, 500),
		    hops_pct(i, 990), hops_pct(i, 999), hops_n);
	}
	for (i = 1; i < HOP_N; i++)
		free(hops_samples[i]);
}
