/* schema.h -- event contracts as JSON Schema, in the shape Pydantic v2's
 * model_json_schema() gives a model with the same fields, and back.
 * Pure: no I/O. */
#ifndef WARREN_SCHEMA_H
#define WARREN_SCHEMA_H

#include <cjson/cJSON.h>

struct contract;

/*
 * The contract as a JSON Schema: title (the name), description, type
 * object, properties in field order, required, additionalProperties, and
 * x-warren-routing-key, x-warren-publisher, x-warren-consumers and
 * x-warren-replaces. Nested objects are "$defs" entries named after their
 * path ("OrderPlacedEvent" + "Items" + "Item"), reached by "$ref":
 * "#/$defs/NAME". Keys are sorted as Pydantic sorts them. The caller
 * frees it.
 */
cJSON *schema_from_contract(const struct contract *);

/*
 * The same, with the nested objects' schemas added to defs (whose keys
 * are the names taken: a name in use gets a number) and referred to as
 * refbase NAME, e.g. "#/components/schemas/" for an AsyncAPI document.
 */
cJSON *schema_from_contract_defs(const struct contract *, cJSON *defs,
    const char *refbase);

/*
 * The inverse: a JSON Schema (ours, or one in the same shape, e.g. from
 * Pydantic) as the JSON contract_to_json() gives for the contract, so that
 * schema_to_contract_json(schema_from_contract(c)) equals
 * contract_to_json(c). "$ref"s are resolved in schema itself. A field is
 * optional when it is not required or may be null. Returns NULL with
 * *cause (the caller frees it) for what a contract cannot express.
 */
cJSON *schema_to_contract_json(const cJSON *schema, char **cause);

/* A warren pattern as the ECMA-262 regex that, anchored as "^(?:...)$",
 * matches the same strings; NULL if it cannot be translated. */
char *schema_pattern_to_ecma(const char *);

/* A JSON Schema pattern as a warren pattern: the inside of
 * "^(?:...)$", or else ".*(p).*". */
char *schema_pattern_from_ecma(const char *);

#endif
