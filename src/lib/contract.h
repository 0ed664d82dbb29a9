/* contract.h -- event contracts: compile from config, validate events.
 * Pure: no I/O. */
#ifndef WARREN_CONTRACT_H
#define WARREN_CONTRACT_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <libconfig.h>

struct field;
struct fieldix;

/* A contract's stream: its events are also kept, for replay, in a stream
 * queue of their own (contract-stream.c). */
struct stream_conf {
	long long max_bytes; /* x-max-length-bytes; 0: not set */
	char	 *max_age;   /* x-max-age ("7D"); NULL: not set */
	int	  line;
};

struct contract {
	char  *name;	    /* event type, ^[A-Z][A-Za-z0-9]*$ */
	char  *routing_key; /* <domain>.<action>[.v<N>] */
	char  *description; /* may be NULL */
	char  *publisher;   /* may be NULL */
	char **consumers;
	size_t nconsumers;
	int    additional_fields;
	int    max_attempts; /* of a delivery; 0: consume.max_attempts */
	char **allow_users;  /* names or numeric ids; NULL: anyone */
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
	struct fieldix	      *index;	      /* of fields, by name */
	char		      *partition_key; /* NULL: not partitioned */
	long long	       partitions;    /* 0: not partitioned */
	char		      *file;	      /* where it was defined */
	int		       line;
	/* Where its events are kept for replay; NULL: nowhere. */
	struct stream_conf *stream;
};

/* A slot of a name table: the key (the contract's own string), the
 * contract, 32 bits of the key's hash, and the index + 1 into the set (0:
 * empty). A lookup compares the hash before touching the string, and
 * fetches the contract while it compares that. */
struct contract_slot {
	const char	      *key;
	const struct contract *contract;
	uint32_t	       hash;
	uint32_t	       index;
};

struct contract_set {
	struct contract **v;
	size_t		  n;
	/* contract-index.c's hash tables. */
	struct contract_slot *by_name;
	struct contract_slot *by_key;
	size_t		      nslots; /* in each; a power of 2, or 0 */
};

/*
 * Compile one contract group from the config (keys: name, routing_key,
 * description, publisher, consumers, fields, additional_fields,
 * allow_users, allow_groups, max_attempts, stream, partition_key,
 * partitions). Regexes are compiled here. Every problem is
 * an error whose *cause reads "FILE:LINE: message"; the caller frees it.
 */
int  contract_compile(const config_setting_t *, struct contract **,
     char **cause);
void contract_free(struct contract *);

/* Add c to the set, refusing a duplicate name or routing key. On success the
 * set owns c; on failure the caller still does. */
int  contract_set_add(struct contract_set *, struct contract *, char **cause);
void contract_set_clear(struct contract_set *);
/* The contract named name, or NULL: constant time (a hash table). */
const struct contract *contract_find(const struct contract_set *,
    const char *name);

/* contract-index.c: the set's tables by name and by routing key. */
uint64_t contract_index_hash(const char *);
/* Index set->v[i], just appended (the tables grow when half full). */
void contract_index_add(struct contract_set *, size_t i);
/* The index of the contract named s (by_key 0) or routed by s (by_key
 * 1), or -1. */
ssize_t contract_index_find(const struct contract_set *, const char *s,
    int by_key);
void	contract_index_free(struct contract_set *);
/* Start fetching the table slot of the contract named by len bytes at
 * name, ahead of a contract_find for it. */
void contract_index_prefetch(const struct contract_set *, const char *name,
    size_t len);

/*
 * Validate data (the event's "data" member) against c. Return 0 if it holds;
 * otherwise -1 with *message ("PATH: problem", or just "problem" when the
 * data itself is at fault) and *path ("items[2].sku", NULL when none), both
 * for the caller to free.
 */
int contract_validate(const struct contract *c, const cJSON *data,
    char **message, char **path);

/* Start fetching what contract_validate will read of c into the cache
 * (contract_find does, for the contract it returns). */
void contract_prefetch(const struct contract *c);

/* The contract as a JSON object for the "contracts" op. */
cJSON *contract_to_json(const struct contract *);

/* Compile a contract's "stream" group (keys max_bytes, max_age); errors
 * read "FILE:LINE: contract NAME: stream: message". */
int contract_stream_compile(const config_setting_t *, const char *contract,
    struct stream_conf **, char					**cause);
/* Free a stream_conf (NULL is fine). */
void contract_stream_free(struct stream_conf *);
/* The stream as JSON: {"queue":...,"max_bytes":...,"max_age":...}, the
 * queue only when exchange is given. */
cJSON *contract_stream_to_json(const struct stream_conf *, const char *exchange,
    const char *contract);
/* The stream queue of a contract: "<exchange>.<Contract>.stream". */
char *contract_stream_queue(const char *exchange, const char *contract);
/* Is s a RabbitMQ x-max-age: digits then one of Y M D h m s? */
int contract_stream_age_valid(const char *s);

/* Is s a well-formed routing key? Is s a well-formed contract name? */
int contract_routing_key_valid(const char *s);
int contract_name_valid(const char *s);

#endif
