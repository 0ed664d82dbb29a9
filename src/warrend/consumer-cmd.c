/* consumer-cmd.c -- the loop's side of the consumer thread: commands
 * queued for it (subscribe, replay, cancel, settle) and the messages it
 * hands back. Runs on the loop thread. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "consumer-int.h"
#include "log.h"
#include "mailbox.h"
#include "util.h"

/* Queue a command for the thread. */
static void
consumer_command(struct ccmd *cmd)
{
	if (mailbox_push(cons.in, cmd) != 0)
		fatal("consumer: command mailbox");
}

/* Consume event's partitions, or its queue. */
void
consumer_subscribe_partitioned(const char *event, const char *routing_key,
    int partitions)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SUBSCRIBE;
	cmd->event = xstrdup(event);
	cmd->routing_key = xstrdup(routing_key);
	cmd->partitions = partitions;
	consumer_command(cmd);
}

/* Replay event's stream from from. */
void
consumer_replay(const char *event, uint64_t sid, const struct stream_from *from)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SUBSCRIBE;
	cmd->event = xstrdup(event);
	cmd->sid = sid;
	cmd->from = *from;
	consumer_command(cmd);
}

/* Stop consuming event's queue, or end a replay. */
void
consumer_cancel(const char *event, uint64_t sid)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_CANCEL;
	cmd->event = xstrdup(event);
	cmd->sid = sid;
	consumer_command(cmd);
}

/* Settle a delivery. */
void
consumer_settle(uint64_t epoch, uint16_t channel, uint64_t dtag, int ack,
    int requeue)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SETTLE;
	cmd->epoch = epoch;
	cmd->channel = channel;
	cmd->dtag = dtag;
	cmd->ack = ack;
	cmd->requeue = requeue;
	consumer_command(cmd);
}

/* Settle n deliveries in one command. */
void
consumer_settle_many(const struct consumer_settle *st, size_t n)
{
	struct ccmd *cmd;

	if (n == 0)
		return;
	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CC_SETTLE_MANY;
	cmd->settles = xreallocarray(NULL, n, sizeof *st);
	memcpy(cmd->settles, st, n * sizeof *st);
	cmd->nsettles = n;
	consumer_command(cmd);
}

/* Settle a delivery by retrying it in retry_ms (retry.c). */
void
consumer_retry(uint64_t epoch, uint16_t channel, uint64_t dtag, int retry_ms,
    int max_attempts)
{
	struct ccmd *cmd = xcalloc(1, sizeof *cmd);

	cmd->type = CC_SETTLE;
	cmd->epoch = epoch;
	cmd->channel = channel;
	cmd->dtag = dtag;
	cmd->retry_ms = retry_ms;
	cmd->max_attempts = max_attempts;
	consumer_command(cmd);
}

/* Free a command. */
void
consumer_cmd_free(struct ccmd *cmd)
{
	free(cmd->event);
	free(cmd->routing_key);
	free(cmd->settles);
	free(cmd);
}

/* Move the thread's messages onto q. */
void
consumer_collect(struct consumer_msgq *q)
{
	struct consumer_msg *m;

	while ((m = mailbox_take(cons.out)) != NULL)
		TAILQ_INSERT_TAIL(q, m, entry);
}

/* The eventfd readable while messages wait for consumer_collect. */
int
consumer_done_fd(void)
{
	return (mailbox_fd(cons.out));
}

/* Free a message. */
void
consumer_msg_free(struct consumer_msg *m)
{
	free(m->event);
	free(m->error);
	free(m->message_id);
	free(m->traceparent);
	free(m->tracestate);
	free(m->routing_key);
	free(m->body);
	free(m);
}

/* Copy the stats under the lock. */
void
consumer_get_stats(struct consumer_stats *st)
{
	pthread_mutex_lock(&cons.lock);
	*st = cons.stats;
	pthread_mutex_unlock(&cons.lock);
}
