/* raw-publish.c -- publish (or consume) with rabbitmq-c alone: the yardstick
 * for warrend. */

#include <err.h>
#include <inttypes.h>
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
#include "bench-wire.h"

#define RAW_CHANNEL 1
#define RAW_HEARTBEAT 30
#define RAW_FRAME_MAX 131072
#define RAW_TIMEOUT 30 /* seconds without a confirm before giving up */
#define RAW_SERVICE "bench"

#define RAW_PUBLISH 0 /* modes */
#define RAW_SETUP 1
#define RAW_DELETE 2
#define RAW_CONSUME 3

struct raw {
	const char   *url;
	const char   *exchange;
	const char   *key;
	const char   *queue;
	const char   *binding;
	const char   *event;
	unsigned long total;
	unsigned long window;
	unsigned long maxlen;
	unsigned long prefetch;
	unsigned long rate; /* -r: events/s, 0 for flat out */
	double	      start;
	int	      stamp; /* -T: sent_ns in each body */
	unsigned      wire;  /* -f: the elements sent (bench-wire.h) */

	amqp_connection_state_t conn;
	uint64_t		rng;
	unsigned long		sent;	   /* also the last delivery tag */
	unsigned long		confirmed; /* acked or nacked */
	unsigned long		low;	   /* lowest tag maybe unconfirmed */
	unsigned char	       *pending;   /* by tag: 1 while unconfirmed */
	unsigned long		nacks;
	unsigned long		returns;
};

static void __attribute__((noreturn)) usage(void);

/* Print how to run raw-publish and exit. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: raw-publish [-T] [-C | -D | -S] [-b binding] "
	    "[-e event] [-f elements]\n"
	    "                   [-k routing-key] [-l max-length] [-n total] "
	    "[-p prefetch]\n"
	    "                   [-q queue] [-r rate]"
	    " [-u url] [-w window] [-x exchange]\n");
	exit(2);
}

/* Exit with what the broker said when it closed the channel or connection. */
static void
raw_server_error(const amqp_method_t *m, const char *what)
{
	const amqp_connection_close_t *cc;
	const amqp_channel_close_t    *ch;

	if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
		cc = m->decoded;
		errx(1, "%s: broker closed the connection: %u %.*s", what,
		    cc->reply_code, (int)cc->reply_text.len,
		    (const char *)cc->reply_text.bytes);
	}
	if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
		ch = m->decoded;
		errx(1, "%s: broker closed the channel: %u %.*s", what,
		    ch->reply_code, (int)ch->reply_text.len,
		    (const char *)ch->reply_text.bytes);
	}
	errx(1, "%s: unexpected method 0x%08x", what, m->id);
}

/* Exit unless an RPC reply is normal. */
static void
raw_check(amqp_rpc_reply_t rep, const char *what)
{
	switch (rep.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return;
	case AMQP_RESPONSE_NONE:
		errx(1, "%s: no reply", what);
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		errx(1, "%s: %s", what, amqp_error_string2(rep.library_error));
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		raw_server_error(&rep.reply, what);
	}
	errx(1, "%s: bad reply type %d", what, rep.reply_type);
}

/* Connect, log in and open the channel, or exit saying why not. */
static void
raw_connect(struct raw *r)
{
	struct amqp_connection_info ci;
	amqp_socket_t		   *sock;
	char			   *url;
	int			    rc;

	if ((url = strdup(r->url)) == NULL)
		err(1, "strdup");
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
		errx(1, "%s: bad AMQP URL", r->url);
	if ((r->conn = amqp_new_connection()) == NULL)
		errx(1, "amqp_new_connection failed");
	if ((sock = amqp_tcp_socket_new(r->conn)) == NULL)
		errx(1, "amqp_tcp_socket_new failed");
	if ((rc = amqp_socket_open(sock, ci.host, ci.port)) != AMQP_STATUS_OK)
		errx(1, "%s:%d: %s", ci.host, ci.port, amqp_error_string2(rc));
	raw_check(amqp_login(r->conn, ci.vhost, 0, RAW_FRAME_MAX, RAW_HEARTBEAT,
		      AMQP_SASL_METHOD_PLAIN, ci.user, ci.password),
	    "login");
	amqp_channel_open(r->conn, RAW_CHANNEL);
	raw_check(amqp_get_rpc_reply(r->conn), "channel.open");
	free(url);
}

/* Declare the durable topic exchange and, with -q, a queue bound to it. */
static void
raw_declare(struct raw *r)
{
	amqp_bytes_t	   ex = amqp_cstring_bytes(r->exchange);
	amqp_bytes_t	   q;
	amqp_table_t	   args;
	amqp_table_entry_t a[1];

	amqp_exchange_declare(r->conn, RAW_CHANNEL, ex,
	    amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
	raw_check(amqp_get_rpc_reply(r->conn), "exchange.declare");
	if (r->queue == NULL)
		return;
	q = amqp_cstring_bytes(r->queue);
	args = amqp_empty_table;
	if (r->maxlen != 0) {
		a[0].key = amqp_cstring_bytes("x-max-length");
		a[0].value.kind = AMQP_FIELD_KIND_I64;
		a[0].value.value.i64 = r->maxlen;
		args.num_entries = 1;
		args.entries = a;
	}
	amqp_queue_declare(r->conn, RAW_CHANNEL, q, 0, 1, 0, 0, args);
	raw_check(amqp_get_rpc_reply(r->conn), "queue.declare");
	amqp_queue_bind(r->conn, RAW_CHANNEL, q, ex,
	    amqp_cstring_bytes(r->binding), amqp_empty_table);
	raw_check(amqp_get_rpc_reply(r->conn), "queue.bind");
}

/* Delete the -q queue and the exchange; deleting what is gone is fine. */
static void
raw_delete(struct raw *r)
{
	if (r->queue != NULL) {
		amqp_queue_delete(r->conn, RAW_CHANNEL,
		    amqp_cstring_bytes(r->queue), 0, 0);
		raw_check(amqp_get_rpc_reply(r->conn), "queue.delete");
	}
	amqp_exchange_delete(r->conn, RAW_CHANNEL,
	    amqp_cstring_bytes(r->exchange), 0);
	raw_check(amqp_get_rpc_reply(r->conn), "exchange.delete");
}

/* Close the channel and the connection politely. */
static void
raw_close(struct raw *r)
{
	amqp_channel_close(r->conn, RAW_CHANNEL, AMQP_REPLY_SUCCESS);
	amqp_connection_close(r->conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(r->conn);
}

/* Write a random (version 4) UUID to out, from a cheap generator. */
static void
raw_uuid(struct raw *r, char out[37])
{
	uint64_t a, b;

	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	a = r->rng;
	b = r->rng * 0x9e3779b97f4a7c15ULL;
	a = (a & ~0xf000ULL) | 0x4000ULL;
	b = (b & ~(0xcULL << 60)) | (0x8ULL << 60);
	snprintf(out, 37,
	    "%08" PRIx32 "-%04" PRIx32 "-%04" PRIx32 "-%04" PRIx32
	    "-%012" PRIx64,
	    (uint32_t)(a >> 32), (uint32_t)(a >> 16) & 0xffff,
	    (uint32_t)a & 0xffff, (uint32_t)(b >> 48),
	    (uint64_t)(b & 0xffffffffffffULL));
}

/* Write the time now as RFC 3339 UTC with milliseconds; return seconds. */
static time_t
raw_time(char out[32])
{
	struct timespec ts;
	struct tm	tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + 19, 32 - 19, ".%03uZ",
	    (unsigned)(ts.tv_nsec / 1000000) % 1000);
	return (ts.tv_sec);
}

/* Fill one header table entry with a string value. */
static void
raw_header(amqp_table_entry_t *e, const char *key, const char *value)
{
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
}

/* Add the -f elements after the seed's two properties to p, using the
 * caller's h (room for 5 headers) for the CloudEvents headers. */
static void
raw_props(const struct raw *r, amqp_basic_properties_t *p,
    amqp_table_entry_t *h, const char *id, const char *now, time_t secs)
{
	static const struct {
		unsigned    bit;
		const char *key;
	} ce[] = { { BW_CE_SPECVERSION, "cloudEvents:specversion" },
		{ BW_CE_ID, "cloudEvents:id" },
		{ BW_CE_SOURCE, "cloudEvents:source" },
		{ BW_CE_TYPE, "cloudEvents:type" },
		{ BW_CE_TIME, "cloudEvents:time" } };
	const char *val[] = { "1.0", id, RAW_SERVICE, r->event, now };
	size_t	    i, n = 0;

	memset(p, 0, sizeof *p);
	p->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG;
	p->content_type = amqp_cstring_bytes("application/json");
	p->delivery_mode = AMQP_DELIVERY_PERSISTENT;
	if (r->wire & BW_MESSAGE_ID) {
		p->_flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		p->message_id = amqp_cstring_bytes(id);
	}
	if (r->wire & BW_TIMESTAMP) {
		p->_flags |= AMQP_BASIC_TIMESTAMP_FLAG;
		p->timestamp = (uint64_t)secs;
	}
	if (r->wire & BW_TYPE) {
		p->_flags |= AMQP_BASIC_TYPE_FLAG;
		p->type = amqp_cstring_bytes(r->event);
	}
	if (r->wire & BW_APP_ID) {
		p->_flags |= AMQP_BASIC_APP_ID_FLAG;
		p->app_id = amqp_cstring_bytes(RAW_SERVICE);
	}
	for (i = 0; i < sizeof ce / sizeof ce[0]; i++)
		if (r->wire & ce[i].bit)
			raw_header(&h[n++], ce[i].key, val[i]);
	if (n != 0) {
		p->_flags |= AMQP_BASIC_HEADERS_FLAG;
		p->headers.num_entries = (int)n;
		p->headers.entries = h;
	}
}

/* Publish the next event, persistent, with the -f elements (by default
 * warrend's whole wire format). */
static void
raw_publish(struct raw *r)
{
	amqp_basic_properties_t p;
	amqp_table_entry_t	h[5];
	char			body[BENCH_BODY_MAX], id[37], now[32];
	size_t			len;
	time_t			secs = 0;
	int			rc;

	len = bench_body(body, sizeof body, r->sent,
	    r->stamp ? bench_wall_ns() : 0);
	/* Only what goes on the wire is made, as a client sending that
	 * format would. */
	if (r->wire & (BW_MESSAGE_ID | BW_CE_ID))
		raw_uuid(r, id);
	if (r->wire & (BW_TIMESTAMP | BW_CE_TIME))
		secs = raw_time(now);
	raw_props(r, &p, h, id, now, secs);
	rc = amqp_basic_publish(r->conn, RAW_CHANNEL,
	    amqp_cstring_bytes(r->exchange), amqp_cstring_bytes(r->key),
	    (r->wire & BW_MANDATORY) != 0, 0, &p,
	    (amqp_bytes_t){ .len = len, .bytes = body });
	if (rc != AMQP_STATUS_OK)
		errx(1, "basic.publish: %s", amqp_error_string2(rc));
	r->pending[++r->sent] = 1;
}

/* Count an ack or nack for tag, or for every tag up to it with multiple. */
static void
raw_confirm(struct raw *r, uint64_t tag, int multiple, int nack)
{
	uint64_t t;

	if (multiple && tag == 0)
		tag = r->sent;
	if (tag == 0 || tag > r->sent)
		errx(1, "confirm for tag %" PRIu64 " never published", tag);
	for (t = multiple ? r->low : tag; t <= tag; t++) {
		if (!r->pending[t])
			continue;
		r->pending[t] = 0;
		r->confirmed++;
		if (nack)
			r->nacks++;
	}
	while (r->low <= r->sent && !r->pending[r->low])
		r->low++;
}

/* Consume the header and body that follow a basic.return. */
static void
raw_return(struct raw *r, amqp_channel_t channel)
{
	amqp_message_t msg;

	r->returns++;
	raw_check(amqp_read_message(r->conn, channel, &msg, 0),
	    "basic.return content");
	amqp_destroy_message(&msg);
}

/* Act on one frame from the broker. */
static void
raw_frame(struct raw *r, const amqp_frame_t *f)
{
	const amqp_basic_ack_t	*ack;
	const amqp_basic_nack_t *nack;

	if (f->frame_type != AMQP_FRAME_METHOD)
		return;
	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD:
		ack = f->payload.method.decoded;
		raw_confirm(r, ack->delivery_tag, ack->multiple, 0);
		break;
	case AMQP_BASIC_NACK_METHOD:
		nack = f->payload.method.decoded;
		raw_confirm(r, nack->delivery_tag, nack->multiple, 1);
		break;
	case AMQP_BASIC_RETURN_METHOD:
		raw_return(r, f->channel);
		break;
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		raw_server_error(&f->payload.method, "publishing");
	}
}

/* Handle one frame, waiting up to secs for it; 0 if none came. */
static int
raw_wait(struct raw *r, double secs)
{
	struct timeval tv;
	amqp_frame_t   f;
	int	       rc;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - tv.tv_sec) * 1e6);
	rc = amqp_simple_wait_frame_noblock(r->conn, &f, &tv);
	if (rc == AMQP_STATUS_TIMEOUT)
		return (0);
	if (rc != AMQP_STATUS_OK)
		errx(1, "reading confirms: %s", amqp_error_string2(rc));
	raw_frame(r, &f);
	amqp_maybe_release_buffers(r->conn);
	return (1);
}

/* Seconds to wait for a frame: until the next event is due at the -r rate
 * when the window has room for it, else as long as a confirm may take. */
static double
raw_pause(const struct raw *r)
{
	double d;

	if (r->rate == 0 || r->sent >= r->total ||
	    r->sent - r->confirmed >= r->window)
		return (RAW_TIMEOUT);
	d = r->start + (double)r->sent / r->rate - bench_now();
	return (d > 0 ? d : 0);
}

/* Publish while the window has room and, with -r, the next event is due. */
static void
raw_fill(struct raw *r)
{
	while (r->sent < r->total && r->sent - r->confirmed < r->window &&
	    (r->rate == 0 || raw_pause(r) == 0))
		raw_publish(r);
}

/* Publish every event, keeping the window full (or the pace), until all
 * are confirmed. */
static void
raw_run(struct raw *r)
{
	double pause;

	amqp_confirm_select(r->conn, RAW_CHANNEL);
	raw_check(amqp_get_rpc_reply(r->conn), "confirm.select");
	if ((r->pending = calloc(r->total + 2, 1)) == NULL)
		err(1, "calloc");
	r->low = 1;
	r->start = bench_now();
	while (r->confirmed < r->total) {
		raw_fill(r);
		pause = raw_pause(r);
		if (!raw_wait(r, pause) && pause == RAW_TIMEOUT)
			errx(1, "no confirm in %d seconds", RAW_TIMEOUT);
		while (raw_wait(r, 0))
			;
	}
	free(r->pending);
}

/* The send time at the head of a body written by -T, or 0. */
static uint64_t
raw_sent_ns(const amqp_bytes_t *body)
{
	static const char key[] = "{\"sent_ns\":";
	const char	 *p = body->bytes, *end = p + body->len;
	uint64_t	  v = 0;

	if (body->len < sizeof key || memcmp(p, key, sizeof key - 1) != 0)
		return (0);
	for (p += sizeof key - 1; p < end && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return (v);
}

/* Take one delivery, time it and ack it; exit on anything else. */
static void
raw_take(struct raw *r, struct bench_tally *t, unsigned long *redelivered)
{
	struct timeval	 tv = { RAW_TIMEOUT, 0 };
	amqp_envelope_t	 env;
	amqp_rpc_reply_t rep;

	amqp_maybe_release_buffers(r->conn);
	rep = amqp_consume_message(r->conn, &env, &tv, 0);
	if (rep.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    rep.library_error == AMQP_STATUS_TIMEOUT)
		errx(1, "no delivery in %d seconds (%lu of %lu)", RAW_TIMEOUT,
		    t->received, r->total);
	raw_check(rep, "consuming");
	bench_tally_add(t, bench_wall_ns(), raw_sent_ns(&env.message.body));
	*redelivered += env.redelivered != 0;
	if (amqp_basic_ack(r->conn, RAW_CHANNEL, env.delivery_tag, 0) !=
	    AMQP_STATUS_OK)
		errx(1, "basic.ack failed");
	amqp_destroy_envelope(&env);
}

/* Consume total messages from the -q queue with prefetch, acking each one
 * by itself as warrend does; say "ready" first, report at the end. */
static void
raw_consume(struct raw *r)
{
	struct bench_tally t;
	unsigned long	   redelivered = 0;

	bench_tally_init(&t, r->total);
	amqp_basic_qos(r->conn, RAW_CHANNEL, 0, (uint16_t)r->prefetch, 0);
	raw_check(amqp_get_rpc_reply(r->conn), "basic.qos");
	amqp_basic_consume(r->conn, RAW_CHANNEL, amqp_cstring_bytes(r->queue),
	    amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	raw_check(amqp_get_rpc_reply(r->conn), "basic.consume");
	printf("ready\n");
	fflush(stdout);
	while (t.received < r->total)
		raw_take(r, &t, &redelivered);
	bench_tally_print(&t);
	printf(" redelivered=%lu failures=0\n", redelivered);
	free(t.lat);
}

/* Read a positive number for option c, or exit. */
static unsigned long
raw_number(int c, const char *s)
{
	char	     *end;
	unsigned long v;

	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v == 0 || v > 100000000)
		errx(2, "-%c: bad number: %s", c, s);
	return (v);
}

/* Read the command line into r; return the mode it asks for. */
static int
raw_options(struct raw *r, int argc, char **argv)
{
	int c, mode = RAW_PUBLISH;

	while ((c = getopt(argc, argv, "b:CDe:f:k:l:n:p:q:r:STu:w:x:")) != -1) {
		switch (c) {
		case 'b':
			r->binding = optarg;
			break;
		case 'C':
		case 'D':
		case 'S':
			if (mode != RAW_PUBLISH)
				usage();
			mode = c == 'C' ? RAW_CONSUME :
			    c == 'D'	? RAW_DELETE :
					  RAW_SETUP;
			break;
		case 'e':
			r->event = optarg;
			break;
		case 'f':
			r->wire = bench_wire_parse(optarg);
			break;
		case 'k':
			r->key = optarg;
			break;
		case 'l':
			r->maxlen = raw_number(c, optarg);
			break;
		case 'n':
			r->total = raw_number(c, optarg);
			break;
		case 'p':
			r->prefetch = raw_number(c, optarg);
			break;
		case 'q':
			r->queue = optarg;
			break;
		case 'r':
			r->rate = raw_number(c, optarg);
			break;
		case 'T':
			r->stamp = 1;
			break;
		case 'u':
			r->url = optarg;
			break;
		case 'w':
			r->window = raw_number(c, optarg);
			break;
		case 'x':
			r->exchange = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (mode == RAW_CONSUME && r->queue == NULL))
		usage();
	if (r->prefetch > 65535)
		errx(2, "-p: at most 65535");
	return (mode);
}

/* Set up, publish and report; or only set up (-S), delete (-D) or
 * consume (-C). */
int
main(int argc, char **argv)
{
	struct raw r = {
		.url = "amqp://guest:guest@127.0.0.1:5672/%2f",
		.exchange = "bench.raw",
		.key = "bench.event",
		.binding = "#",
		.event = "BenchEvent",
		.total = 200000,
		.window = 1024,
		.prefetch = 64,
		.wire = BW_CLOUDEVENTS,
	};
	double start, secs;
	int    mode;

	mode = raw_options(&r, argc, argv);
	r.rng = ((uint64_t)time(NULL) * 2654435761U) ^
	    ((uint64_t)getpid() << 32);
	r.rng |= 1;
	raw_connect(&r);
	if (mode == RAW_CONSUME) {
		raw_consume(&r);
		raw_close(&r);
		return (0);
	}
	if (mode == RAW_DELETE)
		raw_delete(&r);
	else
		raw_declare(&r);
	if (mode != RAW_PUBLISH) {
		raw_close(&r);
		return (0);
	}
	start = bench_now();
	raw_run(&r);
	secs = bench_now() - start;
	raw_close(&r);
	printf("events=%lu seconds=%.3f events_per_s=%.0f nacks=%lu "
	       "returns=%lu\n",
	    r.total, secs, r.total / secs, r.nacks, r.returns);
	return (r.nacks != 0);
}
