/* http.h -- the little HTTP/1.x that /metrics needs: the head of one
 * request, parsed from the bytes read so far. Pure (no I/O), so it is
 * unit-tested and fuzzed. */
#ifndef WARREN_HTTP_H
#define WARREN_HTTP_H

#include <stddef.h>

#define HTTP_MAX_HEAD 8192 /* request line and headers */
#define HTTP_MAX_PATH 256

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER
};

struct http_request {
	enum http_method method;
	char		 path[HTTP_MAX_PATH]; /* query cut off */
};

/*
 * Parse the request head in buf[0, len). Return 0 while it is incomplete
 * (read more), 200 once it is whole (req filled), or the status to refuse
 * it with: 400 malformed, 405 a method other than GET or HEAD, 414 a path
 * of HTTP_MAX_PATH bytes or more, 431 no end of head within
 * HTTP_MAX_HEAD bytes, 505 not HTTP/1.0 or 1.1. A bad request line is
 * refused as soon as it ends, before the headers.
 */
int http_parse(const char *buf, size_t len, struct http_request *req);

#endif
