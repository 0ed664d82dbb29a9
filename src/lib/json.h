/* json.h -- what cJSON does not check: strict grammar, UTF-8, duplicate keys,
 * bounded depth, and the raw bytes of the members a caller names. */
#ifndef WARREN_JSON_H
#define WARREN_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Deepest nesting json_check accepts (cJSON's own limit is 1000). */
#define JSON_MAX_DEPTH 64

/* A span of the checked input; ptr is NULL when the member was absent. */
struct json_span {
	const char *ptr;
	size_t	    len;
};

/* A top-level member whose raw value json_check should find. */
struct json_capture {
	const char	*name; /* the caller's */
	struct json_span span; /* filled by json_check */
};

/*
 * Check that buf[0, len) is exactly one JSON object (RFC 8259, optional
 * surrounding whitespace): strict grammar, valid UTF-8 everywhere (no
 * overlong forms, no UTF-8-encoded surrogates, no truncated sequences), no
 * NUL byte raw or as \u0000, no lone surrogate escape, no duplicate key in
 * any object (keys compared after unescaping), nesting at most
 * JSON_MAX_DEPTH. On success point the span of each of the ncap captures
 * at the raw bytes of the value of the top-level member it names (ptr NULL
 * if absent) and return 0. On failure clear the spans, return -1 and set
 * *cause to a message the caller frees.
 */
int json_check(const char *buf, size_t len, struct json_capture *cap,
    size_t ncap, char **cause);

/* Is s[0, len) valid UTF-8 with no NUL byte? */
int json_utf8_valid(const char *s, size_t len);

/* The number of code points in the valid UTF-8 string s. */
size_t json_utf8_length(const char *s);

/*
 * cJSON keeps numbers only as doubles. Point the valuestring of every
 * number in tree at its literal in buf (the text tree was parsed from, which
 * must outlive tree), marked as a reference so cJSON_Delete leaves it, so
 * checks can see "1e-999" or "1.0000000000000000001" as written.
 */
void json_annotate_numbers(cJSON *tree, const char *buf, size_t len);

/* Is the JSON number literal at s (ending at the first byte that cannot be
 * part of a number) exactly an integer? */
int json_literal_integral(const char *s);

/*
 * Parse into a buffer reused for every request instead of malloc'ed nodes
 * (json-scratch.c): json_scratch_init installs cJSON hooks and makes the
 * calling thread the buffer's; json_parse_scratch on that thread parses
 * into it (elsewhere it is cJSON_ParseWithLength). Free with cJSON_Delete.
 */
void   json_scratch_init(void);
cJSON *json_parse_scratch(const char *buf, size_t len);
size_t json_scratch_live(void);

#endif
