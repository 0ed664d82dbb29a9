/* warrend.c -- the warren daemon: options, start-up in dependency order,
 * signals, teardown in reverse. */
#include <sys/resource.h>

#include <errno.h>
#include <event2/event.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "lint.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "publisher.h"
#include "sdnotify.h"
#include "consumer.h"
#include "consume.h"
#include "util.h"
#include "warrend.h"

struct conf		*warrend_conf;
struct event_base	*warrend_base;
int			 warrend_stopping;

static const char	*warrend_file = CONF_DEFAULT_FILE;
static struct event	*warrend_hard_stop;
static struct event	*warrend_tick;
static char		 warrend_status[256];
static uint64_t		 warrend_alive;		/* publisher's, last seen */
static uint64_t		 warrend_alive_ms;	/* when it last moved */

/* Print usage and exit. */
static void __attribute__((noreturn))
warrend_usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: warrend [-dhtV] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -d       debug logging\n"
	    "  -h       this help\n"
	    "  -t       check the configuration and every contract, then exit\n"
	    "  -V       print the version and exit\n", CONF_DEFAULT_FILE);
	exit(status);
}

/* SIGHUP: load the file again; a broken one leaves the old in force. */
static void
warrend_reload(void)
{
	struct conf	*cf;
	char		*cause;
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000);
	if ((cf = conf_load(warrend_file, &cause)) == NULL) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    cause);
		sdnotify("READY=1\nSTATUS=reload failed, old configuration "
		    "kept: %.200s", cause);
		free(cause);
		return;
	}
	if (conf_broker_changed(warrend_conf, cf))
		log_warnx("reload: broker settings changed; they take effect "
		    "when warrend restarts");
	if (strcmp(cf->socket_path, warrend_conf->socket_path) != 0 ||
	    cf->socket_mode != warrend_conf->socket_mode ||
	    (cf->socket_group == NULL) != (warrend_conf->socket_group == NULL) ||
	    (cf->socket_group != NULL &&
	    cf->socket_gid != warrend_conf->socket_gid))
		log_warnx("reload: socket settings changed; they take effect "
		    "when warrend restarts");
	if ((cf->metrics_listen == NULL) != (warrend_conf->metrics_listen ==
	    NULL) || (cf->metrics_listen != NULL &&
	    strcmp(cf->metrics_listen, warrend_conf->metrics_listen) != 0))
		log_warnx("reload: metrics.listen changed; it takes effect "
		    "when warrend restarts");
	conf_free(warrend_conf);
	warrend_conf = cf;
	consume_reload();
	log_info("configuration reloaded from %s: %zu contracts",
	    warrend_file, cf->contracts.n);
	sdnotify("READY=1");
	warrend_status[0] = '\0';	/* say it again */
}

/* The shutdown took too long: leave the loop anyway. */
static void
warrend_hard_stop_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	log_warnx("shutdown: giving up on %d clients", client_count());
	event_base_loopexit(warrend_base, NULL);
}

/* SIGTERM/SIGINT: stop accepting, let confirms finish within the bound. */
static void
warrend_stop(int sig)
{
	struct timeval	 tv;
	int		 ms = warrend_conf->shutdown_timeout_ms + 2000;

	if (warrend_stopping)
		return;
	log_info("%s: shutting down", strsignal(sig));
	sdnotify("STOPPING=1\nSTATUS=shutting down");
	warrend_stopping = 1;
	listener_close();
	publisher_stop(warrend_conf->shutdown_timeout_ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	warrend_hard_stop = evtimer_new(warrend_base, warrend_hard_stop_cb,
	    NULL);
	evtimer_add(warrend_hard_stop, &tv);
	client_shutdown();
}

/* What warrend is doing, in one line for systemctl status. */
static void
warrend_describe(char *buf, size_t len, const struct publisher_stats *ps)
{
	char	 spool[64];

	if (!ps->spool_enabled)
		snprintf(spool, sizeof spool, "no spool");
	else if (ps->spool.records == 0)
		snprintf(spool, sizeof spool, "spool empty");
	else
		snprintf(spool, sizeof spool, "spool %llu events",
		    (unsigned long long)ps->spool.records);
	snprintf(buf, len, "%s %s, %d clients, %d subscriptions, %s",
	    ps->connected ? (ps->blocked ? "blocked by" : "connected to") :
	    "cannot reach", ps->broker[0] != '\0' ? ps->broker : "the broker",
	    client_count(), consume_active(), spool);
}

/* Every second: STATUS= when it changed, and WATCHDOG=1 while the
 * publisher thread shows it is alive (the loop is, since we run). */
static void
warrend_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct publisher_stats	 ps;
	char			 status[256];
	uint64_t		 now = util_now_ms();

	(void)fd;
	(void)events;
	(void)arg;
	publisher_get_stats(&ps);
	if (ps.alive != warrend_alive) {
		warrend_alive = ps.alive;
		warrend_alive_ms = now;
	}
	if (sdnotify_watchdog_usec() > 0 && now - warrend_alive_ms <=
	    sdnotify_watchdog_usec() / 2000 + 3000)
		sdnotify("WATCHDOG=1");
	warrend_describe(status, sizeof status, &ps);
	if (!warrend_stopping && strcmp(status, warrend_status) != 0) {
		memcpy(warrend_status, status, sizeof status);
		sdnotify("STATUS=%s", status);
	}
}

/* Start the once-a-second tick (more often for a short watchdog). */
static void
warrend_tick_start(void)
{
	struct timeval	 tv = { 1, 0 };
	uint64_t	 wd = sdnotify_watchdog_usec();

	if (wd > 0 && wd / 2 < 1000000) {
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(wd / 2);
	}
	warrend_alive_ms = util_now_ms();
	warrend_tick = event_new(warrend_base, -1, EV_PERSIST,
	    warrend_tick_cb, NULL);
	evtimer_add(warrend_tick, &tv);
	warrend_tick_cb(-1, 0, NULL);
}

/* Signals arrive here through libevent, on the loop thread. */
static void
warrend_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	(void)events;
	(void)arg;
	if (sig == SIGHUP)
		warrend_reload();
	else
		warrend_stop(sig);
}

/* Allow enough descriptors for max_clients (and the metrics clients),
 * within the hard limit. */
static void
warrend_rlimit(int max_clients)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)max_clients + 64 +
			    (rlim_t)warrend_conf->metrics_max_clients;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	/* cppcheck-suppress knownConditionTrueFalse ; not if rlim_max < want */
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
		log_warnx("max_clients %d is above the descriptor limit %llu",
		    max_clients, (unsigned long long)rl.rlim_cur);
}

/* Parse the options; return 1 for -t. */
static int
warrend_options(int argc, char **argv, int *debug)
{
	int	 ch, test = 0;

	while ((ch = getopt(argc, argv, "c:dhtV")) != -1) {
		switch (ch) {
		case 'c':
			warrend_file = optarg;
			break;
		case 'd':
			*debug = 1;
			break;
		case 'h':
			warrend_usage(0);
		case 't':
			test = 1;
			break;
		case 'V':
			printf("warrend %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			warrend_usage(1);
		}
	}
	if (optind != argc)
		warrend_usage(1);
	return (test);
}

/* -t: print a lint finding as a warning; it does not fail the check. */
static void
warrend_lint_cb(const struct lint_finding *lf, void *arg)
{
	char	*s;

	(void)arg;
	s = lint_format(lf);
	fprintf(stderr, "warning: %s\n", s);
	free(s);
}

int
main(int argc, char **argv)
{
	struct event	*sigs[4];
	static const int signos[4] = { SIGTERM, SIGINT, SIGHUP, 0 };
	char		*cause;
	int		 debug = 0, test, i;

	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	test = warrend_options(argc, argv, &debug);
	log_init("warrend", debug);
	if (!test)
		sdnotify_init();
	if ((warrend_conf = conf_load(warrend_file, &cause)) == NULL) {
		if (test) {
			fprintf(stderr, "warrend: %s\n", cause);
			exit(1);
		}
		fatalx("%s", cause);
	}
	if (test) {
		printf("configuration OK\n");
		fflush(stdout);
		lint_contracts(&warrend_conf->contracts, warrend_lint_cb, NULL);
		conf_free(warrend_conf);
		exit(0);
	}
	signal(SIGPIPE, SIG_IGN);
	warrend_rlimit(warrend_conf->max_clients);
	if ((warrend_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/* The spool first: a bad spool.dir must fail before the socket. */
	if (publish_start(&cause) != 0 ||
	    listener_open(warrend_conf, &cause) != 0 ||
	    consume_start(&cause) != 0 || metrics_start(warrend_conf, &cause) != 0)
		fatalx("%s", cause);
	listener_start();
	for (i = 0; signos[i] != 0; i++) {
		sigs[i] = evsignal_new(warrend_base, signos[i],
		    warrend_signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	log_info("warrend %s listening on %s, %zu contracts", PACKAGE_VERSION,
	    listener_from_systemd() ? "the socket passed by systemd" :
	    warrend_conf->socket_path, warrend_conf->contracts.n);
	sdnotify("READY=1");
	warrend_tick_start();
	event_base_dispatch(warrend_base);

	/* A second signal during teardown must not kill us half-way. */
	for (i = 0; signos[i] != 0; i++) {
		event_free(sigs[i]);
		signal(signos[i], SIG_IGN);
	}
	if (warrend_hard_stop != NULL)
		event_free(warrend_hard_stop);
	event_free(warrend_tick);
	listener_close();
	metrics_stop();
	publisher_stop(0);
	publisher_join(1000);
	consumer_stop();
	client_free_all();
	publish_free();
	consume_free();
	event_base_free(warrend_base);
	conf_free(warrend_conf);
	log_info("stopped");
	sdnotify_close();
	return (0);
}
