/* sdnotify.h -- systemd's side channels without libsystemd: the notify
 * datagram ($NOTIFY_SOCKET), the watchdog ($WATCHDOG_USEC) and inherited
 * listening sockets ($LISTEN_FDS). */
#ifndef WARREN_SDNOTIFY_H
#define WARREN_SDNOTIFY_H

#include <stdint.h>

/* Read $NOTIFY_SOCKET and $WATCHDOG_USEC (then unset them). */
void sdnotify_init(void);
/* Send one state string ("READY=1", "STATUS=..."); never blocks. */
void sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval in microseconds, 0 when off. */
uint64_t sdnotify_watchdog_usec(void);
/* A listening socket passed by systemd for us, or -1. */
int  sdnotify_listen_fd(void);
void sdnotify_close(void);

#endif
