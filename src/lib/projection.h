/* projection.h -- versioned migration: a newer event cut down to the fields of
 * the contract it replaces, so both versions are published while consumers
 * migrate. Pure: no I/O. */
#ifndef WARREN_PROJECTION_H
#define WARREN_PROJECTION_H

#include <stddef.h>

struct contract;

/* Is every event that keeps v2, cut down to v1's fields, sure to keep v1?
 * If not, return -1 with *cause naming the field and why (caller frees). */
int projection_check(const struct contract *v2, const struct contract *v1,
    char **cause);

/* The raw data object (already checked JSON) cut down to v1's top-level
 * fields, members copied byte for byte in their order; caller frees. */
char *projection_body(const struct contract *v1, const char *data, size_t len,
    size_t *outlen);

#endif
