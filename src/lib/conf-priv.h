/* conf-priv.h -- what conf.c shares with the files that read one part of
 * the configuration for it (conf-broker.c). */
#ifndef WARREN_CONF_PRIV_H
#define WARREN_CONF_PRIV_H

#include <libconfig.h>

struct conf;

/* Build "FILE:LINE: message" for setting s. */
char *conf_error(const config_setting_t *s, const char *file, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Copy a string key if present (else dflt); empty strings are refused. */
int conf_string(const config_setting_t *root, const char *path, char **out,
    const char *dflt, const char *file, char **cause);
/* Read a boolean key or its default. */
int conf_bool(const config_setting_t *root, const char *path, int dflt);
/* Read a string key that must be one of two words: 0 for a, 1 for b, -1
 * (with *cause) for anything else. */
int conf_choice(const config_setting_t *root, const char *path, const char *a,
    const char *b, int dflt, const char *file, char **cause);

/* conf-broker.c: broker.urls, broker.tls, password_file and
 * auth_mechanism into cf. */
int conf_broker_read(struct conf *cf, const config_setting_t *root,
    char **cause);
/* Warn about secrets others can read and about TLS without checks. */
void conf_broker_warn(const struct conf *cf);
/* Free what conf_broker_read set. */
void conf_broker_free(struct conf *cf);
/* Do a and b reach the brokers differently (URLs, secrets, TLS)? */
int conf_broker_differ(const struct conf *a, const struct conf *b);

/* broker.unroutable: "warn", "error" or "ignore" (conf-broker.c). */
int conf_unroutable(struct conf *, const config_setting_t *, char **cause);

#endif
