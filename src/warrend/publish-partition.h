/* publish-partition.h -- the partition key header of published events:
 * the loop tells which contracts are partitioned and by which field, the
 * publisher thread reads the key from each body it sends. */
#ifndef WARREN_PUBLISH_PARTITION_H
#define WARREN_PUBLISH_PARTITION_H

#include <amqp.h>
#include <stddef.h>

struct contract_set;

/* Take each partitioned contract's name and key from set (loop side: at
 * start and after a reload). */
void publish_partition_set(const struct contract_set *set);
/* The partition key header of an event of contract type with this body
 * into *e (its text in buf); return 1, or 0 when the contract is not
 * partitioned or the body has no usable key (publisher thread). */
int  publish_partition_header(const char *type, const char *body, size_t len,
     amqp_table_entry_t *e, char *buf, size_t buflen);
void publish_partition_free(void);

#endif
