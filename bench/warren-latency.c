/* warren-latency.c -- one request at a time: warrend's send -> ok against
 * rabbitmq-c's publish -> ack with a confirm window of 1, in alternating
 * rounds of the same run, and the latency each adds. */

#include <sys/socket.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "bench.h"

#define LAT_CHANNEL 1
#define LAT_SERVICE "bench"

struct lat {
	const char   *sock;
	const char   *sock2; /* -S: a second warrend, to compare builds */
	const char   *url;
	const char   *exchange;
	const char   *key;
	const char   *event;
	unsigned long total;  /* per side */
	unsigned long rounds; /* alternations */

	int			fd;  /* warrend, blocking */
	int			fd2; /* the second one, or -1 */
	amqp_connection_state_t conn;
	unsigned long		tag;
	uint64_t	       *w_ns;  /* warrend latencies */
	uint64_t	       *r_ns;  /* raw latencies */
	uint64_t	       *w2_ns; /* the second warrend's */
	unsigned long		nw, nr, nw2;
	char			line[4096];
};

static void __attribute__((noreturn)) usage(void);

/* Print how to run warren-latency and exit. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: warren-latency -s socket -u url -x exchange [-e event] "
	    "[-k routing-key]\n"
	    "                      [-n per-side] [-r rounds] [-S socket]\n");
	exit(2);
}

/* Nanoseconds on the monotonic clock. */
static uint64_t
lat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* Exit unless an RPC reply is normal. */
static void
lat_check(amqp_rpc_reply_t rep, const char *what)
{
	if (rep.reply_type == AMQP_RESPONSE_NORMAL)
		return;
	if (rep.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
		errx(1, "%s: %s", what, amqp_error_string2(rep.library_error));
	errx(1, "%s: the broker refused (reply type %d)", what, rep.reply_type);
}

/* Connect to the broker, open a confirm-mode channel, declare the
 * exchange (the caller binds a queue to it). */
static void
lat_connect(struct lat *l)
{
	struct amqp_connection_info ci;
	amqp_socket_t		   *s;
	char			   *url;
	int			    rc;

	if ((url = strdup(l->url)) == NULL)
		err(1, "strdup");
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
		errx(1, "%s: bad AMQP URL", l->url);
	if ((l->conn = amqp_new_connection()) == NULL ||
	    (s = amqp_tcp_socket_new(l->conn)) == NULL)
		errx(1, "amqp_new_connection failed");
	if ((rc = amqp_socket_open(s, ci.host, ci.port)) != AMQP_STATUS_OK)
		errx(1, "%s:%d: %s", ci.host, ci.port, amqp_error_string2(rc));
	lat_check(amqp_login(l->conn, ci.vhost, 0, 131072, 30,
		      AMQP_SASL_METHOD_PLAIN, ci.user, ci.password),
	    "login");
	amqp_channel_open(l->conn, LAT_CHANNEL);
	lat_check(amqp_get_rpc_reply(l->conn), "channel.open");
	amqp_exchange_declare(l->conn, LAT_CHANNEL,
	    amqp_cstring_bytes(l->exchange), amqp_cstring_bytes("topic"), 0, 1,
	    0, 0, amqp_empty_table);
	lat_check(amqp_get_rpc_reply(l->conn), "exchange.declare");
	amqp_confirm_select(l->conn, LAT_CHANNEL);
	lat_check(amqp_get_rpc_reply(l->conn), "confirm.select");
	free(url);
}

/* Publish event n as warrend would (SPEC's properties and headers). */
static void
lat_raw_send(struct lat *l, unsigned long n, const char *body, size_t len)
{
	amqp_basic_properties_t props;
	amqp_table_entry_t	h[5];
	char			id[64], when[32];
	struct timeval		tv;
	struct tm		tm;
	int			i;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(id, sizeof id, "lat-%lu-%ld", n, (long)getpid());
	h[0].key = amqp_cstring_bytes("cloudEvents:specversion");
	h[0].value.value.bytes = amqp_cstring_bytes("1.0");
	h[1].key = amqp_cstring_bytes("cloudEvents:id");
	h[1].value.value.bytes = amqp_cstring_bytes(id);
	h[2].key = amqp_cstring_bytes("cloudEvents:source");
	h[2].value.value.bytes = amqp_cstring_bytes(LAT_SERVICE);
	h[3].key = amqp_cstring_bytes("cloudEvents:type");
	h[3].value.value.bytes = amqp_cstring_bytes(l->event);
	h[4].key = amqp_cstring_bytes("cloudEvents:time");
	h[4].value.value.bytes = amqp_cstring_bytes(when);
	for (i = 0; i < 5; i++)
		h[i].value.kind = AMQP_FIELD_KIND_UTF8;
	memset(&props, 0, sizeof props);
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG |
	    AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	props.message_id = amqp_cstring_bytes(id);
	props.timestamp = (uint64_t)tv.tv_sec;
	props.type = amqp_cstring_bytes(l->event);
	props.app_id = amqp_cstring_bytes(LAT_SERVICE);
	props.headers.num_entries = 5;
	props.headers.entries = h;
	if (amqp_basic_publish(l->conn, LAT_CHANNEL,
		amqp_cstring_bytes(l->exchange), amqp_cstring_bytes(l->key), 1,
		0, &props,
		(amqp_bytes_t){ len, (void *)body }) != AMQP_STATUS_OK)
		errx(1, "basic.publish failed");
}

/* Wait for the ack of the last publish (window 1). */
static void
lat_raw_wait(struct lat *l)
{
	amqp_frame_t		f;
	const amqp_basic_ack_t *ack;
	int			rc;

	for (;;) {
		if ((rc = amqp_simple_wait_frame(l->conn, &f)) !=
		    AMQP_STATUS_OK)
			errx(1, "waiting for a confirm: %s",
			    amqp_error_string2(rc));
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue; /* a basic.return's content */
		if (f.payload.method.id == AMQP_BASIC_NACK_METHOD)
			errx(1, "the broker nacked a publish");
		if (f.payload.method.id != AMQP_BASIC_ACK_METHOD)
			continue;
		ack = f.payload.method.decoded;
		if (ack->delivery_tag == l->tag)
			return;
	}
}

/* One raw publish -> ack. */
static void
lat_raw_one(struct lat *l, unsigned long n)
{
	char	 body[BENCH_BODY_MAX];
	size_t	 len = bench_body(body, sizeof body, n, 0);
	uint64_t t0 = lat_now();

	lat_raw_send(l, n, body, len);
	l->tag++;
	lat_raw_wait(l);
	l->r_ns[l->nr++] = lat_now() - t0;
	amqp_maybe_release_buffers(l->conn);
}

/* Read one reply line from warrend on fd (blocking); exit unless ok. */
static void
lat_warren_reply(struct lat *l, int fd)
{
	size_t	len = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, l->line + len, sizeof l->line - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			errx(1, "warrend closed the connection");
		len += (size_t)n;
		if (l->line[len - 1] == '\n')
			break;
		if (len == sizeof l->line - 1)
			errx(1, "reply too long");
	}
	l->line[len] = '\0';
	if (strstr(l->line, "\"ok\":true") == NULL ||
	    strstr(l->line, "\"spooled\"") != NULL)
		errx(1, "warrend: %s", l->line);
}

/* One send -> ok to the warrend on fd; return the nanoseconds. */
static uint64_t
lat_warren_one(struct lat *l, int fd, unsigned long n)
{
	char	 body[BENCH_BODY_MAX], req[BENCH_BODY_MAX + 128];
	size_t	 len = bench_body(body, sizeof body, n, 0);
	int	 rl;
	uint64_t t0;

	rl = snprintf(req, sizeof req,
	    "{\"event\":\"%s\",\"id\":%lu,"
	    "\"data\":%.*s}\n",
	    l->event, n, (int)len, body);
	t0 = lat_now();
	if (write(fd, req, (size_t)rl) != rl)
		err(1, "write to warrend");
	lat_warren_reply(l, fd);
	return (lat_now() - t0);
}

/* One turn of each warrend (two take turns at going first). */
static void
lat_turn(struct lat *l, unsigned long *n)
{
	if (l->fd2 != -1 && l->nw % 2 == 1)
		l->w2_ns[l->nw2++] = lat_warren_one(l, l->fd2, (*n)++);
	l->w_ns[l->nw++] = lat_warren_one(l, l->fd, (*n)++);
	if (l->fd2 != -1 && l->nw2 < l->nw)
		l->w2_ns[l->nw2++] = lat_warren_one(l, l->fd2, (*n)++);
}

/* The p-th per-mille of n sorted latencies, in microseconds. */
static double
lat_pct(const uint64_t *v, unsigned long n, unsigned long pm)
{
	unsigned long rank = (n * pm + 999) / 1000;

	if (n == 0)
		return (0);
	return (v[rank == 0 ? 0 : rank - 1] / 1e3);
}

/* Print both sides' percentiles and warrend's difference. */
static void
lat_print(struct lat *l)
{
	static const unsigned long pm[] = { 500, 990, 999 };
	static const char *const   name[] = { "p50", "p99", "p999" };
	size_t			   i;

	qsort(l->w_ns, l->nw, sizeof *l->w_ns, bench_lat_cmp);
	qsort(l->r_ns, l->nr, sizeof *l->r_ns, bench_lat_cmp);
	qsort(l->w2_ns, l->nw2, sizeof *l->w2_ns, bench_lat_cmp);
	printf("n=%lu", l->nw);
	for (i = 0; i < 3; i++)
		printf(" warrend_%s_us=%.1f raw_%s_us=%.1f added_%s_us=%.1f",
		    name[i], lat_pct(l->w_ns, l->nw, pm[i]), name[i],
		    lat_pct(l->r_ns, l->nr, pm[i]), name[i],
		    lat_pct(l->w_ns, l->nw, pm[i]) -
			lat_pct(l->r_ns, l->nr, pm[i]));
	for (i = 0; i < 3 && l->nw2 > 0; i++)
		printf(" warrend2_%s_us=%.1f added2_%s_us=%.1f", name[i],
		    lat_pct(l->w2_ns, l->nw2, pm[i]), name[i],
		    lat_pct(l->w2_ns, l->nw2, pm[i]) -
			lat_pct(l->r_ns, l->nr, pm[i]));
	printf("\n");
}

/* Read the options into l, or exit. */
static void
lat_options(struct lat *l, int argc, char **argv)
{
	int c;

	l->event = "BenchEvent";
	l->key = "bench.event";
	l->total = 5000;
	l->rounds = 10;
	while ((c = getopt(argc, argv, "e:k:n:r:S:s:u:x:")) != -1) {
		switch (c) {
		case 'e':
			l->event = optarg;
			break;
		case 'k':
			l->key = optarg;
			break;
		case 'n':
			l->total = bench_number(c, optarg, 10000000);
			break;
		case 'r':
			l->rounds = bench_number(c, optarg, 10000);
			break;
		case 's':
			l->sock = optarg;
			break;
		case 'S':
			l->sock2 = optarg;
			break;
		case 'u':
			l->url = optarg;
			break;
		case 'x':
			l->exchange = optarg;
			break;
		default:
			usage();
		}
	}
	if (l->sock == NULL || l->url == NULL || l->exchange == NULL ||
	    optind != argc)
		usage();
}

/* Connect to warrend's socket, blocking. */
static int
lat_open(const char *path)
{
	int fd = bench_connect(path);

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		err(1, "fcntl");
	return (fd);
}

int
main(int argc, char **argv)
{
	struct lat    l;
	unsigned long r, i, n = 0, per;

	memset(&l, 0, sizeof l);
	lat_options(&l, argc, argv);
	per = (l.total + l.rounds - 1) / l.rounds;
	if ((l.w_ns = calloc(per * l.rounds, sizeof *l.w_ns)) == NULL ||
	    (l.r_ns = calloc(per * l.rounds, sizeof *l.r_ns)) == NULL ||
	    (l.w2_ns = calloc(per * l.rounds, sizeof *l.w2_ns)) == NULL)
		err(1, "calloc");
	l.fd = lat_open(l.sock);
	l.fd2 = l.sock2 != NULL ? lat_open(l.sock2) : -1;
	lat_connect(&l);
	/* Warm both paths up, uncounted. */
	for (i = 0; i < 50; i++) {
		lat_turn(&l, &n);
		lat_raw_one(&l, n++);
	}
	l.nw = l.nr = l.nw2 = 0;
	for (r = 0; r < l.rounds; r++) {
		for (i = 0; i < per; i++)
			lat_turn(&l, &n);
		for (i = 0; i < per; i++)
			lat_raw_one(&l, n++);
	}
	lat_print(&l);
	amqp_connection_close(l.conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(l.conn);
	close(l.fd);
	if (l.fd2 != -1)
		close(l.fd2);
	return (0);
}
