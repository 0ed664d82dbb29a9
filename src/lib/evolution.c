/* evolution.c -- compare two contract sets and classify each change by the
 * rules of event evolution: an optional field or a looser constraint is
 * additive; anything a publisher or consumer of the old contract could trip
 * over is breaking, and forbidden unless it comes as a new contract on a new
 * versioned routing key. Pure: no I/O. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evolution.h"
#include "field.h"
#include "util.h"

/* Where changes are being noted: whose, and whether a breaking one is
 * forbidden there (its consumers keep their routing key). */
struct evolution_ctx {
	struct evolution_report *r;
	const char		*contract;
	int			 forbid;
};

/* A numeric constraint, the flag saying it is set, and which way it
 * limits: an upper bound tightens as it falls. */
static const struct evolution_bound {
	const char *name;
	int	    flag;
	int	    upper;
} evolution_bounds[] = {
	{ "min_length", FIELD_MIN_LENGTH, 0 },
	{ "max_length", FIELD_MAX_LENGTH, 1 },
	{ "minimum", FIELD_MINIMUM, 0 },
	{ "maximum", FIELD_MAXIMUM, 1 },
	{ "min_items", FIELD_MIN_ITEMS, 0 },
	{ "max_items", FIELD_MAX_ITEMS, 1 },
};

/* The kind names, indexed by enum evolution_kind. */
static const char *const evolution_kind_names[] = { "added", "removed",
	"renamed", "routing_key_changed", "type_changed", "made_required",
	"made_optional", "tightened", "relaxed", "stream_added",
	"stream_removed", "retention_changed", "partitioning_changed" };

static void evolution_field(const struct evolution_ctx *, const char *,
    const struct field *, const struct field *);

/* The name of a kind of change. */
const char *
evolution_kind_name(enum evolution_kind kind)
{
	return (evolution_kind_names[kind]);
}

/* The name of a class of change. */
const char *evolution_class_name(enum evolution_class class)
{
	return (class == EVOLUTION_BREAKING ? "breaking" : "additive");
}

/* The name of a verdict. */
const char *
evolution_verdict_name(enum evolution_verdict verdict)
{
	return (verdict == EVOLUTION_FORBIDDEN ? "forbidden" : "ok");
}

static void evolution_note(const struct evolution_ctx *, const char *,
    enum evolution_kind, enum evolution_class, const char *, ...)
    __attribute__((format(printf, 5, 6)));

/* An x-max-age in seconds (months of 30 days, years of 365); unset is
 * forever. */
static double
evolution_age(const char *age)
{
	double v;

	if (age == NULL)
		return (INFINITY);
	v = strtod(age, NULL);
	switch (age[strlen(age) - 1]) {
	case 'Y':
		return (v * 365 * 86400);
	case 'M':
		return (v * 30 * 86400);
	case 'D':
		return (v * 86400);
	case 'h':
		return (v * 3600);
	case 'm':
		return (v * 60);
	default:
		return (v);
	}
}

/* Note a change at path (NULL: the contract itself) and count it. */
static void
evolution_vnote(const struct evolution_ctx *cx, const char *path,
    enum evolution_kind kind, enum evolution_class class, const char *fmt,
    va_list ap)
{
	struct evolution_report *r = cx->r;
	struct evolution_change *ch;

	r->v = xreallocarray(r->v, r->n + 1, sizeof *r->v);
	ch = &r->v[r->n++];
	ch->contract = xstrdup(cx->contract);
	ch->field = path != NULL ? xstrdup(path) : NULL;
	ch->kind = kind;
	ch->class = class;
	ch->verdict = EVOLUTION_OK;
	if (class == EVOLUTION_BREAKING && cx->forbid)
		ch->verdict = EVOLUTION_FORBIDDEN;
	xvasprintf(&ch->message, fmt, ap);
	if (class == EVOLUTION_BREAKING)
		r->nbreaking++;
	else
		r->nadditive++;
	if (ch->verdict == EVOLUTION_FORBIDDEN)
		r->nforbidden++;
}

/* Note a change at path. */
static void __attribute__((format(printf, 5, 6)))
evolution_note(const struct evolution_ctx *cx, const char *path,
    enum evolution_kind kind, enum evolution_class class, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evolution_vnote(cx, path, kind, class, fmt, ap);
	va_end(ap);
}

/* Note a constraint that now accepts less (tighter: breaking) or more. */
static void __attribute__((format(printf, 4, 5)))
evolution_constraint(const struct evolution_ctx *cx, const char *path,
    int tighter, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (tighter)
		evolution_vnote(cx, path, EVOLUTION_TIGHTENED,
		    EVOLUTION_BREAKING, fmt, ap);
	else
		evolution_vnote(cx, path, EVOLUTION_RELAXED, EVOLUTION_ADDITIVE,
		    fmt, ap);
	va_end(ap);
}

/* A bound's value in f; unset, it does not limit (a count's floor is 0). */
static double
evolution_bound_value(const struct field *f, const struct evolution_bound *b)
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
evolution_bound(const struct evolution_ctx *cx, const char *path,
    const struct field *o, const struct field *n,
    const struct evolution_bound *b)
{
	double ov = evolution_bound_value(o, b),
	       nv = evolution_bound_value(n, b);
	char os[32], ns[32];
	int  tighter;

	if (ov == nv)
		return;
	tighter = b->upper ? nv < ov : nv > ov;
	contract_fmt_num(os, sizeof os, ov);
	contract_fmt_num(ns, sizeof ns, nv);
	if (!(o->set & b->flag))
		evolution_constraint(cx, path, tighter, "%s %s added", b->name,
		    ns);
	else if (!(n->set & b->flag))
		evolution_constraint(cx, path, tighter, "%s %s removed",
		    b->name, os);
	else
		evolution_constraint(cx, path, tighter, "%s %s from %s to %s",
		    b->name, nv < ov ? "lowered" : "raised", os, ns);
}

/* Compare patterns: a new or different one may refuse what passed. */
static void
evolution_pattern(const struct evolution_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	if (o->pattern == NULL && n->pattern == NULL)
		return;
	if (o->pattern == NULL)
		evolution_constraint(cx, path, 1, "pattern \"%s\" added",
		    n->pattern);
	else if (n->pattern == NULL)
		evolution_constraint(cx, path, 0, "pattern \"%s\" removed",
		    o->pattern);
	else if (strcmp(o->pattern, n->pattern) != 0)
		evolution_constraint(cx, path, 1,
		    "pattern changed from \"%s\" to "
		    "\"%s\"",
		    o->pattern, n->pattern);
}

/* Is s one of the n strings of v? */
static int
evolution_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return (1);
	}
	return (0);
}

/* Compare enum values: one removed is refused, one added is new. */
static void
evolution_values(const struct evolution_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	size_t i;

	for (i = 0; i < o->nvalues; i++) {
		if (!evolution_has(n->values, n->nvalues, o->values[i]))
			evolution_constraint(cx, path, 1,
			    "enum value \"%s\" "
			    "removed",
			    o->values[i]);
	}
	for (i = 0; i < n->nvalues; i++) {
		if (!evolution_has(o->values, o->nvalues, n->values[i]))
			evolution_constraint(cx, path, 0,
			    "enum value \"%s\" "
			    "added",
			    n->values[i]);
	}
}

/* Compare additional_fields: turned off, unknown members are refused. */
static void
evolution_additional(const struct evolution_ctx *cx, const char *path, int o,
    int n)
{
	if (o != n)
		evolution_constraint(cx, path, o,
		    "additional_fields changed from "
		    "%s to %s",
		    o ? "true" : "false", n ? "true" : "false");
}

/* Find a field of a list by name. */
static const struct field *
evolution_field_find(const struct field *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0)
			return (&v[i]);
	}
	return (NULL);
}

/* The path of field name inside parent (NULL at the top). */
static char *
evolution_path(const char *parent, const char *name)
{
	char *path;

	if (parent == NULL)
		return (xstrdup(name));
	xasprintf(&path, "%s.%s", parent, name);
	return (path);
}

/* Compare two lists of fields, an object's at parent or the contract's. */
static void
evolution_fields(const struct evolution_ctx *cx, const char *parent,
    const struct field *of, size_t on, const struct field *nf, size_t nn)
{
	const struct field *f;
	char		   *path;
	size_t		    i;

	for (i = 0; i < on; i++) {
		path = evolution_path(parent, of[i].name);
		if ((f = evolution_field_find(nf, nn, of[i].name)) != NULL)
			evolution_field(cx, path, &of[i], f);
		else
			evolution_note(cx, path, EVOLUTION_REMOVED,
			    EVOLUTION_BREAKING, "%s %s field removed",
			    of[i].optional ? "optional" : "required",
			    field_type_names[of[i].type]);
		free(path);
	}
	for (i = 0; i < nn; i++) {
		if (evolution_field_find(of, on, nf[i].name) != NULL)
			continue;
		path = evolution_path(parent, nf[i].name);
		if (nf[i].optional)
			evolution_note(cx, path, EVOLUTION_ADDED,
			    EVOLUTION_ADDITIVE, "optional %s field added",
			    field_type_names[nf[i].type]);
		else
			evolution_note(cx, path, EVOLUTION_ADDED,
			    EVOLUTION_BREAKING, "required %s field added",
			    field_type_names[nf[i].type]);
		free(path);
	}
}

/* Compare the item types of two arrays at path, as "PATH[]". */
static void
evolution_items(const struct evolution_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	char *ipath;

	xasprintf(&ipath, "%s[]", path);
	if (o->items == NULL && n->items != NULL)
		evolution_constraint(cx, ipath, 1, "item type %s added",
		    field_type_names[n->items->type]);
	else if (o->items != NULL && n->items == NULL)
		evolution_constraint(cx, ipath, 0, "item type %s removed",
		    field_type_names[o->items->type]);
	else if (o->items != NULL)
		evolution_field(cx, ipath, o->items, n->items);
	free(ipath);
}

/* Compare one field, or an array's item type, at path. */
static void
evolution_field(const struct evolution_ctx *cx, const char *path,
    const struct field *o, const struct field *n)
{
	size_t i;

	if (o->optional && !n->optional)
		evolution_note(cx, path, EVOLUTION_REQUIRED, EVOLUTION_BREAKING,
		    "field made required");
	else if (!o->optional && n->optional)
		evolution_note(cx, path, EVOLUTION_OPTIONAL, EVOLUTION_ADDITIVE,
		    "field made optional");
	if (o->type != n->type) {
		/* the old constraints say nothing about the new type */
		evolution_note(cx, path, EVOLUTION_TYPE, EVOLUTION_BREAKING,
		    "type "
		    "changed from %s to %s",
		    field_type_names[o->type], field_type_names[n->type]);
		return;
	}
	for (i = 0; i < sizeof evolution_bounds / sizeof evolution_bounds[0];
	     i++)
		evolution_bound(cx, path, o, n, &evolution_bounds[i]);
	evolution_pattern(cx, path, o, n);
	evolution_values(cx, path, o, n);
	if (o->type == FIELD_OBJECT) {
		evolution_additional(cx, path, o->additional_fields,
		    n->additional_fields);
		evolution_fields(cx, path, o->fields, o->nfields, n->fields,
		    n->nfields);
	}
	if (o->type == FIELD_ARRAY)
		evolution_items(cx, path, o, n);
}

/* The partitioning of a contract, as words. */
static void
evolution_partitioning(const struct contract *c, char *buf, size_t len)
{
	if (c->partition_key == NULL)
		snprintf(buf, len, "not partitioned");
	else
		snprintf(buf, len, "partitioned by %s into %lld",
		    c->partition_key, c->partitions);
}

/* A changed partition key or count is breaking: events of one key would
 * land in another partition while older ones still wait in theirs, and
 * every consuming warrend must move to the new count at once. */
static void
evolution_partition(const struct evolution_ctx *cx, const struct contract *o,
    const struct contract *n)
{
	char was[320], now[320];

	evolution_partitioning(o, was, sizeof was);
	evolution_partitioning(n, now, sizeof now);
	if (strcmp(was, now) != 0)
		evolution_note(cx, NULL, EVOLUTION_PARTITIONING,
		    EVOLUTION_BREAKING, "%s, was %s", now, was);
}

/* Compare what two contracts accept. */
static void
evolution_body(const struct evolution_ctx *cx, const struct contract *o,
    const struct contract *n)
{
	evolution_partition(cx, o, n);
	evolution_additional(cx, NULL, o->additional_fields,
	    n->additional_fields);
	evolution_fields(cx, NULL, o->fields, o->nfields, n->fields,
	    n->nfields);
}

/* Split a valid routing key: the length of <domain>.<action> and the
 * version, 1 when there is no .v<N>. */
static void
evolution_key_split(const char *key, size_t *base, unsigned long *version)
{
	const char *v;

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
evolution_newer(const char *a, const char *b)
{
	size_t	      abase, bbase;
	unsigned long aversion, bversion;

	evolution_key_split(a, &abase, &aversion);
	evolution_key_split(b, &bbase, &bversion);
	return (abase == bbase && strncmp(a, b, abase) == 0 &&
	    bversion > aversion);
}

/* The index in set of the contract with this name, or else this routing
 * key; set->n if there is none. */
static size_t
evolution_index(const struct contract_set *set, const char *name,
    const char *key)
{
	size_t i;

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
evolution_version(const struct contract_set *set, const char *key, int newer)
{
	const char *other;
	size_t	    i;

	for (i = 0; i < set->n; i++) {
		other = set->v[i]->routing_key;
		if (newer ? evolution_newer(key, other) :
			    evolution_newer(other, key))
			return (set->v[i]);
	}
	return (NULL);
}

/* An old contract with no counterpart: removed, which consumers of its key
 * notice unless a newer version of it is left for them to move to. */
static void
evolution_removed(struct evolution_ctx *cx, const struct contract *o,
    const struct contract_set *to)
{
	const struct contract *s;

	if ((s = evolution_version(to, o->routing_key, 1)) == NULL) {
		evolution_note(cx, NULL, EVOLUTION_REMOVED, EVOLUTION_BREAKING,
		    "contract on %s removed", o->routing_key);
		return;
	}
	cx->forbid = 0;
	evolution_note(cx, NULL, EVOLUTION_REMOVED, EVOLUTION_BREAKING,
	    "contract on %s "
	    "removed; its newer version %s on %s remains",
	    o->routing_key, s->name, s->routing_key);
}

/* A stream's retention: keeping less breaks replays that resume from an
 * offset or a time the stream no longer holds; keeping more breaks none. */
static void
evolution_retention(const struct evolution_ctx *cx, const struct stream_conf *o,
    const struct stream_conf *n)
{
	double ob = o->max_bytes > 0 ? (double)o->max_bytes : INFINITY;
	double nb = n->max_bytes > 0 ? (double)n->max_bytes : INFINITY;
	double oa = evolution_age(o->max_age), na = evolution_age(n->max_age);
	const char *keep = "; an existing stream keeps the arguments it was "
			   "declared with: apply the new retention with a "
			   "policy";

	if (nb != ob)
		evolution_note(cx, "stream", EVOLUTION_RETENTION,
		    nb < ob ? EVOLUTION_BREAKING : EVOLUTION_ADDITIVE,
		    "stream max_bytes %s from %.0f to %.0f%s",
		    nb < ob ? "lowered" : "raised", ob, nb, keep);
	if (na != oa)
		evolution_note(cx, "stream", EVOLUTION_RETENTION,
		    na < oa ? EVOLUTION_BREAKING : EVOLUTION_ADDITIVE,
		    "stream max_age %s from %s to %s%s",
		    na < oa ? "shortened" : "lengthened",
		    o->max_age != NULL ? o->max_age : "(none)",
		    n->max_age != NULL ? n->max_age : "(none)", keep);
}

/* A stream added (replays start with the events published from then on),
 * removed (every subscribe "from" is refused) or kept longer or shorter. */
static void
evolution_stream(const struct evolution_ctx *cx, const struct stream_conf *o,
    const struct stream_conf *n)
{
	if (o == NULL && n != NULL)
		evolution_note(cx, "stream", EVOLUTION_STREAM_ADDED,
		    EVOLUTION_ADDITIVE,
		    "events are kept in a stream from now on: a replay starts "
		    "with the first one published after the change");
	else if (o != NULL && n == NULL)
		evolution_note(cx, "stream", EVOLUTION_STREAM_REMOVED,
		    EVOLUTION_BREAKING,
		    "the stream is gone: subscribing with \"from\" is refused; "
		    "the stream queue stays on the broker until deleted");
	else if (o != NULL)
		evolution_retention(cx, o, n);
}

/* Follow an old contract into to: same name, else its routing key under
 * a name that is new (a rename), else gone. Mark its match in taken. */
static void
evolution_contract(struct evolution_report *r, const struct contract *o,
    const struct contract_set *from, const struct contract_set *to, char *taken)
{
	struct evolution_ctx   cx = { r, o->name, 1 };
	const struct contract *n;
	size_t		       i;

	if ((i = evolution_index(to, o->name, NULL)) < to->n) {
		n = to->v[i];
		if (strcmp(o->routing_key, n->routing_key) != 0) {
			evolution_note(&cx, NULL, EVOLUTION_ROUTING_KEY,
			    EVOLUTION_BREAKING,
			    "routing key changed from %s to "
			    "%s",
			    o->routing_key, n->routing_key);
			/* the move is the break; what it carries is not */
			cx.forbid = 0;
		}
	} else if ((i = evolution_index(to, NULL, o->routing_key)) < to->n &&
	    evolution_index(from, to->v[i]->name, NULL) == from->n) {
		n = to->v[i];
		evolution_note(&cx, NULL, EVOLUTION_RENAMED, EVOLUTION_BREAKING,
		    "renamed to %s on the same routing key %s", n->name,
		    n->routing_key);
	} else {
		evolution_removed(&cx, o, to);
		return;
	}
	taken[i] = 1;
	evolution_body(&cx, o, n);
	evolution_stream(&cx, o->stream, n->stream);
}

/* A contract new in to: an addition, on a routing key of its own. */
static void
evolution_added(struct evolution_report *r, const struct contract *n,
    const struct contract_set *from)
{
	struct evolution_ctx   cx = { r, n->name, 0 };
	const struct contract *o;

	if ((o = evolution_version(from, n->routing_key, 0)) != NULL)
		evolution_note(&cx, NULL, EVOLUTION_ADDED, EVOLUTION_ADDITIVE,
		    "new "
		    "contract on %s, a newer version of %s on %s",
		    n->routing_key, o->name, o->routing_key);
	else
		evolution_note(&cx, NULL, EVOLUTION_ADDED, EVOLUTION_ADDITIVE,
		    "new "
		    "contract on %s",
		    n->routing_key);
}

/* Fill r with every change from the contracts in from to those in to. */
void
evolution_compare(const struct contract_set *from,
    const struct contract_set *to, struct evolution_report *r)
{
	char  *taken;
	size_t i;

	memset(r, 0, sizeof *r);
	taken = xcalloc(to->n, 1);
	for (i = 0; i < from->n; i++)
		evolution_contract(r, from->v[i], from, to, taken);
	for (i = 0; i < to->n; i++) {
		if (!taken[i])
			evolution_added(r, to->v[i], from);
	}
	free(taken);
}

/* Free every change of r and empty it. */
void
evolution_report_clear(struct evolution_report *r)
{
	size_t i;

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
evolution_change_to_json(const struct evolution_change *ch)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "contract", ch->contract);
	if (ch->field != NULL)
		cJSON_AddStringToObject(o, "field", ch->field);
	else
		cJSON_AddNullToObject(o, "field");
	cJSON_AddStringToObject(o, "kind", evolution_kind_name(ch->kind));
	cJSON_AddStringToObject(o, "class", evolution_class_name(ch->class));
	cJSON_AddStringToObject(o, "verdict",
	    evolution_verdict_name(ch->verdict));
	cJSON_AddStringToObject(o, "message", ch->message);
	return (o);
}

/* The report as {"changes":[...],"forbidden":N,"breaking":N,"additive":N}. */
cJSON *
evolution_to_json(const struct evolution_report *r)
{
	cJSON *o = cJSON_CreateObject(), *a;
	size_t i;

	a = cJSON_AddArrayToObject(o, "changes");
	for (i = 0; i < r->n; i++)
		cJSON_AddItemToArray(a, evolution_change_to_json(&r->v[i]));
	cJSON_AddNumberToObject(o, "forbidden", (double)r->nforbidden);
	cJSON_AddNumberToObject(o, "breaking", (double)r->nbreaking);
	cJSON_AddNumberToObject(o, "additive", (double)r->nadditive);
	return (o);
}
