/* asyncapi.h -- the configured contracts as an AsyncAPI 3.0 document.
 * Pure: no I/O. */
#ifndef WARREN_ASYNCAPI_H
#define WARREN_ASYNCAPI_H

#include <cjson/cJSON.h>

struct conf;

/*
 * The document: info, the broker URLs as servers (never a user or a
 * password), a channel per contract (address: its routing key, with the
 * AMQP binding of the exchange), its message (payload: the contract's
 * JSON Schema; headers: the CloudEvents attributes), and a send operation
 * for each contract the service publishes, a receive operation for each
 * it consumes. The caller frees it.
 */
cJSON *asyncapi_document(const struct conf *);

#endif
