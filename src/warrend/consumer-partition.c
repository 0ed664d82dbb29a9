/* consumer-partition.c -- the consumer thread's side of ordered
 * partitions. Every warrend of a service consumes all N queues of a
 * partitioned event; each queue has a single active consumer, so the
 * broker gives each partition to one warrend at a time and moves it to
 * the next when that warrend's channel goes. RabbitMQ makes the first
 * consumer active, so a warrend that holds more than its share of the
 * partitions hands some over: it stops passing on their deliveries,
 * waits until its apps have settled what they hold, and closes the
 * partition's channel (the broker puts back what it had sent, in order,
 * and activates the next consumer), then consumes it again, last in
 * line. */
#include <amqp.h>
#include <amqp_framing.h>
#include <stdio.h>

#include "consumer-partition.h"
#include "partition.h"

/* A table entry of a string, an integer or a boolean. */
static void
cpart_arg(amqp_table_entry_t *e, const char *key, const char *s, int i, int b)
{
	e->key = amqp_cstring_bytes(key);
	if (s != NULL) {
		e->value.kind = AMQP_FIELD_KIND_UTF8;
		e->value.value.bytes = amqp_cstring_bytes(s);
	} else if (b) {
		e->value.kind = AMQP_FIELD_KIND_BOOLEAN;
		e->value.value.boolean = 1;
	} else {
		e->value.kind = AMQP_FIELD_KIND_I32;
		e->value.value.i32 = i;
	}
}

/*
 * The hash exchange hashes the key header. The count is written into the
 * one exchange argument RabbitMQ compares when an exchange is declared
 * again, alternate-exchange (the exchange it names need not exist: an
 * event without a key is not routed to any partition), so that a warrend
 * with another count is refused instead of splitting keys over two rings.
 */
static int
cpart_declare_hash(const struct cpart_decl *d)
{
	amqp_table_entry_t a[2];
	amqp_table_t	   args = { 2, a };
	char		   ae[512];
	int		   rv;

	snprintf(ae, sizeof ae, "%s.unkeyed.partitions-%d", d->hash, d->count);
	cpart_arg(&a[0], "hash-header", PARTITION_HEADER, 0, 0);
	cpart_arg(&a[1], "alternate-exchange", ae, 0, 0);
	amqp_exchange_declare(d->conn, d->channel, amqp_cstring_bytes(d->hash),
	    amqp_cstring_bytes("x-consistent-hash"), 0, 1, 0, 0, args);
	if ((rv = d->check(d->arg, "exchange.declare", d->hash)) != 0)
		return (rv);
	amqp_exchange_bind(d->conn, d->channel, amqp_cstring_bytes(d->hash),
	    amqp_cstring_bytes(d->exchange), amqp_cstring_bytes(d->routing_key),
	    amqp_empty_table);
	return (d->check(d->arg, "exchange.bind", d->hash));
}

/* Declare a partition's exchange and queue and bind them. */
int
cpart_declare(const struct cpart_decl *d)
{
	amqp_table_entry_t a[8];
	amqp_table_t	   args = { 0, a };
	int		   i, rv;

	if ((rv = cpart_declare_hash(d)) != 0)
		return (rv);
	for (i = 0; i < d->queue_args.num_entries && i < 6; i++)
		a[args.num_entries++] = d->queue_args.entries[i];
	cpart_arg(&a[args.num_entries++], "x-queue-type", "quorum", 0, 0);
	cpart_arg(&a[args.num_entries++], "x-single-active-consumer", NULL, 0,
	    1);
	amqp_queue_declare(d->conn, d->channel, amqp_cstring_bytes(d->queue), 0,
	    1, 0, 0, args);
	if ((rv = d->check(d->arg, "queue.declare", d->queue)) != 0)
		return (rv);
	/* Equal weights, CPART_WEIGHT points on the ring each: with one,
	 * the arcs between points, and so the partitions, differ twofold. */
	amqp_queue_bind(d->conn, d->channel, amqp_cstring_bytes(d->queue),
	    amqp_cstring_bytes(d->hash), amqp_cstring_bytes(CPART_WEIGHT),
	    amqp_empty_table);
	if ((rv = d->check(d->arg, "queue.bind", d->queue)) != 0 ||
	    d->members == NULL)
		return (rv);
	/* The roll call: gone with its last consumer, made by the next. */
	amqp_queue_declare(d->conn, d->channel, amqp_cstring_bytes(d->members),
	    0, 0, 0, 1, amqp_empty_table);
	return (d->check(d->arg, "queue.declare", d->members));
}

/* The partition to hand over, if we hold more than our share. */
int
cpart_pick_release(struct cpart *const *v, int n, uint32_t fleet, uint64_t now)
{
	int i, held = 0, share, pick = -1;

	if (fleet <= 1 || n <= 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (v[i]->drain_since != 0)
			return (-1); /* one at a time */
		if (v[i]->last_ms != 0 &&
		    now - v[i]->last_ms < CPART_ACTIVE_MS) {
			held++;
			pick = i;
		}
	}
	share = (n + (int)fleet - 1) / (int)fleet;
	return (held > share ? pick : -1);
}
