/* warren-compat.c -- "warren compat [--json] old new": compare the contracts
 * of two files and print every change, additive or breaking; exit 1 when a
 * breaking change keeps its routing key, so CI can refuse it. It talks to no
 * warrend. See warren(1). */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evolution.h"
#include "conf.h"
#include "contract.h"
#include "util.h"
#include "warren.h"

/* Compile every group of a "contracts" list into set. */
static int
warren_compat_list(const config_setting_t *list, const char *file,
    struct contract_set *set, char **cause)
{
	const config_setting_t *s;
	struct contract	       *c;
	int			i;

	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		xasprintf(cause,
		    "%s:%d: contracts must be a list ( { ... }, "
		    "... )",
		    file, config_setting_source_line(list));
		return (-1);
	}
	for (i = 0; (s = config_setting_get_elem(list, i)) != NULL; i++) {
		if (conf_schema_compile(s, file, &c, cause) != 0)
			return (-1);
		if (contract_set_add(set, c, cause) != 0) {
			contract_free(c);
			return (-1);
		}
	}
	return (0);
}

/* Read a file that holds only contracts, as a contracts_dir file does. */
static int
warren_compat_contracts(const config_t *cfg, const char *file,
    struct contract_set *set, char **cause)
{
	const config_setting_t *s;
	int			i;

	for (i = 0;
	     (s = config_setting_get_elem(config_root_setting(cfg), i)) != NULL;
	     i++) {
		if (strcmp(config_setting_name(s), "contracts") != 0) {
			xasprintf(cause,
			    "%s:%d: unknown key \"%s\" (expected "
			    "a warrend.conf, with service, or a file of only "
			    "contracts)",
			    file, config_setting_source_line(s),
			    config_setting_name(s));
			return (-1);
		}
		if (warren_compat_list(s, file, set, cause) != 0)
			return (-1);
	}
	return (0);
}

/* Take the contracts of a whole warrend.conf, checked as warrend -t
 * would, contracts_dir and all. */
static int
warren_compat_conf(const char *file, struct contract_set *set, char **cause)
{
	struct conf *cf;

	if ((cf = conf_load(file, cause)) == NULL)
		return (-1);
	*set = cf->contracts;
	memset(&cf->contracts, 0, sizeof cf->contracts);
	conf_free(cf);
	return (0);
}

/* Load the contracts of file: a warrend.conf (it has service) or a file
 * of contracts alone. */
static int
warren_compat_load(const char *file, struct contract_set *set, char **cause)
{
	config_t cfg;
	char	*dir;
	int	 rv;

	config_init(&cfg);
	dir = xstrdup(file);
	config_set_include_dir(&cfg, dirname(dir));
	errno = 0;
	if (config_read_file(&cfg, file) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			xasprintf(cause, "%s: %s", file,
			    strerror(errno != 0 ? errno : ENOENT));
		else
			xasprintf(cause, "%s:%d: %s",
			    config_error_file(&cfg) != NULL ?
				config_error_file(&cfg) :
				file,
			    config_error_line(&cfg), config_error_text(&cfg));
		rv = -1;
	} else if (config_lookup(&cfg, "service") == NULL)
		rv = warren_compat_contracts(&cfg, file, set, cause);
	else
		rv = warren_compat_conf(file, set, cause);
	config_destroy(&cfg);
	free(dir);
	return (rv);
}

/* Print one change: "CONTRACT[.FIELD]: KIND: message [class[, FORBIDDEN]]". */
static void
warren_compat_line(const struct evolution_change *ch)
{
	printf("%s%s%s: %s: %s [%s%s]\n", ch->contract,
	    ch->field != NULL ? "." : "", ch->field != NULL ? ch->field : "",
	    evolution_kind_name(ch->kind), ch->message,
	    evolution_class_name(ch->class),
	    ch->verdict == EVOLUTION_FORBIDDEN ? ", FORBIDDEN" : "");
}

/* Print the report for people: a line per change, then the counts. */
static void
warren_compat_text(const struct evolution_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		warren_compat_line(&r->v[i]);
	if (r->n == 0)
		puts("no changes");
	else if (r->nbreaking > 0)
		printf("%zu change%s: %zu breaking (%zu forbidden), %zu "
		       "additive\n",
		    r->n, r->n == 1 ? "" : "s", r->nbreaking, r->nforbidden,
		    r->nadditive);
	else
		printf("%zu change%s: 0 breaking, %zu additive\n", r->n,
		    r->n == 1 ? "" : "s", r->nadditive);
}

/* Print the report as one JSON object. */
static void
warren_compat_json(const struct evolution_report *r)
{
	cJSON *j;

	j = evolution_to_json(r);
	warren_json_print(j);
	cJSON_Delete(j);
}

/* warren compat [--json] old new: the exit status (1: something
 * forbidden; a file that does not load exits 2). */
int
warren_compat_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 }
	};
	struct contract_set	sets[2];
	struct evolution_report r;
	char		       *cause;
	int			ch, json = 0, i, status;

	optind = 1;
	while ((ch = warren_getopt(argc, argv, "", opts)) != -1)
		json = 1;
	if (argc - optind < 2)
		warren_usage_error(argv[0], "missing the %s file",
		    argc - optind == 0 ? "old and new" : "new");
	if (argc - optind > 2)
		warren_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind + 2]);
	memset(sets, 0, sizeof sets);
	for (i = 0; i < 2; i++) {
		if (warren_compat_load(argv[optind + i], &sets[i], &cause) != 0)
			errx(WARREN_EXIT_TROUBLE, "%s", cause);
	}
	evolution_compare(&sets[0], &sets[1], &r);
	if (json)
		warren_compat_json(&r);
	else
		warren_compat_text(&r);
	status = r.nforbidden > 0 ? WARREN_EXIT_REFUSED : 0;
	evolution_report_clear(&r);
	contract_set_clear(&sets[0]);
	contract_set_clear(&sets[1]);
	if (fflush(stdout) != 0)
		err(WARREN_EXIT_TROUBLE, "stdout");
	return (status);
}
