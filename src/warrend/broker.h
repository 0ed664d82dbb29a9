/* broker.h -- what the publisher and consumer threads share about talking
 * to RabbitMQ: connecting with timeouts, logging in with capabilities,
 * rotating through broker.urls with backoff, and describing errors. */
#ifndef WARREN_BROKER_H
#define WARREN_BROKER_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

#include "broker-tls.h"
#include "conf.h"

struct broker_link {
	const char     *who;  /* "publisher", "consumer": for logs */
	struct url     *urls; /* copies of cf->urls */
	size_t		nurls;
	size_t		url; /* the one to try next */
	struct conf_tls tls; /* a copy of cf->tls */
	int		auth_external;
	char		tls_why[BROKER_TLS_WHY];
	int		heartbeat;
	int		min_ms;
	int		max_ms;
	int		attempts; /* failures since the last stable link */
	int		cap_ms;	  /* 0, or the longest delay for now */
	uint64_t	next_attempt;
	uint64_t	connected_at;
	char		addr[128]; /* host:port, never the password */
};

/* Copy the broker settings of cf. */
void broker_link_init(struct broker_link *, const struct conf *cf,
    const char *who);
void broker_link_free(struct broker_link *);

/* Is it time to try connecting? */
int broker_link_due(const struct broker_link *);

/* Connect to the current URL and log in (advertising connection.blocked,
 * publisher confirms, consumer cancel notification); on failure log it,
 * move to the next URL, schedule the next try and return NULL. */
amqp_connection_state_t broker_link_connect(struct broker_link *);

/* An open connection was lost: the next URL at once if it had proved
 * itself (proven, or up for a while), else after a delay. */
void broker_link_lost(struct broker_link *, int proven);

/*
 * A connector thread: it connects (with backoff, through every URL) and
 * runs setup on the new connection while its owner goes on working, then
 * hands the connection over. Only one thread uses a connection at a time:
 * the connector until the hand-over, the owner after.
 */
struct broker_async;
typedef int (*broker_setup_fn)(amqp_connection_state_t,
    const struct broker_link *, void *);

/* Start the connector for link (which it owns from now on); notify_fd is
 * written when a connection is ready. */
struct broker_async *broker_async_start(struct broker_link *, broker_setup_fn,
    void *arg, int notify_fd, char **cause);
/* Ask for a connection; lost says the last one failed (back off first,
 * unless it was proven: see broker_link_lost). */
void broker_async_request(struct broker_async *, int lost, int proven);
/* Cap the delay between attempts at about ms (0: no cap), for instance
 * while events wait in the spool; a longer wait under way is cut short. */
void broker_async_cap(struct broker_async *, int ms);
/* Take a ready connection, its address and whether it speaks TLS, or
 * NULL. */
amqp_connection_state_t broker_async_take(struct broker_async *, char *addr,
    size_t len, int *tls);
/* Stop the connector, waiting at most timeout_ms for it; -1 if it is
 * still stuck in a connect (it is left to the process exit). */
int broker_async_stop(struct broker_async *, int timeout_ms);

/*
 * Read every frame that is ready, without waiting, and hand each to fn
 * (which returns -1 when the connection must go). This also sends a due
 * heartbeat and notices a silent peer (AMQP_STATUS_HEARTBEAT_TIMEOUT): the
 * workaround for 0.11's publish hanging on a dead connection. Return -1 if
 * the connection is lost.
 */
int broker_drain(amqp_connection_state_t, const char *who, const char *addr,
    int (*fn)(const amqp_frame_t *, void *), void *arg);

/* Describe a failed RPC reply. */
void broker_reply_text(amqp_rpc_reply_t, char *buf, size_t len);

/* Check the last RPC's reply; on failure log "what" and return -1 with
 * the broker's words in buf (if buf is not NULL). */
int broker_rpc_ok(amqp_connection_state_t, const struct broker_link *,
    const char *what, char *buf, size_t len);

#endif
