/* fuzz-util.c -- small helpers the harnesses share. */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

static char *fuzz_dir;

/* At exit: remove the directory and the files the harness left in it. */
static void
fuzz_cleanup(void)
{
	DIR	      *d;
	struct dirent *de;
	char	      *path;

	if ((d = opendir(fuzz_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		xasprintf(&path, "%s/%s", fuzz_dir, de->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	rmdir(fuzz_dir);
}

/* A fresh private directory for a harness's files (one per process),
 * removed at exit. */
char *
fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (fuzz_dir != NULL)
		return (xstrdup(fuzz_dir));
	umask(077); /* a config readable by others draws a warning */
	xasprintf(&fuzz_dir, "%s/warren-fuzz.XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL) {
		perror(fuzz_dir);
		abort();
	}
	atexit(fuzz_cleanup);
	return (xstrdup(fuzz_dir));
}

/* Write data to path; abort on failure. */
void
fuzz_write(const char *path, const void *data, size_t size)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		abort();
	}
}
