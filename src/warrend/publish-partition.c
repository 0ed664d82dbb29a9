/* publish-partition.c -- the partition key header of published events.
 * The publisher thread cannot read the loop's contracts (a reload frees
 * them), so the loop gives it a copy of what it needs: the name and key
 * field of each partitioned contract. Events read back from the spool get
 * their key from the contracts in force when they are sent. */
#include <amqp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "contract.h"
#include "partition.h"
#include "publish-partition.h"
#include "util.h"

/* One partitioned contract. */
struct ppart {
	char *type;
	char *key;
};

static pthread_mutex_t ppart_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ppart   *ppart_v;
static size_t	       ppart_n;

/* Free a table. */
static void
ppart_free(struct ppart *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].type);
		free(v[i].key);
	}
	free(v);
}

/* Take each partitioned contract's name and key from set. */
void
publish_partition_set(const struct contract_set *set)
{
	struct ppart *v = NULL, *old;
	size_t	      i, n = 0, oldn;

	for (i = 0; i < set->n; i++) {
		if (set->v[i]->partition_key == NULL)
			continue;
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n].type = xstrdup(set->v[i]->name);
		v[n].key = xstrdup(set->v[i]->partition_key);
		n++;
	}
	pthread_mutex_lock(&ppart_lock);
	old = ppart_v;
	oldn = ppart_n;
	ppart_v = v;
	ppart_n = n;
	pthread_mutex_unlock(&ppart_lock);
	ppart_free(old, oldn);
}

/* The key field of contract type, copied into key; 0 if none. */
static int
ppart_lookup(const char *type, char *key, size_t len)
{
	size_t i;
	int    found = 0;

	pthread_mutex_lock(&ppart_lock);
	for (i = 0; i < ppart_n && !found; i++) {
		if (strcmp(ppart_v[i].type, type) == 0)
			found = (size_t)snprintf(key, len, "%s",
				    ppart_v[i].key) < len;
	}
	pthread_mutex_unlock(&ppart_lock);
	return (found);
}

/* The key text of an event of contract type with this body. */
static int
publish_partition_key(const char *type, const char *body, size_t len, char *buf,
    size_t buflen)
{
	char   key[256];
	cJSON *tree;
	int    rv;

	if (!ppart_lookup(type, key, sizeof key))
		return (0);
	if ((tree = cJSON_ParseWithLength(body, len)) == NULL)
		return (0);
	rv = partition_key_text(tree, key, buf, buflen) == 0;
	cJSON_Delete(tree);
	return (rv);
}

/* The partition key header of an event of contract type into *e, its
 * text in buf. */
int
publish_partition_header(const char *type, const char *body, size_t len,
    amqp_table_entry_t *e, char *buf, size_t buflen)
{
	if (!publish_partition_key(type, body, len, buf, buflen))
		return (0);
	e->key = amqp_cstring_bytes(PARTITION_HEADER);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(buf);
	return (1);
}

/* Free the table. */
void
publish_partition_free(void)
{
	pthread_mutex_lock(&ppart_lock);
	ppart_free(ppart_v, ppart_n);
	ppart_v = NULL;
	ppart_n = 0;
	pthread_mutex_unlock(&ppart_lock);
}
