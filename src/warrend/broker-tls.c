/* broker-tls.c -- amqps://: librabbitmq's OpenSSL socket, set up from
 * broker.tls. librabbitmq 0.11 checks the peer only after the handshake
 * and reports every failure as "SSL peer verify failed"; warrend instead
 * has OpenSSL verify the chain and the host name during the handshake and
 * keeps the first failure in words, so the log says why. */
#include <arpa/inet.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "broker-tls.h"
#include "conf.h"

static pthread_once_t broker_tls_once = PTHREAD_ONCE_INIT;
static int	      broker_tls_index = -1; /* SSL_CTX ex_data: why */

/* Get the ex_data slot that carries a context's why buffer. */
static void
broker_tls_init(void)
{
	broker_tls_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL's verdict on one certificate of the chain: keep the first
 * failure, with the certificate it concerns. */
static int
broker_tls_verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL  *ssl;
	X509 *cert;
	char *why, name[128] = "?";
	int   err;

	if (ok)
		return (1);
	ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL ||
	    (why = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
		 broker_tls_index)) == NULL ||
	    *why != '\0')
		return (0);
	err = X509_STORE_CTX_get_error(x);
	if ((cert = X509_STORE_CTX_get_current_cert(x)) != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), name,
		    sizeof name);
	snprintf(why, BROKER_TLS_WHY,
	    "certificate verify failed: %s "
	    "(depth %d, %s)",
	    X509_verify_cert_error_string(err),
	    X509_STORE_CTX_get_error_depth(x), name);
	return (0);
}

/* Check host against the certificate's names (or IP addresses) during
 * the handshake. */
static int
broker_tls_host(SSL_CTX *ctx, const char *host)
{
	X509_VERIFY_PARAM *p = SSL_CTX_get0_param(ctx);
	unsigned char	   addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return (X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1 ? 0 : -1);
	X509_VERIFY_PARAM_set_hostflags(p,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return (X509_VERIFY_PARAM_set1_host(p, host, 0) == 1 ? 0 : -1);
}

/* A key that needs a passphrase fails at once: OpenSSL's default would
 * ask for one on the terminal. */
static int
broker_tls_nopass_cb(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return (0);
}

/* Load the CAs and the client certificate; -1 with why set if a file
 * is not what it should be. */
static int
broker_tls_files(amqp_socket_t *sock, SSL_CTX *ctx, const struct conf_tls *t,
    char *why)
{
	const char *r;

	ERR_clear_error();
	if (t->ca_file != NULL ?
		amqp_ssl_socket_set_cacert(sock, t->ca_file) != AMQP_STATUS_OK :
		SSL_CTX_set_default_verify_paths(ctx) != 1) {
		r = broker_tls_reason(NULL);
		snprintf(why, BROKER_TLS_WHY,
		    "cannot load the CA "
		    "certificates of %s: %s",
		    t->ca_file != NULL ? t->ca_file : "the system",
		    r != NULL ? r : "unknown error");
		return (-1);
	}
	SSL_CTX_set_default_passwd_cb(ctx, broker_tls_nopass_cb);
	if (t->cert_file != NULL &&
	    amqp_ssl_socket_set_key(sock, t->cert_file, t->key_file) !=
		AMQP_STATUS_OK) {
		r = broker_tls_reason(NULL);
		snprintf(why, BROKER_TLS_WHY,
		    "cannot use the client "
		    "certificate %s with key %s: %s",
		    t->cert_file, t->key_file, r != NULL ? r : "unknown error");
		return (-1);
	}
	return (0);
}

/* A TLS socket for conn set up from t; NULL with why set on failure. */
amqp_socket_t *
broker_tls_socket(amqp_connection_state_t conn, const struct conf_tls *t,
    const char *host, char *why)
{
	amqp_socket_t *sock;
	SSL_CTX	      *ctx;

	*why = '\0';
	pthread_once(&broker_tls_once, broker_tls_init);
	if ((sock = amqp_ssl_socket_new(conn)) == NULL) {
		snprintf(why, BROKER_TLS_WHY, "cannot set up TLS");
		return (NULL);
	}
	ctx = amqp_ssl_socket_get_context(sock);
	if (broker_tls_files(sock, ctx, t, why) != 0)
		return (NULL);
	/* librabbitmq's own name check knows no IP addresses; OpenSSL's
	 * (broker_tls_host) runs inside the verification instead. */
	amqp_ssl_socket_set_verify_hostname(sock, 0);
	amqp_ssl_socket_set_verify_peer(sock, t->verify_peer);
	if (t->verify_peer && t->verify_hostname &&
	    broker_tls_host(ctx, host) != 0) {
		snprintf(why, BROKER_TLS_WHY, "cannot check host name %s",
		    host);
		return (NULL);
	}
	SSL_CTX_set_ex_data(ctx, broker_tls_index, why);
	SSL_CTX_set_verify(ctx,
	    t->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    broker_tls_verify_cb);
	return (sock);
}

/* The reason the last TLS operation of this thread failed. */
const char *
broker_tls_reason(const char *why)
{
	unsigned long e;
	const char   *r;

	if (why != NULL && *why != '\0')
		return (why);
	if ((e = ERR_peek_error()) == 0)
		return (NULL);
	r = ERR_reason_error_string(e);
	return (r != NULL ? r : "TLS error");
}
