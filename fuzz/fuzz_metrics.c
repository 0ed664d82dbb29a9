/* fuzz_metrics.c -- the metrics request path: whatever bytes a client
 * sends to metrics.listen, in whatever pieces, through http_parse as
 * metrics.c reads them (up to HTTP_MAX_HEAD, again after each piece). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

/* Feed one input to the parser piece by piece. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	size_t		    have = 0, step;
	int		    status = 0;

	/* The first byte says how the rest arrives: in pieces of 1 to 256. */
	if (size == 0)
		return (0);
	step = (size_t)data[0] + 1;
	data++;
	size--;
	while (status == 0 && have < size) {
		have = have + step < size ? have + step : size;
		memset(&req, 0, sizeof req);
		status = http_parse((const char *)data,
		    have > HTTP_MAX_HEAD ? HTTP_MAX_HEAD : have, &req);
		if (status == 200 &&
		    (req.path[0] != '/' ||
			strlen(req.path) >= sizeof req.path ||
			req.method == HTTP_OTHER))
			abort();
		if (status == 405 && req.method != HTTP_OTHER)
			abort();
		if (status != 0 && status != 200 && status != 400 &&
		    status != 405 && status != 414 && status != 431 &&
		    status != 505)
			abort();
	}
	/* A head longer than the limit is always decided. */
	if (status == 0 && have >= HTTP_MAX_HEAD)
		abort();
	return (0);
}
