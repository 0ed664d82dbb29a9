/* consume.c -- the loop side of consuming: local subscribers of each event,
 * deliveries handed out round robin, per-connection tags, ack and nack.
 * Runs on the loop thread; the broker is the consumer thread's. */
#include <sys/queue.h>

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "consume-batch.h"
#include "consumer.h"
#include "contract.h"
#include "log.h"
#include "proto.h"
#include "consume.h"
#include "request.h"
#include "stats.h"
#include "stream-from.h"
#include "util.h"
#include "warrend.h"

/* A connection may replay this many streams at once, and warrend this
 * many in all: each takes a channel on the consumer connection, whose
 * channel_max is 2047 by default. */
#define CONSUME_MAX_REPLAYS 64
#define CONSUME_MAX_REPLAYS_ALL 1024

struct consume_event;

/* A client subscribed to an event. */
struct consume_member {
	TAILQ_ENTRY(consume_member) eentry; /* in ev->members */
	TAILQ_ENTRY(consume_member) centry; /* in sc->members */
	struct client	     *c;
	struct consume_event *ev;
};
TAILQ_HEAD(consume_memberq, consume_member);

/* A subscribe request waiting for the consumer thread. */
struct consume_wait {
	TAILQ_ENTRY(consume_wait) eentry;
	TAILQ_ENTRY(consume_wait) centry;
	struct client	     *c;
	struct preq	     *p;
	struct consume_event *ev;
	int		      leave; /* unsubscribed meanwhile */
};
TAILQ_HEAD(consume_waitq, consume_wait);

/* A delivery a client holds and has not settled. */
struct consume_delivery {
	TAILQ_ENTRY(consume_delivery) entry;
	uint64_t tag; /* the client's */
	uint64_t epoch;
	uint16_t channel;
	uint64_t dtag;	       /* the broker's */
	int	 max_attempts; /* of its contract, for a retry */
	/* From a replay: a stream requeues nothing. */
	int replay;
};
TAILQ_HEAD(consume_deliveryq, consume_delivery);

/* What one client has to do with consuming. */
struct consume_client {
	uint64_t		 next_tag;
	uint64_t		 stale_below; /* older tags died with a link */
	struct consume_deliveryq unsettled;
	int			 nunsettled;
	struct consume_memberq	 members;
	struct consume_waitq	 waits;
};

enum consume_state {
	CONSUME_IDLE,
	CONSUME_PENDING,
	CONSUME_ACTIVE
};

/* An event with local subscribers (or once had them). */
struct consume_event {
	TAILQ_ENTRY(consume_event) entry;
	char		      *event;
	uint64_t	       sid; /* a replay's, 0: the service queue */
	enum consume_state     state;
	struct consume_memberq members;
	int		       nmembers;
	struct consume_member *next; /* round robin */
	struct consume_waitq   waits;
};
TAILQ_HEAD(consume_eventq, consume_event);

static struct consume_eventq consume_events =
    TAILQ_HEAD_INITIALIZER(consume_events);
static int	     consume_efd = -1;
static char	    *consume_service; /* the consumer's, from start */
static struct event *consume_ev;
static int	     consume_connected;
static char	    *consume_exchange; /* the consumer's, from start */
static uint64_t	     consume_sids;     /* replays so far */

/* The client's consuming state, made on first use. */
static struct consume_client *
consume_client(struct client *c)
{
	struct consume_client **scp = client_subs(c);

	if (*scp == NULL) {
		*scp = xcalloc(1, sizeof **scp);
		TAILQ_INIT(&(*scp)->unsettled);
		TAILQ_INIT(&(*scp)->members);
		TAILQ_INIT(&(*scp)->waits);
	}
	return (*scp);
}

/* Find an event's (or a replay's) state; make it if asked. */
static struct consume_event *
consume_event(const char *event, uint64_t sid, int create)
{
	struct consume_event *ev;

	TAILQ_FOREACH(ev, &consume_events, entry) {
		if (ev->sid == sid && strcmp(ev->event, event) == 0)
			return (ev);
	}
	if (!create)
		return (NULL);
	ev = xcalloc(1, sizeof *ev);
	ev->event = xstrdup(event);
	ev->sid = sid;
	TAILQ_INIT(&ev->members);
	TAILQ_INIT(&ev->waits);
	TAILQ_INSERT_TAIL(&consume_events, ev, entry);
	return (ev);
}

/* Build the ok reply of a subscribe: the queue, or a replay's stream. */
static void
consume_reply_ok(struct pbuf *b, const char *id, size_t idlen,
    const struct consume_event *ev)
{
	char		      *queue;
	const struct contract *ct;
	char		       num[32];

	if (ev->sid != 0)
		queue = contract_stream_queue(consume_exchange, ev->event);
	else
		xasprintf(&queue, "%s.%s", consume_service, ev->event);
	proto_reply_begin(b, OP_SUBSCRIBE, id, idlen, 1);
	proto_member_str(b, "queue", queue);
	/* Partitioned: the queues are queue.p0 .. queue.p<N-1>. */
	ct = contract_find(&warrend_conf->contracts, ev->event);
	if (ev->sid == 0 && ct != NULL && ct->partitions > 0) {
		snprintf(num, sizeof num, "%lld", ct->partitions);
		proto_member_raw(b, "partitions", num, strlen(num));
	}
	proto_reply_end(b);
	free(queue);
}

/* Make c a member of ev. */
static void
consume_join(struct client *c, struct consume_event *ev)
{
	struct consume_client *sc = consume_client(c);
	struct consume_member *m = xcalloc(1, sizeof *m);

	m->c = c;
	m->ev = ev;
	TAILQ_INSERT_TAIL(&ev->members, m, eentry);
	TAILQ_INSERT_TAIL(&sc->members, m, centry);
	ev->nmembers++;
}

/* c's membership of ev, if any. */
static struct consume_member *
consume_member(struct client *c, const struct consume_event *ev)
{
	struct consume_client *sc = *client_subs(c);
	struct consume_member *m;

	if (sc == NULL)
		return (NULL);
	TAILQ_FOREACH(m, &sc->members, centry) {
		if (m->ev == ev)
			return (m);
	}
	return (NULL);
}

/* Queue c's subscribe request for the consumer thread's answer. */
static void
consume_wait(struct client *c, struct consume_event *ev,
    const struct json_span *id)
{
	struct consume_client *sc = consume_client(c);
	struct consume_wait   *w = xcalloc(1, sizeof *w);

	w->c = c;
	w->ev = ev;
	w->p = client_defer(c, id);
	TAILQ_INSERT_TAIL(&ev->waits, w, eentry);
	TAILQ_INSERT_TAIL(&sc->waits, w, centry);
}

/* Free the replays that are over: no member, no wait, not consuming. */
static void
consume_sweep(void)
{
	struct consume_event *ev, *next;

	for (ev = TAILQ_FIRST(&consume_events); ev != NULL; ev = next) {
		next = TAILQ_NEXT(ev, entry);
		if (ev->sid == 0 || ev->state != CONSUME_IDLE ||
		    ev->nmembers != 0 || !TAILQ_EMPTY(&ev->waits))
			continue;
		TAILQ_REMOVE(&consume_events, ev, entry);
		free(ev->event);
		free(ev);
	}
}

/* How many replays c has, begun or asked for (c NULL: all there are). */
static int
consume_replays(const struct consume_client *sc)
{
	const struct consume_member *m;
	const struct consume_wait   *w;
	const struct consume_event  *ev;
	int			     n = 0;

	if (sc == NULL) {
		TAILQ_FOREACH(ev, &consume_events, entry)
			n += ev->sid != 0;
		return (n);
	}
	TAILQ_FOREACH(m, &sc->members, centry)
		n += m->ev->sid != 0;
	TAILQ_FOREACH(w, &sc->waits, centry)
		n += w->ev->sid != 0;
	return (n);
}

/* Start a replay of ct's stream for c, from from: a subscription of its
 * own, on a channel of its own. */
static void
consume_replay(struct client *c, const struct contract *ct,
    const struct json_span *id, const struct stream_from *from)
{
	struct consume_event *ev;
	struct pbuf	      b = { NULL, 0, 0 };
	const char	     *code = NULL;
	char		      msg[128];

	consume_sweep();
	if (consume_replays(consume_client(c)) >= CONSUME_MAX_REPLAYS) {
		code = "bad_request";
		snprintf(msg, sizeof msg,
		    "a connection may replay at most %d streams at once",
		    CONSUME_MAX_REPLAYS);
	} else if (consume_replays(NULL) >= CONSUME_MAX_REPLAYS_ALL) {
		code = "unavailable";
		snprintf(msg, sizeof msg,
		    "warrend replays at most %d streams at once; try again "
		    "later",
		    CONSUME_MAX_REPLAYS_ALL);
	}
	if (code != NULL) {
		request_reply_error(&b, OP_SUBSCRIBE, id->ptr, id->len, code,
		    msg, NULL);
		client_answer(client_defer(c, id), &b);
		return;
	}
	ev = consume_event(ct->name, ++consume_sids, 1);
	ev->state = CONSUME_PENDING;
	consume_wait(c, ev, id);
	consumer_replay(ct->name, ev->sid, from);
}

/* Subscribe c to ct's queue, or (from) start a replay of its stream. */
void
consume_subscribe(struct client *c, const struct contract *ct,
    const struct json_span *id, const struct stream_from *from)
{
	struct consume_event *ev;
	struct pbuf	      b = { NULL, 0, 0 };

	if (from != NULL) {
		consume_replay(c, ct, id, from);
		return;
	}
	ev = consume_event(ct->name, 0, 1);

	if (consume_member(c, ev) != NULL || ev->state == CONSUME_ACTIVE) {
		if (consume_member(c, ev) == NULL)
			consume_join(c, ev);
		consume_reply_ok(&b, id->ptr, id->len, ev);
		client_answer(client_defer(c, id), &b);
		return;
	}
	consume_wait(c, ev, id);
	if (ev->state == CONSUME_IDLE) {
		ev->state = CONSUME_PENDING;
		consumer_subscribe_partitioned(ct->name, ct->routing_key,
		    (int)ct->partitions);
	}
}

/* Remove membership m; the last member leaving stops the consumer (a
 * replay has one, and ends with it). */
static void
consume_leave(struct consume_member *m)
{
	struct consume_event  *ev = m->ev;
	struct consume_client *sc = *client_subs(m->c);

	if (ev->next == m)
		ev->next = TAILQ_NEXT(m, eentry);
	TAILQ_REMOVE(&ev->members, m, eentry);
	TAILQ_REMOVE(&sc->members, m, centry);
	ev->nmembers--;
	free(m);
	if (ev->nmembers == 0 && TAILQ_EMPTY(&ev->waits) &&
	    (ev->state == CONSUME_ACTIVE || ev->sid != 0)) {
		ev->state = CONSUME_IDLE;
		consumer_cancel(ev->event, ev->sid);
	}
}

/* Unsubscribe c from ct: its queue and every replay of its stream. */
int
consume_unsubscribe(struct client *c, const struct contract *ct)
{
	struct consume_client *sc = *client_subs(c);
	struct consume_member *m, *next;
	struct consume_wait   *w;
	int		       rv = -1;

	if (sc == NULL)
		return (-1);
	/* A subscribe still on its way is answered, but not joined. */
	TAILQ_FOREACH(w, &sc->waits, centry) {
		if (strcmp(w->ev->event, ct->name) == 0) {
			w->leave = 1;
			rv = 0;
		}
	}
	for (m = TAILQ_FIRST(&sc->members); m != NULL; m = next) {
		next = TAILQ_NEXT(m, centry);
		if (strcmp(m->ev->event, ct->name) == 0) {
			consume_leave(m);
			rv = 0;
		}
	}
	return (rv);
}

/* Settle a delivery by c's tag; retry_ms > 0: retry it later. */
int
consume_settle(struct client *c, long long tag, int ack, int requeue,
    int retry_ms)
{
	struct consume_client	*sc = *client_subs(c);
	struct consume_delivery *d;

	if (sc == NULL)
		return (-1);
	TAILQ_FOREACH(d, &sc->unsettled, entry) {
		if (d->tag == (uint64_t)tag)
			break;
	}
	if (d == NULL)
		/* A tag from before a lost connection: already requeued. */
		return ((uint64_t)tag < sc->stale_below ? 0 : -1);
	TAILQ_REMOVE(&sc->unsettled, d, entry);
	sc->nunsettled--;
	if (retry_ms > 0 && !d->replay) /* a stream keeps it: no retry */
		consumer_retry(d->epoch, d->channel, d->dtag, retry_ms,
		    d->max_attempts);
	else
		consume_batch_add(d->epoch, d->channel, d->dtag, ack, requeue);
	stats_count(ack ? STATS_ACKS : STATS_NACKS);
	free(d);
	return (0);
}

/* c is going: requeue what it holds, end its memberships and waits. */
void
consume_client_gone(struct client *c)
{
	struct consume_client	*sc = *client_subs(c);
	struct consume_delivery *d;
	struct consume_member	*m;
	struct consume_wait	*w;

	if (sc == NULL)
		return;
	while ((d = TAILQ_FIRST(&sc->unsettled)) != NULL) {
		TAILQ_REMOVE(&sc->unsettled, d, entry);
		consume_batch_add(d->epoch, d->channel, d->dtag, 0, 1);
		if (!d->replay)
			stats_count(STATS_REQUEUED);
		free(d);
	}
	while ((w = TAILQ_FIRST(&sc->waits)) != NULL) {
		TAILQ_REMOVE(&sc->waits, w, centry);
		TAILQ_REMOVE(&w->ev->waits, w, eentry);
		free(w);
	}
	while ((m = TAILQ_FIRST(&sc->members)) != NULL)
		consume_leave(m);
	free(sc);
	*client_subs(c) = NULL;
}

/* The broker refused to restore ev's queue (after a reconnect): its
 * subscribers are subscribed no longer; a new subscribe tries again. */
static void
consume_lost(struct consume_event *ev)
{
	struct consume_member *m;

	log_warnx("subscribe %s: %d local subscribers dropped", ev->event,
	    ev->nmembers);
	while ((m = TAILQ_FIRST(&ev->members)) != NULL) {
		ev->state = CONSUME_PENDING; /* no cancel: nothing consumes */
		consume_leave(m);
	}
}

/* After a reload: an event whose contract is gone is consumed no more, so
 * its messages wait in the queue instead of being dead-lettered. */
void
consume_reload(void)
{
	struct consume_event  *ev;
	struct consume_member *m;

	TAILQ_FOREACH(ev, &consume_events, entry) {
		if (contract_find(&warrend_conf->contracts, ev->event) !=
			NULL ||
		    ev->state != CONSUME_ACTIVE)
			continue;
		log_warnx("reload: contract %s is gone: %d local subscribers "
			  "dropped, its queue is no longer consumed",
		    ev->event, ev->nmembers);
		while ((m = TAILQ_FIRST(&ev->members)) != NULL)
			consume_leave(m);
		if (ev->state == CONSUME_ACTIVE) {
			ev->state = CONSUME_IDLE;
			consumer_cancel(ev->event, ev->sid);
		}
	}
}

/* The consumer thread answered a subscribe. */
static void
consume_subscribed(const struct consumer_msg *msg)
{
	struct consume_event *ev;
	struct consume_wait  *w;
	struct pbuf	      b = { NULL, 0, 0 };
	const char	     *code;

	/* A replay nobody waits for any more is over already. */
	if ((ev = consume_event(msg->event, msg->sid, msg->sid == 0)) == NULL)
		return;
	if (msg->error != NULL)
		log_warnx("subscribe %s: %s", msg->event, msg->error);
	if (msg->error != NULL && ev->state == CONSUME_ACTIVE)
		consume_lost(ev);
	ev->state = msg->error == NULL ? CONSUME_ACTIVE : CONSUME_IDLE;
	while ((w = TAILQ_FIRST(&ev->waits)) != NULL) {
		TAILQ_REMOVE(&ev->waits, w, eentry);
		TAILQ_REMOVE(&(*client_subs(w->c))->waits, w, centry);
		if (msg->error == NULL) {
			if (!w->leave && consume_member(w->c, ev) == NULL)
				consume_join(w->c, ev);
			consume_reply_ok(&b, client_preq_id(w->p),
			    client_preq_idlen(w->p), ev);
		} else {
			code = msg->unreachable ? "unavailable" : "rejected";
			request_reply_error(&b, OP_SUBSCRIBE,
			    client_preq_id(w->p), client_preq_idlen(w->p), code,
			    msg->error, NULL);
		}
		client_answer(w->p, &b);
		free(w);
	}
	if (ev->state == CONSUME_ACTIVE && ev->nmembers == 0) {
		ev->state = CONSUME_IDLE;
		consumer_cancel(ev->event, ev->sid);
	}
}

/* Is the body a JSON object that keeps ev's contract? Log why not, once
 * per message (a replay's is skipped: a stream dead-letters nothing). */
static int
consume_body_ok(const struct consumer_msg *msg)
{
	const struct contract *ct;
	cJSON		      *tree;
	char		      *cause = NULL, *path = NULL;
	const char	      *mid = msg->message_id ? msg->message_id : "-";
	const char *fate = msg->sid != 0 ? "skipped" : "dead-lettered";
	int	    rv = -1;

	if ((ct = contract_find(&warrend_conf->contracts, msg->event)) ==
	    NULL) {
		log_warnx("delivery %s of %s: no such contract any more: %s",
		    mid, msg->event, fate);
		return (-1);
	}
	if (json_check(msg->body, msg->bodylen, NULL, 0, &cause) != 0) {
		log_warnx("delivery %s of %s is not valid JSON (%s): %s", mid,
		    msg->event, cause, fate);
		free(cause);
		return (-1);
	}
	if ((tree = json_parse_scratch(msg->body, msg->bodylen)) == NULL)
		return (-1);
	json_annotate_numbers(tree, msg->body, msg->bodylen);
	if (contract_validate(ct, tree, &cause, &path) != 0)
		log_warnx("delivery %s of %s breaks its contract (%s): %s", mid,
		    msg->event, cause, fate);
	else
		rv = 0;
	free(cause);
	free(path);
	cJSON_Delete(tree);
	return (rv);
}

/* The next member in turn; a partition's deliveries all go to one member
 * (the partition's index modulo the members), so that they are handled
 * in order, one at a time. */
static struct consume_member *
consume_pick(struct consume_event *ev, int partition)
{
	struct consume_member *m = ev->next;
	int		       i;

	if (partition >= 0 && ev->nmembers > 0) {
		m = TAILQ_FIRST(&ev->members);
		for (i = partition % ev->nmembers; i > 0; i--)
			m = TAILQ_NEXT(m, eentry);
		return (m);
	}

	if (m == NULL)
		m = TAILQ_FIRST(&ev->members);
	if (m != NULL)
		ev->next = TAILQ_NEXT(m, eentry);
	return (m);
}

/* How often a delivery of event may be tried: its contract's
 * max_attempts, or consume.max_attempts. */
static int
consume_max_attempts(const char *event)
{
	const struct contract *ct;

	ct = contract_find(&warrend_conf->contracts, event);
	return (ct != NULL && ct->max_attempts > 0 ?
		ct->max_attempts :
		warrend_conf->max_attempts);
}

/* Write a deliver line to m's client and remember the delivery. */
static void
consume_hand_out(struct consume_member *m, const struct consumer_msg *msg)
{
	struct consume_client	*sc = consume_client(m->c);
	struct consume_delivery *d = xcalloc(1, sizeof *d);
	struct pbuf		 b = { NULL, 0, 0 };
	char			 num[32];
	size_t			 i, start;

	d->tag = ++sc->next_tag;
	d->epoch = msg->epoch;
	d->channel = msg->channel;
	d->dtag = msg->dtag;
	d->max_attempts = consume_max_attempts(msg->event);
	d->replay = msg->sid != 0;
	TAILQ_INSERT_TAIL(&sc->unsettled, d, entry);
	sc->nunsettled++;
	snprintf(num, sizeof num, "%llu", (unsigned long long)d->tag);
	pbuf_adds(&b, "{\"op\":\"deliver\"");
	proto_member_raw(&b, "tag", num, strlen(num));
	proto_member_str(&b, "event", msg->event);
	proto_member_str(&b, "routing_key", msg->routing_key);
	if (msg->message_id != NULL &&
	    json_utf8_valid(msg->message_id, strlen(msg->message_id)))
		proto_member_str(&b, "message_id", msg->message_id);
	else
		proto_member_raw(&b, "message_id", "null", 4);
	proto_member_raw(&b, "redelivered", msg->redelivered ? "true" : "false",
	    msg->redelivered ? 4 : 5);
	snprintf(num, sizeof num, "%d", msg->attempt > 0 ? msg->attempt : 1);
	proto_member_raw(&b, "attempt", num, strlen(num));
	if (msg->has_offset) {
		snprintf(num, sizeof num, "%llu",
		    (unsigned long long)msg->offset);
		proto_member_raw(&b, "offset", num, strlen(num));
	}
	if (msg->partition >= 0) {
		snprintf(num, sizeof num, "%d", msg->partition);
		proto_member_raw(&b, "partition", num, strlen(num));
	}
	if (msg->traceparent != NULL)
		proto_member_str(&b, "traceparent", msg->traceparent);
	if (msg->tracestate != NULL)
		proto_member_str(&b, "tracestate", msg->tracestate);
	proto_member_raw(&b, "data", "", 0);
	/* The body as it is, but a raw newline (JSON whitespace between
	 * tokens: strings cannot hold one) would end the line early. */
	start = b.len;
	pbuf_add(&b, msg->body, msg->bodylen);
	for (i = start; i < b.len; i++) {
		if (b.p[i] == '\n' || b.p[i] == '\r')
			b.p[i] = ' ';
	}
	pbuf_adds(&b, "}\n");
	client_send(m->c, b.p, b.len);
	pbuf_free(&b);
	stats_count(STATS_DELIVERIES);
}

/* A delivery from the consumer thread. */
static void
consume_delivery(const struct consumer_msg *msg)
{
	struct consume_event  *ev = consume_event(msg->event, msg->sid, 0);
	struct consume_member *m;

	if (consume_body_ok(msg) != 0) {
		if (msg->sid == 0)
			stats_count(STATS_DEAD_LETTERED);
		consume_batch_add(msg->epoch, msg->channel, msg->dtag, 0, 0);
		return;
	}
	if (ev == NULL || (m = consume_pick(ev, msg->partition)) == NULL) {
		/* Sent before the consumer was cancelled: back it goes
		 * (a replay's stays in its stream). */
		if (msg->sid == 0)
			stats_count(STATS_REQUEUED);
		consume_batch_add(msg->epoch, msg->channel, msg->dtag, 0, 1);
		return;
	}
	consume_hand_out(m, msg);
}

/* The consumer connection came or went. Deliveries of a lost connection
 * were requeued by the broker: forget them, so a client that never acks
 * them does not make us grow. */
static void
consume_state(const struct consumer_msg *msg)
{
	struct consume_event	*ev;
	struct consume_member	*m;
	struct consume_client	*sc;
	struct consume_delivery *d;

	consume_connected = msg->connected;
	if (msg->connected)
		return;
	TAILQ_FOREACH(ev, &consume_events, entry) {
		TAILQ_FOREACH(m, &ev->members, eentry) {
			sc = consume_client(m->c);
			sc->stale_below = sc->next_tag + 1;
			while ((d = TAILQ_FIRST(&sc->unsettled)) != NULL) {
				TAILQ_REMOVE(&sc->unsettled, d, entry);
				sc->nunsettled--;
				free(d);
			}
		}
	}
}

/* Messages from the consumer thread. */
static void
consume_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct consumer_msgq q = TAILQ_HEAD_INITIALIZER(q);
	struct consumer_msg *msg;

	(void)fd;
	(void)events;
	(void)arg;
	consumer_collect(&q);
	while ((msg = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, msg, entry);
		switch (msg->type) {
		case CM_SUBSCRIBED:
			consume_subscribed(msg);
			break;
		case CM_DELIVERY:
			consume_delivery(msg);
			break;
		case CM_STATE:
			consume_state(msg);
			break;
		}
		consumer_msg_free(msg);
	}
	consume_sweep();
	client_write_now(); /* the deliver lines of this batch, at once */
}

/* Watch the consumer thread's messages (warrend.c starts and stops the
 * thread). */
int
consume_start(char **cause)
{
	consume_efd = consumer_done_fd();
	consume_ev = event_new(warrend_base, consume_efd, EV_READ | EV_PERSIST,
	    consume_done_cb, NULL);
	if (consume_ev == NULL || event_add(consume_ev, NULL) != 0) {
		xasprintf(cause, "cannot watch the consumer thread");
		return (-1);
	}
	if (consume_batch_start(cause) != 0)
		return (-1);
	consume_service = xstrdup(warrend_conf->service);
	consume_exchange = xstrdup(warrend_conf->exchange);
	return (0);
}

/* Shutting down: answer waiting subscribes. */
void
consume_shutdown(void)
{
	struct consume_event *ev;
	struct consume_wait  *w;
	struct pbuf	      b = { NULL, 0, 0 };

	TAILQ_FOREACH(ev, &consume_events, entry) {
		while ((w = TAILQ_FIRST(&ev->waits)) != NULL) {
			TAILQ_REMOVE(&ev->waits, w, eentry);
			TAILQ_REMOVE(&(*client_subs(w->c))->waits, w, centry);
			request_reply_error(&b, OP_SUBSCRIBE,
			    client_preq_id(w->p), client_preq_idlen(w->p),
			    "shutting_down", "warrend is stopping", NULL);
			client_answer(w->p, &b);
			free(w);
		}
	}
}

/* Free the loop-side state (every client is gone by now). */
void
consume_free(void)
{
	struct consume_event *ev;

	while ((ev = TAILQ_FIRST(&consume_events)) != NULL) {
		TAILQ_REMOVE(&consume_events, ev, entry);
		free(ev->event);
		free(ev);
	}
	if (consume_ev != NULL)
		event_free(consume_ev);
	consume_batch_free();
	consume_efd = -1; /* the consumer's: it closes it */
	free(consume_service);
	free(consume_exchange);
}

/* The number of events being consumed. */
int
consume_active(void)
{
	struct consume_event *ev;
	int		      n = 0;

	TAILQ_FOREACH(ev, &consume_events, entry)
		n += ev->state == CONSUME_ACTIVE;
	return (n);
}
