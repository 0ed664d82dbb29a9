/* listener.h -- the Unix socket: create, bind, permissions, accept. */
#ifndef WARREN_LISTENER_H
#define WARREN_LISTENER_H

struct conf;

/* Bind the socket of cf (refusing if another warrend answers there). */
int	listener_open(const struct conf *cf, char **cause);
/* Start accepting; each new connection goes to client_accept. */
void	listener_start(void);
/* Did systemd pass the socket (socket activation)? */
int	listener_from_systemd(void);
/* Stop accepting and remove the socket file. */
void	listener_close(void);

#endif
