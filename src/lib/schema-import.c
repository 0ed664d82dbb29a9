/* schema-import.c -- a JSON Schema (written by schema.c, or one in the
 * shape Pydantic v2 gives a model) read back as the JSON contract_to_json()
 * gives for a contract: the first step of defining a contract by a schema.
 * Pure: no I/O.
 *
 * What a contract cannot say is an error, not dropped: exclusive bounds
 * but on an integer (where gt=0 is minimum 1), oneOf, formats other than
 * date-time, date and uuid, null array items, and any keyword that is
 * neither read here nor an annotation.
 * A property is optional when it is not required or may be null (warren
 * has no "present but maybe null"). additionalProperties absent means
 * extra fields are allowed, as in JSON Schema. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "field.h"
#include "schema.h"
#include "util.h"

/* Reading a schema back: the document its "$ref"s resolve in, and where
 * an error goes. */
struct schema_import {
	const cJSON *root;
	char	   **cause;
};

#define SCHEMA_IMPORT_MAX_DEPTH 32 /* a recursive $ref must end */

/* The keywords a contract has no counterpart for; the first two, the
 * exclusive bounds, have one on an integer. */
static const char *const schema_import_unsupported[] = { "exclusiveMinimum",
	"exclusiveMaximum", "multipleOf", "uniqueItems", "oneOf", "not", "if",
	"patternProperties", "propertyNames", "minProperties", "maxProperties",
	"prefixItems", "contains", "dependentRequired", "dependentSchemas",
	"unevaluatedProperties", "unevaluatedItems", "contentEncoding",
	"contentMediaType", "contentSchema", "allOf", "anyOf",
	"additionalItems", "minContains", "maxContains", "dependencies",
	"$dynamicRef" };
#define SCHEMA_IMPORT_NUNSUPPORTED \
	(sizeof schema_import_unsupported / sizeof schema_import_unsupported[0])

/* The keywords read, or that only annotate (as do "x-" ones); any other
 * is refused rather than passed over. */
static const char *const schema_import_known[] = { "type", "format", "enum",
	"const", "properties", "required", "additionalProperties", "items",
	"minLength", "maxLength", "pattern", "minimum", "maximum",
	"exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
	"description", "title", "default", "examples", "deprecated", "readOnly",
	"writeOnly", "$comment", "$schema", "$id", "$defs", "definitions" };
#define SCHEMA_IMPORT_NKNOWN \
	(sizeof schema_import_known / sizeof schema_import_known[0])

static cJSON *schema_import_field(const struct schema_import *, const char *,
    const cJSON *, int, const char *, int);

/* Fail with "schema: PATH: message" (or "schema: message" at the top). */
static int __attribute__((format(printf, 3, 4)))
schema_import_fail(const struct schema_import *in, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	char   *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (path == NULL)
		xasprintf(in->cause, "schema: %s", msg);
	else
		xasprintf(in->cause, "schema: %s: %s", path, msg);
	free(msg);
	return (-1);
}

/* Has s the member key (as spelt: JSON Schema keywords are
 * case-sensitive)? */
static int
schema_import_has(const cJSON *s, const char *key)
{
	return (cJSON_GetObjectItemCaseSensitive(s, key) != NULL);
}

/* A member of s that must be a string, or NULL. */
static const char *
schema_import_str(const cJSON *s, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);

	return (cJSON_IsString(v) ? v->valuestring : NULL);
}

/* The value a local "$ref" ("#/$defs/Name") points to in root, or NULL. */
static const cJSON *
schema_import_pointer(const cJSON *root, const char *ref)
{
	const cJSON *v = root;
	const char  *p, *end;
	char	    *seg, *q;

	if (ref[0] != '#')
		return (NULL);
	for (p = ref + 1; *p == '/' && v != NULL; p = end) {
		end = p + 1 + strcspn(p + 1, "/");
		seg = xstrndup(p + 1, (size_t)(end - p - 1));
		for (q = seg; (q = strchr(q, '~')) != NULL; q++) {
			if (q[1] == '1' || q[1] == '0') {
				*q = q[1] == '1' ? '/' : '~';
				memmove(q + 1, q + 2, strlen(q + 2) + 1);
			}
		}
		v = cJSON_GetObjectItemCaseSensitive(v, seg);
		free(seg);
	}
	return (*p == '\0' ? v : NULL);
}

/* Follow "$ref"s (and Pydantic 2.0's one-element allOf around one). */
static const cJSON *
schema_import_deref(const struct schema_import *in, const cJSON *s,
    const char *path)
{
	const cJSON *all, *next;
	const char  *ref;
	int	     hops;

	for (hops = 0; hops < SCHEMA_IMPORT_MAX_DEPTH; hops++) {
		if (!cJSON_IsObject(s)) {
			schema_import_fail(in, path,
			    "a schema must be a JSON "
			    "object");
			return (NULL);
		}
		all = cJSON_GetObjectItemCaseSensitive(s, "allOf");
		if (cJSON_IsArray(all) && cJSON_GetArraySize(all) == 1) {
			s = all->child;
			continue;
		}
		if ((ref = schema_import_str(s, "$ref")) == NULL)
			return (s);
		if ((next = schema_import_pointer(in->root, ref)) == NULL) {
			schema_import_fail(in, path,
			    "$ref \"%s\" does not "
			    "lead to a schema in this document",
			    ref);
			return (NULL);
		}
		s = next;
	}
	schema_import_fail(in, path, "too many $ref hops");
	return (NULL);
}

/* Is s exactly {"type": "null"}? */
static int
schema_import_null(const cJSON *s)
{
	const char *t = schema_import_str(s, "type");

	return (t != NULL && strcmp(t, "null") == 0 &&
	    cJSON_GetArraySize(s) == 1);
}

/* The schema of p's value when it is not null: X of anyOf [X, {"type":
 * "null"}]; *nullable says whether null was allowed. */
static const cJSON *
schema_import_nonnull(const cJSON *p, int *nullable)
{
	const cJSON *any;

	*nullable = 0;
	any = cJSON_GetObjectItemCaseSensitive(p, "anyOf");
	if (!cJSON_IsArray(any) || cJSON_GetArraySize(any) != 2)
		return (p);
	*nullable = 1;
	if (schema_import_null(any->child->next))
		return (any->child);
	if (schema_import_null(any->child))
		return (any->child->next);
	*nullable = 0;
	return (p);
}

/* Which string type the format of a string schema makes it; -1 if
 * none of ours. */
static int
schema_import_format(const struct schema_import *in, const cJSON *t,
    const char *path)
{
	static const struct {
		const char     *format;
		enum field_type type;
	} formats[] = {
		{ "date-time", FIELD_DATETIME },
		{ "date", FIELD_DATE },
		{ "uuid", FIELD_UUID },
	};
	const char *format;
	size_t	    i;

	if ((format = schema_import_str(t, "format")) == NULL)
		return (FIELD_STRING);
	for (i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(format, formats[i].format) == 0)
			return (formats[i].type);
	return (schema_import_fail(in, path, "format \"%s\" is not supported",
	    format));
}

/* The first keyword of t that is neither read nor an annotation, or
 * NULL. */
static const char *
schema_import_unknown(const cJSON *t)
{
	const cJSON *k;
	size_t	     i;

	for (k = t->child; k != NULL; k = k->next) {
		if (strncmp(k->string, "x-", 2) == 0)
			continue;
		for (i = 0; i < SCHEMA_IMPORT_NKNOWN; i++)
			if (strcmp(k->string, schema_import_known[i]) == 0)
				break;
		if (i == SCHEMA_IMPORT_NKNOWN)
			return (k->string);
	}
	return (NULL);
}

/* Which field type the (dereferenced) schema t describes; -1 if none. */
static int
schema_import_kind(const struct schema_import *in, const cJSON *t,
    const char *path)
{
	const char *type = schema_import_str(t, "type"), *unknown;
	size_t	    i;

	for (i = 0; i < SCHEMA_IMPORT_NUNSUPPORTED; i++) {
		if (i < 2 && type != NULL && strcmp(type, "integer") == 0)
			continue; /* exclusive bounds: see _bounds */
		if (schema_import_has(t, schema_import_unsupported[i]))
			return (schema_import_fail(in, path,
			    "%s is not "
			    "supported",
			    schema_import_unsupported[i]));
	}
	if ((unknown = schema_import_unknown(t)) != NULL)
		return (schema_import_fail(in, path, "%s is not supported",
		    unknown));
	if (schema_import_has(t, "enum") || schema_import_has(t, "const"))
		return (FIELD_ENUM);
	if (type == NULL) {
		if (schema_import_has(t, "properties"))
			return (FIELD_OBJECT);
		return (schema_import_fail(in, path,
		    "no type (a type that is "
		    "one string, or an anyOf of one and null)"));
	}
	if (strcmp(type, "string") == 0)
		return (schema_import_format(in, t, path));
	for (i = 0; i < FIELD_NTYPES; i++)
		if (strcmp(type, field_type_names[i]) == 0)
			return ((int)i);
	return (schema_import_fail(in, path, "type \"%s\" is not supported",
	    type));
}

/* Copy t's member key, a count, to out as name. */
static int
schema_import_count(const struct schema_import *in, const cJSON *t,
    const char *key, cJSON *out, const char *name, const char *path)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);

	if (v == NULL)
		return (0);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble > 9007199254740992.0)
		return (schema_import_fail(in, path,
		    "%s must be a whole "
		    "number, 0 or more",
		    key));
	cJSON_AddNumberToObject(out, name, v->valuedouble);
	return (0);
}

/* Copy t's minimum and maximum to out. An integer's exclusive bound is
 * the inclusive one next to it (exclusiveMinimum 0 is minimum 1), or the
 * inclusive bound if that is tighter; a number's was refused before. */
static int
schema_import_bounds(const struct schema_import *in, const cJSON *t, cJSON *out,
    const char *path)
{
	static const char *const keys[] = { "minimum", "maximum" };
	static const char *const excl[] = { "exclusiveMinimum",
		"exclusiveMaximum" };
	const cJSON		*v, *x;
	double			 b, e;
	int			 i;

	for (i = 0; i < 2; i++) {
		v = cJSON_GetObjectItemCaseSensitive(t, keys[i]);
		x = cJSON_GetObjectItemCaseSensitive(t, excl[i]);
		if ((v != NULL && !cJSON_IsNumber(v)) ||
		    (x != NULL &&
			(!cJSON_IsNumber(x) ||
			    fabs(x->valuedouble) > 9007199254740992.0)))
			return (schema_import_fail(in, path,
			    "%s must be a "
			    "number",
			    v != NULL && !cJSON_IsNumber(v) ? keys[i] :
							      excl[i]));
		if (v == NULL && x == NULL)
			continue;
		b = v != NULL ? v->valuedouble : 0;
		if (x != NULL) {
			e = i == 0 ? floor(x->valuedouble) + 1 :
				     ceil(x->valuedouble) - 1;
			if (v == NULL || (i == 0 ? e > b : e < b))
				b = e;
		}
		cJSON_AddNumberToObject(out, keys[i], b);
	}
	return (0);
}

/* Copy a string's minLength, maxLength and pattern to out: the original
 * pattern when we kept it, else the JSON Schema one, made whole-match. */
static int
schema_import_string(const struct schema_import *in, const cJSON *t, cJSON *out,
    const char *path)
{
	const char *x, *p, *q;
	char	   *pat;

	if (schema_import_count(in, t, "minLength", out, "min_length", path) !=
		0 ||
	    schema_import_count(in, t, "maxLength", out, "max_length", path) !=
		0)
		return (-1);
	x = schema_import_str(t, "x-warren-pattern");
	p = schema_import_str(t, "pattern");
	if (x != NULL)
		cJSON_AddStringToObject(out, "pattern", x);
	else if (p != NULL) {
		/* \d, \w, \s, \b, \p{..} and the like mean something
		 * else (or nothing) to POSIX regcomp: refuse, never change
		 * what the pattern matches. */
		for (q = p; (q = strchr(q, '\\')) != NULL; q += 2) {
			if (q[1] == '\0' || isalnum((unsigned char)q[1]))
				return (schema_import_fail(in, path,
				    "pattern "
				    "escape \"\\%c\" has no POSIX equivalent: "
				    "write it as a bracket expression, e.g. "
				    "[0-9] for \\d",
				    q[1] != '\0' ? q[1] : ' '));
		}
		pat = schema_pattern_from_ecma(p);
		cJSON_AddStringToObject(out, "pattern", pat);
		free(pat);
	} else if (schema_import_has(t, "pattern"))
		return (schema_import_fail(in, path,
		    "pattern must be a "
		    "string"));
	return (0);
}

/* Copy an enum's values (enum, or const) to out: strings, at least one. */
static int
schema_import_values(const struct schema_import *in, const cJSON *t, cJSON *out,
    const char *path)
{
	const cJSON *e, *v;
	cJSON	    *a;

	a = cJSON_AddArrayToObject(out, "values");
	if ((e = cJSON_GetObjectItemCaseSensitive(t, "enum")) == NULL) {
		v = cJSON_GetObjectItemCaseSensitive(t, "const");
		if (!cJSON_IsString(v))
			return (schema_import_fail(in, path,
			    "const must be a "
			    "string"));
		cJSON_AddItemToArray(a, cJSON_CreateString(v->valuestring));
		return (0);
	}
	if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) == 0)
		return (schema_import_fail(in, path,
		    "enum must be a non-empty "
		    "array"));
	cJSON_ArrayForEach(v, e) {
		if (!cJSON_IsString(v))
			return (schema_import_fail(in, path,
			    "enum values must "
			    "be strings"));
		cJSON_AddItemToArray(a, cJSON_CreateString(v->valuestring));
	}
	return (0);
}

/* Is name among the strings of the required array req? */
static int
schema_import_required(const cJSON *req, const char *name)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, req) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, name) == 0)
			return (1);
	}
	return (0);
}

/* Copy an object's additionalProperties (absent or true: extra fields
 * are allowed) and its properties, in order, to out. */
static int
schema_import_object(const struct schema_import *in, const cJSON *t, cJSON *out,
    const char *path, int depth)
{
	const cJSON *props, *req, *ap, *p;
	cJSON	    *fields, *f;
	char	    *sub;

	props = cJSON_GetObjectItemCaseSensitive(t, "properties");
	req = cJSON_GetObjectItemCaseSensitive(t, "required");
	ap = cJSON_GetObjectItemCaseSensitive(t, "additionalProperties");
	if ((props != NULL && !cJSON_IsObject(props)) ||
	    (req != NULL && !cJSON_IsArray(req)))
		return (schema_import_fail(in, path,
		    "properties must be an "
		    "object and required an array"));
	if (ap != NULL && !cJSON_IsBool(ap))
		return (schema_import_fail(in, path,
		    "additionalProperties "
		    "must be true or false"));
	cJSON_AddBoolToObject(out, "additional_fields", !cJSON_IsFalse(ap));
	fields = cJSON_AddArrayToObject(out, "fields");
	for (p = props == NULL ? NULL : props->child; p != NULL; p = p->next) {
		if (path == NULL)
			sub = xstrdup(p->string);
		else
			xasprintf(&sub, "%s.%s", path, p->string);
		f = schema_import_field(in, p->string, p,
		    schema_import_required(req, p->string), sub, depth + 1);
		free(sub);
		if (f == NULL)
			return (-1);
		cJSON_AddItemToArray(fields, f);
	}
	return (0);
}

/* Copy an array's items (unless any item goes), minItems and maxItems. */
static int
schema_import_array(const struct schema_import *in, const cJSON *t, cJSON *out,
    const char *path, int depth)
{
	const cJSON *it;
	cJSON	    *f;
	char	    *sub;

	it = cJSON_GetObjectItemCaseSensitive(t, "items");
	if (it != NULL && !(cJSON_IsObject(it) && it->child == NULL)) {
		xasprintf(&sub, "%s[]", path == NULL ? "" : path);
		f = schema_import_field(in, NULL, it, 1, sub, depth + 1);
		free(sub);
		if (f == NULL)
			return (-1);
		cJSON_AddItemToObject(out, "items", f);
	}
	if (schema_import_count(in, t, "minItems", out, "min_items", path) !=
		0 ||
	    schema_import_count(in, t, "maxItems", out, "max_items", path) != 0)
		return (-1);
	return (0);
}

/* Copy the constraints of a field of this type, in contract_to_json()'s
 * order. */
static int
schema_import_constraints(const struct schema_import *in, int type,
    const cJSON *t, cJSON *out, const char *path, int depth)
{
	switch (type) {
	case FIELD_STRING:
		return (schema_import_string(in, t, out, path));
	case FIELD_INTEGER:
	case FIELD_NUMBER:
		return (schema_import_bounds(in, t, out, path));
	case FIELD_ENUM:
		return (schema_import_values(in, t, out, path));
	case FIELD_OBJECT:
		return (schema_import_object(in, t, out, path, depth));
	case FIELD_ARRAY:
		return (schema_import_array(in, t, out, path, depth));
	default:
		return (0);
	}
}

/* A property named name (or, without one, an array's items) as the JSON
 * of a contract field. */
static cJSON *
schema_import_field(const struct schema_import *in, const char *name,
    const cJSON *p, int required, const char *path, int depth)
{
	const cJSON *inner, *t;
	const char  *desc;
	cJSON	    *out;
	int	     nullable, type;

	if (depth > SCHEMA_IMPORT_MAX_DEPTH) {
		schema_import_fail(in, path,
		    "objects nested too deeply (a "
		    "recursive $ref?)");
		return (NULL);
	}
	inner = schema_import_nonnull(p, &nullable);
	if (nullable && name == NULL) {
		schema_import_fail(in, path, "array items may not be null");
		return (NULL);
	}
	if ((t = schema_import_deref(in, inner, path)) == NULL ||
	    (type = schema_import_kind(in, t, path)) == -1)
		return (NULL);
	if ((desc = schema_import_str(p, "description")) == NULL &&
	    (desc = schema_import_str(inner, "description")) == NULL)
		desc = schema_import_str(t, "description");
	out = cJSON_CreateObject();
	if (name != NULL)
		cJSON_AddStringToObject(out, "name", name);
	cJSON_AddStringToObject(out, "type", field_type_names[type]);
	if (name != NULL)
		cJSON_AddBoolToObject(out, "optional", !required || nullable);
	if (desc != NULL)
		cJSON_AddStringToObject(out, "description", desc);
	if (schema_import_constraints(in, type, t, out, path, depth) != 0) {
		cJSON_Delete(out);
		return (NULL);
	}
	return (out);
}

/* Copy the contract's name, routing key, description, publisher,
 * consumers and replaces from the top of the schema to out. */
static int
schema_import_contract(const struct schema_import *in, const cJSON *t,
    cJSON *out)
{
	const cJSON *cons, *v;
	const char  *s;
	cJSON	    *a;

	if ((s = schema_import_str(t, "title")) == NULL ||
	    !contract_name_valid(s))
		return (schema_import_fail(in, NULL,
		    "title must be a contract "
		    "name (^[A-Z][A-Za-z0-9]*$)"));
	cJSON_AddStringToObject(out, "name", s);
	if ((s = schema_import_str(t, "x-warren-routing-key")) != NULL)
		cJSON_AddStringToObject(out, "routing_key", s);
	if ((s = schema_import_str(t, "description")) != NULL)
		cJSON_AddStringToObject(out, "description", s);
	if ((s = schema_import_str(t, "x-warren-publisher")) != NULL)
		cJSON_AddStringToObject(out, "publisher", s);
	a = cJSON_AddArrayToObject(out, "consumers");
	cons = cJSON_GetObjectItemCaseSensitive(t, "x-warren-consumers");
	cJSON_ArrayForEach(v, cons) {
		if (!cJSON_IsString(v))
			return (schema_import_fail(in, NULL,
			    "x-warren-consumers must hold strings"));
		cJSON_AddItemToArray(a, cJSON_CreateString(v->valuestring));
	}
	if ((s = schema_import_str(t, "x-warren-replaces")) != NULL)
		cJSON_AddStringToObject(out, "replaces", s);
	return (0);
}

/* A JSON Schema as the JSON contract_to_json() gives for the contract. */
cJSON *
schema_to_contract_json(const cJSON *schema, char **cause)
{
	struct schema_import in = { schema, cause };
	const cJSON	    *t;
	cJSON		    *out;

	*cause = NULL;
	if ((t = schema_import_deref(&in, schema, NULL)) == NULL)
		return (NULL);
	out = cJSON_CreateObject();
	if (schema_import_contract(&in, t, out) != 0)
		goto fail;
	if (schema_import_kind(&in, t, NULL) != FIELD_OBJECT) {
		if (*cause == NULL)
			schema_import_fail(&in, NULL,
			    "the schema must be of "
			    "type object");
		goto fail;
	}
	if (schema_import_object(&in, t, out, NULL, 0) != 0)
		goto fail;
	return (out);

fail:
	cJSON_Delete(out);
	return (NULL);
}
