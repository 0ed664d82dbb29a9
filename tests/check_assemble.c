/* check_assemble.c -- a delivery from its frames: every size the broker
 * sends is checked, none trusted. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "assemble.h"

/* Expect a frame to be refused, with a reason. */
static void
expect_refused(int rv, char **cause)
{
	ck_assert_int_eq(rv, -1);
	ck_assert_ptr_nonnull(*cause);
	free(*cause);
	*cause = NULL;
}

START_TEST(message_in_frames_assembled)
{
	struct assemble a;
	char	       *cause = NULL, *body;
	size_t		len;

	assemble_init(&a, 1024);
	ck_assert_int_eq(assemble_method(&a, 1, &cause), 0);
	ck_assert_int_eq(assemble_header(&a, 7, &cause), ASSEMBLE_MORE);
	ck_assert_int_eq(assemble_body(&a, "{\"a\"", 4, &cause), ASSEMBLE_MORE);
	ck_assert_int_eq(assemble_body(&a, ":1}", 3, &cause), ASSEMBLE_DONE);
	body = assemble_take(&a, &len);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(body, "{\"a\":1}");
	free(body);
	ck_assert_int_eq(a.state, ASSEMBLE_IDLE);
	/* And the next one, empty. */
	ck_assert_int_eq(assemble_method(&a, 1, &cause), 0);
	ck_assert_int_eq(assemble_header(&a, 0, &cause), ASSEMBLE_DONE);
	body = assemble_take(&a, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(body, "");
	free(body);
}
END_TEST

START_TEST(body_longer_than_declared_refused)
{
	struct assemble a;
	char	       *cause = NULL;

	assemble_init(&a, 1024);
	assemble_method(&a, 1, &cause);
	assemble_header(&a, 10, &cause);
	expect_refused(assemble_body(&a, "0123456789abc", 13, &cause), &cause);
	assemble_reset(&a);
	assemble_method(&a, 1, &cause);
	assemble_header(&a, 10, &cause);
	ck_assert_int_eq(assemble_body(&a, "01234", 5, &cause), ASSEMBLE_MORE);
	expect_refused(assemble_body(&a, "567890", 6, &cause), &cause);
	assemble_reset(&a);
}
END_TEST

START_TEST(body_shorter_than_declared_refused_at_next_method)
{
	struct assemble a;
	char	       *cause = NULL;

	assemble_init(&a, 1024);
	assemble_method(&a, 1, &cause);
	assemble_header(&a, 10, &cause);
	ck_assert_int_eq(assemble_body(&a, "01234", 5, &cause), ASSEMBLE_MORE);
	expect_refused(assemble_method(&a, 1, &cause), &cause);
	assemble_reset(&a);
	/* A header announced, then a method instead. */
	assemble_method(&a, 1, &cause);
	expect_refused(assemble_method(&a, 0, &cause), &cause);
	assemble_reset(&a);
}
END_TEST

START_TEST(frames_out_of_order_refused)
{
	struct assemble a;
	char	       *cause = NULL, *body;
	size_t		len;

	assemble_init(&a, 1024);
	expect_refused(assemble_header(&a, 3, &cause), &cause);
	expect_refused(assemble_body(&a, "abc", 3, &cause), &cause);
	assemble_method(&a, 0, &cause); /* a method with no content */
	expect_refused(assemble_header(&a, 3, &cause), &cause);
	assemble_method(&a, 1, &cause);
	expect_refused(assemble_body(&a, "abc", 3, &cause), &cause);
	assemble_reset(&a);
	assemble_method(&a, 1, &cause);
	assemble_header(&a, 3, &cause);
	expect_refused(assemble_header(&a, 3, &cause), &cause);
	assemble_reset(&a);
	/* A message whole, then a body frame nobody announced. */
	assemble_method(&a, 1, &cause);
	assemble_header(&a, 3, &cause);
	ck_assert_int_eq(assemble_body(&a, "abc", 3, &cause), ASSEMBLE_DONE);
	free(assemble_take(&a, &len));
	expect_refused(assemble_body(&a, "d", 1, &cause), &cause);
	/* An empty body frame where none is due is refused too. */
	assemble_method(&a, 1, &cause);
	ck_assert_int_eq(assemble_header(&a, 0, &cause), ASSEMBLE_DONE);
	body = assemble_take(&a, &len);
	free(body);
	expect_refused(assemble_body(&a, "", 0, &cause), &cause);
}
END_TEST

START_TEST(oversized_body_counted_not_kept)
{
	struct assemble a;
	char	       *cause = NULL, *body, chunk[64];
	size_t		len;
	int		i, rv = ASSEMBLE_MORE;

	memset(chunk, 'x', sizeof chunk);
	assemble_init(&a, 100);
	assemble_method(&a, 1, &cause);
	ck_assert_int_eq(assemble_header(&a, 640, &cause), ASSEMBLE_MORE);
	ck_assert_ptr_null(a.body);
	for (i = 0; i < 10; i++)
		rv = assemble_body(&a, chunk, sizeof chunk, &cause);
	ck_assert_int_eq(rv, ASSEMBLE_DONE);
	body = assemble_take(&a, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(body, "");
	free(body);
	/* A huge declared size allocates nothing. */
	assemble_method(&a, 1, &cause);
	ck_assert_int_eq(assemble_header(&a, UINT64_MAX, &cause),
	    ASSEMBLE_MORE);
	ck_assert_ptr_null(a.body);
	assemble_reset(&a);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("assemble");
	TCase	*tc = tcase_create("assemble");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, message_in_frames_assembled);
	tcase_add_test(tc, body_longer_than_declared_refused);
	tcase_add_test(tc, body_shorter_than_declared_refused_at_next_method);
	tcase_add_test(tc, frames_out_of_order_refused);
	tcase_add_test(tc, oversized_body_counted_not_kept);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
