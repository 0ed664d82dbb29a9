/* consumer-partition.h -- the consumer thread's side of ordered
 * partitions: the topology of a partitioned event (a consistent-hash
 * exchange bound to the topic exchange, N single-active-consumer quorum
 * queues bound to it) and the choice of a partition to hand over when
 * this warrend holds more than its share. */
#ifndef WARREN_CONSUMER_PARTITION_H
#define WARREN_CONSUMER_PARTITION_H

#include <amqp.h>
#include <stdint.h>

#include "consumer.h"

/* How long without a delivery before we no longer count a partition as
 * ours, and how long a hand-over may wait for the apps' settlements. */
#define CPART_ACTIVE_MS 3000
#define CPART_DRAIN_MS 10000
/* How long after the last settlement before the channel closes: the
 * broker applies a quorum queue's acks through its log, and an ack not yet
 * applied when the channel goes makes its message come again. */
#define CPART_SETTLE_MS 300
/* The binding key of each partition queue: its weight, the points it
 * has on the hash exchange's ring. */
#define CPART_WEIGHT "20"
/* How often the fleet is counted and the share checked. */
#define CPART_CHECK_MS 2000

/* One partition's state in its subscription. */
struct cpart {
	int		     index; /* -1: not partitioned */
	int		     count;
	uint64_t	     last_ms;	  /* last delivery: ours while recent */
	uint64_t	     drain_since; /* 0: not handing it over */
	int		     outstanding; /* deliveries the loop holds */
	uint64_t	     settled_ms;  /* the last settlement */
	struct consumer_msgq held;	  /* kept back while draining */
};

/* What declaring a partition's exchange and queue needs. */
struct cpart_decl {
	amqp_connection_state_t conn;
	uint16_t		channel;
	const char	       *exchange; /* the topic exchange */
	const char	       *routing_key;
	const char	       *hash;	 /* <service>.<Event>.hash */
	const char	       *queue;	 /* <service>.<Event>.p<i> */
	const char	       *members; /* the roll call; NULL but for p0 */
	int			count;
	amqp_table_t		queue_args; /* dead-lettering, if any */
	/* Check the RPC just made: 0, -1 (channel refused), -2 (gone). */
	int (*check)(void *arg, const char *what, const char *name);
	void *arg;
};

/* Declare the hash exchange, bind it to the topic exchange, declare the
 * quorum queue with x-single-active-consumer and bind it with weight 1.
 * Return what check returned for the first failing RPC, or 0. */
int cpart_declare(const struct cpart_decl *);

/* The roll call of a partitioned event: a queue no one publishes to, that
 * every warrend consuming the event consumes, so that its consumer count
 * is the size of the fleet (a single-active-consumer queue counts only
 * its active consumer). The name of <service>.<Event>.p0's roll call. */
#define CPART_MEMBERS "%s.%s.members"

/* Of the n partitions of one event in v, the one to hand over when we are
 * the active consumer of more than our share of them among fleet
 * consumers; -1 when none. */
int cpart_pick_release(struct cpart *const *v, int n, uint32_t fleet,
    uint64_t now);

#endif
