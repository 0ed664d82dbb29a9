/* consumer-frame.c -- frames from the broker on the consumer connection:
 * deliveries assembled from their method, header and body frames and
 * handed to the loop; cancels and closes. Runs on the consumer thread. */
#include <amqp.h>
#include <amqp_framing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer-int.h"
#include "log.h"
#include "util.h"
#include "retry.h"
#include "trace.h"

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
	if (s->part.index >= 0) { /* only hand-overs read these */
		s->part.outstanding++;
		s->part.last_ms = util_now_ms();
	}
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
int
consumer_drain(void)
{
	int rv;

	rv = broker_drain(cons.conn, "consumer", cons.link.addr, consumer_frame,
	    NULL);
	consumer_post_ready();
	return (rv);
}
