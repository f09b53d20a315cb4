/*
 * The store's front: picks a backend by name and dispatches every call
 * through the vtable at the head of the backend's own structures.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "secret.h"
#include "store.h"

#define FULL_LOG_INTERVAL 60 /* seconds between two error lines about a full store */

/*
 * A full map or disk fails every write closed (TEMPFAIL), which is right,
 * but must not be silent: one error line a minute while it lasts, and the
 * state for STATUS. One store per process, so these are the process's.
 */
static atomic_bool full_now;
static atomic_ulong full_refused;
static atomic_llong full_since, full_logged = -FULL_LOG_INTERVAL;
static __thread bool txn_wrote; /* this thread's write transaction changed something */

static int note_full(int r)
{
	long long now = (long long)time(NULL), last = atomic_load(&full_logged);
	unsigned long n;

	if (r != STORE_FULL)
		return r;
	n = atomic_fetch_add(&full_refused, 1) + 1;
	if (!atomic_exchange(&full_now, true))
		atomic_store(&full_since, now);
	if (now - last >= FULL_LOG_INTERVAL &&
	    atomic_compare_exchange_strong(&full_logged, &last, now))
		log_err(
		    "store: full (the map or the disk): every write answers TEMPFAIL, %lu refused "
		    "so far; raise map_size_mb or free disk space, then restart",
		    n);
	return r;
}

static int note_write(int r)
{
	if (r == STORE_OK)
		txn_wrote = true;
	return note_full(r);
}

void store_full_state(struct store_full *f)
{
	f->full = atomic_load(&full_now);
	f->refused = atomic_load(&full_refused);
	f->since = f->full ? (int64_t)atomic_load(&full_since) : 0;
}

static const struct store_backend *const store_backends[] = {
    &store_lmdb_backend,
    &store_pg_backend,
};

static const char *const store_table_names[] = {
    [STORE_ACCOUNTS] = "accounts", [STORE_EMAIL] = "email",       [STORE_NUMEN] = "numen",
    [STORE_AUDIT] = "audit",       [STORE_META] = "meta",         [STORE_SESSIONS] = "sessions",
    [STORE_DUE] = "due",           [STORE_THROTTLE] = "throttle",
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

/* Bumped in the child of every fork(): asking getpid() at each transaction is a system call. */
static atomic_ulong forks;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;

static void count_fork(void)
{
	atomic_fetch_add(&forks, 1);
}

static void watch_forks(void)
{
	pthread_atfork(NULL, NULL, count_fork);
}

unsigned long store_fork_mark(void)
{
	pthread_once(&forks_once, watch_forks);
	return atomic_load(&forks);
}

bool store_forked(unsigned long mark)
{
	return atomic_load_explicit(&forks, memory_order_relaxed) != mark;
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
	txn_wrote = false;
	return note_full(store_be(store)->begin(store, write, txn_r));
}

int store_commit(struct store_txn *txn)
{
	int r;

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
	r = note_full(store_be(txn)->commit(txn));
	/* Space again (a bigger map after a restart, a freed disk): the state says so. */
	if (r == STORE_OK && txn_wrote && atomic_exchange(&full_now, false))
		log_info("store: writes succeed again");
	txn_wrote = false;
	return r;
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
	return note_write(store_be(txn)->put(txn, table, key, klen, val, vlen));
}

int store_del(struct store_txn *txn, enum store_table table, const void *key, size_t klen)
{
	if (txn == NULL || (unsigned)table >= STORE_TABLE_COUNT)
		return STORE_ERROR;
	FAILPOINT(true);
	return note_write(store_be(txn)->del(txn, table, key, klen));
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
	return note_write(store_be(txn)->append(txn, table, val, vlen, seq_r));
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
