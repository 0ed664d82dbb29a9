/* stream.h -- the stream queues of contracts that keep their history: the
 * set to declare (from the loop's config, read by the AMQP threads),
 * declaring it, and what a delivery from a stream carries. */
#ifndef WARREN_STREAM_H
#define WARREN_STREAM_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

#include "stream-from.h"

struct conf;

/* What a message delivered from a stream says about itself. */
struct stream_meta {
	int	 has_offset;
	uint64_t offset;  /* its x-stream-offset header */
	int64_t	 time_ms; /* cloudEvents:time, else timestamp; -1: none */
};

/* Take the streams of cf's contracts (loop: at start and every reload). */
void stream_configure(const struct conf *cf);
void stream_free(void);
/* How many times the set was taken: a thread that declared generation g
 * declares again when this moves on. */
uint64_t stream_generation(void);

/*
 * Declare on conn, on channel (opened and closed here), the exchange and
 * the stream queue of every contract with a stream (only: of that one),
 * bound with its routing key. A stream that exists with other arguments
 * is logged and kept. Return 0; 1 when a stream is not online yet (after
 * a broker restart); -1 with err when only has no stream; -2 when the
 * connection failed.
 */
int stream_declare(amqp_connection_state_t conn, uint16_t channel,
    const char *who, const char *only, char *err, size_t len);
/* Declare every stream, waiting up to wait_ms for those not online yet;
 * 0, or -2 when the connection failed. */
int stream_declare_wait(amqp_connection_state_t conn, uint16_t channel,
    const char *who, int wait_ms);

/* The consume arguments of a replay: x-stream-offset for from, or for
 * offset resume when resume is set. a must hold one entry. */
void stream_consume_args(amqp_table_t *args, amqp_table_entry_t *a,
    const struct stream_from *from, int resume, uint64_t offset);

/* Read a delivery's offset and time from its properties. */
void stream_meta_read(const amqp_basic_properties_t *, struct stream_meta *);

/* Is a message of that time before from (a time: it is skipped)? */
int stream_before(const struct stream_from *, const struct stream_meta *);

#endif
