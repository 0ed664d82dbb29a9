/* warren-consume.c -- subscribe to warrend, ack every delivery, time each. */

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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define CONSUME_IN_SIZE 65536  /* longest line, and the next ones */
#define CONSUME_OUT_SIZE 16384 /* acks queued per subscriber */
#define CONSUME_ACK_MAX 64     /* longest ack line */
#define CONSUME_TIMEOUT 60     /* seconds without a line: give up */

/* One subscriber connection. */
struct sub {
	int    fd;
	int    subscribed;
	char   in[CONSUME_IN_SIZE];
	size_t inlen;
	char   out[CONSUME_OUT_SIZE];
	size_t outoff;
	size_t outlen;
};

/* The run: what to do, the subscribers, what they saw. */
struct consume {
	const char    *path;
	const char    *event;
	unsigned long  total;
	int	       idle; /* -i: seconds quiet to stop */
	int	       nsubs;
	struct sub    *subs;
	struct pollfd *pfd;

	int		   nsubscribed;
	struct bench_tally tally;
	unsigned long	   redelivered;
	unsigned long	   failures;
};

static void __attribute__((noreturn)) usage(void);

/* Print how to run warren-consume and exit. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: warren-consume [-S] [-c subscribers] "
	    "[-e event] [-i idle] [-n total]\n"
	    "                     [-s socket]\n");
	exit(2);
}

/* Write what is queued, as much as the socket takes now. */
static void
sub_write(struct sub *s)
{
	ssize_t n;

	while (s->outoff < s->outlen) {
		n = write(s->fd, s->out + s->outoff, s->outlen - s->outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)
			err(1, "write");
		s->outoff += n;
	}
	s->outoff = s->outlen = 0;
}

/* Write everything queued, waiting for the socket as long as it takes. */
static void
sub_flush(struct sub *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };

	for (sub_write(s); s->outlen != 0; sub_write(s)) {
		if (poll(&pfd, 1, CONSUME_TIMEOUT * 1000) == 0)
			errx(1, "warrend took no request for %d seconds",
			    CONSUME_TIMEOUT);
	}
}

/* Queue a request line (with its newline) on s. */
static void
sub_queue(struct sub *s, const char *line, size_t len)
{
	if (len > sizeof s->out)
		errx(1, "request too long");
	if (sizeof s->out - s->outlen < len)
		sub_flush(s);
	memcpy(s->out + s->outlen, line, len);
	s->outlen += len;
}

/* Return the number after key (say "\"tag\":") in a line, or 0. */
static uint64_t
line_number(const char *line, size_t len, const char *key)
{
	const char *p, *end = line + len;
	size_t	    klen = strlen(key);
	uint64_t    v = 0;

	if ((p = memmem(line, len, key, klen)) == NULL)
		return (0);
	for (p += klen; p < end && *p == ' '; p++)
		;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return (v);
}

/* Does the line carry this exact member text ("\"ok\":true", say)? */
static int
line_has(const char *line, size_t len, const char *text)
{
	return (memmem(line, len, text, strlen(text)) != NULL);
}

/* Count a line that is neither a delivery nor a good reply; show the first. */
static void
consume_fail(struct consume *cs, const char *why, const char *line, size_t len)
{
	if (cs->failures++ == 0)
		fprintf(stderr, "warren-consume: first failure (%s): %.*s\n",
		    why, (int)(len > 1000 ? 1000 : len), line);
}

/* A deliver line: time it against its sent_ns and ack it at once. */
static void
consume_delivery(struct consume *cs, struct sub *s, const char *line,
    size_t len)
{
	char	 ack[CONSUME_ACK_MAX];
	uint64_t tag, now = bench_wall_ns();
	int	 n;

	if ((tag = line_number(line, len, "\"tag\":")) == 0) {
		consume_fail(cs, "deliver without a tag", line, len);
		return;
	}
	n = snprintf(ack, sizeof ack, "{\"op\":\"ack\",\"tag\":%llu}\n",
	    (unsigned long long)tag);
	sub_queue(s, ack, n);
	if (line_has(line, len, "\"redelivered\":true"))
		cs->redelivered++;
	bench_tally_add(&cs->tally, now,
	    line_number(line, len, "\"sent_ns\":"));
}

/* Act on one line from warrend. */
static void
consume_line(struct consume *cs, struct sub *s, const char *line, size_t len)
{
	if (line_has(line, len, "\"op\":\"deliver\"")) {
		consume_delivery(cs, s, line, len);
		return;
	}
	if (line_has(line, len, "\"op\":\"subscribe\"") && !s->subscribed) {
		if (!line_has(line, len, "\"ok\":true"))
			errx(1, "subscribe refused: %.*s", (int)len, line);
		s->subscribed = 1;
		cs->nsubscribed++;
		return;
	}
	consume_fail(cs, "unexpected line", line, len);
}

/* A line for sub_line_cb: the run and the subscriber it came to. */
struct sub_ctx {
	struct consume *cs;
	struct sub     *s;
};

/* One line to a subscriber; after each read, send the acks it made. */
static void
sub_line_cb(void *arg, const char *line, size_t len)
{
	struct sub_ctx *x = arg;

	if (line != NULL)
		consume_line(x->cs, x->s, line, len);
	else
		sub_write(x->s);
}

/* Read lines until the socket is empty; exit if warrend hung up. */
static void
sub_read(struct consume *cs, struct sub *s)
{
	struct sub_ctx x = { cs, s };

	if (bench_read_lines(s->fd, s->in, &s->inlen, sizeof s->in, sub_line_cb,
		&x) == -1)
		errx(1,
		    "warrend closed a connection after %lu of %lu "
		    "deliveries",
		    cs->tally.received, cs->total);
}

/* Connect every subscriber and send its subscribe request. */
static void
consume_open(struct consume *cs)
{
	char req[256];
	int  i, n;

	cs->subs = calloc(cs->nsubs, sizeof *cs->subs);
	cs->pfd = calloc(cs->nsubs, sizeof *cs->pfd);
	if (cs->subs == NULL || cs->pfd == NULL)
		err(1, "calloc");
	bench_tally_init(&cs->tally, cs->total);
	n = snprintf(req, sizeof req,
	    "{\"op\":\"subscribe\",\"event\":\"%s\"}\n", cs->event);
	if (n < 0 || (size_t)n >= sizeof req)
		errx(1, "event name too long");
	for (i = 0; i < cs->nsubs; i++) {
		cs->subs[i].fd = bench_connect(cs->path);
		sub_queue(&cs->subs[i], req, n);
		sub_flush(&cs->subs[i]);
	}
}

/* Wait up to the timeout for lines; 0 if none came. With -i, quiet after
 * the first delivery is the end, not an error. */
static int
consume_poll(struct consume *cs)
{
	int n, secs, quiet = cs->idle != 0 && cs->tally.received != 0;

	secs = quiet ? cs->idle : CONSUME_TIMEOUT;
	n = poll(cs->pfd, cs->nsubs, secs * 1000);
	if (n == -1 && errno != EINTR)
		err(1, "poll");
	if (n == 0 && !quiet)
		errx(1,
		    "nothing from warrend in %d seconds (%d of %d "
		    "subscribed, %lu of %lu delivered)",
		    CONSUME_TIMEOUT, cs->nsubscribed, cs->nsubs,
		    cs->tally.received, cs->total);
	return (n);
}

/* Handle lines on every subscriber until all are subscribed (subscribing)
 * or total deliveries have come (or, with -i, stopped coming). */
static void
consume_loop(struct consume *cs, int subscribing)
{
	struct sub *s;
	int	    i, n;

	while (subscribing ? cs->nsubscribed < cs->nsubs :
			     cs->tally.received < cs->total) {
		for (i = 0; i < cs->nsubs; i++) {
			s = &cs->subs[i];
			cs->pfd[i].fd = s->fd;
			cs->pfd[i].events = POLLIN;
			if (s->outlen != 0)
				cs->pfd[i].events |= POLLOUT;
		}
		if ((n = consume_poll(cs)) == 0 && !subscribing)
			return;
		for (i = 0; n > 0 && i < cs->nsubs; i++) {
			if ((cs->pfd[i].revents & ~POLLOUT) != 0)
				sub_read(cs, &cs->subs[i]);
			sub_write(&cs->subs[i]);
		}
	}
}

/* Read the command line into cs; return 1 if it asks for -S only. */
static int
consume_options(struct consume *cs, int argc, char **argv)
{
	int c, only = 0;

	while ((c = getopt(argc, argv, "c:e:i:n:Ss:")) != -1) {
		switch (c) {
		case 'c':
			cs->nsubs = bench_number(c, optarg, 1000);
			break;
		case 'e':
			cs->event = optarg;
			break;
		case 'i':
			cs->idle = bench_number(c, optarg, 3600);
			break;
		case 'n':
			cs->total = bench_number(c, optarg, 100000000);
			break;
		case 'S':
			only = 1;
			break;
		case 's':
			cs->path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return (only);
}

/* Subscribe, say "ready", take total deliveries acking each, and report. */
int
main(int argc, char **argv)
{
	struct consume cs = {
		.path = "/run/warren/warren.sock",
		.event = "BenchEvent",
		.total = 100000,
		.nsubs = 4,
	};
	int only, i;

	signal(SIGPIPE, SIG_IGN);
	only = consume_options(&cs, argc, argv);
	consume_open(&cs);
	consume_loop(&cs, 1);
	printf("ready\n");
	fflush(stdout);
	if (only)
		return (0);
	consume_loop(&cs, 0);
	for (i = 0; i < cs.nsubs; i++)
		sub_flush(&cs.subs[i]);
	bench_tally_print(&cs.tally);
	printf(" redelivered=%lu failures=%lu\n", cs.redelivered, cs.failures);
	return (cs.failures != 0 || cs.tally.nlat == 0);
}
