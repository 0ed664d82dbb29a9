/* message.c -- what goes on the wire with each event: the properties and
 * headers of broker.wire_format, built in one place for the publisher
 * thread (SPEC "What goes to RabbitMQ" is the default format). */
#include <string.h>

#include "message.h"
#include "publish-partition.h"
#include "trace.h"
#include "util.h"

_Static_assert(MESSAGE_HEADERS_MAX >= 5 + TRACE_HEADERS + 1,
    "room for the CloudEvents, trace and partition key headers");

/* Append a string header to m's table. */
static void
message_header(struct message *m, const char *key, const char *value)
{
	amqp_table_entry_t *e;

	e = &m->headers[m->props.headers.num_entries++];
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
}

/* The headers of job j: the CloudEvents attributes (named as in their AMQP
 * binding) in the cloudevents format, none in the others. */
static void
message_headers(struct message *m, enum wire_format f, const char *service,
    const struct pub_job *j)
{
	m->props.headers.num_entries = 0;
	m->props.headers.entries = m->headers;
	if (wire_has_cloudevents(f)) {
		util_rfc3339(m->time, j->timestamp_ms / 1000,
		    (int)(j->timestamp_ms % 1000));
		message_header(m, "cloudEvents:specversion", "1.0");
		message_header(m, "cloudEvents:id", j->message_id);
		message_header(m, "cloudEvents:source", service);
		message_header(m, "cloudEvents:type", j->type);
		message_header(m, "cloudEvents:time", m->time);
	}
	/* A client's trace context goes out in every format. */
	m->props.headers.num_entries += (int)trace_headers(j,
	    m->headers + m->props.headers.num_entries);
	/* So does the partition key: the hash exchange routes by it. */
	m->props.headers.num_entries += publish_partition_header(j->type,
	    j->body, j->bodylen, m->headers + m->props.headers.num_entries,
	    m->pkey, sizeof m->pkey);
	if (m->props.headers.num_entries != 0)
		m->props._flags |= AMQP_BASIC_HEADERS_FLAG;
}

/* Fill m with the properties and headers of job j in format f. */
void
message_build(struct message *m, enum wire_format f, const char *service,
    const struct pub_job *j)
{
	amqp_basic_properties_t *p = &m->props;

	memset(p, 0, sizeof *p);
	p->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
	p->content_type = amqp_cstring_bytes("application/json");
	p->delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p->message_id = amqp_cstring_bytes(j->message_id);
	if (wire_has_properties(f)) {
		p->_flags |= AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG |
		    AMQP_BASIC_APP_ID_FLAG;
		p->timestamp = (uint64_t)(j->timestamp_ms / 1000);
		p->type = amqp_cstring_bytes(j->type);
		p->app_id = amqp_cstring_bytes(service);
	}
	message_headers(m, f, service, j);
}
