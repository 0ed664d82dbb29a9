/* spool.c -- the disk spool: an append-only log of checksummed records in
 * segment files NNNNNNNNNNNNNNNN.spool under spool.dir. A record is
 *
 *	u32 magic, u32 payload length, i64 time (ms), u32 CRC-32C of the
 *	length, the time and the payload, 32 bytes HMAC-SHA256 under the
 *	spool key of the 20 bytes before it and the payload; the payload,
 *
 * all little-endian. The CRC tells damage (a crash, a bad disk) from a
 * record warrend did not write (the MAC); see spool-trust.c. The payload
 * is the caller's: the spool never looks into it. Records are handed out in order for republishing and released
 * only once the caller says they are done; a segment is removed when every
 * record in it is. Used by the publisher thread only. */
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sha256.h"
#include "spool.h"
#include "spool-int.h"
#include "util.h"

#define SPOOL_MAX_PAYLOAD (256u << 20)
#define SPOOL_CRC_OFF 16     /* where the CRC sits in the header */
#define SPOOL_MAC_OFF 20     /* and the MAC */
#define SPOOL_FORGED -2	     /* spool_record_at: MAC does not verify */
#define SPOOL_FORGED_LOGS 10 /* lines for them, then one in all */

/* A record handed out and not yet released. */
struct spool_rec {
	TAILQ_ENTRY(spool_rec) entry;
	int64_t	 time_ms;
	uint64_t seg;
	uint64_t end;  /* offset after the record */
	int	 done; /* confirmed or given up */
};
TAILQ_HEAD(spool_recq, spool_rec);

struct spool_seg {
	TAILQ_ENTRY(spool_seg) entry;
	uint64_t id;
	uint64_t size;	  /* bytes of whole records */
	uint64_t records; /* valid ones */
};
TAILQ_HEAD(spool_segq, spool_seg);

struct spool {
	char		  *dir;
	int		   dirfd;
	int		   lockfd;
	long long	   max_bytes;
	int		   fsync;
	size_t		   segment_max;
	struct spool_segq  segs;      /* oldest first */
	int		   wfd;	      /* the last segment's, or -1 */
	int		   dirty;     /* appended since the last sync */
	int		   dir_dirty; /* a segment was created */
	uint64_t	   bytes;
	uint64_t	   pending;  /* on disk, not confirmed */
	uint64_t	   unread;   /* not handed out */
	uint64_t	   head_off; /* oldest unconfirmed, first seg */
	struct spool_seg  *rseg;     /* read cursor */
	uint64_t	   roff;
	int		   rfd;
	struct spool_recq  reads; /* handed out, in order */
	struct spool_stats st;
	unsigned char	   hdr[SPOOL_HEADER]; /* the last read */
	unsigned char	   key[SPOOL_KEY_LEN];
	char		  *buf; /* for encoding and reading */
	size_t		   bufsize;
};

/* The CRC-32C table, made on first use. */
static uint32_t spool_crc_table[256];

/* Add buf to a running CRC-32C (Castagnoli, reflected 0x82f63b78). */
static uint32_t
spool_crc_add(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t	     c;
	int		     i, k;

	if (spool_crc_table[1] == 0) {
		for (i = 0; i < 256; i++) {
			for (c = (uint32_t)i, k = 0; k < 8; k++)
				c = (c >> 1) ^ (c & 1 ? 0x82f63b78u : 0);
			spool_crc_table[i] = c;
		}
	}
	while (len-- > 0)
		crc = spool_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return (crc);
}

/* CRC-32C of buf. */
uint32_t
spool_crc32c(const void *buf, size_t len)
{
	return (spool_crc_add(0xffffffffu, buf, len) ^ 0xffffffffu);
}

/* The checksum of a record: its length and time, then its payload. */
static uint32_t
spool_record_crc(const unsigned char *h, const void *payload, size_t len)
{
	uint32_t crc;

	crc = spool_crc_add(0xffffffffu, h + 4, SPOOL_CRC_OFF - 4);
	return (spool_crc_add(crc, payload, len) ^ 0xffffffffu);
}

/* The MAC of a record: its header up to the MAC, then its payload. */
static void
spool_record_mac(const struct spool *sp, const unsigned char *h,
    const void *payload, size_t len, unsigned char *out)
{
	struct hmac_sha256 m;

	hmac_sha256_init(&m, sp->key, sizeof sp->key);
	hmac_sha256_update(&m, h, SPOOL_MAC_OFF);
	hmac_sha256_update(&m, payload, len);
	hmac_sha256_final(&m, out);
}

/* Little-endian stores and loads. */
static void
spool_put(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Load n little-endian bytes. */
static uint64_t
spool_get(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int	 i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return (v);
}

/* Make the scratch buffer at least n bytes. */
static char *
spool_buf(struct spool *sp, size_t n)
{
	if (n > sp->bufsize) {
		sp->buf = xreallocarray(sp->buf, 1, n);
		sp->bufsize = n;
	}
	return (sp->buf);
}

/* The path of segment id, for messages. */
static void
spool_seg_path(const struct spool *sp, uint64_t id, char *out, size_t len)
{
	snprintf(out, len, "%s/%016llu.spool", sp->dir, (unsigned long long)id);
}

/* Open segment id from the directory fd, never through a link. */
static int
spool_seg_open(struct spool *sp, uint64_t id, int flags, char **cause)
{
	char name[32];

	snprintf(name, sizeof name, "%016llu.spool", (unsigned long long)id);
	return (spool_file_open(sp->dirfd, sp->dir, name, flags, cause));
}

/* Remove segment id. */
static void
spool_seg_unlink(struct spool *sp, uint64_t id)
{
	char name[32];

	snprintf(name, sizeof name, "%016llu.spool", (unsigned long long)id);
	if (unlinkat(sp->dirfd, name, 0) == -1)
		log_warn("spool: unlink %s/%s", sp->dir, name);
}

/* Read exactly len bytes at off; 0 on success, -1 on a short read. */
static int
spool_pread(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	size_t	got = 0;

	while (got < len) {
		n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		got += (size_t)n;
	}
	return (0);
}

/*
 * Is there a whole, intact record at off in fd (of size bytes)? Return its
 * payload length; -1 if there is none; SPOOL_FORGED if it is intact but
 * its MAC does not verify. The payload is left in the scratch buffer.
 */
static long long
spool_record_at(struct spool *sp, int fd, uint64_t off, uint64_t size)
{
	unsigned char *h = sp->hdr, mac[SHA256_LEN];
	uint64_t       len;
	char	      *p;

	if (size - off < SPOOL_HEADER || spool_pread(fd, h, SPOOL_HEADER, off))
		return (-1);
	len = spool_get(h + 4, 4);
	if (spool_get(h, 4) != SPOOL_MAGIC || len > SPOOL_MAX_PAYLOAD ||
	    len > size - off - SPOOL_HEADER)
		return (-1);
	p = spool_buf(sp, len);
	if (spool_pread(fd, p, len, off + SPOOL_HEADER) != 0 ||
	    spool_record_crc(h, p, len) != spool_get(h + SPOOL_CRC_OFF, 4))
		return (-1);
	spool_record_mac(sp, h, p, len, mac);
	if (!sha256_equal(mac, h + SPOOL_MAC_OFF, sizeof mac))
		return (SPOOL_FORGED);
	return ((long long)len);
}

/*
 * The offset of the next intact record at or after off, or size if none.
 * Records are never fewer than SPOOL_HEADER bytes apart.
 */
static uint64_t
spool_resync(struct spool *sp, int fd, uint64_t off, uint64_t size)
{
	unsigned char m[4];

	for (; off + SPOOL_HEADER <= size; off++) {
		if (spool_pread(fd, m, sizeof m, off) != 0)
			break;
		if (spool_get(m, 4) == SPOOL_MAGIC &&
		    spool_record_at(sp, fd, off, size) != -1)
			return (off);
	}
	return (size);
}

/* Open a segment to scan it and note its size. One that starts with a
 * record of the first format (no MAC) is refused: nothing proves who
 * wrote it. */
static int
spool_scan_open(struct spool *sp, struct spool_seg *seg, char **cause)
{
	struct stat   st;
	unsigned char m[4];
	char	      path[4096];
	int	      fd;

	if ((fd = spool_seg_open(sp, seg->id, O_RDWR, cause)) == -1)
		return (-1);
	spool_seg_path(sp, seg->id, path, sizeof path);
	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	seg->size = (uint64_t)st.st_size;
	if (seg->size >= 4 && spool_pread(fd, m, 4, 0) == 0 &&
	    spool_get(m, 4) == SPOOL_MAGIC_V1) {
		xasprintf(cause,
		    "spool.dir %s: %s holds events spooled by an "
		    "older warrend, without the MAC that proves who wrote "
		    "them: refused. Drain them with the previous warrend, or "
		    "move the *.spool files out of %s to discard them",
		    sp->dir, path, sp->dir);
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Count the records of a segment; cut a torn tail off the last one. */
static int
spool_scan(struct spool *sp, struct spool_seg *seg, int last, char **cause)
{
	char	  path[4096];
	uint64_t  off = 0, next;
	long long len;
	int	  fd;

	spool_seg_path(sp, seg->id, path, sizeof path);
	if ((fd = spool_scan_open(sp, seg, cause)) == -1)
		return (-1);
	while (off < seg->size) {
		if ((len = spool_record_at(sp, fd, off, seg->size)) >= 0) {
			seg->records++;
			off += SPOOL_HEADER + (uint64_t)len;
			continue;
		}
		if (len == SPOOL_FORGED) {
			if (sp->st.forged < SPOOL_FORGED_LOGS)
				log_warnx(
				    "spool: %s: record at offset %llu was "
				    "not written by this warrend (its MAC does "
				    "not verify): skipped, never published",
				    path, (unsigned long long)off);
			sp->st.forged++;
			off += SPOOL_HEADER + spool_get(sp->hdr + 4, 4);
			continue;
		}
		next = spool_resync(sp, fd, off + 1, seg->size);
		if (next == seg->size && last) {
			log_warnx(
			    "spool: %s: torn record at offset %llu (a "
			    "crash while writing; it was never acknowledged): "
			    "cut off",
			    path, (unsigned long long)off);
			sp->st.torn++;
			if (ftruncate(fd, (off_t)off) == -1)
				log_warn("spool: %s: ftruncate", path);
			seg->size = off;
			break;
		}
		log_warnx("spool: %s: damaged record at offset %llu: skipped "
			  "%llu bytes",
		    path, (unsigned long long)off,
		    (unsigned long long)(next - off));
		sp->st.corrupt++;
		off = next;
	}
	close(fd);
	return (0);
}

/* Find and scan every segment, oldest first; drop an empty last one. */
static int
spool_load(struct spool *sp, char **cause)
{
	struct spool_seg *seg;
	uint64_t	 *ids;
	int		  i, n, rv = 0;

	if ((n = spool_dir_list(sp->dirfd, sp->dir, &ids, cause)) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		seg = xcalloc(1, sizeof *seg);
		seg->id = ids[i];
		if (rv == 0 && spool_scan(sp, seg, i == n - 1, cause) != 0)
			rv = -1;
		if (rv == 0 && seg->records == 0 && i == n - 1 &&
		    seg->size == 0) {
			spool_seg_unlink(sp, seg->id);
			free(seg);
		} else {
			TAILQ_INSERT_TAIL(&sp->segs, seg, entry);
			sp->bytes += seg->size;
			sp->pending += seg->records;
		}
	}
	free(ids);
	if (sp->st.forged > SPOOL_FORGED_LOGS)
		log_warnx("spool: %llu records in all were not written by this "
			  "warrend: skipped, never published",
		    (unsigned long long)sp->st.forged);
	sp->unread = sp->pending;
	sp->rseg = TAILQ_FIRST(&sp->segs);
	return (rv);
}

/* Lock the directory so that two warrends never share a spool. */
static int
spool_lock(struct spool *sp, char **cause)
{
	if ((sp->lockfd = spool_file_open(sp->dirfd, sp->dir, "lock",
		 O_RDWR | O_CREAT, cause)) == -1)
		return (-1);
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) == -1) {
		xasprintf(cause, "spool.dir %s is in use by another warrend",
		    sp->dir);
		return (-1);
	}
	return (0);
}

/* The wall clock of the oldest unconfirmed record, found on disk if need
 * be. */
static void
spool_update_oldest(struct spool *sp)
{
	struct spool_seg *seg = TAILQ_FIRST(&sp->segs);
	struct spool_rec *r = TAILQ_FIRST(&sp->reads);
	uint64_t	  off;
	long long	  len;
	int		  fd;
	char		 *cause = NULL;

	sp->st.oldest_ms = 0;
	if (sp->pending == 0 || seg == NULL)
		return;
	if (r != NULL) {
		sp->st.oldest_ms = r->time_ms;
		return;
	}
	if ((fd = spool_seg_open(sp, seg->id, O_RDONLY, &cause)) == -1) {
		free(cause);
		return;
	}
	/* The oldest may sit behind damaged or forged records. */
	off = spool_resync(sp, fd, sp->head_off, seg->size);
	while ((len = spool_record_at(sp, fd, off, seg->size)) == SPOOL_FORGED)
		off = spool_resync(sp, fd,
		    off + SPOOL_HEADER + spool_get(sp->hdr + 4, 4), seg->size);
	if (len >= 0)
		sp->st.oldest_ms = (int64_t)spool_get(sp->hdr + 8, 8);
	close(fd);
}

/* Open the spool in dir. */
struct spool *
spool_open(const char *dir, long long max_bytes, int fsync, size_t segment_max,
    char **cause)
{
	struct spool *sp = xcalloc(1, sizeof *sp);

	sp->dir = xstrdup(dir);
	sp->max_bytes = max_bytes;
	sp->fsync = fsync;
	if (segment_max == 0) {
		segment_max = (size_t)(max_bytes / 8);
		if (segment_max < (64u << 10))
			segment_max = 64u << 10;
		if (segment_max > (64u << 20))
			segment_max = 64u << 20;
	}
	sp->segment_max = segment_max;
	sp->wfd = sp->rfd = sp->lockfd = -1;
	TAILQ_INIT(&sp->segs);
	TAILQ_INIT(&sp->reads);
	if ((sp->dirfd = spool_dir_open(dir, cause)) == -1) {
		spool_close(sp);
		return (NULL);
	}
	if (spool_lock(sp, cause) != 0 ||
	    spool_key_load(sp->dirfd, sp->dir, sp->key, cause) != 0 ||
	    spool_load(sp, cause) != 0) {
		spool_close(sp);
		return (NULL);
	}
	spool_update_oldest(sp);
	if (sp->pending > 0)
		log_info("spool: %llu events in %s to publish",
		    (unsigned long long)sp->pending, dir);
	return (sp);
}

/* Close the spool; what is on disk stays for the next start. */
void
spool_close(struct spool *sp)
{
	struct spool_seg *seg;

	if (sp == NULL)
		return;
	spool_rewind(sp);
	if (sp->wfd != -1) {
		if (sp->dirty && fdatasync(sp->wfd) == -1)
			log_warn("spool: fdatasync");
		close(sp->wfd);
	}
	if (sp->rfd != -1)
		close(sp->rfd);
	if (sp->dirfd != -1)
		close(sp->dirfd);
	if (sp->lockfd != -1)
		close(sp->lockfd);
	while ((seg = TAILQ_FIRST(&sp->segs)) != NULL) {
		TAILQ_REMOVE(&sp->segs, seg, entry);
		free(seg);
	}
	memset(sp->key, 0, sizeof sp->key);
	free(sp->buf);
	free(sp->dir);
	free(sp);
}

/* Start a new segment for appends; the old one is made durable first. */
static int
spool_rotate(struct spool *sp)
{
	struct spool_seg *last = TAILQ_LAST(&sp->segs, spool_segq);
	struct spool_seg *seg;
	char		 *cause = NULL;
	int		  fd;

	if (sp->wfd != -1) {
		if (sp->dirty && (sp->fsync ? fdatasync(sp->wfd) : 0) == -1)
			return (-1);
		close(sp->wfd);
		sp->wfd = -1;
	}
	seg = xcalloc(1, sizeof *seg);
	seg->id = last != NULL ? last->id + 1 : 1;
	fd = spool_seg_open(sp, seg->id, O_WRONLY | O_CREAT | O_EXCL | O_APPEND,
	    &cause);
	if (fd == -1) {
		log_warnx("spool: %s", cause);
		free(cause);
		free(seg);
		return (-1);
	}
	sp->wfd = fd;
	sp->dir_dirty = 1;
	TAILQ_INSERT_TAIL(&sp->segs, seg, entry);
	if (sp->rseg == NULL)
		sp->rseg = seg, sp->roff = 0;
	return (0);
}

/* Write all of buf, or fail. */
static int
spool_write(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Encode d as a record in the scratch buffer; return its length. */
static size_t
spool_encode(struct spool *sp, const struct spool_data *d)
{
	unsigned char *p;

	p = (unsigned char *)spool_buf(sp, SPOOL_HEADER + d->len);
	spool_put(p, SPOOL_MAGIC, 4);
	spool_put(p + 4, d->len, 4);
	spool_put(p + 8, (uint64_t)d->time_ms, 8);
	if (d->len > 0)
		memcpy(p + SPOOL_HEADER, d->bytes, d->len);
	spool_put(p + SPOOL_CRC_OFF,
	    spool_record_crc(p, p + SPOOL_HEADER, d->len), 4);
	spool_record_mac(sp, p, p + SPOOL_HEADER, d->len, p + SPOOL_MAC_OFF);
	return (SPOOL_HEADER + d->len);
}

/* Append a record. */
int
spool_append(struct spool *sp, const struct spool_data *d)
{
	struct spool_seg *seg;
	size_t		  len;

	if (d->len > SPOOL_MAX_PAYLOAD) {
		errno = EFBIG;
		return (-2);
	}
	len = spool_encode(sp, d);
	if (sp->bytes + len > (uint64_t)sp->max_bytes) {
		sp->st.full++;
		return (-1);
	}
	seg = TAILQ_LAST(&sp->segs, spool_segq);
	if (sp->wfd == -1 ||
	    (seg->size > 0 && seg->size + len > sp->segment_max)) {
		if (spool_rotate(sp) != 0)
			return (-2);
		seg = TAILQ_LAST(&sp->segs, spool_segq);
		len = spool_encode(sp, d);
	}
	if (spool_write(sp->wfd, sp->buf, len) != 0) {
		/* Leave no partial record behind for the next append. */
		if (ftruncate(sp->wfd, (off_t)seg->size) == -1)
			log_warn("spool: ftruncate");
		return (-2);
	}
	if (sp->pending == 0)
		sp->st.oldest_ms = d->time_ms;
	seg->size += len;
	seg->records++;
	sp->bytes += len;
	sp->pending++;
	sp->unread++;
	sp->dirty = 1;
	sp->st.appended++;
	return (0);
}

/* Make every append so far durable. */
int
spool_sync(struct spool *sp)
{
	if (sp->fsync && sp->dirty && sp->wfd != -1 && fdatasync(sp->wfd) == -1)
		return (-1);
	if (sp->fsync && sp->dir_dirty && fsync(sp->dirfd) == -1)
		return (-1);
	sp->dirty = sp->dir_dirty = 0;
	return (0);
}

/* Open the read cursor's segment if it is not open. */
static int
spool_open_read(struct spool *sp)
{
	char *cause = NULL;

	if (sp->rfd != -1)
		return (0);
	if ((sp->rfd = spool_seg_open(sp, sp->rseg->id, O_RDONLY, &cause)) ==
	    -1) {
		log_warnx("spool: %s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* The reader is at the end of the data with records still counted as
 * unread: they were damaged after they were written (or scanned). Count
 * them as such, so the spool can empty. */
static void
spool_lost(struct spool *sp)
{
	if (sp->unread == 0)
		return;
	log_warnx("spool: %llu records damaged since they were written: "
		  "skipped",
	    (unsigned long long)sp->unread);
	sp->st.corrupt += sp->unread;
	sp->pending -= sp->unread;
	sp->unread = 0;
}

/* The next record not yet handed out. */
struct spool_rec *
spool_next(struct spool *sp, struct spool_data *d)
{
	struct spool_rec *r;
	long long	  len;

	while (sp->unread > 0 && sp->rseg != NULL) {
		if (sp->roff >= sp->rseg->size) {
			if (TAILQ_NEXT(sp->rseg, entry) == NULL) {
				spool_lost(sp);
				return (NULL);
			}
			sp->rseg = TAILQ_NEXT(sp->rseg, entry);
			sp->roff = 0;
			if (sp->rfd != -1)
				close(sp->rfd);
			sp->rfd = -1;
			continue;
		}
		if (sp->dirty &&
		    sp->rseg == TAILQ_LAST(&sp->segs, spool_segq) &&
		    spool_sync(sp) != 0)
			return (NULL); /* never read what is not durable */
		if (spool_open_read(sp) != 0)
			return (NULL);
		len = spool_record_at(sp, sp->rfd, sp->roff, sp->rseg->size);
		if (len == SPOOL_FORGED) {
			/* Never published; counted when it was found. */
			sp->roff += SPOOL_HEADER + spool_get(sp->hdr + 4, 4);
			continue;
		}
		if (len < 0) {
			/* Damaged: counted when it was found at start-up. */
			sp->roff = spool_resync(sp, sp->rfd, sp->roff + 1,
			    sp->rseg->size);
			continue;
		}
		sp->roff += SPOOL_HEADER + (uint64_t)len;
		r = xcalloc(1, sizeof *r);
		r->time_ms = (int64_t)spool_get(sp->hdr + 8, 8);
		r->seg = sp->rseg->id;
		r->end = sp->roff;
		TAILQ_INSERT_TAIL(&sp->reads, r, entry);
		sp->unread--;
		d->bytes = sp->buf;
		d->len = (size_t)len;
		d->time_ms = r->time_ms;
		return (r);
	}
	return (NULL);
}

/* Remove the first segment (every record in it is confirmed). */
static void
spool_drop_first(struct spool *sp)
{
	struct spool_seg *seg = TAILQ_FIRST(&sp->segs);

	if (seg == sp->rseg) {
		sp->rseg = TAILQ_NEXT(seg, entry);
		sp->roff = 0;
		if (sp->rfd != -1)
			close(sp->rfd);
		sp->rfd = -1;
	}
	if (seg == TAILQ_LAST(&sp->segs, spool_segq) && sp->wfd != -1) {
		close(sp->wfd);
		sp->wfd = -1;
		sp->dirty = 0;
	}
	spool_seg_unlink(sp, seg->id);
	sp->bytes -= seg->size;
	TAILQ_REMOVE(&sp->segs, seg, entry);
	free(seg);
	sp->head_off = 0;
}

/* A handed-out record is settled: release what is settled in order. */
void
spool_done(struct spool *sp, struct spool_rec *r)
{
	struct spool_seg *seg;

	r->done = 1;
	while ((r = TAILQ_FIRST(&sp->reads)) != NULL && r->done) {
		TAILQ_REMOVE(&sp->reads, r, entry);
		while ((seg = TAILQ_FIRST(&sp->segs)) != NULL &&
		    seg->id < r->seg)
			spool_drop_first(sp);
		sp->head_off = r->end;
		sp->pending--;
		sp->st.drained++;
		free(r);
		seg = TAILQ_FIRST(&sp->segs);
		/* A segment that is whole and confirmed goes. */
		if (seg != NULL && sp->head_off >= seg->size &&
		    (seg != TAILQ_LAST(&sp->segs, spool_segq) ||
			sp->pending == 0))
			spool_drop_first(sp);
	}
	/* All confirmed: whatever is left is damaged bytes; let it go. */
	while (sp->pending == 0 && sp->unread == 0 &&
	    TAILQ_FIRST(&sp->reads) == NULL && !TAILQ_EMPTY(&sp->segs))
		spool_drop_first(sp);
	spool_update_oldest(sp);
}

/* Forget the hand-outs not settled; read again from the oldest. */
void
spool_rewind(struct spool *sp)
{
	struct spool_rec *r;

	while ((r = TAILQ_FIRST(&sp->reads)) != NULL) {
		TAILQ_REMOVE(&sp->reads, r, entry);
		free(r);
	}
	sp->unread = sp->pending;
	sp->rseg = TAILQ_FIRST(&sp->segs);
	sp->roff = sp->head_off;
	if (sp->rfd != -1)
		close(sp->rfd);
	sp->rfd = -1;
}

/* Records appended and not handed out. */
uint64_t
spool_unread(const struct spool *sp)
{
	return (sp->unread);
}

/* Records on disk and not yet confirmed. */
uint64_t
spool_pending(const struct spool *sp)
{
	return (sp->pending);
}

/* The spool's figures. */
void
spool_get_stats(const struct spool *sp, struct spool_stats *st)
{
	*st = sp->st;
	st->records = sp->pending;
	st->bytes = sp->bytes;
}
