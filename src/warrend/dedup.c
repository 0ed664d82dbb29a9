/* dedup.c -- the message_ids a subscription's app acked lately. Memory: a
 * hash of ids plus their order of arrival, so the oldest go first when the
 * window (count and age) is full. Disk: one file, a magic line then records
 * (length byte, acked-at seconds, the id, an FNV-1a check), gathered as
 * acks come and appended with one write by dedup_flush, which the consumer
 * calls before it sends the acks to the broker; rewritten by rename when it
 * holds twice the window. A torn
 * last record fails its check and is cut off at the next open.
 *
 * Appends are not fsynced: a power cut may forget the last ids, and then
 * the app sees such an event twice, which at-least-once allows. Never the
 * other way round: an id is only ever added after the app acked it. */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedup.h"
#include "util.h"

#define DEDUP_MAGIC "warren-dedup 1\n"
#define DEDUP_MAGIC_LEN (sizeof DEDUP_MAGIC - 1)
#define DEDUP_HEAD 9 /* length byte and 8 bytes of time */
#define DEDUP_REC_MAX (DEDUP_HEAD + DEDUP_MAX_ID + 4)
#define DEDUP_MIN_REWRITE 64 /* records: never rewrite more often */

/* One remembered id. */
struct dedup_entry {
	TAILQ_ENTRY(dedup_entry) order; /* oldest first */
	struct dedup_entry *next;	/* in its hash bucket */
	uint64_t	    t;
	uint64_t	    hash;
	char		    id[];
};
TAILQ_HEAD(dedup_entryq, dedup_entry);

struct dedup {
	char		    *path;
	int		     fd; /* appending */
	size_t		     max_ids;
	uint64_t	     max_age;
	struct dedup_entry **buckets;
	size_t		     nbuckets;
	struct dedup_entryq  entries;
	size_t		     count;
	size_t		     records; /* in the file, or on their way */
	unsigned char	    *pend;    /* records not written yet */
	size_t		     npend;
	size_t		     pend_size;
};

/* FNV-1a, 32 bits: the check of a record. */
static uint32_t
dedup_check(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261U;
	size_t	 i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619U;
	return (h);
}

/* Encode a record for id at t into buf; its length. */
static size_t
dedup_encode(unsigned char *buf, const char *id, size_t len, uint64_t t)
{
	uint32_t c;
	int	 i;

	buf[0] = (unsigned char)len;
	for (i = 0; i < 8; i++)
		buf[1 + i] = (unsigned char)(t >> (8 * i));
	memcpy(buf + DEDUP_HEAD, id, len);
	c = dedup_check(buf, DEDUP_HEAD + len);
	for (i = 0; i < 4; i++)
		buf[DEDUP_HEAD + len + (size_t)i] = (unsigned char)(c >>
		    (8 * i));
	return (DEDUP_HEAD + len + 4);
}

/* The entry of id, or NULL. */
static struct dedup_entry *
dedup_find(const struct dedup *d, const char *id, uint64_t h)
{
	struct dedup_entry *e;

	for (e = d->buckets[h & (d->nbuckets - 1)]; e != NULL; e = e->next) {
		if (e->hash == h && strcmp(e->id, id) == 0)
			return (e);
	}
	return (NULL);
}

/* Forget the oldest entry. */
static void
dedup_drop_oldest(struct dedup *d)
{
	struct dedup_entry  *e = TAILQ_FIRST(&d->entries);
	struct dedup_entry **pp = &d->buckets[e->hash & (d->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	TAILQ_REMOVE(&d->entries, e, order);
	d->count--;
	free(e);
}

/* Forget what fell out of the window: too many, or too old at now. */
static void
dedup_expire(struct dedup *d, uint64_t now)
{
	struct dedup_entry *e;

	while ((e = TAILQ_FIRST(&d->entries)) != NULL &&
	    (d->count > d->max_ids ||
		(e->t <= now && now - e->t >= d->max_age)))
		dedup_drop_oldest(d);
}

/* Remember id at t in memory (not the file); 1 if it is new. */
static int
dedup_insert(struct dedup *d, const char *id, size_t len, uint64_t t)
{
	uint64_t	    h = util_fnv1a(id, len);
	struct dedup_entry *e;

	if ((e = dedup_find(d, id, h)) != NULL)
		return (0);
	e = xmalloc(sizeof *e + len + 1);
	memcpy(e->id, id, len);
	e->id[len] = '\0';
	e->t = t;
	e->hash = h;
	e->next = d->buckets[h & (d->nbuckets - 1)];
	d->buckets[h & (d->nbuckets - 1)] = e;
	TAILQ_INSERT_TAIL(&d->entries, e, order);
	d->count++;
	return (1);
}

/* Read one record from f; 1 with id and t, 0 at a clean end, -1 for a
 * torn or damaged one. */
static int
dedup_read_record(FILE *f, char *id, size_t *len, uint64_t *t)
{
	unsigned char buf[DEDUP_REC_MAX];
	uint32_t      c = 0;
	int	      i;

	if (fread(buf, 1, 1, f) == 0)
		return (0);
	*len = buf[0];
	if (*len == 0 ||
	    fread(buf + 1, 1, DEDUP_HEAD - 1 + *len + 4, f) !=
		DEDUP_HEAD - 1 + *len + 4)
		return (-1);
	for (i = 0; i < 4; i++)
		c |= (uint32_t)buf[DEDUP_HEAD + *len + (size_t)i] << (8 * i);
	if (c != dedup_check(buf, DEDUP_HEAD + *len))
		return (-1);
	for (*t = 0, i = 0; i < 8; i++)
		*t |= (uint64_t)buf[1 + i] << (8 * i);
	memcpy(id, buf + DEDUP_HEAD, *len);
	id[*len] = '\0';
	return (memchr(id, '\0', *len) != NULL ? -1 : 1);
}

/* Load the file's records into d; cut a bad tail off. */
static int
dedup_load(struct dedup *d, FILE *f, uint64_t now, char **cause)
{
	char	 magic[DEDUP_MAGIC_LEN], id[DEDUP_MAX_ID + 1];
	size_t	 len;
	uint64_t t;
	long	 good = (long)DEDUP_MAGIC_LEN;
	int	 rv;

	if (fread(magic, 1, sizeof magic, f) != sizeof magic ||
	    memcmp(magic, DEDUP_MAGIC, sizeof magic) != 0) {
		xasprintf(cause, "%s: not a warren dedup file", d->path);
		return (-1);
	}
	while ((rv = dedup_read_record(f, id, &len, &t)) == 1) {
		dedup_insert(d, id, len, t);
		dedup_expire(d, now);
		d->records++;
		good = ftell(f);
	}
	if (rv == -1 && truncate(d->path, good) != 0) {
		xasprintf(cause, "%s: cutting a torn record off: %s", d->path,
		    util_strerror(errno));
		return (-1);
	}
	return (0);
}

/* Write all of buf to fd. */
static int
dedup_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t	    n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * An id in the window makes warrend ack a delivery without handing it to
 * anyone, so whoever can write the file can make events vanish: trust it
 * only if it is warrend's own and nobody else may write to it (or to its
 * directory, which could swap it). type is S_IFREG or S_IFDIR.
 */
static int
dedup_trust(int fd, const char *path, mode_t type, char **cause)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		xasprintf(cause, "%s: %s", path, util_strerror(errno));
		return (-1);
	}
	if ((st.st_mode & S_IFMT) != type || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0) {
		xasprintf(cause,
		    "%s: not trusted: it must be a %s of uid %u that no one "
		    "else may write to",
		    path, type == S_IFDIR ? "directory" : "regular file",
		    (unsigned)geteuid());
		return (-1);
	}
	return (0);
}

/* The directory of path must be trusted too. */
static int
dedup_trust_dir(const char *path, char **cause)
{
	char *copy = xstrdup(path), *dir;
	int   fd, rv = -1;

	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		xasprintf(cause, "%s: %s", dir, util_strerror(errno));
	else
		rv = dedup_trust(fd, dir, S_IFDIR, cause);
	if (fd != -1)
		close(fd);
	free(copy);
	return (rv);
}

/* Open the file for appending, making it (with its magic) if missing, and
 * load what it holds. */
static int
dedup_open_file(struct dedup *d, uint64_t now, char **cause)
{
	FILE *f;
	int   fd;

	if (dedup_trust_dir(d->path, cause) != 0)
		return (-1);
	fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		xasprintf(cause, "%s: %s", d->path, util_strerror(errno));
		return (-1);
	}
	if (dedup_trust(fd, d->path, S_IFREG, cause) != 0) {
		close(fd);
		return (-1);
	}
	if (lseek(fd, 0, SEEK_END) == 0 &&
	    dedup_write(fd, DEDUP_MAGIC, DEDUP_MAGIC_LEN) != 0) {
		xasprintf(cause, "%s: %s", d->path, util_strerror(errno));
		close(fd);
		return (-1);
	}
	if ((f = fopen(d->path, "re")) == NULL) {
		xasprintf(cause, "%s: %s", d->path, util_strerror(errno));
		close(fd);
		return (-1);
	}
	if (dedup_load(d, f, now, cause) != 0) {
		fclose(f);
		close(fd);
		return (-1);
	}
	fclose(f);
	d->fd = fd;
	return (lseek(fd, 0, SEEK_END) == -1 ? -1 : 0);
}

/* Open the file at path and load it. */
struct dedup *
dedup_open(const char *path, size_t max_ids, uint64_t max_age_s, uint64_t now,
    char **cause)
{
	struct dedup *d = xcalloc(1, sizeof *d);

	d->path = xstrdup(path);
	d->fd = -1;
	d->max_ids = max_ids > 0 ? max_ids : 1;
	d->max_age = max_age_s > 0 ? max_age_s : 1;
	for (d->nbuckets = 16;
	     d->nbuckets < d->max_ids && d->nbuckets < (1U << 24);)
		d->nbuckets *= 2;
	d->buckets = xcalloc(d->nbuckets, sizeof *d->buckets);
	TAILQ_INIT(&d->entries);
	if (dedup_open_file(d, now, cause) != 0) {
		dedup_close(d);
		return (NULL);
	}
	return (d);
}

/* Was id acked within the window? */
int
dedup_seen(struct dedup *d, const char *id, uint64_t now)
{
	dedup_expire(d, now);
	return (dedup_find(d, id, util_fnv1a(id, strlen(id))) != NULL);
}

/* Sync the directory of path, so a rename in it is on disk. */
static void
dedup_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int   fd;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Write the live entries to a new file and put it in place by rename. */
static int
dedup_rewrite(struct dedup *d, char **cause)
{
	unsigned char	    buf[DEDUP_REC_MAX];
	struct dedup_entry *e;
	char		   *tmp;
	int		    fd, rv = -1;

	xasprintf(&tmp, "%s.tmp", d->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || dedup_write(fd, DEDUP_MAGIC, DEDUP_MAGIC_LEN) != 0)
		goto out;
	TAILQ_FOREACH(e, &d->entries, order) {
		if (dedup_write(fd, buf,
			dedup_encode(buf, e->id, strlen(e->id), e->t)) != 0)
			goto out;
	}
	if (fsync(fd) != 0 || rename(tmp, d->path) != 0)
		goto out;
	dedup_sync_dir(d->path);
	close(d->fd);
	d->fd = fd;
	fd = -1;
	d->records = d->count;
	rv = 0;
out:
	if (rv != 0) {
		xasprintf(cause, "%s: rewriting: %s", d->path,
		    util_strerror(errno));
		unlink(tmp);
	}
	if (fd != -1)
		close(fd);
	free(tmp);
	return (rv);
}

/* Remember id as acked at now, in memory and in the file. */
int
dedup_add(struct dedup *d, const char *id, uint64_t now, char **cause)
{
	size_t len = strlen(id);

	if (len == 0 || len > DEDUP_MAX_ID)
		return (0);
	if (!dedup_insert(d, id, len, now))
		return (0);
	dedup_expire(d, now);
	if (d->records >= 2 * d->max_ids && d->records >= DEDUP_MIN_REWRITE) {
		d->npend = 0; /* the rewrite holds every id remembered */
		return (dedup_rewrite(d, cause));
	}
	if (d->pend_size - d->npend < DEDUP_REC_MAX) {
		d->pend_size = d->pend_size == 0 ? 4096 : d->pend_size * 2;
		d->pend = xreallocarray(d->pend, 1, d->pend_size);
	}
	d->npend += dedup_encode(d->pend + d->npend, id, len, now);
	d->records++;
	return (0);
}

/* Append the records gathered since the last flush, with one write. */
int
dedup_flush(struct dedup *d, char **cause)
{
	size_t n = d->npend;

	if (n == 0)
		return (0);
	d->npend = 0;
	if (dedup_write(d->fd, d->pend, n) != 0) {
		xasprintf(cause, "%s: %s", d->path, util_strerror(errno));
		return (-1);
	}
	return (0);
}

/* The number of ids remembered. */
size_t
dedup_count(const struct dedup *d)
{
	return (d->count);
}

/* The number of records in the file. */
size_t
dedup_records(const struct dedup *d)
{
	return (d->records);
}

/* Close the file and free everything. */
void
dedup_close(struct dedup *d)
{
	struct dedup_entry *e;

	char *cause = NULL;

	if (d == NULL)
		return;
	if (dedup_flush(d, &cause) != 0)
		free(cause); /* as a crash would: ids seen twice at worst */
	free(d->pend);
	while ((e = TAILQ_FIRST(&d->entries)) != NULL) {
		TAILQ_REMOVE(&d->entries, e, order);
		free(e);
	}
	if (d->fd != -1)
		close(d->fd);
	free(d->buckets);
	free(d->path);
	free(d);
}
