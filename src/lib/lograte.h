/* lograte.h -- a condition that repeats (a full disk, slow confirms,
 * nacks) is logged once when it starts, then as a count at most every
 * LOGRATE_INTERVAL_MS, and once when it ends. Pure: the caller passes the
 * time and writes the lines; this only says which line is due. */
#ifndef WARREN_LOGRATE_H
#define WARREN_LOGRATE_H

#include <stdint.h>

#define LOGRATE_INTERVAL_MS 5000

struct lograte {
	int	 on;	  /* the condition holds */
	uint64_t last;	  /* when a line was last due */
	uint64_t pending; /* occurrences not yet in a line */
	uint64_t total;	  /* occurrences since it started */
	uint64_t started;
};

enum lograte_line {
	LOGRATE_QUIET, /* nothing to log now */
	LOGRATE_FIRST, /* it starts: log it in full */
	LOGRATE_COUNT, /* log how often it happened since */
};

/* n more occurrences at now (ms): which line is due; for LOGRATE_COUNT,
 * *count is the occurrences since the last line. */
enum lograte_line lograte_hit(struct lograte *, uint64_t now, uint64_t n,
    uint64_t *count);
/* No occurrence, but time passes: LOGRATE_COUNT when occurrences wait to
 * be counted and the interval is over. */
enum lograte_line lograte_tick(struct lograte *, uint64_t now, uint64_t *count);
/* The condition is over: 1 (with the episode's total occurrences and its
 * length in ms) if it was on, so the caller logs the end; 0 otherwise. */
int lograte_end(struct lograte *, uint64_t now, uint64_t *total, uint64_t *ms);

#endif
