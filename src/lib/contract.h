/* contract.h -- event contracts: compile from config, validate events.
 * Pure: no I/O. */
#ifndef WARREN_CONTRACT_H
#define WARREN_CONTRACT_H

#include <sys/types.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include <libconfig.h>

struct field;

struct contract {
	char  *name;	    /* event type, ^[A-Z][A-Za-z0-9]*$ */
	char  *routing_key; /* <domain>.<action>[.v<N>] */
	char  *description; /* may be NULL */
	char  *publisher;   /* may be NULL */
	char **consumers;
	size_t nconsumers;
	int    additional_fields;
	char **allow_users; /* names or numeric ids; NULL: anyone */
	size_t nallow_users;
	char  *replaces; /* the older event this one migrates */
	int    replaces_line;
	const struct contract *replaced; /* resolved by conf.c */
	char		     **allow_groups;
	size_t		       nallow_groups;
	uid_t		      *uids; /* resolved by conf.c from allow_users */
	size_t		       nuids;
	gid_t		      *gids; /* resolved by conf.c from allow_groups */
	size_t		       ngids;
	struct field	      *fields; /* the top-level object's fields */
	size_t		       nfields;
	char		      *partition_key; /* NULL: not partitioned */
	long long	       partitions;    /* 0: not partitioned */
	char		      *file;	      /* where it was defined */
	int		       line;
};

struct contract_set {
	struct contract **v;
	size_t		  n;
};

/*
 * Compile one contract group from the config (keys: name, routing_key,
 * description, publisher, consumers, fields, additional_fields,
 * allow_users, allow_groups, partition_key, partitions). Regexes are compiled here. Every problem is
 * an error whose *cause reads "FILE:LINE: message"; the caller frees it.
 */
int  contract_compile(const config_setting_t *, struct contract **,
     char **cause);
void contract_free(struct contract *);

/* Add c to the set, refusing a duplicate name or routing key. On success the
 * set owns c; on failure the caller still does. */
int  contract_set_add(struct contract_set *, struct contract *, char **cause);
void contract_set_clear(struct contract_set *);
const struct contract *contract_find(const struct contract_set *,
    const char *name);

/*
 * Validate data (the event's "data" member) against c. Return 0 if it holds;
 * otherwise -1 with *message ("PATH: problem", or just "problem" when the
 * data itself is at fault) and *path ("items[2].sku", NULL when none), both
 * for the caller to free.
 */
int contract_validate(const struct contract *c, const cJSON *data,
    char **message, char **path);

/* The contract as a JSON object for the "contracts" op. */
cJSON *contract_to_json(const struct contract *);

/* Is s a well-formed routing key? Is s a well-formed contract name? */
int contract_routing_key_valid(const char *s);
int contract_name_valid(const char *s);

#endif
