/*
 * The store's front: picks a backend by name and dispatches every call
 * through the vtable at the head of the backend's own structures.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "store.h"

static const struct store_backend *const store_backends[] = {
    &store_lmdb_backend,
    &store_pg_backend,
};

static const char *const store_table_names[] = {
    [STORE_ACCOUNTS] = "accounts", [STORE_EMAIL] = "email", [STORE_NUMEN] = "numen",
    [STORE_AUDIT] = "audit",       [STORE_META] = "meta",   [STORE_SESSIONS] = "sessions",
    [STORE_DUE] = "due",
};
/* A table added to the enum needs its name here, which backends use for their own. */
_Static_assert(sizeof(store_table_names) / sizeof(store_table_names[0]) == STORE_TABLE_COUNT,
               "every store table has a name");

const char *store_table_name(enum store_table table)
{
	return (unsigned)table < STORE_TABLE_COUNT ? store_table_names[table] : "?";
}

/* Both struct store and struct store_txn begin with the backend pointer. */
static const struct store_backend *store_be(const void *obj)
{
	return *(const struct store_backend *const *)obj;
}

#ifdef VERDON_FAILPOINTS
/*
 * Test builds only (make failpoint): the Nth store operation after arming
 * fails with an I/O error or a full store, as a disk would. A failed change
 * dooms its transaction, as LMDB does: the commit then fails too.
 */
static atomic_long fp_countdown; /* 0: disarmed */
static atomic_int fp_status;
static atomic_bool fp_fired;
static _Thread_local int fp_doomed;
static _Thread_local bool fp_counted = true;

void store_failpoint_thread(bool counted)
{
	fp_counted = counted;
}

void store_failpoint_arm(long n, int status)
{
	atomic_store(&fp_fired, false);
	atomic_store(&fp_status, status);
	atomic_store(&fp_countdown, n);
}

bool store_failpoint_disarm(void)
{
	atomic_store(&fp_countdown, 0);
	return atomic_load(&fp_fired);
}

static int fp_hit(void)
{
	long left;

	if (!fp_counted)
		return STORE_OK;
	left = atomic_load(&fp_countdown);
	while (left > 0 && !atomic_compare_exchange_weak(&fp_countdown, &left, left - 1))
		;
	if (left != 1)
		return STORE_OK;
	atomic_store(&fp_fired, true);
	return atomic_load(&fp_status);
}
#define FAILPOINT(doom)                                                                            \
	do {                                                                                       \
		int fp_r = fp_hit();                                                               \
		if (fp_r != STORE_OK) {                                                            \
			if (doom)                                                                  \
				fp_doomed = fp_r;                                                  \
			return fp_r;                                                               \
		}                                                                                  \
	} while (0)
#else
#define FAILPOINT(doom) ((void)0)
#endif

void store_val_free(struct store_val *v)
{
	if (v == NULL || v->data == NULL)
		return;
	secret_wipe(v->data, v->len);
	free(v->data);
	v->data = NULL;
	v->len = 0;
}

int store_open(const char *backend, const char *dir, size_t map_size, struct store **store_r,
               char *err, size_t errlen)
{
	size_t i;

	*store_r = NULL;
	if (backend == NULL)
		backend = "lmdb";
	for (i = 0; i < sizeof(store_backends) / sizeof(store_backends[0]); i++) {
		if (strcmp(store_backends[i]->name, backend) == 0)
			return store_backends[i]->open(dir, map_size, store_r, err, errlen);
	}
	snprintf(err, errlen, "unknown store backend \"%.32s\"", backend);
	return STORE_ERROR;
}

void store_close(struct store *store)
{
	if (store != NULL)
		store_be(store)->close(store);
}

int store_begin(struct store *store, bool write, struct store_txn **txn_r)
{
	*txn_r = NULL;
	if (store == NULL)
		return STORE_ERROR;
#ifdef VERDON_FAILPOINTS
	fp_doomed = STORE_OK;
#endif
	FAILPOINT(false);
	return store_be(store)->begin(store, write, txn_r);
}

int store_commit(struct store_txn *txn)
{
	if (txn == NULL)
		return STORE_ERROR;
#ifdef VERDON_FAILPOINTS
	int fp_r = fp_doomed != STORE_OK ? fp_doomed : fp_hit();

	fp_doomed = STORE_OK;
	if (fp_r != STORE_OK) {
		store_be(txn)->abort(txn);
		return fp_r;
	}
#endif
	return store_be(txn)->commit(txn);
}

void store_abort(struct store_txn *txn)
{
#ifdef VERDON_FAILPOINTS
	fp_doomed = STORE_OK;
#endif
	if (txn != NULL)
		store_be(txn)->abort(txn);
}

int store_get(struct store_txn *txn, enum store_table table, const void *key, size_t klen,
              struct store_val *val_r)
{
	val_r->data = NULL;
	val_r->len = 0;
	if (txn == NULL || (unsigned)table >= STORE_TABLE_COUNT)
		return STORE_ERROR;
	FAILPOINT(false);
	return store_be(txn)->get(txn, table, key, klen, val_r);
}

int store_put(struct store_txn *txn, enum store_table table, const void *key, size_t klen,
              const void *val, size_t vlen)
{
	if (txn == NULL || (unsigned)table >= STORE_TABLE_COUNT)
		return STORE_ERROR;
	FAILPOINT(true);
	return store_be(txn)->put(txn, table, key, klen, val, vlen);
}

int store_del(struct store_txn *txn, enum store_table table, const void *key, size_t klen)
{
	if (txn == NULL || (unsigned)table >= STORE_TABLE_COUNT)
		return STORE_ERROR;
	FAILPOINT(true);
	return store_be(txn)->del(txn, table, key, klen);
}

int store_scan(struct store_txn *txn, enum store_table table, const void *from, size_t flen,
               bool reverse, store_scan_cb *cb, void *ctx)
{
	if (txn == NULL || (unsigned)table >= STORE_TABLE_COUNT || cb == NULL)
		return STORE_ERROR;
	FAILPOINT(false);
	return store_be(txn)->scan(txn, table, from, flen, reverse, cb, ctx);
}

int store_append(struct store_txn *txn, enum store_table table, const void *val, size_t vlen,
                 uint64_t *seq_r)
{
	if (txn == NULL || (unsigned)table >= STORE_TABLE_COUNT)
		return STORE_ERROR;
	FAILPOINT(true);
	return store_be(txn)->append(txn, table, val, vlen, seq_r);
}

int store_backup(struct store *store, const char *path, char *err, size_t errlen)
{
	if (store == NULL || path == NULL) {
		snprintf(err, errlen, "no store or no path");
		return STORE_ERROR;
	}
	return store_be(store)->backup(store, path, err, errlen);
}

int store_check_readers(struct store *store, int *cleared_r)
{
	*cleared_r = 0;
	if (store == NULL)
		return STORE_ERROR;
	return store_be(store)->check_readers(store, cleared_r);
}

int store_usage(struct store *store, struct store_usage *usage_r)
{
	memset(usage_r, 0, sizeof(*usage_r));
	if (store == NULL)
		return STORE_ERROR;
	return store_be(store)->usage(store, usage_r);
}
