/* ackset.c -- the unacked delivery tags of one channel and which of them
 * the app acked, flushed as `multiple` acks where every tag below is
 * settled. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "ackset.h"
#include "util.h"

#define ACKSET_FIRST 64 /* entries allocated at first (the default prefetch) */

/* Start empty. */
void
ackset_init(struct ackset *a)
{
	memset(a, 0, sizeof *a);
}

/* Free the entries; empty again. */
void
ackset_free(struct ackset *a)
{
	free(a->e);
	ackset_init(a);
}

/* A new channel: forget every tag. */
void
ackset_clear(struct ackset *a)
{
	a->n = 0;
	a->nacked = 0;
}

/* The broker delivered tag. */
int
ackset_add(struct ackset *a, uint64_t tag)
{
	if (tag == 0 || (a->n > 0 && tag <= a->e[a->n - 1].tag))
		return (-1);
	if (a->n == a->size) {
		/* Prefetch bounds the set; a channel whose consumer was
		 * cancelled and made again may hold two windows' worth. */
		a->size = a->size == 0 ? ACKSET_FIRST : a->size * 2;
		a->e = xreallocarray(a->e, a->size, sizeof *a->e);
	}
	a->e[a->n].tag = tag;
	a->e[a->n].acked = 0;
	a->n++;
	return (0);
}

/* The index of tag, held and not acked yet; -1 if there is none. */
static ssize_t
ackset_find(const struct ackset *a, uint64_t tag)
{
	size_t lo = 0, hi = a->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a->e[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->n || a->e[lo].tag != tag || a->e[lo].acked)
		return (-1);
	return ((ssize_t)lo);
}

/* The app acked tag. */
int
ackset_ack(struct ackset *a, uint64_t tag)
{
	ssize_t i;

	if ((i = ackset_find(a, tag)) == -1)
		return (-1);
	a->e[i].acked = 1;
	a->nacked++;
	return (0);
}

/* Tag was settled another way: forget it. */
int
ackset_forget(struct ackset *a, uint64_t tag)
{
	ssize_t i;

	if ((i = ackset_find(a, tag)) == -1)
		return (-1);
	memmove(&a->e[i], &a->e[i + 1], (a->n - (size_t)i - 1) * sizeof *a->e);
	a->n--;
	return (0);
}

/* Do acked tags wait for ackset_flush? */
int
ackset_pending(const struct ackset *a)
{
	return (a->nacked != 0);
}

/* Tags the broker counts as unacked. */
size_t
ackset_count(const struct ackset *a)
{
	return (a->n);
}

/* Hand every acked tag to cb and forget it, keeping the others in order. */
int
ackset_flush(struct ackset *a, ackset_cb cb, void *arg)
{
	size_t i, run, kept;
	int    rv = 0;

	if (a->nacked == 0)
		return (0);
	for (run = 0; run < a->n && a->e[run].acked; run++)
		;
	if (run > 0)
		rv = cb(a->e[run - 1].tag, run > 1, arg);
	for (kept = 0, i = run; i < a->n; i++) {
		if (!a->e[i].acked)
			a->e[kept++] = a->e[i];
		else if (rv == 0)
			rv = cb(a->e[i].tag, 0, arg);
	}
	a->n = kept;
	a->nacked = 0;
	return (rv);
}
