/* mailbox.h -- the one bounded queue between two threads. A mutex guards a
 * ring of pointers; an eventfd is readable while the mailbox holds items
 * (or is closed), so either side can poll() or libevent it. A taker may
 * find it readable and empty once after a race; its next take clears it. */
#ifndef WARREN_MAILBOX_H
#define WARREN_MAILBOX_H

#include <stddef.h>

struct mailbox;

/* A mailbox for at most bound items, with its own eventfd. */
struct mailbox *mailbox_new(size_t bound, char **cause);
/* Free the mailbox and close its eventfd; items still in it are not
 * freed (take them first). Never while another thread may use it. */
void mailbox_free(struct mailbox *);

/* The eventfd: readable while items wait or once the mailbox is closed
 * (and at most once more, spuriously: take clears it). */
int mailbox_fd(const struct mailbox *);

/* Append an item: 0, or -1 with errno ENOBUFS (full: the caller keeps the
 * item) or EPIPE (closed). */
int mailbox_push(struct mailbox *, void *item);
/* Append n items in order with one wake-up: 0, or -1 (ENOBUFS: they do
 * not all fit and none is added; EPIPE: closed). */
int mailbox_push_many(struct mailbox *, void *const *items, size_t n);
/* The oldest item, or NULL if there is none. */
void *mailbox_take(struct mailbox *);

/* Does the mailbox hold nothing? (A hint: the other side may push.) */
int mailbox_empty(struct mailbox *);

/* Refuse further items; those inside can still be taken. */
void mailbox_close(struct mailbox *);
/* Is the mailbox closed and empty? (Its sender is done.) */
int mailbox_finished(struct mailbox *);

#endif
