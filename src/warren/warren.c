/* warren.c -- the command-line client: ping, stats, contracts and publish
 * over warrend's socket. See warren(1) and warren-protocol(7). */
#include <sys/socket.h>
#include <sys/un.h>

#include <cjson/cJSON.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "json.h"
#include "log.h"
#include "proto.h"
#include "util.h"
#include "warren.h"

/* publish from stdin: the line numbers of unanswered requests, in order. */
struct warren_stream {
	struct warren_conn *conn;
	const char	   *event;
	const char	   *trace; /* members for every publish, or "" */
	struct warren_buf   in;
	int		    eof;
	unsigned long long  lineno;
	unsigned long long  ring[WARREN_MAX_UNANSWERED];
	size_t		    head;
	size_t		    n;
	int		    refused;
};

/* Read once from fd into b, growing it; return what read(2) returns. */
ssize_t
warren_buf_read(struct warren_buf *b, int fd)
{
	ssize_t n;

	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->scan -= b->off;
		b->off = 0;
	}
	if (b->size - b->len < WARREN_READ_SIZE) {
		if (b->size == 0)
			b->size = WARREN_READ_SIZE;
		while (b->size - b->len < WARREN_READ_SIZE)
			b->size *= 2;
		b->p = xreallocarray(b->p, 1, b->size);
	}
	n = read(fd, b->p + b->len, b->size - b->len);
	if (n > 0)
		b->len += (size_t)n;
	return (n);
}

/* Take the next whole line from b, without its newline; NULL if none yet. */
char *
warren_buf_line(struct warren_buf *b, size_t *len)
{
	char *line, *nl;

	if (b->scan < b->off)
		b->scan = b->off;
	if (b->scan >= b->len)
		return (NULL);
	if ((nl = memchr(b->p + b->scan, '\n', b->len - b->scan)) == NULL) {
		b->scan = b->len;
		return (NULL);
	}
	line = b->p + b->off;
	*len = (size_t)(nl - line);
	b->off = b->scan = (size_t)(nl - b->p) + 1;
	return (line);
}

/* The socket: -s, else the config's socket.path, else $WARREN_SOCKET,
 * else the default. */
static char *
warren_socket_path(const char *sflag, const char *cflag)
{
	struct conf *cf;
	const char  *env;
	char	    *cause, *path;

	if (sflag != NULL)
		return (xstrdup(sflag));
	if (cflag != NULL) {
		if ((cf = conf_load(cflag, &cause)) == NULL)
			errx(WARREN_EXIT_TROUBLE, "%s", cause);
		path = xstrdup(cf->socket_path);
		conf_free(cf);
		return (path);
	}
	if ((env = getenv("WARREN_SOCKET")) != NULL && *env != '\0')
		return (xstrdup(env));
	return (xstrdup(WARREN_SOCKET));
}

/* Connect to warrend's socket, or exit saying why not. */
void
warren_conn_open(struct warren_conn *c, const char *path)
{
	struct sockaddr_un sun;
	int		   fd, saved;

	memset(c, 0, sizeof *c);
	c->path = path;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		errx(WARREN_EXIT_TROUBLE, "socket path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(WARREN_EXIT_TROUBLE, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		errx(WARREN_EXIT_TROUBLE, "cannot connect to %s: %s%s", path,
		    strerror(saved),
		    saved == ENOENT || saved == ECONNREFUSED ?
			" (is warrend running?)" :
			"");
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		err(WARREN_EXIT_TROUBLE, "fcntl");
	c->fd = fd;
}

/* Bytes queued for warrend and not yet written. */
size_t
warren_conn_pending(const struct warren_conn *c)
{
	return (c->out.len - c->outoff);
}

/* Write what the socket takes now. After a failed write, stop writing:
 * what warrend already answered can still be read. */
void
warren_conn_flush(struct warren_conn *c)
{
	ssize_t n;

	while (c->werr == 0 && c->outoff < c->out.len) {
		n = send(c->fd, c->out.p + c->outoff, c->out.len - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1)
			c->werr = errno;
		else
			c->outoff += (size_t)n;
	}
	if (c->werr != 0 || c->outoff == c->out.len) {
		c->out.len = c->outoff = 0;
		return;
	}
	if (c->outoff >= c->out.len / 2) {
		memmove(c->out.p, c->out.p + c->outoff, c->out.len - c->outoff);
		c->out.len -= c->outoff;
		c->outoff = 0;
	}
}

/* warrend hung up: say so and how many requests it left unanswered. */
void __attribute__((noreturn))
warren_conn_lost(const struct warren_conn *c, size_t unanswered)
{
	if (c->werr != 0)
		errx(WARREN_EXIT_TROUBLE,
		    "lost the connection to %s: %s "
		    "(%zu request%s unanswered)",
		    c->path, strerror(c->werr), unanswered, PLURAL(unanswered));
	errx(WARREN_EXIT_TROUBLE,
	    "warrend closed the connection "
	    "(%zu request%s unanswered)",
	    unanswered, PLURAL(unanswered));
}

/* Read what warrend sent: 1 if it hung up (or the read failed), else 0. */
int
warren_conn_read(struct warren_conn *c)
{
	ssize_t n;

	n = warren_buf_read(&c->in, c->fd);
	if (n == -1 && errno != EINTR && errno != EAGAIN &&
	    errno != EWOULDBLOCK) {
		if (c->werr == 0)
			c->werr = errno;
		return (1);
	}
	return (n == 0);
}

/* Parse one reply line; a line that is not a reply is fatal. */
static cJSON *
warren_reply_parse(const char *line, size_t len)
{
	cJSON	    *r;
	const cJSON *code, *msg;
	char	     why[256];

	r = cJSON_ParseWithLength(line, len);
	if (r == NULL || !cJSON_IsObject(r) ||
	    !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
		cJSON_Delete(r);
		errx(WARREN_EXIT_TROUBLE,
		    "unexpected reply from warrend: "
		    "%.*s",
		    len > 200 ? 200 : (int)len, line);
	}
	code = cJSON_GetObjectItemCaseSensitive(r, "error");
	msg = cJSON_GetObjectItemCaseSensitive(r, "message");
	if (cJSON_IsString(code) &&
	    strcmp(code->valuestring, "too_many_clients") == 0) {
		snprintf(why, sizeof why, "%s",
		    cJSON_IsString(msg) ? msg->valuestring :
					  "too many clients");
		cJSON_Delete(r); /* exit frees it, but say so to LSan */
		errx(WARREN_EXIT_TROUBLE, "warrend refused the connection: %s",
		    why);
	}
	return (r);
}

/* Wait for the reply to the one request queued on c. */
cJSON *
warren_conn_reply(struct warren_conn *c, int timeout)
{
	struct pollfd pfd;
	char	     *line;
	size_t	      len;
	int	      n, lost = 0;

	for (;;) {
		if ((line = warren_buf_line(&c->in, &len)) != NULL)
			return (warren_reply_parse(line, len));
		if (lost)
			warren_conn_lost(c, 1);
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (warren_conn_pending(c) > 0)
			pfd.events |= POLLOUT;
		n = poll(&pfd, 1, timeout < 0 ? -1 : timeout * 1000);
		if (n == -1 && errno != EINTR)
			err(WARREN_EXIT_TROUBLE, "poll");
		if (n == 0)
			errx(WARREN_EXIT_TROUBLE,
			    "no reply from warrend within "
			    "%d seconds",
			    timeout);
		if (n > 0 && (pfd.revents & POLLOUT))
			warren_conn_flush(c);
		if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			lost = warren_conn_read(c);
	}
}

/* A string member of r, or NULL. */
const char *
warren_reply_str(const cJSON *r, const char *key)
{
	const cJSON *v;

	v = cJSON_GetObjectItemCaseSensitive(r, key);
	return (cJSON_IsString(v) ? v->valuestring : NULL);
}

/* Describe a refusal as "CODE: message (field F)"; the caller frees it. */
char *
warren_reply_error(const cJSON *r)
{
	const char *code, *msg, *field;
	char	   *s;

	if ((code = warren_reply_str(r, "error")) == NULL)
		code = "error";
	if ((msg = warren_reply_str(r, "message")) == NULL)
		msg = "(no message)";
	if ((field = warren_reply_str(r, "field")) != NULL)
		xasprintf(&s, "%s: %s (field %s)", code, msg, field);
	else
		xasprintf(&s, "%s: %s", code, msg);
	return (s);
}

/* Print a refusal as "warren: CODE: message" and give the exit status. */
int
warren_refused(const cJSON *r)
{
	char *s;

	s = warren_reply_error(r);
	warnx("%s", s);
	free(s);
	return (WARREN_EXIT_REFUSED);
}

/* ping: print "ok" when warrend answers. */
static int
warren_cmd_ping(struct warren_conn *c)
{
	cJSON *r;
	int    status = 0;

	pbuf_adds(&c->out, "{\"op\":\"ping\"}\n");
	r = warren_conn_reply(c, WARREN_QUERY_TIMEOUT);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")))
		puts("ok");
	else
		status = warren_refused(r);
	cJSON_Delete(r);
	return (status);
}

/* stats or contracts: pretty-print the reply's member named after op. */
static int
warren_cmd_show(struct warren_conn *c, const char *op)
{
	cJSON	    *r;
	const cJSON *v;
	int	     status = 0;

	pbuf_adds(&c->out, "{\"op\":");
	pbuf_add_quoted(&c->out, op);
	pbuf_adds(&c->out, "}\n");
	r = warren_conn_reply(c, WARREN_QUERY_TIMEOUT);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")))
		status = warren_refused(r);
	else {
		v = cJSON_GetObjectItemCaseSensitive(r, op);
		if (v == NULL)
			errx(WARREN_EXIT_TROUBLE, "reply has no \"%s\"", op);
		warren_json_print(v);
	}
	cJSON_Delete(r);
	return (status);
}

/* Queue {"op":"publish","id":ID,"event":EVENT,...,"data":DATA}, where
 * trace holds more members (",\"traceparent\":..." or ""): data goes byte
 * for byte, so no number loses a digit. */
static void
warren_publish_request(struct pbuf *b, unsigned long long id, const char *event,
    const char *trace, const char *data, size_t len)
{
	char num[32];

	snprintf(num, sizeof num, "%llu", id);
	pbuf_adds(b, "{\"op\":\"publish\",\"id\":");
	pbuf_adds(b, num);
	pbuf_adds(b, ",\"event\":");
	pbuf_add_quoted(b, event);
	pbuf_adds(b, trace);
	pbuf_adds(b, ",\"data\":");
	pbuf_add(b, data, len);
	pbuf_adds(b, "}\n");
}

/* Print an accepted publish: its message_id, marked when spooled or
 * unroutable. */
static void
warren_publish_print(const cJSON *r)
{
	const char *mid;
	int	    spooled, unrouted;

	if ((mid = warren_reply_str(r, "message_id")) == NULL)
		mid = "-";
	spooled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "spooled"));
	unrouted = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "routed"));
	printf("%s%s%s\n", mid, spooled ? " (spooled)" : "",
	    unrouted ? " (unroutable)" : "");
}

/* publish EVENT JSON: one event, checked here before it is sent. */
static int
warren_cmd_publish(struct warren_conn *c, const char *event, const char *trace,
    const char *json)
{
	cJSON *r;
	char  *cause, *data, *p;
	size_t len = strlen(json);
	int    status = 0;

	if (json_check(json, len, NULL, 0, &cause) != 0) {
		warnx("bad_json: %s", cause);
		free(cause);
		return (WARREN_EXIT_REFUSED);
	}
	/* A checked object has newlines only between tokens: blank them. */
	data = xstrdup(json);
	for (p = data; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	warren_publish_request(&c->out, 1, event, trace, data, len);
	free(data);
	r = warren_conn_reply(c, -1);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")))
		warren_publish_print(r);
	else
		status = warren_refused(r);
	cJSON_Delete(r);
	return (status);
}

/* Is the line only JSON whitespace? */
static int
warren_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return (0);
	}
	return (1);
}

/* Check one stdin line and queue it, remembering its line number. */
static void
warren_stream_line(struct warren_stream *s, const char *line, size_t len)
{
	char *cause;

	s->lineno++;
	if (warren_blank(line, len))
		return;
	if (json_check(line, len, NULL, 0, &cause) != 0) {
		fflush(stdout);
		fprintf(stderr, "warren: line %llu: bad_json: %s\n", s->lineno,
		    cause);
		free(cause);
		s->refused = 1;
		return;
	}
	warren_publish_request(&s->conn->out, s->lineno, s->event, s->trace,
	    line, len);
	s->ring[(s->head + s->n) % WARREN_MAX_UNANSWERED] = s->lineno;
	s->n++;
}

/* May another request be queued now? */
static int
warren_stream_room(const struct warren_stream *s)
{
	return (s->conn->werr == 0 && s->n < WARREN_MAX_UNANSWERED &&
	    warren_conn_pending(s->conn) < WARREN_MAX_QUEUED);
}

/* Queue buffered stdin lines while there is room, then write. */
static void
warren_stream_lines(struct warren_stream *s)
{
	struct warren_buf *b = &s->in;
	char		  *line;
	size_t		   len;

	while (warren_stream_room(s)) {
		if ((line = warren_buf_line(b, &len)) == NULL) {
			/* The last line may lack its newline. */
			if (!s->eof || b->off == b->len)
				break;
			line = b->p + b->off;
			len = b->len - b->off;
			b->off = b->scan = b->len;
		}
		warren_stream_line(s, line, len);
	}
	warren_conn_flush(s->conn);
}

/* Match one reply to the oldest unanswered line and report it. */
static void
warren_stream_reply(struct warren_stream *s, const char *line, size_t len)
{
	cJSON		  *r;
	char		  *msg;
	unsigned long long lineno;

	r = warren_reply_parse(line, len);
	if (s->n == 0)
		errx(WARREN_EXIT_TROUBLE,
		    "unexpected reply from warrend: "
		    "%.*s",
		    len > 200 ? 200 : (int)len, line);
	lineno = s->ring[s->head];
	s->head = (s->head + 1) % WARREN_MAX_UNANSWERED;
	s->n--;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")))
		warren_publish_print(r);
	else {
		msg = warren_reply_error(r);
		fflush(stdout);
		fprintf(stderr, "warren: line %llu: %s\n", lineno, msg);
		free(msg);
		s->refused = 1;
	}
	cJSON_Delete(r);
}

/* Read replies from warrend and report every whole one. */
static void
warren_stream_replies(struct warren_stream *s)
{
	struct warren_conn *c = s->conn;
	char		   *line;
	size_t		    len;
	int		    lost;

	lost = warren_conn_read(c);
	while ((line = warren_buf_line(&c->in, &len)) != NULL)
		warren_stream_reply(s, line, len);
	fflush(stdout);
	if (lost)
		warren_conn_lost(c, s->n);
}

/* Read more of stdin. */
static void
warren_stream_stdin(struct warren_stream *s)
{
	ssize_t n;

	n = warren_buf_read(&s->in, STDIN_FILENO);
	if (n == 0)
		s->eof = 1;
	else if (n == -1 && errno != EINTR && errno != EAGAIN &&
	    errno != EWOULDBLOCK)
		err(WARREN_EXIT_TROUBLE, "stdin");
}

/* Wait for the socket or stdin and deal with whichever is ready. Stdin is
 * read only while there is room in flight, so memory stays bounded. */
static void
warren_stream_poll(struct warren_stream *s)
{
	struct warren_conn *c = s->conn;
	struct pollfd	    pfd[2];
	nfds_t		    nfds = 1;

	memset(pfd, 0, sizeof pfd);
	pfd[0].fd = c->fd;
	pfd[0].events = POLLIN;
	if (warren_conn_pending(c) > 0)
		pfd[0].events |= POLLOUT;
	if (!s->eof && warren_stream_room(s)) {
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		nfds = 2;
	}
	if (poll(pfd, nfds, -1) == -1) {
		if (errno == EINTR)
			return;
		err(WARREN_EXIT_TROUBLE, "poll");
	}
	if (pfd[0].revents & POLLOUT)
		warren_conn_flush(c);
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		warren_stream_replies(s);
	if (nfds == 2 && pfd[1].revents != 0)
		warren_stream_stdin(s);
}

/* publish EVENT with no JSON: one object per stdin line, pipelined, the
 * line number as id. */
static int
warren_cmd_stream(struct warren_conn *c, const char *event, const char *trace)
{
	struct warren_stream s;

	memset(&s, 0, sizeof s);
	s.conn = c;
	s.event = event;
	s.trace = trace;
	for (;;) {
		warren_stream_lines(&s);
		if (s.eof && s.n == 0 && s.in.off == s.in.len)
			break;
		warren_stream_poll(&s);
	}
	free(s.in.p);
	if (fflush(stdout) != 0)
		err(WARREN_EXIT_TROUBLE, "stdout");
	return (s.refused ? WARREN_EXIT_REFUSED : 0);
}

/* Parse a command without options but --help, and check it has from
 * min to max arguments after its name. */
static void
warren_args(int argc, char **argv, int min, int max, const char *what)
{
	optind = 1;
	while (warren_getopt(argc, argv, "", NULL) != -1)
		;
	if (argc - optind < min)
		warren_usage_error(argv[0], "missing %s", what);
	if (argc - optind > max)
		warren_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind + max]);
}

/* publish [--traceparent tp] [--tracestate ts] event [json]: the trace
 * context as request members for warrend to check, into trace. */
static void
warren_publish_args(int argc, char **argv, struct pbuf *trace)
{
	static const struct option opts[] = {
		{ "traceparent", required_argument, NULL, 'p' },
		{ "tracestate", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	pbuf_adds(trace, "");
	optind = 1;
	while ((ch = warren_getopt(argc, argv, "", opts)) != -1) {
		pbuf_adds(trace,
		    ch == 'p' ? ",\"traceparent\":" : ",\"tracestate\":");
		pbuf_add_quoted(trace, optarg);
	}
	if (argc - optind < 1)
		warren_usage_error(argv[0], "missing the event name");
	if (argc - optind > 2)
		warren_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind + 2]);
}

/* contracts [--json-schema NAME]: 1 and *name set for the JSON Schema
 * (read from the config), 0 for the contracts warrend has in force. */
static int
warren_contracts_args(int argc, char **argv, const char **name)
{
	static const struct option opts[] = {
		{ "json-schema", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	*name = NULL;
	optind = 1;
	while ((ch = warren_getopt(argc, argv, "", opts)) != -1)
		*name = optarg;
	if (optind != argc)
		warren_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind]);
	return (*name != NULL);
}

/* Check the command's arguments (before connecting), then run it. */
static int
warren_run(const char *path, int argc, char **argv)
{
	struct warren_conn c;
	struct pbuf	   trace = { NULL, 0, 0 };
	const char	  *cmd = argv[0];
	int		   status;

	if (strcmp(cmd, "publish") == 0) {
		warren_publish_args(argc, argv, &trace);
		argc -= optind - 1;
		argv += optind - 1;
	} else
		warren_args(argc, argv, 0, 0, "");
	warren_conn_open(&c, path);
	if (strcmp(cmd, "ping") == 0)
		status = warren_cmd_ping(&c);
	else if (strcmp(cmd, "publish") != 0)
		status = warren_cmd_show(&c, cmd);
	else if (argc == 3)
		status = warren_cmd_publish(&c, argv[1], trace.p, argv[2]);
	else
		status = warren_cmd_stream(&c, argv[1], trace.p);
	pbuf_free(&trace);
	close(c.fd);
	free(c.in.p);
	pbuf_free(&c.out);
	return (status);
}

/* Run the command argv[0], which needs no warrend or finds it itself;
 * return -1 for one that talks to warrend's socket (warren_run). */
static int
warren_local(const char *sflag, const char *cflag, int argc, char **argv)
{
	const char *name;

	if (strcmp(argv[0], "lint") == 0)
		return (warren_lint_run(cflag, argc, argv));
	if (strcmp(argv[0], "compat") == 0)
		return (warren_compat_run(argc, argv));
	if (strcmp(argv[0], "subscribe") == 0)
		return (warren_subscribe_run(warren_socket_path(sflag, cflag),
		    argc, argv));
	if (strcmp(argv[0], "asyncapi") == 0) {
		warren_args(argc, argv, 0, 0, "");
		return (warren_schema_run(cflag, NULL));
	}
	if (strcmp(argv[0], "contracts") == 0 &&
	    warren_contracts_args(argc, argv, &name))
		return (warren_schema_run(cflag, name));
	return (-1);
}

/* Parse options, find the socket, run the command. */
int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL,
						  'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };
	const char		  *sflag = NULL, *cflag = NULL;
	char			  *path;
	int			   ch, status;

	log_init("warren", 0);
	log_set_tool(1);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:hs:V", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cflag = optarg;
			break;
		case 'h':
			warren_usage();
		case 's':
			sflag = optarg;
			break;
		case 'V':
			printf("warren %s\n", PACKAGE_VERSION);
			return (0);
		case ':':
			warren_usage_error(NULL, "option %s needs an argument",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				warren_usage_error(NULL, "unknown option -%c",
				    optopt);
			warren_usage_error(NULL, "unknown option %s",
			    argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		warren_usage_error(NULL, "no command given");
	if (warren_cmd_find(argv[0]) == NULL)
		warren_usage_error(NULL, "unknown command: %s", argv[0]);
	if ((status = warren_local(sflag, cflag, argc, argv)) != -1)
		return (status);
	path = warren_socket_path(sflag, cflag);
	status = warren_run(path, argc, argv);
	free(path);
	if (fflush(stdout) != 0)
		err(WARREN_EXIT_TROUBLE, "stdout");
	return (status);
}
