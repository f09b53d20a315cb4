/*
 * Account records in the store, and the email and NUMEN indexes kept true in
 * the same transaction as the record: every index is checked before anything
 * is written, so a refusal leaves the transaction clean.
 */
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "due.h"
#include "secret.h"
#include "store.h"

/*
 * The index key for an email (ASCII lowercased) or a NUMEN HMAC held in at
 * most cap bytes; klen 0 when there is none, -1 when it cannot be one.
 */
static int account_index_key(enum store_table table, const char *value, size_t cap,
                             char key[EMAIL_MAX + 1], size_t *klen_r)
{
	size_t i, len = strnlen(value, cap);

	*klen_r = 0;
	if (len == cap || len > EMAIL_MAX)
		return -1;
	for (i = 0; i <= len; i++) {
		key[i] = value[i];
		if (table == STORE_EMAIL && key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
	}
	*klen_r = len;
	return 0;
}

/* The identifiant an index entry names. */
static int account_index_get(struct store_txn *txn, enum store_table table, const char *key,
                             size_t klen, char ident_r[IDENT_MAX + 1])
{
	struct store_val v = {NULL, 0};
	int r;

	ident_r[0] = '\0';
	if (klen == 0)
		return STORE_NOTFOUND;
	if ((r = store_get(txn, table, key, klen, &v)) != STORE_OK)
		return r;
	if (v.len == 0 || v.len > IDENT_MAX || memchr(v.data, '\0', v.len) != NULL) {
		r = STORE_ERROR;
	} else {
		memcpy(ident_r, v.data, v.len);
		ident_r[v.len] = '\0';
	}
	store_val_free(&v);
	return r;
}

/* STORE_ERROR when key already names another account; *ours_r when it names ident. */
static int account_index_check(struct store_txn *txn, enum store_table table, const char *key,
                               size_t klen, const char *ident, bool *ours_r)
{
	char found[IDENT_MAX + 1];
	int r;

	*ours_r = false;
	r = account_index_get(txn, table, key, klen, found);
	if (r == STORE_NOTFOUND)
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	if (strcmp(found, ident) != 0)
		return STORE_ERROR;
	*ours_r = true;
	return STORE_OK;
}

/* Removes key when it names ident; an entry of another account stays. */
static int account_index_release(struct store_txn *txn, enum store_table table, const char *value,
                                 size_t cap, const char *ident)
{
	char key[EMAIL_MAX + 1], found[IDENT_MAX + 1];
	size_t klen;
	int r;

	if (account_index_key(table, value, cap, key, &klen) == -1)
		return STORE_ERROR;
	r = account_index_get(txn, table, key, klen, found);
	if (r == STORE_NOTFOUND || (r == STORE_OK && strcmp(found, ident) != 0))
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	return store_del(txn, table, key, klen);
}

/*
 * Points table's entry for value to ident (unless it already does: ours),
 * dropping the entry for old when it changed.
 */
static int account_reindex(struct store_txn *txn, enum store_table table, const char *old,
                           const char *value, size_t cap, const char *ident, bool ours)
{
	char key[EMAIL_MAX + 1], oldkey[EMAIL_MAX + 1];
	size_t klen, oldlen;
	int r;

	if (account_index_key(table, value, cap, key, &klen) == -1 ||
	    account_index_key(table, old, cap, oldkey, &oldlen) == -1)
		return STORE_ERROR;
	if (oldlen > 0 && (oldlen != klen || memcmp(oldkey, key, klen) != 0) &&
	    (r = account_index_release(txn, table, old, cap, ident)) != STORE_OK)
		return r;
	if (klen == 0 || ours)
		return STORE_OK;
	return store_put(txn, table, key, klen, ident, strlen(ident));
}

/* The record stored under identifiant, aliases aside. */
static int account_get_direct(struct store_txn *txn, const char *login, struct account *a_r)
{
	struct store_val v = {NULL, 0};
	size_t klen;
	int r;

	klen = strnlen(login, IDENT_MAX + 1);
	if (klen == 0 || klen > IDENT_MAX) {
		account_wipe(a_r);
		return STORE_NOTFOUND;
	}
	if ((r = store_get(txn, STORE_ACCOUNTS, login, klen, &v)) != STORE_OK) {
		account_wipe(a_r);
		return r;
	}
	/* account_decode starts from a wiped account. A record that does not decode, or names
	 * another account, is corruption. */
	if (account_decode(v.data, v.len, a_r) == -1 || strcmp(a_r->identifiant, login) != 0) {
		account_wipe(a_r);
		r = STORE_ERROR;
	}
	store_val_free(&v);
	return r;
}

/* The first record, decoded, then dropped: what a lookup that finds something costs. */
static int decode_first(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct account *a = ctx;

	(void)key, (void)klen;
	(void)account_decode(val, vlen, a);
	account_wipe(a);
	return 1;
}

int account_decoy(struct store_txn *txn)
{
	struct account a;
	int r;

	memset(&a, 0, sizeof(a));
	r = store_scan(txn, STORE_ACCOUNTS, NULL, 0, false, decode_first, &a);
	account_wipe(&a);
	return r < 0 ? r : STORE_OK;
}

/* The identifiant the login index (emails and aliases) gives for login. */
static int account_login_index(struct store_txn *txn, const char *login,
                               char ident_r[IDENT_MAX + 1])
{
	char key[EMAIL_MAX + 1];
	size_t klen;

	if (account_index_key(STORE_EMAIL, login, EMAIL_MAX + 1, key, &klen) == -1)
		return STORE_NOTFOUND;
	return account_index_get(txn, STORE_EMAIL, key, klen, ident_r);
}

int account_get(struct store_txn *txn, const char *login, bool is_email, struct account *a_r)
{
	char ident[IDENT_MAX + 1], given[EMAIL_MAX + 1];
	size_t len = strnlen(login, sizeof(given));
	int r;

	/* login may live inside *a_r (a->identifiant), which every path wipes: copy it first.
	 * Each path wipes a_r once, account_get_direct by decoding into it: a cheap login
	 * pays for one wipe of the account here, not three. */
	if (len == sizeof(given)) {
		account_wipe(a_r);
		return STORE_NOTFOUND;
	}
	memcpy(given, login, len + 1);
	login = given;
	if (!is_email) {
		r = account_get_direct(txn, login, a_r);
		if (r != STORE_NOTFOUND)
			return r;
		/* A former identifiant, kept as an alias by a rename. */
	}
	if ((r = account_login_index(txn, login, ident)) != STORE_OK) {
		account_wipe(a_r);
		return r;
	}
	return account_get_direct(txn, ident, a_r);
}

int account_alias_add(struct store_txn *txn, const char *alias, const char *identifiant)
{
	char key[EMAIL_MAX + 1];
	size_t klen;

	if (account_index_key(STORE_EMAIL, alias, EMAIL_MAX + 1, key, &klen) == -1 || klen == 0)
		return STORE_ERROR;
	return store_put(txn, STORE_EMAIL, key, klen, identifiant, strlen(identifiant));
}

int account_alias_del(struct store_txn *txn, const char *alias, const char *identifiant)
{
	return account_index_release(txn, STORE_EMAIL, alias, EMAIL_MAX + 1, identifiant);
}

int account_by_numen(struct store_txn *txn, const char *numen_hmac, char ident_r[IDENT_MAX + 1])
{
	char key[EMAIL_MAX + 1];
	size_t klen;

	ident_r[0] = '\0';
	if (account_index_key(STORE_NUMEN, numen_hmac, EMAIL_MAX + 1, key, &klen) == -1)
		return STORE_NOTFOUND;
	return account_index_get(txn, STORE_NUMEN, key, klen, ident_r);
}

/* Every index is checked before anything is written, so a refusal changes nothing. */
static int account_reindex_all(struct store_txn *txn, const struct account *prev,
                               const struct account *a)
{
	char key[EMAIL_MAX + 1];
	size_t klen;
	bool email_ours, numen_ours;
	int r;

	if (account_index_key(STORE_EMAIL, a->email, sizeof(a->email), key, &klen) == -1 ||
	    account_index_check(txn, STORE_EMAIL, key, klen, a->identifiant, &email_ours) !=
	        STORE_OK ||
	    account_index_key(STORE_NUMEN, a->numen_hmac, sizeof(a->numen_hmac), key, &klen) ==
	        -1 ||
	    account_index_check(txn, STORE_NUMEN, key, klen, a->identifiant, &numen_ours) !=
	        STORE_OK)
		return STORE_ERROR;
	r = account_reindex(txn, STORE_EMAIL, prev->email, a->email, sizeof(a->email),
	                    a->identifiant, email_ours);
	if (r != STORE_OK)
		return r;
	return account_reindex(txn, STORE_NUMEN, prev->numen_hmac, a->numen_hmac,
	                       sizeof(a->numen_hmac), a->identifiant, numen_ours);
}

/* The due-time index follows the deletion time of a deleted account (due.h). */
static int account_due(struct store_txn *txn, const struct account *prev, const struct account *a)
{
	bool was = prev != NULL && prev->state == ACCOUNT_DELETED;
	bool is = a != NULL && a->state == ACCOUNT_DELETED;
	bool same = was && is && prev->state_changed == a->state_changed;
	int r = STORE_OK;

	if (was && !same)
		r = due_del(txn, DUE_DELETED, prev->state_changed, prev->identifiant);
	if (r == STORE_OK && is && !same)
		r = due_put(txn, DUE_DELETED, a->state_changed, a->identifiant);
	return r;
}

int account_put(struct store_txn *txn, struct account *a)
{
	struct account *prev = NULL;
	uint8_t *rec = NULL;
	size_t len = 0, idlen = strnlen(a->identifiant, sizeof(a->identifiant));
	int r = STORE_ERROR;

	if (idlen == 0 || idlen > IDENT_MAX || (prev = malloc(sizeof(*prev))) == NULL)
		goto out;
	r = account_get_direct(txn, a->identifiant, prev);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		goto out;
	if ((r = account_due(txn, r == STORE_OK ? prev : NULL, a)) != STORE_OK ||
	    (r = account_reindex_all(txn, prev, a)) != STORE_OK)
		goto out;
	a->revision++;
	r = STORE_ERROR;
	if (account_encode(a, &rec, &len) == 0)
		r = store_put(txn, STORE_ACCOUNTS, a->identifiant, idlen, rec, len);
	if (r != STORE_OK)
		a->revision--;
out:
	if (rec != NULL) {
		secret_wipe(rec, len);
		free(rec);
	}
	if (prev != NULL) {
		account_wipe(prev);
		free(prev);
	}
	return r;
}

static int account_unindex(struct store_txn *txn, const struct account *a)
{
	int r;

	r = account_index_release(txn, STORE_EMAIL, a->email, sizeof(a->email), a->identifiant);
	if (r != STORE_OK)
		return r;
	/* A purged account's former logins go with it (a rename puts them back). */
	for (unsigned i = 0; i < a->naliases && i < ACCOUNT_ALIASES_MAX; i++)
		if ((r = account_alias_del(txn, a->aliases[i], a->identifiant)) != STORE_OK)
			return r;
	return account_index_release(txn, STORE_NUMEN, a->numen_hmac, sizeof(a->numen_hmac),
	                             a->identifiant);
}

int account_remove(struct store_txn *txn, const struct account *a)
{
	struct account *prev;
	size_t idlen = strnlen(a->identifiant, sizeof(a->identifiant));
	int r = STORE_ERROR;

	if (idlen == 0 || idlen > IDENT_MAX || (prev = malloc(sizeof(*prev))) == NULL)
		return STORE_ERROR;
	/* The stored record names the index entries; a's own are dropped too if they differ. */
	if ((r = account_get_direct(txn, a->identifiant, prev)) != STORE_OK ||
	    (r = account_due(txn, prev, NULL)) != STORE_OK ||
	    (r = account_unindex(txn, prev)) != STORE_OK ||
	    (r = account_unindex(txn, a)) != STORE_OK)
		goto out;
	r = store_del(txn, STORE_ACCOUNTS, a->identifiant, idlen);
out:
	account_wipe(prev);
	free(prev);
	return r;
}

static int account_taken(struct store_txn *txn, enum store_table table, const char *key,
                         size_t klen, bool *taken_r)
{
	struct store_val v = {NULL, 0};
	int r;

	*taken_r = false;
	if (klen == 0)
		return STORE_OK;
	r = store_get(txn, table, key, klen, &v);
	store_val_free(&v);
	if (r == STORE_NOTFOUND)
		return STORE_OK;
	*taken_r = r == STORE_OK;
	return r;
}

int account_ident_taken(struct store_txn *txn, const char *identifiant, bool *taken_r)
{
	size_t len = strnlen(identifiant, IDENT_MAX + 1);
	int r;

	*taken_r = false;
	if (len > IDENT_MAX)
		return STORE_OK;
	r = account_taken(txn, STORE_ACCOUNTS, identifiant, len, taken_r);
	/* A renamed account's former identifiant still logs in: nobody else gets it. */
	if (r == STORE_OK && !*taken_r)
		r = account_taken(txn, STORE_EMAIL, identifiant, len, taken_r);
	return r;
}

int account_email_taken(struct store_txn *txn, const char *email, bool *taken_r)
{
	char key[EMAIL_MAX + 1];
	size_t klen;

	*taken_r = false;
	if (account_index_key(STORE_EMAIL, email, EMAIL_MAX + 1, key, &klen) == -1)
		return STORE_OK;
	return account_taken(txn, STORE_EMAIL, key, klen, taken_r);
}
