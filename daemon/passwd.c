/*
 * PASSWD: the current password (a temporary one needs no code; otherwise an
 * active authenticator must give one), then the policy, then the new hash,
 * then one commit that checks nothing moved meanwhile.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "attempt.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "log.h"
#include "otpcheck.h"
#include "password.h"
#include "policy.h"
#include "reason.h"
#include "secret.h"
#include "store.h"
#include "throttle.h"

#define RETRIES 3

/* The NUMEN is kept only as a keyed hash: look for it by hashing every 13-character run. */
static bool contains_numen(const struct crypto_keys *keys, const struct account *a, const char *pw)
{
	size_t len = strlen(pw);
	char hex[2 * CRYPTO_HMAC_LEN + 1], run[NUMEN_LEN + 1];
	bool found = false;

	if (a->numen_hmac[0] == '\0')
		return false;
	for (size_t i = 0; i + NUMEN_LEN <= len && !found; i++) {
		for (size_t j = 0; j < NUMEN_LEN; j++)
			run[j] = (char)toupper((unsigned char)pw[i + j]);
		run[NUMEN_LEN] = '\0';
		if (!ident_numen_valid(run))
			continue;
		crypto_hmac_hex(keys, "numen", run, NUMEN_LEN, hex);
		found = secret_equal(hex, a->numen_hmac, sizeof(hex) - 1);
	}
	secret_wipe(run, sizeof(run));
	return found;
}

static enum proto_reason check_new(struct worker *w, struct request *req, const struct account *a,
                                   const char *cur, const char *new, char *detail, size_t dlen)
{
	struct password_context ctx = {
	    .identifiant = a->identifiant,
	    .first = a->first,
	    .last = a->last,
	    .birth = a->birth,
	    .organisation = req->config->organisation,
	};
	enum proto_reason reason;

	reason =
	    password_check_policy(&req->config->policy, &ctx, new, strlen(new), cur, detail, dlen);
	if (reason == REASON_NONE && contains_numen(&w->daemon->keys, a, new)) {
		snprintf(detail, dlen, "Le mot de passe ne doit pas contenir le NUMEN.");
		reason = REASON_CONTEXT;
	}
	return reason;
}

/* Refusals before the new hash: a wrong password counts as a failure. */
static void refuse(struct worker *w, struct request *req, struct attempt *at, int reason,
                   bool count, const char *detail)
{
	struct refusal rf = {
	    .action = "passwd", .reason = reason, .count = count, .reply_detail = detail};

	attempt_refuse(w, req, at, &rf);
}

/* A wrong or replayed code after a right password: toward the hard lock. */
static void refuse_code(struct worker *w, struct request *req, struct attempt *at)
{
	struct refusal rf = {.action = "passwd", .reason = REASON_INVALID, .code = true};

	attempt_refuse(w, req, at, &rf);
}

static enum step passwd_commit(struct worker *w, struct request *req, struct attempt *at,
                               bool need_code, const char *phc)
{
	struct code_result cr = {.code = POLICY_CODE_NONE};
	struct store_txn *txn;
	struct account b;
	int r;

	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto tempfail;
	if (account_get(txn, at->a.identifiant, false, &b) != STORE_OK)
		goto tempfail_txn;
	if (strcmp(b.password_hash, at->a.password_hash) != 0 || b.otp_active != at->a.otp_active) {
		store_abort(txn);
		account_wipe(&b);
		return STEP_RETRY;
	}
	if (need_code) {
		cr = otpcheck(&w->daemon->keys, &b, &b.otp, at->code, req->now,
		              req->config->otp_window, true);
		if (cr.code != POLICY_CODE_ACCEPT && cr.code != POLICY_CODE_RECOVERY) {
			store_abort(txn);
			account_wipe(&b);
			if (cr.broken)
				refuse(w, req, at, REASON_TEMPFAIL, false, NULL);
			else
				refuse_code(w, req, at);
			return STEP_DONE;
		}
		otpcheck_consume(&b, &cr);
	}
	memcpy(b.password_hash, phc, PASSWORD_HASH_MAX);
	b.password_temporary = false;
	b.temporary_expires = 0;
	b.password_changed = req->now;
	b.code_failures = 0;
	b.session_gen++; /* every session token dies with the old password */
	if (account_put(txn, &b) != STORE_OK) {
		account_wipe(&b);
		goto tempfail_txn;
	}
	attempt_audit(txn, req, at, "passwd", "ok", REASON_NONE,
	              at->a.password_temporary ? "temporary password replaced" : NULL);
	r = store_commit(txn);
	account_wipe(&b);
	if (r != STORE_OK)
		goto tempfail;
	throttle_clear(w->daemon->throttle, attempt_tkey(w, at));
	reply_ok_ident(req, at->a.identifiant);
	return STEP_DONE;
tempfail_txn:
	store_abort(txn);
tempfail:
	reply_tempfail(req);
	return STEP_DONE;
}

/* One pass; STEP_RETRY when the account changed under us. */
static enum step passwd_try(struct worker *w, struct request *req, struct attempt *at,
                            const char *new)
{
	char phc[PASSWORD_HASH_MAX], detail[256] = "";
	enum password_match pm;
	enum proto_reason reason;
	bool rehash, need_code;
	enum step st;

	if (!attempt_load(w, req, at) || attempt_throttled(w, req, at, "passwd"))
		return STEP_DONE;
	atomic_fetch_add(&w->daemon->hashes, 1);
	if (!at->found) {
		password_dummy(w->hasher, &w->daemon->keys, at->password, strlen(at->password));
		refuse(w, req, at, REASON_INVALID, true, NULL);
		return STEP_DONE;
	}
	pm = password_verify(w->hasher, &w->daemon->keys, at->password, strlen(at->password),
	                     at->a.password_hash, &rehash);
	if (pm != PASSWORD_MATCH) {
		if (pm == PASSWORD_ERROR)
			reply_tempfail(req);
		else
			refuse(w, req, at, REASON_INVALID, true, NULL);
		return STEP_DONE;
	}
	if (at->a.locked_since != 0) {
		refuse(w, req, at, REASON_LOCKED, false, NULL);
		return STEP_DONE;
	}
	if (at->a.state != ACCOUNT_ACTIVE ||
	    (at->a.password_temporary && req->now >= at->a.temporary_expires)) {
		refuse(w, req, at, at->a.state != ACCOUNT_ACTIVE ? REASON_DISABLED : REASON_INVALID,
		       false, NULL);
		return STEP_DONE;
	}
	need_code = !at->a.password_temporary && at->a.otp_active;
	if (need_code && at->code == NULL) {
		refuse(w, req, at, REASON_OTP_REQUIRED, false, NULL);
		return STEP_DONE;
	}
	reason = check_new(w, req, &at->a, at->password, new, detail, sizeof(detail));
	if (reason == REASON_TEMPFAIL) {
		reply_tempfail(req);
		return STEP_DONE;
	}
	if (reason != REASON_NONE) {
		refuse(w, req, at, reason, false, detail);
		return STEP_DONE;
	}
	if (password_hash(w->hasher, &w->daemon->keys, new, strlen(new), phc) < 0) {
		reply_tempfail(req);
		return STEP_DONE;
	}
	st = passwd_commit(w, req, at, need_code, phc);
	secret_wipe(phc, sizeof(phc));
	return st;
}

void passwd_handle(struct worker *w, struct request *req)
{
	struct attempt at = {0};
	const char *new;

	if (!attempt_fields(req, &at, true))
		return;
	new = proto_get(&req->msg, "new");
	for (int i = 0; i < RETRIES; i++) {
		enum step st = passwd_try(w, req, &at, new);

		account_wipe(&at.a);
		if (st == STEP_DONE)
			return;
	}
	reply_tempfail(req);
}
