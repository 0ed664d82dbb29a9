/* traceparent.h -- W3C Trace Context (level 1): the syntax of the
 * traceparent and tracestate headers, and new trace ids. Pure: no I/O but
 * the kernel's random generator. */
#ifndef WARREN_TRACEPARENT_H
#define WARREN_TRACEPARENT_H

#include <stddef.h>

/* A version 00 traceparent is 55 characters; a later version may add
 * more after a '-', up to this bound. */
#define TRACEPARENT_LEN 55
#define TRACEPARENT_MAX 255
/* tracestate: at most this many characters and list members. */
#define TRACESTATE_MAX 512
#define TRACESTATE_MEMBERS 32

/* Check a traceparent; -1 with *cause (caller frees) saying what is
 * wrong. */
int traceparent_check(const char *s, char **cause);

/* Check a tracestate (an empty one is valid); -1 with *cause. */
int tracestate_check(const char *s, char **cause);

/* Format a version 00 traceparent from 16 bytes of trace-id and 8 of
 * parent-id; 0, or -1 when either is all zero (not a valid id). */
int traceparent_format(char out[TRACEPARENT_LEN + 1],
    const unsigned char ids[24], int sampled);

/* Start a new trace: random ids from getrandom, version 00. */
void traceparent_new(char out[TRACEPARENT_LEN + 1], int sampled);

#endif
