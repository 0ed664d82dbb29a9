/* compat.h -- compare two contract sets and classify each change by the
 * rules of event evolution: additive or breaking, and whether a breaking
 * change is forbidden because it keeps its routing key. Pure: no I/O. */
#ifndef WARREN_COMPAT_H
#define WARREN_COMPAT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "contract.h"

enum compat_kind {
	COMPAT_ADDED,		/* a contract or field */
	COMPAT_REMOVED,		/* a contract or field */
	COMPAT_RENAMED,		/* a contract, same routing key */
	COMPAT_ROUTING_KEY,	/* a contract, same name */
	COMPAT_TYPE,		/* a field's type */
	COMPAT_REQUIRED,	/* optional -> required */
	COMPAT_OPTIONAL,	/* required -> optional */
	COMPAT_TIGHTENED,	/* a constraint accepts less */
	COMPAT_RELAXED		/* a constraint accepts more */
};

enum compat_class {
	COMPAT_ADDITIVE,
	COMPAT_BREAKING
};

enum compat_verdict {
	COMPAT_OK,
	COMPAT_FORBIDDEN
};

struct compat_change {
	char			*contract;
	char			*field;		/* "a[].b", NULL: contract */
	enum compat_kind	 kind;
	enum compat_class	 class;
	enum compat_verdict	 verdict;
	char			*message;
};

struct compat_report {
	struct compat_change	*v;
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
 * every string; free it with compat_report_clear.
 */
void		 compat_compare(const struct contract_set *from,
		    const struct contract_set *to, struct compat_report *r);
void		 compat_report_clear(struct compat_report *);

/* The report as {"changes":[...],"forbidden":N,"breaking":N,"additive":N}. */
cJSON		*compat_to_json(const struct compat_report *);

/* "added", "type_changed", ...; "additive" or "breaking"; "ok" or
 * "forbidden". */
const char	*compat_kind_name(enum compat_kind);
const char	*compat_class_name(enum compat_class);
const char	*compat_verdict_name(enum compat_verdict);

#endif
