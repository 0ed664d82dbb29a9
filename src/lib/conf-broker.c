/* conf-broker.c -- how warrend reaches the broker: broker.urls parsed once
 * into fields, broker.tls, broker.password_file and broker.auth_mechanism,
 * every file checked readable when the configuration loads (so that
 * warrend -t catches it), never when connecting. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf-priv.h"
#include "log.h"
#include "url.h"
#include "util.h"

#define CONF_DEFAULT_URL "amqp://guest:guest@127.0.0.1:5672/%2f"
#define CONF_PASSWORD_MAX 1024 /* bytes of a password file we read */

/* The setting at path (for its line in a message). */
static config_setting_t *
conf_broker_at(const config_setting_t *root, const char *path)
{
	return (config_setting_lookup((config_setting_t *)root, path));
}

/* Parse broker.urls: a non-empty list of amqp:// or amqps:// URLs, all of
 * one kind (a failover must not drop TLS). */
static int
conf_broker_urls(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *s, *e;
	int		  i, n, ntls = 0;

	if ((s = conf_broker_at(root, "broker.urls")) == NULL) {
		cf->urls = xcalloc(1, sizeof *cf->urls);
		(void)url_parse(CONF_DEFAULT_URL, &cf->urls[0]);
		cf->nurls = 1;
		return (0);
	}
	if ((n = config_setting_length(s)) == 0) {
		*cause = conf_error(s, cf->file, "broker.urls is empty");
		return (-1);
	}
	cf->urls = xcalloc((size_t)n, sizeof *cf->urls);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			*cause = conf_error(s, cf->file,
			    "broker.urls must hold strings");
			return (-1);
		}
		if (url_parse(config_setting_get_string(e), &cf->urls[i]) !=
		    0) {
			*cause = conf_error(s, cf->file,
			    "broker.urls[%d] is "
			    "not an amqp:// or amqps://user:password@host:port"
			    "/vhost URL",
			    i);
			return (-1);
		}
		cf->nurls++;
		cf->has_password |= cf->urls[i].has_password;
		ntls += cf->urls[i].tls;
	}
	if (ntls != 0 && ntls != n) {
		*cause = conf_error(s, cf->file,
		    "broker.urls mixes amqps:// "
		    "and amqp:// URLs: a failover would drop TLS");
		return (-1);
	}
	cf->tls.on = ntls != 0;
	return (0);
}

/*
 * Where a file named in the broker section is: as written if absolute;
 * else in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=) when that is
 * set, else beside the configuration file.
 */
static char *
conf_broker_path(const struct conf *cf, const char *name)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char	   *copy, *path;

	if (*name == '/')
		return (xstrdup(name));
	if (creds != NULL && *creds != '\0') {
		xasprintf(&path, "%s/%s", creds, name);
		return (path);
	}
	copy = xstrdup(cf->file);
	xasprintf(&path, "%s/%s", dirname(copy), name);
	free(copy);
	return (path);
}

/* Read the file key at path (e.g. "broker.tls.ca_file") into *out as a
 * resolved path, and check that warrend can read it. */
static int
conf_broker_file(struct conf *cf, const config_setting_t *root,
    const char *path, char **out, char **cause)
{
	char *name = NULL;
	int   fd;

	if (conf_string(root, path, &name, NULL, cf->file, cause) != 0)
		return (-1);
	if (name == NULL)
		return (0);
	*out = conf_broker_path(cf, name);
	free(name);
	if ((fd = open(*out, O_RDONLY | O_CLOEXEC)) == -1) {
		*cause = conf_error(conf_broker_at(root, path), cf->file,
		    "%s %s: %s", path, *out, strerror(errno));
		return (-1);
	}
	close(fd);
	return (0);
}

/* Read broker.tls; the group needs amqps:// URLs. */
static int
conf_broker_tls(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *g = conf_broker_at(root, "broker.tls");
	struct conf_tls	 *t = &cf->tls;

	t->verify_peer = conf_bool(root, "broker.tls.verify_peer", 1);
	t->verify_hostname = conf_bool(root, "broker.tls.verify_hostname", 1);
	if (g != NULL && !t->on) {
		*cause = conf_error(g, cf->file,
		    "broker.tls is set but no "
		    "URL in broker.urls is amqps://");
		return (-1);
	}
	if (conf_broker_file(cf, root, "broker.tls.ca_file", &t->ca_file,
		cause) != 0 ||
	    conf_broker_file(cf, root, "broker.tls.cert_file", &t->cert_file,
		cause) != 0 ||
	    conf_broker_file(cf, root, "broker.tls.key_file", &t->key_file,
		cause) != 0)
		return (-1);
	if (t->key_file != NULL && t->cert_file == NULL) {
		*cause = conf_error(conf_broker_at(root, "broker.tls.key_file"),
		    cf->file, "broker.tls.key_file needs broker.tls.cert_file");
		return (-1);
	}
	/* One PEM file may hold both the certificate and its key. */
	if (t->cert_file != NULL && t->key_file == NULL)
		t->key_file = xstrdup(t->cert_file);
	return (0);
}

/* Read the first line of the password file at path into *out. */
static int
conf_broker_read_password(const char *path, char **out, const char **why)
{
	char	buf[CONF_PASSWORD_MAX + 1];
	ssize_t n;
	size_t	len;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*why = strerror(errno);
		return (-1);
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n == -1) {
		*why = strerror(errno);
		return (-1);
	}
	buf[n] = '\0';
	len = strcspn(buf, "\n");
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0 || strlen(buf) != len)
		*why = "its first line is empty or holds a NUL byte";
	else if (len == CONF_PASSWORD_MAX)
		*why = "its first line is longer than 1023 bytes";
	else
		*out = xstrdup(buf);
	explicit_bzero(buf, sizeof buf);
	return (*out != NULL ? 0 : -1);
}

/* broker.password_file: the password of every URL without its own. */
static int
conf_broker_password(struct conf *cf, const config_setting_t *root,
    char **cause)
{
	config_setting_t *s = conf_broker_at(root, "broker.password_file");
	char		 *name = NULL, *pw = NULL;
	const char	 *why = NULL;
	size_t		  i, used = 0;

	if (conf_string(root, "broker.password_file", &name, NULL, cf->file,
		cause) != 0)
		return (-1);
	if (name == NULL)
		return (0);
	cf->password_file = conf_broker_path(cf, name);
	free(name);
	if (conf_broker_read_password(cf->password_file, &pw, &why) != 0) {
		*cause = conf_error(s, cf->file, "broker.password_file %s: %s",
		    cf->password_file, why);
		return (-1);
	}
	for (i = 0; i < cf->nurls; i++) {
		if (cf->urls[i].has_password)
			continue;
		free(cf->urls[i].password);
		cf->urls[i].password = xstrdup(pw);
		used++;
	}
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (used == 0) {
		*cause = conf_error(s, cf->file,
		    "broker.password_file is set "
		    "but every URL in broker.urls has its own password");
		return (-1);
	}
	return (0);
}

/* broker.unroutable: "warn", "error" or "ignore" (no mandatory flag, so
 * the broker drops an unroutable event without a word). */
int
conf_unroutable(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *s;
	const char	 *v;

	if ((s = conf_broker_at(root, "broker.unroutable")) == NULL)
		return (0);
	v = config_setting_get_string(s);
	cf->unroutable_error = strcmp(v, "error") == 0;
	cf->no_mandatory = strcmp(v, "ignore") == 0;
	if (cf->unroutable_error || cf->no_mandatory || strcmp(v, "warn") == 0)
		return (0);
	*cause = conf_error(s, cf->file,
	    "broker.unroutable must be \"warn\" or \"error\" (or \"ignore\"), "
	    "not \"%s\"",
	    v);
	return (-1);
}

/* broker.wire_format: one of the names wire.c knows. */
static int
conf_wire_format(struct conf *cf, const config_setting_t *root, char **cause)
{
	config_setting_t *s;
	const char	 *v;
	enum wire_format  f;

	cf->wire_format = WIRE_DEFAULT;
	s = conf_broker_at(root, "broker.wire_format");
	if (s == NULL)
		return (0);
	v = config_setting_get_string(s);
	if (wire_format_parse(v, &f) == 0) {
		cf->wire_format = f;
		return (0);
	}
	*cause = conf_error(s, cf->file,
	    "broker.wire_format must be \"cloudevents\", \"standard\" or "
	    "\"lean\", not \"%s\"",
	    v);
	return (-1);
}

/* broker.urls, broker.tls, password_file, auth_mechanism and wire_format
 * into cf. */
int
conf_broker_read(struct conf *cf, const config_setting_t *root, char **cause)
{
	int v;

	if (conf_broker_urls(cf, root, cause) != 0 ||
	    conf_broker_tls(cf, root, cause) != 0 ||
	    conf_broker_password(cf, root, cause) != 0 ||
	    conf_wire_format(cf, root, cause) != 0)
		return (-1);
	if ((v = conf_choice(root, "broker.auth_mechanism", "plain", "external",
		 0, cf->file, cause)) == -1)
		return (-1);
	cf->auth_external = v;
	if (v && cf->tls.cert_file == NULL) {
		*cause = conf_error(conf_broker_at(root,
					"broker.auth_mechanism"),
		    cf->file,
		    "broker.auth_mechanism "
		    "= \"external\" needs amqps:// URLs and "
		    "broker.tls.cert_file (the client certificate is the "
		    "login)");
		return (-1);
	}
	return (0);
}

/* Warn about secrets others can read and about TLS without checks. */
void
conf_broker_warn(const struct conf *cf)
{
	struct stat st;

	if (cf->has_password && stat(cf->file, &st) == 0 &&
	    (st.st_mode & S_IROTH))
		log_warnx("%s holds a broker password and is readable by "
			  "others (mode %04o)",
		    cf->file, st.st_mode & 07777);
	if (cf->password_file != NULL && stat(cf->password_file, &st) == 0 &&
	    (st.st_mode & S_IROTH))
		log_warnx("%s (broker.password_file) is readable by others "
			  "(mode %04o)",
		    cf->password_file, st.st_mode & 07777);
	if (cf->tls.key_file != NULL && stat(cf->tls.key_file, &st) == 0 &&
	    (st.st_mode & S_IROTH))
		log_warnx("%s (broker.tls.key_file) is readable by others "
			  "(mode %04o)",
		    cf->tls.key_file, st.st_mode & 07777);
	if (cf->tls.on && !cf->tls.verify_peer)
		log_warnx("%s: broker.tls.verify_peer = false: anyone between "
			  "warrend and the broker can pose as the broker",
		    cf->file);
	else if (cf->tls.on && !cf->tls.verify_hostname)
		log_warnx("%s: broker.tls.verify_hostname = false: any "
			  "certificate of the CA passes for the broker",
		    cf->file);
}

/* Free what conf_broker_read set. */
void
conf_broker_free(struct conf *cf)
{
	size_t i;

	for (i = 0; i < cf->nurls; i++)
		url_clear(&cf->urls[i]);
	free(cf->urls);
	free(cf->password_file);
	free(cf->tls.ca_file);
	free(cf->tls.cert_file);
	free(cf->tls.key_file);
}

/* Are two optional strings different? */
static int
conf_broker_strdiff(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != b);
	return (strcmp(a, b) != 0);
}

/* Do a and b reach the brokers differently (URLs, secrets, TLS)? */
int
conf_broker_differ(const struct conf *a, const struct conf *b)
{
	size_t i;

	if (a->nurls != b->nurls || a->auth_external != b->auth_external ||
	    a->tls.verify_peer != b->tls.verify_peer ||
	    a->tls.verify_hostname != b->tls.verify_hostname ||
	    conf_broker_strdiff(a->tls.ca_file, b->tls.ca_file) ||
	    conf_broker_strdiff(a->tls.cert_file, b->tls.cert_file) ||
	    conf_broker_strdiff(a->tls.key_file, b->tls.key_file))
		return (1);
	for (i = 0; i < a->nurls; i++) {
		if (!url_equal(&a->urls[i], &b->urls[i]))
			return (1);
	}
	return (0);
}
