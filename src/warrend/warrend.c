/* warrend.c -- the warren daemon: options, start-up in dependency order,
 * signals, teardown in reverse. */
#include <sys/resource.h>

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "hops.h"
#include "json.h"
#include "lint.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "publish-partition.h"
#include "publisher.h"
#include "request.h"
#include "sdnotify.h"
#include "spool.h"
#include "stream.h"
#include "consumer.h"
#include "consume.h"
#include "util.h"
#include "warrend.h"

struct conf	  *warrend_conf;
struct event_base *warrend_base;
int		   warrend_stopping;

static const char   *warrend_file = CONF_DEFAULT_FILE;
static struct event *warrend_hard_stop;
static struct event *warrend_tick;
static char	     warrend_status[256];
static uint64_t	     warrend_alive;    /* publisher's, last seen */
static uint64_t	     warrend_alive_ms; /* when it last moved */

/* Print usage and exit. */
static void __attribute__((noreturn)) warrend_usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: warrend [-dhtV] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -d       debug logging\n"
	    "  -h       this help (also --help)\n"
	    "  -t       check the configuration and every contract, then exit\n"
	    "  -V       print the version and exit (also --version)\n",
	    CONF_DEFAULT_FILE);
	exit(status);
}

/* SIGHUP: load the file again; a broken one leaves the old in force. */
static void
warrend_reload(void)
{
	struct conf    *cf;
	char	       *cause;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 +
		(unsigned long long)ts.tv_nsec / 1000);
	if ((cf = conf_load(warrend_file, &cause)) == NULL) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    cause);
		sdnotify("READY=1\nSTATUS=reload failed, old configuration "
			 "kept: %.200s",
		    cause);
		free(cause);
		return;
	}
	if (conf_broker_changed(warrend_conf, cf))
		log_warnx("reload: broker settings changed; they take effect "
			  "when warrend restarts");
	if (strcmp(cf->socket_path, warrend_conf->socket_path) != 0 ||
	    cf->socket_mode != warrend_conf->socket_mode ||
	    (cf->socket_group == NULL) !=
		(warrend_conf->socket_group == NULL) ||
	    (cf->socket_group != NULL &&
		cf->socket_gid != warrend_conf->socket_gid))
		log_warnx("reload: socket settings changed; they take effect "
			  "when warrend restarts");
	if ((cf->metrics_listen == NULL) !=
		(warrend_conf->metrics_listen == NULL) ||
	    (cf->metrics_listen != NULL &&
		strcmp(cf->metrics_listen, warrend_conf->metrics_listen) != 0))
		log_warnx("reload: metrics.listen changed; it takes effect "
			  "when warrend restarts");
	conf_free(warrend_conf);
	warrend_conf = cf;
	publish_partition_set(&cf->contracts);
	consume_reload();
	stream_configure(cf);
	log_info("configuration reloaded from %s: %zu contract%s", warrend_file,
	    cf->contracts.n, PLURAL(cf->contracts.n));
	sdnotify("READY=1");
	warrend_status[0] = '\0'; /* say it again */
}

/* The shutdown took too long: leave the loop anyway. */
static void
warrend_hard_stop_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	log_warnx("shutdown: giving up on %d client%s", client_count(),
	    PLURAL(client_count()));
	event_base_loopexit(warrend_base, NULL);
}

/* SIGTERM/SIGINT: stop accepting, let confirms finish within the bound. */
static void
warrend_stop(int sig)
{
	struct timeval tv;
	int	       ms = warrend_conf->shutdown_timeout_ms + 2000;

	if (warrend_stopping)
		return;
	log_info("%s: shutting down", strsignal(sig));
	sdnotify("STOPPING=1\nSTATUS=shutting down");
	warrend_stopping = 1;
	listener_close();
	publish_submit_flush(); /* what was read before the signal */
	publisher_stop(warrend_conf->shutdown_timeout_ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	warrend_hard_stop = evtimer_new(warrend_base, warrend_hard_stop_cb,
	    NULL);
	evtimer_add(warrend_hard_stop, &tv);
	client_shutdown();
	consumer_stop(); /* after waiting subscribes were answered */
}

/* What warrend is doing, in one line for systemctl status. */
static void
warrend_describe(char *buf, size_t len, const struct publisher_stats *ps)
{
	char spool[64];

	if (!ps->spool_enabled)
		snprintf(spool, sizeof spool, "no spool");
	else if (ps->spool.records == 0)
		snprintf(spool, sizeof spool, "spool empty");
	else
		snprintf(spool, sizeof spool, "spool %llu event%s",
		    (unsigned long long)ps->spool.records,
		    PLURAL(ps->spool.records));
	snprintf(buf, len, "%s %s, %d client%s, %d subscription%s, %s",
	    ps->connected ? (ps->blocked ? "blocked by" : "connected to") :
			    "cannot reach",
	    ps->broker[0] != '\0' ? ps->broker : "the broker", client_count(),
	    PLURAL(client_count()), consume_active(), PLURAL(consume_active()),
	    spool);
}

/* Every second: STATUS= when it changed, and WATCHDOG=1 while the
 * publisher thread shows it is alive (the loop is, since we run). */
static void
warrend_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct publisher_stats ps;
	char		       status[256];
	uint64_t	       now = util_now_ms();

	(void)fd;
	(void)events;
	(void)arg;
	publisher_get_stats(&ps);
	if (ps.alive != warrend_alive) {
		warrend_alive = ps.alive;
		warrend_alive_ms = now;
	}
	if (sdnotify_watchdog_usec() > 0 &&
	    now - warrend_alive_ms <= sdnotify_watchdog_usec() / 2000 + 3000)
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
	struct timeval tv = { 1, 0 };
	uint64_t       wd = sdnotify_watchdog_usec();

	if (wd > 0 && wd / 2 < 1000000) {
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(wd / 2);
	}
	warrend_alive_ms = util_now_ms();
	warrend_tick = event_new(warrend_base, -1, EV_PERSIST, warrend_tick_cb,
	    NULL);
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
	struct rlimit rl;
	rlim_t	      want = (rlim_t)max_clients + 64 +
	    (rlim_t)warrend_conf->metrics_max_clients;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	/* cppcheck-suppress knownConditionTrueFalse ; not if rlim_max < want */
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
		log_warnx("max_clients %d is above the descriptor limit %llu",
		    max_clients, (unsigned long long)rl.rlim_cur);
}

/* getopt_long returned ch ('?' or ':'): name the mistake, show usage. */
static void __attribute__((noreturn)) warrend_bad_option(int ch, char **argv)
{
	if (ch == ':')
		fprintf(stderr, "warrend: option %s needs an argument\n",
		    argv[optind - 1]);
	else if (optopt != 0)
		fprintf(stderr, "warrend: unknown option -%c\n", optopt);
	else
		fprintf(stderr, "warrend: unknown option %s\n",
		    argv[optind - 1]);
	warrend_usage(1);
}

/* Parse the options; return 1 for -t. */
static int
warrend_options(int argc, char **argv, int *debug)
{
	static const struct option opts[] = { { "help", no_argument, NULL,
						  'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };
	int			   ch, test = 0;

	opterr = 0; /* say it as "warrend: ...", whatever argv[0] is */
	while ((ch = getopt_long(argc, argv, ":c:dhtV", opts, NULL)) != -1) {
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
			warrend_bad_option(ch, argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "warrend: unexpected argument: %s\n",
		    argv[optind]);
		warrend_usage(1);
	}
	return (test);
}

/* -t: print a lint finding as a warning; it does not fail the check. */
static void
warrend_lint_cb(const struct lint_finding *lf, void *arg)
{
	char *s;

	(void)arg;
	s = lint_format(lf);
	log_warnx("warning: %s", s);
	free(s);
}

/* -t: check the config, the spool dir and every contract, then exit. */
static void __attribute__((noreturn)) warrend_check(void)
{
	char *cause;

	/* A spool.dir warrend would refuse fails the check too. */
	if (warrend_conf->spool_max_bytes > 0 &&
	    spool_check(warrend_conf->spool_dir, &cause) != 0)
		fatalx("%s", cause);
	printf("configuration OK\n");
	fflush(stdout);
	lint_contracts(&warrend_conf->contracts, warrend_lint_cb, NULL);
	conf_free(warrend_conf);
	exit(0);
}

/*
 * Start the modules in dependency order; warrend_finish is the exact
 * reverse. 1 publisher thread (opens the spool: a bad spool.dir must fail
 * before the socket), 2 consumer thread, 3 publish (watches the
 * publisher's outcomes), 4 listener (makes clients), 5 consume (watches
 * the consumer's messages), 6 metrics.
 */
static void
warrend_start(void)
{
	char *cause;

	stream_configure(warrend_conf);
	publish_partition_set(&warrend_conf->contracts);
	request_init();
	if (publisher_start(warrend_conf, &cause) != 0 ||
	    consumer_start(warrend_conf, &cause) != 0 ||
	    publish_start(&cause) != 0 ||
	    listener_open(warrend_conf, &cause) != 0 ||
	    consume_start(&cause) != 0 ||
	    metrics_start(warrend_conf, &cause) != 0) {
		listener_close(); /* a failed start leaves no socket */
		fatalx("%s", cause);
	}
	listener_start();
}

/* Stop the modules: the reverse of warrend_start, 6 .. 1. */
static void
warrend_finish(void)
{
	if (warrend_hard_stop != NULL)
		event_free(warrend_hard_stop);
	event_free(warrend_tick);
	metrics_stop();
	consume_free();
	listener_close();
	client_free_all(); /* the listener's clients */
	publish_free();
	consumer_stop();
	consumer_join(1000);
	publisher_stop(0);
	publisher_join(1000);
	stream_free(); /* a stuck thread declares from its own copy */
	publish_partition_free();
}

/* Load the config, start the modules, run the loop, stop in reverse. */
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
	json_scratch_init(); /* before any other thread: this one checks */
	/* -t runs as a command (ExecStartPre, ExecReload, a shell): its
	 * refusal is an error-priority line without a time stamp. */
	log_set_tool(test);
	if (!test)
		sdnotify_init();
	if ((warrend_conf = conf_load(warrend_file, &cause)) == NULL)
		fatalx("%s", cause);
	if (test)
		warrend_check();
	signal(SIGPIPE, SIG_IGN);
	hops_init();
	warrend_rlimit(warrend_conf->max_clients);
	if ((warrend_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	warrend_start();
	for (i = 0; signos[i] != 0; i++) {
		sigs[i] = evsignal_new(warrend_base, signos[i],
		    warrend_signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	log_info("warrend %s listening on %s, %zu contract%s", PACKAGE_VERSION,
	    listener_from_systemd() ? "the socket passed by systemd" :
				      warrend_conf->socket_path,
	    warrend_conf->contracts.n, PLURAL(warrend_conf->contracts.n));
	sdnotify("READY=1");
	warrend_tick_start();
	event_base_dispatch(warrend_base);

	/* A second signal during teardown must not kill us half-way. */
	for (i = 0; signos[i] != 0; i++) {
		event_free(sigs[i]);
		signal(signos[i], SIG_IGN);
	}
	warrend_finish();
	hops_report();
	event_base_free(warrend_base);
	conf_free(warrend_conf);
	log_info("stopped");
	sdnotify_close();
	return (0);
}
