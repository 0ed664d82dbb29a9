/* message.h -- the AMQP properties and headers of one published event, as
 * broker.wire_format says. */
#ifndef WARREN_MESSAGE_H
#define WARREN_MESSAGE_H

#include <amqp.h>

#include "publisher.h"
#include "wire.h"

/* Room for the CloudEvents headers and a few optional ones after them. */
#define MESSAGE_HEADERS_MAX 8

/* A message's properties; they point into itself, the job and the service
 * name, so it lives no longer than the publish call. */
struct message {
	amqp_basic_properties_t props;
	amqp_table_entry_t	headers[MESSAGE_HEADERS_MAX];
	char			time[64];   /* cloudEvents:time */
	char			pkey[1024]; /* cloudEvents:partitionkey */
};

/* Fill m with the properties and headers of job j in format f. */
void message_build(struct message *m, enum wire_format f, const char *service,
    const struct pub_job *j);

#endif
