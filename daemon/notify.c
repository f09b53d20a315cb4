/* sd_notify from the loop thread only: no locking needed. */
#include <stdint.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

static uint64_t watchdog_usec; /* 0: no watchdog asked for */
static uint64_t watchdog_last;

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void notify_ready(void)
{
	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;
	(void)sd_notify(0, "READY=1\nSTATUS=serving");
	watchdog_last = mono_usec();
}

void notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1\nSTATUS=finishing the requests in flight");
}

void notify_reloading(void)
{
	(void)sd_notify(0, "READY=1\nSTATUS=configuration reloaded");
}

void notify_watchdog(void)
{
	uint64_t now;

	if (watchdog_usec == 0)
		return;
	now = mono_usec();
	/* The tick is one second: a period under two seconds gets a ping every tick. */
	if (now - watchdog_last < watchdog_usec / 2 && watchdog_usec >= 2000000)
		return;
	watchdog_last = now;
	(void)sd_notify(0, "WATCHDOG=1");
}
