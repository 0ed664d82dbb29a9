/* contract.c -- event contracts: compiled once from the config, then used
 * to validate the data of every event. Pure: no I/O. */
#include <sys/types.h>

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "json.h"
#include "util.h"

enum field_type {
	FIELD_STRING,
	FIELD_INTEGER,
	FIELD_NUMBER,
	FIELD_BOOLEAN,
	FIELD_DATETIME,
	FIELD_DATE,
	FIELD_UUID,
	FIELD_ENUM,
	FIELD_OBJECT,
	FIELD_ARRAY
};
#define FIELD_NTYPES 10
#define T(type) (1 << (type))
#define T_ANY ((1 << FIELD_NTYPES) - 1)

static const char *field_type_names[FIELD_NTYPES] = {
	"string", "integer", "number", "boolean", "datetime", "date", "uuid",
	"enum", "object", "array"
};

/* Which of a field's optional constraints are set. */
#define FIELD_MIN_LENGTH 0x01
#define FIELD_MAX_LENGTH 0x02
#define FIELD_PATTERN	 0x04
#define FIELD_MINIMUM	 0x08
#define FIELD_MAXIMUM	 0x10
#define FIELD_MIN_ITEMS	 0x20
#define FIELD_MAX_ITEMS	 0x40

/* One field of an object, or the item type of an array (no name). */
struct field {
	char		 *name;
	enum field_type	  type;
	int		  optional;
	char		 *description;
	int		  set;
	long long	  min_length;
	long long	  max_length;
	char		 *pattern;
	regex_t		  regex;
	double		  minimum;
	double		  maximum;
	char		**values;
	size_t		  nvalues;
	struct field	 *fields;
	size_t		  nfields;
	int		  additional_fields;
	struct field	 *items;
	long long	  min_items;
	long long	  max_items;
};

/* What an error message while compiling needs: whose, where, and where
 * to put it. */
struct contract_ctx {
	const char	 *contract;	/* NULL until the name is known */
	const char	 *path;		/* field path, NULL at the top */
	char		**cause;
};

/* One step of the path to a value inside data; name NULL means index. */
struct contract_path {
	const struct contract_path	*up;
	const char			*name;
	int				 index;
};

static void	field_free(struct field *);
static int	field_compile(const struct contract_ctx *, struct field *,
		    const config_setting_t *, int);
static int	field_validate(const struct field *, const cJSON *,
		    const struct contract_path *, char **, char **);
static cJSON	*field_to_json(const struct field *);

/* The file and line a setting came from, or its nearest parent's. */
static void
contract_where(const config_setting_t *s, const char **file, int *line)
{
	const config_setting_t	*p;

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
	va_list		 ap;
	const char	*file;
	char		*msg;
	int		 line;

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
static void
contract_fmt_num(char *buf, size_t len, double v)
{
	int	 prec;

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

/* A quoted, escaped copy of s, shortened: data values go into messages. */
static char *
contract_quote(const char *s)
{
	size_t	 len = strlen(s), n = len > 64 ? 64 : len, i;
	char	*out, *o;

	while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	o = out = xmalloc(n * 6 + 8);
	*o++ = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			*o++ = '\\';
			*o++ = s[i];
		} else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			o += sprintf(o, "\\u%04x", (unsigned char)s[i]);
		else
			*o++ = s[i];
	}
	*o++ = '"';
	if (n < len)
		o += sprintf(o, "...");
	*o = '\0';
	return (out);
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
	const char	*p;

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
	const config_setting_t	*e;
	int			 i, len;

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
			return (contract_fail(cx, e, "%s must be an array of "
			    "strings", config_setting_name(s)));
		(*n)++;
	}
	return (0);
}

/* Free an array of n strings. */
static void
contract_free_strings(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Why "^(" p ")$" would not anchor all of p, or NULL when it would. A
 * pattern such as "a)|(b" would close the wrapper's group early. */
static const char *
contract_pattern_escapes(const char *p)
{
	int	 depth = 0;
	char	 c;

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
				if (*p == '[' && (p[1] == ':' || p[1] == '.' ||
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
				return (NULL);	/* regcomp reports it */
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
	const char	*p, *why;
	char		*re, err[256];
	int		 rc;

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
	const char	*name = config_setting_name(s);
	long long	 v;

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
	double	 v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
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
	size_t	 i, j;

	if (contract_get_strings(cx, s, 0, &f->values, &f->nvalues) != 0)
		return (-1);
	if (f->nvalues == 0)
		return (contract_fail(cx, s, "values must not be empty"));
	for (i = 0; i < f->nvalues; i++) {
		for (j = i + 1; j < f->nvalues; j++) {
			if (strcmp(f->values[i], f->values[j]) == 0)
				return (contract_fail(cx, s, "duplicate enum "
				    "value \"%s\"", f->values[i]));
		}
	}
	return (0);
}

/* Check that a list element can be a field and give it a unique name. */
static int
field_name(const struct contract_ctx *cx, const config_setting_t *e, int i,
    const struct field *prev, const char **name)
{
	const config_setting_t	*s;
	int			 j;

	*name = NULL;
	if (!config_setting_is_group(e))
		return (contract_fail(cx, e, "field #%d is not a group", i + 1));
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
			return (contract_fail(cx, s, "duplicate field name "
			    "\"%s\"", *name));
	}
	return (0);
}

/* Compile a list of fields (a contract's or an object's). */
static int
field_compile_list(const struct contract_ctx *cx, const config_setting_t *s,
    struct field **fields, size_t *nfields)
{
	struct contract_ctx	 sub = *cx;
	const config_setting_t	*e;
	const char		*name;
	char			*path;
	int			 i, len, rv;

	if (!config_setting_is_list(s) && !(config_setting_is_array(s) &&
	    config_setting_length(s) == 0))
		return (contract_fail(cx, s, "fields must be a list of groups"));
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
	return (0);
}

/* Handle fields: an object's nested fields. */
static int
field_key_fields(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	return (field_compile_list(cx, s, &f->fields, &f->nfields));
}

/* Handle items: the type of every element of an array. */
static int
field_key_items(const struct contract_ctx *cx, struct field *f,
    const config_setting_t *s)
{
	struct contract_ctx	 sub = *cx;
	char			*path;
	int			 rv;

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
	const char	*name = config_setting_name(s);

	if (strcmp(name, "optional") == 0)
		return (contract_get_bool(cx, s, &f->optional));
	if (strcmp(name, "additional_fields") == 0)
		return (contract_get_bool(cx, s, &f->additional_fields));
	return (contract_dup_string(cx, s, &f->description));
}

/* The keys a field may have, the types they apply to, who reads them. */
static const struct field_key {
	const char	*name;
	int		 types;
	int		 initems;
	int		(*fn)(const struct contract_ctx *, struct field *,
			    const config_setting_t *);
} field_keys[] = {
	{ "name", T_ANY, 0, NULL },	/* read before the others */
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
	const config_setting_t	*t;
	const char		*v;
	int			 i;

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
	char	 a[32], b[32];

	if ((f->set & FIELD_MIN_LENGTH) && (f->set & FIELD_MAX_LENGTH) &&
	    f->min_length > f->max_length)
		return (contract_fail(cx, s, "min_length %lld is greater than "
		    "max_length %lld", f->min_length, f->max_length));
	if ((f->set & FIELD_MIN_ITEMS) && (f->set & FIELD_MAX_ITEMS) &&
	    f->min_items > f->max_items)
		return (contract_fail(cx, s, "min_items %lld is greater than "
		    "max_items %lld", f->min_items, f->max_items));
	if ((f->set & FIELD_MINIMUM) && (f->set & FIELD_MAXIMUM) &&
	    f->minimum > f->maximum) {
		contract_fmt_num(a, sizeof a, f->minimum);
		contract_fmt_num(b, sizeof b, f->maximum);
		return (contract_fail(cx, s, "minimum %s is greater than "
		    "maximum %s", a, b));
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
	const struct field_key	*k;
	const config_setting_t	*e;
	const char		*name;
	size_t			 j;
	int			 i, len;

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
			return (contract_fail(cx, e, "unknown key \"%s\"", name));
		k = &field_keys[j];
		if (item && !k->initems)
			return (contract_fail(cx, e, "%s does not apply to array "
			    "items", name));
		if (!(k->types & T(f->type)))
			return (contract_fail(cx, e, "%s does not apply to type "
			    "%s", name, field_type_names[f->type]));
		if (k->fn != NULL && k->fn(cx, f, e) != 0)
			return (-1);
	}
	return (field_check(cx, f, s));
}

/* Read one key of a contract group. */
static int
contract_key(const struct contract_ctx *cx, struct contract *c,
    const config_setting_t *s)
{
	const char	*name = config_setting_name(s);

	if (strcmp(name, "name") == 0)
		return (0);	/* read first, for the messages */
	if (strcmp(name, "routing_key") == 0) {
		if (contract_dup_string(cx, s, &c->routing_key) != 0)
			return (-1);
		if (!contract_routing_key_valid(c->routing_key))
			return (contract_fail(cx, s, "invalid routing_key "
			    "\"%s\" (expected <domain>.<action> or "
			    "<domain>.<action>.v<N>)", c->routing_key));
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
		return (field_compile_list(cx, s, &c->fields, &c->nfields));
	if (strcmp(name, "additional_fields") == 0)
		return (contract_get_bool(cx, s, &c->additional_fields));
	return (contract_fail(cx, s, "unknown key \"%s\"", name));
}

/* Read a contract's name before anything else, for the messages. */
static int
contract_name(const struct contract_ctx *cx, const config_setting_t *s,
    struct contract *c)
{
	const config_setting_t	*n;
	const char		*v;

	if (!config_setting_is_group(s))
		return (contract_fail(cx, s, "a contract must be a group"));
	if ((n = config_setting_get_member(s, "name")) == NULL)
		return (contract_fail(cx, s, "contract has no name"));
	if (config_setting_type(n) != CONFIG_TYPE_STRING)
		return (contract_fail(cx, n, "contract name must be a string"));
	v = config_setting_get_string(n);
	if (!contract_name_valid(v))
		return (contract_fail(cx, n, "invalid contract name \"%s\" "
		    "(expected ^[A-Z][A-Za-z0-9]*$)", v));
	c->name = xstrdup(v);
	return (0);
}

/* Compile one contract group from the config. */
int
contract_compile(const config_setting_t *s, struct contract **cp,
    char **cause)
{
	struct contract_ctx	 cx = { NULL, NULL, cause };
	struct contract		*c;
	const char		*file;
	int			 i, len;

	c = xcalloc(1, sizeof *c);
	contract_where(s, &file, &c->line);
	c->file = xstrdup(file);
	if (contract_name(&cx, s, c) != 0)
		goto fail;
	cx.contract = c->name;
	len = config_setting_length(s);
	for (i = 0; i < len; i++) {
		if (contract_key(&cx, c, config_setting_get_elem(s,
		    (unsigned int)i)) != 0)
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
	size_t	 i;

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
	if (f->items != NULL) {
		field_free(f->items);
		free(f->items);
	}
}

/* Free a contract and everything it owns. */
void
contract_free(struct contract *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free(c->name);
	free(c->routing_key);
	free(c->description);
	free(c->publisher);
	contract_free_strings(c->consumers, c->nconsumers);
	contract_free_strings(c->allow_users, c->nallow_users);
	contract_free_strings(c->allow_groups, c->nallow_groups);
	free(c->uids);
	free(c->gids);
	for (i = 0; i < c->nfields; i++)
		field_free(&c->fields[i]);
	free(c->fields);
	free(c->file);
	free(c);
}

/* Add c to the set unless its name or routing key is taken. */
int
contract_set_add(struct contract_set *set, struct contract *c, char **cause)
{
	const struct contract	*o;
	size_t			 i;

	for (i = 0; i < set->n; i++) {
		o = set->v[i];
		if (strcmp(o->name, c->name) == 0) {
			xasprintf(cause, "%s:%d: duplicate contract name %s "
			    "(first defined at %s:%d)", c->file, c->line,
			    c->name, o->file, o->line);
			return (-1);
		}
		if (strcmp(o->routing_key, c->routing_key) == 0) {
			xasprintf(cause, "%s:%d: contract %s: duplicate "
			    "routing key %s (first used by contract %s at "
			    "%s:%d)", c->file, c->line, c->name,
			    c->routing_key, o->name, o->file, o->line);
			return (-1);
		}
	}
	set->v = xreallocarray(set->v, set->n + 1, sizeof *set->v);
	set->v[set->n++] = c;
	return (0);
}

/* Free every contract in the set and empty it. */
void
contract_set_clear(struct contract_set *set)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		contract_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* Find a contract by name. */
const struct contract *
contract_find(const struct contract_set *set, const char *name)
{
	size_t	 i;

	for (i = 0; i < set->n; i++) {
		if (strcmp(set->v[i]->name, name) == 0)
			return (set->v[i]);
	}
	return (NULL);
}

/* The path as text: "items[2].sku". */
static char *
contract_path_text(const struct contract_path *p)
{
	char	*up, *s;

	if (p == NULL)
		return (xstrdup(""));
	up = contract_path_text(p->up);
	if (p->name == NULL)
		xasprintf(&s, "%s[%d]", up, p->index);
	else if (*up == '\0')
		s = xstrdup(p->name);
	else
		xasprintf(&s, "%s.%s", up, p->name);
	free(up);
	return (s);
}

/* Reject the value at p: *message is "PATH: problem", *path is PATH. */
static int __attribute__((format(printf, 4, 5)))
contract_reject(char **message, char **path, const struct contract_path *p,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	*path = contract_path_text(p);
	xasprintf(message, "%s: %s", *path, msg);
	free(msg);
	return (-1);
}

/* What a JSON value is, for "expected X, got Y". */
static const char *
contract_json_type(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return ("null");
	if (cJSON_IsBool(v))
		return ("boolean");
	if (cJSON_IsNumber(v))
		return ("number");
	if (cJSON_IsString(v))
		return ("string");
	if (cJSON_IsArray(v))
		return ("array");
	if (cJSON_IsObject(v))
		return ("object");
	return ("invalid value");
}

/* Does s begin with the shape t, where 'd' stands for any digit and 'x'
 * for any hex digit? */
static int
contract_shape(const char *s, const char *t)
{
	int	 ok;

	for (; *t != '\0'; s++, t++) {
		if (*t == 'd')
			ok = *s >= '0' && *s <= '9';
		else if (*t == 'x')
			ok = (*s >= '0' && *s <= '9') ||
			    (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F');
		else
			ok = *s == *t;
		if (!ok)
			return (0);
	}
	return (1);
}

/* The value of the n digits at s. */
static int
contract_num(const char *s, int n)
{
	int	 v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return (v);
}

/* Is the date at s (already of shape YYYY-MM-DD) a day of the proleptic
 * Gregorian calendar in years 1-9999? If not, say why. */
static int
contract_calendar(const char *s, char *why, size_t len)
{
	static const int	 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };
	int			 y, m, d, leap;

	y = contract_num(s, 4);
	m = contract_num(s + 5, 2);
	d = contract_num(s + 8, 2);
	leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	if (y < 1)
		snprintf(why, len, "year 0000 is out of range (0001-9999)");
	else if (m < 1 || m > 12)
		snprintf(why, len, "month %02d is out of range (01-12)", m);
	else if (d < 1 || d > days[m - 1] + (m == 2 && leap))
		snprintf(why, len, "day %02d is out of range for %04d-%02d", d,
		    y, m);
	else
		return (0);
	return (-1);
}

/* Is the two-digit number at s at most max? If not, say why. */
static int
contract_clock(const char *s, int max, const char *what, char *why,
    size_t len)
{
	int	 v = contract_num(s, 2);

	if (v <= max)
		return (0);
	snprintf(why, len, "%s %02d is out of range (00-%02d)", what, v, max);
	return (-1);
}

/* Check an RFC 3339 date-time, YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM):
 * -1 for the wrong shape, -2 (and why) for a time that does not exist, -3
 * when the offset is missing. */
static int
contract_datetime(const char *s, char *why, size_t len)
{
	const char	*p = s + 19;
	int		 zulu, naive;

	if (!contract_shape(s, "dddd-dd-dd") || (s[10] != 'T' &&
	    s[10] != 't') || !contract_shape(s + 11, "dd:dd:dd"))
		return (-1);
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return (-1);
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	naive = *p == '\0';
	zulu = (*p == 'Z' || *p == 'z') && p[1] == '\0';
	if (!naive && !zulu && !((contract_shape(p, "+dd:dd") ||
	    contract_shape(p, "-dd:dd")) && p[6] == '\0'))
		return (-1);
	if (naive)
		return (-3);
	if (contract_calendar(s, why, len) != 0 ||
	    contract_clock(s + 11, 23, "hour", why, len) != 0 ||
	    contract_clock(s + 14, 59, "minute", why, len) != 0 ||
	    contract_clock(s + 17, 59, "second", why, len) != 0)
		return (-2);
	if (!zulu && (contract_clock(p + 1, 23, "offset hour", why, len) != 0 ||
	    contract_clock(p + 4, 59, "offset minute", why, len) != 0))
		return (-2);
	return (0);
}

/* Validate a string against its lengths (in characters) and pattern. */
static int
field_string(const struct field *f, const char *s,
    const struct contract_path *p, char **message, char **path)
{
	size_t	 n;

	if (f->set & (FIELD_MIN_LENGTH | FIELD_MAX_LENGTH)) {
		n = json_utf8_length(s);
		if ((f->set & FIELD_MIN_LENGTH) && n < (size_t)f->min_length)
			return (contract_reject(message, path, p, "shorter than "
			    "min_length %lld (%zu character%s)", f->min_length,
			    n, n == 1 ? "" : "s"));
		if ((f->set & FIELD_MAX_LENGTH) && n > (size_t)f->max_length)
			return (contract_reject(message, path, p, "longer than "
			    "max_length %lld (%zu character%s)", f->max_length,
			    n, n == 1 ? "" : "s"));
	}
	if ((f->set & FIELD_PATTERN) &&
	    regexec(&f->regex, s, 0, NULL, 0) != 0)
		return (contract_reject(message, path, p, "does not match "
		    "pattern \"%s\"", f->pattern));
	return (0);
}

/* Validate a number against integrality (for integer) and bounds. */
static int
field_number(const struct field *f, double v, const struct contract_path *p,
    char **message, char **path)
{
	char	 a[32], b[32];

	if (f->type == FIELD_INTEGER && (!isfinite(v) || floor(v) != v))
		return (contract_reject(message, path, p, "expected integer, "
		    "got %s", isfinite(v) ? "a fractional number" :
		    "a number out of range"));
	contract_fmt_num(b, sizeof b, v);
	if ((f->set & FIELD_MINIMUM) && v < f->minimum) {
		contract_fmt_num(a, sizeof a, f->minimum);
		return (contract_reject(message, path, p, "less than minimum %s "
		    "(got %s)", a, b));
	}
	if ((f->set & FIELD_MAXIMUM) && v > f->maximum) {
		contract_fmt_num(a, sizeof a, f->maximum);
		return (contract_reject(message, path, p, "greater than maximum "
		    "%s (got %s)", a, b));
	}
	return (0);
}

/* Validate a string that must be a datetime, date or uuid. */
static int
field_format(const struct field *f, const char *s,
    const struct contract_path *p, char **message, char **path)
{
	char	 why[128], *q;
	int	 rv;

	if (f->type == FIELD_UUID) {
		rv = contract_shape(s, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") &&
		    s[36] == '\0' ? 0 : -1;
		snprintf(why, sizeof why, "expected 8-4-4-4-12 hex digits");
	} else if (f->type == FIELD_DATE) {
		if (!contract_shape(s, "dddd-dd-dd") || s[10] != '\0') {
			rv = -1;
			snprintf(why, sizeof why, "expected YYYY-MM-DD");
		} else
			rv = contract_calendar(s, why, sizeof why);
	} else {
		rv = contract_datetime(s, why, sizeof why);
		if (rv == -3)
			return (contract_reject(message, path, p,
			    "datetime has no timezone offset"));
		if (rv == -1)
			snprintf(why, sizeof why, "expected YYYY-MM-DDTHH:MM:SS"
			    "[.fraction] then Z, +HH:MM or -HH:MM");
	}
	if (rv == 0)
		return (0);
	q = contract_quote(s);
	contract_reject(message, path, p, "invalid %s %s: %s",
	    field_type_names[f->type], q, why);
	free(q);
	return (-1);
}

/* Validate a string that must be one of an enum's values. */
static int
field_enum(const struct field *f, const char *s,
    const struct contract_path *p, char **message, char **path)
{
	size_t	 i;
	char	*q;

	for (i = 0; i < f->nvalues; i++) {
		if (strcmp(f->values[i], s) == 0)
			return (0);
	}
	q = contract_quote(s);
	contract_reject(message, path, p, "%s is not one of the enum values",
	    q);
	free(q);
	return (-1);
}

/* Validate an object against fields: each present unless optional, and
 * no others unless additional. */
static int
field_object(const struct field *fields, size_t n, int additional,
    const cJSON *obj, const struct contract_path *up, char **message,
    char **path)
{
	struct contract_path	 p = { up, NULL, 0 };
	const cJSON		*v;
	size_t			 i;

	for (i = 0; i < n; i++) {
		p.name = fields[i].name;
		v = cJSON_GetObjectItemCaseSensitive(obj, p.name);
		if (v == NULL || cJSON_IsNull(v)) {
			if (fields[i].optional)
				continue;
			return (contract_reject(message, path, &p, "required "
			    "field is %s", v == NULL ? "missing" : "null"));
		}
		if (field_validate(&fields[i], v, &p, message, path) != 0)
			return (-1);
	}
	if (additional)
		return (0);
	cJSON_ArrayForEach(v, obj) {
		for (i = 0; i < n; i++) {
			if (strcmp(fields[i].name, v->string) == 0)
				break;
		}
		if (i == n) {
			p.name = v->string;
			return (contract_reject(message, path, &p,
			    "field is not in the contract"));
		}
	}
	return (0);
}

/* Validate an array: its length, then every item in turn. */
static int
field_array(const struct field *f, const cJSON *a,
    const struct contract_path *up, char **message, char **path)
{
	struct contract_path	 p = { up, NULL, 0 };
	const cJSON		*v;
	int			 n = cJSON_GetArraySize(a);

	if ((f->set & FIELD_MIN_ITEMS) && n < f->min_items)
		return (contract_reject(message, path, up, "fewer than "
		    "min_items %lld (%d item%s)", f->min_items, n,
		    n == 1 ? "" : "s"));
	if ((f->set & FIELD_MAX_ITEMS) && n > f->max_items)
		return (contract_reject(message, path, up, "more than max_items "
		    "%lld (%d item%s)", f->max_items, n, n == 1 ? "" : "s"));
	if (f->items == NULL)
		return (0);
	cJSON_ArrayForEach(v, a) {
		if (field_validate(f->items, v, &p, message, path) != 0)
			return (-1);
		p.index++;
	}
	return (0);
}

/* Does v have the JSON type field f needs? */
static int
field_type_matches(const struct field *f, const cJSON *v)
{
	switch (f->type) {
	case FIELD_INTEGER:
	case FIELD_NUMBER:
		return (cJSON_IsNumber(v));
	case FIELD_BOOLEAN:
		return (cJSON_IsBool(v));
	case FIELD_OBJECT:
		return (cJSON_IsObject(v));
	case FIELD_ARRAY:
		return (cJSON_IsArray(v));
	default:
		return (cJSON_IsString(v));
	}
}

/* Validate one present, non-null value v at path p against field f. */
static int
field_validate(const struct field *f, const cJSON *v,
    const struct contract_path *p, char **message, char **path)
{
	if (!field_type_matches(f, v))
		return (contract_reject(message, path, p, "expected %s, got %s",
		    field_type_names[f->type], contract_json_type(v)));
	switch (f->type) {
	case FIELD_STRING:
		return (field_string(f, v->valuestring, p, message, path));
	case FIELD_INTEGER:
	case FIELD_NUMBER:
		return (field_number(f, v->valuedouble, p, message, path));
	case FIELD_DATETIME:
	case FIELD_DATE:
	case FIELD_UUID:
		return (field_format(f, v->valuestring, p, message, path));
	case FIELD_ENUM:
		return (field_enum(f, v->valuestring, p, message, path));
	case FIELD_OBJECT:
		return (field_object(f->fields, f->nfields,
		    f->additional_fields, v, p, message, path));
	case FIELD_ARRAY:
		return (field_array(f, v, p, message, path));
	case FIELD_BOOLEAN:
		break;
	}
	return (0);
}

/* Validate an event's data against contract c. */
int
contract_validate(const struct contract *c, const cJSON *data,
    char **message, char **path)
{
	*message = NULL;
	*path = NULL;
	if (!cJSON_IsObject(data)) {
		*message = xstrdup("data is not a JSON object");
		return (-1);
	}
	return (field_object(c->fields, c->nfields, c->additional_fields, data,
	    NULL, message, path));
}

/* Add an array of strings to obj as name. */
static void
contract_json_strings(cJSON *obj, const char *name, char **v, size_t n)
{
	cJSON	*a;
	size_t	 i;

	a = cJSON_AddArrayToObject(obj, name);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

/* Add a list of fields to obj as "fields". */
static void
contract_json_fields(cJSON *obj, const struct field *fields, size_t n)
{
	cJSON	*a;
	size_t	 i;

	a = cJSON_AddArrayToObject(obj, "fields");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, field_to_json(&fields[i]));
}

/* A field as JSON, with only the constraints that are set. */
static cJSON *
field_to_json(const struct field *f)
{
	cJSON	*o = cJSON_CreateObject();

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
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "routing_key", c->routing_key);
	if (c->description != NULL)
		cJSON_AddStringToObject(o, "description", c->description);
	if (c->publisher != NULL)
		cJSON_AddStringToObject(o, "publisher", c->publisher);
	contract_json_strings(o, "consumers", c->consumers, c->nconsumers);
	cJSON_AddBoolToObject(o, "additional_fields", c->additional_fields);
	contract_json_fields(o, c->fields, c->nfields);
	return (o);
}

/* Step over a routing key word, [A-Za-z0-9_-]+; NULL if there is none. */
static const char *
contract_word(const char *s)
{
	const char	*p = s;

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
	const char	*p;

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
