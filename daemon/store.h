/*
 * The store: named key/value tables behind a small backend interface, so that
 * a replicated database can later stand where the embedded LMDB store is.
 * Values are copied out before a transaction ends. Every change happens in
 * one write transaction; a failed commit means nothing changed.
 */
#ifndef VERDON_STORE_H
#define VERDON_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_table {
	STORE_ACCOUNTS = 0, /* identifiant → account record */
	STORE_EMAIL,        /* email → identifiant */
	STORE_NUMEN,        /* HMAC(pepper, NUMEN) hex → identifiant */
	STORE_AUDIT,        /* 8-byte big-endian sequence → audit record */
	STORE_META,         /* schema version and other settings */
	STORE_SESSIONS,     /* HMAC(pepper, token) hex → session record */
	STORE_DUE,          /* kind + due time + key → "" (due.h): what the purge visits */
	STORE_THROTTLE,     /* keyed hash of a login → its password throttle, in a cluster only */
	STORE_TABLE_COUNT
};

enum store_status {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_ERROR = -1, /* I/O, corruption, anything: the caller answers tempfail */
	STORE_FULL = -2,  /* the map or the disk is full: fail closed */
};

struct store;
struct store_txn;

/* A value copied out of the store; store_val_free wipes it. */
struct store_val {
	uint8_t *data;
	size_t len;
};
void store_val_free(struct store_val *v);

/*
 * Return nonzero to stop the scan (store_scan then returns STORE_OK). key and
 * val point into the store: valid during the call only, and the callback must
 * not write through the same transaction.
 */
typedef int store_scan_cb(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);

struct store_usage {
	size_t map_size;  /* bytes */
	size_t used;      /* bytes in use */
	unsigned readers; /* reader slots taken (high-water mark) */
	unsigned max_readers;
};

/*
 * A backend's struct store and struct store_txn both begin with
 * `const struct store_backend *be`, through which store.c dispatches.
 * Values it returns in a struct store_val are malloc'd.
 */
struct store_backend {
	const char *name;
	int (*open)(const char *dir, size_t map_size, struct store **store_r, char *err,
	            size_t errlen);
	void (*close)(struct store *store);
	int (*begin)(struct store *store, bool write, struct store_txn **txn_r);
	int (*commit)(struct store_txn *txn);
	void (*abort)(struct store_txn *txn);
	int (*get)(struct store_txn *txn, enum store_table table, const void *key, size_t klen,
	           struct store_val *val_r);
	int (*put)(struct store_txn *txn, enum store_table table, const void *key, size_t klen,
	           const void *val, size_t vlen);
	int (*del)(struct store_txn *txn, enum store_table table, const void *key, size_t klen);
	/* Keys in order from `from` (NULL: the first); reverse walks down (NULL: the last). */
	int (*scan)(struct store_txn *txn, enum store_table table, const void *from, size_t flen,
	            bool reverse, store_scan_cb *cb, void *ctx);
	/* Appends under the next sequence number (8-byte big-endian key). */
	int (*append)(struct store_txn *txn, enum store_table table, const void *val, size_t vlen,
	              uint64_t *seq_r);
	/* A consistent copy of the whole store, written to a new file at path (0600). */
	int (*backup)(struct store *store, const char *path, char *err, size_t errlen);
	/* Clears reader slots left by dead processes; *cleared_r counts them. */
	int (*check_readers)(struct store *store, int *cleared_r);
	int (*usage)(struct store *store, struct store_usage *usage_r);
};

/* For backends: a mark taken at open, and whether a fork() has happened since (in this process,
 * the child: a store is never used after fork()). Cheaper than getpid() at each transaction. */
unsigned long store_fork_mark(void);
bool store_forked(unsigned long mark);

extern const struct store_backend store_lmdb_backend;
extern const struct store_backend store_pg_backend;

/* The table's name in every backend ("accounts", "email" …). */
const char *store_table_name(enum store_table table);

/*
 * The backend-independent calls everybody uses; they dispatch through the
 * backend. backend NULL means "lmdb"; map_size 0 keeps an existing store's
 * size (the backend's default for a new one). A thread holds at most one
 * read transaction at a time, and a store is never used after fork().
 */
int store_open(const char *backend, const char *dir, size_t map_size, struct store **store_r,
               char *err, size_t errlen);
void store_close(struct store *store); /* NULL is a no-op */
int store_begin(struct store *store, bool write, struct store_txn **txn_r);
int store_commit(struct store_txn *txn); /* the txn is gone whatever the result */
void store_abort(struct store_txn *txn); /* NULL is a no-op */
int store_get(struct store_txn *txn, enum store_table table, const void *key, size_t klen,
              struct store_val *val_r);
int store_put(struct store_txn *txn, enum store_table table, const void *key, size_t klen,
              const void *val, size_t vlen);
int store_del(struct store_txn *txn, enum store_table table, const void *key, size_t klen);
int store_scan(struct store_txn *txn, enum store_table table, const void *from, size_t flen,
               bool reverse, store_scan_cb *cb, void *ctx);
int store_append(struct store_txn *txn, enum store_table table, const void *val, size_t vlen,
                 uint64_t *seq_r);
int store_backup(struct store *store, const char *path, char *err, size_t errlen);
int store_check_readers(struct store *store, int *cleared_r);
int store_usage(struct store *store, struct store_usage *usage_r);

#ifdef VERDON_FAILPOINTS
/* Test builds only: the nth store operation from now fails with status (STORE_ERROR or
 * STORE_FULL); disarm says whether it fired. */
void store_failpoint_arm(long n, int status);
bool store_failpoint_disarm(void);
/* Whether this thread's operations count (the daemon's own timers do not: a scenario's count
 * must not depend on when the audit queue is flushed). */
void store_failpoint_thread(bool counted);
#endif

struct config;
/* The backend and place the configuration names ([store], docs/configuration.md). */
int store_open_configured(const struct config *c, struct store **store_r, char *err,
                          size_t errlen);
bool store_config_shared(const struct config *c);

/* Writes refused for a full map or disk: logged once a minute, shown by STATUS. */
struct store_full {
	bool full;             /* the last write that ended failed for space */
	unsigned long refused; /* since start */
	int64_t since;         /* when the current full spell began; 0 when not full */
};
void store_full_state(struct store_full *f);

#endif
