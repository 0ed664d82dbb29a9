/* consume.h -- the loop side of consuming: local subscribers of each event,
 * deliveries handed out round robin, per-connection tags, ack and nack. */
#ifndef WARREN_CONSUME_H
#define WARREN_CONSUME_H

#include <stdint.h>

#include "json.h"

struct client;
struct contract;
struct consume_client;
struct pbuf;
struct stream_from;

/* Start the consumer thread and watch its messages. */
int consume_start(char **cause);
/* Subscribe c to ct's queue, or (from not NULL) start a replay of ct's
 * stream; the reply comes when the queue or stream is ready. */
void consume_subscribe(struct client *c, const struct contract *ct,
    const struct json_span *id, const struct stream_from *from);
/* Unsubscribe c from ct's queue and its replays; return 0, or -1 if c was
 * not subscribed. */
int consume_unsubscribe(struct client *c, const struct contract *ct);
/* Settle a delivery by c's tag (retry_ms > 0: retry it that much later);
 * return -1 if c holds no such tag. */
int consume_settle(struct client *c, long long tag, int ack, int requeue,
    int retry_ms);
/* c is going: requeue its unsettled deliveries, drop its subscriptions. */
void consume_client_gone(struct client *c);
/* After a reload: stop consuming events whose contract is gone. */
void consume_reload(void);
/* Shutting down: answer waiting subscribes, stop the thread. */
void consume_shutdown(void);
void consume_free(void);
/* The number of events being consumed. */
int consume_active(void);

#endif
