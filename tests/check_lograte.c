/* check_lograte.c -- a repeated condition is logged once when it starts,
 * then as a count at most every LOGRATE_INTERVAL_MS, once when it ends. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "lograte.h"

/* 12,373 disk-full failures in 16 s make four lines, not 12,373. */
START_TEST(thousands_of_failures_make_a_line_every_interval)
{
	struct lograte lr = { 0 };
	uint64_t       now, count, counted = 0, total, ms;
	int	       lines = 0, firsts = 0, i;

	for (i = 0; i < 12373; i++) {
		now = 1000 + (uint64_t)i * 16000 / 12373;
		switch (lograte_hit(&lr, now, 1, &count)) {
		case LOGRATE_FIRST:
			firsts++;
			lines++;
			counted++;
			break;
		case LOGRATE_COUNT:
			lines++;
			counted += count;
			break;
		case LOGRATE_QUIET:
			break;
		}
	}
	ck_assert_int_eq(firsts, 1);
	ck_assert_int_le(lines, 1 + 16000 / LOGRATE_INTERVAL_MS);
	ck_assert_int_ge(lines, 16000 / LOGRATE_INTERVAL_MS);
	ck_assert_int_eq(lograte_end(&lr, 17000, &total, &ms), 1);
	ck_assert_uint_eq(total, 12373);
	ck_assert_uint_eq(ms, 16000);
	/* What the count lines missed, the end line has. */
	ck_assert_uint_le(counted, total);
}
END_TEST

/* Occurrences after the last count line are counted by a tick. */
START_TEST(tick_reports_what_waits_after_the_interval)
{
	struct lograte lr = { 0 };
	uint64_t       count = 0;

	ck_assert_int_eq(lograte_hit(&lr, 0, 1, &count), LOGRATE_FIRST);
	ck_assert_int_eq(lograte_hit(&lr, 10, 5, &count), LOGRATE_QUIET);
	ck_assert_int_eq(lograte_tick(&lr, LOGRATE_INTERVAL_MS - 1, &count),
	    LOGRATE_QUIET);
	ck_assert_int_eq(lograte_tick(&lr, LOGRATE_INTERVAL_MS, &count),
	    LOGRATE_COUNT);
	ck_assert_uint_eq(count, 5);
	/* Nothing new: nothing to say. */
	ck_assert_int_eq(lograte_tick(&lr, 3 * LOGRATE_INTERVAL_MS, &count),
	    LOGRATE_QUIET);
}
END_TEST

/* The end is logged only when the condition was on; then it starts over. */
START_TEST(end_only_once_and_a_new_episode_starts_in_full)
{
	struct lograte lr = { 0 };
	uint64_t       count, total, ms;

	ck_assert_int_eq(lograte_end(&lr, 5, &total, &ms), 0);
	ck_assert_int_eq(lograte_hit(&lr, 100, 3, &count), LOGRATE_FIRST);
	ck_assert_int_eq(lograte_end(&lr, 400, &total, &ms), 1);
	ck_assert_uint_eq(total, 3);
	ck_assert_uint_eq(ms, 300);
	ck_assert_int_eq(lograte_end(&lr, 500, &total, &ms), 0);
	ck_assert_int_eq(lograte_hit(&lr, 600, 1, &count), LOGRATE_FIRST);
}
END_TEST

/* The suite. */
static Suite *
lograte_suite(void)
{
	Suite *s = suite_create("lograte");
	TCase *tc = tcase_create("episodes");

	tcase_add_test(tc, thousands_of_failures_make_a_line_every_interval);
	tcase_add_test(tc, tick_reports_what_waits_after_the_interval);
	tcase_add_test(tc, end_only_once_and_a_new_episode_starts_in_full);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; fail if any test did. */
int
main(void)
{
	SRunner *sr;
	int	 failed;

	sr = srunner_create(lograte_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
