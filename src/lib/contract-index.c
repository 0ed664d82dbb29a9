/* contract-index.c -- a contract set's hash tables: contracts by name and
 * by routing key in constant time, however many there are. Open addressing
 * with linear probing; a slot holds an index into the set plus one (0:
 * empty). The tables double when half full. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "util.h"

#define CONTRACT_INDEX_FIRST 16 /* slots at first; always a power of 2 */

/* FNV-1a, 64 bits: short ASCII names spread well. */
uint64_t
contract_index_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (h);
}

/* The string a table is keyed on: the name (0) or the routing key (1). */
static const char *
contract_index_key(const struct contract *c, int by_key)
{
	return (by_key ? c->routing_key : c->name);
}

/* Put index i of set into table t (which has room). */
static void
contract_index_put(const struct contract_set *set, size_t *t, size_t i,
    int by_key)
{
	size_t mask = set->nslots - 1, s;

	s = (size_t)contract_index_hash(contract_index_key(set->v[i], by_key)) &
	    mask;
	while (t[s] != 0)
		s = (s + 1) & mask;
	t[s] = i + 1;
}

/* Make both tables nslots big and put the set's first n contracts in. */
static void
contract_index_build(struct contract_set *set, size_t nslots, size_t n)
{
	size_t i;

	free(set->by_name);
	free(set->by_key);
	set->nslots = nslots;
	set->by_name = xcalloc(nslots, sizeof *set->by_name);
	set->by_key = xcalloc(nslots, sizeof *set->by_key);
	for (i = 0; i < n; i++) {
		contract_index_put(set, set->by_name, i, 0);
		contract_index_put(set, set->by_key, i, 1);
	}
}

/* Index set->v[i], the contract just appended (growing the tables). */
void
contract_index_add(struct contract_set *set, size_t i)
{
	size_t nslots = set->nslots;

	if (nslots == 0)
		nslots = CONTRACT_INDEX_FIRST;
	while ((i + 1) * 2 > nslots)
		nslots *= 2;
	if (nslots != set->nslots)
		contract_index_build(set, nslots, i);
	contract_index_put(set, set->by_name, i, 0);
	contract_index_put(set, set->by_key, i, 1);
}

/* The index in set of the contract whose name (by_key 0) or routing key
 * (by_key 1) is s, or -1. */
ssize_t
contract_index_find(const struct contract_set *set, const char *s, int by_key)
{
	const size_t *t = by_key ? set->by_key : set->by_name;
	size_t	      mask = set->nslots - 1, slot;

	if (set->nslots == 0)
		return (-1);
	slot = (size_t)contract_index_hash(s) & mask;
	for (; t[slot] != 0; slot = (slot + 1) & mask) {
		if (strcmp(contract_index_key(set->v[t[slot] - 1], by_key),
			s) == 0)
			return ((ssize_t)(t[slot] - 1));
	}
	return (-1);
}

/* Free the tables. */
void
contract_index_free(struct contract_set *set)
{
	free(set->by_name);
	free(set->by_key);
	set->by_name = set->by_key = NULL;
	set->nslots = 0;
}
