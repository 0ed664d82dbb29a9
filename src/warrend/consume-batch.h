/* consume-batch.h -- the loop's settlements of deliveries, gathered while
 * the loop handles one round of ready events and handed to the consumer
 * thread in one command when the round ends: one wake-up and one lock for
 * the lot, and acks enough at once for the thread to send them as
 * `multiple` acks. */
#ifndef WARREN_CONSUME_BATCH_H
#define WARREN_CONSUME_BATCH_H

#include <stdint.h>

/* Make the event that hands the batch over. */
int consume_batch_start(char **cause);
/* Settle a delivery (as consumer_settle) at the end of this loop round. */
void consume_batch_add(uint64_t epoch, uint16_t channel, uint64_t dtag, int ack,
    int requeue);
/* Hand over what is gathered now. */
void consume_batch_flush(void);
/* Hand over what is left and free the event. */
void consume_batch_free(void);

#endif
