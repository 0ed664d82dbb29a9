/* asyncapi.c -- the configured contracts as an AsyncAPI 3.0 document: the
 * broker, one channel per routing key on the exchange, each contract's
 * message with its payload's JSON Schema (schema.c) and the CloudEvents
 * headers warrend sets (SPEC "What goes to RabbitMQ"), and which of them
 * this service sends and receives. Pure: no I/O.
 *
 * Channels, messages and payload schemas are named after their contract;
 * the schemas of nested objects sit beside them in components.schemas. A
 * server is a broker URL without its user and password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asyncapi.h"
#include "partition.h"
#include "conf.h"
#include "contract.h"
#include "schema.h"
#include "util.h"

#define ASYNCAPI_VERSION "3.0.0"
#define ASYNCAPI_AMQP_BINDING "0.3.0"
#define ASYNCAPI_SCHEMAS "#/components/schemas/"

/* s as a URI path segment: unreserved characters as they are, the rest
 * percent-encoded. */
static char *
asyncapi_pct(const char *s)
{
	char *out, *p;

	out = p = xcalloc(3, strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			*p++ = *s;
		else {
			snprintf(p, 4, "%%%02X", (unsigned char)*s);
			p += 3;
		}
	}
	return (out);
}

/* A broker URL as a server: host and port, protocol and virtual host
 * (as the URL's path); never its user or password. */
static cJSON *
asyncapi_server(const struct url *u, size_t i, size_t n)
{
	cJSON *s;
	char  *v, *text;

	s = cJSON_CreateObject();
	if (strchr(u->host, ':') != NULL)
		xasprintf(&text, "[%s]:%d", u->host, u->port);
	else
		xasprintf(&text, "%s:%d", u->host, u->port);
	cJSON_AddStringToObject(s, "host", text);
	free(text);
	cJSON_AddStringToObject(s, "protocol", u->tls ? "amqps" : "amqp");
	cJSON_AddStringToObject(s, "protocolVersion", "0.9.1");
	v = asyncapi_pct(u->vhost);
	xasprintf(&text, "/%s", v);
	cJSON_AddStringToObject(s, "pathname", text);
	free(text);
	free(v);
	xasprintf(&text,
	    "RabbitMQ broker %zu of %zu, tried in turn "
	    "(failover).",
	    i + 1, n);
	cJSON_AddStringToObject(s, "description", text);
	free(text);
	return (s);
}

/* servers: one per broker URL, "broker1", "broker2", ... */
static cJSON *
asyncapi_servers(const struct conf *cf)
{
	cJSON *s;
	char   name[32];
	size_t i;

	s = cJSON_CreateObject();
	for (i = 0; i < cf->nurls; i++) {
		snprintf(name, sizeof name, "broker%zu", i + 1);
		cJSON_AddItemToObject(s, name,
		    asyncapi_server(&cf->urls[i], i, cf->nurls));
	}
	return (s);
}

/* Add {"$ref": prefix name} to parent as key (or to an array, key NULL). */
static void
asyncapi_ref(cJSON *parent, const char *key, const char *prefix,
    const char *name)
{
	cJSON *r;
	char  *ref;

	r = cJSON_CreateObject();
	xasprintf(&ref, "%s%s", prefix, name);
	cJSON_AddStringToObject(r, "$ref", ref);
	free(ref);
	if (key == NULL)
		cJSON_AddItemToArray(parent, r);
	else
		cJSON_AddItemToObject(parent, key, r);
}

/* Add a string array of n strings to obj as name. */
static void
asyncapi_strings(cJSON *obj, const char *name, char *const *v, size_t n)
{
	cJSON *a;
	size_t i;

	a = cJSON_AddArrayToObject(obj, name);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

/* The channel of a contract: its routing key on the exchange. */
static cJSON *
asyncapi_channel(const struct conf *cf, const struct contract *c,
    const char *vhost)
{
	cJSON *ch, *amqp, *x;

	ch = cJSON_CreateObject();
	cJSON_AddStringToObject(ch, "address", c->routing_key);
	cJSON_AddStringToObject(ch, "title", c->name);
	if (c->description != NULL)
		cJSON_AddStringToObject(ch, "description", c->description);
	asyncapi_ref(cJSON_AddObjectToObject(ch, "messages"), c->name,
	    "#/components/messages/", c->name);
	amqp = cJSON_AddObjectToObject(cJSON_AddObjectToObject(ch, "bindings"),
	    "amqp");
	cJSON_AddStringToObject(amqp, "is", "routingKey");
	x = cJSON_AddObjectToObject(amqp, "exchange");
	cJSON_AddStringToObject(x, "name", cf->exchange);
	cJSON_AddStringToObject(x, "type", "topic");
	cJSON_AddBoolToObject(x, "durable", 1);
	cJSON_AddBoolToObject(x, "autoDelete", 0);
	cJSON_AddStringToObject(x, "vhost", vhost);
	cJSON_AddStringToObject(amqp, "bindingVersion", ASYNCAPI_AMQP_BINDING);
	if (c->publisher != NULL)
		cJSON_AddStringToObject(ch, "x-warren-publisher", c->publisher);
	asyncapi_strings(ch, "x-warren-consumers", c->consumers, c->nconsumers);
	if (c->partition_key != NULL) {
		cJSON_AddStringToObject(ch, "x-warren-partition-key",
		    c->partition_key);
		cJSON_AddNumberToObject(ch, "x-warren-partitions",
		    (double)c->partitions);
	}
	if (c->stream != NULL)
		cJSON_AddItemToObject(ch, "x-warren-stream",
		    contract_stream_to_json(c->stream, cf->exchange, c->name));
	return (ch);
}

/* The stream channel of a contract that keeps one: the stream queue any
 * subscriber replays with "from". */
static cJSON *
asyncapi_stream_channel(const struct conf *cf, const struct contract *c,
    const char *vhost)
{
	cJSON *ch, *amqp, *q;
	char  *name, *text;

	name = contract_stream_queue(cf->exchange, c->name);
	ch = cJSON_CreateObject();
	cJSON_AddStringToObject(ch, "address", name);
	xasprintf(&text, "%s history", c->name);
	cJSON_AddStringToObject(ch, "title", text);
	free(text);
	cJSON_AddStringToObject(ch, "description",
	    "The events of the contract, kept in a stream queue for replay "
	    "(subscribe with \"from\").");
	asyncapi_ref(cJSON_AddObjectToObject(ch, "messages"), c->name,
	    "#/components/messages/", c->name);
	amqp = cJSON_AddObjectToObject(cJSON_AddObjectToObject(ch, "bindings"),
	    "amqp");
	cJSON_AddStringToObject(amqp, "is", "queue");
	q = cJSON_AddObjectToObject(amqp, "queue");
	cJSON_AddStringToObject(q, "name", name);
	cJSON_AddBoolToObject(q, "durable", 1);
	cJSON_AddBoolToObject(q, "exclusive", 0);
	cJSON_AddBoolToObject(q, "autoDelete", 0);
	cJSON_AddStringToObject(q, "vhost", vhost);
	cJSON_AddStringToObject(amqp, "bindingVersion", ASYNCAPI_AMQP_BINDING);
	cJSON_AddItemToObject(ch, "x-warren-stream",
	    contract_stream_to_json(c->stream, cf->exchange, c->name));
	free(name);
	return (ch);
}

/* Add a header of type string to the properties of a headers schema. */
static void
asyncapi_header(cJSON *props, const char *name, const char *konst,
    const char *format, const char *description)
{
	cJSON *h;

	h = cJSON_AddObjectToObject(props, name);
	cJSON_AddStringToObject(h, "type", "string");
	if (konst != NULL)
		cJSON_AddStringToObject(h, "const", konst);
	if (format != NULL)
		cJSON_AddStringToObject(h, "format", format);
	cJSON_AddStringToObject(h, "description", description);
}

/* The partition key header of a partitioned contract's messages. */
static void
asyncapi_partition_header(const struct contract *c, cJSON *h, cJSON *props)
{
	char *text;

	xasprintf(&text,
	    "The value of %s, the partition key: a string as it is, an "
	    "integer in decimal. The consuming service's consistent-hash "
	    "exchange hashes it to one of %lld partitions.",
	    c->partition_key, c->partitions);
	asyncapi_header(props, PARTITION_HEADER, NULL, NULL, text);
	free(text);
	cJSON_AddItemToArray(cJSON_GetObjectItem(h, "required"),
	    cJSON_CreateString(PARTITION_HEADER));
}

/* The AMQP headers warrend sets on a contract's messages: the CloudEvents
 * attributes, named as in the CloudEvents AMQP binding. */
static cJSON *
asyncapi_headers(const struct contract *c)
{
	static const char *const names[] = { "cloudEvents:specversion",
		"cloudEvents:id", "cloudEvents:source", "cloudEvents:type",
		"cloudEvents:time" };
	cJSON			*h, *props;

	h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "type", "object");
	props = cJSON_AddObjectToObject(h, "properties");
	asyncapi_header(props, names[0], "1.0", NULL, "CloudEvents version.");
	asyncapi_header(props, names[1], NULL, NULL,
	    "The message_id: the same id on a redelivery.");
	asyncapi_header(props, names[2], NULL, NULL,
	    "The service of the warrend that published it.");
	asyncapi_header(props, names[3], c->name, NULL,
	    "The event type, the contract's name.");
	asyncapi_header(props, names[4], NULL, "date-time",
	    "When warrend published it, RFC 3339, UTC.");
	asyncapi_strings(h, "required", (char *const *)names, 5);
	if (c->partition_key != NULL)
		asyncapi_partition_header(c, h, props);
	return (h);
}

/* The message of a contract: its payload schema, headers and AMQP
 * properties. */
static cJSON *
asyncapi_message(const struct contract *c)
{
	cJSON *m, *amqp;

	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "name", c->name);
	cJSON_AddStringToObject(m, "title", c->name);
	if (c->description != NULL)
		cJSON_AddStringToObject(m, "summary", c->description);
	cJSON_AddStringToObject(m, "description",
	    "Published persistent "
	    "(delivery_mode 2) with publisher confirms and mandatory set; "
	    "properties content_type application/json, message_id, "
	    "timestamp, type (the event type) and app_id (the publishing "
	    "service). The body is the event's data as the client sent it.");
	cJSON_AddStringToObject(m, "contentType", "application/json");
	cJSON_AddItemToObject(m, "headers", asyncapi_headers(c));
	asyncapi_ref(m, "payload", ASYNCAPI_SCHEMAS, c->name);
	amqp = cJSON_AddObjectToObject(cJSON_AddObjectToObject(m, "bindings"),
	    "amqp");
	cJSON_AddStringToObject(amqp, "messageType", c->name);
	cJSON_AddStringToObject(amqp, "bindingVersion", ASYNCAPI_AMQP_BINDING);
	return (m);
}

/* A message as broker.wire_format sends it: without the headers, and with
 * fewer properties, in the leaner formats. */
static cJSON *
asyncapi_wire(const struct conf *cf, cJSON *m)
{
	if (!wire_has_cloudevents(cf->wire_format))
		cJSON_DeleteItemFromObject(m, "headers");
	if (!wire_has_properties(cf->wire_format))
		cJSON_ReplaceItemInObject(m, "description",
		    cJSON_CreateString("Published persistent (delivery_mode 2) "
				       "with publisher confirms and mandatory "
				       "set; properties content_type "
				       "application/json and message_id. The "
				       "body is the event's data as the client "
				       "sent it."));
	return (m);
}

/* Does this service consume c's events? */
static int
asyncapi_consumes(const struct conf *cf, const struct contract *c)
{
	size_t i;

	for (i = 0; i < c->nconsumers; i++) {
		if (strcmp(c->consumers[i], cf->service) == 0)
			return (1);
	}
	return (0);
}

/* Does this service publish c's events? */
static int
asyncapi_publishes(const struct conf *cf, const struct contract *c)
{
	return (c->publisher != NULL && strcmp(c->publisher, cf->service) == 0);
}

/* The partitions a service consumes: its consistent-hash exchange and one
 * single-active-consumer quorum queue per partition. */
static void
asyncapi_partition_queues(const struct conf *cf, const struct contract *c,
    cJSON *op)
{
	cJSON	 *a;
	char	 *text;
	long long i;

	xasprintf(&text, "%s.%s.hash", cf->service, c->name);
	cJSON_AddStringToObject(op, "x-warren-partition-exchange", text);
	free(text);
	a = cJSON_AddArrayToObject(op, "x-warren-partition-queues");
	for (i = 0; i < c->partitions; i++) {
		xasprintf(&text, "%s.%s.p%lld", cf->service, c->name, i);
		cJSON_AddItemToArray(a, cJSON_CreateString(text));
		free(text);
	}
}

/* The operation by which this service sends (publishes) or receives
 * (consumes, from its own queue) a contract's events. */
static cJSON *
asyncapi_operation(const struct conf *cf, const struct contract *c, int send)
{
	cJSON *op, *amqp;
	char  *prefix, *text;

	op = cJSON_CreateObject();
	cJSON_AddStringToObject(op, "action", send ? "send" : "receive");
	asyncapi_ref(op, "channel", "#/channels/", c->name);
	xasprintf(&prefix, "#/channels/%s/messages/", c->name);
	asyncapi_ref(cJSON_AddArrayToObject(op, "messages"), NULL, prefix,
	    c->name);
	free(prefix);
	if (send)
		xasprintf(&text, "%s publishes %s.", cf->service, c->name);
	else
		xasprintf(&text, "%s consumes %s from its queue %s.%s.",
		    cf->service, c->name, cf->service, c->name);
	cJSON_AddStringToObject(op, "summary", text);
	free(text);
	amqp = cJSON_AddObjectToObject(cJSON_AddObjectToObject(op, "bindings"),
	    "amqp");
	if (send) {
		cJSON_AddNumberToObject(amqp, "deliveryMode", 2);
		cJSON_AddBoolToObject(amqp, "mandatory", !cf->no_mandatory);
		cJSON_AddBoolToObject(amqp, "timestamp",
		    wire_has_properties(cf->wire_format));
	} else
		cJSON_AddBoolToObject(amqp, "ack", 1);
	cJSON_AddStringToObject(amqp, "bindingVersion", ASYNCAPI_AMQP_BINDING);
	if (!send) {
		xasprintf(&text, "%s.%s", cf->service, c->name);
		cJSON_AddStringToObject(op, "x-warren-queue", text);
		free(text);
	}
	if (!send && c->partition_key != NULL)
		asyncapi_partition_queues(cf, c, op);
	if (!send && cf->dead_letter) {
		xasprintf(&text, "%s.%s.dead", cf->service, c->name);
		cJSON_AddStringToObject(op, "x-warren-dead-letter-queue", text);
		free(text);
	}
	return (op);
}

/* "A, B and C": the contracts this service sends (or receives); NULL if
 * none. */
static char *
asyncapi_names(const struct conf *cf, int send)
{
	const struct contract *c;
	char		      *s = NULL, *t;
	size_t		       i, n = 0, last = 0;

	for (i = 0; i < cf->contracts.n; i++) {
		c = cf->contracts.v[i];
		if (send ? asyncapi_publishes(cf, c) : asyncapi_consumes(cf, c))
			last = i, n++;
	}
	for (i = 0; i < cf->contracts.n; i++) {
		c = cf->contracts.v[i];
		if (!(send ? asyncapi_publishes(cf, c) :
			     asyncapi_consumes(cf, c)))
			continue;
		if (s == NULL)
			s = xstrdup(c->name);
		else {
			xasprintf(&t, "%s%s%s", s, i == last ? " and " : ", ",
			    c->name);
			free(s);
			s = t;
		}
	}
	return (n == 0 ? NULL : s);
}

/* info: the title, the version of warren that wrote it, and what the
 * document covers. */
static cJSON *
asyncapi_info(const struct conf *cf)
{
	cJSON *info;
	char  *title, *sends, *receives, *text;

	info = cJSON_CreateObject();
	xasprintf(&title, "%s events", cf->service);
	cJSON_AddStringToObject(info, "title", title);
	free(title);
	cJSON_AddStringToObject(info, "version", PACKAGE_VERSION);
	sends = asyncapi_names(cf, 1);
	receives = asyncapi_names(cf, 0);
	xasprintf(&text,
	    "The events the warren sidecar of %s knows, on the "
	    "durable topic exchange %s: one channel per contract, its "
	    "routing key. %s sends %s and receives %s. Who publishes and who "
	    "consumes each event is in its channel's x-warren-publisher and "
	    "x-warren-consumers.",
	    cf->service, cf->exchange, cf->service,
	    sends == NULL ? "none of them" : sends,
	    receives == NULL ? "none" : receives);
	cJSON_AddStringToObject(info, "description", text);
	free(text);
	free(sends);
	free(receives);
	return (info);
}

/* components.schemas: every contract's payload schema, and the schemas
 * of their nested objects under names that none of the contracts has. */
static cJSON *
asyncapi_schemas(const struct conf *cf)
{
	const struct contract *c;
	cJSON		      *schemas;
	size_t		       i;

	schemas = cJSON_CreateObject();
	for (i = 0; i < cf->contracts.n; i++)
		cJSON_AddNullToObject(schemas, cf->contracts.v[i]->name);
	for (i = 0; i < cf->contracts.n; i++) {
		c = cf->contracts.v[i];
		cJSON_ReplaceItemInObjectCaseSensitive(schemas, c->name,
		    schema_from_contract_defs(c, schemas, ASYNCAPI_SCHEMAS));
	}
	return (schemas);
}

/* channels, operations and components.messages, contract by contract. */
static void
asyncapi_contracts(const struct conf *cf, cJSON *doc, cJSON *messages)
{
	const struct contract *c;
	cJSON		      *channels, *ops;
	const char	      *vhost = cf->urls[0].vhost;
	char		      *name;
	size_t		       i;

	channels = cJSON_AddObjectToObject(doc, "channels");
	ops = cJSON_AddObjectToObject(doc, "operations");
	for (i = 0; i < cf->contracts.n; i++) {
		c = cf->contracts.v[i];
		cJSON_AddItemToObject(channels, c->name,
		    asyncapi_channel(cf, c, vhost));
		if (c->stream != NULL) {
			xasprintf(&name, "%sStream", c->name);
			cJSON_AddItemToObject(channels, name,
			    asyncapi_stream_channel(cf, c, vhost));
			free(name);
		}
		cJSON_AddItemToObject(messages, c->name,
		    asyncapi_wire(cf, asyncapi_message(c)));
		if (asyncapi_publishes(cf, c)) {
			xasprintf(&name, "send%s", c->name);
			cJSON_AddItemToObject(ops, name,
			    asyncapi_operation(cf, c, 1));
			free(name);
		}
		if (asyncapi_consumes(cf, c)) {
			xasprintf(&name, "receive%s", c->name);
			cJSON_AddItemToObject(ops, name,
			    asyncapi_operation(cf, c, 0));
			free(name);
		}
	}
}

/* The AsyncAPI 3.0 document for the configured contracts. */
cJSON *
asyncapi_document(const struct conf *cf)
{
	cJSON *doc, *comp, *messages;

	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "asyncapi", ASYNCAPI_VERSION);
	cJSON_AddItemToObject(doc, "info", asyncapi_info(cf));
	cJSON_AddStringToObject(doc, "defaultContentType", "application/json");
	cJSON_AddItemToObject(doc, "servers", asyncapi_servers(cf));
	messages = cJSON_CreateObject();
	asyncapi_contracts(cf, doc, messages);
	comp = cJSON_AddObjectToObject(doc, "components");
	cJSON_AddItemToObject(comp, "schemas", asyncapi_schemas(cf));
	cJSON_AddItemToObject(comp, "messages", messages);
	return (doc);
}
