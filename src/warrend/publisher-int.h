/* publisher-int.h -- the publisher thread's state and the functions its
 * two files share; the state is passed to every function that needs it.
 * Private: only publisher.c, publisher-cmd.c and publisher-spool.c include
 * it; everyone else goes through publisher.h. */
#ifndef WARREN_PUBLISHER_INT_H
#define WARREN_PUBLISHER_INT_H

#include <sys/queue.h>

#include <amqp.h>
#include <pthread.h>
#include <stdint.h>

#include "broker.h"
#include "confirm.h"
#include "frames.h"
#include "lograte.h"
#include "publisher.h"
#include "wire.h"

/* While events wait in the spool, no retry waits longer than this
 * (jittered: between half of it and all of it). */
#define PUBLISHER_RETRY_CAP_MS 2000

struct publisher {
	pthread_t	thread;
	int		running; /* loop only */
	struct mailbox *in;	 /* loop -> thread: jobs */
	struct mailbox *done;	 /* thread -> loop; closed on exit */
	int		wake_fd; /* loop, connector -> thread */
	int		sweep;	 /* atomic: jobs cancelled */

	pthread_mutex_t	       lock;	 /* guards the next three */
	int		       stop_req; /* written by the loop */
	uint64_t	       stop_deadline;
	struct publisher_stats stats;

	/* Thread only from here on. */
	int		     stopping; /* stop_req, copied under lock */
	uint64_t	     stop_at;  /* stop_deadline, likewise */
	struct broker_link   link;     /* the connector's */
	struct broker_async *async;
	int		     async_gone; /* connector stopped */
	char		     addr[128];	 /* of the connection in use */
	int		     heartbeat;
	char		    *exchange;
	char		    *service;
	enum wire_format     wire_format;
	int		     mandatory; /* unroutable is not "ignore" */
	int		     window;
	int		     publish_timeout_ms;
	struct spool	    *spool;	    /* NULL: max_bytes = 0 */
	int		     spool_full;    /* in a "spool full" episode */
	int		     spool_refused; /* nacks came: retreat */
	uint64_t	     spool_hold;    /* no draining before this */
	int		     spool_holds;   /* nack rounds in a row: backoff */
	int		     refusing;	/* the broker nacks: hold the drain */
	int		     renew;	/* nacks persist: new connection */
	int		     renewed;	/* dropped for that: keep backoff */
	struct pub_jobq	     retry;	/* nacked spooled events, in order */
	struct pub_jobq	     nacked;	/* nacked direct events: to spool */
	uint64_t	     spool_seq; /* records read back so far */
	int		     proven;	/* a confirm came on this conn */
	int		     probing;	/* one event at a time till then */
	int		     relost;	/* a connection was lost before */
	int		     cap_ms;	/* told to the connector */
	struct lograte	     lr_append; /* spool append failing */
	struct lograte	     lr_sync;	/* spool sync failing */
	struct lograte	     lr_slow;	/* confirms later than the limit */
	struct lograte	     lr_nack;	/* the broker refusing events */
	struct lograte	     lr_renew;	/* new connections for that */
	int		     detached;	/* in flight, already spooled */

	amqp_connection_state_t conn;
	int			fd;
	int			connected;
	int			blocked;
	/* Plain TCP: publishes and heartbeats go out through out, written
	 * by warrend (frames.c), not by rabbitmq-c; TLS: amqp_basic_publish. */
	int		 direct;
	struct frames	 out;
	uint32_t	 frame_max;
	int		 hb;	   /* negotiated heartbeat, seconds; 0: none */
	uint64_t	 said_ms;  /* last write to the broker */
	uint64_t	 heard_ms; /* last sign of the broker */
	int		 heard;	   /* a frame or POLLIN since heard_ms */
	int		 quiet;	   /* nothing heard for an interval: peek */
	struct pub_jobq	 pending;  /* to publish, in order */
	struct confirm	 ring;	   /* in flight, by delivery tag */
	enum pub_outcome outcome;  /* of the confirm settling */
	uint64_t	 ret_left; /* body bytes of a basic.return */
	int		 in_return;
	char		 ret_key[256]; /* routing key of a return */
	/* The streams declared on this connection (stream_generation). */
	uint64_t stream_gen;
};

/* The one publisher (publisher.c); the loop-facing functions use it. */
extern struct publisher *publisher_the;

/* Nudge an eventfd (the thread's wake_fd). */
void publisher_kick(int fd);

/* publisher-wire.c: is the socket writable now (TLS)? Send one job (0,
 * or -1: the connection must go); write the batch (0 all written, 1 the
 * socket is full, -1 the connection failed); heartbeats of a direct
 * connection (-1: give it up). */
int publisher_writable(struct publisher *);
int publisher_send(struct publisher *, struct pub_job *);
int publisher_write(struct publisher *);
int publisher_heartbeat(struct publisher *);

/* Give a finished job back to the loop (thread side). */
void publisher_finish(struct publisher *p, struct pub_job *j,
    enum pub_outcome outcome);

/* Write jobs to the spool as one group commit and answer each. */
void publisher_spool_write(struct publisher *p, struct pub_jobq *q);
/* The connection went: unsent events to the spool, read-back records
 * forgotten to be read again. */
void publisher_spool_unsent(struct publisher *p, struct pub_jobq *q);
/* Blocked: events not yet sent go to the spool. */
void publisher_spool_pending(struct publisher *p);
/* The broker nacked j: keep it to be retried (spooled if it was not). */
void publisher_spool_nacked(struct publisher *p, struct pub_job *j);
/* After nacks: spool the nacked direct events and pause the drain. */
void publisher_spool_retreat(struct publisher *p);
/* The connection went: forget the retries (the spool reads them again). */
void publisher_spool_lost(struct publisher *p, struct pub_jobq *back);
/* Say that nacks go on and a new connection is tried (rate-limited). */
void publisher_spool_renew_log(struct publisher *p);
/* The broker took a refused event after all: a spell of nacks is over. */
void publisher_spool_taken(struct publisher *p);
/* The broker confirmed an event in time: a slow spell is over. */
void publisher_spool_in_time(struct publisher *p);
/* While the spool holds events, reconnect within about 2 s. */
void publisher_spool_cap(struct publisher *p);
/* Read records back from the spool while the window has room. */
void publisher_spool_fill(struct publisher *p);
/* A record read back was confirmed: release it and free its job. */
void publisher_spool_done(struct publisher *p, struct pub_job *j);
/* Spool events the broker is slow to confirm and answer their clients. */
void publisher_spool_timeouts(struct publisher *p);
/* Copy the spool's figures for the loop; count the thread alive. */
void publisher_spool_stats(struct publisher *p);

#endif
