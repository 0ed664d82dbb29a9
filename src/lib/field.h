/* field.h -- contract fields; only contract.c, validate.c, lint.c and
 * evolution.c include it. */
#ifndef WARREN_FIELD_H
#define WARREN_FIELD_H

#include <regex.h>
#include <sys/types.h>
#include <stddef.h>

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

/* The type names, as written in the config, indexed by enum field_type. */
extern const char *const field_type_names[FIELD_NTYPES];

/* Which of a field's optional constraints are set. */
#define FIELD_MIN_LENGTH 0x01
#define FIELD_MAX_LENGTH 0x02
#define FIELD_PATTERN 0x04
#define FIELD_MINIMUM 0x08
#define FIELD_MAXIMUM 0x10
#define FIELD_MIN_ITEMS 0x20
#define FIELD_MAX_ITEMS 0x40

/* One field of an object, or the item type of an array (no name). */
struct field {
	char	       *name;
	enum field_type type;
	int		optional;
	char	       *description;
	int		set;
	long long	min_length;
	long long	max_length;
	char	       *pattern;
	regex_t		regex;
	double		minimum;
	double		maximum;
	char	      **values;
	size_t		nvalues;
	struct field   *fields;
	size_t		nfields;
	struct fieldix *index; /* of fields, by name (field-index.c) */
	int		additional_fields;
	struct field   *items;
	long long	min_items;
	long long	max_items;
	int		line; /* where it was defined */
};

/* field-index.c: a field list by name. An index of the n fields (NULL
 * for none); the index of the field called name, or -1 (by a scan when ix
 * is NULL). */
struct fieldix *field_index_new(const struct field *, size_t n);
ssize_t		field_index_find(const struct fieldix *ix, const struct field *,
	    size_t n, const char *name);
void		field_index_free(struct fieldix *);

/* A double as the shortest text that reads back as the same value. */
void contract_fmt_num(char *, size_t, double);

#endif
