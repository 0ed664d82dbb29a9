/* check_message.c -- each broker.wire_format puts exactly its properties
 * and headers on a message, with the job's values. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "trace.h"

/* Every property flag a format may set. */
#define ALL_FLAGS \
	(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | \
	    AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | \
	    AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG | \
	    AMQP_BASIC_HEADERS_FLAG)

/* A job as the loop makes it: accepted at 2024-05-01T12:00:00.123Z. */
static void
job_init(struct pub_job *j)
{
	memset(j, 0, sizeof *j);
	j->routing_key = "resource.accessed";
	j->type = "ResourceAccessedEvent";
	j->body = "{}";
	j->bodylen = 2;
	strcpy(j->message_id, "4f0c2d3e-1111-4222-8333-944455556666");
	j->timestamp_ms = 1714564800123LL;
}

/* Does bytes b hold exactly the string s? */
static int
bytes_eq(amqp_bytes_t b, const char *s)
{
	return (b.len == strlen(s) && memcmp(b.bytes, s, b.len) == 0);
}

/* The value of header key in m, or NULL. */
static const amqp_field_value_t *
header(const struct message *m, const char *key)
{
	int i;

	for (i = 0; i < m->props.headers.num_entries; i++)
		if (bytes_eq(m->props.headers.entries[i].key, key))
			return (&m->props.headers.entries[i].value);
	return (NULL);
}

/* Is header key in m the UTF-8 string s? */
static int
header_is(const struct message *m, const char *key, const char *s)
{
	const amqp_field_value_t *v = header(m, key);

	return (v != NULL && v->kind == AMQP_FIELD_KIND_UTF8 &&
	    bytes_eq(v->value.bytes, s));
}

/* The three properties every format carries, with their values. */
static void
expect_base(const struct message *m, const struct pub_job *j)
{
	ck_assert(bytes_eq(m->props.content_type, "application/json"));
	ck_assert_int_eq(m->props.delivery_mode, AMQP_DELIVERY_PERSISTENT);
	ck_assert(bytes_eq(m->props.message_id, j->message_id));
}

START_TEST(cloudevents_carries_spec_format)
{
	struct pub_job j;
	struct message m;

	job_init(&j);
	message_build(&m, WIRE_CLOUDEVENTS, "link-service", &j);
	ck_assert_uint_eq(m.props._flags, ALL_FLAGS);
	expect_base(&m, &j);
	ck_assert_uint_eq(m.props.timestamp, 1714564800);
	ck_assert(bytes_eq(m.props.type, "ResourceAccessedEvent"));
	ck_assert(bytes_eq(m.props.app_id, "link-service"));
	ck_assert_int_eq(m.props.headers.num_entries, 5);
	ck_assert(header_is(&m, "cloudEvents:specversion", "1.0"));
	ck_assert(header_is(&m, "cloudEvents:id", j.message_id));
	ck_assert(header_is(&m, "cloudEvents:source", "link-service"));
	ck_assert(header_is(&m, "cloudEvents:type", "ResourceAccessedEvent"));
	ck_assert(header_is(&m, "cloudEvents:time",
	    "2024-05-01T12:00:00.123Z"));
}
END_TEST

START_TEST(standard_carries_properties_without_headers)
{
	struct pub_job j;
	struct message m;

	job_init(&j);
	message_build(&m, WIRE_STANDARD, "link-service", &j);
	ck_assert_uint_eq(m.props._flags, ALL_FLAGS & ~AMQP_BASIC_HEADERS_FLAG);
	expect_base(&m, &j);
	ck_assert_uint_eq(m.props.timestamp, 1714564800);
	ck_assert(bytes_eq(m.props.type, "ResourceAccessedEvent"));
	ck_assert(bytes_eq(m.props.app_id, "link-service"));
	ck_assert_int_eq(m.props.headers.num_entries, 0);
}
END_TEST

START_TEST(lean_carries_message_id_only)
{
	struct pub_job j;
	struct message m;

	job_init(&j);
	message_build(&m, WIRE_LEAN, "link-service", &j);
	ck_assert_uint_eq(m.props._flags,
	    AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		AMQP_BASIC_MESSAGE_ID_FLAG);
	expect_base(&m, &j);
	ck_assert_int_eq(m.props.headers.num_entries, 0);
}
END_TEST

START_TEST(trace_context_goes_out_in_every_format)
{
	static const char *tp =
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	struct pub_job j;
	struct message m;
	int	       f;

	for (f = WIRE_CLOUDEVENTS; f <= WIRE_LEAN; f++) {
		job_init(&j);
		trace_job_set(&j, tp, "vendor=1");
		message_build(&m, (enum wire_format)f, "link-service", &j);
		ck_assert(m.props._flags & AMQP_BASIC_HEADERS_FLAG);
		ck_assert(header_is(&m, "cloudEvents:traceparent", tp));
		ck_assert(header_is(&m, "cloudEvents:tracestate", "vendor=1"));
		ck_assert_int_eq(m.props.headers.num_entries,
		    f == WIRE_CLOUDEVENTS ? 7 : 2);
		free(j.traceparent);
		free(j.tracestate);
	}
}
END_TEST

START_TEST(format_names_parse_back)
{
	enum wire_format f;
	int		 i;

	for (i = WIRE_CLOUDEVENTS; i <= WIRE_LEAN; i++) {
		ck_assert_int_eq(wire_format_parse(
				     wire_format_name((enum wire_format)i), &f),
		    0);
		ck_assert_int_eq(f, i);
	}
	ck_assert_int_eq(wire_format_parse("CloudEvents", &f), -1);
	ck_assert_int_eq(wire_format_parse("", &f), -1);
	ck_assert_int_eq(WIRE_DEFAULT, WIRE_CLOUDEVENTS);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("message");
	TCase	*tc = tcase_create("message");
	SRunner *sr;
	int	 failed;

	tcase_add_test(tc, cloudevents_carries_spec_format);
	tcase_add_test(tc, standard_carries_properties_without_headers);
	tcase_add_test(tc, lean_carries_message_id_only);
	tcase_add_test(tc, format_names_parse_back);
	tcase_add_test(tc, trace_context_goes_out_in_every_format);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
