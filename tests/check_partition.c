/* check_partition.c -- the hand-over choice of ordered partitions: a
 * warrend gives up a partition only when it is the active consumer of more
 * than its share, one at a time, without a broker. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "consumer-partition.h"

#define NOW 1000000
#define RECENT (NOW - 100)
#define STALE (NOW - CPART_ACTIVE_MS - 1)

static struct cpart  parts[8];
static struct cpart *v[8];

/* n partitions, each last delivered at the given times (0: never). */
static void
setup_parts(int n, const uint64_t *last)
{
	int i;

	memset(parts, 0, sizeof parts);
	for (i = 0; i < n; i++) {
		parts[i].index = i;
		parts[i].count = n;
		parts[i].last_ms = last[i];
		v[i] = &parts[i];
	}
}

START_TEST(all_held_alone_keeps_them)
{
	const uint64_t last[4] = { RECENT, RECENT, RECENT, RECENT };

	setup_parts(4, last);
	ck_assert_int_eq(cpart_pick_release(v, 4, 1, NOW), -1);
	ck_assert_int_eq(cpart_pick_release(v, 4, 0, NOW), -1);
}
END_TEST

START_TEST(more_than_the_share_hands_one_over)
{
	const uint64_t last[4] = { RECENT, RECENT, RECENT, RECENT };
	int	       pick;

	setup_parts(4, last);
	pick = cpart_pick_release(v, 4, 2, NOW);
	ck_assert_msg(pick >= 0 && pick < 4,
	    "expected a partition to hand over, got %d", pick);
	ck_assert_int_ge(cpart_pick_release(v, 4, 3, NOW), 0);
}
END_TEST

START_TEST(the_share_rounds_up)
{
	const uint64_t last[6] = { RECENT, RECENT, 0, 0, 0, 0 };
	const uint64_t last3[6] = { RECENT, RECENT, RECENT, 0, 0, 0 };

	/* 4 over 3 warrends: a share of 2 is not too many. */
	setup_parts(4, last);
	ck_assert_int_eq(cpart_pick_release(v, 4, 3, NOW), -1);
	/* 6 over 3: 2 each; a third is one too many. */
	setup_parts(6, last);
	ck_assert_int_eq(cpart_pick_release(v, 6, 3, NOW), -1);
	setup_parts(6, last3);
	ck_assert_int_ge(cpart_pick_release(v, 6, 3, NOW), 0);
}
END_TEST

START_TEST(only_recent_deliveries_count)
{
	const uint64_t last[4] = { RECENT, STALE, STALE, 0 };

	setup_parts(4, last);
	ck_assert_int_eq(cpart_pick_release(v, 4, 4, NOW), -1);
}
END_TEST

START_TEST(the_pick_is_one_we_hold)
{
	const uint64_t last[4] = { RECENT, 0, RECENT, STALE };
	int	       pick;

	setup_parts(4, last);
	pick = cpart_pick_release(v, 4, 4, NOW);
	ck_assert_msg(pick == 0 || pick == 2,
	    "expected partition 0 or 2 (the ones held), got %d", pick);
}
END_TEST

START_TEST(one_hand_over_at_a_time)
{
	const uint64_t last[4] = { RECENT, RECENT, RECENT, RECENT };

	setup_parts(4, last);
	parts[1].drain_since = NOW - 10;
	ck_assert_int_eq(cpart_pick_release(v, 4, 4, NOW), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("partition");
	TCase	*tc = tcase_create("partition");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, all_held_alone_keeps_them);
	tcase_add_test(tc, more_than_the_share_hands_one_over);
	tcase_add_test(tc, the_share_rounds_up);
	tcase_add_test(tc, only_recent_deliveries_count);
	tcase_add_test(tc, the_pick_is_one_we_hold);
	tcase_add_test(tc, one_hand_over_at_a_time);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
