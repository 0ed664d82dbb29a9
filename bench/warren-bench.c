/* warren-bench.c -- drive warrend with pipelining clients, count the replies. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define BENCH_OUT_SIZE 65536 /* request bytes queued per client */
#define BENCH_IN_SIZE 65536  /* longest reply line, with the next ones */
#define BENCH_LINE_MAX (BENCH_BODY_MAX + 256)
#define BENCH_TIMEOUT 60 /* seconds without any reply before giving up */

struct client {
	int	      fd;
	unsigned long quota; /* events this client publishes */
	unsigned long sent;  /* also the last request id */
	unsigned long answered;
	char	      out[BENCH_OUT_SIZE];
	size_t	      outoff;
	size_t	      outlen;
	char	      in[BENCH_IN_SIZE];
	size_t	      inlen;
};

struct bench {
	const char    *path;
	const char    *event;
	unsigned long  total;
	unsigned long  window;
	int	       nclients;
	struct client *clients;
	struct pollfd *pfd;

	unsigned long numbered; /* events given a body so far */
	unsigned long answered;
	unsigned long failures;
	unsigned long spooled;
	unsigned long unrouted;
};

static void __attribute__((noreturn)) usage(void);

/* Print how to run warren-bench and exit. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: warren-bench [-R] [-c clients] [-e event] "
	    "[-n total] [-s socket] [-w depth]\n");
	exit(2);
}

/* Queue publish requests while the pipeline and the buffer have room. */
static void
client_fill(struct bench *b, struct client *c)
{
	char  *p;
	size_t len;
	int    n;

	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	while (c->sent < c->quota && c->sent - c->answered < b->window &&
	    sizeof c->out - c->outlen >= BENCH_LINE_MAX) {
		p = c->out + c->outlen;
		n = snprintf(p, BENCH_LINE_MAX,
		    "{\"op\":\"publish\",\"id\":%lu,"
		    "\"event\":\"%s\",\"data\":",
		    c->sent + 1, b->event);
		if (n < 0 || n + BENCH_BODY_MAX + 3 > BENCH_LINE_MAX)
			errx(1, "event name too long");
		len = n + bench_body(p + n, BENCH_BODY_MAX, b->numbered++, 0);
		memcpy(p + len, "}\n", 2);
		c->outlen += len + 2;
		c->sent++;
	}
}

/* Write what is queued, as much as the socket takes. */
static void
client_write(struct client *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)
			err(1, "write");
		c->outoff += n;
	}
}

/* Return the number after "id": in a reply line, or 0 if there is none. */
static unsigned long
reply_id(const char *line, size_t len)
{
	const char   *p, *end = line + len;
	unsigned long v = 0;

	if ((p = memmem(line, len, "\"id\":", 5)) == NULL)
		return (0);
	for (p += 5; p < end && *p == ' '; p++)
		;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return (v);
}

/* Count a failed reply; show the first one. */
static void
bench_fail(struct bench *b, const char *why, const char *line, size_t len)
{
	if (b->failures++ == 0)
		fprintf(stderr, "warren-bench: first failure (%s): %.*s\n", why,
		    (int)(len > 1000 ? 1000 : len), line);
}

/* Check one reply line against the request it answers. */
static void
client_reply(struct bench *b, struct client *c, const char *line, size_t len)
{
	c->answered++;
	b->answered++;
	if (c->answered > c->sent)
		bench_fail(b, "reply to no request", line, len);
	else if (memmem(line, len, "\"ok\":true", 9) == NULL)
		bench_fail(b, "not ok", line, len);
	else if (reply_id(line, len) != c->answered)
		bench_fail(b, "reply out of order", line, len);
	if (memmem(line, len, "\"spooled\":true", 14) != NULL)
		b->spooled++;
	if (memmem(line, len, "\"routed\":false", 14) != NULL)
		b->unrouted++;
}

/* A reply line for client_line_cb: the bench and the client it came to. */
struct client_ctx {
	struct bench  *b;
	struct client *c;
};

/* One reply line of a client (none after each read). */
static void
client_line_cb(void *arg, const char *line, size_t len)
{
	struct client_ctx *x = arg;

	if (line != NULL)
		client_reply(x->b, x->c, line, len);
}

/* Read replies until the socket is empty; exit if warrend hung up early. */
static void
client_read(struct bench *b, struct client *c)
{
	struct client_ctx x = { b, c };

	if (bench_read_lines(c->fd, c->in, &c->inlen, sizeof c->in,
		client_line_cb, &x) == -1)
		errx(1,
		    "warrend closed a connection after %lu of %lu "
		    "replies",
		    c->answered, c->quota);
}

/* Ask warrend for its stats once; 1 if it says the broker is connected. */
static int
bench_connected(const char *path)
{
	struct pollfd pfd;
	char	      buf[4096];
	size_t	      len = 0;
	ssize_t	      n;

	pfd.fd = bench_connect(path);
	pfd.events = POLLIN;
	if (write(pfd.fd, "{\"op\":\"stats\"}\n", 15) != 15)
		err(1, "write");
	while (len < sizeof buf - 1 && memchr(buf, '\n', len) == NULL) {
		if (poll(&pfd, 1, 1000) != 1)
			break;
		if ((n = read(pfd.fd, buf + len, sizeof buf - 1 - len)) <= 0)
			break;
		len += n;
	}
	close(pfd.fd);
	buf[len] = '\0';
	if (strstr(buf, "\"ok\":true") == NULL)
		return (0);
	return (strstr(buf, "\"connected\":") == NULL ||
	    strstr(buf, "\"connected\":true") != NULL);
}

/* Wait up to BENCH_TIMEOUT seconds for warrend to reach the broker. */
static void
bench_wait_ready(const char *path)
{
	double end = bench_now() + BENCH_TIMEOUT;

	while (!bench_connected(path)) {
		if (bench_now() > end)
			errx(1,
			    "warrend not connected to the broker after %d "
			    "seconds",
			    BENCH_TIMEOUT);
		poll(NULL, 0, 100); /* 100 ms: usleep is obsolescent */
	}
}

/* Connect every client and share the events out between them. */
static void
bench_open(struct bench *b)
{
	struct client *c;
	int	       i;

	b->clients = calloc(b->nclients, sizeof *b->clients);
	b->pfd = calloc(b->nclients, sizeof *b->pfd);
	if (b->clients == NULL || b->pfd == NULL)
		err(1, "calloc");
	for (i = 0; i < b->nclients; i++) {
		c = &b->clients[i];
		c->fd = bench_connect(b->path);
		c->quota = b->total / b->nclients;
		if ((unsigned long)i < b->total % b->nclients)
			c->quota++;
	}
}

/* Send and read on every client until all events are answered. */
static void
bench_loop(struct bench *b)
{
	struct client *c;
	int	       i, n;

	while (b->answered < b->total) {
		for (i = 0; i < b->nclients; i++) {
			c = &b->clients[i];
			client_fill(b, c);
			client_write(c);
			b->pfd[i].fd = c->answered < c->quota ? c->fd : -1;
			b->pfd[i].events = POLLIN;
			if (c->outoff < c->outlen)
				b->pfd[i].events |= POLLOUT;
		}
		n = poll(b->pfd, b->nclients, BENCH_TIMEOUT * 1000);
		if (n == -1 && errno != EINTR)
			err(1, "poll");
		if (n == 0)
			errx(1, "no reply in %d seconds (%lu of %lu answered)",
			    BENCH_TIMEOUT, b->answered, b->total);
		for (i = 0; i < b->nclients; i++) {
			if (n > 0 && (b->pfd[i].revents & ~POLLOUT) != 0)
				client_read(b, &b->clients[i]);
		}
	}
}

/* Read the command line into b; return 1 if it asks for -R only. */
static int
bench_options(struct bench *b, int argc, char **argv)
{
	int c, ready = 0;

	while ((c = getopt(argc, argv, "c:e:n:Rs:w:")) != -1) {
		switch (c) {
		case 'c':
			b->nclients = bench_number(c, optarg, 1000);
			break;
		case 'e':
			b->event = optarg;
			break;
		case 'n':
			b->total = bench_number(c, optarg, 1000000000);
			break;
		case 'R':
			ready = 1;
			break;
		case 's':
			b->path = optarg;
			break;
		case 'w':
			b->window = bench_number(c, optarg, 1000000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return (ready);
}

/* Publish every event through warrend and report the rate. */
int
main(int argc, char **argv)
{
	struct bench b = {
		.path = "/run/warren/warren.sock",
		.event = "BenchEvent",
		.total = 200000,
		.window = 256,
		.nclients = 4,
	};
	double start, secs;

	signal(SIGPIPE, SIG_IGN);
	if (bench_options(&b, argc, argv)) {
		bench_wait_ready(b.path);
		return (0);
	}
	bench_open(&b);
	start = bench_now();
	bench_loop(&b);
	secs = bench_now() - start;
	printf("events=%lu seconds=%.3f events_per_s=%.0f failures=%lu "
	       "spooled=%lu unrouted=%lu\n",
	    b.total, secs, b.total / secs, b.failures, b.spooled, b.unrouted);
	return (b.failures != 0);
}
