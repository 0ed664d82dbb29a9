/* stream.c -- the stream queues of contracts that keep their history. The
 * loop hands over the set at start and at every reload; the publisher's
 * connector and the consumer thread declare from a copy taken under the
 * lock, so no broker call ever waits on the loop or the loop on one. */
#include <amqp.h>
#include <amqp_framing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "conf.h"
#include "contract.h"
#include "log.h"
#include "stream.h"
#include "util.h"

/* One stream to declare. */
struct stream_decl {
	char	 *contract;
	char	 *queue;
	char	 *routing_key;
	long long max_bytes;
	char	 *max_age;
};

/* A set of them, and the exchange they are bound to. */
struct stream_set {
	char		   *exchange;
	struct stream_decl *v;
	size_t		    n;
};

static pthread_mutex_t	 stream_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream_set stream_cur; /* guarded by stream_lock */
static uint64_t		 stream_gen; /* guarded by stream_lock */

/* Free a set's contents. */
static void
stream_set_clear(struct stream_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		free(set->v[i].contract);
		free(set->v[i].queue);
		free(set->v[i].routing_key);
		free(set->v[i].max_age);
	}
	free(set->v);
	free(set->exchange);
	memset(set, 0, sizeof *set);
}

/* Add one stream to set. */
static void
stream_set_add(struct stream_set *set, const char *contract,
    const char *routing_key, long long max_bytes, const char *max_age)
{
	struct stream_decl *d;

	set->v = xreallocarray(set->v, set->n + 1, sizeof *set->v);
	d = &set->v[set->n++];
	d->contract = xstrdup(contract);
	d->queue = contract_stream_queue(set->exchange, contract);
	d->routing_key = xstrdup(routing_key);
	d->max_bytes = max_bytes;
	d->max_age = max_age != NULL ? xstrdup(max_age) : NULL;
}

/* Copy set (only: its one stream) into out, under the lock. */
static void
stream_set_copy(struct stream_set *out, const char *only)
{
	const struct stream_decl *d;
	size_t			  i;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&stream_lock);
	out->exchange = xstrdup(stream_cur.exchange != NULL ?
		stream_cur.exchange :
		"");
	for (i = 0; i < stream_cur.n; i++) {
		d = &stream_cur.v[i];
		if (only == NULL || strcmp(only, d->contract) == 0)
			stream_set_add(out, d->contract, d->routing_key,
			    d->max_bytes, d->max_age);
	}
	pthread_mutex_unlock(&stream_lock);
}

/* Take the streams of cf's contracts (loop only). */
void
stream_configure(const struct conf *cf)
{
	struct stream_set      set = { NULL, NULL, 0 };
	const struct contract *c;
	size_t		       i;

	/* The exchange is fixed until restart (a reload does not move the
	 * connections); only the loop writes stream_cur. */
	set.exchange = xstrdup(stream_cur.exchange != NULL ?
		stream_cur.exchange :
		cf->exchange);
	for (i = 0; i < cf->contracts.n; i++) {
		c = cf->contracts.v[i];
		if (c->stream != NULL)
			stream_set_add(&set, c->name, c->routing_key,
			    c->stream->max_bytes, c->stream->max_age);
	}
	pthread_mutex_lock(&stream_lock);
	stream_set_clear(&stream_cur);
	stream_cur = set;
	stream_gen++;
	pthread_mutex_unlock(&stream_lock);
}

/* How many times the set was taken. */
uint64_t
stream_generation(void)
{
	uint64_t gen;

	pthread_mutex_lock(&stream_lock);
	gen = stream_gen;
	pthread_mutex_unlock(&stream_lock);
	return (gen);
}

/* Free the set (at exit). */
void
stream_free(void)
{
	pthread_mutex_lock(&stream_lock);
	stream_set_clear(&stream_cur);
	pthread_mutex_unlock(&stream_lock);
}

/*
 * Check an RPC of a declaration: 0 if it went through; the reply code if
 * the broker refused it and closed the channel (answered and reopened
 * here: the next declaration goes on); -2 if the connection is gone.
 */
static int
stream_rpc(amqp_connection_state_t conn, uint16_t channel, const char *who,
    const char *what, const char *name)
{
	amqp_rpc_reply_t	r = amqp_get_rpc_reply(conn);
	amqp_channel_close_ok_t ok;
	char			msg[512];
	int			code;

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return (0);
	broker_reply_text(r, msg, sizeof msg);
	log_warnx("%s: %s %s: %s", who, what, name, msg);
	if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
	    r.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
		return (-2);
	code = ((const amqp_channel_close_t *)r.reply.decoded)->reply_code;
	amqp_send_method(conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
	amqp_channel_open(conn, channel);
	r = amqp_get_rpc_reply(conn);
	return (r.reply_type == AMQP_RESPONSE_NORMAL ? (code > 0 ? code : 1) :
						       -2);
}

/* Declare one stream queue and bind it; 0, or -2 if the connection
 * failed. A queue the broker refuses (it exists with other arguments) is
 * logged and left as it is. */
static int
stream_declare_one(amqp_connection_state_t conn, uint16_t channel,
    const char *who, const char *exchange, const struct stream_decl *d)
{
	amqp_table_entry_t a[3];
	amqp_table_t	   args;
	int		   n = 1, rv;

	a[0].key = amqp_cstring_bytes("x-queue-type");
	a[0].value.kind = AMQP_FIELD_KIND_UTF8;
	a[0].value.value.bytes = amqp_cstring_bytes("stream");
	if (d->max_bytes > 0) {
		a[n].key = amqp_cstring_bytes("x-max-length-bytes");
		a[n].value.kind = AMQP_FIELD_KIND_I64;
		a[n++].value.value.i64 = d->max_bytes;
	}
	if (d->max_age != NULL) {
		a[n].key = amqp_cstring_bytes("x-max-age");
		a[n].value.kind = AMQP_FIELD_KIND_UTF8;
		a[n++].value.value.bytes = amqp_cstring_bytes(d->max_age);
	}
	args.num_entries = n;
	args.entries = a;
	amqp_queue_declare(conn, channel, amqp_cstring_bytes(d->queue), 0, 1, 0,
	    0, args);
	if ((rv = stream_rpc(conn, channel, who, "queue.declare", d->queue)) <
	    0)
		return (rv);
	if (rv == AMQP_PRECONDITION_FAILED)
		log_warnx("%s: stream %s exists with other arguments: kept as "
			  "it is (change its retention with a policy)",
		    who, d->queue);
	if (rv == AMQP_NOT_FOUND)
		return (1); /* not online yet: its binding stays as it is */
	amqp_queue_bind(conn, channel, amqp_cstring_bytes(d->queue),
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(d->routing_key),
	    amqp_empty_table);
	return (stream_rpc(conn, channel, who, "queue.bind", d->queue) < 0 ?
		-2 :
		0);
}

/* Declare the streams of set on channel, opened and closed here. */
static int
stream_declare_set(amqp_connection_state_t conn, uint16_t channel,
    const char *who, const struct stream_set *set)
{
	size_t i;
	int    rv, away = 0;

	amqp_channel_open(conn, channel);
	if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL)
		return (-2);
	amqp_exchange_declare(conn, channel, amqp_cstring_bytes(set->exchange),
	    amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
	if (stream_rpc(conn, channel, who, "exchange.declare", set->exchange) <
	    0)
		return (-2);
	for (i = 0; i < set->n; i++) {
		if ((rv = stream_declare_one(conn, channel, who, set->exchange,
			 &set->v[i])) < 0)
			return (-2);
		away |= rv;
	}
	amqp_channel_close(conn, channel, AMQP_REPLY_SUCCESS);
	return (amqp_get_rpc_reply(conn).reply_type == AMQP_RESPONSE_NORMAL ?
		away :
		-2);
}

/* Declare every stream (or only one) on conn. */
int
stream_declare(amqp_connection_state_t conn, uint16_t channel, const char *who,
    const char *only, char *err, size_t len)
{
	struct stream_set set;
	int		  rv = 0;

	stream_set_copy(&set, only);
	if (only != NULL && set.n == 0) {
		snprintf(err, len, "contract %s keeps no stream", only);
		rv = -1;
	} else if (set.n > 0)
		rv = stream_declare_set(conn, channel, who, &set);
	if (rv == -2 && err != NULL)
		snprintf(err, len, "declaring streams: the connection failed");
	stream_set_clear(&set);
	return (rv);
}

/*
 * Declare every stream, waiting up to wait_ms while one is not online yet
 * (right after a broker restart a stream answers NOT_FOUND for a few
 * seconds, and what is published meanwhile would be returned, not kept).
 * Return 0 (declared, or still away after the wait), or -2.
 */
int
stream_declare_wait(amqp_connection_state_t conn, uint16_t channel,
    const char *who, int wait_ms)
{
	struct timespec pause = { 0, 250 * 1000 * 1000 };
	uint64_t	until = util_now_ms() + (uint64_t)wait_ms;
	int		rv;

	while ((rv = stream_declare(conn, channel, who, NULL, NULL, 0)) == 1 &&
	    util_now_ms() < until)
		nanosleep(&pause, NULL);
	if (rv == 1)
		log_warnx("%s: a stream is still not online after %d ms: "
			  "publishing anyway",
		    who, wait_ms);
	return (rv == -2 ? -2 : 0);
}

/* The consume arguments of a replay. */
void
stream_consume_args(amqp_table_t *args, amqp_table_entry_t *a,
    const struct stream_from *from, int resume, uint64_t offset)
{
	static const char *names[] = { "first", "last", "next" };

	a->key = amqp_cstring_bytes("x-stream-offset");
	if (resume || from->kind == STREAM_FROM_OFFSET) {
		a->value.kind = AMQP_FIELD_KIND_I64;
		a->value.value.i64 = (int64_t)(resume ? offset : from->offset);
	} else if (from->kind == STREAM_FROM_TIME) {
		/* Second-grained, and the broker starts at a chunk: what
		 * comes before the time is skipped (stream_before). */
		a->value.kind = AMQP_FIELD_KIND_TIMESTAMP;
		a->value.value.u64 = (uint64_t)(from->time_ms / 1000);
	} else {
		a->value.kind = AMQP_FIELD_KIND_UTF8;
		a->value.value.bytes = amqp_cstring_bytes(names[from->kind]);
	}
	args->num_entries = 1;
	args->entries = a;
}

/* An integer header value, if it is one. */
static int
stream_int(const amqp_field_value_t *v, int64_t *out)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_I8:
		*out = v->value.i8;
		return (0);
	case AMQP_FIELD_KIND_I16:
		*out = v->value.i16;
		return (0);
	case AMQP_FIELD_KIND_I32:
		*out = v->value.i32;
		return (0);
	case AMQP_FIELD_KIND_I64:
		*out = v->value.i64;
		return (0);
	case AMQP_FIELD_KIND_U8:
		*out = v->value.u8;
		return (0);
	case AMQP_FIELD_KIND_U16:
		*out = v->value.u16;
		return (0);
	case AMQP_FIELD_KIND_U32:
		*out = v->value.u32;
		return (0);
	case AMQP_FIELD_KIND_U64:
	case AMQP_FIELD_KIND_TIMESTAMP:
		*out = (int64_t)v->value.u64;
		return (0);
	default:
		return (-1);
	}
}

/* Read a delivery's offset and time from its properties. */
void
stream_meta_read(const amqp_basic_properties_t *p, struct stream_meta *m)
{
	const amqp_table_entry_t *e;
	char			  when[64];
	int64_t			  v;
	int			  i;

	memset(m, 0, sizeof *m);
	m->time_ms = -1;
	if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
		m->time_ms = (int64_t)p->timestamp * 1000;
	if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
		return;
	for (i = 0; i < p->headers.num_entries; i++) {
		e = &p->headers.entries[i];
		if (e->key.len == 15 &&
		    memcmp(e->key.bytes, "x-stream-offset", 15) == 0 &&
		    stream_int(&e->value, &v) == 0 && v >= 0) {
			m->has_offset = 1;
			m->offset = (uint64_t)v;
		}
		if (e->key.len == 16 &&
		    memcmp(e->key.bytes, "cloudEvents:time", 16) == 0 &&
		    e->value.kind == AMQP_FIELD_KIND_UTF8 &&
		    e->value.value.bytes.len < sizeof when) {
			memcpy(when, e->value.value.bytes.bytes,
			    e->value.value.bytes.len);
			when[e->value.value.bytes.len] = '\0';
			(void)stream_from_time(when, &m->time_ms);
		}
	}
}

/* Is a message of that time before from? Messages without a time are
 * never skipped. */
int
stream_before(const struct stream_from *from, const struct stream_meta *m)
{
	return (from->kind == STREAM_FROM_TIME && m->time_ms >= 0 &&
	    m->time_ms < from->time_ms);
}
