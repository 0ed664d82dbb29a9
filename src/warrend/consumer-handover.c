/* consumer-handover.c -- handing partitions over to the other warrends of
 * the service (the choice is consumer-partition.c's): wait until the apps
 * settled what they hold, then close the partition's channel. Runs on the
 * consumer thread. */
#include <amqp.h>
#include <amqp_framing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer-int.h"
#include "log.h"
#include "partition.h"
#include "util.h"

/* Forget a partition's hand-over state. */
void
consumer_part_reset(struct csub *s)
{
	struct consumer_msg *m;

	while ((m = TAILQ_FIRST(&s->part.held)) != NULL) {
		TAILQ_REMOVE(&s->part.held, m, entry);
		consumer_msg_free(m);
	}
	s->part.outstanding = 0;
	s->part.drain_since = 0;
	s->part.last_ms = 0;
}

/* The app settled a delivery of s: a partition being handed over counts
 * them down (consumer-partition.c). */
void
consumer_part_settled(struct csub *s)
{
	if (s->part.index < 0)
		return; /* only hand-overs read these */
	if (s->part.outstanding > 0)
		s->part.outstanding--;
	s->part.settled_ms = util_now_ms();
}

/* Hand partition s over: close its channel (the broker puts back what it
 * sent, in order, and activates the next consumer); it is consumed again,
 * last in line, when subscriptions are restored. */
static int
consumer_part_close(struct csub *s)
{
	amqp_rpc_reply_t r;

	log_info("consumer: handing %s over", s->queue);
	r = amqp_channel_close(cons.conn, s->channel, AMQP_REPLY_SUCCESS);
	s->open = s->consuming = 0;
	consumer_part_reset(s);
	return (r.reply_type == AMQP_RESPONSE_NORMAL ? 0 : -1);
}

/* Go on with a hand-over: close once the apps settled what they hold;
 * give up (pass on what was kept back) if they take too long. */
static int
consumer_part_drain(struct csub *s, uint64_t now)
{
	struct consumer_msg *m;

	if (s->part.drain_since == 0 || !s->open)
		return (0);
	cons.part_draining = 1;
	if (s->part.outstanding <= 0 &&
	    now - s->part.settled_ms >= CPART_SETTLE_MS)
		return (consumer_part_close(s));
	if (s->part.outstanding <= 0)
		return (0);
	if (now - s->part.drain_since < CPART_DRAIN_MS)
		return (0);
	s->part.drain_since = 0;
	while ((m = TAILQ_FIRST(&s->part.held)) != NULL) {
		TAILQ_REMOVE(&s->part.held, m, entry);
		s->part.outstanding++;
		consumer_post(m);
	}
	return (0);
}

/* Count the consumers of partitioned event s's first queue (every warrend
 * of the service consumes every partition) and pick one to hand over if
 * we hold more than our share. */
static int
consumer_part_share(struct csub *s, uint64_t now)
{
	struct cpart		*v[PARTITION_MAX];
	struct csub		*o;
	amqp_queue_declare_ok_t *ok;
	char			 err[512];
	size_t			 i;
	int			 n = 0, pick;

	if (s->rctag[0] == '\0') {
		amqp_queue_declare(cons.conn, s->channel,
		    amqp_cstring_bytes(s->members), 0, 0, 0, 1,
		    amqp_empty_table);
		if (consumer_rpc(s, "queue.declare", s->members, err,
			sizeof err) != 0 ||
		    consumer_rollcall(s, s->rctag, sizeof s->rctag, err,
			sizeof err) != 0)
			return (s->open ? -1 : 0);
	}
	ok = amqp_queue_declare(cons.conn, s->channel,
	    amqp_cstring_bytes(s->members), 1, 0, 0, 1, amqp_empty_table);
	if (consumer_rpc(s, "queue.declare", s->members, err, sizeof err) != 0)
		return (s->open ? -1 : 0);
	for (i = 0; i < cons.nsubs && n < PARTITION_MAX; i++) {
		o = cons.subs[i];
		if (strcmp(o->event, s->event) == 0 && o->part.index >= 0 &&
		    o->part.count == s->part.count && o->consuming)
			v[n++] = &o->part;
	}
	log_debug("consumer: %s: %u consumers", s->members,
	    (unsigned)ok->consumer_count);
	if ((pick = cpart_pick_release(v, n, ok->consumer_count, now)) < 0)
		return (0);
	v[pick]->drain_since = now;
	return (0);
}

/* Partition hand-overs: go on with any under way, and every so often see
 * whether we hold more than our share. */
int
consumer_part_tick(void)
{
	uint64_t now = util_now_ms();
	size_t	 i;
	int	 check = now >= cons.part_check_ms;

	if (check)
		cons.part_check_ms = now + CPART_CHECK_MS;
	cons.part_draining = 0;
	for (i = 0; i < cons.nsubs; i++) {
		struct csub *s = cons.subs[i];

		if (s->part.index < 0 || !s->open)
			continue;
		if (consumer_part_drain(s, now) != 0)
			return (-1);
		if (check && s->part.index == 0 && s->consuming &&
		    consumer_part_share(s, now) != 0)
			return (-1);
	}
	return (0);
}
