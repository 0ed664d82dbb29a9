/* fuzz_trace.c -- the W3C trace context checks (traceparent.c) on any
 * bytes: what they accept is within its bounds and printable ASCII, so it
 * is safe in a message header, a deliver line and an environment
 * variable; a refusal says why. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "traceparent.h"

/* Abort unless s (accepted) is at most max characters of printable ASCII
 * (tabs allowed if tabs). */
static void
fuzz_trace_printable(const char *s, size_t max, int tabs)
{
	size_t n = strlen(s), i;

	if (n > max)
		abort();
	for (i = 0; i < n; i++) {
		if ((s[i] < 0x20 || s[i] > 0x7e) && !(tabs && s[i] == '\t'))
			abort();
	}
}

/* Check the input, up to its first NUL, both ways. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *cause = NULL;

	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (traceparent_check(s, &cause) == 0) {
		fuzz_trace_printable(s, TRACEPARENT_MAX, 0);
		if (strlen(s) < TRACEPARENT_LEN || strchr(s, ' ') != NULL ||
		    (strncmp(s, "00", 2) == 0 && strlen(s) != TRACEPARENT_LEN))
			abort();
	} else if (cause == NULL)
		abort();
	free(cause);
	cause = NULL;
	if (tracestate_check(s, &cause) == 0)
		fuzz_trace_printable(s, TRACESTATE_MAX, 1);
	else if (cause == NULL)
		abort();
	free(cause);
	free(s);
	return (0);
}
