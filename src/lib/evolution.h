/* evolution.h -- compare two contract sets and classify each change by the
 * rules of event evolution: additive or breaking, and whether a breaking
 * change is forbidden because it keeps its routing key. Pure: no I/O. */
#ifndef WARREN_EVOLUTION_H
#define WARREN_EVOLUTION_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "contract.h"

enum evolution_kind {
	EVOLUTION_ADDED,       /* a contract or field */
	EVOLUTION_REMOVED,     /* a contract or field */
	EVOLUTION_RENAMED,     /* a contract, same routing key */
	EVOLUTION_ROUTING_KEY, /* a contract, same name */
	EVOLUTION_TYPE,	       /* a field's type */
	EVOLUTION_REQUIRED,    /* optional -> required */
	EVOLUTION_OPTIONAL,    /* required -> optional */
	EVOLUTION_TIGHTENED,   /* a constraint accepts less */
	EVOLUTION_RELAXED,     /* a constraint accepts more */
	/* A contract's stream (see evolution_stream). */
	EVOLUTION_STREAM_ADDED,
	EVOLUTION_STREAM_REMOVED,
	EVOLUTION_RETENTION,
	EVOLUTION_PARTITIONING /* partition key or count */
};

enum evolution_class {
	EVOLUTION_ADDITIVE,
	EVOLUTION_BREAKING
};

enum evolution_verdict {
	EVOLUTION_OK,
	EVOLUTION_FORBIDDEN
};

struct evolution_change {
	char		   *contract;
	char		   *field; /* "a[].b", NULL: contract */
	enum evolution_kind kind;
	enum evolution_class class;
	enum evolution_verdict verdict;
	char		      *message;
};

struct evolution_report {
	struct evolution_change *v;
	size_t			 n;
	size_t			 nforbidden;
	size_t			 nbreaking;
	size_t			 nadditive;
};

/*
 * Fill r with every change from the contracts in from to those in to:
 * contracts matched by name (or, for a rename, by routing key), fields by
 * name, recursively. A breaking change is forbidden when consumers of the
 * same routing key would see it: a change inside a contract that keeps its
 * key, a rename, a moved key, a removal with no newer version left. A new
 * contract on a new versioned key is only an addition. r owns copies of
 * every string; free it with evolution_report_clear.
 */
void evolution_compare(const struct contract_set *from,
    const struct contract_set *to, struct evolution_report *r);
void evolution_report_clear(struct evolution_report *);

/* The report as {"changes":[...],"forbidden":N,"breaking":N,"additive":N}. */
cJSON *evolution_to_json(const struct evolution_report *);

/* "added", "type_changed", ...; "additive" or "breaking"; "ok" or
 * "forbidden". */
const char *evolution_kind_name(enum evolution_kind);
const char *evolution_class_name(enum evolution_class);
const char *evolution_verdict_name(enum evolution_verdict);

#endif
