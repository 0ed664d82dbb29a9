/* sdnotify.c -- systemd's side channels without libsystemd: the notify
 * datagram ($NOTIFY_SOCKET), the watchdog ($WATCHDOG_USEC) and inherited
 * listening sockets ($LISTEN_FDS, $LISTEN_PID). */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

#define SD_LISTEN_FDS_START 3

static int		  sdnotify_fd = -1;
static struct sockaddr_un sdnotify_addr;
static socklen_t	  sdnotify_addrlen;
static uint64_t		  sdnotify_wd_usec;

/* Is the variable set for this very process (not inherited by mistake)? */
static int
sdnotify_for_us(const char *pidvar)
{
	const char *v = getenv(pidvar);

	return (v == NULL || strtol(v, NULL, 10) == (long)getpid());
}

/* Read $NOTIFY_SOCKET and $WATCHDOG_USEC, then unset them so children do
 * not inherit them. */
void
sdnotify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET"), *wd;
	size_t	    len;

	if ((wd = getenv("WATCHDOG_USEC")) != NULL &&
	    sdnotify_for_us("WATCHDOG_PID"))
		sdnotify_wd_usec = strtoull(wd, NULL, 10);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (path == NULL || (*path != '/' && *path != '@') ||
	    (len = strlen(path)) >= sizeof sdnotify_addr.sun_path) {
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&sdnotify_addr, 0, sizeof sdnotify_addr);
	sdnotify_addr.sun_family = AF_UNIX;
	memcpy(sdnotify_addr.sun_path, path, len);
	if (*path == '@')
		sdnotify_addr.sun_path[0] = '\0'; /* abstract */
	sdnotify_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    len + (*path == '/'));
	sdnotify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (sdnotify_fd == -1)
		log_warn("notify socket");
	unsetenv("NOTIFY_SOCKET");
}

/* Send one state string; a full or missing socket only costs a message. */
void
sdnotify(const char *fmt, ...)
{
	char	msg[512];
	va_list ap;
	int	n;

	if (sdnotify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof msg)
		n = (int)strlen(msg);
	if (sendto(sdnotify_fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
		(struct sockaddr *)&sdnotify_addr, sdnotify_addrlen) == -1)
		log_debug("notify: %s", strerror(errno));
}

/* The watchdog interval in microseconds, 0 when off. */
uint64_t
sdnotify_watchdog_usec(void)
{
	return (sdnotify_wd_usec);
}

/* A listening stream socket passed by systemd for us, or -1. */
int
sdnotify_listen_fd(void)
{
	const char *n = getenv("LISTEN_FDS");
	int	    fd = SD_LISTEN_FDS_START, type = 0, listening = 0;
	socklen_t   len = sizeof type;

	if (n == NULL || getenv("LISTEN_PID") == NULL ||
	    !sdnotify_for_us("LISTEN_PID") || strtol(n, NULL, 10) < 1)
		return (-1);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM)
		fatalx("LISTEN_FDS: descriptor %d is not a stream socket", fd);
	len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 ||
	    !listening)
		fatalx("LISTEN_FDS: descriptor %d is not listening", fd);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		fatal("LISTEN_FDS: fcntl");
	return (fd);
}

/* Close the notify socket. */
void
sdnotify_close(void)
{
	if (sdnotify_fd != -1)
		close(sdnotify_fd);
	sdnotify_fd = -1;
}
