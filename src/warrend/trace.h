/* trace.h -- W3C trace context on the way through warrend: on a publish
 * job, in the message headers (as the CloudEvents distributed-tracing
 * extension names them in the AMQP binding) and back out of a delivery. */
#ifndef WARREN_TRACE_H
#define WARREN_TRACE_H

#include <amqp.h>
#include <stddef.h>

struct conf;
struct pub_job;

#define TRACE_HEADERS 2 /* the most trace_headers adds */
#define TRACE_HEADER_PARENT "cloudEvents:traceparent"
#define TRACE_HEADER_STATE "cloudEvents:tracestate"

/* Give j a trace context (tp may be NULL: none; ts NULL or empty: no
 * tracestate), replacing any it had. */
void trace_job_set(struct pub_job *j, const char *tp, const char *ts);

/* Give a new job the client's trace context, or start a trace when
 * the client sent none and cf's trace.start says so. */
void trace_job_begin(struct pub_job *j, const char *tp, const char *ts,
    const struct conf *cf);

/* Fill h with j's trace headers; return how many (0 to TRACE_HEADERS).
 * They point into j. */
size_t trace_headers(const struct pub_job *j, amqp_table_entry_t *h);

/* The trace context a delivered message carries, each NULL when absent;
 * a traceparent that is not valid W3C syntax is dropped and its
 * tracestate with it; a bad tracestate alone is dropped. The caller
 * frees both. */
void trace_from_headers(const amqp_table_t *headers, char **tp, char **ts);

#endif
