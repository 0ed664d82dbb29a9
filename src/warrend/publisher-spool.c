/* publisher-spool.c -- the publisher thread's use of the spool: events
 * the broker cannot take now are written to it and answered, and read back
 * and republished once it can. Runs on the publisher thread only.
 *
 * A job is kept as the payload of one spool record (little-endian):
 *
 *	u16 routing key length, u16 type length, u16 message_id length,
 *	u16 trace length T, the three strings, T bytes of trace context,
 *	the body;
 *
 * the record's time is the job's timestamp. The trace context, when T is
 * not 0, is u8 traceparent length, the traceparent, the tracestate (the
 * rest). Records written before there was one have T = 0 there. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "publisher-int.h"
#include "spool.h"
#include "trace.h"
#include "util.h"

#define PUB_SPOOL_FIXED 8 /* payload bytes before the strings */

/* Store v as a little-endian u16. */
static void
publisher_spool_put(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

/* Load a little-endian u16. */
static size_t
publisher_spool_get(const unsigned char *p)
{
	return ((size_t)p[0] | (size_t)p[1] << 8);
}

/* The length of j's trace context in a record (0: none). */
static size_t
publisher_spool_trace_len(const struct pub_job *j)
{
	if (j->traceparent == NULL)
		return (0);
	return (1 + strlen(j->traceparent) +
	    (j->tracestate != NULL ? strlen(j->tracestate) : 0));
}

/* Write j's trace context (xl bytes) at p. */
static void
publisher_spool_put_trace(unsigned char *p, const struct pub_job *j, size_t xl)
{
	size_t pl;

	if (xl == 0)
		return;
	pl = strlen(j->traceparent); /* at most 255: proto.c checked it */
	p[0] = (unsigned char)pl;
	memcpy(p + 1, j->traceparent, pl);
	if (j->tracestate != NULL)
		memcpy(p + 1 + pl, j->tracestate, xl - 1 - pl);
}

/* Append j to the spool as one record: spool_append's result. */
static int
publisher_spool_append(struct publisher *pb, struct pub_job *j)
{
	size_t		  rl = strlen(j->routing_key);
	size_t		  tl = strlen(j->type), ml = strlen(j->message_id);
	size_t		  xl = publisher_spool_trace_len(j);
	struct spool_data d;
	unsigned char	 *buf, *p;
	int		  rv;

	if (rl > 65535 || tl > 65535 || xl > 65535 ||
	    j->bodylen > SIZE_MAX / 2) {
		errno = EFBIG;
		return (-2);
	}
	d.len = PUB_SPOOL_FIXED + rl + tl + ml + xl + j->bodylen;
	buf = xmalloc(d.len);
	publisher_spool_put(buf, rl);
	publisher_spool_put(buf + 2, tl);
	publisher_spool_put(buf + 4, ml);
	publisher_spool_put(buf + 6, xl);
	p = buf + PUB_SPOOL_FIXED;
	memcpy(p, j->routing_key, rl);
	memcpy(p + rl, j->type, tl);
	memcpy(p + rl + tl, j->message_id, ml);
	publisher_spool_put_trace(p + rl + tl + ml, j, xl);
	memcpy(p + rl + tl + ml + xl, j->body, j->bodylen);
	d.bytes = buf;
	d.time_ms = j->timestamp_ms;
	rv = spool_append(pb->spool, &d);
	free(buf);
	return (rv);
}

/* Give j the trace context of a record, xl bytes at s (none if 0). */
static void
publisher_spool_get_trace(struct pub_job *j, const char *s, size_t xl)
{
	char *tp, *ts;

	if (xl == 0)
		return;
	tp = xstrndup(s + 1, (unsigned char)s[0]);
	ts = xstrndup(s + 1 + (unsigned char)s[0],
	    xl - 1 - (unsigned char)s[0]);
	trace_job_set(j, tp, ts);
	free(tp);
	free(ts);
}

/* A job from a record read back, or NULL if its payload is not a job. */
static struct pub_job *
publisher_spool_decode(const struct spool_data *d)
{
	const unsigned char *p = d->bytes;
	const char	    *s = (const char *)p + PUB_SPOOL_FIXED;
	size_t		     rl, tl, ml, xl;
	char		    *rk, *type, mid[256];
	struct pub_job	    *j;

	if (d->len < PUB_SPOOL_FIXED)
		return (NULL);
	rl = publisher_spool_get(p);
	tl = publisher_spool_get(p + 2);
	ml = publisher_spool_get(p + 4);
	xl = publisher_spool_get(p + 6);
	if (PUB_SPOOL_FIXED + rl + tl + ml + xl > d->len ||
	    (xl > 0 && (size_t)(unsigned char)s[rl + tl + ml] + 1 > xl))
		return (NULL);
	rk = xstrndup(s, rl);
	type = xstrndup(s + rl, tl);
	snprintf(mid, sizeof mid, "%.*s", (int)(ml > 255 ? 255 : ml),
	    s + rl + tl);
	j = publisher_job_new(rk, type, mid, s + rl + tl + ml + xl,
	    d->len - PUB_SPOOL_FIXED - rl - tl - ml - xl);
	j->timestamp_ms = d->time_ms;
	j->from_spool = 1;
	publisher_spool_get_trace(j, s + rl + tl + ml, xl);
	free(rk);
	free(type);
	return (j);
}

/* The next record of the spool as a job, or NULL. */
static struct pub_job *
publisher_spool_next(struct publisher *p)
{
	struct spool_data d;
	struct spool_rec *r;
	struct pub_job	 *j;

	while ((r = spool_next(p->spool, &d)) != NULL) {
		if ((j = publisher_spool_decode(&d)) != NULL) {
			j->srec = r;
			j->spool_seq = p->spool_seq++;
			return (j);
		}
		log_warnx("publisher: a spool record of %zu bytes is not an "
			  "event: dropped",
		    d.len);
		spool_done(p->spool, r);
	}
	return (NULL);
}

/* A record read back was confirmed: release it and free its job. */
void
publisher_spool_done(struct publisher *p, struct pub_job *j)
{
	spool_done(p->spool, j->srec);
	publisher_job_free(j);
}

/* A record read back is forgotten, to be read again after spool_rewind. */
static void
publisher_spool_forget(struct pub_job *j)
{
	j->srec = NULL; /* spool_rewind frees the handle */
	publisher_job_free(j);
}

/* The count line of a slow-confirm spell: from a new one or the tick. */
static void
publisher_spool_slow_count(const struct publisher *p, uint64_t n)
{
	log_warnx("publisher: broker %s is slow to confirm: %llu more events "
		  "went to the spool",
	    p->addr, (unsigned long long)n);
}

/* The count line of a spell of nacks: from a new one or the tick. */
static void
publisher_spool_nack_count(const struct publisher *p, uint64_t n)
{
	log_warnx("publisher: broker %s refused events %llu more times",
	    p->addr, (unsigned long long)n);
}

/* An append or sync failed: logged when it starts, then as a count every
 * few seconds (a full disk fails every event). */
static void
publisher_spool_failed(struct lograte *lr, const char *what, int error)
{
	uint64_t n = 0;

	switch (lograte_hit(lr, util_now_ms(), 1, &n)) {
	case LOGRATE_FIRST:
		errno = error;
		log_warn("publisher: spool %s", what);
		break;
	case LOGRATE_COUNT:
		errno = error;
		log_warn("publisher: spool %s failed %llu more times", what,
		    (unsigned long long)n);
		break;
	case LOGRATE_QUIET:
		break;
	}
}

/* An append or sync worked: if it had been failing, say it is over. */
static void
publisher_spool_works(struct lograte *lr, const char *what)
{
	uint64_t total, ms;

	if (lograte_end(lr, util_now_ms(), &total, &ms))
		log_info("publisher: spool %s works again, after %llu failures "
			 "in %llu ms",
		    what, (unsigned long long)total, (unsigned long long)ms);
}

/*
 * Write jobs to the spool in order, as one group commit, and answer each:
 * spooled, or full. Cancelled jobs are given back; copies already spooled
 * (detached jobs) are freed.
 */
void
publisher_spool_write(struct publisher *p, struct pub_jobq *q)
{
	struct pub_jobq done = TAILQ_HEAD_INITIALIZER(done);
	struct pub_job *j;
	int		rv;

	while ((j = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, j, entry);
		if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) {
			publisher_finish(p, j, PUB_CANCELLED);
			continue;
		}
		if (j->cookie == NULL) {
			publisher_job_free(j); /* it is in the spool already */
			p->detached--;
			continue;
		}
		if ((rv = publisher_spool_append(p, j)) == -2)
			publisher_spool_failed(&p->lr_append, "append", errno);
		else
			publisher_spool_works(&p->lr_append, "append");
		j->outcome = rv == 0 ? PUB_SPOOLED : PUB_FULL;
		if (rv == -1 && !p->spool_full)
			log_warnx("publisher: spool is full (max_bytes): "
				  "refusing events until it drains");
		else if (rv == 0 && p->spool_full)
			log_info("publisher: spool accepts events again");
		if (rv != -2)
			p->spool_full = rv == -1;
		TAILQ_INSERT_TAIL(&done, j, entry);
	}
	if (!TAILQ_EMPTY(&done) && spool_sync(p->spool) != 0) {
		/* Not known to be durable: say so; replay may still send it. */
		publisher_spool_failed(&p->lr_sync, "sync", errno);
		TAILQ_FOREACH(j, &done, entry)
			j->outcome = PUB_FULL;
	} else if (!TAILQ_EMPTY(&done))
		publisher_spool_works(&p->lr_sync, "sync");
	/* The figures first: a client told "spooled" finds it in stats. */
	if (!TAILQ_EMPTY(&done))
		publisher_spool_stats(p);
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, entry);
		publisher_finish(p, j, j->outcome);
	}
}

/*
 * The connection went (or we stop): records read back from the spool are
 * forgotten and read again later; events of waiting clients go to the
 * spool behind them, in order.
 */
void
publisher_spool_unsent(struct publisher *p, struct pub_jobq *q)
{
	struct pub_jobq direct = TAILQ_HEAD_INITIALIZER(direct);
	struct pub_job *j;

	while ((j = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, j, entry);
		if (!j->from_spool)
			TAILQ_INSERT_TAIL(&direct, j, entry);
		else
			publisher_spool_forget(j);
	}
	spool_rewind(p->spool);
	publisher_spool_write(p, &direct);
}

/* Blocked: events not yet sent go to the spool; records read back from
 * it stay queued for when the broker unblocks. */
void
publisher_spool_pending(struct publisher *p)
{
	struct pub_jobq direct = TAILQ_HEAD_INITIALIZER(direct);
	struct pub_job *j, *next;

	for (j = TAILQ_FIRST(&p->pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->from_spool)
			continue;
		TAILQ_REMOVE(&p->pending, j, entry);
		TAILQ_INSERT_TAIL(&direct, j, entry);
	}
	publisher_spool_write(p, &direct);
}

/* Does spooled record a come before b in the spool? */
static int
publisher_spool_before(const struct pub_job *a, const struct pub_job *b)
{
	return (a->spool_seq < b->spool_seq);
}

/*
 * The broker nacked j. With a spool a nack means "not confirmed", never
 * "refused": a quorum queue electing a leader nacks for seconds. A spooled
 * event waits on the retry list, in spool order, to be published again
 * alone (never the whole window); a direct event goes to the spool and
 * its client hears ok, spooled.
 */
void
publisher_spool_nacked(struct publisher *p, struct pub_job *j)
{
	struct pub_job *k;

	p->spool_refused = 1;
	p->refusing = 1;
	j->returned = 0;
	if (!j->from_spool) {
		TAILQ_INSERT_TAIL(&p->nacked, j, entry);
		return;
	}
	/* Nacks come in tag order, mostly; keep the retries in spool order. */
	k = TAILQ_LAST(&p->retry, pub_jobq);
	if (k == NULL || publisher_spool_before(k, j)) {
		TAILQ_INSERT_TAIL(&p->retry, j, entry);
		return;
	}
	TAILQ_FOREACH(k, &p->retry, entry) {
		if (publisher_spool_before(j, k)) {
			TAILQ_INSERT_BEFORE(k, j, entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&p->retry, j, entry);
}

/*
 * After a round of nacks: nacked direct events go to the spool, with the
 * events not yet sent behind them, so nothing overtakes them; the drain
 * pauses (100 ms doubling, at most PUBLISHER_RETRY_CAP_MS). A channel that
 * goes on nacking round after round is replaced: RabbitMQ 3.10 leaves a
 * channel that met a quorum queue without a leader nacking long after a
 * new leader was elected, where a new channel is taken at once.
 */
void
publisher_spool_retreat(struct publisher *p)
{
	struct pub_jobq q = TAILQ_HEAD_INITIALIZER(q);
	struct pub_job *j, *next;
	uint64_t	delay, n;

	if (!p->spool_refused)
		return;
	p->spool_refused = 0;
	TAILQ_CONCAT(&q, &p->nacked, entry);
	for (j = TAILQ_FIRST(&p->pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (!j->from_spool) {
			TAILQ_REMOVE(&p->pending, j, entry);
			TAILQ_INSERT_TAIL(&q, j, entry);
		}
	}
	if (!TAILQ_EMPTY(&q))
		publisher_spool_write(p, &q);
	/* Nacks of what was sent before the pause began are the same
	 * round; only a retry nacked again makes the pause grow. */
	if (util_now_ms() < p->spool_hold)
		return;
	delay = util_backoff_ms(100, PUBLISHER_RETRY_CAP_MS, p->spool_holds++);
	p->spool_hold = util_now_ms() + delay;
	/* A new connection nacking its probe again, or any connection
	 * nacking round after round: its channel may be stuck. */
	if ((!p->proven && p->spool_holds >= 2) || p->spool_holds % 4 == 3)
		p->renew = 1;
	pthread_mutex_lock(&p->lock);
	p->stats.refusing = 1;
	pthread_mutex_unlock(&p->lock);
	switch (lograte_hit(&p->lr_nack, util_now_ms(), 1, &n)) {
	case LOGRATE_FIRST:
		log_warnx("publisher: broker %s refused (nacked) events: "
			  "kept, trying again in %llu ms",
		    p->addr, (unsigned long long)delay);
		break;
	case LOGRATE_COUNT:
		publisher_spool_nack_count(p, n);
		break;
	case LOGRATE_QUIET:
		break;
	}
}

/* The connection went: the retries are records the spool reads again;
 * nacked direct events join the events to spool. */
void
publisher_spool_lost(struct publisher *p, struct pub_jobq *back)
{
	struct pub_jobq q = TAILQ_HEAD_INITIALIZER(q);

	TAILQ_CONCAT(&q, &p->retry, entry); /* from_spool: rewound */
	TAILQ_CONCAT(&q, &p->nacked, entry);
	TAILQ_CONCAT(&q, back, entry);
	TAILQ_CONCAT(back, &q, entry);
	p->spool_refused = 0;
	p->refusing = 0;
	pthread_mutex_lock(&p->lock);
	p->stats.refusing = 0;
	pthread_mutex_unlock(&p->lock);
}

/* Nacks go on: a new connection is tried. Logged when it starts, then as
 * counts. */
void
publisher_spool_renew_log(struct publisher *p)
{
	uint64_t n;

	switch (lograte_hit(&p->lr_renew, util_now_ms(), 1, &n)) {
	case LOGRATE_FIRST:
		log_warnx("publisher: broker %s goes on refusing events: "
			  "trying a new connection",
		    p->addr);
		break;
	case LOGRATE_COUNT:
		log_warnx("publisher: broker %s goes on refusing events: "
			  "%llu more new connections",
		    p->addr, (unsigned long long)n);
		break;
	case LOGRATE_QUIET:
		break;
	}
}

/* A confirm: a spell of refusals, if any, is over. */
void
publisher_spool_taken(struct publisher *p)
{
	uint64_t total, ms;

	p->refusing = 0;
	pthread_mutex_lock(&p->lock);
	p->stats.refusing = 0;
	pthread_mutex_unlock(&p->lock);
	(void)lograte_end(&p->lr_renew, util_now_ms(), &total, &ms);
	if (lograte_end(&p->lr_nack, util_now_ms(), &total, &ms))
		log_info("publisher: broker %s takes events again, after %llu "
			 "rounds of nacks in %llu ms",
		    p->addr, (unsigned long long)total, (unsigned long long)ms);
}

/* Read records back from the spool while the window has room. */
void
publisher_spool_fill(struct publisher *p)
{
	struct pub_job *j;
	int		room = confirm_free_tags(&p->ring);

	/* Not while copies of spooled events are still in flight on a slow
	 * connection: they would only go out a third time. */
	if (p->spool == NULL || p->blocked || p->stopping ||
	    !TAILQ_EMPTY(&p->pending) || util_now_ms() < p->spool_hold ||
	    p->detached > 0)
		return;
	/*
	 * A connection made after one was lost, until it confirms, or a
	 * broker that nacks, gets one event at a time. A quorum queue
	 * electing a leader after its node died nacks what it is sent, and
	 * may store it all the same: a whole window sent then would come
	 * twice.
	 */
	if (p->probing || p->refusing) {
		if (confirm_inflight(&p->ring) > 0 || !TAILQ_EMPTY(&p->pending))
			return;
		room = 1;
	}
	/* The nacked ones again first, in spool order. */
	while (room > 0 && (j = TAILQ_FIRST(&p->retry)) != NULL) {
		TAILQ_REMOVE(&p->retry, j, entry);
		TAILQ_INSERT_TAIL(&p->pending, j, entry);
		room--;
	}
	while (room-- > 0 && (j = publisher_spool_next(p)) != NULL)
		TAILQ_INSERT_TAIL(&p->pending, j, entry);
}

/*
 * A publish the broker has not confirmed within half of publish_timeout_ms
 * (a slow or silently stuck broker) is made safe in the spool and its
 * client answered; the copy in flight is kept only to be confirmed.
 */
void
publisher_spool_timeouts(struct publisher *p)
{
	struct pub_jobq q = TAILQ_HEAD_INITIALIZER(q);
	struct pub_job *j, *copy;
	uint64_t	t, now = util_now_ms(), n = 0, count = 0;
	uint64_t	limit = (uint64_t)p->publish_timeout_ms / 2;

	if (p->spool == NULL)
		return;
	for (t = confirm_first(&p->ring); t != 0;
	     t = confirm_after(&p->ring, t)) {
		j = confirm_get(&p->ring, t);
		if (j->from_spool || j->cookie == NULL)
			continue;
		if (now - j->sent_ms < limit)
			break;
		/*
		 * The job the loop knows goes to the spool and back to the
		 * loop; a copy the loop never sees waits here for the
		 * confirm, so the loop can never touch a freed job.
		 */
		copy = publisher_job_new(j->routing_key, j->type, j->message_id,
		    j->body, j->bodylen);
		copy->timestamp_ms = j->timestamp_ms;
		copy->tag = j->tag;
		copy->sent_ms = j->sent_ms;
		copy->returned = j->returned;
		confirm_replace(&p->ring, t, copy);
		p->detached++;
		TAILQ_INSERT_TAIL(&q, j, entry);
		n++;
	}
	if (n == 0)
		return;
	switch (lograte_hit(&p->lr_slow, now, n, &count)) {
	case LOGRATE_FIRST:
		log_warnx("publisher: broker %s is slow to confirm: events "
			  "go to the spool",
		    p->addr);
		break;
	case LOGRATE_COUNT:
		publisher_spool_slow_count(p, count);
		break;
	case LOGRATE_QUIET:
		break;
	}
	publisher_spool_write(p, &q);
}

/* The broker confirmed an event within the limit: a slow spell, if there
 * was one, is over. */
void
publisher_spool_in_time(struct publisher *p)
{
	uint64_t total, ms;

	if (lograte_end(&p->lr_slow, util_now_ms(), &total, &ms))
		log_info("publisher: broker %s confirms in time again; %llu "
			 "events were slow to confirm in %llu ms",
		    p->addr, (unsigned long long)total, (unsigned long long)ms);
}

/* While events wait in the spool, the connector tries again at least
 * every ~2 s: the broker may be back (another node of a cluster) long
 * before a grown backoff would look. */
void
publisher_spool_cap(struct publisher *p)
{
	int cap;

	cap = p->spool != NULL && spool_pending(p->spool) > 0 ?
	    PUBLISHER_RETRY_CAP_MS :
	    0;
	if (cap != p->cap_ms) {
		p->cap_ms = cap;
		broker_async_cap(p->async, cap);
	}
}

/* Copy the spool's figures where the loop can read them, and show the
 * loop (and so the watchdog) that this thread is alive. */
void
publisher_spool_stats(struct publisher *p)
{
	uint64_t n;

	if (lograte_tick(&p->lr_slow, util_now_ms(), &n) == LOGRATE_COUNT)
		publisher_spool_slow_count(p, n);
	if (lograte_tick(&p->lr_nack, util_now_ms(), &n) == LOGRATE_COUNT)
		publisher_spool_nack_count(p, n);
	pthread_mutex_lock(&p->lock);
	p->stats.alive++;
	if (p->spool != NULL)
		spool_get_stats(p->spool, &p->stats.spool);
	pthread_mutex_unlock(&p->lock);
}
