/* lint.c -- the event design checklist applied to compiled contracts: naming,
 * documentation, constraints and self-containment. A finding is advice, not
 * an error: the contract works as written. Pure: no I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract.h"
#include "field.h"
#include "lint.h"
#include "util.h"

/* The rules, in the order lint_contract() checks them. */
const struct lint_rule lint_rules[] = {
	{ "event-name-suffix",
	    "the contract name does not end in Event (before any V<N>)" },
	{ "routing-key-format",
	    "the routing key is not <domain>.<action>[.v<N>] in lowercase words" },
	{ "version-suffix-mismatch",
	    "a V<N> name suffix and a .v<N> routing key suffix do not match" },
	{ "missing-description", "the contract has no description" },
	{ "missing-publisher", "the contract does not name its publisher" },
	{ "missing-consumers", "the contract names no consumers" },
	{ "ids-only",
	    "the contract carries only ids (and times), nothing describing them" },
	{ "ambiguous-field-name",
	    "a field is named timestamp, url, id, data, type or the like" },
	{ "datetime-not-at", "a datetime field's name does not end in _at" },
	{ "string-without-max-length", "a string field has no max_length" },
	{ "stream-without-max-bytes",
	    "a stream has no max_bytes: its disk use is bounded by age only, "
	    "or not at all" },
	{ "partitioning-changed",
	    "the contract partitions differently from the one it replaces" },
};
const size_t lint_nrules = sizeof lint_rules / sizeof lint_rules[0];

/* Field names that say too little, and what to say instead. */
static const struct lint_vague {
	const char *name;
	const char *advice;
} lint_vague[] = {
	{ "timestamp", "say which moment: accessed_at, not timestamp" },
	{ "time", "say which moment: accessed_at, not time" },
	{ "datetime", "say which moment: accessed_at, not datetime" },
	{ "ts", "say which moment: accessed_at, not ts" },
	{ "date", "say which day: birth_date or due_on, not date" },
	{ "url", "say which URL: long_url, not url" },
	{ "uri", "say which URI: callback_uri, not uri" },
	{ "link", "say which link: long_url, not link" },
	{ "id", "say whose id: resource_id, not id" },
	{ "uuid", "say whose id: resource_id, not uuid" },
	{ "key", "say which key: resource_key, not key" },
	{ "name", "say whose name: resource_name, not name" },
	{ "type", "say what it classifies: resource_type, not type" },
	{ "kind", "say what it classifies: resource_kind, not kind" },
	{ "status", "say whose status: order_status, not status" },
	{ "state", "say whose state: order_state, not state" },
	{ "value", "say what it measures: amount_cents, not value" },
	{ "amount", "say what and in which unit: amount_cents, not amount" },
	{ "data", "say what it holds: name the facts themselves, not data" },
	{ "payload",
	    "say what it holds: name the facts themselves, not payload" },
	{ "info", "say what it holds: name the facts themselves, not info" },
	{ "details",
	    "say what it holds: name the facts themselves, not details" },
	{ "body", "say what it holds: message_body, not body" },
	{ "content", "say what it holds: message_body, not content" },
};

/* One contract being checked and where its findings go. */
struct lint_ctx {
	const struct contract *c;
	void (*emit)(const struct lint_finding *, void *);
	void *arg;
	int   n;
};

/* Report one finding about the contract (field NULL) or one of its fields. */
static void __attribute__((format(printf, 5, 6))) lint_emit(struct lint_ctx *cx,
    const char *rule, int line, const char *field, const char *fmt, ...)
{
	struct lint_finding lf;
	va_list		    ap;
	char		   *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	lf.rule = rule;
	lf.file = cx->c->file;
	lf.line = line;
	lf.contract = cx->c->name;
	lf.field = field;
	lf.message = msg;
	cx->emit(&lf, cx->arg);
	free(msg);
	cx->n++;
}

/* Does s end in suffix (and have something before it)? */
static int
lint_ends(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return (ls > lx && strcmp(s + ls - lx, suffix) == 0);
}

/* Is the string empty or only blanks? */
static int
lint_blank(const char *s)
{
	if (s == NULL)
		return (1);
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return (0);
	}
	return (1);
}

/* Where a trailing V<N> (N without a leading zero) starts in a contract
 * name, or NULL when there is none. */
static const char *
lint_name_version(const char *name)
{
	const char *p = name + strlen(name);

	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (*p == '\0' || *p == '0' || p - name < 2 || p[-1] != 'V')
		return (NULL);
	return (p - 1);
}

/* The N of a routing key's .v<N> suffix, or NULL when it has none. The key
 * is valid, so a second dot is always followed by v<N>. */
static const char *
lint_key_version(const char *key)
{
	const char *p;

	if ((p = strchr(key, '.')) == NULL || (p = strchr(p + 1, '.')) == NULL)
		return (NULL);
	return (p + 2);
}

/* Is [s, s + len) a lowercase word: a letter, then letters, digits, _ or -,
 * not ending in _ or -? */
static int
lint_word(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] < 'a' || s[0] > 'z')
		return (0);
	for (i = 1; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '-'))
			return (0);
	}
	return (s[len - 1] != '_' && s[len - 1] != '-');
}

/* event-name-suffix: ResourceAccessedEvent, or ResourceAccessedEventV2. */
static void
lint_name(struct lint_ctx *cx)
{
	const struct contract *c = cx->c;
	const char	      *v;
	size_t		       len;

	v = lint_name_version(c->name);
	len = v == NULL ? strlen(c->name) : (size_t)(v - c->name);
	if (len > 5 && strncmp(c->name + len - 5, "Event", 5) == 0)
		return;
	lint_emit(cx, "event-name-suffix", c->line, NULL,
	    "name %s does not "
	    "end in Event: name the fact it records, as %.*sEvent%s",
	    c->name, (int)len, c->name, v == NULL ? "" : v);
}

/* routing-key-format: <domain>.<action>[.v<N>] in lowercase words. The
 * compiler has checked the shape; here the words themselves. */
static void
lint_routing_key(struct lint_ctx *cx)
{
	const struct contract *c = cx->c;
	const char	      *key = c->routing_key, *dot, *end;

	dot = strchr(key, '.');
	if ((end = strchr(dot + 1, '.')) == NULL)
		end = dot + strlen(dot);
	if (!lint_word(key, (size_t)(dot - key)) ||
	    !lint_word(dot + 1, (size_t)(end - dot - 1)))
		lint_emit(cx, "routing-key-format", c->line, NULL,
		    "routing key "
		    "\"%s\" is not <domain>.<action> in lowercase words, as "
		    "resource.accessed (or resource.accessed.v2)",
		    key);
	else if (*end == '\0' && dot[1] == 'v' && dot[2] >= '1' &&
	    dot[2] <= '9' && strspn(dot + 2, "0123456789") == strlen(dot + 2))
		lint_emit(cx, "routing-key-format", c->line, NULL,
		    "routing key "
		    "\"%s\" has a version where the action belongs: use "
		    "<domain>.<action>.v<N>, as resource.accessed.v2",
		    key);
}

/* version-suffix-mismatch: a breaking version has both a new name (V<N>)
 * and a new routing key (.v<N>), and they agree. */
static void
lint_version(struct lint_ctx *cx)
{
	const struct contract *c = cx->c;
	const char	      *nv, *kv;

	nv = lint_name_version(c->name);
	kv = lint_key_version(c->routing_key);
	if (nv == NULL && kv == NULL)
		return;
	if (nv != NULL && kv != NULL && strcmp(nv + 1, kv) == 0)
		return;
	if (kv == NULL)
		lint_emit(cx, "version-suffix-mismatch", c->line, NULL,
		    "name "
		    "ends in %s but routing key \"%s\" has no .v%s: a new "
		    "version needs its own routing key, %s.v%s",
		    nv, c->routing_key, nv + 1, c->routing_key, nv + 1);
	else if (nv == NULL)
		lint_emit(cx, "version-suffix-mismatch", c->line, NULL,
		    "routing "
		    "key \"%s\" is version %s but name %s has no V%s suffix, as "
		    "%sV%s",
		    c->routing_key, kv, c->name, kv, c->name, kv);
	else
		lint_emit(cx, "version-suffix-mismatch", c->line, NULL,
		    "name "
		    "ends in %s but routing key \"%s\" ends in .v%s: they must "
		    "name the same version",
		    nv, c->routing_key, kv);
}

/* missing-description, missing-publisher, missing-consumers: document
 * publisher, consumers and routing key with each event. */
static void
lint_documented(struct lint_ctx *cx)
{
	const struct contract *c = cx->c;

	if (lint_blank(c->description))
		lint_emit(cx, "missing-description", c->line, NULL,
		    "no "
		    "description: say what happened when this event is "
		    "published, as description = \"A short link was "
		    "opened.\"");
	if (lint_blank(c->publisher))
		lint_emit(cx, "missing-publisher", c->line, NULL,
		    "no publisher: "
		    "document which service publishes it, as publisher = "
		    "\"link-service\"");
	if (c->nconsumers == 0)
		lint_emit(cx, "missing-consumers", c->line, NULL,
		    "no consumers: "
		    "document which services consume it, as consumers = "
		    "[ \"analytics-service\" ]");
}

/* partitioning-changed: a contract that replaces another with another
 * partition key or count breaks the order of each key's events: while
 * both are published, one key's events wait in different partitions. */
static void
lint_partitioning(struct lint_ctx *cx)
{
	const struct contract *c = cx->c, *o = c->replaced;

	if (o == NULL)
		return;
	if ((c->partition_key == NULL) == (o->partition_key == NULL) &&
	    (c->partition_key == NULL ||
		(strcmp(c->partition_key, o->partition_key) == 0 &&
		    c->partitions == o->partitions)))
		return;
	lint_emit(cx, "partitioning-changed", c->line, NULL,
	    "partitioned by %s into %lld, but %s it replaces by %s into "
	    "%lld: a breaking change; each key's events lose their order "
	    "while both are published, so keep the partition key and count",
	    c->partition_key ? c->partition_key : "nothing", c->partitions,
	    o->name, o->partition_key ? o->partition_key : "nothing",
	    o->partitions);
}

/* Is the field an id: id, ids, *_id or *_ids? */
static int
lint_is_id(const struct field *f)
{
	return (strcmp(f->name, "id") == 0 || strcmp(f->name, "ids") == 0 ||
	    lint_ends(f->name, "_id") || lint_ends(f->name, "_ids"));
}

/* Is the field a time: a datetime, a date or *_at? */
static int
lint_is_time(const struct field *f)
{
	return (f->type == FIELD_DATETIME || f->type == FIELD_DATE ||
	    lint_ends(f->name, "_at"));
}

/* ids-only: a contract of ids and times makes every consumer call the
 * publisher to learn what the ids stand for. */
static void
lint_ids_only(struct lint_ctx *cx)
{
	const struct contract *c = cx->c;
	const struct field    *f, *first = NULL;
	char		      *ids = NULL, *s;
	size_t		       i;
	int		       stem;

	for (i = 0; i < c->nfields; i++) {
		f = &c->fields[i];
		if (lint_is_id(f)) {
			s = ids;
			xasprintf(&ids, "%s%s%s", s == NULL ? "" : s,
			    s == NULL ? "" : ", ", f->name);
			free(s);
			if (first == NULL)
				first = f;
		} else if (!lint_is_time(f)) {
			free(ids);
			return;
		}
	}
	if (ids == NULL)
		return;
	if (lint_ends(first->name, "_id"))
		stem = (int)strlen(first->name) - 3;
	else
		stem = -1;
	lint_emit(cx, "ids-only", c->line, NULL,
	    "carries only ids (%s) and "
	    "nothing that describes them, which forces consumers to call the "
	    "publisher: include what they need, as %.*s_name next to %s",
	    ids, stem < 0 ? 8 : stem, stem < 0 ? "resource" : first->name,
	    stem < 0 ? "resource_id" : first->name);
	free(ids);
}

/* ambiguous-field-name: accessed_at not timestamp, long_url not url. */
static void
lint_field_name(struct lint_ctx *cx, const struct field *f, const char *path)
{
	size_t i;

	for (i = 0; i < sizeof lint_vague / sizeof lint_vague[0]; i++) {
		if (strcasecmp(f->name, lint_vague[i].name) == 0) {
			lint_emit(cx, "ambiguous-field-name", f->line, path,
			    "name \"%s\" is ambiguous: %s", f->name,
			    lint_vague[i].advice);
			return;
		}
	}
}

/* The checks of one field, then of its nested fields and items. */
static void
lint_field(struct lint_ctx *cx, const struct field *f, const char *path)
{
	char  *sub;
	size_t i;

	if (f->name != NULL)
		lint_field_name(cx, f, path);
	if (f->name != NULL && f->type == FIELD_DATETIME &&
	    !lint_ends(f->name, "_at"))
		lint_emit(cx, "datetime-not-at", f->line, path,
		    "datetime "
		    "\"%s\" is not named *_at: name the moment after what "
		    "happened, as accessed_at",
		    f->name);
	if (f->type == FIELD_STRING && !(f->set & FIELD_MAX_LENGTH))
		lint_emit(cx, "string-without-max-length", f->line, path,
		    "string without max_length: bound it, as max_length = 512");
	for (i = 0; i < f->nfields; i++) {
		xasprintf(&sub, "%s.%s", path, f->fields[i].name);
		lint_field(cx, &f->fields[i], sub);
		free(sub);
	}
	if (f->items != NULL) {
		xasprintf(&sub, "%s[]", path);
		lint_field(cx, f->items, sub);
		free(sub);
	}
}

/* A stream must have a bound on its size: an age alone lets a burst fill
 * the broker's disk (and its disk alarm blocks every publisher). */
static void
lint_stream(struct lint_ctx *cx)
{
	const struct stream_conf *st = cx->c->stream;

	if (st == NULL || st->max_bytes > 0)
		return;
	if (st->max_age != NULL)
		lint_emit(cx, "stream-without-max-bytes", st->line, NULL,
		    "stream keeps %s of events however large: add "
		    "max_bytes, as max_bytes = 10000000000L",
		    st->max_age);
	else
		lint_emit(cx, "stream-without-max-bytes", st->line, NULL,
		    "stream keeps every event until the disk is full: add "
		    "max_bytes (and max_age), as max_bytes = 10000000000L");
}

/* Check one contract; return the number of findings. */
int
lint_contract(const struct contract *c,
    void (*emit)(const struct lint_finding *, void *), void *arg)
{
	struct lint_ctx cx = { c, emit, arg, 0 };
	size_t		i;

	lint_name(&cx);
	lint_routing_key(&cx);
	lint_version(&cx);
	lint_documented(&cx);
	lint_ids_only(&cx);
	lint_stream(&cx);
	lint_partitioning(&cx);
	for (i = 0; i < c->nfields; i++)
		lint_field(&cx, &c->fields[i], c->fields[i].name);
	return (cx.n);
}

/* Check every contract of the set; return the number of findings. */
int
lint_contracts(const struct contract_set *set,
    void (*emit)(const struct lint_finding *, void *), void *arg)
{
	size_t i;
	int    n = 0;

	for (i = 0; i < set->n; i++)
		n += lint_contract(set->v[i], emit, arg);
	return (n);
}

/* The finding as "FILE:LINE: RULE: contract X[: field F]: message". */
char *
lint_format(const struct lint_finding *lf)
{
	char *s;

	if (lf->field == NULL)
		xasprintf(&s, "%s:%d: %s: contract %s: %s", lf->file, lf->line,
		    lf->rule, lf->contract, lf->message);
	else
		xasprintf(&s, "%s:%d: %s: contract %s: field %s: %s", lf->file,
		    lf->line, lf->rule, lf->contract, lf->field, lf->message);
	return (s);
}
