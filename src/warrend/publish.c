/* publish.c -- the loop side of publishing: publishes handed to the
 * publisher thread, their deadlines, projection pairs, and the replies
 * built from their outcomes. Runs on the loop thread; the broker is the
 * publisher thread's. The mirror image of consume.c. */
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "hops.h"
#include "proto.h"
#include "publish.h"
#include "publisher.h"
#include "request.h"
#include "stats.h"
#include "util.h"
#include "warrend.h"

#define PUBLISH_MIN_JOBS 4096 /* loop-wide, at least */

/* A publish whose jobs the publisher holds. */
struct publish_req {
	TAILQ_ENTRY(publish_req) entry;	 /* in publish_pending */
	TAILQ_ENTRY(publish_req) wentry; /* in publish_waiting */
	struct client  *c;		 /* NULL once c is gone */
	struct preq    *p;		 /* c's reply; NULL once given */
	struct pub_job *job;		 /* while the publisher has it */
	struct pub_job *job2;		 /* the projection, if any */
	struct pub_job *held;		 /* done first, kept to reply */
	int		waiting;	 /* for its deadline */
	uint64_t	accepted_ms;	 /* monotonic */
	uint64_t	deadline;
};
TAILQ_HEAD(publish_reqq, publish_req);

static struct publish_reqq publish_pending =
    TAILQ_HEAD_INITIALIZER(publish_pending);
static struct publish_reqq publish_waiting =
    TAILQ_HEAD_INITIALIZER(publish_waiting);
static int	     publish_jobs; /* with the publisher */
static int	     publish_efd = -1;
static struct event *publish_ev;
static struct event *publish_timer;
static int	     publish_exited;

/*
 * Jobs submitted in this loop round, handed to the publisher thread
 * together when the round ends: one wake-up of the thread for all of them,
 * not one per event whenever the thread keeps up with the loop (with wide
 * events it did, and slept and woke for every other one). Bounded by
 * publish_max_jobs; past PUBLISH_BATCH_MAX they go at once.
 */
#define PUBLISH_BATCH_MAX 1024
static struct pub_job **publish_batch;
static size_t		publish_nbatch;
static size_t		publish_batch_size;
static struct event    *publish_batch_ev;

/* The most publishes the loop hands the publisher at once. */
static int
publish_max_jobs(void)
{
	int n = warrend_conf->confirm_window * 4;

	return (n < PUBLISH_MIN_JOBS ? PUBLISH_MIN_JOBS : n);
}

/* The number of publishes with the publisher. */
int
publish_in_flight(void)
{
	return (publish_jobs);
}

/* Has the publisher enough to do? */
int
publish_full(void)
{
	return (publish_jobs >= publish_max_jobs());
}

/* Has it room again (hysteresis: half the bound)? */
int
publish_has_room(void)
{
	return (publish_jobs < publish_max_jobs() / 2);
}

/* Has the publisher thread given everything back and exited? */
int
publish_gone(void)
{
	return (publish_exited);
}

/* Arm the timeout timer for the oldest waiting publish. */
static void
publish_arm_timer(void)
{
	struct publish_req *r = TAILQ_FIRST(&publish_waiting);
	struct timeval	    tv;
	uint64_t	    now = util_now_ms(), ms;

	if (r == NULL || evtimer_pending(publish_timer, NULL))
		return;
	ms = r->deadline > now ? r->deadline - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(publish_timer, &tv);
}

/* Stop waiting for r's deadline. */
static void
publish_unwait(struct publish_req *r)
{
	if (r->waiting) {
		TAILQ_REMOVE(&publish_waiting, r, wentry);
		r->waiting = 0;
	}
}

/* Hand the publisher thread the jobs gathered so far. */
void
publish_submit_flush(void)
{
	publisher_submit_many(publish_batch, publish_nbatch);
	publish_nbatch = 0;
}

/* The loop round that gathered the batch is over. */
static void
publish_batch_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	publish_submit_flush();
}

/* Submit j when this loop round ends. */
static void
publish_batch_add(struct pub_job *j)
{
	if (publish_batch_ev == NULL) {
		publisher_submit_many(&j, 1);
		return;
	}
	if (publish_nbatch == publish_batch_size) {
		publish_batch_size = publish_batch_size == 0 ?
		    64 :
		    publish_batch_size * 2;
		publish_batch = xreallocarray(publish_batch, publish_batch_size,
		    sizeof *publish_batch);
	}
	publish_batch[publish_nbatch++] = j;
	/* Active events run after those already active in this round. */
	if (publish_nbatch == 1)
		event_active(publish_batch_ev, EV_TIMEOUT, 1);
	else if (publish_nbatch >= PUBLISH_BATCH_MAX)
		publish_submit_flush();
}

/* Hand a checked publish to the publisher thread. */
void
publish_submit(struct client *c, const struct json_span *id,
    struct pub_job *job, struct pub_job *job2)
{
	struct publish_req *r = xcalloc(1, sizeof *r);

	r->c = c;
	r->p = client_defer(c, id);
	r->job = job;
	job->cookie = r;
	if ((r->job2 = job2) != NULL) {
		job2->cookie = r;
		publish_jobs++;
	}
	r->accepted_ms = util_now_ms();
	r->deadline = r->accepted_ms +
	    (uint64_t)warrend_conf->publish_timeout_ms;
	r->waiting = 1;
	TAILQ_INSERT_TAIL(&publish_pending, r, entry);
	TAILQ_INSERT_TAIL(&publish_waiting, r, wentry);
	publish_arm_timer();
	publish_jobs++;
	stats_count(STATS_ACCEPTED);
	HOPS_CALL(hops_start(job->hops));
	publish_batch_add(job);
	if (job2 != NULL)
		publish_batch_add(job2);
}

/* c is going: its publishes go on (the events are still published), but
 * their outcomes answer nobody. */
void
publish_client_gone(const struct client *c)
{
	struct publish_req *r;

	TAILQ_FOREACH(r, &publish_pending, entry) {
		if (r->c == c) {
			r->c = NULL;
			r->p = NULL;
		}
	}
}

/*
 * A job of r is done. With a projection, the reply waits for both: the one
 * done first is held, and the reply carries the newer event's outcome
 * unless the projection failed. Return the job to reply with (NULL: wait),
 * and in *spare one to free afterwards.
 */
static struct pub_job *
publish_pair(struct publish_req *r, struct pub_job *j, struct pub_job **spare)
{
	struct pub_job *main, *side;

	*spare = NULL;
	if (r->job == j)
		r->job = NULL;
	else
		r->job2 = NULL;
	if (r->job != NULL || r->job2 != NULL) {
		r->held = j;
		return (NULL);
	}
	if (r->held == NULL)
		return (j);
	main = j->projection ? r->held : j;
	side = j->projection ? j : r->held;
	r->held = NULL;
	if (side->outcome != PUB_CONFIRMED && side->outcome != PUB_SPOOLED)
		main->outcome = side->outcome;
	else if (side->outcome == PUB_SPOOLED && main->outcome == PUB_CONFIRMED)
		main->outcome = PUB_SPOOLED;
	*spare = j == main ? side : j;
	return (main);
}

/* Both jobs of r are back: answer it (unless answered or orphaned), and
 * forget it. */
static void
publish_done(struct publish_req *r, struct pub_job *j)
{
	struct pbuf b = { NULL, 0, 0 };

	publish_unwait(r);
	TAILQ_REMOVE(&publish_pending, r, entry);
	if (r->p != NULL) {
		request_outcome(&b, j, client_preq_id(r->p),
		    client_preq_idlen(r->p), r->accepted_ms);
		client_answer(r->p, &b);
		HOPS_CALL(hops_answered(j->hops));
	}
	free(r);
}

/* The publisher finished some jobs: answer them. */
static void
publish_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pub_jobq	    q = TAILQ_HEAD_INITIALIZER(q);
	struct pub_job	   *j, *spare;
	struct publish_req *r;

	(void)fd;
	(void)events;
	(void)arg;
	publish_exited = publisher_collect(&q);
	while ((j = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, j, entry);
		HOPS_STAMP(j->hops, HOP_BACK);
		r = j->cookie;
		publish_jobs--;
		if ((j = publish_pair(r, j, &spare)) == NULL)
			continue; /* its pair is still out */
		publish_done(r, j);
		publisher_job_free(j);
		if (spare != NULL)
			publisher_job_free(spare);
	}
	/* Stamped before the write: waking the client may let it run
	 * before this thread, which is not time the reply waited. */
	HOPS_CALL(hops_written());
	client_write_now();
	client_publish_room();
}

/* Publishes older than publish_timeout_ms are answered "unavailable";
 * the publisher is asked to drop them if not sent yet. */
static void
publish_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pbuf	    b = { NULL, 0, 0 };
	struct publish_req *r;
	uint64_t	    now = util_now_ms();

	(void)fd;
	(void)events;
	(void)arg;
	while ((r = TAILQ_FIRST(&publish_waiting)) != NULL &&
	    r->deadline <= now) {
		publish_unwait(r);
		if (r->job != NULL)
			publisher_cancel(r->job);
		if (r->job2 != NULL)
			publisher_cancel(r->job2);
		stats_count(STATS_TIMED_OUT);
		if (r->p == NULL)
			continue;
		request_timed_out(&b, client_preq_id(r->p),
		    client_preq_idlen(r->p));
		client_answer(r->p, &b);
		r->p = NULL;
	}
	publish_arm_timer();
}

/* Watch the publisher thread's outcomes (warrend.c starts and stops the
 * thread, before and after this). */
int
publish_start(char **cause)
{
	publish_efd = publisher_done_fd();
	publish_ev = event_new(warrend_base, publish_efd, EV_READ | EV_PERSIST,
	    publish_done_cb, NULL);
	publish_timer = evtimer_new(warrend_base, publish_timer_cb, NULL);
	publish_batch_ev = event_new(warrend_base, -1, 0, publish_batch_cb,
	    NULL);
	if (publish_ev == NULL || publish_timer == NULL ||
	    publish_batch_ev == NULL || event_add(publish_ev, NULL) != 0) {
		xasprintf(cause, "cannot watch the publisher thread");
		return (-1);
	}
	return (0);
}

/* Free the loop-side state; jobs the thread kept are publisher_join's. */
void
publish_free(void)
{
	struct publish_req *r;

	publish_submit_flush();
	if (publish_batch_ev != NULL)
		event_free(publish_batch_ev);
	publish_batch_ev = NULL;
	free(publish_batch);
	publish_batch = NULL;
	publish_batch_size = 0;

	while ((r = TAILQ_FIRST(&publish_pending)) != NULL) {
		TAILQ_REMOVE(&publish_pending, r, entry);
		if (r->held != NULL)
			publisher_job_free(r->held);
		free(r);
	}
	if (publish_ev != NULL)
		event_free(publish_ev);
	if (publish_timer != NULL)
		event_free(publish_timer);
	publish_efd = -1; /* the publisher's: it closes it */
}
