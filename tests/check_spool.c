/* check_spool.c -- the disk spool: record format, segments, release,
 * rewind, replay after a restart, damage found at start-up, the size bound
 * and the directory lock. Every test works in its own mkdtemp directory. */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "spool.h"

#define TS0 1714564800123LL /* 2024-05-01T12:00:00.123Z */

static char		 tmpdir[64];
static struct spool_data dummy; /* for spool_next when NULL is expected */

/* A fresh directory for each test. */
static void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Remove the directory and whatever the spool left in it. */
static void
teardown(void)
{
	DIR	      *d;
	struct dirent *e;
	char	       path[512];

	if ((d = opendir(tmpdir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}

/* Open the spool in tmpdir; fail the test with the cause if it cannot. */
static struct spool *
open_spool(long long max_bytes, size_t segment_max)
{
	struct spool *sp;
	char	     *cause = NULL;

	sp = spool_open(tmpdir, max_bytes, 1, segment_max, &cause);
	ck_assert_msg(sp != NULL, "spool_open %s: %s", tmpdir,
	    cause ? cause : "(no cause)");
	return (sp);
}

/* The message_id of event n. */
static void
mid_of(int n, char *out, size_t len)
{
	snprintf(out, len, "msg-%06d", n);
}

/* The payload of event n: "msg-00000n {"pad":"xx..."}" with pad bytes,
 * so that every record with the same pad has the same size. The spool
 * never looks inside; the tests find n in it. Returns its length. */
static size_t
payload_n(int n, int pad, char **out)
{
	char *p;
	int   len;

	p = malloc((size_t)pad + 64);
	ck_assert_ptr_nonnull(p);
	len = snprintf(p, 64, "msg-%06d {\"pad\":\"", n);
	memset(p + len, 'x', (size_t)pad);
	len += pad;
	memcpy(p + len, "\"}", 2);
	*out = p;
	return ((size_t)len + 2);
}

/* Append event n (time TS0 + n); return spool_append's result. */
static int
append_n(struct spool *sp, int n, int pad)
{
	struct spool_data d;
	char		 *p;
	int		  rv;

	d.len = payload_n(n, pad, &p);
	d.bytes = p;
	d.time_ms = TS0 + n;
	rv = spool_append(sp, &d);
	free(p);
	return (rv);
}

/* The event number of a record read back (its payload starts msg-N). */
static int
event_of(const struct spool_data *d)
{
	ck_assert_uint_ge(d->len, 11);
	ck_assert(memcmp(d->bytes, "msg-", 4) == 0);
	return (atoi((const char *)d->bytes + 4));
}

/* Append events first..last, each must be accepted; then sync. */
static void
append_range(struct spool *sp, int first, int last, int pad)
{
	int n, rv;

	for (n = first; n <= last; n++) {
		rv = append_n(sp, n, pad);
		ck_assert_msg(rv == 0,
		    "append of event %d: expected 0, got %d "
		    "(%s)",
		    n, rv, rv == -2 ? strerror(errno) : "full");
	}
	ck_assert_int_eq(spool_sync(sp), 0);
}

/* The next record must be event n, whole. */
static struct spool_rec *
expect_next(struct spool *sp, int n)
{
	struct spool_data d;
	struct spool_rec *r = spool_next(sp, &d);
	char		  mid[32];

	mid_of(n, mid, sizeof mid);
	ck_assert_msg(r != NULL, "spool_next: expected event %s, got NULL",
	    mid);
	ck_assert_msg(d.len >= strlen(mid) &&
		memcmp(d.bytes, mid, strlen(mid)) == 0,
	    "spool_next: expected event %s, got %.*s", mid,
	    (int)(d.len < 10 ? d.len : 10), (const char *)d.bytes);
	ck_assert_msg(d.time_ms == TS0 + n,
	    "event %s: expected time %lld, got %lld", mid, (long long)(TS0 + n),
	    (long long)d.time_ms);
	ck_assert_msg(((const char *)d.bytes)[d.len - 1] == '}',
	    "event %s: "
	    "the payload of %zu bytes does not end with its last byte",
	    mid, d.len);
	return (r);
}

/* Paths of the segment files in tmpdir, sorted; returns how many. */
static int
segments(char names[][300], int max)
{
	struct dirent **list;
	int		i, n, k = 0;

	n = scandir(tmpdir, &list, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	for (i = 0; i < n; i++) {
		size_t l = strlen(list[i]->d_name);

		if (l > 6 && strcmp(list[i]->d_name + l - 6, ".spool") == 0) {
			if (k < max)
				snprintf(names[k], 300, "%s/%s", tmpdir,
				    list[i]->d_name);
			k++;
		}
		free(list[i]);
	}
	free(list);
	return (k);
}

/* The size of a file. */
static off_t
file_size(const char *path)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path,
	    strerror(errno));
	return (st.st_size);
}

/* Read a whole file into a new buffer. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *p;
	FILE	      *f;
	off_t	       sz = file_size(path);

	p = malloc((size_t)sz + 1);
	ck_assert_ptr_nonnull(p);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fread(p, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*len = (size_t)sz;
	return (p);
}

/* Overwrite one byte of a file. */
static void
poke(const char *path, off_t off, unsigned char v)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(pwrite(fd, &v, 1, off), 1);
	close(fd);
}

/* Little-endian load. */
static uint64_t
le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return (v);
}

/* The byte size of event n's whole record as append_n writes it. */
static size_t
record_size(int n, int pad)
{
	char  *p;
	size_t s;

	s = SPOOL_HEADER + payload_n(n, pad, &p);
	free(p);
	return (s);
}

START_TEST(crc32c_check_value)
{
	ck_assert_uint_eq(spool_crc32c("123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(spool_crc32c("", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros. */
	{
		unsigned char z[32];

		memset(z, 0, sizeof z);
		ck_assert_uint_eq(spool_crc32c(z, sizeof z), 0x8a9136aau);
		memset(z, 0xff, sizeof z);
		ck_assert_uint_eq(spool_crc32c(z, sizeof z), 0x62a8ab43u);
	}
}
END_TEST

START_TEST(record_round_trip_byte_for_byte)
{
	static const char  body[] = "{\"s\":\"caf\xc3\xa9\",\"n\":"
				    "9007199254740993}\0tail\xff";
	size_t		   blen = sizeof body - 1;
	struct spool	  *sp = open_spool(1 << 20, 0);
	struct spool_data  d, r;
	struct spool_rec  *rec;
	struct spool_stats st;
	char		   segs[4][300];
	unsigned char	  *f, crcin[12 + sizeof body];
	size_t		   flen;

	d.bytes = body;
	d.len = blen;
	d.time_ms = TS0;
	ck_assert_int_eq(spool_append(sp, &d), 0);
	ck_assert_int_eq(spool_sync(sp), 0);
	ck_assert_uint_eq(spool_unread(sp), 1);
	ck_assert_uint_eq(spool_pending(sp), 1);

	rec = spool_next(sp, &r);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(r.time_ms, TS0);
	ck_assert_uint_eq(r.len, blen);
	ck_assert_msg(memcmp(r.bytes, body, blen) == 0,
	    "payload differs after the round trip");
	ck_assert_ptr_null(spool_next(sp, &r));
	ck_assert_uint_eq(spool_unread(sp), 0);
	ck_assert_uint_eq(spool_pending(sp), 1);

	/* The bytes on disk are the documented format. */
	ck_assert_int_eq(segments(segs, 4), 1);
	f = slurp(segs[0], &flen);
	ck_assert_uint_eq(flen, SPOOL_HEADER + blen);
	ck_assert_uint_eq(le(f, 4), SPOOL_MAGIC);
	ck_assert_uint_eq(le(f + 4, 4), blen);
	ck_assert_uint_eq(le(f + 8, 8), (uint64_t)TS0);
	memcpy(crcin, f + 4, 12);
	memcpy(crcin + 12, body, blen);
	ck_assert_uint_eq(le(f + 16, 4), spool_crc32c(crcin, 12 + blen));
	ck_assert(memcmp(f + SPOOL_HEADER, body, blen) == 0);
	free(f);

	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.records, 1);
	ck_assert_uint_eq(st.bytes, SPOOL_HEADER + blen);
	ck_assert_uint_eq(st.appended, 1);
	ck_assert_int_eq(st.oldest_ms, TS0);

	spool_done(sp, rec);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.records, 0);
	ck_assert_uint_eq(st.drained, 1);
	ck_assert_int_eq(st.oldest_ms, 0);
	spool_close(sp);
}
END_TEST

START_TEST(empty_payload_round_trip)
{
	struct spool	 *sp = open_spool(1 << 20, 0);
	struct spool_data d = { "", 0, -5 }, r;

	/* Before 1970: the time is a signed 64-bit value. */
	ck_assert_int_eq(spool_append(sp, &d), 0);
	ck_assert_ptr_nonnull(spool_next(sp, &r));
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(r.time_ms, -5);
	spool_close(sp);
}
END_TEST

START_TEST(segments_rotate_and_read_back_in_order)
{
	struct spool *sp = open_spool(1 << 20, 1024);
	char	      segs[64][300];
	int	      n, nseg, i;
	off_t	      total = 0;

	append_range(sp, 1, 100, 60);
	nseg = segments(segs, 64);
	ck_assert_msg(nseg >= 5,
	    "expected several segment files for 100 "
	    "records of ~%zu bytes with segment_max 1024, got %d",
	    record_size(1, 60), nseg);
	for (i = 0; i < nseg && i < 64; i++) {
		ck_assert_msg(file_size(segs[i]) <= 1024,
		    "%s is %lld bytes, above segment_max 1024", segs[i],
		    (long long)file_size(segs[i]));
		total += file_size(segs[i]);
	}
	ck_assert_int_eq(total, 100 * (off_t)record_size(1, 60));
	for (n = 1; n <= 100; n++)
		expect_next(sp, n);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);
}
END_TEST

START_TEST(oversized_record_gets_its_own_segment)
{
	struct spool *sp = open_spool(1 << 20, 256);
	char	      segs[8][300];

	append_range(sp, 1, 1, 10);
	append_range(sp, 2, 2, 2000); /* bigger than segment_max */
	append_range(sp, 3, 3, 10);
	ck_assert_int_eq(segments(segs, 8), 3);
	spool_done(sp, expect_next(sp, 1));
	spool_done(sp, expect_next(sp, 2));
	spool_done(sp, expect_next(sp, 3));
	ck_assert_ptr_null(spool_next(sp, &dummy));
	ck_assert_int_eq(segments(segs, 8), 0);
	spool_close(sp);
}
END_TEST

START_TEST(done_releases_whole_segments_in_order)
{
	struct spool	  *sp = open_spool(1 << 20, 1024);
	struct spool_rec  *j[101];
	struct spool_stats st;
	char		   segs[64][300];
	int		   n, nseg, per, left;

	append_range(sp, 1, 100, 60);
	nseg = segments(segs, 64);
	per = (int)(1024 / record_size(1, 60));
	for (n = 1; n <= 100; n++)
		j[n] = expect_next(sp, n);

	/* Out of order: nothing is released until every earlier one is. */
	spool_done(sp, j[2]);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.records, 100);
	ck_assert_uint_eq(st.drained, 0);
	spool_done(sp, j[1]);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.records, 98);
	ck_assert_uint_eq(st.drained, 2);
	ck_assert_int_eq(segments(segs, 64), nseg);
	ck_assert_int_eq(st.oldest_ms, TS0 + 3);

	/* The rest of the first segment: its file goes. */
	for (n = 3; n <= per; n++)
		spool_done(sp, j[n]);
	ck_assert_int_eq(segments(segs, 64), nseg - 1);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.bytes, (uint64_t)(100 - per) * record_size(1, 60));

	/* Half of the next segment: its file stays. */
	spool_done(sp, j[per + 1]);
	ck_assert_int_eq(segments(segs, 64), nseg - 1);

	for (n = per + 2; n <= 100; n++)
		spool_done(sp, j[n]);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.records, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.drained, 100);
	ck_assert_int_eq(st.oldest_ms, 0);
	left = segments(segs, 64);
	ck_assert_msg(left == 0,
	    "expected no segment file once every record "
	    "is confirmed, got %d (first %s)",
	    left, left ? segs[0] : "");

	/* And the spool keeps working afterwards. */
	append_range(sp, 200, 202, 10);
	spool_done(sp, expect_next(sp, 200));
	spool_done(sp, expect_next(sp, 201));
	spool_done(sp, expect_next(sp, 202));
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);
}
END_TEST

START_TEST(rewind_rereads_unconfirmed)
{
	struct spool	 *sp = open_spool(1 << 20, 1024);
	struct spool_rec *a, *b;
	int		  n;

	append_range(sp, 1, 40, 60);
	a = expect_next(sp, 1);
	b = expect_next(sp, 2);
	for (n = 3; n <= 30; n++)
		expect_next(sp, n);
	spool_done(sp, a);
	spool_done(sp, b);
	spool_rewind(sp);
	ck_assert_uint_eq(spool_unread(sp), 38);
	ck_assert_uint_eq(spool_pending(sp), 38);
	for (n = 3; n <= 40; n++)
		expect_next(sp, n);
	ck_assert_ptr_null(spool_next(sp, &dummy));

	/* Appends after a rewind come after the rest. */
	append_range(sp, 41, 42, 60);
	spool_rewind(sp);
	for (n = 3; n <= 42; n++)
		expect_next(sp, n);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);
}
END_TEST

START_TEST(rewind_after_whole_segments_released)
{
	struct spool *sp = open_spool(1 << 20, 1024);
	int	      n, per = (int)(1024 / record_size(1, 60));

	append_range(sp, 1, 60, 60);
	/* Confirm the first segment and a bit more. */
	for (n = 1; n <= per + 1; n++)
		spool_done(sp, expect_next(sp, n));
	for (; n <= 50; n++)
		expect_next(sp, n);
	spool_rewind(sp);
	for (n = per + 2; n <= 60; n++)
		expect_next(sp, n);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);
}
END_TEST

START_TEST(reopen_replays_unconfirmed)
{
	struct spool	  *sp = open_spool(1 << 20, 1024);
	struct spool_stats st;
	struct spool_data  d;
	int		   n, per = (int)(1024 / record_size(1, 60));
	int		   first_seen, want;

	append_range(sp, 1, 50, 60);
	/* The first segment and two more records confirmed, some read. */
	for (n = 1; n <= per + 2; n++)
		spool_done(sp, expect_next(sp, n));
	for (; n <= 40; n++)
		expect_next(sp, n);
	spool_close(sp);

	sp = open_spool(1 << 20, 1024);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.corrupt, 0);
	ck_assert_uint_eq(st.torn, 0);
	/* At least once: records confirmed in a segment still on disk may
	 * come again, but the released segment does not, and every
	 * unconfirmed record does, in order. */
	ck_assert_uint_ge(spool_pending(sp), 50 - per - 2);
	ck_assert_uint_le(spool_pending(sp), 50 - per);
	ck_assert_ptr_nonnull(spool_next(sp, &d));
	first_seen = event_of(&d);
	ck_assert_int_eq(st.oldest_ms, TS0 + first_seen);
	ck_assert_msg(first_seen == per + 1 || first_seen == per + 3,
	    "after reopening, the first record is event %d: expected event %d "
	    "(the oldest unconfirmed) or %d (the first of its segment)",
	    first_seen, per + 3, per + 1);
	for (want = first_seen + 1; want <= 50; want++)
		expect_next(sp, want);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);

	/* Appends after reopening go after the old records. */
	sp = open_spool(1 << 20, 1024);
	append_range(sp, 51, 52, 60);
	ck_assert_ptr_nonnull(spool_next(sp, &d));
	for (want = event_of(&d) + 1; want <= 52; want++)
		expect_next(sp, want);
	spool_close(sp);
}
END_TEST

START_TEST(fully_drained_spool_reopens_empty)
{
	struct spool *sp = open_spool(1 << 20, 1024);
	char	      segs[8][300];
	int	      n;

	append_range(sp, 1, 5, 10);
	for (n = 1; n <= 5; n++)
		spool_done(sp, expect_next(sp, n));
	spool_close(sp);
	ck_assert_int_eq(segments(segs, 8), 0);
	sp = open_spool(1 << 20, 1024);
	ck_assert_uint_eq(spool_pending(sp), 0);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);
}
END_TEST

START_TEST(torn_tail_cut_at_open_and_counted)
{
	struct spool	  *sp = open_spool(1 << 20, 0);
	struct spool_stats st;
	char		   segs[4][300];
	size_t		   rs = record_size(1, 40);
	int		   fd;

	append_range(sp, 1, 3, 40);
	spool_close(sp);
	ck_assert_int_eq(segments(segs, 4), 1);
	/* The third record was being written when the power went. */
	ck_assert_int_eq(truncate(segs[0], (off_t)(3 * rs - 7)), 0);

	sp = open_spool(1 << 20, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.torn, 1);
	ck_assert_uint_eq(st.corrupt, 0);
	ck_assert_uint_eq(st.records, 2);
	ck_assert_uint_eq(st.bytes, 2 * rs);
	ck_assert_int_eq(file_size(segs[0]), (off_t)(2 * rs));
	expect_next(sp, 1);
	expect_next(sp, 2);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	/* New appends are read after them, intact. */
	append_range(sp, 4, 5, 40);
	expect_next(sp, 4);
	expect_next(sp, 5);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);

	/* A torn header alone (a few bytes of a record) is cut too. */
	sp = open_spool(1 << 20, 0);
	spool_close(sp);
	ck_assert_int_ge(segments(segs, 4), 1);
	fd = open(segs[segments(segs, 4) - 1], O_WRONLY | O_APPEND);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "WNWR\x10\x00", 6), 6);
	close(fd);
	sp = open_spool(1 << 20, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.torn, 1);
	ck_assert_uint_eq(st.corrupt, 0);
	ck_assert_uint_eq(st.records, 4);
	spool_close(sp);
}
END_TEST

START_TEST(corrupt_middle_record_skipped_and_counted)
{
	struct spool	  *sp = open_spool(1 << 20, 0);
	struct spool_stats st;
	char		   segs[4][300];
	size_t		   rs = record_size(1, 40);
	struct spool_rec  *a, *c;

	append_range(sp, 1, 3, 40);
	spool_close(sp);
	ck_assert_int_eq(segments(segs, 4), 1);
	/* A bit flips in the second record's body. */
	poke(segs[0], (off_t)(rs + rs - 5), 'Y');

	sp = open_spool(1 << 20, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.corrupt, 1);
	ck_assert_uint_eq(st.torn, 0);
	ck_assert_uint_eq(st.records, 2);
	a = expect_next(sp, 1);
	c = expect_next(sp, 3);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	/* Confirming the rest releases the damaged bytes too. */
	spool_done(sp, a);
	spool_done(sp, c);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.records, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_int_eq(segments(segs, 4), 0);
	spool_close(sp);
}
END_TEST

START_TEST(oldest_age_skips_damaged_records)
{
	struct spool	  *sp = open_spool(1 << 20, 0);
	struct spool_stats st;
	char		   segs[4][300];
	size_t		   rs = record_size(1, 40);

	append_range(sp, 1, 4, 40);
	spool_close(sp);
	ck_assert_int_eq(segments(segs, 4), 1);
	/* The first and the third record are damaged. */
	poke(segs[0], (off_t)(rs - 5), 'Y');
	poke(segs[0], (off_t)(3 * rs - 5), 'Y');
	sp = open_spool(1 << 20, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.corrupt, 2);
	ck_assert_uint_eq(st.records, 2);
	ck_assert_msg(st.oldest_ms == TS0 + 2,
	    "oldest_ms with records 2 and 4 "
	    "left: expected %lld (record 2), got %lld",
	    (long long)(TS0 + 2), (long long)st.oldest_ms);
	/* Record 2 confirmed before 4 was handed out: 4 is the oldest. */
	spool_done(sp, expect_next(sp, 2));
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.records, 1);
	ck_assert_msg(st.oldest_ms == TS0 + 4,
	    "oldest_ms with record 4 left: "
	    "expected %lld, got %lld",
	    (long long)(TS0 + 4), (long long)st.oldest_ms);
	spool_close(sp);
}
END_TEST

START_TEST(corrupt_magic_and_length_skipped)
{
	struct spool	  *sp = open_spool(1 << 20, 0);
	struct spool_stats st;
	char		   segs[4][300];
	size_t		   rs = record_size(1, 40);
	int		   n;

	append_range(sp, 1, 6, 40);
	spool_close(sp);
	ck_assert_int_eq(segments(segs, 4), 1);
	poke(segs[0], (off_t)(1 * rs), 0x00);	  /* 2: magic */
	poke(segs[0], (off_t)(3 * rs + 6), 0x7f); /* 4: length */
	sp = open_spool(1 << 20, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.corrupt, 2);
	ck_assert_uint_eq(st.torn, 0);
	ck_assert_uint_eq(st.records, 4);
	for (n = 1; n <= 6; n++)
		if (n != 2 && n != 4)
			expect_next(sp, n);
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);
}
END_TEST

START_TEST(damage_in_an_older_segment_is_not_torn)
{
	struct spool	  *sp = open_spool(1 << 20, 1024);
	struct spool_stats st;
	char		   segs[64][300];
	int		   nseg, n, per = (int)(1024 / record_size(1, 60));
	size_t		   rs = record_size(1, 60);

	append_range(sp, 1, 3 * per, 60);
	spool_close(sp);
	nseg = segments(segs, 64);
	ck_assert_int_eq(nseg, 3);
	/* The last record of the first segment is damaged: it is followed by
	 * another segment, so it was written whole once and it is counted as
	 * corrupt, not cut off as a torn tail. */
	poke(segs[0], (off_t)(per * rs - 3), 'Z');
	sp = open_spool(1 << 20, 1024);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.corrupt, 1);
	ck_assert_uint_eq(st.torn, 0);
	ck_assert_uint_eq(st.records, (uint64_t)(3 * per - 1));
	for (n = 1; n <= 3 * per; n++)
		if (n != per)
			spool_done(sp, expect_next(sp, n));
	ck_assert_ptr_null(spool_next(sp, &dummy));
	ck_assert_int_eq(segments(segs, 64), 0);
	spool_close(sp);
}
END_TEST

START_TEST(max_bytes_refuses_with_minus_one)
{
	struct spool	  *sp;
	struct spool_stats st;
	size_t		   rs = record_size(1, 60);
	long long	   max = (long long)(11 * rs - 30);
	int		   n;

	sp = open_spool(max, 0);
	for (n = 1; n <= 10; n++)
		ck_assert_int_eq(append_n(sp, n, 60), 0);
	ck_assert_int_eq(append_n(sp, 11, 60), -1);
	ck_assert_int_eq(append_n(sp, 12, 60), -1);
	/* A smaller record that still fits is taken. */
	ck_assert_int_eq(append_n(sp, 13, 0), 0);
	ck_assert_int_eq(spool_sync(sp), 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.full, 2);
	ck_assert_uint_eq(st.appended, 11);
	ck_assert_uint_le(st.bytes, (uint64_t)max);
	for (n = 1; n <= 10; n++)
		spool_done(sp, expect_next(sp, n));
	spool_done(sp, expect_next(sp, 13));
	ck_assert_ptr_null(spool_next(sp, &dummy));
	/* Drained: there is room again. */
	ck_assert_int_eq(append_n(sp, 14, 60), 0);
	spool_close(sp);
}
END_TEST

START_TEST(second_open_of_same_dir_fails)
{
	struct spool *sp = open_spool(1 << 20, 0), *sp2;
	char	     *cause = NULL;

	append_range(sp, 1, 2, 10);
	sp2 = spool_open(tmpdir, 1 << 20, 1, 0, &cause);
	ck_assert_msg(sp2 == NULL, "a second spool_open of %s succeeded",
	    tmpdir);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, tmpdir) != NULL &&
		strstr(cause, "in use") != NULL,
	    "cause should name %s and say it is in use: %s", tmpdir, cause);
	free(cause);
	/* The first is unharmed, and once it is closed the dir is free. */
	expect_next(sp, 1);
	expect_next(sp, 2);
	spool_close(sp);
	sp = open_spool(1 << 20, 0);
	ck_assert_uint_eq(spool_pending(sp), 2);
	spool_close(sp);
}
END_TEST

START_TEST(missing_dir_fails_naming_it)
{
	struct spool *sp;
	char	     *cause = NULL, path[128];

	snprintf(path, sizeof path, "%s/does-not-exist", tmpdir);
	sp = spool_open(path, 1 << 20, 1, 0, &cause);
	ck_assert_ptr_null(sp);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, path) != NULL, "cause should name %s: %s",
	    path, cause);
	free(cause);
}
END_TEST

START_TEST(foreign_files_in_dir_are_ignored)
{
	struct spool *sp;
	FILE	     *f;
	char	      path[128];

	snprintf(path, sizeof path, "%s/README", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("not a segment\n", f);
	fclose(f);
	sp = open_spool(1 << 20, 0);
	ck_assert_uint_eq(spool_pending(sp), 0);
	append_range(sp, 1, 1, 10);
	spool_close(sp);
	sp = open_spool(1 << 20, 0);
	expect_next(sp, 1);
	spool_close(sp);
	ck_assert_int_eq(file_size(path), 14);
}
END_TEST

/* spool_open of tmpdir must fail with a cause naming every word. */
static void
expect_refused(const char *dir, const char *w1, const char *w2)
{
	struct spool *sp;
	char	     *cause = NULL;

	sp = spool_open(dir, 1 << 20, 1, 0, &cause);
	ck_assert_msg(sp == NULL,
	    "spool_open of %s succeeded; expected it "
	    "refused (%s, %s)",
	    dir, w1, w2);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, w1) != NULL &&
		(w2 == NULL || strstr(cause, w2) != NULL),
	    "cause should say %s and %s: %s", w1, w2 ? w2 : "", cause);
	free(cause);
}

/* Write a 0600 file that must stay as it is. */
static void
make_victim(const char *path)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("secret, mode 0600\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

START_TEST(record_mac_is_hmac_under_spool_key)
{
	struct spool  *sp = open_spool(1 << 20, 0);
	char	       segs[4][300], path[300];
	unsigned char *f, *k, mac[SHA256_LEN], *in;
	size_t	       flen, klen;
	struct stat    st;

	append_range(sp, 1, 1, 10);
	spool_close(sp);
	snprintf(path, sizeof path, "%s/spool.key", tmpdir);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600,
	    "spool.key: expected a regular file of mode 0600, got mode %o",
	    (unsigned)st.st_mode);
	k = slurp(path, &klen);
	ck_assert_uint_eq(klen, 32);
	ck_assert_int_eq(segments(segs, 4), 1);
	f = slurp(segs[0], &flen);
	in = malloc(flen);
	ck_assert_ptr_nonnull(in);
	memcpy(in, f, 20);
	memcpy(in + 20, f + SPOOL_HEADER, flen - SPOOL_HEADER);
	hmac_sha256(k, klen, in, 20 + flen - SPOOL_HEADER, mac);
	ck_assert_msg(memcmp(f + 20, mac, SHA256_LEN) == 0,
	    "bytes 20..51 of "
	    "a record are not the HMAC-SHA256 of its header and payload");
	/* The same key serves the next start. */
	sp = open_spool(1 << 20, 0);
	expect_next(sp, 1);
	spool_close(sp);
	free(in);
	free(f);
	free(k);
}
END_TEST

START_TEST(forged_record_skipped_counted_and_not_cut)
{
	struct spool	  *sp = open_spool(1 << 20, 0);
	struct spool_stats st;
	char		   segs[4][300];
	size_t		   rs = record_size(1, 40), flen;
	unsigned char	  *f, *r, crcin[512];
	size_t		   plen = rs - SPOOL_HEADER;
	uint32_t	   crc;
	int		   i, fd;

	append_range(sp, 1, 3, 40);
	spool_close(sp);
	ck_assert_int_eq(segments(segs, 4), 1);
	f = slurp(segs[0], &flen);
	r = f + rs;
	/* Record 2 and a copy of it at the end get another body with a right
	 * CRC: intact, but not written by warrend. */
	r[SPOOL_HEADER + 5] = '6';
	memcpy(crcin, r + 4, 12);
	memcpy(crcin + 12, r + SPOOL_HEADER, plen);
	crc = spool_crc32c(crcin, 12 + plen);
	for (i = 0; i < 4; i++)
		r[16 + i] = (unsigned char)(crc >> (8 * i));
	fd = open(segs[0], O_WRONLY | O_TRUNC);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, f, flen), (ssize_t)flen);
	ck_assert_int_eq(write(fd, f + rs, rs), (ssize_t)rs);
	close(fd);
	free(f);

	sp = open_spool(1 << 20, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.forged, 2);
	ck_assert_uint_eq(st.corrupt, 0);
	ck_assert_uint_eq(st.torn, 0);
	ck_assert_uint_eq(st.records, 2);
	ck_assert_int_eq(file_size(segs[0]), (off_t)(4 * rs));
	spool_done(sp, expect_next(sp, 1));
	spool_done(sp, expect_next(sp, 3));
	ck_assert_ptr_null(spool_next(sp, &dummy));
	spool_close(sp);
}
END_TEST

START_TEST(symlinked_segment_refused_and_target_untouched)
{
	char victim[300], lnk[300];

	snprintf(victim, sizeof victim, "%s/victim", tmpdir);
	snprintf(lnk, sizeof lnk, "%s/0000000000000001.spool", tmpdir);
	make_victim(victim);
	ck_assert_int_eq(symlink(victim, lnk), 0);
	expect_refused(tmpdir, "0000000000000001.spool", "symbolic link");
	ck_assert_int_eq(file_size(victim), 18);
	/* A hard link is no better. */
	ck_assert_int_eq(unlink(lnk), 0);
	ck_assert_int_eq(link(victim, lnk), 0);
	expect_refused(tmpdir, "0000000000000001.spool", "one link");
	ck_assert_int_eq(file_size(victim), 18);
}
END_TEST

START_TEST(symlinked_lock_refused_and_nothing_made)
{
	char target[300], lnk[300];

	snprintf(target, sizeof target, "%s/made-through-the-link", tmpdir);
	snprintf(lnk, sizeof lnk, "%s/lock", tmpdir);
	ck_assert_int_eq(symlink(target, lnk), 0);
	expect_refused(tmpdir, "lock", "symbolic link");
	ck_assert_int_eq(access(target, F_OK), -1);
}
END_TEST

START_TEST(dir_writable_by_others_or_linked_refused)
{
	char lnk[300], *cause = NULL;

	ck_assert_int_eq(chmod(tmpdir, 0777), 0);
	expect_refused(tmpdir, tmpdir, "writable by its group or by others");
	ck_assert_int_eq(chmod(tmpdir, 0730), 0);
	expect_refused(tmpdir, tmpdir, "writable by its group or by others");
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);
	snprintf(lnk, sizeof lnk, "%s.link", tmpdir);
	ck_assert_int_eq(symlink(tmpdir, lnk), 0);
	expect_refused(lnk, lnk, "symbolic link");
	ck_assert_int_eq(spool_check(lnk, &cause), -1);
	free(cause);
	strcat(lnk, "/");
	expect_refused(lnk, "symbolic link", NULL);
	lnk[strlen(lnk) - 1] = '\0';
	unlink(lnk);
	ck_assert_int_eq(spool_check(tmpdir, &cause), 0);
}
END_TEST

START_TEST(key_readable_by_others_refused)
{
	struct spool *sp = open_spool(1 << 20, 0);
	char	      path[300];

	spool_close(sp);
	snprintf(path, sizeof path, "%s/spool.key", tmpdir);
	ck_assert_int_eq(chmod(path, 0640), 0);
	expect_refused(tmpdir, "spool.key", "0600");
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(truncate(path, 16), 0);
	expect_refused(tmpdir, "spool.key", "32 bytes");
}
END_TEST

START_TEST(first_format_segment_refused_saying_what_to_do)
{
	char  seg[300];
	FILE *f;

	snprintf(seg, sizeof seg, "%s/0000000000000001.spool", tmpdir);
	f = fopen(seg, "w");
	ck_assert_ptr_nonnull(f);
	fwrite("WNWR\x04\0\0\0\0\0\0\0abcd", 1, 16, f);
	fclose(f);
	expect_refused(tmpdir, "older warrend", "previous warrend");
	ck_assert_int_eq(file_size(seg), 16);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("spool");
	TCase	*tc = tcase_create("spool");
	SRunner *sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, crc32c_check_value);
	tcase_add_test(tc, record_round_trip_byte_for_byte);
	tcase_add_test(tc, empty_payload_round_trip);
	tcase_add_test(tc, segments_rotate_and_read_back_in_order);
	tcase_add_test(tc, oversized_record_gets_its_own_segment);
	tcase_add_test(tc, done_releases_whole_segments_in_order);
	tcase_add_test(tc, rewind_rereads_unconfirmed);
	tcase_add_test(tc, rewind_after_whole_segments_released);
	tcase_add_test(tc, reopen_replays_unconfirmed);
	tcase_add_test(tc, fully_drained_spool_reopens_empty);
	tcase_add_test(tc, torn_tail_cut_at_open_and_counted);
	tcase_add_test(tc, corrupt_middle_record_skipped_and_counted);
	tcase_add_test(tc, corrupt_magic_and_length_skipped);
	tcase_add_test(tc, oldest_age_skips_damaged_records);
	tcase_add_test(tc, damage_in_an_older_segment_is_not_torn);
	tcase_add_test(tc, max_bytes_refuses_with_minus_one);
	tcase_add_test(tc, second_open_of_same_dir_fails);
	tcase_add_test(tc, missing_dir_fails_naming_it);
	tcase_add_test(tc, foreign_files_in_dir_are_ignored);
	tcase_add_test(tc, record_mac_is_hmac_under_spool_key);
	tcase_add_test(tc, forged_record_skipped_counted_and_not_cut);
	tcase_add_test(tc, symlinked_segment_refused_and_target_untouched);
	tcase_add_test(tc, symlinked_lock_refused_and_nothing_made);
	tcase_add_test(tc, dir_writable_by_others_or_linked_refused);
	tcase_add_test(tc, key_readable_by_others_refused);
	tcase_add_test(tc, first_format_segment_refused_saying_what_to_do);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
