/*
 * Corrections by an admin: USER_SET changes a person's display data (names,
 * rescue address, mobile, établissement; never the identifiant silently),
 * USER_RENAME gives a new identifiant and email from the current names while
 * the former ones keep logging in as aliases, USER_UNALIAS removes one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "secret.h"
#include "store.h"

struct set_ctx {
	const char *first, *last, *rescue, *mobile, *etab;
	char detail[FIELD_TEXT_MAX];
};

static enum proto_reason edit_set(struct request *req, struct account *a, struct proto_writer *ok,
                                  void *ctx, const char **detail)
{
	struct set_ctx *sc = ctx;
	size_t n = 0;

	(void)req;
	if (a->state == ACCOUNT_DELETED)
		return *detail = "deleted: restore it first", REASON_WRONG_STATE;
#define SET(field, value, name)                                                                    \
	do {                                                                                       \
		if ((value) != NULL) {                                                             \
			snprintf(a->field, sizeof(a->field), "%s", (value));                       \
			n += (size_t)snprintf(sc->detail + n, sizeof(sc->detail) - n, "%s%s",      \
			                      n > 0 ? "," : "", name);                             \
		}                                                                                  \
	} while (0)
	SET(first, sc->first, "first");
	SET(last, sc->last, "last");
	SET(rescue_email, sc->rescue, "rescue_email");
	SET(mobile, sc->mobile, "mobile");
	SET(etablissement, sc->etab, "etablissement");
#undef SET
	proto_add(ok, "changed", sc->detail);
	*detail = sc->detail; /* which fields, never their values */
	return REASON_NONE;
}

void admin_user_set(struct worker *w, struct request *req)
{
	struct set_ctx sc = {0};
	const char *why = NULL;
	bool bad = false;

	sc.first = field_get(req, "first", NAME_MAX_BYTES, false, &bad);
	sc.last = field_get(req, "last", NAME_MAX_BYTES, false, &bad);
	sc.rescue = field_get(req, "rescue_email", EMAIL_MAX, false, &bad);
	sc.mobile = field_get(req, "mobile", 20, false, &bad);
	sc.etab = field_get(req, "etablissement", UAI_MAX, false, &bad);
	if (bad)
		return;
	if (!sc.first && !sc.last && !sc.rescue && !sc.mobile && !sc.etab)
		why = "nothing to change: first, last, rescue_email, mobile or etablissement";
	else if (sc.first != NULL && !ident_name_valid(sc.first))
		why = "first: a name in Latin letters";
	else if (sc.last != NULL && !ident_name_valid(sc.last))
		why = "last: a name in Latin letters";
	else if (sc.rescue != NULL && !ident_email_valid(sc.rescue))
		why = "rescue_email: not an email address";
	else if (sc.mobile != NULL && !ident_mobile_valid(sc.mobile))
		why = "mobile: digits, spaces and an optional leading +";
	else if (sc.etab != NULL && !ident_uai_valid(sc.etab))
		why = "etablissement: a UAI, capital letters and digits (0750001A)";
	if (why != NULL) {
		admin_audit_now(w, req, "user.set", NULL, REASON_BAD_REQUEST, why);
		reply_fail(req, REASON_BAD_REQUEST, why);
		return;
	}
	admin_edit(w, req, "user.set", edit_set, &sc);
}

/* Adds alias to a's list; the oldest goes when the list is full (its index entry too). */
static int alias_remember(struct store_txn *txn, struct account *a, const char *alias)
{
	int r;

	if (a->naliases == ACCOUNT_ALIASES_MAX) {
		if ((r = account_alias_del(txn, a->aliases[0], a->identifiant)) != STORE_OK)
			return r;
		memmove(a->aliases[0], a->aliases[1],
		        sizeof(a->aliases[0]) * (ACCOUNT_ALIASES_MAX - 1));
		a->naliases--;
	}
	snprintf(a->aliases[a->naliases++], sizeof(a->aliases[0]), "%s", alias);
	return STORE_OK;
}

/* The OTP secrets are sealed with the identifiant as associated data: sealed again under the new
 * one. */
static int reseal(const struct crypto_keys *keys, const char *old, const char *new,
                  struct account_otp *otp)
{
	uint8_t plain[OTP_SECRET_MAX];
	size_t len = 0;
	char *sealed = NULL;
	int r = -1;

	if (otp->sealed[0] == '\0')
		return 0;
	if (crypto_open(keys, old, otp->sealed, plain, sizeof(plain), &len) < 0)
		return -1;
	if (crypto_seal(keys, new, plain, len, &sealed) == 0 &&
	    strlen(sealed) < sizeof(otp->sealed)) {
		snprintf(otp->sealed, sizeof(otp->sealed), "%s", sealed);
		r = 0;
	}
	secret_wipe(plain, sizeof(plain));
	if (sealed != NULL)
		secret_free(sealed);
	return r;
}

/* a renamed to ident/email inside txn: the old record and indexes go, the aliases point to the new.
 */
static int rename_apply(struct worker *w, struct store_txn *txn, struct account *a,
                        const char *ident, const char *email)
{
	char old_ident[IDENT_MAX + 1], old_email[EMAIL_MAX + 1];
	int r;

	snprintf(old_ident, sizeof(old_ident), "%s", a->identifiant);
	snprintf(old_email, sizeof(old_email), "%s", a->email);
	if (reseal(&w->daemon->keys, old_ident, ident, &a->otp) < 0 ||
	    reseal(&w->daemon->keys, old_ident, ident, &a->otp_next) < 0)
		return STORE_ERROR;
	if ((r = account_remove(txn, a)) != STORE_OK)
		return r;
	snprintf(a->identifiant, sizeof(a->identifiant), "%s", ident);
	snprintf(a->email, sizeof(a->email), "%s", email);
	/* Sessions name the former identifiant: they end; app passwords stay with the record. */
	a->session_gen++;
	if ((r = alias_remember(txn, a, old_ident)) != STORE_OK)
		return r;
	if (strcmp(old_email, email) != 0 && (r = alias_remember(txn, a, old_email)) != STORE_OK)
		return r;
	if ((r = account_put(txn, a)) != STORE_OK)
		return r;
	for (unsigned i = 0; i < a->naliases; i++)
		if ((r = account_alias_add(txn, a->aliases[i], a->identifiant)) != STORE_OK)
			return r;
	return STORE_OK;
}

/* The new identifiant and email from the current names; REASON_WRONG_STATE when they already follow
 * them. */
static enum proto_reason rename_pick(struct request *req, struct store_txn *txn,
                                     const struct account *a, char *ident, char *email)
{
	char base[IDENT_MAX + 1], local[EMAIL_MAX + 1];
	size_t n;

	if (ident_base(a->first, a->last, base, sizeof(base)) < 0 ||
	    ident_email_local(a->first, a->last, local, sizeof(local)) < 0)
		return REASON_BAD_REQUEST;
	n = strlen(base);
	/* jdupont or jdupont2 already is what these names give. */
	if (strncmp(a->identifiant, base, n) == 0 &&
	    strspn(a->identifiant + n, "0123456789") == strlen(a->identifiant + n))
		return REASON_WRONG_STATE;
	if (admin_pick_identifiant(txn, a->first, a->last, ident, IDENT_MAX + 1) < 0)
		return REASON_TEMPFAIL;
	n = strlen(local);
	if (strncmp(a->email, local, n) == 0 && strchr("0123456789@", a->email[n]) != NULL)
		snprintf(email, EMAIL_MAX + 1, "%s", a->email);
	else if (admin_pick_email(txn, req->config, a->first, a->last, email, EMAIL_MAX + 1) < 0)
		return REASON_TEMPFAIL;
	return REASON_NONE;
}

static void rename_reply(struct request *req, const struct account *a, const char *old)
{
	struct proto_writer ok;

	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", a->identifiant);
	proto_add(&ok, "email", a->email);
	proto_add(&ok, "former", old);
	reply_line(req, &ok);
}

/* Reads login= in a write transaction: 0 with the account, or -1 having answered. */
static int locate(struct worker *w, struct request *req, const char *action,
                  struct store_txn **txn_r, struct account *a)
{
	char norm[FIELD_LOGIN_MAX + 1];
	const char *login;
	bool bad = false, is_email;
	int r;

	*txn_r = NULL;
	if ((login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad)) == NULL)
		return -1;
	if (store_begin(w->daemon->store, true, txn_r) != STORE_OK) {
		reply_tempfail(req);
		return -1;
	}
	r = ident_login(login, norm, sizeof(norm), &is_email) < 0
	        ? STORE_NOTFOUND
	        : account_get(*txn_r, norm, is_email, a);
	if (r == STORE_OK)
		return 0;
	if (r == STORE_NOTFOUND) {
		admin_audit(*txn_r, req, action, NULL, "refused", REASON_NOT_FOUND, NULL);
		store_commit(*txn_r);
		reply_fail(req, REASON_NOT_FOUND, NULL);
	} else {
		store_abort(*txn_r);
		reply_tempfail(req);
	}
	*txn_r = NULL;
	return -1;
}

static void refuse(struct store_txn *txn, struct request *req, const char *action,
                   const char *ident, enum proto_reason reason, const char *why)
{
	admin_audit(txn, req, action, ident, "refused", reason, why);
	if (store_commit(txn) != STORE_OK)
		log_warn("audit of a refused %s not written", action);
	reply_fail(req, reason, why);
}

void admin_user_rename(struct worker *w, struct request *req)
{
	char ident[IDENT_MAX + 1], email[EMAIL_MAX + 1], old[IDENT_MAX + 1], detail[256];
	struct store_txn *txn;
	struct account a;
	enum proto_reason reason;
	int r;

	if (locate(w, req, "user.rename", &txn, &a) < 0)
		return;
	snprintf(old, sizeof(old), "%s", a.identifiant);
	reason = rename_pick(req, txn, &a, ident, email);
	if (reason == REASON_TEMPFAIL)
		goto tempfail;
	if (reason == REASON_NONE && a.state == ACCOUNT_DELETED)
		reason = REASON_WRONG_STATE;
	if (reason != REASON_NONE) {
		refuse(txn, req, "user.rename", a.identifiant, reason,
		       a.state == ACCOUNT_DELETED ? "deleted: restore it first"
		                                  : "the identifiant already follows the names: "
		                                    "change them first with user set");
		account_wipe(&a);
		return;
	}
	snprintf(detail, sizeof(detail), "%s -> %s (former identifiant and email kept as aliases)",
	         old, ident);
	if (rename_apply(w, txn, &a, ident, email) != STORE_OK ||
	    admin_audit(txn, req, "user.rename", a.identifiant, "ok", REASON_NONE, detail) !=
	        STORE_OK)
		goto tempfail;
	r = store_commit(txn);
	txn = NULL;
	if (r != STORE_OK)
		goto tempfail;
	rename_reply(req, &a, old);
	account_wipe(&a);
	return;
tempfail:
	store_abort(txn);
	account_wipe(&a);
	reply_tempfail(req);
}

void admin_user_unalias(struct worker *w, struct request *req)
{
	char alias[FIELD_LOGIN_MAX + 1];
	const char *given;
	struct store_txn *txn;
	struct proto_writer ok;
	struct account a;
	bool bad = false, is_email;
	unsigned i;

	if ((given = field_get(req, "alias", FIELD_LOGIN_MAX, true, &bad)) == NULL)
		return;
	if (ident_login(given, alias, sizeof(alias), &is_email) < 0) {
		reply_fail(req, REASON_BAD_REQUEST, "alias: a former identifiant or email");
		return;
	}
	if (locate(w, req, "user.unalias", &txn, &a) < 0)
		return;
	for (i = 0; i < a.naliases && strcmp(a.aliases[i], alias) != 0; i++)
		;
	if (i == a.naliases) {
		refuse(txn, req, "user.unalias", a.identifiant, REASON_NOT_FOUND,
		       "alias: not one of this account's (user show lists them)");
		account_wipe(&a);
		return;
	}
	memmove(a.aliases[i], a.aliases[i + 1], sizeof(a.aliases[0]) * (a.naliases - i - 1));
	a.naliases--;
	if (account_alias_del(txn, alias, a.identifiant) != STORE_OK ||
	    account_put(txn, &a) != STORE_OK ||
	    admin_audit(txn, req, "user.unalias", a.identifiant, "ok", REASON_NONE, alias) !=
	        STORE_OK) {
		store_abort(txn);
		txn = NULL;
	}
	if (txn == NULL || store_commit(txn) != STORE_OK) {
		account_wipe(&a);
		reply_tempfail(req);
		return;
	}
	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", a.identifiant);
	proto_add(&ok, "removed", alias);
	reply_line(req, &ok);
	account_wipe(&a);
}
