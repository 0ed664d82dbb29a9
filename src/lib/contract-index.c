/* contract-index.c -- a contract set's hash tables: contracts by name and
 * by routing key in constant time, however many there are. Open addressing
 * with linear probing; a slot holds the key, part of its hash and an index
 * into the set plus one (0: empty), so that a probe touches no contract
 * until the hashes agree: with thousands of contracts each lookup is a
 * cache miss or two, not one per probe. The tables double when half
 * full. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "util.h"

#define CONTRACT_INDEX_FIRST 16 /* slots at first; always a power of 2 */

/* The hash of string s. */
uint64_t
contract_index_hash(const char *s)
{
	return (util_fnv1a(s, strlen(s)));
}

/* Start fetching the name-table slot of the contract named by the len
 * bytes at name (not NUL-terminated), so that the lookup to come finds it
 * cached. */
void
contract_index_prefetch(const struct contract_set *set, const char *name,
    size_t len)
{
	if (set->nslots == 0)
		return;
	__builtin_prefetch(
	    &set->by_name[(size_t)util_fnv1a(name, len) & (set->nslots - 1)]);
}

/* The string a table is keyed on: the name (0) or the routing key (1). */
static const char *
contract_index_key(const struct contract *c, int by_key)
{
	return (by_key ? c->routing_key : c->name);
}

/* Put index i of set into table t (which has room). */
static void
contract_index_put(const struct contract_set *set, struct contract_slot *t,
    size_t i, int by_key)
{
	const char *key = contract_index_key(set->v[i], by_key);
	uint64_t    h = contract_index_hash(key);
	size_t	    mask = set->nslots - 1, s = (size_t)h & mask;

	while (t[s].index != 0)
		s = (s + 1) & mask;
	t[s].key = key;
	t[s].contract = set->v[i];
	t[s].hash = (uint32_t)(h >> 32);
	t[s].index = (uint32_t)(i + 1);
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
	const struct contract_slot *t = by_key ? set->by_key : set->by_name;
	uint64_t		    h;
	size_t			    mask = set->nslots - 1, slot;

	if (set->nslots == 0)
		return (-1);
	h = contract_index_hash(s);
	for (slot = (size_t)h & mask; t[slot].index != 0;
	     slot = (slot + 1) & mask) {
		if (t[slot].hash != (uint32_t)(h >> 32))
			continue;
		/* Fetch the contract while the key is compared. */
		__builtin_prefetch(t[slot].contract);
		if (strcmp(t[slot].key, s) == 0)
			return ((ssize_t)(t[slot].index - 1));
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
