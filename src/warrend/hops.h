/* hops.h -- per-hop timing of publishes, for finding where latency goes:
 * off unless WARREND_HOPS=1 is in the environment at start, and then a
 * clock read per hop; off, each hop costs one test of a flag. */
#ifndef WARREN_HOPS_H
#define WARREN_HOPS_H

#include <stdint.h>

enum hop {
	HOP_READ,    /* the line was found in the input */
	HOP_VALID,   /* parsed and checked against its contract */
	HOP_SUBMIT,  /* handed to the publisher thread */
	HOP_TAKEN,   /* the publisher thread took it */
	HOP_SENT,    /* basic.publish returned */
	HOP_ACKED,   /* the broker's confirm was read */
	HOP_BACK,    /* the loop collected the outcome */
	HOP_WRITTEN, /* the reply's write to the client's socket starts */
	HOP_N
};

/* Set once at start, before any thread: read-only afterwards. */
extern int hops_on;

/* Read WARREND_HOPS from the environment (before threads start). */
void hops_init(void);
/* Nanoseconds on the monotonic clock. */
uint64_t hops_now(void);
/* The functions behind the HOPS_ macros below, which call them only
 * when timing is on: note a hop that comes before the job exists; copy
 * those into a new job's stamps and stamp SUBMIT; keep the stamps of a
 * job whose reply is queued; stamp WRITTEN on those kept and count them
 * (all on the loop). */
void hops_mark(enum hop);
void hops_start(uint64_t *stamps);
void hops_answered(const uint64_t *stamps);
void hops_written(void);

/* Make the call if timing is on. */
#define HOPS_CALL(call) \
	do { \
		if (hops_on) \
			call; \
	} while (0)
/* Log the percentiles of every hop (at exit). */
void hops_report(void);

/* Stamp hop h in stamps if timing is on. */
#define HOPS_STAMP(stamps, h) \
	do { \
		if (hops_on) \
			(stamps)[h] = hops_now(); \
	} while (0)

#endif
