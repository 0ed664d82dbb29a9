/* fuzz_json.c -- the JSON checker (json_check) on any bytes: it never
 * reads outside them, and what it accepts cJSON parses, with the "id" and
 * "data" spans inside the input. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

/* Abort unless span lies within [buf, buf + len). */
static void
fuzz_span_inside(const struct json_span *s, const char *buf, size_t len)
{
	if (s->ptr != NULL &&
	    (s->ptr < buf || s->len > len || s->ptr + s->len > buf + len))
		abort();
}

/* Check one input as a request line's JSON. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	   *buf = (const char *)data;
	struct json_capture cap[] = { { "id", { NULL, 0 } },
		{ "data", { NULL, 0 } } };
	char		   *cause = NULL;
	cJSON		   *tree;

	(void)json_utf8_valid(buf, size);
	if (json_check(buf, size, cap, 2, &cause) != 0) {
		if (cause == NULL || cap[0].span.ptr != NULL ||
		    cap[1].span.ptr != NULL)
			abort(); /* a refusal says why, and clears */
		free(cause);
		return (0);
	}
	fuzz_span_inside(&cap[0].span, buf, size);
	fuzz_span_inside(&cap[1].span, buf, size);
	if ((tree = cJSON_ParseWithLength(buf, size)) == NULL ||
	    !cJSON_IsObject(tree))
		abort(); /* checked, then not parsed: the two disagree */
	json_annotate_numbers(tree, buf, size);
	cJSON_Delete(tree);
	return (0);
}
