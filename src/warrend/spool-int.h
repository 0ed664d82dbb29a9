/* spool-int.h -- shared by spool.c and spool-trust.c only. */
#ifndef WARREN_SPOOL_INT_H
#define WARREN_SPOOL_INT_H

#include <stdint.h>

#define SPOOL_KEY_FILE "spool.key"
#define SPOOL_KEY_LEN 32

/* Open spool.dir, refusing a link or a directory that is not warrend's. */
int spool_dir_open(const char *dir, char **cause);
/* Open a file in it without following a link; it must be warrend's. */
int spool_file_open(int dirfd, const char *dir, const char *name, int flags,
    char **cause);
/* The ids of the segment files in the directory, sorted. */
int spool_dir_list(int dirfd, const char *dir, uint64_t **ids, char **cause);
/* Load the record key, making it on first use. */
int spool_key_load(int dirfd, const char *dir, unsigned char *key,
    char **cause);

#endif
