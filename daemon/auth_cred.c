/*
 * Credentials the daemon generated: the verifiers of app passwords and
 * session tokens in AUTH, and the verbs around them (LOGOUT, ACCT). None of
 * them hashes with Argon2, and a success inside the coarse last-use window
 * changes no state, so its verdict carries no transaction and its audit
 * record is queued rather than synced (verdict.h, auditq.h).
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
#include "verdict.h"

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

/* A success: the record is rewritten only when the coarse last use must move. */
static void app_success(struct worker *w, struct request *req, struct attempt *at, int i,
                        struct verdict *v)
{
	const struct account_app *app = &at->a.apps[i];
	struct account b;
	int r;

	if (req->now - app->last_used >= (int64_t)req->config->session_touch) {
		if (request_defer_write(req))
			return;
		if (store_begin(w->daemon->store, true, &v->txn) != STORE_OK ||
		    (r = account_get(v->txn, at->a.identifiant, false, &b)) != STORE_OK) {
			verdict_error(v);
			return;
		}
		for (unsigned k = 0; k < b.napps; k++)
			if (strcmp(b.apps[k].id, app->id) == 0)
				b.apps[k].last_used = req->now;
		b.last_login = req->now;
		r = account_put(v->txn, &b);
		account_wipe(&b);
		if (r != STORE_OK) {
			verdict_error(v);
			return;
		}
	}
	verdict_ok(v, req, at->a.identifiant, "app_password", app->label);
	v->detail = app->label;
}

/* The app-password verifier. */
static void app_verify(struct worker *w, struct request *req, struct attempt *at, struct verdict *v)
{
	int i;

	if (attempt_read(w, req, at) != STORE_OK) {
		verdict_error(v);
		return;
	}
	/*
	 * Nobody guesses 100 random bits: the account's password throttle does not
	 * apply, so an attack on the password never stops the owner's devices. A
	 * wrong one still counts for the address penalty.
	 */
	if (!at->found || (i = find_app(w, at)) < 0) {
		verdict_fail(v, REASON_INVALID, "app password");
		v->wrong_secret = true;
	} else if (at->a.state != ACCOUNT_ACTIVE) {
		verdict_fail(v, REASON_DISABLED, "app password");
	} else {
		app_success(w, req, at, i, v);
	}
}

void auth_app(struct worker *w, struct request *req, struct attempt *at)
{
	struct verdict v;

	verdict_init(&v, "auth");
	app_verify(w, req, at, &v);
	if (!req->deferred)
		verdict_answer(w, req, at, &v);
}

/* The session-token verifier. */
static void token_verify(struct worker *w, struct request *req, struct attempt *at,
                         struct verdict *v)
{
	struct session ss;
	struct store_txn *txn;
	bool alive = false;
	int r;

	cred_tag(&w->daemon->keys, "session", at->password, ss.key);
	/* The account and its session in one snapshot. */
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		verdict_error(v);
		return;
	}
	r = attempt_read_in(w, req, at, txn);
	if (r == STORE_OK && at->found)
		r = session_get(txn, ss.key, &ss);
	store_abort(txn);
	if (r < 0) {
		verdict_error(v);
		return;
	}
	if (at->found)
		alive = r == STORE_OK &&
		        session_alive(&ss, &at->a, req->now, req->config->session_idle) &&
		        (at->policy->credentials & CRED_SESSION_TOKEN);
	if (!alive) {
		/* A stale token from a webmail page is no attack: it does not count against the
		 * account. */
		verdict_fail(v, REASON_INVALID, "session token");
		v->wrong_secret = true;
		return;
	}
	if (req->now - ss.last_used >=
	    (int64_t)session_touch_window(req->config->session_touch, req->config->session_idle)) {
		if (request_defer_write(req))
			return;
		ss.last_used = req->now;
		if (store_begin(w->daemon->store, true, &v->txn) != STORE_OK ||
		    session_put(v->txn, &ss) != STORE_OK) {
			verdict_error(v);
			return;
		}
	}
	verdict_ok(v, req, at->a.identifiant, "session_token", NULL);
	v->detail = "session token";
}

void auth_token(struct worker *w, struct request *req, struct attempt *at)
{
	struct verdict v;

	verdict_init(&v, "auth");
	token_verify(w, req, at, &v);
	if (!req->deferred)
		verdict_answer(w, req, at, &v);
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
	struct verdict v;
	bool bad = false;

	at.login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad);
	at.service = field_service(req, &bad);
	if (bad)
		return;
	at.norm_ok = ident_login(at.login, at.norm, sizeof(at.norm), &at.is_email) == 0;
	verdict_init(&v, "acct");
	if (attempt_read(w, req, &at) != STORE_OK)
		verdict_error(&v);
	else if (!at.found)
		verdict_fail(&v, REASON_INVALID, NULL);
	else if (at.a.state != ACCOUNT_ACTIVE)
		verdict_fail(&v, REASON_DISABLED, NULL);
	else if (at.a.locked_since != 0)
		verdict_fail(&v, REASON_LOCKED, NULL);
	else if (at.a.password_temporary)
		verdict_fail(&v, REASON_PASSWORD_CHANGE_REQUIRED, NULL);
	else
		verdict_ok(&v, req, at.a.identifiant, NULL, NULL);
	verdict_answer(w, req, &at, &v);
	account_wipe(&at.a);
}
