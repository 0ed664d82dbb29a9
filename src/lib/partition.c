/* partition.c -- ordered partitions of a contract: the checks of its keys,
 * and the text of an event's key that publishers put in a header and the
 * broker's consistent-hash exchange hashes. Pure: no I/O. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "contract.h"
#include "field.h"
#include "partition.h"
#include "util.h"

/* Is t a type whose values have one text each (so equal keys hash
 * alike on every host)? */
static int
partition_type_ok(enum field_type t)
{
	return (t == FIELD_STRING || t == FIELD_INTEGER || t == FIELD_UUID ||
	    t == FIELD_ENUM || t == FIELD_DATE);
}

/* Check c's partition_key and partitions. */
int
partition_check(const struct contract *c, char **msg)
{
	const struct field *f;
	ssize_t		    k;

	if (c->partition_key == NULL && c->partitions == 0)
		return (0);
	if (c->partition_key == NULL) {
		xasprintf(msg, "partitions needs a partition_key");
		return (-1);
	}
	if (c->partitions < 1 || c->partitions > PARTITION_MAX) {
		xasprintf(msg,
		    "partitions must be 1 to %d with a partition_key, not %lld",
		    PARTITION_MAX, c->partitions);
		return (-1);
	}
	if ((k = field_index_find(c->index, c->fields, c->nfields,
		 c->partition_key)) == -1) {
		xasprintf(msg,
		    "partition_key \"%s\" is not a top-level field of the "
		    "contract",
		    c->partition_key);
		return (-1);
	}
	f = &c->fields[k];
	if (f->optional || !partition_type_ok(f->type)) {
		xasprintf(msg,
		    "partition_key \"%s\" must be a required string, integer, "
		    "uuid, enum or date field",
		    c->partition_key);
		return (-1);
	}
	return (0);
}

/* The text of the key's value in data. */
int
partition_key_text(const cJSON *data, const char *key, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);
	double	     d;

	if (v == NULL)
		return (-1);
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		if ((size_t)snprintf(buf, len, "%s", v->valuestring) >= len)
			return (-1);
		return (0);
	}
	if (!cJSON_IsNumber(v))
		return (-1);
	d = v->valuedouble;
	if (d != floor(d) || fabs(d) > 9007199254740992.0)
		return (-1); /* beyond 2^53 a double has no one text */
	snprintf(buf, len, "%lld", (long long)d);
	return (0);
}

/* Add partition_key and partitions to the contract's JSON. */
void
partition_to_json(const struct contract *c, cJSON *o)
{
	if (c->partition_key == NULL)
		return;
	cJSON_AddStringToObject(o, "partition_key", c->partition_key);
	cJSON_AddNumberToObject(o, "partitions", (double)c->partitions);
}
