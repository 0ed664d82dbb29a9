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

/* Load the config file (the default one without -c), or exit. */
static struct conf *
warren_schema_conf(const char *file)
{
	struct conf *cf;
	char	    *cause;

	if (file == NULL)
		file = CONF_DEFAULT_FILE;
	if ((cf = conf_load(file, &cause)) == NULL)
		errx(WARREN_EXIT_TROUBLE, "%s", cause);
	return (cf);
}

/* Print a document, indented, and free it. */
static int
warren_schema_print(cJSON *doc)
{
	warren_json_print(doc);
	cJSON_Delete(doc);
	if (fflush(stdout) != 0)
		err(WARREN_EXIT_TROUBLE, "stdout");
	return (0);
}

/* contracts --json-schema NAME (name) or asyncapi (name NULL), with the
 * config file (NULL: the default). */
int
warren_schema_run(const char *file, const char *name)
{
	const struct contract *c;
	struct conf	      *cf;
	int		       status;

	cf = warren_schema_conf(file);
	if (name == NULL)
		status = warren_schema_print(asyncapi_document(cf));
	else if ((c = contract_find(&cf->contracts, name)) == NULL) {
		warnx("unknown contract: %s", name);
		status = WARREN_EXIT_REFUSED;
	} else
		status = warren_schema_print(schema_from_contract(c));
	conf_free(cf);
	return (status);
}
