/* publisher-spool.c -- the publisher thread's use of the spool: events
 * the broker cannot take now are written to it and answered, and read back
 * and republished once it can. Runs on the publisher thread only.
 *
 * A job is kept as the payload of one spool record (little-endian):
 *
 *	u16 routing key length, u16 type length, u16 message_id length,
 *	u16 zero, the three strings, the body;
 *
 * the record's time is the job's timestamp. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "publisher-int.h"
#include "spool.h"
#include "util.h"

#define PUB_SPOOL_FIXED	8	/* payload bytes before the strings */

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

/* Append j to the spool as one record: spool_append's result. */
static int
publisher_spool_append(struct publisher *pb, struct pub_job *j)
{
	size_t			 rl = strlen(j->routing_key);
	size_t			 tl = strlen(j->type), ml = strlen(j->message_id);
	struct spool_data	 d;
	unsigned char		*buf;
	int			 rv;

	if (rl > 65535 || tl > 65535 || j->bodylen > SIZE_MAX / 2) {
		errno = EFBIG;
		return (-2);
	}
	d.len = PUB_SPOOL_FIXED + rl + tl + ml + j->bodylen;
	buf = xmalloc(d.len);
	publisher_spool_put(buf, rl);
	publisher_spool_put(buf + 2, tl);
	publisher_spool_put(buf + 4, ml);
	publisher_spool_put(buf + 6, 0);
	memcpy(buf + PUB_SPOOL_FIXED, j->routing_key, rl);
	memcpy(buf + PUB_SPOOL_FIXED + rl, j->type, tl);
	memcpy(buf + PUB_SPOOL_FIXED + rl + tl, j->message_id, ml);
	memcpy(buf + PUB_SPOOL_FIXED + rl + tl + ml, j->body, j->bodylen);
	d.bytes = buf;
	d.time_ms = j->timestamp_ms;
	rv = spool_append(pb->spool, &d);
	free(buf);
	return (rv);
}

/* A job from a record read back, or NULL if its payload is not a job. */
static struct pub_job *
publisher_spool_decode(const struct spool_data *d)
{
	const unsigned char	*p = d->bytes;
	const char		*s = (const char *)p + PUB_SPOOL_FIXED;
	size_t			 rl, tl, ml;
	char			*rk, *type, mid[256];
	struct pub_job		*j;

	if (d->len < PUB_SPOOL_FIXED)
		return (NULL);
	rl = publisher_spool_get(p);
	tl = publisher_spool_get(p + 2);
	ml = publisher_spool_get(p + 4);
	if (PUB_SPOOL_FIXED + rl + tl + ml > d->len)
		return (NULL);
	rk = xstrndup(s, rl);
	type = xstrndup(s + rl, tl);
	snprintf(mid, sizeof mid, "%.*s", (int)(ml > 255 ? 255 : ml),
	    s + rl + tl);
	j = publisher_job_new(rk, type, mid, s + rl + tl + ml,
	    d->len - PUB_SPOOL_FIXED - rl - tl - ml);
	j->timestamp_ms = d->time_ms;
	j->from_spool = 1;
	free(rk);
	free(type);
	return (j);
}

/* The next record of the spool as a job, or NULL. */
static struct pub_job *
publisher_spool_next(struct publisher *p)
{
	struct spool_data	 d;
	struct spool_rec	*r;
	struct pub_job		*j;

	while ((r = spool_next(p->spool, &d)) != NULL) {
		if ((j = publisher_spool_decode(&d)) != NULL) {
			j->srec = r;
			return (j);
		}
		log_warnx("publisher: a spool record of %zu bytes is not an "
		    "event: dropped", d.len);
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
	j->srec = NULL;		/* spool_rewind frees the handle */
	publisher_job_free(j);
}

/*
 * Write jobs to the spool in order, as one group commit, and answer each:
 * spooled, or full. Cancelled jobs are given back; copies already spooled
 * (detached jobs) are freed.
 */
void
publisher_spool_write(struct publisher *p, struct pub_jobq *q)
{
	struct pub_jobq	 done = TAILQ_HEAD_INITIALIZER(done);
	struct pub_job	*j;
	int		 rv;

	while ((j = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, j, entry);
		if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) {
			publisher_finish(p, j, PUB_CANCELLED);
			continue;
		}
		if (j->cookie == NULL) {
			publisher_job_free(j);	/* it is in the spool already */
			p->detached--;
			continue;
		}
		if ((rv = publisher_spool_append(p, j)) == -2)
			log_warn("publisher: spool append");
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
		log_warn("publisher: spool sync");
		TAILQ_FOREACH(j, &done, entry)
			j->outcome = PUB_FULL;
	}
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
	struct pub_jobq	 direct = TAILQ_HEAD_INITIALIZER(direct);
	struct pub_job	*j;

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
	struct pub_jobq	 direct = TAILQ_HEAD_INITIALIZER(direct);
	struct pub_job	*j, *next;

	for (j = TAILQ_FIRST(&p->pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->from_spool)
			continue;
		TAILQ_REMOVE(&p->pending, j, entry);
		TAILQ_INSERT_TAIL(&direct, j, entry);
	}
	publisher_spool_write(p, &direct);
}

/*
 * The broker refused a spooled event: take every spooled event back out of
 * flight (their confirms will find nothing), and read the spool again from
 * the oldest unconfirmed one after a pause that grows while it refuses.
 */
void
publisher_spool_retreat(struct publisher *p)
{
	struct pub_job	*j, *next;
	uint64_t	 t, delay = 100;
	int		 i;

	if (!p->spool_refused)
		return;
	p->spool_refused = 0;
	/* Their confirms, if any come, find nothing. */
	for (t = confirm_first(&p->ring); t != 0;
	    t = confirm_after(&p->ring, t)) {
		j = confirm_get(&p->ring, t);
		if (j->from_spool) {
			confirm_take(&p->ring, t);
			publisher_spool_forget(j);
		}
	}
	for (j = TAILQ_FIRST(&p->pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->from_spool) {
			TAILQ_REMOVE(&p->pending, j, entry);
			publisher_spool_forget(j);
		}
	}
	spool_rewind(p->spool);
	for (i = 0; i < p->spool_holds && delay < 30000; i++)
		delay *= 2;
	p->spool_holds++;
	p->spool_hold = util_now_ms() + delay;
	log_warnx("publisher: broker %s refused a spooled event: trying "
	    "again in %llu ms", p->addr, (unsigned long long)delay);
}

/* Read records back from the spool while the window has room. */
void
publisher_spool_fill(struct publisher *p)
{
	struct pub_job	*j;
	int		 room = confirm_free_tags(&p->ring);

	/* Not while copies of spooled events are still in flight on a slow
	 * connection: they would only go out a third time. */
	if (p->spool == NULL || p->blocked || p->stopping ||
	    !TAILQ_EMPTY(&p->pending) || util_now_ms() < p->spool_hold ||
	    p->detached > 0)
		return;
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
	struct pub_jobq	 q = TAILQ_HEAD_INITIALIZER(q);
	struct pub_job	*j, *copy;
	uint64_t	 t, now = util_now_ms();
	uint64_t	 limit = (uint64_t)p->publish_timeout_ms / 2;

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
		copy = publisher_job_new(j->routing_key, j->type,
		    j->message_id, j->body, j->bodylen);
		copy->timestamp_ms = j->timestamp_ms;
		copy->tag = j->tag;
		copy->sent_ms = j->sent_ms;
		copy->returned = j->returned;
		confirm_replace(&p->ring, t, copy);
		p->detached++;
		TAILQ_INSERT_TAIL(&q, j, entry);
	}
	if (!TAILQ_EMPTY(&q)) {
		log_warnx("publisher: broker %s is slow to confirm: events "
		    "go to the spool", p->addr);
		publisher_spool_write(p, &q);
	}
}

/* Copy the spool's figures where the loop can read them, and show the
 * loop (and so the watchdog) that this thread is alive. */
void
publisher_spool_stats(struct publisher *p)
{
	pthread_mutex_lock(&p->lock);
	p->stats.alive++;
	if (p->spool != NULL)
		spool_get_stats(p->spool, &p->stats.spool);
	pthread_mutex_unlock(&p->lock);
}
