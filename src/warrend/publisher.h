/* publisher.h -- the publisher thread: the only owner of the publishing
 * AMQP connection. The loop hands it jobs and collects their outcomes. */
#ifndef WARREN_PUBLISHER_H
#define WARREN_PUBLISHER_H

#include <sys/queue.h>
#include <stdint.h>

#include "hops.h"
#include "spool.h"

struct conf;

enum pub_outcome {
	PUB_CONFIRMED, /* broker acked; see returned */
	PUB_NACKED,    /* broker nacked */
	PUB_CANCELLED, /* the loop gave up on it before it was sent */
	PUB_FAILED,    /* publisher stopped before a confirm */
	PUB_SPOOLED,   /* safe in the spool: answered ok, spooled */
	PUB_FULL,      /* the spool is full (or failed): unavailable */
};

/* One event on its way to the broker; body and strings live after it. */
struct pub_job {
	TAILQ_ENTRY(pub_job) entry; /* owned by one side at a time */
	void		*cookie;    /* the loop's */
	const char	*routing_key;
	const char	*type; /* contract name */
	const char	*body;
	size_t		 bodylen;
	char		 message_id[256];
	int64_t		 timestamp_ms; /* wall clock at acceptance */
	uint64_t	 tag;	       /* delivery tag while in flight */
	int		 returned;     /* basic.return seen */
	enum pub_outcome outcome;
	int		 cancelled;  /* atomic: set by the loop */
	uint64_t	 sent_ms;    /* when published (monotonic) */
	int		 projection; /* the older version's copy */
	/* The W3C trace context, NULL if none (trace.c). */
	char *traceparent;
	char *tracestate;
	/* A record read back from the spool (cookie is NULL). */
	int		  from_spool;
	struct spool_rec *srec;	       /* the spool's handle for it */
	uint64_t	  spool_seq;   /* read order: retries keep it */
	uint64_t	  hops[HOP_N]; /* hops.h: 0 unless timing is on */
};
TAILQ_HEAD(pub_jobq, pub_job);

/* Counters and state the loop may read at any time. */
struct publisher_stats {
	int		   connected;
	int		   blocked;
	uint64_t	   reconnects;
	uint64_t	   published;
	uint64_t	   republished;
	uint64_t	   nacks;	/* events the broker nacked */
	int		   refusing;	/* it nacks and takes nothing now */
	char		   broker[128]; /* host:port, without credentials */
	int		   spool_enabled;
	struct spool_stats spool;
	uint64_t	   alive; /* counts the thread's iterations */
};

/* Start the thread with the broker settings of cf. */
int publisher_start(const struct conf *cf, char **cause);
/* The eventfd readable while outcomes wait for publisher_collect. */
int publisher_done_fd(void);

/* A new job, one allocation holding everything. */
struct pub_job *publisher_job_new(const char *routing_key, const char *type,
    const char *message_id, const char *body, size_t bodylen);
void		publisher_job_free(struct pub_job *);

/* Hand n jobs to the thread, in order, with one wake-up (loop side). */
void publisher_submit_many(struct pub_job *const *jobs, size_t n);

/* Ask the loop side to forget a job: it is not sent if not sent yet. */
void publisher_cancel(struct pub_job *);

/* Move finished jobs onto q (loop side); return 1 once the thread exited. */
int publisher_collect(struct pub_jobq *q);

/* Finish: keep confirming for up to timeout_ms, then close and exit. */
void publisher_stop(int timeout_ms);

/* Wait up to timeout_ms for the thread to exit; free what is left. */
void publisher_join(int timeout_ms);

void publisher_get_stats(struct publisher_stats *);

#endif
