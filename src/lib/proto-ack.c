/* proto-ack.c -- the one request line a subscriber writes for every
 * delivery, {"op":"ack","tag":N}, recognised by its bytes, so the consume
 * path does not check and parse it as JSON twice per delivery. */
#include <string.h>

#include "proto.h"

#define PROTO_ACK_HEAD "{\"op\":\"ack\",\"tag\":"
#define PROTO_ACK_DIGITS 15 /* below 2^53: proto_parse takes every such tag */

/* Is line exactly {"op":"ack","tag":N}? */
int
proto_quick_ack(const char *line, size_t len, struct request *req)
{
	size_t	  head = sizeof PROTO_ACK_HEAD - 1, i;
	long long tag = 0;

	if (len < head + 2 || len > head + PROTO_ACK_DIGITS + 1 ||
	    line[len - 1] != '}' || memcmp(line, PROTO_ACK_HEAD, head) != 0 ||
	    line[head] == '0')
		return (-1);
	for (i = head; i < len - 1; i++) {
		if (line[i] < '0' || line[i] > '9')
			return (-1);
		tag = tag * 10 + (line[i] - '0');
	}
	memset(req, 0, sizeof *req);
	req->op = OP_ACK;
	req->tag = tag;
	req->requeue = 1;
	return (0);
}
