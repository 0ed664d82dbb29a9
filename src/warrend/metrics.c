/* metrics.c -- Prometheus text at /metrics and a /healthz, over libevent's
 * evhttp on the loop thread (off unless metrics.listen is set). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "publisher.h"
#include "stats.h"
#include "util.h"
#include "warrend.h"

static struct evhttp	*metrics_http;

/* Parse "host:port" (host may be [v6]). */
static int
metrics_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char	*colon = strrchr(s, ':');
	char		*end;
	size_t		 n;
	long		 p;

	if (colon == NULL || colon == s)
		return (-1);
	n = (size_t)(colon - s);
	if (s[0] == '[' && n >= 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return (-1);
	memcpy(host, s, n);
	host[n] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || p < 1 || p > 65535)
		return (-1);
	*port = (int)p;
	return (0);
}

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
	size_t	 i;

	evbuffer_add_printf(b, "# HELP warren_events_rejected_total Error "
	    "replies, by code.\n# TYPE warren_events_rejected_total counter\n");
	for (i = 0; proto_error_codes[i] != NULL; i++)
		evbuffer_add_printf(b, "warren_events_rejected_total{code=\"%s\"}"
		    " %llu\n", proto_error_codes[i],
		    (unsigned long long)stats_errors_by_code(i));
}

/* The confirm latency histogram. */
static void
metrics_latency(struct evbuffer *b)
{
	const char		*n = "warren_confirm_latency_seconds";
	struct stats_latency	 l;
	size_t			 i;

	stats_get_latency(&l);
	evbuffer_add_printf(b, "# HELP %s From acceptance to the broker's "
	    "confirm.\n# TYPE %s histogram\n", n, n);
	for (i = 0; i < l.n; i++)
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", n,
		    (double)l.le_ms[i] / 1000, (unsigned long long)l.buckets[i]);
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n"
	    "%s_count %llu\n", n, (unsigned long long)l.count, n,
	    (double)l.sum_ms / 1000, n, (unsigned long long)l.count);
}

/* GET /metrics */
static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer		*b = evbuffer_new();
	struct publisher_stats	 ps;

	(void)arg;
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
	metrics_one(b, "warren_spool_bytes", "gauge",
	    "Bytes in the spool.", ps.spool.bytes);
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
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* GET /healthz: 200 while events can be taken (broker or spool). */
static void
metrics_health_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer		*b = evbuffer_new();
	struct publisher_stats	 ps;
	int			 ok;

	(void)arg;
	publisher_get_stats(&ps);
	ok = (ps.connected && !ps.blocked) || (ps.spool_enabled &&
	    ps.spool.bytes < (uint64_t)warrend_conf->spool_max_bytes);
	evbuffer_add_printf(b, "%s\n", ok ? "ok" : "unavailable");
	evhttp_send_reply(req, ok ? HTTP_OK : 503, ok ? "OK" :
	    "Service Unavailable", b);
	evbuffer_free(b);
}

/* Listen on cf's metrics.listen, if set. */
int
metrics_start(const struct conf *cf, char **cause)
{
	char	 host[256];
	int	 port;

	if (cf->metrics_listen == NULL)
		return (0);
	if (metrics_parse_listen(cf->metrics_listen, host, sizeof host,
	    &port) != 0) {
		xasprintf(cause, "metrics.listen: bad address %s",
		    cf->metrics_listen);
		return (-1);
	}
	errno = 0;
	if ((metrics_http = evhttp_new(warrend_base)) == NULL ||
	    evhttp_bind_socket(metrics_http, host, (uint16_t)port) != 0) {
		/* libevent keeps bind(2)'s errno: say why. */
		xasprintf(cause, "metrics.listen %s: cannot listen there: %s",
		    cf->metrics_listen, errno != 0 ? strerror(errno) :
		    "unknown reason");
		return (-1);
	}
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD);
	evhttp_set_timeout(metrics_http, 10);
	evhttp_set_max_headers_size(metrics_http, 8192);
	evhttp_set_max_body_size(metrics_http, 0);
	evhttp_set_cb(metrics_http, "/metrics", metrics_cb, NULL);
	evhttp_set_cb(metrics_http, "/healthz", metrics_health_cb, NULL);
	log_info("metrics on http://%s/metrics", cf->metrics_listen);
	return (0);
}

/* Stop serving. */
void
metrics_stop(void)
{
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
}
