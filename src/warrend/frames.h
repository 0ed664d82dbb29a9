/* frames.h -- AMQP frames of many publishes gathered in one buffer and
 * written to the broker's socket together, never blocking. */
#ifndef WARREN_FRAMES_H
#define WARREN_FRAMES_H

#include <amqp.h>
#include <amqp_framing.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Whole frames only go in; bytes [off, len) are not written yet. Nothing
 * else may write to the socket while any are held: a frame of someone
 * else's between two of ours would break the stream.
 */
struct frames {
	unsigned char *buf;
	size_t	       size;
	size_t	       off;
	size_t	       len;
};

/* Append the frames of one basic.publish: method, content header, and the
 * body cut at frame_max. Return 0, or -1 if the properties do not fit one
 * frame of frame_max bytes. */
int frames_publish(struct frames *fb, uint32_t frame_max, uint16_t channel,
    const char *exchange, const char *routing_key, int mandatory,
    const amqp_basic_properties_t *props, const void *body, size_t len);

/* Append a heartbeat frame. */
void frames_heartbeat(struct frames *fb);

/* Write what is held to fd without blocking: 0 when all of it went, 1 if
 * some is left for when fd is writable, -1 with errno on an error. */
int frames_write(struct frames *fb, int fd);

/* Bytes held and not yet written. */
size_t frames_held(const struct frames *fb);

/* Forget what is held (the connection is gone); keep the buffer. */
void frames_clear(struct frames *fb);

/* Free the buffer. */
void frames_free(struct frames *fb);

#endif
