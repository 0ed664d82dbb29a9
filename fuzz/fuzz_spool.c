/* fuzz_spool.c -- spool replay: whatever a segment file holds after a
 * crash, a bad disk or tampering, warrend opens the spool (scanning,
 * cutting torn tails, skipping damaged records) and drains it without
 * reading outside what it has. Only spool_open, spool_next, spool_done
 * and spool_close are used, whatever type a record has. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "spool.h"
#include "util.h"

#define FUZZ_MAX_RECORDS	4096

static char	*fuzz_dir;

/* A private directory for the spool. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_dir = fuzz_tmpdir();
	return (0);
}

/* Open a spool holding one segment file, and drain it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool		*sp;
	__typeof__(spool_next(sp)) r;	/* not evaluated */
	char			*seg, *lock, *cause = NULL;
	int			 n = 0;

	xasprintf(&seg, "%s/%016llu.spool", fuzz_dir, 1ULL);
	xasprintf(&lock, "%s/lock", fuzz_dir);
	fuzz_write(seg, data, size);
	if ((sp = spool_open(fuzz_dir, 1LL << 30, 0, 0, &cause)) == NULL) {
		if (cause == NULL)
			abort();	/* a refusal always says why */
		free(cause);
	} else {
		while (n++ < FUZZ_MAX_RECORDS && (r = spool_next(sp)) != NULL)
			spool_done(sp, r);
		spool_close(sp);
	}
	/* The next input starts from an empty spool. */
	unlink(seg);
	unlink(lock);
	free(seg);
	free(lock);
	return (0);
}
