/* check_conf.c -- the configuration: defaults, every key checked, errors
 * that name file and line. */
#include <sys/stat.h>

#include <check.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char tmpdir[] = "/tmp/check_conf.XXXXXX";

/* Write text to dir/name and return the path (static buffer). */
static const char *
write_file(const char *name, const char *text)
{
	static char path[512];
	FILE	   *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return (path);
}

/* Load text as warrend.conf; expect success. */
static struct conf *
load_ok(const char *text)
{
	struct conf *cf;
	char	    *cause = NULL;

	cf = conf_load(write_file("warrend.conf", text), &cause);
	ck_assert_msg(cf != NULL, "expected the config to load, got: %s",
	    cause);
	return (cf);
}

/* Load text; expect an error that contains every one of the needles. */
static void
load_fails(const char *text, const char *n1, const char *n2)
{
	struct conf *cf;
	char	    *cause = NULL;

	cf = conf_load(write_file("warrend.conf", text), &cause);
	ck_assert_msg(cf == NULL, "expected an error with \"%s\", got success",
	    n1);
	ck_assert_msg(strstr(cause, n1) != NULL &&
		(n2 == NULL || strstr(cause, n2) != NULL),
	    "expected an error with \"%s\" and "
	    "\"%s\", got: %s",
	    n1, n2 ? n2 : "", cause);
	free(cause);
}

#define CONTRACT \
	"contracts = ( { name = \"ResourceAccessedEvent\"; " \
	"routing_key = \"resource.accessed\"; fields = ( { name = \"id\"; " \
	"type = \"string\"; } ); } );\n"

START_TEST(defaults_match_the_spec)
{
	struct conf *cf = load_ok("service = \"s\";\n");

	ck_assert_str_eq(cf->socket_path, "/run/warren/warren.sock");
	ck_assert_int_eq(cf->socket_mode, 0660);
	ck_assert_int_eq(cf->max_clients, 1024);
	ck_assert_int_eq((int)cf->max_line, 1048576);
	ck_assert_int_eq((int)cf->nurls, 1);
	ck_assert_int_eq(cf->urls[0].tls, 0);
	ck_assert_str_eq(cf->urls[0].host, "127.0.0.1");
	ck_assert_int_eq(cf->urls[0].port, 5672);
	ck_assert_str_eq(cf->urls[0].user, "guest");
	ck_assert_str_eq(cf->urls[0].password, "guest");
	ck_assert_str_eq(cf->urls[0].vhost, "/");
	ck_assert_int_eq(cf->has_password, 0);
	ck_assert_str_eq(cf->exchange, "events");
	ck_assert_int_eq(cf->heartbeat, 30);
	ck_assert_int_eq(cf->confirm_window, 1024);
	ck_assert_int_eq(cf->prefetch, 64);
	ck_assert_str_eq(cf->queue_type, "classic");
	ck_assert_int_eq(cf->dead_letter, 1);
	ck_assert_int_eq(cf->unroutable_error, 0);
	ck_assert_int_eq(cf->wire_format, WIRE_CLOUDEVENTS);
	ck_assert_int_eq(cf->no_mandatory, 0);
	ck_assert_int_eq(cf->reconnect_min_ms, 100);
	ck_assert_int_eq(cf->reconnect_max_ms, 30000);
	ck_assert_int_eq(cf->publish_timeout_ms, 5000);
	ck_assert_str_eq(cf->spool_dir, "/var/lib/warren/spool");
	ck_assert_int_eq(cf->spool_max_bytes, 1073741824LL);
	ck_assert_int_eq(cf->spool_fsync, 1);
	ck_assert_int_eq(cf->shutdown_timeout_ms, 5000);
	ck_assert_int_eq((int)cf->contracts.n, 0);
	conf_free(cf);
}
END_TEST

START_TEST(every_key_read)
{
	struct conf *cf = load_ok(
	    "service = \"svc\";\n"
	    "socket: { path = \"/tmp/x.sock\"; mode = \"0600\"; group = \"0\";"
	    " max_clients = 10; max_line = 4096; };\n"
	    "broker: { urls = [ \"amqp://a:b@h1:5673/v\", \"amqp://h2\" ];"
	    " exchange = \"ex\"; heartbeat = 0; confirm_window = 7;"
	    " prefetch = 3; queue_type = \"quorum\"; dead_letter = false;"
	    " unroutable = \"error\"; reconnect_min_ms = 5;"
	    " reconnect_max_ms = 50; publish_timeout_ms = 100; };\n"
	    "spool: { dir = \"/tmp/sp\"; max_bytes = 4294967296L;"
	    " fsync = \"never\"; };\n"
	    "shutdown_timeout_ms = 0;\n" CONTRACT);

	ck_assert_str_eq(cf->service, "svc");
	ck_assert_int_eq(cf->socket_mode, 0600);
	ck_assert_int_eq(cf->socket_gid, 0);
	ck_assert_int_eq(cf->max_clients, 10);
	ck_assert_int_eq((int)cf->nurls, 2);
	ck_assert_int_eq(cf->has_password, 1);
	ck_assert_int_eq(cf->heartbeat, 0);
	ck_assert_int_eq(cf->confirm_window, 7);
	ck_assert_str_eq(cf->queue_type, "quorum");
	ck_assert_int_eq(cf->dead_letter, 0);
	ck_assert_int_eq(cf->unroutable_error, 1);
	ck_assert_int_eq(cf->spool_max_bytes, 4294967296LL);
	ck_assert_int_eq(cf->spool_fsync, 0);
	ck_assert_int_eq((int)cf->contracts.n, 1);
	conf_free(cf);
}
END_TEST

START_TEST(wire_format_read_and_checked)
{
	static const char *names[] = { "cloudevents", "standard", "lean" };
	static const int   formats[] = { WIRE_CLOUDEVENTS, WIRE_STANDARD,
		  WIRE_LEAN };
	struct conf	  *cf;
	char		   text[256];
	size_t		   i;

	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof text,
		    "service = \"s\";\nbroker: { wire_format = \"%s\"; };\n",
		    names[i]);
		cf = load_ok(text);
		ck_assert_int_eq(cf->wire_format, formats[i]);
		ck_assert_str_eq(wire_format_name(cf->wire_format), names[i]);
		conf_free(cf);
	}
	load_fails(
	    "service = \"s\";\nbroker: {\n  wire_format = \"binary\";\n};\n",
	    "warrend.conf:3:",
	    "broker.wire_format must be \"cloudevents\", "
	    "\"standard\" or \"lean\", not \"binary\"");
}
END_TEST

START_TEST(unroutable_ignore_drops_mandatory)
{
	struct conf *cf;

	cf = load_ok(
	    "service = \"s\";\nbroker: { unroutable = \"ignore\"; };\n");
	ck_assert_int_eq(cf->no_mandatory, 1);
	ck_assert_int_eq(cf->unroutable_error, 0);
	conf_free(cf);
	cf = load_ok("service = \"s\";\nbroker: { unroutable = \"warn\"; };\n");
	ck_assert_int_eq(cf->no_mandatory, 0);
	ck_assert_int_eq(cf->unroutable_error, 0);
	conf_free(cf);
	load_fails(
	    "service = \"s\";\nbroker: {\n  unroutable = \"drop\";\n};\n",
	    "warrend.conf:3:",
	    "broker.unroutable must be \"warn\" or \"error\" "
	    "(or \"ignore\"), not \"drop\"");
}
END_TEST

START_TEST(misspelt_key_names_file_and_line)
{
	load_fails("service = \"s\";\nbroker: {\n  hartbeat = 30;\n};\n",
	    "warrend.conf:3:", "unknown key \"hartbeat\" in broker");
	load_fails("service = \"s\";\nservise = \"t\";\n",
	    "warrend.conf:2:", "unknown key \"servise\"");
}
END_TEST

START_TEST(wrong_type_rejected)
{
	load_fails("service = \"s\";\nbroker: { heartbeat = \"30\"; };\n",
	    "warrend.conf:2:", "broker.heartbeat must be an integer");
	load_fails("service = 5;\n", "warrend.conf:1:", "must be a string");
	load_fails("service = \"s\";\nbroker: { dead_letter = 1; };\n",
	    ":2:", "must be a boolean");
	load_fails("service = \"s\";\nsocket = 1;\n", ":2:", "group");
}
END_TEST

START_TEST(out_of_range_rejected)
{
	load_fails("service = \"s\";\nbroker: { confirm_window = 0; };\n",
	    ":2:", "out of range");
	load_fails("service = \"s\";\nbroker: { heartbeat = -1; };\n",
	    ":2:", "out of range");
	load_fails("service = \"s\";\nbroker: { publish_timeout_ms = 99; };\n",
	    ":2:", "out of range");
	load_fails("service = \"s\";\nsocket: { max_line = 255; };\n",
	    ":2:", "out of range");
	load_fails("service = \"s\";\nbroker: { reconnect_min_ms = 10;\n"
		   "reconnect_max_ms = 5; };\n",
	    "reconnect_min_ms", "above");
}
END_TEST

START_TEST(bounds_accepted_at_the_edge)
{
	struct conf *cf = load_ok(
	    "service = \"s\";\nbroker: { "
	    "confirm_window = 65535; heartbeat = 3600; "
	    "publish_timeout_ms = 100; };\nsocket: { max_line = 256; };\n");

	ck_assert_int_eq(cf->confirm_window, 65535);
	conf_free(cf);
}
END_TEST

START_TEST(bad_choices_rejected)
{
	load_fails("service = \"s\";\nbroker: { unroutable = \"drop\"; };\n",
	    ":2:", "\"warn\" or \"error\"");
	load_fails("service = \"s\";\nbroker: { queue_type = \"stream\"; };\n",
	    ":2:", "\"classic\" or \"quorum\"");
	load_fails("service = \"s\";\nspool: { fsync = \"sometimes\"; };\n",
	    ":2:", "fsync");
}
END_TEST

START_TEST(socket_mode_must_be_octal_string)
{
	load_fails("service = \"s\";\nsocket: { mode = \"0999\"; };\n",
	    ":2:", "octal");
	load_fails("service = \"s\";\nsocket: { mode = \"01777\"; };\n",
	    ":2:", "octal");
	load_fails("service = \"s\";\nsocket: { mode = 660; };\n",
	    ":2:", "string");
}
END_TEST

START_TEST(service_required)
{
	load_fails("socket: { max_clients = 3; };\n", "warrend.conf",
	    "service is required");
}
END_TEST

START_TEST(bad_urls_rejected)
{
	load_fails("service = \"s\";\nbroker: { urls = [ ]; };\n",
	    ":2:", "empty");
	load_fails("service = \"s\";\nbroker: { urls = [ \"http://x\" ]; };\n",
	    ":2:", "amqp://");
	load_fails(
	    "service = \"s\";\nbroker: { urls = [ \"amqp://h:x\" ]; };\n",
	    ":2:", "amqp://");
}
END_TEST

START_TEST(syntax_error_names_line)
{
	load_fails("service = \"s\";\nbroker: { heartbeat = ; };\n",
	    "warrend.conf:2:", NULL);
}
END_TEST

START_TEST(missing_file_named)
{
	char *cause = NULL;

	ck_assert_ptr_null(conf_load("/nonexistent/warrend.conf", &cause));
	ck_assert_msg(strstr(cause, "/nonexistent/warrend.conf") != NULL,
	    "got: %s", cause);
	free(cause);
}
END_TEST

START_TEST(contract_errors_name_their_line)
{
	load_fails("service = \"s\";\ncontracts = (\n { name = \"E\";\n"
		   "   routing_key = \"a.b\";\n   fields = ( { name = \"x\"; "
		   "type = \"strng\"; } ); }\n);\n",
	    "warrend.conf:", "strng");
	load_fails("service = \"s\";\n" CONTRACT
		   "contracts_dir = \"/nonexistent\";\n",
	    "/nonexistent", NULL);
}
END_TEST

START_TEST(contracts_dir_loaded_in_order)
{
	struct conf *cf;
	char	     text[1024];

	mkdir(strcat(strcpy(text, tmpdir), "/c.d"), 0700);
	write_file("c.d/b.conf",
	    "contracts = ( { name = \"BEvent\"; "
	    "routing_key = \"b.x\"; fields = (); } );\n");
	write_file("c.d/a.conf",
	    "contracts = ( { name = \"AEvent\"; "
	    "routing_key = \"a.x\"; fields = (); } );\n");
	write_file("c.d/ignored.txt", "not a config");
	snprintf(text, sizeof text,
	    "service = \"s\";\ncontracts_dir = "
	    "\"%s/c.d\";\n",
	    tmpdir);
	cf = load_ok(text);
	ck_assert_int_eq((int)cf->contracts.n, 2);
	ck_assert_str_eq(cf->contracts.v[0]->name, "AEvent");
	ck_assert_str_eq(cf->contracts.v[1]->name, "BEvent");
	conf_free(cf);
	write_file("c.d/c.conf",
	    "contracts = ( { name = \"CEvent\";\n"
	    "routing_key = \"c\"; fields = (); } );\n");
	load_fails(text, "c.conf:", "c");
	write_file("c.d/c.conf", "contracts = ();\nservice = \"x\";\n");
	load_fails(text, "c.conf:2:", "unknown key \"service\"");
	unlink(write_file("c.d/c.conf", ""));
	write_file("c.d/d.conf",
	    "contracts = ( { name = \"AEvent\"; "
	    "routing_key = \"d.x\"; fields = (); } );\n");
	load_fails(text, "d.conf:", "AEvent");
}
END_TEST

START_TEST(allow_users_resolved)
{
	struct conf *cf = load_ok(
	    "service = \"s\";\ncontracts = ( { "
	    "name = \"E\"; routing_key = \"a.b\"; fields = (); "
	    "allow_users = [ \"root\", \"1234\" ]; allow_groups = [ \"0\" ]; "
	    "} );\n");

	ck_assert_int_eq((int)cf->contracts.v[0]->nuids, 2);
	ck_assert_int_eq(cf->contracts.v[0]->uids[0], 0);
	ck_assert_int_eq(cf->contracts.v[0]->uids[1], 1234);
	ck_assert_int_eq((int)cf->contracts.v[0]->ngids, 1);
	conf_free(cf);
	load_fails("service = \"s\";\ncontracts = ( { name = \"E\"; "
		   "routing_key = \"a.b\"; fields = (); allow_users = "
		   "[ \"no-such-user-here\" ]; } );\n",
	    "no such user", NULL);
}
END_TEST

/* The contract JSON (as contract_to_json() gives it) as settings, compiled:
 * the same JSON back. */
START_TEST(schema_json_to_settings_round_trips)
{
	static const char *json =
	    "{\"name\":\"E\",\"routing_key\":"
	    "\"a.b\",\"description\":\"d\",\"consumers\":[\"x\",\"y\"],"
	    "\"additional_fields\":false,\"fields\":["
	    "{\"name\":\"s\",\"type\":\"string\",\"optional\":true,"
	    "\"min_length\":1,\"max_length\":3000000000,\"pattern\":\"[a-z]+\"},"
	    "{\"name\":\"n\",\"type\":\"number\",\"optional\":false,"
	    "\"minimum\":-0.5,\"maximum\":2},"
	    "{\"name\":\"e\",\"type\":\"enum\",\"optional\":false,"
	    "\"values\":[\"a\"]},"
	    "{\"name\":\"o\",\"type\":\"object\",\"optional\":false,"
	    "\"additional_fields\":true,\"fields\":[]},"
	    "{\"name\":\"l\",\"type\":\"array\",\"optional\":false,"
	    "\"items\":{\"type\":\"object\",\"additional_fields\":false,"
	    "\"fields\":[{\"name\":\"k\",\"type\":\"uuid\",\"optional\":"
	    "false}]},\"min_items\":0,\"max_items\":2}]}";
	config_t	 cfg;
	struct contract *c;
	cJSON		*in, *out, *null;
	char		*cause = NULL, *got, *want;

	config_init(&cfg);
	ck_assert_ptr_nonnull(in = cJSON_Parse(json));
	ck_assert_int_eq(conf_schema_setting(config_root_setting(&cfg), "c",
			     in),
	    0);
	ck_assert_msg(contract_compile(config_lookup(&cfg, "c"), &c, &cause) ==
		0,
	    "expected the settings to compile, got %s", cause);
	out = contract_to_json(c);
	got = cJSON_PrintUnformatted(out);
	want = cJSON_PrintUnformatted(in);
	ck_assert_msg(strcmp(got, want) == 0, "expected %s, got %s", want, got);
	null = cJSON_CreateNull();
	ck_assert_int_eq(conf_schema_setting(config_root_setting(&cfg), "z",
			     null),
	    -1);
	free(got);
	free(want);
	cJSON_Delete(null);
	cJSON_Delete(out);
	cJSON_Delete(in);
	contract_free(c);
	config_destroy(&cfg);
}
END_TEST

#define SCHEMA_JSON \
	"{\"description\": \"From the schema.\", " \
	"\"properties\": {\"id\": {\"title\": \"Id\", \"type\": " \
	"\"string\"}}, \"required\": [\"id\"], \"title\": \"SchemaEvent\", " \
	"\"type\": \"object\", \"x-warren-routing-key\": \"schema.made\"}"

/* schema = "file.json", relative to the config's directory; the group's
 * keys win over the schema's. */
START_TEST(schema_key_loads_and_group_keys_win)
{
	struct conf	      *cf;
	const struct contract *c;

	write_file("s.json", SCHEMA_JSON);
	cf = load_ok(
	    "service = \"s\";\ncontracts = ( {\n"
	    "  schema = \"s.json\";\n  description = \"From the group.\";\n"
	    "} );\n");
	ck_assert_int_eq((int)cf->contracts.n, 1);
	c = cf->contracts.v[0];
	ck_assert_str_eq(c->name, "SchemaEvent");
	ck_assert_str_eq(c->routing_key, "schema.made");
	ck_assert_str_eq(c->description, "From the group.");
	ck_assert_int_eq((int)c->nfields, 1);
	ck_assert_int_eq(c->line, 2);
	ck_assert_ptr_nonnull(strstr(c->file, "warrend.conf"));
	conf_free(cf);
	cf = load_ok("service = \"s\";\ncontracts = ( { name = \"Renamed\"; "
		     "routing_key = \"re.named\"; schema = \"s.json\"; } );\n");
	ck_assert_str_eq(cf->contracts.v[0]->name, "Renamed");
	ck_assert_str_eq(cf->contracts.v[0]->routing_key, "re.named");
	conf_free(cf);
}
END_TEST

/* Schema errors name the config line and the schema file. */
START_TEST(schema_key_errors_name_file_and_line)
{
	write_file("s.json", SCHEMA_JSON);
	write_file("m.json",
	    "{\"title\": \"M\", \"type\": \"object\", "
	    "\"properties\": {\"q\": {\"multipleOf\": 5, \"type\": "
	    "\"integer\"}}, \"x-warren-routing-key\": \"m.m\"}");
	load_fails("service = \"s\";\ncontracts = ( {\n schema = \"s.json\";"
		   "\n fields = (); } );\n",
	    "warrend.conf:3: ", "not both");
	load_fails("service = \"s\";\ncontracts = ( {\n schema = \"none.json\";"
		   " } );\n",
	    "warrend.conf:3: schema ", "/none.json: No such file");
	load_fails("service = \"s\";\ncontracts = ( {\n schema = \"m.json\";"
		   " } );\n",
	    "/m.json: q: multipleOf is not supported", "warrend.conf:3: ");
	load_fails("service = \"s\";\ncontracts = ( { schema = 1; } );\n",
	    "warrend.conf:2: ", "schema must be");
}
END_TEST

/* Remove the scratch directory. */
static void
cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* libconfig 1.5 keeps the low 32 bits of 4294967296 (no L): refuse it. */
START_TEST(integer_cut_to_32_bits_rejected)
{
	struct conf *cf;

	load_fails("service = \"s\";\nspool: { max_bytes = 4294967296; };\n",
	    "warrend.conf:2: spool.max_bytes = 4294967296 was read as 0",
	    "write 4294967296L");
	load_fails("service = \"s\";\nsocket: { max_line = 0x100000400; };\n",
	    "warrend.conf:2: socket.max_line = 0x100000400", NULL);
	load_fails("service = \"s\";\ncontracts = ( { name = \"A\"; "
		   "routing_key = \"a.b\"; fields = ( { name = \"n\"; "
		   "type = \"integer\";\n maximum = 3000000000; } ); } );\n",
	    "warrend.conf:3: contract A: field n: maximum = 3000000000 was "
	    "read as -1294967296",
	    NULL);
	cf = load_ok(
	    "service = \"s\";\nspool: { max_bytes = 4294967296L; };\n"
	    "contracts = ( { name = \"A\"; routing_key = \"a.b\"; fields = ( "
	    "{ name = \"maximum\"; type = \"integer\"; minimum = -2; "
	    "maximum = 3000000000L; }, { name = \"m\"; type = \"array\"; "
	    "items = { type = \"integer\"; maximum = 7; }; max_items = 3; } "
	    "); } );\n");
	ck_assert_int_eq(cf->spool_max_bytes, 4294967296LL);
	conf_free(cf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("conf");
	SRunner *sr;
	int	 failed;

	setlocale(LC_CTYPE, "C.UTF-8");
	if (mkdtemp(tmpdir) == NULL)
		return (2);
	tcase_add_test(tc, defaults_match_the_spec);
	tcase_add_test(tc, every_key_read);
	tcase_add_test(tc, misspelt_key_names_file_and_line);
	tcase_add_test(tc, wire_format_read_and_checked);
	tcase_add_test(tc, unroutable_ignore_drops_mandatory);
	tcase_add_test(tc, wrong_type_rejected);
	tcase_add_test(tc, out_of_range_rejected);
	tcase_add_test(tc, bounds_accepted_at_the_edge);
	tcase_add_test(tc, bad_choices_rejected);
	tcase_add_test(tc, socket_mode_must_be_octal_string);
	tcase_add_test(tc, service_required);
	tcase_add_test(tc, bad_urls_rejected);
	tcase_add_test(tc, syntax_error_names_line);
	tcase_add_test(tc, missing_file_named);
	tcase_add_test(tc, contract_errors_name_their_line);
	tcase_add_test(tc, contracts_dir_loaded_in_order);
	tcase_add_test(tc, allow_users_resolved);
	tcase_add_test(tc, schema_json_to_settings_round_trips);
	tcase_add_test(tc, schema_key_loads_and_group_keys_win);
	tcase_add_test(tc, schema_key_errors_name_file_and_line);
	tcase_add_test(tc, integer_cut_to_32_bits_rejected);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup();
	return (failed == 0 ? 0 : 1);
}
