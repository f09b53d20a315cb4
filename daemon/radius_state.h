/*
 * What the RADIUS front end remembers between packets, with injected time:
 * the single-use States of Access-Challenges (bound to a client, a user and a
 * lifetime, holding the password until the code comes) and the RFC 5080
 * retransmission cache (a duplicate gets the same reply, no second decision).
 */
#ifndef VERDON_RADIUS_STATE_H
#define VERDON_RADIUS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RADIUS_STATE_LEN 16
#define RADIUS_USER_MAX 253
#define RADIUS_PW_MAX 128

struct radius_states;

struct radius_states *radius_states_new(void);
void radius_states_free(struct radius_states *t); /* NULL is a no-op; wipes the passwords */
/* A new random State; -1 when the table has no room (every slot of its run alive). */
int radius_state_put(struct radius_states *t, const char *client, const char *user,
                     const char *password, uint64_t now_ms, uint64_t expires_ms,
                     uint8_t state_r[RADIUS_STATE_LEN]);

enum state_take {
	STATE_TAKEN,   /* password_r holds the password; the State is gone */
	STATE_UNKNOWN, /* never issued, already used, or for another client or user */
	STATE_EXPIRED, /* issued, unused, too late: gone too */
};
/* Takes a State (single use); password_r has RADIUS_PW_MAX + 1 bytes. */
enum state_take radius_state_take(struct radius_states *t, const uint8_t *state, size_t len,
                                  const char *client, const char *user, uint64_t now_ms,
                                  char *password_r);

#define RADIUS_CACHE_KEY_LEN 48 /* peer (28), identifier (1), authenticator (16), pad */

struct radius_cache;

enum cache_hit {
	CACHE_NEW,     /* not seen: now pending, answer it with radius_cache_done */
	CACHE_PENDING, /* a duplicate of a request being decided: drop it */
	CACHE_DONE,    /* a duplicate of an answered request: send *reply_r again */
	CACHE_FULL,    /* every slot of its run pending: drop it, the client retries */
};

struct radius_cache *radius_cache_new(void);
void radius_cache_free(struct radius_cache *c);
enum cache_hit radius_cache_lookup(struct radius_cache *c, const uint8_t key[RADIUS_CACHE_KEY_LEN],
                                   uint64_t now_ms, const uint8_t **reply_r, size_t *len_r);
/* The reply of a pending request, kept until until_ms. */
void radius_cache_done(struct radius_cache *c, const uint8_t key[RADIUS_CACHE_KEY_LEN],
                       const uint8_t *reply, size_t len, uint64_t until_ms);
/* A pending request dropped without a reply (overload): its retransmission is new again. */
void radius_cache_forget(struct radius_cache *c, const uint8_t key[RADIUS_CACHE_KEY_LEN]);

#endif
