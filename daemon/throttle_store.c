/*
 * The throttle's counters in the store, for a cluster (docs/cluster.md): with
 * a shared backend, wrong passwords sent to any node add up in one counter.
 * Each call is a transaction of its own, outside any other; the purge forgets
 * counters past forget_after. Value: "failures last_failure tag".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "store.h"
#include "throttle.h"
#include "throttle_store.h"

#define KEY_HEX (2 * THROTTLE_KEY_LEN)
#define VALUE_MAX 64

static void hex_key(const struct throttle_key *key, char out[KEY_HEX + 1])
{
	for (int i = 0; i < THROTTLE_KEY_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", key->b[i]);
}

static int read_entry(struct store_txn *txn, const char *k, unsigned *failures_r, int64_t *last_r,
                      char tag_r[THROTTLE_TAG_KEEP + 1])
{
	struct store_val v = {0};
	char text[VALUE_MAX + 1];
	int r = store_get(txn, STORE_THROTTLE, k, KEY_HEX, &v);

	*failures_r = 0;
	*last_r = 0;
	tag_r[0] = '\0';
	if (r != STORE_OK)
		return r;
	if (v.len <= VALUE_MAX) {
		memcpy(text, v.data, v.len);
		text[v.len] = '\0';
		if (sscanf(text, "%u %" SCNd64 " %16s", failures_r, last_r, tag_r) < 2)
			*failures_r = 0, *last_r = 0, tag_r[0] = '\0';
	}
	store_val_free(&v);
	return STORE_OK;
}

int throttle_store_get(struct store *s, const struct throttle_key *key, int64_t now,
                       unsigned forget_after, unsigned *failures_r, int64_t *last_r)
{
	char k[KEY_HEX + 1], tag[THROTTLE_TAG_KEEP + 1];
	struct store_txn *txn;
	int r;

	*failures_r = 0;
	*last_r = 0;
	hex_key(key, k);
	if ((r = store_begin(s, false, &txn)) != STORE_OK)
		return r;
	r = read_entry(txn, k, failures_r, last_r, tag);
	store_abort(txn);
	if (r == STORE_OK && now - *last_r >= (int64_t)forget_after)
		*failures_r = 0, *last_r = 0;
	return r == STORE_NOTFOUND ? STORE_OK : r;
}

int throttle_store_fail(struct store *s, const struct throttle_key *key, const char *tag,
                        int64_t now)
{
	char k[KEY_HEX + 1], old[THROTTLE_TAG_KEEP + 1], text[VALUE_MAX + 1];
	size_t n = strnlen(tag, THROTTLE_TAG_KEEP);
	struct store_txn *txn;
	unsigned failures;
	int64_t last;
	int r, len;

	hex_key(key, k);
	if ((r = store_begin(s, true, &txn)) != STORE_OK)
		return r;
	if ((r = read_entry(txn, k, &failures, &last, old)) < 0)
		goto out;
	/* The same wrong secret sent again counts once (a client that caches it). */
	if (n > 0 && strlen(old) == n && secret_equal(old, tag, n)) {
		store_abort(txn);
		return STORE_OK;
	}
	len = snprintf(text, sizeof(text), "%u %" PRId64 " %.*s", failures + 1, now, (int)n, tag);
	r = store_put(txn, STORE_THROTTLE, k, KEY_HEX, text, (size_t)len);
out:
	return r == STORE_OK ? store_commit(txn) : (store_abort(txn), r);
}

int throttle_store_clear(struct store *s, const struct throttle_key *key)
{
	char k[KEY_HEX + 1];
	struct store_txn *txn;
	int r;

	hex_key(key, k);
	if ((r = store_begin(s, true, &txn)) != STORE_OK)
		return r;
	r = store_del(txn, STORE_THROTTLE, k, KEY_HEX);
	if (r == STORE_NOTFOUND) {
		store_abort(txn);
		return STORE_OK;
	}
	return r == STORE_OK ? store_commit(txn) : (store_abort(txn), r);
}

struct stale {
	int64_t before;
	unsigned n;
	char keys[THROTTLE_PURGE_BATCH][KEY_HEX + 1];
};

static int stale_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct stale *st = ctx;
	char text[VALUE_MAX + 1];
	unsigned failures;
	int64_t last = 0;

	if (klen != KEY_HEX || vlen > VALUE_MAX)
		return 0;
	memcpy(text, val, vlen);
	text[vlen] = '\0';
	if (sscanf(text, "%u %" SCNd64, &failures, &last) == 2 && last < st->before) {
		memcpy(st->keys[st->n], key, KEY_HEX);
		st->keys[st->n][KEY_HEX] = '\0';
		st->n++;
	}
	return st->n == THROTTLE_PURGE_BATCH;
}

int throttle_store_purge(struct store *s, int64_t now, unsigned forget_after, unsigned *n_r)
{
	struct stale *st = calloc(1, sizeof(*st));
	struct store_txn *txn = NULL;
	int r;

	*n_r = 0;
	if (st == NULL)
		return STORE_ERROR;
	st->before = now - (int64_t)forget_after;
	if ((r = store_begin(s, false, &txn)) != STORE_OK)
		goto out;
	r = store_scan(txn, STORE_THROTTLE, NULL, 0, false, stale_one, st);
	store_abort(txn);
	txn = NULL;
	if (r != STORE_OK || st->n == 0 || (r = store_begin(s, true, &txn)) != STORE_OK)
		goto out;
	for (unsigned i = 0; i < st->n && r == STORE_OK; i++)
		if ((r = store_del(txn, STORE_THROTTLE, st->keys[i], KEY_HEX)) == STORE_NOTFOUND)
			r = STORE_OK;
	r = r == STORE_OK ? store_commit(txn) : (store_abort(txn), r);
	txn = NULL;
	if (r == STORE_OK)
		*n_r = st->n;
out:
	store_abort(txn);
	free(st);
	return r;
}
