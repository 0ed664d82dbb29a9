/* check_proto.c -- the request decoder and reply encoder. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* Parse s; return the error code, or NULL when it parsed. */
static const char *
parse(const char *s, struct request *req, char **msg)
{
	const char *code = NULL;

	*msg = NULL;
	if (proto_parse(s, strlen(s), req, &code, msg) == 0)
		return (NULL);
	return (code);
}

/* Expect s to fail with code. */
static void
expect_error(const char *s, const char *code)
{
	struct request req;
	const char    *got;
	char	      *msg;

	got = parse(s, &req, &msg);
	ck_assert_msg(got != NULL && strcmp(got, code) == 0,
	    "%s: expected %s, got %s (%s)", s, code, got ? got : "success",
	    msg ? msg : "");
	free(msg);
	proto_request_clear(&req);
}

START_TEST(publish_without_op_is_publish)
{
	struct request req;
	char	      *msg;

	ck_assert_ptr_null(parse("{\"event\":\"E\",\"data\":{}}", &req, &msg));
	ck_assert_int_eq(req.op, OP_PUBLISH);
	ck_assert_str_eq(req.event, "E");
	proto_request_clear(&req);
}
END_TEST

START_TEST(publish_data_span_is_raw_bytes)
{
	struct request req;
	char	      *msg;
	const char    *s = "{\"op\":\"publish\",\"id\":[1, 2],\"event\":\"E\","
			   "\"data\": {\"n\": 9007199254740993 } }";

	ck_assert_ptr_null(parse(s, &req, &msg));
	ck_assert_int_eq((int)req.data.len, 24);
	ck_assert_msg(memcmp(req.data.ptr, "{\"n\": 9007199254740993 }",
			  req.data.len) == 0,
	    "data span is %.*s", (int)req.data.len, req.data.ptr);
	ck_assert_msg(req.id.len == 6 && memcmp(req.id.ptr, "[1, 2]", 6) == 0,
	    "id span is %.*s", (int)req.id.len, req.id.ptr);
	proto_request_clear(&req);
}
END_TEST

START_TEST(publish_keeps_client_message_id)
{
	struct request req;
	char	      *msg;

	ck_assert_ptr_null(parse("{\"event\":\"E\",\"data\":{},"
				 "\"message_id\":\"abc\"}",
	    &req, &msg));
	ck_assert_str_eq(req.message_id, "abc");
	proto_request_clear(&req);
}
END_TEST

START_TEST(bad_requests_rejected)
{
	expect_error("{\"op\":\"publish\",\"data\":{}}", "bad_request");
	expect_error("{\"op\":\"publish\",\"event\":1,\"data\":{}}",
	    "bad_request");
	expect_error("{\"op\":\"publish\",\"event\":\"E\",\"data\":[]}",
	    "bad_request");
	expect_error("{\"op\":\"publish\",\"event\":\"E\"}", "bad_request");
	expect_error("{\"event\":\"E\",\"data\":{},\"message_id\":\"\"}",
	    "bad_request");
	expect_error("{\"event\":\"E\",\"data\":{},\"mesage_id\":\"x\"}",
	    "bad_request");
	expect_error("{\"op\":\"ack\"}", "bad_request");
	expect_error("{\"op\":\"ack\",\"tag\":0}", "bad_request");
	expect_error("{\"op\":\"ack\",\"tag\":1.5}", "bad_request");
	expect_error("{\"op\":\"nack\",\"tag\":1,\"requeue\":\"no\"}",
	    "bad_request");
	expect_error("{\"op\":\"subscribe\"}", "bad_request");
	expect_error("{\"op\":7}", "bad_request");
	expect_error("{\"id\":1}", "bad_request");
}
END_TEST

START_TEST(unknown_op_rejected)
{
	expect_error("{\"op\":\"publsh\",\"event\":\"E\",\"data\":{}}",
	    "unknown_op");
}
END_TEST

START_TEST(bad_json_rejected)
{
	expect_error("not json", "bad_json");
	expect_error("[1,2]", "bad_json");
	expect_error("{\"op\":\"ping\",\"op\":\"stats\"}", "bad_json");
	expect_error("{\"op\":\"ping\"} x", "bad_json");
}
END_TEST

START_TEST(nack_requeue_defaults_true)
{
	struct request req;
	char	      *msg;

	ck_assert_ptr_null(parse("{\"op\":\"nack\",\"tag\":7}", &req, &msg));
	ck_assert_int_eq(req.requeue, 1);
	ck_assert_int_eq(req.tag, 7);
	proto_request_clear(&req);
	ck_assert_ptr_null(
	    parse("{\"op\":\"nack\",\"tag\":7,\"requeue\":false}", &req, &msg));
	ck_assert_int_eq(req.requeue, 0);
	proto_request_clear(&req);
}
END_TEST

START_TEST(nack_retry_in_ms_read_and_bounded)
{
	struct request req;
	char	      *msg;

	ck_assert_ptr_null(parse("{\"op\":\"nack\",\"tag\":7}", &req, &msg));
	ck_assert_int_eq(req.retry_in_ms, 0);
	proto_request_clear(&req);
	ck_assert_ptr_null(parse(
	    "{\"op\":\"nack\",\"tag\":7,\"retry_in_ms\":30000}", &req, &msg));
	ck_assert_int_eq(req.retry_in_ms, 30000);
	ck_assert_int_eq(req.tag, 7);
	proto_request_clear(&req);
	ck_assert_ptr_null(
	    parse("{\"op\":\"nack\",\"tag\":1,\"retry_in_ms\":86400000}", &req,
		&msg));
	ck_assert_int_eq(req.retry_in_ms, 86400000);
	proto_request_clear(&req);
	expect_error("{\"op\":\"nack\",\"tag\":1,\"retry_in_ms\":0}",
	    "bad_request");
	expect_error("{\"op\":\"nack\",\"tag\":1,\"retry_in_ms\":86400001}",
	    "bad_request");
	expect_error("{\"op\":\"nack\",\"tag\":1,\"retry_in_ms\":2.5}",
	    "bad_request");
	expect_error("{\"op\":\"nack\",\"tag\":1,\"retry_in_ms\":\"9\"}",
	    "bad_request");
	expect_error("{\"op\":\"nack\",\"tag\":1,\"retry_in_ms\":9,"
		     "\"requeue\":false}",
	    "bad_request");
	expect_error("{\"op\":\"ack\",\"tag\":1,\"retry_in_ms\":9}",
	    "bad_request");
}
END_TEST

START_TEST(unknown_members_rejected)
{
	/* Whole words of the op's list only: no part of one, no two at once,
	 * no other op's member. */
	expect_error("{\"op\":\"publish\",\"event\":\"E\",\"data\":{},"
		     "\"even\":1}",
	    "bad_request");
	expect_error("{\"op\":\"publish\",\"event\":\"E\",\"data\":{},"
		     "\"event data\":1}",
	    "bad_request");
	expect_error("{\"op\":\"publish\",\"event\":\"E\",\"data\":{},"
		     "\"\":1}",
	    "bad_request");
	expect_error("{\"op\":\"publish\",\"event\":\"E\",\"data\":{},"
		     "\"tag\":1}",
	    "bad_request");
	expect_error("{\"op\":\"ack\",\"tag\":1,\"ta\":1}", "bad_request");
	expect_error("{\"op\":\"ping\",\" \":1}", "bad_request");
}
END_TEST

static char hint[64];
static int  hints;

static void
record_hint(const char *name, size_t len)
{
	snprintf(hint, sizeof hint, "%.*s", (int)len, name);
	hints++;
}

START_TEST(event_name_hinted_before_parsing)
{
	struct request req;
	char	      *msg = NULL;

	proto_set_event_hint(record_hint);
	hints = 0;
	ck_assert_ptr_null(
	    parse("{\"op\":\"publish\",\"event\":\"OrderPlaced\","
		  "\"data\":{}}",
		&req, &msg));
	proto_request_clear(&req);
	ck_assert_int_eq(hints, 1);
	ck_assert_str_eq(hint, "OrderPlaced");
	/* Escaped names, other values and no name are left to the lookup. */
	ck_assert_ptr_null(
	    parse("{\"op\":\"publish\",\"event\":\"Order\\u0050\","
		  "\"data\":{}}",
		&req, &msg));
	proto_request_clear(&req);
	ck_assert_ptr_null(parse("{\"op\":\"ping\"}", &req, &msg));
	proto_request_clear(&req);
	expect_error("{\"op\":\"publish\",\"event\":7,\"data\":{}}",
	    "bad_request");
	ck_assert_int_eq(hints, 1);
	proto_set_event_hint(NULL);
}
END_TEST

START_TEST(error_reply_echoes_op_and_id)
{
	struct pbuf b = { NULL, 0, 0 };

	proto_reply_error(&b, OP_PUBLISH, "{\"a\":1}", 7, "validation",
	    "x: \"bad\"\n", "x");
	ck_assert_str_eq(b.p,
	    "{\"op\":\"publish\",\"id\":{\"a\":1},\"ok\":false,"
	    "\"error\":\"validation\",\"message\":\"x: \\\"bad\\\"\\n\","
	    "\"field\":\"x\"}\n");
	pbuf_free(&b);
}
END_TEST

START_TEST(error_reply_without_op_or_id)
{
	struct pbuf b = { NULL, 0, 0 };

	proto_reply_error(&b, OP_NONE, NULL, 0, "bad_json", "m", NULL);
	ck_assert_str_eq(b.p,
	    "{\"ok\":false,\"error\":\"bad_json\",\"message\":\"m\"}\n");
	pbuf_free(&b);
}
END_TEST

START_TEST(ok_reply_with_members)
{
	struct pbuf b = { NULL, 0, 0 };

	proto_reply_begin(&b, OP_PUBLISH, "1", 1, 1);
	proto_member_str(&b, "message_id", "m1");
	proto_member_raw(&b, "routed", "false", 5);
	proto_reply_end(&b);
	ck_assert_str_eq(b.p,
	    "{\"op\":\"publish\",\"id\":1,\"ok\":true,"
	    "\"message_id\":\"m1\",\"routed\":false}\n");
	pbuf_free(&b);
}
END_TEST

START_TEST(quoted_control_characters_escaped)
{
	struct pbuf b = { NULL, 0, 0 };

	pbuf_add_quoted(&b, "a\x01\tb\\");
	ck_assert_str_eq(b.p, "\"a\\u0001\\tb\\\\\"");
	pbuf_free(&b);
}
END_TEST

/* Every line proto_quick_ack takes, proto_parse reads the same way. */
START_TEST(quick_ack_agrees_with_full_parse)
{
	static const char *taken[] = { "{\"op\":\"ack\",\"tag\":1}",
		"{\"op\":\"ack\",\"tag\":7}",
		"{\"op\":\"ack\",\"tag\":123456789012345}" };
	static const char *left[] = { "{\"op\":\"ack\",\"tag\":0}",
		"{\"op\":\"ack\",\"tag\":07}", "{\"op\":\"ack\",\"tag\":}",
		"{\"op\":\"ack\",\"tag\":1.5}", "{\"op\":\"ack\",\"tag\":-1}",
		"{\"op\":\"ack\",\"tag\":1234567890123456}",
		"{\"op\":\"ack\",\"tag\":1,\"id\":2}",
		"{\"op\":\"ack\",\"tag\":1} ", "{\"op\":\"ack\",\"tag\":1}}",
		"{\"op\":\"nack\",\"tag\":1}", "{\"op\": \"ack\",\"tag\":1}",
		"{\"op\":\"ack\",\"tag\":\"1\"}", "{\"op\":\"ack\",\"tag\":" };
	struct request	   quick, full;
	const char	  *code;
	char		  *msg = NULL;
	size_t		   i;

	for (i = 0; i < sizeof taken / sizeof *taken; i++) {
		ck_assert_int_eq(proto_quick_ack(taken[i], strlen(taken[i]),
				     &quick),
		    0);
		ck_assert_int_eq(proto_parse(taken[i], strlen(taken[i]), &full,
				     &code, &msg),
		    0);
		ck_assert_int_eq(quick.op, full.op);
		ck_assert_int_eq(quick.tag, full.tag);
		ck_assert_int_eq(quick.requeue, full.requeue);
		ck_assert_ptr_null(quick.id.ptr);
		ck_assert_ptr_null(full.id.ptr);
		ck_assert_ptr_null(quick.tree);
		proto_request_clear(&full);
	}
	for (i = 0; i < sizeof left / sizeof *left; i++)
		ck_assert_msg(proto_quick_ack(left[i], strlen(left[i]),
				  &quick) == -1,
		    "took %s", left[i]);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("proto");
	TCase	*tc = tcase_create("proto");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, publish_without_op_is_publish);
	tcase_add_test(tc, publish_data_span_is_raw_bytes);
	tcase_add_test(tc, publish_keeps_client_message_id);
	tcase_add_test(tc, bad_requests_rejected);
	tcase_add_test(tc, unknown_members_rejected);
	tcase_add_test(tc, event_name_hinted_before_parsing);
	tcase_add_test(tc, unknown_op_rejected);
	tcase_add_test(tc, bad_json_rejected);
	tcase_add_test(tc, nack_requeue_defaults_true);
	tcase_add_test(tc, nack_retry_in_ms_read_and_bounded);
	tcase_add_test(tc, error_reply_echoes_op_and_id);
	tcase_add_test(tc, error_reply_without_op_or_id);
	tcase_add_test(tc, ok_reply_with_members);
	tcase_add_test(tc, quoted_control_characters_escaped);
	tcase_add_test(tc, quick_ack_agrees_with_full_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
