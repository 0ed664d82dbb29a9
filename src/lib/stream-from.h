/* stream-from.h -- where a replay from a stream starts ("from" of a
 * subscribe) and the RFC 3339 times it compares. Pure: no I/O. */
#ifndef WARREN_STREAM_FROM_H
#define WARREN_STREAM_FROM_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

enum stream_from_kind {
	STREAM_FROM_FIRST,  /* the oldest message the stream still keeps */
	STREAM_FROM_LAST,   /* the last chunk written, then what follows */
	STREAM_FROM_NEXT,   /* only what is published from now on */
	STREAM_FROM_OFFSET, /* this offset (or the first kept after it) */
	STREAM_FROM_TIME    /* messages published at or after this time */
};

struct stream_from {
	enum stream_from_kind kind;
	uint64_t	      offset;  /* STREAM_FROM_OFFSET */
	int64_t		      time_ms; /* STREAM_FROM_TIME, Unix ms */
};

/* The largest offset a JSON number carries exactly (2^53 - 1). */
#define STREAM_FROM_MAX_OFFSET 9007199254740991ULL

/*
 * Read a "from" value: "first", "last", "next", an RFC 3339 date-time with
 * an offset, or a non-negative integer offset. Return 0, or -1 with
 * *message (the caller frees it) saying what is accepted.
 */
int stream_from_parse(const cJSON *v, struct stream_from *, char **message);

/* Read an RFC 3339 date-time with Z or +-HH:MM into Unix milliseconds
 * (fractions past the millisecond are cut). Return 0, or -1. */
int stream_from_time(const char *s, int64_t *ms);

#endif
