/* listener.h -- the Unix socket: create, bind, permissions, accept; and
 * accepting on any listening socket without spinning at the fd limit. */
#ifndef WARREN_LISTENER_H
#define WARREN_LISTENER_H

struct conf;
struct listener_watch;

typedef void (*listener_accept_fn)(int fd, void *arg);

/* Accept on the listening socket fd (closed when unwatched), handing each
 * connection to fn; out of descriptors, it pauses for a second. */
struct listener_watch *listener_watch(int fd, const char *what,
    listener_accept_fn fn, void *arg);
void		       listener_unwatch(struct listener_watch *);

/* Bind the socket of cf (refusing if another warrend answers there). */
int listener_open(const struct conf *cf, char **cause);
/* Start accepting; each new connection goes to client_accept. */
void listener_start(void);
/* Did systemd pass the socket (socket activation)? */
int listener_from_systemd(void);
/* Stop accepting and remove the socket file. */
void listener_close(void);

#endif
