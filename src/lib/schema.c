/* schema.c -- event contracts as JSON Schema, in the shape Pydantic v2's
 * model_json_schema() gives a model with the same fields. Pure: no I/O.
 *
 * A contract is a model class: its fields are properties, in order, with
 * Pydantic's titles ("user_agent" is "User Agent"); an optional field is
 * Optional[X] = None, {"anyOf": [X, {"type": "null"}], "default": null}.
 * An enum is written inline, as Pydantic writes a Literal[...]. A nested
 * object is a nested model: a "$defs" entry, referred to by "$ref" without
 * a title, like Pydantic's. additionalProperties is always written: false
 * unless additional_fields (Pydantic's extra="forbid" and extra="allow"),
 * since warren refuses unknown fields by default. A pattern is anchored,
 * "^(?:...)$", and translated to ECMA-262 (schema-pattern.c); when that
 * changed it "x-warren-pattern" keeps the original, and when it cannot be
 * translated only "x-warren-pattern" is written: the schema is then looser
 * than the contract, never stricter. What else a contract says goes into
 * x-warren-routing-key, x-warren-publisher, x-warren-consumers and
 * x-warren-replaces, so that schema_to_contract_json() reads it all back. */
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "field.h"
#include "schema.h"
#include "util.h"

/* Where the schemas of nested objects go and how they are referred to. */
struct schema_out {
	cJSON	   *defs;
	const char *refbase;
};

static cJSON *schema_type(const struct schema_out *, const struct field *,
    const char *);

/* Order two object members by key. */
static int
schema_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return (strcmp(x->string, y->string));
}

/* Sort the keys of v and of every schema in it as Pydantic does; the
 * names of a properties map (map) keep the fields' order. */
static void
schema_sort(cJSON *v, int map)
{
	cJSON **kids, *k;
	size_t	i, n = 0;

	if (!cJSON_IsObject(v)) {
		if (cJSON_IsArray(v))
			for (k = v->child; k != NULL; k = k->next)
				schema_sort(k, 0);
		return;
	}
	for (k = v->child; k != NULL; k = k->next)
		n++;
	if (!map && n > 1) {
		kids = xcalloc(n, sizeof *kids);
		for (i = 0; i < n; i++)
			kids[i] = cJSON_DetachItemViaPointer(v, v->child);
		qsort(kids, n, sizeof *kids, schema_cmp);
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(v, kids[i]);
		free(kids);
	}
	for (k = v->child; k != NULL; k = k->next)
		schema_sort(k, !map && strcmp(k->string, "properties") == 0);
}

/* A field's title as Pydantic makes it: name.title().replace("_", " "). */
static char *
schema_title(const char *name)
{
	char *t = xstrdup(name), *p;
	int   cased = 0, letter;

	for (p = t; *p != '\0'; p++) {
		letter = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
		if (letter && !cased && *p >= 'a')
			*p = (char)(*p - 'a' + 'A');
		else if (letter && cased && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		cased = letter || (unsigned char)*p >= 0x80;
		if (*p == '_')
			*p = ' ';
	}
	return (t);
}

/* prefix followed by name in CamelCase ("user_agent": "UserAgent") and
 * suffix; what is not an ASCII letter or digit is left out, so that the
 * result can name an AsyncAPI component. */
static char *
schema_camel(const char *prefix, const char *name, const char *suffix)
{
	char *s, *p;
	int   start = 1;

	s = xcalloc(1, strlen(prefix) + strlen(name) + strlen(suffix) + 1);
	p = stpcpy(s, prefix);
	for (; *name != '\0'; name++) {
		if (!((*name >= 'a' && *name <= 'z') ||
			(*name >= 'A' && *name <= 'Z') ||
			(*name >= '0' && *name <= '9'))) {
			start = 1;
			continue;
		}
		*p++ = (start && *name >= 'a' && *name <= 'z') ?
		    (char)(*name - 'a' + 'A') :
		    *name;
		start = 0;
	}
	strcpy(p, suffix);
	return (s);
}

/* Add a number member. */
static void
schema_num(cJSON *s, const char *key, double v)
{
	cJSON_AddNumberToObject(s, key, v);
}

/* Add a string field's pattern, anchored and in ECMA-262, and the
 * original when the translation changed it or could not be made. */
static void
schema_pattern(cJSON *s, const char *p)
{
	char *e, *a;

	if ((e = schema_pattern_to_ecma(p)) != NULL) {
		xasprintf(&a, "^(?:%s)$", e);
		cJSON_AddStringToObject(s, "pattern", a);
		free(a);
	}
	if (e == NULL || strcmp(e, p) != 0)
		cJSON_AddStringToObject(s, "x-warren-pattern", p);
	free(e);
}

/* Add a string field's constraints. */
static void
schema_string(cJSON *s, const struct field *f)
{
	if (f->set & FIELD_MIN_LENGTH)
		schema_num(s, "minLength", (double)f->min_length);
	if (f->set & FIELD_MAX_LENGTH)
		schema_num(s, "maxLength", (double)f->max_length);
	if (f->set & FIELD_PATTERN)
		schema_pattern(s, f->pattern);
}

/* A field's property: its type's schema, inside anyOf with null when it
 * is optional, with its description and (unless a $ref) its title. */
static cJSON *
schema_property(const struct schema_out *o, const struct field *f,
    const char *prefix)
{
	cJSON *t, *p, *any;
	char  *name, *title;
	int    ref;

	name = schema_camel(prefix, f->name, "");
	t = schema_type(o, f, name);
	free(name);
	ref = cJSON_HasObjectItem(t, "$ref");
	p = t;
	if (f->optional) {
		p = cJSON_CreateObject();
		any = cJSON_AddArrayToObject(p, "anyOf");
		cJSON_AddItemToArray(any, t);
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "type", "null");
		cJSON_AddItemToArray(any, t);
		cJSON_AddNullToObject(p, "default");
	}
	if (f->description != NULL)
		cJSON_AddStringToObject(p, "description", f->description);
	if (!ref) {
		title = schema_title(f->name);
		cJSON_AddStringToObject(p, "title", title);
		free(title);
	}
	return (p);
}

/* Add the properties, required, additionalProperties and type of an
 * object with these fields; prefix names the nested objects' schemas. */
static void
schema_object_body(const struct schema_out *o, cJSON *s,
    const struct field *fields, size_t n, int additional, const char *prefix)
{
	cJSON *props, *req;
	size_t i;

	props = cJSON_AddObjectToObject(s, "properties");
	req = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		cJSON_AddItemToObject(props, fields[i].name,
		    schema_property(o, &fields[i], prefix));
		if (!fields[i].optional)
			cJSON_AddItemToArray(req,
			    cJSON_CreateString(fields[i].name));
	}
	if (cJSON_GetArraySize(req) > 0)
		cJSON_AddItemToObject(s, "required", req);
	else
		cJSON_Delete(req);
	cJSON_AddBoolToObject(s, "additionalProperties", additional);
	cJSON_AddStringToObject(s, "type", "object");
}

/* A nested object as a schema in defs under name (or name2, name3, ...
 * when it is taken, in any case: classes generated from the schemas may
 * become files), and the $ref to it. */
static cJSON *
schema_object_ref(const struct schema_out *o, const struct field *f,
    const char *name)
{
	cJSON *def, *ref;
	char  *u, *r;
	int    i = 2;

	u = xstrdup(name);
	while (cJSON_HasObjectItem(o->defs, u)) {
		free(u);
		xasprintf(&u, "%s%d", name, i++);
	}
	/* Hold the name while the nested objects take theirs. */
	cJSON_AddNullToObject(o->defs, u);
	def = cJSON_CreateObject();
	schema_object_body(o, def, f->fields, f->nfields, f->additional_fields,
	    u);
	cJSON_AddStringToObject(def, "title", u);
	schema_sort(def, 0);
	cJSON_ReplaceItemInObjectCaseSensitive(o->defs, u, def);
	ref = cJSON_CreateObject();
	xasprintf(&r, "%s%s", o->refbase, u);
	cJSON_AddStringToObject(ref, "$ref", r);
	free(r);
	free(u);
	return (ref);
}

/* An array's schema: items (any, when the contract gives no item type),
 * minItems, maxItems. */
static void
schema_array(const struct schema_out *o, cJSON *s, const struct field *f,
    const char *name)
{
	cJSON *it;
	char  *iname;

	if (f->items == NULL)
		cJSON_AddObjectToObject(s, "items");
	else {
		iname = schema_camel(name, "", "Item");
		it = schema_type(o, f->items, iname);
		free(iname);
		if (f->items->description != NULL)
			cJSON_AddStringToObject(it, "description",
			    f->items->description);
		cJSON_AddItemToObject(s, "items", it);
	}
	if (f->set & FIELD_MIN_ITEMS)
		schema_num(s, "minItems", (double)f->min_items);
	if (f->set & FIELD_MAX_ITEMS)
		schema_num(s, "maxItems", (double)f->max_items);
}

/* The schema of a field's values, without its name, title, description
 * or optionality; name names a nested object's schema. */
static cJSON *
schema_type(const struct schema_out *o, const struct field *f, const char *name)
{
	static const char *const formats[FIELD_NTYPES] = {
		[FIELD_DATETIME] = "date-time",
		[FIELD_DATE] = "date",
		[FIELD_UUID] = "uuid"
	};
	cJSON *s, *a;
	size_t i;

	if (f->type == FIELD_OBJECT)
		return (schema_object_ref(o, f, name));
	s = cJSON_CreateObject();
	if (f->type == FIELD_ENUM) {
		a = cJSON_AddArrayToObject(s, "enum");
		for (i = 0; i < f->nvalues; i++)
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(f->values[i]));
	}
	if (f->type == FIELD_INTEGER || f->type == FIELD_NUMBER ||
	    f->type == FIELD_BOOLEAN || f->type == FIELD_ARRAY)
		cJSON_AddStringToObject(s, "type", field_type_names[f->type]);
	else
		cJSON_AddStringToObject(s, "type", "string");
	if (formats[f->type] != NULL)
		cJSON_AddStringToObject(s, "format", formats[f->type]);
	if (f->type == FIELD_STRING)
		schema_string(s, f);
	if ((f->set & FIELD_MINIMUM) != 0)
		schema_num(s, "minimum", f->minimum);
	if ((f->set & FIELD_MAXIMUM) != 0)
		schema_num(s, "maximum", f->maximum);
	if (f->type == FIELD_ARRAY)
		schema_array(o, s, f, name);
	return (s);
}

/* The contract as a JSON Schema, nested objects in defs as refbase NAME. */
cJSON *
schema_from_contract_defs(const struct contract *c, cJSON *defs,
    const char *refbase)
{
	struct schema_out o = { defs, refbase };
	cJSON		 *s, *a;
	size_t		  i;

	s = cJSON_CreateObject();
	if (c->description != NULL)
		cJSON_AddStringToObject(s, "description", c->description);
	schema_object_body(&o, s, c->fields, c->nfields, c->additional_fields,
	    c->name);
	cJSON_AddStringToObject(s, "title", c->name);
	cJSON_AddStringToObject(s, "x-warren-routing-key", c->routing_key);
	if (c->publisher != NULL)
		cJSON_AddStringToObject(s, "x-warren-publisher", c->publisher);
	if (c->nconsumers > 0) {
		a = cJSON_AddArrayToObject(s, "x-warren-consumers");
		for (i = 0; i < c->nconsumers; i++)
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(c->consumers[i]));
	}
	if (c->replaces != NULL)
		cJSON_AddStringToObject(s, "x-warren-replaces", c->replaces);
	schema_sort(s, 0);
	return (s);
}

/* The contract as a standalone JSON Schema, nested objects in "$defs". */
cJSON *
schema_from_contract(const struct contract *c)
{
	cJSON *s, *defs;

	defs = cJSON_CreateObject();
	s = schema_from_contract_defs(c, defs, "#/$defs/");
	if (defs->child == NULL) {
		cJSON_Delete(defs);
		return (s);
	}
	schema_sort(defs, 0);
	cJSON_AddItemToObject(s, "$defs", defs);
	schema_sort(s, 0);
	return (s);
}
