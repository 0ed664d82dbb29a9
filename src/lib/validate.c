/* validate.c -- validate an event's data against a compiled contract,
 * naming the path to the first value that does not hold. Pure: no I/O. */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "field.h"
#include "json.h"
#include "util.h"

#define VALIDATE_SMALL 32 /* fields looked up without an allocation */

/* One step of the path to a value inside data; name NULL means index. */
struct validate_path {
	const struct validate_path *up;
	const char		   *name;
	int			    index;
};

static int validate_field(const struct field *, const cJSON *,
    const struct validate_path *, char **, char **);

/* A quoted, escaped copy of s, shortened: data values go into messages. */
static char *
validate_quote(const char *s)
{
	size_t len = strlen(s), n = len > 64 ? 64 : len, i;
	char  *out, *o;

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

/* The path as text: "items[2].sku". */
static char *
validate_path_text(const struct validate_path *p)
{
	char *up, *s;

	if (p == NULL)
		return (xstrdup(""));
	up = validate_path_text(p->up);
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
static int __attribute__((format(printf, 4, 5))) validate_reject(char **message,
    char **path, const struct validate_path *p, const char *fmt, ...)
{
	va_list ap;
	char   *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	*path = validate_path_text(p);
	xasprintf(message, "%s: %s", *path, msg);
	free(msg);
	return (-1);
}

/* What a JSON value is, for "expected X, got Y". */
static const char *
validate_json_type(const cJSON *v)
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
validate_shape(const char *s, const char *t)
{
	int ok;

	for (; *t != '\0'; s++, t++) {
		if (*t == 'd')
			ok = *s >= '0' && *s <= '9';
		else if (*t == 'x')
			ok = (*s >= '0' && *s <= '9') ||
			    (*s >= 'a' && *s <= 'f') ||
			    (*s >= 'A' && *s <= 'F');
		else
			ok = *s == *t;
		if (!ok)
			return (0);
	}
	return (1);
}

/* The value of the n digits at s. */
static int
validate_num(const char *s, int n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return (v);
}

/* Is the date at s (already of shape YYYY-MM-DD) a day of the proleptic
 * Gregorian calendar in years 1-9999? If not, say why. */
static int
validate_calendar(const char *s, char *why, size_t len)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int		 y, m, d, leap;

	y = validate_num(s, 4);
	m = validate_num(s + 5, 2);
	d = validate_num(s + 8, 2);
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
validate_clock(const char *s, int max, const char *what, char *why, size_t len)
{
	int v = validate_num(s, 2);

	if (v <= max)
		return (0);
	snprintf(why, len, "%s %02d is out of range (00-%02d)", what, v, max);
	return (-1);
}

/* Check an RFC 3339 date-time, YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM):
 * -1 for the wrong shape, -2 (and why) for a time that does not exist, -3
 * when the offset is missing. */
static int
validate_datetime(const char *s, char *why, size_t len)
{
	const char *p = s + 19;
	int	    zulu, naive;

	if (!validate_shape(s, "dddd-dd-dd") ||
	    (s[10] != 'T' && s[10] != 't') ||
	    !validate_shape(s + 11, "dd:dd:dd"))
		return (-1);
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return (-1);
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	naive = *p == '\0';
	zulu = (*p == 'Z' || *p == 'z') && p[1] == '\0';
	if (!naive && !zulu &&
	    !((validate_shape(p, "+dd:dd") || validate_shape(p, "-dd:dd")) &&
		p[6] == '\0'))
		return (-1);
	if (naive)
		return (-3);
	if (validate_calendar(s, why, len) != 0 ||
	    validate_clock(s + 11, 23, "hour", why, len) != 0 ||
	    validate_clock(s + 14, 59, "minute", why, len) != 0 ||
	    validate_clock(s + 17, 59, "second", why, len) != 0)
		return (-2);
	if (!zulu &&
	    (validate_clock(p + 1, 23, "offset hour", why, len) != 0 ||
		validate_clock(p + 4, 59, "offset minute", why, len) != 0))
		return (-2);
	return (0);
}

/* Validate a string against its lengths (in characters) and pattern. */
static int
validate_string(const struct field *f, const char *s,
    const struct validate_path *p, char **message, char **path)
{
	size_t n;

	if (f->set & (FIELD_MIN_LENGTH | FIELD_MAX_LENGTH)) {
		n = json_utf8_length(s);
		if ((f->set & FIELD_MIN_LENGTH) && n < (size_t)f->min_length)
			return (validate_reject(message, path, p,
			    "shorter than "
			    "min_length %lld (%zu character%s)",
			    f->min_length, n, n == 1 ? "" : "s"));
		if ((f->set & FIELD_MAX_LENGTH) && n > (size_t)f->max_length)
			return (validate_reject(message, path, p,
			    "longer than "
			    "max_length %lld (%zu character%s)",
			    f->max_length, n, n == 1 ? "" : "s"));
	}
	if ((f->set & FIELD_PATTERN) && regexec(&f->regex, s, 0, NULL, 0) != 0)
		return (validate_reject(message, path, p,
		    "does not match "
		    "pattern \"%s\"",
		    f->pattern));
	return (0);
}

/* Validate a number against integrality (for integer) and bounds. */
static int
validate_number(const struct field *f, double v, const struct validate_path *p,
    char **message, char **path)
{
	char a[32], b[32];

	if (f->type == FIELD_INTEGER && (!isfinite(v) || floor(v) != v))
		return (validate_reject(message, path, p,
		    "expected integer, "
		    "got %s",
		    isfinite(v) ? "a fractional number" :
				  "a number out of range"));
	/* Formatting is costly: only for a message. */
	if ((f->set & FIELD_MINIMUM) && v < f->minimum) {
		contract_fmt_num(b, sizeof b, v);
		contract_fmt_num(a, sizeof a, f->minimum);
		return (validate_reject(message, path, p,
		    "less than minimum %s "
		    "(got %s)",
		    a, b));
	}
	if ((f->set & FIELD_MAXIMUM) && v > f->maximum) {
		contract_fmt_num(b, sizeof b, v);
		contract_fmt_num(a, sizeof a, f->maximum);
		return (validate_reject(message, path, p,
		    "greater than maximum "
		    "%s (got %s)",
		    a, b));
	}
	return (0);
}

/* Validate a string that must be a datetime, date or uuid. */
static int
validate_format(const struct field *f, const char *s,
    const struct validate_path *p, char **message, char **path)
{
	char why[128], *q;
	int  rv;

	if (f->type == FIELD_UUID) {
		rv = validate_shape(s,
			 "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") &&
			s[36] == '\0' ?
		    0 :
		    -1;
		snprintf(why, sizeof why, "expected 8-4-4-4-12 hex digits");
	} else if (f->type == FIELD_DATE) {
		if (!validate_shape(s, "dddd-dd-dd") || s[10] != '\0') {
			rv = -1;
			snprintf(why, sizeof why, "expected YYYY-MM-DD");
		} else
			rv = validate_calendar(s, why, sizeof why);
	} else {
		rv = validate_datetime(s, why, sizeof why);
		if (rv == -3)
			return (validate_reject(message, path, p,
			    "datetime has no timezone offset"));
		if (rv == -1)
			snprintf(why, sizeof why,
			    "expected YYYY-MM-DDTHH:MM:SS"
			    "[.fraction] then Z, +HH:MM or -HH:MM");
	}
	if (rv == 0)
		return (0);
	q = validate_quote(s);
	validate_reject(message, path, p, "invalid %s %s: %s",
	    field_type_names[f->type], q, why);
	free(q);
	return (-1);
}

/* Validate a string that must be one of an enum's values. */
static int
validate_enum(const struct field *f, const char *s,
    const struct validate_path *p, char **message, char **path)
{
	size_t i;
	char  *q;

	for (i = 0; i < f->nvalues; i++) {
		if (strcmp(f->values[i], s) == 0)
			return (0);
	}
	q = validate_quote(s);
	validate_reject(message, path, p, "%s is not one of the enum values",
	    q);
	free(q);
	return (-1);
}

/* Validate an object against fields: each present unless optional, and
 * no others unless additional. */
static int
validate_object(const struct field *fields, size_t n, const struct fieldix *ix,
    int additional, const cJSON *obj, const struct validate_path *up,
    char **message, char **path)
{
	struct validate_path p = { up, NULL, 0 };
	const cJSON	    *v, *unknown = NULL, *small[VALIDATE_SMALL];
	const cJSON	   **found = small;
	ssize_t		     k;
	size_t		     i;
	int		     rv = 0;

	/* One pass over the members finds each one's field (through the
	 * index) and the first unknown one: linear in the members, where a
	 * lookup per field and a scan per member were n * m. */
	if (n > VALIDATE_SMALL)
		found = xmalloc(n * sizeof *found);
	for (i = 0; i < n; i++)
		found[i] = NULL;
	cJSON_ArrayForEach(v, obj) {
		if ((k = field_index_find(ix, fields, n, v->string)) == -1) {
			if (unknown == NULL)
				unknown = v;
		} else if (found[k] == NULL)
			found[k] = v;
	}
	/* Then the fields in contract order: the first to fail is named,
	 * before any unknown member. */
	for (i = 0; i < n && rv == 0; i++) {
		p.name = fields[i].name;
		v = found[i];
		if (v == NULL || cJSON_IsNull(v)) {
			if (!fields[i].optional)
				rv = validate_reject(message, path, &p,
				    "required field is %s",
				    v == NULL ? "missing" : "null");
		} else
			rv = validate_field(&fields[i], v, &p, message, path);
	}
	if (found != small)
		free(found);
	if (rv != 0 || additional || unknown == NULL)
		return (rv);
	p.name = unknown->string;
	return (validate_reject(message, path, &p,
	    "field is not in the contract"));
}

/* Validate an array: its length, then every item in turn. */
static int
validate_array(const struct field *f, const cJSON *a,
    const struct validate_path *up, char **message, char **path)
{
	struct validate_path p = { up, NULL, 0 };
	const cJSON	    *v;
	int		     n = cJSON_GetArraySize(a);

	if ((f->set & FIELD_MIN_ITEMS) && n < f->min_items)
		return (validate_reject(message, path, up,
		    "fewer than "
		    "min_items %lld (%d item%s)",
		    f->min_items, n, n == 1 ? "" : "s"));
	if ((f->set & FIELD_MAX_ITEMS) && n > f->max_items)
		return (validate_reject(message, path, up,
		    "more than max_items "
		    "%lld (%d item%s)",
		    f->max_items, n, n == 1 ? "" : "s"));
	if (f->items == NULL)
		return (0);
	cJSON_ArrayForEach(v, a) {
		if (validate_field(f->items, v, &p, message, path) != 0)
			return (-1);
		p.index++;
	}
	return (0);
}

/* Does v have the JSON type field f needs? */
static int
validate_type_matches(const struct field *f, const cJSON *v)
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
validate_field(const struct field *f, const cJSON *v,
    const struct validate_path *p, char **message, char **path)
{
	if (!validate_type_matches(f, v))
		return (validate_reject(message, path, p, "expected %s, got %s",
		    field_type_names[f->type], validate_json_type(v)));
	switch (f->type) {
	case FIELD_STRING:
		return (validate_string(f, v->valuestring, p, message, path));
	case FIELD_INTEGER:
		/* The literal, where known, decides: 1e-999 is not 0. */
		if (v->valuestring != NULL &&
		    !json_literal_integral(v->valuestring))
			return (validate_reject(message, path, p,
			    "expected "
			    "integer, got a fractional number"));
		return (validate_number(f, v->valuedouble, p, message, path));
	case FIELD_NUMBER:
		return (validate_number(f, v->valuedouble, p, message, path));
	case FIELD_DATETIME:
	case FIELD_DATE:
	case FIELD_UUID:
		return (validate_format(f, v->valuestring, p, message, path));
	case FIELD_ENUM:
		return (validate_enum(f, v->valuestring, p, message, path));
	case FIELD_OBJECT:
		return (validate_object(f->fields, f->nfields, f->index,
		    f->additional_fields, v, p, message, path));
	case FIELD_ARRAY:
		return (validate_array(f, v, p, message, path));
	case FIELD_BOOLEAN:
		break;
	}
	return (0);
}

/* Contract prefetching: how much of a contract's fields to ask for. */
#define PREFETCH_MAX 2048

/*
 * Ask for the cache lines a check of c will read (its fields and their
 * index) all at once: with thousands of contracts, the one an event names
 * is seldom cached, and reading them one after another as the check
 * reaches them costs a memory round trip each.
 */
void
contract_prefetch(const struct contract *c)
{
	const char *p = (const char *)c->fields;
	size_t	    n = c->nfields * sizeof *c->fields, i;

	if (n > PREFETCH_MAX)
		n = PREFETCH_MAX;
	for (i = 0; i < n; i += 64)
		__builtin_prefetch(p + i);
	if (c->index != NULL) {
		p = (const char *)c->index;
		for (i = 0; i < 256; i += 64)
			__builtin_prefetch(p + i);
	}
}

/* Validate an event's data against contract c. */
int
contract_validate(const struct contract *c, const cJSON *data, char **message,
    char **path)
{
	*message = NULL;
	*path = NULL;
	if (!cJSON_IsObject(data)) {
		*message = xstrdup("data is not a JSON object");
		return (-1);
	}
	return (validate_object(c->fields, c->nfields, c->index,
	    c->additional_fields, data, NULL, message, path));
}
