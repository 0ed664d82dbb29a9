/* replay.c -- run every file of a corpus through one harness as an
 * ordinary program, so make check covers the fuzz corpus with the normal
 * compiler (no clang, no libFuzzer). With no arguments it replays the
 * corpus it was built for (FUZZ_CORPUS); otherwise each file or directory
 * named. A broken invariant aborts; ASan builds catch the rest. */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

/* Harnesses without set-up leave this to the weak default. */
__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return (0);
}

/* Run one file; 0, or -1 if it cannot be read. */
static int
replay_file(const char *path)
{
	FILE	   *f;
	uint8_t	   *buf;
	struct stat st;
	size_t	    n;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return (-1);
	}
	/* Exactly the file's bytes, so a read past the end shows (ASan). */
	buf = xmalloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return (0);
}

/* Order directory entries by name, for a stable run. */
static int
replay_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Run every regular file in dir (not recursing); how many, or -1. */
static int
replay_dir(const char *dir)
{
	DIR	      *d;
	struct dirent *de;
	char	     **names = NULL, *path;
	size_t	       n = 0, i;
	int	       rv = 0;

	if ((d = opendir(dir)) == NULL) {
		perror(dir);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, replay_cmp);
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dir, names[i]);
		if (replay_file(path) != 0)
			rv = -1;
		free(path);
		free(names[i]);
	}
	free(names);
	return (rv == 0 ? (int)n : -1);
}

/* Replay the corpus (or the files and directories named). */
int
main(int argc, char **argv)
{
	static char *dflt[] = { NULL, (char *)FUZZ_CORPUS };
	struct stat  st;
	int	     i, n, total = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		dflt[0] = argv[0];
		argc = 2;
		argv = dflt;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			return (1);
		}
		n = S_ISDIR(st.st_mode)	      ? replay_dir(argv[i]) :
		    replay_file(argv[i]) == 0 ? 1 :
						-1;
		if (n < 0)
			return (1);
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "%s: no inputs to replay\n", argv[0]);
		return (1);
	}
	printf("%s: %d inputs replayed\n", argv[0], total);
	return (0);
}
