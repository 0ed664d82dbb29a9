/* check_http.c -- the request head of /metrics: whole, incomplete, or
 * refused with the right status, never read past its bytes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Parse s as it would arrive, in a buffer of exactly its length. */
static int
parse(const char *s, struct http_request *req)
{
	size_t len = strlen(s);
	char  *buf = malloc(len > 0 ? len : 1);
	int    status;

	memcpy(buf, s, len);
	memset(req, 0, sizeof *req);
	status = http_parse(buf, len, req);
	free(buf);
	return (status);
}

START_TEST(whole_requests_parsed)
{
	struct http_request req;

	ck_assert_int_eq(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
			     &req),
	    200);
	ck_assert_int_eq(req.method, HTTP_GET);
	ck_assert_str_eq(req.path, "/metrics");
	ck_assert_int_eq(parse("HEAD /healthz?verbose=1 HTTP/1.0\n\n", &req),
	    200);
	ck_assert_int_eq(req.method, HTTP_HEAD);
	ck_assert_str_eq(req.path, "/healthz");
}
END_TEST

START_TEST(incomplete_requests_wait)
{
	struct http_request req;

	ck_assert_int_eq(parse("", &req), 0);
	ck_assert_int_eq(parse("GET /metr", &req), 0);
	ck_assert_int_eq(parse("GET /metrics HTTP/1.1\r\n", &req), 0);
	ck_assert_int_eq(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", &req),
	    0);
}
END_TEST

START_TEST(bad_requests_refused_with_their_status)
{
	struct http_request req;
	char		    big[HTTP_MAX_HEAD + 100], path[400];

	ck_assert_int_eq(parse("BREW /pot HTTP/1.1\r\n", &req), 405);
	ck_assert_int_eq(parse(" /metrics HTTP/1.1\r\n", &req), 400);
	ck_assert_int_eq(parse("GET metrics HTTP/1.1\r\n", &req), 400);
	ck_assert_int_eq(parse("GET /metrics\r\n", &req), 400);
	ck_assert_int_eq(parse("GET /metrics HTTP/2.0\r\n", &req), 505);
	ck_assert_int_eq(parse("GET /metrics HTTP/1.10\r\n", &req), 505);
	ck_assert_int_eq(parse("GET /metrics SPDY/3\r\n", &req), 400);
	ck_assert_int_eq(parse("G(T /metrics HTTP/1.1\r\n", &req), 400);
	ck_assert_int_eq(parse("GET /a\x01 HTTP/1.1\r\n", &req), 400);
	ck_assert_int_eq(parse("GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
			     &req),
	    400);
	memset(path, 'p', sizeof path);
	memcpy(path, "GET /", 5);
	memcpy(path + 300, " HTTP/1.1\r\n", 12);
	ck_assert_int_eq(parse(path, &req), 414);
	memset(big, 'h', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	ck_assert_int_eq(parse(big, &req), 431);
	memcpy(big, "GET /", 5); /* no end of the request line */
	ck_assert_int_eq(parse(big, &req), 431);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("http");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, whole_requests_parsed);
	tcase_add_test(tc, incomplete_requests_wait);
	tcase_add_test(tc, bad_requests_refused_with_their_status);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
