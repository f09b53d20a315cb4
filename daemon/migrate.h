/*
 * Start-up migration of records written before the binary form (record.h):
 * accounts and sessions kept as JSON are rewritten once, in batches, and a
 * flag in meta says it is done, so that later starts read one key.
 */
#ifndef VERDON_MIGRATE_H
#define VERDON_MIGRATE_H

struct store;

/* STORE_OK, or the store's error (the daemon then does not start). */
int records_ready(struct store *store);

#endif
