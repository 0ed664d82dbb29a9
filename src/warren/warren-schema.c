/* warren-schema.c -- warren contracts --json-schema NAME and warren
 * asyncapi: the configured contracts as JSON Schema or as an AsyncAPI
 * document, read from the config file, without asking warrend. */
#include <cjson/cJSON.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asyncapi.h"
#include "conf.h"
#include "contract.h"
#include "schema.h"
#include "warren.h"

/* Is argv a command of this file (and not one for warrend's socket)? */
int
warren_schema_wants(int argc, char **argv)
{
	if (strcmp(argv[0], "asyncapi") == 0)
		return (1);
	return (strcmp(argv[0], "contracts") == 0 && argc > 1 &&
	    strcmp(argv[1], "--json-schema") == 0);
}

/* Load the config file (the default one without -c), or exit. */
static struct conf *
warren_schema_conf(const char *file)
{
	struct conf	*cf;
	char		*cause;

	if (file == NULL)
		file = CONF_DEFAULT_FILE;
	if ((cf = conf_load(file, &cause)) == NULL)
		errx(WARREN_EXIT_TROUBLE, "%s", cause);
	return (cf);
}

/* Start a new line indented by depth levels of two spaces. */
static void
warren_schema_newline(int depth)
{
	putchar('\n');
	while (depth-- > 0)
		fputs("  ", stdout);
}

/* Print compact JSON text s indented as Python's json.dumps(indent=2)
 * does: tools that read AsyncAPI as YAML warn about cJSON's tabs. */
static void
warren_schema_write(const char *s)
{
	int	 depth = 0, instr = 0;

	for (; *s != '\0'; s++) {
		if (instr) {
			putchar(*s);
			if (*s == '\\' && s[1] != '\0')
				putchar(*++s);
			else if (*s == '"')
				instr = 0;
			continue;
		}
		if (*s == '}' || *s == ']')
			warren_schema_newline(--depth);
		if (*s == ':')
			fputs(": ", stdout);
		else
			putchar(*s);
		if (*s == '"')
			instr = 1;
		else if ((*s == '{' || *s == '[') &&
		    (s[1] == '}' || s[1] == ']'))
			putchar(*++s);
		else if (*s == '{' || *s == '[')
			warren_schema_newline(++depth);
		else if (*s == ',')
			warren_schema_newline(depth);
	}
	putchar('\n');
}

/* Print a document, indented, and free it. */
static int
warren_schema_print(cJSON *doc)
{
	char	*s;

	if ((s = cJSON_PrintUnformatted(doc)) == NULL)
		errx(WARREN_EXIT_TROUBLE, "out of memory");
	cJSON_Delete(doc);
	warren_schema_write(s);
	cJSON_free(s);
	if (fflush(stdout) != 0)
		err(WARREN_EXIT_TROUBLE, "stdout");
	return (0);
}

/* contracts --json-schema NAME or asyncapi, with the config file (NULL:
 * the default); -1 for a usage error. */
int
warren_schema_run(const char *file, int argc, char **argv)
{
	const struct contract	*c;
	struct conf		*cf;
	int			 status;

	if (strcmp(argv[0], "asyncapi") == 0 ? argc != 1 : argc != 3)
		return (-1);
	cf = warren_schema_conf(file);
	if (argc == 1)
		status = warren_schema_print(asyncapi_document(cf));
	else if ((c = contract_find(&cf->contracts, argv[2])) == NULL) {
		warnx("unknown contract: %s", argv[2]);
		status = WARREN_EXIT_REFUSED;
	} else
		status = warren_schema_print(schema_from_contract(c));
	conf_free(cf);
	return (status);
}
