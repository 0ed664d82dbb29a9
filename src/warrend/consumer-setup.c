/* consumer-setup.c -- the consumer thread declares an event's queues (and
 * a partition's exchange, a replay's stream), opens their channel and
 * consumes them. Runs on the consumer thread. */
#include <amqp.h>
#include <amqp_framing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer-int.h"
#include "log.h"
#include "util.h"
#include "retry.h"

/*
 * Check an RPC made for s. A channel-level refusal (PRECONDITION_FAILED for
 * a queue declared with other arguments, say) closes only that channel:
 * return -1 with the broker's words. Anything else means the connection is
 * gone: return -2.
 */
int
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
int
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
int
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
int
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
