/* metrics.h -- Prometheus text at /metrics and a /healthz, over libevent's
 * evhttp on the loop thread (off unless metrics.listen is set). */
#ifndef WARREN_METRICS_H
#define WARREN_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct conf;

/* Listen on cf's metrics.listen, if set. */
int  metrics_start(const struct conf *cf, char **cause);
void metrics_stop(void);

#endif
