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
#include "publisher-int.h"
#include "spool.h"
#include "util.h"

struct publisher pub = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

/* Nudge an eventfd. */
static void
publisher_kick(int fd)
{
	uint64_t	 one = 1;

	while (write(fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

/* A new job, one allocation holding everything. */
struct pub_job *
publisher_job_new(const char *routing_key, const char *type,
    const char *message_id, const char *body, size_t bodylen)
{
	struct pub_job	*j;
	size_t		 rl = strlen(routing_key) + 1, tl = strlen(type) + 1;
	char		*p;

	j = xmalloc(sizeof *j + rl + tl + bodylen);
	memset(j, 0, sizeof *j);
	p = (char *)(j + 1);
	memcpy(p, routing_key, rl);
	j->routing_key = p;
	memcpy(p + rl, type, tl);
	j->type = p + rl;
	memcpy(p + rl + tl, body, bodylen);
	j->body = p + rl + tl;
	j->bodylen = bodylen;
	snprintf(j->message_id, sizeof j->message_id, "%s", message_id);
	return (j);
}

/* Free a job. */
void
publisher_job_free(struct pub_job *j)
{
	free(j);
}

/* Hand a job to the thread; wake it only if it may be asleep. */
void
publisher_submit(struct pub_job *j)
{
	int	 was_empty;

	pthread_mutex_lock(&pub.lock);
	was_empty = TAILQ_EMPTY(&pub.in);
	TAILQ_INSERT_TAIL(&pub.in, j, entry);
	pthread_mutex_unlock(&pub.lock);
	if (was_empty)
		publisher_kick(pub.wake_fd);
}

/* Mark a job as given up on; the thread drops it if it is not sent yet. */
void
publisher_cancel(struct pub_job *j)
{
	__atomic_store_n(&j->cancelled, 1, __ATOMIC_RELEASE);
	if (!__atomic_exchange_n(&pub.sweep, 1, __ATOMIC_ACQ_REL))
		publisher_kick(pub.wake_fd);
}

/* Move finished jobs onto q; return 1 once the thread has exited. */
int
publisher_collect(struct pub_jobq *q)
{
	uint64_t	 n;
	int		 exited;

	while (read(pub.done_fd, &n, sizeof n) == -1 && errno == EINTR)
		;
	pthread_mutex_lock(&pub.lock);
	TAILQ_CONCAT(q, &pub.done, entry);
	exited = pub.exited;
	pthread_mutex_unlock(&pub.lock);
	return (exited);
}

/* Give a finished job back to the loop (thread side). */
void
publisher_finish(struct pub_job *j, enum pub_outcome outcome)
{
	int	 was_empty;

	j->outcome = outcome;
	pthread_mutex_lock(&pub.lock);
	was_empty = TAILQ_EMPTY(&pub.done);
	TAILQ_INSERT_TAIL(&pub.done, j, entry);
	pthread_mutex_unlock(&pub.lock);
	if (was_empty)
		publisher_kick(pub.done_fd);
}

/* Copy the stats under the lock. */
void
publisher_get_stats(struct publisher_stats *st)
{
	pthread_mutex_lock(&pub.lock);
	*st = pub.stats;
	pthread_mutex_unlock(&pub.lock);
}

/* Publish state changes into the stats the loop reads. */
static void
publisher_set_state(void)
{
	pthread_mutex_lock(&pub.lock);
	pub.stats.connected = pub.connected;
	pub.stats.blocked = pub.blocked;
	pthread_mutex_unlock(&pub.lock);
}

/* Drop the connection; everything in flight goes back to the front of the
 * pending queue, in tag order, to be republished with its message_id. */
static void
publisher_drop(int graceful)
{
	struct pub_jobq	 back = TAILQ_HEAD_INITIALIZER(back);
	struct pub_job	*j;
	uint64_t	 t;
	int		 n = 0;

	if (pub.conn == NULL)
		return;
	for (t = pub.low_tag; t < pub.next_tag; t++) {
		if ((j = pub.ring[t % (uint64_t)pub.window]) == NULL)
			continue;
		pub.ring[t % (uint64_t)pub.window] = NULL;
		j->returned = 0;
		TAILQ_INSERT_TAIL(&back, j, entry);
		n++;
	}
	TAILQ_CONCAT(&back, &pub.pending, entry);
	if (pub.spool != NULL) {
		publisher_spool_forget(&back);
		publisher_spool_unsent(&back);
	}
	else
		TAILQ_CONCAT(&pub.pending, &back, entry);
	if (graceful && pub.connected)
		amqp_connection_close(pub.conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(pub.conn);
	pub.conn = NULL;
	pub.fd = -1;
	if (pub.connected && !pub.stopping)
		broker_async_request(pub.async, 1, pub.proven);
	pub.connected = pub.blocked = 0;
	pub.inflight = 0;
	pub.in_return = 0;
	pthread_mutex_lock(&pub.lock);
	pub.stats.republished += (uint64_t)n;
	pthread_mutex_unlock(&pub.lock);
	publisher_set_state();
	if (n > 0)
		log_info("publisher: broker %s: %d unconfirmed events will be republished",
		    pub.addr, n);
}

/* Open channel 1, declare the exchange, enable confirms (run by the
 * connector thread, before the hand-over). */
static int
publisher_setup(amqp_connection_state_t conn, const struct broker_link *bl,
    void *arg)
{
	const char	*exchange = arg;

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
	return (0);
}

/* Take the connection the connector made, if it has one: connecting never
 * stops this thread from spooling. */
static void
publisher_adopt(void)
{
	if ((pub.conn = broker_async_take(pub.async, pub.addr,
	    sizeof pub.addr)) == NULL)
		return;
	pthread_mutex_lock(&pub.lock);
	memcpy(pub.stats.broker, pub.addr, sizeof pub.stats.broker);
	pthread_mutex_unlock(&pub.lock);
	pub.fd = amqp_get_sockfd(pub.conn);
	pub.connected = 1;
	pub.proven = 0;
	if (!pub.renewed)
		pub.spool_holds = 0;	/* a new connection: retry soon */
	pub.renew = pub.renewed = 0;
	pub.spool_hold = 0;
	pub.low_tag = pub.next_tag = 1;
	publisher_set_state();
	log_info("publisher: connected to broker %s, exchange %s", pub.addr,
	    pub.exchange);
}

/* Settle the job with this tag, if it is still in flight. */
static void
publisher_settle(uint64_t tag, enum pub_outcome outcome)
{
	struct pub_job	*j;
	size_t		 slot;

	if (tag < pub.low_tag || tag >= pub.next_tag)
		return;
	slot = tag % (uint64_t)pub.window;
	if ((j = pub.ring[slot]) == NULL || j->tag != tag)
		return;
	pub.ring[slot] = NULL;
	pub.inflight--;
	if (outcome == PUB_NACKED) {
		pthread_mutex_lock(&pub.lock);
		pub.stats.nacks++;
		pthread_mutex_unlock(&pub.lock);
	}
	if (outcome == PUB_NACKED && pub.spool != NULL && (j->from_spool ||
	    j->cookie != NULL)) {
		publisher_spool_nacked(j);	/* kept, to be retried */
	} else if (j->from_spool) {
		if (j->returned)
			log_warnx("publisher: spooled %s %s was returned: no "
			    "queue is bound to %s", j->type, j->message_id,
			    j->routing_key);
		spool_done(pub.spool, j);
	} else if (j->cookie == NULL) {
		publisher_job_free(j);	/* it is in the spool as well */
		pub.detached--;
	} else {
		if (outcome == PUB_CONFIRMED)
			publisher_spool_in_time();
		publisher_finish(j, outcome);
	}
}

/* An ack or nack: "multiple" settles every tag up to this one. */
static void
publisher_confirm(uint64_t tag, int multiple, enum pub_outcome outcome)
{
	uint64_t	 t;

	if (tag == 0 && multiple)
		tag = pub.next_tag - 1;
	if (outcome == PUB_CONFIRMED) {
		pub.proven = 1;		/* the broker takes events */
		pub.spool_holds = 0;
		pub.renew = 0;
		if (pub.refusing || pub.lr_nack.on)
			publisher_spool_taken();
	}
	if (multiple) {
		for (t = pub.low_tag; t <= tag && t < pub.next_tag; t++)
			publisher_settle(t, outcome);
	} else
		publisher_settle(tag, outcome);
	while (pub.low_tag < pub.next_tag &&
	    pub.ring[pub.low_tag % (uint64_t)pub.window] == NULL)
		pub.low_tag++;
}

/* A returned message's header names its message_id: mark that job. */
static void
publisher_returned(const amqp_basic_properties_t *p)
{
	struct pub_job	*j;
	uint64_t	 t;

	if (!(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
		return;
	for (t = pub.low_tag; t < pub.next_tag; t++) {
		j = pub.ring[t % (uint64_t)pub.window];
		/* A projection shares the message_id: the key tells. */
		if (j == NULL || j->returned ||
		    strcmp(j->routing_key, pub.ret_key) != 0 ||
		    strlen(j->message_id) != p->message_id.len ||
		    memcmp(j->message_id, p->message_id.bytes,
		    p->message_id.len) != 0)
			continue;
		j->returned = 1;
		return;
	}
}

/* Handle a method frame; return -1 when the connection must go. */
static int
publisher_method(const amqp_method_t *m)
{
	const amqp_basic_ack_t			*ack;
	const amqp_basic_nack_t			*nack;
	const amqp_connection_close_t		*cc;
	const amqp_channel_close_t		*ch;
	const amqp_connection_blocked_t		*bl;
	const amqp_basic_return_t		*ret;
	amqp_connection_close_ok_t		 ok;

	switch (m->id) {
	case AMQP_BASIC_ACK_METHOD:
		ack = m->decoded;
		publisher_confirm(ack->delivery_tag, ack->multiple,
		    PUB_CONFIRMED);
		return (0);
	case AMQP_BASIC_NACK_METHOD:
		nack = m->decoded;
		publisher_confirm(nack->delivery_tag, nack->multiple,
		    PUB_NACKED);
		return (0);
	case AMQP_BASIC_RETURN_METHOD:
		ret = m->decoded;
		pub.in_return = 1;
		snprintf(pub.ret_key, sizeof pub.ret_key, "%.*s",
		    (int)ret->routing_key.len,
		    (const char *)ret->routing_key.bytes);
		return (0);
	case AMQP_CONNECTION_BLOCKED_METHOD:
		bl = m->decoded;
		pub.blocked = 1;
		publisher_set_state();
		if (pub.spool != NULL)
			publisher_spool_pending();
		log_warnx("publisher: broker %s blocked publishing: %.*s",
		    pub.addr, (int)bl->reason.len,
		    (const char *)bl->reason.bytes);
		return (0);
	case AMQP_CONNECTION_UNBLOCKED_METHOD:
		pub.blocked = 0;
		publisher_set_state();
		log_info("publisher: broker %s unblocked publishing", pub.addr);
		return (0);
	case AMQP_CONNECTION_CLOSE_METHOD:
		cc = m->decoded;
		log_warnx("publisher: broker %s closed the connection: %u %.*s",
		    pub.addr, cc->reply_code, (int)cc->reply_text.len,
		    (const char *)cc->reply_text.bytes);
		amqp_send_method(pub.conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
		    &ok);
		return (-1);
	case AMQP_CHANNEL_CLOSE_METHOD:
		ch = m->decoded;
		log_warnx("publisher: broker %s closed the channel: %u %.*s",
		    pub.addr, ch->reply_code, (int)ch->reply_text.len,
		    (const char *)ch->reply_text.bytes);
		return (-1);
	default:
		log_debug("publisher: broker %s: ignoring method 0x%08x",
		    pub.addr, m->id);
		return (0);
	}
}

/* Handle one frame; the content of a basic.return is read and dropped. */
static int
publisher_frame(const amqp_frame_t *f, void *arg)
{
	(void)arg;
	switch (f->frame_type) {
	case AMQP_FRAME_METHOD:
		return (publisher_method(&f->payload.method));
	case AMQP_FRAME_HEADER:
		if (!pub.in_return)
			return (0);
		publisher_returned(f->payload.properties.decoded);
		pub.ret_left = f->payload.properties.body_size;
		if (pub.ret_left == 0)
			pub.in_return = 0;
		return (0);
	case AMQP_FRAME_BODY:
		if (!pub.in_return)
			return (0);
		if (f->payload.body_fragment.len >= pub.ret_left)
			pub.in_return = 0;
		else
			pub.ret_left -= f->payload.body_fragment.len;
		return (0);
	default:
		return (0);
	}
}

/* Read every frame that is ready, without waiting. */
static int
publisher_drain(void)
{
	return (broker_drain(pub.conn, "publisher", pub.addr,
	    publisher_frame, NULL));
}

/* Is the socket ready to take a frame without blocking? */
static int
publisher_writable(void)
{
	struct pollfd	 pfd = { .fd = pub.fd, .events = POLLOUT };

	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT));
}

/* Send one job: persistent, mandatory, with the CloudEvents headers. */
static int
publisher_send(struct pub_job *j)
{
	amqp_basic_properties_t	 p;
	amqp_table_entry_t	 h[5];
	char			 when[64];
	amqp_bytes_t		 body;
	int			 rv;

	util_rfc3339(when, j->timestamp_ms / 1000, (int)(j->timestamp_ms % 1000));
	h[0].key = amqp_cstring_bytes("cloudEvents:specversion");
	h[0].value.value.bytes = amqp_cstring_bytes("1.0");
	h[1].key = amqp_cstring_bytes("cloudEvents:id");
	h[1].value.value.bytes = amqp_cstring_bytes(j->message_id);
	h[2].key = amqp_cstring_bytes("cloudEvents:source");
	h[2].value.value.bytes = amqp_cstring_bytes(pub.service);
	h[3].key = amqp_cstring_bytes("cloudEvents:type");
	h[3].value.value.bytes = amqp_cstring_bytes(j->type);
	h[4].key = amqp_cstring_bytes("cloudEvents:time");
	h[4].value.value.bytes = amqp_cstring_bytes(when);
	for (rv = 0; rv < 5; rv++)
		h[rv].value.kind = AMQP_FIELD_KIND_UTF8;
	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
	    AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
	    AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG |
	    AMQP_BASIC_HEADERS_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.message_id = amqp_cstring_bytes(j->message_id);
	p.timestamp = (uint64_t)(j->timestamp_ms / 1000);
	p.type = amqp_cstring_bytes(j->type);
	p.app_id = amqp_cstring_bytes(pub.service);
	p.headers.num_entries = 5;
	p.headers.entries = h;
	body.bytes = (void *)j->body;
	body.len = j->bodylen;
	rv = amqp_basic_publish(pub.conn, 1, amqp_cstring_bytes(pub.exchange),
	    amqp_cstring_bytes(j->routing_key), 1, 0, &p, body);
	if (rv != AMQP_STATUS_OK) {
		log_warnx("publisher: broker %s: publish: %s", pub.addr,
		    amqp_error_string2(rv));
		return (-1);
	}
	return (0);
}

/*
 * Publish while connected, not blocked, under the confirm window and the
 * socket takes more. Return -1 if the connection failed, 1 if the socket
 * was full (wait for POLLOUT), 0 otherwise.
 */
static int
publisher_flush(void)
{
	struct pub_job	*j;
	int		 sent = 0;

	/* The span of tags, not the count in flight, bounds the ring: acks
	 * come out of order, and a slot must never hold two tags. */
	while (!pub.blocked &&
	    pub.next_tag - pub.low_tag < (uint64_t)pub.window &&
	    (j = TAILQ_FIRST(&pub.pending)) != NULL) {
		if (__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE)) {
			TAILQ_REMOVE(&pub.pending, j, entry);
			publisher_finish(j, PUB_CANCELLED);
			continue;
		}
		if ((sent++ & 63) == 0) {
			if (publisher_drain() != 0)
				return (-1);
			if (pub.blocked)
				break;
		}
		/* A full socket would block the publish, perhaps for ever
		 * if the broker has stopped reading. */
		if (!publisher_writable())
			return (1);
		TAILQ_REMOVE(&pub.pending, j, entry);
		j->sent_ms = util_now_ms();
		j->tag = pub.next_tag++;
		j->returned = 0;
		pub.ring[j->tag % (uint64_t)pub.window] = j;
		pub.inflight++;
		if (publisher_send(j) != 0)
			return (-1);
	}
	if (sent > 0) {
		pthread_mutex_lock(&pub.lock);
		pub.stats.published += (uint64_t)sent;
		pthread_mutex_unlock(&pub.lock);
	}
	return (0);
}

/* Give back jobs the loop has cancelled, so a long outage does not keep
 * them (and the loop's budget of jobs) here until the broker returns. */
static void
publisher_sweep(void)
{
	struct pub_job	*j, *next;

	if (!__atomic_exchange_n(&pub.sweep, 0, __ATOMIC_ACQ_REL))
		return;
	for (j = TAILQ_FIRST(&pub.pending); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (!__atomic_load_n(&j->cancelled, __ATOMIC_ACQUIRE))
			continue;
		TAILQ_REMOVE(&pub.pending, j, entry);
		publisher_finish(j, PUB_CANCELLED);
	}
}

/* Is there work to do at once, without waiting for the broker? */
static int
publisher_busy(void)
{
	if (!pub.connected || pub.blocked || pub.inflight >= pub.window)
		return (0);
	return (!TAILQ_EMPTY(&pub.pending) || (pub.spool != NULL &&
	    !pub.stopping && (spool_unread(pub.spool) > 0 ||
	    !TAILQ_EMPTY(&pub.retry)) && util_now_ms() >= pub.spool_hold));
}

/* Fail every job left when the thread exits. */
static void
publisher_fail_all(void)
{
	struct pub_job	*j;

	pthread_mutex_lock(&pub.lock);
	TAILQ_CONCAT(&pub.pending, &pub.in, entry);
	pthread_mutex_unlock(&pub.lock);
	if (pub.spool != NULL) {
		publisher_spool_unsent(&pub.pending);
		return;
	}
	while ((j = TAILQ_FIRST(&pub.pending)) != NULL) {
		TAILQ_REMOVE(&pub.pending, j, entry);
		publisher_finish(j, __atomic_load_n(&j->cancelled,
		    __ATOMIC_ACQUIRE) ? PUB_CANCELLED : PUB_FAILED);
	}
}

/* Wait for the wakeup fd, the socket, or the next deadline. */
static void
publisher_wait(int want_write, int busy)
{
	struct pollfd	 pfd[2];
	uint64_t	 n, now;
	int		 timeout, nfd = 1;

	/* At least once a second: heartbeats, and the watchdog's proof of
	 * life. */
	timeout = pub.heartbeat > 0 && pub.heartbeat < 2 ?
	    pub.heartbeat * 500 : 1000;
	if (pub.stopping && timeout > 100)
		timeout = 100;
	/* The pause after nacks: retry when it ends, not later. */
	now = util_now_ms();
	if (pub.spool_hold > now && pub.spool_hold - now < (uint64_t)timeout)
		timeout = (int)(pub.spool_hold - now) + 1;
	if (pub.spool != NULL && pub.connected && timeout > 100 &&
	    pub.inflight > 0)
		timeout = 100;	/* to notice confirms that are late */
	if (busy)
		timeout = 0;
	pfd[0].fd = pub.wake_fd;
	pfd[0].events = POLLIN;
	if (pub.connected) {
		pfd[1].fd = pub.fd;
		pfd[1].events = POLLIN | (want_write ? POLLOUT : 0);
		nfd = 2;
	}
	if (poll(pfd, (nfds_t)nfd, timeout) > 0 && (pfd[0].revents & POLLIN))
		while (read(pub.wake_fd, &n, sizeof n) == -1 && errno == EINTR)
			;
}

/* Take what the loop submitted; note a stop request. */
static int
publisher_intake(void)
{
	struct pub_jobq	 q = TAILQ_HEAD_INITIALIZER(q);
	int		 stop;

	pthread_mutex_lock(&pub.lock);
	TAILQ_CONCAT(&q, &pub.in, entry);
	pthread_mutex_unlock(&pub.lock);
	/* Unreachable, blocked, or the spool holds older events not yet
	 * confirmed: behind them, on disk, so none is overtaken. */
	if (pub.spool != NULL && (!pub.connected || pub.blocked ||
	    spool_pending(pub.spool) > 0 || !TAILQ_EMPTY(&pub.nacked)))
		publisher_spool_write(&q);
	else
		TAILQ_CONCAT(&pub.pending, &q, entry);
	publisher_sweep();
	/* Stopping: wait for confirms, but not for a broker that is away. */
	pthread_mutex_lock(&pub.lock);
	stop = pub.stopping && (!pub.connected ||
	    util_now_ms() >= pub.stop_deadline ||
	    (TAILQ_EMPTY(&pub.pending) && pub.inflight == 0));
	pthread_mutex_unlock(&pub.lock);
	return (stop);
}

/* The thread: connect, publish, confirm, reconnect, until told to stop. */
static void *
publisher_main(void *arg)
{
	int	 full = 0, first = 1;

	(void)arg;
	while (!publisher_intake()) {
		if (!pub.connected) {
			publisher_adopt();
			if (pub.connected && !first) {
				pthread_mutex_lock(&pub.lock);
				pub.stats.reconnects++;
				pthread_mutex_unlock(&pub.lock);
			}
			if (pub.connected)
				first = 0;
		}
		if (pub.connected) {
			/* Confirms first, so the refill sees the room they
			 * made. */
			if (publisher_drain() != 0) {
				publisher_drop(0);
				continue;
			}
			publisher_spool_retreat();
			if (pub.renew && pub.inflight == 0) {
				publisher_spool_renew_log();
				publisher_drop(0);
				pub.renewed = 1;	/* keep the backoff growing */
				continue;
			}
			publisher_spool_fill();
			if ((full = publisher_flush()) == -1) {
				publisher_drop(0);
				continue;
			}
			publisher_spool_retreat();
			publisher_spool_timeouts();
		}
		publisher_spool_stats();
		publisher_spool_cap();
		publisher_wait(full == 1, full != 1 && publisher_busy());
	}
	publisher_drop(1);
	pub.async_gone = broker_async_stop(pub.async, 1000) == 0;
	publisher_fail_all();
	publisher_spool_stats();
	spool_close(pub.spool);
	pub.spool = NULL;
	pthread_mutex_lock(&pub.lock);
	pub.exited = 1;
	pthread_mutex_unlock(&pub.lock);
	publisher_kick(pub.done_fd);
	return (NULL);
}

/* Start the thread with the broker settings of cf. */
int
publisher_start(const struct conf *cf, int done_fd, char **cause)
{
	int	 error;

	TAILQ_INIT(&pub.in);
	TAILQ_INIT(&pub.done);
	TAILQ_INIT(&pub.pending);
	TAILQ_INIT(&pub.retry);
	TAILQ_INIT(&pub.nacked);
	pub.done_fd = done_fd;
	if ((pub.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		xasprintf(cause, "eventfd: %s", strerror(errno));
		return (-1);
	}
	broker_link_init(&pub.link, cf, "publisher");
	pub.heartbeat = cf->heartbeat;
	pub.exchange = xstrdup(cf->exchange);
	pub.service = xstrdup(cf->service);
	pub.window = cf->confirm_window;
	pub.publish_timeout_ms = cf->publish_timeout_ms;
	if (cf->spool_max_bytes > 0 && (pub.spool = spool_open(cf->spool_dir,
	    cf->spool_max_bytes, cf->spool_fsync, 0, cause)) == NULL)
		return (-1);
	pub.stats.spool_enabled = pub.spool != NULL;
	if (pub.spool != NULL)
		spool_get_stats(pub.spool, &pub.stats.spool);
	pub.ring = xcalloc((size_t)pub.window, sizeof *pub.ring);
	if ((pub.async = broker_async_start(&pub.link, publisher_setup,
	    pub.exchange, pub.wake_fd, cause)) == NULL)
		return (-1);
	broker_async_request(pub.async, 0, 0);
	if ((error = pthread_create(&pub.thread, NULL, publisher_main,
	    NULL)) != 0) {
		xasprintf(cause, "pthread_create: %s", strerror(error));
		return (-1);
	}
	pub.running = 1;
	return (0);
}

/* Ask the thread to finish within timeout_ms. */
void
publisher_stop(int timeout_ms)
{
	pthread_mutex_lock(&pub.lock);
	pub.stopping = 1;
	pub.stop_deadline = util_now_ms() + (uint64_t)timeout_ms;
	pthread_mutex_unlock(&pub.lock);
	publisher_kick(pub.wake_fd);
}

/* Wait a bounded time for the thread; a thread stuck in the library is
 * left behind (the process is exiting) rather than waited for forever. */
void
publisher_join(int timeout_ms)
{

	if (!pub.running)
		return;
	if (util_join(pub.thread, timeout_ms) != 0) {
		log_warnx("publisher thread did not stop in time");
		return;
	}
	pub.running = 0;
	if (pub.async_gone)
		broker_link_free(&pub.link);
	free(pub.exchange);
	free(pub.service);
	free(pub.ring);
	close(pub.wake_fd);
}
