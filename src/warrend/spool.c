/* spool.c -- the disk spool: an append-only log of checksummed records in
 * segment files NNNNNNNNNNNNNNNN.spool under spool.dir. A record is
 *
 *	u32 magic, u32 payload length, u32 CRC-32C of the payload,
 *	payload: u16 routing key length, u16 type length, u16 message_id
 *	length, u16 zero, i64 timestamp (ms), the three strings, the body,
 *
 * all little-endian. Records are handed out in order for republishing and
 * released only once the broker confirmed them; a segment is removed when
 * every record in it is. Used by the publisher thread only. */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "publisher.h"
#include "spool.h"
#include "util.h"

#define SPOOL_MAX_PAYLOAD	(256u << 20)
#define SPOOL_FIXED		16	/* payload bytes before the strings */

struct spool_seg {
	TAILQ_ENTRY(spool_seg)	 entry;
	uint64_t		 id;
	uint64_t		 size;		/* bytes of whole records */
	uint64_t		 records;	/* valid ones */
};
TAILQ_HEAD(spool_segq, spool_seg);

struct spool {
	char			*dir;
	int			 dirfd;
	int			 lockfd;
	long long		 max_bytes;
	int			 fsync;
	size_t			 segment_max;
	struct spool_segq	 segs;		/* oldest first */
	int			 wfd;		/* the last segment's, or -1 */
	int			 dirty;		/* appended since the last sync */
	int			 dir_dirty;	/* a segment was created */
	uint64_t		 bytes;
	uint64_t		 pending;	/* on disk, not confirmed */
	uint64_t		 unread;	/* not handed out */
	uint64_t		 head_off;	/* oldest unconfirmed, first seg */
	struct spool_seg	*rseg;		/* read cursor */
	uint64_t		 roff;
	int			 rfd;
	struct pub_jobq		 reads;		/* handed out, in order */
	struct spool_stats	 st;
	char			*buf;		/* for encoding and reading */
	size_t			 bufsize;
};

/* The CRC-32C table, made on first use. */
static uint32_t	spool_crc_table[256];

/* CRC-32C (Castagnoli, reflected 0x82f63b78) of buf. */
uint32_t
spool_crc32c(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint32_t		 crc = 0xffffffffu, c;
	int			 i, k;

	if (spool_crc_table[1] == 0) {
		for (i = 0; i < 256; i++) {
			for (c = (uint32_t)i, k = 0; k < 8; k++)
				c = (c >> 1) ^ (c & 1 ? 0x82f63b78u : 0);
			spool_crc_table[i] = c;
		}
	}
	while (len-- > 0)
		crc = spool_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return (crc ^ 0xffffffffu);
}

/* Little-endian stores and loads. */
static void
spool_put(unsigned char *p, uint64_t v, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Load n little-endian bytes. */
static uint64_t
spool_get(const unsigned char *p, int n)
{
	uint64_t	 v = 0;
	int		 i;

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

/* The path of segment id. */
static void
spool_seg_path(const struct spool *sp, uint64_t id, char *out, size_t len)
{
	snprintf(out, len, "%s/%016llu.spool", sp->dir, (unsigned long long)id);
}

/* Read exactly len bytes at off; 0 on success, -1 on a short read. */
static int
spool_pread(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t	 n;
	size_t	 got = 0;

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
 * payload length, or -1. The payload is left in the scratch buffer.
 */
static long long
spool_record_at(struct spool *sp, int fd, uint64_t off, uint64_t size)
{
	unsigned char	 h[SPOOL_HEADER];
	uint64_t	 len;
	char		*p;

	if (size - off < SPOOL_HEADER || spool_pread(fd, h, sizeof h, off))
		return (-1);
	len = spool_get(h + 4, 4);
	if (spool_get(h, 4) != SPOOL_MAGIC || len < SPOOL_FIXED ||
	    len > SPOOL_MAX_PAYLOAD || len > size - off - SPOOL_HEADER)
		return (-1);
	p = spool_buf(sp, len);
	if (spool_pread(fd, p, len, off + SPOOL_HEADER) != 0 ||
	    spool_crc32c(p, len) != spool_get(h + 8, 4))
		return (-1);
	if (SPOOL_FIXED + spool_get((unsigned char *)p, 2) +
	    spool_get((unsigned char *)p + 2, 2) +
	    spool_get((unsigned char *)p + 4, 2) > len)
		return (-1);
	return ((long long)len);
}

/*
 * The offset of the next intact record at or after off, or size if none.
 * Records are never fewer than SPOOL_HEADER + SPOOL_FIXED bytes apart.
 */
static uint64_t
spool_resync(struct spool *sp, int fd, uint64_t off, uint64_t size)
{
	unsigned char	 m[4];

	for (; off + SPOOL_HEADER + SPOOL_FIXED <= size; off++) {
		if (spool_pread(fd, m, sizeof m, off) != 0)
			break;
		if (spool_get(m, 4) == SPOOL_MAGIC &&
		    spool_record_at(sp, fd, off, size) >= 0)
			return (off);
	}
	return (size);
}

/* Count the records of a segment; cut a torn tail off the last one. */
static int
spool_scan(struct spool *sp, struct spool_seg *seg, int last, char **cause)
{
	char		 path[4096];
	struct stat	 st;
	uint64_t	 off = 0, next;
	long long	 len;
	int		 fd;

	spool_seg_path(sp, seg->id, path, sizeof path);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	seg->size = (uint64_t)st.st_size;
	while (off < seg->size) {
		if ((len = spool_record_at(sp, fd, off, seg->size)) >= 0) {
			seg->records++;
			off += SPOOL_HEADER + (uint64_t)len;
			continue;
		}
		next = spool_resync(sp, fd, off + 1, seg->size);
		if (next == seg->size && last) {
			log_warnx("spool: %s: torn record at offset %llu (a "
			    "crash while writing; it was never acknowledged): "
			    "cut off", path, (unsigned long long)off);
			sp->st.torn++;
			if (ftruncate(fd, (off_t)off) == -1)
				log_warn("spool: %s: ftruncate", path);
			seg->size = off;
			break;
		}
		log_warnx("spool: %s: damaged record at offset %llu: skipped "
		    "%llu bytes", path, (unsigned long long)off,
		    (unsigned long long)(next - off));
		sp->st.corrupt++;
		off = next;
	}
	close(fd);
	return (0);
}

/* Segment files are NNNNNNNNNNNNNNNN.spool. */
static int
spool_filter(const struct dirent *d)
{
	size_t	 n = strlen(d->d_name);

	return (n == 22 && strspn(d->d_name, "0123456789") == 16 &&
	    strcmp(d->d_name + 16, ".spool") == 0);
}

/* Find and scan every segment, oldest first; drop empty ones. */
static int
spool_load(struct spool *sp, char **cause)
{
	struct dirent		**list;
	struct spool_seg	 *seg;
	char			  path[4096];
	int			  i, n, rv = 0;

	if ((n = scandir(sp->dir, &list, spool_filter, alphasort)) == -1) {
		xasprintf(cause, "spool.dir %s: %s", sp->dir, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		seg = xcalloc(1, sizeof *seg);
		seg->id = strtoull(list[i]->d_name, NULL, 10);
		if (rv == 0 && spool_scan(sp, seg, i == n - 1, cause) != 0)
			rv = -1;
		if (rv == 0 && seg->records == 0 && i == n - 1 &&
		    seg->size == 0) {
			spool_seg_path(sp, seg->id, path, sizeof path);
			unlink(path);
			free(seg);
		} else {
			TAILQ_INSERT_TAIL(&sp->segs, seg, entry);
			sp->bytes += seg->size;
			sp->pending += seg->records;
		}
		free(list[i]);
	}
	free(list);
	sp->unread = sp->pending;
	sp->rseg = TAILQ_FIRST(&sp->segs);
	return (rv);
}

/* Lock the directory so that two warrends never share a spool. */
static int
spool_lock(struct spool *sp, char **cause)
{
	char	 path[4096];

	snprintf(path, sizeof path, "%s/lock", sp->dir);
	if ((sp->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) ==
	    -1) {
		xasprintf(cause, "spool.dir %s is not writable: %s", sp->dir,
		    strerror(errno));
		return (-1);
	}
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
	struct spool_seg	*seg = TAILQ_FIRST(&sp->segs);
	struct pub_job		*j = TAILQ_FIRST(&sp->reads);
	char			 path[4096];
	uint64_t		 off;
	int			 fd;

	sp->st.oldest_ms = 0;
	if (sp->pending == 0 || seg == NULL)
		return;
	if (j != NULL) {
		sp->st.oldest_ms = j->timestamp_ms;
		return;
	}
	spool_seg_path(sp, seg->id, path, sizeof path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	/* The oldest may sit behind damaged bytes: look past them. */
	off = spool_resync(sp, fd, sp->head_off, seg->size);
	if (spool_record_at(sp, fd, off, seg->size) >= 0)
		sp->st.oldest_ms = (int64_t)spool_get((unsigned char *)sp->buf +
		    8, 8);
	close(fd);
}

/* Open the spool in dir. */
struct spool *
spool_open(const char *dir, long long max_bytes, int fsync,
    size_t segment_max, char **cause)
{
	struct spool	*sp = xcalloc(1, sizeof *sp);

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
	if ((sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		xasprintf(cause, "spool.dir %s: %s", dir, strerror(errno));
		spool_close(sp);
		return (NULL);
	}
	if (spool_lock(sp, cause) != 0 || spool_load(sp, cause) != 0) {
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
	struct spool_seg	*seg;

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
	free(sp->buf);
	free(sp->dir);
	free(sp);
}

/* Start a new segment for appends; the old one is made durable first. */
static int
spool_rotate(struct spool *sp)
{
	struct spool_seg	*last = TAILQ_LAST(&sp->segs, spool_segq);
	struct spool_seg	*seg;
	char			 path[4096];
	int			 fd;

	if (sp->wfd != -1) {
		if (sp->dirty && (sp->fsync ? fdatasync(sp->wfd) : 0) == -1)
			return (-1);
		close(sp->wfd);
		sp->wfd = -1;
	}
	seg = xcalloc(1, sizeof *seg);
	seg->id = last != NULL ? last->id + 1 : 1;
	spool_seg_path(sp, seg->id, path, sizeof path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1) {
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
	ssize_t	 n;

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

/* Encode j as a record in the scratch buffer; return its length. */
static size_t
spool_encode(struct spool *sp, const struct pub_job *j)
{
	size_t		 rl = strlen(j->routing_key), tl = strlen(j->type);
	size_t		 ml = strlen(j->message_id);
	size_t		 plen = SPOOL_FIXED + rl + tl + ml + j->bodylen;
	unsigned char	*p;

	p = (unsigned char *)spool_buf(sp, SPOOL_HEADER + plen);
	spool_put(p + SPOOL_HEADER, rl, 2);
	spool_put(p + SPOOL_HEADER + 2, tl, 2);
	spool_put(p + SPOOL_HEADER + 4, ml, 2);
	spool_put(p + SPOOL_HEADER + 6, 0, 2);
	spool_put(p + SPOOL_HEADER + 8, (uint64_t)j->timestamp_ms, 8);
	p += SPOOL_HEADER + SPOOL_FIXED;
	memcpy(p, j->routing_key, rl);
	memcpy(p + rl, j->type, tl);
	memcpy(p + rl + tl, j->message_id, ml);
	memcpy(p + rl + tl + ml, j->body, j->bodylen);
	p = (unsigned char *)sp->buf;
	spool_put(p, SPOOL_MAGIC, 4);
	spool_put(p + 4, plen, 4);
	spool_put(p + 8, spool_crc32c(p + SPOOL_HEADER, plen), 4);
	return (SPOOL_HEADER + plen);
}

/* Append j's record. */
int
spool_append(struct spool *sp, const struct pub_job *j)
{
	struct spool_seg	*seg;
	size_t			 len;

	if (strlen(j->routing_key) > 65535 || strlen(j->type) > 65535 ||
	    j->bodylen > SPOOL_MAX_PAYLOAD - 1024) {
		errno = EFBIG;
		return (-2);
	}
	len = spool_encode(sp, j);
	if (sp->bytes + len > (uint64_t)sp->max_bytes) {
		sp->st.full++;
		return (-1);
	}
	seg = TAILQ_LAST(&sp->segs, spool_segq);
	if (sp->wfd == -1 || (seg->size > 0 &&
	    seg->size + len > sp->segment_max)) {
		if (spool_rotate(sp) != 0)
			return (-2);
		seg = TAILQ_LAST(&sp->segs, spool_segq);
		len = spool_encode(sp, j);
	}
	if (spool_write(sp->wfd, sp->buf, len) != 0) {
		/* Leave no partial record behind for the next append. */
		if (ftruncate(sp->wfd, (off_t)seg->size) == -1)
			log_warn("spool: ftruncate");
		return (-2);
	}
	if (sp->pending == 0)
		sp->st.oldest_ms = j->timestamp_ms;
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
	if (sp->fsync && sp->dirty && sp->wfd != -1 &&
	    fdatasync(sp->wfd) == -1)
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
	char	 path[4096];

	if (sp->rfd != -1)
		return (0);
	spool_seg_path(sp, sp->rseg->id, path, sizeof path);
	if ((sp->rfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("spool: %s", path);
		return (-1);
	}
	return (0);
}

/* Turn the record in the scratch buffer (payload of len) into a job. */
static struct pub_job *
spool_decode(struct spool *sp, size_t len)
{
	const unsigned char	*p = (const unsigned char *)sp->buf;
	size_t			 rl = spool_get(p, 2), tl = spool_get(p + 2, 2);
	size_t			 ml = spool_get(p + 4, 2);
	char			*rk, *type, mid[256];
	const char		*s = sp->buf + SPOOL_FIXED;
	struct pub_job		*j;

	rk = xstrndup(s, rl);
	type = xstrndup(s + rl, tl);
	snprintf(mid, sizeof mid, "%.*s", (int)(ml > 255 ? 255 : ml),
	    s + rl + tl);
	j = publisher_job_new(rk, type, mid, s + rl + tl + ml,
	    len - SPOOL_FIXED - rl - tl - ml);
	j->timestamp_ms = (int64_t)spool_get(p + 8, 8);
	j->from_spool = 1;
	free(rk);
	free(type);
	return (j);
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
	    "skipped", (unsigned long long)sp->unread);
	sp->st.corrupt += sp->unread;
	sp->pending -= sp->unread;
	sp->unread = 0;
}

/* The next record not yet handed out, as a new job. */
struct pub_job *
spool_next(struct spool *sp)
{
	struct pub_job	*j;
	long long	 len;

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
		if (sp->dirty && sp->rseg == TAILQ_LAST(&sp->segs, spool_segq) &&
		    spool_sync(sp) != 0)
			return (NULL);	/* never read what is not durable */
		if (spool_open_read(sp) != 0)
			return (NULL);
		len = spool_record_at(sp, sp->rfd, sp->roff, sp->rseg->size);
		if (len < 0) {
			/* Damaged: counted when it was found at start-up. */
			sp->roff = spool_resync(sp, sp->rfd, sp->roff + 1,
			    sp->rseg->size);
			continue;
		}
		j = spool_decode(sp, (size_t)len);
		sp->roff += SPOOL_HEADER + (uint64_t)len;
		j->spool_seg = sp->rseg->id;
		j->spool_end = sp->roff;
		TAILQ_INSERT_TAIL(&sp->reads, j, sentry);
		sp->unread--;
		return (j);
	}
	return (NULL);
}

/* Remove the first segment (every record in it is confirmed). */
static void
spool_drop_first(struct spool *sp)
{
	struct spool_seg	*seg = TAILQ_FIRST(&sp->segs);
	char			 path[4096];

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
	spool_seg_path(sp, seg->id, path, sizeof path);
	if (unlink(path) == -1)
		log_warn("spool: unlink %s", path);
	sp->bytes -= seg->size;
	TAILQ_REMOVE(&sp->segs, seg, entry);
	free(seg);
	sp->head_off = 0;
}

/* A handed-out record is settled: release what is settled in order. */
void
spool_done(struct spool *sp, struct pub_job *j)
{
	struct spool_seg	*seg;

	j->spool_done = 1;
	while ((j = TAILQ_FIRST(&sp->reads)) != NULL && j->spool_done) {
		TAILQ_REMOVE(&sp->reads, j, sentry);
		while ((seg = TAILQ_FIRST(&sp->segs)) != NULL &&
		    seg->id < j->spool_seg)
			spool_drop_first(sp);
		sp->head_off = j->spool_end;
		sp->pending--;
		sp->st.drained++;
		publisher_job_free(j);
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
	struct pub_job	*j;

	while ((j = TAILQ_FIRST(&sp->reads)) != NULL) {
		TAILQ_REMOVE(&sp->reads, j, sentry);
		publisher_job_free(j);
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
