/* schema-pattern.c -- warren patterns (POSIX EREs that must match the whole
 * string) as JSON Schema patterns (ECMA-262 regexes that match anywhere)
 * and back. Pure: no I/O.
 *
 * The translation keeps the set of strings matched. warrend matches in the
 * C.UTF-8 locale, where [[:alpha:]], \w, \s and the like take in Unicode
 * letters and spaces that ECMA's \w and \s and any ASCII range leave out,
 * and no portable ECMA syntax says the same: a pattern using them is not
 * translated (NULL). [[:digit:]] and [[:xdigit:]] are ASCII and become
 * ranges; a backslash inside a bracket expression, a lone brace or
 * bracket, a quantifier with nothing to repeat are escaped; {,n} is
 * {0,n}; \` and \' are ^ and $. A quantifier on a quantifier or a
 * collating element of more than one character is not translated either.
 * One difference stays: "." matches a newline in POSIX but not in ECMA. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "schema.h"
#include "util.h"

/* The POSIX character classes that mean the same ASCII characters in every
 * locale, as an ECMA bracket expression's ranges. */
static const struct schema_class {
	const char *name;
	const char *ecma;
} schema_classes[] = {
	{ "digit", "0-9" },
	{ "xdigit", "0-9A-Fa-f" },
};

/* Is c special in an ECMA regex outside a bracket expression? */
static int
schema_pattern_syntax(char c)
{
	return (c != '\0' && strchr("^$\\.*+?()[]{}|/", c) != NULL);
}

/* Is c a quantifier's first character? */
static int
schema_pattern_quantifier(char c)
{
	return (c == '*' || c == '+' || c == '?' || c == '{');
}

/* Add one literal character (its first byte c) as ECMA, escaped if need
 * be; inside brackets, '-' too. Escaping anything else is an error in
 * ECMA's Unicode mode. */
static void
schema_pattern_literal(struct pbuf *b, char c, int bracket)
{
	if (schema_pattern_syntax(c) || (bracket && c == '-'))
		pbuf_adds(b, "\\");
	pbuf_add(b, &c, 1);
}

/* Translate "[:name:]", "[.c.]" or "[=c=]" at p inside a bracket
 * expression; return what follows it, or NULL if it cannot be. */
static const char *
schema_pattern_bracket_term(struct pbuf *b, const char *p)
{
	const char *end;
	char	    kind = p[1], close[3] = { p[1], ']', '\0' };
	size_t	    i, len;

	if ((end = strstr(p + 2, close)) == NULL)
		return (NULL);
	len = (size_t)(end - (p + 2));
	if (kind != ':') {
		/* A collating name of more than one character has no
		 * ECMA counterpart. */
		if (len != 1)
			return (NULL);
		schema_pattern_literal(b, p[2], 1);
		return (end + 2);
	}
	for (i = 0; i < sizeof schema_classes / sizeof schema_classes[0]; i++) {
		if (strlen(schema_classes[i].name) == len &&
		    strncmp(schema_classes[i].name, p + 2, len) == 0) {
			pbuf_adds(b, schema_classes[i].ecma);
			return (end + 2);
		}
	}
	return (NULL);
}

/* Translate the bracket expression starting at p ('['); return what
 * follows it, or NULL if it cannot be. */
static const char *
schema_pattern_bracket(struct pbuf *b, const char *p)
{
	pbuf_adds(b, "[");
	p++;
	if (*p == '^') {
		pbuf_adds(b, "^");
		p++;
	}
	if (*p == ']') {
		pbuf_adds(b, "\\]");
		p++;
	}
	while (*p != ']') {
		if (*p == '\0')
			return (NULL);
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			if ((p = schema_pattern_bracket_term(b, p)) == NULL)
				return (NULL);
			continue;
		}
		if (*p == '\\' || *p == '[')
			pbuf_adds(b, "\\");
		pbuf_add(b, p, 1);
		p++;
	}
	pbuf_adds(b, "]");
	return (p + 1);
}

/* Translate the interval "{m}", "{m,}", "{m,n}" or "{,n}" at p; return
 * what follows it, or NULL when p does not start one. */
static const char *
schema_pattern_interval(struct pbuf *b, const char *p)
{
	size_t m, n = 0;

	m = strspn(p + 1, "0123456789");
	if (p[1 + m] == ',')
		n = strspn(p + 2 + m, "0123456789");
	if (p[1 + m] == '}' && m > 0) {
		pbuf_add(b, p, m + 2);
		return (p + m + 2);
	}
	if (p[1 + m] != ',' || p[2 + m + n] != '}' || (m == 0 && n == 0))
		return (NULL);
	pbuf_adds(b, "{");
	if (m == 0)
		pbuf_adds(b, "0");
	pbuf_add(b, p + 1, m + 1 + n);
	pbuf_adds(b, "}");
	return (p + m + n + 3);
}

/* Translate the escape at p ('\\'); return what follows it, or NULL for
 * GNU's word and space escapes, which are Unicode-aware in C.UTF-8. */
static const char *
schema_pattern_escape(struct pbuf *b, const char *p)
{
	char c = p[1];

	if (c != '\0' && strchr("wWsSbB<>", c) != NULL)
		return (NULL);
	if (c == '`')
		pbuf_adds(b, "^");
	else if (c == '\'')
		pbuf_adds(b, "$");
	else /* anything else stands for itself */
		schema_pattern_literal(b, c, 0);
	return (p + 2);
}

/* Translate one piece of an ERE outside brackets at p; return what
 * follows it, or NULL. *atom is 0 where a quantifier has nothing to
 * repeat, 2 right after a quantifier, else 1. */
static const char *
schema_pattern_piece(struct pbuf *b, const char *p, int *atom)
{
	const char *q;
	int	    was = *atom;

	*atom = 1;
	if (*p == '\\')
		return (p[1] == '\0' ? NULL : schema_pattern_escape(b, p));
	if (*p == '[')
		return (schema_pattern_bracket(b, p));
	if (schema_pattern_quantifier(*p) && was != 0) {
		if (was == 2) /* a quantifier on a quantifier */
			return (NULL);
		*atom = 2;
		if (*p != '{') {
			pbuf_add(b, p, 1);
			return (p + 1);
		}
		if ((q = schema_pattern_interval(b, p)) != NULL)
			return (q);
		*atom = 1; /* a brace that starts no interval */
	}
	if (schema_pattern_quantifier(*p) || *p == '}' || *p == ']') {
		schema_pattern_literal(b, *p, 0);
		return (p + 1);
	}
	if (*p == '(' || *p == '|' || *p == '^')
		*atom = 0;
	pbuf_add(b, p, 1);
	return (p + 1);
}

/* The warren pattern ere as the ECMA regex that, anchored as
 * "^(?:...)$", matches the same strings; NULL if it cannot be written. */
char *
schema_pattern_to_ecma(const char *ere)
{
	struct pbuf b = { NULL, 0, 0 };
	const char *p = ere;
	int	    atom = 0;

	while (p != NULL && *p != '\0')
		p = schema_pattern_piece(&b, p, &atom);
	if (p == NULL) {
		pbuf_free(&b);
		return (NULL);
	}
	pbuf_add(&b, "", 1);
	return (b.p);
}

/* Are the parentheses of the n bytes at p balanced, so that the group
 * around them in "^(?:...)$" is one group? */
static int
schema_pattern_balanced(const char *p, size_t n)
{
	size_t i;
	int    depth = 0, bracket = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (bracket && p[i] == ']')
			bracket = 0;
		else if (!bracket && p[i] == '[')
			bracket = 1;
		else if (!bracket && p[i] == '(')
			depth++;
		else if (!bracket && p[i] == ')' && --depth < 0)
			return (0);
	}
	return (depth == 0);
}

/* A JSON Schema pattern as a warren pattern: the inside of our own
 * "^(?:...)$" form, or else p made to match anywhere, as JSON Schema
 * means it. The result is not checked: the contract compiler does. */
char *
schema_pattern_from_ecma(const char *p)
{
	size_t len = strlen(p);
	char  *s;

	if (len >= 6 && strncmp(p, "^(?:", 4) == 0 &&
	    strcmp(p + len - 2, ")$") == 0 &&
	    schema_pattern_balanced(p + 4, len - 6))
		return (xstrndup(p + 4, len - 6));
	xasprintf(&s, ".*(%s).*", p);
	return (s);
}
