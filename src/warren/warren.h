/* warren.h -- what the command-line client's files share. */
#ifndef WARREN_WARREN_H
#define WARREN_WARREN_H

#include <sys/types.h>
#include <cjson/cJSON.h>
#include <stddef.h>

#include "proto.h"

#define WARREN_SOCKET "/run/warren/warren.sock"
#define WARREN_MAX_UNANSWERED 1024	    /* publishes in flight */
#define WARREN_MAX_QUEUED (4 * 1024 * 1024) /* request bytes unwritten */
#define WARREN_READ_SIZE 65536
#define WARREN_QUERY_TIMEOUT 30 /* seconds of silence */

#define WARREN_EXIT_REFUSED 1
#define WARREN_EXIT_TROUBLE 2

/* Bytes read and not yet consumed are [off, len) of p; the search for a
 * newline resumes at scan, so a long line is not searched again and again. */
struct warren_buf {
	char  *p;
	size_t off;
	size_t len;
	size_t size;
	size_t scan;
};

/* The connection to warrend. */
struct warren_conn {
	int		  fd;
	const char	 *path;
	struct warren_buf in;
	struct pbuf	  out;
	size_t		  outoff; /* written part of out */
	int		  werr;	  /* errno of a failed write */
};

ssize_t warren_buf_read(struct warren_buf *, int fd);
char   *warren_buf_line(struct warren_buf *, size_t *len);
size_t	warren_conn_pending(const struct warren_conn *);
void	warren_conn_flush(struct warren_conn *);
int	warren_conn_read(struct warren_conn *);
void	warren_conn_lost(const struct warren_conn *, size_t)
    __attribute__((noreturn));
cJSON	   *warren_conn_reply(struct warren_conn *, int timeout);
const char *warren_reply_str(const cJSON *, const char *key);
char	   *warren_reply_error(const cJSON *);
int	    warren_refused(const cJSON *);

void warren_conn_open(struct warren_conn *, const char *path);
void warren_json_print(const cJSON *);

/* A command: its name, synopsis and what it does (warren-usage.c). */
struct warren_cmd {
	const char *name;
	const char *synopsis;
	const char *help;
};

struct option;
const struct warren_cmd *warren_cmd_find(const char *name);
void			 warren_usage(void) __attribute__((noreturn));
void warren_cmd_help(const char *name) __attribute__((noreturn));
void warren_usage_error(const char *name, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
int warren_getopt(int argc, char **argv, const char *shortopts,
    const struct option *longopts);

/* The commands below parse their own arguments (a mistake exits 2 through
 * warren_usage_error) and return the exit status. */
/* warren subscribe [--exec cmd] [--requeue] event */
int warren_subscribe_run(const char *path, int argc, char **argv);
/* warren compat [--json] old new: 0, or 1 when a change is forbidden. */
int warren_compat_run(int argc, char **argv);
/* warren lint [--strict] [config] */
int warren_lint_run(const char *cflag, int argc, char **argv);
/* warren contracts --json-schema NAME (name) and warren asyncapi (name
 * NULL), read from the config file cflag (NULL: the default), not from
 * warrend: 1 for an unknown contract. */
int warren_schema_run(const char *cflag, const char *name);

#endif
