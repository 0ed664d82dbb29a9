/* contract-stream.c -- a contract's "stream" group: its events are also
 * kept in a stream queue, with a retention by size or age, so that any
 * subscriber can replay them. Pure: no I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "contract.h"
#include "util.h"

/* Fail with "FILE:LINE: contract NAME: stream: message". */
static int __attribute__((format(printf, 4, 5)))
contract_stream_fail(const config_setting_t *s, const char *contract,
    char **cause, const char *fmt, ...)
{
	const config_setting_t *p;
	const char	       *file = NULL;
	va_list			ap;
	char		       *msg;
	int			line = 0;

	for (p = s; p != NULL; p = config_setting_parent(p)) {
		if (file == NULL)
			file = config_setting_source_file(p);
		if (line == 0)
			line = config_setting_source_line(p);
	}
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(cause, "%s:%d: contract %s: stream: %s",
	    file != NULL ? file : "(string)", line, contract, msg);
	free(msg);
	return (-1);
}

/* Is s a RabbitMQ x-max-age: digits then one of Y M D h m s? */
int
contract_stream_age_valid(const char *s)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == s || p - s > 9 || strchr("YMDhms", *p) == NULL || *p == '\0' ||
	    p[1] != '\0')
		return (0);
	return (strtol(s, NULL, 10) > 0);
}

/* Read max_bytes: a positive integer (above 2^31 with an L suffix). */
static int
contract_stream_bytes(const config_setting_t *e, const char *contract,
    struct stream_conf *st, char **cause)
{
	char lit[64];

	if (config_setting_type(e) != CONFIG_TYPE_INT &&
	    config_setting_type(e) != CONFIG_TYPE_INT64)
		return (contract_stream_fail(e, contract, cause,
		    "max_bytes must be an integer"));
	if (!conf_int_literal_ok(e, lit, sizeof lit))
		return (contract_stream_fail(e, contract, cause,
		    "max_bytes = %s was read as %lld (libconfig keeps 32 bits "
		    "without an L suffix); write %sL",
		    lit, (long long)config_setting_get_int64(e), lit));
	st->max_bytes = config_setting_get_int64(e);
	if (st->max_bytes <= 0)
		return (contract_stream_fail(e, contract, cause,
		    "max_bytes must be more than 0, not %lld", st->max_bytes));
	return (0);
}

/* Read one key of the stream group. */
static int
contract_stream_key(const config_setting_t *e, const char *contract,
    struct stream_conf *st, char **cause)
{
	const char *name = config_setting_name(e);

	if (strcmp(name, "max_bytes") == 0)
		return (contract_stream_bytes(e, contract, st, cause));
	if (strcmp(name, "max_age") == 0) {
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    !contract_stream_age_valid(config_setting_get_string(e)))
			return (contract_stream_fail(e, contract, cause,
			    "max_age must be a string: a positive number and "
			    "a unit, one of Y M D h m s (\"7D\", \"12h\")"));
		st->max_age = xstrdup(config_setting_get_string(e));
		return (0);
	}
	return (contract_stream_fail(e, contract, cause,
	    "unknown key \"%s\" (expected max_bytes, max_age)", name));
}

/* Compile a contract's "stream" group. */
int
contract_stream_compile(const config_setting_t *s, const char *contract,
    struct stream_conf **stp, char **cause)
{
	struct stream_conf *st;
	int		    i, len;

	if (!config_setting_is_group(s))
		return (contract_stream_fail(s, contract, cause,
		    "stream must be a group: stream = { max_age = \"7D\"; }"));
	st = xcalloc(1, sizeof *st);
	st->line = (int)config_setting_source_line(s);
	len = config_setting_length(s);
	for (i = 0; i < len; i++) {
		if (contract_stream_key(config_setting_get_elem(s,
					    (unsigned int)i),
			contract, st, cause) != 0) {
			contract_stream_free(st);
			return (-1);
		}
	}
	*stp = st;
	return (0);
}

/* Free a stream. */
void
contract_stream_free(struct stream_conf *st)
{
	if (st == NULL)
		return;
	free(st->max_age);
	free(st);
}

/* The stream queue of a contract. */
char *
contract_stream_queue(const char *exchange, const char *contract)
{
	char *q;

	xasprintf(&q, "%s.%s.stream", exchange, contract);
	return (q);
}

/* The stream as JSON; with exchange, its queue's name too. */
cJSON *
contract_stream_to_json(const struct stream_conf *st, const char *exchange,
    const char *contract)
{
	cJSON *o = cJSON_CreateObject();
	char  *q;

	if (exchange != NULL) {
		q = contract_stream_queue(exchange, contract);
		cJSON_AddStringToObject(o, "queue", q);
		free(q);
	}
	if (st->max_bytes > 0)
		cJSON_AddNumberToObject(o, "max_bytes", (double)st->max_bytes);
	if (st->max_age != NULL)
		cJSON_AddStringToObject(o, "max_age", st->max_age);
	return (o);
}
