/* partition.h -- ordered partitions of a contract: its partition key (a
 * required top-level field of its data) and count. Pure: no I/O. */
#ifndef WARREN_PARTITION_H
#define WARREN_PARTITION_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct contract;

/* The most partitions a contract may have: each is a queue and, in
 * warrend, a channel of the consumer connection. */
#define PARTITION_MAX 256

/* The message header that carries the key's value (the CloudEvents
 * partitioning extension, named as in its AMQP binding). */
#define PARTITION_HEADER "cloudEvents:partitionkey"

/* Check c's partition_key and partitions: both or neither, the key a
 * required top-level field of a type with a stable text, the count in
 * 1..PARTITION_MAX. Return 0, or -1 with *msg for the caller to free. */
int partition_check(const struct contract *c, char **msg);

/* The text of the key's value in data (a string as it is, an integer in
 * decimal) into buf. Return 0, or -1 when data has no usable key. */
int partition_key_text(const cJSON *data, const char *key, char *buf,
    size_t len);

/* Add partition_key and partitions to o, the contract's JSON, if set. */
void partition_to_json(const struct contract *c, cJSON *o);

#endif
