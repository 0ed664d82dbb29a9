/* check_conf_broker.c -- broker.urls parsed once into fields, broker.tls,
 * broker.password_file and broker.auth_mechanism (src/lib/conf-broker.c,
 * src/lib/url.c). */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "url.h"

static char tmpdir[] = "/tmp/check_conf_broker.XXXXXX";

/* Write text to dir/name with mode and return the path (static buffer). */
static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	FILE	   *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	return (path);
}

/* Load "service" plus text; expect success. */
static struct conf *
load_ok(const char *text)
{
	struct conf *cf;
	char	    *cause = NULL, *all;

	ck_assert_int_ne(asprintf(&all, "service = \"s\";\n%s", text), -1);
	cf = conf_load(write_file("warrend.conf", all, 0600), &cause);
	free(all);
	ck_assert_msg(cf != NULL, "expected the config to load, got: %s",
	    cause);
	return (cf);
}

/* Load "service" plus text; expect an error with both needles. */
static void
load_fails(const char *text, const char *n1, const char *n2)
{
	struct conf *cf;
	char	    *cause = NULL, *all;

	ck_assert_int_ne(asprintf(&all, "service = \"s\";\n%s", text), -1);
	cf = conf_load(write_file("warrend.conf", all, 0600), &cause);
	free(all);
	ck_assert_msg(cf == NULL, "expected an error with \"%s\", got success",
	    n1);
	ck_assert_msg(strstr(cause, n1) != NULL &&
		(n2 == NULL || strstr(cause, n2) != NULL),
	    "expected an error with \"%s\" and "
	    "\"%s\", got: %s",
	    n1, n2 ? n2 : "", cause);
	free(cause);
}

START_TEST(amqp_url_fields)
{
	struct conf *cf =
	    load_ok("broker: { urls = [ "
		    "\"amqp://bob:s%40cret@mq1.example:5673/prod\", "
		    "\"amqp://[::1]\", \"amqp://carol@h/\" ]; };\n");

	ck_assert_int_eq((int)cf->nurls, 3);
	ck_assert_int_eq(cf->urls[0].tls, 0);
	ck_assert_str_eq(cf->urls[0].host, "mq1.example");
	ck_assert_int_eq(cf->urls[0].port, 5673);
	ck_assert_str_eq(cf->urls[0].user, "bob");
	ck_assert_str_eq(cf->urls[0].password, "s@cret");
	ck_assert_int_eq(cf->urls[0].has_password, 1);
	ck_assert_str_eq(cf->urls[0].vhost, "prod");
	ck_assert_str_eq(cf->urls[1].host, "::1");
	ck_assert_int_eq(cf->urls[1].port, 5672);
	ck_assert_str_eq(cf->urls[1].user, "guest");
	ck_assert_str_eq(cf->urls[1].vhost, "/");
	/* A user without a password keeps librabbitmq's default. */
	ck_assert_str_eq(cf->urls[2].user, "carol");
	ck_assert_str_eq(cf->urls[2].password, "guest");
	ck_assert_int_eq(cf->urls[2].has_password, 0);
	ck_assert_str_eq(cf->urls[2].vhost, "");
	ck_assert_int_eq(cf->has_password, 1);
	ck_assert_int_eq(cf->tls.on, 0);
	conf_free(cf);
}
END_TEST

START_TEST(amqps_url_defaults_to_verified_tls_on_5671)
{
	struct conf *cf = load_ok("broker: { urls = [ "
				  "\"amqps://mq2.example/%2f\" ]; };\n");

	ck_assert_int_eq(cf->urls[0].tls, 1);
	ck_assert_int_eq(cf->urls[0].port, 5671);
	ck_assert_int_eq(cf->tls.on, 1);
	ck_assert_int_eq(cf->tls.verify_peer, 1);
	ck_assert_int_eq(cf->tls.verify_hostname, 1);
	ck_assert_ptr_null(cf->tls.ca_file);
	ck_assert_ptr_null(cf->tls.cert_file);
	ck_assert_int_eq(cf->auth_external, 0);
	conf_free(cf);
}
END_TEST

START_TEST(tls_files_resolved_and_checked)
{
	struct conf *cf;
	char	     want[600];

	write_file("ca.pem", "x", 0644);
	write_file("client.pem", "x", 0644);
	write_file("client.key", "x", 0600);
	unsetenv("CREDENTIALS_DIRECTORY");
	cf = load_ok("broker: { urls = [ \"amqps://h\" ]; tls: { "
		     "ca_file = \"ca.pem\"; cert_file = \"client.pem\"; "
		     "key_file = \"client.key\"; verify_hostname = false; };\n"
		     "auth_mechanism = \"external\"; };\n");
	snprintf(want, sizeof want, "%s/ca.pem", tmpdir);
	ck_assert_str_eq(cf->tls.ca_file, want);
	snprintf(want, sizeof want, "%s/client.key", tmpdir);
	ck_assert_str_eq(cf->tls.key_file, want);
	ck_assert_int_eq(cf->tls.verify_hostname, 0);
	ck_assert_int_eq(cf->auth_external, 1);
	conf_free(cf);
	/* Without key_file the key is in the certificate's file. */
	cf = load_ok("broker: { urls = [ \"amqps://h\" ]; tls: { "
		     "cert_file = \"client.pem\"; }; };\n");
	ck_assert_str_eq(cf->tls.key_file, cf->tls.cert_file);
	conf_free(cf);
	load_fails("broker: { urls = [ \"amqps://h\" ];\n tls: {\n"
		   " ca_file = \"nonexistent.pem\"; }; };\n",
	    "warrend.conf:4:", "broker.tls.ca_file");
	load_fails("broker: { urls = [ \"amqps://h\" ];\n tls: {\n"
		   " key_file = \"client.key\"; }; };\n",
	    "warrend.conf:4:", "needs broker.tls.cert_file");
}
END_TEST

START_TEST(tls_inconsistencies_refused)
{
	load_fails("broker: { urls = [ \"amqp://h\" ];\n tls: { }; };\n",
	    "warrend.conf:3:", "no URL in broker.urls is amqps://");
	load_fails("broker: { urls = [ \"amqps://a\", \"amqp://b\" ]; };\n",
	    "warrend.conf:2:", "mixes amqps:// and amqp://");
	load_fails("broker: { urls = [ \"amqps://a\" ];\n"
		   " auth_mechanism = \"external\"; };\n",
	    "warrend.conf:3:", "broker.tls.cert_file");
	load_fails("broker: { auth_mechanism = \"kerberos\"; };\n",
	    "warrend.conf:2:", "\"plain\" or \"external\"");
	load_fails("broker: { tls: { verify = true; }; };\n",
	    "warrend.conf:2:", "unknown key \"verify\" in broker.tls");
}
END_TEST

START_TEST(password_file_fills_urls_without_a_password)
{
	struct conf *cf;

	write_file("pw", "s3cr3t\r\nsecond line\n", 0600);
	unsetenv("CREDENTIALS_DIRECTORY");
	cf = load_ok("broker: { urls = [ \"amqp://warren@a\", "
		     "\"amqp://bob:own@b\", \"amqp://c\" ];"
		     " password_file = \"pw\"; };\n");
	ck_assert_str_eq(cf->urls[0].user, "warren");
	ck_assert_str_eq(cf->urls[0].password, "s3cr3t");
	ck_assert_str_eq(cf->urls[1].password, "own");
	ck_assert_str_eq(cf->urls[2].user, "guest");
	ck_assert_str_eq(cf->urls[2].password, "s3cr3t");
	conf_free(cf);
}
END_TEST

START_TEST(password_file_found_in_credentials_directory)
{
	struct conf *cf;
	char	     dir[600];

	snprintf(dir, sizeof dir, "%s/creds", tmpdir);
	mkdir(dir, 0700);
	write_file("creds/broker-password", "fromsystemd", 0400);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	cf = load_ok("broker: { urls = [ \"amqp://warren@a\" ];"
		     " password_file = \"broker-password\"; };\n");
	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_str_eq(cf->urls[0].password, "fromsystemd");
	conf_free(cf);
}
END_TEST

START_TEST(password_file_errors_name_file_and_line)
{
	char want[600];

	unsetenv("CREDENTIALS_DIRECTORY");
	snprintf(want, sizeof want, "%s/absent: No such file", tmpdir);
	load_fails("broker: {\n password_file = \"absent\"; };\n",
	    "warrend.conf:3: broker.password_file", want);
	write_file("empty", "\nsecond\n", 0600);
	load_fails("broker: {\n password_file = \"empty\"; };\n",
	    "warrend.conf:3:", "first line is empty");
	write_file("pw", "x\n", 0600);
	load_fails("broker: { urls = [ \"amqp://a:b@h\" ];\n"
		   " password_file = \"pw\"; };\n",
	    "warrend.conf:3:", "every URL in broker.urls has its own password");
	if (geteuid() != 0) {
		write_file("locked", "x\n", 0000);
		load_fails("broker: {\n password_file = \"locked\"; };\n",
		    "warrend.conf:3:", "Permission denied");
	}
}
END_TEST

START_TEST(broker_change_seen_by_reload)
{
	struct conf *a, *b;

	write_file("pw", "one\n", 0600);
	a = load_ok("broker: { urls = [ \"amqp://w@h\" ];"
		    " password_file = \"pw\"; };\n");
	b = load_ok("broker: { urls = [ \"amqp://w@h\" ];"
		    " password_file = \"pw\"; };\n");
	ck_assert_int_eq(conf_broker_changed(a, b), 0);
	conf_free(b);
	write_file("pw", "two\n", 0600);
	b = load_ok("broker: { urls = [ \"amqp://w@h\" ];"
		    " password_file = \"pw\"; };\n");
	ck_assert_int_eq(conf_broker_changed(a, b), 1);
	conf_free(a);
	conf_free(b);
}
END_TEST

/* rm -r tmpdir */
static void
cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

int
main(void)
{
	Suite	*s = suite_create("conf_broker");
	TCase	*tc = tcase_create("conf_broker");
	SRunner *sr;
	int	 failed;

	if (mkdtemp(tmpdir) == NULL)
		return (2);
	tcase_add_test(tc, amqp_url_fields);
	tcase_add_test(tc, amqps_url_defaults_to_verified_tls_on_5671);
	tcase_add_test(tc, tls_files_resolved_and_checked);
	tcase_add_test(tc, tls_inconsistencies_refused);
	tcase_add_test(tc, password_file_fills_urls_without_a_password);
	tcase_add_test(tc, password_file_found_in_credentials_directory);
	tcase_add_test(tc, password_file_errors_name_file_and_line);
	tcase_add_test(tc, broker_change_seen_by_reload);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup();
	return (failed == 0 ? 0 : 1);
}
