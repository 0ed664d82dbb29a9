/* client.c -- local connections: line framing, replies in request order,
 * backpressure. What a request asks for is request.c's. Runs on the loop
 * thread only. */
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "log.h"
#include "proto.h"
#include "publisher.h"
#include "request.h"
#include "consume.h"
#include "util.h"
#include "warrend.h"

#define CLIENT_MAX_QUEUED	1024		/* unanswered requests */
#define CLIENT_OUT_HIGH		(256 * 1024)	/* stop reading above */
#define CLIENT_OUT_LOW		(64 * 1024)	/* resume below */
#define CLIENT_MIN_JOBS		4096		/* loop-wide, at least */

#define PAUSE_QUEUED	0x1	/* too many unanswered requests */
#define PAUSE_OUTPUT	0x2	/* replies not being read */
#define PAUSE_JOBS	0x4	/* the publisher has enough to do */

struct client;

/* A request whose reply is not written yet. */
struct preq {
	TAILQ_ENTRY(preq)	 centry;	/* in c->queue while c != NULL */
	TAILQ_ENTRY(preq)	 wentry;	/* in client_waiting */
	struct client		*c;
	struct pub_job		*job;		/* while the publisher has it */
	struct pub_job		*job2;		/* the projection, if any */
	struct pub_job		*held;		/* done first, kept for the reply */
	int			 waiting;
	uint64_t		 accepted_ms;	/* monotonic */
	uint64_t		 deadline;
	char			*reply;		/* NULL until answered */
	size_t			 replylen;
	size_t			 idlen;
	char			 id[];		/* the raw "id" */
};
TAILQ_HEAD(preqq, preq);

struct client {
	TAILQ_ENTRY(client)	 entry;
	TAILQ_ENTRY(client)	 jentry;	/* in client_jobwait */
	struct bufferevent	*bev;
	uint64_t		 serial;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	struct preqq		 queue;
	int			 nqueued;
	int			 paused;
	int			 discard;	/* dropping a too-long line */
	int			 eof;		/* peer stopped writing */
	int			 closing;	/* close once replies are out */
	int			 processing;	/* inside client_process */
	size_t			 scanned;	/* bytes known to hold no \n */
	struct consume_client	*subs;		/* consume.c's */
};
TAILQ_HEAD(clientq, client);

static struct clientq	 client_list = TAILQ_HEAD_INITIALIZER(client_list);
static struct clientq	 client_jobwait = TAILQ_HEAD_INITIALIZER(client_jobwait);
static struct preqq	 client_waiting = TAILQ_HEAD_INITIALIZER(client_waiting);
static int		 client_n;
static uint64_t		 client_serial;
static int		 client_jobs;		/* with the publisher */
static int		 client_done_efd = -1;
static struct event	*client_done_ev;
static struct event	*client_timer;
static int		 client_publisher_gone;

static void	client_process(struct client *);
static void	client_free(struct client *);

/* The most publishes the loop hands the publisher at once. */
static int
client_max_jobs(void)
{
	int	 n = warrend_conf->confirm_window * 4;

	return (n < CLIENT_MIN_JOBS ? CLIENT_MIN_JOBS : n);
}

/* The number of connected clients. */
int
client_count(void)
{
	return (client_n);
}

/* The eventfd the publisher thread signals. */
int
client_done_fd(void)
{
	return (client_done_efd);
}

/* Has everything been answered and written? Then a closing client goes. */
static int
client_maybe_close(struct client *c)
{
	if (!c->eof && !c->closing)
		return (0);
	if (!TAILQ_EMPTY(&c->queue) ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return (0);
	if (!c->closing &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) != 0)
		return (0);
	client_free(c);
	return (1);
}

/* Recompute why we are not reading from c, and tell libevent. */
static void
client_update_pause(struct client *c)
{
	int	 reading;

	c->paused &= PAUSE_JOBS;
	if (c->nqueued >= CLIENT_MAX_QUEUED)
		c->paused |= PAUSE_QUEUED;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    CLIENT_OUT_HIGH)
		c->paused |= PAUSE_OUTPUT;
	if (c->eof)
		return;
	/* Compare with what libevent does, not with what we last asked:
	 * every reason to pause must stop the reading. */
	reading = (bufferevent_get_enabled(c->bev) & EV_READ) != 0;
	if (c->paused && reading)
		bufferevent_disable(c->bev, EV_READ);
	else if (!c->paused && !reading)
		bufferevent_enable(c->bev, EV_READ);
}

/* Something changed for c: read on if nothing holds it back, and close it
 * if it is done. Return 1 if c was freed. */
static int
client_kick(struct client *c)
{
	/* A reply made while handling a line: that loop goes on by itself,
	 * and must not be entered again nor see c freed under it. */
	if (c->processing) {
		client_update_pause(c);
		return (0);
	}
	client_update_pause(c);
	if (!c->paused)
		client_process(c);
	return (client_maybe_close(c));
}

/* Free a request unless the publisher still holds its job. */
static void
client_preq_release(struct preq *p)
{
	p->c = NULL;
	if (p->job == NULL && p->job2 == NULL) {
		if (p->held != NULL)
			publisher_job_free(p->held);
		free(p->reply);
		free(p);
	}
}

/* Write every answered reply at the head of the queue, in order. */
static void
client_flush(struct client *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct preq	*p;

	while ((p = TAILQ_FIRST(&c->queue)) != NULL && p->reply != NULL) {
		evbuffer_add(out, p->reply, p->replylen);
		TAILQ_REMOVE(&c->queue, p, centry);
		c->nqueued--;
		client_preq_release(p);
	}
}

/* A reply for the current request: written now if nothing is ahead. */
void
client_reply(struct client *c, struct pbuf *b)
{
	struct preq	*p;

	if (TAILQ_EMPTY(&c->queue)) {
		bufferevent_write(c->bev, b->p, b->len);
		pbuf_free(b);
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->c = c;
	p->reply = b->p;
	p->replylen = b->len;
	memset(b, 0, sizeof *b);
	TAILQ_INSERT_TAIL(&c->queue, p, centry);
	c->nqueued++;
}

/* Arm the timeout timer for the oldest waiting publish. */
static void
client_arm_timer(void)
{
	struct preq	*p = TAILQ_FIRST(&client_waiting);
	struct timeval	 tv;
	uint64_t	 now = util_now_ms(), ms;

	if (p == NULL || evtimer_pending(client_timer, NULL))
		return;
	ms = p->deadline > now ? p->deadline - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(client_timer, &tv);
}

/* A slot for a reply that comes later, in c's request order. */
struct preq *
client_defer(struct client *c, const struct json_span *id)
{
	struct preq	*p;

	p = xcalloc(1, sizeof *p + id->len);
	p->c = c;
	if (id->ptr != NULL) {
		memcpy(p->id, id->ptr, id->len);
		p->idlen = id->len;
	}
	TAILQ_INSERT_TAIL(&c->queue, p, centry);
	c->nqueued++;
	return (p);
}

/* Fill a deferred reply and write what is due; c may be freed. */
void
client_answer(struct preq *p, struct pbuf *b)
{
	struct client	*c = p->c;

	p->reply = b->p;
	p->replylen = b->len;
	memset(b, 0, sizeof *b);
	if (c == NULL) {
		client_preq_release(p);
		return;
	}
	if (p == TAILQ_FIRST(&c->queue)) {
		client_flush(c);
		client_kick(c);
	}
}

/* The raw id of a deferred request, or NULL. */
const char *
client_preq_id(const struct preq *p)
{
	return (p->idlen > 0 ? p->id : NULL);
}

/* The length of that id. */
size_t
client_preq_idlen(const struct preq *p)
{
	return (p->idlen);
}

/* Write a line that is not a reply (a delivery) now. */
void
client_send(struct client *c, const char *line, size_t len)
{
	bufferevent_write(c->bev, line, len);
}

/* Where consume.c keeps its state for c. */
struct consume_client **
client_subs(struct client *c)
{
	return (&c->subs);
}

/* The peer's uid, (uid_t)-1 if unknown. */
uid_t
client_uid(const struct client *c)
{
	return (c->uid);
}

/* The peer's gid, (gid_t)-1 if unknown. */
gid_t
client_gid(const struct client *c)
{
	return (c->gid);
}

/* The number of publishes with the publisher. */
int
client_in_flight(void)
{
	return (client_jobs);
}

/* Hand a checked publish to the publisher thread; its reply is deferred
 * until the outcome comes back or publish_timeout_ms passes. */
void
client_submit(struct client *c, const struct json_span *id,
    struct pub_job *job, struct pub_job *job2)
{
	struct preq	*p;

	p = client_defer(c, id);
	p->job = job;
	job->cookie = p;
	if ((p->job2 = job2) != NULL) {
		job2->cookie = p;
		client_jobs++;
	}
	p->accepted_ms = util_now_ms();
	p->deadline = p->accepted_ms +
	    (uint64_t)warrend_conf->publish_timeout_ms;
	p->waiting = 1;
	TAILQ_INSERT_TAIL(&client_waiting, p, wentry);
	client_arm_timer();
	client_jobs++;
	warrend_stats.accepted++;
	publisher_submit(job);
	if (job2 != NULL)
		publisher_submit(job2);
}

/*
 * A job of p is done. With a projection, the reply waits for both: the one
 * done first is held, and the reply carries the newer event's outcome
 * unless the projection failed. Return the job to reply with (NULL: wait),
 * and in *spare one to free afterwards.
 */
static struct pub_job *
client_pair(struct preq *p, struct pub_job *j, struct pub_job **spare)
{
	struct pub_job	*main, *side;

	*spare = NULL;
	if (p->job == j)
		p->job = NULL;
	else
		p->job2 = NULL;
	if (p->job != NULL || p->job2 != NULL) {
		p->held = j;
		return (NULL);
	}
	if (p->held == NULL)
		return (j);
	main = j->projection ? p->held : j;
	side = j->projection ? j : p->held;
	p->held = NULL;
	if (side->outcome != PUB_CONFIRMED && side->outcome != PUB_SPOOLED)
		main->outcome = side->outcome;
	else if (side->outcome == PUB_SPOOLED && main->outcome == PUB_CONFIRMED)
		main->outcome = PUB_SPOOLED;
	*spare = j == main ? side : j;
	return (main);
}

/* Is the line only whitespace? Blank lines are skipped, not errors. */
static int
client_blank(const char *line, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return (0);
	}
	return (1);
}

/* Find the next newline at or after c->scanned; -1 if none. */
static ssize_t
client_find_eol(struct client *c, struct evbuffer *in)
{
	struct evbuffer_ptr	 start, pos;

	if (evbuffer_ptr_set(in, &start, c->scanned, EVBUFFER_PTR_SET) != 0)
		return (-1);
	pos = evbuffer_search(in, "\n", 1, &start);
	if (pos.pos == -1)
		c->scanned = evbuffer_get_length(in);
	return (pos.pos);
}

/* Drop input up to and including the next newline (after a too-long line). */
static int
client_discard(struct client *c, struct evbuffer *in)
{
	ssize_t	 eol;

	c->scanned = 0;
	if ((eol = client_find_eol(c, in)) == -1) {
		evbuffer_drain(in, evbuffer_get_length(in));
		c->scanned = 0;
		return (-1);
	}
	evbuffer_drain(in, (size_t)eol + 1);
	c->scanned = 0;
	c->discard = 0;
	return (0);
}

/* Handle every complete line in the input, unless paused. */
static void
client_process(struct client *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 max = warrend_conf->max_line;
	ssize_t		 eol;
	char		*line;

	c->processing = 1;
	while (!c->paused && evbuffer_get_length(in) > 0) {
		if (c->discard && client_discard(c, in) != 0)
			break;
		if ((eol = client_find_eol(c, in)) == -1) {
			if (evbuffer_get_length(in) <= max)
				break;
			request_too_large(c);
			c->discard = 1;
			continue;
		}
		if ((size_t)eol > max) {
			request_too_large(c);
			evbuffer_drain(in, (size_t)eol + 1);
			c->scanned = 0;
			continue;
		}
		/* Stopping, every line is only answered: no job is made. */
		if (client_jobs >= client_max_jobs() && !warrend_stopping) {
			c->paused |= PAUSE_JOBS;
			TAILQ_INSERT_TAIL(&client_jobwait, c, jentry);
			client_update_pause(c);
			break;
		}
		line = (char *)evbuffer_pullup(in, eol + 1);
		if (!client_blank(line, (size_t)eol))
			request_handle(c, line, (size_t)eol);
		evbuffer_drain(in, (size_t)eol + 1);
		c->scanned = 0;
		client_update_pause(c);
	}
	c->processing = 0;
	client_update_pause(c);
	if (c->eof && !c->paused && evbuffer_get_length(in) > 0 &&
	    client_find_eol(c, in) == -1) {
		log_debug("client %llu: closed mid-line, %zu bytes dropped",
		    (unsigned long long)c->serial, evbuffer_get_length(in));
		evbuffer_drain(in, evbuffer_get_length(in));
	}
}

/* Input arrived. */
static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	client_process(c);
	client_maybe_close(c);
}

/* Output fell below the low mark: read again if that was the holdup. */
static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	if (client_maybe_close(c))
		return;
	if (c->paused & PAUSE_OUTPUT)
		client_kick(c);
}

/* End of file or an error on the connection. */
static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_ERROR) {
		log_debug("client %llu: %s", (unsigned long long)c->serial,
		    strerror(EVUTIL_SOCKET_ERROR()));
		client_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* A half-close still gets the replies to what it sent. */
		c->eof = 1;
		bufferevent_disable(c->bev, EV_READ);
		client_process(c);
		client_maybe_close(c);
	}
}

/* Refuse a connection beyond max_clients with one line, then close. */
static void
client_refuse(int fd)
{
	char	 line[160];
	int	 n;

	n = snprintf(line, sizeof line, "{\"ok\":false,\"error\":"
	    "\"too_many_clients\",\"message\":\"too many clients "
	    "(max_clients %d)\"}\n", warrend_conf->max_clients);
	/* A new socket's buffer is empty: this cannot block or be short. */
	if (write(fd, line, (size_t)n) == -1)
		log_debug("refusing client: %s", strerror(errno));
	close(fd);
	warrend_stats.refused++;
	proto_count_error("too_many_clients");
}

/* Take over a freshly accepted connection. */
void
client_accept(int fd)
{
	struct client	*c;
	struct ucred	 cred;
	socklen_t	 len = sizeof cred;

	if (warrend_stopping) {
		close(fd);
		return;
	}
	if (client_n >= warrend_conf->max_clients) {
		client_refuse(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
	} else {
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
	}
	evutil_make_socket_nonblocking(fd);
	c->bev = bufferevent_socket_new(warrend_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	TAILQ_INIT(&c->queue);
	c->serial = ++client_serial;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CLIENT_OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&client_list, c, entry);
	client_n++;
	warrend_stats.connections++;
	log_debug("client %llu: connected, pid %ld uid %lu",
	    (unsigned long long)c->serial, (long)c->pid,
	    (unsigned long)c->uid);
}

/* Forget a client; requests the publisher still holds are orphaned and
 * freed when their outcome arrives (the events are still published). */
static void
client_free(struct client *c)
{
	struct preq	*p;

	consume_client_gone(c);
	while ((p = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, p, centry);
		client_preq_release(p);
	}
	if (c->paused & PAUSE_JOBS)
		TAILQ_REMOVE(&client_jobwait, c, jentry);
	TAILQ_REMOVE(&client_list, c, entry);
	client_n--;
	bufferevent_free(c->bev);
	log_debug("client %llu: closed", (unsigned long long)c->serial);
	free(c);
	if (warrend_stopping && client_publisher_gone && client_n == 0)
		event_base_loopexit(warrend_base, NULL);
}

/* Let clients paused for the publisher read again. */
static void
client_resume_jobwait(void)
{
	struct client	*c;

	while (client_jobs < client_max_jobs() / 2 &&
	    (c = TAILQ_FIRST(&client_jobwait)) != NULL) {
		TAILQ_REMOVE(&client_jobwait, c, jentry);
		c->paused &= ~PAUSE_JOBS;
		client_kick(c);
	}
}

/* Close clients with nothing left to send during shutdown. */
static void
client_close_idle(void)
{
	struct client	*c, *next;

	for (c = TAILQ_FIRST(&client_list); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		c->closing = 1;
		client_maybe_close(c);
	}
	if (client_n == 0)
		event_base_loopexit(warrend_base, NULL);
}

/* The publisher finished some jobs: answer them. */
static void
client_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pub_jobq	 q = TAILQ_HEAD_INITIALIZER(q);
	struct pbuf	 b = { NULL, 0, 0 };
	struct pub_job	*j, *spare;
	struct preq	*p;

	(void)fd;
	(void)events;
	(void)arg;
	client_publisher_gone = publisher_collect(&q);
	while ((j = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, j, entry);
		p = j->cookie;
		client_jobs--;
		if ((j = client_pair(p, j, &spare)) == NULL)
			continue;		/* its pair is still out */
		if (p->waiting) {
			TAILQ_REMOVE(&client_waiting, p, wentry);
			p->waiting = 0;
		}
		if (p->c == NULL)
			client_preq_release(p);
		else if (p->reply == NULL) {
			request_outcome(&b, j, client_preq_id(p), p->idlen,
			    p->accepted_ms);
			client_answer(p, &b);
		}
		publisher_job_free(j);
		if (spare != NULL)
			publisher_job_free(spare);
	}
	client_resume_jobwait();
	if (warrend_stopping && client_publisher_gone)
		client_close_idle();
}

/* Publishes older than publish_timeout_ms are answered "unavailable". */
static void
client_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pbuf	 b = { NULL, 0, 0 };
	struct preq	*p;
	uint64_t	 now = util_now_ms();

	(void)fd;
	(void)events;
	(void)arg;
	while ((p = TAILQ_FIRST(&client_waiting)) != NULL &&
	    p->deadline <= now) {
		TAILQ_REMOVE(&client_waiting, p, wentry);
		p->waiting = 0;
		if (p->job != NULL)
			publisher_cancel(p->job);
		if (p->job2 != NULL)
			publisher_cancel(p->job2);
		warrend_stats.timed_out++;
		if (p->c == NULL)
			continue;
		request_timed_out(&b, client_preq_id(p), p->idlen);
		client_answer(p, &b);
	}
	client_arm_timer();
}

/* Watch the publisher's outcomes (it is started first); set up the
 * timeout timer. */
int
client_init(char **cause)
{
	client_done_efd = publisher_done_fd();
	client_done_ev = event_new(warrend_base, client_done_efd,
	    EV_READ | EV_PERSIST, client_done_cb, NULL);
	client_timer = evtimer_new(warrend_base, client_timer_cb, NULL);
	if (client_done_ev == NULL || client_timer == NULL ||
	    event_add(client_done_ev, NULL) != 0) {
		xasprintf(cause, "cannot set up the completion event");
		return (-1);
	}
	return (0);
}

/* Shutting down: new requests are refused; once the publisher has given
 * everything back, clients are closed as soon as their replies are out. */
void
client_shutdown(void)
{
	struct client	*c;

	consume_shutdown();
	/* Lines held back for the publisher are now only answered. */
	while ((c = TAILQ_FIRST(&client_jobwait)) != NULL) {
		TAILQ_REMOVE(&client_jobwait, c, jentry);
		c->paused &= ~PAUSE_JOBS;
		client_update_pause(c);
	}
	TAILQ_FOREACH(c, &client_list, entry)
		client_process(c);
	if (client_publisher_gone)
		client_close_idle();
}

/* Free every client and the loop-side state. */
void
client_free_all(void)
{
	struct client	*c;

	while ((c = TAILQ_FIRST(&client_list)) != NULL)
		client_free(c);
	if (client_done_ev != NULL)
		event_free(client_done_ev);
	if (client_timer != NULL)
		event_free(client_timer);
	/* The publisher's eventfd: it closes it when its thread is gone. */
	client_done_efd = -1;
}
