/*
 * USER_ADD: validate, derive the identifiant and email (numbered on
 * collision), set a temporary password, and, for imports, find the person
 * already there by NUMEN so that the same file run twice creates nobody twice.
 * Import rows queued one behind the other share one write transaction (a
 * group commit); a row that finds its person already there writes nothing.
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

static void reply_added(struct request *req, const char *ident, const char *email, const char *temp,
                        int64_t expires, const char *status)
{
	struct proto_writer ok;

	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", ident);
	proto_add(&ok, "email", email);
	if (temp != NULL) {
		if (*temp != '\0')
			proto_add(&ok, "temporary_password", temp);
		else
			proto_add(&ok, "temporary_password_kind", "numen");
		proto_addf(&ok, "temporary_expires", "%lld", (long long)expires);
	}
	proto_add(&ok, "status", status);
	reply_line(req, &ok);
}

/* A dry run: what the row would give, in a read transaction; nothing written nor audited. */
static void add_dry_run(struct worker *w, struct request *req, struct add *ad)
{
	struct store_txn *txn = NULL;
	struct account a, found = {0};
	enum proto_reason reason;
	char why[FIELD_TEXT_MAX] = "";
	bool exists;

	if (store_begin(w->daemon->store, false, &txn) != STORE_OK ||
	    (reason = add_existing(txn, ad, &found, &exists, why, sizeof(why))) ==
	        REASON_TEMPFAIL) {
		store_abort(txn);
		reply_tempfail(req);
		account_wipe(&found);
		return;
	}
	if (reason != REASON_NONE) {
		reply_fail(req, reason, why);
	} else if (exists) {
		reply_added(req, found.identifiant, found.email, NULL, 0, "exists");
	} else {
		fill(&a, req, ad);
		if (ad->ident != NULL)
			snprintf(a.identifiant, sizeof(a.identifiant), "%s", ad->ident);
		if ((ad->ident == NULL &&
		     admin_pick_identifiant(txn, ad->first, ad->last, a.identifiant,
		                            sizeof(a.identifiant)) < 0) ||
		    admin_pick_email(txn, req->config, ad->first, ad->last, a.email,
		                     sizeof(a.email)) < 0)
			reply_tempfail(req);
		else
			reply_added(req, a.identifiant, a.email, NULL, 0, "would_create");
		account_wipe(&a);
	}
	store_abort(txn);
	account_wipe(&found);
}

/*
 * One row of a group (one USER_ADD): what it asks, and what became of it in
 * the group's transaction, answered only once that transaction has committed.
 */
enum add_outcome {
	ADD_ANSWERED, /* a bad request or a dry run: answered already, outside the transaction */
	ADD_CREATED,
	ADD_EXISTS,  /* the same person is there: nothing written, nothing audited */
	ADD_REFUSED, /* the refusal is audited in the transaction */
};

struct add_row {
	struct request *req;
	struct add ad;
	enum add_outcome outcome;
	enum proto_reason reason;
	char why[FIELD_TEXT_MAX];
	char ident[IDENT_MAX + 1];
	char email[EMAIL_MAX + 1];
	int64_t expires;
};

/* The row's outcome, decided in txn with the rows before it; STORE_OK or the store's error. */
static int add_apply(struct store_txn *txn, struct add_row *row)
{
	struct request *req = row->req;
	struct add *ad = &row->ad;
	struct account a, found = {0};
	bool exists;
	int r = STORE_ERROR;

	row->reason = add_existing(txn, ad, &found, &exists, row->why, sizeof(row->why));
	if (row->reason == REASON_TEMPFAIL)
		goto out;
	if (row->reason != REASON_NONE || exists) {
		row->outcome = exists ? ADD_EXISTS : ADD_REFUSED;
		snprintf(row->ident, sizeof(row->ident), "%s", found.identifiant);
		snprintf(row->email, sizeof(row->email), "%s", found.email);
		r = exists ? STORE_OK
		           : admin_audit(txn, req, "user.add",
		                         found.identifiant[0] != '\0' ? found.identifiant : NULL,
		                         "refused", row->reason, row->why);
		goto out;
	}
	fill(&a, req, ad);
	if (ad->ident != NULL)
		snprintf(a.identifiant, sizeof(a.identifiant), "%s", ad->ident);
	else if (admin_pick_identifiant(txn, ad->first, ad->last, a.identifiant,
	                                sizeof(a.identifiant)) < 0)
		goto wipe;
	if (admin_pick_email(txn, req->config, ad->first, ad->last, a.email, sizeof(a.email)) < 0 ||
	    (r = account_put(txn, &a)) != STORE_OK ||
	    (r = admin_audit(txn, req, "user.add", a.identifiant, "ok", REASON_NONE, NULL)) !=
	        STORE_OK) {
		r = r == STORE_OK ? STORE_ERROR : r;
		goto wipe;
	}
	row->outcome = ADD_CREATED;
	snprintf(row->ident, sizeof(row->ident), "%s", a.identifiant);
	snprintf(row->email, sizeof(row->email), "%s", a.email);
	row->expires = a.temporary_expires;
	r = STORE_OK;
wipe:
	account_wipe(&a);
out:
	account_wipe(&found);
	return r;
}

/*
 * The rows in one write transaction, in their order: committed when one of
 * them wrote something (a creation, an audited refusal), let go otherwise, so
 * that a file imported again writes nothing at all. STORE_OK or the error.
 */
static int add_transaction(struct worker *w, struct add_row **rows, size_t n)
{
	struct store_txn *txn = NULL;
	bool wrote = false;
	int r;

	if ((r = store_begin(w->daemon->store, true, &txn)) != STORE_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((r = add_apply(txn, rows[i])) != STORE_OK) {
			store_abort(txn);
			return r;
		}
		wrote = wrote || rows[i]->outcome != ADD_EXISTS;
	}
	if (!wrote) {
		store_abort(txn);
		return STORE_OK;
	}
	return store_commit(txn);
}

static void add_answer(struct add_row *row, bool committed)
{
	struct request *req = row->req;

	if (row->outcome == ADD_ANSWERED)
		return;
	if (!committed)
		reply_tempfail(req);
	else if (row->outcome == ADD_CREATED)
		reply_added(req, row->ident, row->email,
		            row->ad.imported != NULL ? NULL : row->ad.temp, row->expires,
		            "created");
	else if (row->outcome == ADD_EXISTS)
		reply_added(req, row->ident, row->email, NULL, 0, "exists");
	else
		reply_fail(req, row->reason, row->why);
}

/* Fields, the NUMEN's HMAC and the temporary password, before any transaction; false: answered. */
static bool add_prepare(struct worker *w, struct request *req, struct add *ad)
{
	if (!add_fields(req, ad))
		return false;
	crypto_hmac_hex(&w->daemon->keys, "numen", ad->numen, NUMEN_LEN, ad->numen_hmac);
	if (ad->dry_run) {
		add_dry_run(w, req, ad);
		return false;
	}
	if (ad->imported != NULL) {
		/* No temporary password: the imported hash stands. */
	} else if (req->config->temporary_password == TEMP_PASSWORD_NUMEN) {
		/* Others may know a NUMEN: it gets the slow hash, and is never echoed back. */
		if (password_hash(w->hasher, &w->daemon->keys, ad->numen, NUMEN_LEN, ad->hash) < 0)
			goto tempfail;
	} else {
		if (password_generate_temp(ad->temp) < 0)
			goto tempfail;
		password_hmac_hash(&w->daemon->keys, ad->temp, PASSWORD_TEMP_LEN, ad->hash);
	}
	return true;
tempfail:
	reply_tempfail(req);
	return false;
}

/*
 * n USER_ADD rows, in their order, in one write transaction: one synced
 * commit for all (workers.c groups the import rows queued one behind the
 * other). If the transaction fails, each row is tried again alone, so that a
 * row the store refuses costs only itself its answer.
 */
static void user_add_rows(struct worker *w, struct request **reqs, size_t n)
{
	struct add_row *rows = calloc(n, sizeof(*rows));
	struct add_row **ready = calloc(n, sizeof(*ready));
	size_t nready = 0;
	bool group_ok;

	if (rows == NULL || ready == NULL) {
		for (size_t i = 0; i < n; i++)
			reply_tempfail(reqs[i]);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rows[i].req = reqs[i];
		if (add_prepare(w, reqs[i], &rows[i].ad))
			ready[nready++] = &rows[i];
		else
			rows[i].outcome = ADD_ANSWERED;
	}
	group_ok = nready > 0 && add_transaction(w, ready, nready) == STORE_OK;
	for (size_t i = 0; i < nready; i++)
		add_answer(ready[i], group_ok || (nready > 1 &&
		                                  add_transaction(w, &ready[i], 1) == STORE_OK));
out:
	if (rows != NULL)
		secret_wipe(rows, n * sizeof(*rows));
	free(rows);
	free(ready);
}

void admin_user_add(struct worker *w, struct request *req)
{
	user_add_rows(w, &req, 1);
}

/* Import rows that write: grouped. A dry run writes nothing; a NUMEN as temporary password costs a
 * slow hash a row, which the workers share better one row each. */
static bool user_add_takes(const struct config *config, const struct request *req)
{
	const char *imp = proto_get(&req->msg, "import"), *dry = proto_get(&req->msg, "dry_run");

	return imp != NULL && strcmp(imp, "1") == 0 && (dry == NULL || strcmp(dry, "1") != 0) &&
	       config->temporary_password != TEMP_PASSWORD_NUMEN;
}

const struct verb_group admin_user_add_group = {
    .handler = admin_user_add,
    .takes = user_add_takes,
    .run = user_add_rows,
};
