/* check_stream.c -- unit tests for replay from streams, the pure parts:
 * the "from" of a subscribe, RFC 3339 times, a contract's stream key, and
 * how lint and compat judge it. */
#include <check.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "evolution.h"
#include "lint.h"
#include "stream-from.h"

/* Parse a JSON value and read it as a "from"; return what parse did. */
static int
check_from(const char *json, struct stream_from *f, char **message)
{
	cJSON *v = cJSON_Parse(json);
	int    rv;

	ck_assert_msg(v != NULL, "test JSON %s does not parse", json);
	*message = NULL;
	rv = stream_from_parse(v, f, message);
	cJSON_Delete(v);
	return (rv);
}

/* Compile the contracts of "contracts = ( groups );" into set; return 0,
 * or -1 with *cause. */
static int
check_set(const char *groups, struct contract_set *set, char **cause)
{
	config_t		cfg;
	const config_setting_t *list, *s;
	struct contract	       *c;
	char		       *text;
	int			i, rv = 0;

	ck_assert_int_ne(asprintf(&text, "contracts = ( %s );\n", groups), -1);
	config_init(&cfg);
	if (!config_read_string(&cfg, text))
		ck_abort_msg("expected the test contracts to parse, got line "
			     "%d: %s in %s",
		    config_error_line(&cfg), config_error_text(&cfg), text);
	list = config_lookup(&cfg, "contracts");
	memset(set, 0, sizeof *set);
	for (i = 0; rv == 0 && (s = config_setting_get_elem(list, i)) != NULL;
	     i++) {
		if ((rv = contract_compile(s, &c, cause)) == 0)
			ck_assert_int_eq(contract_set_add(set, c, cause), 0);
	}
	config_destroy(&cfg);
	free(text);
	return (rv);
}

/* A contract with the given extra keys, compiled into set; 0 or -1. */
static int
check_with(const char *extra, struct contract_set *set, char **cause)
{
	char *groups;
	int   rv;

	ck_assert_int_ne(
	    asprintf(&groups,
		"{ name = \"ResourceAccessedEvent\"; routing_key = "
		"\"resource.accessed\"; %s fields = ( { name = "
		"\"resource_id\"; type = \"string\"; max_length = "
		"64; } ); }",
		extra),
	    -1);
	*cause = NULL;
	rv = check_set(groups, set, cause);
	free(groups);
	return (rv);
}

/* The named words and integer offsets are read as such. */
START_TEST(from_words_and_offsets)
{
	struct stream_from f;
	char		  *m;

	ck_assert_int_eq(check_from("\"first\"", &f, &m), 0);
	ck_assert_int_eq(f.kind, STREAM_FROM_FIRST);
	ck_assert_int_eq(check_from("\"last\"", &f, &m), 0);
	ck_assert_int_eq(f.kind, STREAM_FROM_LAST);
	ck_assert_int_eq(check_from("\"next\"", &f, &m), 0);
	ck_assert_int_eq(f.kind, STREAM_FROM_NEXT);
	ck_assert_int_eq(check_from("0", &f, &m), 0);
	ck_assert_int_eq(f.kind, STREAM_FROM_OFFSET);
	ck_assert_uint_eq(f.offset, 0);
	ck_assert_int_eq(check_from("9007199254740991", &f, &m), 0);
	ck_assert_uint_eq(f.offset, 9007199254740991ULL);
}
END_TEST

/* Everything else is refused with a message naming what is accepted. */
START_TEST(from_bad_values_refused)
{
	static const char *bad[] = { "\"First\"", "\"\"", "-1", "1.5",
		"9007199254740992", "true", "null", "{}", "[0]",
		"\"2024-05-01T12:00:00\"", "\"2024-02-30T00:00:00Z\"",
		"\"2024-05-01 12:00:00Z\"", "\"2024-05-01T24:00:00Z\"",
		"\"2024-05-01T12:00:00+2:00\"", "\"2024-05-01T12:00:00.Z\"" };
	struct stream_from f;
	char		  *m;
	size_t		   i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(check_from(bad[i], &f, &m) == -1,
		    "expected from %s to be refused", bad[i]);
		ck_assert_ptr_nonnull(strstr(m, "from must be"));
		free(m);
	}
}
END_TEST

/* Times are read to the millisecond, in any offset, as Unix time. */
START_TEST(from_times_in_unix_milliseconds)
{
	struct stream_from f;
	int64_t		   ms;
	char		  *m;

	ck_assert_int_eq(check_from("\"2024-05-01T12:00:00Z\"", &f, &m), 0);
	ck_assert_int_eq(f.kind, STREAM_FROM_TIME);
	ck_assert_int_eq(f.time_ms, 1714564800000LL);
	ck_assert_int_eq(stream_from_time("2024-05-01T14:00:00.250+02:00", &ms),
	    0);
	ck_assert_int_eq(ms, 1714564800250LL);
	ck_assert_int_eq(stream_from_time("2024-05-01T11:30:00.1234-00:30",
			     &ms),
	    0);
	ck_assert_int_eq(ms, 1714564800123LL);
	ck_assert_int_eq(stream_from_time("2024-02-29T00:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, 1709164800000LL);
	ck_assert_int_eq(stream_from_time("1970-01-01T00:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(stream_from_time("2023-02-29T00:00:00Z", &ms), -1);
}
END_TEST

/* A stream group compiles; its retention reads back in the JSON. */
START_TEST(stream_key_compiles)
{
	struct contract_set set;
	char		   *cause, *q, *text;
	cJSON		   *j;

	ck_assert_int_eq(check_with("stream = { max_bytes = 5000000000L; "
				    "max_age = \"7D\"; };",
			     &set, &cause),
	    0);
	ck_assert_ptr_nonnull(set.v[0]->stream);
	ck_assert_int_eq(set.v[0]->stream->max_bytes, 5000000000LL);
	ck_assert_str_eq(set.v[0]->stream->max_age, "7D");
	j = contract_stream_to_json(set.v[0]->stream, "events", "RAE");
	text = cJSON_PrintUnformatted(j);
	ck_assert_str_eq(text,
	    "{\"queue\":\"events.RAE.stream\",\"max_bytes\":5000000000,"
	    "\"max_age\":\"7D\"}");
	free(text);
	cJSON_Delete(j);
	q = contract_stream_queue("events", "RAE");
	ck_assert_str_eq(q, "events.RAE.stream");
	free(q);
	contract_set_clear(&set);
	ck_assert_int_eq(check_with("", &set, &cause), 0);
	ck_assert_ptr_null(set.v[0]->stream);
	contract_set_clear(&set);
}
END_TEST

/* Bad stream keys are errors that name the contract and the problem. */
START_TEST(stream_bad_keys_refused)
{
	static const struct {
		const char *extra;
		const char *want;
	} bad[] = {
		{ "stream = 1;", "stream must be a group" },
		{ "stream = { max_age = \"7 days\"; };", "max_age must be" },
		{ "stream = { max_age = \"0D\"; };", "max_age must be" },
		{ "stream = { max_age = \"7d\"; };", "max_age must be" },
		{ "stream = { max_age = 7; };", "max_age must be" },
		{ "stream = { max_bytes = 0; };", "more than 0" },
		{ "stream = { max_bytes = \"1G\"; };", "must be an integer" },
		{ "stream = { max_length = 10; };",
		    "unknown key \"max_length\"" },
	};
	struct contract_set set;
	char		   *cause;
	size_t		    i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(check_with(bad[i].extra, &set, &cause) == -1,
		    "expected %s to be refused", bad[i].extra);
		ck_assert_msg(strstr(cause,
				  "contract ResourceAccessedEvent: "
				  "stream: ") != NULL &&
			strstr(cause, bad[i].want) != NULL,
		    "expected an error with \"%s\" for %s, got \"%s\"",
		    bad[i].want, bad[i].extra, cause);
		free(cause);
		contract_set_clear(&set);
	}
}
END_TEST

/* Count the findings of a rule. */
static void
check_lint_cb(const struct lint_finding *lf, void *arg)
{
	int *n = arg;

	if (strcmp(lf->rule, "stream-without-max-bytes") == 0)
		(*n)++;
}

/* lint flags a stream bounded by age only, or not at all. */
START_TEST(lint_flags_stream_without_max_bytes)
{
	static const struct {
		const char *extra;
		int	    want;
	} cases[] = {
		{ "", 0 },
		{ "stream = { max_bytes = 1000000; };", 0 },
		{ "stream = { max_bytes = 1000000; max_age = \"7D\"; };", 0 },
		{ "stream = { max_age = \"7D\"; };", 1 },
		{ "stream = { };", 1 },
	};
	struct contract_set set;
	char		   *cause;
	size_t		    i;
	int		    n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(check_with(cases[i].extra, &set, &cause), 0);
		n = 0;
		lint_contracts(&set, check_lint_cb, &n);
		ck_assert_msg(n == cases[i].want,
		    "expected %d stream-without-max-bytes for \"%s\", got %d",
		    cases[i].want, cases[i].extra, n);
		contract_set_clear(&set);
	}
}
END_TEST

/* compat: adding a stream is additive, removing it breaking, keeping
 * less breaking and keeping more additive. */
START_TEST(compat_classifies_stream_changes)
{
	static const struct {
		const char	   *from, *to;
		enum evolution_kind kind;
		enum evolution_class class;
		const char *words;
	} cases[] = {
		{ "", "stream = { max_age = \"7D\"; };", EVOLUTION_STREAM_ADDED,
		    EVOLUTION_ADDITIVE, "from now on" },
		{ "stream = { max_age = \"7D\"; };", "",
		    EVOLUTION_STREAM_REMOVED, EVOLUTION_BREAKING,
		    "\"from\" is refused" },
		{ "stream = { max_age = \"7D\"; };",
		    "stream = { max_age = \"24h\"; };", EVOLUTION_RETENTION,
		    EVOLUTION_BREAKING, "max_age shortened from 7D to 24h" },
		{ "stream = { max_age = \"7D\"; };",
		    "stream = { max_age = \"1M\"; };", EVOLUTION_RETENTION,
		    EVOLUTION_ADDITIVE, "max_age lengthened" },
		{ "stream = { max_bytes = 2000; };",
		    "stream = { max_bytes = 1000; };", EVOLUTION_RETENTION,
		    EVOLUTION_BREAKING, "max_bytes lowered from 2000 to 1000" },
		{ "stream = { };", "stream = { max_bytes = 1000; };",
		    EVOLUTION_RETENTION, EVOLUTION_BREAKING, "with a policy" },
		{ "stream = { max_bytes = 1000; };", "stream = { };",
		    EVOLUTION_RETENTION, EVOLUTION_ADDITIVE, "raised" },
	};
	struct contract_set	sets[2];
	struct evolution_report r;
	char		       *cause;
	size_t			i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(check_with(cases[i].from, &sets[0], &cause),
		    0);
		ck_assert_int_eq(check_with(cases[i].to, &sets[1], &cause), 0);
		memset(&r, 0, sizeof r);
		evolution_compare(&sets[0], &sets[1], &r);
		ck_assert_msg(r.n == 1,
		    "case %zu: expected one change, got %zu", i, r.n);
		ck_assert_int_eq(r.v[0].kind, cases[i].kind);
		ck_assert_int_eq(r.v[0].class, cases[i].class);
		ck_assert_str_eq(r.v[0].field, "stream");
		ck_assert_msg(strstr(r.v[0].message, cases[i].words) != NULL,
		    "case %zu: expected \"%s\" in \"%s\"", i, cases[i].words,
		    r.v[0].message);
		evolution_report_clear(&r);
		contract_set_clear(&sets[0]);
		contract_set_clear(&sets[1]);
	}
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("from");

	tcase_add_test(tc, from_words_and_offsets);
	tcase_add_test(tc, from_bad_values_refused);
	tcase_add_test(tc, from_times_in_unix_milliseconds);
	suite_add_tcase(s, tc);
	tc = tcase_create("contract");
	tcase_add_test(tc, stream_key_compiles);
	tcase_add_test(tc, stream_bad_keys_refused);
	tcase_add_test(tc, lint_flags_stream_without_max_bytes);
	tcase_add_test(tc, compat_classifies_stream_changes);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; fail if any test did. */
int
main(void)
{
	SRunner *sr;
	int	 failed;

	setlocale(LC_CTYPE, "C.UTF-8");
	sr = srunner_create(stream_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
