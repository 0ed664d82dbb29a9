/* check_compat.c -- unit tests for classifying contract changes: a table of
 * old and new contracts with every change each must report. */
#include <check.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evolution.h"
#include "contract.h"

/* ResourceAccessedEvent on resource.accessed with the given fields. */
#define RA(f) \
	"{ name = \"ResourceAccessedEvent\"; routing_key = " \
	"\"resource.accessed\"; fields = ( " f " ); }"
/* The same contract with its own additional_fields. */
#define RA_ADD(b, f) \
	"{ name = \"ResourceAccessedEvent\"; routing_key = " \
	"\"resource.accessed\"; additional_fields = " b "; fields = ( " f \
	" ); }"
/* The contract partitioned by field k (v by default) into n. */
#define RA_PART_BY(k, n, f) \
	"{ name = \"ResourceAccessedEvent\"; routing_key = " \
	"\"resource.accessed\"; partition_key = \"" k "\"; " \
	"partitions = " n "; fields = ( " f " ); }"
#define RA_PART(n, f) RA_PART_BY("v", n, f)
/* A contract with any name and routing key. */
#define C(n, k, f) \
	"{ name = \"" n "\"; routing_key = \"" k "\"; " \
	"fields = ( " f " ); }"
/* A field v declared by decl; a field ua, optional or required. */
#define V(decl) "{ name = \"v\"; " decl " }"
#define S "type = \"string\";"
#define UA_OPT "{ name = \"ua\"; type = \"string\"; optional = true; }"
#define UA_REQ "{ name = \"ua\"; type = \"string\"; }"

#define RAE "ResourceAccessedEvent"

/* One change a case must report, in order. */
struct want {
	const char	   *contract;
	const char	   *field; /* NULL: the contract */
	enum evolution_kind kind;
	enum evolution_class class;
	enum evolution_verdict verdict;
};

#define W(c, f, k, cl, v) \
	{ \
		c, f, EVOLUTION_##k, EVOLUTION_##cl, EVOLUTION_##v \
	}
#define WRA(f, k, cl, v) W(RAE, f, k, cl, v)

static const struct evolution_case {
	const char *name;
	const char *from; /* groups of "contracts = ( ... );" */
	const char *to;
	size_t	    n;
	struct want want[3];
} cases[] = {
	{ "unchanged", RA(V(S " max_length = 64;")),
	    RA(V(S " max_length = 64;")), 0,
	    { W(NULL, NULL, ADDED, ADDITIVE, OK) } },
	{ "optional_field_added", RA(V(S)), RA(V(S) ", " UA_OPT), 1,
	    { WRA("ua", ADDED, ADDITIVE, OK) } },
	{ "required_field_added", RA(V(S)), RA(V(S) ", " UA_REQ), 1,
	    { WRA("ua", ADDED, BREAKING, FORBIDDEN) } },
	{ "optional_field_removed", RA(V(S) ", " UA_OPT), RA(V(S)), 1,
	    { WRA("ua", REMOVED, BREAKING, FORBIDDEN) } },
	{ "required_field_removed", RA(V(S) ", " UA_REQ), RA(V(S)), 1,
	    { WRA("ua", REMOVED, BREAKING, FORBIDDEN) } },
	{ "type_changed", RA(V(S)), RA(V("type = \"integer\";")), 1,
	    { WRA("v", TYPE, BREAKING, FORBIDDEN) } },
	{ "type_change_alone_not_its_constraints", RA(V(S " max_length = 5;")),
	    RA(V("type = \"integer\"; maximum = 5;")), 1,
	    { WRA("v", TYPE, BREAKING, FORBIDDEN) } },
	{ "optional_made_required", RA(V(S " optional = true;")), RA(V(S)), 1,
	    { WRA("v", REQUIRED, BREAKING, FORBIDDEN) } },
	{ "required_made_optional", RA(V(S)), RA(V(S " optional = true;")), 1,
	    { WRA("v", OPTIONAL, ADDITIVE, OK) } },
	{ "max_length_lowered", RA(V(S " max_length = 64;")),
	    RA(V(S " max_length = 32;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "max_length_raised", RA(V(S " max_length = 64;")),
	    RA(V(S " max_length = 128;")), 1,
	    { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "max_length_added", RA(V(S)), RA(V(S " max_length = 64;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "max_length_removed", RA(V(S " max_length = 64;")), RA(V(S)), 1,
	    { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "min_length_raised", RA(V(S " min_length = 1;")),
	    RA(V(S " min_length = 2;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "min_length_lowered", RA(V(S " min_length = 2;")),
	    RA(V(S " min_length = 1;")), 1,
	    { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "min_length_added", RA(V(S)), RA(V(S " min_length = 1;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "min_length_zero_added_changes_nothing", RA(V(S)),
	    RA(V(S " min_length = 0;")), 0,
	    { W(NULL, NULL, ADDED, ADDITIVE, OK) } },
	{ "minimum_added", RA(V("type = \"integer\";")),
	    RA(V("type = \"integer\"; minimum = 0;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "minimum_lowered", RA(V("type = \"number\"; minimum = 0.5;")),
	    RA(V("type = \"number\"; minimum = 0.25;")), 1,
	    { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "maximum_lowered", RA(V("type = \"integer\"; maximum = 10;")),
	    RA(V("type = \"integer\"; maximum = 9;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "maximum_removed", RA(V("type = \"integer\"; maximum = 10;")),
	    RA(V("type = \"integer\";")), 1,
	    { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "min_items_raised", RA(V("type = \"array\"; min_items = 1;")),
	    RA(V("type = \"array\"; min_items = 2;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "max_items_added", RA(V("type = \"array\";")),
	    RA(V("type = \"array\"; max_items = 10;")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "max_items_raised_min_items_removed",
	    RA(V("type = \"array\"; min_items = 1; max_items = 10;")),
	    RA(V("type = \"array\"; max_items = 20;")), 2,
	    { WRA("v", RELAXED, ADDITIVE, OK),
		WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "pattern_added", RA(V(S)), RA(V(S " pattern = \"[a-z]+\";")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "pattern_changed", RA(V(S " pattern = \"[a-z]+\";")),
	    RA(V(S " pattern = \"[a-z0-9]+\";")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "pattern_removed", RA(V(S " pattern = \"[a-z]+\";")), RA(V(S)), 1,
	    { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "enum_value_removed",
	    RA(V("type = \"enum\"; values = [ \"new\", \"paid\" ];")),
	    RA(V("type = \"enum\"; values = [ \"new\" ];")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "enum_value_added", RA(V("type = \"enum\"; values = [ \"new\" ];")),
	    RA(V("type = \"enum\"; values = [ \"paid\", \"new\" ];")), 1,
	    { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "enum_value_replaced",
	    RA(V("type = \"enum\"; values = [ \"new\", \"paid\" ];")),
	    RA(V("type = \"enum\"; values = [ \"new\", \"done\" ];")), 2,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN),
		WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "object_additional_fields_turned_off",
	    RA(V("type = \"object\"; additional_fields = true; fields = ();")),
	    RA(V("type = \"object\"; fields = ();")), 1,
	    { WRA("v", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "object_additional_fields_turned_on",
	    RA(V("type = \"object\"; fields = ();")),
	    RA(V("type = \"object\"; additional_fields = true; fields = ();")),
	    1, { WRA("v", RELAXED, ADDITIVE, OK) } },
	{ "contract_additional_fields_turned_off", RA_ADD("true", V(S)),
	    RA_ADD("false", V(S)), 1,
	    { WRA(NULL, TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "contract_additional_fields_turned_on", RA(V(S)),
	    RA_ADD("true", V(S)), 1, { WRA(NULL, RELAXED, ADDITIVE, OK) } },
	{ "nested_required_field_added",
	    RA(V("type = \"object\"; fields = ();")),
	    RA(V("type = \"object\"; fields = ( { name = \"k\"; " S " } );")),
	    1, { WRA("v.k", ADDED, BREAKING, FORBIDDEN) } },
	{ "nested_optional_field_added",
	    RA(V("type = \"object\"; fields = ();")),
	    RA(V("type = \"object\"; fields = ( { name = \"k\"; " S
		 " optional = true; } );")),
	    1, { WRA("v.k", ADDED, ADDITIVE, OK) } },
	{ "nested_field_removed",
	    RA(V("type = \"object\"; fields = ( { name = \"k\"; " S " } );")),
	    RA(V("type = \"object\"; fields = ();")), 1,
	    { WRA("v.k", REMOVED, BREAKING, FORBIDDEN) } },
	{ "array_item_type_changed",
	    RA(V("type = \"array\"; items = { " S " };")),
	    RA(V("type = \"array\"; items = { type = \"uuid\"; };")), 1,
	    { WRA("v[]", TYPE, BREAKING, FORBIDDEN) } },
	{ "array_item_field_tightened",
	    RA(V("type = \"array\"; items = { type = \"object\"; fields = ( "
		 "{ name = \"sku\"; " S " } ); };")),
	    RA(V("type = \"array\"; items = { type = \"object\"; fields = ( "
		 "{ name = \"sku\"; " S " pattern = \"[A-Z]+\"; } ); };")),
	    1, { WRA("v[].sku", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "array_item_type_added", RA(V("type = \"array\";")),
	    RA(V("type = \"array\"; items = { " S " };")), 1,
	    { WRA("v[]", TIGHTENED, BREAKING, FORBIDDEN) } },
	{ "array_item_type_removed",
	    RA(V("type = \"array\"; items = { " S " };")),
	    RA(V("type = \"array\";")), 1,
	    { WRA("v[]", RELAXED, ADDITIVE, OK) } },
	{ "contract_added", RA(V(S)),
	    RA(V(S)) ", " C("OrderPlacedEvent", "order.placed", V(S)), 1,
	    { W("OrderPlacedEvent", NULL, ADDED, ADDITIVE, OK) } },
	{ "contract_removed",
	    RA(V(S)) ", " C("OrderPlacedEvent", "order.placed", V(S)), RA(V(S)),
	    1, { W("OrderPlacedEvent", NULL, REMOVED, BREAKING, FORBIDDEN) } },
	{ "old_version_removed_once_newer_exists",
	    RA(V(S)) ", " C("ResourceAccessedEventV2", "resource.accessed.v2",
		V(S) ", " UA_REQ),
	    C("ResourceAccessedEventV2", "resource.accessed.v2",
		V(S) ", " UA_REQ),
	    1, { WRA(NULL, REMOVED, BREAKING, OK) } },
	{ "newer_version_removed_with_only_older_left",
	    RA(V(S)) ", " C("ResourceAccessedEventV2", "resource.accessed.v2",
		V(S)),
	    RA(V(S)), 1,
	    { W("ResourceAccessedEventV2", NULL, REMOVED, BREAKING,
		FORBIDDEN) } },
	{ "versions_compare_as_numbers", C("ThingEvent", "thing.done.v9", V(S)),
	    C("ThingEventV10", "thing.done.v10", V(S)), 2,
	    { W("ThingEvent", NULL, REMOVED, BREAKING, OK),
		W("ThingEventV10", NULL, ADDED, ADDITIVE, OK) } },
	{ "routing_key_changed", RA(V(S)), C(RAE, "resource.opened", V(S)), 1,
	    { WRA(NULL, ROUTING_KEY, BREAKING, FORBIDDEN) } },
	{ "routing_key_moved_to_v2_with_a_required_field", RA(V(S)),
	    C(RAE, "resource.accessed.v2", V(S) ", " UA_REQ), 2,
	    { WRA(NULL, ROUTING_KEY, BREAKING, FORBIDDEN),
		WRA("ua", ADDED, BREAKING, OK) } },
	{ "renamed_on_same_routing_key", RA(V(S)),
	    C("ResourceOpenedEvent", "resource.accessed", V(S)), 1,
	    { WRA(NULL, RENAMED, BREAKING, FORBIDDEN) } },
	{ "renamed_and_field_made_required", RA(V(S " optional = true;")),
	    C("ResourceOpenedEvent", "resource.accessed", V(S)), 2,
	    { WRA(NULL, RENAMED, BREAKING, FORBIDDEN),
		WRA("v", REQUIRED, BREAKING, FORBIDDEN) } },
	{ "name_taken_from_another_contract_is_no_rename",
	    C("AEvent", "a.x", V(S)) ", " C("BEvent", "b.x", V(S)),
	    C("BEvent", "a.x", V(S)), 2,
	    { W("AEvent", NULL, REMOVED, BREAKING, FORBIDDEN),
		W("BEvent", NULL, ROUTING_KEY, BREAKING, FORBIDDEN) } },
	{ "breaking_change_as_new_v2_contract_is_sanctioned", RA(V(S)),
	    RA(V(S)) ", " C("ResourceAccessedEventV2", "resource.accessed.v2",
		V("type = \"integer\";") ", " UA_REQ),
	    1, { W("ResourceAccessedEventV2", NULL, ADDED, ADDITIVE, OK) } },
	{ "partition_count_changed", RA_PART("4", V(S)), RA_PART("6", V(S)), 1,
	    { WRA(NULL, PARTITIONING, BREAKING, FORBIDDEN) } },
	{ "partition_key_changed", RA_PART("4", V(S) ", " UA_REQ),
	    RA_PART_BY("ua", "4", V(S) ", " UA_REQ), 1,
	    { WRA(NULL, PARTITIONING, BREAKING, FORBIDDEN) } },
	{ "partitioning_added", RA(V(S)), RA_PART("4", V(S)), 1,
	    { WRA(NULL, PARTITIONING, BREAKING, FORBIDDEN) } },
	{ "partitioning_kept", RA_PART("4", V(S)), RA_PART("4", V(S)), 0,
	    { W(NULL, NULL, ADDED, ADDITIVE, OK) } },
};

/* Compile the contracts of "contracts = ( groups );" into set. */
static void
check_set(const char *groups, struct contract_set *set)
{
	config_t		cfg;
	const config_setting_t *list, *s;
	struct contract	       *c;
	char		       *text, *cause;
	int			i;

	ck_assert_int_ne(asprintf(&text, "contracts = ( %s );\n", groups), -1);
	config_init(&cfg);
	if (!config_read_string(&cfg, text))
		ck_abort_msg("expected the test contracts to parse, got line "
			     "%d: %s in %s",
		    config_error_line(&cfg), config_error_text(&cfg), text);
	list = config_lookup(&cfg, "contracts");
	ck_assert_ptr_nonnull(list);
	memset(set, 0, sizeof *set);
	for (i = 0; (s = config_setting_get_elem(list, i)) != NULL; i++) {
		if (contract_compile(s, &c, &cause) != 0)
			ck_abort_msg("expected %s to compile, got \"%s\"", text,
			    cause);
		if (contract_set_add(set, c, &cause) != 0)
			ck_abort_msg("expected %s to be a set, got \"%s\"",
			    text, cause);
	}
	config_destroy(&cfg);
	free(text);
}

/* Compare the contracts of two texts into r. */
static void
check_compare(const char *from, const char *to, struct evolution_report *r,
    struct contract_set sets[2])
{
	check_set(from, &sets[0]);
	check_set(to, &sets[1]);
	evolution_compare(&sets[0], &sets[1], r);
}

/* Free what check_compare made. */
static void
check_done(struct evolution_report *r, struct contract_set sets[2])
{
	evolution_report_clear(r);
	contract_set_clear(&sets[0]);
	contract_set_clear(&sets[1]);
}

/* Is a NULL-or-string equal to another? */
static int
check_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Describe a change for a failure message (static buffer). */
static const char *
check_describe(const char *contract, const char *field, enum evolution_kind k,
    enum evolution_class c, enum evolution_verdict v)
{
	static char buf[2][256];
	static int  i;

	i = !i;
	snprintf(buf[i], sizeof buf[i], "%s%s%s %s %s %s", contract,
	    field != NULL ? "." : "", field != NULL ? field : "",
	    evolution_kind_name(k), evolution_class_name(c),
	    evolution_verdict_name(v));
	return (buf[i]);
}

/* Expect change got to be want. */
static void
check_change(const char *name, size_t i, const struct evolution_change *got,
    const struct want *want)
{
	ck_assert_msg(check_same(got->contract, want->contract) &&
		check_same(got->field, want->field) &&
		got->kind == want->kind && got->class == want->class &&
		got->verdict == want->verdict,
	    "%s: change %zu: expected %s, got %s (\"%s\")", name, i,
	    check_describe(want->contract, want->field, want->kind, want->class,
		want->verdict),
	    check_describe(got->contract, got->field, got->kind, got->class,
		got->verdict),
	    got->message);
	ck_assert_msg(got->message != NULL && *got->message != '\0',
	    "%s: change %zu: expected a message, got none", name, i);
}

START_TEST(every_change_classified)
{
	const struct evolution_case *tc = &cases[_i];
	struct contract_set	     sets[2];
	struct evolution_report	     r;
	size_t			     i, nforbidden = 0, nbreaking = 0;

	check_compare(tc->from, tc->to, &r, sets);
	ck_assert_msg(r.n == tc->n, "%s: expected %zu changes, got %zu%s%s",
	    tc->name, tc->n, r.n, r.n > 0 ? ", the first: " : "",
	    r.n > 0 ? r.v[0].message : "");
	for (i = 0; i < r.n; i++) {
		check_change(tc->name, i, &r.v[i], &tc->want[i]);
		nforbidden += tc->want[i].verdict == EVOLUTION_FORBIDDEN;
		nbreaking += tc->want[i].class == EVOLUTION_BREAKING;
	}
	ck_assert_msg(r.nforbidden == nforbidden && r.nbreaking == nbreaking &&
		r.nadditive == r.n - nbreaking,
	    "%s: expected %zu forbidden, %zu "
	    "breaking, %zu additive, got %zu, %zu, %zu",
	    tc->name, nforbidden, nbreaking, r.n - nbreaking, r.nforbidden,
	    r.nbreaking, r.nadditive);
	check_done(&r, sets);
}
END_TEST

/* Expect comparing from and to to give one change with this message. */
static void
check_message(const char *from, const char *to, const char *want)
{
	struct contract_set	sets[2];
	struct evolution_report r;

	check_compare(from, to, &r, sets);
	ck_assert_msg(r.n == 1, "expected one change \"%s\", got %zu", want,
	    r.n);
	ck_assert_msg(strcmp(r.v[0].message, want) == 0,
	    "expected \"%s\", got \"%s\"", want, r.v[0].message);
	check_done(&r, sets);
}

START_TEST(messages_say_what_changed)
{
	check_message(RA(V(S " max_length = 64;")),
	    RA(V(S " max_length = 32;")), "max_length lowered from 64 to 32");
	check_message(RA(V("type = \"number\"; minimum = 0.5;")),
	    RA(V("type = \"number\"; minimum = 0.25;")),
	    "minimum lowered from 0.5 to 0.25");
	check_message(RA(V(S)), RA(V(S " min_length = 1;")),
	    "min_length 1 added");
	check_message(RA(V(S " pattern = \"[a-z]+\";")), RA(V(S)),
	    "pattern \"[a-z]+\" removed");
	check_message(RA(V("type = \"enum\"; values = [ \"a\", \"b\" ];")),
	    RA(V("type = \"enum\"; values = [ \"a\" ];")),
	    "enum value \"b\" removed");
	check_message(RA(V(S)), RA(V("type = \"date\";")),
	    "type changed from string to date");
	check_message(RA(V(S)), RA(V(S) ", " UA_REQ),
	    "required string field added");
	check_message(RA(V(S)), C(RAE, "resource.opened", V(S)),
	    "routing key changed from resource.accessed to resource.opened");
	check_message(RA(V(S)),
	    C("ResourceOpenedEvent", "resource.accessed", V(S)),
	    "renamed to ResourceOpenedEvent on the same routing key "
	    "resource.accessed");
	check_message(RA(V(S)),
	    RA(V(S)) ", " C("ResourceAccessedEventV2", "resource.accessed.v2",
		V(S)),
	    "new contract on "
	    "resource.accessed.v2, a newer version of ResourceAccessedEvent "
	    "on resource.accessed");
}
END_TEST

START_TEST(report_as_json_counts_changes)
{
	struct contract_set	sets[2];
	struct evolution_report r;
	cJSON		       *j;
	char		       *s;
	const char	       *want =
	    "{\"changes\":[{\"contract\":"
	    "\"ResourceAccessedEvent\",\"field\":\"ua\",\"kind\":\"added\","
	    "\"class\":\"breaking\",\"verdict\":\"forbidden\",\"message\":"
	    "\"required string field added\"},{\"contract\":"
	    "\"OrderPlacedEvent\",\"field\":null,\"kind\":\"added\",\"class\":"
	    "\"additive\",\"verdict\":\"ok\",\"message\":\"new contract on "
	    "order.placed\"}],\"forbidden\":1,\"breaking\":1,\"additive\":1}";

	check_compare(RA(V(S)),
	    RA(V(S) ", " UA_REQ) ", " C("OrderPlacedEvent", "order.placed",
		V(S)),
	    &r, sets);
	j = evolution_to_json(&r);
	s = cJSON_PrintUnformatted(j);
	ck_assert_msg(strcmp(s, want) == 0, "expected %s, got %s", want, s);
	cJSON_free(s);
	cJSON_Delete(j);
	check_done(&r, sets);
	ck_assert_msg(r.n == 0 && r.v == NULL && r.nforbidden == 0,
	    "expected an empty report once cleared");
}
END_TEST

START_TEST(empty_sets_have_no_changes)
{
	struct contract_set	a = { 0 }, b = { 0 };
	struct evolution_report r;

	evolution_compare(&a, &b, &r);
	ck_assert_msg(r.n == 0 && r.nforbidden == 0 && r.nbreaking == 0 &&
		r.nadditive == 0,
	    "expected no changes, got %zu", r.n);
	evolution_report_clear(&r);
}
END_TEST

/* All the compat tests. */
static Suite *
evolution_suite(void)
{
	Suite *s = suite_create("compat");
	TCase *tc;

	tc = tcase_create("classify");
	tcase_add_loop_test(tc, every_change_classified, 0,
	    sizeof cases / sizeof cases[0]);
	tcase_add_test(tc, messages_say_what_changed);
	tcase_add_test(tc, report_as_json_counts_changes);
	tcase_add_test(tc, empty_sets_have_no_changes);
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
		fprintf(stderr, "check_compat: no C.UTF-8 locale\n");
		return (EXIT_FAILURE);
	}
	sr = srunner_create(evolution_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
