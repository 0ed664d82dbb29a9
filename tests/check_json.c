/* check_json.c -- unit tests for the strict JSON checker. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Run json_check on buf[0, len); return its cause, or NULL if it passed. */
static char *
check_json_run(const char *buf, size_t len, struct json_capture *cap,
    size_t ncap)
{
	char *cause = NULL;
	int   rv;

	rv = json_check(buf, len, cap, ncap, &cause);
	if (rv == 0) {
		ck_assert_msg(cause == NULL, "expected no cause on success");
		return (NULL);
	}
	ck_assert_msg(rv == -1, "expected -1 on failure, got %d", rv);
	ck_assert_msg(cause != NULL, "expected a cause on failure, got NULL");
	return (cause);
}

/* Expect the string s to be accepted. */
static void
check_json_accept(const char *s)
{
	char *cause;

	cause = check_json_run(s, strlen(s), NULL, 0);
	ck_assert_msg(cause == NULL, "expected %s accepted, got \"%s\"", s,
	    cause);
}

/* Expect buf[0, len) (named label) to be rejected with a cause containing
 * want. */
static void
check_json_reject_n(const char *buf, size_t len, const char *label,
    const char *want)
{
	char *cause;

	cause = check_json_run(buf, len, NULL, 0);
	ck_assert_msg(cause != NULL,
	    "expected %s rejected with \"%s\", got "
	    "accepted",
	    label, want);
	ck_assert_msg(strstr(cause, want) != NULL,
	    "expected %s rejected with "
	    "\"%s\", got \"%s\"",
	    label, want, cause);
	free(cause);
}

/* Expect the string s to be rejected with a cause containing want. */
static void
check_json_reject(const char *s, const char *want)
{
	check_json_reject_n(s, strlen(s), s, want);
}

/* Expect span to hold exactly want (or be absent when want is NULL). */
static void
check_json_span_is(const struct json_span *span, const char *want,
    const char *what)
{
	if (want == NULL) {
		ck_assert_msg(span->ptr == NULL,
		    "expected no %s span, got "
		    "\"%.*s\"",
		    what, (int)span->len, span->ptr);
		return;
	}
	ck_assert_msg(span->ptr != NULL, "expected %s span \"%s\", got none",
	    what, want);
	ck_assert_msg(span->len == strlen(want) &&
		memcmp(span->ptr, want, span->len) == 0,
	    "expected %s span \"%s\", got \"%.*s\"", what, want, (int)span->len,
	    span->ptr);
}

/* Check s and expect its id and data spans to be want_id and want_data. */
static void
check_json_spans(const char *s, const char *want_id, const char *want_data)
{
	struct json_capture cap[2] = { { "id", { NULL, 0 } },
		{ "data", { NULL, 0 } } };
	char		   *cause;

	memset(&cap[0].span, 0xa5, sizeof cap[0].span);
	memset(&cap[1].span, 0xa5, sizeof cap[1].span);
	cause = check_json_run(s, strlen(s), cap, 2);
	ck_assert_msg(cause == NULL, "expected %s accepted, got \"%s\"", s,
	    cause);
	check_json_span_is(&cap[0].span, want_id, "id");
	check_json_span_is(&cap[1].span, want_data, "data");
}

START_TEST(valid_objects_accepted)
{
	check_json_accept("{}");
	check_json_accept(" \t\r\n{ } \t\r\n");
	check_json_accept("{\"a\":1}");
	check_json_accept(
	    "{\"a\":[],\"b\":{},\"c\":[1,\"x\",true,false,null]}");
	check_json_accept("{\"a\" : { \"b\" : [ { \"c\" : [ ] } ] } }");
	check_json_accept("{\"op\":\"publish\",\"id\":1,\"event\":\"E\","
			  "\"data\":{\"resource_id\":\"abc\",\"n\":-12.5e+3}}");
	check_json_accept(
	    "{\"h\\u00e9llo\":\"h\xc3\xa9llo \xf0\x9f\x98\x80\"}");
	check_json_accept("{\"\":\"\"}");
}
END_TEST

START_TEST(every_escape_accepted)
{
	check_json_accept("{\"a\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}");
	check_json_accept("{\"a\":\"\\u0041\\u00e9\\u20AC\\uFFFF\"}");
	check_json_accept(
	    "{\"a\":\"\\ud83d\\ude00\",\"b\":\"\\uD83D\\uDE00\"}");
}
END_TEST

START_TEST(id_and_data_spans_are_raw_bytes)
{
	check_json_spans("{\"id\":7,\"data\":{\"a\":1}}", "7", "{\"a\":1}");
	check_json_spans(
	    " { \"id\" : \"req-1\" ,\n \"data\" :\t{ \"a\" : [1, 2] }"
	    " \n} ",
	    "\"req-1\"", "{ \"a\" : [1, 2] }");
	check_json_spans(
	    "{\"data\":{\"x\":{\"id\":1,\"data\":2}},\"id\":[1,{}]}", "[1,{}]",
	    "{\"x\":{\"id\":1,\"data\":2}}");
	check_json_spans("{\"id\":null,\"data\":\"s\\\"\"}", "null",
	    "\"s\\\"\"");
}
END_TEST

START_TEST(big_number_kept_byte_for_byte)
{
	check_json_spans(
	    "{\"data\":{\"n\":9007199254740993,\"f\":1.10000000000000000001}}",
	    NULL, "{\"n\":9007199254740993,\"f\":1.10000000000000000001}");
	check_json_spans("{\"id\":9007199254740993}", "9007199254740993", NULL);
}
END_TEST

START_TEST(absent_and_nested_members_give_no_span)
{
	check_json_spans("{}", NULL, NULL);
	check_json_spans("{\"x\":{\"id\":1,\"data\":{}}}", NULL, NULL);
	check_json_spans("{\"ids\":1,\"dat\":2,\"Data\":3}", NULL, NULL);
}
END_TEST

START_TEST(escaped_member_names_found)
{
	check_json_spans("{\"\\u0069d\":5,\"d\\u0061ta\":{}}", "5", "{}");
}
END_TEST

START_TEST(spans_may_be_ignored)
{
	struct json_capture id = { "id", { NULL, 0 } };
	char		   *cause = NULL;

	ck_assert_msg(json_check("{\"id\":1}", 8, &id, 1, &cause) == 0,
	    "expected success capturing only id, got \"%s\"", cause);
	check_json_span_is(&id.span, "1", "id");
	ck_assert_msg(json_check("{\"data\":1}", 10, NULL, 0, &cause) == 0,
	    "expected success capturing nothing, got \"%s\"", cause);
}
END_TEST

START_TEST(caller_names_the_captured_members)
{
	struct json_capture cap[3] = { { "tag", { NULL, 0 } },
		{ "event", { NULL, 0 } }, { "id", { NULL, 0 } } };
	const char	   *s = "{\"id\":1,\"event\":\"a.b\",\"tag\":[2]}";
	char		   *cause = NULL;

	ck_assert_msg(json_check(s, strlen(s), cap, 3, &cause) == 0,
	    "expected %s accepted, got \"%s\"", s, cause);
	check_json_span_is(&cap[0].span, "[2]", "tag");
	check_json_span_is(&cap[1].span, "\"a.b\"", "event");
	check_json_span_is(&cap[2].span, "1", "id");
	s = "{\"tag\":1,\"x\":}";
	ck_assert_msg(json_check(s, strlen(s), cap, 3, &cause) == -1,
	    "expected %s rejected", s);
	free(cause);
	ck_assert_msg(cap[0].span.ptr == NULL,
	    "expected the tag span cleared after a failure, got %p",
	    (const void *)cap[0].span.ptr);
}
END_TEST

START_TEST(not_an_object_rejected)
{
	static const char *in[] = { "", "   ", "[]", "[{}]", "\"x\"", "1",
		"null", "true", "}" };
	size_t		   i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++)
		check_json_reject(in[i], "not a JSON object");
}
END_TEST

START_TEST(trailing_garbage_rejected)
{
	check_json_reject("{} x", "trailing data after the object at byte 3");
	check_json_reject("{}{}", "trailing data after the object at byte 2");
	check_json_reject("{},", "trailing data");
	check_json_reject("{}\n\n]", "trailing data");
	check_json_reject("{}\xff", "invalid UTF-8 at byte 2");
	check_json_reject("{}\v", "trailing data");
}
END_TEST

START_TEST(truncated_input_rejected)
{
	check_json_reject("{", "unexpected end of input");
	check_json_reject("{\"a\"", "unexpected end of input");
	check_json_reject("{\"a\":", "unexpected end of input");
	check_json_reject("{\"a\":1", "unexpected end of input");
	check_json_reject("{\"a\":[1,", "unexpected end of input");
	check_json_reject("{\"a\":\"abc", "unterminated string");
	check_json_reject("{\"a\":\"abc\\", "unterminated string");
	check_json_reject("{\"a\":\"\\u12", "invalid \\u escape");
	check_json_reject("{\"a\":tr", "expected a value");
}
END_TEST

START_TEST(grammar_errors_rejected)
{
	check_json_reject("{\"a\" 1}", "expected ':' at byte 5, got '1'");
	check_json_reject("{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7");
	check_json_reject("{\"a\":1,}", "expected a string key at byte 7");
	check_json_reject("{\"a\":[1,]}", "expected a value at byte 8");
	check_json_reject("{\"a\":[1 2]}", "expected ',' or ']'");
	check_json_reject("{'a':1}", "expected a string key");
	check_json_reject("{a:1}", "expected a string key");
	check_json_reject("{\"a\":'x'}", "expected a value");
	check_json_reject("{\"a\":1,,\"b\":2}", "expected a string key");
	check_json_reject("{/*c*/}", "expected a string key");
	check_json_reject("{\"a\":True}", "expected a value");
	check_json_reject("{\"a\":nul}", "expected a value");
	check_json_reject("{\"a\":undefined}", "expected a value");
	check_json_reject("{\"a\":\x0c"
			  "1}",
	    "expected a value");
}
END_TEST

START_TEST(strict_numbers_rejected)
{
	static const char *bad[] = { "01", "-01", "00", "1.", "-", "--1", "1e",
		"1e+", "1E-", "1.e5" };
	static const char *worse[] = { ".5", "+1", "Infinity", "NaN",
		"-Infinity" };
	char		   buf[64];
	size_t		   i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, "{\"a\":%s}", bad[i]);
		check_json_reject(buf, "at byte 5");
	}
	for (i = 0; i < sizeof worse / sizeof worse[0]; i++) {
		snprintf(buf, sizeof buf, "{\"a\":%s}", worse[i]);
		check_json_reject(buf, "byte 5");
	}
	check_json_reject("{\"a\":01}", "invalid number at byte 5");
	check_json_reject("{\"a\":0x1F}", "expected ',' or '}' at byte 6");
}
END_TEST

START_TEST(strict_numbers_accepted)
{
	static const char *good[] = { "0", "-0", "1.5e-3", "0.0", "-0.0",
		"1E10", "1e+10", "-1.25E-7", "10", "123e0",
		"123456789012345678901234567890", "1e400" };
	char		   buf[128];
	size_t		   i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(buf, sizeof buf, "{\"a\":%s}", good[i]);
		check_json_accept(buf);
		snprintf(buf, sizeof buf, "{\"a\":[%s,%s]}", good[i], good[i]);
		check_json_accept(buf);
	}
}
END_TEST

/* Byte sequences that are not UTF-8, each placed inside a string value. */
static const struct {
	const char *label;
	const char *bytes;
} bad_utf8[] = {
	{ "overlong 2-byte C0 80", "\xc0\x80" },
	{ "overlong 2-byte C1 BF", "\xc1\xbf" },
	{ "overlong 3-byte E0 80 80", "\xe0\x80\x80" },
	{ "overlong 3-byte E0 9F BF", "\xe0\x9f\xbf" },
	{ "overlong 4-byte F0 80 80 80", "\xf0\x80\x80\x80" },
	{ "overlong 4-byte F0 8F BF BF", "\xf0\x8f\xbf\xbf" },
	{ "surrogate ED A0 80", "\xed\xa0\x80" },
	{ "surrogate ED BF BF", "\xed\xbf\xbf" },
	{ "above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80" },
	{ "F5 lead byte", "\xf5\x80\x80\x80" },
	{ "F8 lead byte", "\xf8\x88\x80\x80\x80" },
	{ "FE byte", "\xfe" },
	{ "FF byte", "\xff" },
	{ "stray continuation 80", "\x80" },
	{ "stray continuation BF", "\xbf" },
	{ "truncated 2-byte", "\xc3" },
	{ "truncated 3-byte", "\xe2\x82" },
	{ "truncated 4-byte", "\xf0\x9f\x98" },
	{ "bad second byte", "\xc3\x28" },
	{ "bad third byte", "\xe2\x82\x28" },
	{ "bad fourth byte", "\xf0\x9f\x98\x28" },
};

START_TEST(invalid_utf8_rejected)
{
	char buf[64], label[96];
	int  n;

	n = snprintf(buf, sizeof buf, "{\"k\":\"ab%s\"}", bad_utf8[_i].bytes);
	snprintf(label, sizeof label, "string with %s", bad_utf8[_i].label);
	check_json_reject_n(buf, (size_t)n, label, "invalid UTF-8 at byte 8");
	n = snprintf(buf, sizeof buf, "{\"%s\":1}", bad_utf8[_i].bytes);
	snprintf(label, sizeof label, "key with %s", bad_utf8[_i].label);
	check_json_reject_n(buf, (size_t)n, label, "invalid UTF-8 at byte 2");
	ck_assert_msg(!json_utf8_valid(bad_utf8[_i].bytes,
			  strlen(bad_utf8[_i].bytes)),
	    "expected json_utf8_valid to reject "
	    "%s, got 1",
	    bad_utf8[_i].label);
}
END_TEST

START_TEST(truncated_utf8_at_end_of_input_rejected)
{
	check_json_reject_n("{\"a\":\"\xe2\x82", 8, "E2 82 at the end",
	    "invalid UTF-8 at byte 6");
	check_json_reject_n("{\"a\":\"\xf0", 7, "F0 at the end",
	    "invalid UTF-8 at byte 6");
}
END_TEST

START_TEST(utf8_boundaries_accepted)
{
	static const char *good[] = { "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
		"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\x7f" };
	char		   buf[64];
	size_t		   i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(buf, sizeof buf, "{\"%s\":\"%s\"}", good[i], good[i]);
		check_json_accept(buf);
		ck_assert_msg(json_utf8_valid(good[i], strlen(good[i])),
		    "expected json_utf8_valid to accept boundary #%zu, got 0",
		    i);
	}
}
END_TEST

START_TEST(raw_nul_rejected)
{
	check_json_reject_n("{\"a\":\"x\0y\"}", 11, "NUL in a string",
	    "NUL byte at byte 7");
	check_json_reject_n("{\"a\0\":1}", 8, "NUL in a key",
	    "NUL byte at byte 3");
	check_json_reject_n("{\"a\":1}\0", 8, "NUL after the object",
	    "NUL byte at byte 7");
	check_json_reject_n("{\"a\":\0}", 7, "NUL as a value",
	    "NUL byte at byte 5");
	check_json_reject_n("\0{}", 3, "NUL before the object",
	    "NUL byte at byte 0");
}
END_TEST

START_TEST(escaped_nul_rejected)
{
	check_json_reject("{\"a\":\"x\\u0000y\"}", "\\u0000 (NUL) at byte 7");
	check_json_reject("{\"\\u0000\":1}", "\\u0000");
}
END_TEST

START_TEST(raw_control_characters_rejected)
{
	check_json_reject("{\"a\":\"x\ty\"}",
	    "unescaped control character "
	    "0x09 in string at byte 7");
	check_json_reject("{\"a\":\"\n\"}", "control character 0x0a");
	check_json_reject("{\"a\":\"\x1f\"}", "control character 0x1f");
	check_json_accept("{\"a\":\"\x7f\"}");
}
END_TEST

START_TEST(invalid_escapes_rejected)
{
	check_json_reject("{\"a\":\"\\x41\"}", "invalid escape at byte 6");
	check_json_reject("{\"a\":\"\\'\"}", "invalid escape");
	check_json_reject("{\"a\":\"\\U0041\"}", "invalid escape");
	check_json_reject("{\"a\":\"\\u12G4\"}",
	    "invalid \\u escape at byte 6");
	check_json_reject("{\"a\":\"\\u12\"}", "invalid \\u escape");
}
END_TEST

START_TEST(lone_surrogates_rejected)
{
	check_json_reject("{\"a\":\"\\ud800\"}",
	    "lone high surrogate at byte 6");
	check_json_reject("{\"a\":\"\\uDBFFx\"}", "lone high surrogate");
	check_json_reject("{\"a\":\"\\ud800\\u0041\"}", "lone high surrogate");
	check_json_reject("{\"a\":\"\\ud800\\ud800\"}", "lone high surrogate");
	check_json_reject("{\"a\":\"\\ud800\\n\"}", "lone high surrogate");
	check_json_reject("{\"a\":\"\\udc00\"}",
	    "lone low surrogate at byte 6");
	check_json_reject("{\"a\":\"\\udfff\\ud800\"}", "lone low surrogate");
	check_json_reject("{\"a\":\"x\\ude00\\ud83d\"}", "lone low surrogate");
	check_json_reject("{\"\\ud800\":1}", "lone high surrogate");
	check_json_accept("{\"a\":\"\\udbff\\udfff\"}");
}
END_TEST

START_TEST(duplicate_key_top_level_rejected)
{
	check_json_reject("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
	check_json_reject("{\"id\":1,\"data\":{},\"id\":2}",
	    "duplicate key \"id\"");
	check_json_reject("{\"\":1,\"\":2}", "duplicate key \"\"");
}
END_TEST

START_TEST(duplicate_key_nested_rejected)
{
	check_json_reject("{\"x\":{\"a\":1,\"b\":2,\"a\":3}}",
	    "duplicate key \"a\"");
	check_json_reject("{\"x\":[1,{\"k\":{\"a\":1,\"a\":1}}]}",
	    "duplicate key \"a\"");
}
END_TEST

/* An object of n members k0 .. k<n-1>, then the member dup (NULL: none),
 * nested under "x" when nested. */
static char *
check_wide_object(int n, const char *dup, int nested)
{
	char  *s = malloc((size_t)n * 16 + 64);
	size_t len = 0;
	int    i;

	ck_assert_ptr_nonnull(s);
	len += (size_t)sprintf(s, "%s{", nested ? "{\"x\":" : "");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s\"k%d\":%d", i ? "," : "", i,
		    i);
	if (dup != NULL)
		len += (size_t)sprintf(s + len, ",\"%s\":0", dup);
	sprintf(s + len, "}%s", nested ? "}" : "");
	return (s);
}

START_TEST(duplicate_key_among_many_rejected)
{
	static const int sizes[] = { 9, 200, 300, 5000 };
	char		*s;
	size_t		 i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		s = check_wide_object(sizes[i], NULL, 0);
		check_json_accept(s);
		free(s);
		s = check_wide_object(sizes[i], "k0", 0);
		check_json_reject(s, "duplicate key \"k0\"");
		free(s);
		s = check_wide_object(sizes[i], "k\\u0038", 1);
		check_json_reject(s, "duplicate key \"k8\"");
		free(s);
	}
}
END_TEST

START_TEST(duplicate_key_after_unescape_rejected)
{
	check_json_reject("{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\"");
	check_json_reject("{\"\\u0061\":1,\"a\":2}", "duplicate key \"a\"");
	check_json_reject("{\"h\xc3\xa9\":1,\"h\\u00e9\":2}",
	    "duplicate key \"h\xc3\xa9\"");
	check_json_reject("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}",
	    "duplicate key");
	check_json_reject("{\"a/b\":1,\"a\\/b\":2}", "duplicate key \"a/b\"");
	check_json_reject("{\"x\":{\"\\n\":1,\"\\u000a\":2}}",
	    "duplicate key \"\\u000a\"");
	check_json_reject("{\"q\\\"\":1,\"q\\u0022\":2}",
	    "duplicate key \"q\\\"\"");
}
END_TEST

START_TEST(duplicate_key_in_large_object_rejected)
{
	check_json_reject(
	    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,"
	    "\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k\\u0035\":0}",
	    "duplicate key \"k5\"");
}
END_TEST

START_TEST(same_key_in_different_objects_accepted)
{
	check_json_accept("{\"a\":{\"k\":1},\"b\":{\"k\":2}}");
	check_json_accept("{\"a\":[{\"k\":1},{\"k\":1}]}");
	check_json_accept("{\"a\":{\"a\":{\"a\":1}}}");
	check_json_accept("{\"a\":1,\"ab\":2,\"a\\\"\":3,\"A\":4,\"a \":5}");
	check_json_accept("{\"x\":{\"\\u0061\":1,\"b\":{\"\\u0061\":2}},"
			  "\"\\u0061\":3}");
}
END_TEST

/* A top-level object holding an array nested n deep in all. */
static char *
check_json_nest(size_t n)
{
	char  *buf;
	size_t i, len = 5 + 2 * n + 8;

	buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "{\"a\":", 5);
	for (i = 0; i < n - 1; i++) {
		buf[5 + i] = '[';
		buf[5 + (n - 1) + i] = ']';
	}
	buf[5 + 2 * (n - 1)] = '}';
	buf[5 + 2 * (n - 1) + 1] = '\0';
	return (buf);
}

/* Objects {"a":{"a":...{}...}} nested n deep in all. */
static char *
check_json_nest_objects(size_t n)
{
	char  *buf;
	size_t i, len = 5 * n + n + 8;

	buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n - 1; i++)
		memcpy(buf + 5 * i, "{\"a\":", 5);
	memcpy(buf + 5 * (n - 1), "{}", 2);
	memset(buf + 5 * (n - 1) + 2, '}', n - 1);
	buf[5 * (n - 1) + 2 + n - 1] = '\0';
	return (buf);
}

START_TEST(nesting_64_deep_accepted)
{
	char *buf = check_json_nest(JSON_MAX_DEPTH);

	check_json_accept(buf);
	free(buf);
	buf = check_json_nest_objects(JSON_MAX_DEPTH);
	check_json_accept(buf);
	free(buf);
}
END_TEST

START_TEST(nesting_65_deep_rejected)
{
	char *buf = check_json_nest(JSON_MAX_DEPTH + 1);

	check_json_reject(buf, "nesting deeper than 64");
	free(buf);
	buf = check_json_nest_objects(JSON_MAX_DEPTH + 1);
	check_json_reject(buf, "nesting deeper than 64");
	free(buf);
}
END_TEST

START_TEST(hundred_thousand_deep_nesting_rejected)
{
	size_t n = 100000, i;
	char  *buf;

	/* unterminated on purpose: it must fail at depth 65, not read on */
	buf = malloc(5 + n + 1);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "{\"a\":", 5);
	for (i = 0; i < n; i++)
		buf[5 + i] = '[';
	buf[5 + n] = '\0';
	check_json_reject(buf, "nesting deeper than 64 at byte 68");
	free(buf);
}
END_TEST

/* An object with n distinct keys, escaped (\u006b for k) if asked, and a
 * repeat of the first key at the end if dup. */
static char *
check_json_many_keys(size_t n, int escaped, int dup, size_t *len)
{
	char  *buf, *p;
	size_t i;

	p = buf = malloc(n * 32 + 64);
	ck_assert_ptr_nonnull(buf);
	*p++ = '{';
	for (i = 0; i < n; i++) {
		p += sprintf(p, "%s\"%s%zu\":%zu", i == 0 ? "" : ",",
		    escaped ? "\\u006b" : "k", (i * 7919) % n, i);
	}
	if (dup)
		p += sprintf(p, ",\"k0\":0");
	*p++ = '}';
	*p = '\0';
	*len = (size_t)(p - buf);
	return (buf);
}

START_TEST(hundred_thousand_distinct_keys_accepted)
{
	struct json_capture id = { "id", { NULL, 0 } };
	size_t		    len;
	char		   *buf, *cause;

	buf = check_json_many_keys(100000, 0, 0, &len);
	cause = check_json_run(buf, len, &id, 1);
	ck_assert_msg(cause == NULL,
	    "expected 100000 keys accepted, got "
	    "\"%s\"",
	    cause);
	free(buf);
	buf = check_json_many_keys(100000, 1, 0, &len);
	cause = check_json_run(buf, len, &id, 1);
	ck_assert_msg(cause == NULL,
	    "expected 100000 escaped keys accepted, "
	    "got \"%s\"",
	    cause);
	free(buf);
}
END_TEST

START_TEST(hundred_thousand_keys_with_one_duplicate_rejected)
{
	size_t len;
	char  *buf;

	buf = check_json_many_keys(100000, 1, 1, &len);
	check_json_reject_n(buf, len, "100000 keys and k0 twice",
	    "duplicate key \"k0\"");
	free(buf);
}
END_TEST

START_TEST(duplicate_key_message_is_printable)
{
	char  *buf, *p;
	size_t i;

	check_json_reject("{\"a\\\"b\\\\\":1,\"a\\\"b\\\\\":2}",
	    "duplicate key \"a\\\"b\\\\\"");
	buf = malloc(2 * 200 + 32);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 2; i++) {
		p = buf + i * 205;
		p[0] = i == 0 ? '{' : ',';
		p[1] = '"';
		memset(p + 2, 'x', 200);
		memcpy(p + 202, "\":1", 3);
	}
	memcpy(buf + 410, "}", 2);
	check_json_reject(buf, "...");
	free(buf);
}
END_TEST

START_TEST(utf8_valid_checks_length_and_nul)
{
	ck_assert_msg(json_utf8_valid("", 0), "expected empty string valid");
	ck_assert_msg(json_utf8_valid("h\xc3\xa9llo", 6),
	    "expected \"h\xc3\xa9llo\" valid");
	ck_assert_msg(!json_utf8_valid("a\0b", 3),
	    "expected a NUL byte to be invalid");
	ck_assert_msg(!json_utf8_valid("\xc3\xa9", 1),
	    "expected a sequence cut by len to be invalid");
	ck_assert_msg(json_utf8_valid("\xc3\xa9\xff", 2),
	    "expected bytes past len to be ignored");
}
END_TEST

START_TEST(utf8_length_counts_code_points)
{
	ck_assert_uint_eq(json_utf8_length(""), 0);
	ck_assert_uint_eq(json_utf8_length("hello"), 5);
	ck_assert_uint_eq(json_utf8_length("h\xc3\xa9llo"), 5);
	ck_assert_uint_eq(json_utf8_length("\xf0\x9f\x98\x80"), 1);
	ck_assert_uint_eq(json_utf8_length("\xe2\x82\xac"
					   "1\xf4\x8f\xbf\xbf"),
	    3);
}
END_TEST

/* All the JSON checker tests. */

START_TEST(number_literals_annotated_in_document_order)
{
	const char *s = "{\"a\":1e-999,\"s\":\"-5 in a string\","
			"\"b\":[2.50,{\"c\":-0}],\"d\":9007199254740993}";
	cJSON	   *t = cJSON_Parse(s), *b;

	ck_assert_ptr_nonnull(t);
	json_annotate_numbers(t, s, strlen(s));
	ck_assert_msg(strncmp(cJSON_GetObjectItem(t, "a")->valuestring,
			  "1e-999", 6) == 0,
	    "a annotated as %.8s", cJSON_GetObjectItem(t, "a")->valuestring);
	b = cJSON_GetObjectItem(t, "b");
	ck_assert(strncmp(cJSON_GetArrayItem(b, 0)->valuestring, "2.50", 4) ==
	    0);
	ck_assert(strncmp(cJSON_GetObjectItem(cJSON_GetArrayItem(b, 1), "c")
			      ->valuestring,
		      "-0", 2) == 0);
	ck_assert(strncmp(cJSON_GetObjectItem(t, "d")->valuestring,
		      "9007199254740993", 16) == 0);
	cJSON_Delete(t); /* must not free the literals: ASan checks */
}
END_TEST

START_TEST(integral_literals_decided_exactly)
{
	static const char *yes[] = { "0", "-0", "7", "1.0", "1.000", "1e3",
		"1E+3", "12.5e1", "1.25e2", "0.0", "0e-5", "9007199254740993",
		"100e-2" };
	static const char *no[] = { "1e-999", "1.0000000000000000001",
		"4.99999999999999999999", "2.5", "12.5e0", "1e-1",
		"9007199254740993.5", "101e-2" };
	size_t		   i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(json_literal_integral(yes[i]),
		    "%s: expected integral, got not", yes[i]);
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_msg(!json_literal_integral(no[i]),
		    "%s: expected not integral, got integral", no[i]);
}
END_TEST

/* An object of n members "kI": "value I", nested one level every tenth. */
static char *
scratch_doc(int n)
{
	size_t size = (size_t)n * 48 + 16, o = 0;
	char  *b = malloc(size);
	int    i;

	ck_assert_ptr_nonnull(b);
	b[o++] = '{';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(b + o, size - o,
		    i % 10 == 9 ? "%s\"k%d\":{\"n\":%d,\"t\":true}" :
				  "%s\"k%d\":\"value %d\"",
		    i ? "," : "", i, i);
	b[o++] = '}';
	b[o] = '\0';
	return (b);
}

START_TEST(scratch_tree_same_as_cjson_and_reused)
{
	char  *doc = scratch_doc(200), *printed;
	cJSON *plain, *t1, *t2;
	void  *first;

	json_scratch_init();
	plain = cJSON_Parse(doc);
	ck_assert_ptr_nonnull(plain);
	ck_assert_uint_eq(json_scratch_live(), 0);
	t1 = json_parse_scratch(doc, strlen(doc));
	ck_assert_ptr_nonnull(t1);
	ck_assert(cJSON_Compare(plain, t1, 1));
	/* 200 members: a node and a key each, a string for most. */
	ck_assert_uint_ge(json_scratch_live(), 400);
	first = t1;
	/* Printing is not scratch: its result is free()d by callers. */
	printed = cJSON_PrintUnformatted(t1);
	ck_assert_ptr_nonnull(printed);
	cJSON_Delete(t1);
	ck_assert_uint_eq(json_scratch_live(), 0);
	t2 = json_parse_scratch(doc, strlen(doc));
	ck_assert_ptr_eq(t2, first); /* the buffer started over */
	ck_assert(cJSON_Compare(plain, t2, 1));
	cJSON_Delete(t2);
	ck_assert_uint_eq(json_scratch_live(), 0);
	ck_assert_str_eq(printed, doc);
	free(printed);
	cJSON_Delete(plain);
	free(doc);
}
END_TEST

START_TEST(scratch_overflow_comes_from_malloc)
{
	char  *doc = scratch_doc(20000), *small = scratch_doc(3);
	cJSON *plain, *big, *t;
	void  *first;

	json_scratch_init();
	t = json_parse_scratch(small, strlen(small));
	first = t;
	cJSON_Delete(t);
	plain = cJSON_Parse(doc);
	big = json_parse_scratch(doc, strlen(doc)); /* megabytes of nodes */
	ck_assert_ptr_nonnull(big);
	ck_assert(cJSON_Compare(plain, big, 1));
	/* A second tree while the first is alive goes on where it ended
	 * (here: malloc, the buffer is full). */
	t = json_parse_scratch(small, strlen(small));
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_ne(t, first);
	cJSON_Delete(t);
	cJSON_Delete(big);
	ck_assert_uint_eq(json_scratch_live(), 0);
	t = json_parse_scratch(small, strlen(small));
	ck_assert_ptr_eq(t, first);
	cJSON_Delete(t);
	cJSON_Delete(plain);
	free(small);
	free(doc);
}
END_TEST

START_TEST(scratch_failed_parse_leaves_nothing)
{
	static const char *bad[] = { "{\"a\":[1,2,", "{\"a\":\"b\",\"c\":{",
		"{\"a\":\"unterminated" };
	size_t		   i;

	json_scratch_init();
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_ptr_null(json_parse_scratch(bad[i], strlen(bad[i])));
		ck_assert_uint_eq(json_scratch_live(), 0);
	}
}
END_TEST

static void *
scratch_thread(void *arg)
{
	const char *doc = arg;
	cJSON	   *t = json_parse_scratch(doc, strlen(doc));

	/* Not the buffer's thread: nothing carved from it. */
	if (t == NULL || json_scratch_live() != 0)
		return (NULL);
	cJSON_Delete(t);
	return ((void *)1);
}

START_TEST(scratch_other_threads_use_malloc)
{
	char	 *doc = scratch_doc(50);
	pthread_t th;
	void	 *ok = NULL;

	json_scratch_init();
	ck_assert_int_eq(pthread_create(&th, NULL, scratch_thread, doc), 0);
	ck_assert_int_eq(pthread_join(th, &ok), 0);
	ck_assert_ptr_nonnull(ok);
	free(doc);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = tcase_create("grammar");
	tcase_add_test(tc, valid_objects_accepted);
	tcase_add_test(tc, every_escape_accepted);
	tcase_add_test(tc, not_an_object_rejected);
	tcase_add_test(tc, trailing_garbage_rejected);
	tcase_add_test(tc, truncated_input_rejected);
	tcase_add_test(tc, grammar_errors_rejected);
	tcase_add_test(tc, strict_numbers_rejected);
	tcase_add_test(tc, strict_numbers_accepted);
	tcase_add_test(tc, raw_control_characters_rejected);
	tcase_add_test(tc, invalid_escapes_rejected);
	suite_add_tcase(s, tc);

	tc = tcase_create("spans");
	tcase_add_test(tc, id_and_data_spans_are_raw_bytes);
	tcase_add_test(tc, big_number_kept_byte_for_byte);
	tcase_add_test(tc, absent_and_nested_members_give_no_span);
	tcase_add_test(tc, escaped_member_names_found);
	tcase_add_test(tc, spans_may_be_ignored);
	tcase_add_test(tc, caller_names_the_captured_members);
	tcase_add_test(tc, number_literals_annotated_in_document_order);
	tcase_add_test(tc, integral_literals_decided_exactly);
	suite_add_tcase(s, tc);

	tc = tcase_create("unicode");
	tcase_add_loop_test(tc, invalid_utf8_rejected, 0,
	    sizeof bad_utf8 / sizeof bad_utf8[0]);
	tcase_add_test(tc, truncated_utf8_at_end_of_input_rejected);
	tcase_add_test(tc, utf8_boundaries_accepted);
	tcase_add_test(tc, raw_nul_rejected);
	tcase_add_test(tc, escaped_nul_rejected);
	tcase_add_test(tc, lone_surrogates_rejected);
	tcase_add_test(tc, utf8_valid_checks_length_and_nul);
	tcase_add_test(tc, utf8_length_counts_code_points);
	suite_add_tcase(s, tc);

	tc = tcase_create("scratch");
	tcase_add_test(tc, scratch_tree_same_as_cjson_and_reused);
	tcase_add_test(tc, scratch_overflow_comes_from_malloc);
	tcase_add_test(tc, scratch_failed_parse_leaves_nothing);
	tcase_add_test(tc, scratch_other_threads_use_malloc);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, duplicate_key_top_level_rejected);
	tcase_add_test(tc, duplicate_key_nested_rejected);
	tcase_add_test(tc, duplicate_key_after_unescape_rejected);
	tcase_add_test(tc, duplicate_key_among_many_rejected);
	tcase_add_test(tc, duplicate_key_in_large_object_rejected);
	tcase_add_test(tc, same_key_in_different_objects_accepted);
	tcase_add_test(tc, duplicate_key_message_is_printable);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_test(tc, nesting_64_deep_accepted);
	tcase_add_test(tc, nesting_65_deep_rejected);
	tcase_add_test(tc, hundred_thousand_deep_nesting_rejected);
	tcase_add_test(tc, hundred_thousand_distinct_keys_accepted);
	tcase_add_test(tc, hundred_thousand_keys_with_one_duplicate_rejected);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; fail if any test did. */
int
main(void)
{
	SRunner *sr;
	int	 failed;

	sr = srunner_create(json_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
