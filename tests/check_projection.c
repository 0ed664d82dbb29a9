/* check_project.c -- versioned migration: which replacements project
 * safely, and what a projected body looks like. */
#include <check.h>
#include <libconfig.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "projection.h"

/* Compile one contract from a libconfig group text, or abort. */
static struct contract *
compile(const char *text)
{
	config_t	 cfg;
	struct contract *c;
	char		*cause;

	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, text) == CONFIG_TRUE,
	    "config: %s", config_error_text(&cfg));
	if (contract_compile(config_lookup(&cfg, "c"), &c, &cause) != 0)
		ck_abort_msg("compile: %s", cause);
	config_destroy(&cfg);
	return (c);
}

#define V1 \
	"c = { name = \"AEvent\"; routing_key = \"a.b\"; fields = ( " \
	"{ name = \"id\"; type = \"string\"; max_length = 10; }, " \
	"{ name = \"n\"; type = \"number\"; minimum = 0; }, " \
	"{ name = \"o\"; type = \"string\"; optional = true; } ); };"

/* Expect v2 (fields text) to project onto V1, or to fail naming needle. */
static void
expect_check(const char *v2fields, const char *needle)
{
	struct contract *old = compile(V1), *new;
	char		 text[1024], *cause = NULL;
	int		 rv;

	snprintf(text, sizeof text,
	    "c = { name = \"AEventV2\"; routing_key "
	    "= \"a.b.v2\"; replaces = \"AEvent\"; fields = ( %s ); };",
	    v2fields);
	new = compile(text);
	rv = projection_check(new, old, &cause);
	if (needle == NULL)
		ck_assert_msg(rv == 0, "expected a safe projection, got: %s",
		    cause);
	else
		ck_assert_msg(rv != 0 && strstr(cause, needle) != NULL,
		    "expected a refusal naming \"%s\", got: %s", needle,
		    rv == 0 ? "a safe projection" : cause);
	free(cause);
	contract_free(new);
	contract_free(old);
}

#define ID "{ name = \"id\"; type = \"string\"; max_length = 10; }, "
#define N "{ name = \"n\"; type = \"number\"; minimum = 0; }"

START_TEST(new_required_field_projects_safely)
{
	expect_check(ID N ", { name = \"extra\"; type = \"boolean\"; }", NULL);
}
END_TEST

START_TEST(tighter_bounds_and_integer_for_number_project_safely)
{
	expect_check("{ name = \"id\"; type = \"string\"; max_length = 5; }, "
		     "{ name = \"n\"; type = \"integer\"; minimum = 1; }",
	    NULL);
}
END_TEST

START_TEST(missing_required_field_refused_by_name)
{
	expect_check(ID "{ name = \"x\"; type = \"number\"; }", "n: required");
}
END_TEST

START_TEST(optional_where_old_requires_refused)
{
	expect_check(ID "{ name = \"n\"; type = \"number\"; minimum = 0; "
			"optional = true; }",
	    "n: optional");
}
END_TEST

START_TEST(type_change_refused)
{
	expect_check(ID "{ name = \"n\"; type = \"string\"; }", "n: the types");
}
END_TEST

START_TEST(looser_bound_refused)
{
	expect_check(
	    "{ name = \"id\"; type = \"string\"; max_length = 11; }, " N,
	    "id: max_length is looser");
	expect_check(ID "{ name = \"n\"; type = \"number\"; }",
	    "n: minimum is looser");
}
END_TEST

START_TEST(optional_old_field_may_be_dropped)
{
	expect_check(ID N, NULL);
}
END_TEST

START_TEST(projection_keeps_old_fields_byte_for_byte_in_order)
{
	struct contract *old = compile(V1);
	const char	*data = "{ \"n\" : 9007199254740993, \"extra\": "
				"{\"id\": [1, \"}\"]}, \"id\":\"a\\\"b\" }";
	char		*out;
	size_t		 len;

	out = projection_body(old, data, strlen(data), &len);
	ck_assert_str_eq(out, "{\"n\" : 9007199254740993,\"id\":\"a\\\"b\"}");
	ck_assert_int_eq((int)len, (int)strlen(out));
	free(out);
	out = projection_body(old, "{}", 2, &len);
	ck_assert_str_eq(out, "{}");
	free(out);
	contract_free(old);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("project");
	TCase	*tc = tcase_create("project");
	SRunner *sr;
	int	 failed;

	setlocale(LC_CTYPE, "C.UTF-8");
	tcase_add_test(tc, new_required_field_projects_safely);
	tcase_add_test(tc,
	    tighter_bounds_and_integer_for_number_project_safely);
	tcase_add_test(tc, missing_required_field_refused_by_name);
	tcase_add_test(tc, optional_where_old_requires_refused);
	tcase_add_test(tc, type_change_refused);
	tcase_add_test(tc, looser_bound_refused);
	tcase_add_test(tc, optional_old_field_may_be_dropped);
	tcase_add_test(tc, projection_keeps_old_fields_byte_for_byte_in_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
