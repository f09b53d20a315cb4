/*
 * Proves a store whole, in one read transaction: every record decodes, every
 * index entry (email, NUMEN, due time) points at a record that names it and
 * every record is indexed,
 * every session belongs to an account, the audit sequence has no gap. Used
 * by STORE_VERIFY (verdonctl store verify) and by the fault and crash tests
 * after every round.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "due.h"
#include "session.h"
#include "store.h"
#include "verify.h"

struct walk {
	struct store_txn *txn;
	struct verify_report *rep;
	enum store_table table;
	uint64_t last_seq;
	int failed; /* a store error while walking */
};

static void problem(struct walk *w, const void *key, size_t klen, const char *what)
{
	char k[96];
	size_t i, n = klen < 40 ? klen : 40;

	w->rep->problems++;
	/* keys are text but for the audit's sequence numbers: hex for those */
	for (i = 0; i < n && ((const char *)key)[i] >= 0x20 && ((const char *)key)[i] < 0x7f; i++)
		k[i] = ((const char *)key)[i];
	if (i < n) {
		for (i = 0; i < n && 2 * i + 2 < sizeof(k); i++)
			snprintf(k + 2 * i, 3, "%02x", ((const uint8_t *)key)[i]);
		i = 2 * i;
	}
	k[i] = '\0';
	if (w->rep->cb != NULL)
		w->rep->cb(w->rep->ctx, store_table_name(w->table), k, what);
}

/* The identifiant an index entry names, or "" when it names none. */
static int index_target(struct walk *w, enum store_table table, const char *key,
                        char ident_r[IDENT_MAX + 1])
{
	struct store_val v = {0};
	int r = store_get(w->txn, table, key, strlen(key), &v);

	ident_r[0] = '\0';
	if (r == STORE_OK && v.len <= IDENT_MAX) {
		memcpy(ident_r, v.data, v.len);
		ident_r[v.len] = '\0';
	}
	store_val_free(&v);
	return r < 0 ? r : STORE_OK;
}

static int account_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ctx;
	char target[IDENT_MAX + 1];
	struct account *a = malloc(sizeof(*a));

	w->rep->accounts++;
	if (a == NULL)
		return w->failed = STORE_ERROR, 1;
	if (account_decode(val, vlen, a) < 0) {
		problem(w, key, klen, "the record does not decode");
		goto out;
	}
	if (strlen(a->identifiant) != klen || memcmp(a->identifiant, key, klen) != 0)
		problem(w, key, klen, "the record names another identifiant");
	if ((w->failed = index_target(w, STORE_EMAIL, a->email, target)) < 0)
		goto out;
	if (strcmp(target, a->identifiant) != 0)
		problem(w, key, klen, "its email is not indexed to it");
	if (a->state == ACCOUNT_DELETED &&
	    (w->failed = due_get(w->txn, DUE_DELETED, a->state_changed, a->identifiant)) !=
	        STORE_OK) {
		if (w->failed < 0)
			goto out;
		w->failed = STORE_OK;
		problem(w, key, klen, "deleted but not in the due-time index");
	}
	if (a->numen_hmac[0] != '\0') {
		if ((w->failed = index_target(w, STORE_NUMEN, a->numen_hmac, target)) < 0)
			goto out;
		if (strcmp(target, a->identifiant) != 0)
			problem(w, key, klen, "its NUMEN is not indexed to it");
	}
out:
	account_wipe(a);
	free(a);
	return w->failed < 0;
}

/* An index entry (email or NUMEN) must name an account whose field, or former login, is this key. */
static int index_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ctx;
	char ident[IDENT_MAX + 1], k[EMAIL_MAX + 66];
	struct account *a;
	int r;

	w->rep->index_entries++;
	if (vlen == 0 || vlen > IDENT_MAX || klen >= sizeof(k)) {
		problem(w, key, klen, "malformed index entry");
		return 0;
	}
	memcpy(ident, val, vlen);
	ident[vlen] = '\0';
	memcpy(k, key, klen);
	k[klen] = '\0';
	if ((a = malloc(sizeof(*a))) == NULL)
		return w->failed = STORE_ERROR, 1;
	r = account_get(w->txn, ident, false, a);
	if (r < 0)
		w->failed = r;
	else if (r == STORE_NOTFOUND)
		problem(w, key, klen, "points at a missing account");
	else if (strcmp(w->table == STORE_EMAIL ? a->email : a->numen_hmac, k) != 0 &&
	         !(w->table == STORE_EMAIL && account_has_alias(a, k)))
		problem(w, key, klen, "points at an account that no longer holds it");
	account_wipe(a);
	free(a);
	return w->failed < 0;
}

static int session_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ctx;
	char k[CRED_TAG_LEN + 1];
	struct session s;
	bool taken = false;

	w->rep->sessions++;
	if (klen > CRED_TAG_LEN) {
		problem(w, key, klen, "malformed key");
		return 0;
	}
	memcpy(k, key, klen);
	k[klen] = '\0';
	if (session_decode(k, val, vlen, &s) < 0) {
		problem(w, key, klen, "the record does not decode");
		return 0;
	}
	if ((w->failed = account_ident_taken(w->txn, s.identifiant, &taken)) < 0)
		return 1;
	if (!taken)
		problem(w, key, klen, "belongs to a missing account");
	if ((w->failed = due_get(w->txn, DUE_SESSION, s.expires, k)) < 0)
		return 1;
	if (w->failed == STORE_NOTFOUND)
		problem(w, key, klen, "not in the due-time index");
	w->failed = STORE_OK;
	return 0;
}

/* A due entry must name a deleted account deleted then, or a session expiring then. */
static int due_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ctx;
	char kind, name[DUE_NAME_MAX];
	int64_t when;
	struct account *a;
	struct session s;
	int r;

	(void)val, (void)vlen;
	w->rep->index_entries++;
	if (due_parse(key, klen, &kind, &when, name) < 0) {
		problem(w, key, klen, "malformed due-time entry");
		return 0;
	}
	if (kind == DUE_SESSION) {
		r = session_get(w->txn, name, &s);
		if (r < 0)
			return w->failed = r, 1;
		if (r == STORE_NOTFOUND || s.expires != when)
			problem(w, key, klen, "names no session expiring then");
		return 0;
	}
	if ((a = malloc(sizeof(*a))) == NULL)
		return w->failed = STORE_ERROR, 1;
	r = account_get(w->txn, name, false, a);
	if (r < 0)
		w->failed = r;
	else if (r == STORE_NOTFOUND || a->state != ACCOUNT_DELETED || a->state_changed != when)
		problem(w, key, klen, "names no account deleted then");
	account_wipe(a);
	free(a);
	return w->failed < 0;
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t n = 0;

	for (int i = 0; i < 8; i++)
		n = n << 8 | b[i];
	return n;
}

static int audit_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ctx;
	json_t *rec;
	uint64_t seq;

	w->rep->audit++;
	if (klen != 8) {
		problem(w, key, klen, "not a sequence number");
		return 0;
	}
	seq = be64(key);
	if (w->last_seq != 0 && seq != w->last_seq + 1)
		problem(w, key, klen, "a gap in the sequence before this record");
	w->last_seq = seq;
	if ((rec = json_loadb(val, vlen, 0, NULL)) == NULL || !json_is_object(rec))
		problem(w, key, klen, "the record does not decode");
	json_decref(rec);
	return 0;
}

static int walk_table(struct walk *w, enum store_table table, store_scan_cb *cb)
{
	int r;

	w->table = table;
	r = store_scan(w->txn, table, NULL, 0, false, cb, w);
	return r < 0 ? r : w->failed;
}

int store_verify(struct store *store, struct verify_report *rep)
{
	struct walk w = {.rep = rep};
	int r;

	rep->problems = rep->accounts = rep->index_entries = rep->sessions = rep->audit = 0;
	if ((r = store_begin(store, false, &w.txn)) != STORE_OK)
		return r;
	if ((r = walk_table(&w, STORE_ACCOUNTS, account_one)) == STORE_OK &&
	    (r = walk_table(&w, STORE_EMAIL, index_one)) == STORE_OK &&
	    (r = walk_table(&w, STORE_NUMEN, index_one)) == STORE_OK &&
	    (r = walk_table(&w, STORE_SESSIONS, session_one)) == STORE_OK &&
	    (r = walk_table(&w, STORE_DUE, due_one)) == STORE_OK)
		r = walk_table(&w, STORE_AUDIT, audit_one);
	store_abort(w.txn);
	return r;
}
