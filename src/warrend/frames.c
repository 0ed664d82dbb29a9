/* frames.c -- AMQP frames of many publishes gathered in one buffer and
 * written to the broker's socket together, never blocking.
 *
 * amqp_basic_publish sends each frame of a message by itself: three
 * send()s per event, and warrend polled the socket before each publish
 * so that the send could not block. Here the frames of every event the
 * window lets out are encoded into one buffer (the method arguments and
 * properties by rabbitmq-c's own encoders) and written with one send()
 * that never blocks; what the socket does not take waits for POLLOUT.
 */
#include <sys/socket.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "util.h"

#define FRAME_HEADER 7 /* type, channel, payload size */
#define FRAME_END_SIZE 1
#define FRAME_OVERHEAD (FRAME_HEADER + FRAME_END_SIZE)
#define FRAME_END_BYTE 0xce
/* basic.publish arguments: ticket, two short strings, one octet of bits. */
#define PUBLISH_ARGS_MAX (2 + 256 + 256 + 1)

/* Make room for n more bytes after len. */
static void
frames_room(struct frames *fb, size_t n)
{
	if (fb->size - fb->len >= n)
		return;
	if (fb->off > 0) { /* move the unwritten tail to the front */
		memmove(fb->buf, fb->buf + fb->off, fb->len - fb->off);
		fb->len -= fb->off;
		fb->off = 0;
		if (fb->size - fb->len >= n)
			return;
	}
	if (fb->size == 0)
		fb->size = 16384;
	while (fb->size - fb->len < n)
		fb->size *= 2;
	fb->buf = xreallocarray(fb->buf, 1, fb->size);
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Close the frame of type t begun at start (its payload is written): fill
 * in its header and append the frame end. */
static void
frames_seal(struct frames *fb, size_t start, uint8_t t, uint16_t channel)
{
	unsigned char *f = fb->buf + start;

	f[0] = t;
	put16(f + 1, channel);
	put32(f + 3, (uint32_t)(fb->len - start - FRAME_HEADER));
	fb->buf[fb->len++] = FRAME_END_BYTE;
}

int
frames_publish(struct frames *fb, uint32_t frame_max, uint16_t channel,
    const char *exchange, const char *routing_key, int mandatory,
    const amqp_basic_properties_t *props, const void *body, size_t len)
{
	amqp_basic_publish_t pub;
	amqp_bytes_t	     out;
	size_t		     start, chunk, max_payload, undo;
	int		     n;

	if (frame_max < 4096)
		frame_max = 4096; /* the protocol's smallest */
	max_payload = frame_max - FRAME_OVERHEAD;
	/* Room for all of it at once: nothing moves while it is written. */
	frames_room(fb,
	    FRAME_OVERHEAD + 4 + PUBLISH_ARGS_MAX + frame_max + len +
		(len / max_payload + 1) * FRAME_OVERHEAD);
	undo = fb->len;
	/* The method frame. */
	start = fb->len;
	memset(&pub, 0, sizeof pub);
	pub.exchange = amqp_cstring_bytes(exchange);
	pub.routing_key = amqp_cstring_bytes(routing_key);
	pub.mandatory = mandatory != 0;
	put32(fb->buf + start + FRAME_HEADER, AMQP_BASIC_PUBLISH_METHOD);
	out.bytes = fb->buf + start + FRAME_HEADER + 4;
	out.len = PUBLISH_ARGS_MAX;
	if ((n = amqp_encode_method(AMQP_BASIC_PUBLISH_METHOD, &pub, out)) < 0)
		return (-1);
	fb->len = start + FRAME_HEADER + 4 + (size_t)n;
	frames_seal(fb, start, AMQP_FRAME_METHOD, channel);
	/* The content header: class, weight, body size, properties. */
	start = fb->len;
	put16(fb->buf + start + FRAME_HEADER, AMQP_BASIC_CLASS);
	put16(fb->buf + start + FRAME_HEADER + 2, 0);
	put64(fb->buf + start + FRAME_HEADER + 4, (uint64_t)len);
	out.bytes = fb->buf + start + FRAME_HEADER + 12;
	out.len = max_payload - 12;
	if ((n = amqp_encode_properties(AMQP_BASIC_CLASS, (void *)props, out)) <
	    0) {
		fb->len = undo;
		return (-1);
	}
	fb->len = start + FRAME_HEADER + 12 + (size_t)n;
	frames_seal(fb, start, AMQP_FRAME_HEADER, channel);
	/* The body, in frames of at most frame_max bytes. */
	while (len > 0) {
		chunk = len < max_payload ? len : max_payload;
		start = fb->len;
		memcpy(fb->buf + start + FRAME_HEADER, body, chunk);
		fb->len = start + FRAME_HEADER + chunk;
		frames_seal(fb, start, AMQP_FRAME_BODY, channel);
		body = (const unsigned char *)body + chunk;
		len -= chunk;
	}
	return (0);
}

void
frames_heartbeat(struct frames *fb)
{
	size_t start;

	frames_room(fb, FRAME_OVERHEAD);
	start = fb->len;
	fb->len += FRAME_HEADER;
	frames_seal(fb, start, AMQP_FRAME_HEARTBEAT, 0);
}

int
frames_write(struct frames *fb, int fd)
{
	ssize_t n;

	while (fb->off < fb->len) {
		n = send(fd, fb->buf + fb->off, fb->len - fb->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (1);
		if (n == -1)
			return (-1);
		fb->off += (size_t)n;
	}
	fb->off = fb->len = 0;
	return (0);
}

size_t
frames_held(const struct frames *fb)
{
	return (fb->len - fb->off);
}

void
frames_clear(struct frames *fb)
{
	fb->off = fb->len = 0;
}

void
frames_free(struct frames *fb)
{
	free(fb->buf);
	memset(fb, 0, sizeof *fb);
}
