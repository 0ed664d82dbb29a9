/* consumer.c -- the consumer thread: its own AMQP connection (RabbitMQ
 * blocks publishing connections, and acks must keep flowing), one channel
 * per subscribed event, basic.qos(prefetch), manual acks. */
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

enum ccmd_type {
	CC_SUBSCRIBE,
	CC_CANCEL,
	CC_SETTLE,
	CC_SETTLE_MANY
};

/* From the loop to the thread. */
struct ccmd {
	TAILQ_ENTRY(ccmd) entry;
	enum ccmd_type		type;
	char		       *event;
	char		       *routing_key;
	uint64_t		epoch;
	uint16_t		channel;
	uint64_t		dtag;
	int			ack;
	int			requeue;
	struct consumer_settle *settles; /* CC_SETTLE_MANY */
	size_t			nsettles;
	int			retry_ms; /* retry later: retry.c */
	int			max_attempts;
	/* A replay's (0: the service queue's) and where it starts. */
	uint64_t	   sid;
	struct stream_from from;
	int		   partitions;
};
TAILQ_HEAD(ccmdq, ccmd);

/* One event's queue and the channel that consumes it. */
struct csub {
	char	*event;
	char	*routing_key;
	char	*queue; /* <service>.<Event> */
	char	*dead;	/* <service>.<Event>.dead */
	uint16_t channel;
	int	 wanted; /* the loop has subscribers */
	int	 open;	 /* channel open on this connection */
	int	 consuming;
	int	 ended;	    /* a replay over: swept once its frames are read */
	char	 ctag[256]; /* the broker's consumer tag */
	uint64_t epoch;	    /* of the channel's current opening */
	/* A replay: its stream, where it started, where it goes on. */
	uint64_t	   sid;
	struct stream_from from;
	int		   resume; /* a delivery came: go on from next */
	uint64_t	   next;
	int		   started;    /* consumed once: a restore follows */
	int64_t		   since_ms;   /* when it was asked for (wall clock) */
	uint64_t	   retry_at;   /* restoring it failed: try then */
	uint64_t	   give_up_at; /* and stop trying then */
	struct stream_meta meta;       /* of the message being assembled */
	/* A delivery being assembled from its frames. */
	struct assemble	     assembly;
	struct consumer_msg *msg;
	struct ackset	     acks;	 /* unacked tags of this opening */
	struct cpart	     part;	 /* index -1: not partitioned */
	char		    *hash;	 /* its consistent-hash exchange */
	char		    *members;	 /* p0: the fleet's roll call */
	char		     rctag[256]; /* our consumer tag there */
};

static struct consumer {
	pthread_t	      thread;
	int		      running;
	struct mailbox	     *in;      /* loop -> thread: commands */
	struct mailbox	     *out;     /* thread -> loop: messages */
	int		      wake_fd; /* loop -> thread: stop */
	pthread_mutex_t	      lock;    /* guards stopping and stats */
	int		      stopping;
	struct consumer_stats stats;

	/* Thread only from here on. */
	struct broker_link	link;
	char		       *exchange;
	char		       *dlx;
	char		       *service;
	int			quorum;
	int			dead_letter;
	int			prefetch;
	amqp_connection_state_t conn;
	int			fd;
	int			connected;
	int			ever_connected;
	uint64_t		epochs; /* every channel opening gets one */
	uint64_t		part_check_ms; /* next share check */
	int			part_draining; /* a hand-over under way */
	struct csub	      **subs;
	size_t			nsubs;
	struct consumer_msgq	ready; /* deliveries not yet posted */
	size_t			nready;
} cons = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
	.ready = TAILQ_HEAD_INITIALIZER(cons.ready) };

static void consumer_connect(void);
static void consumer_sweep(void);
static void consumer_part_reset(struct csub *);
static int  consumer_do_cancel(const char *event);

/* Nudge an eventfd. */
static void
consumer_kick(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

/* Queue a command for the thread. */
static void
consumer_command(struct ccmd *cmd)
{
	if (mailbox_push(cons.in, cmd) != 0)
		fatal("consumer: command mailbox");
}

/* Consume event's partitions, or its queue. */
void
consumer_subscribe_partitioned(const char *event, const char *routing_key,
    int partitions)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SUBSCRIBE;
	cmd->event = xstrdup(event);
	cmd->routing_key = xstrdup(routing_key);
	cmd->partitions = partitions;
	consumer_command(cmd);
}

/* Replay event's stream from from. */
void
consumer_replay(const char *event, uint64_t sid, const struct stream_from *from)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SUBSCRIBE;
	cmd->event = xstrdup(event);
	cmd->sid = sid;
	cmd->from = *from;
	consumer_command(cmd);
}

/* Stop consuming event's queue, or end a replay. */
void
consumer_cancel(const char *event, uint64_t sid)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_CANCEL;
	cmd->event = xstrdup(event);
	cmd->sid = sid;
	consumer_command(cmd);
}

/* Settle a delivery. */
void
consumer_settle(uint64_t epoch, uint16_t channel, uint64_t dtag, int ack,
    int requeue)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SETTLE;
	cmd->epoch = epoch;
	cmd->channel = channel;
	cmd->dtag = dtag;
	cmd->ack = ack;
	cmd->requeue = requeue;
	consumer_command(cmd);
}

/* Settle n deliveries in one command. */
void
consumer_settle_many(const struct consumer_settle *st, size_t n)
{
	struct ccmd *cmd;

	if (n == 0)
		return;
	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CC_SETTLE_MANY;
	cmd->settles = xreallocarray(NULL, n, sizeof *st);
	memcpy(cmd->settles, st, n * sizeof *st);
	cmd->nsettles = n;
	consumer_command(cmd);
}

/* Settle a delivery by retrying it in retry_ms (retry.c). */
void
consumer_retry(uint64_t epoch, uint16_t channel, uint64_t dtag, int retry_ms,
    int max_attempts)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SETTLE;
	cmd->epoch = epoch;
	cmd->channel = channel;
	cmd->dtag = dtag;
	cmd->retry_ms = retry_ms;
	cmd->max_attempts = max_attempts;
	consumer_command(cmd);
}

/* Free a command. */
static void
consumer_cmd_free(struct ccmd *cmd)
{
	free(cmd->event);
	free(cmd->routing_key);
	free(cmd->settles);
	free(cmd);
}

/* Move the thread's messages onto q. */
void
consumer_collect(struct consumer_msgq *q)
{
	struct consumer_msg *m;

	while ((m = mailbox_take(cons.out)) != NULL)
		TAILQ_INSERT_TAIL(q, m, entry);
}

/* The eventfd readable while messages wait for consumer_collect. */
int
consumer_done_fd(void)
{
	return (mailbox_fd(cons.out));
}

/* Free a message. */
void
consumer_msg_free(struct consumer_msg *m)
{
	free(m->event);
	free(m->error);
	free(m->message_id);
	free(m->traceparent);
	free(m->tracestate);
	free(m->routing_key);
	free(m->body);
	free(m);
}

/* Hand the deliveries made ready to the loop, in order, counting them
 * under one lock. */
static void
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
static void
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

/* Copy the stats under the lock. */
void
consumer_get_stats(struct consumer_stats *st)
{
	pthread_mutex_lock(&cons.lock);
	*st = cons.stats;
	pthread_mutex_unlock(&cons.lock);
}

/* Find a subscription by event and replay, or by channel. */
static struct csub *
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

/* Milliseconds since the epoch, the clock publishers stamp events with. */
static int64_t
consumer_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Where a replay starts consuming. Restored before anything came, a
 * "next" or "last" one starts at the time it was asked for: events
 * published while it was away (a spool drained before this consumer came
 * back, say) are still its own. */
static void
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
	s->since_ms = consumer_wall_ms();
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

/*
 * Check an RPC made for s. A channel-level refusal (PRECONDITION_FAILED for
 * a queue declared with other arguments, say) closes only that channel:
 * return -1 with the broker's words. Anything else means the connection is
 * gone: return -2.
 */
static int
consumer_rpc(struct csub *s, const char *what, const char *name, char *err,
    size_t len)
{
	amqp_rpc_reply_t	r = amqp_get_rpc_reply(cons.conn);
	amqp_channel_close_ok_t ok;
	char			msg[512];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return (0);
	broker_reply_text(r, msg, sizeof msg);
	if (snprintf(err, len, "%s %s: %s", what, name, msg) >= (int)len)
		err[len - 1] = '\0'; /* cut short, still a message */
	log_warnx("consumer: broker %s: %s", cons.link.addr, err);
	if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		amqp_send_method(cons.conn, s->channel,
		    AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
		s->open = s->consuming = 0;
		retry_channel_gone(s->channel);
		consumer_part_reset(s);
		return (-1);
	}
	return (-2);
}

/* A string table entry. */
static void
consumer_arg(amqp_table_entry_t *e, const char *key, const char *value)
{
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
}

/* Declare the dead-letter exchange and queue of s. */
static int
consumer_declare_dead(struct csub *s, char *err, size_t len)
{
	amqp_table_entry_t a[1];
	amqp_table_t	   args = { 0, a };
	int		   rv;

	/* A partitioned event's is quorum too: its partitions outlive nodes. */
	if (cons.quorum || s->part.index >= 0)
		consumer_arg(&a[args.num_entries++], "x-queue-type", "quorum");
	amqp_exchange_declare(cons.conn, s->channel,
	    amqp_cstring_bytes(cons.dlx), amqp_cstring_bytes("topic"), 0, 1, 0,
	    0, amqp_empty_table);
	if ((rv = consumer_rpc(s, "exchange.declare", cons.dlx, err, len)) != 0)
		return (rv);
	amqp_queue_declare(cons.conn, s->channel, amqp_cstring_bytes(s->dead),
	    0, 1, 0, 0, args);
	if ((rv = consumer_rpc(s, "queue.declare", s->dead, err, len)) != 0)
		return (rv);
	amqp_queue_bind(cons.conn, s->channel, amqp_cstring_bytes(s->dead),
	    amqp_cstring_bytes(cons.dlx), amqp_cstring_bytes(s->dead),
	    amqp_empty_table);
	return (consumer_rpc(s, "queue.bind", s->dead, err, len));
}

/* What a partition's declares need to check their RPCs. */
struct consumer_check {
	struct csub *s;
	char	    *err;
	size_t	     len;
};

/* Check a partition declare's RPC (cpart_declare's callback). */
static int
consumer_check_cb(void *arg, const char *what, const char *name)
{
	struct consumer_check *k = arg;

	return (consumer_rpc(k->s, what, name, k->err, k->len));
}

/* Declare and bind a partition's exchange and queue. */
static int
consumer_declare_partition(struct csub *s, amqp_table_t dlargs, char *err,
    size_t len)
{
	struct consumer_check k = { s, err, len };
	struct cpart_decl     d = { cons.conn, s->channel, cons.exchange,
		    s->routing_key, s->hash, s->queue, s->members, s->part.count,
		    dlargs, consumer_check_cb, &k };

	return (cpart_declare(&d));
}

/* Declare and bind the queue of s; its rejects go to the dead queue only. */
static int
consumer_declare(struct csub *s, char *err, size_t len)
{
	amqp_table_entry_t a[3];
	amqp_table_t	   args = { 0, a };
	int		   rv;

	amqp_exchange_declare(cons.conn, s->channel,
	    amqp_cstring_bytes(cons.exchange), amqp_cstring_bytes("topic"), 0,
	    1, 0, 0, amqp_empty_table);
	if ((rv = consumer_rpc(s, "exchange.declare", cons.exchange, err,
		 len)) != 0)
		return (rv);
	if (cons.dead_letter) {
		if ((rv = consumer_declare_dead(s, err, len)) != 0)
			return (rv);
		consumer_arg(&a[args.num_entries++], "x-dead-letter-exchange",
		    cons.dlx);
		consumer_arg(&a[args.num_entries++],
		    "x-dead-letter-routing-key", s->dead);
	}
	if (s->part.index >= 0)
		return (consumer_declare_partition(s, args, err, len));
	if (cons.quorum)
		consumer_arg(&a[args.num_entries++], "x-queue-type", "quorum");
	amqp_queue_declare(cons.conn, s->channel, amqp_cstring_bytes(s->queue),
	    0, 1, 0, 0, args);
	if ((rv = consumer_rpc(s, "queue.declare", s->queue, err, len)) != 0)
		return (rv);
	amqp_queue_bind(cons.conn, s->channel, amqp_cstring_bytes(s->queue),
	    amqp_cstring_bytes(cons.exchange),
	    amqp_cstring_bytes(s->routing_key), amqp_empty_table);
	return (consumer_rpc(s, "queue.bind", s->queue, err, len));
}

/* Declare the stream a replay reads, on a channel of its own (the top
 * one: subscriptions take the lowest). */
static int
consumer_stream_declare(const struct csub *s, char *err, size_t len)
{
	uint16_t top = (uint16_t)amqp_get_channel_max(cons.conn);

	int rv;

	/* A stream not online yet fails the consume that follows, and the
	 * replay is tried again (consumer_replay_retry). */
	rv = stream_declare(cons.conn, top != 0 ? top : 65535, "consumer",
	    s->event, err, len);
	return (rv == 1 ? 0 : rv);
}

/* Answer the roll call of partitioned event s: consume its members queue
 * (nothing is ever published to it), keeping the consumer tag in tag. */
static int
consumer_rollcall(struct csub *s, char *tag, size_t taglen, char *err,
    size_t len)
{
	amqp_basic_consume_ok_t *ok;
	int			 rv;

	ok = amqp_basic_consume(cons.conn, s->channel,
	    amqp_cstring_bytes(s->members), amqp_empty_bytes, 0, 1, 0,
	    amqp_empty_table);
	if ((rv = consumer_rpc(s, "basic.consume", s->members, err, len)) != 0)
		return (rv);
	snprintf(tag, taglen, "%.*s", (int)ok->consumer_tag.len,
	    (const char *)ok->consumer_tag.bytes);
	return (0);
}

/* Open the channel of s if needed, declare, and start consuming. */
static int
consumer_setup(struct csub *s, char *err, size_t len)
{
	amqp_basic_consume_ok_t *ok;
	amqp_table_entry_t	 a[1];
	amqp_table_t		 args = amqp_empty_table;
	int			 rv;

	if (s->sid != 0 && (rv = consumer_stream_declare(s, err, len)) != 0)
		return (rv);
	if (!s->open) {
		amqp_channel_open(cons.conn, s->channel);
		if ((rv = consumer_rpc(s, "channel.open", s->queue, err,
			 len)) != 0)
			return (rv);
		s->open = 1;
		s->epoch = ++cons.epochs;
		ackset_clear(&s->acks); /* tags start again at 1 */
		amqp_basic_qos(cons.conn, s->channel, 0,
		    (uint16_t)cons.prefetch, 0);
		if ((rv = consumer_rpc(s, "basic.qos", s->queue, err, len)) !=
		    0)
			return (rv);
	}
	if (s->sid == 0 && (rv = consumer_declare(s, err, len)) != 0)
		return (rv);
	if (s->sid != 0)
		consumer_replay_args(s, &args, a);
	ok = amqp_basic_consume(cons.conn, s->channel,
	    amqp_cstring_bytes(s->queue), amqp_empty_bytes, 0, 0, 0, args);
	if ((rv = consumer_rpc(s, "basic.consume", s->queue, err, len)) != 0)
		return (rv);
	snprintf(s->ctag, sizeof s->ctag, "%.*s", (int)ok->consumer_tag.len,
	    (const char *)ok->consumer_tag.bytes);
	if (s->members != NULL &&
	    (rv = consumer_rollcall(s, s->rctag, sizeof s->rctag, err, len)) !=
		0)
		return (rv);
	s->consuming = s->started = 1;
	log_info("consumer: consuming %s on channel %u", s->queue,
	    (unsigned)s->channel);
	return (0);
}

/* Stop consuming s; unacked deliveries stay with their clients, who may
 * still ack them on this channel. */
static int
consumer_unconsume(struct csub *s)
{
	char err[512];

	if (!s->consuming)
		return (0);
	amqp_basic_cancel(cons.conn, s->channel, amqp_cstring_bytes(s->ctag));
	s->consuming = 0;
	if (consumer_rpc(s, "basic.cancel", s->queue, err, sizeof err) == -2)
		return (-1);
	if (s->members != NULL && s->rctag[0] != '\0') {
		amqp_basic_cancel(cons.conn, s->channel,
		    amqp_cstring_bytes(s->rctag));
		if (consumer_rpc(s, "basic.cancel", s->members, err,
			sizeof err) == -2)
			return (-1);
	}
	log_info("consumer: stopped consuming %s", s->queue);
	return (0);
}

/* The broker broke the framing rules on channel: say so; the caller
 * drops the connection (the broker requeues what it had sent). */
static int
consumer_protocol_error(uint16_t channel, char *cause)
{
	log_warnx("consumer: broker %s: protocol error on channel %u: %s; "
		  "dropping the connection",
	    cons.link.addr, (unsigned)channel, cause);
	free(cause);
	return (-1);
}

/* The subscription whose channel a frame came on; frames on a channel we
 * never opened are a protocol error. */
static int
consumer_channel(uint16_t channel, struct csub **sp)
{
	char *cause;

	if ((*sp = consumer_find(NULL, 0, channel)) != NULL && channel != 0)
		return (0);
	xasprintf(&cause, "a frame on a channel warrend never opened");
	return (consumer_protocol_error(channel, cause));
}

/* A basic.deliver: start assembling its message on that channel. */
static int
consumer_deliver(uint16_t channel, const amqp_basic_deliver_t *d)
{
	struct csub	    *s;
	struct consumer_msg *m;

	if (consumer_channel(channel, &s) != 0)
		return (-1);
	if (ackset_add(&s->acks, d->delivery_tag) != 0)
		return (consumer_protocol_error(channel,
		    xstrdup("a delivery tag that does not rise")));
	m = s->msg = xcalloc(1, sizeof *m);
	m->type = CM_DELIVERY;
	m->event = xstrdup(s->event);
	m->sid = s->sid;
	m->epoch = s->epoch;
	m->channel = channel;
	m->dtag = d->delivery_tag;
	m->redelivered = d->redelivered;
	m->routing_key = xstrndup(d->routing_key.bytes, d->routing_key.len);
	m->partition = s->part.index;
	return (0);
}

/* A message is whole: hand it to the loop. A replay goes on after it
 * when the connection comes back, and skips what is before its time; an
 * ended one drops what was still on its way. A delivery on a service
 * queue whose message_id the app acked already (retry.c) is acked to
 * the broker and handed to nobody. */
static void
consumer_complete(struct csub *s)
{
	struct consumer_msg *m = s->msg;

	s->msg = NULL;
	m->body = assemble_take(&s->assembly, &m->bodylen);
	if (!s->open || m->epoch != s->epoch) {
		/* Its channel was closed: the broker took it back. */
		consumer_msg_free(m);
		return;
	}
	if (s->sid != 0 && s->meta.has_offset) {
		s->resume = 1;
		s->next = s->meta.offset + 1;
		m->has_offset = 1;
		m->offset = s->meta.offset;
	}
	if (s->ended || (s->sid != 0 && stream_before(&s->from, &s->meta)) ||
	    (s->sid == 0 &&
		retry_body(s->channel, m->dtag, m->body, m->bodylen))) {
		if (!s->ended) {
			(void)amqp_basic_ack(cons.conn, s->channel, m->dtag, 0);
			(void)ackset_forget(&s->acks, m->dtag);
		}
		consumer_msg_free(m);
		return;
	}
	if (s->part.drain_since != 0) {
		/* Being handed over: the next consumer gets it. */
		TAILQ_INSERT_TAIL(&s->part.held, m, entry);
		return;
	}
	s->part.outstanding++;
	s->part.last_ms = util_now_ms();
	consumer_post(m);
}

/* The content header of a delivery: its size and message_id. */
static int
consumer_header(uint16_t channel, const amqp_frame_t *f)
{
	const amqp_basic_properties_t *p = f->payload.properties.decoded;
	struct csub		      *s;
	char			      *cause = NULL;
	int			       rv;

	if (consumer_channel(channel, &s) != 0)
		return (-1);
	if (f->payload.properties.class_id != AMQP_BASIC_CLASS)
		xasprintf(&cause, "a content header of class %u",
		    (unsigned)f->payload.properties.class_id);
	if (cause != NULL ||
	    (rv = assemble_header(&s->assembly, f->payload.properties.body_size,
		 &cause)) == -1)
		return (consumer_protocol_error(channel, cause));
	if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
		s->msg->message_id = xstrndup(p->message_id.bytes,
		    p->message_id.len);
	if (s->sid == 0)
		s->msg->attempt = retry_hold(channel, s->msg->dtag, p);
	else
		stream_meta_read(p, &s->meta);
	if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
		trace_from_headers(&p->headers, &s->msg->traceparent,
		    &s->msg->tracestate);
	/* An oversized body comes back empty: the loop rejects it. */
	if (rv == ASSEMBLE_DONE)
		consumer_complete(s);
	return (0);
}

/* A body frame: append; post the delivery when it is whole. */
static int
consumer_body(uint16_t channel, const amqp_bytes_t *b)
{
	struct csub *s;
	char	    *cause;
	int	     rv;

	if (consumer_channel(channel, &s) != 0)
		return (-1);
	if ((rv = assemble_body(&s->assembly, b->bytes, b->len, &cause)) == -1)
		return (consumer_protocol_error(channel, cause));
	if (rv == ASSEMBLE_DONE)
		consumer_complete(s);
	return (0);
}

/* A method on a subscription's channel in the middle of a message is a
 * protocol error; basic.deliver starts one. */
static int
consumer_method_order(uint16_t channel, const amqp_method_t *m)
{
	struct csub *s;
	char	    *cause;

	if (channel == 0)
		return (0);
	if (consumer_channel(channel, &s) != 0)
		return (-1);
	if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
		/* The broker may close a channel at any point. */
		assemble_reset(&s->assembly);
		if (s->msg != NULL)
			consumer_msg_free(s->msg);
		s->msg = NULL;
		return (0);
	}
	if (assemble_method(&s->assembly, m->id == AMQP_BASIC_DELIVER_METHOD,
		&cause) != 0)
		return (consumer_protocol_error(channel, cause));
	return (0);
}

/* Was a broker's basic.cancel on s's channel for the roll call (whose
 * queue went with its node)? Then answer it again at the next count. */
static int
consumer_part_cancelled(struct csub *s, const amqp_basic_cancel_t *c)
{
	if (s->members == NULL || strlen(s->rctag) != c->consumer_tag.len ||
	    memcmp(s->rctag, c->consumer_tag.bytes, c->consumer_tag.len) != 0)
		return (0);
	log_warnx("consumer: broker cancelled %s", s->members);
	s->rctag[0] = '\0';
	return (1);
}

/* Handle a method frame; return -1 when the connection must go. */
static int
consumer_method(uint16_t channel, const amqp_method_t *m)
{
	const amqp_channel_close_t    *ch;
	const amqp_connection_close_t *cc;
	amqp_channel_close_ok_t	       cok;
	amqp_connection_close_ok_t     ok;
	struct csub		      *s;

	if (consumer_method_order(channel, m) != 0)
		return (-1);
	switch (m->id) {
	case AMQP_BASIC_DELIVER_METHOD:
		return (consumer_deliver(channel, m->decoded));
	case AMQP_BASIC_CANCEL_METHOD:
		/* The queue went away: declare it again and go on. */
		if ((s = consumer_find(NULL, 0, channel)) != NULL &&
		    consumer_part_cancelled(s, m->decoded))
			return (0);
		if (s != NULL) {
			log_warnx("consumer: broker cancelled %s", s->queue);
			s->consuming = 0;
		}
		return (0);
	case AMQP_CHANNEL_CLOSE_METHOD:
		ch = m->decoded;
		log_warnx("consumer: broker %s closed channel %u: %u %.*s",
		    cons.link.addr, (unsigned)channel, ch->reply_code,
		    (int)ch->reply_text.len,
		    (const char *)ch->reply_text.bytes);
		amqp_send_method(cons.conn, channel,
		    AMQP_CHANNEL_CLOSE_OK_METHOD, &cok);
		if ((s = consumer_find(NULL, 0, channel)) != NULL) {
			s->open = s->consuming = 0;
			consumer_part_reset(s);
		}
		retry_channel_gone(channel);
		return (0);
	case AMQP_CONNECTION_CLOSE_METHOD:
		cc = m->decoded;
		log_warnx("consumer: broker %s closed the connection: %u %.*s",
		    cons.link.addr, cc->reply_code, (int)cc->reply_text.len,
		    (const char *)cc->reply_text.bytes);
		amqp_send_method(cons.conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
		    &ok);
		return (-1);
	default:
		return (0);
	}
}

/* Handle one frame: deliveries are assembled from theirs. */
static int
consumer_frame(const amqp_frame_t *f, void *arg)
{
	(void)arg;
	if (f->channel == RETRY_CHANNEL)
		return (retry_frame(cons.conn, f));
	if (f->frame_type == AMQP_FRAME_METHOD)
		return (consumer_method(f->channel, &f->payload.method));
	if (f->frame_type == AMQP_FRAME_HEADER)
		return (consumer_header(f->channel, f));
	if (f->frame_type == AMQP_FRAME_BODY)
		return (consumer_body(f->channel, &f->payload.body_fragment));
	return (0);
}

/* Read every frame that is ready, without waiting; hand the loop the
 * deliveries they made. */
static int
consumer_drain(void)
{
	int rv;

	rv = broker_drain(cons.conn, "consumer", cons.link.addr, consumer_frame,
	    NULL);
	consumer_post_ready();
	return (rv);
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

/* Forget a partition's hand-over state. */
static void
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

/* The app settled a delivery of s: a partition being handed over counts
 * them down (consumer-partition.c). */
static void
consumer_part_settled(struct csub *s)
{
	if (s->part.outstanding > 0)
		s->part.outstanding--;
	s->part.settled_ms = util_now_ms();
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
static int
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
