/* http.c -- an HTTP/1.x request head, trusting nothing in it. */
#include <string.h>

#include "http.h"

/* Is c allowed in a method token (RFC 9110 tchar, letters and digits)? */
static int
http_tchar(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

/* The request line line[0, len) (no CR or LF): method, path, version. */
static int
http_request_line(const char *line, size_t len, struct http_request *req)
{
	const char *sp1, *sp2, *q;
	size_t	    mlen, plen;

	if ((sp1 = memchr(line, ' ', len)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line))) ==
		NULL)
		return (400);
	for (q = line; q < sp1; q++) {
		if (!http_tchar(*q))
			return (400);
	}
	if ((mlen = (size_t)(sp1 - line)) == 0)
		return (400);
	if (mlen == 3 && memcmp(line, "GET", 3) == 0)
		req->method = HTTP_GET;
	else if (mlen == 4 && memcmp(line, "HEAD", 4) == 0)
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;
	len -= (size_t)(sp2 + 1 - line);
	if (len != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return (len >= 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 :
								       400);
	if (sp2[8] != '0' && sp2[8] != '1')
		return (505);
	if (sp1[1] != '/')
		return (400);
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	plen = (size_t)((q != NULL ? q : sp2) - (sp1 + 1));
	if (plen >= sizeof req->path)
		return (414);
	for (q = sp1 + 1; q < sp1 + 1 + plen; q++) {
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return (400);
	}
	memcpy(req->path, sp1 + 1, plen);
	req->path[plen] = '\0';
	return (req->method == HTTP_OTHER ? 405 : 200);
}

/* Where the line starting at buf[0] ends (its LF), or NULL. */
static const char *
http_eol(const char *buf, size_t len)
{
	return (memchr(buf, '\n', len));
}

/* Parse the request head in buf[0, len). */
int
http_parse(const char *buf, size_t len, struct http_request *req)
{
	const char *eol, *p;
	size_t	    n;
	int	    status;

	if (len > HTTP_MAX_HEAD)
		len = HTTP_MAX_HEAD;
	if ((eol = http_eol(buf, len)) == NULL)
		return (len == HTTP_MAX_HEAD ? 431 : 0);
	n = (size_t)(eol - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if ((status = http_request_line(buf, n, req)) != 200)
		return (status);
	/* Headers up to an empty line; none of them matters to us. */
	for (p = eol + 1; p < buf + len; p = eol + 1) {
		if ((eol = http_eol(p, (size_t)(buf + len - p))) == NULL)
			break;
		n = (size_t)(eol - p);
		if (n == 0 || (n == 1 && p[0] == '\r'))
			return (200);
		if (memchr(p, ':', n) == NULL || memchr(p, '\0', n) != NULL)
			return (400);
	}
	return (len == HTTP_MAX_HEAD ? 431 : 0);
}
