/* check_mailbox.c -- the cross-thread mailbox: order, bound, close, the
 * eventfd's readiness, and two threads exchanging items. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "mailbox.h"

#define EXCHANGED 100000

/* Is the mailbox's eventfd readable right now? */
static int
readable(struct mailbox *mb)
{
	struct pollfd pfd = { .fd = mailbox_fd(mb), .events = POLLIN };

	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN));
}

/* A new mailbox or a failed test. */
static struct mailbox *
new_mailbox(size_t bound)
{
	struct mailbox *mb;
	char	       *cause = NULL;

	mb = mailbox_new(bound, &cause);
	ck_assert_msg(mb != NULL, "mailbox_new: %s", cause);
	return (mb);
}

START_TEST(items_come_out_in_the_order_they_went_in)
{
	struct mailbox *mb = new_mailbox(1000);
	int		v[300];
	intptr_t	i;

	/* More than the first allocation, so the ring grows while full. */
	for (i = 0; i < 300; i++) {
		if (i == 50) { /* and wraps: take some first */
			ck_assert_ptr_eq(mailbox_take(mb), &v[0]);
			ck_assert_ptr_eq(mailbox_take(mb), &v[1]);
		}
		ck_assert_int_eq(mailbox_push(mb, &v[i]), 0);
	}
	for (i = 2; i < 300; i++)
		ck_assert_ptr_eq(mailbox_take(mb), &v[i]);
	ck_assert_ptr_null(mailbox_take(mb));
	mailbox_free(mb);
}
END_TEST

START_TEST(full_mailbox_refuses_with_enobufs)
{
	struct mailbox *mb = new_mailbox(3);
	int		a, b, c, d;

	ck_assert_int_eq(mailbox_push(mb, &a), 0);
	ck_assert_int_eq(mailbox_push(mb, &b), 0);
	ck_assert_int_eq(mailbox_push(mb, &c), 0);
	errno = 0;
	ck_assert_int_eq(mailbox_push(mb, &d), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	/* Room again once one is taken; the refused item was not kept. */
	ck_assert_ptr_eq(mailbox_take(mb), &a);
	ck_assert_int_eq(mailbox_push(mb, &d), 0);
	ck_assert_ptr_eq(mailbox_take(mb), &b);
	ck_assert_ptr_eq(mailbox_take(mb), &c);
	ck_assert_ptr_eq(mailbox_take(mb), &d);
	ck_assert_ptr_null(mailbox_take(mb));
	mailbox_free(mb);
}
END_TEST

START_TEST(eventfd_readable_while_items_wait)
{
	struct mailbox *mb = new_mailbox(10);
	int		a, b;

	ck_assert_int_eq(readable(mb), 0);
	ck_assert_int_eq(mailbox_push(mb, &a), 0);
	ck_assert_int_eq(readable(mb), 1);
	ck_assert_int_eq(mailbox_push(mb, &b), 0);
	ck_assert_ptr_eq(mailbox_take(mb), &a);
	ck_assert_int_eq(readable(mb), 1); /* b still waits */
	ck_assert_ptr_eq(mailbox_take(mb), &b);
	ck_assert_int_eq(readable(mb), 0); /* drained with the last */
	ck_assert_ptr_null(mailbox_take(mb));
	ck_assert_int_eq(readable(mb), 0);
	mailbox_free(mb);
}
END_TEST

START_TEST(closed_mailbox_refuses_and_gives_back_what_it_holds)
{
	struct mailbox *mb = new_mailbox(10);
	int		a, b;

	ck_assert_int_eq(mailbox_push(mb, &a), 0);
	mailbox_close(mb);
	errno = 0;
	ck_assert_int_eq(mailbox_push(mb, &b), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(mailbox_finished(mb), 0);
	ck_assert_ptr_eq(mailbox_take(mb), &a);
	/* The receiver must still wake up to see the end. */
	ck_assert_int_eq(readable(mb), 1);
	ck_assert_int_eq(mailbox_finished(mb), 1);
	mailbox_free(mb);
}
END_TEST

/* Push 1..EXCHANGED, retrying while the mailbox is full. */
static void *
producer(void *arg)
{
	struct mailbox *mb = arg;
	struct pollfd	pfd = { .fd = -1 };
	intptr_t	i;

	for (i = 1; i <= EXCHANGED; i++)
		while (mailbox_push(mb, (void *)i) == -1) {
			ck_assert_int_eq(errno, ENOBUFS);
			poll(&pfd, 0, 1);
		}
	mailbox_close(mb);
	return (NULL);
}

START_TEST(push_many_adds_all_in_order_or_none)
{
	struct mailbox *mb;
	char	       *cause = NULL;
	int		v[300], i;
	void	       *items[300];
	uint64_t	n;

	mb = mailbox_new(300, &cause);
	ck_assert_ptr_nonnull(mb);
	for (i = 0; i < 300; i++)
		items[i] = &v[i];
	/* Past the first 64 slots the ring grows while they go in. */
	ck_assert_int_eq(mailbox_push_many(mb, items, 200), 0);
	ck_assert(readable(mb));
	/* One wake-up for the lot. */
	ck_assert_int_eq(read(mailbox_fd(mb), &n, sizeof n), sizeof n);
	ck_assert_uint_eq(n, 1);
	/* 101 more do not fit: none of them goes in. */
	errno = 0;
	ck_assert_int_eq(mailbox_push_many(mb, items + 200, 101), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(mailbox_push_many(mb, items + 200, 100), 0);
	for (i = 0; i < 300; i++)
		ck_assert_ptr_eq(mailbox_take(mb), &v[i]);
	ck_assert_ptr_null(mailbox_take(mb));
	mailbox_close(mb);
	errno = 0;
	ck_assert_int_eq(mailbox_push_many(mb, items, 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	mailbox_free(mb);
}
END_TEST

START_TEST(two_threads_exchange_every_item_in_order)
{
	struct mailbox *mb = new_mailbox(16); /* small: it fills often */
	struct pollfd	pfd = { .fd = mailbox_fd(mb), .events = POLLIN };
	pthread_t	t;
	intptr_t	want = 1;
	void	       *item;

	ck_assert_int_eq(pthread_create(&t, NULL, producer, mb), 0);
	while (!mailbox_finished(mb)) {
		/* Sleep on the eventfd, as the loop does: it must wake us. */
		ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
		while ((item = mailbox_take(mb)) != NULL)
			ck_assert_int_eq((intptr_t)item, want++);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(want, EXCHANGED + 1);
	mailbox_free(mb);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("mailbox");
	TCase	*tc = tcase_create("mailbox");
	SRunner *sr;
	int	 failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, items_come_out_in_the_order_they_went_in);
	tcase_add_test(tc, full_mailbox_refuses_with_enobufs);
	tcase_add_test(tc, eventfd_readable_while_items_wait);
	tcase_add_test(tc, closed_mailbox_refuses_and_gives_back_what_it_holds);
	tcase_add_test(tc, push_many_adds_all_in_order_or_none);
	tcase_add_test(tc, two_threads_exchange_every_item_in_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
