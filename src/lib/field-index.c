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

struct fieldix {
	size_t mask; /* slots - 1; slots is a power of 2 */
	size_t slot[];
};

/* An index of the n fields (with unique names); NULL for n == 0. */
struct fieldix *
field_index_new(const struct field *fields, size_t n)
{
	struct fieldix *ix;
	size_t		slots = 4, i, s;

	if (n == 0)
		return (NULL);
	while (slots < n * 2)
		slots *= 2;
	ix = xcalloc(1, sizeof *ix + slots * sizeof ix->slot[0]);
	ix->mask = slots - 1;
	for (i = 0; i < n; i++) {
		s = (size_t)contract_index_hash(fields[i].name) & ix->mask;
		while (ix->slot[s] != 0)
			s = (s + 1) & ix->mask;
		ix->slot[s] = i + 1;
	}
	return (ix);
}

/* The index of the field called name among the n fields, or -1; without
 * an index (ix NULL) by a scan. */
ssize_t
field_index_find(const struct fieldix *ix, const struct field *fields, size_t n,
    const char *name)
{
	size_t s, i;

	if (ix == NULL) {
		for (i = 0; i < n; i++) {
			if (strcmp(fields[i].name, name) == 0)
				return ((ssize_t)i);
		}
		return (-1);
	}
	s = (size_t)contract_index_hash(name) & ix->mask;
	for (; ix->slot[s] != 0; s = (s + 1) & ix->mask) {
		if (strcmp(fields[ix->slot[s] - 1].name, name) == 0)
			return ((ssize_t)(ix->slot[s] - 1));
	}
	return (-1);
}

/* Free an index. */
void
field_index_free(struct fieldix *ix)
{
	free(ix);
}
