/* publisher.c -- the publisher thread: the only owner of the publishing
 * AMQP connection. rabbitmq-c blocks, so nothing here runs on the loop. */
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

#include "broker.h"
#include "conf.h"
#include "log.h"
#include "publisher.h"
#include "mailbox.h"
#include "message.h"
#include "publisher-int.h"
#include "spool.h"
#include "stream.h"
#include "trace.h"
#include "util.h"

/*
 * The mailboxes hold every job the loop has out (client_max_jobs, a few
 * thousand at most: the loop stops reading before); reaching this bound is
 * a broken invariant.
 */
#define PUBLISHER_MAILBOX_BOUND (1024 * 1024)
/* How long a new connection waits for streams a restart took offline. */
#define PUBLISHER_STREAM_WAIT_MS 15000
/* Direct connections: write what is gathered once it is this big. */
#define PUBLISHER_WRITE_BYTES (256 * 1024)

/* The one publisher; only the loop-facing functions (here and in
 * publisher-cmd.c) use this pointer, the thread is handed its state. */
struct publisher *publisher_the;

/* Nudge an eventfd. */
void
publisher_kick(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

/* Give a finished job back to the loop (thread side). */
void
publisher_finish(struct publisher *p, struct pub_job *j,
    enum pub_outcome outcome)
{
	j->outcome = outcome;
	if (mailbox_push(p->done, j) != 0)
		fatal("publisher: outcome mailbox");
}

/* Publish state changes into the stats the loop reads. */
static void
publisher_set_state(struct publisher *p)
{
	pthread_mutex_lock(&p->lock);
	p->stats.connected = p->connected;
	p->stats.blocked = p->blocked;
	pthread_mutex_unlock(&p->lock);
}

/* Everything in flight goes back to the front of the pending queue (or
 * the spool), in tag order, to be republished with its message_id; return
 * how many were in flight. */
static int
publisher_requeue(struct publisher *p)
{
	struct pub_jobq back = TAILQ_HEAD_INITIALIZER(back);
	struct pub_job *j;
	uint64_t	t;
	int		n = 0;

	while ((t = confirm_first(&p->ring)) != 0) {
		j = confirm_take(&p->ring, t);
		j->returned = 0;
		TAILQ_INSERT_TAIL(&back, j, entry);
		n++;
	}
	TAILQ_CONCAT(&back, &p->pending, entry);
	if (p->spool != NULL) {
		publisher_spool_lost(p, &back);
		publisher_spool_unsent(p, &back);
	} else
		TAILQ_CONCAT(&p->pending, &back, entry);
	return (n);
}

/* Drop the connection; what was in flight is published again later. */
static void
publisher_drop(struct publisher *p, int graceful)
{
	int n;

	if (p->conn == NULL)
		return;
	n = publisher_requeue(p);
	/* A close after half a frame of ours would be garbage. */
	if (graceful && p->connected && frames_held(&p->out) == 0)
		amqp_connection_close(p->conn, AMQP_REPLY_SUCCESS);
	frames_clear(&p->out);
	amqp_destroy_connection(p->conn);
	p->conn = NULL;
	p->fd = -1;
	if (p->connected && !p->stopping)
		broker_async_request(p->async, 1, p->proven);
	p->relost = p->relost || p->connected;
	p->connected = p->blocked = 0;
	confirm_reset(&p->ring);
	p->in_return = 0;
	pthread_mutex_lock(&p->lock);
	p->stats.republished += (uint64_t)n;
	pthread_mutex_unlock(&p->lock);
	publisher_set_state(p);
	if (n > 0)
		log_info(
		    "publisher: broker %s: %d unconfirmed events will be republished",
		    p->addr, n);
}

/* Open channel 1, declare the exchange, enable confirms (run by the
 * connector thread, before the hand-over). */
static int
publisher_setup(amqp_connection_state_t conn, const struct broker_link *bl,
    void *arg)
{
	const char *exchange = arg;

	amqp_channel_open(conn, 1);
	if (broker_rpc_ok(conn, bl, "channel.open", NULL, 0) != 0)
		return (-1);
	amqp_exchange_declare(conn, 1, amqp_cstring_bytes(exchange),
	    amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
	if (broker_rpc_ok(conn, bl, "exchange.declare", NULL, 0) != 0)
		return (-1);
	amqp_confirm_select(conn, 1);
	if (broker_rpc_ok(conn, bl, "confirm.select", NULL, 0) != 0)
		return (-1);
	/* History is kept from the first event on, consumers or not; the
	 * spool drains only once the streams are back after a restart. */
	return (stream_declare_wait(conn, 2, "publisher",
		    PUBLISHER_STREAM_WAIT_MS) == -2 ?
		-1 :
		0);
}

/* Take the connection the connector made, if it has one: connecting never
 * stops this thread from spooling. */
static void
publisher_adopt(struct publisher *p)
{
	int tls = 0;

	if ((p->conn = broker_async_take(p->async, p->addr, sizeof p->addr,
		 &tls)) == NULL)
		return;
	/* Over plain TCP warrend writes the frames and the heartbeats
	 * itself; rabbitmq-c, told there are none, never writes one between
	 * two frames of ours. */
	p->direct = !tls;
	p->frame_max = (uint32_t)amqp_get_frame_max(p->conn);
	p->hb = amqp_get_heartbeat(p->conn);
	p->said_ms = p->heard_ms = util_now_ms();
	p->heard = p->quiet = 0;
	if (p->direct)
		(void)amqp_tune_connection(p->conn,
		    amqp_get_channel_max(p->conn), (int)p->frame_max, 0);
	pthread_mutex_lock(&p->lock);
	memcpy(p->stats.broker, p->addr, sizeof p->stats.broker);
	pthread_mutex_unlock(&p->lock);
	p->fd = amqp_get_sockfd(p->conn);
	p->connected = 1;
	p->proven = 0;
	p->probing = p->relost; /* a failover: the queues may be electing */
	if (!p->renewed)
		p->spool_holds = 0; /* a new connection: retry soon */
	p->renew = p->renewed = 0;
	p->spool_hold = 0;
	confirm_reset(&p->ring);
	p->stream_gen = stream_generation(); /* declared by the setup */
	publisher_set_state(p);
	log_info("publisher: connected to broker %s, exchange %s", p->addr,
	    p->exchange);
}

/* A reload changed the streams: declare them on this connection too, so
 * a stream's history starts now, not at the next connect. */
static int
publisher_streams(struct publisher *p)
{
	uint64_t gen = stream_generation();

	/* An RPC's frames after half a frame of ours would be garbage. */
	if (gen == p->stream_gen || p->blocked || frames_held(&p->out) > 0)
		return (0);
	if (stream_declare(p->conn, 2, "publisher", NULL, NULL, 0) == -2)
		return (-1);
	p->stream_gen = gen;
	return (0);
}

/* A confirm settled a job in flight (confirm_cb); return 1 to keep it. */
static int
publisher_settle_cb(void *job, uint64_t tag, void *arg)
{
	struct publisher *p = arg;
	struct pub_job	 *j = job;

	(void)tag;
	if (p->outcome == PUB_NACKED) {
		pthread_mutex_lock(&p->lock);
		p->stats.nacks++;
		pthread_mutex_unlock(&p->lock);
	}
	if (p->outcome == PUB_NACKED && p->spool != NULL &&
	    (j->from_spool || j->cookie != NULL)) {
		publisher_spool_nacked(p, j); /* kept, to be retried */
		return (0);
	}
	if (j->from_spool) {
		if (j->returned)
			log_warnx("publisher: spooled %s %s was returned: no "
				  "queue is bound to %s",
			    j->type, j->message_id, j->routing_key);
		publisher_spool_done(p, j);
	} else if (j->cookie == NULL) {
		publisher_job_free(j); /* it is in the spool as well */
		p->detached--;
	} else {
		HOPS_STAMP(j->hops, HOP_ACKED);
		if (p->outcome == PUB_CONFIRMED)
			publisher_spool_in_time(p);
		publisher_finish(p, j, p->outcome);
	}
	return (0);
}

/* An ack or nack: "multiple" settles every tag up to this one. */
static void
publisher_confirm(struct publisher *p, uint64_t tag, int multiple,
    enum pub_outcome outcome)
{
	if (outcome == PUB_CONFIRMED) {
		p->proven = 1; /* the broker takes events */
		p->probing = 0;
		p->spool_holds = 0;
		p->renew = 0;
		if (p->refusing || p->lr_nack.on)
			publisher_spool_taken(p);
	}
	p->outcome = outcome;
	confirm_settle(&p->ring, tag, multiple, publisher_settle_cb, p);
}

/* A returned message's header names its message_id: mark that job. */
static void
publisher_returned(struct publisher *p, const amqp_basic_properties_t *props)
{
	struct pub_job *j;
	uint64_t	t;

	if (!(props->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
		return;
	for (t = confirm_first(&p->ring); t != 0;
	     t = confirm_after(&p->ring, t)) {
		j = confirm_get(&p->ring, t);
		/* A projection shares the message_id: the key tells. */
		if (j->returned || strcmp(j->routing_key, p->ret_key) != 0 ||
		    strlen(j->message_id) != props->message_id.len ||
		    memcmp(j->message_id, props->message_id.bytes,
			props->message_id.len) != 0)
			continue;
		j->returned = 1;
		return;
	}
}

/* connection.blocked (with its reason) or connection.unblocked (NULL). */
static void
publisher_blocked(struct publisher *p, const amqp_bytes_t *reason)
{
	p->blocked = reason != NULL;
	publisher_set_state(p);
	if (reason == NULL) {
		log_info("publisher: broker %s unblocked publishing", p->addr);
		return;
	}
	if (p->spool != NULL)
		publisher_spool_pending(p);
	log_warnx("publisher: broker %s blocked publishing: %.*s", p->addr,
	    (int)reason->len, (const char *)reason->bytes);
}

/* Handle a method frame; return -1 when the connection must go. */
static int
publisher_method(struct publisher *p, const amqp_method_t *m)
{
	const amqp_basic_ack_t		*ack;
	const amqp_basic_nack_t		*nack;
	const amqp_connection_close_t	*cc;
	const amqp_channel_close_t	*ch;
	const amqp_connection_blocked_t *bl;
	const amqp_basic_return_t	*ret;
	amqp_connection_close_ok_t	 ok;

	switch (m->id) {
	case AMQP_BASIC_ACK_METHOD:
		ack = m->decoded;
		publisher_confirm(p, ack->delivery_tag, ack->multiple,
		    PUB_CONFIRMED);
		return (0);
	case AMQP_BASIC_NACK_METHOD:
		nack = m->decoded;
		publisher_confirm(p, nack->delivery_tag, nack->multiple,
		    PUB_NACKED);
		return (0);
	case AMQP_BASIC_RETURN_METHOD:
		ret = m->decoded;
		p->in_return = 1;
		snprintf(p->ret_key, sizeof p->ret_key, "%.*s",
		    (int)ret->routing_key.len,
		    (const char *)ret->routing_key.bytes);
		return (0);
	case AMQP_CONNECTION_BLOCKED_METHOD:
		bl = m->decoded;
		publisher_blocked(p, &bl->reason);
		return (0);
	case AMQP_CONNECTION_UNBLOCKED_METHOD:
		publisher_blocked(p, NULL);
		return (0);
	case AMQP_CONNECTION_CLOSE_METHOD:
		cc = m->decoded;
		log_warnx("publisher: broker %s closed the connection: %u %.*s",
		    p->addr, cc->reply_code, (int)cc->reply_text.len,
		    (const char *)cc->reply_text.bytes);
		if (frames_held(&p->out) == 0)
			amqp_send_method(p->conn, 0,
			    AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
		return (-1);
	case AMQP_CHANNEL_CLOSE_METHOD:
		ch = m->decoded;
		log_warnx("publisher: broker %s closed the channel: %u %.*s",
		    p->addr, ch->reply_code, (int)ch->reply_text.len,
		    (const char *)ch->reply_text.bytes);
		return (-1);
	default:
		log_debug("publisher: broker %s: ignoring method 0x%08x",
		    p->addr, m->id);
		return (0);
	}
}

/* Handle one frame; the content of a basic.return is read and dropped. */
static int
publisher_frame(const amqp_frame_t *f, void *arg)
{
	struct publisher *p = arg;

	p->heard = 1;
	switch (f->frame_type) {
	case AMQP_FRAME_METHOD:
		return (publisher_method(p, &f->payload.method));
	case AMQP_FRAME_HEADER:
		if (!p->in_return)
			return (0);
		publisher_returned(p, f->payload.properties.decoded);
		p->ret_left = f->payload.properties.body_size;
		if (p->ret_left == 0)
			p->in_return = 0;
		return (0);
	case AMQP_FRAME_BODY:
		if (!p->in_return)
			return (0);
		if (f->payload.body_fragment.len >= p->ret_left)
			p->in_return = 0;
		else
			p->ret_left -= f->payload.body_fragment.len;
		return (0);
	default:
		return (0);
	}
}

/* Read every frame that is ready, without waiting. rabbitmq-c eats
 * heartbeat frames unseen: once the broker has been quiet for an interval,
 * look whether the socket is readable before it reads, so that a heartbeat
 * counts (publisher_heartbeat). */
static int
publisher_drain(struct publisher *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	if (p->quiet && !p->heard && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLIN))
		p->heard = 1;
	return (broker_drain(p->conn, "publisher", p->addr, publisher_frame,
	    p));
}

/*
 * Publish while connected, not blocked, under the confirm window and the
 * socket takes more. Return -1 if the connection failed, 1 if the socket
 * was full (wait for POLLOUT), 0 otherwise.
 */
static int
publisher_flush(struct publisher *p)
{
	struct pub_job *j;
	int		sent = 0, next_read = 64, rv = 0;

	/* What the socket did not take last time goes first. */
	if (p->direct && (rv = publisher_write(p)) != 0)
		return (rv);
	/* confirm_room: the span of tags, not the count in flight, bounds
	 * the ring (see confirm.h). A connection made after one was lost
	 * gets one event at a time until it confirms (publisher_spool_fill). */
	while (!p->blocked && confirm_room(&p->ring) &&
	    (!p->probing || confirm_inflight(&p->ring) == 0) &&
	    (j = TAILQ_FIRST(&p->pending)) != NULL) {
		if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) {
			TAILQ_REMOVE(&p->pending, j, entry);
			publisher_finish(p, j, PUB_CANCELLED);
			continue;
		}
		/* The caller has just drained: read again every 64 events,
		 * not before the first (one event at a time pays no extra
		 * syscalls on its way out); write what is gathered then,
		 * or sooner if it is big. */
		if (sent >= next_read ||
		    (p->direct &&
			frames_held(&p->out) >= PUBLISHER_WRITE_BYTES)) {
			if (p->direct && (rv = publisher_write(p)) != 0)
				break;
		}
		if (sent >= next_read) {
			next_read = sent + 64;
			if ((rv = publisher_drain(p)) != 0)
				break;
			if (p->blocked)
				break;
		}
		/* A full socket would block the publish, perhaps for ever
		 * if the broker has stopped reading (rabbitmq-c writes). */
		if (!p->direct && !publisher_writable(p)) {
			rv = 1;
			break;
		}
		TAILQ_REMOVE(&p->pending, j, entry);
		j->sent_ms = util_now_ms();
		j->tag = confirm_add(&p->ring, j);
		j->returned = 0;
		if ((rv = publisher_send(p, j)) != 0)
			break;
		sent++;
		HOPS_STAMP(j->hops, HOP_SENT);
	}
	if (rv == 0 && p->direct)
		rv = publisher_write(p);
	if (sent > 0) {
		pthread_mutex_lock(&p->lock);
		p->stats.published += (uint64_t)sent;
		pthread_mutex_unlock(&p->lock);
	}
	return (rv);
}

/* Give back jobs the loop has cancelled, so a long outage does not keep
 * them (and the loop's budget of jobs) here until the broker returns. */
static void
publisher_sweep(struct publisher *p)
{
	struct pub_job *j, *next;

	if (!__atomic_exchange_n(&p->sweep, 0, __ATOMIC_ACQ_REL))
		return;
	for (j = TAILQ_FIRST(&p->pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (!__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE))
			continue;
		TAILQ_REMOVE(&p->pending, j, entry);
		publisher_finish(p, j, PUB_CANCELLED);
	}
}

/* Is there work to do at once, without waiting for the broker? */
static int
publisher_busy(struct publisher *p)
{
	if (!p->connected || p->blocked ||
	    confirm_inflight(&p->ring) >= p->window ||
	    (p->probing && confirm_inflight(&p->ring) > 0))
		return (0);
	return (!TAILQ_EMPTY(&p->pending) ||
	    (p->spool != NULL && !p->stopping &&
		(spool_unread(p->spool) > 0 || !TAILQ_EMPTY(&p->retry)) &&
		util_now_ms() >= p->spool_hold));
}

/* Fail every job left when the thread exits. */
static void
publisher_fail_all(struct publisher *p)
{
	struct pub_job *j;

	/* Jobs submitted after this are the loop's bug: it stops
	 * submitting before it stops the thread. */
	mailbox_close(p->in);
	while ((j = mailbox_take(p->in)) != NULL)
		TAILQ_INSERT_TAIL(&p->pending, j, entry);
	if (p->spool != NULL) {
		publisher_spool_unsent(p, &p->pending);
		return;
	}
	while ((j = TAILQ_FIRST(&p->pending)) != NULL) {
		TAILQ_REMOVE(&p->pending, j, entry);
		publisher_finish(p, j,
		    __atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE) ?
			PUB_CANCELLED :
			PUB_FAILED);
	}
}

/* Wait for the wakeup fd, the socket, or the next deadline. */
static void
publisher_wait(struct publisher *p, int want_write, int busy)
{
	struct pollfd pfd[3];
	uint64_t      n, now;
	int	      timeout, nfd = 2;

	/* At least once a second: heartbeats, and the watchdog's proof of
	 * life. */
	timeout = p->heartbeat > 0 && p->heartbeat < 2 ? p->heartbeat * 500 :
							 1000;
	if (p->stopping && timeout > 100)
		timeout = 100;
	/* The pause after nacks: retry when it ends, not later. */
	now = util_now_ms();
	if (p->spool_hold > now && p->spool_hold - now < (uint64_t)timeout)
		timeout = (int)(p->spool_hold - now) + 1;
	if (p->spool != NULL && p->connected && timeout > 100 &&
	    confirm_inflight(&p->ring) > 0)
		timeout = 100; /* to notice confirms that are late */
	if (busy)
		timeout = 0;
	pfd[0].fd = p->wake_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = mailbox_fd(p->in); /* readable while jobs wait */
	pfd[1].events = POLLIN;
	if (p->connected) {
		pfd[2].fd = p->fd;
		pfd[2].events = POLLIN | (want_write ? POLLOUT : 0);
		pfd[2].revents = 0;
		nfd = 3;
	}
	if (poll(pfd, (nfds_t)nfd, timeout) <= 0)
		return;
	if (nfd == 3 && (pfd[2].revents & POLLIN))
		p->heard = 1; /* a heartbeat, perhaps: rabbitmq-c eats those */
	if (pfd[0].revents & POLLIN)
		while (read(p->wake_fd, &n, sizeof n) == -1 && errno == EINTR)
			;
}

/* Take what the loop submitted; note a stop request. */
static int
publisher_intake(struct publisher *p)
{
	struct pub_jobq q = TAILQ_HEAD_INITIALIZER(q);
	struct pub_job *j;

	while ((j = mailbox_take(p->in)) != NULL) {
		HOPS_STAMP(j->hops, HOP_TAKEN);
		TAILQ_INSERT_TAIL(&q, j, entry);
	}
	/* Unreachable, blocked, or the spool holds older events not yet
	 * confirmed: behind them, on disk, so none is overtaken. */
	if (p->spool != NULL &&
	    (!p->connected || p->blocked || spool_pending(p->spool) > 0 ||
		!TAILQ_EMPTY(&p->nacked)))
		publisher_spool_write(p, &q);
	else
		TAILQ_CONCAT(&p->pending, &q, entry);
	publisher_sweep(p);
	/* The loop writes stop_req under the lock; the thread reads its
	 * own copy everywhere else. */
	pthread_mutex_lock(&p->lock);
	p->stopping = p->stop_req;
	p->stop_at = p->stop_deadline;
	pthread_mutex_unlock(&p->lock);
	/* Stopping: wait for confirms, but not for a broker that is away. */
	return (p->stopping &&
	    (!p->connected || util_now_ms() >= p->stop_at ||
		(TAILQ_EMPTY(&p->pending) && confirm_inflight(&p->ring) == 0)));
}

/* The thread: connect, publish, confirm, reconnect, until told to stop. */
static void *
publisher_main(void *arg)
{
	struct publisher *p = arg;
	int		  full = 0, first = 1;

	while (!publisher_intake(p)) {
		if (!p->connected) {
			publisher_adopt(p);
			if (p->connected && !first) {
				pthread_mutex_lock(&p->lock);
				p->stats.reconnects++;
				pthread_mutex_unlock(&p->lock);
			}
			if (p->connected)
				first = 0;
		}
		if (p->connected) {
			/* Confirms first, so the refill sees the room they
			 * made. */
			if (publisher_drain(p) != 0) {
				publisher_drop(p, 0);
				continue;
			}
			publisher_spool_retreat(p);
			if (publisher_streams(p) != 0) {
				publisher_drop(p, 0);
				continue;
			}
			if (p->renew && confirm_inflight(&p->ring) == 0) {
				publisher_spool_renew_log(p);
				publisher_drop(p, 0);
				p->renewed = 1; /* keep the backoff growing */
				continue;
			}
			publisher_spool_fill(p);
			if (publisher_heartbeat(p) != 0 ||
			    (full = publisher_flush(p)) == -1) {
				publisher_drop(p, 0);
				continue;
			}
			publisher_spool_retreat(p);
			publisher_spool_timeouts(p);
		}
		publisher_spool_stats(p);
		publisher_spool_cap(p);
		publisher_wait(p, full == 1, full != 1 && publisher_busy(p));
	}
	/* Every client answered first: the close below may wait on a broker
	 * that went silent. */
	if (p->conn != NULL)
		publisher_requeue(p);
	publisher_fail_all(p);
	publisher_drop(p, 1);
	p->async_gone = broker_async_stop(p->async, 1000) == 0;
	publisher_spool_stats(p);
	spool_close(p->spool);
	p->spool = NULL;
	mailbox_close(p->done); /* publisher_collect sees the end */
	return (NULL);
}

/* Start the thread with the broker settings of cf. */
int
publisher_start(const struct conf *cf, char **cause)
{
	struct publisher *p;
	int		  error;

	p = publisher_the = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	p->fd = -1;
	TAILQ_INIT(&p->pending);
	TAILQ_INIT(&p->retry);
	TAILQ_INIT(&p->nacked);
	if ((p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		xasprintf(cause, "eventfd: %s", util_strerror(errno));
		return (-1);
	}
	if ((p->in = mailbox_new(PUBLISHER_MAILBOX_BOUND, cause)) == NULL ||
	    (p->done = mailbox_new(PUBLISHER_MAILBOX_BOUND, cause)) == NULL)
		return (-1);
	broker_link_init(&p->link, cf, "publisher");
	p->heartbeat = cf->heartbeat;
	p->exchange = xstrdup(cf->exchange);
	p->service = xstrdup(cf->service);
	p->wire_format = cf->wire_format;
	p->mandatory = !cf->no_mandatory;
	p->window = cf->confirm_window;
	p->publish_timeout_ms = cf->publish_timeout_ms;
	if (cf->spool_max_bytes > 0 &&
	    (p->spool = spool_open(cf->spool_dir, cf->spool_max_bytes,
		 cf->spool_fsync, 0, cause)) == NULL)
		return (-1);
	p->stats.spool_enabled = p->spool != NULL;
	if (p->spool != NULL)
		spool_get_stats(p->spool, &p->stats.spool);
	confirm_init(&p->ring, p->window);
	if ((p->async = broker_async_start(&p->link, publisher_setup,
		 p->exchange, p->wake_fd, cause)) == NULL)
		return (-1);
	broker_async_request(p->async, 0, 0);
	if ((error = pthread_create(&p->thread, NULL, publisher_main, p)) !=
	    0) {
		xasprintf(cause, "pthread_create: %s", util_strerror(error));
		return (-1);
	}
	p->running = 1;
	return (0);
}

/* Ask the thread to finish within timeout_ms. */
void
publisher_stop(int timeout_ms)
{
	struct publisher *p = publisher_the;

	if (p == NULL || !p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop_req = 1;
	p->stop_deadline = util_now_ms() + (uint64_t)timeout_ms;
	pthread_mutex_unlock(&p->lock);
	publisher_kick(p->wake_fd);
}

/*
 * Wait a bounded time for the thread; a thread stuck in the library is
 * left behind (the process is exiting) rather than waited for forever,
 * and so is everything it may still touch: its mailboxes, eventfds and
 * state stay allocated and open.
 */
void
publisher_join(int timeout_ms)
{
	struct publisher *p = publisher_the;
	struct pub_job	 *j;

	if (p == NULL || !p->running)
		return;
	if (util_join(p->thread, timeout_ms) != 0) {
		log_warnx("publisher thread did not stop in time");
		return;
	}
	p->running = 0;
	if (!p->async_gone)
		return; /* the connector is stuck: it has wake_fd */
	broker_link_free(&p->link);
	free(p->exchange);
	free(p->service);
	confirm_free(&p->ring);
	frames_free(&p->out);
	/* The loop has stopped collecting: what is left is only freed. */
	while ((j = mailbox_take(p->done)) != NULL)
		publisher_job_free(j);
	mailbox_free(p->in);
	mailbox_free(p->done);
	p->in = p->done = NULL;
	close(p->wake_fd);
	p->wake_fd = -1;
	/* p itself stays: publisher_get_stats may still be asked. */
}
