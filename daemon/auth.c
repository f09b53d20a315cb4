/*
 * The auth socket's AUTH: the dispatch to a credential's verifier, and the
 * password verifier. The slow part (Argon2) runs outside any transaction;
 * the decision and every state it changes (failures, last code step,
 * recovery codes, last login) are then staged in one write transaction on a
 * fresh read of the record, which verdict_answer commits with the audit
 * record before the answer leaves (verdict.h).
 */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "attempt.h"
#include "audit.h"
#include "config.h"
#include "credential.h"
#include "device.h"
#include "throttle.h"
#include "penalty.h"
#include "session.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "otpcheck.h"
#include "password.h"
#include "policy.h"
#include "reason.h"
#include "reset.h"
#include "secret.h"
#include "store.h"
#include "verdict.h"

#define RETRIES 3 /* a password changed between hashing and committing: hash again */

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

/* A new session token for a full password + code login, in the deciding transaction. */
static int issue_token(struct worker *w, struct request *req, struct store_txn *txn,
                       const struct account *b, const char *service, struct proto_writer *ok)
{
	char token[TOKEN_LEN + 1];
	struct session ss = {0};
	int r;

	if (cred_new_token(token) < 0)
		return STORE_ERROR;
	cred_tag(&w->daemon->keys, "session", token, ss.key);
	snprintf(ss.identifiant, sizeof(ss.identifiant), "%s", b->identifiant);
	snprintf(ss.service, sizeof(ss.service), "%s", service);
	ss.created = ss.last_used = req->now;
	ss.expires = req->now + req->config->session_lifetime;
	ss.gen = b->session_gen;
	if ((r = session_put(txn, &ss)) == STORE_OK) {
		proto_add(ok, "token", token);
		proto_addf(ok, "token_expires", "%lld", (long long)ss.expires);
	}
	secret_wipe(token, sizeof(token));
	return r;
}

/* A new device secret for this browser, in the deciding transaction; its OK fields added. */
static int issue_device(struct worker *w, struct request *req, const struct attempt *at,
                        struct account *b, struct proto_writer *ok)
{
	const struct config *c = req->config;
	char secret[DEVICE_SECRET_LEN + 1], tag[CRED_TAG_LEN + 1];
	bool trusted = at->trust && c->trusted_browser_days > 0;
	int64_t expires =
	    req->now + (int64_t)(trusted ? c->trusted_browser_days : c->device_days) * 86400;
	int old;

	if (cred_new_device(secret) < 0)
		return STORE_ERROR;
	/* The secret it came with, if alive, is replaced. */
	if (at->device_tag[0] != '\0' && (old = device_find(b, at->device_tag, req->now)) >= 0)
		device_remove(b, b->devices[old].id);
	cred_tag(&w->daemon->keys, "device", secret, tag);
	device_add(b, tag, at->device_label, trusted, req->now, expires);
	proto_add(ok, "device", secret);
	proto_addf(ok, "device_expires", "%lld", (long long)expires);
	proto_addf(ok, "device_trusted", "%d", trusted);
	secret_wipe(secret, sizeof(secret));
	secret_wipe(tag, sizeof(tag));
	return STORE_OK;
}

/* The state a decision changes in the fresh record b; false when nothing changes. */
static bool apply(struct request *req, struct attempt *at, const struct policy_decision *d,
                  struct account *b, const struct code_result *cr, int dev, const char **detail)
{
	if (d->count_code_failure) {
		if (attempt_count_code(b, at, &req->config->throttle, req->now))
			*detail = "wrong codes: locked until unlocked";
		return true;
	}
	bool changed;

	if (!d->login_success)
		return false;
	/* A success that consumes no code, uses no device and clears no failure only moves the
	 * last login, as coarsely as a token's last use: inside that window it writes nothing (a
	 * password alone, a second login within the minute: no synced write for the same state). */
	changed = b->code_failures != 0 || b->last_bad[0] != '\0' ||
	          cr->code == POLICY_CODE_ACCEPT || cr->code == POLICY_CODE_RECOVERY || dev >= 0 ||
	          req->now - b->last_login >= (int64_t)req->config->session_touch;
	b->code_failures = 0;
	b->last_bad[0] = '\0';
	b->last_login = req->now;
	otpcheck_consume(b, cr);
	if (dev >= 0)
		b->devices[dev].last_used = req->now;
	return device_prune(b, req->now) > 0 || changed;
}

static const char *credential_name(const struct policy_decision *d, bool one_factor)
{
	if (d->trusted_browser)
		return "trusted_browser";
	return one_factor ? "password" : "password_otp";
}

/*
 * The password verifier's second half, in one write transaction on a fresh read of the record:
 * the code against the fresh last step, the policy's decision, the state it changes, a token
 * or a device secret asked for, all staged in v for verdict_answer to audit and commit.
 */
static enum step auth_commit(struct worker *w, struct request *req, struct attempt *at,
                             enum password_match pm, struct verdict *v)
{
	const struct service_policy *p = at->policy;
	struct policy_input in = {.password = (enum policy_password)pm,
	                          .otp_required = req->config->otp_required,
	                          .one_factor = (p->credentials & CRED_PASSWORD) != 0,
	                          .now = req->now};
	struct code_result cr = {.code = POLICY_CODE_NONE};
	const char *detail = NULL;
	struct policy_decision d;
	struct account b;
	bool have = false, full, changed, staged = false;
	int r, dev = -1;

	if (store_begin(w->daemon->store, true, &v->txn) != STORE_OK)
		goto error;
	if (at->found) {
		if ((r = account_get(v->txn, at->a.identifiant, false, &b)) < 0)
			goto error;
		have = r == STORE_OK;
		/* The password changed while we hashed: start again with the new one. */
		if (!have || strcmp(b.password_hash, at->a.password_hash) != 0) {
			store_abort(v->txn);
			v->txn = NULL;
			account_wipe(&b);
			return STEP_RETRY;
		}
		in.account = &b;
		in.locked = b.locked_since != 0;
		if (at->device_tag[0] != '\0')
			dev = device_find(&b, at->device_tag, req->now);
		/* A browser's trust stands in for the code where a browser logs in (password_otp).
		 */
		in.trusted_device = dev >= 0 && b.devices[dev].trusted &&
		                    req->config->trusted_browser_days > 0 && at->code == NULL &&
		                    (p->credentials & CRED_PASSWORD_OTP);
		if (pm == PASSWORD_MATCH && b.otp_active && !in.one_factor && !in.locked) {
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
	full = cr.code == POLICY_CODE_ACCEPT || cr.code == POLICY_CODE_RECOVERY;
	if (d.outcome == OUTCOME_OK) {
		verdict_ok(v, req, at->a.identifiant, credential_name(&d, in.one_factor), NULL);
	} else {
		verdict_fail(v, d.reason, NULL);
		if (d.outcome == OUTCOME_TEMPFAIL)
			v->result = VERDICT_TEMPFAIL;
	}
	v->wrong_secret = d.outcome == OUTCOME_FAIL && d.reason == REASON_INVALID;
	v->count_password = d.count_failure;
	v->forgive = true;
	/* Only a full second factor earns a token: never a one-factor or app-password login. */
	if (d.outcome == OUTCOME_OK && at->want_token && p->issue_tokens &&
	    (full || d.trusted_browser)) {
		if (issue_token(w, req, v->txn, &b, at->service, &v->ok) != STORE_OK)
			goto error;
		staged = true;
	}
	/* The decision's changes first (dev indexes b as read), then a new device secret if asked.
	 */
	changed = have && apply(req, at, &d, &b, &cr, dev, &detail);
	if (d.outcome == OUTCOME_OK && full && (at->device_label != NULL || at->trust)) {
		if (issue_device(w, req, at, &b, &v->ok) != STORE_OK)
			goto error;
		changed = true;
	}
	if (changed && account_put(v->txn, &b) != STORE_OK)
		goto error;
	if (d.outcome == OUTCOME_OK && !changed && !staged) {
		/* Nothing to commit: the audit record is queued, as for a token (verdict.h). */
		store_abort(v->txn);
		v->txn = NULL;
	}
	if (d.outcome == OUTCOME_OK && cr.code == POLICY_CODE_RECOVERY)
		detail = "recovery code used";
	else if (d.trusted_browser)
		detail = "trusted_browser";
	v->detail = detail;
	if (have)
		account_wipe(&b);
	return STEP_DONE;
error:
	verdict_error(v);
	if (have)
		account_wipe(&b);
	return STEP_DONE;
}

/*
 * The code appended to the password (Dovecot and saslauthd answer every prompt
 * with one string): as many trailing digits as the person's token has.
 */
static void split_appended(struct attempt *at, char *pw, char *code)
{
	const struct service_policy *p = at->policy;
	size_t len = strlen(at->password), d = at->a.otp.digits;

	snprintf(pw, FIELD_SECRET_MAX + 1, "%s", at->password);
	if (!(p->credentials & CRED_APPENDED_OTP) || !at->found || !at->a.otp_active ||
	    at->code != NULL || (!at->appended && (p->credentials & CRED_PASSWORD_OTP)) ||
	    len <= d || strspn(at->password + len - d, "0123456789") != d)
		return;
	memcpy(code, at->password + len - d, d);
	code[d] = '\0';
	pw[len - d] = '\0';
	at->code = code;
}

static void auth_password(struct worker *w, struct request *req, struct attempt *at)
{
	char pw[FIELD_SECRET_MAX + 1], code[OTP_CODE_MAX + 1];
	const char *typed = at->password, *field_code = at->code;
	bool need_rehash = false, allowed;
	enum password_match pm;
	struct verdict v;

	allowed =
	    (at->policy->credentials & (CRED_PASSWORD_OTP | CRED_APPENDED_OTP | CRED_PASSWORD));
	/* A code in otp= counts only where the service takes it there. */
	if (!(at->policy->credentials & CRED_PASSWORD_OTP))
		at->code = NULL;
	for (int i = 0;; i++) {
		verdict_init(&v, "auth");
		if (i == RETRIES || attempt_read(w, req, at) != STORE_OK) {
			verdict_error(&v);
			break;
		}
		if (attempt_delayed(w, req, at, &v))
			break;
		split_appended(at, pw, code);
		atomic_fetch_add(&w->daemon->hashes, 1);
		if (at->found && allowed) {
			pm = password_verify(w->hasher, &w->daemon->keys, pw, strlen(pw),
			                     at->a.password_hash, &need_rehash);
		} else {
			/* An unknown login, or a password where the service takes none, costs the
			 * same. */
			password_dummy(w->hasher, &w->daemon->keys, pw, strlen(pw));
			pm = PASSWORD_MISMATCH;
		}
		at->password = pw; /* what rehash must hash: without the code */
		if (auth_commit(w, req, at, pm, &v) == STEP_DONE)
			break;
		at->password = typed;
		at->code = field_code;
		account_wipe(&at->a);
	}
	verdict_answer(w, req, at, &v);
	if (at->succeeded && need_rehash)
		rehash(w, req, at);
	at->password = typed;
	secret_wipe(pw, sizeof(pw));
	secret_wipe(code, sizeof(code));
}

enum secret_kind { SECRET_TOKEN, SECRET_APP_PASSWORD, SECRET_PASSWORD };

/* What a password field carries under a service's credentials, by its shape: no hashing needed
 * to tell. Both the dispatch below and the choice of a lane read it. */
static enum secret_kind secret_kind(unsigned creds, const char *password)
{
	if ((creds & CRED_SESSION_TOKEN) && cred_is_token(password))
		return SECRET_TOKEN;
	if ((creds & CRED_APP_PASSWORD) && cred_is_app_password(password))
		return SECRET_APP_PASSWORD;
	return SECRET_PASSWORD;
}

static void handle_auth(struct worker *w, struct request *req);

enum lane_kind request_lane(const struct config *config, const struct request *req)
{
	const char *password, *service;

	if (req->verb->flags & VERB_FAST)
		return LANE_FAST;
	if (req->verb->handler != handle_auth ||
	    (password = proto_get(&req->msg, "password")) == NULL)
		return LANE_HASH;
	service = proto_get(&req->msg, "service");
	return secret_kind(
	           config_service(config, service != NULL ? service : "default")->credentials,
	           password) == SECRET_PASSWORD
	           ? LANE_HASH
	           : LANE_FAST;
}

static void handle_auth(struct worker *w, struct request *req)
{
	struct attempt at = {0};
	enum secret_kind kind;

	if (!attempt_fields(req, &at, false))
		return;
	kind = secret_kind(at.policy->credentials, at.password);
	if (kind == SECRET_PASSWORD && w->hasher == NULL) {
		/* A reload changed the service's policy between the lane's choice and now. */
		log_warn("a password reached the fast lane (service %s): try again", at.service);
		reply_tempfail(req);
		return;
	}
	/* The verifiers split and drop what they do not take: the tag is of what was sent. */
	at.keys = &w->daemon->keys;
	at.sent_password = at.password;
	at.sent_code = at.code;
	if (kind == SECRET_TOKEN)
		auth_token(w, req, &at);
	else if (kind == SECRET_APP_PASSWORD)
		auth_app(w, req, &at);
	else
		auth_password(w, req, &at);
	/* Only a wrong secret counts and only a real success forgives: locked, disabled,
	 * otp_required, password_change_required or TEMPFAIL leave the address as it is. */
	if (at.address != NULL && (at.failed || at.succeeded))
		penalty_record(w->daemon->penalty, at.address, at.failed,
		               at.failed ? attempt_tag(&at) : NULL, penalty_now_ms());
	account_wipe(&at.a);
}

const struct verb auth_verbs[] = {
    {"AUTH", handle_auth, VERB_PENALIZED | VERB_INLINE},
    {"PASSWD", passwd_handle, VERB_PENALIZED},
    {"LOGOUT", auth_logout, VERB_FAST},
    {"ACCT", auth_acct, VERB_FAST | VERB_INLINE},
    {"RESET_ASK", reset_ask_handle, VERB_PENALIZED},
    {"RESET_CONFIRM", reset_confirm_handle, VERB_PENALIZED},
    {"IDENT_ASK", ident_ask_handle, VERB_PENALIZED},
    {NULL, NULL, 0},
};
