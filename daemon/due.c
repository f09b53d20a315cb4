#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "due.h"
#include "log.h"
#include "session.h"
#include "store.h"

#define DUE_KEY_MAX (1 + 8 + 96)
#define DUE_READY_KEY "due_index"

static size_t due_key(char kind, int64_t when, const char *key, uint8_t out[DUE_KEY_MAX])
{
	size_t klen = strnlen(key, DUE_KEY_MAX - 9);
	uint64_t w = when < 0 ? 0 : (uint64_t)when;

	out[0] = (uint8_t)kind;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(w >> (56 - 8 * i));
	memcpy(out + 9, key, klen);
	return 9 + klen;
}

int due_put(struct store_txn *txn, char kind, int64_t when, const char *key)
{
	uint8_t k[DUE_KEY_MAX];
	size_t len = due_key(kind, when, key, k);

	return store_put(txn, STORE_DUE, k, len, "", 0);
}

int due_del(struct store_txn *txn, char kind, int64_t when, const char *key)
{
	uint8_t k[DUE_KEY_MAX];
	size_t len = due_key(kind, when, key, k);
	int r = store_del(txn, STORE_DUE, k, len);

	return r == STORE_NOTFOUND ? STORE_OK : r;
}

int due_get(struct store_txn *txn, char kind, int64_t when, const char *key)
{
	uint8_t k[DUE_KEY_MAX];
	size_t len = due_key(kind, when, key, k);
	struct store_val v = {0};
	int r = store_get(txn, STORE_DUE, k, len, &v);

	store_val_free(&v);
	return r;
}

int due_parse(const void *key, size_t klen, char *kind_r, int64_t *when_r,
              char name_r[DUE_NAME_MAX])
{
	const uint8_t *k = key;
	uint64_t when = 0;

	if (klen < 10 || klen - 9 >= DUE_NAME_MAX || (k[0] != DUE_DELETED && k[0] != DUE_SESSION))
		return -1;
	for (int i = 0; i < 8; i++)
		when = when << 8 | k[1 + i];
	*kind_r = (char)k[0];
	*when_r = (int64_t)when;
	memcpy(name_r, k + 9, klen - 9);
	name_r[klen - 9] = '\0';
	return 0;
}

struct walk {
	char kind;
	uint64_t until;
	due_cb *cb;
	void *ctx;
};

static int due_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	const uint8_t *k = key;
	struct walk *w = ctx;
	char name[DUE_KEY_MAX];
	uint64_t when = 0;

	(void)val, (void)vlen;
	if (klen < 9 || klen >= 9 + sizeof(name) || k[0] != (uint8_t)w->kind)
		return 1; /* past this kind's range */
	for (int i = 0; i < 8; i++)
		when = when << 8 | k[1 + i];
	if (when > w->until)
		return 1;
	memcpy(name, k + 9, klen - 9);
	name[klen - 9] = '\0';
	return w->cb(w->ctx, (int64_t)when, name);
}

int due_each(struct store_txn *txn, char kind, int64_t until, due_cb *cb, void *ctx)
{
	struct walk w = {kind, until < 0 ? 0 : (uint64_t)until, cb, ctx};
	uint8_t from = (uint8_t)kind;

	return store_scan(txn, STORE_DUE, &from, 1, false, due_one, &w);
}

/* ---- building the index for an older store, once ---- */

struct entry {
	char kind;
	int64_t when;
	char key[CRED_TAG_LEN > IDENT_MAX ? CRED_TAG_LEN + 1 : IDENT_MAX + 1];
};

struct build {
	struct entry *e;
	size_t n, cap;
	bool oom;
};

static int build_add(struct build *b, char kind, int64_t when, const char *key)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct entry *e = realloc(b->e, cap * sizeof(*e));

		if (e == NULL) {
			b->oom = true;
			return 1;
		}
		b->e = e;
		b->cap = cap;
	}
	b->e[b->n].kind = kind;
	b->e[b->n].when = when;
	snprintf(b->e[b->n].key, sizeof(b->e[b->n].key), "%s", key);
	b->n++;
	return 0;
}

static int build_account(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct account *a = malloc(sizeof(*a));
	int stop = 0;

	(void)k, (void)kl;
	if (a == NULL)
		return ((struct build *)ctx)->oom = true, 1;
	if (account_decode(v, vl, a) == 0 && a->state == ACCOUNT_DELETED)
		stop = build_add(ctx, DUE_DELETED, a->state_changed, a->identifiant);
	account_wipe(a);
	free(a);
	return stop;
}

static int build_session(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	char key[CRED_TAG_LEN + 1];
	struct session s;

	if (kl > CRED_TAG_LEN)
		return 0;
	memcpy(key, k, kl);
	key[kl] = '\0';
	if (session_decode(key, v, vl, &s) < 0)
		return 0;
	return build_add(ctx, DUE_SESSION, s.expires, key);
}

int due_ready(struct store *store)
{
	struct store_txn *txn;
	struct store_val v = {0};
	struct build b = {0};
	int r;

	if ((r = store_begin(store, true, &txn)) != STORE_OK)
		return r;
	r = store_get(txn, STORE_META, DUE_READY_KEY, strlen(DUE_READY_KEY), &v);
	store_val_free(&v);
	if (r != STORE_NOTFOUND) {
		store_abort(txn);
		return r;
	}
	/* Collected first: a scan's callback must not write through its transaction. */
	if ((r = store_scan(txn, STORE_ACCOUNTS, NULL, 0, false, build_account, &b)) == STORE_OK &&
	    (r = store_scan(txn, STORE_SESSIONS, NULL, 0, false, build_session, &b)) == STORE_OK &&
	    b.oom)
		r = STORE_ERROR;
	for (size_t i = 0; i < b.n && r == STORE_OK; i++)
		r = due_put(txn, b.e[i].kind, b.e[i].when, b.e[i].key);
	if (r == STORE_OK)
		r = store_put(txn, STORE_META, DUE_READY_KEY, strlen(DUE_READY_KEY), "1", 1);
	r = r == STORE_OK ? store_commit(txn) : (store_abort(txn), r);
	if (r == STORE_OK && b.n > 0)
		log_info("store: indexed %zu deleted accounts and sessions by due time", b.n);
	free(b.e);
	return r;
}
