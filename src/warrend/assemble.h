/* assemble.h -- a delivery put together from its frames on one channel:
 * a content-bearing method (basic.deliver), one content header, then body
 * frames adding up to the size the header declared. A broker that breaks
 * that order or those sizes is refused; the caller drops the connection
 * (AMQP 0-9-1 makes these connection errors, 505 UNEXPECTED_FRAME). Pure:
 * no AMQP connection, so unit tests and a fuzzer drive it directly. */
#ifndef WARREN_ASSEMBLE_H
#define WARREN_ASSEMBLE_H

#include <stddef.h>
#include <stdint.h>

enum assemble_state {
	ASSEMBLE_IDLE,	 /* between messages */
	ASSEMBLE_HEADER, /* a method came; its content header is due */
	ASSEMBLE_BODY,	 /* body frames are due */
};

struct assemble {
	enum assemble_state state;
	size_t		    max;  /* larger bodies are counted, not kept */
	uint64_t	    size; /* declared by the content header */
	uint64_t	    got;  /* body bytes so far */
	char		   *body; /* size + 1 bytes; NULL when too large */
};

#define ASSEMBLE_MORE 0 /* wait for more frames */
#define ASSEMBLE_DONE 1 /* the body is whole: assemble_take() it */

/* Start idle; bodies above max bytes are taken as empty. */
void assemble_init(struct assemble *, size_t max);
/* Forget a message half-assembled (the connection went). */
void assemble_reset(struct assemble *);
/* A method frame on the channel; content says it carries a message
 * (basic.deliver). -1 with *cause if a message is still incomplete. */
int assemble_method(struct assemble *, int content, char **cause);
/* The content header: ASSEMBLE_MORE, ASSEMBLE_DONE for an empty body, or
 * -1 with *cause when no method announced it. */
int assemble_header(struct assemble *, uint64_t size, char **cause);
/* A body frame: ASSEMBLE_MORE, ASSEMBLE_DONE, or -1 with *cause when none
 * was due or it runs past the declared size. */
int assemble_body(struct assemble *, const void *p, size_t len, char **cause);
/* After ASSEMBLE_DONE: the body (NUL-terminated, caller frees) and its
 * length; a body above max comes back empty. Back to idle. */
char *assemble_take(struct assemble *, size_t *len);

#endif
