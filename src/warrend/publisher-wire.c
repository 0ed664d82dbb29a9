/* publisher-wire.c -- what the publisher thread writes to the broker: a
 * job's frames (into the batch of a direct connection, or through
 * amqp_basic_publish over TLS), the batch's non-blocking write, and the
 * heartbeats of a direct connection. Runs on the publisher thread. */
#include <amqp.h>
#include <errno.h>
#include <poll.h>

#include "frames.h"
#include "log.h"
#include "message.h"
#include "publisher-int.h"
#include "util.h"

/* Is the socket ready to take a frame without blocking? */
int
publisher_writable(struct publisher *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };

	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT));
}

/* Send one job: persistent, mandatory, in broker.wire_format. */
int
publisher_send(struct publisher *p, struct pub_job *j)
{
	struct message m;
	amqp_bytes_t   body;
	int	       rv;

	message_build(&m, p->wire_format, p->service, j);
	if (p->direct) {
		if (frames_publish(&p->out, p->frame_max, 1, p->exchange,
			j->routing_key, p->mandatory, &m.props, j->body,
			j->bodylen) == 0)
			return (0);
		log_warnx("publisher: broker %s: publish: properties of %s "
			  "larger than a frame",
		    p->addr, j->message_id);
		return (-1);
	}
	body.bytes = (void *)j->body;
	body.len = j->bodylen;
	rv = amqp_basic_publish(p->conn, 1, amqp_cstring_bytes(p->exchange),
	    amqp_cstring_bytes(j->routing_key), p->mandatory, 0, &m.props,
	    body);
	if (rv != AMQP_STATUS_OK) {
		log_warnx("publisher: broker %s: publish: %s", p->addr,
		    amqp_error_string2(rv));
		return (-1);
	}
	return (0);
}

/* Write the frames held (direct connections): 0 when all went, 1 if the
 * socket is full, -1 if the connection failed. */
int
publisher_write(struct publisher *p)
{
	size_t held = frames_held(&p->out);
	int    rv;

	if (held == 0)
		return (0);
	if ((rv = frames_write(&p->out, p->fd)) == -1) {
		log_warnx("publisher: broker %s: connection lost: send: %s",
		    p->addr, util_strerror(errno));
		return (-1);
	}
	if (frames_held(&p->out) < held)
		p->said_ms = util_now_ms();
	return (rv);
}

/*
 * Heartbeats on a direct connection: send one when nothing was written
 * for half the interval (only between whole frames, so only when nothing
 * is held), and give the connection up when the broker has not been heard
 * for two intervals (it sends about twice an interval when idle). Return
 * -1 if the connection must go.
 */
int
publisher_heartbeat(struct publisher *p)
{
	uint64_t now = util_now_ms(), iv = (uint64_t)p->hb * 1000;

	if (!p->direct || p->hb <= 0)
		return (0);
	if (p->heard) {
		p->heard = 0;
		p->heard_ms = now;
	}
	p->quiet = now - p->heard_ms > iv;
	if (now - p->heard_ms > 2 * iv) {
		log_warnx("publisher: broker %s: connection lost: "
			  "no heartbeat for %d s",
		    p->addr, 2 * p->hb);
		return (-1);
	}
	if (now - p->said_ms < iv / 2 || frames_held(&p->out) > 0)
		return (0);
	frames_heartbeat(&p->out);
	return (publisher_write(p) == -1 ? -1 : 0);
}
