/* consumer.h -- the consumer thread: its own AMQP connection, one channel
 * per subscribed event, manual acks. The loop tells it what to consume and
 * how each delivery was settled; it hands the loop deliveries. */
#ifndef WARREN_CONSUMER_H
#define WARREN_CONSUMER_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

#include "stream-from.h"

struct conf;

enum consumer_msg_type {
	CM_SUBSCRIBED, /* a subscription is ready, or failed */
	CM_DELIVERY,   /* a message for the loop to hand out */
	CM_STATE,      /* connected or not; epoch changed */
};

/* From the consumer thread to the loop. */
struct consumer_msg {
	TAILQ_ENTRY(consumer_msg) entry;
	enum consumer_msg_type type;
	char		      *event;	    /* contract name */
	char		      *error;	    /* CM_SUBSCRIBED: NULL if ok */
	int		       unreachable; /* the broker, not the queue */
	uint64_t	       epoch;	    /* connection the delivery is on */
	uint16_t	       channel;
	uint64_t	       dtag; /* the broker's delivery tag */
	int		       redelivered;
	int		       attempt;	  /* 1, or more for a retry (retry.c) */
	int		       connected; /* CM_STATE */
	char		      *message_id; /* NULL if the message had none */
	char		      *routing_key;
	char		      *body;
	size_t		       bodylen;
	/* A replay's (0: the service queue's), and the offset in its stream. */
	uint64_t sid;
	int	 has_offset;
	uint64_t offset;
	int	 partition; /* -1: the event has none */
	/* The W3C trace context if valid, or NULL (trace.c). */
	char *traceparent;
	char *tracestate;
};
TAILQ_HEAD(consumer_msgq, consumer_msg);

/* How the loop settled one delivery (see consumer_settle). */
struct consumer_settle {
	uint64_t epoch;
	uint64_t dtag;
	uint16_t channel;
	uint8_t	 ack;
	uint8_t	 requeue;
};

struct consumer_stats {
	int	 connected;
	uint64_t reconnects;
	uint64_t deliveries;
	int	 subscriptions;
};

/* Start the thread with the broker settings of cf. */
int consumer_start(const struct conf *cf, char **cause);
/* The eventfd readable while messages wait for consumer_collect. */
int consumer_done_fd(void);

/* Replay event's stream from from, as replay sid (> 0, never reused); a
 * CM_SUBSCRIBED message with that sid answers. */
void consumer_replay(const char *event, uint64_t sid,
    const struct stream_from *from);
/* Consume the partitions of a partitioned event (partitions > 0), or with
 * 0 its queue (declaring it, its binding and dead-letter queue); a
 * CM_SUBSCRIBED message answers. */
void consumer_subscribe_partitioned(const char *event, const char *routing_key,
    int partitions);
/* Stop consuming event's queue (sid 0; the queue stays) or end replay
 * sid (its channel is closed). */
void consumer_cancel(const char *event, uint64_t sid);
/* Settle a delivery: ack, or nack with or without requeue (a replay's is
 * always acked: a stream keeps its messages). Deliveries of an earlier
 * epoch are dropped: the broker requeued them when it went. */
void consumer_settle(uint64_t epoch, uint16_t channel, uint64_t dtag, int ack,
    int requeue);
/* Settle n deliveries in one hand-off, in order; the thread turns the acks
 * among them into `multiple` acks where every tag below is settled. */
void consumer_settle_many(const struct consumer_settle *, size_t n);

/* Settle a delivery by a copy that comes back in retry_ms, or past
 * max_attempts goes to the dead-letter queue (retry.c). */
void consumer_retry(uint64_t epoch, uint16_t channel, uint64_t dtag,
    int retry_ms, int max_attempts);

/* Move the thread's messages onto q (loop side). */
void consumer_collect(struct consumer_msgq *q);
void consumer_msg_free(struct consumer_msg *);

void consumer_stop(void);
void consumer_join(int timeout_ms);
void consumer_get_stats(struct consumer_stats *);

#endif
