/* request.c -- what a request line asks for: parse it, check it, do it
 * and build its reply. Connections, reply order and backpressure are
 * client.c's. Runs on the loop thread only. */
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "contract.h"
#include "hops.h"
#include "json.h"
#include "log.h"
#include "lograte.h"
#include "projection.h"
#include "proto.h"
#include "publish.h"
#include "publisher.h"
#include "request.h"
#include "retry.h"
#include "consume.h"
#include "consumer.h"
#include "stats.h"
#include "stream-from.h"
#include "trace.h"
#include "util.h"
#include "warrend.h"

/* Build an error reply line and count it: every error reply warrend
 * sends is built here. */
void
request_reply_error(struct pbuf *b, enum proto_op op, const char *id,
    size_t idlen, const char *code, const char *message, const char *field)
{
	stats_error(code);
	proto_reply_error(b, op, id, idlen, code, message, field);
}

/* Reply with an error. */
static void
request_error(struct client *c, enum proto_op op, const struct json_span *id,
    const char *code, const char *message, const char *field)
{
	struct pbuf b = { NULL, 0, 0 };

	request_reply_error(&b, op, id != NULL ? id->ptr : NULL,
	    id != NULL ? id->len : 0, code, message, field);
	client_reply(c, &b);
}

/* Reply ok with nothing more. */
static void
request_ok(struct client *c, const struct request *req)
{
	struct pbuf b = { NULL, 0, 0 };

	proto_reply_begin(&b, req->op, req->id.ptr, req->id.len, 1);
	proto_reply_end(&b);
	client_reply(c, &b);
}

/* May this peer publish events of contract ct? */
static int
request_allowed(const struct client *c, const struct contract *ct)
{
	size_t i;

	if (ct->allow_users == NULL && ct->allow_groups == NULL)
		return (1);
	for (i = 0; i < ct->nuids; i++) {
		if (ct->uids[i] == client_uid(c))
			return (1);
	}
	for (i = 0; i < ct->ngids; i++) {
		if (ct->gids[i] == client_gid(c))
			return (1);
	}
	return (0);
}

/* Answer a line longer than max_line. */
void
request_too_large(struct client *c)
{
	char *msg;

	xasprintf(&msg, "request line longer than max_line (%zu bytes)",
	    warrend_conf->max_line);
	request_error(c, OP_NONE, NULL, "too_large", msg, NULL);
	free(msg);
}

/* The contract of req's event if the peer may "verb" it; else answer
 * unknown_event or forbidden and return NULL. */
static const struct contract *
request_contract(struct client *c, const struct request *req, const char *verb)
{
	const struct contract *ct;
	char		      *msg;

	if ((ct = contract_find(&warrend_conf->contracts, req->event)) ==
	    NULL) {
		xasprintf(&msg, "no contract for event \"%s\"", req->event);
		request_error(c, req->op, &req->id, "unknown_event", msg, NULL);
		free(msg);
		return (NULL);
	}
	if (!request_allowed(c, ct)) {
		xasprintf(&msg, "uid %lu gid %lu may not %s %s",
		    (unsigned long)client_uid(c), (unsigned long)client_gid(c),
		    verb, ct->name);
		request_error(c, req->op, &req->id, "forbidden", msg, NULL);
		free(msg);
		return (NULL);
	}
	return (ct);
}

/* The event cut down to the contract it replaces, as a second job with
 * the same message_id; NULL (and an error reply) if the cut-down event
 * breaks that contract, which -t rules out for what the contracts say. */
static struct pub_job *
request_projection(struct client *c, const struct request *req,
    const struct contract *ct, const struct pub_job *job)
{
	const struct contract *old = ct->replaced;
	struct pub_job	      *j;
	cJSON		      *tree;
	char		      *body, *msg = NULL, *path = NULL;
	size_t		       len;
	int		       rv;

	body = projection_body(old, req->data.ptr, req->data.len, &len);
	if ((tree = cJSON_ParseWithLength(body, len)) != NULL)
		json_annotate_numbers(tree, body, len);
	rv = tree == NULL ? -1 : contract_validate(old, tree, &msg, &path);
	cJSON_Delete(tree);
	if (rv != 0) {
		free(body);
		xasprintf(&body, "as %s (which %s replaces): %s", old->name,
		    ct->name, msg != NULL ? msg : "not a JSON object");
		request_error(c, req->op, &req->id, "validation", body, path);
		free(body);
		free(msg);
		free(path);
		return (NULL);
	}
	j = publisher_job_new(old->routing_key, old->name, job->message_id,
	    body, len);
	j->timestamp_ms = job->timestamp_ms;
	j->projection = 1;
	trace_job_set(j, job->traceparent, job->tracestate);
	free(body);
	return (j);
}

/* Check a publish and hand it to the publisher thread (through publish.c,
 * which answers it when the publisher is done or the time is up). */
static void
request_publish(struct client *c, const struct request *req)
{
	const struct contract *ct;
	struct pub_job	      *job, *job2 = NULL;
	char		      *msg, *path, uuid[37];

	if ((ct = request_contract(c, req, "publish")) == NULL)
		return;
	if (contract_validate(ct, req->data_json, &msg, &path) != 0) {
		request_error(c, req->op, &req->id, "validation", msg, path);
		free(msg);
		free(path);
		return;
	}
	HOPS_CALL(hops_mark(HOP_VALID));
	if (req->message_id == NULL)
		util_uuid(uuid);
	job = publisher_job_new(ct->routing_key, ct->name,
	    req->message_id ? req->message_id : uuid, req->data.ptr,
	    req->data.len);
	job->timestamp_ms = util_wall_ms();
	trace_job_begin(job, req->traceparent, req->tracestate, warrend_conf);
	if (ct->replaced != NULL &&
	    (job2 = request_projection(c, req, ct, job)) == NULL) {
		publisher_job_free(job);
		return;
	}
	publish_submit(c, &req->id, job, job2);
}

/* Unroutable events: one misbound routing key must not flood the
 * journal. Logged when they start, as counts, and when routing is back. */
static struct lograte request_unroutable;

/* Warn about an unroutable event (rate-limited). */
static void
request_warn_unroutable(const struct pub_job *j)
{
	uint64_t n;

	switch (lograte_hit(&request_unroutable, util_now_ms(), 1, &n)) {
	case LOGRATE_FIRST:
		log_warnx("%s %s: unroutable, no queue is bound to %s", j->type,
		    j->message_id, j->routing_key);
		break;
	case LOGRATE_COUNT:
		log_warnx("%llu more unroutable events, the last %s to %s",
		    (unsigned long long)n, j->type, j->routing_key);
		break;
	case LOGRATE_QUIET:
		break;
	}
}

/* A routed event: a spell of unroutable ones, if any, is over. */
static void
request_routed(void)
{
	uint64_t total, ms;

	if (lograte_end(&request_unroutable, util_now_ms(), &total, &ms))
		log_info("events are routed again, after %llu unroutable in "
			 "%llu ms",
		    (unsigned long long)total, (unsigned long long)ms);
}

/* Build the reply for a publish the publisher has finished with; id is
 * the request's raw id (NULL if none), accepted_ms when it was taken. */
void
request_outcome(struct pbuf *b, const struct pub_job *j, const char *id,
    size_t idlen, uint64_t accepted_ms)
{
	char *msg = NULL;

	if (j->outcome == PUB_CONFIRMED &&
	    (!j->returned || !warrend_conf->unroutable_error)) {
		stats_count(STATS_CONFIRMED);
		stats_confirm_latency(util_now_ms() - accepted_ms);
		proto_reply_begin(b, OP_PUBLISH, id, idlen, 1);
		proto_member_str(b, "message_id", j->message_id);
		proto_member_str(b, "routing_key", j->routing_key);
		if (j->traceparent != NULL)
			proto_member_str(b, "traceparent", j->traceparent);
		if (j->returned) {
			stats_count(STATS_UNROUTABLE);
			proto_member_raw(b, "routed", "false", 5);
			request_warn_unroutable(j);
		} else
			request_routed();
		proto_reply_end(b);
	} else if (j->outcome == PUB_CONFIRMED) {
		stats_count(STATS_UNROUTABLE);
		xasprintf(&msg, "no queue is bound to routing key %s",
		    j->routing_key);
		request_reply_error(b, OP_PUBLISH, id, idlen, "unroutable", msg,
		    NULL);
	} else if (j->outcome == PUB_SPOOLED) {
		stats_count(STATS_SPOOLED);
		proto_reply_begin(b, OP_PUBLISH, id, idlen, 1);
		proto_member_str(b, "message_id", j->message_id);
		proto_member_str(b, "routing_key", j->routing_key);
		if (j->traceparent != NULL)
			proto_member_str(b, "traceparent", j->traceparent);
		proto_member_raw(b, "spooled", "true", 4);
		proto_reply_end(b);
	} else if (j->outcome == PUB_FULL) {
		xasprintf(&msg,
		    "the spool is full (max_bytes %lld) or cannot "
		    "be written, and the broker is unreachable, blocked or "
		    "still taking what the spool holds",
		    warrend_conf->spool_max_bytes);
		request_reply_error(b, OP_PUBLISH, id, idlen, "unavailable",
		    msg, NULL);
	} else if (j->outcome == PUB_NACKED) {
		stats_count(STATS_NACKED);
		request_reply_error(b, OP_PUBLISH, id, idlen, "rejected",
		    "the broker refused the event (basic.nack)", NULL);
	} else {
		request_reply_error(b, OP_PUBLISH, id, idlen, "shutting_down",
		    "warrend stopped before the broker "
		    "confirmed the event",
		    NULL);
	}
	free(msg);
}

/* Build the reply for a publish not confirmed within publish_timeout_ms. */
void
request_timed_out(struct pbuf *b, const char *id, size_t idlen)
{
	char *msg;

	xasprintf(&msg,
	    "the broker did not confirm the event within "
	    "%d ms (it is unreachable or blocked)",
	    warrend_conf->publish_timeout_ms);
	request_reply_error(b, OP_PUBLISH, id, idlen, "unavailable", msg, NULL);
	free(msg);
}

/* The "contracts" op. */
static void
request_contracts(struct client *c, const struct request *req)
{
	struct pbuf b = { NULL, 0, 0 };
	cJSON	   *a = cJSON_CreateArray();
	char	   *s;
	size_t	    i;

	for (i = 0; i < warrend_conf->contracts.n; i++)
		cJSON_AddItemToArray(a,
		    contract_to_json(warrend_conf->contracts.v[i]));
	if ((s = cJSON_PrintUnformatted(a)) == NULL)
		fatalx("cJSON_PrintUnformatted failed");
	cJSON_Delete(a);
	proto_reply_begin(&b, req->op, req->id.ptr, req->id.len, 1);
	proto_member_raw(&b, "contracts", s, strlen(s));
	proto_reply_end(&b);
	free(s);
	client_reply(c, &b);
}

/* The spool's part of the stats object. */
static void
request_spool_stats(struct pbuf *b, const struct publisher_stats *ps)
{
	const struct spool_stats *st = &ps->spool;
	struct timeval		  tv;
	long long		  age = 0;
	char			 *s;

	if (st->oldest_ms > 0) {
		gettimeofday(&tv, NULL);
		age = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000 -
		    st->oldest_ms;
		if (age < 0)
			age = 0;
	}
	xasprintf(&s,
	    ",\"spool\":{\"enabled\":%s,\"records\":%llu,"
	    "\"bytes\":%llu,\"oldest_age_ms\":%lld,\"appended\":%llu,"
	    "\"drained\":%llu,\"full\":%llu,\"corrupt\":%llu,"
	    "\"torn\":%llu,\"forged\":%llu}",
	    ps->spool_enabled ? "true" : "false",
	    (unsigned long long)st->records, (unsigned long long)st->bytes, age,
	    (unsigned long long)st->appended, (unsigned long long)st->drained,
	    (unsigned long long)st->full, (unsigned long long)st->corrupt,
	    (unsigned long long)st->torn, (unsigned long long)st->forged);
	pbuf_adds(b, s);
	free(s);
}

/* The consuming part of the stats object. */
static void
request_consume_stats(struct pbuf *b)
{
	struct consumer_stats cs;
	struct retry_stats    rs;
	char		     *s;

	consumer_get_stats(&cs);
	retry_get_stats(&rs);
	xasprintf(&s,
	    ",\"subscriptions\":%d,\"deliveries\":%llu,"
	    "\"acks\":%llu,\"nacks\":%llu,\"dead_lettered\":%llu,"
	    "\"requeued\":%llu,\"retried\":%llu,\"retries_exhausted\":%llu,"
	    "\"deduplicated\":%llu,\"consumer\":{\"connected\":%s,"
	    "\"reconnects\":%llu}",
	    consume_active(), (unsigned long long)stats_get(STATS_DELIVERIES),
	    (unsigned long long)stats_get(STATS_ACKS),
	    (unsigned long long)stats_get(STATS_NACKS),
	    (unsigned long long)stats_get(STATS_DEAD_LETTERED),
	    (unsigned long long)stats_get(STATS_REQUEUED),
	    (unsigned long long)rs.retried, (unsigned long long)rs.exhausted,
	    (unsigned long long)rs.deduplicated,
	    cs.connected ? "true" : "false", (unsigned long long)cs.reconnects);
	pbuf_adds(b, s);
	free(s);
}

/* The "stats" op. */
static void
request_stats(struct client *c, const struct request *req)
{
	struct publisher_stats ps;
	struct pbuf	       b = { NULL, 0, 0 };
	char		      *s;
	int		       n;

	publisher_get_stats(&ps);
	n = xasprintf(&s,
	    "{\"clients\":%d,\"accepted\":%llu,"
	    "\"confirmed\":%llu,\"unroutable\":%llu,\"nacked\":%llu,"
	    "\"timed_out\":%llu,\"spooled\":%llu,\"errors\":%llu,"
	    "\"in_flight\":%d,"
	    "\"connections\":%llu,\"refused\":%llu,\"broker\":{"
	    "\"connected\":%s,\"blocked\":%s,\"refusing\":%s,"
	    "\"reconnects\":%llu,\"published\":%llu,\"republished\":%llu,"
	    "\"nacks\":%llu,\"address\":",
	    client_count(), (unsigned long long)stats_get(STATS_ACCEPTED),
	    (unsigned long long)stats_get(STATS_CONFIRMED),
	    (unsigned long long)stats_get(STATS_UNROUTABLE),
	    (unsigned long long)stats_get(STATS_NACKED),
	    (unsigned long long)stats_get(STATS_TIMED_OUT),
	    (unsigned long long)stats_get(STATS_SPOOLED),
	    (unsigned long long)stats_errors(), publish_in_flight(),
	    (unsigned long long)stats_get(STATS_CONNECTIONS),
	    (unsigned long long)stats_get(STATS_REFUSED),
	    ps.connected ? "true" : "false", ps.blocked ? "true" : "false",
	    ps.refusing ? "true" : "false", (unsigned long long)ps.reconnects,
	    (unsigned long long)ps.published,
	    (unsigned long long)ps.republished, (unsigned long long)ps.nacks);
	proto_reply_begin(&b, req->op, req->id.ptr, req->id.len, 1);
	proto_member_raw(&b, "stats", s, (size_t)n);
	pbuf_add_quoted(&b, ps.broker);
	pbuf_adds(&b, "}");
	request_spool_stats(&b, &ps);
	request_consume_stats(&b);
	pbuf_adds(&b, "}");
	proto_reply_end(&b);
	free(s);
	client_reply(c, &b);
}

/* A subscribe with "from": a replay of ct's stream, if it keeps one. */
static void
request_replay(struct client *c, const struct request *req,
    const struct contract *ct)
{
	struct stream_from from;
	char		  *msg = NULL;

	if (stream_from_parse(req->from, &from, &msg) == 0 &&
	    ct->stream == NULL)
		xasprintf(&msg,
		    "%s keeps no stream to replay from: \"from\" needs "
		    "stream = { ... } in its contract",
		    ct->name);
	if (msg != NULL) {
		request_error(c, req->op, &req->id, "bad_request", msg, NULL);
		free(msg);
		return;
	}
	consume_subscribe(c, ct, &req->id, &from);
}

/* The "subscribe" and "unsubscribe" ops: the same rules as publishing
 * decide who may. */
static void
request_subscription(struct client *c, const struct request *req)
{
	const struct contract *ct;

	if ((ct = request_contract(c, req, "subscribe to")) == NULL)
		return;
	if (req->op == OP_SUBSCRIBE && req->from != NULL)
		request_replay(c, req, ct);
	else if (req->op == OP_SUBSCRIBE)
		consume_subscribe(c, ct, &req->id, NULL);
	else {
		/* Unsubscribing from what one is not subscribed to is done. */
		consume_unsubscribe(c, ct);
		request_ok(c, req);
	}
}

/* proto_parse's hint: start fetching the named contract's slot while the
 * line is parsed. */
static void
request_event_hint(const char *name, size_t len)
{
	contract_index_prefetch(&warrend_conf->contracts, name, len);
}

/* Get ready to handle requests. */
void
request_init(void)
{
	proto_set_event_hint(request_event_hint);
}

/* Handle one request line of c. */
void
request_handle(struct client *c, const char *line, size_t len)
{
	struct request req;
	const char    *code;
	char	      *msg = NULL;

	if (proto_quick_ack(line, len, &req) != 0 &&
	    proto_parse(line, len, &req, &code, &msg) != 0) {
		request_error(c, req.op, &req.id, code, msg, req.field);
		goto out;
	}
	if (warrend_stopping) {
		request_error(c, req.op, &req.id, "shutting_down",
		    "warrend is stopping", NULL);
		goto out;
	}
	switch (req.op) {
	case OP_PUBLISH:
		request_publish(c, &req);
		break;
	case OP_PING:
		request_ok(c, &req);
		break;
	case OP_CONTRACTS:
		request_contracts(c, &req);
		break;
	case OP_STATS:
		request_stats(c, &req);
		break;
	case OP_ACK:
	case OP_NACK:
		if (consume_settle(c, req.tag, req.op == OP_ACK, req.requeue,
			req.retry_in_ms) != 0) {
			xasprintf(&msg,
			    "tag %lld is not an unsettled delivery "
			    "of this connection",
			    req.tag);
			request_error(c, req.op, &req.id, "unknown_tag", msg,
			    NULL);
		}
		break;
	case OP_SUBSCRIBE:
	case OP_UNSUBSCRIBE:
		request_subscription(c, &req);
		break;
	case OP_NONE:
		fatalx("%s: request without op", __func__);
	}
out:
	free(msg);
	proto_request_clear(&req);
}
