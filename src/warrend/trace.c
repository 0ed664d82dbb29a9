/* trace.c -- W3C trace context on the way through warrend: on a publish
 * job, in the message headers, and back out of a delivery. The syntax
 * is src/lib/traceparent.c's. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "publisher.h"
#include "trace.h"
#include "traceparent.h"
#include "util.h"

/* Give j a trace context. */
void
trace_job_set(struct pub_job *j, const char *tp, const char *ts)
{
	free(j->traceparent);
	free(j->tracestate);
	j->traceparent = tp != NULL ? xstrdup(tp) : NULL;
	j->tracestate = tp != NULL && ts != NULL && *ts != '\0' ? xstrdup(ts) :
								  NULL;
}

/* Give a new job the client's trace context, or start a trace. */
void
trace_job_begin(struct pub_job *j, const char *tp, const char *ts,
    const struct conf *cf)
{
	char new[TRACEPARENT_LEN + 1];

	if (tp != NULL)
		trace_job_set(j, tp, ts);
	else if (cf->trace_start) {
		traceparent_new(new, cf->trace_sampled);
		trace_job_set(j, new, NULL);
	}
}

/* One string header. */
static void
trace_header(amqp_table_entry_t *h, const char *key, const char *value)
{
	h->key = amqp_cstring_bytes(key);
	h->value.kind = AMQP_FIELD_KIND_UTF8;
	h->value.value.bytes = amqp_cstring_bytes(value);
}

/* Fill h with j's trace headers. */
size_t
trace_headers(const struct pub_job *j, amqp_table_entry_t *h)
{
	size_t n = 0;

	if (j->traceparent == NULL)
		return (0);
	trace_header(&h[n++], TRACE_HEADER_PARENT, j->traceparent);
	if (j->tracestate != NULL)
		trace_header(&h[n++], TRACE_HEADER_STATE, j->tracestate);
	return (n);
}

/* The string value of header key, copied, or NULL if there is none (or
 * it is not a string, or holds a NUL). */
static char *
trace_find(const amqp_table_t *t, const char *key)
{
	const amqp_table_entry_t *e;
	size_t			  klen = strlen(key);
	int			  i;

	for (i = 0; i < t->num_entries; i++) {
		e = &t->entries[i];
		if (e->key.len != klen || memcmp(e->key.bytes, key, klen) != 0)
			continue;
		if ((e->value.kind != AMQP_FIELD_KIND_UTF8 &&
			e->value.kind != AMQP_FIELD_KIND_BYTES) ||
		    (e->value.value.bytes.len > 0 &&
			memchr(e->value.value.bytes.bytes, '\0',
			    e->value.value.bytes.len) != NULL))
			return (NULL);
		return (xstrndup(e->value.value.bytes.bytes,
		    e->value.value.bytes.len));
	}
	return (NULL);
}

/* The trace context a delivered message carries. */
void
trace_from_headers(const amqp_table_t *headers, char **tp, char **ts)
{
	char *cause = NULL;

	*tp = *ts = NULL;
	if ((*tp = trace_find(headers, TRACE_HEADER_PARENT)) == NULL)
		return;
	if (traceparent_check(*tp, &cause) != 0) {
		free(cause);
		free(*tp);
		*tp = NULL;
		return;
	}
	if ((*ts = trace_find(headers, TRACE_HEADER_STATE)) != NULL &&
	    (*ts[0] == '\0' || tracestate_check(*ts, &cause) != 0)) {
		free(cause);
		free(*ts);
		*ts = NULL;
	}
}
