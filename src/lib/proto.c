/* proto.c -- the local protocol: request line -> request, reply -> line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "traceparent.h"
#include "util.h"

static const struct {
	const char   *name;
	enum proto_op op;
	const char   *members; /* allowed besides op and id */
} proto_ops[] = {
	{ "publish", OP_PUBLISH,
	    " event data message_id traceparent tracestate " },
	{ "subscribe", OP_SUBSCRIBE, " event from " },
	{ "unsubscribe", OP_UNSUBSCRIBE, " event " },
	{ "ack", OP_ACK, " tag " },
	{ "nack", OP_NACK, " tag requeue retry_in_ms " },
	{ "ping", OP_PING, " " },
	{ "contracts", OP_CONTRACTS, " " },
	{ "stats", OP_STATS, " " },
};
#define NOPS (sizeof proto_ops / sizeof proto_ops[0])

/* The wire name of an op. */
const char *
proto_op_name(enum proto_op op)
{
	size_t i;

	for (i = 0; i < NOPS; i++) {
		if (proto_ops[i].op == op)
			return (proto_ops[i].name);
	}
	return (NULL);
}

/* Is w one of the space-separated words of list (" a b ")? */
static int
proto_word_in(const char *list, const char *w)
{
	size_t	    n = strlen(w);
	const char *p;

	if (n == 0 || strchr(w, ' ') != NULL)
		return (0);
	for (p = list; (p = strstr(p, w)) != NULL; p++) {
		if (p > list && p[-1] == ' ' && p[n] == ' ')
			return (1);
	}
	return (0);
}

/* Refuse members the op does not know, so a misspelt one is not ignored. */
static int
proto_check_members(const cJSON *tree, size_t opi, char **message)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, tree) {
		if (strcmp(m->string, "op") == 0 ||
		    strcmp(m->string, "id") == 0 ||
		    proto_word_in(proto_ops[opi].members, m->string))
			continue;
		xasprintf(message, "unknown member \"%.64s\" for op %s",
		    m->string, proto_ops[opi].name);
		return (-1);
	}
	return (0);
}

/* Read "event": a non-empty string. */
static int
proto_event(struct request *req, char **message)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(req->tree, "event");

	if (!cJSON_IsString(e) || *e->valuestring == '\0') {
		xasprintf(message, "%s needs \"event\", a non-empty string",
		    proto_op_name(req->op));
		return (-1);
	}
	req->event = e->valuestring;
	return (0);
}

/* A syntax check: 0, or -1 with a cause (traceparent.h). */
typedef int (*proto_check_fn)(const char *, char **);

/* Read one trace context member, a string that check accepts; a bad one
 * is a validation error naming it. */
static int
proto_trace_member(struct request *req, const char *name, proto_check_fn check,
    const char **out, char **message)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(req->tree, name);

	if (m == NULL)
		return (0);
	req->field = name;
	if (!cJSON_IsString(m)) {
		xasprintf(message, "%s must be a string", name);
		return (-1);
	}
	if (check(m->valuestring, message) != 0)
		return (-1);
	req->field = NULL;
	*out = m->valuestring;
	return (0);
}

/* Read "traceparent" and "tracestate"; a tracestate means nothing
 * without its traceparent, and an empty one is none. */
static int
proto_trace(struct request *req, const char **code, char **message)
{
	*code = "validation";
	if (proto_trace_member(req, "traceparent", traceparent_check,
		&req->traceparent, message) != 0 ||
	    proto_trace_member(req, "tracestate", tracestate_check,
		&req->tracestate, message) != 0)
		return (-1);
	if (req->tracestate != NULL &&
	    strspn(req->tracestate, " \t,") == strlen(req->tracestate))
		req->tracestate = NULL;
	if (req->tracestate != NULL && req->traceparent == NULL) {
		req->field = "tracestate";
		xasprintf(message, "tracestate without a traceparent");
		return (-1);
	}
	*code = "bad_request";
	return (0);
}

/* Read the members of a publish. */
static int
proto_publish(struct request *req, const char **code, char **message)
{
	const cJSON *d, *m;
	const char  *s;

	if (proto_event(req, message) != 0)
		return (-1);
	d = cJSON_GetObjectItemCaseSensitive(req->tree, "data");
	if (!cJSON_IsObject(d) || req->data.ptr == NULL) {
		xasprintf(message, "publish needs \"data\", an object");
		return (-1);
	}
	req->data_json = d;
	if (proto_trace(req, code, message) != 0)
		return (-1);
	m = cJSON_GetObjectItemCaseSensitive(req->tree, "message_id");
	if (m == NULL)
		return (0);
	if (!cJSON_IsString(m) || *m->valuestring == '\0' ||
	    strlen(m->valuestring) > 255) {
		xasprintf(message,
		    "message_id must be a string of 1 to 255 "
		    "bytes");
		return (-1);
	}
	for (s = m->valuestring; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			xasprintf(message,
			    "message_id must not hold control "
			    "characters");
			return (-1);
		}
	}
	req->message_id = m->valuestring;
	return (0);
}

/* Read a nack's "retry_in_ms": 1 to PROTO_RETRY_MAX_MS, not with
 * "requeue". */
static int
proto_retry_in(struct request *req, char **message)
{
	const cJSON *r;

	r = cJSON_GetObjectItemCaseSensitive(req->tree, "retry_in_ms");
	if (r == NULL)
		return (0);
	if (!cJSON_IsNumber(r) || r->valuedouble < 1 ||
	    r->valuedouble > PROTO_RETRY_MAX_MS ||
	    floor(r->valuedouble) != r->valuedouble) {
		xasprintf(message,
		    "retry_in_ms must be an integer from 1 to %d",
		    PROTO_RETRY_MAX_MS);
		return (-1);
	}
	if (cJSON_GetObjectItemCaseSensitive(req->tree, "requeue") != NULL) {
		xasprintf(message,
		    "retry_in_ms and requeue exclude each other");
		return (-1);
	}
	req->retry_in_ms = (int)r->valuedouble;
	return (0);
}

/* Read the members of an ack or nack. */
static int
proto_settle(struct request *req, char **message)
{
	const cJSON *t, *r;

	t = cJSON_GetObjectItemCaseSensitive(req->tree, "tag");
	if (!cJSON_IsNumber(t) || t->valuedouble < 1 ||
	    t->valuedouble > 9007199254740991.0 ||
	    floor(t->valuedouble) != t->valuedouble) {
		xasprintf(message, "%s needs \"tag\", a positive integer",
		    proto_op_name(req->op));
		return (-1);
	}
	req->tag = (long long)t->valuedouble;
	req->requeue = 1;
	if (proto_retry_in(req, message) != 0)
		return (-1);
	r = cJSON_GetObjectItemCaseSensitive(req->tree, "requeue");
	if (r == NULL)
		return (0);
	if (!cJSON_IsBool(r)) {
		xasprintf(message, "requeue must be true or false");
		return (-1);
	}
	req->requeue = cJSON_IsTrue(r);
	return (0);
}

/* Read the members of a subscribe: "from" asks for a replay (its value is
 * checked where it is used, with stream_from_parse). */
static int
proto_subscribe(struct request *req, char **message)
{
	if (proto_event(req, message) != 0)
		return (-1);
	req->from = cJSON_GetObjectItemCaseSensitive(req->tree, "from");
	return (0);
}

/* Find the op: named by "op", or a publish when only "event" is given. */
static int
proto_find_op(struct request *req, size_t *opi, const char **code,
    char **message)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(req->tree, "op");
	size_t	     i;

	if (o == NULL) {
		if (cJSON_GetObjectItemCaseSensitive(req->tree, "event") ==
		    NULL) {
			*code = "bad_request";
			xasprintf(message, "request has no \"op\"");
			return (-1);
		}
		*opi = 0;
		return (0);
	}
	if (!cJSON_IsString(o)) {
		*code = "bad_request";
		xasprintf(message, "\"op\" must be a string");
		return (-1);
	}
	for (i = 0; i < NOPS; i++) {
		if (strcmp(o->valuestring, proto_ops[i].name) == 0) {
			*opi = i;
			return (0);
		}
	}
	*code = "unknown_op";
	xasprintf(message, "unknown op \"%.64s\"", o->valuestring);
	return (-1);
}

/* Told the event's name as soon as the line is checked (before the tree
 * is built): warrend starts fetching its contract. */
static void (*proto_hint_fn)(const char *name, size_t len);

/* Have fn told the name of each request's event before it is parsed. */
void
proto_set_event_hint(void (*fn)(const char *name, size_t len))
{
	proto_hint_fn = fn;
}

/* Tell the hint function the raw "event" value, if it is a plain
 * string (one with escapes is left to the lookup). */
static void
proto_hint(const struct json_span *ev)
{
	if (proto_hint_fn == NULL || ev->ptr == NULL || ev->len < 2 ||
	    ev->ptr[0] != '"' || memchr(ev->ptr, '\\', ev->len) != NULL)
		return;
	proto_hint_fn(ev->ptr + 1, ev->len - 2);
}

/* Parse one request line. */
int
proto_parse(const char *line, size_t len, struct request *req,
    const char **code, char **message)
{
	struct json_capture cap[] = { { "id", { NULL, 0 } },
		{ "data", { NULL, 0 } }, { "event", { NULL, 0 } } };
	size_t		    opi;
	int		    rv = 0;

	memset(req, 0, sizeof *req);
	if (json_check(line, len, cap, 3, message) != 0) {
		*code = "bad_json";
		return (-1);
	}
	req->id = cap[0].span;
	req->data = cap[1].span;
	proto_hint(&cap[2].span);
	if ((req->tree = json_parse_scratch(line, len)) == NULL) {
		*code = "bad_json";
		xasprintf(message, "not a JSON object");
		return (-1);
	}
	json_annotate_numbers(req->tree, line, len);
	if (proto_find_op(req, &opi, code, message) != 0)
		return (-1);
	req->op = proto_ops[opi].op;
	*code = "bad_request";
	if (proto_check_members(req->tree, opi, message) != 0)
		return (-1);
	switch (req->op) {
	case OP_PUBLISH:
		rv = proto_publish(req, code, message);
		break;
	case OP_SUBSCRIBE:
		rv = proto_subscribe(req, message);
		break;
	case OP_UNSUBSCRIBE:
		rv = proto_event(req, message);
		break;
	case OP_ACK:
	case OP_NACK:
		rv = proto_settle(req, message);
		break;
	default:
		break;
	}
	return (rv);
}

/* Free what proto_parse allocated. */
void
proto_request_clear(struct request *req)
{
	cJSON_Delete(req->tree);
	req->tree = NULL;
}

/* Append bytes, growing the buffer. */
void
pbuf_add(struct pbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = b->size == 0 ? 256 : b->size;
		while (b->len + n + 1 > b->size)
			b->size *= 2;
		b->p = xreallocarray(b->p, 1, b->size);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a C string. */
void
pbuf_adds(struct pbuf *b, const char *s)
{
	pbuf_add(b, s, strlen(s));
}

/* Append s as a JSON string; s is valid UTF-8, so only escapes are needed. */
void
pbuf_add_quoted(struct pbuf *b, const char *s)
{
	static const char shorts[] = "\"\\\n\r\t\b\f";
	const char	 *run = s, *q;
	char		  esc[8];

	pbuf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
			continue;
		pbuf_add(b, run, (size_t)(s - run));
		esc[0] = '\\';
		if ((q = strchr(shorts, *s)) != NULL) {
			esc[1] = "\"\\nrtbf"[q - shorts];
			pbuf_add(b, esc, 2);
		} else {
			snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)*s);
			pbuf_add(b, esc, 6);
		}
		run = s + 1;
	}
	pbuf_add(b, run, (size_t)(s - run));
	pbuf_add(b, "\"", 1);
}

/* Release a buffer. */
void
pbuf_free(struct pbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Start a reply object with op, id and ok. */
void
proto_reply_begin(struct pbuf *b, enum proto_op op, const char *id,
    size_t idlen, int ok)
{
	const char *name = proto_op_name(op);

	pbuf_add(b, "{", 1);
	if (name != NULL) {
		pbuf_adds(b, "\"op\":\"");
		pbuf_adds(b, name);
		pbuf_adds(b, "\",");
	}
	if (id != NULL) {
		pbuf_adds(b, "\"id\":");
		pbuf_add(b, id, idlen);
		pbuf_add(b, ",", 1);
	}
	pbuf_adds(b, ok ? "\"ok\":true" : "\"ok\":false");
}

/* Add "key":"value". */
void
proto_member_str(struct pbuf *b, const char *key, const char *value)
{
	pbuf_add(b, ",", 1);
	pbuf_add_quoted(b, key);
	pbuf_add(b, ":", 1);
	pbuf_add_quoted(b, value);
}

/* Add "key":<json>. */
void
proto_member_raw(struct pbuf *b, const char *key, const char *json, size_t len)
{
	pbuf_add(b, ",", 1);
	pbuf_add_quoted(b, key);
	pbuf_add(b, ":", 1);
	pbuf_add(b, json, len);
}

/* Close the reply object and end the line. */
void
proto_reply_end(struct pbuf *b)
{
	pbuf_add(b, "}\n", 2);
}

const char *const proto_error_codes[] = { "bad_json", "too_large",
	"bad_request", "unknown_op", "unknown_event", "unknown_tag",
	"validation", "forbidden", "unroutable", "rejected", "unavailable",
	"shutting_down", "too_many_clients", NULL };
/* A whole error reply. */
void
proto_reply_error(struct pbuf *b, enum proto_op op, const char *id,
    size_t idlen, const char *code, const char *message, const char *field)
{
	proto_reply_begin(b, op, id, idlen, 0);
	proto_member_str(b, "error", code);
	proto_member_str(b, "message", message);
	if (field != NULL)
		proto_member_str(b, "field", field);
	proto_reply_end(b);
}
