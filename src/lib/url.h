/* url.h -- a broker URL (amqp:// or amqps://) parsed once into fields. */
#ifndef WARREN_URL_H
#define WARREN_URL_H

struct url {
	int   tls; /* amqps:// */
	char *host;
	int   port;	    /* 5672, or 5671 for amqps:// by default */
	char *user;	    /* "guest" when the URL names none */
	char *password;	    /* "guest" when the URL has none */
	int   has_password; /* the URL itself carries a password */
	char *vhost;	    /* "/" when the URL has no path */
};

/* Parse text into u (fields the caller frees with url_clear). Returns -1
 * for anything but amqp://user:password@host:port/vhost or amqps://...,
 * percent-encoded where needed. */
int url_parse(const char *text, struct url *u);
/* Free the fields of u. */
void url_clear(struct url *u);
/* Copy the fields of src into dst. */
void url_copy(struct url *dst, const struct url *src);
/* Are a and b the same broker, user, password and vhost? */
int url_equal(const struct url *a, const struct url *b);

#endif
