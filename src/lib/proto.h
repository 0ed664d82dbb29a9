/* proto.h -- the local protocol: request line -> request, reply -> line.
 * No I/O here; see warren-protocol(7). */
#ifndef WARREN_PROTO_H
#define WARREN_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "json.h"

enum proto_op {
	OP_NONE,
	OP_PUBLISH,
	OP_SUBSCRIBE,
	OP_UNSUBSCRIBE,
	OP_ACK,
	OP_NACK,
	OP_PING,
	OP_CONTRACTS,
	OP_STATS,
};

#define PROTO_RETRY_MAX_MS 86400000 /* a nack's retry_in_ms at most */

/* A parsed request; spans and strings point into the line and tree. */
struct request {
	enum proto_op	 op;
	struct json_span id; /* raw "id", ptr NULL if none */
	const char	*event;
	struct json_span data; /* raw "data" bytes: the body */
	const cJSON	*data_json;
	const char	*message_id; /* client's, or NULL */
	long long	 tag;
	int		 requeue;
	int		 retry_in_ms; /* nack: retry later; 0: not asked */
	cJSON		*tree;
	/* subscribe: where to replay the stream from (request.c reads it) */
	const cJSON *from;
	/* W3C Trace Context, or NULL; tracestate NULL if empty too. */
	const char *traceparent;
	const char *tracestate;
	/* The member a "validation" error of proto_parse is about. */
	const char *field;
};

/* A growable output buffer for building reply lines. */
struct pbuf {
	char  *p;
	size_t len;
	size_t size;
};

/* Have fn told the name in each request's "event" (a plain string only)
 * once the line is checked, before it is parsed: a hint, nothing more. */
void proto_set_event_hint(void (*fn)(const char *name, size_t len));

/*
 * Parse one request line (without its newline). On success fill req and
 * return 0; call proto_request_clear after. On failure return -1 with
 * *code (static) and *message (caller frees); req->op and req->id are set
 * when they could be read, so the error reply can carry them, and so is
 * req->field for a "validation" error (a bad traceparent or tracestate).
 */
int proto_parse(const char *line, size_t len, struct request *req,
    const char **code, char **message);
/* Is line exactly {"op":"ack","tag":N}, the line a subscriber writes for
 * each delivery? Then fill req as proto_parse would (no tree to clear) and
 * return 0; any other line, even an equivalent one, -1: proto_parse it. */
int	    proto_quick_ack(const char *line, size_t len, struct request *req);
void	    proto_request_clear(struct request *);
const char *proto_op_name(enum proto_op);

void pbuf_add(struct pbuf *, const void *, size_t);
void pbuf_adds(struct pbuf *, const char *);
void pbuf_add_quoted(struct pbuf *, const char *);
void pbuf_free(struct pbuf *);

/*
 * Start a reply line: {"op":OP,"id":ID,"ok":true|false. The caller adds
 * members with pbuf_member_* and finishes with proto_reply_end, which
 * closes the object and adds the newline.
 */
void proto_reply_begin(struct pbuf *, enum proto_op, const char *id,
    size_t idlen, int ok);
void proto_member_str(struct pbuf *, const char *key, const char *value);
void proto_member_raw(struct pbuf *, const char *key, const char *json,
    size_t len);
void proto_reply_end(struct pbuf *);

/* Every error code a reply can carry, NULL-terminated (for metrics). */
extern const char *const proto_error_codes[];

/* A whole error reply; field may be NULL. Who sends it counts it. */
void proto_reply_error(struct pbuf *, enum proto_op, const char *id,
    size_t idlen, const char *code, const char *message, const char *field);

#endif
