/* traceparent.c -- W3C Trace Context (level 1): the syntax of the
 * traceparent and tracestate headers, and new trace ids.
 *
 *	traceparent = version "-" trace-id "-" parent-id "-" flags
 *
 * in lowercase hex (2, 32, 16, 2 digits); version ff is invalid, and so
 * is a trace-id or parent-id of all zeros. Version 00 is exactly that; a
 * later version may carry more after a '-'. tracestate is a list of at
 * most 32 key=value members separated by commas (and optional blanks). */

#include <string.h>

#include "log.h"
#include "traceparent.h"
#include "util.h"

#define TRACESTATE_KEY_MAX 256	  /* simple-key */
#define TRACESTATE_TENANT_MAX 241 /* tenant-id in tenant@system */
#define TRACESTATE_SYSTEM_MAX 14  /* system-id */
#define TRACESTATE_VALUE_MAX 256

/* Are the n characters at s lowercase hex digits? */
static int
traceparent_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f'))
			return (0);
	}
	return (1);
}

/* Are the n characters at s all '0'? */
static int
traceparent_zero(const char *s, size_t n)
{
	return (strspn(s, "0") >= n);
}

/* Is the 55-character version 00 layout there (any version digits)? */
static int
traceparent_layout(const char *s)
{
	return (s[2] == '-' && traceparent_hex(s + 3, 32) && s[35] == '-' &&
	    traceparent_hex(s + 36, 16) && s[52] == '-' &&
	    traceparent_hex(s + 53, 2));
}

/* What a later version carries after the flags: '-' and printable ASCII
 * (nothing the message headers or an environment variable could not
 * hold). */
static int
traceparent_tail(const char *s)
{
	if (*s != '-')
		return (0);
	for (s++; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return (0);
	}
	return (1);
}

/* Check a traceparent. */
int
traceparent_check(const char *s, char **cause)
{
	size_t len = strlen(s);

	if (len > TRACEPARENT_MAX)
		xasprintf(cause, "traceparent: longer than %d characters",
		    TRACEPARENT_MAX);
	else if (len < 2 || !traceparent_hex(s, 2))
		xasprintf(cause,
		    "traceparent: the version is not two "
		    "lowercase hex digits");
	else if (strncmp(s, "ff", 2) == 0)
		xasprintf(cause, "traceparent: version ff is invalid");
	else if (len < TRACEPARENT_LEN || !traceparent_layout(s))
		xasprintf(cause,
		    "traceparent: not VERSION-TRACEID-PARENTID-"
		    "FLAGS in lowercase hex of 2-32-16-2 digits");
	else if (traceparent_zero(s + 3, 32))
		xasprintf(cause, "traceparent: the trace-id is all zeros");
	else if (traceparent_zero(s + 36, 16))
		xasprintf(cause, "traceparent: the parent-id is all zeros");
	else if (len > TRACEPARENT_LEN && strncmp(s, "00", 2) == 0)
		xasprintf(cause,
		    "traceparent: version 00 has exactly %d "
		    "characters",
		    TRACEPARENT_LEN);
	else if (len > TRACEPARENT_LEN && !traceparent_tail(s + 55))
		xasprintf(cause,
		    "traceparent: after the flags, version %.2s "
		    "may only carry '-' and printable ASCII",
		    s);
	else
		return (0);
	return (-1);
}

/* May c be in a tracestate key after its first character? */
static int
tracestate_keychar(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '-' || c == '*' || c == '/');
}

/* Is s[0..n) a key part: 1 to max characters, the first a lowercase
 * letter (or a digit, if digit_first), the rest key characters? */
static int
tracestate_key_part(const char *s, size_t n, size_t max, int digit_first)
{
	size_t i;

	if (n == 0 || n > max)
		return (0);
	if (!(s[0] >= 'a' && s[0] <= 'z') &&
	    !(digit_first && s[0] >= '0' && s[0] <= '9'))
		return (0);
	for (i = 1; i < n; i++) {
		if (!tracestate_keychar((unsigned char)s[i]))
			return (0);
	}
	return (1);
}

/* Is s[0..n) a key: simple-key, or tenant-id@system-id? */
static int
tracestate_key(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t	    t;

	if (at == NULL)
		return (tracestate_key_part(s, n, TRACESTATE_KEY_MAX, 0));
	t = (size_t)(at - s);
	return (tracestate_key_part(s, t, TRACESTATE_TENANT_MAX, 1) &&
	    tracestate_key_part(at + 1, n - t - 1, TRACESTATE_SYSTEM_MAX, 0));
}

/* Is s[0..n) a value: 1 to 256 printable characters but ',' and '=',
 * spaces allowed except at the end? */
static int
tracestate_value(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TRACESTATE_VALUE_MAX || s[n - 1] == ' ')
		return (0);
	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == ',' || s[i] == '=')
			return (0);
	}
	return (1);
}

/* Check one list member s[0..n) (blanks around it already cut off);
 * keys[] holds the keys before it, to refuse a second of one. */
static int
tracestate_member(const char *s, size_t n, const char **keys, size_t *klens,
    size_t nkeys, char **cause)
{
	const char *eq = memchr(s, '=', n);
	size_t	    k, i;

	if (eq == NULL || !tracestate_key(s, (k = (size_t)(eq - s)))) {
		xasprintf(cause,
		    "tracestate: \"%.*s\" is not key=value with a "
		    "key of lowercase letters, digits and _-*/@",
		    (int)(n > 64 ? 64 : n), s);
		return (-1);
	}
	if (!tracestate_value(eq + 1, n - k - 1)) {
		xasprintf(cause,
		    "tracestate: the value of %.*s is not 1 to %d "
		    "printable characters without ',' or '='",
		    (int)k, s, TRACESTATE_VALUE_MAX);
		return (-1);
	}
	for (i = 0; i < nkeys; i++) {
		if (klens[i] == k && memcmp(keys[i], s, k) == 0) {
			xasprintf(cause, "tracestate: key %.*s appears twice",
			    (int)k, s);
			return (-1);
		}
	}
	keys[nkeys] = s;
	klens[nkeys] = k;
	return (0);
}

/* Check a tracestate. */
int
tracestate_check(const char *s, char **cause)
{
	const char *keys[TRACESTATE_MEMBERS], *end;
	size_t	    klens[TRACESTATE_MEMBERS], n = 0, len;

	if (strlen(s) > TRACESTATE_MAX) {
		xasprintf(cause, "tracestate: longer than %d characters",
		    TRACESTATE_MAX);
		return (-1);
	}
	for (;;) {
		s += strspn(s, " \t");
		end = s + strcspn(s, ",");
		for (len = (size_t)(end - s);
		     len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t');
		     len--)
			;
		if (len > 0 && n == TRACESTATE_MEMBERS) {
			xasprintf(cause, "tracestate: more than %d members",
			    TRACESTATE_MEMBERS);
			return (-1);
		}
		if (len > 0 &&
		    tracestate_member(s, len, keys, klens, n++, cause) != 0)
			return (-1);
		if (*end == '\0')
			return (0);
		s = end + 1;
	}
}

/* Format a version 00 traceparent from its ids. */
int
traceparent_format(char out[TRACEPARENT_LEN + 1], const unsigned char ids[24],
    int sampled)
{
	static const char hex[] = "0123456789abcdef";
	char		 *o = out;
	size_t		  i;

	memcpy(o, "00-", 3);
	o += 3;
	for (i = 0; i < 24; i++) {
		if (i == 16)
			*o++ = '-';
		*o++ = hex[ids[i] >> 4];
		*o++ = hex[ids[i] & 0xf];
	}
	memcpy(o, sampled ? "-01" : "-00", 4);
	if (traceparent_zero(out + 3, 32) || traceparent_zero(out + 36, 16))
		return (-1);
	return (0);
}

/* Start a new trace. */
void
traceparent_new(char out[TRACEPARENT_LEN + 1], int sampled)
{
	unsigned char ids[24];

	do
		util_random(ids, sizeof ids);
	while (traceparent_format(out, ids, sampled) != 0);
}
