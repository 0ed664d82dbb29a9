/* warrend.h -- what the loop thread's modules share. */
#ifndef WARREN_WARREND_H
#define WARREN_WARREND_H

#include <stdint.h>

struct conf;
struct event_base;

/* Counters kept by the loop thread. */
struct warrend_stats {
	uint64_t	 accepted;	/* publishes handed to the publisher */
	uint64_t	 confirmed;
	uint64_t	 unroutable;	/* confirmed but returned */
	uint64_t	 nacked;
	uint64_t	 timed_out;
	uint64_t	 spooled;	/* answered ok, spooled */
	uint64_t	 errors;	/* error replies of every code */
	uint64_t	 connections;
	uint64_t	 refused;	/* beyond max_clients */
};

extern struct conf		*warrend_conf;	/* in force; swapped on HUP */
extern struct event_base	*warrend_base;
extern struct warrend_stats	 warrend_stats;
extern int			 warrend_stopping;

#endif
