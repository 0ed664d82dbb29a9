/* dedup.h -- the message_ids a subscription's app acked lately, in memory
 * and in one bounded, append-only file, so that a redelivery of an event
 * the app already acked is recognised across reconnects and restarts.
 * Thread-agnostic: the consumer thread owns every instance. */
#ifndef WARREN_DEDUP_H
#define WARREN_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define DEDUP_MAX_ID 255 /* an AMQP shortstr: longer ids are not kept */

struct dedup;

/*
 * Open (or create) the file at path and load what it holds, keeping at most
 * max_ids ids no older than max_age_s seconds at now (seconds). A torn or
 * damaged tail (a crash mid-append) is cut off. NULL with *cause on error.
 */
struct dedup *dedup_open(const char *path, size_t max_ids, uint64_t max_age_s,
    uint64_t now, char **cause);
/* Was id acked within the window? 1 or 0. */
int dedup_seen(struct dedup *, const char *id, uint64_t now);
/* Remember id as acked at now; its record goes to the file at the next
 * dedup_flush, and the file is rewritten (atomically, by rename) once it
 * holds twice the window. 0, or -1 with *cause (the id is still remembered
 * in memory). */
int dedup_add(struct dedup *, const char *id, uint64_t now, char **cause);
/* Append the records dedup_add gathered, with one write (call it before
 * the acks they stand for go to the broker). 0, or -1 with *cause. */
int dedup_flush(struct dedup *, char **cause);
/* The number of ids remembered. */
size_t dedup_count(const struct dedup *);
/* The number of records in the file. */
size_t dedup_records(const struct dedup *);
void   dedup_close(struct dedup *);

#endif
