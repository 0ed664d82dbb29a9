/* publish.h -- the loop side of publishing: publishes handed to the
 * publisher thread, their deadlines, projection pairs, and the replies
 * built from their outcomes. The mirror image of consume.h. */
#ifndef WARREN_PUBLISH_H
#define WARREN_PUBLISH_H

struct client;
struct json_span;
struct pub_job;

/* Start the publisher thread and watch its outcomes. */
int publish_start(char **cause);
/* Hand a checked publish (and its projection onto the contract it
 * replaces, or NULL) to the publisher; c's reply comes when both are
 * done or publish_timeout_ms passed. */
void publish_submit(struct client *c, const struct json_span *id,
    struct pub_job *job, struct pub_job *job2);
/* c is going: its publishes go on, but nobody is answered. */
void publish_client_gone(const struct client *c);
/* The number of publishes with the publisher. */
int publish_in_flight(void);
/* Has the publisher enough to do (stop reading)? Room again (resume)? */
int publish_full(void);
int publish_has_room(void);
/* Has the publisher thread given everything back and exited? */
int publish_gone(void);
/* Free the loop-side state (after publisher_join). */
void publish_free(void);
/* Hand the publisher thread the publishes gathered in this loop round now
 * (before it is told to stop). */
void publish_submit_flush(void);

#endif
