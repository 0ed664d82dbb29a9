/* conf-schema.c -- a contract group that gives its fields as a JSON Schema
 * file, schema = "path.json", in the shape Pydantic v2's
 * model_json_schema() prints: the file is read and turned into the
 * contract's JSON (schema-import.c), then into a scratch libconfig group
 * that contract_compile() reads like any other. The group's own keys win
 * over what the schema says. */
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "schema.h"
#include "util.h"

#define CONF_SCHEMA_MAX_BYTES (16 << 20) /* a schema is not data */

/* The libconfig type a JSON value becomes; CONFIG_TYPE_NONE for null. An
 * array of scalars of one type is an array [ ], any other a list ( ). */
static int
conf_schema_type(const cJSON *v)
{
	const cJSON *e;
	int	     t = CONFIG_TYPE_NONE, et;

	if (cJSON_IsString(v))
		return (CONFIG_TYPE_STRING);
	if (cJSON_IsBool(v))
		return (CONFIG_TYPE_BOOL);
	if (cJSON_IsObject(v))
		return (CONFIG_TYPE_GROUP);
	if (cJSON_IsNumber(v)) {
		if (floor(v->valuedouble) != v->valuedouble ||
		    fabs(v->valuedouble) > 9007199254740992.0)
			return (CONFIG_TYPE_FLOAT);
		if (fabs(v->valuedouble) < 2147483648.0)
			return (CONFIG_TYPE_INT);
		return (CONFIG_TYPE_INT64);
	}
	if (!cJSON_IsArray(v))
		return (CONFIG_TYPE_NONE);
	cJSON_ArrayForEach(e, v) {
		et = conf_schema_type(e);
		if (et == CONFIG_TYPE_GROUP || et == CONFIG_TYPE_ARRAY ||
		    et == CONFIG_TYPE_LIST ||
		    (t != CONFIG_TYPE_NONE && et != t))
			return (CONFIG_TYPE_LIST);
		t = et;
	}
	return (CONFIG_TYPE_ARRAY);
}

/* Add v to parent as name (NULL in an array or list). */
int
conf_schema_setting(config_setting_t *parent, const char *name, const cJSON *v)
{
	config_setting_t *s;
	const cJSON	 *e;
	int		  type = conf_schema_type(v);

	if (type == CONFIG_TYPE_NONE ||
	    (s = config_setting_add(parent, name, type)) == NULL)
		return (-1);
	switch (type) {
	case CONFIG_TYPE_STRING:
		return (config_setting_set_string(s, v->valuestring) ==
			    CONFIG_TRUE ?
			0 :
			-1);
	case CONFIG_TYPE_BOOL:
		return (config_setting_set_bool(s, cJSON_IsTrue(v)) ==
			    CONFIG_TRUE ?
			0 :
			-1);
	case CONFIG_TYPE_INT:
		return (config_setting_set_int(s, (int)v->valuedouble) ==
			    CONFIG_TRUE ?
			0 :
			-1);
	case CONFIG_TYPE_INT64:
		return (config_setting_set_int64(s,
			    (long long)v->valuedouble) == CONFIG_TRUE ?
			0 :
			-1);
	case CONFIG_TYPE_FLOAT:
		return (config_setting_set_float(s, v->valuedouble) ==
			    CONFIG_TRUE ?
			0 :
			-1);
	}
	cJSON_ArrayForEach(e, v) {
		if (conf_schema_setting(s,
			type == CONFIG_TYPE_GROUP ? e->string : NULL, e) != 0)
			return (-1);
	}
	return (0);
}

/* Say that s (and what it holds, where not said yet) came from file, line,
 * so that contract_compile()'s messages name them. libconfig has no
 * setter, but the struct is part of its interface. */
static void
conf_schema_place(config_setting_t *s, const char *file, unsigned int line)
{
	config_setting_t *e;
	int		  i;

	if (s->line == 0) {
		s->line = line;
		s->file = file;
	}
	for (i = 0; (e = config_setting_get_elem(s, (unsigned int)i)) != NULL;
	     i++)
		conf_schema_place(e, file, line);
}

/* Copy src, and what it holds, to parent, keeping where it came from. */
static int
conf_schema_copy(config_setting_t *parent, const config_setting_t *src,
    const char *file)
{
	config_setting_t *d;
	const char	 *f = config_setting_source_file(src);
	int		  i, type = config_setting_type(src), rv = 0;

	if ((d = config_setting_add(parent, config_setting_name(src), type)) ==
	    NULL)
		return (-1);
	conf_schema_place(d, f != NULL ? f : file,
	    config_setting_source_line(src));
	if (type == CONFIG_TYPE_INT)
		rv = config_setting_set_int(d, config_setting_get_int(src));
	else if (type == CONFIG_TYPE_INT64)
		rv = config_setting_set_int64(d, config_setting_get_int64(src));
	else if (type == CONFIG_TYPE_FLOAT)
		rv = config_setting_set_float(d, config_setting_get_float(src));
	else if (type == CONFIG_TYPE_STRING)
		rv = config_setting_set_string(d,
		    config_setting_get_string(src));
	else if (type == CONFIG_TYPE_BOOL)
		rv = config_setting_set_bool(d, config_setting_get_bool(src));
	else {
		for (i = 0; i < config_setting_length(src); i++)
			if (conf_schema_copy(d,
				config_setting_get_elem(src, (unsigned int)i),
				file) != 0)
				return (-1);
		return (0);
	}
	return (rv == CONFIG_TRUE ? 0 : -1);
}

/* Read the file at path, NUL-terminated; NULL with *cause on failure. */
static char *
conf_schema_read(const char *path, char **cause)
{
	FILE  *f;
	char  *buf;
	size_t len;

	if ((f = fopen(path, "r")) == NULL) {
		*cause = xstrdup(strerror(errno));
		return (NULL);
	}
	buf = xmalloc(CONF_SCHEMA_MAX_BYTES + 1);
	len = fread(buf, 1, CONF_SCHEMA_MAX_BYTES + 1, f);
	if (ferror(f) || len > CONF_SCHEMA_MAX_BYTES) {
		*cause = xstrdup(ferror(f) ? strerror(errno) :
					     "larger than "
					     "16 MiB");
		fclose(f);
		free(buf);
		return (NULL);
	}
	fclose(f);
	buf[len] = '\0';
	return (buf);
}

/* Parse the JSON file at path; NULL with *cause on failure. */
static cJSON *
conf_schema_parse(const char *path, char **cause)
{
	cJSON	   *json;
	const char *end = NULL, *p;
	char	   *text;
	int	    line = 1;

	if ((text = conf_schema_read(path, cause)) == NULL)
		return (NULL);
	if ((json = cJSON_ParseWithOpts(text, &end, 1)) == NULL) {
		for (p = text; end != NULL && p < end; p++)
			line += *p == '\n';
		xasprintf(cause, "line %d: not valid JSON", line);
	}
	free(text);
	return (json);
}

/* The contract's JSON from the schema at path, its title the group's
 * name when the group has a good one. */
static cJSON *
conf_schema_load(const config_setting_t *group, const char *path, char **cause)
{
	const config_setting_t *n = config_setting_get_member(group, "name");
	const char	       *why;
	cJSON		       *schema, *json;
	char		       *msg;

	if ((schema = conf_schema_parse(path, cause)) == NULL)
		return (NULL);
	if (n != NULL && config_setting_type(n) == CONFIG_TYPE_STRING &&
	    contract_name_valid(config_setting_get_string(n)) &&
	    cJSON_IsObject(schema)) {
		cJSON_DeleteItemFromObjectCaseSensitive(schema, "title");
		cJSON_AddStringToObject(schema, "title",
		    config_setting_get_string(n));
	}
	json = schema_to_contract_json(schema, &msg);
	cJSON_Delete(schema);
	if (json == NULL) {
		why = strncmp(msg, "schema: ", 8) == 0 ? msg + 8 : msg;
		*cause = xstrdup(why);
		free(msg);
	}
	return (json);
}

/* The schema file's path: as given if absolute, else relative to the
 * directory of the file that holds the group. */
static char *
conf_schema_path(const config_setting_t *s, const char *file)
{
	const char *v = config_setting_get_string(s);
	const char *f = config_setting_source_file(s);
	char	   *copy, *path;

	if (v[0] == '/')
		return (xstrdup(v));
	copy = xstrdup(f != NULL ? f : file);
	xasprintf(&path, "%s/%s", dirname(copy), v);
	free(copy);
	return (path);
}

/* Fill scratch with the contract's JSON, placed at the schema key, then
 * the group's own keys but schema in place of the schema's. */
static int
conf_schema_merge(config_setting_t *scratch, cJSON *json,
    const config_setting_t *group, const config_setting_t *sk, const char *file)
{
	const config_setting_t *m;
	const char	       *f = config_setting_source_file(sk);
	int			i;

	for (i = 0;
	     (m = config_setting_get_elem(group, (unsigned int)i)) != NULL;
	     i++) {
		if (strcmp(config_setting_name(m), "schema") != 0 &&
		    cJSON_GetObjectItemCaseSensitive(json,
			config_setting_name(m)) != NULL)
			cJSON_DeleteItemFromObjectCaseSensitive(json,
			    config_setting_name(m));
	}
	if (conf_schema_setting(scratch, "contract", json) != 0)
		return (-1);
	scratch = config_setting_get_member(scratch, "contract");
	conf_schema_place(scratch, f != NULL ? f : file,
	    config_setting_source_line(sk));
	scratch->line = config_setting_source_line(group);
	for (i = 0;
	     (m = config_setting_get_elem(group, (unsigned int)i)) != NULL;
	     i++) {
		if (strcmp(config_setting_name(m), "schema") != 0 &&
		    conf_schema_copy(scratch, m, file) != 0)
			return (-1);
	}
	return (0);
}

/* Fail with "FILE:LINE: message" at setting s. */
static int __attribute__((format(printf, 4, 5))) conf_schema_fail(char **cause,
    const config_setting_t *s, const char *file, const char *fmt, ...)
{
	const char *f = config_setting_source_file(s);
	va_list	    ap;
	char	   *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(cause, "%s:%u: %s", f != NULL ? f : file,
	    config_setting_source_line(s), msg);
	free(msg);
	return (-1);
}

/* Compile a contract group, through its JSON Schema file if it names one
 * with schema = "path.json". */
int
conf_schema_compile(const config_setting_t *group, const char *file,
    struct contract **cp, char **cause)
{
	const config_setting_t *sk;
	config_t		scratch;
	cJSON		       *json;
	char		       *path, *why;
	int			rv;

	if ((sk = config_setting_get_member(group, "schema")) == NULL)
		return (contract_compile(group, cp, cause));
	if (config_setting_type(sk) != CONFIG_TYPE_STRING ||
	    *config_setting_get_string(sk) == '\0')
		return (conf_schema_fail(cause, sk, file,
		    "schema must be the "
		    "path of a JSON Schema file"));
	if (config_setting_get_member(group, "fields") != NULL)
		return (conf_schema_fail(cause, sk, file,
		    "a contract takes "
		    "schema or fields, not both"));
	path = conf_schema_path(sk, file);
	if ((json = conf_schema_load(group, path, &why)) == NULL) {
		conf_schema_fail(cause, sk, file, "schema %s: %s", path, why);
		free(why);
		free(path);
		return (-1);
	}
	config_init(&scratch);
	if ((rv = conf_schema_merge(config_root_setting(&scratch), json, group,
		 sk, file)) != 0)
		conf_schema_fail(cause, sk, file,
		    "schema %s: cannot be read "
		    "as a contract",
		    path);
	else
		rv = contract_compile(config_lookup(&scratch, "contract"), cp,
		    cause);
	config_destroy(&scratch);
	cJSON_Delete(json);
	free(path);
	return (rv);
}
