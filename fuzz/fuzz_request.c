/* fuzz_request.c -- one request line as a client sends it: decoded
 * (proto_parse) and, for a publish, validated against its contract and
 * cut down to the contract it replaces, as request.c does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "json.h"
#include "projection.h"
#include "proto.h"
#include "util.h"

static struct conf *fuzz_conf;

/* Contracts with every field type and constraint, and a replacement. */
static const char fuzz_conf_text[] =
    "service = \"fuzz\";\n"
    "contracts = (\n"
    " { name = \"ResourceAccessedEvent\"; routing_key = \"resource.accessed\";\n"
    "   fields = ( { name = \"resource_id\"; type = \"string\"; min_length = 1;\n"
    "                max_length = 64; pattern = \"[a-z0-9-]+\"; },\n"
    "              { name = \"resource_name\"; type = \"string\"; max_length = 512; },\n"
    "              { name = \"accessed_at\"; type = \"datetime\"; },\n"
    "              { name = \"user_agent\"; type = \"string\"; optional = true; } ); },\n"
    " { name = \"ResourceAccessedEventV2\"; routing_key = \"resource.accessed.v2\";\n"
    "   replaces = \"ResourceAccessedEvent\";\n"
    "   fields = ( { name = \"resource_id\"; type = \"string\"; min_length = 1;\n"
    "                max_length = 64; pattern = \"[a-z0-9-]+\"; },\n"
    "              { name = \"resource_name\"; type = \"string\"; max_length = 512; },\n"
    "              { name = \"owner_id\"; type = \"string\"; max_length = 64; },\n"
    "              { name = \"accessed_at\"; type = \"datetime\"; } ); },\n"
    " { name = \"OrderPlacedEvent\"; routing_key = \"order.placed.v2\";\n"
    "   additional_fields = true;\n"
    "   fields = ( { name = \"id\"; type = \"uuid\"; }, { name = \"on\"; type = \"date\"; },\n"
    "     { name = \"n\"; type = \"integer\"; minimum = 1; maximum = 9; },\n"
    "     { name = \"x\"; type = \"number\"; minimum = 0.5; optional = true; },\n"
    "     { name = \"b\"; type = \"boolean\"; optional = true; },\n"
    "     { name = \"e\"; type = \"enum\"; values = [ \"a\", \"b\" ]; },\n"
    "     { name = \"o\"; type = \"object\"; optional = true;\n"
    "       fields = ( { name = \"k\"; type = \"string\"; } ); },\n"
    "     { name = \"a\"; type = \"array\"; min_items = 1; max_items = 3;\n"
    "       items = { type = \"object\"; fields = (\n"
    "         { name = \"sku\"; type = \"string\"; } ); }; } ); }\n"
    ");\n";

/* Load the contracts once. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir, *path, *cause;

	(void)argc;
	(void)argv;
	dir = fuzz_tmpdir();
	xasprintf(&path, "%s/warrend.conf", dir);
	fuzz_write(path, fuzz_conf_text, sizeof fuzz_conf_text - 1);
	if ((fuzz_conf = conf_load(path, &cause)) == NULL) {
		fprintf(stderr, "fuzz_request: %s\n", cause);
		abort();
	}
	free(path);
	free(dir);
	return (0);
}

/* The projection onto the replaced contract, validated as request.c does. */
static void
fuzz_projection(const struct contract *old, const struct request *req)
{
	cJSON *tree;
	char  *body, *msg = NULL, *path = NULL;
	size_t len;

	body = projection_body(old, req->data.ptr, req->data.len, &len);
	if ((tree = cJSON_ParseWithLength(body, len)) != NULL) {
		json_annotate_numbers(tree, body, len);
		(void)contract_validate(old, tree, &msg, &path);
	}
	cJSON_Delete(tree);
	free(body);
	free(msg);
	free(path);
}

/* Decode one request line and validate what it publishes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct contract *ct;
	struct request	       req;
	const char	      *code = NULL;
	char		      *msg = NULL, *path = NULL;

	if (proto_parse((const char *)data, size, &req, &code, &msg) != 0) {
		if (code == NULL || msg == NULL)
			abort(); /* an error reply needs both */
		free(msg);
		proto_request_clear(&req);
		return (0);
	}
	if (req.op == OP_PUBLISH &&
	    (ct = contract_find(&fuzz_conf->contracts, req.event)) != NULL) {
		if (contract_validate(ct, req.data_json, &msg, &path) == 0 &&
		    ct->replaced != NULL)
			fuzz_projection(ct->replaced, &req);
		free(msg);
		free(path);
	}
	proto_request_clear(&req);
	return (0);
}
