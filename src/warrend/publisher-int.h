/* publisher-int.h -- the publisher thread's state and the functions its
 * two files share. Private: only publisher.c and publisher-spool.c include
 * it; everyone else goes through publisher.h. */
#ifndef WARREN_PUBLISHER_INT_H
#define WARREN_PUBLISHER_INT_H

#include <sys/queue.h>

#include <amqp.h>
#include <pthread.h>
#include <stdint.h>

#include "broker.h"
#include "lograte.h"
#include "publisher.h"

/* While events wait in the spool, no retry waits longer than this
 * (jittered: between half of it and all of it). */
#define PUBLISHER_RETRY_CAP_MS	2000

struct publisher {
	pthread_t		 thread;
	int			 running;
	pthread_mutex_t		 lock;		/* guards in, done, stop, stats */
	struct pub_jobq		 in;
	struct pub_jobq		 done;
	int			 stopping;
	uint64_t		 stop_deadline;
	int			 exited;
	struct publisher_stats	 stats;
	int			 wake_fd;	/* loop -> thread */
	int			 sweep;		/* atomic: jobs were cancelled */
	int			 done_fd;	/* thread -> loop */

	/* Thread only from here on. */
	struct broker_link	  link;		/* the connector's */
	struct broker_async	 *async;
	int			  async_gone;	/* connector stopped */
	char			  addr[128];	/* of the connection in use */
	int			  heartbeat;
	char			 *exchange;
	char			 *service;
	int			  window;
	int			  publish_timeout_ms;
	struct spool		 *spool;	/* NULL: max_bytes = 0 */
	int			  spool_full;	/* in a "spool full" episode */
	int			  spool_refused; /* nacks came: retreat */
	uint64_t		  spool_hold;	/* no draining before this */
	int			  spool_holds;	/* nack rounds in a row: backoff */
	int			  refusing;	/* the broker nacks: hold the drain */
	int			  renew;	/* nacks persist: new connection */
	int			  renewed;	/* dropped for that: keep backoff */
	struct pub_jobq		  retry;	/* nacked spooled events, in order */
	struct pub_jobq		  nacked;	/* nacked direct events: to spool */
	int			  proven;	/* a confirm came on this conn */
	struct lograte		  lr_append;	/* spool append failing */
	struct lograte		  lr_sync;	/* spool sync failing */
	struct lograte		  lr_slow;	/* confirms later than the limit */
	struct lograte		  lr_nack;	/* the broker refusing events */
	struct lograte		  lr_renew;	/* new connections for that */
	int			  cap_ms;	/* told to the connector */
	int			  detached;	/* in flight, already spooled */

	amqp_connection_state_t	  conn;
	int			  fd;
	int			  connected;
	int			  blocked;
	struct pub_jobq		  pending;	/* to publish, in order */
	struct pub_job		**ring;		/* in flight, by tag % window */
	uint64_t		  low_tag;	/* lowest unconfirmed tag */
	uint64_t		  next_tag;
	int			  inflight;
	uint64_t		  ret_left;	/* body bytes of a basic.return */
	int			  in_return;
	char			  ret_key[256];	/* routing key of a return */
};

extern struct publisher	pub;

/* Give a finished job back to the loop (thread side). */
void	publisher_finish(struct pub_job *j, enum pub_outcome outcome);

/* Write jobs to the spool as one group commit and answer each. */
void	publisher_spool_write(struct pub_jobq *q);
/* The connection went: unsent events to the spool, read-back records
 * forgotten to be read again. */
void	publisher_spool_unsent(struct pub_jobq *q);
/* Blocked: events not yet sent go to the spool. */
void	publisher_spool_pending(void);
/* The broker nacked j: keep it to be retried (spooled if it was not). */
void	publisher_spool_nacked(struct pub_job *j);
/* After nacks: spool the nacked direct events and pause the drain. */
void	publisher_spool_retreat(void);
/* The connection went: forget the retries (the spool reads them again). */
void	publisher_spool_forget(struct pub_jobq *back);
/* Read records back from the spool while the window has room. */
void	publisher_spool_fill(void);
/* Spool events the broker is slow to confirm and answer their clients. */
void	publisher_spool_timeouts(void);
/* While the spool holds events, reconnect within about 2 s. */
void	publisher_spool_cap(void);
/* Say that nacks go on and a new connection is tried (rate-limited). */
void	publisher_spool_renew_log(void);
/* The broker took a refused event after all: a spell of nacks is over. */
void	publisher_spool_taken(void);
/* The broker confirmed an event in time: a slow spell is over. */
void	publisher_spool_in_time(void);
/* Copy the spool's figures for the loop; count the thread alive. */
void	publisher_spool_stats(void);

#endif
