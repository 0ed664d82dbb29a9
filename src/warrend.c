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
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "listener.h"
#include "log.h"
#include "publisher.h"
#include "consumer.h"
#include "subs.h"
#include "util.h"
#include "warrend.h"

struct conf		*warrend_conf;
struct event_base	*warrend_base;
struct warrend_stats	 warrend_stats;
int			 warrend_stopping;

static const char	*warrend_file = CONF_DEFAULT_FILE;
static struct event	*warrend_hard_stop;

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

	if ((cf = conf_load(warrend_file, &cause)) == NULL) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    cause);
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
	conf_free(warrend_conf);
	warrend_conf = cf;
	log_info("configuration reloaded from %s: %zu contracts",
	    warrend_file, cf->contracts.n);
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

/* Allow enough descriptors for max_clients, within the hard limit. */
static void
warrend_rlimit(int max_clients)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)max_clients + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
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
	if ((warrend_conf = conf_load(warrend_file, &cause)) == NULL) {
		if (test) {
			fprintf(stderr, "warrend: %s\n", cause);
			exit(1);
		}
		fatalx("%s", cause);
	}
	if (test) {
		printf("configuration OK\n");
		conf_free(warrend_conf);
		exit(0);
	}
	signal(SIGPIPE, SIG_IGN);
	warrend_rlimit(warrend_conf->max_clients);
	if ((warrend_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (listener_open(warrend_conf, &cause) != 0)
		fatalx("%s", cause);
	if (client_init(&cause) != 0 ||
	    publisher_start(warrend_conf, client_done_fd(), &cause) != 0 ||
	    subs_start(&cause) != 0)
		fatalx("%s", cause);
	listener_start();
	for (i = 0; signos[i] != 0; i++) {
		sigs[i] = evsignal_new(warrend_base, signos[i],
		    warrend_signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	log_info("warrend %s listening on %s, %zu contracts", PACKAGE_VERSION,
	    warrend_conf->socket_path, warrend_conf->contracts.n);
	event_base_dispatch(warrend_base);

	/* A second signal during teardown must not kill us half-way. */
	for (i = 0; signos[i] != 0; i++) {
		event_free(sigs[i]);
		signal(signos[i], SIG_IGN);
	}
	if (warrend_hard_stop != NULL)
		event_free(warrend_hard_stop);
	listener_close();
	publisher_stop(0);
	publisher_join(1000);
	consumer_stop();
	client_free_all();
	subs_free();
	event_base_free(warrend_base);
	conf_free(warrend_conf);
	log_info("stopped");
	return (0);
}
