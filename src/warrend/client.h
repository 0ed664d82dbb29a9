/* client.h -- local connections: line framing, replies in request order,
 * backpressure. */
#ifndef WARREN_CLIENT_H
#define WARREN_CLIENT_H

#include <sys/types.h>

#include <stddef.h>

/* Take over a freshly accepted connection. */
void client_accept(int fd);
/* Shutting down: refuse new requests; close every client once answered. */
void client_shutdown(void);
/* The publisher has room again (or exited): paused clients read on. */
void client_publish_room(void);
/* Free every client. */
void client_free_all(void);
/* The number of connected clients. */
int client_count(void);

struct client;
struct json_span;
struct pbuf;
struct preq;
struct consume_client;

/* A reply for the request being handled (taking b's memory): written now
 * if nothing is ahead of it, else when its turn comes. */
void client_reply(struct client *c, struct pbuf *b);
/* The peer's credentials, (uid_t)-1 and (gid_t)-1 if unknown. */
uid_t client_uid(const struct client *c);
gid_t client_gid(const struct client *c);

/* A slot for a reply that comes later, in c's request order. */
struct preq *client_defer(struct client *c, const struct json_span *id);
/* Fill a deferred reply (taking b's memory) and write what is due. */
void client_answer(struct preq *p, struct pbuf *b);
/* Write the replies answered since the last call to their sockets now. */
void client_write_now(void);
/* The raw id of a deferred request, or NULL. */
const char *client_preq_id(const struct preq *p);
size_t	    client_preq_idlen(const struct preq *p);
/* Write a line that is not a reply (a delivery) now. */
void client_send(struct client *c, const char *line, size_t len);
/* Where consume.c keeps its state for c. */
struct consume_client **client_subs(struct client *c);

#endif
