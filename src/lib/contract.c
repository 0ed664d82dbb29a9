/* contract.c -- event contracts: compiled once from the config, then looked
 * up and listed; validate.c checks events against them. Pure: no I/O. */
#include <sys/types.h>

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "contract.h"
#include "field.h"
#include "partition.h"
#include "util.h"

#define T(type) (1 << (type))
#define T_ANY ((1 << FIELD_NTYPES) - 1)

/* The type names, as written in the config, indexed by enum field_type. */
const char *const field_type_names[FIELD_NTYPES] = { "string", "integer",
	"number", "boolean", "datetime", "date", "uuid", "enum", "object",
	"array" };

/* What an error message while compiling needs: whose, where, and where
 * to put it. */
struct contract_ctx {
	const char *contract; /* NULL until the name is known */
	const char *path;     /* field path, NULL at the top */
	char	  **cause;
};

static void   field_free(struct field *);
static int    field_compile(const struct contract_ctx *, struct field *,
       const config_setting_t *, int);
static cJSON *field_to_json(const struct field *);

/* The file and line a setting came from, or its nearest parent's. */
static void
contract_where(const config_setting_t *s, const char **file, int *line)
{
	const config_setting_t *p;

	*file = NULL;
	*line = 0;
	for (p = s; p != NULL; p = config_setting_parent(p)) {
		if (*file == NULL)
			*file = config_setting_source_file(p);
		if (*line == 0)
			*line = config_setting_source_line(p);
	}
	if (*file == NULL)
		*file = "(string)";
}

/* Fail with "FILE:LINE: contract NAME: field PATH: message". */
static int __attribute__((format(printf, 3, 4)))
contract_fail(const struct contract_ctx *cx, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list	    ap;
	const char *file;
	char	   *msg;
	int	    line;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	contract_where(s, &file, &line);
	if (cx->contract == NULL)
		xasprintf(cx->cause, "%s:%d: %s", file, line, msg);
	else if (cx->path == NULL)
		xasprintf(cx->cause, "%s:%d: contract %s: %s", file, line,
		    cx->contract, msg);
	else
		xasprintf(cx->cause, "%s:%d: contract %s: field %s: %s", file,
		    line, cx->contract, cx->path, msg);
	free(msg);
	return (-1);
}

/* A double as the shortest text that reads back as the same value. */
void
contract_fmt_num(char *buf, size_t len, double v)
{
	int prec;

	if (floor(v) == v && fabs(v) < 1e17) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

/* Read a string setting. */
static int
contract_get_string(const struct contract_ctx *cx, const config_setting_t *s,
    const char **v)
{
	*v = NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return (contract_fail(cx, s, "%s must be a string",
		    config_setting_name(s)));
	*v = config_setting_get_string(s);
	return (0);
}

/* Read a string setting into a copy. */
static int
contract_dup_string(const struct contract_ctx *cx, const config_setting_t *s,
    char **v)
{
	const char *p;

	if (contract_get_string(cx, s, &p) != 0)
		return (-1);
	*v = xstrdup(p);
	return (0);
}

/* Read a boolean setting. */
static int
contract_get_bool(const struct contract_ctx *cx, const config_setting_t *s,
    int *v)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return (contract_fail(cx, s, "%s must be true or false",
		    config_setting_name(s)));
	*v = config_setting_get_bool(s);
	return (0);
}

/* Refuse an integer literal that libconfig cut to 32 bits. */
static int
contract_int_check(const struct contract_ctx *cx, const config_setting_t *s)
{
	char lit[64];

	if (conf_int_literal_ok(s, lit, sizeof lit))
		return (0);
	return (contract_fail(cx, s,
	    "%s = %s was read as %lld (libconfig "
	    "keeps 32 bits without an L suffix); write %sL",
	    config_setting_name(s), lit, (long long)config_setting_get_int64(s),
	    lit));
}

/* Read a non-negative integer setting. */
static int
contract_get_count(const struct contract_ctx *cx, const config_setting_t *s,
    long long *v)
{
	*v = 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return (contract_fail(cx, s, "%s must be an integer",
		    config_setting_name(s)));
	if (contract_int_check(cx, s) != 0)
		return (-1);
	*v = config_setting_get_int64(s);
	if (*v < 0)
		return (contract_fail(cx, s, "%s must be 0 or more, not %lld",
		    config_setting_name(s), *v));
	return (0);
}

/* Read an array or list of strings (or, with ids, of numeric ids). */
static int
contract_get_strings(const struct contract_ctx *cx, const config_setting_t *s,
    int ids, char ***v, size_t *n)
{
	const config_setting_t *e;
	int			i, len;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return (contract_fail(cx, s, "%s must be an array of strings",
		    config_setting_name(s)));
	len = config_setting_length(s);
	*v = xcalloc((size_t)len, sizeof **v);
	*n = 0;
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) == CONFIG_TYPE_STRING)
			(*v)[i] = xstrdup(config_setting_get_string(e));
		else if (ids && config_setting_type(e) == CONFIG_TYPE_INT &&
		    config_setting_get_int(e) >= 0)
			xasprintf(&(*v)[i], "%d", config_setting_get_int(e));
		else
			return (contract_fail(cx, e,
			    "%s must be an array of "
			    "strings",
			    config_setting_name(s)));
		(*n)++;
	}
	return (0);
}

/* Free an array of n strings. */
static void
contract_free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Why "^(" p ")$" would not anchor all of p, or NULL when it would. A
 * pattern such as "a)|(b" would close the wrapper's group early. */
static const char *
contract_pattern_escapes(const char *p)
{
	int  depth = 0;
	char c;

	for (; *p != '\0'; p++) {
		if (*p == '\\') {
			if (p[1] == '\0')
				return ("ends with a backslash");
			if (p[1] >= '1' && p[1] <= '9')
				return ("back-references are not allowed");
			p++;
		} else if (*p == '[') {
			/* a bracket expression: ( ) \ are ordinary inside */
			p += (p[1] == '^') ? 2 : 1;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']') {
				if (*p == '[' &&
				    (p[1] == ':' || p[1] == '.' ||
					p[1] == '=')) {
					c = p[1];
					for (p += 2; *p != '\0'; p++)
						if (p[0] == c && p[1] == ']')
							break;
					if (*p == '\0')
						return (NULL);
					p++;
				}
				p++;
			}
			if (*p == '\0')
				return (NULL); /* regcomp reports it */
		} else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			return ("has a ')' without a matching '('");
	}
	return (NULL);
}

/* Handle pattern: a POSIX ERE that must match the whole string. */
static int
field_key_pattern(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	const char *p, *why;
	char	   *re, err[256];
	int	    rc;

	if (contract_get_string(cx, s, &p) != 0)
		return (-1);
	if ((why = contract_pattern_escapes(p)) != NULL)
		return (contract_fail(cx, s, "bad pattern \"%s\": %s", p, why));
	xasprintf(&re, "^(%s)$", p);
	rc = regcomp(&f->regex, re, REG_EXTENDED | REG_NOSUB);
	free(re);
	if (rc != 0) {
		regerror(rc, &f->regex, err, sizeof err);
		return (contract_fail(cx, s, "bad pattern \"%s\": %s", p, err));
	}
	f->pattern = xstrdup(p);
	f->set |= FIELD_PATTERN;
	return (0);
}

/* Handle min_length, max_length, min_items and max_items. */
static int
field_key_count(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	long long   v;

	if (contract_get_count(cx, s, &v) != 0)
		return (-1);
	if (strcmp(name, "min_length") == 0) {
		f->min_length = v;
		f->set |= FIELD_MIN_LENGTH;
	} else if (strcmp(name, "max_length") == 0) {
		f->max_length = v;
		f->set |= FIELD_MAX_LENGTH;
	} else if (strcmp(name, "min_items") == 0) {
		f->min_items = v;
		f->set |= FIELD_MIN_ITEMS;
	} else {
		f->max_items = v;
		f->set |= FIELD_MAX_ITEMS;
	}
	return (0);
}

/* Handle minimum and maximum: an integer or a float. */
static int
field_key_bound(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	double v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (contract_int_check(cx, s) != 0)
			return (-1);
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		return (contract_fail(cx, s, "%s must be a number",
		    config_setting_name(s)));
	}
	if (strcmp(config_setting_name(s), "minimum") == 0) {
		f->minimum = v;
		f->set |= FIELD_MINIMUM;
	} else {
		f->maximum = v;
		f->set |= FIELD_MAXIMUM;
	}
	return (0);
}

/* Handle values: the strings an enum accepts, at least one, no repeats. */
static int
field_key_values(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	size_t i, j;

	if (contract_get_strings(cx, s, 0, &f->values, &f->nvalues) != 0)
		return (-1);
	if (f->nvalues == 0)
		return (contract_fail(cx, s, "values must not be empty"));
	for (i = 0; i < f->nvalues; i++) {
		for (j = i + 1; j < f->nvalues; j++) {
			if (strcmp(f->values[i], f->values[j]) == 0)
				return (contract_fail(cx, s,
				    "duplicate enum "
				    "value \"%s\"",
				    f->values[i]));
		}
	}
	return (0);
}

/* Check that a list element can be a field and give it a unique name. */
static int
field_name(const struct contract_ctx *cx, const config_setting_t *e, int i,
    const struct field *prev, const char **name)
{
	const config_setting_t *s;
	int			j;

	*name = NULL;
	if (!config_setting_is_group(e))
		return (contract_fail(cx, e, "field #%d is not a group",
		    i + 1));
	if ((s = config_setting_get_member(e, "name")) == NULL)
		return (contract_fail(cx, e, "field #%d has no name", i + 1));
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return (contract_fail(cx, s, "field #%d: name must be a string",
		    i + 1));
	*name = config_setting_get_string(s);
	if (**name == '\0')
		return (contract_fail(cx, s, "field #%d has an empty name",
		    i + 1));
	for (j = 0; j < i; j++) {
		if (strcmp(prev[j].name, *name) == 0)
			return (contract_fail(cx, s,
			    "duplicate field name "
			    "\"%s\"",
			    *name));
	}
	return (0);
}

/* Compile a list of fields (a contract's or an object's). */
static int
field_compile_list(const struct contract_ctx *cx, const config_setting_t *s,
    struct field **fields, size_t *nfields, struct fieldix **index)
{
	struct contract_ctx	sub = *cx;
	const config_setting_t *e;
	const char	       *name;
	char		       *path;
	int			i, len, rv;

	if (!config_setting_is_list(s) &&
	    !(config_setting_is_array(s) && config_setting_length(s) == 0))
		return (contract_fail(cx, s,
		    "fields must be a list of groups"));
	len = config_setting_length(s);
	*fields = xcalloc((size_t)len, sizeof **fields);
	*nfields = 0;
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (field_name(cx, e, i, *fields, &name) != 0)
			return (-1);
		if (cx->path == NULL)
			path = xstrdup(name);
		else
			xasprintf(&path, "%s.%s", cx->path, name);
		sub.path = path;
		(*fields)[i].name = xstrdup(name);
		(*nfields)++;
		rv = field_compile(&sub, &(*fields)[i], e, 0);
		free(path);
		if (rv != 0)
			return (-1);
	}
	*index = field_index_new(*fields, *nfields);
	return (0);
}

/* Handle fields: an object's nested fields. */
static int
field_key_fields(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	return (field_compile_list(cx, s, &f->fields, &f->nfields, &f->index));
}

/* Handle items: the type of every element of an array. */
static int
field_key_items(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	struct contract_ctx sub = *cx;
	char		   *path;
	int		    rv;

	if (!config_setting_is_group(s))
		return (contract_fail(cx, s, "items must be a group"));
	xasprintf(&path, "%s[]", cx->path);
	sub.path = path;
	f->items = xcalloc(1, sizeof *f->items);
	rv = field_compile(&sub, f->items, s, 1);
	free(path);
	return (rv);
}

/* Handle optional, description and additional_fields. */
static int
field_key_other(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	const char *name = config_setting_name(s);

	if (strcmp(name, "optional") == 0)
		return (contract_get_bool(cx, s, &f->optional));
	if (strcmp(name, "additional_fields") == 0)
		return (contract_get_bool(cx, s, &f->additional_fields));
	return (contract_dup_string(cx, s, &f->description));
}

/* The keys a field may have, the types they apply to, who reads them. */
static const struct field_key {
	const char *name;
	int	    types;
	int	    initems;
	int (*fn)(const struct contract_ctx *, struct field *,
	    const config_setting_t *);
} field_keys[] = {
	{ "name", T_ANY, 0, NULL }, /* read before the others */
	{ "type", T_ANY, 1, NULL },
	{ "optional", T_ANY, 0, field_key_other },
	{ "description", T_ANY, 1, field_key_other },
	{ "min_length", T(FIELD_STRING), 1, field_key_count },
	{ "max_length", T(FIELD_STRING), 1, field_key_count },
	{ "pattern", T(FIELD_STRING), 1, field_key_pattern },
	{ "minimum", T(FIELD_INTEGER) | T(FIELD_NUMBER), 1, field_key_bound },
	{ "maximum", T(FIELD_INTEGER) | T(FIELD_NUMBER), 1, field_key_bound },
	{ "values", T(FIELD_ENUM), 1, field_key_values },
	{ "fields", T(FIELD_OBJECT), 1, field_key_fields },
	{ "additional_fields", T(FIELD_OBJECT), 1, field_key_other },
	{ "items", T(FIELD_ARRAY), 1, field_key_items },
	{ "min_items", T(FIELD_ARRAY), 1, field_key_count },
	{ "max_items", T(FIELD_ARRAY), 1, field_key_count },
};

/* Read a field's type, which says which other keys it may have. */
static int
field_type(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	const config_setting_t *t;
	const char	       *v;
	int			i;

	if ((t = config_setting_get_member(s, "type")) == NULL)
		return (contract_fail(cx, s, "missing type"));
	if (contract_get_string(cx, t, &v) != 0)
		return (-1);
	for (i = 0; i < FIELD_NTYPES; i++) {
		if (strcmp(v, field_type_names[i]) == 0) {
			f->type = (enum field_type)i;
			return (0);
		}
	}
	return (contract_fail(cx, t, "unknown type \"%s\"", v));
}

/* Check the constraints together once all are read. */
static int
field_check(const struct contract_ctx *cx, const struct field *f,
    const config_setting_t *s)
{
	char a[32], b[32];

	if ((f->set & FIELD_MIN_LENGTH) && (f->set & FIELD_MAX_LENGTH) &&
	    f->min_length > f->max_length)
		return (contract_fail(cx, s,
		    "min_length %lld is greater than "
		    "max_length %lld",
		    f->min_length, f->max_length));
	if ((f->set & FIELD_MIN_ITEMS) && (f->set & FIELD_MAX_ITEMS) &&
	    f->min_items > f->max_items)
		return (contract_fail(cx, s,
		    "min_items %lld is greater than "
		    "max_items %lld",
		    f->min_items, f->max_items));
	if ((f->set & FIELD_MINIMUM) && (f->set & FIELD_MAXIMUM) &&
	    f->minimum > f->maximum) {
		contract_fmt_num(a, sizeof a, f->minimum);
		contract_fmt_num(b, sizeof b, f->maximum);
		return (contract_fail(cx, s,
		    "minimum %s is greater than "
		    "maximum %s",
		    a, b));
	}
	if (f->type == FIELD_ENUM && f->nvalues == 0)
		return (contract_fail(cx, s, "type enum needs values"));
	return (0);
}

/* Compile one field (or, with item, an array's item type) from group s. */
static int
field_compile(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s, int item)
{
	const struct field_key *k;
	const config_setting_t *e;
	const char	       *name, *file;
	size_t			j;
	int			i, len;

	contract_where(s, &file, &f->line);
	if (field_type(cx, f, s) != 0)
		return (-1);
	len = config_setting_length(s);
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		name = config_setting_name(e);
		for (j = 0; j < sizeof field_keys / sizeof field_keys[0]; j++)
			if (strcmp(name, field_keys[j].name) == 0)
				break;
		if (j == sizeof field_keys / sizeof field_keys[0])
			return (contract_fail(cx, e, "unknown key \"%s\"",
			    name));
		k = &field_keys[j];
		if (item && !k->initems)
			return (contract_fail(cx, e,
			    "%s does not apply to array "
			    "items",
			    name));
		if (!(k->types & T(f->type)))
			return (contract_fail(cx, e,
			    "%s does not apply to type "
			    "%s",
			    name, field_type_names[f->type]));
		if (k->fn != NULL && k->fn(cx, f, e) != 0)
			return (-1);
	}
	return (field_check(cx, f, s));
}

/* Read max_attempts: how often a delivery may be retried, 1 to 1000. */
static int
contract_max_attempts(const struct contract_ctx *cx, struct contract *c,
    const config_setting_t *s)
{
	long long v;

	if (contract_get_count(cx, s, &v) != 0)
		return (-1);
	if (v < 1 || v > 1000)
		return (contract_fail(cx, s,
		    "max_attempts must be 1 to 1000, not %lld", v));
	c->max_attempts = (int)v;
	return (0);
}

/* Read one key of a contract group. */
static int
contract_key(const struct contract_ctx *cx, struct contract *c,
    const config_setting_t *s)
{
	const char *name = config_setting_name(s);

	if (strcmp(name, "name") == 0)
		return (0); /* read first, for the messages */
	if (strcmp(name, "routing_key") == 0) {
		if (contract_dup_string(cx, s, &c->routing_key) != 0)
			return (-1);
		if (!contract_routing_key_valid(c->routing_key))
			return (contract_fail(cx, s,
			    "invalid routing_key "
			    "\"%s\" (expected <domain>.<action> or "
			    "<domain>.<action>.v<N>)",
			    c->routing_key));
		return (0);
	}
	if (strcmp(name, "description") == 0)
		return (contract_dup_string(cx, s, &c->description));
	if (strcmp(name, "publisher") == 0)
		return (contract_dup_string(cx, s, &c->publisher));
	if (strcmp(name, "consumers") == 0)
		return (contract_get_strings(cx, s, 0, &c->consumers,
		    &c->nconsumers));
	if (strcmp(name, "allow_users") == 0)
		return (contract_get_strings(cx, s, 1, &c->allow_users,
		    &c->nallow_users));
	if (strcmp(name, "allow_groups") == 0)
		return (contract_get_strings(cx, s, 1, &c->allow_groups,
		    &c->nallow_groups));
	if (strcmp(name, "fields") == 0)
		return (field_compile_list(cx, s, &c->fields, &c->nfields,
		    &c->index));
	if (strcmp(name, "additional_fields") == 0)
		return (contract_get_bool(cx, s, &c->additional_fields));
	if (strcmp(name, "max_attempts") == 0)
		return (contract_max_attempts(cx, c, s));
	if (strcmp(name, "stream") == 0)
		return (contract_stream_compile(s, c->name, &c->stream,
		    cx->cause));
	if (strcmp(name, "partition_key") == 0)
		return (contract_dup_string(cx, s, &c->partition_key));
	if (strcmp(name, "partitions") == 0)
		return (contract_get_count(cx, s, &c->partitions));
	if (strcmp(name, "replaces") == 0) {
		if (contract_dup_string(cx, s, &c->replaces) != 0)
			return (-1);
		c->replaces_line = (int)config_setting_source_line(s);
		if (!contract_name_valid(c->replaces) ||
		    strcmp(c->replaces, c->name) == 0)
			return (contract_fail(cx, s,
			    "replaces \"%s\" is not "
			    "the name of another contract",
			    c->replaces));
		return (0);
	}
	return (contract_fail(cx, s, "unknown key \"%s\"", name));
}

/* Read a contract's name before anything else, for the messages. */
static int
contract_name(const struct contract_ctx *cx, const config_setting_t *s,
    struct contract *c)
{
	const config_setting_t *n;
	const char	       *v;

	if (!config_setting_is_group(s))
		return (contract_fail(cx, s, "a contract must be a group"));
	if ((n = config_setting_get_member(s, "name")) == NULL)
		return (contract_fail(cx, s, "contract has no name"));
	if (config_setting_type(n) != CONFIG_TYPE_STRING)
		return (contract_fail(cx, n, "contract name must be a string"));
	v = config_setting_get_string(n);
	if (!contract_name_valid(v))
		return (contract_fail(cx, n,
		    "invalid contract name \"%s\" "
		    "(expected ^[A-Z][A-Za-z0-9]*$)",
		    v));
	c->name = xstrdup(v);
	return (0);
}

/* Compile one contract group from the config. */
int
contract_compile(const config_setting_t *s, struct contract **cp, char **cause)
{
	struct contract_ctx cx = { NULL, NULL, cause };
	struct contract	   *c;
	const char	   *file;
	char		   *msg;
	int		    i, len;

	c = xcalloc(1, sizeof *c);
	contract_where(s, &file, &c->line);
	c->file = xstrdup(file);
	if (contract_name(&cx, s, c) != 0)
		goto fail;
	cx.contract = c->name;
	len = config_setting_length(s);
	for (i = 0; i < len; i++) {
		if (contract_key(&cx, c,
			config_setting_get_elem(s, (unsigned int)i)) != 0)
			goto fail;
	}
	if (c->routing_key == NULL) {
		contract_fail(&cx, s, "missing routing_key");
		goto fail;
	}
	if (config_setting_get_member(s, "fields") == NULL) {
		contract_fail(&cx, s, "missing fields");
		goto fail;
	}
	if (partition_check(c, &msg) != 0) {
		contract_fail(&cx, s, "%s", msg);
		free(msg);
		goto fail;
	}
	*cp = c;
	return (0);

fail:
	contract_free(c);
	return (-1);
}

/* Free a field's contents (not the field itself). */
static void
field_free(struct field *f)
{
	size_t i;

	free(f->name);
	free(f->description);
	if (f->pattern != NULL) {
		regfree(&f->regex);
		free(f->pattern);
	}
	contract_free_strings(f->values, f->nvalues);
	for (i = 0; i < f->nfields; i++)
		field_free(&f->fields[i]);
	free(f->fields);
	field_index_free(f->index);
	if (f->items != NULL) {
		field_free(f->items);
		free(f->items);
	}
}

/* Free a contract and everything it owns. */
void
contract_free(struct contract *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->name);
	free(c->routing_key);
	free(c->description);
	free(c->publisher);
	free(c->replaces);
	free(c->partition_key);
	contract_free_strings(c->consumers, c->nconsumers);
	contract_free_strings(c->allow_users, c->nallow_users);
	contract_free_strings(c->allow_groups, c->nallow_groups);
	free(c->uids);
	free(c->gids);
	contract_stream_free(c->stream);
	for (i = 0; i < c->nfields; i++)
		field_free(&c->fields[i]);
	free(c->fields);
	field_index_free(c->index);
	free(c->file);
	free(c);
}

/* Add c to the set unless its name or routing key is taken (the clash
 * with the earlier contract is named, as a scan in order would). */
int
contract_set_add(struct contract_set *set, struct contract *c, char **cause)
{
	const struct contract *o;
	ssize_t		       byname, bykey;

	byname = contract_index_find(set, c->name, 0);
	bykey = contract_index_find(set, c->routing_key, 1);
	if (byname != -1 || bykey != -1) {
		o = set->v[byname != -1 && (bykey == -1 || byname <= bykey) ?
			byname :
			bykey];
		if (strcmp(o->name, c->name) == 0) {
			xasprintf(cause,
			    "%s:%d: duplicate contract name %s "
			    "(first defined at %s:%d)",
			    c->file, c->line, c->name, o->file, o->line);
			return (-1);
		}
		if (strcmp(o->routing_key, c->routing_key) == 0) {
			xasprintf(cause,
			    "%s:%d: contract %s: duplicate "
			    "routing key %s (first used by contract %s at "
			    "%s:%d)",
			    c->file, c->line, c->name, c->routing_key, o->name,
			    o->file, o->line);
			return (-1);
		}
	}
	set->v = xreallocarray(set->v, set->n + 1, sizeof *set->v);
	set->v[set->n++] = c;
	contract_index_add(set, set->n - 1);
	return (0);
}

/* Free every contract in the set and empty it. */
void
contract_set_clear(struct contract_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		contract_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
	contract_index_free(set);
}

/* Find a contract by name, through the set's hash table. */
const struct contract *
contract_find(const struct contract_set *set, const char *name)
{
	ssize_t i = contract_index_find(set, name, 0);

	if (i == -1)
		return (NULL);
	contract_prefetch(set->v[i]);
	return (set->v[i]);
}

/* Add an array of strings to obj as name. */
static void
contract_json_strings(cJSON *obj, const char *name, char **v, size_t n)
{
	cJSON *a;
	size_t i;

	a = cJSON_AddArrayToObject(obj, name);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

/* Add a list of fields to obj as "fields". */
static void
contract_json_fields(cJSON *obj, const struct field *fields, size_t n)
{
	cJSON *a;
	size_t i;

	a = cJSON_AddArrayToObject(obj, "fields");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, field_to_json(&fields[i]));
}

/* A field as JSON, with only the constraints that are set. */
static cJSON *
field_to_json(const struct field *f)
{
	cJSON *o = cJSON_CreateObject();

	if (f->name != NULL)
		cJSON_AddStringToObject(o, "name", f->name);
	cJSON_AddStringToObject(o, "type", field_type_names[f->type]);
	if (f->name != NULL)
		cJSON_AddBoolToObject(o, "optional", f->optional);
	if (f->description != NULL)
		cJSON_AddStringToObject(o, "description", f->description);
	if (f->set & FIELD_MIN_LENGTH)
		cJSON_AddNumberToObject(o, "min_length", (double)f->min_length);
	if (f->set & FIELD_MAX_LENGTH)
		cJSON_AddNumberToObject(o, "max_length", (double)f->max_length);
	if (f->set & FIELD_PATTERN)
		cJSON_AddStringToObject(o, "pattern", f->pattern);
	if (f->set & FIELD_MINIMUM)
		cJSON_AddNumberToObject(o, "minimum", f->minimum);
	if (f->set & FIELD_MAXIMUM)
		cJSON_AddNumberToObject(o, "maximum", f->maximum);
	if (f->type == FIELD_ENUM)
		contract_json_strings(o, "values", f->values, f->nvalues);
	if (f->type == FIELD_OBJECT) {
		cJSON_AddBoolToObject(o, "additional_fields",
		    f->additional_fields);
		contract_json_fields(o, f->fields, f->nfields);
	}
	if (f->items != NULL)
		cJSON_AddItemToObject(o, "items", field_to_json(f->items));
	if (f->set & FIELD_MIN_ITEMS)
		cJSON_AddNumberToObject(o, "min_items", (double)f->min_items);
	if (f->set & FIELD_MAX_ITEMS)
		cJSON_AddNumberToObject(o, "max_items", (double)f->max_items);
	return (o);
}

/* The contract as a JSON object for the "contracts" op. */
cJSON *
contract_to_json(const struct contract *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "routing_key", c->routing_key);
	if (c->description != NULL)
		cJSON_AddStringToObject(o, "description", c->description);
	if (c->publisher != NULL)
		cJSON_AddStringToObject(o, "publisher", c->publisher);
	contract_json_strings(o, "consumers", c->consumers, c->nconsumers);
	if (c->replaces != NULL)
		cJSON_AddStringToObject(o, "replaces", c->replaces);
	if (c->max_attempts > 0)
		cJSON_AddNumberToObject(o, "max_attempts", c->max_attempts);
	cJSON_AddBoolToObject(o, "additional_fields", c->additional_fields);
	if (c->stream != NULL)
		cJSON_AddItemToObject(o, "stream",
		    contract_stream_to_json(c->stream, NULL, NULL));
	partition_to_json(c, o);
	contract_json_fields(o, c->fields, c->nfields);
	return (o);
}

/* Step over a routing key word, [A-Za-z0-9_-]+; NULL if there is none. */
static const char *
contract_word(const char *s)
{
	const char *p = s;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
		p++;
	return (p == s ? NULL : p);
}

/* Is s <domain>.<action> with an optional .v<N> (N > 0, no leading zero),
 * and short enough for an AMQP routing key? */
int
contract_routing_key_valid(const char *s)
{
	const char *p;

	if (strlen(s) > 255)
		return (0);
	if ((p = contract_word(s)) == NULL || *p != '.')
		return (0);
	if ((p = contract_word(p + 1)) == NULL)
		return (0);
	if (*p == '\0')
		return (1);
	if (p[0] != '.' || p[1] != 'v' || p[2] < '1' || p[2] > '9')
		return (0);
	for (p += 3; *p >= '0' && *p <= '9'; p++)
		;
	return (*p == '\0');
}

/* Is s a contract name, ^[A-Z][A-Za-z0-9]*$? */
int
contract_name_valid(const char *s)
{
	if (*s < 'A' || *s > 'Z')
		return (0);
	for (s++; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9')))
			return (0);
	}
	return (1);
}
