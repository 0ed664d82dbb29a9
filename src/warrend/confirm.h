/* confirm.h -- the confirm ring: which job each unconfirmed delivery tag
 * of a confirm-mode channel stands for. Pure: no AMQP, no threads, no
 * globals; the publisher thread owns one. */
#ifndef WARREN_CONFIRM_H
#define WARREN_CONFIRM_H

#include <stddef.h>
#include <stdint.h>

struct confirm_slot {
	uint64_t tag; /* 0: empty */
	void	*job;
};

/*
 * Tags low .. next-1 may be in flight. The SPAN next - low, not the count
 * in flight, is bounded by the window: acks come out of order, so the
 * count can be small while an old tag is still unconfirmed, and tag % window
 * would then land on its slot. Read the fields only through the functions.
 */
struct confirm {
	struct confirm_slot *slot;
	uint64_t	     window;
	uint64_t	     low;  /* lowest unconfirmed tag */
	uint64_t	     next; /* the next tag to hand out */
	int		     inflight;
};

/* Called for each job an ack or nack settles, in tag order; return 1 to
 * keep the job in flight after all (its tag stays unconfirmed). */
typedef int (*confirm_cb)(void *job, uint64_t tag, void *arg);

void confirm_init(struct confirm *, int window);
void confirm_free(struct confirm *);
/* A new channel: tags start again at 1. The ring must be empty. */
void confirm_reset(struct confirm *);

/* May another tag be handed out without reusing a slot still in use? */
int confirm_room(const struct confirm *);
/* How many more tags may be handed out now. */
int confirm_free_tags(const struct confirm *);
/* Jobs in flight. */
int confirm_inflight(const struct confirm *);
/* Hand out the next tag for job; 0 if there is no room. */
uint64_t confirm_add(struct confirm *, void *job);

/* The job of an unconfirmed tag, or NULL. */
void *confirm_get(const struct confirm *, uint64_t tag);
/* Forget an unconfirmed tag and return its job (NULL if none). */
void *confirm_take(struct confirm *, uint64_t tag);
/* Put another job in place of an unconfirmed tag's. */
void confirm_replace(struct confirm *, uint64_t tag, void *job);

/* Unconfirmed tags in order: for (t = confirm_first(c); t != 0;
 * t = confirm_after(c, t)). */
uint64_t confirm_first(const struct confirm *);
uint64_t confirm_after(const struct confirm *, uint64_t tag);

/* A basic.ack or basic.nack: multiple settles every tag up to tag (tag 0
 * with multiple: every tag). cb decides each settled job's fate. Tags
 * unknown or already settled are ignored. Returns the number settled. */
int confirm_settle(struct confirm *, uint64_t tag, int multiple, confirm_cb cb,
    void *arg);

#endif
