/* consume-batch.c -- settlements gathered for one loop round and handed to
 * the consumer thread together. Runs on the loop thread. */
#include <event2/event.h>
#include <stdlib.h>

#include "consume-batch.h"
#include "consumer.h"
#include "util.h"
#include "warrend.h"

/*
 * Bounded by the deliveries clients hold (prefetch per subscription); past
 * this many the batch goes at once rather than growing.
 */
#define CONSUME_BATCH_MAX 4096

static struct consumer_settle *batch;
static size_t		       nbatch;
static size_t		       batch_size;
static struct event	      *batch_ev;

/* Hand over what is gathered now. */
void
consume_batch_flush(void)
{
	consumer_settle_many(batch, nbatch);
	nbatch = 0;
}

/* The loop round that gathered the batch is over. */
static void
consume_batch_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	consume_batch_flush();
}

/* Make the event that hands the batch over. */
int
consume_batch_start(char **cause)
{
	batch_ev = event_new(warrend_base, -1, 0, consume_batch_cb, NULL);
	if (batch_ev == NULL) {
		xasprintf(cause, "cannot make the settle batch event");
		return (-1);
	}
	return (0);
}

/* Settle a delivery when this loop round ends. */
void
consume_batch_add(uint64_t epoch, uint16_t channel, uint64_t dtag, int ack,
    int requeue)
{
	struct consumer_settle *st;

	if (batch_ev == NULL) {
		/* Not started (or stopped): no round to wait for. */
		consumer_settle(epoch, channel, dtag, ack, requeue);
		return;
	}
	if (nbatch == batch_size) {
		batch_size = batch_size == 0 ? 64 : batch_size * 2;
		batch = xreallocarray(batch, batch_size, sizeof *batch);
	}
	st = &batch[nbatch++];
	st->epoch = epoch;
	st->channel = channel;
	st->dtag = dtag;
	st->ack = ack != 0;
	st->requeue = requeue != 0;
	/* Active events run after those already active in this round. */
	if (nbatch == 1)
		event_active(batch_ev, EV_TIMEOUT, 1);
	else if (nbatch >= CONSUME_BATCH_MAX)
		consume_batch_flush();
}

/* Hand over what is left and free the event. */
void
consume_batch_free(void)
{
	consume_batch_flush();
	if (batch_ev != NULL)
		event_free(batch_ev);
	batch_ev = NULL;
	free(batch);
	batch = NULL;
	batch_size = 0;
}
