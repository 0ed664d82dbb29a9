/* retry.c -- the consumer thread's side of delayed retries and of the
 * acked-ids window.
 *
 * Every delivery's properties and body are kept (bounded by prefetch per
 * subscription) until the loop settles it. A retry publishes a copy, with
 * RETRY_ATTEMPT_HDR one higher, on a confirm-mode channel of the same
 * connection to the fanout exchange <service>.retry.<ms> of the tier at or
 * above the delay asked for, with the subscription's queue name as routing
 * key. The tier's queue has x-message-ttl <ms> and dead-letters to the
 * default exchange keeping that routing key: the copy comes back to this
 * service's queue only. Every message in a tier waits the same time, so
 * expiring at the head holds nothing back, and a short delay never waits
 * behind a long one. Past max_attempts the copy goes to the dead-letter
 * queue instead, with RETRY_REASON_HDR saying why. The original is acked
 * only once the broker confirmed the copy: a crash in between leaves both,
 * a duplicate, never a loss. */
#include <sys/queue.h>
#include <sys/stat.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "conf.h"
#include "dedup.h"
#include "log.h"
#include "retry.h"
#include "util.h"

/* A delivery not settled yet: what a copy needs. */
struct retry_held {
	TAILQ_ENTRY(retry_held) entry;
	uint16_t		channel;
	uint64_t		dtag;
	int			attempt;
	amqp_pool_t		pool; /* props' strings and headers */
	amqp_basic_properties_t props;
	char		       *mid; /* message_id, NULL if none */
	void		       *body;
	size_t			bodylen;
};
TAILQ_HEAD(retry_heldq, retry_held);

/* A copy published, waiting for the broker's confirm. */
struct retry_pending {
	TAILQ_ENTRY(retry_pending) entry;
	uint64_t seq;
	uint16_t channel; /* of the original */
	uint64_t dtag;
	int	 live;	    /* its channel is still open */
	int	 exhausted; /* a dead-letter copy */
};
TAILQ_HEAD(retry_pendingq, retry_pending);

/* What retry knows of a subscription. */
struct retry_sub {
	uint16_t      channel;
	char	     *queue;
	char	     *dead;
	struct dedup *dedup; /* NULL: no window */
};

static struct retry {
	pthread_mutex_t	   lock; /* guards stats */
	struct retry_stats stats;

	char		     *service;
	char		     *dlx;
	int		      quorum;
	int		      dead_letter;
	char		     *dedup_dir;
	size_t		      dedup_max_ids;
	uint64_t	      dedup_max_age;
	struct retry_sub     *subs;
	size_t		      nsubs;
	struct retry_heldq    held;
	struct retry_pendingq pending;
	int		      open;	/* RETRY_CHANNEL, in confirm mode */
	uint64_t	      seq;	/* publishes on it */
	uint64_t	      declared; /* tiers declared, a bit each */
} rt = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * The tiers: 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6 and 8 times each power of
 * ten from 100 ms, then 10^8 ms (above RETRY_MAX_MS). Neighbours differ by
 * at most a third, so a retry waits between the delay asked for and a
 * third more (never less than 100 ms), plus the broker's own lateness.
 */
static const int retry_steps[] = { 100, 125, 150, 200, 250, 300, 400, 500, 600,
	800 };
#define RETRY_NSTEPS (sizeof retry_steps / sizeof retry_steps[0])
#define RETRY_DECADES 6
#define RETRY_NTIERS (RETRY_NSTEPS * RETRY_DECADES + 1)

/* The ms of tier i. */
static int
retry_tier(size_t i)
{
	int    scale = 1;
	size_t d;

	if (i >= RETRY_NSTEPS * RETRY_DECADES)
		return (100000000);
	for (d = 0; d < i / RETRY_NSTEPS; d++)
		scale *= 10;
	return (retry_steps[i % RETRY_NSTEPS] * scale);
}

/* The tier index of delay_ms: the smallest tier not shorter. */
static size_t
retry_tier_index(int delay_ms)
{
	size_t i;

	for (i = 0; i < RETRY_NTIERS - 1; i++) {
		if (retry_tier(i) >= delay_ms)
			return (i);
	}
	return (RETRY_NTIERS - 1);
}

/* The delay a retry of delay_ms waits. */
int
retry_tier_ms(int delay_ms)
{
	return (retry_tier(retry_tier_index(delay_ms)));
}

/* Count a stat under the lock. */
static void
retry_count(uint64_t *counter)
{
	pthread_mutex_lock(&rt.lock);
	(*counter)++;
	pthread_mutex_unlock(&rt.lock);
}

/* Copy the stats under the lock. */
void
retry_get_stats(struct retry_stats *st)
{
	pthread_mutex_lock(&rt.lock);
	*st = rt.stats;
	pthread_mutex_unlock(&rt.lock);
}

/* Take the settings of cf. */
void
retry_init(const struct conf *cf)
{
	rt.service = xstrdup(cf->service);
	xasprintf(&rt.dlx, "%s.dlx", cf->exchange);
	rt.quorum = strcmp(cf->queue_type, "quorum") == 0;
	rt.dead_letter = cf->dead_letter;
	rt.dedup_dir = xstrdup(cf->dedup_dir);
	rt.dedup_max_ids = (size_t)cf->dedup_max_ids;
	rt.dedup_max_age = (uint64_t)cf->dedup_max_age;
	TAILQ_INIT(&rt.held);
	TAILQ_INIT(&rt.pending);
}

/* The subscription on channel, or NULL. */
static struct retry_sub *
retry_find_sub(uint16_t channel)
{
	size_t i;

	for (i = 0; i < rt.nsubs; i++) {
		if (rt.subs[i].channel == channel)
			return (&rt.subs[i]);
	}
	return (NULL);
}

/* Seconds since the epoch: the dedup window's clock. */
static uint64_t
retry_now_s(void)
{
	return ((uint64_t)time(NULL));
}

/* Open the dedup file of queue; without one the subscription goes on with
 * no window (at-least-once still holds). */
static struct dedup *
retry_dedup_open(const char *queue)
{
	struct dedup *d;
	char	     *path, *cause = NULL;

	if (rt.dedup_max_ids == 0)
		return (NULL);
	if (mkdir(rt.dedup_dir, 0700) != 0 && errno != EEXIST) {
		log_warn("dedup: %s: no acked-ids window for %s", rt.dedup_dir,
		    queue);
		return (NULL);
	}
	xasprintf(&path, "%s/%s.dedup", rt.dedup_dir, queue);
	d = dedup_open(path, rt.dedup_max_ids, rt.dedup_max_age, retry_now_s(),
	    &cause);
	if (d == NULL) {
		log_warnx("dedup: %s: no acked-ids window for %s", cause,
		    queue);
		free(cause);
	} else
		log_info("dedup: %s: %zu acked ids remembered", path,
		    dedup_count(d));
	free(path);
	return (d);
}

/* The subscription on channel consumes queue. */
void
retry_sub(uint16_t channel, const char *queue, const char *dead)
{
	struct retry_sub *s;

	if (retry_find_sub(channel) != NULL)
		return;
	rt.subs = xreallocarray(rt.subs, rt.nsubs + 1, sizeof *rt.subs);
	s = &rt.subs[rt.nsubs++];
	s->channel = channel;
	s->queue = xstrdup(queue);
	s->dead = xstrdup(dead);
	s->dedup = retry_dedup_open(queue);
}

/* Copy a bytes property into the pool when its flag is set (the library
 * leaves the others uninitialised), else make it empty. */
static void
retry_dup_bytes(amqp_pool_t *pool, amqp_flags_t flags, amqp_flags_t flag,
    amqp_bytes_t *b)
{
	amqp_bytes_t c;

	if (!(flags & flag) || b->len == 0) {
		*b = amqp_empty_bytes;
		return;
	}
	amqp_pool_alloc_bytes(pool, b->len, &c);
	if (c.bytes == NULL)
		fatalx("retry: out of memory");
	memcpy(c.bytes, b->bytes, b->len);
	*b = c;
}

/* An integer header value, or -1. */
static long long
retry_int_value(const amqp_field_value_t *v)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_I8:
		return (v->value.i8);
	case AMQP_FIELD_KIND_U8:
		return (v->value.u8);
	case AMQP_FIELD_KIND_I16:
		return (v->value.i16);
	case AMQP_FIELD_KIND_U16:
		return (v->value.u16);
	case AMQP_FIELD_KIND_I32:
		return (v->value.i32);
	case AMQP_FIELD_KIND_U32:
		return (v->value.u32);
	case AMQP_FIELD_KIND_I64:
		return (v->value.i64);
	default:
		return (-1);
	}
}

/* The attempt a delivery is: one more than the retries before it. */
static int
retry_attempt(const amqp_basic_properties_t *p)
{
	long long v;
	int	  i;

	if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
		return (1);
	for (i = 0; i < p->headers.num_entries; i++) {
		const amqp_table_entry_t *e = &p->headers.entries[i];

		if (e->key.len == strlen(RETRY_ATTEMPT_HDR) &&
		    memcmp(e->key.bytes, RETRY_ATTEMPT_HDR, e->key.len) == 0) {
			v = retry_int_value(&e->value);
			return (v >= 1 && v < 1000000 ? (int)v : 1);
		}
	}
	return (1);
}

/* Keep a copy of a delivery's properties. */
int
retry_hold(uint16_t channel, uint64_t dtag, const amqp_basic_properties_t *p)
{
	struct retry_held	*h = xcalloc(1, sizeof *h);
	amqp_basic_properties_t *c = &h->props;
	amqp_flags_t		 f = p->_flags;

	h->channel = channel;
	h->dtag = dtag;
	h->attempt = retry_attempt(p);
	init_amqp_pool(&h->pool, 1024);
	*c = *p;
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_CONTENT_TYPE_FLAG,
	    &c->content_type);
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_CONTENT_ENCODING_FLAG,
	    &c->content_encoding);
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_CORRELATION_ID_FLAG,
	    &c->correlation_id);
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_REPLY_TO_FLAG, &c->reply_to);
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_MESSAGE_ID_FLAG,
	    &c->message_id);
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_TYPE_FLAG, &c->type);
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_APP_ID_FLAG, &c->app_id);
	retry_dup_bytes(&h->pool, f, AMQP_BASIC_CLUSTER_ID_FLAG,
	    &c->cluster_id);
	/* A copy must not expire early, and the broker refuses a user_id
	 * that is not the connection's. */
	c->_flags &= ~(AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_USER_ID_FLAG);
	c->expiration = c->user_id = amqp_empty_bytes;
	c->headers = amqp_empty_table;
	if ((f & AMQP_BASIC_HEADERS_FLAG) &&
	    amqp_table_clone(&p->headers, &c->headers, &h->pool) !=
		AMQP_STATUS_OK)
		fatalx("retry: out of memory");
	if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
		h->mid = xstrndup(p->message_id.bytes, p->message_id.len);
	TAILQ_INSERT_TAIL(&rt.held, h, entry);
	return (h->attempt);
}

/* The held copy of a delivery, or NULL. Settlements come mostly in order
 * of delivery, so the search starts at the oldest; a body just assembled
 * is that of the newest (newest set). */
static struct retry_held *
retry_find_held(uint16_t channel, uint64_t dtag, int newest)
{
	struct retry_held *h;

	if (newest) {
		for (h = TAILQ_LAST(&rt.held, retry_heldq); h != NULL;
		     h = TAILQ_PREV(h, retry_heldq, entry)) {
			if (h->channel == channel && h->dtag == dtag)
				return (h);
		}
		return (NULL);
	}
	TAILQ_FOREACH(h, &rt.held, entry) {
		if (h->channel == channel && h->dtag == dtag)
			return (h);
	}
	return (NULL);
}

/* Forget a held copy. */
static void
retry_unhold(struct retry_held *h)
{
	TAILQ_REMOVE(&rt.held, h, entry);
	empty_amqp_pool(&h->pool);
	free(h->mid);
	free(h->body);
	free(h);
}

/* Its body is whole: keep it; is its message_id one the app acked? */
int
retry_body(uint16_t channel, uint64_t dtag, const void *body, size_t len)
{
	struct retry_held *h = retry_find_held(channel, dtag, 1);
	struct retry_sub  *s = retry_find_sub(channel);

	if (h == NULL)
		return (0);
	if (h->mid != NULL && s != NULL && s->dedup != NULL &&
	    dedup_seen(s->dedup, h->mid, retry_now_s())) {
		log_debug("dedup: %s: %s was acked already: not handed out",
		    s->queue, h->mid);
		retry_unhold(h);
		retry_count(&rt.stats.deduplicated);
		return (1);
	}
	h->body = xmalloc(len > 0 ? len : 1);
	memcpy(h->body, body, len);
	h->bodylen = len;
	return (0);
}

/* Write the acked ids gathered since the last call to their files: before
 * the acks go to the broker, so that an ack never goes ahead of its id. */
void
retry_dedup_flush(void)
{
	char  *cause = NULL;
	size_t i;

	for (i = 0; i < rt.nsubs; i++) {
		if (rt.subs[i].dedup != NULL &&
		    dedup_flush(rt.subs[i].dedup, &cause) != 0) {
			log_warnx("dedup: %s", cause);
			free(cause);
			cause = NULL;
		}
	}
}

/* The delivery was settled. */
void
retry_settled(uint16_t channel, uint64_t dtag, int acked)
{
	struct retry_held *h = retry_find_held(channel, dtag, 0);
	struct retry_sub  *s = retry_find_sub(channel);
	char		  *cause = NULL;

	if (h == NULL)
		return;
	if (acked && h->mid != NULL && s != NULL && s->dedup != NULL &&
	    dedup_add(s->dedup, h->mid, retry_now_s(), &cause) != 0) {
		log_warnx("dedup: %s", cause);
		free(cause);
	}
	retry_unhold(h);
}

/* Put back every original whose copy will never be confirmed now: the
 * broker redelivers it (maybe a duplicate, never a loss). */
static void
retry_closed(amqp_connection_state_t conn)
{
	struct retry_pending *p;

	rt.open = 0;
	rt.declared = 0;
	while ((p = TAILQ_FIRST(&rt.pending)) != NULL) {
		TAILQ_REMOVE(&rt.pending, p, entry);
		if (p->live) {
			(void)amqp_basic_nack(conn, p->channel, p->dtag, 0, 1);
			consumer_settled_alone(p->channel, p->dtag);
		}
		free(p);
	}
}

/* Check an RPC on RETRY_CHANNEL: 0; -1 when the broker closed the channel
 * (it is opened again next time); -2 when the connection is gone. */
static int
retry_rpc(amqp_connection_state_t conn, const char *what, const char *name)
{
	amqp_rpc_reply_t	r = amqp_get_rpc_reply(conn);
	amqp_channel_close_ok_t ok;
	char			msg[512];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return (0);
	broker_reply_text(r, msg, sizeof msg);
	log_warnx("retry: %s %s: %s", what, name, msg);
	if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		amqp_send_method(conn, RETRY_CHANNEL,
		    AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
		retry_closed(conn);
		return (-1);
	}
	return (-2);
}

/* Open RETRY_CHANNEL in confirm mode, once per connection. */
static int
retry_open(amqp_connection_state_t conn)
{
	int rv;

	if (rt.open)
		return (0);
	amqp_channel_open(conn, RETRY_CHANNEL);
	if ((rv = retry_rpc(conn, "channel.open", "for retries")) != 0)
		return (rv);
	amqp_confirm_select(conn, RETRY_CHANNEL);
	if ((rv = retry_rpc(conn, "confirm.select", "for retries")) != 0)
		return (rv);
	rt.open = 1;
	rt.seq = 0;
	return (0);
}

/* A string table entry. */
static void
retry_arg(amqp_table_entry_t *e, const char *key, const char *value)
{
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
}

/* Declare tier i: its fanout exchange and its queue, whose messages expire
 * after the tier's ms and go back through the default exchange. */
static int
retry_declare(amqp_connection_state_t conn, size_t i, const char *name)
{
	amqp_table_entry_t a[3];
	amqp_table_t	   args = { 0, a };
	int		   rv;

	if (rt.declared & (1ULL << i))
		return (0);
	a[0].key = amqp_cstring_bytes("x-message-ttl");
	a[0].value.kind = AMQP_FIELD_KIND_I64;
	a[0].value.value.i64 = retry_tier(i);
	retry_arg(&a[1], "x-dead-letter-exchange", "");
	args.num_entries = 2;
	if (rt.quorum)
		retry_arg(&a[args.num_entries++], "x-queue-type", "quorum");
	amqp_exchange_declare(conn, RETRY_CHANNEL, amqp_cstring_bytes(name),
	    amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
	if ((rv = retry_rpc(conn, "exchange.declare", name)) != 0)
		return (rv);
	amqp_queue_declare(conn, RETRY_CHANNEL, amqp_cstring_bytes(name), 0, 1,
	    0, 0, args);
	if ((rv = retry_rpc(conn, "queue.declare", name)) != 0)
		return (rv);
	amqp_queue_bind(conn, RETRY_CHANNEL, amqp_cstring_bytes(name),
	    amqp_cstring_bytes(name), amqp_empty_bytes, amqp_empty_table);
	if ((rv = retry_rpc(conn, "queue.bind", name)) != 0)
		return (rv);
	rt.declared |= 1ULL << i;
	return (0);
}

/* A header entry with key: is it one of ours (replaced in a copy)? */
static int
retry_our_header(const amqp_bytes_t *key)
{
	return ((key->len == strlen(RETRY_ATTEMPT_HDR) &&
		    memcmp(key->bytes, RETRY_ATTEMPT_HDR, key->len) == 0) ||
	    (key->len == strlen(RETRY_REASON_HDR) &&
		memcmp(key->bytes, RETRY_REASON_HDR, key->len) == 0));
}

/* Publish a persistent copy of h to exchange with routing key rk, with
 * attempt and (if not NULL) reason in its headers. */
static int
retry_publish(amqp_connection_state_t conn, const struct retry_held *h,
    const char *exchange, const char *rk, int attempt, const char *reason)
{
	amqp_basic_properties_t p = h->props;
	amqp_table_entry_t     *e;
	amqp_bytes_t		body = { h->bodylen, h->body };
	int			i, n = 0, old = 0, rv;

	if (p._flags & AMQP_BASIC_HEADERS_FLAG)
		old = p.headers.num_entries;
	e = xcalloc((size_t)old + 2, sizeof *e);
	for (i = 0; i < old; i++) {
		if (!retry_our_header(&p.headers.entries[i].key))
			e[n++] = p.headers.entries[i];
	}
	e[n].key = amqp_cstring_bytes(RETRY_ATTEMPT_HDR);
	e[n].value.kind = AMQP_FIELD_KIND_I64;
	e[n++].value.value.i64 = attempt;
	if (reason != NULL) {
		e[n].key = amqp_cstring_bytes(RETRY_REASON_HDR);
		e[n].value.kind = AMQP_FIELD_KIND_UTF8;
		e[n++].value.value.bytes = amqp_cstring_bytes(reason);
	}
	p.headers.num_entries = n;
	p.headers.entries = e;
	p._flags |= AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	rv = amqp_basic_publish(conn, RETRY_CHANNEL,
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(rk), 0, 0, &p,
	    body);
	free(e);
	return (rv == AMQP_STATUS_OK ? 0 : -1);
}

/* A copy of h went out: ack its original once it is confirmed. */
static void
retry_pending_add(const struct retry_held *h, int exhausted)
{
	struct retry_pending *p = xcalloc(1, sizeof *p);

	p->seq = ++rt.seq;
	p->channel = h->channel;
	p->dtag = h->dtag;
	p->live = 1;
	p->exhausted = exhausted;
	TAILQ_INSERT_TAIL(&rt.pending, p, entry);
}

/* No copy can be made: give the original back to the broker. */
static int
retry_requeue(amqp_connection_state_t conn, uint16_t channel, uint64_t dtag)
{
	struct retry_held *h = retry_find_held(channel, dtag, 0);

	log_warnx("retry: delivery %s cannot be retried later: requeued now",
	    h != NULL && h->mid != NULL ? h->mid : "-");
	if (h != NULL)
		retry_unhold(h);
	consumer_settled_alone(channel, dtag);
	return (amqp_basic_nack(conn, channel, dtag, 0, 1) == AMQP_STATUS_OK ?
		0 :
		-1);
}

/* Past max_attempts: a copy to the dead-letter queue with the reason, or,
 * without dead-lettering, the broker drops it. */
static int
retry_exhaust(amqp_connection_state_t conn, struct retry_held *h,
    const struct retry_sub *s, int max_attempts)
{
	char *reason;
	int   rv;

	xasprintf(&reason, "max_attempts: attempt %d of %d asked for a retry",
	    h->attempt, max_attempts);
	log_warnx("retry: %s of %s: %s: %s", h->mid != NULL ? h->mid : "-",
	    s->queue, reason,
	    rt.dead_letter ? "dead-lettered" : "dropped (dead_letter = false)");
	if (!rt.dead_letter) {
		free(reason);
		rv = amqp_basic_nack(conn, h->channel, h->dtag, 0, 0);
		consumer_settled_alone(h->channel, h->dtag);
		retry_unhold(h);
		return (rv == AMQP_STATUS_OK ? 0 : -1);
	}
	if ((rv = retry_open(conn)) != 0) {
		free(reason);
		return (rv == -2 ? -1 :
				   retry_requeue(conn, h->channel, h->dtag));
	}
	rv = retry_publish(conn, h, rt.dlx, s->dead, h->attempt, reason);
	free(reason);
	if (rv != 0)
		return (-1);
	retry_pending_add(h, 1);
	retry_unhold(h);
	return (0);
}

/* The app asked to see the delivery again in delay_ms. */
int
retry_later(amqp_connection_state_t conn, uint16_t channel, uint64_t dtag,
    int delay_ms, int max_attempts)
{
	struct retry_held *h = retry_find_held(channel, dtag, 0);
	struct retry_sub  *s = retry_find_sub(channel);
	size_t		   i = retry_tier_index(delay_ms);
	char		  *name;
	int		   rv;

	if (h == NULL || s == NULL || h->body == NULL)
		return (retry_requeue(conn, channel, dtag));
	if (h->attempt >= max_attempts)
		return (retry_exhaust(conn, h, s, max_attempts));
	xasprintf(&name, "%s.retry.%d", rt.service, retry_tier(i));
	if ((rv = retry_open(conn)) == 0)
		rv = retry_declare(conn, i, name);
	if (rv == 0)
		rv = retry_publish(conn, h, name, s->queue, h->attempt + 1,
			 NULL) == 0 ?
		    0 :
		    -2;
	free(name);
	if (rv == -2)
		return (-1);
	if (rv == -1)
		return (retry_requeue(conn, channel, dtag));
	retry_pending_add(h, 0);
	retry_unhold(h);
	return (0);
}

/* The broker confirmed (ok) or refused copies up to tag: ack their
 * originals, or give them back. */
static int
retry_confirmed(amqp_connection_state_t conn, uint64_t tag, int multiple,
    int ok)
{
	struct retry_pending *p, *next;
	int		      rv = 0;

	for (p = TAILQ_FIRST(&rt.pending); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (multiple ? p->seq > tag : p->seq != tag)
			continue;
		TAILQ_REMOVE(&rt.pending, p, entry);
		if (p->live)
			consumer_settled_alone(p->channel, p->dtag);
		if (p->live && ok) {
			if (amqp_basic_ack(conn, p->channel, p->dtag, 0) !=
			    AMQP_STATUS_OK)
				rv = -1;
			retry_count(p->exhausted ? &rt.stats.exhausted :
						   &rt.stats.retried);
		} else if (p->live) {
			log_warnx("retry: the broker refused a retry copy: "
				  "the original is requeued now");
			if (amqp_basic_nack(conn, p->channel, p->dtag, 0, 1) !=
			    AMQP_STATUS_OK)
				rv = -1;
		}
		free(p);
	}
	return (rv);
}

/* A frame on RETRY_CHANNEL: confirms, or the broker closing it. */
int
retry_frame(amqp_connection_state_t conn, const amqp_frame_t *f)
{
	const amqp_basic_ack_t	   *a;
	const amqp_basic_nack_t	   *n;
	const amqp_channel_close_t *c;
	amqp_channel_close_ok_t	    ok;

	if (f->frame_type != AMQP_FRAME_METHOD)
		return (0);
	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD:
		a = f->payload.method.decoded;
		return (retry_confirmed(conn, a->delivery_tag, a->multiple, 1));
	case AMQP_BASIC_NACK_METHOD:
		n = f->payload.method.decoded;
		return (retry_confirmed(conn, n->delivery_tag, n->multiple, 0));
	case AMQP_CHANNEL_CLOSE_METHOD:
		c = f->payload.method.decoded;
		log_warnx("retry: the broker closed the retry channel: %u %.*s",
		    c->reply_code, (int)c->reply_text.len,
		    (const char *)c->reply_text.bytes);
		amqp_send_method(conn, RETRY_CHANNEL,
		    AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
		retry_closed(conn);
		return (0);
	default:
		return (0);
	}
}

/* channel closed: its deliveries are the broker's again. */
void
retry_channel_gone(uint16_t channel)
{
	struct retry_held    *h, *hn;
	struct retry_pending *p;

	for (h = TAILQ_FIRST(&rt.held); h != NULL; h = hn) {
		hn = TAILQ_NEXT(h, entry);
		if (h->channel == channel)
			retry_unhold(h);
	}
	TAILQ_FOREACH(p, &rt.pending, entry) {
		if (p->channel == channel)
			p->live = 0;
	}
}

/* The connection is gone: the broker has every unacked delivery back. */
void
retry_drop(void)
{
	struct retry_held    *h;
	struct retry_pending *p;

	while ((h = TAILQ_FIRST(&rt.held)) != NULL)
		retry_unhold(h);
	while ((p = TAILQ_FIRST(&rt.pending)) != NULL) {
		TAILQ_REMOVE(&rt.pending, p, entry);
		free(p);
	}
	rt.open = 0;
	rt.declared = 0;
	rt.seq = 0;
}

/* Free everything. */
void
retry_free(void)
{
	size_t i;

	retry_drop();
	for (i = 0; i < rt.nsubs; i++) {
		free(rt.subs[i].queue);
		free(rt.subs[i].dead);
		dedup_close(rt.subs[i].dedup);
	}
	free(rt.subs);
	rt.subs = NULL;
	rt.nsubs = 0;
	free(rt.service);
	free(rt.dlx);
	free(rt.dedup_dir);
}
