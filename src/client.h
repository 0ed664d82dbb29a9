/* client.h -- local connections: line framing, replies in request order,
 * backpressure. */
#ifndef WARREN_CLIENT_H
#define WARREN_CLIENT_H

/* Set up the loop side of the publisher: its completion eventfd. */
int	client_init(char **cause);
/* The eventfd the publisher thread signals. */
int	client_done_fd(void);
/* Take over a freshly accepted connection. */
void	client_accept(int fd);
/* Shutting down: refuse new requests; close every client once answered. */
void	client_shutdown(void);
/* Free every client and the loop-side state. */
void	client_free_all(void);
/* The number of connected clients. */
int	client_count(void);

#endif
