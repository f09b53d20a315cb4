/* One login attempt, as AUTH and PASSWD see it. */
#ifndef VERDON_ATTEMPT_H
#define VERDON_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "account.h"
#include "credential.h"
#include "fields.h"
#include "throttle.h"

struct crypto_keys;
struct throttle_conf;
struct request;
struct store_txn;
struct verdict;
struct worker;

struct service_policy;

struct attempt {
	const char *login, *password, *code, *service, *address;
	bool appended, want_token;         /* appended=1, token=1 */
	const char *device, *device_label; /* device=, device_label= */
	bool trust;                        /* trust=1 */
	const struct service_policy *policy;
	bool failed;    /* a wrong secret: the address penalty grows */
	bool succeeded; /* answered OK: the address penalty clears */
	/* HMAC of what was tried, so that a retried wrong secret counts once: made by attempt_tag
	 * with keys when a refusal first needs it, "" until then. */
	const struct crypto_keys *keys;
	const char *sent_password, *sent_code; /* as the request carried them */
	char tag[CRED_TAG_LEN + 1];
	char norm[FIELD_LOGIN_MAX + 1];
	bool norm_ok, is_email;
	struct account a; /* as read before hashing */
	bool found;
	/* Set by attempt_load: */
	/* The login's throttle counter, or the device's: made by attempt_tkey when first needed
	 * (an app password or a token never is). */
	bool tkey_made;
	struct throttle_key tkey;
	char device_tag[CRED_TAG_LEN + 1]; /* HMAC of device=, "" when none */
	int dev;                           /* index of the alive device in a, -1: none */
	char audit_login[48]; /* for an unknown login: a short prefix and a keyed hash */
};

enum step { STEP_DONE, STEP_RETRY };

/* The tag of secret and second (may be NULL): HMAC(pepper, "attempt", "secret\nsecond"). */
void attempt_tag_make(const struct crypto_keys *keys, const char *secret, const char *second,
                      char tag[CRED_TAG_LEN + 1]);
/* at->tag, made from its password and code on first use: a login that succeeds needs none. */
const char *attempt_tag(struct attempt *at);
/* Reads login, password, otp, service, address (and checks new= for PASSWD); false after answering.
 */
bool attempt_fields(struct request *req, struct attempt *at, bool passwd);
/*
 * Reads the account the login names, the device secret it came with, and
 * which throttle counter the attempt answers to: STORE_OK (found or not), or
 * the store's error.
 */
int attempt_read(struct worker *w, struct request *req, struct attempt *at);
/* The same inside txn, which the caller ends: the caller reads more in the same snapshot. */
int attempt_read_in(struct worker *w, struct request *req, struct attempt *at,
                    struct store_txn *txn);
/* The same, false after answering TEMPFAIL. */
bool attempt_load(struct worker *w, struct request *req, struct attempt *at);
/* The throttle counter the attempt answers to (after attempt_read). */
const struct throttle_key *attempt_tkey(struct worker *w, struct attempt *at);
/* true when the login's throttle delays it: v says locked with the wait (no hashing done), known
 * or not alike. */
bool attempt_delayed(struct worker *w, struct request *req, struct attempt *at, struct verdict *v);
/* true after answering that (verdict_answer, for action). */
bool attempt_throttled(struct worker *w, struct request *req, struct attempt *at,
                       const char *action);
/* The throttle counter of a normalised login (an identifiant or an email). */
void attempt_throttle_key(const struct crypto_keys *keys, const char *login,
                          struct throttle_key *key_r);
/* One more wrong password for the attempt's throttle counter (in memory). */
void attempt_count_password(struct worker *w, struct request *req, struct attempt *at);
/*
 * One more wrong or replayed code after a right password, in b (the same
 * password and code sent again count once); true when this locks the account.
 */
bool attempt_count_code(struct account *b, struct attempt *at, const struct throttle_conf *conf,
                        int64_t now);
void attempt_audit(struct store_txn *txn, struct request *req, const struct attempt *at,
                   const char *action, const char *result, int reason, const char *detail);

#endif

struct refusal {
	const char *action; /* "auth", "passwd", "reset.confirm" */
	int reason;
	bool count;               /* a wrong password: one more for the login's throttle */
	bool code;                /* a wrong code after a right password: toward the hard lock */
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
