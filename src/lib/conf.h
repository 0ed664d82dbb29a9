/* conf.h -- the configuration, parsed once into a validated structure. */
#ifndef WARREN_CONF_H
#define WARREN_CONF_H

#include <sys/types.h>
#include <stddef.h>

#include "contract.h"
#include "url.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_FILE SYSCONFDIR "/warren/warrend.conf"

struct conf {
	char *file;
	char *service;

	char  *socket_path;
	mode_t socket_mode;
	char  *socket_group; /* NULL: leave as is */
	gid_t  socket_gid;
	int    max_clients;
	size_t max_line;

	struct url *urls; /* broker.urls, parsed */
	size_t	    nurls;
	char	   *password_file; /* resolved path, NULL: none */
	int	    auth_external; /* auth_mechanism = "external" */
	struct conf_tls {
		int   on;	 /* the URLs are amqps:// */
		char *ca_file;	 /* NULL: the system's CAs */
		char *cert_file; /* client certificate, or NULL */
		char *key_file;
		int   verify_peer;
		int   verify_hostname;
	} tls;
	char *exchange;
	int   heartbeat; /* seconds, 0 = off */
	int   confirm_window;
	int   prefetch;
	char *queue_type;
	int   dead_letter;
	int   unroutable_error; /* unroutable = "error" */
	int   reconnect_min_ms;
	int   reconnect_max_ms;
	int   publish_timeout_ms;

	char	 *spool_dir;
	long long spool_max_bytes;
	int	  spool_fsync; /* fsync = "always" */

	int		    shutdown_timeout_ms;
	char		   *contracts_dir;
	char		   *metrics_listen; /* "host:port", NULL: off */
	char		   *metrics_host;   /* its host, [] taken off */
	int		    metrics_port;
	int		    metrics_max_clients;
	int		    metrics_timeout_ms; /* a connection's whole life */
	int		    trace_start;   /* trace.start: one when absent */
	int		    trace_sampled; /* its sampled flag */
	struct contract_set contracts;
	int		    has_password; /* a URL in the file has one */
};

/* Read and check file; on failure return NULL and set *cause. */
struct conf *conf_load(const char *file, char **cause);
void	     conf_free(struct conf *);

/*
 * Compile a contract group (contract_compile()), or, when it has schema =
 * "path.json", the contract that JSON Schema describes with the group's
 * other keys over it; file is where the group is, for messages and for a
 * relative path (conf-schema.c).
 */
int conf_schema_compile(const config_setting_t *group, const char *file,
    struct contract **cp, char **cause);

/* Add a JSON value to parent as setting name (NULL in an array or list):
 * an object a group, an array of one scalar type an array, any other a
 * list. Returns -1 for a null or a name libconfig refuses. */
int conf_schema_setting(config_setting_t *parent, const char *name,
    const cJSON *);

/* Does any key or value in a and b that the publisher uses differ? */
int conf_broker_changed(const struct conf *a, const struct conf *b);

#endif
