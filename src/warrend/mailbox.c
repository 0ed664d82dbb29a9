/* mailbox.c -- the one bounded queue between two threads: a ring of
 * pointers that grows up to its bound, a mutex, and an eventfd kept
 * readable exactly while there is something to take. */
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
	int		fd; /* readable iff n > 0 or closed */
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

/* Make the eventfd readable (called with the lock held). */
static void
mailbox_signal(struct mailbox *mb)
{
	uint64_t one = 1;

	while (write(mb->fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

/* Make the eventfd unreadable (called with the lock held). */
static void
mailbox_unsignal(struct mailbox *mb)
{
	uint64_t n;

	while (read(mb->fd, &n, sizeof n) == -1 && errno == EINTR)
		;
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

/* Append an item: 0, or -1 with errno ENOBUFS (full) or EPIPE (closed). */
int
mailbox_push(struct mailbox *mb, void *item)
{
	int error = 0;

	pthread_mutex_lock(&mb->lock);
	if (mb->closed)
		error = EPIPE;
	else if (mb->n == mb->bound)
		error = ENOBUFS;
	else {
		if (mb->n == mb->size)
			mailbox_grow(mb);
		mb->ring[(mb->head + mb->n) % mb->size] = item;
		if (mb->n++ == 0)
			mailbox_signal(mb);
	}
	pthread_mutex_unlock(&mb->lock);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
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
		if (--mb->n == 0 && !mb->closed)
			mailbox_unsignal(mb);
	}
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
		if (mb->n == 0)
			mailbox_signal(mb);
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
