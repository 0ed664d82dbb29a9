/* fuzz.h -- what every harness in fuzz/ provides: libFuzzer's entry point,
 * also called by replay.c for each corpus file under make check. */
#ifndef WARREN_FUZZ_H
#define WARREN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run one input; 0 always (a broken invariant aborts). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Set up once before the first input; optional. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A fresh private directory for a harness's files (fuzz-util.c). */
char *fuzz_tmpdir(void);
/* Write data to path; abort on failure. */
void fuzz_write(const char *path, const void *data, size_t size);

#endif
