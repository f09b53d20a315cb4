/*
 * The password throttle, per login: in-memory counters of consecutive wrong
 * passwords, keyed by a keyed hash of the normalised login as typed (or of a
 * device secret, for a browser that holds one). Known and unknown logins
 * share the same table and the same rules, so a delay tells nothing about
 * whether an account exists. The table is bounded: the entry whose last
 * failure is oldest in its set makes room for a new one, and an entry is
 * forgotten once no failure has come for forget_after seconds.
 */
#ifndef VERDON_THROTTLE_H
#define VERDON_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#define THROTTLE_KEY_LEN 16 /* bytes of HMAC kept: 128 bits */
#define THROTTLE_SETS 8192  /* x THROTTLE_WAYS entries: 65536 logins at once */
#define THROTTLE_WAYS 8
#define THROTTLE_TAG_KEEP 16 /* hex digits of the last wrong secret's tag: enough to tell a retry  \
	                      */

struct throttle;
struct store;

struct throttle_key {
	uint8_t b[THROTTLE_KEY_LEN];
};

struct throttle *throttle_new(void);
void throttle_free(struct throttle *t); /* NULL is a no-op */
/* With a store shared by several nodes, the counters live in it (throttle_store.c), so that
 * wrong passwords on every node add up; calls are then never made inside a transaction. */
void throttle_share(struct throttle *t, struct store *store);
bool throttle_shared(const struct throttle *t);
/* Consecutive failures counted under key and the time of the last (0, 0: none or forgotten). */
void throttle_get(struct throttle *t, const struct throttle_key *key, int64_t now,
                  unsigned forget_after, unsigned *failures_r, int64_t *last_r);
/* One more failure; tag (a short hex string, may be "") identifies the secret: the same counts
 * once. */
void throttle_fail(struct throttle *t, const struct throttle_key *key, const char *tag,
                   int64_t now);
void throttle_clear(struct throttle *t, const struct throttle_key *key);

#endif
