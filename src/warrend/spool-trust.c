/* spool-trust.c -- what the spool trusts, and why it may. warrend often
 * runs as root and republishes what it finds in spool.dir as genuine
 * events, so the directory must be its own: a directory (not a symbolic
 * link) owned by the effective uid and writable by nobody else. Every file
 * in it is opened from the directory's fd with O_NOFOLLOW and must be a
 * regular file of that uid with one link; and each record carries an
 * HMAC-SHA256 under a key that only warrend can read (spool.key, 0600),
 * so that a record it did not write is never published. The directory is
 * listed through its fd too, never looked up again by name. */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"
#include "spool-int.h"
#include "util.h"

#define SPOOL_KEY_NEW SPOOL_KEY_FILE ".new"

/* Why dir, which could not be opened as a directory without following a
 * link, is refused. */
static void
spool_dir_refused(const char *dir, int error, char **cause)
{
	struct stat st;

	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		xasprintf(cause,
		    "spool.dir %s is a symbolic link: refused "
		    "(name the directory itself)",
		    dir);
	else
		xasprintf(cause, "spool.dir %s: %s", dir, strerror(error));
}

/* Open dir without following a link; refuse it unless it is warrend's
 * own. Return the fd or -1 with *cause set. */
int
spool_dir_open(const char *dir, char **cause)
{
	struct stat st;
	char	   *d = xstrdup(dir);
	size_t	    n = strlen(d);
	int	    fd;

	/* A trailing slash would make open follow a final symbolic link. */
	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	fd = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		spool_dir_refused(d, errno, cause);
		free(d);
		return (-1);
	}
	free(d);
	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "spool.dir %s: %s", dir, strerror(errno));
	} else if (st.st_uid != geteuid()) {
		xasprintf(cause,
		    "spool.dir %s is owned by uid %u, not by uid %u "
		    "that warrend runs as: refused",
		    dir, (unsigned)st.st_uid, (unsigned)geteuid());
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		xasprintf(cause,
		    "spool.dir %s is writable by its group or by "
		    "others (mode %04o): refused; chmod go-w it",
		    dir, (unsigned)(st.st_mode & 07777));
	} else
		return (fd);
	close(fd);
	return (-1);
}

/*
 * Open name in the spool directory without following a link (flags as for
 * open). What is there, found or made, must be a regular file of
 * warrend's uid with one link: anything else was not made by warrend.
 * Return the fd, or -1 with *cause set (errno kept for ENOENT).
 */
int
spool_file_open(int dirfd, const char *dir, const char *name, int flags,
    char **cause)
{
	struct stat st;
	int	    fd, error;

	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		error = errno;
		if (error == ELOOP)
			xasprintf(cause,
			    "spool.dir %s: %s is a symbolic link: "
			    "refused (warrend never makes one; remove it)",
			    dir, name);
		else
			xasprintf(cause, "spool.dir %s: %s: %s", dir, name,
			    strerror(error));
		errno = error;
		return (-1);
	}
	if (fstat(fd, &st) == -1)
		xasprintf(cause, "spool.dir %s: %s: %s", dir, name,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1)
		xasprintf(cause,
		    "spool.dir %s: %s is not a regular file of uid "
		    "%u with one link: refused (warrend did not make it; move "
		    "it away)",
		    dir, name, (unsigned)geteuid());
	else
		return (fd);
	close(fd);
	errno = EPERM;
	return (-1);
}

/* Read exactly len bytes from fd. */
static int
spool_read_all(int fd, unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, buf, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Write a new random key as SPOOL_KEY_NEW, durable, then link it into
 * place: a crash leaves either no key or a whole one. */
static int
spool_key_make(int dirfd, const char *dir, unsigned char *key, char **cause)
{
	size_t	got = 0;
	ssize_t n;
	int	fd;

	while (got < SPOOL_KEY_LEN) {
		if ((n = getrandom(key + got, SPOOL_KEY_LEN - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "getrandom: %s", strerror(errno));
			return (-1);
		}
		got += (size_t)n;
	}
	if (unlinkat(dirfd, SPOOL_KEY_NEW, 0) == -1 && errno != ENOENT) {
		xasprintf(cause, "spool.dir %s: unlink %s: %s", dir,
		    SPOOL_KEY_NEW, strerror(errno));
		return (-1);
	}
	if ((fd = spool_file_open(dirfd, dir, SPOOL_KEY_NEW,
		 O_WRONLY | O_CREAT | O_EXCL, cause)) == -1)
		return (-1);
	if (fchmod(fd, 0600) == -1 ||
	    write(fd, key, SPOOL_KEY_LEN) != SPOOL_KEY_LEN || fsync(fd) == -1 ||
	    linkat(dirfd, SPOOL_KEY_NEW, dirfd, SPOOL_KEY_FILE, 0) == -1) {
		xasprintf(cause, "spool.dir %s: writing %s: %s", dir,
		    SPOOL_KEY_FILE, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	if (unlinkat(dirfd, SPOOL_KEY_NEW, 0) == -1 || fsync(dirfd) == -1)
		log_warn("spool: %s/%s", dir, SPOOL_KEY_NEW);
	log_info("spool: made a new record key %s/%s", dir, SPOOL_KEY_FILE);
	return (0);
}

/* Load the record key from the spool directory, making it on first use.
 * It must be warrend's alone: mode 0600 (or stricter), 32 bytes. */
int
spool_key_load(int dirfd, const char *dir, unsigned char *key, char **cause)
{
	struct stat st;
	int	    fd;

	fd = spool_file_open(dirfd, dir, SPOOL_KEY_FILE, O_RDONLY, cause);
	if (fd == -1 && errno == ENOENT) {
		free(*cause);
		*cause = NULL;
		return (spool_key_make(dirfd, dir, key, cause));
	}
	if (fd == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || (st.st_mode & 077) != 0 ||
	    st.st_size != SPOOL_KEY_LEN ||
	    spool_read_all(fd, key, SPOOL_KEY_LEN) != 0) {
		xasprintf(cause,
		    "spool.dir %s: %s must be %d bytes readable by "
		    "its owner only (mode 0600): refused",
		    dir, SPOOL_KEY_FILE, SPOOL_KEY_LEN);
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* Segment files are NNNNNNNNNNNNNNNN.spool. */
static int
spool_is_segment(const char *name)
{
	size_t n = strlen(name);

	return (n == 22 && strspn(name, "0123456789") == 16 &&
	    strcmp(name + 16, ".spool") == 0);
}

/* Order segment ids. */
static int
spool_id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The ids of the segments in the directory (read through its fd, not its
 * name), sorted; return how many, or -1. */
int
spool_dir_list(int dirfd, const char *dir, uint64_t **ids, char **cause)
{
	DIR	      *d;
	struct dirent *e;
	int	       fd, n = 0, size = 0;

	*ids = NULL;
	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		xasprintf(cause, "spool.dir %s: %s", dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (!spool_is_segment(e->d_name))
			continue;
		if (n == size) {
			size = size == 0 ? 16 : size * 2;
			*ids = xreallocarray(*ids, (size_t)size, sizeof **ids);
		}
		(*ids)[n++] = strtoull(e->d_name, NULL, 10);
	}
	closedir(d);
	if (n > 0)
		qsort(*ids, (size_t)n, sizeof **ids, spool_id_cmp);
	return (n);
}

/* For warrend -t: would spool_open accept dir? A dir that does not exist
 * yet is not an error here (systemd may make it at start). */
int
spool_check(const char *dir, char **cause)
{
	struct stat st;
	char	   *why;
	int	    fd;

	if (lstat(dir, &st) == -1 && errno == ENOENT)
		return (0);
	if ((fd = spool_dir_open(dir, cause)) == -1) {
		if (st.st_uid != geteuid()) {
			/* Root checking a service user's dir: say so. */
			why = *cause;
			xasprintf(cause,
			    "%s (run warrend -t as the user warrend "
			    "runs as)",
			    why);
			free(why);
		}
		return (-1);
	}
	close(fd);
	return (0);
}
