/* bench-wire.h -- the elements of warren's wire format, one bit each, so
 * that raw-publish can send any subset of them (-f) and the benches can
 * measure what each one costs the broker. */
#ifndef WARREN_BENCH_WIRE_H
#define WARREN_BENCH_WIRE_H

#include <err.h>
#include <stdlib.h>
#include <string.h>

/* The seed's bare message (content_type and delivery_mode 2) has none of
 * these; warren's wire formats are the sets named below. */
#define BW_MESSAGE_ID 0x001
#define BW_TIMESTAMP 0x002
#define BW_TYPE 0x004
#define BW_APP_ID 0x008
#define BW_MANDATORY 0x010
#define BW_CE_SPECVERSION 0x020
#define BW_CE_ID 0x040
#define BW_CE_SOURCE 0x080
#define BW_CE_TYPE 0x100
#define BW_CE_TIME 0x200
#define BW_CE_ALL 0x3e0

/* warrend's broker.wire_format values, as sets of elements. */
#define BW_LEAN (BW_MESSAGE_ID | BW_MANDATORY)
#define BW_STANDARD \
	(BW_MESSAGE_ID | BW_TIMESTAMP | BW_TYPE | BW_APP_ID | BW_MANDATORY)
#define BW_CLOUDEVENTS (BW_STANDARD | BW_CE_ALL)

static const struct bench_wire_name {
	const char *name;
	unsigned    bits;
} bench_wire_names[] = {
	{ "bare", 0 },
	{ "message_id", BW_MESSAGE_ID },
	{ "timestamp", BW_TIMESTAMP },
	{ "type", BW_TYPE },
	{ "app_id", BW_APP_ID },
	{ "mandatory", BW_MANDATORY },
	{ "ce_specversion", BW_CE_SPECVERSION },
	{ "ce_id", BW_CE_ID },
	{ "ce_source", BW_CE_SOURCE },
	{ "ce_type", BW_CE_TYPE },
	{ "ce_time", BW_CE_TIME },
	{ "lean", BW_LEAN },
	{ "standard", BW_STANDARD },
	{ "cloudevents", BW_CLOUDEVENTS },
};

/* The set of elements called word, or exit saying it is unknown. */
static inline unsigned
bench_wire_word(const char *word)
{
	size_t i, n = sizeof bench_wire_names / sizeof bench_wire_names[0];

	for (i = 0; i < n; i++)
		if (strcmp(word, bench_wire_names[i].name) == 0)
			return (bench_wire_names[i].bits);
	errx(2, "-f: unknown wire element: %s", word);
}

/* Read a comma-separated list of element and format names into a set of
 * elements, or exit naming the word it does not know. */
static inline unsigned
bench_wire_parse(const char *list)
{
	char	*copy, *word, *save = NULL;
	unsigned bits = 0;

	if ((copy = strdup(list)) == NULL)
		err(1, "strdup");
	for (word = strtok_r(copy, ",", &save); word != NULL;
	     word = strtok_r(NULL, ",", &save))
		bits |= bench_wire_word(word);
	free(copy);
	return (bits);
}

#endif
