/* mailbox.c -- the one bounded queue between two threads: a ring of
 * pointers that grows up to its bound, a mutex, and an eventfd kept
 * readable while there is something to take (and, for a moment after a
 * race, once more: see mailbox_unsignal). */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox.h"
#include "util.h"

#define MAILBOX_FIRST 64 /* slots allocated at first */

struct mailbox {
	pthread_mutex_t lock; /* guards everything below */
	void	      **ring;
	size_t		size; /* slots allocated */
	size_t		head; /* oldest item */
	size_t		n;    /* items held */
	size_t		bound;
	int		closed;
	int		fd;	  /* readable while n > 0 or closed */
	uint64_t	written;  /* wake-ups written (or about to be) */
	uint64_t	consumed; /* and read back */
};

/* A mailbox for at most bound items, with its own eventfd. */
struct mailbox *
mailbox_new(size_t bound, char **cause)
{
	struct mailbox *mb;
	int		fd;

	if ((fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		xasprintf(cause, "eventfd: %s", util_strerror(errno));
		return (NULL);
	}
	mb = xcalloc(1, sizeof *mb);
	pthread_mutex_init(&mb->lock, NULL);
	mb->bound = bound > 0 ? bound : 1;
	mb->size = mb->bound < MAILBOX_FIRST ? mb->bound : MAILBOX_FIRST;
	mb->ring = xcalloc(mb->size, sizeof *mb->ring);
	mb->fd = fd;
	return (mb);
}

/* Free the mailbox and close its eventfd. */
void
mailbox_free(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	close(mb->fd);
	pthread_mutex_destroy(&mb->lock);
	free(mb->ring);
	free(mb);
}

/* The eventfd. */
int
mailbox_fd(const struct mailbox *mb)
{
	return (mb->fd);
}

/* Make the eventfd readable. */
static void
mailbox_signal(struct mailbox *mb)
{
	uint64_t one = 1;

	while (write(mb->fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

/*
 * Make the eventfd unreadable (called with the lock held, the mailbox
 * empty). A wake-up counted in written may not be written yet (push
 * writes after unlocking): then the read finds less, the eventfd turns
 * readable once more, and the next take reads the rest -- one spurious
 * wake-up, never a lost or a lasting one.
 */
static void
mailbox_unsignal(struct mailbox *mb)
{
	uint64_t n;
	ssize_t	 r;

	if (mb->consumed == mb->written)
		return;
	while ((r = read(mb->fd, &n, sizeof n)) == -1 && errno == EINTR)
		;
	if (r == sizeof n)
		mb->consumed += n;
}

/* Double the ring, keeping the items in order (lock held). */
static void
mailbox_grow(struct mailbox *mb)
{
	void **ring;
	size_t size = mb->size * 2, i;

	if (size > mb->bound)
		size = mb->bound;
	ring = xcalloc(size, sizeof *ring);
	for (i = 0; i < mb->n; i++)
		ring[i] = mb->ring[(mb->head + i) % mb->size];
	free(mb->ring);
	mb->ring = ring;
	mb->size = size;
	mb->head = 0;
}

/* Append n items in order, waking the taker once: 0, or -1 with errno
 * ENOBUFS (they do not all fit; none is added) or EPIPE (closed). */
int
mailbox_push_many(struct mailbox *mb, void *const *items, size_t n)
{
	int    error = 0, wake = 0;
	size_t i;

	if (n == 0)
		return (0);
	pthread_mutex_lock(&mb->lock);
	if (mb->closed)
		error = EPIPE;
	else if (n > mb->bound - mb->n)
		error = ENOBUFS;
	else {
		if (mb->n == 0) {
			mb->written++;
			wake = 1;
		}
		for (i = 0; i < n; i++) {
			if (mb->n == mb->size)
				mailbox_grow(mb);
			mb->ring[(mb->head + mb->n) % mb->size] = items[i];
			mb->n++;
		}
	}
	pthread_mutex_unlock(&mb->lock);
	/* Woken with the lock held, the taker would sleep on it at once
	 * and need waking a second time. */
	if (wake)
		mailbox_signal(mb);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

/* Append an item: 0, or -1 with errno ENOBUFS (full) or EPIPE (closed). */
int
mailbox_push(struct mailbox *mb, void *item)
{
	return (mailbox_push_many(mb, &item, 1));
}

/* The oldest item, or NULL if there is none. */
void *
mailbox_take(struct mailbox *mb)
{
	void *item = NULL;

	pthread_mutex_lock(&mb->lock);
	if (mb->n > 0) {
		item = mb->ring[mb->head];
		mb->head = (mb->head + 1) % mb->size;
		mb->n--;
	}
	if (mb->n == 0 && !mb->closed)
		mailbox_unsignal(mb);
	pthread_mutex_unlock(&mb->lock);
	return (item);
}

/* Does the mailbox hold nothing? */
int
mailbox_empty(struct mailbox *mb)
{
	int empty;

	pthread_mutex_lock(&mb->lock);
	empty = mb->n == 0;
	pthread_mutex_unlock(&mb->lock);
	return (empty);
}

/* Refuse further items; the eventfd stays readable from now on, so the
 * receiver notices. */
void
mailbox_close(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	if (!mb->closed) {
		mb->closed = 1;
		if (mb->n == 0) {
			mb->written++;
			mailbox_signal(mb);
		}
	}
	pthread_mutex_unlock(&mb->lock);
}

/* Is the mailbox closed and empty? */
int
mailbox_finished(struct mailbox *mb)
{
	int finished;

	pthread_mutex_lock(&mb->lock);
	finished = mb->closed && mb->n == 0;
	pthread_mutex_unlock(&mb->lock);
	return (finished);
}
