/* listener.c -- the Unix socket: create, bind, permissions, accept. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "listener.h"
#include "log.h"
#include "sdnotify.h"
#include "util.h"
#include "warrend.h"

/* A listening socket whose accept errors pause it instead of spinning. */
struct listener_watch {
	struct evconnlistener *l;
	struct event	      *retry;
	char		      *what; /* for the log */
	listener_accept_fn     fn;
	void		      *arg;
};

static struct listener_watch *listener;
static int		      listener_fd = -1;
static char		     *listener_path;
static ino_t		      listener_ino;
static int		      listener_inherited; /* from systemd */

/* Is someone answering on path? A refused connect means a stale file. */
static int
listener_in_use(const struct sockaddr_un *sun)
{
	int fd, rv;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	rv = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	close(fd);
	return (rv == 0);
}

/* Remove a stale socket file at sun's path; refuse a live one, or a file
 * that is not a socket. */
static int
listener_clear(const struct sockaddr_un *sun, char **cause)
{
	const char *path = sun->sun_path;
	struct stat st;

	if (lstat(path, &st) == -1)
		return (0);
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, "%s exists and is not a socket", path);
		return (-1);
	}
	if (listener_in_use(sun)) {
		xasprintf(cause, "%s: another warrend is listening there",
		    path);
		return (-1);
	}
	if (unlink(path) == -1) {
		xasprintf(cause, "%s: cannot remove stale socket: %s", path,
		    strerror(errno));
		return (-1);
	}
	log_info("removed stale socket %s", path);
	return (0);
}

/* Bind the socket of cf. */
int
listener_open(const struct conf *cf, char **cause)
{
	struct sockaddr_un sun;
	struct stat	   st;
	mode_t		   old;
	int		   fd;

	if ((fd = sdnotify_listen_fd()) != -1) {
		/* Socket activation: systemd made it, with its own mode. */
		listener_fd = fd;
		listener_inherited = 1;
		log_info("using the listening socket passed by systemd");
		return (0);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, cf->socket_path, sizeof sun.sun_path - 1);
	if (listener_clear(&sun, cause) != 0)
		return (-1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		xasprintf(cause, "bind %s: %s", cf->socket_path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	if (chmod(cf->socket_path, cf->socket_mode) == -1 ||
	    (cf->socket_group != NULL &&
		chown(cf->socket_path, (uid_t)-1, cf->socket_gid) == -1) ||
	    listen(fd, 128) == -1 || stat(cf->socket_path, &st) == -1) {
		xasprintf(cause, "%s: %s", cf->socket_path, strerror(errno));
		unlink(cf->socket_path);
		close(fd);
		return (-1);
	}
	listener_fd = fd;
	listener_path = xstrdup(cf->socket_path);
	listener_ino = st.st_ino;
	return (0);
}

/* A new connection: hand it on. */
static void
listener_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener_watch *lw = arg;

	(void)l;
	(void)sa;
	(void)salen;
	lw->fn(fd, lw->arg);
}

/* Resume accepting after running out of descriptors. */
static void
listener_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listener_watch *lw = arg;

	(void)fd;
	(void)events;
	if (!warrend_stopping)
		evconnlistener_enable(lw->l);
}

/* accept() failed: near the fd limit, pause a second instead of spinning
 * (libevent would retry at once and log every failure). */
static void
listener_error_cb(struct evconnlistener *l, void *arg)
{
	struct listener_watch *lw = arg;
	struct timeval	       tv = { 1, 0 };
	int		       error = EVUTIL_SOCKET_ERROR();

	if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
	    error == ENOMEM) {
		log_warnx("%s: accept: %s; pausing for a second", lw->what,
		    strerror(error));
		evconnlistener_disable(l);
		evtimer_add(lw->retry, &tv);
		return;
	}
	log_warnx("%s: accept: %s", lw->what, strerror(error));
}

/* Accept on the listening socket fd (taken over: closed when unwatched),
 * handing each connection to fn. */
struct listener_watch *
listener_watch(int fd, const char *what, listener_accept_fn fn, void *arg)
{
	struct listener_watch *lw = xcalloc(1, sizeof *lw);

	lw->what = xstrdup(what);
	lw->fn = fn;
	lw->arg = arg;
	lw->l = evconnlistener_new(warrend_base, listener_accept_cb, lw,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (lw->l == NULL)
		fatalx("%s: evconnlistener_new failed", what);
	evconnlistener_set_error_cb(lw->l, listener_error_cb);
	lw->retry = evtimer_new(warrend_base, listener_retry_cb, lw);
	return (lw);
}

/* Stop accepting and close the socket. */
void
listener_unwatch(struct listener_watch *lw)
{
	if (lw == NULL)
		return;
	evconnlistener_free(lw->l);
	event_free(lw->retry);
	free(lw->what);
	free(lw);
}

/* A new connection on the Unix socket. */
static void
listener_client_cb(int fd, void *arg)
{
	(void)arg;
	client_accept(fd);
}

/* Start accepting. */
void
listener_start(void)
{
	listener = listener_watch(listener_fd, "socket", listener_client_cb,
	    NULL);
}

/* Did systemd pass the socket (socket activation)? */
int
listener_from_systemd(void)
{
	return (listener_inherited);
}

/* Stop accepting and remove the socket file if it is still ours. */
void
listener_close(void)
{
	struct stat st;

	if (listener != NULL)
		listener_unwatch(listener);
	else if (listener_fd != -1)
		close(listener_fd);
	listener = NULL;
	listener_fd = -1;
	if (!listener_inherited && listener_path != NULL &&
	    stat(listener_path, &st) == 0 && st.st_ino == listener_ino)
		unlink(listener_path);
	free(listener_path);
	listener_path = NULL;
}
