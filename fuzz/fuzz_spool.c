/* fuzz_spool.c -- spool replay: whatever a segment file holds after a
 * crash, a bad disk or tampering, warrend opens the spool (scanning,
 * cutting torn tails, skipping damaged and forged records) and drains it
 * without reading outside what it has. The record key is fixed (every
 * byte 0x2a), so the seeds carry MACs that verify. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "spool.h"
#include "util.h"

#define FUZZ_MAX_RECORDS 4096
#define FUZZ_KEY_LEN 32 /* SPOOL_KEY_LEN */

static char *fuzz_dir;

/* A private directory for the spool, with the fixed key in it. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char key[FUZZ_KEY_LEN];
	char	     *path;

	(void)argc;
	(void)argv;
	fuzz_dir = fuzz_tmpdir();
	memset(key, 0x2a, sizeof key);
	xasprintf(&path, "%s/spool.key", fuzz_dir);
	fuzz_write(path, key, sizeof key);
	chmod(path, 0600);
	free(path);
	return (0);
}

/* Remove the segments and lock an input left, keeping the key. */
static void
fuzz_spool_clean(void)
{
	DIR	      *d;
	struct dirent *de;
	char	      *path;

	if ((d = opendir(fuzz_dir)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strcmp(de->d_name, "spool.key") == 0)
			continue;
		xasprintf(&path, "%s/%s", fuzz_dir, de->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
}

/* Open a spool holding one segment file, and drain it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool	 *sp;
	struct spool_rec *r;
	struct spool_data d;
	char		 *seg, *cause = NULL;
	int		  n = 0;

	xasprintf(&seg, "%s/%016llu.spool", fuzz_dir, 1ULL);
	fuzz_write(seg, data, size);
	free(seg);
	if ((sp = spool_open(fuzz_dir, 1LL << 30, 0, 0, &cause)) == NULL) {
		if (cause == NULL)
			abort(); /* a refusal always says why */
		free(cause);
	} else {
		while (n++ < FUZZ_MAX_RECORDS &&
		    (r = spool_next(sp, &d)) != NULL) {
			if (d.len > size)
				abort(); /* more than the file held */
			spool_done(sp, r);
		}
		spool_close(sp);
	}
	fuzz_spool_clean();
	return (0);
}
