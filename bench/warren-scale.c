/* warren-scale.c -- publish events of a given width over many contracts
 * through warrend with idle connections held open beside the load, or the
 * same bodies straight to the broker with rabbitmq-c (the yardstick). */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif

#include <sys/resource.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "bench.h"

#define SCALE_LINE_MAX 65536 /* one request */
#define SCALE_IN_SIZE 65536
#define SCALE_TIMEOUT_MS 60000

struct scale_client {
	int	      fd;
	unsigned long quota, sent, answered;
	char	     *out; /* the request being written */
	size_t	      outoff, outlen;
	char	      in[SCALE_IN_SIZE];
	size_t	      inlen;
};

struct scale {
	const char   *sock, *url, *exchange;
	unsigned long total, depth, contracts, fields, idle;
	long	      pid; /* -p: warrend's, for its CPU time */
	int	      nclients;
	unsigned long numbered, answered, failures;
	char	      body[SCALE_LINE_MAX];
	size_t	      bodylen;
};

static void __attribute__((noreturn)) usage(void);

/* Print how to run warren-scale and exit. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: warren-scale -s socket [-c clients] [-f fields] "
	    "[-i idle] [-m contracts]\n"
	    "                    [-n total] [-p warrend-pid] [-w depth]\n"
	    "       warren-scale -u url -x exchange [-f fields] [-n total] "
	    "[-w window]\n");
	exit(2);
}

/* The body of every event: fields f0 .. f<n-1>, short strings. */
static void
scale_body(struct scale *s)
{
	size_t	      len = 0;
	unsigned long i;

	s->body[len++] = '{';
	for (i = 0; i < s->fields; i++) {
		len += (size_t)snprintf(s->body + len, sizeof s->body - len,
		    "%s\"f%lu\":\"v%07lu\"", i == 0 ? "" : ",", i, i);
		if (len + 64 > sizeof s->body)
			errx(2, "-f: too many fields");
	}
	s->body[len++] = '}';
	s->body[len] = '\0';
	s->bodylen = len;
}

/* Raise the fd limit as far as allowed, for the idle connections. */
static void
scale_rlimit(unsigned long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	if (rl.rlim_cur < need + 64)
		errx(1, "the fd limit %lu is too low for %lu connections",
		    (unsigned long)rl.rlim_cur, need);
}

/* The CPU time of pid's threads in microseconds from their schedstat
 * (nanoseconds: the same time as utime+stime, without their 10 ms
 * ticks, which over a round of 30,000 events at 7 us are only about 20);
 * -1 if the kernel does not keep it. */
static double
scale_cpu_fine_us(long pid)
{
	char		   path[320];
	unsigned long long ns, sum = 0;
	struct dirent	  *d;
	DIR		  *dir;
	FILE		  *f;
	int		   n = 0;

	snprintf(path, sizeof path, "/proc/%ld/task", pid);
	if ((dir = opendir(path)) == NULL)
		return (-1);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%ld/task/%s/schedstat", pid,
		    d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue; /* a thread that just ended */
		if (fscanf(f, "%llu", &ns) == 1) {
			sum += ns;
			n++;
		}
		fclose(f);
	}
	closedir(dir);
	return (n > 0 ? sum / 1e3 : -1);
}

/* Process pid's user + system CPU time in microseconds (0 without -p). */
static double
scale_cpu_us(long pid)
{
	char		   path[64], buf[1024], *p;
	unsigned long long ut, st;
	double		   fine;
	FILE		  *f;

	if (pid == 0)
		return (0);
	if ((fine = scale_cpu_fine_us(pid)) >= 0)
		return (fine);
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if (fgets(buf, sizeof buf, f) == NULL)
		errx(1, "%s: empty", path);
	fclose(f);
	/* After "pid (comm) ": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		&st) != 2)
		errx(1, "%s: unreadable", path);
	return ((ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK));
}

/* Write request n of client c into its buffer. */
static void
scale_request(struct scale *s, struct scale_client *c)
{
	unsigned long n = s->numbered++;

	c->outlen = (size_t)snprintf(c->out, SCALE_LINE_MAX,
	    "{\"event\":\"Scale%lu\",\"id\":%lu,\"data\":%s}\n",
	    n % s->contracts, n, s->body);
	c->outoff = 0;
	c->sent++;
}

/* Count one reply line of a client (arg); a NULL line ends a read. */
static void
scale_reply(void *arg, const char *line, size_t len)
{
	struct scale *s = arg;

	if (line == NULL)
		return;
	s->answered++;
	if (memmem(line, len, "\"ok\":true", 9) == NULL ||
	    memmem(line, len, "\"spooled\"", 9) != NULL) {
		if (s->failures++ == 0)
			fprintf(stderr, "warren-scale: %.*s\n", (int)len, line);
	}
}

/* Write what c may send now (under its depth); 0, or -1 if it would
 * block. */
static int
scale_write(struct scale *s, struct scale_client *c)
{
	ssize_t n;

	for (;;) {
		if (c->outoff == c->outlen) {
			if (c->sent == c->quota ||
			    c->sent - c->answered >= s->depth)
				return (0);
			scale_request(s, c);
		}
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n == -1 && errno == EAGAIN)
			return (-1);
		if (n == -1)
			err(1, "write to warrend");
		c->outoff += (size_t)n;
	}
}

/* Drive the clients until every event is answered. */
static void
scale_run(struct scale *s, struct scale_client *cl, struct pollfd *pfd)
{
	unsigned long before;
	int	      i, want;

	while (s->answered < s->total) {
		for (i = 0; i < s->nclients; i++) {
			want = scale_write(s, &cl[i]);
			pfd[i].fd = cl[i].fd;
			pfd[i].events = POLLIN | (want == -1 ? POLLOUT : 0);
		}
		if (poll(pfd, (nfds_t)s->nclients, SCALE_TIMEOUT_MS) == 0)
			errx(1, "no reply for %d s", SCALE_TIMEOUT_MS / 1000);
		for (i = 0; i < s->nclients; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			before = s->answered;
			if (bench_read_lines(cl[i].fd, cl[i].in, &cl[i].inlen,
				sizeof cl[i].in, scale_reply, s) == -1)
				errx(1, "warrend closed a connection");
			cl[i].answered += s->answered - before;
		}
	}
}

/* Ping warrend on fd and wait for the answer: it has accepted fd. */
static void
scale_ping(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char	      buf[256];
	ssize_t	      n;

	if (write(fd, "{\"op\":\"ping\"}\n", 14) != 14)
		err(1, "write to warrend");
	for (;;) {
		if (poll(&pfd, 1, SCALE_TIMEOUT_MS) == 0)
			errx(1, "no answer to a ping");
		n = read(fd, buf, sizeof buf);
		if (n == -1 && errno == EAGAIN)
			continue;
		if (n <= 0)
			errx(1, "warrend refused an idle connection");
		if (buf[n - 1] == '\n')
			return;
	}
}

/* Publish through warrend with s->idle connections open and idle. */
static void
scale_warrend(struct scale *s)
{
	struct scale_client *cl;
	struct pollfd	    *pfd;
	unsigned long	     i;
	int		    *idle;
	double		     t0, cpu0, secs;

	scale_rlimit(s->idle + (unsigned long)s->nclients);
	if ((idle = calloc(s->idle + 1, sizeof *idle)) == NULL ||
	    (cl = calloc((size_t)s->nclients, sizeof *cl)) == NULL ||
	    (pfd = calloc((size_t)s->nclients, sizeof *pfd)) == NULL)
		err(1, "calloc");
	/* Each idle connection answered once: accepted before the load. */
	for (i = 0; i < s->idle; i++) {
		idle[i] = bench_connect(s->sock);
		scale_ping(idle[i]);
	}
	for (i = 0; i < (unsigned long)s->nclients; i++) {
		cl[i].fd = bench_connect(s->sock);
		cl[i].quota = s->total / (unsigned long)s->nclients +
		    (i < s->total % (unsigned long)s->nclients);
		if ((cl[i].out = malloc(SCALE_LINE_MAX)) == NULL)
			err(1, "malloc");
	}
	cpu0 = scale_cpu_us(s->pid);
	t0 = bench_now();
	scale_run(s, cl, pfd);
	secs = bench_now() - t0;
	printf("events=%lu seconds=%.3f events_per_s=%.0f "
	       "cpu_us_per_event=%.2f failures=%lu\n",
	    s->answered, secs, s->answered / secs,
	    (scale_cpu_us(s->pid) - cpu0) / (double)s->answered, s->failures);
	for (i = 0; i < s->idle; i++)
		close(idle[i]);
}

/* Exit unless an RPC reply is normal. */
static void
scale_check(amqp_rpc_reply_t rep, const char *what)
{
	if (rep.reply_type != AMQP_RESPONSE_NORMAL)
		errx(1, "%s failed (reply type %d)", what, rep.reply_type);
}

/* Connect with rabbitmq-c and open a confirm-mode channel 1. */
static amqp_connection_state_t
scale_connect(const struct scale *s)
{
	struct amqp_connection_info ci;
	amqp_connection_state_t	    conn;
	amqp_socket_t		   *sock;
	char			   *url;

	if ((url = strdup(s->url)) == NULL)
		err(1, "strdup");
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
		errx(1, "%s: bad AMQP URL", s->url);
	if ((conn = amqp_new_connection()) == NULL ||
	    (sock = amqp_tcp_socket_new(conn)) == NULL)
		errx(1, "amqp_new_connection failed");
	if (amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK)
		errx(1, "%s:%d: cannot connect", ci.host, ci.port);
	scale_check(amqp_login(conn, ci.vhost, 0, 131072, 30,
			AMQP_SASL_METHOD_PLAIN, ci.user, ci.password),
	    "login");
	amqp_channel_open(conn, 1);
	scale_check(amqp_get_rpc_reply(conn), "channel.open");
	amqp_confirm_select(conn, 1);
	scale_check(amqp_get_rpc_reply(conn), "confirm.select");
	free(url);
	return (conn);
}

/* Publish event n with warrend's properties (SPEC) and headers. */
static void
scale_publish(const struct scale *s, amqp_connection_state_t conn,
    unsigned long n)
{
	amqp_basic_properties_t p;
	amqp_table_entry_t	h[5];
	char			id[32];
	static const char *k[5] = { "cloudEvents:specversion", "cloudEvents:id",
		"cloudEvents:source", "cloudEvents:type", "cloudEvents:time" };
	const char	  *v[5] = { "1.0", id, "bench", "Scale0",
		       "2026-12-04T00:00:00Z" };
	int		   i;

	snprintf(id, sizeof id, "scale-%lu", n);
	for (i = 0; i < 5; i++) {
		h[i].key = amqp_cstring_bytes(k[i]);
		h[i].value.kind = AMQP_FIELD_KIND_UTF8;
		h[i].value.value.bytes = amqp_cstring_bytes(v[i]);
	}
	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG |
	    AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.message_id = amqp_cstring_bytes(id);
	p.timestamp = 1;
	p.type = amqp_cstring_bytes("Scale0");
	p.app_id = amqp_cstring_bytes("bench");
	p.headers.num_entries = 5;
	p.headers.entries = h;
	if (amqp_basic_publish(conn, 1, amqp_cstring_bytes(s->exchange),
		amqp_cstring_bytes("bench.e0"), 1, 0, &p,
		(amqp_bytes_t){ s->bodylen, (void *)s->body }) !=
	    AMQP_STATUS_OK)
		errx(1, "basic.publish failed");
}

/* The same bodies straight to the broker, s->depth unconfirmed at most. */
static void
scale_raw(struct scale *s)
{
	amqp_connection_state_t conn = scale_connect(s);
	const amqp_basic_ack_t *ack;
	amqp_frame_t		f;
	unsigned long		sent = 0, acked = 0, t;
	unsigned char	       *done = calloc(s->total + 2, 1);
	double			t0 = bench_now();

	if (done == NULL)
		err(1, "calloc");
	/* acked: every tag up to it is confirmed (acks may come out of
	 * order; done[] holds the ones ahead). */
	while (acked < s->total) {
		while (sent < s->total && sent - acked < s->depth)
			scale_publish(s, conn, sent++);
		if (amqp_simple_wait_frame(conn, &f) != AMQP_STATUS_OK)
			errx(1, "waiting for confirms failed");
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id == AMQP_BASIC_NACK_METHOD)
			errx(1, "the broker nacked a publish");
		if (f.payload.method.id != AMQP_BASIC_ACK_METHOD)
			continue;
		ack = f.payload.method.decoded;
		t = ack->multiple ? acked + 1 : ack->delivery_tag;
		for (; t <= ack->delivery_tag && t <= s->total; t++)
			done[t] = 1;
		while (acked < s->total && done[acked + 1])
			acked++;
		amqp_maybe_release_buffers(conn);
	}
	printf("events=%lu seconds=%.3f events_per_s=%.0f failures=0\n", acked,
	    bench_now() - t0, acked / (bench_now() - t0));
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
	free(done);
}

int
main(int argc, char **argv)
{
	static struct scale s;
	int		    c;

	s.total = 20000;
	s.depth = 256;
	s.contracts = 1;
	s.fields = 5;
	s.nclients = 4;
	while ((c = getopt(argc, argv, "c:f:i:m:n:p:s:u:w:x:")) != -1) {
		switch (c) {
		case 'c':
			s.nclients = (int)bench_number(c, optarg, 1000);
			break;
		case 'f':
			s.fields = bench_number(c, optarg, 2000);
			break;
		case 'i':
			s.idle = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			s.contracts = bench_number(c, optarg, 1000000);
			break;
		case 'n':
			s.total = bench_number(c, optarg, 100000000);
			break;
		case 'p':
			s.pid = (long)bench_number(c, optarg, 1 << 30);
			break;
		case 's':
			s.sock = optarg;
			break;
		case 'u':
			s.url = optarg;
			break;
		case 'w':
			s.depth = bench_number(c, optarg, 100000);
			break;
		case 'x':
			s.exchange = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (s.sock == NULL) == (s.url == NULL) ||
	    (s.url != NULL && s.exchange == NULL))
		usage();
	scale_body(&s);
	if (s.sock != NULL)
		scale_warrend(&s);
	else
		scale_raw(&s);
	return (s.failures == 0 ? 0 : 1);
}
