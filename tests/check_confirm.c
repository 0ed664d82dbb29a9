/* check_confirm.c -- the confirm ring: out-of-order acks, nacks, multiple,
 * wrap-around, the span bound and reset, without a broker. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "confirm.h"

#define NJOBS 64

static int	jobs[NJOBS];	/* jobs are just addresses here */
static int	settled[NJOBS]; /* how often each was settled */
static uint64_t order[NJOBS];	/* tags in the order settled */
static int	norder;
static int     *keep; /* the callback keeps this job */

/* Record a settled job; keep the one the test asks to keep. */
static int
settle_cb(void *job, uint64_t tag, void *arg)
{
	(void)arg;
	if (job == keep)
		return (1);
	settled[(int *)job - jobs]++;
	if (norder < NJOBS)
		order[norder] = tag;
	norder++;
	return (0);
}

/* Forget what earlier tests settled. */
static void
setup(void)
{
	int i;

	for (i = 0; i < NJOBS; i++)
		settled[i] = 0;
	norder = 0;
	keep = NULL;
}

/* Add jobs[from..to) and check the tags handed out. */
static void
add_range(struct confirm *c, int from, int to, uint64_t first_tag)
{
	int i;

	for (i = from; i < to; i++)
		ck_assert_uint_eq(confirm_add(c, &jobs[i]),
		    first_tag + (uint64_t)(i - from));
}

START_TEST(out_of_order_acks_settle_each_once)
{
	struct confirm c;

	confirm_init(&c, 4);
	add_range(&c, 0, 4, 1);
	ck_assert_int_eq(confirm_settle(&c, 3, 0, settle_cb, NULL), 1);
	ck_assert_int_eq(confirm_settle(&c, 2, 0, settle_cb, NULL), 1);
	ck_assert_int_eq(confirm_settle(&c, 3, 0, settle_cb, NULL), 0);
	ck_assert_int_eq(settled[2], 1);
	ck_assert_int_eq(settled[1], 1);
	ck_assert_int_eq(confirm_inflight(&c), 2);
	ck_assert_ptr_eq(confirm_get(&c, 1), &jobs[0]);
	ck_assert_ptr_eq(confirm_get(&c, 4), &jobs[3]);
	ck_assert_ptr_null(confirm_get(&c, 2));
	confirm_free(&c);
}
END_TEST

START_TEST(span_bounds_the_ring_not_the_count)
{
	struct confirm c;

	/*
	 * The old bug: tags 1..4 out, 2..4 acked, so only one in flight;
	 * tag 5 would land on tag 1's slot (5 % 4 == 1) and overwrite it.
	 */
	confirm_init(&c, 4);
	add_range(&c, 0, 4, 1);
	confirm_settle(&c, 2, 0, settle_cb, NULL);
	confirm_settle(&c, 3, 0, settle_cb, NULL);
	confirm_settle(&c, 4, 0, settle_cb, NULL);
	ck_assert_int_eq(confirm_inflight(&c), 1);
	ck_assert_int_eq(confirm_room(&c), 0);
	ck_assert_uint_eq(confirm_add(&c, &jobs[4]), 0);
	ck_assert_ptr_eq(confirm_get(&c, 1), &jobs[0]);
	/* Tag 1 acked: the span is empty and four tags are free again. */
	confirm_settle(&c, 1, 0, settle_cb, NULL);
	ck_assert_int_eq(confirm_free_tags(&c), 4);
	add_range(&c, 4, 8, 5);
	ck_assert_uint_eq(confirm_add(&c, &jobs[8]), 0);
	confirm_free(&c);
}
END_TEST

START_TEST(multiple_settles_every_tag_up_to_it_in_order)
{
	struct confirm c;

	confirm_init(&c, 8);
	add_range(&c, 0, 6, 1);
	confirm_settle(&c, 2, 0, settle_cb, NULL); /* already gone */
	ck_assert_int_eq(confirm_settle(&c, 4, 1, settle_cb, NULL), 3);
	ck_assert_int_eq(norder, 4);
	ck_assert_uint_eq(order[1], 1);
	ck_assert_uint_eq(order[2], 3);
	ck_assert_uint_eq(order[3], 4);
	ck_assert_uint_eq(confirm_first(&c), 5);
	/* Tag 0 with multiple: everything out. */
	ck_assert_int_eq(confirm_settle(&c, 0, 1, settle_cb, NULL), 2);
	ck_assert_int_eq(confirm_inflight(&c), 0);
	ck_assert_uint_eq(confirm_first(&c), 0);
	ck_assert_int_eq(confirm_free_tags(&c), 8);
	confirm_free(&c);
}
END_TEST

START_TEST(nack_kept_by_callback_stays_in_flight)
{
	struct confirm c;

	confirm_init(&c, 4);
	add_range(&c, 0, 3, 1);
	keep = &jobs[1]; /* a spooled event the broker refused */
	ck_assert_int_eq(confirm_settle(&c, 3, 1, settle_cb, NULL), 2);
	ck_assert_int_eq(confirm_inflight(&c), 1);
	ck_assert_ptr_eq(confirm_get(&c, 2), &jobs[1]);
	ck_assert_uint_eq(confirm_first(&c), 2);
	ck_assert_ptr_eq(confirm_take(&c, 2), &jobs[1]);
	ck_assert_int_eq(confirm_inflight(&c), 0);
	ck_assert_int_eq(confirm_free_tags(&c), 4);
	confirm_free(&c);
}
END_TEST

START_TEST(tags_wrap_around_the_ring_many_times)
{
	struct confirm c;
	uint64_t       tag, want = 1;
	int	       i;

	confirm_init(&c, 3);
	for (i = 0; i < 1000; i++) {
		tag = confirm_add(&c, &jobs[i % NJOBS]);
		ck_assert_uint_eq(tag, want++);
		if (!confirm_room(&c)) {
			/* Ack the newest first, then the rest at once. */
			confirm_settle(&c, tag, 0, settle_cb, NULL);
			confirm_settle(&c, tag - 1, 1, settle_cb, NULL);
			ck_assert_int_eq(confirm_inflight(&c), 0);
		}
	}
	ck_assert_int_eq(norder, 999); /* the last three sent: 3 of them */
	confirm_free(&c);
}
END_TEST

START_TEST(unknown_and_stale_tags_are_ignored)
{
	struct confirm c;

	confirm_init(&c, 4);
	add_range(&c, 0, 2, 1);
	ck_assert_int_eq(confirm_settle(&c, 9, 0, settle_cb, NULL), 0);
	ck_assert_int_eq(confirm_settle(&c, 9, 1, settle_cb, NULL), 2);
	ck_assert_int_eq(confirm_settle(&c, 1, 0, settle_cb, NULL), 0);
	ck_assert_ptr_null(confirm_take(&c, 1));
	confirm_free(&c);
}
END_TEST

START_TEST(reset_starts_tags_at_one_for_a_new_channel)
{
	struct confirm c;
	uint64_t       t, n = 0;

	confirm_init(&c, 4);
	add_range(&c, 0, 3, 1);
	confirm_settle(&c, 2, 0, settle_cb, NULL);
	/* The connection went: the publisher takes what is in flight, in
	 * order, to send again. */
	for (t = confirm_first(&c); t != 0; t = confirm_after(&c, t)) {
		ck_assert_uint_eq(t, n == 0 ? 1 : 3);
		n++;
	}
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_eq(confirm_take(&c, 1), &jobs[0]);
	ck_assert_ptr_eq(confirm_take(&c, 3), &jobs[2]);
	confirm_reset(&c);
	ck_assert_int_eq(confirm_inflight(&c), 0);
	add_range(&c, 3, 7, 1);
	/* An ack of the old channel's tag 2 now means the new tag 2. */
	confirm_settle(&c, 2, 0, settle_cb, NULL);
	ck_assert_int_eq(settled[4], 1);
	confirm_free(&c);
}
END_TEST

START_TEST(replace_keeps_the_tag_for_a_copy)
{
	struct confirm c;

	confirm_init(&c, 4);
	add_range(&c, 0, 2, 1);
	confirm_replace(&c, 1, &jobs[10]);
	ck_assert_ptr_eq(confirm_get(&c, 1), &jobs[10]);
	confirm_settle(&c, 1, 0, settle_cb, NULL);
	ck_assert_int_eq(settled[10], 1);
	ck_assert_int_eq(settled[0], 0);
	confirm_free(&c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("confirm");
	TCase	*tc = tcase_create("confirm");
	SRunner *sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, out_of_order_acks_settle_each_once);
	tcase_add_test(tc, span_bounds_the_ring_not_the_count);
	tcase_add_test(tc, multiple_settles_every_tag_up_to_it_in_order);
	tcase_add_test(tc, nack_kept_by_callback_stays_in_flight);
	tcase_add_test(tc, tags_wrap_around_the_ring_many_times);
	tcase_add_test(tc, unknown_and_stale_tags_are_ignored);
	tcase_add_test(tc, reset_starts_tags_at_one_for_a_new_channel);
	tcase_add_test(tc, replace_keeps_the_tag_for_a_copy);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
