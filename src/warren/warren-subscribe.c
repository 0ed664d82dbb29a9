/* warren-subscribe.c -- "warren subscribe": each delivery is written to
 * stdout, or given to a command on its stdin, and acked only once that is
 * done; what is not acked when we go, warrend hands out again. */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "stream-from.h"
#include "util.h"
#include "warren.h"

struct warren_sub {
	struct warren_conn *c;
	const char	   *event;
	const char	   *exec;     /* --exec, or NULL */
	const char	   *from;     /* --from, or NULL: the service queue */
	int		    requeue;  /* --requeue: nack with requeue */
	long		    retry_in; /* --retry-in ms: nack to retry, or 0 */
};

/* Queue a request line and write it out, waiting for room if need be. */
static void
warren_subscribe_send(struct warren_conn *c, const char *line)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

	pbuf_adds(&c->out, line);
	warren_conn_flush(c);
	while (warren_conn_pending(c) > 0 && c->werr == 0) {
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			err(WARREN_EXIT_TROUBLE, "poll");
		warren_conn_flush(c);
	}
	if (c->werr != 0)
		warren_conn_lost(c, 0);
}

/* Write all of buf to fd; a reader that went away is not our problem. */
static void
warren_subscribe_write(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Set WARREN_ATTEMPT from the delivery's "attempt" (1 without one). */
static void
warren_subscribe_env_attempt(const cJSON *d)
{
	const cJSON *a = cJSON_GetObjectItem(d, "attempt");
	char	     num[32];

	snprintf(num, sizeof num, "%.0f",
	    cJSON_IsNumber(a) && a->valuedouble >= 1 && a->valuedouble < 1e15 ?
		a->valuedouble :
		1.0);
	setenv("WARREN_ATTEMPT", num, 1);
}

/* Set WARREN_OFFSET from a replay's delivery d (unset it otherwise). */
static void
warren_subscribe_env_offset(const cJSON *d)
{
	const cJSON *o = cJSON_GetObjectItem(d, "offset");
	char	     num[32];

	if (cJSON_IsNumber(o)) {
		snprintf(num, sizeof num, "%.0f", o->valuedouble);
		setenv("WARREN_OFFSET", num, 1);
	} else
		unsetenv("WARREN_OFFSET");
}

/* WARREN_PARTITION: the partition of a partitioned event's delivery,
 * unset for any other. */
static void
warren_subscribe_partition_env(const cJSON *d)
{
	const cJSON *p = cJSON_GetObjectItem(d, "partition");
	char	     num[32];

	if (!cJSON_IsNumber(p)) {
		unsetenv("WARREN_PARTITION");
		return;
	}
	snprintf(num, sizeof num, "%d", p->valueint);
	setenv("WARREN_PARTITION", num, 1);
}

/* Set WARREN_* for the command from the delivery d. */
static void
warren_subscribe_env(const cJSON *d)
{
	static const char *keys[][2] = { { "event", "WARREN_EVENT" },
		{ "message_id", "WARREN_MESSAGE_ID" },
		{ "routing_key", "WARREN_ROUTING_KEY" },
		{ "traceparent", "TRACEPARENT" },
		{ "tracestate", "TRACESTATE" } };
	const char	  *v;
	size_t		   i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		/* Never let a value of our own environment pass for this
		 * delivery's. */
		if ((v = warren_reply_str(d, keys[i][0])) != NULL)
			setenv(keys[i][1], v, 1);
		else
			unsetenv(keys[i][1]);
	}
	setenv("WARREN_REDELIVERED",
	    cJSON_IsTrue(cJSON_GetObjectItem(d, "redelivered")) ? "1" : "0", 1);
	warren_subscribe_env_attempt(d);
	warren_subscribe_env_offset(d);
	warren_subscribe_partition_env(d);
}

/*
 * The command could not do its job at all: the shell did not find it (127)
 * or could not run it (126), or a signal killed it (128+N is how the shell
 * reports that). Every delivery would fail the same way, so stop here
 * without settling this one: warrend puts it back in the queue.
 */
static void __attribute__((noreturn))
warren_subscribe_broken(const char *cmd, int status)
{
	if (WIFSIGNALED(status))
		errx(WARREN_EXIT_TROUBLE,
		    "--exec %s: killed by signal %d "
		    "(%s); stopping, the event stays in the queue",
		    cmd, WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) > 128)
		errx(WARREN_EXIT_TROUBLE,
		    "--exec %s: exit status %d (killed "
		    "by signal %d); stopping, the event stays in the queue",
		    cmd, WEXITSTATUS(status), WEXITSTATUS(status) - 128);
	errx(WARREN_EXIT_TROUBLE,
	    "--exec %s: %s (exit status %d); stopping, "
	    "the event stays in the queue",
	    cmd,
	    WEXITSTATUS(status) == 127 ? "command not found" :
					 "command cannot be run",
	    WEXITSTATUS(status));
}

/* Run the command with data on its stdin; 1 if it exited 0, 0 for
 * another failure; one that could not run is fatal (_broken above). */
static int
warren_subscribe_exec(const char *cmd, const cJSON *d, const char *data,
    size_t len)
{
	pid_t pid;
	int   p[2], status;

	if (pipe(p) == -1)
		err(WARREN_EXIT_TROUBLE, "pipe");
	if ((pid = fork()) == -1)
		err(WARREN_EXIT_TROUBLE, "fork");
	if (pid == 0) {
		close(p[1]);
		if (dup2(p[0], STDIN_FILENO) == -1)
			_exit(126);
		close(p[0]);
		warren_subscribe_env(d);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	warren_subscribe_write(p[1], data, len);
	warren_subscribe_write(p[1], "\n", 1);
	close(p[1]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			err(WARREN_EXIT_TROUBLE, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 126 ||
	    WEXITSTATUS(status) == 127 ||
	    (WEXITSTATUS(status) > 128 && WEXITSTATUS(status) - 128 < NSIG))
		warren_subscribe_broken(cmd, status);
	return (WEXITSTATUS(status) == 0);
}

/* Handle one delivery: print it or run the command, then settle it. */
static void
warren_subscribe_deliver(struct warren_sub *s, const cJSON *d, const char *line,
    size_t len)
{
	struct json_capture data = { "data", { NULL, 0 } };
	const cJSON	   *tag = cJSON_GetObjectItem(d, "tag");
	char		   *cause, req[128];
	int		    done;

	if (!cJSON_IsNumber(tag))
		errx(WARREN_EXIT_TROUBLE, "a delivery without a tag: %.*s",
		    len > 200 ? 200 : (int)len, line);
	if (s->exec == NULL) {
		if (fwrite(line, 1, len, stdout) != len ||
		    putchar('\n') == EOF || fflush(stdout) == EOF)
			exit(ferror(stdout) && errno == EPIPE ?
				0 :
				WARREN_EXIT_TROUBLE); /* not acked: redelivered */
		done = 1;
	} else {
		if (json_check(line, len, &data, 1, &cause) != 0)
			errx(WARREN_EXIT_TROUBLE, "bad delivery: %s", cause);
		done = warren_subscribe_exec(s->exec, d, data.span.ptr,
		    data.span.len);
	}
	if (done)
		snprintf(req, sizeof req, "{\"op\":\"ack\",\"tag\":%.0f}\n",
		    tag->valuedouble);
	else if (s->retry_in > 0)
		snprintf(req, sizeof req,
		    "{\"op\":\"nack\",\"tag\":%.0f,\"retry_in_ms\":%ld}\n",
		    tag->valuedouble, s->retry_in);
	else
		snprintf(req, sizeof req,
		    "{\"op\":\"nack\",\"tag\":%.0f,"
		    "\"requeue\":%s}\n",
		    tag->valuedouble, s->requeue ? "true" : "false");
	warren_subscribe_send(s->c, req);
}

/* Handle a line from warrend: a delivery, the subscribe reply, or the
 * refusal of an ack. */
static void
warren_subscribe_line(struct warren_sub *s, const char *line, size_t len)
{
	cJSON	   *r = cJSON_ParseWithLength(line, len);
	const char *op;
	char	   *msg;

	if (r == NULL)
		errx(WARREN_EXIT_TROUBLE, "unexpected line from warrend: %.*s",
		    len > 200 ? 200 : (int)len, line);
	op = warren_reply_str(r, "op");
	if (op != NULL && strcmp(op, "deliver") == 0)
		warren_subscribe_deliver(s, r, line, len);
	else if (cJSON_IsFalse(cJSON_GetObjectItem(r, "ok"))) {
		msg = warren_reply_error(r);
		if (op != NULL && strcmp(op, "subscribe") == 0)
			errx(WARREN_EXIT_REFUSED, "%s", msg);
		warnx("%s", msg);
		free(msg);
	}
	cJSON_Delete(r);
}

/* Is a --from value an offset (digits only)? */
static int
warren_subscribe_is_offset(const char *s)
{
	return (*s != '\0' && strspn(s, "0123456789") == strlen(s));
}

/* Subscribe and handle deliveries until warrend goes or we are killed. */
static int
warren_subscribe_loop(struct warren_sub *s)
{
	struct warren_conn *c = s->c;
	struct pollfd	    pfd = { .fd = c->fd, .events = POLLIN };
	struct pbuf	    req = { NULL, 0, 0 };
	char		   *line;
	size_t		    len;

	pbuf_adds(&req, "{\"op\":\"subscribe\",\"id\":1,\"event\":");
	pbuf_add_quoted(&req, s->event);
	if (s->from != NULL) {
		pbuf_adds(&req, ",\"from\":");
		if (warren_subscribe_is_offset(s->from))
			pbuf_adds(&req, s->from);
		else
			pbuf_add_quoted(&req, s->from);
	}
	pbuf_adds(&req, "}\n");
	warren_subscribe_send(c, req.p);
	pbuf_free(&req);
	for (;;) {
		while ((line = warren_buf_line(&c->in, &len)) != NULL)
			warren_subscribe_line(s, line, len);
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			err(WARREN_EXIT_TROUBLE, "poll");
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    warren_conn_read(c))
			warren_conn_lost(c, 0);
	}
}

/* Read --retry-in: milliseconds, 1 to a day. */
static long
warren_subscribe_retry_in(const char *prog, const char *arg)
{
	char *end;
	long  v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 1 || v > 86400000)
		warren_usage_error(prog,
		    "--retry-in takes milliseconds, 1 to 86400000: %s", arg);
	return (v);
}

/* Check a --from value as warrend will, for a usage error up front. */
static void
warren_subscribe_check_from(const char *prog, const char *from)
{
	struct stream_from f;
	cJSON		  *v;
	char		  *message;

	if (warren_subscribe_is_offset(from))
		v = cJSON_CreateNumber(strtod(from, NULL));
	else
		v = cJSON_CreateString(from);
	if (stream_from_parse(v, &f, &message) != 0)
		warren_usage_error(prog, "--from %s: %s", from, message);
	cJSON_Delete(v);
}

/* warren subscribe [--exec cmd] [--requeue | --retry-in ms] [--from where]
 * event. */
int
warren_subscribe_run(const char *path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "exec", required_argument, NULL, 'e' },
		{ "requeue", no_argument, NULL, 'r' },
		{ "retry-in", required_argument, NULL, 'R' },
		{ "from", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 }
	};
	struct warren_conn c;
	struct warren_sub  s = { .c = &c };
	int		   ch;

	optind = 1;
	while ((ch = warren_getopt(argc, argv, "e:rR:f:", opts)) != -1) {
		if (ch == 'e')
			s.exec = optarg;
		else if (ch == 'R')
			s.retry_in = warren_subscribe_retry_in(argv[0], optarg);
		else if (ch == 'f') {
			warren_subscribe_check_from(argv[0], optarg);
			s.from = optarg;
		} else
			s.requeue = 1;
	}
	if (s.requeue && s.retry_in > 0)
		warren_usage_error(argv[0],
		    "--requeue and --retry-in exclude each other");
	if (argc - optind < 1)
		warren_usage_error(argv[0], "missing the event name");
	if (argc - optind > 1)
		warren_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind + 1]);
	s.event = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	warren_conn_open(&c, path);
	return (warren_subscribe_loop(&s));
}
