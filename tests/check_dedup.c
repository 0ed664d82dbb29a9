/* check_dedup.c -- the acked-ids window: membership, the count and age
 * bounds, reloading after a restart, a torn or damaged tail cut off at
 * open, and the file staying bounded. Each test has its own directory. */
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedup.h"

#define NOW 1764806400ULL /* seconds */

static char tmpdir[64];
static char path[128];

/* A fresh directory for each test. */
static void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_dedup.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof path, "%s/svc.Event.dedup", tmpdir);
}

/* Remove what the tests left. */
static void
teardown(void)
{
	char tmp[160];

	unlink(path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	rmdir(tmpdir);
}

/* Open path; fail the test with the cause if it cannot. */
static struct dedup *
open_dedup(size_t max_ids, uint64_t max_age, uint64_t now)
{
	struct dedup *d;
	char	     *cause = NULL;

	d = dedup_open(path, max_ids, max_age, now, &cause);
	ck_assert_msg(d != NULL, "dedup_open: %s", cause ? cause : "?");
	return (d);
}

/* Add id; fail the test with the cause if it cannot. */
static void
add(struct dedup *d, const char *id, uint64_t now)
{
	char *cause = NULL;

	ck_assert_msg(dedup_add(d, id, now, &cause) == 0, "dedup_add %s: %s",
	    id, cause ? cause : "?");
}

/* The file's size in bytes. */
static off_t
file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (st.st_size);
}

START_TEST(dedup_acked_id_seen_other_not)
{
	struct dedup *d = open_dedup(100, 3600, NOW);

	add(d, "m-1", NOW);
	ck_assert_int_eq(dedup_seen(d, "m-1", NOW), 1);
	ck_assert_int_eq(dedup_seen(d, "m-2", NOW), 0);
	ck_assert_int_eq(dedup_seen(d, "m-", NOW), 0);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_records_written_at_flush_in_one_go)
{
	struct dedup *d = open_dedup(100, 3600, NOW);
	off_t	      empty = file_size();
	char	     *cause = NULL;

	add(d, "a", NOW);
	add(d, "b", NOW);
	/* Remembered at once, on disk at the flush (before the acks). */
	ck_assert_int_eq(dedup_seen(d, "a", NOW), 1);
	ck_assert_int_eq(file_size(), empty);
	ck_assert_int_eq(dedup_flush(d, &cause), 0);
	ck_assert_int_gt(file_size(), empty);
	ck_assert_int_eq(dedup_flush(d, &cause), 0); /* nothing more */
	/* Read by another instance while this one is open: a crash now
	 * loses nothing flushed. */
	{
		struct dedup *o = open_dedup(100, 3600, NOW);

		ck_assert_int_eq(dedup_seen(o, "a", NOW), 1);
		ck_assert_int_eq(dedup_seen(o, "b", NOW), 1);
		dedup_close(o);
	}
	add(d, "c", NOW);
	dedup_close(d); /* closing flushes too */
	d = open_dedup(100, 3600, NOW);
	ck_assert_int_eq(dedup_seen(d, "c", NOW), 1);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_ids_survive_reopen)
{
	struct dedup *d = open_dedup(100, 3600, NOW);

	add(d, "a", NOW);
	add(d, "b", NOW + 1);
	dedup_close(d);
	d = open_dedup(100, 3600, NOW + 2);
	ck_assert_int_eq(dedup_seen(d, "a", NOW + 2), 1);
	ck_assert_int_eq(dedup_seen(d, "b", NOW + 2), 1);
	ck_assert_int_eq(dedup_seen(d, "c", NOW + 2), 0);
	ck_assert_uint_eq(dedup_count(d), 2);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_count_window_forgets_oldest)
{
	struct dedup *d = open_dedup(3, 3600, NOW);

	add(d, "1", NOW);
	add(d, "2", NOW);
	add(d, "3", NOW);
	add(d, "4", NOW);
	ck_assert_int_eq(dedup_seen(d, "1", NOW), 0);
	ck_assert_int_eq(dedup_seen(d, "2", NOW), 1);
	ck_assert_int_eq(dedup_seen(d, "4", NOW), 1);
	ck_assert_uint_eq(dedup_count(d), 3);
	dedup_close(d);
	/* The file holds all four: the window applies on reload too. */
	d = open_dedup(3, 3600, NOW);
	ck_assert_int_eq(dedup_seen(d, "1", NOW), 0);
	ck_assert_int_eq(dedup_seen(d, "2", NOW), 1);
	ck_assert_uint_eq(dedup_count(d), 3);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_age_window_forgets_old)
{
	struct dedup *d = open_dedup(100, 60, NOW);

	add(d, "old", NOW);
	add(d, "new", NOW + 30);
	ck_assert_int_eq(dedup_seen(d, "old", NOW + 59), 1);
	ck_assert_int_eq(dedup_seen(d, "old", NOW + 60), 0);
	ck_assert_int_eq(dedup_seen(d, "new", NOW + 60), 1);
	dedup_close(d);
	d = open_dedup(100, 60, NOW + 61);
	ck_assert_int_eq(dedup_seen(d, "old", NOW + 61), 0);
	ck_assert_int_eq(dedup_seen(d, "new", NOW + 61), 1);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_torn_tail_cut_rest_kept)
{
	struct dedup *d = open_dedup(100, 3600, NOW);
	off_t	      whole;
	int	      fd;

	add(d, "kept-1", NOW);
	add(d, "kept-2", NOW);
	dedup_close(d);
	whole = file_size();
	/* A crash in the middle of the next append. */
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "\x05\x01\x02\x03", 4), 4);
	close(fd);
	d = open_dedup(100, 3600, NOW);
	ck_assert_int_eq(dedup_seen(d, "kept-1", NOW), 1);
	ck_assert_int_eq(dedup_seen(d, "kept-2", NOW), 1);
	ck_assert_int_eq(file_size(), whole);
	add(d, "after", NOW);
	dedup_close(d);
	d = open_dedup(100, 3600, NOW);
	ck_assert_int_eq(dedup_seen(d, "after", NOW), 1);
	ck_assert_uint_eq(dedup_count(d), 3);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_damaged_record_not_trusted)
{
	struct dedup *d = open_dedup(100, 3600, NOW);
	off_t	      size;
	int	      fd;

	add(d, "good", NOW);
	add(d, "flipped", NOW);
	dedup_close(d);
	size = file_size();
	/* Flip a byte inside the last id: its check no longer holds. */
	fd = open(path, O_WRONLY);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(pwrite(fd, "X", 1, size - 6), 1);
	close(fd);
	d = open_dedup(100, 3600, NOW);
	ck_assert_int_eq(dedup_seen(d, "good", NOW), 1);
	ck_assert_int_eq(dedup_seen(d, "flipped", NOW), 0);
	ck_assert_int_eq(dedup_seen(d, "flippeX", NOW), 0);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_file_stays_bounded)
{
	struct dedup *d = open_dedup(50, 3600, NOW);
	char	      id[32];
	int	      i;

	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "message-%06d", i);
		add(d, id, NOW);
		ck_assert_uint_le(dedup_records(d), 128);
	}
	/* magic + at most 128 records of 9 + 14 + 4 bytes */
	ck_assert_int_le(file_size(), 15 + 128 * 27);
	dedup_close(d);
	d = open_dedup(50, 3600, NOW);
	ck_assert_uint_eq(dedup_count(d), 50);
	ck_assert_int_eq(dedup_seen(d, "message-004999", NOW), 1);
	ck_assert_int_eq(dedup_seen(d, "message-004950", NOW), 1);
	ck_assert_int_eq(dedup_seen(d, "message-004949", NOW), 0);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_foreign_file_refused)
{
	struct dedup *d;
	char	     *cause = NULL;
	int	      fd;

	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "hello, world, not ours\n", 23), 23);
	close(fd);
	d = dedup_open(path, 10, 60, NOW, &cause);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(cause, "not a warren dedup file"));
	free(cause);
}
END_TEST

START_TEST(dedup_file_others_may_write_refused)
{
	struct dedup *d = open_dedup(10, 60, NOW);
	char	     *cause = NULL;
	char	      link[160];

	add(d, "x", NOW);
	dedup_close(d);
	ck_assert_int_eq(chmod(path, 0666), 0);
	ck_assert_ptr_null(dedup_open(path, 10, 60, NOW, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not trusted"));
	free(cause);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(chmod(tmpdir, 0777), 0);
	cause = NULL;
	ck_assert_ptr_null(dedup_open(path, 10, 60, NOW, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not trusted"));
	free(cause);
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);
	/* A symlink in its place is not followed. */
	snprintf(link, sizeof link, "%s/link.dedup", tmpdir);
	ck_assert_int_eq(symlink(path, link), 0);
	cause = NULL;
	ck_assert_ptr_null(dedup_open(link, 10, 60, NOW, &cause));
	free(cause);
	unlink(link);
	d = open_dedup(10, 60, NOW);
	ck_assert_int_eq(dedup_seen(d, "x", NOW), 1);
	dedup_close(d);
}
END_TEST

START_TEST(dedup_overlong_id_not_kept)
{
	struct dedup *d = open_dedup(10, 60, NOW);
	char	      id[300];

	memset(id, 'x', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	add(d, id, NOW);
	add(d, "", NOW);
	ck_assert_uint_eq(dedup_count(d), 0);
	ck_assert_uint_eq(dedup_records(d), 0);
	dedup_close(d);
}
END_TEST

/* The suite. */
static Suite *
dedup_suite(void)
{
	Suite *s = suite_create("dedup");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dedup_acked_id_seen_other_not);
	tcase_add_test(tc, dedup_ids_survive_reopen);
	tcase_add_test(tc, dedup_records_written_at_flush_in_one_go);
	tcase_add_test(tc, dedup_count_window_forgets_oldest);
	tcase_add_test(tc, dedup_age_window_forgets_old);
	tcase_add_test(tc, dedup_torn_tail_cut_rest_kept);
	tcase_add_test(tc, dedup_damaged_record_not_trusted);
	tcase_add_test(tc, dedup_file_stays_bounded);
	tcase_add_test(tc, dedup_foreign_file_refused);
	tcase_add_test(tc, dedup_file_others_may_write_refused);
	tcase_add_test(tc, dedup_overlong_id_not_kept);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(dedup_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
