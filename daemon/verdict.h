/*
 * One place answers a login. Each credential kind has a verifier (a password
 * with or without a code in auth.c, an app password and a session token in
 * auth_cred.c, the throttle's delay in attempt.c) that stages what its
 * decision changes in a write transaction when it changes anything, and
 * returns a verdict; verdict_answer then audits it (in that transaction, or
 * queued when nothing changed), commits, counts it for the throttle and the
 * address penalty, and answers, in that order: state a decision changes is
 * committed before the answer leaves, and every refusal is audited. The shape
 * of Dovecot's passdb result callback.
 */
#ifndef VERDON_VERDICT_H
#define VERDON_VERDICT_H

#include <stdbool.h>

#include "proto.h"
#include "reason.h"

struct attempt;
struct request;
struct store_txn;
struct worker;

enum verdict_result {
	VERDICT_OK,
	VERDICT_FAIL,     /* refused, for reason */
	VERDICT_TEMPFAIL, /* the policy's answer when it cannot decide (audited, "refused") */
	VERDICT_ERROR,    /* the store failed: nothing happened, nothing to audit, TEMPFAIL */
};

struct verdict {
	enum verdict_result result;
	enum proto_reason reason; /* FAIL, TEMPFAIL */
	const char *action;       /* the audit's: "auth", "acct", "passwd", "reset.confirm" */
	const char *detail;       /* the audit record's detail, or NULL */
	unsigned wait;            /* FAIL locked by the throttle's delay: the seconds to say */
	bool delayed;             /* … and then wait= is said, even 0 */
	bool wrong_secret;        /* a wrong secret: the address penalty grows */
	bool count_password;      /* one more wrong password for the login's throttle */
	bool forgive;             /* OK by a right password: the login's throttle is cleared */
	/* What the decision changed, staged by the verifier; committed with the audit. NULL:
	 * nothing changed, and the audit record is queued (auditq.h). */
	struct store_txn *txn;
	/* OK: the line verdict_ok began, with the fields the verifier added (a token, a device). */
	bool ok_begun;
	struct proto_writer ok;
};

/* A verdict of action with nothing decided yet. */
void verdict_init(struct verdict *v, const char *action);
/* OK for identifiant, with credential= and label= when not NULL; the verifier may add to v->ok. */
void verdict_ok(struct verdict *v, const struct request *req, const char *identifiant,
                const char *credential, const char *label);
void verdict_fail(struct verdict *v, enum proto_reason reason, const char *detail);
/* The store failed: whatever was staged is dropped. */
void verdict_error(struct verdict *v);

/* Audits, commits, counts and answers; v's transaction and line are gone after. */
void verdict_answer(struct worker *w, struct request *req, struct attempt *at, struct verdict *v);

#endif
