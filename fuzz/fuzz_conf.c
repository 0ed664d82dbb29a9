/* fuzz_conf.c -- a configuration file as an operator might write it:
 * loaded (conf_load, every key, contract and range check) and, like a
 * SIGHUP, loaded again over the last good one and compared with it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "util.h"

static char	   *fuzz_file;
static struct conf *fuzz_last; /* the configuration "in force" */

/* A private directory for the file (relative includes resolve there). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = fuzz_tmpdir();

	(void)argc;
	(void)argv;
	xasprintf(&fuzz_file, "%s/warrend.conf", dir);
	free(dir);
	return (0);
}

/* Load one file as a (re)load over the last good configuration. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *cf;
	char	    *cause = NULL;

	fuzz_write(fuzz_file, data, size);
	if ((cf = conf_load(fuzz_file, &cause)) == NULL) {
		if (cause == NULL)
			abort(); /* a refusal always says why */
		free(cause);
		return (0); /* a failed reload keeps fuzz_last */
	}
	if (fuzz_last != NULL) {
		(void)conf_broker_changed(fuzz_last, cf);
		(void)conf_broker_changed(cf, fuzz_last);
		conf_free(fuzz_last);
	}
	fuzz_last = cf;
	return (0);
}
