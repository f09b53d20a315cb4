/*
 * USER_ADD: validate, derive the identifiant and email (numbered on
 * collision), set a temporary password, and, for imports, find the person
 * already there by NUMEN so that the same file run twice creates nobody twice.
 */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "hash_cost.h"
#include "password.h"
#include "secret.h"
#include "store.h"

#define NUMBERED_MAX 9999

struct add {
	const char *first, *last, *birth, *rescue, *mobile, *ident, *etab;
	const char *imported; /* a crypt(3) hash from the directory being migrated */
	bool import;
	bool dry_run; /* validate and tell what would happen; nothing written */
	char numen[NUMEN_LEN + 1];
	char numen_hmac[2 * CRYPTO_HMAC_LEN + 1];
	char temp[PASSWORD_TEMP_LEN + 1];
	char hash[PASSWORD_HASH_MAX];
};

/* The forms password_verify knows, re-hashed to Argon2id at the next successful login. */
static bool crypt_form(const char *h)
{
	static const char *const prefixes[] = {"$6$", "$y$", "$2b$"};

	if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$./=") !=
	    strlen(h))
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(h, prefixes[i], strlen(prefixes[i])) == 0 && strlen(h) > 20)
			return true;
	return false;
}

static bool add_fields(struct request *req, struct add *ad)
{
	bool bad = false;
	const char *numen, *imp, *dry, *why = NULL;
	char cost[160];

	ad->first = field_get(req, "first", NAME_MAX_BYTES, true, &bad);
	ad->last = field_get(req, "last", NAME_MAX_BYTES, true, &bad);
	ad->birth = field_get(req, "birth", 10, true, &bad);
	numen = field_get(req, "numen", NUMEN_LEN, true, &bad);
	ad->rescue = field_get(req, "rescue_email", EMAIL_MAX, true, &bad);
	ad->mobile = field_get(req, "mobile", 20, false, &bad);
	ad->ident = field_get(req, "identifiant", IDENT_MAX, false, &bad);
	ad->etab = field_get(req, "etablissement", UAI_MAX, false, &bad);
	imp = field_get(req, "import", 1, false, &bad);
	dry = field_get(req, "dry_run", 1, false, &bad);
	ad->imported = field_get(req, "password_hash", PASSWORD_HASH_MAX - 1, false, &bad);
	if (bad)
		return false;
	ad->import = imp != NULL && strcmp(imp, "1") == 0;
	ad->dry_run = dry != NULL && strcmp(dry, "1") == 0;
	if (!ident_name_valid(ad->first))
		why = "first: a name in Latin letters";
	else if (!ident_name_valid(ad->last))
		why = "last: a name in Latin letters";
	else if (!ident_date_valid(ad->birth))
		why = "birth: a date as YYYY-MM-DD";
	else if (ident_numen_canonical(numen, ad->numen) < 0)
		why = "numen: 13 letters or digits";
	else if (!ident_email_valid(ad->rescue))
		why = "rescue_email: not an email address";
	else if (ad->mobile != NULL && !ident_mobile_valid(ad->mobile))
		why = "mobile: digits, spaces and an optional leading +";
	else if (ad->etab != NULL && !ident_uai_valid(ad->etab))
		why = "etablissement: a UAI, capital letters and digits (0750001A)";
	else if (ad->ident != NULL && !ident_valid(ad->ident))
		why = "identifiant: lowercase letters and digits, starting with a letter";
	else if (ad->imported != NULL && !crypt_form(ad->imported))
		why = "password_hash: a crypt(3) hash in $6$, $y$ or $2b$ form";
	else if (ad->imported != NULL &&
	         hash_cost_check(ad->imported, &req->config->hash_limits, cost, sizeof(cost)) < 0)
		why = cost;
	if (why != NULL) {
		reply_fail(req, REASON_BAD_REQUEST, why);
		return false;
	}
	return true;
}

int admin_pick_identifiant(struct store_txn *txn, const char *first, const char *last, char *out,
                           size_t cap)
{
	char base[IDENT_MAX + 1];
	bool taken = true;

	if (ident_base(first, last, base, sizeof(base)) < 0)
		return -1;
	for (unsigned n = 1; taken && n <= NUMBERED_MAX; n++)
		if (ident_numbered(base, n, out, cap) < 0 ||
		    account_ident_taken(txn, out, &taken) != STORE_OK)
			return -1;
	return taken ? -1 : 0;
}

int admin_pick_email(struct store_txn *txn, const struct config *cfg, const char *first,
                     const char *last, char *out, size_t cap)
{
	char local[EMAIL_MAX + 1], numbered[EMAIL_MAX + 1];
	bool taken = true;

	if (ident_email_local(first, last, local, sizeof(local)) < 0)
		return -1;
	for (unsigned n = 1; taken && n <= NUMBERED_MAX; n++) {
		if (ident_numbered(local, n, numbered, sizeof(numbered)) < 0 ||
		    (size_t)snprintf(out, cap, "%s@%s", numbered, cfg->mail_domain) >= cap ||
		    account_email_taken(txn, out, &taken) != STORE_OK)
			return -1;
	}
	return taken ? -1 : 0;
}

static void fill(struct account *a, const struct request *req, const struct add *ad)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->first, sizeof(a->first), "%s", ad->first);
	snprintf(a->last, sizeof(a->last), "%s", ad->last);
	snprintf(a->birth, sizeof(a->birth), "%s", ad->birth);
	snprintf(a->rescue_email, sizeof(a->rescue_email), "%s", ad->rescue);
	snprintf(a->mobile, sizeof(a->mobile), "%s", ad->mobile != NULL ? ad->mobile : "");
	snprintf(a->etablissement, sizeof(a->etablissement), "%s",
	         ad->etab != NULL ? ad->etab : "");
	memcpy(a->numen_hmac, ad->numen_hmac, sizeof(a->numen_hmac));
	memcpy(a->password_hash, ad->hash, sizeof(ad->hash));
	a->state = ACCOUNT_ACTIVE;
	a->created = a->state_changed = req->now;
	if (ad->imported != NULL) {
		/* The person keeps the password of the old directory. */
		snprintf(a->password_hash, sizeof(a->password_hash), "%s", ad->imported);
	} else {
		a->password_temporary = true;
		a->temporary_expires = req->now + config_temporary_lifetime(req->config);
	}
	a->otp.last_step = a->otp_next.last_step = -1;
}

/* Whether the account found by NUMEN is the person of this row: same birth date, and a name in
 * common. */
static bool same_person(const struct add *ad, const struct account *found)
{
	char x[IDENT_MAX + 1], y[IDENT_MAX + 1];
	bool first, last;

	if (strcmp(ad->birth, found->birth) != 0)
		return false;
	first = ident_fold(ad->first, false, x, sizeof(x)) == 0 &&
	        ident_fold(found->first, false, y, sizeof(y)) == 0 && strcmp(x, y) == 0;
	last = ident_fold(ad->last, false, x, sizeof(x)) == 0 &&
	       ident_fold(found->last, false, y, sizeof(y)) == 0 && strcmp(x, y) == 0;
	return first || last;
}

/*
 * An account with this NUMEN (or, for an import, this identifiant) already
 * there. A refusal says in why_r which account holds what: admins may see
 * it, and it is never the identifiant of another person than the holder.
 */
static enum proto_reason add_existing(struct store_txn *txn, const struct add *ad,
                                      struct account *found, bool *exists, char *why_r,
                                      size_t whylen)
{
	char ident[IDENT_MAX + 1];
	int r;

	*exists = false;
	if ((r = account_by_numen(txn, ad->numen_hmac, ident)) < 0)
		return REASON_TEMPFAIL;
	if (r == STORE_NOTFOUND && ad->ident == NULL)
		return REASON_NONE;
	if (r == STORE_NOTFOUND) {
		if ((r = account_get(txn, ad->ident, false, found)) < 0)
			return REASON_TEMPFAIL;
		if (r == STORE_NOTFOUND)
			return REASON_NONE;
		/* The identifiant is someone else's: a NUMEN match would have been found above. */
		snprintf(why_r, whylen, "identifiant: %s is already taken by another account",
		         ad->ident);
		return REASON_EXISTS;
	}
	if (account_get(txn, ident, false, found) != STORE_OK)
		return REASON_TEMPFAIL;
	if (!ad->import || !same_person(ad, found) ||
	    (ad->ident != NULL && strcmp(ad->ident, ident) != 0)) {
		/* Names are cut to fit: the identifiant, first, is what matters. */
		if (snprintf(why_r, whylen, "numen: already held by %s (%.60s %.60s)", ident,
		             found->first, found->last) < 0)
			why_r[0] = '\0';
		return REASON_EXISTS;
	}
	*exists = true;
	return REASON_NONE;
}

static void reply_added(struct request *req, const struct account *a, const char *temp,
                        const char *status)
{
	struct proto_writer ok;

	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", a->identifiant);
	proto_add(&ok, "email", a->email);
	if (temp != NULL) {
		if (*temp != '\0')
			proto_add(&ok, "temporary_password", temp);
		else
			proto_add(&ok, "temporary_password_kind", "numen");
		proto_addf(&ok, "temporary_expires", "%lld", (long long)a->temporary_expires);
	}
	proto_add(&ok, "status", status);
	reply_line(req, &ok);
}

/* A dry run: what the row would give, in a read transaction; nothing written nor audited. */
static void add_dry_run(struct request *req, struct store_txn *txn, struct add *ad,
                        const struct account *found, bool exists)
{
	struct account a;

	if (exists) {
		reply_added(req, found, NULL, "exists");
		return;
	}
	fill(&a, req, ad);
	if (ad->ident != NULL)
		snprintf(a.identifiant, sizeof(a.identifiant), "%s", ad->ident);
	if ((ad->ident == NULL && admin_pick_identifiant(txn, ad->first, ad->last, a.identifiant,
	                                                 sizeof(a.identifiant)) < 0) ||
	    admin_pick_email(txn, req->config, ad->first, ad->last, a.email, sizeof(a.email)) < 0)
		reply_tempfail(req);
	else
		reply_added(req, &a, NULL, "would_create");
	account_wipe(&a);
}

static void add_commit(struct worker *w, struct request *req, struct add *ad)
{
	struct store_txn *txn = NULL;
	struct account a, found = {0};
	enum proto_reason reason;
	char why[FIELD_TEXT_MAX] = "";
	bool exists;
	int r;

	if (store_begin(w->daemon->store, !ad->dry_run, &txn) != STORE_OK)
		goto tempfail;
	reason = add_existing(txn, ad, &found, &exists, why, sizeof(why));
	if (reason == REASON_TEMPFAIL)
		goto tempfail;
	if (ad->dry_run && reason != REASON_NONE) {
		reply_fail(req, reason, why);
	} else if (ad->dry_run) {
		add_dry_run(req, txn, ad, &found, exists);
	}
	if (ad->dry_run) {
		store_abort(txn);
		goto out;
	}
	if (reason != REASON_NONE || exists) {
		admin_audit(txn, req, "user.add",
		            found.identifiant[0] != 0 ? found.identifiant : NULL,
		            exists ? "ok" : "refused", reason, exists ? "already there" : why);
		if (store_commit(txn) != STORE_OK && exists)
			goto tempfail;
		txn = NULL;
		if (exists)
			reply_added(req, &found, NULL, "exists");
		else
			reply_fail(req, REASON_EXISTS, why);
		goto out;
	}
	fill(&a, req, ad);
	if (ad->ident != NULL)
		snprintf(a.identifiant, sizeof(a.identifiant), "%s", ad->ident);
	else if (admin_pick_identifiant(txn, ad->first, ad->last, a.identifiant,
	                                sizeof(a.identifiant)) < 0)
		goto tempfail;
	if (admin_pick_email(txn, req->config, ad->first, ad->last, a.email, sizeof(a.email)) < 0 ||
	    account_put(txn, &a) != STORE_OK ||
	    admin_audit(txn, req, "user.add", a.identifiant, "ok", REASON_NONE, NULL) != STORE_OK)
		goto tempfail;
	r = store_commit(txn);
	txn = NULL;
	if (r != STORE_OK)
		goto tempfail;
	reply_added(req, &a, ad->imported != NULL ? NULL : ad->temp, "created");
	account_wipe(&a);
	goto out;
tempfail:
	store_abort(txn);
	reply_tempfail(req);
out:
	account_wipe(&found);
}

void admin_user_add(struct worker *w, struct request *req)
{
	struct add ad = {0};

	if (!add_fields(req, &ad))
		return;
	crypto_hmac_hex(&w->daemon->keys, "numen", ad.numen, NUMEN_LEN, ad.numen_hmac);
	if (ad.imported != NULL || ad.dry_run) {
		/* No temporary password: the imported hash stands. */
	} else if (req->config->temporary_password == TEMP_PASSWORD_NUMEN) {
		/* Others may know a NUMEN: it gets the slow hash, and is never echoed back. */
		if (password_hash(w->hasher, &w->daemon->keys, ad.numen, NUMEN_LEN, ad.hash) < 0)
			goto tempfail;
	} else {
		if (password_generate_temp(ad.temp) < 0)
			goto tempfail;
		password_hmac_hash(&w->daemon->keys, ad.temp, PASSWORD_TEMP_LEN, ad.hash);
	}
	add_commit(w, req, &ad);
	goto out;
tempfail:
	reply_tempfail(req);
out:
	secret_wipe(&ad, sizeof(ad));
}
