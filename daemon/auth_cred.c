/*
 * Credentials the daemon generated: app passwords and session tokens in
 * AUTH, and the verbs around them (LOGOUT, ACCT). None of them hashes with
 * Argon2, and a success inside the coarse last-use window changes no state,
 * so its audit record is queued rather than synced (auditq.h).
 */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "attempt.h"
#include "config.h"
#include "credential.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "policy.h"
#include "reason.h"
#include "secret.h"
#include "session.h"
#include "store.h"

static void ok_line(struct request *req, const char *ident, const char *credential,
                    const char *label)
{
	struct proto_writer ok;

	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", ident);
	proto_add(&ok, "credential", credential);
	if (label != NULL)
		proto_add(&ok, "label", label);
	reply_line(req, &ok);
}

static int find_app(struct worker *w, const struct attempt *at)
{
	char tag[CRED_TAG_LEN + 1];
	int found = -1;

	cred_tag(&w->daemon->keys, "app", at->password, tag);
	/* Every slot is compared: the time says nothing of which one matched. */
	for (unsigned i = 0; i < at->a.napps; i++)
		if (secret_equal(tag, at->a.apps[i].hash, CRED_TAG_LEN) &&
		    cred_service_listed(at->a.apps[i].services, at->service) && found < 0)
			found = (int)i;
	secret_wipe(tag, sizeof(tag));
	return found;
}

/* A success: rewrite the record only when the coarse last use or the counter must move. */
static void app_success(struct worker *w, struct request *req, struct attempt *at, int i)
{
	const struct account_app *app = &at->a.apps[i];
	struct store_txn *txn;
	struct account b;
	int r = STORE_ERROR;

	if (req->now - app->last_used < (int64_t)req->config->session_touch) {
		attempt_audit_later(w, req, at, "auth", "ok", REASON_NONE, app->label);
		at->succeeded = true;
		ok_line(req, at->a.identifiant, "app_password", app->label);
		return;
	}
	if (request_defer_write(req))
		return;
	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto out;
	if (account_get(txn, at->a.identifiant, false, &b) == STORE_OK) {
		for (unsigned k = 0; k < b.napps; k++)
			if (strcmp(b.apps[k].id, app->id) == 0)
				b.apps[k].last_used = req->now;
		b.last_login = req->now;
		r = account_put(txn, &b);
		account_wipe(&b);
	}
	if (r == STORE_OK)
		attempt_audit(txn, req, at, "auth", "ok", REASON_NONE, app->label);
	r = r == STORE_OK ? store_commit(txn) : (store_abort(txn), r);
out:
	if (r != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	at->succeeded = true;
	ok_line(req, at->a.identifiant, "app_password", app->label);
}

void auth_app(struct worker *w, struct request *req, struct attempt *at)
{
	int i;

	if (!attempt_load(w, req, at))
		return;
	if (!at->found) {
		at->failed = true;
		attempt_audit_later(w, req, at, "auth", "refused", REASON_INVALID, "app password");
		reply_fail(req, REASON_INVALID, NULL);
		return;
	}
	/*
	 * Nobody guesses 100 random bits: the account's password throttle does not
	 * apply, so an attack on the password never stops the owner's devices. A
	 * wrong one still counts for the address penalty.
	 */
	if ((i = find_app(w, at)) < 0) {
		at->failed = true;
		attempt_audit_later(w, req, at, "auth", "refused", REASON_INVALID, "app password");
		reply_fail(req, REASON_INVALID, NULL);
		return;
	}
	if (at->a.state != ACCOUNT_ACTIVE) {
		attempt_audit_later(w, req, at, "auth", "refused", REASON_DISABLED, "app password");
		reply_fail(req, REASON_DISABLED, NULL);
		return;
	}
	app_success(w, req, at, i);
}

void auth_token(struct worker *w, struct request *req, struct attempt *at)
{
	struct session ss;
	struct store_txn *txn = NULL;
	bool alive = false;
	int r;

	cred_tag(&w->daemon->keys, "session", at->password, ss.key);
	if (!attempt_load(w, req, at))
		return;
	if (at->found) {
		if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
			reply_tempfail(req);
			return;
		}
		r = session_get(txn, ss.key, &ss);
		store_abort(txn);
		txn = NULL;
		if (r < 0) {
			reply_tempfail(req);
			return;
		}
		alive = r == STORE_OK &&
		        session_alive(&ss, &at->a, req->now, req->config->session_idle) &&
		        (at->policy->credentials & CRED_SESSION_TOKEN);
	}
	if (!alive) {
		/* A stale token from a webmail page is no attack: it does not count against the
		 * account. */
		at->failed = true;
		attempt_audit_later(w, req, at, "auth", "refused", REASON_INVALID, "session token");
		reply_fail(req, REASON_INVALID, NULL);
		return;
	}
	if (req->now - ss.last_used >=
	    (int64_t)session_touch_window(req->config->session_touch, req->config->session_idle)) {
		if (request_defer_write(req))
			return;
		ss.last_used = req->now;
		if (store_begin(w->daemon->store, true, &txn) != STORE_OK ||
		    session_put(txn, &ss) != STORE_OK) {
			store_abort(txn);
			reply_tempfail(req);
			return;
		}
		attempt_audit(txn, req, at, "auth", "ok", REASON_NONE, "session token");
		if (store_commit(txn) != STORE_OK) {
			reply_tempfail(req);
			return;
		}
	} else {
		attempt_audit_later(w, req, at, "auth", "ok", REASON_NONE, "session token");
	}
	at->succeeded = true;
	ok_line(req, at->a.identifiant, "session_token", NULL);
}

void auth_logout(struct worker *w, struct request *req)
{
	char key[CRED_TAG_LEN + 1];
	struct store_txn *txn;
	struct session ss;
	const char *token;
	bool bad = false;
	int r;

	if ((token = field_get(req, "token", FIELD_SECRET_MAX, true, &bad)) == NULL)
		return;
	cred_tag(&w->daemon->keys, "session", token, key);
	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto tempfail;
	r = session_get(txn, key, &ss);
	if (r == STORE_OK) {
		struct attempt at = {.found = true, .service = ss.service};

		snprintf(at.a.identifiant, sizeof(at.a.identifiant), "%s", ss.identifiant);
		if (session_del(txn, key) != STORE_OK)
			goto tempfail;
		attempt_audit(txn, req, &at, "logout", "ok", REASON_NONE, "session token revoked");
	}
	if (r < 0 || store_commit(txn) != STORE_OK)
		goto tempfail_done;
	reply_ok_ident(req, r == STORE_OK ? ss.identifiant : "-");
	return;
tempfail:
	store_abort(txn);
tempfail_done:
	reply_tempfail(req);
}

void auth_acct(struct worker *w, struct request *req)
{
	struct attempt at = {0};
	enum proto_reason reason = REASON_NONE;
	bool bad = false;

	at.login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad);
	at.service = field_service(req, &bad);
	if (bad)
		return;
	at.norm_ok = ident_login(at.login, at.norm, sizeof(at.norm), &at.is_email) == 0;
	if (!attempt_load(w, req, &at))
		return;
	if (!at.found)
		reason = REASON_INVALID;
	else if (at.a.state != ACCOUNT_ACTIVE)
		reason = REASON_DISABLED;
	else if (at.a.locked_since != 0)
		reason = REASON_LOCKED;
	else if (at.a.password_temporary)
		reason = REASON_PASSWORD_CHANGE_REQUIRED;
	attempt_audit_later(w, req, &at, "acct", reason == REASON_NONE ? "ok" : "refused", reason,
	                    NULL);
	if (reason == REASON_NONE)
		reply_ok_ident(req, at.a.identifiant);
	else
		reply_fail(req, reason, NULL);
	account_wipe(&at.a);
}
