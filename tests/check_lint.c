/* check_lint.c -- unit tests for the contract lint: every rule has a
 * contract that triggers it and one that does not. */
#include <check.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "lint.h"

/* The documentation every contract needs to pass missing-*. */
#define DOC \
	"description = \"A short link was opened.\"; publisher = " \
	"\"link-service\"; consumers = [ \"analytics-service\" ]; "
/* A one-line contract: name, routing key, other keys, fields. */
#define C(name, key, doc, fields) \
	"{ name = \"" name "\"; routing_key = \"" key "\"; " doc \
	"fields = ( " fields " ); }"
/* A field that passes every field rule. */
#define OK_FIELD \
	"{ name = \"resource_name\"; type = \"string\"; " \
	"max_length = 512; }"
/* A contract that passes every rule but the one under test. */
#define GOOD(fields) \
	C("ResourceAccessedEvent", "resource.accessed", DOC, fields)

/* What a lint run found: every finding, and the first of one rule. */
struct check_hits {
	const char *rule;	/* the rule counted */
	int	    n;		/* findings of that rule */
	int	    total;	/* findings of any rule */
	int	    line;	/* of the first finding of rule */
	char	    field[128]; /* "" for the contract */
	char	    text[1024]; /* lint_format() of it */
	char	    all[4096];	/* every finding, for messages */
};

/* Count one finding, and remember the first of the rule under test. */
static void
check_hit_cb(const struct lint_finding *lf, void *arg)
{
	struct check_hits *h = arg;
	char		  *s;
	size_t		   len;

	s = lint_format(lf);
	len = strlen(h->all);
	snprintf(h->all + len, sizeof h->all - len, "%s\n", s);
	h->total++;
	if (strcmp(lf->rule, h->rule) == 0 && h->n++ == 0) {
		h->line = lf->line;
		snprintf(h->field, sizeof h->field, "%s",
		    lf->field == NULL ? "" : lf->field);
		snprintf(h->text, sizeof h->text, "%s", s);
	}
	free(s);
}

/* Compile "contracts = ( text );" and lint its contracts, counting rule. */
static int
check_lint(const char *text, const char *rule, struct check_hits *h)
{
	struct contract_set set = { 0 };
	struct contract	   *c;
	config_t	    cfg;
	config_setting_t   *list;
	char		   *conf, *cause;
	int		    i, n;

	memset(h, 0, sizeof *h);
	h->rule = rule;
	if (asprintf(&conf, "contracts = (\n%s\n);\n", text) == -1)
		ck_abort_msg("out of memory");
	config_init(&cfg);
	if (!config_read_string(&cfg, conf))
		ck_abort_msg("expected the test config to parse, got line %d: "
			     "%s in %s",
		    config_error_line(&cfg), config_error_text(&cfg), conf);
	list = config_lookup(&cfg, "contracts");
	for (i = 0; i < config_setting_length(list); i++) {
		if (contract_compile(config_setting_get_elem(list,
					 (unsigned int)i),
			&c, &cause) != 0)
			ck_abort_msg("expected the contract to compile, got "
				     "\"%s\"",
			    cause);
		ck_assert_int_eq(contract_set_add(&set, c, &cause), 0);
	}
	config_destroy(&cfg);
	for (i = 0; i < (int)set.n; i++) /* as conf.c resolves them */
		if (set.v[i]->replaces != NULL)
			set.v[i]->replaced = contract_find(&set,
			    set.v[i]->replaces);
	n = lint_contracts(&set, check_hit_cb, h);
	ck_assert_msg(n == h->total,
	    "expected lint_contracts to return its %d "
	    "findings, got %d",
	    h->total, n);
	contract_set_clear(&set);
	free(conf);
	return (h->n);
}

/* Expect exactly one finding of rule for text, on field ("" for none). */
static void
check_flagged(const char *text, const char *rule, const char *field)
{
	struct check_hits h;

	check_lint(text, rule, &h);
	ck_assert_msg(h.n == 1, "expected one %s finding for %s, got %d:\n%s",
	    rule, text, h.n, h.all);
	ck_assert_msg(strcmp(h.field, field) == 0,
	    "expected %s on field "
	    "\"%s\", got \"%s\"",
	    rule, field, h.field);
}

/* Expect no finding of rule for text. */
static void
check_passes(const char *text, const char *rule)
{
	struct check_hits h;

	check_lint(text, rule, &h);
	ck_assert_msg(h.n == 0, "expected no %s finding for %s, got %d:\n%s",
	    rule, text, h.n, h.all);
}

/* The seed's self-contained ResourceAccessedEvent, bounded, is clean. */
START_TEST(seed_contract_lints_clean)
{
	struct check_hits h;

	check_lint(
	    GOOD(
		"{ name = \"resource_id\"; type = \"string\"; "
		"min_length = 1; max_length = 64; }, " OK_FIELD ", "
		"{ name = \"accessed_at\"; type = \"datetime\"; }, "
		"{ name = \"user_agent\"; type = \"string\"; max_length = 1024; "
		"optional = true; }"),
	    "", &h);
	ck_assert_msg(h.total == 0, "expected no findings, got %d:\n%s",
	    h.total, h.all);
}
END_TEST

/* The rule names are an interface: scripts grep for them. */
START_TEST(rule_names_are_stable)
{
	static const char *want[] = { "event-name-suffix", "routing-key-format",
		"version-suffix-mismatch", "missing-description",
		"missing-publisher", "missing-consumers", "ids-only",
		"ambiguous-field-name", "datetime-not-at",
		"string-without-max-length", "stream-without-max-bytes",
		"partitioning-changed" };
	size_t		   i;

	ck_assert_uint_eq(lint_nrules, sizeof want / sizeof want[0]);
	for (i = 0; i < lint_nrules; i++) {
		ck_assert_str_eq(lint_rules[i].name, want[i]);
		ck_assert_msg(lint_rules[i].summary != NULL &&
			*lint_rules[i].summary != '\0',
		    "expected a summary for %s", want[i]);
	}
}
END_TEST

START_TEST(event_name_without_event_suffix_flagged)
{
	check_flagged(C("ResourceAccessed", "resource.accessed", DOC, OK_FIELD),
	    "event-name-suffix", "");
	check_flagged(C("ResourceAccessedV2", "resource.accessed.v2", DOC,
			  OK_FIELD),
	    "event-name-suffix", "");
}
END_TEST

START_TEST(event_name_with_event_suffix_passes)
{
	check_passes(GOOD(OK_FIELD), "event-name-suffix");
	check_passes(C("ResourceAccessedEventV2", "resource.accessed.v2", DOC,
			 OK_FIELD),
	    "event-name-suffix");
}
END_TEST

START_TEST(routing_key_not_lowercase_words_flagged)
{
	check_flagged(C("ResourceAccessedEvent", "Resource.accessed", DOC,
			  OK_FIELD),
	    "routing-key-format", "");
	check_flagged(C("ResourceAccessedEvent", "resource.Accessed", DOC,
			  OK_FIELD),
	    "routing-key-format", "");
	check_flagged(C("ResourceAccessedEvent", "resource_.accessed", DOC,
			  OK_FIELD),
	    "routing-key-format", "");
	check_flagged(C("ResourceEventV2", "resource.v2", DOC, OK_FIELD),
	    "routing-key-format", "");
}
END_TEST

START_TEST(routing_key_domain_action_passes)
{
	check_passes(GOOD(OK_FIELD), "routing-key-format");
	check_passes(C("ShortLinkAccessedEventV2", "short_link.accessed.v2",
			 DOC, OK_FIELD),
	    "routing-key-format");
	check_passes(C("ShortLinkAccessedEvent", "short-link.accessed2", DOC,
			 OK_FIELD),
	    "routing-key-format");
}
END_TEST

START_TEST(version_suffixes_that_differ_flagged)
{
	struct check_hits h;

	check_flagged(C("ResourceAccessedEventV2", "resource.accessed", DOC,
			  OK_FIELD),
	    "version-suffix-mismatch", "");
	check_lint(C("ResourceAccessedEventV2", "resource.accessed", DOC,
		       OK_FIELD),
	    "version-suffix-mismatch", &h);
	ck_assert_msg(strstr(h.text, "resource.accessed.v2") != NULL,
	    "expected the advice to name resource.accessed.v2, got %s", h.text);
	check_flagged(C("ResourceAccessedEvent", "resource.accessed.v2", DOC,
			  OK_FIELD),
	    "version-suffix-mismatch", "");
	check_flagged(C("ResourceAccessedEventV2", "resource.accessed.v3", DOC,
			  OK_FIELD),
	    "version-suffix-mismatch", "");
	check_flagged(C("ResourceAccessedEventV1", "resource.accessed.v10", DOC,
			  OK_FIELD),
	    "version-suffix-mismatch", "");
}
END_TEST

START_TEST(version_suffixes_that_agree_pass)
{
	check_passes(GOOD(OK_FIELD), "version-suffix-mismatch");
	check_passes(C("ResourceAccessedEventV2", "resource.accessed.v2", DOC,
			 OK_FIELD),
	    "version-suffix-mismatch");
	check_passes(C("ResourceAccessedEventV10", "resource.accessed.v10", DOC,
			 OK_FIELD),
	    "version-suffix-mismatch");
	/* V0 and a lone V are not versions. */
	check_passes(C("ModelBuiltEventV0", "model.built", DOC, OK_FIELD),
	    "version-suffix-mismatch");
	check_passes(C("ModelBuiltEventV", "model.built", DOC, OK_FIELD),
	    "version-suffix-mismatch");
}
END_TEST

START_TEST(missing_description_flagged)
{
	check_flagged(C("ResourceAccessedEvent", "resource.accessed",
			  "publisher = \"p\"; consumers = [ \"c\" ]; ",
			  OK_FIELD),
	    "missing-description", "");
	check_flagged(
	    C("ResourceAccessedEvent", "resource.accessed",
		"description = \" \"; publisher = \"p\"; consumers = [ \"c\" ]; ",
		OK_FIELD),
	    "missing-description", "");
}
END_TEST

START_TEST(description_present_passes)
{
	check_passes(GOOD(OK_FIELD), "missing-description");
}
END_TEST

START_TEST(missing_publisher_flagged)
{
	check_flagged(C("ResourceAccessedEvent", "resource.accessed",
			  "description = \"d\"; consumers = [ \"c\" ]; ",
			  OK_FIELD),
	    "missing-publisher", "");
	check_flagged(
	    C("ResourceAccessedEvent", "resource.accessed",
		"description = \"d\"; publisher = \"\"; consumers = [ \"c\" ]; ",
		OK_FIELD),
	    "missing-publisher", "");
}
END_TEST

START_TEST(publisher_present_passes)
{
	check_passes(GOOD(OK_FIELD), "missing-publisher");
}
END_TEST

START_TEST(missing_consumers_flagged)
{
	check_flagged(C("ResourceAccessedEvent", "resource.accessed",
			  "description = \"d\"; publisher = \"p\"; ", OK_FIELD),
	    "missing-consumers", "");
	check_flagged(
	    C("ResourceAccessedEvent", "resource.accessed",
		"description = \"d\"; publisher = \"p\"; consumers = [ ]; ",
		OK_FIELD),
	    "missing-consumers", "");
}
END_TEST

START_TEST(consumers_present_passes)
{
	check_passes(GOOD(OK_FIELD), "missing-consumers");
}
END_TEST

START_TEST(ambiguous_field_names_flagged_with_advice)
{
	struct check_hits h;

	check_flagged(GOOD("{ name = \"timestamp\"; type = \"datetime\"; }"),
	    "ambiguous-field-name", "timestamp");
	check_lint(GOOD("{ name = \"timestamp\"; type = \"datetime\"; }"),
	    "ambiguous-field-name", &h);
	ck_assert_msg(strstr(h.text, "accessed_at, not timestamp") != NULL,
	    "expected the seed's advice, got %s", h.text);
	check_lint(GOOD("{ name = \"URL\"; type = \"string\"; "
			"max_length = 2048; }"),
	    "ambiguous-field-name", &h);
	ck_assert_msg(h.n == 1 && strstr(h.text, "long_url, not url") != NULL,
	    "expected URL flagged with the seed's advice, got %s", h.all);
	check_flagged(
	    GOOD(OK_FIELD
		", { name = \"resource\"; type = "
		"\"object\"; fields = ( { name = \"id\"; type = \"uuid\"; } ); }"),
	    "ambiguous-field-name", "resource.id");
	check_flagged(
	    GOOD(OK_FIELD
		", { name = \"items\"; type = \"array\"; "
		"max_items = 9; items = { type = \"object\"; fields = ( { name = "
		"\"type\"; type = \"enum\"; values = [ \"a\" ]; } ); }; }"),
	    "ambiguous-field-name", "items[].type");
}
END_TEST

START_TEST(explicit_field_names_pass)
{
	check_passes(
	    GOOD(OK_FIELD
		", { name = \"accessed_at\"; type = "
		"\"datetime\"; }, { name = \"long_url\"; type = \"string\"; "
		"max_length = 2048; }, { name = \"resource_type\"; type = \"enum\"; "
		"values = [ \"link\" ]; }"),
	    "ambiguous-field-name");
}
END_TEST

START_TEST(datetime_not_named_at_flagged)
{
	check_flagged(GOOD(OK_FIELD ", { name = \"created\"; type = "
				    "\"datetime\"; }"),
	    "datetime-not-at", "created");
	check_flagged(
	    GOOD(OK_FIELD
		", { name = \"order\"; type = \"object\"; "
		"fields = ( { name = \"placed_on\"; type = \"datetime\"; } ); }"),
	    "datetime-not-at", "order.placed_on");
}
END_TEST

START_TEST(datetime_named_at_passes)
{
	check_passes(GOOD(OK_FIELD ", { name = \"accessed_at\"; type = "
				   "\"datetime\"; }"),
	    "datetime-not-at");
	/* a date is a day, not a moment; an array item has no name */
	check_passes(
	    GOOD(OK_FIELD
		", { name = \"due_on\"; type = \"date\"; }, "
		"{ name = \"visits_at\"; type = \"array\"; max_items = 9; items = "
		"{ type = \"datetime\"; }; }"),
	    "datetime-not-at");
}
END_TEST

START_TEST(string_without_max_length_flagged)
{
	check_flagged(GOOD("{ name = \"resource_name\"; type = \"string\"; "
			   "min_length = 1; }"),
	    "string-without-max-length", "resource_name");
	check_flagged(GOOD(OK_FIELD
			  ", { name = \"tags\"; type = \"array\"; "
			  "max_items = 9; items = { type = \"string\"; }; }"),
	    "string-without-max-length", "tags[]");
	check_flagged(
	    GOOD(OK_FIELD
		", { name = \"items\"; type = \"array\"; "
		"max_items = 9; items = { type = \"object\"; fields = ( { name = "
		"\"sku\"; type = \"string\"; } ); }; }"),
	    "string-without-max-length", "items[].sku");
}
END_TEST

/* A partitioned ShipEvent and its V2 replacing it, partitioned as given. */
#define SHIP_FIELDS \
	"{ name = \"order_id\"; type = \"uuid\"; }, { name = " \
	"\"carrier_name\"; type = \"string\"; max_length = 64; }"
#define SHIP(v2part) \
	C("ShipEvent", "order.shipped", \
	    DOC "partition_key = \"order_id\"; partitions = 4; ", SHIP_FIELDS) \
	", " C("ShipEventV2", "order.shipped.v2", \
	    DOC "replaces = \"ShipEvent\"; " v2part, SHIP_FIELDS)

START_TEST(partitioning_changed_flagged)
{
	check_flagged(SHIP("partition_key = \"order_id\"; partitions = 8; "),
	    "partitioning-changed", "");
	check_flagged(SHIP("partition_key = \"carrier_name\"; "
			   "partitions = 4; "),
	    "partitioning-changed", "");
	check_flagged(SHIP(""), "partitioning-changed", "");
}
END_TEST

START_TEST(partitioning_kept_passes)
{
	check_passes(SHIP("partition_key = \"order_id\"; partitions = 4; "),
	    "partitioning-changed");
}
END_TEST

START_TEST(string_with_max_length_passes)
{
	check_passes(
	    GOOD(OK_FIELD
		", { name = \"resource_uuid\"; type = "
		"\"uuid\"; }, { name = \"resource_kind\"; type = \"enum\"; values = "
		"[ \"a\" ]; }, { name = \"tags\"; type = \"array\"; items = "
		"{ type = \"string\"; max_length = 32; }; }"),
	    "string-without-max-length");
}
END_TEST

START_TEST(contract_of_ids_only_flagged)
{
	struct check_hits h;

	/* the seed's incomplete ResourceAccessedEvent */
	check_flagged(
	    GOOD("{ name = \"resource_id\"; type = \"string\"; "
		 "max_length = 64; }, { name = \"accessed_at\"; type = "
		 "\"datetime\"; }"),
	    "ids-only", "");
	check_lint(GOOD("{ name = \"resource_id\"; type = \"string\"; "
			"max_length = 64; }, { name = \"accessed_at\"; type = "
			"\"datetime\"; }"),
	    "ids-only", &h);
	ck_assert_msg(strstr(h.text, "(resource_id)") != NULL &&
		strstr(h.text, "resource_name next to resource_id") != NULL,
	    "expected the ids named and resource_name advised, got %s", h.text);
	check_lint(
	    GOOD("{ name = \"order_id\"; type = \"uuid\"; }, "
		 "{ name = \"customer_ids\"; type = \"array\"; max_items = 9; "
		 "items = { type = \"uuid\"; }; }"),
	    "ids-only", &h);
	ck_assert_msg(h.n == 1 &&
		strstr(h.text, "(order_id, customer_ids)") != NULL,
	    "expected both ids named, got %s", h.all);
}
END_TEST

START_TEST(contract_describing_its_ids_passes)
{
	check_passes(GOOD("{ name = \"resource_id\"; type = \"string\"; "
			  "max_length = 64; }, " OK_FIELD
			  ", { name = \"accessed_at\"; "
			  "type = \"datetime\"; }"),
	    "ids-only");
	check_passes(
	    GOOD(
		"{ name = \"resource_id\"; type = \"uuid\"; }, "
		"{ name = \"resource\"; type = \"object\"; fields = ( " OK_FIELD
		" ); }"),
	    "ids-only");
	/* no ids at all, or no fields, is not this rule's business */
	check_passes(GOOD("{ name = \"accessed_at\"; type = \"datetime\"; }"),
	    "ids-only");
	check_passes(GOOD(""), "ids-only");
}
END_TEST

/* A field finding names the field's own line; a contract finding the line
 * where the contract starts. */
START_TEST(finding_names_file_line_contract_and_field)
{
	struct check_hits h;
	const char	 *want;

	check_lint(C("ResourceAccessedEvent", "resource.accessed", DOC,
		       "\n" OK_FIELD ",\n{ name = \"url\"; type = \"string\"; "
		       "max_length = 9; }\n"),
	    "ambiguous-field-name", &h);
	ck_assert_int_eq(h.line, 4);
	ck_assert_str_eq(h.text,
	    "(string):4: ambiguous-field-name: contract "
	    "ResourceAccessedEvent: field url: name \"url\" is ambiguous: say "
	    "which URL: long_url, not url");
	check_lint("\n" C("ResourceAccessed", "resource.accessed", DOC,
		       OK_FIELD),
	    "event-name-suffix", &h);
	ck_assert_int_eq(h.line, 3);
	want = "(string):3: event-name-suffix: contract ResourceAccessed: "
	       "name ResourceAccessed does not end in Event";
	ck_assert_msg(strncmp(h.text, want, strlen(want)) == 0,
	    "expected "
	    "\"%s...\", got \"%s\"",
	    want, h.text);
}
END_TEST

/* Every contract of the set is checked, in order. */
START_TEST(every_contract_of_the_set_checked)
{
	struct check_hits h;

	check_lint(GOOD(OK_FIELD) ",\n" C("OrderPlaced", "order.placed", DOC,
		       OK_FIELD) ",\n" C("OrderShipped", "order.shipped", DOC,
		       OK_FIELD),
	    "event-name-suffix", &h);
	ck_assert_msg(h.n == 2 && h.total == 2 && h.line == 3,
	    "expected two "
	    "findings, the first on line 3, got %d:\n%s",
	    h.n, h.all);
}
END_TEST

/* The suite: one test case per rule pair, plus the format. */
static Suite *
lint_suite(void)
{
	Suite *s = suite_create("lint");
	TCase *tc;

	tc = tcase_create("rules");
	tcase_add_test(tc, seed_contract_lints_clean);
	tcase_add_test(tc, rule_names_are_stable);
	tcase_add_test(tc, event_name_without_event_suffix_flagged);
	tcase_add_test(tc, event_name_with_event_suffix_passes);
	tcase_add_test(tc, routing_key_not_lowercase_words_flagged);
	tcase_add_test(tc, routing_key_domain_action_passes);
	tcase_add_test(tc, version_suffixes_that_differ_flagged);
	tcase_add_test(tc, version_suffixes_that_agree_pass);
	tcase_add_test(tc, missing_description_flagged);
	tcase_add_test(tc, description_present_passes);
	tcase_add_test(tc, missing_publisher_flagged);
	tcase_add_test(tc, publisher_present_passes);
	tcase_add_test(tc, missing_consumers_flagged);
	tcase_add_test(tc, consumers_present_passes);
	tcase_add_test(tc, ambiguous_field_names_flagged_with_advice);
	tcase_add_test(tc, explicit_field_names_pass);
	tcase_add_test(tc, datetime_not_named_at_flagged);
	tcase_add_test(tc, datetime_named_at_passes);
	tcase_add_test(tc, string_without_max_length_flagged);
	tcase_add_test(tc, partitioning_changed_flagged);
	tcase_add_test(tc, partitioning_kept_passes);
	tcase_add_test(tc, string_with_max_length_passes);
	tcase_add_test(tc, contract_of_ids_only_flagged);
	tcase_add_test(tc, contract_describing_its_ids_passes);
	tcase_add_test(tc, finding_names_file_line_contract_and_field);
	tcase_add_test(tc, every_contract_of_the_set_checked);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; fail if any test did. */
int
main(void)
{
	SRunner *sr;
	int	 failed;

	sr = srunner_create(lint_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
