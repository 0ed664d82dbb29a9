/* conf.c -- the configuration, parsed once into a validated structure. */
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf-int.h"
#include "conf-priv.h"
#include "log.h"
#include "projection.h"
#include "url.h"
#include "util.h"

enum conf_type {
	T_STRING,
	T_INT,
	T_BOOL,
	T_GROUP,
	T_ARRAY,
	T_LIST
};

/* Every key warrend accepts; anything else is an error. */
static const struct conf_key {
	const char    *group; /* NULL: top level */
	const char    *name;
	enum conf_type type;
	long long      min, max;
} conf_keys[] = {
	{ NULL, "service", T_STRING, 0, 0 },
	{ NULL, "socket", T_GROUP, 0, 0 },
	{ NULL, "broker", T_GROUP, 0, 0 },
	{ NULL, "spool", T_GROUP, 0, 0 },
	{ NULL, "contracts_dir", T_STRING, 0, 0 },
	{ NULL, "contracts", T_LIST, 0, 0 },
	{ NULL, "shutdown_timeout_ms", T_INT, 0, 600000 },
	{ "socket", "path", T_STRING, 0, 0 },
	{ "socket", "mode", T_STRING, 0, 0 },
	{ "socket", "group", T_STRING, 0, 0 },
	{ "socket", "max_clients", T_INT, 1, 65536 },
	{ "socket", "max_line", T_INT, 256, 64 << 20 },
	{ "broker", "urls", T_ARRAY, 0, 0 },
	{ "broker", "exchange", T_STRING, 0, 0 },
	{ "broker", "heartbeat", T_INT, 0, 3600 },
	{ "broker", "confirm_window", T_INT, 1, 65535 },
	{ "broker", "prefetch", T_INT, 1, 65535 },
	{ "broker", "queue_type", T_STRING, 0, 0 },
	{ "broker", "dead_letter", T_BOOL, 0, 0 },
	{ "broker", "unroutable", T_STRING, 0, 0 },
	{ "broker", "reconnect_min_ms", T_INT, 1, 3600000 },
	{ "broker", "reconnect_max_ms", T_INT, 1, 3600000 },
	{ "broker", "publish_timeout_ms", T_INT, 100, 3600000 },
	{ "broker", "password_file", T_STRING, 0, 0 },
	{ "broker", "auth_mechanism", T_STRING, 0, 0 },
	{ "broker", "tls", T_GROUP, 0, 0 },
	{ "broker.tls", "ca_file", T_STRING, 0, 0 },
	{ "broker.tls", "cert_file", T_STRING, 0, 0 },
	{ "broker.tls", "key_file", T_STRING, 0, 0 },
	{ "broker.tls", "verify_peer", T_BOOL, 0, 0 },
	{ "broker.tls", "verify_hostname", T_BOOL, 0, 0 },
	{ "spool", "dir", T_STRING, 0, 0 },
	{ "spool", "max_bytes", T_INT, 0, 1LL << 50 },
	{ "spool", "fsync", T_STRING, 0, 0 },
	{ NULL, "metrics", T_GROUP, 0, 0 },
	{ "metrics", "listen", T_STRING, 0, 0 },
	{ "metrics", "max_clients", T_INT, 1, 1024 },
	{ "metrics", "timeout_ms", T_INT, 100, 600000 },
	{ NULL, "trace", T_GROUP, 0, 0 },
	{ "trace", "start", T_BOOL, 0, 0 },
	{ "trace", "sampled", T_BOOL, 0, 0 },
};

/* The file a setting came from, or the main file. */
static const char *
conf_where_file(const config_setting_t *s, const char *file)
{
	const char *f = config_setting_source_file(s);

	return (f != NULL ? f : file);
}

/* Build "FILE:LINE: message" for setting s. */
char *
conf_error(const config_setting_t *s, const char *file, const char *fmt, ...)
{
	va_list ap;
	char   *msg, *out;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	/* Without a setting (a default was at fault) name the file alone. */
	if (s == NULL)
		xasprintf(&out, "%s: %s", file, msg);
	else
		xasprintf(&out, "%s:%u: %s", conf_where_file(s, file),
		    config_setting_source_line(s), msg);
	free(msg);
	return (out);
}

/* Look a key up in conf_keys. */
static const struct conf_key *
conf_key_find(const char *group, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(k->name, name) != 0)
			continue;
		if ((group == NULL) != (k->group == NULL))
			continue;
		if (group == NULL || strcmp(group, k->group) == 0)
			return (k);
	}
	return (NULL);
}

/* The libconfig type names, for messages. */
static const char *
conf_type_name(enum conf_type t)
{
	static const char *names[] = { "a string", "an integer", "a boolean",
		"a group { ... }", "an array [ ... ]", "a list ( ... )" };

	return (names[t]);
}

/* Does setting s have type t? */
static int
conf_type_ok(const config_setting_t *s, enum conf_type t)
{
	int ct = config_setting_type(s);

	switch (t) {
	case T_STRING:
		return (ct == CONFIG_TYPE_STRING);
	case T_INT:
		return (ct == CONFIG_TYPE_INT || ct == CONFIG_TYPE_INT64);
	case T_BOOL:
		return (ct == CONFIG_TYPE_BOOL);
	case T_GROUP:
		return (ct == CONFIG_TYPE_GROUP);
	case T_ARRAY:
		return (ct == CONFIG_TYPE_ARRAY || ct == CONFIG_TYPE_LIST);
	case T_LIST:
		return (ct == CONFIG_TYPE_LIST);
	}
	return (0);
}

/* Check one key: known, right type, in range. */
static int
conf_check_key(const config_setting_t *s, const char *group, const char *file,
    char **cause)
{
	const struct conf_key *k;
	const char	      *name = config_setting_name(s);
	long long	       v;
	char		       lit[64];

	if ((k = conf_key_find(group, name)) == NULL) {
		if (group != NULL)
			*cause = conf_error(s, file, "unknown key \"%s\" in %s",
			    name, group);
		else
			*cause = conf_error(s, file, "unknown key \"%s\"",
			    name);
		return (-1);
	}
	if (!conf_type_ok(s, k->type)) {
		*cause = conf_error(s, file, "%s%s%s must be %s",
		    group ? group : "", group ? "." : "", name,
		    conf_type_name(k->type));
		return (-1);
	}
	if (k->type != T_INT)
		return (0);
	if (!conf_int_literal_ok(s, lit, sizeof lit)) {
		*cause = conf_error(s, file,
		    "%s%s%s = %s was read as %lld "
		    "(libconfig keeps 32 bits without an L suffix); write %sL",
		    group ? group : "", group ? "." : "", name, lit,
		    (long long)config_setting_get_int64(s), lit);
		return (-1);
	}
	v = config_setting_get_int64(s);
	if (v < k->min || v > k->max) {
		*cause = conf_error(s, file,
		    "%s%s%s = %lld is out of range "
		    "(%lld to %lld)",
		    group ? group : "", group ? "." : "", name, v, k->min,
		    k->max);
		return (-1);
	}
	return (0);
}

/* Check every member of group g (named path, "broker.tls") and of the
 * groups inside it. */
static int
conf_check_group(const config_setting_t *g, const char *path, const char *file,
    char **cause)
{
	config_setting_t *m;
	char		 *sub;
	int		  j, rv;

	for (j = 0; (m = config_setting_get_elem(g, j)) != NULL; j++) {
		if (conf_check_key(m, path, file, cause) != 0)
			return (-1);
		if (!config_setting_is_group(m))
			continue;
		xasprintf(&sub, "%s.%s", path, config_setting_name(m));
		rv = conf_check_group(m, sub, file, cause);
		free(sub);
		if (rv != 0)
			return (-1);
	}
	return (0);
}

/* Check every key in the file against conf_keys. */
static int
conf_check_keys(const config_setting_t *root, const char *file, char **cause)
{
	config_setting_t *s;
	int		  i;

	for (i = 0; (s = config_setting_get_elem(root, i)) != NULL; i++) {
		if (conf_check_key(s, NULL, file, cause) != 0)
			return (-1);
		if (config_setting_is_group(s) &&
		    conf_check_group(s, config_setting_name(s), file, cause) !=
			0)
			return (-1);
	}
	return (0);
}

/* Copy a string key if present; empty strings are refused. */
int
conf_string(const config_setting_t *root, const char *path, char **out,
    const char *dflt, const char *file, char **cause)
{
	config_setting_t *s;
	const char	 *v;

	if ((s = config_setting_lookup((config_setting_t *)root, path)) ==
	    NULL) {
		*out = dflt != NULL ? xstrdup(dflt) : NULL;
		return (0);
	}
	v = config_setting_get_string(s);
	if (*v == '\0') {
		*cause = conf_error(s, file, "%s must not be empty", path);
		return (-1);
	}
	free(*out);
	*out = xstrdup(v);
	return (0);
}

/* Read an integer key (already range-checked) or its default. */
static long long
conf_int(const config_setting_t *root, const char *path, long long dflt)
{
	config_setting_t *s;

	s = config_setting_lookup((config_setting_t *)root, path);
	return (s != NULL ? config_setting_get_int64(s) : dflt);
}

/* Read a boolean key or its default. */
int
conf_bool(const config_setting_t *root, const char *path, int dflt)
{
	config_setting_t *s;

	s = config_setting_lookup((config_setting_t *)root, path);
	return (s != NULL ? config_setting_get_bool(s) : dflt);
}

/* Read a string key that must be one of two words; return 0 for a, 1 for b. */
int
conf_choice(const config_setting_t *root, const char *path, const char *a,
    const char *b, int dflt, const char *file, char **cause)
{
	config_setting_t *s;
	const char	 *v;

	s = config_setting_lookup((config_setting_t *)root, path);
	if (s == NULL)
		return (dflt);
	v = config_setting_get_string(s);
	if (strcmp(v, a) == 0)
		return (0);
	if (strcmp(v, b) == 0)
		return (1);
	*cause = conf_error(s, file, "%s must be \"%s\" or \"%s\", not \"%s\"",
	    path, a, b, v);
	return (-1);
}

/* Parse socket.mode ("0660") and socket.group. */
static int
conf_socket(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *s;
	const char	 *v;
	char		 *end;
	unsigned long	  mode;
	struct group	 *gr;

	if ((s = config_setting_lookup((config_setting_t *)root,
		 "socket.mode")) != NULL) {
		v = config_setting_get_string(s);
		errno = 0;
		mode = strtoul(v, &end, 8);
		if (*v == '\0' || *end != '\0' || errno != 0 || mode > 0777 ||
		    strspn(v, "01234567") != strlen(v)) {
			*cause = conf_error(s, cf->file,
			    "socket.mode \"%s\" "
			    "is not an octal mode such as \"0660\"",
			    v);
			return (-1);
		}
		cf->socket_mode = (mode_t)mode;
	}
	if (conf_string(root, "socket.group", &cf->socket_group, NULL, cf->file,
		cause) != 0)
		return (-1);
	if (cf->socket_group == NULL)
		return (0);
	s = config_setting_lookup((config_setting_t *)root, "socket.group");
	if ((gr = getgrnam(cf->socket_group)) != NULL)
		cf->socket_gid = gr->gr_gid;
	else if (strspn(cf->socket_group, "0123456789") ==
		strlen(cf->socket_group) &&
	    strlen(cf->socket_group) < 10)
		cf->socket_gid = (gid_t)strtoul(cf->socket_group, NULL, 10);
	else {
		*cause = conf_error(s, cf->file,
		    "socket.group: no such group "
		    "\"%s\"",
		    cf->socket_group);
		return (-1);
	}
	return (0);
}

/* Resolve a contract's allow_users and allow_groups to ids. */
static int
conf_contract_acl(struct contract *c, const config_setting_t *cs,
    const char *file, char **cause)
{
	const config_setting_t *us = config_setting_get_member(cs,
	    "allow_users");
	const config_setting_t *gs = config_setting_get_member(cs,
	    "allow_groups");

	struct passwd *pw;
	struct group  *gr;
	const char    *v;
	size_t	       i;

	c->uids = xcalloc(c->nallow_users, sizeof *c->uids);
	for (i = 0; i < c->nallow_users; i++) {
		v = c->allow_users[i];
		if ((pw = getpwnam(v)) != NULL)
			c->uids[c->nuids++] = pw->pw_uid;
		else if (*v != '\0' && strspn(v, "0123456789") == strlen(v) &&
		    strlen(v) < 10)
			c->uids[c->nuids++] = (uid_t)strtoul(v, NULL, 10);
		else {
			*cause = conf_error(us, file,
			    "contract %s: "
			    "allow_users: no such user \"%s\"",
			    c->name, v);
			return (-1);
		}
	}
	c->gids = xcalloc(c->nallow_groups, sizeof *c->gids);
	for (i = 0; i < c->nallow_groups; i++) {
		v = c->allow_groups[i];
		if ((gr = getgrnam(v)) != NULL)
			c->gids[c->ngids++] = gr->gr_gid;
		else if (*v != '\0' && strspn(v, "0123456789") == strlen(v) &&
		    strlen(v) < 10)
			c->gids[c->ngids++] = (gid_t)strtoul(v, NULL, 10);
		else {
			*cause = conf_error(gs, file,
			    "contract %s: "
			    "allow_groups: no such group \"%s\"",
			    c->name, v);
			return (-1);
		}
	}
	return (0);
}

/* Compile every group of a "contracts" list into cf->contracts. */
static int
conf_contract_list(struct conf *cf, const config_setting_t *list,
    const char *file, char **cause)
{
	config_setting_t *s;
	struct contract	 *c;
	int		  i;

	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		*cause = conf_error(list, file,
		    "contracts must be a list "
		    "( { ... }, ... )");
		return (-1);
	}
	for (i = 0; (s = config_setting_get_elem(list, i)) != NULL; i++) {
		if (!config_setting_is_group(s)) {
			*cause = conf_error(s, file,
			    "contracts[%d] must be a "
			    "group { ... }",
			    i);
			return (-1);
		}
		if (conf_schema_compile(s, file, &c, cause) != 0)
			return (-1);
		if (conf_contract_acl(c, s, file, cause) != 0 ||
		    contract_set_add(&cf->contracts, c, cause) != 0) {
			contract_free(c);
			return (-1);
		}
	}
	return (0);
}

/* Report a libconfig parse error as "FILE:LINE: text". */
static char *
conf_parse_error(const config_t *cfg, const char *file)
{
	char	   *out;
	const char *f = config_error_file(cfg);

	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
		xasprintf(&out, "%s: %s", f != NULL ? f : file,
		    strerror(errno != 0 ? errno : ENOENT));
	else
		xasprintf(&out, "%s:%d: %s", f != NULL ? f : file,
		    config_error_line(cfg), config_error_text(cfg));
	return (out);
}

/* Load one file of contracts_dir: only "contracts" may be in it. */
static int
conf_contract_file(struct conf *cf, const char *path, char **cause)
{
	config_t	  cfg;
	config_setting_t *root, *s;
	int		  i, rv = -1;

	config_init(&cfg);
	errno = 0;
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		*cause = conf_parse_error(&cfg, path);
		goto out;
	}
	root = config_root_setting(&cfg);
	for (i = 0; (s = config_setting_get_elem(root, i)) != NULL; i++) {
		if (strcmp(config_setting_name(s), "contracts") != 0) {
			*cause = conf_error(s, path,
			    "unknown key \"%s\" (a "
			    "contracts_dir file holds only contracts)",
			    config_setting_name(s));
			goto out;
		}
		if (conf_contract_list(cf, s, path, cause) != 0)
			goto out;
	}
	rv = 0;
out:
	config_destroy(&cfg);
	return (rv);
}

/* Only regular-looking names ending in ".conf", not hidden files. */
static int
conf_dir_filter(const struct dirent *d)
{
	return (d->d_name[0] != '.' && fnmatch("*.conf", d->d_name, 0) == 0);
}

/* Load every *.conf in contracts_dir, in name order. */
static int
conf_contract_dir(struct conf *cf, const config_setting_t *where, char **cause)
{
	struct dirent **list;
	char	       *path;
	int		i, n, rv = 0;

	if ((n = scandir(cf->contracts_dir, &list, conf_dir_filter,
		 alphasort)) == -1) {
		*cause = conf_error(where, cf->file, "contracts_dir %s: %s",
		    cf->contracts_dir, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", cf->contracts_dir, list[i]->d_name);
		if (rv == 0 && conf_contract_file(cf, path, cause) != 0)
			rv = -1;
		free(path);
		free(list[i]);
	}
	free(list);
	return (rv);
}

/* Split "host:port" (host may be "[v6]") into its parts, once, for
 * metrics.c; -1 if it is not that with a port from 1 to 65535. */
static int
conf_listen_parse(const char *s, char **host, int *port)
{
	const char *colon = strrchr(s, ':');
	char	   *end;
	size_t	    n;
	long	    p;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return (-1);
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return (-1);
	n = (size_t)(colon - s);
	if (s[0] == '[' && n >= 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || memchr(s, '[', n) != NULL || memchr(s, ']', n) != NULL)
		return (-1);
	*host = xstrndup(s, n);
	*port = (int)p;
	return (0);
}

/* The metrics group: where to listen and how many clients, for how long. */
static int
conf_metrics(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *s;

	if (conf_string(root, "metrics.listen", &cf->metrics_listen, NULL,
		cf->file, cause) != 0)
		return (-1);
	cf->metrics_max_clients = (int)conf_int(root, "metrics.max_clients",
	    16);
	cf->metrics_timeout_ms = (int)conf_int(root, "metrics.timeout_ms",
	    10000);
	if (cf->metrics_listen == NULL ||
	    conf_listen_parse(cf->metrics_listen, &cf->metrics_host,
		&cf->metrics_port) == 0)
		return (0);
	s = config_setting_lookup((config_setting_t *)root, "metrics.listen");
	*cause = conf_error(s, cf->file,
	    "metrics.listen \"%s\" is not "
	    "host:port",
	    cf->metrics_listen);
	return (-1);
}

/* Resolve every "replaces" and check that the projection of the newer
 * event always keeps the older contract. */
static int
conf_replaces(struct conf *cf, char **cause)
{
	struct contract	      *c;
	const struct contract *old;
	char		      *why;
	size_t		       i;

	for (i = 0; i < cf->contracts.n; i++) {
		c = cf->contracts.v[i];
		if (c->replaces == NULL)
			continue;
		if ((old = contract_find(&cf->contracts, c->replaces)) ==
		    NULL) {
			xasprintf(cause,
			    "%s:%d: contract %s: replaces %s: no "
			    "such contract",
			    c->file, c->replaces_line, c->name, c->replaces);
			return (-1);
		}
		if (projection_check(c, old, &why) != 0) {
			xasprintf(cause,
			    "%s:%d: contract %s: replaces %s: the "
			    "projection would break %s: field %s",
			    c->file, c->replaces_line, c->name, old->name,
			    old->name, why);
			free(why);
			return (-1);
		}
		c->replaced = old;
	}
	return (0);
}

/* The numeric settings, with their defaults, and the reconnect bounds. */
static int
conf_read_numbers(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *s;

	cf->max_clients = (int)conf_int(root, "socket.max_clients", 1024);
	cf->max_line = (size_t)conf_int(root, "socket.max_line", 1048576);
	cf->heartbeat = (int)conf_int(root, "broker.heartbeat", 30);
	cf->confirm_window = (int)conf_int(root, "broker.confirm_window", 1024);
	cf->prefetch = (int)conf_int(root, "broker.prefetch", 64);
	cf->dead_letter = conf_bool(root, "broker.dead_letter", 1);
	cf->trace_start = conf_bool(root, "trace.start", 0);
	cf->trace_sampled = conf_bool(root, "trace.sampled", 1);
	cf->reconnect_min_ms = (int)conf_int(root, "broker.reconnect_min_ms",
	    100);
	cf->reconnect_max_ms = (int)conf_int(root, "broker.reconnect_max_ms",
	    30000);
	cf->publish_timeout_ms = (int)conf_int(root,
	    "broker.publish_timeout_ms", 5000);
	cf->spool_max_bytes = conf_int(root, "spool.max_bytes", 1073741824LL);
	cf->shutdown_timeout_ms = (int)conf_int(root, "shutdown_timeout_ms",
	    5000);
	if (cf->reconnect_min_ms > cf->reconnect_max_ms) {
		/* Name whichever of the two is in the file; the other may
		 * be a default. */
		if ((s = config_setting_lookup((config_setting_t *)root,
			 "broker.reconnect_min_ms")) == NULL)
			s = config_setting_lookup((config_setting_t *)root,
			    "broker.reconnect_max_ms");
		*cause = conf_error(s, cf->file,
		    "broker.reconnect_min_ms "
		    "(%d) is above broker.reconnect_max_ms (%d)",
		    cf->reconnect_min_ms, cf->reconnect_max_ms);
		return (-1);
	}
	return (0);
}

/* The settings that are one of two words. */
static int
conf_read_choices(struct conf *cf, const config_setting_t *root, char **cause)
{
	int v;

	if ((v = conf_choice(root, "broker.queue_type", "classic", "quorum", 0,
		 cf->file, cause)) == -1)
		return (-1);
	cf->queue_type = xstrdup(v ? "quorum" : "classic");
	if ((cf->unroutable_error = conf_choice(root, "broker.unroutable",
		 "warn", "error", 0, cf->file, cause)) == -1)
		return (-1);
	if ((v = conf_choice(root, "spool.fsync", "never", "always", 1,
		 cf->file, cause)) == -1)
		return (-1);
	cf->spool_fsync = v;
	return (0);
}

/* Fill cf from the parsed file, defaults first. */
static int
conf_read(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *s;
	const char	 *f = cf->file;

	if (config_setting_lookup((config_setting_t *)root, "service") ==
	    NULL) {
		xasprintf(cause, "%s: service is required", f);
		return (-1);
	}
	if (conf_string(root, "service", &cf->service, NULL, f, cause) != 0 ||
	    conf_string(root, "socket.path", &cf->socket_path,
		"/run/warren/warren.sock", f, cause) != 0 ||
	    conf_string(root, "broker.exchange", &cf->exchange, "events", f,
		cause) != 0 ||
	    conf_string(root, "spool.dir", &cf->spool_dir,
		"/var/lib/warren/spool", f, cause) != 0 ||
	    conf_string(root, "contracts_dir", &cf->contracts_dir, NULL, f,
		cause) != 0 ||
	    conf_metrics(cf, root, cause) != 0)
		return (-1);
	if (strlen(cf->socket_path) >=
	    sizeof(((struct sockaddr_un *)0)->sun_path)) {
		s = config_setting_lookup((config_setting_t *)root,
		    "socket.path");
		*cause = conf_error(s, f,
		    "socket.path is longer than 107 "
		    "bytes");
		return (-1);
	}
	cf->socket_mode = 0660;
	if (conf_socket(cf, root, cause) != 0 ||
	    conf_broker_read(cf, root, cause) != 0)
		return (-1);
	if (conf_read_numbers(cf, root, cause) != 0 ||
	    conf_read_choices(cf, root, cause) != 0)
		return (-1);
	return (0);
}

/* Read and check file; on failure return NULL and set *cause. */
struct conf *
conf_load(const char *file, char **cause)
{
	config_t	  cfg;
	config_setting_t *root, *s;
	struct conf	 *cf;
	char		 *dir;

	cf = xcalloc(1, sizeof *cf);
	cf->file = xstrdup(file);
	config_init(&cfg);
	dir = xstrdup(file);
	config_set_include_dir(&cfg, dirname(dir));
	errno = 0;
	if (config_read_file(&cfg, file) != CONFIG_TRUE) {
		*cause = conf_parse_error(&cfg, file);
		goto fail;
	}
	root = config_root_setting(&cfg);
	if (conf_check_keys(root, file, cause) != 0 ||
	    conf_read(cf, root, cause) != 0)
		goto fail;
	if ((s = config_setting_lookup(root, "contracts")) != NULL &&
	    conf_contract_list(cf, s, file, cause) != 0)
		goto fail;
	if (cf->contracts_dir != NULL &&
	    conf_contract_dir(cf, config_setting_lookup(root, "contracts_dir"),
		cause) != 0)
		goto fail;
	if (conf_replaces(cf, cause) != 0)
		goto fail;
	config_destroy(&cfg);
	conf_int_forget();
	free(dir);
	conf_broker_warn(cf);
	return (cf);
fail:
	config_destroy(&cfg);
	conf_int_forget();
	free(dir);
	conf_free(cf);
	return (NULL);
}

/* Free a configuration and its contracts. */
void
conf_free(struct conf *cf)
{
	if (cf == NULL)
		return;
	conf_broker_free(cf);
	contract_set_clear(&cf->contracts);
	free(cf->file);
	free(cf->service);
	free(cf->socket_path);
	free(cf->socket_group);
	free(cf->exchange);
	free(cf->queue_type);
	free(cf->spool_dir);
	free(cf->contracts_dir);
	free(cf->metrics_listen);
	free(cf->metrics_host);
	free(cf);
}

/* Does anything the publisher thread took at start-up differ? */
int
conf_broker_changed(const struct conf *a, const struct conf *b)
{
	if (strcmp(a->exchange, b->exchange) != 0 ||
	    strcmp(a->service, b->service) != 0 ||
	    a->heartbeat != b->heartbeat ||
	    a->confirm_window != b->confirm_window ||
	    a->reconnect_min_ms != b->reconnect_min_ms ||
	    a->reconnect_max_ms != b->reconnect_max_ms ||
	    a->prefetch != b->prefetch || a->dead_letter != b->dead_letter ||
	    strcmp(a->queue_type, b->queue_type) != 0 ||
	    strcmp(a->spool_dir, b->spool_dir) != 0 ||
	    a->spool_max_bytes != b->spool_max_bytes ||
	    a->spool_fsync != b->spool_fsync)
		return (1);
	return (conf_broker_differ(a, b));
}
