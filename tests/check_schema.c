/* check_schema.c -- unit tests for contracts as JSON Schema (schema.c,
 * schema-import.c, schema-pattern.c) and as AsyncAPI (asyncapi.c). */
#include <check.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asyncapi.h"
#include "conf.h"
#include "contract.h"
#include "schema.h"

/* A contract using every type and constraint, descriptions, optional
 * fields, nested objects and arrays. */
#define EVERYTHING \
	"contracts = ( {\n" \
	"  name = \"OrderPlacedEvent\";\n" \
	"  routing_key = \"order.placed.v2\";\n" \
	"  description = \"An order was placed.\";\n" \
	"  publisher = \"shop\";\n" \
	"  consumers = [ \"billing\", \"mail\" ];\n" \
	"  replaces = \"OrderCreatedEvent\";\n" \
	"  fields = (\n" \
	"    { name = \"order_id\"; type = \"uuid\"; description = \"Id.\"; },\n" \
	"    { name = \"placed_on\"; type = \"date\"; },\n" \
	"    { name = \"placed_at\"; type = \"datetime\"; optional = true; },\n" \
	"    { name = \"sku\"; type = \"string\"; min_length = 3; " \
	"max_length = 12; pattern = \"[A-Z]{3}-[0-9]+\"; },\n" \
	"    { name = \"code\"; type = \"string\"; " \
	"pattern = \"[[:digit:]]{2,}|x\\\\.y\"; },\n" \
	"    { name = \"word\"; type = \"string\"; pattern = \"[[:alpha:]]+\"; " \
	"optional = true; },\n" \
	"    { name = \"qty\"; type = \"integer\"; minimum = 1; " \
	"maximum = 99; },\n" \
	"    { name = \"total\"; type = \"number\"; minimum = 0.5; " \
	"maximum = 1e9; },\n" \
	"    { name = \"gift\"; type = \"boolean\"; optional = true; " \
	"description = \"Wrapped?\"; },\n" \
	"    { name = \"status\"; type = \"enum\"; values = [ \"new\", " \
	"\"paid\" ]; },\n" \
	"    { name = \"address\"; type = \"object\"; description = \"Where.\"; " \
	"fields = (\n" \
	"      { name = \"street\"; type = \"string\"; },\n" \
	"      { name = \"geo\"; type = \"object\"; optional = true; " \
	"additional_fields = true; fields = (\n" \
	"        { name = \"lat\"; type = \"number\"; } ); }\n" \
	"    ); },\n" \
	"    { name = \"items\"; type = \"array\"; min_items = 1; " \
	"max_items = 10; items = { type = \"object\"; description = \"A line.\"; " \
	"fields = (\n" \
	"      { name = \"sku\"; type = \"string\"; },\n" \
	"      { name = \"tags\"; type = \"array\"; items = { type = \"enum\"; " \
	"values = [ \"a\" ]; }; }\n" \
	"    ); }; },\n" \
	"    { name = \"notes\"; type = \"array\"; optional = true; items = { " \
	"type = \"string\"; max_length = 80; description = \"One note.\"; }; },\n" \
	"    { name = \"anything\"; type = \"array\"; }\n" \
	"  );\n" \
	"} );\n"

/* The seed's contract, as in conf/warrend.conf. */
#define RESOURCE_ACCESSED \
	"contracts = ( {\n" \
	"  name = \"ResourceAccessedEvent\";\n" \
	"  routing_key = \"resource.accessed\";\n" \
	"  description = \"A short link was opened.\";\n" \
	"  publisher = \"link-service\";\n" \
	"  consumers = [ \"analytics-service\" ];\n" \
	"  fields = (\n" \
	"    { name = \"resource_id\"; type = \"string\"; min_length = 1; " \
	"max_length = 64; },\n" \
	"    { name = \"resource_name\"; type = \"string\"; " \
	"max_length = 512; },\n" \
	"    { name = \"accessed_at\"; type = \"datetime\"; },\n" \
	"    { name = \"user_agent\"; type = \"string\"; optional = true; }\n" \
	"  );\n" \
	"} );\n"

/* Write text to a new temporary file; put its name in path. */
static void
check_write(const char *text, char *path, size_t len)
{
	FILE *f;
	int   fd;

	snprintf(path, len, "/tmp/check_schema.XXXXXX");
	fd = mkstemp(path);
	ck_assert_msg(fd != -1, "expected a temporary file, got none");
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Compile the first contract of a config text that must compile. */
static struct contract *
check_contract(const char *text)
{
	config_t		cfg;
	const config_setting_t *list;
	struct contract	       *c = NULL;
	char			path[64], *cause = NULL;

	check_write(text, path, sizeof path);
	config_init(&cfg);
	if (!config_read_file(&cfg, path))
		ck_abort_msg("expected the test config to parse, got line %d: "
			     "%s",
		    config_error_line(&cfg), config_error_text(&cfg));
	unlink(path);
	list = config_lookup(&cfg, "contracts");
	ck_assert_ptr_nonnull(list);
	if (contract_compile(config_setting_get_elem(list, 0), &c, &cause) != 0)
		ck_abort_msg("expected the contract to compile, got \"%s\"",
		    cause);
	config_destroy(&cfg);
	return (c);
}

/* Expect got to print exactly as the JSON text want, key order and all. */
static void
check_json(const char *what, const cJSON *got, const char *want)
{
	cJSON *w;
	char  *gs, *ws;

	w = cJSON_Parse(want);
	ck_assert_msg(w != NULL, "expected the test's JSON to parse: %s", want);
	ck_assert_msg(got != NULL, "%s: expected %s, got NULL", what, want);
	gs = cJSON_PrintUnformatted(got);
	ws = cJSON_PrintUnformatted(w);
	ck_assert_msg(strcmp(gs, ws) == 0, "%s: expected %s, got %s", what, ws,
	    gs);
	cJSON_free(gs);
	cJSON_free(ws);
	cJSON_Delete(w);
}

/* Expect the property name of schema s to be the JSON text want. */
static void
check_property(const cJSON *s, const char *name, const char *want)
{
	const cJSON *p;

	p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s,
						 "properties"),
	    name);
	check_json(name, p, want);
}

/* Expect the $defs entry name of schema s to be the JSON text want. */
static void
check_def(const cJSON *s, const char *name, const char *want)
{
	const cJSON *d;

	d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s,
						 "$defs"),
	    name);
	check_json(name, d, want);
}

START_TEST(schema_is_pydantic_model_json_schema_for_seed_contract)
{
	struct contract *c = check_contract(RESOURCE_ACCESSED);
	cJSON		*s = schema_from_contract(c);

	/* Pydantic v2.13's model_json_schema() for the seed's model with
	 * extra="forbid" and these Field() constraints, plus our x- keys. */
	check_json("ResourceAccessedEvent", s,
	    "{"
	    "\"additionalProperties\":false,"
	    "\"description\":\"A short link was opened.\","
	    "\"properties\":{"
	    "\"resource_id\":{\"maxLength\":64,\"minLength\":1,"
	    "\"title\":\"Resource Id\",\"type\":\"string\"},"
	    "\"resource_name\":{\"maxLength\":512,\"title\":\"Resource Name\","
	    "\"type\":\"string\"},"
	    "\"accessed_at\":{\"format\":\"date-time\","
	    "\"title\":\"Accessed At\",\"type\":\"string\"},"
	    "\"user_agent\":{\"anyOf\":[{\"type\":\"string\"},"
	    "{\"type\":\"null\"}],\"default\":null,\"title\":\"User Agent\"}},"
	    "\"required\":[\"resource_id\",\"resource_name\",\"accessed_at\"],"
	    "\"title\":\"ResourceAccessedEvent\",\"type\":\"object\","
	    "\"x-warren-consumers\":[\"analytics-service\"],"
	    "\"x-warren-publisher\":\"link-service\","
	    "\"x-warren-routing-key\":\"resource.accessed\"}");
	cJSON_Delete(s);
	contract_free(c);
}
END_TEST

START_TEST(schema_scalar_types_and_constraints)
{
	struct contract *c = check_contract(EVERYTHING);
	cJSON		*s = schema_from_contract(c);

	check_property(s, "order_id",
	    "{\"description\":\"Id.\","
	    "\"format\":\"uuid\",\"title\":\"Order Id\",\"type\":\"string\"}");
	check_property(s, "placed_on",
	    "{\"format\":\"date\","
	    "\"title\":\"Placed On\",\"type\":\"string\"}");
	check_property(s, "sku",
	    "{\"maxLength\":12,\"minLength\":3,"
	    "\"pattern\":\"^(?:[A-Z]{3}-[0-9]+)$\",\"title\":\"Sku\","
	    "\"type\":\"string\"}");
	check_property(s, "qty",
	    "{\"maximum\":99,\"minimum\":1,"
	    "\"title\":\"Qty\",\"type\":\"integer\"}");
	check_property(s, "total",
	    "{\"maximum\":1000000000,\"minimum\":0.5,"
	    "\"title\":\"Total\",\"type\":\"number\"}");
	check_property(s, "status",
	    "{\"enum\":[\"new\",\"paid\"],"
	    "\"title\":\"Status\",\"type\":\"string\"}");
	check_property(s, "anything",
	    "{\"items\":{},\"title\":\"Anything\","
	    "\"type\":\"array\"}");
	cJSON_Delete(s);
	contract_free(c);
}
END_TEST

START_TEST(schema_optional_field_is_any_of_null_with_default_null)
{
	struct contract *c = check_contract(EVERYTHING);
	cJSON		*s = schema_from_contract(c);

	check_property(s, "placed_at",
	    "{\"anyOf\":[{\"format\":\"date-time\","
	    "\"type\":\"string\"},{\"type\":\"null\"}],\"default\":null,"
	    "\"title\":\"Placed At\"}");
	check_property(s, "gift",
	    "{\"anyOf\":[{\"type\":\"boolean\"},"
	    "{\"type\":\"null\"}],\"default\":null,\"description\":\"Wrapped?\","
	    "\"title\":\"Gift\"}");
	check_property(s, "notes",
	    "{\"anyOf\":[{\"items\":{"
	    "\"description\":\"One note.\",\"maxLength\":80,\"type\":\"string\"},"
	    "\"type\":\"array\"},{\"type\":\"null\"}],\"default\":null,"
	    "\"title\":\"Notes\"}");
	check_json("required", cJSON_GetObjectItemCaseSensitive(s, "required"),
	    "[\"order_id\",\"placed_on\",\"sku\",\"code\",\"qty\",\"total\","
	    "\"status\",\"address\",\"items\",\"anything\"]");
	cJSON_Delete(s);
	contract_free(c);
}
END_TEST

START_TEST(schema_nested_objects_are_defs_named_after_their_path)
{
	struct contract *c = check_contract(EVERYTHING);
	cJSON		*s = schema_from_contract(c);

	/* As Pydantic refers to a nested model: no title beside the $ref. */
	check_property(s, "address",
	    "{\"$ref\":"
	    "\"#/$defs/OrderPlacedEventAddress\",\"description\":\"Where.\"}");
	check_property(s, "items",
	    "{\"items\":{\"$ref\":"
	    "\"#/$defs/OrderPlacedEventItemsItem\",\"description\":"
	    "\"A line.\"},\"maxItems\":10,\"minItems\":1,\"title\":\"Items\","
	    "\"type\":\"array\"}");
	check_def(s, "OrderPlacedEventAddress",
	    "{\"additionalProperties\":false,"
	    "\"properties\":{\"street\":{\"title\":\"Street\",\"type\":"
	    "\"string\"},\"geo\":{\"anyOf\":[{\"$ref\":"
	    "\"#/$defs/OrderPlacedEventAddressGeo\"},{\"type\":\"null\"}],"
	    "\"default\":null}},\"required\":[\"street\"],"
	    "\"title\":\"OrderPlacedEventAddress\",\"type\":\"object\"}");
	check_def(s, "OrderPlacedEventAddressGeo",
	    "{\"additionalProperties\":"
	    "true,\"properties\":{\"lat\":{\"title\":\"Lat\",\"type\":"
	    "\"number\"}},\"required\":[\"lat\"],"
	    "\"title\":\"OrderPlacedEventAddressGeo\",\"type\":\"object\"}");
	check_def(s, "OrderPlacedEventItemsItem",
	    "{\"additionalProperties\":"
	    "false,\"properties\":{\"sku\":{\"title\":\"Sku\",\"type\":"
	    "\"string\"},\"tags\":{\"items\":{\"enum\":[\"a\"],\"type\":"
	    "\"string\"},\"title\":\"Tags\",\"type\":\"array\"}},"
	    "\"required\":[\"sku\",\"tags\"],"
	    "\"title\":\"OrderPlacedEventItemsItem\",\"type\":\"object\"}");
	ck_assert_msg(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s,
			  "$defs")) == 3,
	    "expected 3 $defs, got %d",
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "$defs")));
	ck_assert_msg(strcmp(s->child->string, "$defs") == 0,
	    "expected $defs first, as Pydantic sorts it, got %s",
	    s->child->string);
	cJSON_Delete(s);
	contract_free(c);
}
END_TEST

START_TEST(schema_def_names_that_clash_get_a_number)
{
	struct contract *c;
	cJSON		*s;

	c = check_contract(
	    "contracts = ( { name = \"TestEvent\"; "
	    "routing_key = \"test.event\"; fields = ( "
	    "{ name = \"a_b\"; type = \"object\"; fields = (); }, "
	    "{ name = \"aB\"; type = \"object\"; fields = (); } ); } );");
	s = schema_from_contract(c);
	check_property(s, "a_b", "{\"$ref\":\"#/$defs/TestEventAB\"}");
	check_property(s, "aB", "{\"$ref\":\"#/$defs/TestEventAB2\"}");
	check_def(s, "TestEventAB2",
	    "{\"additionalProperties\":false,"
	    "\"properties\":{},\"title\":\"TestEventAB2\",\"type\":\"object\"}");
	cJSON_Delete(s);
	contract_free(c);
}
END_TEST

START_TEST(schema_additional_fields_allows_additional_properties)
{
	struct contract *c;
	cJSON		*s;

	c = check_contract(
	    "contracts = ( { name = \"TestEvent\"; "
	    "routing_key = \"test.event\"; additional_fields = true; "
	    "fields = ( { name = \"n\"; type = \"integer\"; optional = true; "
	    "minimum = -3; } ); } );");
	s = schema_from_contract(c);
	check_json("TestEvent", s,
	    "{\"additionalProperties\":true,"
	    "\"properties\":{\"n\":{\"anyOf\":[{\"minimum\":-3,\"type\":"
	    "\"integer\"},{\"type\":\"null\"}],\"default\":null,\"title\":"
	    "\"N\"}},\"title\":\"TestEvent\",\"type\":\"object\","
	    "\"x-warren-routing-key\":\"test.event\"}");
	cJSON_Delete(s);
	contract_free(c);
}
END_TEST

START_TEST(schema_pattern_is_anchored_ecma_with_the_original_kept)
{
	struct contract *c = check_contract(EVERYTHING);
	cJSON		*s = schema_from_contract(c);

	/* [[:digit:]] is ASCII in every locale: translated. */
	check_property(s, "code",
	    "{\"pattern\":\"^(?:[0-9]{2,}|x\\\\.y)$\","
	    "\"title\":\"Code\",\"type\":\"string\",\"x-warren-pattern\":"
	    "\"[[:digit:]]{2,}|x\\\\.y\"}");
	/* [[:alpha:]] takes in Unicode letters in C.UTF-8: not translated,
	 * so the schema says less than the contract, never more. */
	check_property(s, "word",
	    "{\"anyOf\":[{\"type\":\"string\","
	    "\"x-warren-pattern\":\"[[:alpha:]]+\"},{\"type\":\"null\"}],"
	    "\"default\":null,\"title\":\"Word\"}");
	cJSON_Delete(s);
	contract_free(c);
}
END_TEST

/* Expect ere to translate to want (NULL: not at all). */
static void
check_to_ecma(const char *ere, const char *want)
{
	char *got = schema_pattern_to_ecma(ere);

	if (want == NULL)
		ck_assert_msg(got == NULL, "expected %s untranslated, got %s",
		    ere, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
		    "expected %s as ECMA %s, got %s", ere, want,
		    got == NULL ? "NULL" : got);
	free(got);
}

START_TEST(schema_pattern_translation_keeps_the_matched_strings)
{
	check_to_ecma("[a-z0-9-]+", "[a-z0-9-]+");
	check_to_ecma("(ab|c)*d?", "(ab|c)*d?");
	check_to_ecma("a{2}b{1,3}c{2,}", "a{2}b{1,3}c{2,}");
	check_to_ecma("a{,3}", "a{0,3}");
	check_to_ecma("a{x}", "a\\{x\\}");
	check_to_ecma("[]a]", "[\\]a]");
	check_to_ecma("[^]a]", "[^\\]a]");
	check_to_ecma("[a\\]", "[a\\\\]");
	check_to_ecma("[[:xdigit:]]{8}", "[0-9A-Fa-f]{8}");
	check_to_ecma("[[.-.]a]", "[\\-a]");
	check_to_ecma("*a", "\\*a");
	check_to_ecma("(+|?)", "(\\+|\\?)");
	check_to_ecma("a\\-b\\.c", "a-b\\.c");
	check_to_ecma("\\`ab\\'", "^ab$");
	check_to_ecma("a]b}", "a\\]b\\}");
	check_to_ecma("x/y", "x/y");
	check_to_ecma("caf\xc3\xa9+", "caf\xc3\xa9+");
	check_to_ecma("[[:alpha:]]", NULL);
	check_to_ecma("[[:space:]]", NULL);
	check_to_ecma("\\w+", NULL);
	check_to_ecma("\\bx", NULL);
	check_to_ecma("a**", NULL);
	check_to_ecma("a+{2}", NULL);
	check_to_ecma("[[.space.]]", NULL);
}
END_TEST

/* Expect the JSON Schema pattern p to read back as the warren pattern
 * want. */
static void
check_from_ecma(const char *p, const char *want)
{
	char *got = schema_pattern_from_ecma(p);

	ck_assert_msg(strcmp(got, want) == 0, "expected %s as %s, got %s", p,
	    want, got);
	free(got);
}

START_TEST(schema_pattern_read_back_is_whole_match)
{
	check_from_ecma("^(?:[A-Z]+)$", "[A-Z]+");
	check_from_ecma("^(?:a|b)$", "a|b");
	check_from_ecma("^(?:a)|(?:b)$", ".*(^(?:a)|(?:b)$).*");
	check_from_ecma("[A-Z]+", ".*([A-Z]+).*");
	check_from_ecma("^[a-z]+$", ".*(^[a-z]+$).*");
}
END_TEST

/* Expect contract_to_json(c) and the contract read back from its schema
 * (printed and parsed again, as a file would hold it) to be the same. */
static void
check_round_trip(const char *text)
{
	struct contract *c = check_contract(text);
	cJSON		*s, *parsed, *back, *orig;
	char		*printed, *cause = NULL, *want;

	s = schema_from_contract(c);
	printed = cJSON_Print(s);
	parsed = cJSON_Parse(printed);
	back = schema_to_contract_json(parsed, &cause);
	ck_assert_msg(back != NULL,
	    "expected the schema of %s to read back, "
	    "got \"%s\"",
	    c->name, cause);
	orig = contract_to_json(c);
	want = cJSON_PrintUnformatted(orig);
	check_json("contract -> schema -> contract", back, want);
	cJSON_free(want);
	cJSON_free(printed);
	cJSON_Delete(orig);
	cJSON_Delete(back);
	cJSON_Delete(parsed);
	cJSON_Delete(s);
	contract_free(c);
}

START_TEST(schema_round_trip_is_lossless)
{
	check_round_trip(EVERYTHING);
	check_round_trip(RESOURCE_ACCESSED);
	check_round_trip(
	    "contracts = ( { name = \"TestEvent\"; "
	    "routing_key = \"test.event\"; additional_fields = true; "
	    "fields = (); } );");
	check_round_trip(
	    "contracts = ( { name = \"TestEvent\"; "
	    "routing_key = \"test.event\"; fields = ( "
	    "{ name = \"a_b\"; type = \"object\"; fields = (); }, "
	    "{ name = \"aB\"; type = \"array\"; items = { type = \"array\"; "
	    "items = { type = \"object\"; fields = ( { name = \"x\"; "
	    "type = \"string\"; pattern = \"\\\\w+|[[:punct:]]\"; } ); }; }; "
	    "} ); } );");
}
END_TEST

/* Pydantic 2.13's model_json_schema() for:
 *	class St(str, Enum): a = "a"; b = "b"
 *	class Item(BaseModel):
 *	    model_config = ConfigDict(extra="allow")
 *	    sku: str = Field(pattern=r"^(?:[A-Z]+)$")
 *	class O(BaseModel):
 *	    i: Item
 *	    k: Optional[Item] = Field(None, description="kd")
 *	    l: List[Item] = Field(min_length=1, max_length=3)
 *	    e: St
 *	    lit: Literal["x", "y"]
 *	    n: Optional[int] = Field(None, ge=1, le=5)
 *	    u: uuid.UUID
 */
#define PYDANTIC_O \
	"{\"$defs\":{\"Item\":{\"additionalProperties\":true," \
	"\"properties\":{\"sku\":{\"pattern\":\"^(?:[A-Z]+)$\",\"title\":" \
	"\"Sku\",\"type\":\"string\"}},\"required\":[\"sku\"],\"title\":" \
	"\"Item\",\"type\":\"object\"},\"St\":{\"enum\":[\"a\",\"b\"]," \
	"\"title\":\"St\",\"type\":\"string\"}},\"properties\":{\"i\":{" \
	"\"$ref\":\"#/$defs/Item\"},\"k\":{\"anyOf\":[{\"$ref\":" \
	"\"#/$defs/Item\"},{\"type\":\"null\"}],\"default\":null," \
	"\"description\":\"kd\"},\"l\":{\"items\":{\"$ref\":\"#/$defs/Item\"}," \
	"\"maxItems\":3,\"minItems\":1,\"title\":\"L\",\"type\":\"array\"}," \
	"\"e\":{\"$ref\":\"#/$defs/St\"},\"lit\":{\"enum\":[\"x\",\"y\"]," \
	"\"title\":\"Lit\",\"type\":\"string\"},\"n\":{\"anyOf\":[{\"maximum\":" \
	"5,\"minimum\":1,\"type\":\"integer\"},{\"type\":\"null\"}],\"default\":" \
	"null,\"title\":\"N\"},\"u\":{\"format\":\"uuid\",\"title\":\"U\"," \
	"\"type\":\"string\"}},\"required\":[\"i\",\"l\",\"e\",\"lit\",\"u\"]," \
	"\"title\":\"O\",\"type\":\"object\"}"

START_TEST(schema_import_reads_pydantic_output)
{
	cJSON *s, *got;
	char  *cause = NULL;

	s = cJSON_Parse(PYDANTIC_O);
	got = schema_to_contract_json(s, &cause);
	ck_assert_msg(got != NULL,
	    "expected Pydantic's schema to read, got "
	    "\"%s\"",
	    cause);
	check_json("O", got,
	    "{\"name\":\"O\",\"consumers\":[],"
	    "\"additional_fields\":true,\"fields\":["
	    "{\"name\":\"i\",\"type\":\"object\",\"optional\":false,"
	    "\"additional_fields\":true,\"fields\":[{\"name\":\"sku\",\"type\":"
	    "\"string\",\"optional\":false,\"pattern\":\"[A-Z]+\"}]},"
	    "{\"name\":\"k\",\"type\":\"object\",\"optional\":true,"
	    "\"description\":\"kd\",\"additional_fields\":true,\"fields\":["
	    "{\"name\":\"sku\",\"type\":\"string\",\"optional\":false,"
	    "\"pattern\":\"[A-Z]+\"}]},"
	    "{\"name\":\"l\",\"type\":\"array\",\"optional\":false,\"items\":"
	    "{\"type\":\"object\",\"additional_fields\":true,\"fields\":["
	    "{\"name\":\"sku\",\"type\":\"string\",\"optional\":false,"
	    "\"pattern\":\"[A-Z]+\"}]},\"min_items\":1,\"max_items\":3},"
	    "{\"name\":\"e\",\"type\":\"enum\",\"optional\":false,\"values\":"
	    "[\"a\",\"b\"]},"
	    "{\"name\":\"lit\",\"type\":\"enum\",\"optional\":false,\"values\":"
	    "[\"x\",\"y\"]},"
	    "{\"name\":\"n\",\"type\":\"integer\",\"optional\":true,"
	    "\"minimum\":1,\"maximum\":5},"
	    "{\"name\":\"u\",\"type\":\"uuid\",\"optional\":false}]}");
	cJSON_Delete(got);
	cJSON_Delete(s);
}
END_TEST

/* Expect the schema (JSON text) to be refused with cause want. */
static void
check_import_fails(const char *schema, const char *want)
{
	cJSON *s, *got;
	char  *cause = NULL;

	s = cJSON_Parse(schema);
	ck_assert_msg(s != NULL, "expected the test's JSON to parse: %s",
	    schema);
	got = schema_to_contract_json(s, &cause);
	ck_assert_msg(got == NULL,
	    "expected %s refused with \"%s\", got a "
	    "contract",
	    schema, want);
	ck_assert_msg(cause != NULL && strcmp(cause, want) == 0,
	    "expected \"%s\", got \"%s\"", want, cause);
	free(cause);
	cJSON_Delete(s);
}

START_TEST(schema_import_refuses_what_a_contract_cannot_say)
{
	check_import_fails("{\"title\":\"bad name\",\"type\":\"object\"}",
	    "schema: title must be a contract name (^[A-Z][A-Za-z0-9]*$)");
	check_import_fails("{\"title\":\"T\",\"type\":\"array\"}",
	    "schema: the schema must be of type object");
	check_import_fails("{\"title\":\"T\",\"properties\":{\"n\":{\"type\":"
			   "\"number\",\"exclusiveMinimum\":0}}}",
	    "schema: n: exclusiveMinimum is not supported");
	check_import_fails("{\"title\":\"T\",\"properties\":{\"m\":{\"type\":"
			   "\"string\",\"format\":\"email\"}}}",
	    "schema: m: format \"email\" is not supported");
	check_import_fails("{\"title\":\"T\",\"properties\":{\"u\":{\"anyOf\":"
			   "[{\"type\":\"string\"},{\"type\":\"integer\"}]}}}",
	    "schema: u: anyOf is not supported");
	check_import_fails(
	    "{\"title\":\"T\",\"properties\":{\"v\":{\"type\":"
	    "\"string\",\"title\":\"V\",\"x-ui\":1,\"minLenght\":1}}}",
	    "schema: v: minLenght is not supported");
	check_import_fails(
	    "{\"title\":\"T\",\"properties\":{\"a\":{\"type\":"
	    "\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":"
	    "\"null\"}]}}}}",
	    "schema: a[]: array items may not be null");
	check_import_fails("{\"title\":\"T\",\"properties\":{\"o\":{\"$ref\":"
			   "\"#/$defs/Nope\"}}}",
	    "schema: o: $ref \"#/$defs/Nope\" does not "
	    "lead to a schema in this document");
	check_import_fails("{\"title\":\"T\",\"properties\":{\"o\":{\"$ref\":"
			   "\"#\"}}}",
	    "schema: o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o.o."
	    "o.o.o.o.o.o.o.o.o.o: objects nested too deeply (a recursive $ref?)");
	check_import_fails("{\"title\":\"T\",\"properties\":{\"c\":{\"type\":"
			   "\"integer\",\"minimum\":\"1\"}}}",
	    "schema: c: minimum must be a number");
	/* POSIX regcomp would read \\d as a plain d: never accept it. */
	check_import_fails("{\"title\":\"T\",\"properties\":{\"z\":{\"type\":"
			   "\"string\",\"pattern\":\"^\\\\d{5}$\"}}}",
	    "schema: z: pattern escape \"\\d\" has no POSIX equivalent: write "
	    "it as a bracket expression, e.g. [0-9] for \\d");
}
END_TEST

START_TEST(schema_import_integer_exclusive_bounds_become_inclusive)
{
	cJSON *s, *got;
	char  *cause = NULL;

	/* Pydantic's Field(gt=0, lt=10), conint(gt=0.5), and a minimum
	 * tighter than the exclusive bound beside it. */
	s = cJSON_Parse(
	    "{\"title\":\"T\",\"properties\":{"
	    "\"p\":{\"exclusiveMaximum\":10,\"exclusiveMinimum\":0,"
	    "\"type\":\"integer\"},"
	    "\"h\":{\"exclusiveMinimum\":0.5,\"exclusiveMaximum\":2.5,"
	    "\"type\":\"integer\"},"
	    "\"t\":{\"exclusiveMinimum\":0,\"minimum\":5,"
	    "\"type\":\"integer\"}},\"required\":[\"p\",\"h\",\"t\"]}");
	got = schema_to_contract_json(s, &cause);
	ck_assert_msg(got != NULL, "expected the schema to read, got \"%s\"",
	    cause);
	check_json("T", got,
	    "{\"name\":\"T\",\"consumers\":[],"
	    "\"additional_fields\":true,\"fields\":["
	    "{\"name\":\"p\",\"type\":\"integer\",\"optional\":false,"
	    "\"minimum\":1,\"maximum\":9},"
	    "{\"name\":\"h\",\"type\":\"integer\",\"optional\":false,"
	    "\"minimum\":1,\"maximum\":2},"
	    "{\"name\":\"t\",\"type\":\"integer\",\"optional\":false,"
	    "\"minimum\":5}]}");
	cJSON_Delete(got);
	cJSON_Delete(s);
}
END_TEST

/* Load a whole config text that must load. */
static struct conf *
check_conf(const char *text)
{
	struct conf *cf;
	char	     path[64], *cause = NULL;

	check_write(text, path, sizeof path);
	cf = conf_load(path, &cause);
	unlink(path);
	ck_assert_msg(cf != NULL, "expected the config to load, got \"%s\"",
	    cause);
	return (cf);
}

#define ASYNCAPI_CONF \
	"service = \"billing\";\n" \
	"broker: { urls = [ \"amqp://bob:s3cr3t@mq1.example:5673/prod\", " \
	"\"amqp://bob:s3cr3t@[::1]/%2f\" ]; exchange = \"ev\"; };\n" \
	"contracts = (\n" \
	"  { name = \"OrderPlacedEvent\"; routing_key = \"order.placed\"; " \
	"publisher = \"shop\"; consumers = [ \"billing\" ]; fields = ( " \
	"{ name = \"a\"; type = \"object\"; fields = (); } ); },\n" \
	"  { name = \"InvoiceSentEvent\"; routing_key = \"invoice.sent\"; " \
	"publisher = \"billing\"; fields = (); },\n" \
	"  { name = \"OrderPlacedEventA\"; routing_key = \"other.thing\"; " \
	"fields = (); }\n" \
	");\n"

START_TEST(asyncapi_servers_never_carry_a_password)
{
	struct conf *cf = check_conf(ASYNCAPI_CONF);
	cJSON	    *doc = asyncapi_document(cf);
	char	    *text = cJSON_PrintUnformatted(doc);

	ck_assert_msg(strstr(text, "s3cr3t") == NULL &&
		strstr(text, "bob") == NULL,
	    "expected no user or password in %s", text);
	check_json("servers", cJSON_GetObjectItemCaseSensitive(doc, "servers"),
	    "{\"broker1\":{\"host\":\"mq1.example:5673\",\"protocol\":\"amqp\","
	    "\"protocolVersion\":\"0.9.1\",\"pathname\":\"/prod\","
	    "\"description\":\"RabbitMQ broker 1 of 2, tried in turn "
	    "(failover).\"},\"broker2\":{\"host\":\"[::1]:5672\",\"protocol\":"
	    "\"amqp\",\"protocolVersion\":\"0.9.1\",\"pathname\":\"/%2F\","
	    "\"description\":\"RabbitMQ broker 2 of 2, tried in turn "
	    "(failover).\"}}");
	cJSON_free(text);
	cJSON_Delete(doc);
	conf_free(cf);
}
END_TEST

START_TEST(asyncapi_operations_follow_publisher_and_consumers)
{
	struct conf *cf = check_conf(ASYNCAPI_CONF);
	cJSON	    *doc = asyncapi_document(cf);
	const cJSON *ops, *ch, *schemas;

	ops = cJSON_GetObjectItemCaseSensitive(doc, "operations");
	ck_assert_msg(cJSON_GetArraySize(ops) == 2 &&
		cJSON_HasObjectItem(ops, "receiveOrderPlacedEvent") &&
		cJSON_HasObjectItem(ops, "sendInvoiceSentEvent"),
	    "expected receiveOrderPlacedEvent and sendInvoiceSentEvent only");
	check_json("receive",
	    cJSON_GetObjectItemCaseSensitive(ops, "receiveOrderPlacedEvent"),
	    "{\"action\":\"receive\",\"channel\":"
	    "{\"$ref\":\"#/channels/OrderPlacedEvent\"},\"messages\":[{\"$ref\":"
	    "\"#/channels/OrderPlacedEvent/messages/OrderPlacedEvent\"}],"
	    "\"summary\":\"billing consumes OrderPlacedEvent from its queue "
	    "billing.OrderPlacedEvent.\",\"bindings\":{\"amqp\":{\"ack\":true,"
	    "\"bindingVersion\":\"0.3.0\"}},\"x-warren-queue\":"
	    "\"billing.OrderPlacedEvent\",\"x-warren-dead-letter-queue\":"
	    "\"billing.OrderPlacedEvent.dead\"}");
	ch = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "channels"),
	    "InvoiceSentEvent");
	check_json("channel", ch,
	    "{\"address\":\"invoice.sent\",\"title\":"
	    "\"InvoiceSentEvent\",\"messages\":{\"InvoiceSentEvent\":{\"$ref\":"
	    "\"#/components/messages/InvoiceSentEvent\"}},\"bindings\":{"
	    "\"amqp\":{\"is\":\"routingKey\",\"exchange\":{\"name\":\"ev\","
	    "\"type\":\"topic\",\"durable\":true,\"autoDelete\":false,"
	    "\"vhost\":\"prod\"},\"bindingVersion\":\"0.3.0\"}},"
	    "\"x-warren-publisher\":\"billing\",\"x-warren-consumers\":[]}");
	/* A nested object's schema must not take a contract's name. */
	schemas = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "components"), "schemas");
	check_json("OrderPlacedEventA",
	    cJSON_GetObjectItemCaseSensitive(schemas, "OrderPlacedEventA2"),
	    "{\"additionalProperties\":false,"
	    "\"properties\":{},\"title\":\"OrderPlacedEventA2\",\"type\":"
	    "\"object\"}");
	ck_assert_msg(strcmp(cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(schemas,
				     "OrderPlacedEventA"),
				 "title")
				 ->valuestring,
			  "OrderPlacedEventA") == 0,
	    "expected the contract OrderPlacedEventA's own schema kept");
	cJSON_Delete(doc);
	conf_free(cf);
}
END_TEST

/* The suite. */
static Suite *
schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("schema");

	tcase_add_test(tc,
	    schema_is_pydantic_model_json_schema_for_seed_contract);
	tcase_add_test(tc, schema_scalar_types_and_constraints);
	tcase_add_test(tc,
	    schema_optional_field_is_any_of_null_with_default_null);
	tcase_add_test(tc,
	    schema_nested_objects_are_defs_named_after_their_path);
	tcase_add_test(tc, schema_def_names_that_clash_get_a_number);
	tcase_add_test(tc,
	    schema_additional_fields_allows_additional_properties);
	tcase_add_test(tc,
	    schema_pattern_is_anchored_ecma_with_the_original_kept);
	tcase_add_test(tc,
	    schema_pattern_translation_keeps_the_matched_strings);
	tcase_add_test(tc, schema_pattern_read_back_is_whole_match);
	tcase_add_test(tc, schema_round_trip_is_lossless);
	tcase_add_test(tc, schema_import_reads_pydantic_output);
	tcase_add_test(tc, schema_import_refuses_what_a_contract_cannot_say);
	tcase_add_test(tc,
	    schema_import_integer_exclusive_bounds_become_inclusive);
	tcase_add_test(tc, asyncapi_servers_never_carry_a_password);
	tcase_add_test(tc, asyncapi_operations_follow_publisher_and_consumers);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr;
	int	 failed;

	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
		fprintf(stderr, "check_schema: no C.UTF-8 locale\n");
		return (EXIT_FAILURE);
	}
	sr = srunner_create(schema_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
