#ifndef VERDON_THROTTLE_STORE_H
#define VERDON_THROTTLE_STORE_H

#include <stdint.h>

struct store;
struct throttle_key;

#define THROTTLE_PURGE_BATCH 1000

/* Each a transaction of its own: never called with one open on this thread. */
int throttle_store_get(struct store *s, const struct throttle_key *key, int64_t now,
                       unsigned forget_after, unsigned *failures_r, int64_t *last_r);
int throttle_store_fail(struct store *s, const struct throttle_key *key, const char *tag,
                        int64_t now);
int throttle_store_clear(struct store *s, const struct throttle_key *key);
/* Forgets up to THROTTLE_PURGE_BATCH counters whose last failure is forget_after old. */
int throttle_store_purge(struct store *s, int64_t now, unsigned forget_after, unsigned *n_r);

#endif
