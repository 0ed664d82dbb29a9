/* wire.c -- the names of broker.wire_format's values and what each
 * carries; the publisher builds the message from these answers. */
#include <string.h>

#include "wire.h"

static const char *const wire_names[] = {
	[WIRE_CLOUDEVENTS] = "cloudevents",
	[WIRE_STANDARD] = "standard",
	[WIRE_LEAN] = "lean",
};

/* Set *out to the format named name; return 0, or -1 for no such name. */
int
wire_format_parse(const char *name, enum wire_format *out)
{
	size_t i;

	for (i = 0; i < sizeof wire_names / sizeof wire_names[0]; i++) {
		if (strcmp(name, wire_names[i]) == 0) {
			*out = (enum wire_format)i;
			return (0);
		}
	}
	return (-1);
}

/* The name of a format, as broker.wire_format spells it. */
const char *
wire_format_name(enum wire_format f)
{
	return (wire_names[f]);
}

/* Does the format carry timestamp, type and app_id? */
int
wire_has_properties(enum wire_format f)
{
	return (f == WIRE_CLOUDEVENTS || f == WIRE_STANDARD);
}

/* Does the format carry the cloudEvents:* headers? */
int
wire_has_cloudevents(enum wire_format f)
{
	return (f == WIRE_CLOUDEVENTS);
}
