/* assemble.c -- a delivery put together from its frames, trusting none of
 * the sizes a broker sends. */
#include <stdlib.h>
#include <string.h>

#include "assemble.h"
#include "util.h"

/* Start idle; bodies above max bytes are taken as empty. */
void
assemble_init(struct assemble *a, size_t max)
{
	memset(a, 0, sizeof *a);
	a->max = max;
}

/* Forget a message half-assembled. */
void
assemble_reset(struct assemble *a)
{
	free(a->body);
	assemble_init(a, a->max);
}

/* A method frame on the channel. */
int
assemble_method(struct assemble *a, int content, char **cause)
{
	if (a->state == ASSEMBLE_HEADER) {
		xasprintf(cause,
		    "a method frame where a content header was "
		    "due");
		return (-1);
	}
	if (a->state == ASSEMBLE_BODY) {
		xasprintf(cause, "a method frame after %llu of %llu body bytes",
		    (unsigned long long)a->got, (unsigned long long)a->size);
		return (-1);
	}
	if (content)
		a->state = ASSEMBLE_HEADER;
	return (0);
}

/* The content header, with the body size it declares. */
int
assemble_header(struct assemble *a, uint64_t size, char **cause)
{
	if (a->state != ASSEMBLE_HEADER) {
		xasprintf(cause, "a content header %s",
		    a->state == ASSEMBLE_IDLE ? "without a method before it" :
						"in the middle of a body");
		return (-1);
	}
	a->size = size;
	a->got = 0;
	/* Only what was declared is allocated, and only up to max. */
	a->body = size <= a->max ? xmalloc((size_t)size + 1) : NULL;
	a->state = ASSEMBLE_BODY;
	return (size == 0 ? ASSEMBLE_DONE : ASSEMBLE_MORE);
}

/* A body frame. */
int
assemble_body(struct assemble *a, const void *p, size_t len, char **cause)
{
	if (a->state != ASSEMBLE_BODY || a->got == a->size) {
		xasprintf(cause, "a body frame %s",
		    a->state == ASSEMBLE_HEADER ? "before its content header" :
						  "that no content header "
						  "announced");
		return (-1);
	}
	if (len > a->size - a->got) {
		xasprintf(cause,
		    "body frames of more than the %llu bytes "
		    "declared",
		    (unsigned long long)a->size);
		return (-1);
	}
	if (a->body != NULL && len > 0)
		memcpy(a->body + a->got, p, len);
	a->got += len;
	return (a->got == a->size ? ASSEMBLE_DONE : ASSEMBLE_MORE);
}

/* The whole body; back to idle. */
char *
assemble_take(struct assemble *a, size_t *len)
{
	char *body = a->body;

	if (body == NULL) {
		body = xstrdup("");
		*len = 0;
	} else {
		body[a->size] = '\0';
		*len = (size_t)a->size;
	}
	a->body = NULL;
	assemble_init(a, a->max);
	return (body);
}
