/* warren-lint.c -- "warren lint": load a configuration, check its contracts
 * against the event design checklist (lint.c) and print each finding. Needs
 * no warrend. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "lint.h"
#include "warren.h"

/* Print one finding as a line of standard output. */
static void
warren_lint_print_cb(const struct lint_finding *lf, void *arg)
{
	char *s;

	(void)arg;
	s = lint_format(lf);
	puts(s);
	free(s);
}

/* warren lint [--strict] [config]: the config is the argument, else -c,
 * else the default. */
int
warren_lint_run(const char *cflag, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "strict", no_argument, NULL, 'S' }, { NULL, 0, NULL, 0 }
	};
	struct conf *cf;
	const char  *file;
	char	    *cause;
	int	     ch, n, strict = 0;

	optind = 1;
	while ((ch = warren_getopt(argc, argv, "", opts)) != -1)
		strict = 1;
	if (argc - optind > 1)
		warren_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind + 1]);
	if (argc - optind == 1)
		file = argv[optind];
	else
		file = cflag != NULL ? cflag : CONF_DEFAULT_FILE;
	if ((cf = conf_load(file, &cause)) == NULL) {
		warnx("%s", cause);
		free(cause);
		return (WARREN_EXIT_TROUBLE);
	}
	n = lint_contracts(&cf->contracts, warren_lint_print_cb, NULL);
	conf_free(cf);
	if (fflush(stdout) != 0)
		err(WARREN_EXIT_TROUBLE, "stdout");
	return (strict && n > 0 ? WARREN_EXIT_REFUSED : 0);
}
