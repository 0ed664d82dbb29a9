/* json.c -- strict RFC 8259 checking of one request line before cJSON sees
 * it: grammar, UTF-8, duplicate keys, depth, and the raw id/data spans. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

#define JSON_KEYS_SMALL 512 /* hash slots on the stack (256 keys) */

/* A key of the objects being scanned; escaped keys are decoded into the
 * arena and found there by offset, since the arena may move. */
struct json_key {
	const char *ptr;
	size_t	    len;
	size_t	    off;
	int	    escaped;
};

/* The scanner: the input, the position, the key stack and the result. */
struct json_state {
	const unsigned char *buf;
	size_t		     len;
	size_t		     pos;
	char		    *cause;
	struct json_key	    *keys;
	size_t		     nkeys;
	size_t		     keyspace;
	struct json_key	     keybuf[16]; /* enough for most lines */
	char		    *arena;
	size_t		     arenalen;
	size_t		     arenaspace;
	struct json_capture *cap; /* the caller's */
	size_t		     ncap;
};

static int json_value(struct json_state *, int);

/* Record the first failure; later ones are consequences of it. */
static int __attribute__((format(printf, 2, 3)))
json_fail(struct json_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->cause == NULL) {
		va_start(ap, fmt);
		xvasprintf(&st->cause, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* Length of the valid UTF-8 sequence at p (avail bytes left), or 0. */
static size_t
json_utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t	      n, i;

	if (c < 0x80)
		return (1);
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return (0); /* continuation, C0, C1, F5..FF */
	if (avail < n || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	}
	return (n);
}

/* Explain the unexpected byte at the current position. */
static int
json_unexpected(struct json_state *st, const char *expected)
{
	size_t pos = st->pos;
	int    c;

	if (pos >= st->len)
		return (json_fail(st, "unexpected end of input (expected %s)",
		    expected));
	c = st->buf[pos];
	if (c == '\0')
		return (json_fail(st, "NUL byte at byte %zu", pos));
	if (c >= 0x80 && json_utf8_seq(st->buf + pos, st->len - pos) == 0)
		return (json_fail(st, "invalid UTF-8 at byte %zu", pos));
	if (c < 0x20 || c >= 0x7f)
		return (json_fail(st,
		    "expected %s at byte %zu, got byte 0x%02x", expected, pos,
		    c));
	return (json_fail(st, "expected %s at byte %zu, got '%c'", expected,
	    pos, c));
}

/* Skip the four whitespace bytes JSON allows. */
static void
json_skip_ws(struct json_state *st)
{
	unsigned char c;

	while (st->pos < st->len) {
		c = st->buf[st->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		st->pos++;
	}
}

/* The value of four hex digits at p, or -1. */
static long
json_hex4(const unsigned char *p)
{
	long v = 0;
	int  i, c;

	for (i = 0; i < 4; i++) {
		c = p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (-1);
		v = (v << 4) | c;
	}
	return (v);
}

/* Check a \u escape (and its low surrogate) at pos; store the code point. */
static int
json_escape_u(struct json_state *st, long *cp)
{
	size_t at = st->pos;
	long   hi, lo;

	if (st->len - at < 6 || (hi = json_hex4(st->buf + at + 2)) == -1)
		return (json_fail(st, "invalid \\u escape at byte %zu", at));
	st->pos += 6;
	if (hi == 0)
		return (json_fail(st, "\\u0000 (NUL) at byte %zu", at));
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return (json_fail(st, "lone low surrogate at byte %zu", at));
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return (0);
	}
	if (st->len - st->pos < 6 || st->buf[st->pos] != '\\' ||
	    st->buf[st->pos + 1] != 'u' ||
	    (lo = json_hex4(st->buf + st->pos + 2)) < 0xdc00 || lo > 0xdfff)
		return (json_fail(st, "lone high surrogate at byte %zu", at));
	st->pos += 6;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return (0);
}

/* Check the escape sequence at pos (a backslash) and step over it. */
static int
json_escape(struct json_state *st)
{
	long cp;

	if (st->pos + 1 >= st->len)
		return (json_fail(st, "unterminated string"));
	switch (st->buf[st->pos + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		st->pos += 2;
		return (0);
	case 'u':
		return (json_escape_u(st, &cp));
	}
	return (json_fail(st, "invalid escape at byte %zu", st->pos));
}

/* Is any byte of w below 0x20, at or above 0x80, '"' or a backslash?
 * (Each test is the usual exact "some byte is zero/less" word trick.) */
static int
json_word_special(uint64_t w)
{
	const uint64_t one = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t       q = w ^ (one * '"'), b = w ^ (one * '\\');

	return ((((w - one * 0x20) & ~w) | ((q - one) & ~q) | ((b - one) & ~b) |
		    w) &
		   high) != 0;
}

/* Scan the string at pos (its opening quote); say whether it had escapes. */
static int
json_string(struct json_state *st, int *escaped)
{
	const unsigned char *buf = st->buf;
	size_t		     pos = st->pos + 1, len = st->len, n;
	uint64_t	     w;
	unsigned char	     c;

	*escaped = 0;
	for (;;) {
		/* the common case: a run of printable ASCII */
		while (len - pos >= 8) {
			memcpy(&w, buf + pos, sizeof w);
			if (json_word_special(w))
				break;
			pos += 8;
		}
		while (pos < len && buf[pos] >= 0x20 && buf[pos] < 0x80 &&
		    buf[pos] != '"' && buf[pos] != '\\')
			pos++;
		st->pos = pos;
		if (pos >= len)
			return (json_fail(st, "unterminated string"));
		c = buf[pos];
		if (c == '"') {
			st->pos++;
			return (0);
		}
		if (c == '\\') {
			*escaped = 1;
			if (json_escape(st) != 0)
				return (-1);
			pos = st->pos;
		} else if (c >= 0x80) {
			if ((n = json_utf8_seq(buf + pos, len - pos)) == 0)
				return (json_unexpected(st, "UTF-8"));
			pos += n;
		} else if (c == '\0')
			return (json_unexpected(st, "character"));
		else
			return (json_fail(st,
			    "unescaped control character "
			    "0x%02x in string at byte %zu",
			    c, pos));
	}
}

/* Step over a run of digits; return how many there were. */
static size_t
json_digits(struct json_state *st)
{
	size_t start = st->pos;

	while (st->pos < st->len && st->buf[st->pos] >= '0' &&
	    st->buf[st->pos] <= '9')
		st->pos++;
	return (st->pos - start);
}

/* Scan a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
json_number(struct json_state *st)
{
	size_t start = st->pos;

	if (st->buf[st->pos] == '-')
		st->pos++;
	if (st->pos < st->len && st->buf[st->pos] == '0')
		st->pos++;
	else if (json_digits(st) == 0)
		goto bad;
	if (st->pos < st->len && st->buf[st->pos] == '.') {
		st->pos++;
		if (json_digits(st) == 0)
			goto bad;
	}
	if (st->pos < st->len &&
	    (st->buf[st->pos] == 'e' || st->buf[st->pos] == 'E')) {
		st->pos++;
		if (st->pos < st->len &&
		    (st->buf[st->pos] == '+' || st->buf[st->pos] == '-'))
			st->pos++;
		if (json_digits(st) == 0)
			goto bad;
	}
	if (st->pos < st->len && st->buf[st->pos] >= '0' &&
	    st->buf[st->pos] <= '9')
		goto bad; /* a leading zero followed by digits */
	return (0);

bad:
	return (json_fail(st, "invalid number at byte %zu", start));
}

/* Scan one of true, false, null. */
static int
json_literal(struct json_state *st, const char *word)
{
	size_t n = strlen(word);

	if (st->len - st->pos < n || memcmp(st->buf + st->pos, word, n) != 0)
		return (json_unexpected(st, "a value"));
	st->pos += n;
	return (0);
}

/* Scan an array at pos (its opening bracket). */
static int
json_array(struct json_state *st, int depth)
{
	st->pos++;
	json_skip_ws(st);
	if (st->pos < st->len && st->buf[st->pos] == ']') {
		st->pos++;
		return (0);
	}
	for (;;) {
		if (json_value(st, depth + 1) != 0)
			return (-1);
		json_skip_ws(st);
		if (st->pos < st->len && st->buf[st->pos] == ',') {
			st->pos++;
			json_skip_ws(st);
			continue;
		}
		if (st->pos < st->len && st->buf[st->pos] == ']') {
			st->pos++;
			return (0);
		}
		return (json_unexpected(st, "',' or ']'"));
	}
}

/* Write code point cp as UTF-8 at o; return the byte after it. */
static char *
json_put_utf8(char *o, long cp)
{
	if (cp < 0x80)
		*o++ = (char)cp;
	else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return (o);
}

/* Append the decoded form of the escaped string buf[start, end), already
 * checked by json_string, to the arena. Decoding never makes it longer. */
static void
json_unescape(struct json_state *st, size_t start, size_t end)
{
	static const char    from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const unsigned char *p = st->buf;
	char		    *o;
	long		     cp;

	if (st->arenaspace - st->arenalen < end - start) {
		st->arenaspace = (st->arenalen + end - start) * 2 + 256;
		st->arena = xreallocarray(st->arena, 1, st->arenaspace);
	}
	o = st->arena + st->arenalen;
	while (start < end) {
		if (p[start] != '\\')
			*o++ = (char)p[start++];
		else if (p[start + 1] != 'u') {
			*o++ = to[strchr(from, p[start + 1]) - from];
			start += 2;
		} else {
			cp = json_hex4(p + start + 2);
			start += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (json_hex4(p + start + 2) - 0xdc00);
				start += 6;
			}
			o = json_put_utf8(o, cp);
		}
	}
	st->arenalen = (size_t)(o - st->arena);
}

/* Push the key buf[start, end) (without quotes). */
static void
json_key_push(struct json_state *st, size_t start, size_t end, int escaped)
{
	struct json_key *k;

	if (st->nkeys == st->keyspace) {
		if (st->keys == st->keybuf) {
			st->keys = xreallocarray(NULL, st->keyspace * 2,
			    sizeof *k);
			memcpy(st->keys, st->keybuf, sizeof st->keybuf);
		} else
			st->keys = xreallocarray(st->keys, st->keyspace * 2,
			    sizeof *k);
		st->keyspace *= 2;
	}
	k = &st->keys[st->nkeys++];
	k->escaped = escaped;
	if (!escaped) {
		k->ptr = (const char *)st->buf + start;
		k->len = end - start;
		return;
	}
	k->off = st->arenalen;
	json_unescape(st, start, end);
	k->len = st->arenalen - k->off;
}

/* Order keys by bytes, then by length. */
static int
json_key_cmp(const void *a, const void *b)
{
	const struct json_key *ka = a, *kb = b;
	size_t		       n = ka->len < kb->len ? ka->len : kb->len;
	int		       r;

	if ((r = memcmp(ka->ptr, kb->ptr, n)) != 0)
		return (r);
	if (ka->len != kb->len)
		return (ka->len < kb->len ? -1 : 1);
	return (0);
}

/* A printable, quoted and shortened copy of a key for an error message. */
static char *
json_quote(const char *s, size_t len)
{
	char  *out, *o;
	size_t i, n = len > 64 ? 64 : len;

	while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--; /* do not cut a character in two */
	o = out = xmalloc(n * 6 + 8);
	*o++ = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			*o++ = '\\';
			*o++ = s[i];
		} else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			o += sprintf(o, "\\u%04x", (unsigned char)s[i]);
		else
			*o++ = s[i];
	}
	*o++ = '"';
	if (n < len)
		o += sprintf(o, "...");
	*o = '\0';
	return (out);
}

/* Fail on the duplicate key k. */
static int
json_duplicate(struct json_state *st, const struct json_key *k)
{
	char *q;

	q = json_quote(k->ptr, k->len);
	json_fail(st, "duplicate key %s", q);
	free(q);
	return (-1);
}

/* The first of the n keys (more than 8) that repeats an earlier one, or
 * NULL: a hash table of their indexes, linear in n where sorting was
 * n log n (a 200-member event spent a tenth of its CPU in qsort). */
static const struct json_key *
json_keys_repeated(const struct json_key *k, size_t n)
{
	uint32_t	       small[JSON_KEYS_SMALL], *t = small;
	uint64_t	       h;
	size_t		       slots = 16, mask, s, i;
	const struct json_key *dup = NULL;

	while (slots < n * 2)
		slots *= 2;
	if (slots > JSON_KEYS_SMALL)
		t = xmalloc(slots * sizeof *t);
	memset(t, 0, slots * sizeof *t);
	mask = slots - 1;
	for (i = 0; i < n && dup == NULL; i++) {
		h = util_fnv1a(k[i].ptr, k[i].len);
		for (s = (size_t)h & mask; t[s] != 0; s = (s + 1) & mask) {
			if (json_key_cmp(&k[t[s] - 1], &k[i]) == 0) {
				dup = &k[i];
				break;
			}
		}
		t[s] = (uint32_t)i + 1;
	}
	if (t != small)
		free(t);
	return (dup);
}

/* Check the keys of the object that began at key base for duplicates, then
 * pop them. A huge object goes through a hash table, not n^2 comparisons;
 * a small one is cheaper to compare pairwise. */
static int
json_keys_check(struct json_state *st, size_t base, size_t arenabase)
{
	struct json_key	      *k = st->keys + base;
	const struct json_key *dup;
	size_t		       n = st->nkeys - base, i, j;

	for (i = 0; i < n; i++) {
		if (k[i].escaped)
			k[i].ptr = st->arena + k[i].off;
	}
	if (n <= 8) {
		for (i = 0; i < n; i++) {
			for (j = i + 1; j < n; j++) {
				if (json_key_cmp(&k[i], &k[j]) == 0)
					return (json_duplicate(st, &k[i]));
			}
		}
	} else if ((dup = json_keys_repeated(k, n)) != NULL)
		return (json_duplicate(st, dup));
	st->nkeys = base;
	st->arenalen = arenabase;
	return (0);
}

/* Remember the raw span of a top-level member's value if it is captured. */
static void
json_note_member(struct json_state *st, const struct json_key *k, size_t start)
{
	struct json_span *sp;
	size_t		  i;

	for (i = 0; i < st->ncap; i++) {
		if (strlen(st->cap[i].name) != k->len ||
		    memcmp(k->ptr, st->cap[i].name, k->len) != 0)
			continue;
		sp = &st->cap[i].span;
		sp->ptr = (const char *)st->buf + start;
		sp->len = st->pos - start;
	}
}

/* Scan one "key": value member of an object at depth. */
static int
json_member(struct json_state *st, int depth)
{
	struct json_key *k;
	size_t		 start;
	int		 escaped;

	if (st->pos >= st->len || st->buf[st->pos] != '"')
		return (json_unexpected(st, "a string key"));
	start = st->pos;
	if (json_string(st, &escaped) != 0)
		return (-1);
	json_key_push(st, start + 1, st->pos - 1, escaped);
	json_skip_ws(st);
	if (st->pos >= st->len || st->buf[st->pos] != ':')
		return (json_unexpected(st, "':'"));
	st->pos++;
	json_skip_ws(st);
	start = st->pos;
	if (json_value(st, depth + 1) != 0)
		return (-1);
	if (depth > 1)
		return (0);
	/* the key stack and arena may have moved while the value was read */
	k = &st->keys[st->nkeys - 1];
	if (k->escaped)
		k->ptr = st->arena + k->off;
	json_note_member(st, k, start);
	return (0);
}

/* Scan an object at pos (its opening brace). */
static int
json_object(struct json_state *st, int depth)
{
	size_t base = st->nkeys, arenabase = st->arenalen;

	st->pos++;
	json_skip_ws(st);
	if (st->pos < st->len && st->buf[st->pos] == '}') {
		st->pos++;
		return (0);
	}
	for (;;) {
		if (json_member(st, depth) != 0)
			return (-1);
		json_skip_ws(st);
		if (st->pos < st->len && st->buf[st->pos] == ',') {
			st->pos++;
			json_skip_ws(st);
			continue;
		}
		if (st->pos < st->len && st->buf[st->pos] == '}') {
			st->pos++;
			return (json_keys_check(st, base, arenabase));
		}
		return (json_unexpected(st, "',' or '}'"));
	}
}

/* Scan any value at pos; depth is the nesting it would have. */
static int
json_value(struct json_state *st, int depth)
{
	int escaped;

	if (st->pos >= st->len)
		return (json_unexpected(st, "a value"));
	switch (st->buf[st->pos]) {
	case '{':
	case '[':
		if (depth > JSON_MAX_DEPTH)
			return (json_fail(st,
			    "nesting deeper than %d at byte "
			    "%zu",
			    JSON_MAX_DEPTH, st->pos));
		if (st->buf[st->pos] == '{')
			return (json_object(st, depth));
		return (json_array(st, depth));
	case '"':
		return (json_string(st, &escaped));
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return (json_number(st));
	case 't':
		return (json_literal(st, "true"));
	case 'f':
		return (json_literal(st, "false"));
	case 'n':
		return (json_literal(st, "null"));
	}
	return (json_unexpected(st, "a value"));
}

/* Check that buf[0, len) is one strict JSON object; find the members
 * the caller captures. */
int
json_check(const char *buf, size_t len, struct json_capture *cap, size_t ncap,
    char **cause)
{
	struct json_state st;
	size_t		  i;
	int		  rv = -1;

	memset(&st, 0, sizeof st);
	for (i = 0; i < ncap; i++)
		memset(&cap[i].span, 0, sizeof cap[i].span);
	st.cap = cap;
	st.ncap = ncap;
	st.buf = (const unsigned char *)buf;
	st.len = len;
	st.keys = st.keybuf;
	st.keyspace = sizeof st.keybuf / sizeof st.keybuf[0];
	json_skip_ws(&st);
	if (st.pos >= st.len || st.buf[st.pos] != '{') {
		if (st.pos < st.len && st.buf[st.pos] == '\0')
			json_unexpected(&st, "an object");
		else
			json_fail(&st, "not a JSON object");
	} else if (json_value(&st, 1) == 0) {
		json_skip_ws(&st);
		if (st.pos == st.len)
			rv = 0;
		else if (st.buf[st.pos] == '\0' || st.buf[st.pos] >= 0x80)
			json_unexpected(&st, "end of input");
		else
			json_fail(&st,
			    "trailing data after the object at byte "
			    "%zu",
			    st.pos);
	}
	if (st.keys != st.keybuf)
		free(st.keys);
	free(st.arena);
	if (rv != 0) {
		for (i = 0; i < ncap; i++)
			memset(&cap[i].span, 0, sizeof cap[i].span);
		*cause = st.cause;
	}
	return (rv);
}

/* Is s[0, len) valid UTF-8 with no NUL byte? */
int
json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		     i = 0, n;

	while (i < len) {
		if (p[i] == '\0')
			return (0);
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = json_utf8_seq(p + i, len - i)) == 0)
			return (0);
		i += n;
	}
	return (1);
}

/* The number of code points in the valid UTF-8 string s: every byte that
 * is not a continuation byte starts one. */
size_t
json_utf8_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		     n = 0;

	for (; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
	}
	return (n);
}

/* Find the next number token outside strings from *pos; NULL if none. */
static const char *
json_next_number(const char *buf, size_t len, size_t *pos)
{
	size_t i = *pos;

	while (i < len) {
		if (buf[i] == '"') {
			for (i++; i < len && buf[i] != '"'; i++) {
				if (buf[i] == '\\')
					i++;
			}
			i++;
			continue;
		}
		if (buf[i] == '-' || (buf[i] >= '0' && buf[i] <= '9')) {
			*pos = i + strspn(buf + i, "+-.0123456789eE");
			return (buf + i);
		}
		i++;
	}
	*pos = len;
	return (NULL);
}

/* Annotate the numbers of a list of siblings, depth first, in order. */
static void
json_annotate_list(cJSON *item, const char *buf, size_t len, size_t *pos)
{
	const char *lit;

	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item)) {
			if ((lit = json_next_number(buf, len, pos)) == NULL)
				return;
			item->valuestring = (char *)lit;
			item->type |= cJSON_IsReference;
		} else if (item->child != NULL)
			json_annotate_list(item->child, buf, len, pos);
	}
}

/* Point every number's valuestring at its literal in buf. */
void
json_annotate_numbers(cJSON *tree, const char *buf, size_t len)
{
	size_t pos = 0;

	if (tree != NULL)
		json_annotate_list(tree->child, buf, len, &pos);
}

/* Is the number literal at s exactly an integer? Every digit right of the
 * decimal point, once the exponent has moved it, must be zero. */
int
json_literal_integral(const char *s)
{
	const char *intp, *frac = NULL, *e;
	size_t	    nint, nfrac = 0, i;
	long	    exp = 0, point;

	if (*s == '-')
		s++;
	intp = s;
	nint = strspn(s, "0123456789");
	e = s + nint;
	if (*e == '.') {
		frac = e + 1;
		nfrac = strspn(frac, "0123456789");
		e = frac + nfrac;
	}
	if (*e == 'e' || *e == 'E') {
		errno = 0;
		exp = strtol(e + 1, NULL, 10);
		if (errno == ERANGE || exp > 1000000)
			exp = 1000000;
		if (exp < -1000000)
			exp = -1000000;
	}
	/* Digits are intp[0..nint) then frac[0..nfrac); the point sits after
	 * digit number nint + exp. */
	point = (long)nint + exp;
	for (i = 0; i < nint + nfrac; i++) {
		char d = i < nint ? intp[i] : frac[i - nint];

		if ((long)i >= point && d != '0')
			return (0);
	}
	return (1);
}
