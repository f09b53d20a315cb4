/*
 * Prometheus metrics: counters the daemon bumps where things happen, gauges
 * read when scraped, rendered in the text exposition format. Labels carry
 * only bounded, configured or built-in names (the service policy, the verb,
 * the reason): never a login, an address or a secret.
 */
#ifndef VERDON_METRICS_H
#define VERDON_METRICS_H

#include <stddef.h>

struct daemon;
struct request;
struct metrics_server;

enum metrics_mail {
	METRICS_MAIL_SENT,
	METRICS_MAIL_FAILED,
	METRICS_MAIL_LIMITED, /* held back by the recovery mail limits ([recovery]) */
	METRICS_MAIL_DROPPED, /* dropped: too many messages in flight */
	METRICS_MAIL_KINDS
};

/*
 * in cut to cap-1 bytes of [A-Za-z0-9._-], any other byte read '_' (what needs no escaping in
 * a label nor splits a log field); dflt when in is NULL or empty.
 */
void metrics_label(const char *in, const char *dflt, char *out, size_t cap);
/* One audited decision. Values are cut to 32 bytes; NULL reads "none". */
void metrics_decision(const char *service, const char *action, const char *credential,
                      const char *result, const char *reason);
/* A request's time from its submission to the workers until its answer was built. */
void metrics_request_done(const struct request *req, double seconds);
void metrics_tempfail(void);
void metrics_mail(enum metrics_mail what);

/* The whole exposition (text/plain; version=0.0.4), malloc'd; -1 when out of memory. */
int metrics_render(struct daemon *d, char **text_r, size_t *len_r);

/* Listens where [metrics] listen says (GET /metrics); NULL with a log line on failure. */
struct metrics_server *metrics_start(struct daemon *d);
void metrics_stop(struct metrics_server *ms); /* NULL is a no-op */

#endif
