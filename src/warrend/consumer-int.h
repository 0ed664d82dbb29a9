/* consumer-int.h -- the consumer thread's state and the functions its
 * files share: consumer.c (commands, the thread, subscriptions),
 * consumer-setup.c (declaring and consuming queues), consumer-frame.c
 * (frames from the broker, assembled into deliveries) and
 * consumer-handover.c (handing partitions over). Private: everyone else
 * goes through consumer.h. */
#ifndef WARREN_CONSUMER_INT_H
#define WARREN_CONSUMER_INT_H

#include <sys/queue.h>
#include <amqp.h>
#include <pthread.h>
#include <stdint.h>

#include "ackset.h"
#include "assemble.h"
#include "broker.h"
#include "consumer.h"
#include "consumer-partition.h"
#include "mailbox.h"
#include "stream-from.h"
#include "stream.h"

enum ccmd_type {
	CC_SUBSCRIBE,
	CC_CANCEL,
	CC_SETTLE,
	CC_SETTLE_MANY
};

/* From the loop to the thread. */
struct ccmd {
	TAILQ_ENTRY(ccmd) entry;
	enum ccmd_type		type;
	char		       *event;
	char		       *routing_key;
	uint64_t		epoch;
	uint16_t		channel;
	uint64_t		dtag;
	int			ack;
	int			requeue;
	struct consumer_settle *settles; /* CC_SETTLE_MANY */
	size_t			nsettles;
	int			retry_ms; /* retry later: retry.c */
	int			max_attempts;
	/* A replay's (0: the service queue's) and where it starts. */
	uint64_t	   sid;
	struct stream_from from;
	int		   partitions;
};
TAILQ_HEAD(ccmdq, ccmd);

/* One event's queue and the channel that consumes it. */
struct csub {
	char	*event;
	char	*routing_key;
	char	*queue; /* <service>.<Event> */
	char	*dead;	/* <service>.<Event>.dead */
	uint16_t channel;
	int	 wanted; /* the loop has subscribers */
	int	 open;	 /* channel open on this connection */
	int	 consuming;
	int	 ended;	    /* a replay over: swept once its frames are read */
	char	 ctag[256]; /* the broker's consumer tag */
	uint64_t epoch;	    /* of the channel's current opening */
	/* A replay: its stream, where it started, where it goes on. */
	uint64_t	   sid;
	struct stream_from from;
	int		   resume; /* a delivery came: go on from next */
	uint64_t	   next;
	int		   started;    /* consumed once: a restore follows */
	int64_t		   since_ms;   /* when it was asked for (wall clock) */
	uint64_t	   retry_at;   /* restoring it failed: try then */
	uint64_t	   give_up_at; /* and stop trying then */
	struct stream_meta meta;       /* of the message being assembled */
	/* A delivery being assembled from its frames. */
	struct assemble	     assembly;
	struct consumer_msg *msg;
	struct ackset	     acks;	 /* unacked tags of this opening */
	struct cpart	     part;	 /* index -1: not partitioned */
	char		    *hash;	 /* its consistent-hash exchange */
	char		    *members;	 /* p0: the fleet's roll call */
	char		     rctag[256]; /* our consumer tag there */
};

/* The thread's state; one, cons (consumer.c). */
struct consumer {
	pthread_t	      thread;
	int		      running;
	struct mailbox	     *in;      /* loop -> thread: commands */
	struct mailbox	     *out;     /* thread -> loop: messages */
	int		      wake_fd; /* loop -> thread: stop */
	pthread_mutex_t	      lock;    /* guards stopping and stats */
	int		      stopping;
	struct consumer_stats stats;

	/* Thread only from here on. */
	struct broker_link	link;
	char		       *exchange;
	char		       *dlx;
	char		       *service;
	int			quorum;
	int			dead_letter;
	int			prefetch;
	amqp_connection_state_t conn;
	int			fd;
	int			connected;
	int			ever_connected;
	uint64_t		epochs; /* every channel opening gets one */
	uint64_t		part_check_ms; /* next share check */
	int			part_draining; /* a hand-over under way */
	struct csub	      **subs;
	size_t			nsubs;
	struct consumer_msgq	ready; /* deliveries not yet posted */
	size_t			nready;
};

extern struct consumer cons;

/* consumer-cmd.c */
void consumer_cmd_free(struct ccmd *);

/* consumer.c */
void	     consumer_post(struct consumer_msg *);
void	     consumer_post_ready(void);
struct csub *consumer_find(const char *event, uint64_t sid, uint16_t channel);
void consumer_replay_args(struct csub *, amqp_table_t *, amqp_table_entry_t *);

/* consumer-setup.c */
int consumer_rpc(struct csub *, const char *what, const char *name, char *err,
    size_t len);
int consumer_rollcall(struct csub *, char *tag, size_t taglen, char *err,
    size_t len);
int consumer_setup(struct csub *, char *err, size_t len);
int consumer_unconsume(struct csub *);

/* consumer-frame.c */
int consumer_drain(void);

/* consumer-handover.c */
void consumer_part_reset(struct csub *);
void consumer_part_settled(struct csub *);
int  consumer_part_tick(void);

#endif
