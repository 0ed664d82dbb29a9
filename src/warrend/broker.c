/* broker.c -- connecting to RabbitMQ for the publisher and consumer
 * threads. Everything here blocks; it never runs on the loop thread. */
#include <sys/socket.h>

#include <netdb.h>
#include <poll.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "conf.h"
#include "log.h"
#include "util.h"

#define BROKER_TIMEOUT_MS 5000 /* connect, handshake and each RPC */
#define BROKER_STABLE_MS 2000  /* up this long: backoff starts over */

/* Copy the broker settings of cf. */
void
broker_link_init(struct broker_link *bl, const struct conf *cf, const char *who)
{
	size_t i;

	memset(bl, 0, sizeof *bl);
	bl->who = who;
	bl->urls = xcalloc(cf->nurls, sizeof *bl->urls);
	for (i = 0; i < cf->nurls; i++)
		url_copy(&bl->urls[i], &cf->urls[i]);
	bl->nurls = cf->nurls;
	bl->tls = cf->tls;
	bl->tls.ca_file = cf->tls.ca_file ? xstrdup(cf->tls.ca_file) : NULL;
	bl->tls.cert_file = cf->tls.cert_file ? xstrdup(cf->tls.cert_file) :
						NULL;
	bl->tls.key_file = cf->tls.key_file ? xstrdup(cf->tls.key_file) : NULL;
	bl->auth_external = cf->auth_external;
	bl->heartbeat = cf->heartbeat;
	bl->min_ms = cf->reconnect_min_ms;
	bl->max_ms = cf->reconnect_max_ms;
}

/* Free the copied settings. */
void
broker_link_free(struct broker_link *bl)
{
	size_t i;

	for (i = 0; i < bl->nurls; i++)
		url_clear(&bl->urls[i]);
	free(bl->urls);
	free(bl->tls.ca_file);
	free(bl->tls.cert_file);
	free(bl->tls.key_file);
	bl->urls = NULL;
	bl->nurls = 0;
}

/* Is it time to try connecting? */
int
broker_link_due(const struct broker_link *bl)
{
	return (util_now_ms() >= bl->next_attempt);
}

/* Schedule the next try: exponential backoff with jitter, so that
 * restarted hosts do not stampede. */
static void
broker_link_backoff(struct broker_link *bl)
{
	uint64_t max = (uint64_t)bl->max_ms;

	if (bl->cap_ms > 0 && (uint64_t)bl->cap_ms < max)
		max = (uint64_t)bl->cap_ms;
	bl->next_attempt = util_now_ms() +
	    util_backoff_ms((uint64_t)bl->min_ms < max ? (uint64_t)bl->min_ms :
							 max,
		max, bl->attempts++);
}

/*
 * An open connection was lost. Its node may be dead: try the next URL, and
 * at once if the connection had proved itself (a confirm came, or it lasted
 * BROKER_STABLE_MS), so that a cluster's failover costs no delay. One lost
 * right after it was made counts as a failed attempt, so that a broker
 * that keeps dropping connections is not hammered.
 */
void
broker_link_lost(struct broker_link *bl, int proven)
{
	uint64_t now = util_now_ms();

	bl->url = (bl->url + 1) % bl->nurls;
	if (proven ||
	    (bl->connected_at != 0 &&
		now - bl->connected_at >= BROKER_STABLE_MS)) {
		bl->attempts = 0;
		bl->next_attempt = now;
		return;
	}
	broker_link_backoff(bl);
}

/* Describe a failed RPC reply. */
void
broker_reply_text(amqp_rpc_reply_t r, char *buf, size_t len)
{
	const amqp_connection_close_t *cc;
	const amqp_channel_close_t    *ch;

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(buf, len, "ok");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(buf, len, "missing RPC reply");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, len, "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			cc = r.reply.decoded;
			snprintf(buf, len, "%.*s", (int)cc->reply_text.len,
			    (const char *)cc->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			ch = r.reply.decoded;
			snprintf(buf, len, "%.*s", (int)ch->reply_text.len,
			    (const char *)ch->reply_text.bytes);
		} else
			snprintf(buf, len, "broker error, method 0x%08x",
			    r.reply.id);
		break;
	}
}

/* Check the last RPC's reply. */
int
broker_rpc_ok(amqp_connection_state_t conn, const struct broker_link *bl,
    const char *what, char *buf, size_t len)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
	char		 msg[512];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return (0);
	broker_reply_text(r, msg, sizeof msg);
	log_warnx("%s: broker %s: %s: %s", bl->who, bl->addr, what, msg);
	if (buf != NULL)
		snprintf(buf, len, "%s", msg);
	return (-1);
}

/* The client properties: product, version and the capabilities we
 * understand; caps and props are the caller's storage. */
static void
broker_login_props(amqp_table_t *t, amqp_table_entry_t caps[4],
    amqp_table_entry_t props[3])
{
	static const char *names[] = { "connection.blocked",
		"publisher_confirms", "consumer_cancel_notify", "basic.nack" };
	int		   i;

	for (i = 0; i < 4; i++) {
		caps[i].key = amqp_cstring_bytes(names[i]);
		caps[i].value.kind = AMQP_FIELD_KIND_BOOLEAN;
		caps[i].value.value.boolean = 1;
	}
	props[0].key = amqp_cstring_bytes("product");
	props[0].value.kind = AMQP_FIELD_KIND_UTF8;
	props[0].value.value.bytes = amqp_cstring_bytes("warren");
	props[1].key = amqp_cstring_bytes("version");
	props[1].value.kind = AMQP_FIELD_KIND_UTF8;
	props[1].value.value.bytes = amqp_cstring_bytes(PACKAGE_VERSION);
	props[2].key = amqp_cstring_bytes("capabilities");
	props[2].value.kind = AMQP_FIELD_KIND_TABLE;
	props[2].value.value.table.num_entries = 4;
	props[2].value.value.table.entries = caps;
	t->num_entries = 3;
	t->entries = props;
}

/* Log in advertising what we understand: with the URL's user and
 * password, or (auth_mechanism = "external") as the client certificate. */
static int
broker_login(struct broker_link *bl, amqp_connection_state_t conn,
    const struct url *u)
{
	amqp_table_entry_t caps[4], props[3];
	amqp_table_t	   t;
	amqp_rpc_reply_t   r;
	char		   msg[512];
	const char	  *tls;

	broker_login_props(&t, caps, props);
	/* EXTERNAL's response is ignored by RabbitMQ but must not be empty
	 * (librabbitmq cannot send an empty one). */
	if (bl->auth_external)
		r = amqp_login_with_properties(conn, u->vhost, 0, 131072,
		    bl->heartbeat, &t, AMQP_SASL_METHOD_EXTERNAL,
		    *u->user != '\0' ? u->user : "guest");
	else
		r = amqp_login_with_properties(conn, u->vhost, 0, 131072,
		    bl->heartbeat, &t, AMQP_SASL_METHOD_PLAIN, u->user,
		    u->password);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return (0);
	broker_reply_text(r, msg, sizeof msg);
	tls = u->tls ? broker_tls_reason(NULL) : NULL;
	log_warnx("%s: broker %s: login %s %s: %s%s%s%s", bl->who, bl->addr,
	    bl->auth_external ? "(EXTERNAL) with the certificate of" : "as",
	    bl->auth_external ? bl->tls.cert_file : u->user, msg,
	    tls != NULL ? " (TLS: " : "", tls != NULL ? tls : "",
	    tls != NULL ? ")" : "");
	return (-1);
}

/*
 * Why amqp_socket_open_noblock failed, in the system's words. rabbitmq-c
 * 0.11 only says "a socket error occurred" (errno is left at EINPROGRESS)
 * or "hostname lookup failed", so then look the host up and try one
 * connect ourselves, and report the resolver's or connect's reason
 * ("Connection refused", "No route to host"). Blocks up to a second; only
 * called on the connector thread, once per outage.
 */
static const char *
broker_connect_reason(int rv, const char *host, int port, char *buf, size_t len)
{
	struct addrinfo hints, *ai;
	struct pollfd	pfd;
	char		serv[16];
	socklen_t	sl = sizeof(int);
	int		fd, error = 0, gai;

	if (rv != AMQP_STATUS_SOCKET_ERROR &&
	    rv != AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED)
		return (amqp_error_string2(rv));
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof serv, "%d", port);
	if ((gai = getaddrinfo(host, serv, &hints, &ai)) != 0) {
		snprintf(buf, len, "hostname lookup failed: %s",
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return (buf);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 || connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		error = fd == -1 ? errno : 0;
	else if ((error = errno) == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		error = 0;
		if (poll(&pfd, 1, 1000) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &sl) == -1)
			error = errno;
	}
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	if (error == 0)
		return (amqp_error_string2(rv));
	snprintf(buf, len, "%s", strerror(error));
	return (buf);
}

/* Open a TCP or TLS connection to u for conn; an AMQP status. */
static int
broker_link_open(struct broker_link *bl, amqp_connection_state_t conn,
    const struct url *u, struct timeval *tv)
{
	amqp_socket_t *sock;

	if (u->tls)
		sock = broker_tls_socket(conn, &bl->tls, u->host, bl->tls_why);
	else
		sock = amqp_tcp_socket_new(conn);
	if (sock == NULL)
		return (u->tls ? AMQP_STATUS_SSL_ERROR : AMQP_STATUS_NO_MEMORY);
	amqp_set_handshake_timeout(conn, tv);
	amqp_set_rpc_timeout(conn, tv);
	/* One deadline for the TCP connect and the TLS handshake. */
	return (amqp_socket_open_noblock(sock, u->host, u->port, tv));
}

/* Say why a connect failed: once per outage, the rest is debug noise. */
static void
broker_link_failed(struct broker_link *bl, const struct url *u, int rv)
{
	const char *tls = u->tls ? broker_tls_reason(bl->tls_why) : NULL;
	char	    why[128];

	if (bl->attempts == 0)
		log_warnx("%s: broker %s: cannot connect: %s%s; retrying",
		    bl->who, bl->addr, tls != NULL ? "TLS: " : "",
		    tls != NULL ? tls :
				  broker_connect_reason(rv, u->host, u->port,
				      why, sizeof why));
	else
		log_debug("%s: broker %s: connect: %s%s (attempt %d)", bl->who,
		    bl->addr, tls != NULL ? "TLS: " : "",
		    tls != NULL ? tls : amqp_error_string2(rv),
		    bl->attempts + 1);
}

/* Connect to the current URL and log in. */
amqp_connection_state_t
broker_link_connect(struct broker_link *bl)
{
	const struct url       *u = &bl->urls[bl->url];
	struct timeval		tv = { BROKER_TIMEOUT_MS / 1000, 0 };
	amqp_connection_state_t conn;
	int			rv;

	if (strchr(u->host, ':') != NULL)
		snprintf(bl->addr, sizeof bl->addr, "[%s]:%d", u->host,
		    u->port);
	else
		snprintf(bl->addr, sizeof bl->addr, "%s:%d", u->host, u->port);
	conn = amqp_new_connection();
	rv = broker_link_open(bl, conn, u, &tv);
	if (rv == AMQP_STATUS_OK && broker_login(bl, conn, u) == 0) {
		bl->connected_at = util_now_ms();
		return (conn);
	}
	if (rv != AMQP_STATUS_OK)
		broker_link_failed(bl, u, rv);
	amqp_destroy_connection(conn);
	bl->url = (bl->url + 1) % bl->nurls;
	bl->connected_at = 0;
	broker_link_backoff(bl);
	return (NULL);
}

struct broker_async {
	pthread_t		thread;
	pthread_mutex_t		lock;
	pthread_cond_t		cond;
	struct broker_link     *link;
	broker_setup_fn		setup;
	void		       *arg;
	int			notify_fd;
	int			want;
	int			lost;
	int			proven;
	int			cap_ms;
	int			stop;
	amqp_connection_state_t ready;
	char			addr[128];
	int			tls; /* ready speaks TLS */
};

/* Sleep until the next attempt is due, or until told to stop. */
static int
broker_async_wait(struct broker_async *ba)
{
	struct timespec ts;
	uint64_t	now, ms;
	int		stop;

	pthread_mutex_lock(&ba->lock);
	while (!ba->stop && (now = util_now_ms()) < ba->link->next_attempt) {
		ba->link->cap_ms = ba->cap_ms;
		ms = ba->link->next_attempt - now;
		if (ba->cap_ms > 0 && ms > (uint64_t)ba->cap_ms) {
			/* Events are waiting now: no long sleep. */
			ba->link->next_attempt = now + (uint64_t)ba->cap_ms;
			ms = (uint64_t)ba->cap_ms;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(ms / 1000);
		ts.tv_nsec += (long)(ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ba->cond, &ba->lock, &ts);
	}
	stop = ba->stop; /* read under the lock that writes it */
	pthread_mutex_unlock(&ba->lock);
	return (stop ? -1 : 0);
}

/* One attempt: connect, set up, hand over. */
static void
broker_async_attempt(struct broker_async *ba)
{
	amqp_connection_state_t conn;
	uint64_t		one = 1;

	if ((conn = broker_link_connect(ba->link)) == NULL)
		return;
	if (ba->setup(conn, ba->link, ba->arg) != 0) {
		amqp_destroy_connection(conn);
		ba->link->connected_at = 0;
		broker_link_lost(ba->link, 0);
		return;
	}
	pthread_mutex_lock(&ba->lock);
	if (ba->stop)
		amqp_destroy_connection(conn);
	else {
		ba->ready = conn;
		ba->want = 0;
		memcpy(ba->addr, ba->link->addr, sizeof ba->addr);
		ba->tls = ba->link->urls[ba->link->url].tls;
	}
	pthread_mutex_unlock(&ba->lock);
	while (write(ba->notify_fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

/* The connector thread. */
static void *
broker_async_main(void *arg)
{
	struct broker_async *ba = arg;
	int		     lost, proven;

	for (;;) {
		pthread_mutex_lock(&ba->lock);
		while (!ba->stop && !ba->want)
			pthread_cond_wait(&ba->cond, &ba->lock);
		lost = ba->lost;
		proven = ba->proven;
		ba->lost = ba->proven = 0;
		ba->link->cap_ms = ba->cap_ms;
		pthread_mutex_unlock(&ba->lock);
		if (lost)
			broker_link_lost(ba->link, proven);
		if (broker_async_wait(ba) != 0)
			break;
		broker_async_attempt(ba);
	}
	return (NULL);
}

/* Start the connector for link. */
struct broker_async *
broker_async_start(struct broker_link *link, broker_setup_fn setup, void *arg,
    int notify_fd, char **cause)
{
	struct broker_async *ba = xcalloc(1, sizeof *ba);
	int		     error;

	ba->link = link;
	ba->setup = setup;
	ba->arg = arg;
	ba->notify_fd = notify_fd;
	pthread_mutex_init(&ba->lock, NULL);
	pthread_cond_init(&ba->cond, NULL);
	if ((error = pthread_create(&ba->thread, NULL, broker_async_main,
		 ba)) != 0) {
		xasprintf(cause, "pthread_create: %s", util_strerror(error));
		free(ba);
		return (NULL);
	}
	return (ba);
}

/* Ask for a connection. */
void
broker_async_request(struct broker_async *ba, int lost, int proven)
{
	pthread_mutex_lock(&ba->lock);
	ba->want = 1;
	ba->lost |= lost;
	ba->proven |= proven;
	pthread_cond_signal(&ba->cond);
	pthread_mutex_unlock(&ba->lock);
}

/* Cap the delay between attempts; wake a connector sleeping longer. */
void
broker_async_cap(struct broker_async *ba, int ms)
{
	pthread_mutex_lock(&ba->lock);
	if (ba->cap_ms != ms) {
		ba->cap_ms = ms;
		pthread_cond_signal(&ba->cond);
	}
	pthread_mutex_unlock(&ba->lock);
}

/* Take a ready connection, or NULL. */
amqp_connection_state_t
broker_async_take(struct broker_async *ba, char *addr, size_t len, int *tls)
{
	amqp_connection_state_t conn;

	pthread_mutex_lock(&ba->lock);
	conn = ba->ready;
	ba->ready = NULL;
	if (conn != NULL) {
		snprintf(addr, len, "%s", ba->addr);
		*tls = ba->tls;
	}
	pthread_mutex_unlock(&ba->lock);
	return (conn);
}

/* Stop the connector; one stuck in a connect is left to the exit. */
int
broker_async_stop(struct broker_async *ba, int timeout_ms)
{
	if (ba == NULL)
		return (0);
	pthread_mutex_lock(&ba->lock);
	ba->stop = 1;
	pthread_cond_signal(&ba->cond);
	pthread_mutex_unlock(&ba->lock);
	if (util_join(ba->thread, timeout_ms) != 0) {
		log_warnx("%s: connector did not stop in time", ba->link->who);
		return (-1);
	}
	if (ba->ready != NULL)
		amqp_destroy_connection(ba->ready);
	pthread_mutex_destroy(&ba->lock);
	pthread_cond_destroy(&ba->cond);
	free(ba);
	return (0);
}

/* Read every frame that is ready, without waiting, handing each to fn. */
int
broker_drain(amqp_connection_state_t conn, const char *who, const char *addr,
    int (*fn)(const amqp_frame_t *, void *), void *arg)
{
	struct timeval zero = { 0, 0 };
	amqp_frame_t   f;
	int	       rv;

	for (;;) {
		rv = amqp_simple_wait_frame_noblock(conn, &f, &zero);
		if (rv == AMQP_STATUS_TIMEOUT)
			return (0);
		if (rv != AMQP_STATUS_OK) {
			log_warnx("%s: broker %s: connection lost: %s", who,
			    addr, amqp_error_string2(rv));
			return (-1);
		}
		if (fn(&f, arg) != 0)
			return (-1);
		amqp_maybe_release_buffers(conn);
	}
}
