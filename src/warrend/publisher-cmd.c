/* publisher-cmd.c -- the loop's side of the publisher thread: jobs made,
 * handed over, cancelled and collected back, and its figures. Runs on the
 * loop thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mailbox.h"
#include "publisher-int.h"
#include "util.h"

/* A new job, one allocation holding everything. */
struct pub_job *
publisher_job_new(const char *routing_key, const char *type,
    const char *message_id, const char *body, size_t bodylen)
{
	struct pub_job *j;
	size_t		rl = strlen(routing_key) + 1, tl = strlen(type) + 1;
	char	       *p;

	j = xmalloc(sizeof *j + rl + tl + bodylen);
	memset(j, 0, sizeof *j);
	p = (char *)(j + 1);
	memcpy(p, routing_key, rl);
	j->routing_key = p;
	memcpy(p + rl, type, tl);
	j->type = p + rl;
	memcpy(p + rl + tl, body, bodylen);
	j->body = p + rl + tl;
	j->bodylen = bodylen;
	snprintf(j->message_id, sizeof j->message_id, "%s", message_id);
	return (j);
}

/* Free a job. */
void
publisher_job_free(struct pub_job *j)
{
	free(j->traceparent);
	free(j->tracestate);
	free(j);
}

/* Hand n jobs to the thread, in order, with one wake-up. */
void
publisher_submit_many(struct pub_job *const *jobs, size_t n)
{
	if (mailbox_push_many(publisher_the->in, (void *const *)jobs, n) != 0)
		fatal("publisher: job mailbox");
}

/* Mark a job as given up on; the thread drops it if it is not sent yet. */
void
publisher_cancel(struct pub_job *j)
{
	struct publisher *p = publisher_the;

	__atomic_store_n(&j->cancelled, 1, __ATOMIC_RELEASE);
	if (!__atomic_exchange_n(&p->sweep, 1, __ATOMIC_ACQ_REL))
		publisher_kick(p->wake_fd);
}

/* Move finished jobs onto q; return 1 once the thread has exited. */
int
publisher_collect(struct pub_jobq *q)
{
	struct pub_job *j;

	while ((j = mailbox_take(publisher_the->done)) != NULL)
		TAILQ_INSERT_TAIL(q, j, entry);
	/* The thread closes its mailbox as it exits. */
	return (mailbox_finished(publisher_the->done));
}

/* The eventfd readable while finished jobs wait for publisher_collect. */
int
publisher_done_fd(void)
{
	return (mailbox_fd(publisher_the->done));
}

/* Copy the stats under the lock. */
void
publisher_get_stats(struct publisher_stats *st)
{
	struct publisher *p = publisher_the;

	pthread_mutex_lock(&p->lock);
	*st = p->stats;
	pthread_mutex_unlock(&p->lock);
}
