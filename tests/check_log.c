/* check_log.c -- log lines: text from outside cannot forge lines,
 * journal priorities or terminal controls. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Expect log_escape(in) to be want. */
static void
expect_escaped(const char *in, const char *want)
{
	char out[256];

	log_escape(out, sizeof out, in);
	ck_assert_msg(strcmp(out, want) == 0,
	    "escape of %s: expected %s, got %s", in, want, out);
}

START_TEST(newline_and_priority_prefix_escaped)
{
	expect_escaped("id\n<0>warrend: forged", "id\\n<0>warrend: forged");
	expect_escaped("a\r\nb\tc", "a\\r\\nb\\tc");
	expect_escaped("\x1b[2J\x7f\x01", "\\x1b[2J\\x7f\\x01");
}
END_TEST

START_TEST(printable_and_utf8_kept)
{
	expect_escaped("plain text: 100% ok [x] {y} \\",
	    "plain text: 100% ok "
	    "[x] {y} \\");
	expect_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x87",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x87");
}
END_TEST

START_TEST(invalid_utf8_and_c1_controls_escaped)
{
	/* U+009B is CSI to a UTF-8 terminal. */
	expect_escaped("a\xc2\x9b"
		       "b",
	    "a\\xc2\\x9bb");
	expect_escaped("\xff\xc0\xaf\xed\xa0\x80",
	    "\\xff\\xc0\\xaf\\xed\\xa0\\x80");
	expect_escaped("cut \xe2\x82", "cut \\xe2\\x82");
}
END_TEST

START_TEST(cut_short_at_a_whole_escape)
{
	char out[5];

	log_escape(out, sizeof out, "ab\ncd");
	ck_assert_str_eq(out, "ab\\n");
	log_escape(out, sizeof out, "abcd\n");
	ck_assert_str_eq(out, "abcd");
	log_escape(out, sizeof out, "abc\xe2\x82\xac");
	ck_assert_str_eq(out, "abc");
}
END_TEST

START_TEST(logged_line_stays_one_line)
{
	char   path[] = "/tmp/check_log.XXXXXX", buf[512];
	FILE  *f;
	int    fd, saved;
	size_t n;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	saved = dup(fileno(stderr));
	dup2(fd, fileno(stderr));
	log_init("check_log", 0);
	log_warnx("delivery %s: dead-lettered", "x\n<0>check_log: forged");
	fflush(stderr);
	dup2(saved, fileno(stderr));
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	ck_assert_msg(strchr(buf, '\n') == buf + n - 1,
	    "expected one line, got %s", buf);
	ck_assert_msg(strstr(buf, "x\\n<0>check_log: forged: dead-lettered") !=
		NULL,
	    "expected the escaped id, got %s", buf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, newline_and_priority_prefix_escaped);
	tcase_add_test(tc, printable_and_utf8_kept);
	tcase_add_test(tc, invalid_utf8_and_c1_controls_escaped);
	tcase_add_test(tc, cut_short_at_a_whole_escape);
	tcase_add_test(tc, logged_line_stays_one_line);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
