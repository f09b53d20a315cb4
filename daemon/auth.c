/*
 * The auth socket: AUTH and PASSWD. The slow part (Argon2) runs outside any
 * transaction; the decision and every state it changes (failures, last code
 * step, recovery codes, last login) are then committed in one write
 * transaction on a fresh read of the record, before the answer leaves.
 */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "attempt.h"
#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "otpcheck.h"
#include "password.h"
#include "policy.h"
#include "reason.h"
#include "secret.h"
#include "store.h"

#define RETRIES 3 /* a password changed between hashing and committing: hash again */

static void answer(struct request *req, const struct policy_decision *d, const char *ident)
{
	if (d->outcome == OUTCOME_OK)
		reply_ok_ident(req, ident);
	else if (d->outcome == OUTCOME_TEMPFAIL)
		reply_tempfail(req);
	else
		reply_fail(req, d->reason, NULL);
}

/* After a successful login with an old or imported hash: best effort, in its own commit. */
static void rehash(struct worker *w, struct request *req, const struct attempt *at)
{
	char phc[PASSWORD_HASH_MAX];
	struct store_txn *txn = NULL;
	struct account b;

	if (password_hash(w->hasher, &w->daemon->keys, at->password, strlen(at->password), phc) < 0)
		return;
	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto out;
	if (account_get(txn, at->a.identifiant, false, &b) == STORE_OK &&
	    strcmp(b.password_hash, at->a.password_hash) == 0) {
		memcpy(b.password_hash, phc, sizeof(phc));
		if (account_put(txn, &b) == STORE_OK)
			attempt_audit(txn, req, at, "rehash", "ok", REASON_NONE, "argon2id");
		account_wipe(&b);
	}
	store_commit(txn);
	txn = NULL;
out:
	store_abort(txn);
	secret_wipe(phc, sizeof(phc));
}

static enum step auth_commit(struct worker *w, struct request *req, struct attempt *at,
			     enum password_match pm, bool need_rehash)
{
	struct policy_input in = {.password = (enum policy_password)pm,
				  .otp_required = req->config->otp_required, .now = req->now};
	struct code_result cr = {.code = POLICY_CODE_NONE};
	struct policy_decision d;
	struct store_txn *txn;
	struct account b;
	bool have = false;
	int r;

	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto tempfail;
	if (at->found) {
		if ((r = account_get(txn, at->a.identifiant, false, &b)) < 0)
			goto tempfail;
		have = r == STORE_OK;
		/* The password changed while we hashed: start again with the new one. */
		if (!have || strcmp(b.password_hash, at->a.password_hash) != 0) {
			store_abort(txn);
			account_wipe(&b);
			return STEP_RETRY;
		}
		in.account = &b;
		if (pm == PASSWORD_MATCH && b.otp_active) {
			cr = otpcheck(&w->daemon->keys, &b, &b.otp, at->code, req->now,
				      req->config->otp_window, true);
			if (cr.broken) {
				log_err("%s: the OTP secret does not open", b.identifiant);
				in.password = POLICY_PW_ERROR;
			}
		}
	}
	in.code = cr.code;
	d = policy_decide(&in);
	if (have && (d.count_failure || d.login_success)) {
		if (d.count_failure) {
			b.failures++;
			b.last_failure = req->now;
		} else {
			b.failures = 0;
			b.last_login = req->now;
			otpcheck_consume(&b, &cr);
		}
		if (account_put(txn, &b) != STORE_OK)
			goto tempfail;
	}
	attempt_audit(txn, req, at, "auth", d.outcome == OUTCOME_OK ? "ok" : "refused", d.reason,
		      cr.code == POLICY_CODE_RECOVERY && d.outcome == OUTCOME_OK
			      ? "recovery code used"
			      : NULL);
	r = store_commit(txn);
	txn = NULL;
	if (r != STORE_OK)
		goto tempfail;
	answer(req, &d, at->a.identifiant);
	if (d.outcome == OUTCOME_OK && need_rehash)
		rehash(w, req, at);
	if (have)
		account_wipe(&b);
	return STEP_DONE;
tempfail:
	store_abort(txn);
	if (have)
		account_wipe(&b);
	reply_tempfail(req);
	return STEP_DONE;
}

static void handle_auth(struct worker *w, struct request *req)
{
	struct attempt at = {0};
	enum password_match pm;
	bool need_rehash = false;
	size_t pwlen;

	if (!attempt_fields(req, &at, false))
		return;
	pwlen = strlen(at.password);
	for (int i = 0; i < RETRIES; i++) {
		if (!attempt_load(w, req, &at))
			goto out;
		if (at.found && attempt_throttled(w, req, &at, "auth", &at.a))
			goto out;
		if (at.found) {
			pm = password_verify(w->hasher, &w->daemon->keys, at.password, pwlen,
					     at.a.password_hash, &need_rehash);
		} else {
			/* An unknown login costs what a known one does. */
			password_dummy(w->hasher, &w->daemon->keys, at.password, pwlen);
			pm = PASSWORD_MISMATCH;
		}
		if (auth_commit(w, req, &at, pm, need_rehash) == STEP_DONE)
			goto out;
		account_wipe(&at.a);
	}
	reply_tempfail(req);
out:
	account_wipe(&at.a);
}


const struct verb auth_verbs[] = {
	{"AUTH", handle_auth},
	{"PASSWD", passwd_handle},
	{NULL, NULL},
};
