/* broker-tls.h -- amqps://: a librabbitmq OpenSSL socket set up from
 * broker.tls, and the reason a TLS connection failed, in words. */
#ifndef WARREN_BROKER_TLS_H
#define WARREN_BROKER_TLS_H

#include <amqp.h>
#include <stddef.h>

struct conf_tls;

#define BROKER_TLS_WHY 256

/*
 * A TLS socket for conn that verifies the broker (unless told not to):
 * chain up to ca_file (or the system's CAs), then host against the
 * certificate's names, during the handshake; with the client certificate
 * of cert_file/key_file if set. why (BROKER_TLS_WHY bytes, owned by the
 * caller and alive while conn is) receives the first verification
 * failure. Returns NULL and sets why when the files cannot be used.
 */
amqp_socket_t *broker_tls_socket(amqp_connection_state_t conn,
    const struct conf_tls *, const char *host, char *why);

/* The reason the last TLS operation of this thread failed, from why or
 * from OpenSSL's error queue; NULL when OpenSSL knows none. */
const char *broker_tls_reason(const char *why);

#endif
