/* check_contract.c -- unit tests for compiling and validating contracts. */
#include <check.h>
#include <locale.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract.h"
#include "partition.h"

/* A contract whose fields start on line 6 of the file. */
#define HEAD \
	"contracts = (\n{\nname = \"TestEvent\";\nrouting_key = " \
	"\"test.event\";\nfields = (\n"
#define TAIL ");\n}\n);\n"

/* Write text to a new temporary file; put its name in path. */
static void
check_write(const char *text, char *path, size_t len)
{
	FILE *f;
	int   fd;

	snprintf(path, len, "/tmp/check_contract.XXXXXX");
	fd = mkstemp(path);
	ck_assert_msg(fd != -1, "expected a temporary file, got none");
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Parse text as a config file and compile its index'th contract; the
 * file's name goes in path for the caller to expect in messages. */
static int
check_compile_at(const char *text, int index, struct contract **c, char **cause,
    char *path, size_t len)
{
	config_t		cfg;
	const config_setting_t *list;
	int			rv;

	check_write(text, path, len);
	config_init(&cfg);
	if (!config_read_file(&cfg, path))
		ck_abort_msg("expected the test config to parse, got %d: %s",
		    config_error_line(&cfg), config_error_text(&cfg));
	unlink(path);
	list = config_lookup(&cfg, "contracts");
	ck_assert_ptr_nonnull(list);
	*c = NULL;
	*cause = NULL;
	rv = contract_compile(config_setting_get_elem(list, index), c, cause);
	/* nothing of the config may be kept */
	config_destroy(&cfg);
	return (rv);
}

/* Compile a whole config text that must succeed. */
static struct contract *
check_compile_ok(const char *text)
{
	struct contract *c;
	char		*cause, path[64];

	if (check_compile_at(text, 0, &c, &cause, path, sizeof path) != 0)
		ck_abort_msg("expected the contract to compile, got \"%s\"",
		    cause);
	ck_assert_ptr_nonnull(c);
	return (c);
}

/* Compile a whole config text that must fail with "FILE:line: want". */
static void
check_compile_fails(const char *text, int line, const char *want)
{
	struct contract *c;
	char		*cause, path[64], *expected;
	int		 rv;

	rv = check_compile_at(text, 0, &c, &cause, path, sizeof path);
	ck_assert_msg(rv == -1, "expected failure \"%s\", got success", want);
	ck_assert_msg(c == NULL, "expected no contract on failure");
	ck_assert_int_ne(asprintf(&expected, "%s:%d: %s", path, line, want),
	    -1);
	ck_assert_msg(cause != NULL && strcmp(cause, expected) == 0,
	    "expected \"%s\", got \"%s\"", expected, cause);
	free(expected);
	free(cause);
}

/* Compile a contract TestEvent with the given fields. */
static struct contract *
check_fields_ok(const char *fields)
{
	char		*text;
	struct contract *c;

	ck_assert_int_ne(asprintf(&text, HEAD "%s" TAIL, fields), -1);
	c = check_compile_ok(text);
	free(text);
	return (c);
}

/* Expect contract TestEvent with the given fields to fail at line with
 * "contract TestEvent: want". */
static void
check_fields_fail(const char *fields, int line, const char *want)
{
	char *text, *full;

	ck_assert_int_ne(asprintf(&text, HEAD "%s" TAIL, fields), -1);
	ck_assert_int_ne(asprintf(&full, "contract TestEvent: %s", want), -1);
	check_compile_fails(text, line, full);
	free(full);
	free(text);
}

/* A contract with one field "v" declared by decl (without its name). */
static struct contract *
check_field(const char *decl)
{
	char		*fields;
	struct contract *c;

	ck_assert_int_ne(asprintf(&fields, "{ name = \"v\"; %s }\n", decl), -1);
	c = check_fields_ok(fields);
	free(fields);
	return (c);
}

/* Expect data (JSON text) to hold for c. */
static void
check_valid(const struct contract *c, const char *json)
{
	cJSON *data;
	char  *message, *path;
	int    rv;

	data = cJSON_Parse(json);
	ck_assert_msg(data != NULL, "expected test JSON to parse: %s", json);
	rv = contract_validate(c, data, &message, &path);
	ck_assert_msg(rv == 0, "expected %s valid, got \"%s\"", json, message);
	ck_assert_msg(message == NULL && path == NULL,
	    "expected no message or path when valid");
	cJSON_Delete(data);
}

/* Expect data (JSON text) to break c with this message and path. */
static void
check_invalid(const struct contract *c, const char *json, const char *want,
    const char *want_path)
{
	cJSON *data;
	char  *message, *path;
	int    rv;

	data = cJSON_Parse(json);
	ck_assert_msg(data != NULL, "expected test JSON to parse: %s", json);
	rv = contract_validate(c, data, &message, &path);
	ck_assert_msg(rv == -1, "expected %s rejected with \"%s\", got valid",
	    json, want);
	ck_assert_msg(message != NULL && strcmp(message, want) == 0,
	    "expected %s rejected with \"%s\", got \"%s\"", json, want,
	    message);
	if (want_path == NULL)
		ck_assert_msg(path == NULL, "expected no path, got \"%s\"",
		    path);
	else
		ck_assert_msg(path != NULL && strcmp(path, want_path) == 0,
		    "expected path \"%s\", got \"%s\"", want_path, path);
	free(message);
	free(path);
	cJSON_Delete(data);
}

/* Expect {"v": value} to hold for c. */
static void
check_v_ok(const struct contract *c, const char *value)
{
	char *json;

	ck_assert_int_ne(asprintf(&json, "{\"v\":%s}", value), -1);
	check_valid(c, json);
	free(json);
}

/* Expect {"v": value} to be rejected with "v: problem". */
static void
check_v_bad(const struct contract *c, const char *value, const char *problem)
{
	char *json, *want;

	ck_assert_int_ne(asprintf(&json, "{\"v\":%s}", value), -1);
	ck_assert_int_ne(asprintf(&want, "v: %s", problem), -1);
	check_invalid(c, json, want, "v");
	free(want);
	free(json);
}

/* Expect contract_to_json(c) to print as want. */
static void
check_json_is(const struct contract *c, const char *want)
{
	cJSON *j;
	char  *s;

	j = contract_to_json(c);
	ck_assert_ptr_nonnull(j);
	s = cJSON_PrintUnformatted(j);
	ck_assert_msg(strcmp(s, want) == 0, "expected %s, got %s", want, s);
	free(s);
	cJSON_Delete(j);
}

static const char spec_example[] =
    "contracts = (\n"
    "  {\n"
    "    name = \"ResourceAccessedEvent\";\n"
    "    routing_key = \"resource.accessed\";\n"
    "    description = \"A short link was opened.\";\n"
    "    publisher = \"link-service\";\n"
    "    consumers = [ \"analytics-service\" ];\n"
    "    fields = (\n"
    "      { name = \"resource_id\";   type = \"string\"; min_length = 1; "
    "max_length = 64; },\n"
    "      { name = \"resource_name\"; type = \"string\"; max_length = 512; },\n"
    "      { name = \"accessed_at\";   type = \"datetime\"; },\n"
    "      { name = \"user_agent\";    type = \"string\"; optional = true; }\n"
    "    );\n"
    "  }\n"
    ");\n";

START_TEST(spec_example_compiles)
{
	struct contract *c = check_compile_ok(spec_example);

	ck_assert_str_eq(c->name, "ResourceAccessedEvent");
	ck_assert_str_eq(c->routing_key, "resource.accessed");
	ck_assert_str_eq(c->description, "A short link was opened.");
	ck_assert_str_eq(c->publisher, "link-service");
	ck_assert_uint_eq(c->nconsumers, 1);
	ck_assert_str_eq(c->consumers[0], "analytics-service");
	ck_assert_uint_eq(c->nfields, 4);
	ck_assert_int_eq(c->additional_fields, 0);
	ck_assert_int_eq(c->line, 2);
	ck_assert_ptr_null(c->allow_users);
	ck_assert_ptr_null(c->allow_groups);
	check_valid(c,
	    "{\"resource_id\":\"abc\",\"resource_name\":\"A\","
	    "\"accessed_at\":\"2026-11-27T05:18:40.123Z\"}");
	check_invalid(c,
	    "{\"resource_id\":\"abc\",\"resource_name\":\"A\","
	    "\"accessed_at\":\"2026-11-27T05:18:40\"}",
	    "accessed_at: datetime has no timezone offset", "accessed_at");
	contract_free(c);
}
END_TEST

START_TEST(contract_to_json_lists_only_set_constraints)
{
	struct contract *c = check_compile_ok(spec_example);

	check_json_is(c,
	    "{\"name\":\"ResourceAccessedEvent\","
	    "\"routing_key\":\"resource.accessed\","
	    "\"description\":\"A short link was opened.\","
	    "\"publisher\":\"link-service\","
	    "\"consumers\":[\"analytics-service\"],"
	    "\"additional_fields\":false,\"fields\":["
	    "{\"name\":\"resource_id\",\"type\":\"string\",\"optional\":false,"
	    "\"min_length\":1,\"max_length\":64},"
	    "{\"name\":\"resource_name\",\"type\":\"string\","
	    "\"optional\":false,\"max_length\":512},"
	    "{\"name\":\"accessed_at\",\"type\":\"datetime\","
	    "\"optional\":false},"
	    "{\"name\":\"user_agent\",\"type\":\"string\",\"optional\":true}]}");
	contract_free(c);
}
END_TEST

START_TEST(contract_to_json_nests_fields_and_items)
{
	struct contract *c;

	c = check_fields_ok(
	    "{ name = \"o\"; type = \"object\"; description = \"d\"; fields = (\n"
	    "  { name = \"e\"; type = \"enum\"; values = [ \"x\", \"y\" ]; }\n"
	    "); },\n"
	    "{ name = \"a\"; type = \"array\"; min_items = 1; max_items = 2;\n"
	    "  items = { type = \"number\"; minimum = -1.5; maximum = 2; }; },\n"
	    "{ name = \"s\"; type = \"string\"; pattern = \"[a-z]+\"; }\n");
	check_json_is(c,
	    "{\"name\":\"TestEvent\",\"routing_key\":\"test.event\","
	    "\"consumers\":[],\"additional_fields\":false,\"fields\":["
	    "{\"name\":\"o\",\"type\":\"object\",\"optional\":false,"
	    "\"description\":\"d\",\"additional_fields\":false,\"fields\":["
	    "{\"name\":\"e\",\"type\":\"enum\",\"optional\":false,"
	    "\"values\":[\"x\",\"y\"]}]},"
	    "{\"name\":\"a\",\"type\":\"array\",\"optional\":false,"
	    "\"items\":{\"type\":\"number\",\"minimum\":-1.5,\"maximum\":2},"
	    "\"min_items\":1,\"max_items\":2},"
	    "{\"name\":\"s\",\"type\":\"string\",\"optional\":false,"
	    "\"pattern\":\"[a-z]+\"}]}");
	contract_free(c);
}
END_TEST

START_TEST(access_lists_stored_for_conf)
{
	struct contract *c;

	c = check_compile_ok(
	    "contracts = ({ name = \"A\"; routing_key = \"a.b\";"
	    " fields = (); allow_users = [ \"www-data\", \"1000\" ];"
	    " allow_groups = ( \"adm\", 4 ); additional_fields = true; });");
	ck_assert_uint_eq(c->nallow_users, 2);
	ck_assert_str_eq(c->allow_users[0], "www-data");
	ck_assert_str_eq(c->allow_users[1], "1000");
	ck_assert_uint_eq(c->nallow_groups, 2);
	ck_assert_str_eq(c->allow_groups[0], "adm");
	ck_assert_str_eq(c->allow_groups[1], "4");
	ck_assert_int_eq(c->additional_fields, 1);
	contract_free(c);
}
END_TEST

START_TEST(max_attempts_stored_and_bounded)
{
	struct contract *c;

	c = check_compile_ok("contracts = ({ name = \"A\"; routing_key = "
			     "\"a.b\"; fields = (); max_attempts = 3; });");
	ck_assert_int_eq(c->max_attempts, 3);
	contract_free(c);
	c = check_compile_ok("contracts = ({ name = \"A\"; routing_key = "
			     "\"a.b\"; fields = (); });");
	ck_assert_int_eq(c->max_attempts, 0);
	contract_free(c);
	check_compile_fails("contracts = ({ name = \"A\"; routing_key = "
			    "\"a.b\";\n fields = ();\n max_attempts = 0; });",
	    3, "contract A: max_attempts must be 1 to 1000, not 0");
	check_compile_fails(
	    "contracts = ({ name = \"A\"; routing_key = "
	    "\"a.b\";\n fields = ();\n max_attempts = 1001; });",
	    3, "contract A: max_attempts must be 1 to 1000, not 1001");
	check_compile_fails(
	    "contracts = ({ name = \"A\"; routing_key = "
	    "\"a.b\";\n fields = ();\n max_attempts = \"3\"; });",
	    3, "contract A: max_attempts must be an integer");
}
END_TEST

START_TEST(unknown_type_rejected_with_file_and_line)
{
	check_fields_fail("{ name = \"resource_id\"; type = \"strng\"; }\n", 6,
	    "field resource_id: unknown type \"strng\"");
	check_fields_fail("{ name = \"a\";\n type = 5; }\n", 7,
	    "field a: type must be a string");
	check_fields_fail("{ name = \"a\"; }\n", 6, "field a: missing type");
}
END_TEST

START_TEST(unknown_field_key_rejected)
{
	check_fields_fail("{ name = \"a\"; type = \"string\";\n"
			  "  max_lenght = 5; }\n",
	    7, "field a: unknown key \"max_lenght\"");
}
END_TEST

START_TEST(unknown_contract_key_rejected)
{
	check_compile_fails(
	    "contracts = ({ name = \"A\";\n routing_key = \"a.b\";"
	    "\n fields = ();\n routingkey = \"x\"; });",
	    4, "contract A: unknown key \"routingkey\"");
}
END_TEST

START_TEST(constraint_on_wrong_type_rejected)
{
	check_fields_fail(
	    "{ name = \"n\"; type = \"integer\"; min_length = 1; }\n", 6,
	    "field n: min_length does not apply to type integer");
	check_fields_fail(
	    "{ name = \"n\"; type = \"number\"; pattern = \"x\"; }\n", 6,
	    "field n: pattern does not apply to type number");
	check_fields_fail("{ name = \"s\"; type = \"string\"; minimum = 1; }\n",
	    6, "field s: minimum does not apply to type string");
	check_fields_fail(
	    "{ name = \"s\"; type = \"string\"; values = [\"a\"]; }\n", 6,
	    "field s: values does not apply to type string");
	check_fields_fail("{ name = \"o\"; type = \"object\"; items = "
			  "{ type = \"string\"; }; }\n",
	    6, "field o: items does not apply to type object");
	check_fields_fail("{ name = \"a\"; type = \"array\"; fields = (); }\n",
	    6, "field a: fields does not apply to type array");
	check_fields_fail(
	    "{ name = \"s\"; type = \"string\"; max_items = 1; }\n", 6,
	    "field s: max_items does not apply to type string");
	check_fields_fail(
	    "{ name = \"d\"; type = \"date\"; additional_fields = "
	    "true; }\n",
	    6, "field d: additional_fields does not apply to type date");
	check_fields_fail("{ name = \"a\"; type = \"array\"; items = { type = "
			  "\"string\"; name = \"x\"; }; }\n",
	    6, "field a[]: name does not apply to array items");
	check_fields_fail("{ name = \"a\"; type = \"array\"; items = { type = "
			  "\"string\"; optional = true; }; }\n",
	    6, "field a[]: optional does not apply to array items");
}
END_TEST

START_TEST(min_greater_than_max_rejected)
{
	check_fields_fail("{ name = \"s\"; type = \"string\"; min_length = 5;"
			  " max_length = 4; }\n",
	    6, "field s: min_length 5 is greater than max_length 4");
	check_fields_fail("{ name = \"n\"; type = \"number\"; minimum = 1.5;"
			  " maximum = 1; }\n",
	    6, "field n: minimum 1.5 is greater than maximum 1");
	check_fields_fail("{ name = \"a\"; type = \"array\"; min_items = 3;"
			  " max_items = 2; }\n",
	    6, "field a: min_items 3 is greater than max_items 2");
}
END_TEST

START_TEST(equal_min_and_max_accepted)
{
	struct contract *c;

	c = check_field("type = \"string\"; min_length = 3; max_length = 3;");
	check_v_ok(c, "\"abc\"");
	check_v_bad(c, "\"ab\"", "shorter than min_length 3 (2 characters)");
	contract_free(c);
}
END_TEST

START_TEST(wrong_setting_type_rejected)
{
	check_fields_fail(
	    "{ name = \"s\"; type = \"string\"; min_length = -1; }\n", 6,
	    "field s: min_length must be 0 or more, not -1");
	check_fields_fail(
	    "{ name = \"s\"; type = \"string\"; max_length = 1.5; }\n", 6,
	    "field s: max_length must be an integer");
	check_fields_fail(
	    "{ name = \"s\"; type = \"string\"; optional = \"yes\"; }\n", 6,
	    "field s: optional must be true or false");
	check_fields_fail(
	    "{ name = \"n\"; type = \"integer\"; minimum = \"0\"; }\n", 6,
	    "field n: minimum must be a number");
	check_fields_fail("{ name = \"s\"; type = \"string\"; pattern = 1; }\n",
	    6, "field s: pattern must be a string");
	check_fields_fail(
	    "{ name = \"a\"; type = \"array\"; items = \"string\"; }\n", 6,
	    "field a: items must be a group");
	check_fields_fail("{ name = 5; type = \"string\"; }\n", 6,
	    "field #1: name must be a string");
	check_compile_fails(
	    "contracts = ({ name = \"A\"; routing_key = \"a.b\";\n"
	    " fields = { };\n});",
	    2, "contract A: fields must be a list of groups");
	check_compile_fails(
	    "contracts = ({ name = \"A\"; routing_key = \"a.b\";\n"
	    " fields = ();\n consumers = \"x\"; });",
	    3, "contract A: consumers must be an array of strings");
	check_compile_fails(
	    "contracts = ({ name = \"A\"; routing_key = \"a.b\";\n"
	    " fields = ();\n additional_fields = 1; });",
	    3, "contract A: additional_fields must be true or false");
	check_compile_fails(
	    "contracts = ({ name = \"A\"; routing_key = \"a.b\";\n"
	    " fields = ();\n description = 1; });",
	    3, "contract A: description must be a string");
}
END_TEST

START_TEST(large_integer_bounds_accepted)
{
	struct contract *c;

	c = check_field("type = \"integer\"; minimum = -5000000000L; "
			"maximum = 5000000000L;");
	check_v_ok(c, "5000000000");
	check_v_bad(c, "5000000001",
	    "greater than maximum 5000000000 (got 5000000001)");
	contract_free(c);
	c = check_field("type = \"string\"; max_length = 3L;");
	check_v_bad(c, "\"abcd\"", "longer than max_length 3 (4 characters)");
	contract_free(c);
}
END_TEST

START_TEST(bad_regex_rejected_quoting_regerror)
{
	static const char *bad[] = { "[a-", "a{2,1}", "(ab", "*a" };
	regex_t		   re;
	char		   fields[128], err[128], want[256], *wrapped;
	size_t		   i;
	int		   rc;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_ne(asprintf(&wrapped, "^(%s)$", bad[i]), -1);
		rc = regcomp(&re, wrapped, REG_EXTENDED | REG_NOSUB);
		free(wrapped);
		ck_assert_msg(rc != 0, "expected regcomp to refuse %s", bad[i]);
		regerror(rc, &re, err, sizeof err);
		snprintf(fields, sizeof fields,
		    "{ name = \"s\"; type = "
		    "\"string\";\n pattern = \"%s\"; }\n",
		    bad[i]);
		snprintf(want, sizeof want, "field s: bad pattern \"%s\": %s",
		    bad[i], err);
		check_fields_fail(fields, 7, want);
	}
}
END_TEST

START_TEST(pattern_that_escapes_anchors_rejected)
{
	check_fields_fail("{ name = \"s\"; type = \"string\"; pattern = "
			  "\"a)|(b\"; }\n",
	    6,
	    "field s: bad pattern \"a)|(b\": has a ')' "
	    "without a matching '('");
	check_fields_fail("{ name = \"s\"; type = \"string\"; pattern = "
			  "\"a\\\\\"; }\n",
	    6,
	    "field s: bad pattern \"a\\\": ends with a "
	    "backslash");
	check_fields_fail("{ name = \"s\"; type = \"string\"; pattern = "
			  "\"(a)\\\\1\"; }\n",
	    6,
	    "field s: bad pattern \"(a)\\1\": "
	    "back-references are not allowed");
}
END_TEST

START_TEST(pattern_must_match_whole_string)
{
	struct contract *c;

	c = check_field("type = \"string\"; pattern = \"[a-z]+\";");
	check_v_ok(c, "\"abc\"");
	check_v_bad(c, "\"abc1\"", "does not match pattern \"[a-z]+\"");
	check_v_bad(c, "\"1abc\"", "does not match pattern \"[a-z]+\"");
	check_v_bad(c, "\"\"", "does not match pattern \"[a-z]+\"");
	contract_free(c);
	c = check_field("type = \"string\"; pattern = \"a|b\";");
	check_v_ok(c, "\"a\"");
	check_v_bad(c, "\"ab\"", "does not match pattern \"a|b\"");
	contract_free(c);
	c = check_field("type = \"string\"; pattern = \"[()]x\";");
	check_v_ok(c, "\")x\"");
	contract_free(c);
}
END_TEST

START_TEST(pattern_matches_characters_not_bytes)
{
	struct contract *c;

	c = check_field("type = \"string\"; pattern = \"h.llo\";");
	check_v_ok(c, "\"h\xc3\xa9llo\"");
	contract_free(c);
}
END_TEST

START_TEST(bad_contract_name_rejected)
{
	check_compile_fails("contracts = ({\n name = \"resourceAccessed\";"
			    " routing_key = \"a.b\"; fields = (); });",
	    2,
	    "invalid contract name \"resourceAccessed\" (expected "
	    "^[A-Z][A-Za-z0-9]*$)");
	check_compile_fails(
	    "contracts = ({\n routing_key = \"a.b\"; fields = ();"
	    " });",
	    1, "contract has no name");
	check_compile_fails("contracts = ({\n name = 1; });", 2,
	    "contract name must be a string");
	check_compile_fails("contracts = ( \"x\" );", 1,
	    "a contract must be a group");
}
END_TEST

START_TEST(contract_name_validity)
{
	static const char *good[] = { "A", "ResourceAccessedEvent", "V2x" };
	static const char *bad[] = { "", "a", "1A", "Resource_Accessed",
		"Resource-Accessed", "Résumé", "A B" };
	size_t		   i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(contract_name_valid(good[i]),
		    "expected name "
		    "\"%s\" valid, got invalid",
		    good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!contract_name_valid(bad[i]),
		    "expected name "
		    "\"%s\" invalid, got valid",
		    bad[i]);
}
END_TEST

START_TEST(routing_key_validity)
{
	static const char *good[] = { "resource.accessed",
		"resource.accessed.v2", "a.b", "a-b.c_d.v10", "A1.B2.v1",
		"a.v2" };
	static const char *bad[] = { "", "resource", "a.b.c", "a..b", ".a",
		"a.", "resource.accessed.v0", "resource.accessed.v01", "a.b.v",
		"a.b.v2.v3", "a.*", "a.#", "*.b", "a.b.V2", "a.b.v2x", "a b.c",
		"a.b ", "r\xc3\xa9.b" };
	size_t		   i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(contract_routing_key_valid(good[i]),
		    "expected "
		    "routing key \"%s\" valid, got invalid",
		    good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!contract_routing_key_valid(bad[i]),
		    "expected "
		    "routing key \"%s\" invalid, got valid",
		    bad[i]);
}
END_TEST

START_TEST(bad_routing_key_rejected)
{
	check_compile_fails("contracts = ({ name = \"A\";\n routing_key = "
			    "\"resource.accessed.v0\"; fields = (); });",
	    2,
	    "contract A: invalid routing_key \"resource.accessed.v0\" "
	    "(expected <domain>.<action> or <domain>.<action>.v<N>)");
	check_compile_fails("contracts = ({ name = \"A\";\n fields = (); });",
	    1, "contract A: missing routing_key");
	check_compile_fails(
	    "contracts = ({ name = \"A\";\n routing_key = \"a.b\";"
	    " });",
	    1, "contract A: missing fields");
}
END_TEST

/* A partitioned contract: key k, count n, fields f (K first). */
#define PART(k, n, f) \
	"contracts = ({ name = \"A\";\n routing_key = \"a.b\"; " \
	"partition_key = \"" k "\"; partitions = " n "; fields = ( " f \
	" ); });"
#define PART_K "{ name = \"k\"; type = \"string\"; }"

START_TEST(partitions_compiled_and_listed)
{
	struct contract *c = check_compile_ok(PART("k", "4", PART_K));
	cJSON		*o;

	ck_assert_str_eq(c->partition_key, "k");
	ck_assert_int_eq(c->partitions, 4);
	o = contract_to_json(c);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "partition_key")->valuestring,
	    "k");
	ck_assert_int_eq(cJSON_GetObjectItem(o, "partitions")->valueint, 4);
	cJSON_Delete(o);
	contract_free(c);
}
END_TEST

START_TEST(bad_partitions_rejected)
{
	check_compile_fails(PART("k", "0", PART_K), 1,
	    "contract A: partitions must be 1 to 256 with a partition_key, "
	    "not 0");
	check_compile_fails(PART("k", "257", PART_K), 1,
	    "contract A: partitions must be 1 to 256 with a partition_key, "
	    "not 257");
	check_compile_fails(PART("x", "4", PART_K), 1,
	    "contract A: partition_key \"x\" is not a top-level field of "
	    "the contract");
	check_compile_fails(PART("k", "4",
				"{ name = \"k\"; type = \"string\"; "
				"optional = true; }"),
	    1,
	    "contract A: partition_key \"k\" must be a required string, "
	    "integer, uuid, enum or date field");
	check_compile_fails(PART("k", "4",
				"{ name = \"k\"; type = \"number\"; }"),
	    1,
	    "contract A: partition_key \"k\" must be a required string, "
	    "integer, uuid, enum or date field");
	check_compile_fails("contracts = ({ name = \"A\";\n routing_key = "
			    "\"a.b\"; partitions = 4; fields = ( " PART_K
			    " ); });",
	    1, "contract A: partitions needs a partition_key");
}
END_TEST

START_TEST(partition_key_text_is_stable)
{
	cJSON *d = cJSON_Parse("{\"s\":\"o-1\",\"i\":42,\"f\":1.5,"
			       "\"n\":-7}");
	char   buf[64];

	ck_assert_int_eq(partition_key_text(d, "s", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "o-1");
	ck_assert_int_eq(partition_key_text(d, "i", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "42");
	ck_assert_int_eq(partition_key_text(d, "n", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "-7");
	ck_assert_int_eq(partition_key_text(d, "f", buf, sizeof buf), -1);
	ck_assert_int_eq(partition_key_text(d, "missing", buf, sizeof buf), -1);
	ck_assert_int_eq(partition_key_text(d, "s", buf, 3), -1);
	cJSON_Delete(d);
}
END_TEST

START_TEST(enum_needs_unique_values)
{
	check_fields_fail("{ name = \"e\";\n type = \"enum\"; }\n", 6,
	    "field e: type enum needs values");
	check_fields_fail("{ name = \"e\"; type = \"enum\";\n values = []; }\n",
	    7, "field e: values must not be empty");
	check_fields_fail("{ name = \"e\"; type = \"enum\";\n values = [\"a\", "
			  "\"b\", \"a\"]; }\n",
	    7, "field e: duplicate enum value \"a\"");
	check_fields_fail(
	    "{ name = \"e\"; type = \"enum\";\n values = [1, 2]; }\n", 7,
	    "field e: values must be an array of strings");
}
END_TEST

START_TEST(field_names_checked)
{
	check_fields_fail("{ type = \"string\"; }\n", 6,
	    "field #1 has no name");
	check_fields_fail("{ name = \"a\"; type = \"string\"; },\n"
			  "{ name = \"\"; type = \"string\"; }\n",
	    7,
	    "field #2 has an empty "
	    "name");
	check_fields_fail("{ name = \"a\"; type = \"string\"; },\n"
			  "{ name = \"a\"; type = \"integer\"; }\n",
	    7, "duplicate field name \"a\"");
	check_fields_fail("\"a\"", 6, "field #1 is not a group");
}
END_TEST

START_TEST(nested_field_errors_name_the_path)
{
	check_fields_fail(
	    "{ name = \"address\"; type = \"object\"; fields = (\n"
	    "  { name = \"city\"; type = \"string\"; max_length = \"x\"; }\n"
	    "); }\n",
	    7, "field address.city: max_length must be an integer");
	check_fields_fail("{ name = \"o\"; type = \"object\"; fields = (\n"
			  "  { name = \"k\"; type = \"string\"; },\n"
			  "  { name = \"k\"; type = \"string\"; }\n"
			  "); }\n",
	    8, "field o: duplicate field name \"k\"");
	check_fields_fail("{ name = \"items\"; type = \"array\"; items = {\n"
			  "  type = \"object\"; fields = (\n"
			  "    { name = \"sku\"; type = \"strin\"; }\n"
			  "); }; }\n",
	    8, "field items[].sku: unknown type \"strin\"");
}
END_TEST

START_TEST(error_without_a_file_says_string)
{
	config_t	 cfg;
	struct contract *c = NULL;
	char		*cause = NULL;

	config_init(&cfg);
	ck_assert_int_eq(config_read_string(&cfg,
			     "contracts = ({ name = \"A\";"
			     "\n routing_key = \"a\"; fields = (); });"),
	    CONFIG_TRUE);
	ck_assert_int_eq(contract_compile(config_setting_get_elem(
					      config_lookup(&cfg, "contracts"),
					      0),
			     &c, &cause),
	    -1);
	ck_assert_msg(strncmp(cause,
			  "(string):2: contract A: invalid "
			  "routing_key \"a\"",
			  43) == 0,
	    "expected \"(string):2: contract "
	    "A: invalid routing_key \"a\" ...\", got \"%s\"",
	    cause);
	free(cause);
	config_destroy(&cfg);
}
END_TEST

START_TEST(duplicate_contract_name_rejected)
{
	static const char text[] =
	    "contracts = (\n"
	    "{ name = \"A\"; routing_key = \"a.one\"; fields = (); },\n"
	    "{ name = \"B\"; routing_key = \"b.one\"; fields = (); },\n"
	    "{ name = \"A\"; routing_key = \"a.two\"; fields = (); }\n"
	    ");\n";
	struct contract_set set = { 0 };
	struct contract	   *c;
	char		    path[64], first[64], *cause, *want;
	int		    i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(check_compile_at(text, i, &c, &cause, path,
				     sizeof path),
		    0);
		if (i == 0)
			memcpy(first, path, sizeof first);
		if (i < 2) {
			ck_assert_int_eq(contract_set_add(&set, c, &cause), 0);
			continue;
		}
		ck_assert_int_eq(contract_set_add(&set, c, &cause), -1);
		ck_assert_int_ne(asprintf(&want,
				     "%s:4: duplicate contract name "
				     "A (first defined at %s:2)",
				     path, first),
		    -1);
		ck_assert_str_eq(cause, want);
		free(want);
		free(cause);
		contract_free(c);
	}
	ck_assert_uint_eq(set.n, 2);
	ck_assert_ptr_eq(contract_find(&set, "B"), set.v[1]);
	ck_assert_ptr_null(contract_find(&set, "C"));
	contract_set_clear(&set);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_ptr_null(set.v);
}
END_TEST

START_TEST(duplicate_routing_key_rejected)
{
	static const char text[] =
	    "contracts = (\n"
	    "{ name = \"A\"; routing_key = \"a.one\"; fields = (); },\n"
	    "{\n name = \"B\"; routing_key = \"a.one\"; fields = (); }\n"
	    ");\n";
	struct contract_set set = { 0 };
	struct contract	   *c;
	char		    path[64], first[64], *cause, *want;

	ck_assert_int_eq(check_compile_at(text, 0, &c, &cause, first,
			     sizeof first),
	    0);
	ck_assert_int_eq(contract_set_add(&set, c, &cause), 0);
	ck_assert_int_eq(check_compile_at(text, 1, &c, &cause, path,
			     sizeof path),
	    0);
	ck_assert_int_eq(contract_set_add(&set, c, &cause), -1);
	ck_assert_int_ne(asprintf(&want,
			     "%s:3: contract B: duplicate routing "
			     "key a.one (first used by contract A at %s:2)",
			     path, first),
	    -1);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	contract_free(c);
	contract_set_clear(&set);
}
END_TEST

START_TEST(data_not_object_rejected)
{
	struct contract *c = check_field("type = \"string\";");

	check_invalid(c, "[]", "data is not a JSON object", NULL);
	check_invalid(c, "null", "data is not a JSON object", NULL);
	check_invalid(c, "\"x\"", "data is not a JSON object", NULL);
	contract_free(c);
}
END_TEST

START_TEST(required_field_missing_rejected)
{
	struct contract *c = check_field("type = \"string\";");

	check_invalid(c, "{}", "v: required field is missing", "v");
	contract_free(c);
}
END_TEST

START_TEST(required_field_null_rejected)
{
	struct contract *c = check_field("type = \"string\";");

	check_invalid(c, "{\"v\":null}", "v: required field is null", "v");
	contract_free(c);
}
END_TEST

START_TEST(optional_field_absent_or_null_accepted)
{
	struct contract *c;

	c = check_field("type = \"integer\"; optional = true; minimum = 1;");
	check_valid(c, "{}");
	check_valid(c, "{\"v\":null}");
	check_v_ok(c, "1");
	check_v_bad(c, "0", "less than minimum 1 (got 0)");
	check_v_bad(c, "\"1\"", "expected integer, got string");
	contract_free(c);
}
END_TEST

START_TEST(field_not_in_contract_rejected)
{
	struct contract *c = check_field("type = \"string\";");

	check_invalid(c, "{\"v\":\"x\",\"extra\":1}",
	    "extra: field is not in the contract", "extra");
	contract_free(c);
}
END_TEST

START_TEST(additional_fields_allow_unknown_members)
{
	struct contract *c;

	c = check_compile_ok(
	    "contracts = ({ name = \"A\"; routing_key = \"a.b\";"
	    " additional_fields = true; fields = ("
	    " { name = \"o\"; type = \"object\"; fields = ( { name = \"k\";"
	    " type = \"boolean\"; } ); } ); });");
	check_valid(c, "{\"o\":{\"k\":true},\"extra\":[1]}");
	check_invalid(c, "{\"o\":{\"k\":true,\"x\":1}}",
	    "o.x: field is not in the contract", "o.x");
	contract_free(c);
	c = check_field("type = \"object\"; additional_fields = true;");
	check_v_ok(c, "{\"anything\":1}");
	contract_free(c);
}
END_TEST

START_TEST(first_error_in_field_order_reported)
{
	struct contract *c;

	c = check_fields_ok("{ name = \"a\"; type = \"string\"; },\n"
			    "{ name = \"b\"; type = \"integer\"; }\n");
	check_invalid(c, "{\"b\":\"x\",\"z\":1}",
	    "a: required field is missing", "a");
	check_invalid(c, "{\"z\":1,\"b\":\"x\",\"a\":\"y\"}",
	    "b: expected integer, got string", "b");
	check_invalid(c, "{\"z\":1,\"b\":1,\"a\":\"y\"}",
	    "z: field is not in the contract", "z");
	contract_free(c);
}
END_TEST

START_TEST(type_mismatch_names_both_types)
{
	static const struct {
		const char *type, *value, *got;
	} t[] = {
		{ "string", "1", "number" },
		{ "integer", "\"1\"", "string" },
		{ "number", "true", "boolean" },
		{ "boolean", "\"true\"", "string" },
		{ "boolean", "1", "number" },
		{ "datetime", "0", "number" },
		{ "date", "{}", "object" },
		{ "uuid", "[]", "array" },
		{ "object", "[]", "array" },
		{ "array", "{}", "object" },
	};
	struct contract *c;
	char		 decl[64], want[64];
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(decl, sizeof decl, "type = \"%s\";", t[i].type);
		c = check_field(decl);
		snprintf(want, sizeof want, "expected %s, got %s", t[i].type,
		    t[i].got);
		check_v_bad(c, t[i].value, want);
		contract_free(c);
	}
	c = check_field("type = \"enum\"; values = [ \"a\" ];");
	check_v_bad(c, "1", "expected enum, got number");
	contract_free(c);
}
END_TEST

START_TEST(string_length_bounds)
{
	struct contract *c;

	c = check_field("type = \"string\"; min_length = 2; max_length = 4;");
	check_v_ok(c, "\"ab\"");
	check_v_ok(c, "\"abcd\"");
	check_v_bad(c, "\"a\"", "shorter than min_length 2 (1 character)");
	check_v_bad(c, "\"abcde\"", "longer than max_length 4 (5 characters)");
	contract_free(c);
	c = check_field("type = \"string\"; min_length = 0; max_length = 0;");
	check_v_ok(c, "\"\"");
	check_v_bad(c, "\"x\"", "longer than max_length 0 (1 character)");
	contract_free(c);
}
END_TEST

START_TEST(string_length_counts_characters_not_bytes)
{
	struct contract *c;

	c = check_field("type = \"string\"; max_length = 5;");
	check_v_ok(c, "\"h\xc3\xa9llo\"");
	check_v_ok(c, "\"h\\u00e9llo\"");
	check_v_bad(c, "\"h\xc3\xa9llo!\"",
	    "longer than max_length 5 (6 characters)");
	contract_free(c);
	c = check_field("type = \"string\"; max_length = 4;");
	check_v_bad(c, "\"h\xc3\xa9llo\"",
	    "longer than max_length 4 (5 characters)");
	contract_free(c);
	c = check_field("type = \"string\"; min_length = 1; max_length = 1;");
	check_v_ok(c, "\"\xf0\x9f\x98\x80\"");
	check_v_ok(c, "\"\\ud83d\\ude00\"");
	check_v_bad(c, "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"",
	    "longer than max_length 1 (2 characters)");
	contract_free(c);
}
END_TEST

START_TEST(integer_accepts_integral_numbers_only)
{
	struct contract *c;

	c = check_field("type = \"integer\";");
	check_v_ok(c, "1");
	check_v_ok(c, "-7");
	check_v_ok(c, "1.0");
	check_v_ok(c, "1e3");
	check_v_ok(c, "-0");
	check_v_bad(c, "1.5", "expected integer, got a fractional number");
	check_v_bad(c, "1e-3", "expected integer, got a fractional number");
	check_v_bad(c, "1e400", "expected integer, got a number out of range");
	contract_free(c);
}
END_TEST

START_TEST(integer_bounds)
{
	struct contract *c;

	c = check_field("type = \"integer\"; minimum = -2; maximum = 10;");
	check_v_ok(c, "-2");
	check_v_ok(c, "10");
	check_v_bad(c, "-3", "less than minimum -2 (got -3)");
	check_v_bad(c, "11", "greater than maximum 10 (got 11)");
	contract_free(c);
}
END_TEST

START_TEST(number_bounds)
{
	struct contract *c;

	c = check_field("type = \"number\"; minimum = 0.5; maximum = 2.25;");
	check_v_ok(c, "0.5");
	check_v_ok(c, "2.25");
	check_v_ok(c, "1");
	check_v_bad(c, "0.49", "less than minimum 0.5 (got 0.49)");
	check_v_bad(c, "2.26", "greater than maximum 2.25 (got 2.26)");
	check_v_bad(c, "\"1\"", "expected number, got string");
	contract_free(c);
	c = check_field("type = \"number\";");
	check_v_ok(c, "-1.5e-300");
	check_v_ok(c, "123456789012345678901234567890");
	contract_free(c);
}
END_TEST

START_TEST(boolean_accepts_true_and_false)
{
	struct contract *c = check_field("type = \"boolean\";");

	check_v_ok(c, "true");
	check_v_ok(c, "false");
	check_v_bad(c, "0", "expected boolean, got number");
	contract_free(c);
}
END_TEST

START_TEST(datetime_valid_forms_accepted)
{
	static const char *good[] = {
		"2024-02-29T12:00:00Z",
		"2000-02-29T00:00:00Z",
		"2024-01-01T00:00:00.5Z",
		"2024-01-01T00:00:00.123456789+01:00",
		"2024-01-01t00:00:00z",
		"2024-01-01T23:59:59+05:30",
		"2024-01-01T00:00:00-23:59",
		"0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z",
		"2024-12-31T00:00:00+00:00",
		"2026-11-27T05:18:40.123Z",
	};
	struct contract *c = check_field("type = \"datetime\";");
	char		 value[64];
	size_t		 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(value, sizeof value, "\"%s\"", good[i]);
		check_v_ok(c, value);
	}
	contract_free(c);
}
END_TEST

START_TEST(datetime_without_offset_rejected)
{
	struct contract *c = check_field("type = \"datetime\";");

	check_v_bad(c, "\"2024-01-01T00:00:00\"",
	    "datetime has no timezone offset");
	check_v_bad(c, "\"2024-01-01T00:00:00.123\"",
	    "datetime has no timezone offset");
	contract_free(c);
}
END_TEST

START_TEST(datetime_outside_calendar_rejected)
{
	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "2023-02-29T12:00:00Z",
		    "day 29 is out of range for 2023-02" },
		{ "1900-02-29T12:00:00Z",
		    "day 29 is out of range for 1900-02" },
		{ "2024-04-31T12:00:00Z",
		    "day 31 is out of range for 2024-04" },
		{ "2024-01-00T12:00:00Z",
		    "day 00 is out of range for 2024-01" },
		{ "2024-13-01T12:00:00Z", "month 13 is out of range (01-12)" },
		{ "2024-00-01T12:00:00Z", "month 00 is out of range (01-12)" },
		{ "0000-01-01T12:00:00Z",
		    "year 0000 is out of range (0001-9999)" },
		{ "2024-01-01T24:00:00Z", "hour 24 is out of range (00-23)" },
		{ "2024-01-01T23:60:00Z", "minute 60 is out of range (00-59)" },
		{ "2024-12-31T23:59:60Z", "second 60 is out of range (00-59)" },
		{ "2024-01-01T00:00:00+24:00",
		    "offset hour 24 is out of range (00-23)" },
		{ "2024-01-01T00:00:00-05:60",
		    "offset minute 60 is out of range (00-59)" },
	};
	struct contract *c = check_field("type = \"datetime\";");
	char		 value[64], want[160];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(value, sizeof value, "\"%s\"", bad[i].value);
		snprintf(want, sizeof want, "invalid datetime \"%s\": %s",
		    bad[i].value, bad[i].why);
		check_v_bad(c, value, want);
	}
	contract_free(c);
}
END_TEST

START_TEST(datetime_malformed_rejected)
{
	static const char *bad[] = {
		"",
		"2024-01-01",
		"2024-01-01 00:00:00Z",
		"2024-01-01T00:00Z",
		"2024-01-01T00:00:00.Z",
		"2024-01-01T00:00:00+0530",
		"2024-01-01T00:00:00+05",
		"2024-01-01T00:00:00Z ",
		"2024-01-01T00:00:00UTC",
		"20240101T000000Z",
		"2024-1-01T00:00:00Z",
		"2024-01-01T0:00:00Z",
		"2024-01-01X00:00:00Z",
		"+2024-01-01T00:00:00Z",
		"2024-01-01T00:00:00ZZ",
		"2024-01-01T00:00:00,5Z",
	};
	struct contract *c = check_field("type = \"datetime\";");
	char		 value[64], want[192];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(value, sizeof value, "\"%s\"", bad[i]);
		snprintf(want, sizeof want,
		    "invalid datetime \"%s\": expected "
		    "YYYY-MM-DDTHH:MM:SS[.fraction] then Z, +HH:MM or -HH:MM",
		    bad[i]);
		check_v_bad(c, value, want);
	}
	contract_free(c);
}
END_TEST

START_TEST(date_checked_against_calendar)
{
	struct contract *c = check_field("type = \"date\";");

	check_v_ok(c, "\"2024-02-29\"");
	check_v_ok(c, "\"2000-02-29\"");
	check_v_ok(c, "\"0001-01-01\"");
	check_v_ok(c, "\"9999-12-31\"");
	check_v_bad(c, "\"2023-02-29\"",
	    "invalid date \"2023-02-29\": day 29 is "
	    "out of range for 2023-02");
	check_v_bad(c, "\"1900-02-29\"",
	    "invalid date \"1900-02-29\": day 29 is "
	    "out of range for 1900-02");
	check_v_bad(c, "\"0000-01-01\"",
	    "invalid date \"0000-01-01\": year "
	    "0000 is out of range (0001-9999)");
	check_v_bad(c, "\"2024-1-01\"",
	    "invalid date \"2024-1-01\": expected "
	    "YYYY-MM-DD");
	check_v_bad(c, "\"2024-01-01T00:00:00Z\"",
	    "invalid date "
	    "\"2024-01-01T00:00:00Z\": expected YYYY-MM-DD");
	check_v_bad(c, "\"\"", "invalid date \"\": expected YYYY-MM-DD");
	contract_free(c);
}
END_TEST

START_TEST(uuid_must_be_canonical)
{
	static const char *bad[] = {
		"123e4567e89b12d3a456426614174000",
		"{123e4567-e89b-12d3-a456-426614174000}",
		"123e4567-e89b-12d3-a456-42661417400",
		"123e4567-e89b-12d3-a456-4266141740000",
		"123e4567-e89b-12d3a-456-426614174000",
		"123e4567-e89b-12d3-a456-42661417400g",
		"",
	};
	struct contract *c = check_field("type = \"uuid\";");
	char		 value[64], want[160];
	size_t		 i;

	check_v_ok(c, "\"123e4567-e89b-12d3-a456-426614174000\"");
	check_v_ok(c, "\"123E4567-E89B-12D3-A456-426614174000\"");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(value, sizeof value, "\"%s\"", bad[i]);
		snprintf(want, sizeof want,
		    "invalid uuid \"%s\": expected "
		    "8-4-4-4-12 hex digits",
		    bad[i]);
		check_v_bad(c, value, want);
	}
	contract_free(c);
}
END_TEST

START_TEST(enum_accepts_listed_values_only)
{
	struct contract *c;

	c = check_field("type = \"enum\"; values = ( \"GET\", \"POST\" );");
	check_v_ok(c, "\"GET\"");
	check_v_ok(c, "\"POST\"");
	check_v_bad(c, "\"get\"", "\"get\" is not one of the enum values");
	check_v_bad(c, "\"\"", "\"\" is not one of the enum values");
	contract_free(c);
}
END_TEST

START_TEST(nested_object_path_reported)
{
	struct contract *c;

	c = check_fields_ok(
	    "{ name = \"address\"; type = \"object\"; fields = (\n"
	    "  { name = \"city\"; type = \"string\"; max_length = 3; },\n"
	    "  { name = \"geo\"; type = \"object\"; optional = true; fields = (\n"
	    "    { name = \"lat\"; type = \"number\"; }\n"
	    "  ); }\n"
	    "); }\n");
	check_valid(c, "{\"address\":{\"city\":\"Osl\"}}");
	check_valid(c,
	    "{\"address\":{\"city\":\"Osl\",\"geo\":{\"lat\":1.5}}}");
	check_invalid(c, "{\"address\":{}}",
	    "address.city: required field is "
	    "missing",
	    "address.city");
	check_invalid(c, "{\"address\":{\"city\":\"Oslo\"}}",
	    "address.city: "
	    "longer than max_length 3 (4 characters)",
	    "address.city");
	check_invalid(c,
	    "{\"address\":{\"city\":\"a\",\"geo\":{\"lat\":\"x\"}}}",
	    "address.geo.lat: expected number, got string", "address.geo.lat");
	check_invalid(c, "{\"address\":{\"city\":\"a\",\"zip\":1}}",
	    "address.zip: field is not in the contract", "address.zip");
	check_invalid(c, "{\"address\":[]}",
	    "address: expected object, got "
	    "array",
	    "address");
	contract_free(c);
}
END_TEST

START_TEST(array_item_path_reported)
{
	struct contract *c;

	c = check_fields_ok(
	    "{ name = \"items\"; type = \"array\"; items = {\n"
	    "  type = \"object\"; fields = (\n"
	    "    { name = \"sku\"; type = \"string\"; min_length = 1; }\n"
	    "  ); }; }\n");
	check_valid(c, "{\"items\":[]}");
	check_valid(c, "{\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\"}]}");
	check_invalid(c,
	    "{\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\"},"
	    "{\"sku\":\"\"}]}",
	    "items[2].sku: shorter than min_length 1 "
	    "(0 characters)",
	    "items[2].sku");
	check_invalid(c, "{\"items\":[{\"sku\":\"a\"},{}]}",
	    "items[1].sku: "
	    "required field is missing",
	    "items[1].sku");
	check_invalid(c, "{\"items\":[null]}",
	    "items[0]: expected object, got "
	    "null",
	    "items[0]");
	contract_free(c);
	c = check_field("type = \"array\"; items = { type = \"array\";"
			" items = { type = \"integer\"; }; };");
	check_invalid(c, "{\"v\":[[1],[2,2.5]]}",
	    "v[1][1]: expected integer, "
	    "got a fractional number",
	    "v[1][1]");
	contract_free(c);
}
END_TEST

START_TEST(array_of_strings_item_path)
{
	struct contract *c;

	c = check_fields_ok("{ name = \"tags\"; type = \"array\"; items = {"
			    " type = \"string\"; max_length = 3; }; }\n");
	check_valid(c, "{\"tags\":[\"a\",\"abc\"]}");
	check_invalid(c, "{\"tags\":[1]}",
	    "tags[0]: expected string, got number", "tags[0]");
	check_invalid(c, "{\"tags\":[\"a\",\"abcd\"]}",
	    "tags[1]: longer than "
	    "max_length 3 (4 characters)",
	    "tags[1]");
	contract_free(c);
}
END_TEST

START_TEST(array_item_count_bounds)
{
	struct contract *c;

	c = check_field("type = \"array\"; min_items = 1; max_items = 3;");
	check_v_ok(c, "[1]");
	check_v_ok(c, "[1,\"x\",null]");
	check_v_bad(c, "[]", "fewer than min_items 1 (0 items)");
	check_v_bad(c, "[1,2,3,4]", "more than max_items 3 (4 items)");
	contract_free(c);
}
END_TEST

START_TEST(empty_contract_accepts_empty_object_only)
{
	struct contract *c = check_fields_ok("");

	check_valid(c, "{}");
	check_invalid(c, "{\"a\":null}", "a: field is not in the contract",
	    "a");
	contract_free(c);
}
END_TEST

/* All the contract tests. */
static Suite *
contract_suite(void)
{
	Suite *s = suite_create("contract");
	TCase *tc;

	tc = tcase_create("compile");
	tcase_add_test(tc, spec_example_compiles);
	tcase_add_test(tc, contract_to_json_lists_only_set_constraints);
	tcase_add_test(tc, contract_to_json_nests_fields_and_items);
	tcase_add_test(tc, access_lists_stored_for_conf);
	tcase_add_test(tc, max_attempts_stored_and_bounded);
	tcase_add_test(tc, unknown_type_rejected_with_file_and_line);
	tcase_add_test(tc, unknown_field_key_rejected);
	tcase_add_test(tc, unknown_contract_key_rejected);
	tcase_add_test(tc, constraint_on_wrong_type_rejected);
	tcase_add_test(tc, min_greater_than_max_rejected);
	tcase_add_test(tc, equal_min_and_max_accepted);
	tcase_add_test(tc, wrong_setting_type_rejected);
	tcase_add_test(tc, large_integer_bounds_accepted);
	tcase_add_test(tc, bad_regex_rejected_quoting_regerror);
	tcase_add_test(tc, pattern_that_escapes_anchors_rejected);
	tcase_add_test(tc, bad_contract_name_rejected);
	tcase_add_test(tc, contract_name_validity);
	tcase_add_test(tc, routing_key_validity);
	tcase_add_test(tc, bad_routing_key_rejected);
	tcase_add_test(tc, partitions_compiled_and_listed);
	tcase_add_test(tc, bad_partitions_rejected);
	tcase_add_test(tc, partition_key_text_is_stable);
	tcase_add_test(tc, enum_needs_unique_values);
	tcase_add_test(tc, field_names_checked);
	tcase_add_test(tc, nested_field_errors_name_the_path);
	tcase_add_test(tc, error_without_a_file_says_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("set");
	tcase_add_test(tc, duplicate_contract_name_rejected);
	tcase_add_test(tc, duplicate_routing_key_rejected);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_test(tc, data_not_object_rejected);
	tcase_add_test(tc, required_field_missing_rejected);
	tcase_add_test(tc, required_field_null_rejected);
	tcase_add_test(tc, optional_field_absent_or_null_accepted);
	tcase_add_test(tc, field_not_in_contract_rejected);
	tcase_add_test(tc, additional_fields_allow_unknown_members);
	tcase_add_test(tc, first_error_in_field_order_reported);
	tcase_add_test(tc, type_mismatch_names_both_types);
	tcase_add_test(tc, string_length_bounds);
	tcase_add_test(tc, string_length_counts_characters_not_bytes);
	tcase_add_test(tc, pattern_must_match_whole_string);
	tcase_add_test(tc, pattern_matches_characters_not_bytes);
	tcase_add_test(tc, integer_accepts_integral_numbers_only);
	tcase_add_test(tc, integer_bounds);
	tcase_add_test(tc, number_bounds);
	tcase_add_test(tc, boolean_accepts_true_and_false);
	tcase_add_test(tc, datetime_valid_forms_accepted);
	tcase_add_test(tc, datetime_without_offset_rejected);
	tcase_add_test(tc, datetime_outside_calendar_rejected);
	tcase_add_test(tc, datetime_malformed_rejected);
	tcase_add_test(tc, date_checked_against_calendar);
	tcase_add_test(tc, uuid_must_be_canonical);
	tcase_add_test(tc, enum_accepts_listed_values_only);
	tcase_add_test(tc, nested_object_path_reported);
	tcase_add_test(tc, array_item_path_reported);
	tcase_add_test(tc, array_of_strings_item_path);
	tcase_add_test(tc, array_item_count_bounds);
	tcase_add_test(tc, empty_contract_accepts_empty_object_only);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite in a UTF-8 locale, as warrend does; fail if any test did. */
int
main(void)
{
	SRunner *sr;
	int	 failed;

	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
		fprintf(stderr, "check_contract: no C.UTF-8 locale\n");
		return (EXIT_FAILURE);
	}
	sr = srunner_create(contract_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
