/* conf-int.c -- catch libconfig 1.5's silent integer truncation.
 *
 * libconfig 1.5 reads an integer literal without an L suffix as a 32-bit
 * int and keeps its low 32 bits: "max_bytes = 4294967296;" reads as 0,
 * "3000000000" as -1294967296. The setting's source line is known, so read
 * the literal written there back and compare it with the value. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-int.h"
#include "util.h"

/* The last file read, split in lines; read again when it changes. */
static struct {
	char	   *path;
	struct stat st;
	char	   *text;
	size_t	   *line; /* offsets of line starts */
	size_t	    nlines;
} conf_int_file;

/* Load path into conf_int_file unless it is there already; 0 or -1. */
static int
conf_int_load(const char *path)
{
	struct stat st;
	FILE	   *f;
	size_t	    len, i;

	if (stat(path, &st) == -1)
		return (-1);
	if (conf_int_file.path != NULL &&
	    strcmp(conf_int_file.path, path) == 0 &&
	    st.st_ino == conf_int_file.st.st_ino &&
	    st.st_size == conf_int_file.st.st_size &&
	    st.st_mtim.tv_sec == conf_int_file.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == conf_int_file.st.st_mtim.tv_nsec)
		return (0);
	conf_int_forget();
	if (!S_ISREG(st.st_mode) || (f = fopen(path, "re")) == NULL)
		return (-1);
	conf_int_file.text = xmalloc((size_t)st.st_size + 1);
	len = fread(conf_int_file.text, 1, (size_t)st.st_size, f);
	fclose(f);
	conf_int_file.text[len] = '\0';
	conf_int_file.line = xcalloc(1, sizeof *conf_int_file.line);
	conf_int_file.nlines = 1;
	for (i = 0; i < len; i++) {
		if (conf_int_file.text[i] != '\n')
			continue;
		conf_int_file.line = xreallocarray(conf_int_file.line,
		    conf_int_file.nlines + 1, sizeof *conf_int_file.line);
		conf_int_file.line[conf_int_file.nlines++] = i + 1;
	}
	conf_int_file.path = xstrdup(path);
	conf_int_file.st = st;
	return (0);
}

/* Forget the cached file. */
void
conf_int_forget(void)
{
	free(conf_int_file.path);
	free(conf_int_file.text);
	free(conf_int_file.line);
	memset(&conf_int_file, 0, sizeof conf_int_file);
}

/* Can c be part of a setting name? */
static int
conf_int_namechar(int c)
{
	return (isalnum(c) || c == '_' || c == '-' || c == '*');
}

/* Find "name =" or "name :" on line and return what follows, or NULL. */
static const char *
conf_int_find(const char *line, const char *end, const char *name)
{
	size_t	    n = strlen(name);
	const char *p, *q;

	for (p = line; p + n <= end; p++) {
		if (strncmp(p, name, n) != 0 ||
		    (p > line && conf_int_namechar((unsigned char)p[-1])) ||
		    conf_int_namechar((unsigned char)p[n]))
			continue;
		for (q = p + n; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < end && (*q == '=' || *q == ':')) {
			for (q++; q < end && (*q == ' ' || *q == '\t'); q++)
				;
			return (q);
		}
	}
	return (NULL);
}

/* Parse the literal at v (up to end) into *out: 0, 1 when it is beyond
 * 64 bits, -1 when it is not a number. Its text goes to lit. */
static int
conf_int_parse(const char *v, const char *end, long long *out, char *lit,
    size_t litlen)
{
	size_t len;
	char  *ep;

	for (len = 0; v + len < end &&
	     (isalnum((unsigned char)v[len]) || v[len] == '-' || v[len] == '+');
	     len++)
		;
	snprintf(lit, litlen, "%.*s", (int)len, v);
	errno = 0;
	if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		*out = (long long)strtoull(v, &ep, 16);
	else
		*out = strtoll(v, &ep, 10);
	if (ep == v)
		return (-1);
	return (errno != 0);
}

/*
 * Does the integer literal written for s say the value libconfig read?
 * Returns 1 when it does or when the literal cannot be found (a value on
 * another line, a string read from memory), 0 when it does not, with the
 * literal copied to lit. Another setting of the same name on the line (a
 * nested "maximum") is fine: one of them must match.
 */
int
conf_int_literal_ok(const config_setting_t *s, char *lit, size_t litlen)
{
	const config_setting_t *p;
	const char	       *file = NULL, *name, *line, *end, *v;
	unsigned int		n = config_setting_source_line(s);
	long long		want;
	char			tmp[64];
	int			bad = 0, rv;

	if ((name = config_setting_name(s)) == NULL || n == 0)
		return (1);
	for (p = s; p != NULL && file == NULL; p = config_setting_parent(p))
		file = config_setting_source_file(p);
	if (file == NULL || conf_int_load(file) != 0 ||
	    n > conf_int_file.nlines)
		return (1);
	line = conf_int_file.text + conf_int_file.line[n - 1];
	if ((end = strchr(line, '\n')) == NULL)
		end = line + strlen(line);
	while ((v = conf_int_find(line, end, name)) != NULL) {
		line = v;
		if ((rv = conf_int_parse(v, end, &want, tmp, sizeof tmp)) == -1)
			continue;
		if (rv == 0 && want == config_setting_get_int64(s))
			return (1);
		if (!bad++)
			snprintf(lit, litlen, "%s", tmp);
	}
	return (!bad);
}
