/*
 * The due-time index (table "due"): what the purge must visit, ordered by
 * when it falls due, so that a timer touches only what is due and never
 * walks every account. Entries: 'D' + deletion time + identifiant for a
 * deleted account, 'S' + hard expiry + key for a session. Kept in the
 * transaction that changes the record.
 */
#ifndef VERDON_DUE_H
#define VERDON_DUE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_txn;

#define DUE_DELETED 'D'
#define DUE_SESSION 'S'
#define DUE_NAME_MAX 97 /* an entry's key: an identifiant or a session key, NUL included */

int due_put(struct store_txn *txn, char kind, int64_t when, const char *key);
/* STORE_OK also when there was no such entry. */
int due_del(struct store_txn *txn, char kind, int64_t when, const char *key);

/* STORE_OK when that entry is there, STORE_NOTFOUND when not. */
int due_get(struct store_txn *txn, char kind, int64_t when, const char *key);
/* An entry's key read back: -1 when it is not one. */
int due_parse(const void *key, size_t klen, char *kind_r, int64_t *when_r,
              char name_r[DUE_NAME_MAX]);

/* Calls cb for each entry of kind due at or before until, oldest first; nonzero stops. key is
 * NUL-terminated and valid during the call. */
typedef int due_cb(void *ctx, int64_t when, const char *key);
int due_each(struct store_txn *txn, char kind, int64_t until, due_cb *cb, void *ctx);

/* Builds the index once for a store made before it existed (a flag in meta says it is done). */
int due_ready(struct store *store);

#endif
