/* metrics.c -- Prometheus text at /metrics and a /healthz, on the loop
 * thread (off unless metrics.listen is set). Our own small HTTP server
 * rather than evhttp, whose connections are not capped and whose idle
 * timeout restarts on every byte: here at most metrics.max_clients
 * connections live at once, each for at most metrics.timeout_ms in all,
 * and each answers one request and closes. */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "publisher.h"
#include "retry.h"
#include "stats.h"
#include "util.h"
#include "warrend.h"

/* One connection: it answers one request, then closes. */
struct metrics_conn {
	TAILQ_ENTRY(metrics_conn) entry;
	struct bufferevent *bev;
	struct event	   *deadline; /* its whole life, not idle */
};
TAILQ_HEAD(metrics_connq, metrics_conn);
static struct metrics_connq metrics_conns =
    TAILQ_HEAD_INITIALIZER(metrics_conns);
static int		      metrics_nconns;
static struct listener_watch *metrics_listener;

/* One metric with its HELP and TYPE lines. */
static void
metrics_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name,
	    help, name, type, name, (unsigned long long)v);
}

/* The error replies by code. */
static void
metrics_errors(struct evbuffer *b)
{
	size_t i;

	evbuffer_add_printf(b,
	    "# HELP warren_events_rejected_total Error "
	    "replies, by code.\n# TYPE warren_events_rejected_total counter\n");
	for (i = 0; proto_error_codes[i] != NULL; i++)
		evbuffer_add_printf(b,
		    "warren_events_rejected_total{code=\"%s\"}"
		    " %llu\n",
		    proto_error_codes[i],
		    (unsigned long long)stats_errors_by_code(i));
}

/* The confirm latency histogram. */
static void
metrics_latency(struct evbuffer *b)
{
	const char	    *n = "warren_confirm_latency_seconds";
	struct stats_latency l;
	size_t		     i;

	stats_get_latency(&l);
	evbuffer_add_printf(b,
	    "# HELP %s From acceptance to the broker's "
	    "confirm.\n# TYPE %s histogram\n",
	    n, n);
	for (i = 0; i < l.n; i++)
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", n,
		    (double)l.le_ms[i] / 1000,
		    (unsigned long long)l.buckets[i]);
	evbuffer_add_printf(b,
	    "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n"
	    "%s_count %llu\n",
	    n, (unsigned long long)l.count, n, (double)l.sum_ms / 1000, n,
	    (unsigned long long)l.count);
}

/* The retry and dedup counters (retry.c owns them). */
static void
metrics_retry(struct evbuffer *b)
{
	struct retry_stats rs;

	retry_get_stats(&rs);
	metrics_one(b, "warren_retries_total", "counter",
	    "Deliveries nacked with retry_in_ms, now in a delay queue.",
	    rs.retried);
	metrics_one(b, "warren_retries_exhausted_total", "counter",
	    "Retries past max_attempts, dead-lettered with the reason.",
	    rs.exhausted);
	metrics_one(b, "warren_deduplicated_total", "counter",
	    "Redeliveries of ids the app acked, acked without a delivery.",
	    rs.deduplicated);
}

/* The /metrics text. */
static void
metrics_text(struct evbuffer *b)
{
	struct publisher_stats ps;

	publisher_get_stats(&ps);
	metrics_one(b, "warren_events_accepted_total", "counter",
	    "Publishes checked and handed on.", stats_get(STATS_ACCEPTED));
	metrics_errors(b);
	metrics_one(b, "warren_events_published_total", "counter",
	    "Messages sent to the broker, republishes included.", ps.published);
	metrics_one(b, "warren_events_confirmed_total", "counter",
	    "Publishes answered ok after the broker's confirm.",
	    stats_get(STATS_CONFIRMED));
	metrics_one(b, "warren_events_returned_total", "counter",
	    "Publishes the broker returned as unroutable.",
	    stats_get(STATS_UNROUTABLE));
	metrics_one(b, "warren_events_nacked_total", "counter",
	    "Publishes the broker refused.", stats_get(STATS_NACKED));
	metrics_one(b, "warren_events_spooled_total", "counter",
	    "Publishes answered ok once in the spool.",
	    stats_get(STATS_SPOOLED));
	metrics_one(b, "warren_spool_bytes", "gauge", "Bytes in the spool.",
	    ps.spool.bytes);
	metrics_one(b, "warren_spool_records", "gauge",
	    "Events in the spool not yet confirmed.", ps.spool.records);
	metrics_one(b, "warren_deliveries_total", "counter",
	    "Messages handed to local subscribers.",
	    stats_get(STATS_DELIVERIES));
	metrics_one(b, "warren_acks_total", "counter",
	    "Deliveries acked by subscribers.", stats_get(STATS_ACKS));
	metrics_one(b, "warren_nacks_total", "counter",
	    "Deliveries nacked by subscribers.", stats_get(STATS_NACKS));
	metrics_one(b, "warren_dead_lettered_total", "counter",
	    "Consumed messages that broke their contract.",
	    stats_get(STATS_DEAD_LETTERED));
	metrics_one(b, "warren_clients", "gauge", "Connected local clients.",
	    (uint64_t)client_count());
	metrics_one(b, "warren_broker_connected", "gauge",
	    "1 while the publishing connection is up.", (uint64_t)ps.connected);
	metrics_one(b, "warren_broker_blocked", "gauge",
	    "1 while the broker blocks publishing.", (uint64_t)ps.blocked);
	metrics_one(b, "warren_broker_refusing", "gauge",
	    "1 while the broker nacks events and takes none.",
	    (uint64_t)ps.refusing);
	metrics_one(b, "warren_broker_nacks_total", "counter",
	    "Messages the broker nacked; with the spool they are retried.",
	    ps.nacks);
	metrics_one(b, "warren_broker_reconnects_total", "counter",
	    "Publishing connections made again after a loss.", ps.reconnects);
	metrics_latency(b);
	metrics_retry(b);
}

/* The /healthz text; 1 while events can be taken (broker or spool). */
static int
metrics_health(struct evbuffer *b)
{
	struct publisher_stats ps;
	int		       ok;

	publisher_get_stats(&ps);
	ok = (ps.connected && !ps.blocked) ||
	    (ps.spool_enabled &&
		ps.spool.bytes < (uint64_t)warrend_conf->spool_max_bytes);
	evbuffer_add_printf(b, "%s\n", ok ? "ok" : "unavailable");
	return (ok);
}

/* Close a connection and forget it. */
static void
metrics_close(struct metrics_conn *mc)
{
	TAILQ_REMOVE(&metrics_conns, mc, entry);
	metrics_nconns--;
	bufferevent_free(mc->bev);
	event_free(mc->deadline);
	free(mc);
}

/* The reason phrase of the statuses we send. */
static const char *
metrics_reason(int status)
{
	switch (status) {
	case 200:
		return ("OK");
	case 400:
		return ("Bad Request");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 414:
		return ("URI Too Long");
	case 431:
		return ("Request Header Fields Too Large");
	case 503:
		return ("Service Unavailable");
	default:
		return ("HTTP Version Not Supported");
	}
}

/* The peer went away, or the socket failed. */
static void
metrics_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	metrics_close(arg);
}

/* After the response: discard what the peer still sends until it closes
 * (or the deadline comes), so closing does not reset the connection and
 * lose the response on its way. */
static void
metrics_discard_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
}

/* Everything was written: half-close, and wait for the peer's close. */
static void
metrics_written_cb(struct bufferevent *bev, void *arg)
{
	bufferevent_disable(bev, EV_WRITE);
	if (shutdown(bufferevent_getfd(bev), SHUT_WR) == -1) {
		metrics_close(arg);
		return;
	}
	bufferevent_setcb(bev, metrics_discard_cb, NULL, metrics_event_cb, arg);
	bufferevent_enable(bev, EV_READ);
}

/* Send the response (its body only when head is 0) and close after. */
static void
metrics_respond(struct metrics_conn *mc, int status, struct evbuffer *body,
    int head)
{
	struct evbuffer *out = bufferevent_get_output(mc->bev);

	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
	    status, metrics_reason(status),
	    status == 200 ? "text/plain; "
			    "version=0.0.4; charset=utf-8" :
			    "text/plain; charset=utf-8",
	    evbuffer_get_length(body),
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		evbuffer_add_buffer(out, body);
	bufferevent_disable(mc->bev, EV_READ);
	bufferevent_setcb(mc->bev, NULL, metrics_written_cb, metrics_event_cb,
	    mc);
	bufferevent_enable(mc->bev, EV_WRITE);
}

/* Answer a whole request head, or refuse it with status. */
static void
metrics_answer(struct metrics_conn *mc, int status,
    const struct http_request *req)
{
	struct evbuffer *body = evbuffer_new();

	if (status == 200 && strcmp(req->path, "/metrics") == 0)
		metrics_text(body);
	else if (status == 200 && strcmp(req->path, "/healthz") == 0)
		status = metrics_health(body) ? 200 : 503;
	else if (status == 200)
		status = 404;
	if (status != 200 && evbuffer_get_length(body) == 0)
		evbuffer_add_printf(body, "%s\n", metrics_reason(status));
	metrics_respond(mc, status, body,
	    status != 400 && req->method == HTTP_HEAD);
	evbuffer_free(body);
}

/* Bytes came: answer once the request head is whole. */
static void
metrics_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	   *in = bufferevent_get_input(bev);
	struct http_request req;
	size_t		    len = evbuffer_get_length(in);
	int		    status;

	if (len > HTTP_MAX_HEAD)
		len = HTTP_MAX_HEAD;
	memset(&req, 0, sizeof req);
	status = http_parse((const char *)evbuffer_pullup(in, (ev_ssize_t)len),
	    len, &req);
	if (status != 0)
		metrics_answer(arg, status, &req);
}

/* The connection lived its time: close it, whatever it was doing. */
static void
metrics_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	metrics_close(arg);
}

/* A new connection; beyond max_clients it gets a 503 and is closed. */
static void
metrics_accept_cb(int fd, void *arg)
{
	static const char busy[] =
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct metrics_conn *mc;
	struct timeval	     tv;
	int		     ms = warrend_conf->metrics_timeout_ms;

	(void)arg;
	if (metrics_nconns >= warrend_conf->metrics_max_clients) {
		(void)send(fd, busy, sizeof busy - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	mc = xcalloc(1, sizeof *mc);
	mc->bev = bufferevent_socket_new(warrend_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	mc->deadline = evtimer_new(warrend_base, metrics_deadline_cb, mc);
	if (mc->bev == NULL || mc->deadline == NULL)
		fatalx("metrics: out of memory");
	TAILQ_INSERT_TAIL(&metrics_conns, mc, entry);
	metrics_nconns++;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(mc->deadline, &tv);
	bufferevent_setwatermark(mc->bev, EV_READ, 0, HTTP_MAX_HEAD);
	bufferevent_setcb(mc->bev, metrics_read_cb, NULL, metrics_event_cb, mc);
	bufferevent_enable(mc->bev, EV_READ);
}

/* A listening socket on cf's metrics host and port (the first address
 * that binds). */
static int
metrics_bind(const struct conf *cf, char **cause)
{
	struct evutil_addrinfo hints, *res, *ai;
	char		       serv[16];
	int		       fd = -1, on = 1, error, rv = EADDRNOTAVAIL;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(serv, sizeof serv, "%d", cf->metrics_port);
	if ((error = evutil_getaddrinfo(cf->metrics_host, serv, &hints,
		 &res)) != 0) {
		xasprintf(cause, "metrics.listen %s: %s", cf->metrics_listen,
		    evutil_gai_strerror(error));
		return (-1);
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			rv = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, 64) == -1) {
			rv = errno;
			close(fd);
			fd = -1;
		}
	}
	evutil_freeaddrinfo(res);
	if (fd == -1)
		xasprintf(cause, "metrics.listen %s: cannot listen there: %s",
		    cf->metrics_listen, strerror(rv));
	return (fd);
}

/* Listen on cf's metrics.listen, if set. */
int
metrics_start(const struct conf *cf, char **cause)
{
	int fd;

	if (cf->metrics_listen == NULL)
		return (0);
	if ((fd = metrics_bind(cf, cause)) == -1)
		return (-1);
	metrics_listener = listener_watch(fd, "metrics", metrics_accept_cb,
	    NULL);
	log_info("metrics on http://%s/metrics", cf->metrics_listen);
	return (0);
}

/* Stop serving: the listener and every connection. */
void
metrics_stop(void)
{
	struct metrics_conn *mc;

	listener_unwatch(metrics_listener);
	metrics_listener = NULL;
	while ((mc = TAILQ_FIRST(&metrics_conns)) != NULL)
		metrics_close(mc);
}
