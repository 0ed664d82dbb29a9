/* retry.h -- the consumer thread's side of delayed retries and of the
 * acked-ids window: a copy of every delivery until it is settled, the
 * tiered delay queues, one confirm-mode channel on the consumer's
 * connection that publishes retry copies, and one dedup file per
 * subscription. Consumer thread only, except retry_get_stats. */
#ifndef WARREN_RETRY_H
#define WARREN_RETRY_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

struct conf;

#define RETRY_CHANNEL 65535   /* subscriptions use 1 and up */
#define RETRY_MAX_MS 86400000 /* retry_in_ms at most: a day */
#define RETRY_ATTEMPT_HDR "x-warren-attempt"
#define RETRY_REASON_HDR "x-warren-reason"

struct retry_stats {
	uint64_t retried;      /* copies confirmed in a delay queue */
	uint64_t exhausted;    /* dead-lettered: max_attempts reached */
	uint64_t deduplicated; /* redeliveries of acked ids, not handed out */
};

/* Take the settings of cf (consumer_start). */
void retry_init(const struct conf *cf);
/* Free everything (consumer_join). */
void retry_free(void);

/* The subscription on channel consumes queue; its dead-letter queue is
 * dead. Opens its dedup file on first use. */
void retry_sub(uint16_t channel, const char *queue, const char *dead);
/* A delivery's properties: keep a copy until it is settled. Its attempt
 * number (1 when it was never retried). */
int retry_hold(uint16_t channel, uint64_t dtag,
    const amqp_basic_properties_t *);
/* Its body is whole: keep a copy. 1 if the app already acked its
 * message_id (the caller acks it and hands it to nobody), else 0. */
int retry_body(uint16_t channel, uint64_t dtag, const void *body, size_t len);
/* The delivery was settled; acked by the app: remember its message_id. */
void retry_settled(uint16_t channel, uint64_t dtag, int acked);
/* Write the message_ids remembered since the last call; before the acks
 * they stand for go to the broker. */
void retry_dedup_flush(void);
/* The app asked to see it again in delay_ms: publish a copy to a delay
 * queue, or past max_attempts to the dead-letter queue; the original is
 * acked once the copy is confirmed. -1 if the connection failed. */
int retry_later(amqp_connection_state_t, uint16_t channel, uint64_t dtag,
    int delay_ms, int max_attempts);
/* A frame on RETRY_CHANNEL; -1 if the connection must go. */
int retry_frame(amqp_connection_state_t, const amqp_frame_t *);
/* channel closed: what it held is the broker's again. */
void retry_channel_gone(uint16_t channel);
/* The connection is gone. */
void retry_drop(void);

/* Provided by consumer.c: retry.c acked or nacked the delivery channel,
 * dtag by itself, so the channel's ackset forgets it. */
void consumer_settled_alone(uint16_t channel, uint64_t dtag);

/* The delay a retry of delay_ms waits: the smallest tier not shorter. */
int  retry_tier_ms(int delay_ms);
void retry_get_stats(struct retry_stats *);

#endif
