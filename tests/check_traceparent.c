/* check_traceparent.c -- W3C Trace Context syntax (traceparent.c) and
 * its place in a publish request (proto.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "traceparent.h"

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* Expect traceparent_check to accept s. */
static void
expect_tp_ok(const char *s)
{
	char *cause = NULL;

	ck_assert_msg(traceparent_check(s, &cause) == 0,
	    "traceparent %s: expected valid, got: %s", s, cause);
}

/* Expect traceparent_check to refuse s with a cause holding word. */
static void
expect_tp_bad(const char *s, const char *word)
{
	char *cause = NULL;

	ck_assert_msg(traceparent_check(s, &cause) == -1,
	    "traceparent \"%s\": expected invalid, got valid", s);
	ck_assert_msg(cause != NULL && strstr(cause, word) != NULL,
	    "traceparent \"%s\": expected a cause with \"%s\", got \"%s\"", s,
	    word, cause);
	free(cause);
}

/* Expect tracestate_check to accept or refuse s. */
static void
expect_ts(const char *s, int ok)
{
	char *cause = NULL;
	int   rv = tracestate_check(s, &cause);

	ck_assert_msg(rv == (ok ? 0 : -1),
	    "tracestate \"%.80s\": expected %s, got %s (%s)", s,
	    ok ? "valid" : "invalid", rv == 0 ? "valid" : "invalid",
	    cause ? cause : "");
	ck_assert_msg(ok || cause != NULL, "tracestate \"%.80s\": no cause", s);
	free(cause);
}

START_TEST(traceparent_version_00_accepted)
{
	expect_tp_ok(TP);
	expect_tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
	/* Unknown flag bits are carried, not refused. */
	expect_tp_ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff");
}
END_TEST

START_TEST(traceparent_bad_layout_refused)
{
	expect_tp_bad("", "version");
	expect_tp_bad("0", "version");
	expect_tp_bad("0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "version");
	expect_tp_bad("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "ff");
	/* Uppercase hex, short ids, wrong separators. */
	expect_tp_bad("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
	    "lowercase");
	expect_tp_bad("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
	    "lowercase");
	expect_tp_bad("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "lowercase");
	expect_tp_bad("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
	    "lowercase");
	expect_tp_bad("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
	    "lowercase");
}
END_TEST

START_TEST(traceparent_zero_ids_refused)
{
	expect_tp_bad("00-00000000000000000000000000000000-00f067aa0ba902b7-01",
	    "trace-id is all zeros");
	expect_tp_bad("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
	    "parent-id is all zeros");
	/* A later version keeps the same rule. */
	expect_tp_bad("cc-00000000000000000000000000000000-00f067aa0ba902b7-01",
	    "trace-id is all zeros");
}
END_TEST

START_TEST(traceparent_later_versions_may_carry_more)
{
	char long_one[TRACEPARENT_MAX + 2];

	expect_tp_ok("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	expect_tp_ok("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"
		     "what-the-future-has");
	expect_tp_bad(TP "-more", "exactly 55");
	expect_tp_bad(
	    "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", "'-'");
	expect_tp_bad("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"
		      "a b",
	    "printable");
	memset(long_one, 'a', sizeof long_one - 1);
	long_one[sizeof long_one - 1] = '\0';
	memcpy(long_one, TP, strlen(TP));
	long_one[0] = long_one[1] = 'c';
	long_one[55] = '-';
	expect_tp_bad(long_one, "longer than 255");
	long_one[TRACEPARENT_MAX] = '\0';
	expect_tp_ok(long_one);
}
END_TEST

START_TEST(tracestate_members_accepted)
{
	expect_ts("", 1);
	expect_ts("rojo=00f067aa0ba902b7", 1);
	expect_ts("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", 1);
	expect_ts("rojo=1 , congo=2\t,\t, x=a b", 1);
	expect_ts("fw529a3039@dt=12 34,0tenant@sys-1_*/=v", 1);
	expect_ts("a_-*/9=!\"#$%&'()*+-./:;<>?@[]^_`{|}~", 1);
}
END_TEST

START_TEST(tracestate_bad_members_refused)
{
	expect_ts("Rojo=1", 0);	    /* uppercase key */
	expect_ts("9rojo=1", 0);    /* simple key starts with a digit */
	expect_ts("rojo", 0);	    /* no value */
	expect_ts("rojo=", 0);	    /* empty value */
	expect_ts("rojo=a=b", 0);   /* '=' in the value */
	expect_ts("rojo=a\x01", 0); /* control character */
	expect_ts("rojo=1,rojo=2", 0);
	expect_ts("t@Sys=1", 0); /* uppercase system-id */
	expect_ts("t@sys5678901234x=1", 1);
	expect_ts("t@sys56789012345x=1", 0); /* system-id of 15 */
	expect_ts("t@=1", 0);
	expect_ts("@sys=1", 0);
	expect_ts("rojo=caf\xc3\xa9", 0); /* not ASCII */
}
END_TEST

START_TEST(tracestate_bounds)
{
	char s[1024];
	int  i, n = 0;

	/* 32 members are fine, 33 are not. */
	for (i = 0; i < 32; i++)
		n += snprintf(s + n, sizeof s - (size_t)n, "%sk%d=v",
		    i ? "," : "", i);
	expect_ts(s, 1);
	snprintf(s + n, sizeof s - (size_t)n, ",k32=v");
	expect_ts(s, 0);
	/* 512 characters are fine, 513 are not. */
	memset(s, 'x', 512);
	memcpy(s, "k=", 2);
	s[512] = '\0';
	expect_ts(s, 0); /* a value over 256 */
	/* a=200 v, b=200 v, c=the rest: 512 in all. */
	memset(s, 'v', sizeof s);
	memcpy(s, "a=", 2);
	memcpy(s + 202, ",b=", 3);
	memcpy(s + 405, ",c=", 3);
	s[512] = '\0';
	expect_ts(s, 1);
	s[512] = 'v';
	s[513] = '\0';
	expect_ts(s, 0);
}
END_TEST

START_TEST(new_traceparent_is_valid_and_random)
{
	char a[TRACEPARENT_LEN + 1], b[TRACEPARENT_LEN + 1];

	traceparent_new(a, 1);
	traceparent_new(b, 0);
	expect_tp_ok(a);
	expect_tp_ok(b);
	ck_assert_int_eq((int)strlen(a), TRACEPARENT_LEN);
	ck_assert_str_eq(a + 53, "01");
	ck_assert_str_eq(b + 53, "00");
	ck_assert_msg(memcmp(a + 3, b + 3, 32) != 0,
	    "two new traces share an id");
}
END_TEST

START_TEST(format_refuses_zero_ids)
{
	unsigned char ids[24];
	char	      out[TRACEPARENT_LEN + 1];

	memset(ids, 0, sizeof ids);
	ids[23] = 1;
	ck_assert_int_eq(traceparent_format(out, ids, 1), -1);
	memset(ids, 0, sizeof ids);
	ids[0] = 0xab;
	ck_assert_int_eq(traceparent_format(out, ids, 1), -1);
	ids[16] = 0xcd;
	ck_assert_int_eq(traceparent_format(out, ids, 1), 0);
	ck_assert_str_eq(out,
	    "00-ab000000000000000000000000000000-cd00000000000000-01");
}
END_TEST

/* Parse a request line; return the error code or NULL. */
static const char *
parse(const char *s, struct request *req, char **msg)
{
	const char *code = NULL;

	*msg = NULL;
	if (proto_parse(s, strlen(s), req, &code, msg) == 0)
		return (NULL);
	return (code);
}

START_TEST(publish_carries_traceparent_and_tracestate)
{
	struct request req;
	char	      *msg;

	ck_assert_ptr_null(parse("{\"event\":\"E\",\"data\":{\"a\":1},"
				 "\"traceparent\":\"" TP "\","
				 "\"tracestate\":\"rojo=1\"}",
	    &req, &msg));
	ck_assert_str_eq(req.traceparent, TP);
	ck_assert_str_eq(req.tracestate, "rojo=1");
	ck_assert_int_eq((int)req.data.len, 7);
	proto_request_clear(&req);
	ck_assert_ptr_null(parse("{\"event\":\"E\",\"data\":{},"
				 "\"traceparent\":\"" TP
				 "\",\"tracestate\":\" , \"}",
	    &req, &msg));
	ck_assert_ptr_null(req.tracestate);
	proto_request_clear(&req);
	/* An empty tracestate is none, with or without a traceparent. */
	ck_assert_ptr_null(parse(
	    "{\"event\":\"E\",\"data\":{},\"tracestate\":\"\"}", &req, &msg));
	ck_assert_ptr_null(req.traceparent);
	ck_assert_ptr_null(req.tracestate);
	proto_request_clear(&req);
}
END_TEST

/* Expect the publish line s to fail validation naming field. */
static void
expect_field(const char *s, const char *field)
{
	struct request req;
	const char    *code;
	char	      *msg;

	code = parse(s, &req, &msg);
	ck_assert_msg(code != NULL && strcmp(code, "validation") == 0 &&
		req.field != NULL && strcmp(req.field, field) == 0,
	    "%s: expected validation of %s, got %s field %s (%s)", s, field,
	    code ? code : "success", req.field ? req.field : "none",
	    msg ? msg : "");
	ck_assert_msg(strstr(msg, field) != NULL, "message \"%s\" names %s",
	    msg, field);
	free(msg);
	proto_request_clear(&req);
}

START_TEST(publish_bad_trace_context_is_validation_naming_field)
{
	expect_field(
	    "{\"event\":\"E\",\"data\":{},\"traceparent\":\"00-1-2-3\"}",
	    "traceparent");
	expect_field("{\"event\":\"E\",\"data\":{},\"traceparent\":7}",
	    "traceparent");
	expect_field("{\"event\":\"E\",\"data\":{},\"traceparent\":\"" TP
		     "\",\"tracestate\":\"ROJO=1\"}",
	    "tracestate");
	expect_field("{\"event\":\"E\",\"data\":{},\"tracestate\":\"rojo=1\"}",
	    "tracestate");
}
END_TEST

START_TEST(trace_members_only_on_publish)
{
	struct request req;
	const char    *code;
	char	      *msg;

	code = parse("{\"op\":\"ping\",\"traceparent\":\"" TP "\"}", &req,
	    &msg);
	ck_assert_msg(code != NULL && strcmp(code, "bad_request") == 0,
	    "ping with traceparent: expected bad_request, got %s",
	    code ? code : "success");
	ck_assert_ptr_null(req.field);
	free(msg);
	proto_request_clear(&req);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("traceparent");
	TCase	*tc = tcase_create("traceparent");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, traceparent_version_00_accepted);
	tcase_add_test(tc, traceparent_bad_layout_refused);
	tcase_add_test(tc, traceparent_zero_ids_refused);
	tcase_add_test(tc, traceparent_later_versions_may_carry_more);
	tcase_add_test(tc, tracestate_members_accepted);
	tcase_add_test(tc, tracestate_bad_members_refused);
	tcase_add_test(tc, tracestate_bounds);
	tcase_add_test(tc, new_traceparent_is_valid_and_random);
	tcase_add_test(tc, format_refuses_zero_ids);
	tcase_add_test(tc, publish_carries_traceparent_and_tracestate);
	tcase_add_test(tc,
	    publish_bad_trace_context_is_validation_naming_field);
	tcase_add_test(tc, trace_members_only_on_publish);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
