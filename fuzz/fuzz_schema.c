/* fuzz_schema.c -- a JSON Schema file named by a contract (schema =
 * "schema.json"), imported as conf-schema.c does: read, translated into
 * a contract group and compiled. */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "contract.h"
#include "fuzz.h"
#include "util.h"

static char *fuzz_conf_file;
static char *fuzz_schema_file;

/* A private directory: the schema's path is relative to the config. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = fuzz_tmpdir();

	(void)argc;
	(void)argv;
	xasprintf(&fuzz_conf_file, "%s/warrend.conf", dir);
	xasprintf(&fuzz_schema_file, "%s/schema.json", dir);
	free(dir);
	return (0);
}

/* Compile group (one of the two shapes below) with the schema in place. */
static void
fuzz_compile(const char *text)
{
	config_t		cfg;
	const config_setting_t *group;
	struct contract	       *c = NULL;
	char		       *cause = NULL;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE ||
	    (group = config_lookup(&cfg, "contract")) == NULL)
		abort();
	if (conf_schema_compile(group, fuzz_conf_file, &c, &cause) == 0) {
		if (c == NULL)
			abort();
		contract_free(c);
	} else {
		if (cause == NULL)
			abort(); /* a refusal always says why */
		free(cause);
	}
	config_destroy(&cfg);
}

/* Import one JSON Schema file, named two ways. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_write(fuzz_schema_file, data, size);
	/* The schema's own title, and a name from the config over it. */
	fuzz_compile("contract = { schema = \"schema.json\"; };");
	fuzz_compile("contract = { name = \"FuzzEvent\"; routing_key = "
		     "\"fuzz.happened\"; schema = \"schema.json\"; };");
	return (0);
}
