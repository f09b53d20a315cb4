/* The account lifecycle on the admin socket: reset, unlock, suspend, resume, delete, restore. */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "attempt.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "password.h"
#include "secret.h"
#include "store.h"
#include "throttle.h"

#define DAY 86400

struct reset_ctx {
	char temp[PASSWORD_TEMP_LEN + 1];
	char hash[PASSWORD_HASH_MAX];
	const char *numen_hmac; /* a NUMEN given: it must be the account's */
	bool numen_mode;        /* the NUMEN is the temporary password */
};

static enum proto_reason edit_reset(struct request *req, struct account *a, struct proto_writer *ok,
                                    void *ctx, const char **detail)
{
	struct reset_ctx *rc = ctx;

	if (a->state == ACCOUNT_DELETED)
		return *detail = "deleted: restore it first", REASON_WRONG_STATE;
	if (rc->numen_hmac != NULL &&
	    !secret_equal(rc->numen_hmac, a->numen_hmac, 2 * CRYPTO_HMAC_LEN))
		return *detail = "the NUMEN given is not this account's", REASON_BAD_REQUEST;
	memcpy(a->password_hash, rc->hash, sizeof(rc->hash));
	a->password_temporary = true;
	a->session_gen++;
	a->temporary_expires = req->now + config_temporary_lifetime(req->config);
	/* A new password deserves a fresh count: the reset is the helpdesk's answer to a lock. */
	a->code_failures = 0;
	if (!rc->numen_mode)
		proto_add(ok, "temporary_password", rc->temp);
	else
		proto_add(ok, "temporary_password_kind", "numen");
	proto_addf(ok, "temporary_expires", "%lld", (long long)a->temporary_expires);
	*detail = "temporary password set";
	return REASON_NONE;
}

void admin_user_reset(struct worker *w, struct request *req)
{
	struct reset_ctx rc = {0};
	char numen[NUMEN_LEN + 1], hmac[2 * CRYPTO_HMAC_LEN + 1];
	bool numen_mode = req->config->temporary_password == TEMP_PASSWORD_NUMEN;
	const char *given;
	bool bad = false;

	/* Given, the NUMEN must be the account's, whatever the kind of temporary password. */
	given = field_get(req, "numen", NUMEN_LEN, numen_mode, &bad);
	if (bad)
		return;
	if (given != NULL) {
		if (ident_numen_canonical(given, numen) < 0) {
			reply_fail(req, REASON_BAD_REQUEST, "numen: 13 letters or digits");
			return;
		}
		crypto_hmac_hex(&w->daemon->keys, "numen", numen, NUMEN_LEN, hmac);
		rc.numen_hmac = hmac;
	}
	rc.numen_mode = numen_mode;
	if (numen_mode) {
		if (password_hash(w->hasher, &w->daemon->keys, numen, NUMEN_LEN, rc.hash) < 0)
			goto tempfail;
	} else {
		/* 80 random bits: a keyed fast hash is enough (SPEC "password storage"). */
		if (password_generate_temp(rc.temp) < 0)
			goto tempfail;
		password_hmac_hash(&w->daemon->keys, rc.temp, PASSWORD_TEMP_LEN, rc.hash);
	}
	admin_edit(w, req, "user.reset", edit_reset, &rc);
	goto out;
tempfail:
	reply_tempfail(req);
out:
	secret_wipe(&rc, sizeof(rc));
	secret_wipe(numen, sizeof(numen));
}

static enum proto_reason edit_unlock(struct request *req, struct account *a,
                                     struct proto_writer *ok, void *ctx, const char **detail)
{
	(void)req, (void)ok, (void)ctx;
	*detail = a->locked_since != 0 ? "lock lifted, failures cleared" : "failures cleared";
	a->code_failures = 0;
	a->locked_since = 0;
	a->last_bad[0] = '\0';
	return REASON_NONE;
}

/* The password throttle of the account's logins is cleared too, before the edit and outside its
 * transaction: with a shared store the counters live in it (throttle_store.c). */
static void unlock_throttle(struct worker *w, struct request *req)
{
	const char *login = proto_get(&req->msg, "login");
	char norm[FIELD_LOGIN_MAX + 1];
	struct store_txn *txn;
	struct account a;
	bool is_email;
	int r;

	if (login == NULL || ident_login(login, norm, sizeof(norm), &is_email) < 0 ||
	    store_begin(w->daemon->store, false, &txn) != STORE_OK)
		return;
	r = account_get(txn, norm, is_email, &a);
	store_abort(txn);
	if (r != STORE_OK)
		return;
	const char *logins[] = {a.identifiant, a.email};
	for (size_t i = 0; i < 2; i++)
		if (logins[i][0] != '\0') {
			struct throttle_key key;

			attempt_throttle_key(&w->daemon->keys, logins[i], &key);
			throttle_clear(w->daemon->throttle, &key);
		}
	account_wipe(&a);
}

void admin_user_unlock(struct worker *w, struct request *req)
{
	unlock_throttle(w, req);
	admin_edit(w, req, "user.unlock", edit_unlock, NULL);
}

static enum proto_reason edit_suspend(struct request *req, struct account *a,
                                      struct proto_writer *ok, void *ctx, const char **detail)
{
	const char *reason = ctx;

	(void)ok;
	if (a->state != ACCOUNT_ACTIVE)
		return *detail = "not active", REASON_WRONG_STATE;
	a->state = ACCOUNT_SUSPENDED;
	a->state_changed = req->now;
	a->session_gen++;
	snprintf(a->state_reason, sizeof(a->state_reason), "%s", reason != NULL ? reason : "");
	*detail = reason;
	return REASON_NONE;
}

void admin_user_suspend(struct worker *w, struct request *req)
{
	bool bad = false;
	const char *reason = field_get(req, "reason", FIELD_TEXT_MAX, false, &bad);

	if (!bad)
		admin_edit(w, req, "user.suspend", edit_suspend, (void *)reason);
}

static enum proto_reason edit_resume(struct request *req, struct account *a,
                                     struct proto_writer *ok, void *ctx, const char **detail)
{
	(void)ok, (void)ctx;
	if (a->state != ACCOUNT_SUSPENDED)
		return *detail = "not suspended", REASON_WRONG_STATE;
	a->state = ACCOUNT_ACTIVE;
	a->state_changed = req->now;
	a->state_reason[0] = '\0';
	return REASON_NONE;
}

void admin_user_resume(struct worker *w, struct request *req)
{
	admin_edit(w, req, "user.resume", edit_resume, NULL);
}

static enum proto_reason edit_delete(struct request *req, struct account *a,
                                     struct proto_writer *ok, void *ctx, const char **detail)
{
	(void)ctx, (void)detail;
	if (a->state == ACCOUNT_DELETED)
		return REASON_WRONG_STATE;
	a->state = ACCOUNT_DELETED;
	a->state_changed = req->now;
	a->session_gen++;
	proto_addf(ok, "purge_after", "%lld",
	           (long long)(req->now + (int64_t)req->config->delete_grace_days * DAY));
	return REASON_NONE;
}

void admin_user_delete(struct worker *w, struct request *req)
{
	admin_edit(w, req, "user.delete", edit_delete, NULL);
}

static enum proto_reason edit_restore(struct request *req, struct account *a,
                                      struct proto_writer *ok, void *ctx, const char **detail)
{
	(void)ok, (void)ctx;
	if (a->state != ACCOUNT_DELETED)
		return *detail = "not deleted", REASON_WRONG_STATE;
	a->state = ACCOUNT_ACTIVE;
	a->state_changed = req->now;
	a->state_reason[0] = '\0';
	return REASON_NONE;
}

void admin_user_restore(struct worker *w, struct request *req)
{
	admin_edit(w, req, "user.restore", edit_restore, NULL);
}
