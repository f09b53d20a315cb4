/*
 * systemd's service notifications (sd_notify): READY=1 once the sockets
 * accept, STOPPING=1 at SIGTERM, WATCHDOG=1 from the event loop's tick.
 * Without NOTIFY_SOCKET (no systemd, or Type=simple) every call does nothing.
 */
#ifndef VERDON_NOTIFY_H
#define VERDON_NOTIFY_H

void notify_ready(void);
void notify_stopping(void);
/* Called every second by the loop: pings at most every half watchdog period. */
void notify_watchdog(void);
void notify_reloading(void);

#endif
