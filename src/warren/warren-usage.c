/* warren-usage.c -- the command-line client's commands, their usage and
 * --help, and usage mistakes said in one line; and its JSON printer. */
#include <cjson/cJSON.h>
#include <err.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren.h"

/* Every command: its synopsis and what it does, for usage and --help. */
static const struct warren_cmd warren_cmds[] = {
	{ "ping", "ping", "check that warrend answers" },
	{ "stats", "stats", "print warrend's counters" },
	{ "contracts", "contracts [--json-schema name]",
	    "print the event contracts in force, or one as JSON Schema\n"
	    "(from the config)" },
	{ "publish",
	    "publish [--traceparent tp [--tracestate ts]] event [json]",
	    "publish json, or one object per line of stdin\n"
	    "(with a W3C trace context)" },
	{ "subscribe", "subscribe [--exec cmd] [--requeue] event",
	    "print each delivery (or run cmd with its data on stdin)\n"
	    "and ack it once done" },
	{ "compat", "compat [--json] old new",
	    "compare two contract files; exit 1 on a breaking change\n"
	    "that keeps its routing key" },
	{ "lint", "lint [--strict] [config]",
	    "check the contracts against the event design checklist" },
	{ "asyncapi", "asyncapi",
	    "print an AsyncAPI 3.0 document for the contracts" },
};
#define WARREN_NCMDS (sizeof warren_cmds / sizeof warren_cmds[0])
#define WARREN_SYNOPSIS \
	"usage: warren [-hV] [-c file | -s socket] command " \
	"[argument ...]\n"

/* The command called name, or NULL. */
const struct warren_cmd *
warren_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < WARREN_NCMDS; i++) {
		if (strcmp(warren_cmds[i].name, name) == 0)
			return (&warren_cmds[i]);
	}
	return (NULL);
}

/* Print text indented by n spaces, line by line. */
static void
warren_indent(FILE *f, int n, const char *text)
{
	const char *nl;

	while ((nl = strchr(text, '\n')) != NULL) {
		fprintf(f, "%*s%.*s\n", n, "", (int)(nl - text), text);
		text = nl + 1;
	}
	fprintf(f, "%*s%s\n", n, "", text);
}

/* -h, --help: the whole usage on stdout, exit 0. */
void
warren_usage(void)
{
	size_t i;

	printf(WARREN_SYNOPSIS
	    "  -c file    the config (for the socket path and the contracts)\n"
	    "  -s socket  warrend's socket\n"
	    "  -h, --help this help (COMMAND --help: one command's)\n"
	    "  -V         the version\n"
	    "commands:\n");
	for (i = 0; i < WARREN_NCMDS; i++) {
		printf("  %s\n", warren_cmds[i].synopsis);
		warren_indent(stdout, 6, warren_cmds[i].help);
	}
	exit(0);
}

/* COMMAND --help: that command's usage on stdout, exit 0. */
void
warren_cmd_help(const char *name)
{
	const struct warren_cmd *c = warren_cmd_find(name);

	if (c == NULL)
		warren_usage();
	printf("usage: warren [-c file | -s socket] %s\n", c->synopsis);
	warren_indent(stdout, 2, c->help);
	exit(0);
}

/* A usage mistake: say what it was in one line, then the short usage of
 * the command (or of warren), and exit 2. */
void
warren_usage_error(const char *name, const char *fmt, ...)
{
	const struct warren_cmd *c = name != NULL ? warren_cmd_find(name) :
						    NULL;
	va_list			 ap;

	fflush(stdout);
	fputs("warren: ", stderr);
	if (c != NULL)
		fprintf(stderr, "%s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c != NULL)
		fprintf(stderr, "\nusage: warren [-c file | -s socket] %s\n",
		    c->synopsis);
	else
		fprintf(stderr,
		    "\n" WARREN_SYNOPSIS
		    "Try 'warren --help' for the commands.\n");
	exit(WARREN_EXIT_TROUBLE);
}

/*
 * getopt_long over a command's arguments (argv[0] is the command), with
 * -h and --help added: help exits 0, a mistake is a usage error naming
 * it. Returns the next option's val, or -1 after the last option.
 */
int
warren_getopt(int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	struct option opts[8];
	char	      so[32];
	size_t	      n;
	int	      ch;

	for (n = 0; longopts != NULL && longopts[n].name != NULL &&
	     n < sizeof opts / sizeof opts[0] - 2;
	     n++)
		opts[n] = longopts[n];
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	snprintf(so, sizeof so, "+:%sh", shortopts);
	opterr = 0;
	switch ((ch = getopt_long(argc, argv, so, opts, NULL))) {
	case 'h':
		warren_cmd_help(argv[0]);
	case '?':
		if (optopt != 0)
			warren_usage_error(argv[0], "unknown option -%c",
			    optopt);
		warren_usage_error(argv[0], "unknown option %s",
		    argv[optind - 1]);
	case ':':
		warren_usage_error(argv[0], "option %s needs an argument",
		    argv[optind - 1]);
	}
	return (ch);
}

/* Start a new line indented by depth levels of two spaces. */
static void
warren_json_newline(int depth)
{
	putchar('\n');
	while (depth-- > 0)
		fputs("  ", stdout);
}

/* Print compact JSON text s indented as Python's json.dumps(indent=2)
 * does: tools that read AsyncAPI as YAML warn about cJSON's tabs. */
static void
warren_json_write(const char *s)
{
	int depth = 0, instr = 0;

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
			warren_json_newline(--depth);
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
			warren_json_newline(++depth);
		else if (*s == ',')
			warren_json_newline(depth);
	}
	putchar('\n');
}

/* Print j on stdout, indented by two spaces: every JSON warren prints
 * looks the same. */
void
warren_json_print(const cJSON *j)
{
	char *s;

	if ((s = cJSON_PrintUnformatted(j)) == NULL)
		errx(WARREN_EXIT_TROUBLE, "out of memory");
	warren_json_write(s);
	cJSON_free(s);
}
