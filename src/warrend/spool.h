/* spool.h -- the disk spool: an append-only log of checksummed records in
 * segment files. Used only by the publisher thread (it blocks on disk). */
#ifndef WARREN_SPOOL_H
#define WARREN_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct pub_job;
struct spool;

struct spool_stats {
	uint64_t	 records;	/* on disk, not yet confirmed */
	uint64_t	 bytes;		/* on disk */
	int64_t		 oldest_ms;	/* wall clock of the oldest; 0: none */
	uint64_t	 corrupt;	/* records skipped as damaged */
	uint64_t	 torn;		/* torn tails found at start-up */
	uint64_t	 appended;
	uint64_t	 drained;	/* confirmed after a republish */
	uint64_t	 full;		/* appends refused at max_bytes */
};

/* Record header: magic, payload length, CRC-32C of the payload. */
#define SPOOL_MAGIC		0x52574e57u	/* "WNWR" little-endian */
#define SPOOL_HEADER		12

/*
 * Open (creating files as needed) the spool in dir, which must exist and be
 * writable; lock it against a second warrend; scan every segment (a torn
 * tail is cut off, a damaged record is skipped and counted). segment_max 0
 * picks a size from max_bytes.
 */
struct spool	*spool_open(const char *dir, long long max_bytes, int fsync,
		    size_t segment_max, char **cause);
void		 spool_close(struct spool *);

/* Append j's record. Return 0, -1 when max_bytes would be passed, or -2 on
 * an I/O error (errno set). Nothing is durable before spool_sync. */
int		 spool_append(struct spool *, const struct pub_job *j);
/* Make every append so far durable (fsync = "always") or written. */
int		 spool_sync(struct spool *);

/* The next record not yet handed out, as a new job (from_spool set; the
 * spool keeps it on its read list), or NULL. */
struct pub_job	*spool_next(struct spool *);
/* A handed-out record was confirmed (or given up on): once every record
 * before it is too, the space is released and whole segments removed. */
void		 spool_done(struct spool *, struct pub_job *);
/* The connection went: forget the hand-outs not done (the caller holds no
 * pointer to them any more) and start again from the oldest. */
void		 spool_rewind(struct spool *);
/* Records appended and not handed out. */
uint64_t	 spool_unread(const struct spool *);
/* Records on disk and not yet confirmed (handed out or not). */
uint64_t	 spool_pending(const struct spool *);
void		 spool_get_stats(const struct spool *, struct spool_stats *);

/* CRC-32C (Castagnoli) of buf, for the record checksum. */
uint32_t	 spool_crc32c(const void *buf, size_t len);

#endif
