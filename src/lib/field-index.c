/* field-index.c -- a field list's hash table by name, so validating an
 * object costs one lookup per member however many fields its contract
 * has. Open addressing with linear probing; a slot holds an index into
 * the list plus one (0: empty); at most half the slots are used. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "field.h"
#include "util.h"

/* A slot: 32 bits of the name's hash, the field's index + 1 (0: empty),
 * and where its name is in the index's own copy of the names. The slots
 * and the names are one block: a lookup among a contract's fields reads a
 * few adjacent cache lines, not one per field name (with thousands of
 * contracts, most are cold). */
struct fieldix_slot {
	uint32_t hash;
	uint32_t index;
	uint32_t off;
	uint32_t len;
};

struct fieldix {
	size_t		    mask;  /* slots - 1; slots is a power of 2 */
	char		   *names; /* after the slots */
	struct fieldix_slot slot[];
};

/* An index of the n fields (with unique names); NULL for n == 0. */
struct fieldix *
field_index_new(const struct field *fields, size_t n)
{
	struct fieldix *ix;
	size_t		slots = 4, i, s, bytes = 0, len, off = 0;
	uint64_t	h;

	if (n == 0)
		return (NULL);
	while (slots < n + n / 2 + 1) /* at most two thirds used */
		slots *= 2;
	for (i = 0; i < n; i++)
		bytes += strlen(fields[i].name) + 1;
	ix = xcalloc(1, sizeof *ix + slots * sizeof ix->slot[0] + bytes);
	ix->mask = slots - 1;
	ix->names = (char *)&ix->slot[slots];
	for (i = 0; i < n; i++) {
		len = strlen(fields[i].name);
		memcpy(ix->names + off, fields[i].name, len + 1);
		h = util_fnv1a(fields[i].name, len);
		s = (size_t)h & ix->mask;
		while (ix->slot[s].index != 0)
			s = (s + 1) & ix->mask;
		ix->slot[s].hash = (uint32_t)(h >> 32);
		ix->slot[s].index = (uint32_t)(i + 1);
		ix->slot[s].off = (uint32_t)off;
		ix->slot[s].len = (uint32_t)len;
		off += len + 1;
	}
	return (ix);
}

/* The index of the field called name among the n fields, or -1; without
 * an index (ix NULL) by a scan. */
ssize_t
field_index_find(const struct fieldix *ix, const struct field *fields, size_t n,
    const char *name)
{
	const struct fieldix_slot *sl;
	uint64_t		   h;
	size_t			   s, i, len;

	if (ix == NULL) {
		for (i = 0; i < n; i++) {
			if (strcmp(fields[i].name, name) == 0)
				return ((ssize_t)i);
		}
		return (-1);
	}
	len = strlen(name);
	h = util_fnv1a(name, len);
	for (s = (size_t)h & ix->mask; ix->slot[s].index != 0;
	     s = (s + 1) & ix->mask) {
		sl = &ix->slot[s];
		if (sl->hash == (uint32_t)(h >> 32) && sl->len == len &&
		    memcmp(ix->names + sl->off, name, len) == 0)
			return ((ssize_t)(sl->index - 1));
	}
	return (-1);
}

/* Free an index. */
void
field_index_free(struct fieldix *ix)
{
	free(ix);
}
