/* check_ackset.c -- the unacked tags of a channel turned into basic.acks:
 * a multiple ack only over tags the app acked, acks behind a held tag sent
 * alone, nacks forgotten, broker errors refused, without a broker. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ackset.h"

#define NSENT 4096

/* The basic.acks the set asked for, in order. */
static uint64_t sent_tag[NSENT];
static int	sent_multiple[NSENT];
static int	nsent;
static int	fail_at = -1; /* the cb fails on this call */

/* Record an ack the set would send. */
static int
ack_cb(uint64_t tag, int multiple, void *arg)
{
	(void)arg;
	if (nsent == fail_at)
		return (-1);
	ck_assert_int_lt(nsent, NSENT);
	sent_tag[nsent] = tag;
	sent_multiple[nsent] = multiple;
	nsent++;
	return (0);
}

/* Forget what earlier tests sent. */
static void
setup(void)
{
	nsent = 0;
	fail_at = -1;
}

/* Deliver tags from..to into a. */
static void
deliver(struct ackset *a, uint64_t from, uint64_t to)
{
	uint64_t t;

	for (t = from; t <= to; t++)
		ck_assert_int_eq(ackset_add(a, t), 0);
}

/*
 * The broker's view, replayed: which of tags 1..n the acks sent so far
 * settle (multiple settles every unsettled tag up to it). Fails if an ack
 * names a tag already settled (the broker would close the channel).
 */
static void
replay(int *settled, uint64_t n)
{
	uint64_t t;
	int	 i;

	for (i = 0; i < nsent; i++) {
		ck_assert_uint_le(sent_tag[i], n);
		ck_assert_msg(!settled[sent_tag[i]], "tag %llu acked twice",
		    (unsigned long long)sent_tag[i]);
		settled[sent_tag[i]] = 1;
		for (t = 1; sent_multiple[i] && t < sent_tag[i]; t++)
			settled[t] = 1;
	}
}

START_TEST(acked_run_at_head_is_one_multiple_ack)
{
	struct ackset a;

	ackset_init(&a);
	deliver(&a, 1, 64);
	for (uint64_t t = 64; t >= 1; t--)
		ck_assert_int_eq(ackset_ack(&a, t), 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	ck_assert_int_eq(nsent, 1);
	ck_assert_uint_eq(sent_tag[0], 64);
	ck_assert_int_eq(sent_multiple[0], 1);
	ck_assert_uint_eq(ackset_count(&a), 0);
	ck_assert_int_eq(ackset_pending(&a), 0);
	ackset_free(&a);
}
END_TEST

START_TEST(multiple_never_covers_a_tag_the_app_holds)
{
	struct ackset a;
	int	      settled[11] = { 0 };

	ackset_init(&a);
	deliver(&a, 1, 10);
	/* The app holds 3 and 7; acks the rest out of order. */
	ck_assert_int_eq(ackset_ack(&a, 10), 0);
	ck_assert_int_eq(ackset_ack(&a, 2), 0);
	ck_assert_int_eq(ackset_ack(&a, 5), 0);
	ck_assert_int_eq(ackset_ack(&a, 1), 0);
	ck_assert_int_eq(ackset_ack(&a, 4), 0);
	ck_assert_int_eq(ackset_ack(&a, 9), 0);
	ck_assert_int_eq(ackset_ack(&a, 6), 0);
	ck_assert_int_eq(ackset_ack(&a, 8), 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	replay(settled, 10);
	for (int t = 1; t <= 10; t++)
		ck_assert_int_eq(settled[t], t != 3 && t != 7);
	/* 1-2 as one multiple; the others behind 3 alone, in order. */
	ck_assert_int_eq(nsent, 7);
	ck_assert_uint_eq(sent_tag[0], 2);
	ck_assert_int_eq(sent_multiple[0], 1);
	ck_assert_uint_eq(sent_tag[1], 4);
	ck_assert_int_eq(sent_multiple[1], 0);
	ck_assert_uint_eq(sent_tag[6], 10);
	ck_assert_uint_eq(ackset_count(&a), 2);
	/* The held ones acked later: 3 alone is the head run now. */
	ck_assert_int_eq(ackset_ack(&a, 3), 0);
	ck_assert_int_eq(ackset_ack(&a, 7), 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	ck_assert_int_eq(nsent, 8);
	ck_assert_uint_eq(sent_tag[7], 7);
	ck_assert_int_eq(sent_multiple[7], 1);
	memset(settled, 0, sizeof settled);
	replay(settled, 10);
	ck_assert_uint_eq(ackset_count(&a), 0);
	ackset_free(&a);
}
END_TEST

START_TEST(single_acked_head_is_not_multiple)
{
	struct ackset a;

	ackset_init(&a);
	deliver(&a, 1, 3);
	ck_assert_int_eq(ackset_ack(&a, 1), 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	ck_assert_int_eq(nsent, 1);
	ck_assert_uint_eq(sent_tag[0], 1);
	ck_assert_int_eq(sent_multiple[0], 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	ck_assert_int_eq(nsent, 1); /* nothing acked: nothing sent */
	ackset_free(&a);
}
END_TEST

START_TEST(nacked_tag_forgotten_and_covered_by_no_ack)
{
	struct ackset a;
	int	      settled[6] = { 0 };

	ackset_init(&a);
	deliver(&a, 1, 5);
	ck_assert_int_eq(ackset_ack(&a, 1), 0);
	ck_assert_int_eq(ackset_ack(&a, 2), 0);
	ck_assert_int_eq(ackset_forget(&a, 3), 0); /* nacked, sent at once */
	settled[3] = 1;				   /* by the nack */
	ck_assert_int_eq(ackset_ack(&a, 4), 0);
	ck_assert_int_eq(ackset_ack(&a, 5), 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	/* With 3 gone, 1-5 is one run: a multiple ack of 5 settles only
	 * what is still unacked at the broker. */
	ck_assert_int_eq(nsent, 1);
	ck_assert_uint_eq(sent_tag[0], 5);
	ck_assert_int_eq(sent_multiple[0], 1);
	replay(settled, 5);
	for (int t = 1; t <= 5; t++)
		ck_assert_int_eq(settled[t], 1);
	ck_assert_uint_eq(ackset_count(&a), 0);
	ck_assert_int_eq(ackset_forget(&a, 3), -1);
	ackset_free(&a);
}
END_TEST

START_TEST(unknown_twice_acked_and_falling_tags_refused)
{
	struct ackset a;

	ackset_init(&a);
	ck_assert_int_eq(ackset_ack(&a, 1), -1); /* nothing delivered */
	ck_assert_int_eq(ackset_add(&a, 0), -1);
	deliver(&a, 5, 6);
	ck_assert_int_eq(ackset_add(&a, 6), -1); /* tags rise */
	ck_assert_int_eq(ackset_add(&a, 4), -1);
	ck_assert_int_eq(ackset_ack(&a, 4), -1);
	ck_assert_int_eq(ackset_ack(&a, 7), -1);
	ck_assert_int_eq(ackset_ack(&a, 5), 0);
	ck_assert_int_eq(ackset_ack(&a, 5), -1); /* acked already */
	ck_assert_int_eq(ackset_forget(&a, 5), -1);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	ck_assert_int_eq(ackset_ack(&a, 5), -1); /* sent already */
	ck_assert_uint_eq(ackset_count(&a), 1);
	ackset_free(&a);
}
END_TEST

START_TEST(clear_starts_a_new_channel)
{
	struct ackset a;

	ackset_init(&a);
	deliver(&a, 1, 100);
	ck_assert_int_eq(ackset_ack(&a, 50), 0);
	ackset_clear(&a);
	ck_assert_uint_eq(ackset_count(&a), 0);
	ck_assert_int_eq(ackset_pending(&a), 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	ck_assert_int_eq(nsent, 0);
	deliver(&a, 1, 2); /* tags start at 1 again */
	ackset_free(&a);
}
END_TEST

START_TEST(grows_past_two_windows_and_keeps_order)
{
	struct ackset a;
	static int    settled[1001];

	ackset_init(&a);
	deliver(&a, 1, 1000);
	/* Every even tag acked: each alone, 2 .. 1000. */
	for (uint64_t t = 2; t <= 1000; t += 2)
		ck_assert_int_eq(ackset_ack(&a, t), 0);
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), 0);
	ck_assert_int_eq(nsent, 500);
	for (int i = 1; i < nsent; i++)
		ck_assert_uint_gt(sent_tag[i], sent_tag[i - 1]);
	replay(settled, 1000);
	for (int t = 1; t <= 1000; t++)
		ck_assert_int_eq(settled[t], t % 2 == 0);
	ck_assert_uint_eq(ackset_count(&a), 500);
	ackset_free(&a);
}
END_TEST

START_TEST(failed_send_stops_and_forgets)
{
	struct ackset a;

	ackset_init(&a);
	deliver(&a, 1, 4);
	ck_assert_int_eq(ackset_ack(&a, 1), 0);
	ck_assert_int_eq(ackset_ack(&a, 3), 0);
	ck_assert_int_eq(ackset_ack(&a, 4), 0);
	fail_at = 1; /* the second ack fails: the connection is gone */
	ck_assert_int_eq(ackset_flush(&a, ack_cb, NULL), -1);
	ck_assert_int_eq(nsent, 1);
	ck_assert_uint_eq(ackset_count(&a), 1); /* 2, the app's */
	ck_assert_int_eq(ackset_pending(&a), 0);
	ackset_free(&a);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ackset");
	TCase	*tc = tcase_create("ackset");
	SRunner *sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, acked_run_at_head_is_one_multiple_ack);
	tcase_add_test(tc, multiple_never_covers_a_tag_the_app_holds);
	tcase_add_test(tc, single_acked_head_is_not_multiple);
	tcase_add_test(tc, nacked_tag_forgotten_and_covered_by_no_ack);
	tcase_add_test(tc, unknown_twice_acked_and_falling_tags_refused);
	tcase_add_test(tc, clear_starts_a_new_channel);
	tcase_add_test(tc, grows_past_two_windows_and_keeps_order);
	tcase_add_test(tc, failed_send_stops_and_forgets);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
