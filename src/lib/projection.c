/* projection.c -- versioned migration: a newer event cut down to the fields of
 * the contract it replaces, so both versions are published while consumers
 * migrate (the seed's "publish both versions"). Pure: no I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "field.h"
#include "projection.h"
#include "proto.h"
#include "util.h"

static int projection_field(const struct field *, const struct field *,
    const char *, char **);

/* The field called name among fields[0, n), or NULL. */
static const struct field *
projection_find(const struct field *fields, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(fields[i].name, name) == 0)
			return (&fields[i]);
	}
	return (NULL);
}

/* Fail with "path: why". */
static int
projection_fail(char **cause, const char *path, const char *why)
{
	xasprintf(cause, "%s: %s", path, why);
	return (-1);
}

/* Are n's bounds within o's? */
static int
projection_bounds(const struct field *n, const struct field *o,
    const char *path, char **cause)
{
	if ((o->set & FIELD_MIN_LENGTH) &&
	    (!(n->set & FIELD_MIN_LENGTH) || n->min_length < o->min_length))
		return (projection_fail(cause, path, "min_length is looser"));
	if ((o->set & FIELD_MAX_LENGTH) &&
	    (!(n->set & FIELD_MAX_LENGTH) || n->max_length > o->max_length))
		return (projection_fail(cause, path, "max_length is looser"));
	if ((o->set & FIELD_MINIMUM) &&
	    (!(n->set & FIELD_MINIMUM) || n->minimum < o->minimum))
		return (projection_fail(cause, path, "minimum is looser"));
	if ((o->set & FIELD_MAXIMUM) &&
	    (!(n->set & FIELD_MAXIMUM) || n->maximum > o->maximum))
		return (projection_fail(cause, path, "maximum is looser"));
	if ((o->set & FIELD_MIN_ITEMS) &&
	    (!(n->set & FIELD_MIN_ITEMS) || n->min_items < o->min_items))
		return (projection_fail(cause, path, "min_items is looser"));
	if ((o->set & FIELD_MAX_ITEMS) &&
	    (!(n->set & FIELD_MAX_ITEMS) || n->max_items > o->max_items))
		return (projection_fail(cause, path, "max_items is looser"));
	if ((o->set & FIELD_PATTERN) &&
	    (!(n->set & FIELD_PATTERN) || strcmp(n->pattern, o->pattern) != 0))
		return (projection_fail(cause, path, "pattern differs"));
	return (0);
}

/* Are n's enum values all among o's? */
static int
projection_values(const struct field *n, const struct field *o,
    const char *path, char **cause)
{
	size_t i, j;

	for (i = 0; i < n->nvalues; i++) {
		for (j = 0; j < o->nvalues; j++) {
			if (strcmp(n->values[i], o->values[j]) == 0)
				break;
		}
		if (j == o->nvalues)
			return (projection_fail(cause, path,
			    "an enum value the "
			    "older contract does not allow"));
	}
	return (0);
}

/* Do objects with n's fields, copied whole, keep o's? */
static int
projection_object(const struct field *n, const struct field *o,
    const char *path, char **cause)
{
	char  *sub;
	size_t i;
	int    rv = 0;

	for (i = 0; rv == 0 && i < n->nfields; i++) {
		xasprintf(&sub, "%s.%s", path, n->fields[i].name);
		if (projection_find(o->fields, o->nfields, n->fields[i].name) ==
			NULL &&
		    !o->additional_fields)
			rv = projection_fail(cause, sub,
			    "not in the older "
			    "contract, which allows no other fields");
		free(sub);
	}
	for (i = 0; rv == 0 && i < o->nfields; i++) {
		xasprintf(&sub, "%s.%s", path, o->fields[i].name);
		rv = projection_field(projection_find(n->fields, n->nfields,
					  o->fields[i].name),
		    &o->fields[i], sub, cause);
		free(sub);
	}
	return (rv);
}

/* Is every value n accepts accepted by o? n NULL: the field is absent. */
static int
projection_field(const struct field *n, const struct field *o, const char *path,
    char **cause)
{
	char *sub;
	int   rv;

	if (n == NULL)
		return (o->optional ?
			0 :
			projection_fail(cause, path,
			    "required by the older contract, absent from the newer"));
	if (n->optional && !o->optional)
		return (projection_fail(cause, path,
		    "optional in the newer "
		    "contract, required in the older"));
	if (n->type != o->type &&
	    !(n->type == FIELD_INTEGER && o->type == FIELD_NUMBER))
		return (projection_fail(cause, path, "the types differ"));
	if (projection_bounds(n, o, path, cause) != 0 ||
	    (o->type == FIELD_ENUM &&
		projection_values(n, o, path, cause) != 0))
		return (-1);
	if (o->type == FIELD_OBJECT)
		return (projection_object(n, o, path, cause));
	if (o->type == FIELD_ARRAY && o->items != NULL) {
		xasprintf(&sub, "%s[]", path);
		rv = projection_field(n->items, o->items, sub, cause);
		free(sub);
		return (rv);
	}
	return (0);
}

/* Is every event of v2, cut down to v1's fields, valid for v1? */
int
projection_check(const struct contract *v2, const struct contract *v1,
    char **cause)
{
	size_t i;

	for (i = 0; i < v1->nfields; i++) {
		if (projection_field(projection_find(v2->fields, v2->nfields,
					 v1->fields[i].name),
			&v1->fields[i], v1->fields[i].name, cause) != 0)
			return (-1);
	}
	return (0);
}

/* Skip one JSON value (already checked) at p; return what follows it. */
static const char *
projection_skip(const char *p, const char *end)
{
	int depth = 0, instr = 0;

	for (; p < end; p++) {
		if (instr) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				instr = 0;
			if (!instr && depth == 0)
				return (p + 1);
			continue;
		}
		if (*p == '"')
			instr = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return (p);
			if (--depth == 0)
				return (p + 1);
		} else if (depth == 0 &&
		    (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' ||
			*p == '\n'))
			return (p);
	}
	return (end);
}

/* Step over JSON whitespace. */
static const char *
projection_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return (p);
}

/* The data object cut down to v1's top-level fields, byte for byte. */
char *
projection_body(const struct contract *v1, const char *data, size_t len,
    size_t *outlen)
{
	struct pbuf b = { NULL, 0, 0 };
	const char *p = data, *end = data + len, *key, *val;
	char	   *name;
	int	    first = 1;

	p = projection_ws(p, end) + 1; /* the '{' */
	pbuf_add(&b, "{", 1);
	while ((p = projection_ws(p, end)) < end && *p == '"') {
		key = p;
		p = projection_skip(p, end);
		name = xstrndup(key + 1, (size_t)(p - key - 2));
		p = projection_ws(p, end) + 1; /* the ':' */
		val = projection_ws(p, end);
		p = projection_skip(val, end);
		if (projection_find(v1->fields, v1->nfields, name) != NULL) {
			if (!first)
				pbuf_add(&b, ",", 1);
			pbuf_add(&b, key, (size_t)(val - key));
			pbuf_add(&b, val, (size_t)(p - val));
			first = 0;
		}
		free(name);
		p = projection_ws(p, end);
		if (p < end && *p == ',')
			p++;
	}
	pbuf_add(&b, "}", 1);
	*outlen = b.len;
	return (b.p);
}
