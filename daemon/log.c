#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static bool log_foreground = true;
static bool log_debug_on;

void log_init(bool foreground, bool debug)
{
	log_foreground = foreground;
	log_debug_on = debug;
	if (!foreground)
		openlog("verdond", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void log_set_debug(bool debug)
{
	log_debug_on = debug;
}

static void log_emit(int prio, const char *fmt, va_list ap)
{
	static const char *const names[] = {
	    [LOG_ERR] = "error",
	    [LOG_WARNING] = "warning",
	    [LOG_INFO] = "info",
	    [LOG_DEBUG] = "debug",
	};
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!log_foreground) {
		syslog(prio, "%s", msg);
		return;
	}
	/* One fprintf a line keeps lines from threads whole. */
	fprintf(stderr, "verdond: %s: %s\n", names[prio], msg);
}

#define LOG_FN(name, prio)                                                                         \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(prio, fmt, ap);                                                           \
		va_end(ap);                                                                        \
	}

LOG_FN(log_err, LOG_ERR)
LOG_FN(log_warn, LOG_WARNING)
LOG_FN(log_info, LOG_INFO)

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *log_sanitize(const char *in, char *out, size_t cap)
{
	size_t i = 0;

	if (cap == 0)
		return "";
	if (in == NULL)
		in = "-";
	for (; in[i] != '\0' && i + 1 < cap; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	if (in[i] != '\0' && i > 0)
		out[i - 1] = '+';
	out[i] = '\0';
	return out;
}
