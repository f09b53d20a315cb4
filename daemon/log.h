/* Logging: stderr in the foreground, syslog otherwise. Never a secret. */
#ifndef VERDON_LOG_H
#define VERDON_LOG_H

#include <stdbool.h>
#include <stddef.h>

void log_init(bool foreground, bool debug);
void log_set_debug(bool debug);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up errors and broken invariants only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A client-supplied string made safe for one log line: printable ASCII kept,
 * everything else as '?', cut at cap-1 bytes with "…" marked by a trailing '+'.
 */
const char *log_sanitize(const char *in, char *out, size_t cap);

#endif
