/* One login attempt, as AUTH and PASSWD see it. */
#ifndef VERDON_ATTEMPT_H
#define VERDON_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "account.h"
#include "credential.h"
#include "fields.h"

struct request;
struct store_txn;
struct worker;

struct service_policy;

struct attempt {
	const char *login, *password, *code, *service, *address;
	bool appended, want_token; /* appended=1, token=1 */
	const struct service_policy *policy;
	bool failed;                /* the outcome, for the address penalty */
	char tag[CRED_TAG_LEN + 1]; /* HMAC of what was tried: a retried wrong secret counts once */
	char norm[FIELD_LOGIN_MAX + 1];
	bool norm_ok, is_email;
	struct account a; /* as read before hashing */
	bool found;
};

enum step { STEP_DONE, STEP_RETRY };

/* Reads login, password, otp, service, address (and checks new= for PASSWD); false after answering.
 */
bool attempt_fields(struct request *req, struct attempt *at, bool passwd);
/* Reads the account the login names; false after answering TEMPFAIL. */
bool attempt_load(struct worker *w, struct request *req, struct attempt *at);
/* true after answering locked (audited, no hashing done). */
bool attempt_throttled(struct worker *w, struct request *req, struct attempt *at,
                       const char *action, const struct account *a);
void attempt_audit(struct store_txn *txn, struct request *req, const struct attempt *at,
                   const char *action, const char *result, int reason, const char *detail);

#endif

struct refusal {
	const char *action; /* "auth", "passwd", "reset.confirm" */
	int reason;
	bool count;               /* one more failure for the account (a wrong secret) */
	bool once;                /* …unless it is the same wrong secret as last time */
	const char *audit_detail; /* for the audit line; may be NULL */
	const char *reply_detail; /* for the person (a policy sentence); may be NULL */
	void (*also)(struct account *b, int64_t now); /* another change to commit with it */
};

/* Answers a refusal after committing its audit line, and the failure when it counts. */
void attempt_refuse(struct worker *w, struct request *req, struct attempt *at,
                    const struct refusal *rf);

/* The same, queued: for decisions that change no state (auditq.h). */
void attempt_audit_later(struct worker *w, struct request *req, const struct attempt *at,
                         const char *action, const char *result, int reason, const char *detail);

/* PASSWD, in passwd.c. */
void passwd_handle(struct worker *w, struct request *req);
/* App passwords and session tokens as AUTH credentials, LOGOUT and ACCT, in auth_cred.c. */
void auth_app(struct worker *w, struct request *req, struct attempt *at);
void auth_token(struct worker *w, struct request *req, struct attempt *at);
void auth_logout(struct worker *w, struct request *req);
void auth_acct(struct worker *w, struct request *req);
