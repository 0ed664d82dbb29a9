/* check_contract_index.c -- unit tests for the hash tables that find a
 * contract by name and a field by name, and for validating events whose
 * contracts have hundreds of fields. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"

#define MANY 10000 /* contracts in the growth test */
#define WIDE 200   /* fields in the wide-event tests */

/* A contract with only a name and a routing key, as the set needs. */
static struct contract *
check_contract_named(const char *name, const char *key)
{
	struct contract *c = calloc(1, sizeof *c);

	ck_assert_ptr_nonnull(c);
	c->name = strdup(name);
	c->routing_key = strdup(key);
	c->file = strdup("test.conf");
	c->line = 1;
	return (c);
}

/* Add a contract that must be accepted. */
static void
check_add(struct contract_set *set, const char *name, const char *key)
{
	char *cause = NULL;

	if (contract_set_add(set, check_contract_named(name, key), &cause) != 0)
		ck_abort_msg("expected %s (%s) to be added, got \"%s\"", name,
		    key, cause);
}

START_TEST(contract_found_by_name_after_growth)
{
	struct contract_set set = { 0 };
	char		    name[32], key[32];
	size_t		    i;

	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "Event%zu", i);
		snprintf(key, sizeof key, "domain.action%zu", i);
		check_add(&set, name, key);
	}
	ck_assert_uint_eq(set.n, MANY);
	ck_assert_msg(set.nslots >= 2 * MANY &&
		(set.nslots & (set.nslots - 1)) == 0,
	    "expected a power of 2 at least twice %d slots, got %zu", MANY,
	    set.nslots);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof name, "Event%zu", i);
		ck_assert_msg(contract_find(&set, name) == set.v[i],
		    "expected %s at %zu", name, i);
		snprintf(key, sizeof key, "domain.action%zu", i);
		ck_assert_int_eq(contract_index_find(&set, key, 1), (ssize_t)i);
	}
	contract_set_clear(&set);
	ck_assert_uint_eq(set.nslots, 0);
	ck_assert_ptr_null(contract_find(&set, "Event1"));
}
END_TEST

START_TEST(absent_names_not_found)
{
	struct contract_set set = { 0 };
	char		    name[32];
	size_t		    i;

	ck_assert_ptr_null(contract_find(&set, "Anything"));
	check_add(&set, "Present", "present.one");
	ck_assert_ptr_null(contract_find(&set, ""));
	ck_assert_ptr_null(contract_find(&set, "present"));
	ck_assert_ptr_null(contract_find(&set, "Presen"));
	ck_assert_ptr_null(contract_find(&set, "Present2"));
	ck_assert_ptr_null(contract_find(&set, "present.one"));
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "Absent%zu", i);
		ck_assert_ptr_null(contract_find(&set, name));
	}
	ck_assert_ptr_eq(contract_find(&set, "Present"), set.v[0]);
	contract_set_clear(&set);
}
END_TEST

START_TEST(colliding_names_all_found)
{
	struct contract_set set = { 0 };
	char		    names[8][32], name[32], key[32];
	uint64_t	    want = 0;
	size_t		    n = 0, i;

	/* Names that land in the same slot of the first table (16 slots),
	 * and then one more that is not added. */
	for (i = 0; n < 7; i++) {
		snprintf(name, sizeof name, "Clash%zu", i);
		if (n == 0)
			want = contract_index_hash(name) & 15;
		if ((contract_index_hash(name) & 15) != want)
			continue;
		memcpy(names[n++], name, sizeof name);
	}
	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof key, "clash.k%zu", i);
		check_add(&set, names[i], key);
	}
	ck_assert_uint_eq(set.nslots, 16);
	for (i = 0; i < 6; i++)
		ck_assert_msg(contract_find(&set, names[i]) == set.v[i],
		    "expected %s (slot %llu) at %zu", names[i],
		    (unsigned long long)want, i);
	ck_assert_ptr_null(contract_find(&set, names[6]));
	contract_set_clear(&set);
}
END_TEST

START_TEST(duplicate_found_among_many)
{
	struct contract_set set = { 0 };
	struct contract	   *c;
	char		    name[32], key[32], *cause = NULL;
	size_t		    i;

	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "Event%zu", i);
		snprintf(key, sizeof key, "domain.action%zu", i);
		check_add(&set, name, key);
	}
	/* Its name is Event4321's, its key Event17's: the earlier one is
	 * named, as a scan in order would. */
	c = check_contract_named("Event4321", "domain.action17");
	ck_assert_int_eq(contract_set_add(&set, c, &cause), -1);
	ck_assert_str_eq(cause,
	    "test.conf:1: contract Event4321: duplicate routing key "
	    "domain.action17 (first used by contract Event17 at "
	    "test.conf:1)");
	free(cause);
	contract_free(c);
	c = check_contract_named("Event4321", "domain.new");
	ck_assert_int_eq(contract_set_add(&set, c, &cause), -1);
	ck_assert_str_eq(cause,
	    "test.conf:1: duplicate contract name Event4321 (first defined "
	    "at test.conf:1)");
	free(cause);
	contract_free(c);
	ck_assert_uint_eq(set.n, 5000);
	contract_set_clear(&set);
}
END_TEST

/* Compile a contract of WIDE fields f0 .. f199 (every fourth an integer,
 * f7 optional), nested under "inner" when nested. */
static struct contract *
check_wide(int nested)
{
	config_t		cfg;
	const config_setting_t *list;
	struct contract	       *c;
	char		       *text, *fields, *cause;
	size_t			len = 0, size = WIDE * 96 + 64;
	int			i;

	fields = malloc(size);
	ck_assert_ptr_nonnull(fields);
	for (i = 0; i < WIDE; i++)
		len += (size_t)snprintf(fields + len, size - len,
		    "{ name = \"f%d\"; type = \"%s\";%s },\n", i,
		    i % 4 == 0 ? "integer" : "string",
		    i == 7 ? " optional = true;" : "");
	fields[len - 2] = '\0'; /* the last comma */
	ck_assert_int_ne(asprintf(&text,
			     "contracts = ( { name = \"Wide\"; routing_key = "
			     "\"wide.event\"; fields = ( %s%s%s ); } );\n",
			     nested ? "{ name = \"inner\"; type = \"object\"; "
				      "fields = ( " :
				      "",
			     fields, nested ? " ); }" : ""),
	    -1);
	config_init(&cfg);
	if (!config_read_string(&cfg, text))
		ck_abort_msg("expected the wide contract to parse, got %d: %s",
		    config_error_line(&cfg), config_error_text(&cfg));
	list = config_lookup(&cfg, "contracts");
	if (contract_compile(config_setting_get_elem(list, 0), &c, &cause) != 0)
		ck_abort_msg("expected the wide contract to compile, got %s",
		    cause);
	config_destroy(&cfg);
	free(text);
	free(fields);
	return (c);
}

/* The data of a wide event in reverse field order, with field skip left
 * out (-1: none), f<bad> a number where a string goes (-1: none) and an
 * extra member "zz" when extra. */
static cJSON *
check_wide_data(int skip, int bad, int extra)
{
	cJSON *o = cJSON_CreateObject();
	char   name[16];
	int    i;

	for (i = WIDE - 1; i >= 0; i--) {
		if (i == skip)
			continue;
		snprintf(name, sizeof name, "f%d", i);
		if (i % 4 == 0 || i == bad)
			cJSON_AddNumberToObject(o, name, i);
		else
			cJSON_AddStringToObject(o, name, "value");
	}
	if (extra)
		cJSON_AddStringToObject(o, "zz", "extra");
	return (o);
}

/* Validate data against c: expect message and path, or success (NULL). */
static void
check_wide_expect(const struct contract *c, cJSON *data, const char *want,
    const char *want_path)
{
	char *msg = NULL, *path = NULL;
	int   rv = contract_validate(c, data, &msg, &path);

	if (want == NULL)
		ck_assert_msg(rv == 0, "expected the event to hold, got %s",
		    msg);
	else {
		ck_assert_msg(rv == -1, "expected \"%s\", got success", want);
		ck_assert_str_eq(msg, want);
		ck_assert_str_eq(path, want_path);
	}
	free(msg);
	free(path);
	cJSON_Delete(data);
}

/* Wrap data as the member "inner" of a new object. */
static cJSON *
check_inner(cJSON *data)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "inner", data);
	return (o);
}

START_TEST(wide_event_validated)
{
	struct contract *c = check_wide(0);

	check_wide_expect(c, check_wide_data(-1, -1, 0), NULL, NULL);
	check_wide_expect(c, check_wide_data(7, -1, 0), NULL, NULL);
	check_wide_expect(c, check_wide_data(150, -1, 0),
	    "f150: required field is missing", "f150");
	check_wide_expect(c, check_wide_data(-1, 199, 0),
	    "f199: expected string, got number", "f199");
	check_wide_expect(c, check_wide_data(-1, -1, 1),
	    "zz: field is not in the contract", "zz");
	/* A field's own problem comes before an unknown member, and the
	 * first field in contract order before a later one. */
	check_wide_expect(c, check_wide_data(-1, 199, 1),
	    "f199: expected string, got number", "f199");
	check_wide_expect(c, check_wide_data(198, 3, 0),
	    "f3: expected string, got number", "f3");
	contract_free(c);
}
END_TEST

START_TEST(wide_nested_object_validated)
{
	struct contract *c = check_wide(1);

	check_wide_expect(c, check_inner(check_wide_data(-1, -1, 0)), NULL,
	    NULL);
	check_wide_expect(c, check_inner(check_wide_data(42, -1, 0)),
	    "inner.f42: required field is missing", "inner.f42");
	check_wide_expect(c, check_inner(check_wide_data(-1, -1, 1)),
	    "inner.zz: field is not in the contract", "inner.zz");
	contract_free(c);
}
END_TEST

/* The suite. */
static Suite *
contract_index_suite(void)
{
	Suite *s = suite_create("contract_index");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, contract_found_by_name_after_growth);
	tcase_add_test(tc, absent_names_not_found);
	tcase_add_test(tc, colliding_names_all_found);
	tcase_add_test(tc, duplicate_found_among_many);
	tcase_add_test(tc, wide_event_validated);
	tcase_add_test(tc, wide_nested_object_validated);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(contract_index_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
