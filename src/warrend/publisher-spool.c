/* publisher-spool.c -- the publisher thread's use of the spool: events
 * the broker cannot take now are written to it and answered, and read back
 * and republished once it can. Runs on the publisher thread only. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "log.h"
#include "publisher-int.h"
#include "spool.h"
#include "util.h"

/* An append or sync failed: logged when it starts, then as a count every
 * few seconds (a full disk fails every event). */
static void
publisher_spool_failed(struct lograte *lr, const char *what, int error)
{
	uint64_t	 n = 0;

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
	uint64_t	 total, ms;

	if (lograte_end(lr, util_now_ms(), &total, &ms))
		log_info("publisher: spool %s works again, after %llu failures "
		    "in %llu ms", what, (unsigned long long)total,
		    (unsigned long long)ms);
}

/*
 * Write jobs to the spool in order, as one group commit, and answer each:
 * spooled, or full. Cancelled jobs are given back; copies already spooled
 * (detached jobs) are freed.
 */
void
publisher_spool_write(struct pub_jobq *q)
{
	struct pub_jobq	 done = TAILQ_HEAD_INITIALIZER(done);
	struct pub_job	*j;
	int		 rv;

	while ((j = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, j, entry);
		if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) {
			publisher_finish(j, PUB_CANCELLED);
			continue;
		}
		if (j->cookie == NULL) {
			publisher_job_free(j);	/* it is in the spool already */
			pub.detached--;
			continue;
		}
		if ((rv = spool_append(pub.spool, j)) == -2)
			publisher_spool_failed(&pub.lr_append, "append", errno);
		else
			publisher_spool_works(&pub.lr_append, "append");
		j->outcome = rv == 0 ? PUB_SPOOLED : PUB_FULL;
		if (rv == -1 && !pub.spool_full)
			log_warnx("publisher: spool is full (max_bytes): "
			    "refusing events until it drains");
		else if (rv == 0 && pub.spool_full)
			log_info("publisher: spool accepts events again");
		if (rv != -2)
			pub.spool_full = rv == -1;
		TAILQ_INSERT_TAIL(&done, j, entry);
	}
	if (!TAILQ_EMPTY(&done) && spool_sync(pub.spool) != 0) {
		/* Not known to be durable: say so; replay may still send it. */
		publisher_spool_failed(&pub.lr_sync, "sync", errno);
		TAILQ_FOREACH(j, &done, entry)
			j->outcome = PUB_FULL;
	} else if (!TAILQ_EMPTY(&done))
		publisher_spool_works(&pub.lr_sync, "sync");
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, entry);
		publisher_finish(j, j->outcome);
	}
}

/*
 * The connection went (or we stop): records read back from the spool are
 * forgotten and read again later; events of waiting clients go to the
 * spool behind them, in order.
 */
void
publisher_spool_unsent(struct pub_jobq *q)
{
	struct pub_jobq	 direct = TAILQ_HEAD_INITIALIZER(direct);
	struct pub_job	*j;

	while ((j = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, j, entry);
		if (!j->from_spool)
			TAILQ_INSERT_TAIL(&direct, j, entry);
	}
	spool_rewind(pub.spool);
	publisher_spool_write(&direct);
}

/* Blocked: events not yet sent go to the spool; records read back from
 * it stay queued for when the broker unblocks. */
void
publisher_spool_pending(void)
{
	struct pub_jobq	 direct = TAILQ_HEAD_INITIALIZER(direct);
	struct pub_job	*j, *next;

	for (j = TAILQ_FIRST(&pub.pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->from_spool)
			continue;
		TAILQ_REMOVE(&pub.pending, j, entry);
		TAILQ_INSERT_TAIL(&direct, j, entry);
	}
	publisher_spool_write(&direct);
}

/* Does spooled record a come before b in the spool? */
static int
publisher_spool_before(const struct pub_job *a, const struct pub_job *b)
{
	return (a->spool_seg < b->spool_seg || (a->spool_seg == b->spool_seg &&
	    a->spool_end < b->spool_end));
}

/*
 * The broker nacked j. With a spool a nack means "not confirmed", never
 * "refused": a quorum queue electing a leader nacks for seconds. A spooled
 * event waits on the retry list, in spool order, to be published again
 * alone (never the whole window); a direct event goes to the spool and
 * its client hears ok, spooled.
 */
void
publisher_spool_nacked(struct pub_job *j)
{
	struct pub_job	*k;

	pub.spool_refused = 1;
	pub.refusing = 1;
	j->returned = 0;
	if (!j->from_spool) {
		TAILQ_INSERT_TAIL(&pub.nacked, j, entry);
		return;
	}
	/* Nacks come in tag order, mostly; keep the retries in spool order. */
	k = TAILQ_LAST(&pub.retry, pub_jobq);
	if (k == NULL || publisher_spool_before(k, j)) {
		TAILQ_INSERT_TAIL(&pub.retry, j, entry);
		return;
	}
	TAILQ_FOREACH(k, &pub.retry, entry) {
		if (publisher_spool_before(j, k)) {
			TAILQ_INSERT_BEFORE(k, j, entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&pub.retry, j, entry);
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
publisher_spool_retreat(void)
{
	struct pub_jobq	 q = TAILQ_HEAD_INITIALIZER(q);
	struct pub_job	*j, *next;
	uint64_t	 delay, n;

	if (!pub.spool_refused)
		return;
	pub.spool_refused = 0;
	TAILQ_CONCAT(&q, &pub.nacked, entry);
	for (j = TAILQ_FIRST(&pub.pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (!j->from_spool) {
			TAILQ_REMOVE(&pub.pending, j, entry);
			TAILQ_INSERT_TAIL(&q, j, entry);
		}
	}
	if (!TAILQ_EMPTY(&q))
		publisher_spool_write(&q);
	/* Nacks of what was sent before the pause began are the same
	 * round; only a retry nacked again makes the pause grow. */
	if (util_now_ms() < pub.spool_hold)
		return;
	delay = util_backoff_ms(100, PUBLISHER_RETRY_CAP_MS, pub.spool_holds++);
	pub.spool_hold = util_now_ms() + delay;
	/* A new connection nacking its probe again, or any connection
	 * nacking round after round: its channel may be stuck. */
	if ((!pub.proven && pub.spool_holds >= 2) || pub.spool_holds % 4 == 3)
		pub.renew = 1;
	pthread_mutex_lock(&pub.lock);
	pub.stats.refusing = 1;
	pthread_mutex_unlock(&pub.lock);
	switch (lograte_hit(&pub.lr_nack, util_now_ms(), 1, &n)) {
	case LOGRATE_FIRST:
		log_warnx("publisher: broker %s refused (nacked) events: "
		    "kept, trying again in %llu ms", pub.addr,
		    (unsigned long long)delay);
		break;
	case LOGRATE_COUNT:
		log_warnx("publisher: broker %s refused events %llu more "
		    "times", pub.addr, (unsigned long long)n);
		break;
	case LOGRATE_QUIET:
		break;
	}
}

/* The connection went: the retries are records the spool reads again;
 * nacked direct events join the events to spool. */
void
publisher_spool_forget(struct pub_jobq *back)
{
	struct pub_jobq	 q = TAILQ_HEAD_INITIALIZER(q);

	TAILQ_CONCAT(&q, &pub.retry, entry);	/* from_spool: rewound */
	TAILQ_CONCAT(&q, &pub.nacked, entry);
	TAILQ_CONCAT(&q, back, entry);
	TAILQ_CONCAT(back, &q, entry);
	pub.spool_refused = 0;
	pub.refusing = 0;
	pthread_mutex_lock(&pub.lock);
	pub.stats.refusing = 0;
	pthread_mutex_unlock(&pub.lock);
}

/* Nacks go on: a new connection is tried. Logged when it starts, then as
 * counts. */
void
publisher_spool_renew_log(void)
{
	uint64_t	 n;

	switch (lograte_hit(&pub.lr_renew, util_now_ms(), 1, &n)) {
	case LOGRATE_FIRST:
		log_warnx("publisher: broker %s goes on refusing events: "
		    "trying a new connection", pub.addr);
		break;
	case LOGRATE_COUNT:
		log_warnx("publisher: broker %s goes on refusing events: "
		    "%llu more new connections", pub.addr,
		    (unsigned long long)n);
		break;
	case LOGRATE_QUIET:
		break;
	}
}

/* A confirm: a spell of refusals, if any, is over. */
void
publisher_spool_taken(void)
{
	uint64_t	 total, ms;

	pub.refusing = 0;
	pthread_mutex_lock(&pub.lock);
	pub.stats.refusing = 0;
	pthread_mutex_unlock(&pub.lock);
	(void)lograte_end(&pub.lr_renew, util_now_ms(), &total, &ms);
	if (lograte_end(&pub.lr_nack, util_now_ms(), &total, &ms))
		log_info("publisher: broker %s takes events again, after %llu "
		    "rounds of nacks in %llu ms", pub.addr,
		    (unsigned long long)total, (unsigned long long)ms);
}

/* Read records back from the spool while the window has room. */
void
publisher_spool_fill(void)
{
	struct pub_job	*j;
	int		 room = pub.window - (int)(pub.next_tag - pub.low_tag);

	/* Not while copies of spooled events are still in flight on a slow
	 * connection: they would only go out a third time. */
	if (pub.spool == NULL || pub.blocked || pub.stopping ||
	    !TAILQ_EMPTY(&pub.pending) || util_now_ms() < pub.spool_hold ||
	    pub.detached > 0)
		return;
	/*
	 * A connection that has confirmed nothing yet, or a broker that
	 * nacks, gets one event at a time. A quorum queue electing a leader
	 * after its node died nacks what it is sent, and may store it all
	 * the same: a whole window sent then would come twice.
	 */
	if (!pub.proven || pub.refusing) {
		if (pub.inflight > 0 || !TAILQ_EMPTY(&pub.pending))
			return;
		room = 1;
	}
	/* The nacked ones again first, in spool order. */
	while (room > 0 && (j = TAILQ_FIRST(&pub.retry)) != NULL) {
		TAILQ_REMOVE(&pub.retry, j, entry);
		TAILQ_INSERT_TAIL(&pub.pending, j, entry);
		room--;
	}
	while (room-- > 0 && (j = spool_next(pub.spool)) != NULL)
		TAILQ_INSERT_TAIL(&pub.pending, j, entry);
}

/*
 * A publish the broker has not confirmed within half of publish_timeout_ms
 * (a slow or silently stuck broker) is made safe in the spool and its
 * client answered; the copy in flight is kept only to be confirmed.
 */
void
publisher_spool_timeouts(void)
{
	struct pub_jobq	 q = TAILQ_HEAD_INITIALIZER(q);
	struct pub_job	*j, *copy;
	uint64_t	 t, now = util_now_ms(), n = 0, count = 0;
	uint64_t	 limit = (uint64_t)pub.publish_timeout_ms / 2;

	if (pub.spool == NULL)
		return;
	for (t = pub.low_tag; t < pub.next_tag; t++) {
		if ((j = pub.ring[t % (uint64_t)pub.window]) == NULL ||
		    j->from_spool || j->cookie == NULL)
			continue;
		if (now - j->sent_ms < limit)
			break;
		/*
		 * The job the loop knows goes to the spool and back to the
		 * loop; a copy the loop never sees waits here for the
		 * confirm, so the loop can never touch a freed job.
		 */
		copy = publisher_job_new(j->routing_key, j->type,
		    j->message_id, j->body, j->bodylen);
		copy->timestamp_ms = j->timestamp_ms;
		copy->tag = j->tag;
		copy->sent_ms = j->sent_ms;
		copy->returned = j->returned;
		pub.ring[t % (uint64_t)pub.window] = copy;
		pub.detached++;
		TAILQ_INSERT_TAIL(&q, j, entry);
		n++;
	}
	if (n == 0)
		return;
	switch (lograte_hit(&pub.lr_slow, now, n, &count)) {
	case LOGRATE_FIRST:
		log_warnx("publisher: broker %s is slow to confirm: events "
		    "go to the spool", pub.addr);
		break;
	case LOGRATE_COUNT:
		log_warnx("publisher: broker %s is slow to confirm: %llu more "
		    "events went to the spool", pub.addr,
		    (unsigned long long)count);
		break;
	case LOGRATE_QUIET:
		break;
	}
	publisher_spool_write(&q);
}

/* The broker confirmed an event within the limit: a slow spell, if there
 * was one, is over. */
void
publisher_spool_in_time(void)
{
	uint64_t	 total, ms;

	if (lograte_end(&pub.lr_slow, util_now_ms(), &total, &ms))
		log_info("publisher: broker %s confirms in time again; %llu "
		    "events were slow to confirm in %llu ms", pub.addr,
		    (unsigned long long)total, (unsigned long long)ms);
}

/* While events wait in the spool, the connector tries again at least
 * every ~2 s: the broker may be back (another node of a cluster) long
 * before a grown backoff would look. */
void
publisher_spool_cap(void)
{
	int	 cap;

	cap = pub.spool != NULL && spool_pending(pub.spool) > 0 ?
	    PUBLISHER_RETRY_CAP_MS : 0;
	if (cap != pub.cap_ms) {
		pub.cap_ms = cap;
		broker_async_cap(pub.async, cap);
	}
}

/* Copy the spool's figures where the loop can read them, and show the
 * loop (and so the watchdog) that this thread is alive. */
void
publisher_spool_stats(void)
{
	uint64_t	 n;

	if (lograte_tick(&pub.lr_slow, util_now_ms(), &n) == LOGRATE_COUNT)
		log_warnx("publisher: broker %s is slow to confirm: %llu more "
		    "events went to the spool", pub.addr,
		    (unsigned long long)n);
	if (lograte_tick(&pub.lr_nack, util_now_ms(), &n) == LOGRATE_COUNT)
		log_warnx("publisher: broker %s refused events %llu more times",
		    pub.addr, (unsigned long long)n);
	pthread_mutex_lock(&pub.lock);
	pub.stats.alive++;
	if (pub.spool != NULL)
		spool_get_stats(pub.spool, &pub.stats.spool);
	pthread_mutex_unlock(&pub.lock);
}
