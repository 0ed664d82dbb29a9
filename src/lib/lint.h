/* lint.h -- the event design checklist applied to compiled contracts.
 * Pure: no I/O; the caller decides where findings go. */
#ifndef WARREN_LINT_H
#define WARREN_LINT_H

#include <stddef.h>

#include "contract.h"

/* One finding. Every pointer is borrowed and lives only during the call. */
struct lint_finding {
	const char *rule; /* stable, kebab-case: "ids-only" */
	const char *file;
	int	    line;
	const char *contract;
	const char *field;   /* path, "items[].sku"; NULL: the contract */
	const char *message; /* the problem and the advice */
};

/* A rule: its stable name and what it means, for documentation and tests. */
struct lint_rule {
	const char *name;
	const char *summary;
};

extern const struct lint_rule lint_rules[];
extern const size_t	      lint_nrules;

/*
 * Check every contract of set, calling emit(finding, arg) for each finding,
 * contract by contract in set order, the contract's own findings before its
 * fields'. Return the number of findings.
 */
int lint_contracts(const struct contract_set *set,
    void (*emit)(const struct lint_finding *, void *), void *arg);
int lint_contract(const struct contract *c,
    void (*emit)(const struct lint_finding *, void *), void *arg);

/* The finding as "FILE:LINE: RULE: contract X[: field F]: message", no
 * newline; the caller frees it. */
char *lint_format(const struct lint_finding *);

#endif
