/* ackset.h -- the delivery tags of one consuming channel that the broker
 * still counts as unacked, in tag order, and which of them the app has
 * acked: turned into as few basic.acks as the rule allows. A `multiple`
 * ack of tag T settles every unacked tag up to T, so it is only sent for
 * a run at the head whose every tag the app acked; an acked tag behind one
 * the app still holds is acked by itself. Pure: no AMQP connection, so
 * unit tests drive it directly; the consumer thread owns one per channel. */
#ifndef WARREN_ACKSET_H
#define WARREN_ACKSET_H

#include <stddef.h>
#include <stdint.h>

struct ackset_entry {
	uint64_t tag;
	int	 acked; /* by the app, not yet told to the broker */
};

/* Read the fields only through the functions. */
struct ackset {
	struct ackset_entry *e; /* n entries, tags ascending */
	size_t		     n;
	size_t		     size;
	size_t		     nacked; /* entries with acked set */
};

/* Send one basic.ack: tag, and whether it is `multiple`; nonzero stops
 * ackset_flush (the connection failed). */
typedef int (*ackset_cb)(uint64_t tag, int multiple, void *arg);

/* Start empty. */
void ackset_init(struct ackset *);
/* Free the entries; empty again. */
void ackset_free(struct ackset *);
/* A new channel: forget every tag (the broker did too). */
void ackset_clear(struct ackset *);

/* The broker delivered tag: 0, or -1 if it is not above every tag held
 * (tags rise on a channel; anything else is the broker's error). */
int ackset_add(struct ackset *, uint64_t tag);
/* The app acked tag: 0, or -1 if the set does not hold it unacked. */
int ackset_ack(struct ackset *, uint64_t tag);
/* Tag was settled another way (a nack, sent at once): forget it. 0, or -1
 * if the set does not hold it unacked. */
int ackset_forget(struct ackset *, uint64_t tag);
/* Do acked tags wait for ackset_flush? */
int ackset_pending(const struct ackset *);
/* Tags the broker counts as unacked. */
size_t ackset_count(const struct ackset *);
/*
 * Hand every acked tag to cb and forget it: the acked run at the head as
 * one ack (multiple when the run is longer than one tag), each acked tag
 * after the first tag still held by the app by itself, in tag order.
 * Return 0, or the first nonzero value of cb (the rest stay forgotten: the
 * connection is gone and the broker requeues them).
 */
int ackset_flush(struct ackset *, ackset_cb cb, void *arg);

#endif
