/* url.c -- a broker URL parsed once into fields. librabbitmq's parser does
 * the work (so warrend reads URLs exactly as other rabbitmq-c programs do);
 * this is the only file of src/lib that uses librabbitmq. */
#include <amqp.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "util.h"

/* Does the URL's userinfo ("user:password@") hold a password? */
static int
url_userinfo_password(const char *text)
{
	const char *auth = strstr(text, "://");
	size_t	    len;
	const char *at;

	if (auth == NULL)
		return (0);
	auth += 3;
	len = strcspn(auth, "/?#");
	if ((at = memchr(auth, '@', len)) == NULL)
		return (0);
	return (memchr(auth, ':', (size_t)(at - auth)) != NULL);
}

/* Parse text into u; -1 if it is not an amqp:// or amqps:// URL. */
int
url_parse(const char *text, struct url *u)
{
	struct amqp_connection_info ci;
	char			   *copy;

	memset(u, 0, sizeof *u);
	copy = xstrdup(text);
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		free(copy);
		return (-1);
	}
	u->tls = ci.ssl;
	u->host = xstrdup(ci.host);
	u->port = ci.port;
	u->user = xstrdup(ci.user);
	u->password = xstrdup(ci.password);
	u->has_password = url_userinfo_password(text) && *ci.password != '\0';
	u->vhost = xstrdup(ci.vhost);
	free(copy);
	return (0);
}

/* Free the fields of u. */
void
url_clear(struct url *u)
{
	free(u->host);
	free(u->user);
	if (u->password != NULL)
		explicit_bzero(u->password, strlen(u->password));
	free(u->password);
	free(u->vhost);
	memset(u, 0, sizeof *u);
}

/* Copy the fields of src into dst. */
void
url_copy(struct url *dst, const struct url *src)
{
	*dst = *src;
	dst->host = xstrdup(src->host);
	dst->user = xstrdup(src->user);
	dst->password = xstrdup(src->password);
	dst->vhost = xstrdup(src->vhost);
}

/* Are a and b the same broker, user, password and vhost? */
int
url_equal(const struct url *a, const struct url *b)
{
	return (a->tls == b->tls && a->port == b->port &&
	    strcmp(a->host, b->host) == 0 && strcmp(a->user, b->user) == 0 &&
	    strcmp(a->password, b->password) == 0 &&
	    strcmp(a->vhost, b->vhost) == 0);
}
