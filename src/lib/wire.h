/* wire.h -- broker.wire_format: which AMQP properties and headers warrend
 * puts on every message it publishes. */
#ifndef WARREN_WIRE_H
#define WARREN_WIRE_H

/*
 * The formats, each a superset of the one below it. Every one keeps
 * content_type, delivery_mode 2, message_id (consumers deduplicate by it
 * after a spool replay or a reconnect, and warrend matches a basic.return
 * to its event by it) and mandatory (warrend's unroutable detection).
 */
enum wire_format {
	WIRE_CLOUDEVENTS = 0, /* SPEC's format, the default: + CE headers */
	WIRE_STANDARD,	      /* + timestamp, type, app_id */
	WIRE_LEAN,	      /* message_id and mandatory only */
};

#define WIRE_DEFAULT WIRE_CLOUDEVENTS

/* Set *out to the format named name; return 0, or -1 for no such name. */
int wire_format_parse(const char *name, enum wire_format *out);

/* The name of a format, as broker.wire_format spells it. */
const char *wire_format_name(enum wire_format);

/* Does the format carry timestamp, type and app_id? */
int wire_has_properties(enum wire_format);

/* Does the format carry the cloudEvents:* headers? */
int wire_has_cloudevents(enum wire_format);

#endif
