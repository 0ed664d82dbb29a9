/* confirm.c -- the confirm ring: delivery tags to jobs, bounded by the
 * span of unconfirmed tags. */
#include <stdlib.h>

#include "confirm.h"
#include "util.h"

/* An empty ring for window tags in flight. */
void
confirm_init(struct confirm *c, int window)
{
	c->window = window > 0 ? (uint64_t)window : 1;
	c->slot = xcalloc((size_t)c->window, sizeof *c->slot);
	c->low = c->next = 1;
	c->inflight = 0;
}

/* Free the ring (not the jobs). */
void
confirm_free(struct confirm *c)
{
	free(c->slot);
	c->slot = NULL;
}

/* Tags start again at 1; whatever was in flight is forgotten. */
void
confirm_reset(struct confirm *c)
{
	uint64_t i;

	for (i = 0; i < c->window; i++)
		c->slot[i].tag = 0, c->slot[i].job = NULL;
	c->low = c->next = 1;
	c->inflight = 0;
}

/* May another tag be handed out? */
int
confirm_room(const struct confirm *c)
{
	return (c->next - c->low < c->window);
}

/* How many more tags may be handed out now. */
int
confirm_free_tags(const struct confirm *c)
{
	return ((int)(c->window - (c->next - c->low)));
}

/* Jobs in flight. */
int
confirm_inflight(const struct confirm *c)
{
	return (c->inflight);
}

/* Hand out the next tag for job; 0 if the span is full. */
uint64_t
confirm_add(struct confirm *c, void *job)
{
	struct confirm_slot *s;

	if (!confirm_room(c))
		return (0);
	s = &c->slot[c->next % c->window];
	s->tag = c->next;
	s->job = job;
	c->inflight++;
	return (c->next++);
}

/* The slot of an unconfirmed tag, or NULL. */
static struct confirm_slot *
confirm_find(const struct confirm *c, uint64_t tag)
{
	struct confirm_slot *s;

	if (tag < c->low || tag >= c->next)
		return (NULL);
	s = &c->slot[tag % c->window];
	return (s->tag == tag && s->job != NULL ? s : NULL);
}

/* The job of an unconfirmed tag, or NULL. */
void *
confirm_get(const struct confirm *c, uint64_t tag)
{
	struct confirm_slot *s = confirm_find(c, tag);

	return (s != NULL ? s->job : NULL);
}

/* Move low past tags that are settled, so the span shrinks. */
static void
confirm_advance(struct confirm *c)
{
	while (c->low < c->next && confirm_find(c, c->low) == NULL)
		c->low++;
}

/* Forget an unconfirmed tag and return its job. */
void *
confirm_take(struct confirm *c, uint64_t tag)
{
	struct confirm_slot *s = confirm_find(c, tag);
	void		    *job;

	if (s == NULL)
		return (NULL);
	job = s->job;
	s->tag = 0;
	s->job = NULL;
	c->inflight--;
	confirm_advance(c);
	return (job);
}

/* Put another job in place of an unconfirmed tag's. */
void
confirm_replace(struct confirm *c, uint64_t tag, void *job)
{
	struct confirm_slot *s = confirm_find(c, tag);

	if (s != NULL && job != NULL)
		s->job = job;
}

/* The lowest unconfirmed tag, or 0. */
uint64_t
confirm_first(const struct confirm *c)
{
	return (confirm_after(c, c->low - 1));
}

/* The next unconfirmed tag after tag, or 0. */
uint64_t
confirm_after(const struct confirm *c, uint64_t tag)
{
	uint64_t t;

	for (t = tag + 1 > c->low ? tag + 1 : c->low; t < c->next; t++)
		if (confirm_find(c, t) != NULL)
			return (t);
	return (0);
}

/* Settle one tag: the callback may keep it in flight. */
static int
confirm_settle_one(struct confirm *c, uint64_t tag, confirm_cb cb, void *arg)
{
	struct confirm_slot *s;

	if ((s = confirm_find(c, tag)) == NULL)
		return (0);
	if (cb(s->job, tag, arg))
		return (0);
	s->tag = 0;
	s->job = NULL;
	c->inflight--;
	return (1);
}

/* An ack or nack; multiple settles every tag up to tag. */
int
confirm_settle(struct confirm *c, uint64_t tag, int multiple, confirm_cb cb,
    void *arg)
{
	uint64_t t;
	int	 n = 0;

	if (tag == 0 && multiple)
		tag = c->next - 1;
	if (multiple) {
		for (t = c->low; t <= tag && t < c->next; t++)
			n += confirm_settle_one(c, t, cb, arg);
	} else
		n = confirm_settle_one(c, tag, cb, arg);
	confirm_advance(c);
	return (n);
}
