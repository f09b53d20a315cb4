/*
 * The audit trail: every decision and every admin action, in the same write
 * transaction as the change it records. Never a secret.
 */
#ifndef VERDON_AUDIT_H
#define VERDON_AUDIT_H

#include <stdint.h>

struct store_txn;

struct audit_event {
	int64_t time;            /* unix seconds */
	const char *actor;       /* "auth", "admin:uid=0", "http" … */
	const char *action;      /* "auth", "passwd", "user.add", "otp.confirm" … */
	const char *identifiant; /* may be NULL (unknown login) */
	const char *login;       /* as typed, sanitized; may be NULL */
	const char *service;     /* may be NULL */
	const char *address;     /* may be NULL */
	const char *result;      /* "ok", "refused", "tempfail" */
	const char *reason;      /* may be NULL */
	const char *detail;      /* free text, never a secret; may be NULL */
};

#define AUDIT_VALUE_MAX 256  /* bytes kept of each value */
#define AUDIT_READ_MAX 10000 /* records one audit_read returns at most */

/*
 * Appends one JSON record {"t","actor","action","id","login","service",
 * "addr","result","reason","detail"} (NULL members omitted); each value is
 * cut to AUDIT_VALUE_MAX bytes of whole UTF-8 characters, control characters
 * and invalid bytes dropped.
 */
int audit_write(struct store_txn *txn, const struct audit_event *ev);
/* The JSON record of an event, cleaned as audit_write stores it; malloc'd, NULL on failure. */
char *audit_format(const struct audit_event *ev);

/*
 * Calls cb with each record's JSON (NUL-terminated), newest first, stopping
 * after limit records (0 or more than AUDIT_READ_MAX: AUDIT_READ_MAX);
 * identifiant (may be NULL) keeps the records whose "id" it is. cb returns
 * 0 to go on, 1 to stop, -1 to stop with an error (audit_read: STORE_ERROR).
 */
typedef int audit_cb(void *ctx, uint64_t seq, const char *json, size_t len);
int audit_read(struct store_txn *txn, const char *identifiant, unsigned limit, audit_cb *cb,
               void *ctx);
/* The same, stopping at the first record whose sequence is at most after (verdonctl audit --follow). */
int audit_read_after(struct store_txn *txn, const char *identifiant, uint64_t after, unsigned limit,
                     audit_cb *cb, void *ctx);

#endif
