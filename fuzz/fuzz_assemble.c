/* fuzz_assemble.c -- the consumer's frame handling: any sequence of
 * methods, content headers and body frames on a few channels, as a broker
 * could send them, through assemble.c. A body handed on always has
 * exactly the size its header declared, and never more than was sent. */
#include <stdlib.h>
#include <string.h>

#include "assemble.h"
#include "fuzz.h"

#define FUZZ_CHANNELS 3
#define FUZZ_MAX 256 /* small, so bodies above it are tried */

/*
 * Each frame: one byte (low 2 bits the kind: method, content method,
 * header, body; the next 2 the channel), then for a header 2 bytes of
 * declared size, for a body 1 byte of length and that many bytes. A
 * refused frame ends the connection: every channel starts over.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct assemble a[FUZZ_CHANNELS];
	uint64_t	declared[FUZZ_CHANNELS] = { 0 };
	size_t		i = 0, len, n, ch;
	char	       *cause = NULL, *body;
	int		rv = 0, k;

	for (k = 0; k < FUZZ_CHANNELS; k++)
		assemble_init(&a[k], FUZZ_MAX);
	while (i < size) {
		ch = (data[i] >> 2 & 3) % FUZZ_CHANNELS;
		switch (data[i++] & 3) {
		case 0:
		case 1:
			rv = assemble_method(&a[ch], data[i - 1] & 1, &cause);
			break;
		case 2:
			if (size - i < 2)
				goto out;
			declared[ch] = (uint64_t)data[i] << 8 | data[i + 1];
			i += 2;
			rv = assemble_header(&a[ch], declared[ch], &cause);
			break;
		case 3:
			if (i >= size)
				goto out;
			n = data[i++];
			if (n > size - i)
				n = size - i;
			rv = assemble_body(&a[ch], data + i, n, &cause);
			i += n;
			break;
		}
		if (rv == -1) {
			if (cause == NULL)
				abort();
			free(cause);
			cause = NULL;
			for (k = 0; k < FUZZ_CHANNELS; k++)
				assemble_reset(&a[k]);
			continue;
		}
		if (rv == ASSEMBLE_DONE) {
			body = assemble_take(&a[ch], &len);
			if (declared[ch] <= FUZZ_MAX ? len != declared[ch] :
						       len != 0)
				abort();
			if (body[len] != '\0' || len > size)
				abort();
			free(body);
		}
	}
out:
	for (k = 0; k < FUZZ_CHANNELS; k++)
		assemble_reset(&a[k]);
	return (0);
}
