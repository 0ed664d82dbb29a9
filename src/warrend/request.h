/* request.h -- what a request line asks for: parse it, check it, do it
 * and build its reply. */
#ifndef WARREN_REQUEST_H
#define WARREN_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct client;
struct pbuf;
struct pub_job;

/* Get ready to handle requests (before the first). */
void request_init(void);
/* Handle one request line of c. */
void request_handle(struct client *c, const char *line, size_t len);
/* Answer a line longer than max_line. */
void request_too_large(struct client *c);
/* Build the reply for a publish the publisher has finished with. */
void request_outcome(struct pbuf *b, const struct pub_job *j, const char *id,
    size_t idlen, uint64_t accepted_ms);
/* Build an error reply line and count it (every error reply is built
 * here, so stats errors and /metrics see them all). */
void request_reply_error(struct pbuf *b, enum proto_op op, const char *id,
    size_t idlen, const char *code, const char *message, const char *field);
/* Build the reply for a publish not confirmed within publish_timeout_ms. */
void request_timed_out(struct pbuf *b, const char *id, size_t idlen);

#endif
