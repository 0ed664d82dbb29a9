/* client.c -- local connections: line framing, replies in request order,
 * backpressure. What a request asks for is request.c's. Runs on the loop
 * thread only. */
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
#include "hops.h"
#include "log.h"
#include "proto.h"
#include "publish.h"
#include "request.h"
#include "consume.h"
#include "stats.h"
#include "util.h"
#include "warrend.h"

#define CLIENT_MAX_QUEUED 1024	     /* unanswered requests */
#define CLIENT_OUT_HIGH (256 * 1024) /* stop reading above */
#define CLIENT_OUT_LOW (64 * 1024)   /* resume below */

#define PAUSE_QUEUED 0x1 /* too many unanswered requests */
#define PAUSE_OUTPUT 0x2 /* replies not being read */
#define PAUSE_JOBS 0x4	 /* the publisher has enough to do */

struct client;

/* A request whose reply is not written yet: a slot in c's reply order.
 * Whoever answers it later (publish.c, consume.c) forgets it when told
 * that c is gone. */
struct preq {
	TAILQ_ENTRY(preq) centry; /* in c->queue */
	struct client *c;
	char	      *reply; /* NULL until answered */
	size_t	       replylen;
	size_t	       idlen;
	char	       id[]; /* the raw "id" */
};
TAILQ_HEAD(preqq, preq);

struct client {
	TAILQ_ENTRY(client) entry;
	TAILQ_ENTRY(client) jentry; /* in client_jobwait */
	struct bufferevent    *bev;
	uint64_t	       serial;
	uid_t		       uid;
	gid_t		       gid;
	pid_t		       pid;
	struct preqq	       queue;
	int		       nqueued;
	int		       paused;
	int		       discard; /* dropping a too-long line */
	int		       eof;	/* peer stopped writing */
	int		       closing; /* close once replies are out */
	int		       dead;	/* lost; freed by the reaper */
	size_t		       scanned; /* bytes known to hold no \n */
	struct event	      *later;	/* read on, from the loop */
	struct consume_client *subs;	/* consume.c's */
	TAILQ_ENTRY(client) wentry;	/* in client_unwritten */
	int unwritten;
};
TAILQ_HEAD(clientq, client);

static struct clientq client_list = TAILQ_HEAD_INITIALIZER(client_list);
static struct clientq client_jobwait = TAILQ_HEAD_INITIALIZER(client_jobwait);
static struct clientq client_dead = TAILQ_HEAD_INITIALIZER(client_dead);
static struct event  *client_reaper;
static int	      client_n;
static uint64_t	      client_serial;

/* Clients with replies not yet written (client_write_now). */
static struct clientq client_unwritten =
    TAILQ_HEAD_INITIALIZER(client_unwritten);

static void client_process(struct client *);
static void client_lose(struct client *);

/* The number of connected clients. */
int
client_count(void)
{
	return (client_n);
}

/* Has everything been answered and written? Then a closing client goes. */
static int
client_maybe_close(struct client *c)
{
	if (c->dead)
		return (1);
	if (!c->eof && !c->closing)
		return (0);
	if (!TAILQ_EMPTY(&c->queue) ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return (0);
	if (!c->closing &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) != 0)
		return (0);
	client_lose(c);
	return (1);
}

/* Recompute why we are not reading from c, and tell libevent. */
static void
client_update_pause(struct client *c)
{
	int reading;

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
 * if it is done -- from the loop, not from under whoever called: a reply
 * made while a line is handled must not handle lines or free c. */
static void
client_kick(struct client *c)
{
	if (c->dead)
		return;
	client_update_pause(c);
	event_active(c->later, EV_TIMEOUT, 1);
}

/* c was kicked: handle what it sent, close it if it is done. */
static void
client_later_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)events;
	if (c->dead)
		return;
	if (!c->paused)
		client_process(c);
	client_maybe_close(c);
}

/* Free a request slot. */
static void
client_preq_release(struct preq *p)
{
	free(p->reply);
	free(p);
}

/* Write every answered reply at the head of the queue, in order. */
static void
client_flush(struct client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct preq	*p;

	while ((p = TAILQ_FIRST(&c->queue)) != NULL && p->reply != NULL) {
		evbuffer_add(out, p->reply, p->replylen);
		TAILQ_REMOVE(&c->queue, p, centry);
		c->nqueued--;
		client_preq_release(p);
		if (!c->unwritten) {
			c->unwritten = 1;
			TAILQ_INSERT_TAIL(&client_unwritten, c, wentry);
		}
	}
}

/* Write the replies flushed since the last call to their sockets now,
 * without waiting for the loop to poll them writable: one write per
 * client for a whole batch of outcomes. What the socket does not take
 * (or an error) stays with the bufferevent, which deals with it. */
void
client_write_now(void)
{
	struct evbuffer *out;
	struct client	*c;

	while ((c = TAILQ_FIRST(&client_unwritten)) != NULL) {
		TAILQ_REMOVE(&client_unwritten, c, wentry);
		c->unwritten = 0;
		if (c->dead)
			continue;
		/* A socket bufferevent keeps the start of its output frozen
		 * and thaws it only around its own writes: do the same. */
		out = bufferevent_get_output(c->bev);
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, bufferevent_getfd(c->bev));
		evbuffer_freeze(out, 1);
	}
}

/* A reply for the current request: written now if nothing is ahead. */
void
client_reply(struct client *c, struct pbuf *b)
{
	struct preq *p;

	if (c->dead) {
		pbuf_free(b);
		return;
	}
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

/* A slot for a reply that comes later, in c's request order. */
struct preq *
client_defer(struct client *c, const struct json_span *id)
{
	struct preq *p;

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
	struct client *c = p->c;

	p->reply = b->p;
	p->replylen = b->len;
	memset(b, 0, sizeof *b);
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
	if (c->dead)
		return;
	bufferevent_write(c->bev, line, len);
	if (!c->unwritten) { /* client_write_now writes the batch */
		c->unwritten = 1;
		TAILQ_INSERT_TAIL(&client_unwritten, c, wentry);
	}
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

/* Is the line only whitespace? Blank lines are skipped, not errors. */
static int
client_blank(const char *line, size_t len)
{
	size_t i;

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
	struct evbuffer_ptr start, pos;

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
	ssize_t eol;

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
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t		 max = warrend_conf->max_line;
	ssize_t		 eol;
	char		*line;

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
		if (publish_full() && !warrend_stopping) {
			c->paused |= PAUSE_JOBS;
			TAILQ_INSERT_TAIL(&client_jobwait, c, jentry);
			client_update_pause(c);
			break;
		}
		HOPS_CALL(hops_mark(HOP_READ));
		line = (char *)evbuffer_pullup(in, eol + 1);
		if (!client_blank(line, (size_t)eol))
			request_handle(c, line, (size_t)eol);
		evbuffer_drain(in, (size_t)eol + 1);
		c->scanned = 0;
		client_update_pause(c);
	}
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
	struct client *c = arg;

	(void)bev;
	client_process(c);
	client_maybe_close(c);
}

/* Output fell below the low mark: read again if that was the holdup. */
static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

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
	struct client *c = arg;

	(void)bev;
	if (what & BEV_EVENT_ERROR) {
		log_debug("client %llu: %s", (unsigned long long)c->serial,
		    strerror(EVUTIL_SOCKET_ERROR()));
		client_lose(c);
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
	char line[160];
	int  n;

	n = snprintf(line, sizeof line,
	    "{\"ok\":false,\"error\":"
	    "\"too_many_clients\",\"message\":\"too many clients "
	    "(max_clients %d)\"}\n",
	    warrend_conf->max_clients);
	/* A new socket's buffer is empty: this cannot block or be short. */
	if (write(fd, line, (size_t)n) == -1)
		log_debug("refusing client: %s", strerror(errno));
	close(fd);
	stats_refused();
}

/* Take over a freshly accepted connection. */
void
client_accept(int fd)
{
	struct client *c;
	struct ucred   cred;
	socklen_t      len = sizeof cred;

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
	if ((c->later = event_new(warrend_base, -1, 0, client_later_cb, c)) ==
	    NULL)
		fatalx("event_new failed");
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CLIENT_OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&client_list, c, entry);
	client_n++;
	stats_count(STATS_CONNECTIONS);
	log_debug("client %llu: connected, pid %ld uid %lu",
	    (unsigned long long)c->serial, (long)c->pid, (unsigned long)c->uid);
}

/* Free the clients lost since the last time, from the loop: nothing up
 * the stack of whoever lost them still holds them. */
static void
client_reap_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client *c;

	(void)fd;
	(void)events;
	(void)arg;
	while ((c = TAILQ_FIRST(&client_dead)) != NULL) {
		TAILQ_REMOVE(&client_dead, c, entry);
		event_free(c->later);
		free(c);
	}
}

/* Lose a client: close its connection, forget its requests (its
 * publishes still go on: publish.c's) and mark it dead; the reaper frees
 * it from the loop, so a caller holding c never sees it freed. */
static void
client_lose(struct client *c)
{
	struct preq *p;

	if (c->dead)
		return;
	c->dead = 1;
	event_del(c->later);
	consume_client_gone(c);
	publish_client_gone(c);
	while ((p = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, p, centry);
		client_preq_release(p);
	}
	if (c->paused & PAUSE_JOBS)
		TAILQ_REMOVE(&client_jobwait, c, jentry);
	if (c->unwritten)
		TAILQ_REMOVE(&client_unwritten, c, wentry);
	c->unwritten = 0;
	TAILQ_REMOVE(&client_list, c, entry);
	client_n--;
	bufferevent_free(c->bev);
	c->bev = NULL;
	log_debug("client %llu: closed", (unsigned long long)c->serial);
	TAILQ_INSERT_TAIL(&client_dead, c, entry);
	if (client_reaper == NULL &&
	    (client_reaper = event_new(warrend_base, -1, 0, client_reap_cb,
		 NULL)) == NULL)
		fatalx("event_new failed");
	event_active(client_reaper, EV_TIMEOUT, 1);
	if (warrend_stopping && publish_gone() && client_n == 0)
		event_base_loopexit(warrend_base, NULL);
}

/* Let clients paused for the publisher read again. */
static void
client_resume_jobwait(void)
{
	struct client *c;

	while (publish_has_room() &&
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
	struct client *c, *next;

	for (c = TAILQ_FIRST(&client_list); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		c->closing = 1;
		client_maybe_close(c);
	}
	if (client_n == 0)
		event_base_loopexit(warrend_base, NULL);
}

/* The publisher took jobs back (or exited): clients paused for it read
 * on; when stopping and it has exited, the answered ones close. */
void
client_publish_room(void)
{
	client_resume_jobwait();
	if (warrend_stopping && publish_gone())
		client_close_idle();
}

/* Shutting down: new requests are refused; once the publisher has given
 * everything back, clients are closed as soon as their replies are out. */
void
client_shutdown(void)
{
	struct client *c;

	consume_shutdown();
	/* Lines held back for the publisher are now only answered. */
	while ((c = TAILQ_FIRST(&client_jobwait)) != NULL) {
		TAILQ_REMOVE(&client_jobwait, c, jentry);
		c->paused &= ~PAUSE_JOBS;
		client_update_pause(c);
	}
	TAILQ_FOREACH(c, &client_list, entry)
		client_process(c);
	if (publish_gone())
		client_close_idle();
}

/* Free every client. */
void
client_free_all(void)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&client_list)) != NULL)
		client_lose(c);
	client_reap_cb(-1, 0, NULL);
	if (client_reaper != NULL)
		event_free(client_reaper);
	client_reaper = NULL;
}
