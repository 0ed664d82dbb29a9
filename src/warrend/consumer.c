/* consumer.c -- the consumer thread: its own AMQP connection (RabbitMQ
 * blocks publishing connections, and acks must keep flowing), one channel
 * per subscribed event, basic.qos(prefetch), manual acks. Its commands
 * and subscriptions are here; declaring queues is consumer-setup.c,
 * reading frames consumer-frame.c, handing partitions over
 * consumer-handover.c, the loop's side consumer-cmd.c. */
#include <sys/eventfd.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ackset.h"
#include "assemble.h"
#include "broker.h"
#include "conf.h"
#include "consumer.h"
#include "consumer-int.h"
#include "consumer-partition.h"
#include "contract.h"
#include "log.h"
#include "mailbox.h"
#include "partition.h"
#include "retry.h"
#include "stream.h"
#include "trace.h"
#include "util.h"

#define CONSUMER_MAX_BODY (64 << 20) /* larger messages are rejected */
/*
 * Deliveries are bounded by prefetch per subscription (the broker sends no
 * more until they are settled), commands by deliveries and subscriptions:
 * reaching this bound is a broken invariant.
 */
#define CONSUMER_MAILBOX_BOUND (1024 * 1024)
#define CONSUMER_POST_BATCH 256 /* deliveries handed to the loop at once */
/* How long a replay is tried again after a reconnect (milliseconds). */
#define CONSUMER_REPLAY_RETRY_MS 60000

struct consumer cons = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
	.ready = TAILQ_HEAD_INITIALIZER(cons.ready) };

static void consumer_connect(void);
static void consumer_sweep(void);
static int  consumer_do_cancel(const char *event);

/* Nudge an eventfd. */
static void
consumer_kick(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

/* Hand the deliveries made ready to the loop, in order, counting them
 * under one lock. */
void
consumer_post_ready(void)
{
	struct consumer_msg *m;

	if (cons.nready == 0)
		return;
	pthread_mutex_lock(&cons.lock);
	cons.stats.deliveries += cons.nready;
	pthread_mutex_unlock(&cons.lock);
	cons.nready = 0;
	while ((m = TAILQ_FIRST(&cons.ready)) != NULL) {
		TAILQ_REMOVE(&cons.ready, m, entry);
		if (mailbox_push(cons.out, m) != 0)
			fatal("consumer: message mailbox");
	}
}

/* Hand a message to the loop (thread side): a delivery waits for the rest
 * of the frames read with it, anything else goes after those. */
void
consumer_post(struct consumer_msg *m)
{
	if (m->type == CM_DELIVERY) {
		TAILQ_INSERT_TAIL(&cons.ready, m, entry);
		if (++cons.nready >= CONSUMER_POST_BATCH)
			consumer_post_ready();
		return;
	}
	consumer_post_ready();
	if (mailbox_push(cons.out, m) != 0)
		fatal("consumer: message mailbox");
}

/* Tell the loop how a subscription went; unreachable says the broker,
 * not the queue, is at fault. */
static void
consumer_post_subscribed(const struct csub *s, const char *error,
    int unreachable)
{
	struct consumer_msg *m = xcalloc(1, sizeof *m);

	m->type = CM_SUBSCRIBED;
	m->event = xstrdup(s->event);
	m->sid = s->sid;
	m->error = error != NULL ? xstrdup(error) : NULL;
	m->unreachable = unreachable;
	consumer_post(m);
}

/* Find a subscription by event and replay, or by channel. */
struct csub *
consumer_find(const char *event, uint64_t sid, uint16_t channel)
{
	size_t i;

	for (i = 0; i < cons.nsubs; i++) {
		if (event != NULL && cons.subs[i]->sid == sid &&
		    !cons.subs[i]->ended &&
		    strcmp(cons.subs[i]->event, event) == 0)
			return (cons.subs[i]);
		if (event == NULL && cons.subs[i]->channel == channel)
			return (cons.subs[i]);
	}
	return (NULL);
}

/* Where a replay starts consuming. Restored before anything came, a
 * "next" or "last" one starts at the time it was asked for: events
 * published while it was away (a spool drained before this consumer came
 * back, say) are still its own. */
void
consumer_replay_args(struct csub *s, amqp_table_t *args, amqp_table_entry_t *a)
{
	if (s->started && !s->resume &&
	    (s->from.kind == STREAM_FROM_NEXT ||
		s->from.kind == STREAM_FROM_LAST)) {
		s->from.kind = STREAM_FROM_TIME;
		s->from.time_ms = s->since_ms;
	}
	stream_consume_args(args, a, &s->from, s->resume, s->next);
}

/* The lowest channel no subscription holds; replays come and go, so
 * their channels are used again. */
static uint16_t
consumer_free_channel(void)
{
	uint16_t ch;
	size_t	 i;

	for (ch = 1; ch < 65535; ch++) {
		for (i = 0; i < cons.nsubs && cons.subs[i]->channel != ch; i++)
			;
		if (i == cons.nsubs)
			return (ch);
	}
	fatalx("consumer: out of channels");
}

/* The subscription of an event's queue, of its partition index (-1: not
 * partitioned), or of a replay, made on first use; its channel is fixed. */
static struct csub *
consumer_sub(const struct ccmd *cmd, int index, int count)
{
	struct csub *s;
	size_t	     i;

	for (i = 0; i < cons.nsubs; i++) {
		s = cons.subs[i];
		if (s->sid == cmd->sid && !s->ended &&
		    strcmp(s->event, cmd->event) == 0 &&
		    s->part.index == index &&
		    (index < 0 || s->part.count == count))
			return (s);
	}
	s = xcalloc(1, sizeof *s);
	s->event = xstrdup(cmd->event);
	s->sid = cmd->sid;
	s->from = cmd->from;
	s->since_ms = util_wall_ms();
	s->part.index = index;
	s->part.count = count;
	TAILQ_INIT(&s->part.held);
	if (s->sid != 0)
		s->queue = contract_stream_queue(cons.exchange, cmd->event);
	else {
		s->routing_key = xstrdup(cmd->routing_key);
		if (index < 0)
			xasprintf(&s->queue, "%s.%s", cons.service, cmd->event);
		else
			xasprintf(&s->queue, "%s.%s.p%d", cons.service,
			    cmd->event, index);
		xasprintf(&s->dead, "%s.%s.dead", cons.service, cmd->event);
		xasprintf(&s->hash, "%s.%s.hash", cons.service, cmd->event);
		if (index == 0)
			xasprintf(&s->members, CPART_MEMBERS, cons.service,
			    cmd->event);
	}
	s->channel = consumer_free_channel();
	assemble_init(&s->assembly, CONSUMER_MAX_BODY);
	ackset_init(&s->acks);
	cons.subs = xreallocarray(cons.subs, cons.nsubs + 1, sizeof *cons.subs);
	cons.subs[cons.nsubs++] = s;
	if (s->sid == 0) /* a replay is read again on purpose: no window */
		retry_sub(s->channel, s->queue, s->dead);
	return (s);
}

/* Tell the loop whether we are connected. */
static void
consumer_post_state(void)
{
	struct consumer_msg *m = xcalloc(1, sizeof *m);

	pthread_mutex_lock(&cons.lock);
	cons.stats.connected = cons.connected;
	pthread_mutex_unlock(&cons.lock);
	m->type = CM_STATE;
	m->connected = cons.connected;
	consumer_post(m);
}

/* s's channel is gone: forget its message in assembly and what a
 * partition hand-over kept back (the broker requeued it all). */
static void
consumer_closed(struct csub *s)
{
	assemble_reset(&s->assembly);
	if (s->msg != NULL)
		consumer_msg_free(s->msg);
	s->msg = NULL;
	consumer_part_reset(s);
}

/* Drop the connection; the broker requeues every unacked delivery, so
 * settlements of those (older epochs) will be ignored. */
static void
consumer_drop(void)
{
	size_t i;

	if (cons.conn == NULL)
		return;
	consumer_post_ready(); /* what came before the loss goes first */
	amqp_destroy_connection(cons.conn);
	cons.conn = NULL;
	cons.fd = -1;
	retry_drop();
	for (i = 0; i < cons.nsubs; i++) {
		cons.subs[i]->open = cons.subs[i]->consuming = 0;
		consumer_closed(cons.subs[i]);
	}
	consumer_sweep();
	if (cons.connected) {
		cons.connected = 0;
		broker_link_lost(&cons.link, 0);
		consumer_post_state();
	}
}

/*
 * A replay could not be restored: after a broker restart a stream takes a
 * moment to come back ("home node down"). Try again every second for a
 * minute; return 0 when it is time to give up.
 */
static int
consumer_replay_retry(struct csub *s)
{
	uint64_t now = util_now_ms();

	if (s->give_up_at == 0)
		s->give_up_at = now + CONSUMER_REPLAY_RETRY_MS;
	if (now >= s->give_up_at)
		return (0);
	s->retry_at = now + 1000;
	return (1);
}

/* When the next replay retry is due (0: none waits). */
static uint64_t
consumer_retry_due(void)
{
	uint64_t due = 0;
	size_t	 i;

	for (i = 0; i < cons.nsubs; i++) {
		if (cons.subs[i]->wanted && !cons.subs[i]->consuming &&
		    cons.subs[i]->retry_at != 0 &&
		    (due == 0 || cons.subs[i]->retry_at < due))
			due = cons.subs[i]->retry_at;
	}
	return (due);
}

/* (Re)start every wanted subscription that is not consuming. A queue the
 * broker refuses is reported and no longer wanted. */
static int
consumer_restore(void)
{
	char   err[512];
	size_t i;
	int    rv;

	for (i = 0; i < cons.nsubs; i++) {
		struct csub *s = cons.subs[i];

		if (!s->wanted || s->consuming || s->retry_at > util_now_ms())
			continue;
		if ((rv = consumer_setup(s, err, sizeof err)) == -2)
			return (-1);
		s->retry_at = rv == 0 ? 0 : s->retry_at;
		s->give_up_at = rv == 0 ? 0 : s->give_up_at;
		if (rv == -1 && s->sid != 0 && consumer_replay_retry(s))
			continue;
		if (rv == -1) {
			s->wanted = 0;
			s->ended = s->sid != 0;
			consumer_post_subscribed(s, err, 0);
			/* The loop drops the event: its other partitions
			 * would only be requeued. */
			if (s->part.index >= 0 &&
			    consumer_do_cancel(s->event) != 0)
				return (-1);
		}
	}
	return (0);
}

/* Subscribe to every partition of an event; answer once, with the first
 * failure if any. */
static int
consumer_do_subscribe_partitions(const struct ccmd *cmd)
{
	struct csub *s, *first = NULL;
	char	     err[512];
	int	     i, rv = 0;

	if (!cons.connected && broker_link_due(&cons.link))
		consumer_connect();
	for (i = 0; i < cmd->partitions; i++) {
		s = consumer_sub(cmd, i, cmd->partitions);
		if (first == NULL)
			first = s;
		s->wanted = 1;
		if (!cons.connected || rv != 0 || s->consuming)
			continue;
		if ((rv = consumer_setup(s, err, sizeof err)) == -2)
			break;
	}
	/* A partition refused: the others stop too (all or nothing). */
	if (!cons.connected || rv != 0)
		if (consumer_do_cancel(cmd->event) != 0)
			rv = -2;
	if (!cons.connected)
		snprintf(err, sizeof err, "the broker cannot be reached");
	consumer_post_subscribed(first, cons.connected && rv == 0 ? NULL : err,
	    !cons.connected || rv == -2);
	return (rv == -2 ? -1 : 0);
}

/* Carry out a subscribe from the loop; it is always answered. */
static int
consumer_do_subscribe(const struct ccmd *cmd)
{
	struct csub *s;
	char	     err[512];
	int	     rv;

	if (cmd->partitions > 0)
		return (consumer_do_subscribe_partitions(cmd));
	s = consumer_sub(cmd, -1, 0);

	if (!cons.connected && broker_link_due(&cons.link))
		consumer_connect();
	if (!cons.connected) {
		snprintf(err, sizeof err, "the broker cannot be reached");
		s->ended = s->sid != 0;
		consumer_post_subscribed(s, err, 1);
		return (0);
	}
	s->wanted = 1;
	if (s->consuming) {
		consumer_post_subscribed(s, NULL, 0);
		return (0);
	}
	if ((rv = consumer_setup(s, err, sizeof err)) != 0) {
		s->wanted = 0;
		s->ended = s->sid != 0;
	}
	consumer_post_subscribed(s, rv == 0 ? NULL : err, rv == -2);
	return (rv == -2 ? -1 : 0);
}

/* End a replay: stop consuming and close its channel. What the broker
 * sent before closing it is read and dropped before the channel is used
 * again (consumer_sweep). */
static int
consumer_replay_end(struct csub *s)
{
	s->wanted = 0;
	s->ended = 1;
	if (!cons.connected || !s->open)
		return (0);
	if (consumer_unconsume(s) != 0)
		return (-1);
	amqp_channel_close(cons.conn, s->channel, AMQP_REPLY_SUCCESS);
	s->open = 0;
	return (amqp_get_rpc_reply(cons.conn).reply_type ==
		    AMQP_RESPONSE_NORMAL ?
		0 :
		-1);
}

/* retry.c acked or nacked the delivery by itself: the channel's ackset
 * must not count it unacked any more. */
void
consumer_settled_alone(uint16_t channel, uint64_t dtag)
{
	struct csub *s = consumer_find(NULL, 0, channel);

	if (s != NULL)
		(void)ackset_forget(&s->acks, dtag);
}

/* Send one basic.ack for ackset_flush; arg is the subscription. */
static int
consumer_ack_cb(uint64_t tag, int multiple, void *arg)
{
	const struct csub *s = arg;

	return (amqp_basic_ack(cons.conn, s->channel, tag, multiple) ==
		    AMQP_STATUS_OK ?
		0 :
		-1);
}

/* Send the acks the loop's commands made, as few as the rule allows. */
static int
consumer_ack_flush(void)
{
	size_t i;

	retry_dedup_flush(); /* the acked ids go first */
	for (i = 0; i < cons.nsubs; i++) {
		if (!cons.connected || !cons.subs[i]->open ||
		    !ackset_pending(&cons.subs[i]->acks))
			continue;
		if (ackset_flush(&cons.subs[i]->acks, consumer_ack_cb,
			cons.subs[i]) != 0)
			return (-1);
	}
	return (0);
}

/* The subscription a delivery of this epoch on channel came on, or NULL
 * when its channel or connection is gone: the broker requeued it. */
static struct csub *
consumer_live(uint16_t channel, uint64_t epoch)
{
	struct csub *s = consumer_find(NULL, 0, channel);

	if (!cons.connected || s == NULL || !s->open || s->epoch != epoch)
		return (NULL);
	return (s);
}

/* Settle one delivery: a nack goes out at once, an ack waits in its
 * channel's ackset for consumer_ack_flush. */
static int
consumer_do_settle(const struct consumer_settle *st)
{
	struct csub *s = consumer_live(st->channel, st->epoch);

	if (s == NULL)
		return (0); /* the broker requeued it already */
	consumer_part_settled(s);
	retry_settled(st->channel, st->dtag, st->ack);
	if (st->ack || s->sid != 0) { /* a stream keeps it: nack is ack */
		if (ackset_ack(&s->acks, st->dtag) != 0)
			log_warnx("consumer: ack of tag %llu on channel %u, "
				  "which is not unacked: ignored",
			    (unsigned long long)st->dtag, (unsigned)s->channel);
		return (0);
	}
	if (ackset_forget(&s->acks, st->dtag) != 0) {
		log_warnx("consumer: nack of tag %llu on channel %u, which is "
			  "not unacked: ignored",
		    (unsigned long long)st->dtag, (unsigned)s->channel);
		return (0);
	}
	return (amqp_basic_nack(cons.conn, st->channel, st->dtag, 0,
		    st->requeue) == AMQP_STATUS_OK ?
		0 :
		-1);
}

/* Forget the ended replays; every frame of theirs has been read. */
static void
consumer_sweep(void)
{
	struct csub *s;
	size_t	     i;

	for (i = 0; i < cons.nsubs; i++) {
		s = cons.subs[i];
		if (!s->ended || s->open)
			continue;
		cons.subs[i--] = cons.subs[--cons.nsubs];
		free(s->event);
		free(s->queue);
		assemble_reset(&s->assembly);
		ackset_free(&s->acks);
		if (s->msg != NULL)
			consumer_msg_free(s->msg);
		free(s);
	}
}

/* Stop consuming event's queue, or all its partitions (its replays go
 * on). */
static int
consumer_do_cancel(const char *event)
{
	size_t i;

	for (i = 0; i < cons.nsubs; i++) {
		if (cons.subs[i]->sid != 0 ||
		    strcmp(cons.subs[i]->event, event) != 0)
			continue;
		cons.subs[i]->wanted = 0;
		if (cons.connected && consumer_unconsume(cons.subs[i]) != 0)
			return (-1);
	}
	return (0);
}

/* Carry out one command; return -1 if the connection failed. */
static int
consumer_do(const struct ccmd *cmd)
{
	struct consumer_settle st;
	struct csub	      *s;
	size_t		       i;

	switch (cmd->type) {
	case CC_SUBSCRIBE:
		return (consumer_do_subscribe(cmd));
	case CC_CANCEL:
		if (cmd->sid == 0)
			return (consumer_do_cancel(cmd->event));
		if ((s = consumer_find(cmd->event, cmd->sid, 0)) == NULL)
			return (0);
		return (consumer_replay_end(s));
	case CC_SETTLE:
		if (cmd->retry_ms > 0) {
			if ((s = consumer_live(cmd->channel, cmd->epoch)) ==
			    NULL)
				return (0); /* the broker requeued it already */
			consumer_part_settled(s);
			return (retry_later(cons.conn, cmd->channel, cmd->dtag,
			    cmd->retry_ms, cmd->max_attempts));
		}
		st.epoch = cmd->epoch;
		st.channel = cmd->channel;
		st.dtag = cmd->dtag;
		st.ack = (uint8_t)cmd->ack;
		st.requeue = (uint8_t)cmd->requeue;
		return (consumer_do_settle(&st));
	case CC_SETTLE_MANY:
		for (i = 0; i < cmd->nsettles; i++) {
			if (consumer_do_settle(&cmd->settles[i]) != 0)
				return (-1);
		}
		return (0);
	}
	return (0);
}

/* Take the loop's commands and carry them out, in order. */
static int
consumer_intake(void)
{
	struct ccmd *cmd;
	int	     rv = 0;

	while ((cmd = mailbox_take(cons.in)) != NULL) {
		if (rv == 0 && consumer_do(cmd) != 0)
			rv = -1;
		consumer_cmd_free(cmd);
	}
	if (rv == 0 && consumer_ack_flush() != 0)
		rv = -1;
	return (rv);
}

/* Connect and restore every subscription. */
static void
consumer_connect(void)
{
	if ((cons.conn = broker_link_connect(&cons.link)) == NULL)
		return;
	cons.fd = amqp_get_sockfd(cons.conn);
	cons.connected = 1;
	if (consumer_restore() != 0) {
		consumer_drop();
		return;
	}
	pthread_mutex_lock(&cons.lock);
	if (cons.ever_connected)
		cons.stats.reconnects++;
	pthread_mutex_unlock(&cons.lock);
	cons.ever_connected = 1;
	consumer_post_state();
	log_info("consumer: connected to broker %s", cons.link.addr);
}

/* Wait for the loop, the socket or the next deadline. */
static void
consumer_wait(int want_connection)
{
	struct pollfd pfd[3];
	uint64_t      now = util_now_ms(), n, due;
	int	      timeout, nfd = 2;

	timeout = cons.link.heartbeat > 0 ? cons.link.heartbeat * 500 : 1000;
	if (timeout > CPART_CHECK_MS)
		timeout = CPART_CHECK_MS; /* partition hand-overs */
	if (cons.part_draining && timeout > CPART_SETTLE_MS / 3)
		timeout = CPART_SETTLE_MS / 3;
	if (!cons.connected && want_connection) {
		if (cons.link.next_attempt <= now)
			timeout = 0;
		else if (cons.link.next_attempt - now < (uint64_t)timeout)
			timeout = (int)(cons.link.next_attempt - now);
	}
	if (cons.connected && (due = consumer_retry_due()) != 0)
		timeout = due <= now ?
		    0 :
		    (int)(due - now < (uint64_t)timeout ? due - now :
							  (uint64_t)timeout);
	/* Frames already buffered do not make the socket readable. */
	if (cons.connected &&
	    (amqp_frames_enqueued(cons.conn) || amqp_data_in_buffer(cons.conn)))
		timeout = 0;
	pfd[0].fd = cons.wake_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = mailbox_fd(cons.in); /* readable: commands */
	pfd[1].events = POLLIN;
	if (cons.connected) {
		pfd[2].fd = cons.fd;
		pfd[2].events = POLLIN;
		nfd = 3;
	}
	if (poll(pfd, (nfds_t)nfd, timeout) > 0 && (pfd[0].revents & POLLIN))
		while (read(cons.wake_fd, &n, sizeof n) == -1 && errno == EINTR)
			;
}

/* Is the thread asked to stop? Are commands waiting? */
static int
consumer_stopping(int *commands)
{
	int stop;

	pthread_mutex_lock(&cons.lock);
	stop = cons.stopping;
	pthread_mutex_unlock(&cons.lock);
	*commands = !mailbox_empty(cons.in);
	return (stop);
}

/* The thread: connect, consume, settle, reconnect, until told to stop. */
static void *
consumer_main(void *arg)
{
	int    wanted, commands;
	size_t i;

	(void)arg;
	while (!consumer_stopping(&commands)) {
		for (wanted = 0, i = 0; i < cons.nsubs; i++)
			wanted |= cons.subs[i]->wanted;
		/* Connect lazily: a host that only publishes needs no
		 * second connection. */
		wanted = wanted || cons.ever_connected || commands;
		if (!cons.connected && broker_link_due(&cons.link) && wanted)
			consumer_connect();
		if (consumer_intake() != 0 ||
		    (cons.connected &&
			(consumer_drain() != 0 || consumer_restore() != 0 ||
			    consumer_part_tick() != 0))) {
			consumer_drop();
			continue;
		}
		consumer_sweep();
		consumer_wait(wanted);
	}
	if (cons.conn != NULL && cons.connected)
		amqp_connection_close(cons.conn, AMQP_REPLY_SUCCESS);
	consumer_drop();
	return (NULL);
}

/* Start the thread with the broker settings of cf. */
int
consumer_start(const struct conf *cf, char **cause)
{
	int error;

	if ((cons.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		xasprintf(cause, "eventfd: %s", util_strerror(errno));
		return (-1);
	}
	if ((cons.in = mailbox_new(CONSUMER_MAILBOX_BOUND, cause)) == NULL ||
	    (cons.out = mailbox_new(CONSUMER_MAILBOX_BOUND, cause)) == NULL)
		return (-1);
	broker_link_init(&cons.link, cf, "consumer");
	cons.exchange = xstrdup(cf->exchange);
	xasprintf(&cons.dlx, "%s.dlx", cf->exchange);
	cons.service = xstrdup(cf->service);
	cons.quorum = strcmp(cf->queue_type, "quorum") == 0;
	cons.dead_letter = cf->dead_letter;
	cons.prefetch = cf->prefetch;
	retry_init(cf);
	if ((error = pthread_create(&cons.thread, NULL, consumer_main, NULL)) !=
	    0) {
		xasprintf(cause, "pthread_create: %s", util_strerror(error));
		return (-1);
	}
	cons.running = 1;
	return (0);
}

/* Ask the thread to stop. */
void
consumer_stop(void)
{
	pthread_mutex_lock(&cons.lock);
	cons.stopping = 1;
	pthread_mutex_unlock(&cons.lock);
	if (cons.running)
		consumer_kick(cons.wake_fd);
}

/* Wait a bounded time for the thread, then free what it owned; a thread
 * stuck in the library keeps everything it may touch (the process is
 * exiting). */
void
consumer_join(int timeout_ms)
{
	struct consumer_msg *m;
	struct ccmd	    *cmd;
	size_t		     i;

	if (!cons.running)
		return;
	if (util_join(cons.thread, timeout_ms) != 0) {
		log_warnx("consumer thread did not stop in time");
		return;
	}
	cons.running = 0;
	while ((m = TAILQ_FIRST(&cons.ready)) != NULL) {
		TAILQ_REMOVE(&cons.ready, m, entry);
		consumer_msg_free(m);
	}
	while ((m = mailbox_take(cons.out)) != NULL)
		consumer_msg_free(m);
	while ((cmd = mailbox_take(cons.in)) != NULL)
		consumer_cmd_free(cmd);
	mailbox_free(cons.out);
	mailbox_free(cons.in);
	cons.out = cons.in = NULL;
	for (i = 0; i < cons.nsubs; i++) {
		free(cons.subs[i]->event);
		free(cons.subs[i]->routing_key);
		free(cons.subs[i]->queue);
		free(cons.subs[i]->dead);
		free(cons.subs[i]->hash);
		free(cons.subs[i]->members);
		consumer_part_reset(cons.subs[i]);
		assemble_reset(&cons.subs[i]->assembly);
		ackset_free(&cons.subs[i]->acks);
		free(cons.subs[i]);
	}
	free(cons.subs);
	retry_free();
	broker_link_free(&cons.link);
	free(cons.exchange);
	free(cons.dlx);
	free(cons.service);
	close(cons.wake_fd);
}
