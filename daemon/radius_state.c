#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "radius_state.h"
#include "secret.h"

#define STATES 4096
#define CACHE 65536 /* 5 s of 10,000 requests a second, with room */
#define PROBE 16

struct state_entry {
	uint8_t state[RADIUS_STATE_LEN];
	bool live;
	uint64_t expires_ms;
	char client[48];
	char user[RADIUS_USER_MAX + 1];
	char password[RADIUS_PW_MAX + 1];
};

struct radius_states {
	struct state_entry slots[STATES];
};

struct radius_states *radius_states_new(void)
{
	return calloc(1, sizeof(struct radius_states));
}

void radius_states_free(struct radius_states *t)
{
	if (t == NULL)
		return;
	secret_wipe(t, sizeof(*t));
	free(t);
}

static unsigned state_index(const uint8_t *state)
{
	/* The State is random: its first bytes are a hash already. */
	return ((unsigned)state[0] << 8 | state[1]) % STATES;
}

static void state_clear(struct state_entry *e)
{
	secret_wipe(e, sizeof(*e));
}

int radius_state_put(struct radius_states *t, const char *client, const char *user,
                     const char *password, uint64_t now_ms, uint64_t expires_ms,
                     uint8_t state_r[RADIUS_STATE_LEN])
{
	struct state_entry *e = NULL;

	if (strlen(client) >= sizeof(e->client) || strlen(user) > RADIUS_USER_MAX ||
	    strlen(password) > RADIUS_PW_MAX || RAND_bytes(state_r, RADIUS_STATE_LEN) != 1)
		return -1;
	for (unsigned i = 0; i < PROBE && e == NULL; i++) {
		struct state_entry *s = &t->slots[(state_index(state_r) + i) % STATES];

		/* an expired one is kept only to tell "expired" from "unknown": reuse it */
		if (!s->live || s->expires_ms < now_ms)
			e = s;
	}
	if (e == NULL)
		return -1;
	state_clear(e);
	memcpy(e->state, state_r, RADIUS_STATE_LEN);
	e->live = true;
	e->expires_ms = expires_ms;
	memcpy(e->client, client, strlen(client) + 1);
	memcpy(e->user, user, strlen(user) + 1);
	memcpy(e->password, password, strlen(password) + 1);
	return 0;
}

enum state_take radius_state_take(struct radius_states *t, const uint8_t *state, size_t len,
                                  const char *client, const char *user, uint64_t now_ms,
                                  char *password_r)
{
	if (len != RADIUS_STATE_LEN)
		return STATE_UNKNOWN;
	for (unsigned i = 0; i < PROBE; i++) {
		struct state_entry *e = &t->slots[(state_index(state) + i) % STATES];
		enum state_take r;

		if (!e->live || CRYPTO_memcmp(e->state, state, RADIUS_STATE_LEN) != 0)
			continue;
		/* Another client or user presenting it: refused, and the State dies. */
		if (strcmp(e->client, client) != 0 || strcmp(e->user, user) != 0)
			r = STATE_UNKNOWN;
		else if (now_ms > e->expires_ms)
			r = STATE_EXPIRED;
		else {
			memcpy(password_r, e->password, strlen(e->password) + 1);
			r = STATE_TAKEN;
		}
		state_clear(e);
		return r;
	}
	return STATE_UNKNOWN;
}

struct cache_entry {
	uint8_t key[RADIUS_CACHE_KEY_LEN];
	enum { SLOT_FREE, SLOT_PENDING, SLOT_DONE } state;
	uint64_t until_ms;
	uint8_t *reply;
	size_t len;
};

struct radius_cache {
	struct cache_entry slots[CACHE];
};

struct radius_cache *radius_cache_new(void)
{
	return calloc(1, sizeof(struct radius_cache));
}

static void entry_clear(struct cache_entry *e)
{
	free(e->reply);
	memset(e, 0, sizeof(*e));
}

void radius_cache_free(struct radius_cache *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < CACHE; i++)
		entry_clear(&c->slots[i]);
	free(c);
}

static unsigned key_hash(const uint8_t *key)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < RADIUS_CACHE_KEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static struct cache_entry *cache_find(struct radius_cache *c, const uint8_t *key)
{
	unsigned h = key_hash(key);

	for (unsigned i = 0; i < PROBE; i++) {
		struct cache_entry *e = &c->slots[(h + i) % CACHE];

		if (e->state != SLOT_FREE && memcmp(e->key, key, RADIUS_CACHE_KEY_LEN) == 0)
			return e;
	}
	return NULL;
}

enum cache_hit radius_cache_lookup(struct radius_cache *c, const uint8_t key[RADIUS_CACHE_KEY_LEN],
                                   uint64_t now_ms, const uint8_t **reply_r, size_t *len_r)
{
	struct cache_entry *e = cache_find(c, key), *victim = NULL;
	unsigned h = key_hash(key);

	if (e != NULL && e->state == SLOT_DONE && e->until_ms < now_ms)
		entry_clear(e);
	else if (e != NULL && e->state == SLOT_PENDING)
		return CACHE_PENDING;
	else if (e != NULL) {
		*reply_r = e->reply;
		*len_r = e->len;
		return CACHE_DONE;
	}
	for (unsigned i = 0; i < PROBE; i++) {
		struct cache_entry *s = &c->slots[(h + i) % CACHE];

		if (s->state == SLOT_FREE || (s->state == SLOT_DONE && s->until_ms < now_ms)) {
			victim = s;
			break;
		}
		/* else the answered entry closest to its end: a retransmission of it is decided
		 * again */
		if (s->state == SLOT_DONE && (victim == NULL || s->until_ms < victim->until_ms))
			victim = s;
	}
	if (victim == NULL)
		return CACHE_FULL;
	entry_clear(victim);
	memcpy(victim->key, key, RADIUS_CACHE_KEY_LEN);
	victim->state = SLOT_PENDING;
	return CACHE_NEW;
}

void radius_cache_done(struct radius_cache *c, const uint8_t key[RADIUS_CACHE_KEY_LEN],
                       const uint8_t *reply, size_t len, uint64_t until_ms)
{
	struct cache_entry *e = cache_find(c, key);

	if (e == NULL || e->state != SLOT_PENDING)
		return;
	if ((e->reply = malloc(len)) == NULL) {
		entry_clear(e);
		return;
	}
	memcpy(e->reply, reply, len);
	e->len = len;
	e->until_ms = until_ms;
	e->state = SLOT_DONE;
}

void radius_cache_forget(struct radius_cache *c, const uint8_t key[RADIUS_CACHE_KEY_LEN])
{
	struct cache_entry *e = cache_find(c, key);

	if (e != NULL)
		entry_clear(e);
}
