/*
 * Moves a stopped node's store to another backend (LMDB → PostgreSQL and
 * back): every table copied key for key in batches, one write transaction per
 * batch, then the rows counted on both sides. Values are copied as they are
 * (OTP secrets stay sealed with the key file, which both sides share).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_copy.h"

#define COPY_BATCH 1000

struct row {
	uint8_t *key, *val;
	size_t klen, vlen;
};

struct batch {
	struct row rows[COPY_BATCH];
	size_t n;
	bool skip_first; /* the page starts at the last key of the one before */
	const uint8_t *after;
	size_t after_len;
	bool oom;
};

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->rows[i].key);
		if (b->rows[i].val != NULL) {
			memset(b->rows[i].val, 0, b->rows[i].vlen); /* may hold hashes */
			free(b->rows[i].val);
		}
	}
	b->n = 0;
}

static int collect(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct batch *b = ctx;
	struct row *r;

	if (b->skip_first) {
		b->skip_first = false;
		if (klen == b->after_len && memcmp(key, b->after, klen) == 0)
			return 0;
	}
	r = &b->rows[b->n];
	if ((r->key = malloc(klen > 0 ? klen : 1)) == NULL ||
	    (r->val = malloc(vlen > 0 ? vlen : 1)) == NULL) {
		free(r->key);
		b->oom = true;
		return 1;
	}
	memcpy(r->key, key, klen);
	memcpy(r->val, val, vlen);
	r->klen = klen;
	r->vlen = vlen;
	return ++b->n == COPY_BATCH;
}

static int count_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(size_t *)ctx)++;
	return 0;
}

int store_count(struct store *s, enum store_table table, size_t *n_r)
{
	struct store_txn *txn;
	int r;

	*n_r = 0;
	if ((r = store_begin(s, false, &txn)) != STORE_OK)
		return r;
	r = store_scan(txn, table, NULL, 0, false, count_one, n_r);
	store_abort(txn);
	return r;
}

static int copy_table(struct store *from, struct store *to, enum store_table table,
                      size_t *copied_r)
{
	struct batch *b = calloc(1, sizeof(*b));
	uint8_t *last = NULL;
	size_t last_len = 0;
	int r = STORE_ERROR;

	*copied_r = 0;
	if (b == NULL)
		return STORE_ERROR;
	for (;;) {
		struct store_txn *rt = NULL, *wt = NULL;

		b->skip_first = last != NULL;
		b->after = last;
		b->after_len = last_len;
		if ((r = store_begin(from, false, &rt)) != STORE_OK)
			break;
		r = store_scan(rt, table, last, last_len, false, collect, b);
		store_abort(rt);
		if (r == STORE_OK && b->oom)
			r = STORE_ERROR;
		if (r != STORE_OK || b->n == 0)
			break;
		if ((r = store_begin(to, true, &wt)) != STORE_OK)
			break;
		for (size_t i = 0; i < b->n && r == STORE_OK; i++)
			r = store_put(wt, table, b->rows[i].key, b->rows[i].klen, b->rows[i].val,
			              b->rows[i].vlen);
		r = r == STORE_OK ? store_commit(wt) : (store_abort(wt), r);
		if (r != STORE_OK)
			break;
		*copied_r += b->n;
		free(last);
		last_len = b->rows[b->n - 1].klen;
		if ((last = malloc(last_len > 0 ? last_len : 1)) == NULL) {
			r = STORE_ERROR;
			break;
		}
		memcpy(last, b->rows[b->n - 1].key, last_len);
		if (b->n < COPY_BATCH) /* the scan ran out before the batch was full */
			break;
		batch_clear(b);
	}
	batch_clear(b);
	free(b);
	free(last);
	return r;
}

int store_copy(struct store *from, struct store *to, FILE *report, char *err, size_t errlen)
{
	size_t n, copied, there;

	for (int t = 0; t < STORE_TABLE_COUNT; t++) {
		/* The target's own schema record is the only row it may already hold. */
		if (t == STORE_META)
			continue;
		if (store_count(to, (enum store_table)t, &n) != STORE_OK) {
			snprintf(err, errlen, "the target cannot be read");
			return -1;
		}
		if (n > 0) {
			snprintf(err, errlen, "the target is not empty (%zu rows in %s): refused",
			         n, store_table_name((enum store_table)t));
			return -1;
		}
	}
	for (int t = 0; t < STORE_TABLE_COUNT; t++) {
		enum store_table table = (enum store_table)t;

		if (copy_table(from, to, table, &copied) != STORE_OK) {
			snprintf(err, errlen, "copying %s failed after %zu rows",
			         store_table_name(table), copied);
			return -1;
		}
		if (store_count(from, table, &n) != STORE_OK ||
		    store_count(to, table, &there) != STORE_OK || there < n ||
		    (table != STORE_META && there != n)) {
			snprintf(err, errlen, "%s: %zu rows in the source, %zu in the target",
			         store_table_name(table), n, there);
			return -1;
		}
		fprintf(report, "%-10s %8zu rows copied\n", store_table_name(table), copied);
	}
	return 0;
}
