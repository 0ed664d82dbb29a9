/* warrend.h -- what the loop thread's modules share. */
#ifndef WARREN_WARREND_H
#define WARREN_WARREND_H

#include <stdint.h>

struct conf;
struct event_base;

extern struct conf	 *warrend_conf; /* in force; swapped on HUP */
extern struct event_base *warrend_base;
extern int		  warrend_stopping;

#endif
