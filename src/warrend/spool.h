/* spool.h -- the disk spool: an append-only log of checksummed records in
 * segment files. Used only by the publisher thread (it blocks on disk). */
#ifndef WARREN_SPOOL_H
#define WARREN_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;
struct spool_rec; /* a record handed out: the spool's, until done */

/* One record: bytes the spool does not interpret, and the wall clock at
 * which they were accepted (for the age of the oldest). */
struct spool_data {
	const void *bytes;
	size_t	    len;
	int64_t	    time_ms;
};

struct spool_stats {
	uint64_t records;   /* on disk, not yet confirmed */
	uint64_t bytes;	    /* on disk */
	int64_t	 oldest_ms; /* wall clock of the oldest; 0: none */
	uint64_t corrupt;   /* records skipped as damaged */
	uint64_t forged;    /* intact, but not written by us */
	uint64_t torn;	    /* torn tails found at start-up */
	uint64_t appended;
	uint64_t drained; /* confirmed after a republish */
	uint64_t full;	  /* appends refused at max_bytes */
};

/* Record header: magic, payload length, time, CRC-32C, HMAC-SHA256. */
#define SPOOL_MAGIC 0x32574e57u	   /* "WNW2" little-endian */
#define SPOOL_MAGIC_V1 0x52574e57u /* "WNWR": no MAC, refused */
#define SPOOL_HEADER 52

/*
 * Open (creating files as needed) the spool in dir, which must exist, be
 * warrend's own and writable by nobody else; lock it against a second
 * warrend; load (or make) the record key; scan every segment (a torn tail
 * is cut off, a damaged record is skipped and counted, and so is a record
 * whose MAC does not verify). segment_max 0 picks a size from max_bytes.
 */
struct spool *spool_open(const char *dir, long long max_bytes, int fsync,
    size_t segment_max, char **cause);
void	      spool_close(struct spool *);
/* Would spool_open trust dir? 0 also when dir does not exist (yet). */
int spool_check(const char *dir, char **cause);

/* Append a record. Return 0, -1 when max_bytes would be passed, or -2 on
 * an I/O error (errno set). Nothing is durable before spool_sync. */
int spool_append(struct spool *, const struct spool_data *d);
/* Make every append so far durable (fsync = "always") or written. */
int spool_sync(struct spool *);

/* The next record not yet handed out, or NULL. Its bytes in *d are valid
 * until the next call into the spool; the handle names it to spool_done. */
struct spool_rec *spool_next(struct spool *, struct spool_data *d);
/* A handed-out record was confirmed (or given up on): once every record
 * before it is too, the space is released and whole segments removed.
 * The handle is freed. */
void spool_done(struct spool *, struct spool_rec *);
/* The connection went: forget the hand-outs not done (their handles are
 * freed: the caller must hold none any more) and start again from the
 * oldest. */
void spool_rewind(struct spool *);
/* Records appended and not handed out. */
uint64_t spool_unread(const struct spool *);
/* Records on disk and not yet confirmed (handed out or not). */
uint64_t spool_pending(const struct spool *);
void	 spool_get_stats(const struct spool *, struct spool_stats *);

/* CRC-32C (Castagnoli) of buf, for the record checksum. */
uint32_t spool_crc32c(const void *buf, size_t len);

#endif
