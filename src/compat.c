/* compat.c -- compare two contract sets and classify each change by the
 * rules of event evolution: an optional field or a looser constraint is
 * additive; anything a publisher or consumer of the old contract could trip
 * over is breaking, and forbidden unless it comes as a new contract on a new
 * versioned routing key. Pure: no I/O. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "field.h"
#include "util.h"

/* Where changes are being noted: whose, and whether a breaking one is
 * forbidden there (its consumers keep their routing key). */
struct compat_ctx {
	struct compat_report	*r;
	const char		*contract;
	int			 forbid;
};

/* A numeric constraint, the flag saying it is set, and which way it
 * limits: an upper bound tightens as it falls. */
static const struct compat_bound {
	const char	*name;
	int		 flag;
	int		 upper;
} compat_bounds[] = {
	{ "min_length", FIELD_MIN_LENGTH, 0 },
	{ "max_length", FIELD_MAX_LENGTH, 1 },
	{ "minimum", FIELD_MINIMUM, 0 },
	{ "maximum", FIELD_MAXIMUM, 1 },
	{ "min_items", FIELD_MIN_ITEMS, 0 },
	{ "max_items", FIELD_MAX_ITEMS, 1 },
};

/* The kind names, indexed by enum compat_kind. */
static const char *const compat_kind_names[] = {
	"added", "removed", "renamed", "routing_key_changed", "type_changed",
	"made_required", "made_optional", "tightened", "relaxed"
};

static void	compat_field(const struct compat_ctx *, const char *,
		    const struct field *, const struct field *);

/* The name of a kind of change. */
const char *
compat_kind_name(enum compat_kind kind)
{
	return (compat_kind_names[kind]);
}

/* The name of a class of change. */
const char *
compat_class_name(enum compat_class class)
{
	return (class == COMPAT_BREAKING ? "breaking" : "additive");
}

/* The name of a verdict. */
const char *
compat_verdict_name(enum compat_verdict verdict)
{
	return (verdict == COMPAT_FORBIDDEN ? "forbidden" : "ok");
}

/* Note a change at path (NULL: the contract itself) and count it. */
static void
compat_vnote(const struct compat_ctx *cx, const char *path,
    enum compat_kind kind, enum compat_class class, const char *fmt,
    va_list ap)
{
	struct compat_report	*r = cx->r;
	struct compat_change	*ch;

	r->v = xreallocarray(r->v, r->n + 1, sizeof *r->v);
	ch = &r->v[r->n++];
	ch->contract = xstrdup(cx->contract);
	ch->field = path != NULL ? xstrdup(path) : NULL;
	ch->kind = kind;
	ch->class = class;
	ch->verdict = COMPAT_OK;
	if (class == COMPAT_BREAKING && cx->forbid)
		ch->verdict = COMPAT_FORBIDDEN;
	xvasprintf(&ch->message, fmt, ap);
	if (class == COMPAT_BREAKING)
		r->nbreaking++;
	else
		r->nadditive++;
	if (ch->verdict == COMPAT_FORBIDDEN)
		r->nforbidden++;
}

/* Note a change at path. */
static void __attribute__((format(printf, 5, 6)))
compat_note(const struct compat_ctx *cx, const char *path,
    enum compat_kind kind, enum compat_class class, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	compat_vnote(cx, path, kind, class, fmt, ap);
	va_end(ap);
}

/* Note a constraint that now accepts less (tighter: breaking) or more. */
static void __attribute__((format(printf, 4, 5)))
compat_constraint(const struct compat_ctx *cx, const char *path, int tighter,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (tighter)
		compat_vnote(cx, path, COMPAT_TIGHTENED, COMPAT_BREAKING, fmt,
		    ap);
	else
		compat_vnote(cx, path, COMPAT_RELAXED, COMPAT_ADDITIVE, fmt,
		    ap);
	va_end(ap);
}

/* A bound's value in f; unset, it does not limit (a count's floor is 0). */
static double
compat_bound_value(const struct field *f, const struct compat_bound *b)
{
	if (!(f->set & b->flag)) {
		if (b->upper)
			return (INFINITY);
		return (b->flag == FIELD_MINIMUM ? -INFINITY : 0);
	}
	switch (b->flag) {
	case FIELD_MIN_LENGTH:
		return ((double)f->min_length);
	case FIELD_MAX_LENGTH:
		return ((double)f->max_length);
	case FIELD_MINIMUM:
		return (f->minimum);
	case FIELD_MAXIMUM:
		return (f->maximum);
	case FIELD_MIN_ITEMS:
		return ((double)f->min_items);
	default:
		return ((double)f->max_items);
	}
}

/* Compare one bound of two fields by what it lets through. */
static void
compat_bound(const struct compat_ctx *cx, const char *path,
    const struct field *o, const struct field *n, const struct compat_bound *b)
{
	double	 ov = compat_bound_value(o, b), nv = compat_bound_value(n, b);
	char	 os[32], ns[32];
	int	 tighter;

	if (ov == nv)
		return;
	tighter = b->upper ? nv < ov : nv > ov;
	contract_fmt_num(os, sizeof os, ov);
	contract_fmt_num(ns, sizeof ns, nv);
	if (!(o->set & b->flag))
		compat_constraint(cx, path, tighter, "%s %s added", b->name,
		    ns);
	else if (!(n->set & b->flag))
		compat_constraint(cx, path, tighter, "%s %s removed", b->name,
		    os);
	else
		compat_constraint(cx, path, tighter, "%s %s from %s to %s",
		    b->name, nv < ov ? "lowered" : "raised", os, ns);
}

/* Compare patterns: a new or different one may refuse what passed. */
static void
compat_pattern(const struct compat_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	if (o->pattern == NULL && n->pattern == NULL)
		return;
	if (o->pattern == NULL)
		compat_constraint(cx, path, 1, "pattern \"%s\" added",
		    n->pattern);
	else if (n->pattern == NULL)
		compat_constraint(cx, path, 0, "pattern \"%s\" removed",
		    o->pattern);
	else if (strcmp(o->pattern, n->pattern) != 0)
		compat_constraint(cx, path, 1, "pattern changed from \"%s\" to "
		    "\"%s\"", o->pattern, n->pattern);
}

/* Is s one of the n strings of v? */
static int
compat_has(char *const *v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return (1);
	}
	return (0);
}

/* Compare enum values: one removed is refused, one added is new. */
static void
compat_values(const struct compat_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	size_t	 i;

	for (i = 0; i < o->nvalues; i++) {
		if (!compat_has(n->values, n->nvalues, o->values[i]))
			compat_constraint(cx, path, 1, "enum value \"%s\" "
			    "removed", o->values[i]);
	}
	for (i = 0; i < n->nvalues; i++) {
		if (!compat_has(o->values, o->nvalues, n->values[i]))
			compat_constraint(cx, path, 0, "enum value \"%s\" "
			    "added", n->values[i]);
	}
}

/* Compare additional_fields: turned off, unknown members are refused. */
static void
compat_additional(const struct compat_ctx *cx, const char *path, int o,
    int n)
{
	if (o != n)
		compat_constraint(cx, path, o, "additional_fields changed from "
		    "%s to %s", o ? "true" : "false", n ? "true" : "false");
}

/* Find a field of a list by name. */
static const struct field *
compat_field_find(const struct field *v, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0)
			return (&v[i]);
	}
	return (NULL);
}

/* The path of field name inside parent (NULL at the top). */
static char *
compat_path(const char *parent, const char *name)
{
	char	*path;

	if (parent == NULL)
		return (xstrdup(name));
	xasprintf(&path, "%s.%s", parent, name);
	return (path);
}

/* Compare two lists of fields, an object's at parent or the contract's. */
static void
compat_fields(const struct compat_ctx *cx, const char *parent,
    const struct field *of, size_t on, const struct field *nf, size_t nn)
{
	const struct field	*f;
	char			*path;
	size_t			 i;

	for (i = 0; i < on; i++) {
		path = compat_path(parent, of[i].name);
		if ((f = compat_field_find(nf, nn, of[i].name)) != NULL)
			compat_field(cx, path, &of[i], f);
		else
			compat_note(cx, path, COMPAT_REMOVED, COMPAT_BREAKING,
			    "%s %s field removed", of[i].optional ? "optional" :
			    "required", field_type_names[of[i].type]);
		free(path);
	}
	for (i = 0; i < nn; i++) {
		if (compat_field_find(of, on, nf[i].name) != NULL)
			continue;
		path = compat_path(parent, nf[i].name);
		if (nf[i].optional)
			compat_note(cx, path, COMPAT_ADDED, COMPAT_ADDITIVE,
			    "optional %s field added",
			    field_type_names[nf[i].type]);
		else
			compat_note(cx, path, COMPAT_ADDED, COMPAT_BREAKING,
			    "required %s field added",
			    field_type_names[nf[i].type]);
		free(path);
	}
}

/* Compare the item types of two arrays at path, as "PATH[]". */
static void
compat_items(const struct compat_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	char	*ipath;

	xasprintf(&ipath, "%s[]", path);
	if (o->items == NULL && n->items != NULL)
		compat_constraint(cx, ipath, 1, "item type %s added",
		    field_type_names[n->items->type]);
	else if (o->items != NULL && n->items == NULL)
		compat_constraint(cx, ipath, 0, "item type %s removed",
		    field_type_names[o->items->type]);
	else if (o->items != NULL)
		compat_field(cx, ipath, o->items, n->items);
	free(ipath);
}

/* Compare one field, or an array's item type, at path. */
static void
compat_field(const struct compat_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	size_t	 i;

	if (o->optional && !n->optional)
		compat_note(cx, path, COMPAT_REQUIRED, COMPAT_BREAKING,
		    "field made required");
	else if (!o->optional && n->optional)
		compat_note(cx, path, COMPAT_OPTIONAL, COMPAT_ADDITIVE,
		    "field made optional");
	if (o->type != n->type) {
		/* the old constraints say nothing about the new type */
		compat_note(cx, path, COMPAT_TYPE, COMPAT_BREAKING, "type "
		    "changed from %s to %s", field_type_names[o->type],
		    field_type_names[n->type]);
		return;
	}
	for (i = 0; i < sizeof compat_bounds / sizeof compat_bounds[0]; i++)
		compat_bound(cx, path, o, n, &compat_bounds[i]);
	compat_pattern(cx, path, o, n);
	compat_values(cx, path, o, n);
	if (o->type == FIELD_OBJECT) {
		compat_additional(cx, path, o->additional_fields,
		    n->additional_fields);
		compat_fields(cx, path, o->fields, o->nfields, n->fields,
		    n->nfields);
	}
	if (o->type == FIELD_ARRAY)
		compat_items(cx, path, o, n);
}

/* Compare what two contracts accept. */
static void
compat_body(const struct compat_ctx *cx, const struct contract *o,
    const struct contract *n)
{
	compat_additional(cx, NULL, o->additional_fields, n->additional_fields);
	compat_fields(cx, NULL, o->fields, o->nfields, n->fields, n->nfields);
}

/* Split a valid routing key: the length of <domain>.<action> and the
 * version, 1 when there is no .v<N>. */
static void
compat_key_split(const char *key, size_t *base, unsigned long *version)
{
	const char	*v;

	v = strchr(strchr(key, '.') + 1, '.');
	if (v == NULL) {
		*base = strlen(key);
		*version = 1;
	} else {
		*base = (size_t)(v - key);
		*version = strtoul(v + 2, NULL, 10);
	}
}

/* Is routing key b a newer version of a: same <domain>.<action>, higher
 * .v<N>? */
static int
compat_newer(const char *a, const char *b)
{
	size_t		 abase, bbase;
	unsigned long	 aversion, bversion;

	compat_key_split(a, &abase, &aversion);
	compat_key_split(b, &bbase, &bversion);
	return (abase == bbase && strncmp(a, b, abase) == 0 &&
	    bversion > aversion);
}

/* The index in set of the contract with this name, or else this routing
 * key; set->n if there is none. */
static size_t
compat_index(const struct contract_set *set, const char *name,
    const char *key)
{
	size_t	 i;

	for (i = 0; i < set->n; i++) {
		if (name != NULL && strcmp(set->v[i]->name, name) == 0)
			break;
		if (key != NULL && strcmp(set->v[i]->routing_key, key) == 0)
			break;
	}
	return (i);
}

/* The first contract in set that is a newer (older) version of key. */
static const struct contract *
compat_version(const struct contract_set *set, const char *key, int newer)
{
	const char	*other;
	size_t		 i;

	for (i = 0; i < set->n; i++) {
		other = set->v[i]->routing_key;
		if (newer ? compat_newer(key, other) : compat_newer(other, key))
			return (set->v[i]);
	}
	return (NULL);
}

/* An old contract with no counterpart: removed, which consumers of its key
 * notice unless a newer version of it is left for them to move to. */
static void
compat_removed(struct compat_ctx *cx, const struct contract *o,
    const struct contract_set *to)
{
	const struct contract	*s;

	if ((s = compat_version(to, o->routing_key, 1)) == NULL) {
		compat_note(cx, NULL, COMPAT_REMOVED, COMPAT_BREAKING,
		    "contract on %s removed", o->routing_key);
		return;
	}
	cx->forbid = 0;
	compat_note(cx, NULL, COMPAT_REMOVED, COMPAT_BREAKING, "contract on %s "
	    "removed; its newer version %s on %s remains", o->routing_key,
	    s->name, s->routing_key);
}

/* Follow an old contract into to: same name, else its routing key under
 * a name that is new (a rename), else gone. Mark its match in taken. */
static void
compat_contract(struct compat_report *r, const struct contract *o,
    const struct contract_set *from, const struct contract_set *to,
    char *taken)
{
	struct compat_ctx	 cx = { r, o->name, 1 };
	const struct contract	*n;
	size_t			 i;

	if ((i = compat_index(to, o->name, NULL)) < to->n) {
		n = to->v[i];
		if (strcmp(o->routing_key, n->routing_key) != 0) {
			compat_note(&cx, NULL, COMPAT_ROUTING_KEY,
			    COMPAT_BREAKING, "routing key changed from %s to "
			    "%s", o->routing_key, n->routing_key);
			/* the move is the break; what it carries is not */
			cx.forbid = 0;
		}
	} else if ((i = compat_index(to, NULL, o->routing_key)) < to->n &&
	    compat_index(from, to->v[i]->name, NULL) == from->n) {
		n = to->v[i];
		compat_note(&cx, NULL, COMPAT_RENAMED, COMPAT_BREAKING,
		    "renamed to %s on the same routing key %s", n->name,
		    n->routing_key);
	} else {
		compat_removed(&cx, o, to);
		return;
	}
	taken[i] = 1;
	compat_body(&cx, o, n);
}

/* A contract new in to: an addition, on a routing key of its own. */
static void
compat_added(struct compat_report *r, const struct contract *n,
    const struct contract_set *from)
{
	struct compat_ctx	 cx = { r, n->name, 0 };
	const struct contract	*o;

	if ((o = compat_version(from, n->routing_key, 0)) != NULL)
		compat_note(&cx, NULL, COMPAT_ADDED, COMPAT_ADDITIVE, "new "
		    "contract on %s, a newer version of %s on %s",
		    n->routing_key, o->name, o->routing_key);
	else
		compat_note(&cx, NULL, COMPAT_ADDED, COMPAT_ADDITIVE, "new "
		    "contract on %s", n->routing_key);
}

/* Fill r with every change from the contracts in from to those in to. */
void
compat_compare(const struct contract_set *from, const struct contract_set *to,
    struct compat_report *r)
{
	char	*taken;
	size_t	 i;

	memset(r, 0, sizeof *r);
	taken = xcalloc(to->n, 1);
	for (i = 0; i < from->n; i++)
		compat_contract(r, from->v[i], from, to, taken);
	for (i = 0; i < to->n; i++) {
		if (!taken[i])
			compat_added(r, to->v[i], from);
	}
	free(taken);
}

/* Free every change of r and empty it. */
void
compat_report_clear(struct compat_report *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].contract);
		free(r->v[i].field);
		free(r->v[i].message);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* One change as a JSON object; field is null for the contract itself. */
static cJSON *
compat_change_to_json(const struct compat_change *ch)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "contract", ch->contract);
	if (ch->field != NULL)
		cJSON_AddStringToObject(o, "field", ch->field);
	else
		cJSON_AddNullToObject(o, "field");
	cJSON_AddStringToObject(o, "kind", compat_kind_name(ch->kind));
	cJSON_AddStringToObject(o, "class", compat_class_name(ch->class));
	cJSON_AddStringToObject(o, "verdict", compat_verdict_name(ch->verdict));
	cJSON_AddStringToObject(o, "message", ch->message);
	return (o);
}

/* The report as {"changes":[...],"forbidden":N,"breaking":N,"additive":N}. */
cJSON *
compat_to_json(const struct compat_report *r)
{
	cJSON	*o = cJSON_CreateObject(), *a;
	size_t	 i;

	a = cJSON_AddArrayToObject(o, "changes");
	for (i = 0; i < r->n; i++)
		cJSON_AddItemToArray(a, compat_change_to_json(&r->v[i]));
	cJSON_AddNumberToObject(o, "forbidden", (double)r->nforbidden);
	cJSON_AddNumberToObject(o, "breaking", (double)r->nbreaking);
	cJSON_AddNumberToObject(o, "additive", (double)r->nadditive);
	return (o);
}
