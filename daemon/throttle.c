#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secret.h"
#include "store.h"
#include "throttle.h"
#include "throttle_store.h"

#define TAG_KEEP THROTTLE_TAG_KEEP

struct entry {
	struct throttle_key key;
	bool used;
	unsigned failures;
	int64_t last_failure;
	char tag[TAG_KEEP + 1];
};

struct throttle {
	struct store *shared; /* a cluster's store: the counters live there (throttle_store.c) */
	pthread_mutex_t lock;
	struct entry sets[THROTTLE_SETS][THROTTLE_WAYS];
};

struct throttle *throttle_new(void)
{
	struct throttle *t = calloc(1, sizeof(*t));

	if (t != NULL)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

void throttle_share(struct throttle *t, struct store *store)
{
	t->shared = store;
}

bool throttle_shared(const struct throttle *t)
{
	return t->shared != NULL;
}

void throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	secret_wipe(t->sets, sizeof(t->sets));
	free(t);
}

static struct entry *set_of(struct throttle *t, const struct throttle_key *key)
{
	uint32_t h;

	/* The key is a keyed hash: its first bytes are as good as any index. */
	memcpy(&h, key->b, sizeof(h));
	return t->sets[h % THROTTLE_SETS];
}

static struct entry *find(struct throttle *t, const struct throttle_key *key)
{
	struct entry *set = set_of(t, key);

	for (unsigned i = 0; i < THROTTLE_WAYS; i++)
		if (set[i].used && memcmp(set[i].key.b, key->b, THROTTLE_KEY_LEN) == 0)
			return &set[i];
	return NULL;
}

void throttle_get(struct throttle *t, const struct throttle_key *key, int64_t now,
                  unsigned forget_after, unsigned *failures_r, int64_t *last_r)
{
	struct entry *e;

	*failures_r = 0;
	*last_r = 0;
	if (t->shared != NULL) {
		/* On a store error the decision's own transaction answers TEMPFAIL anyway. */
		(void)throttle_store_get(t->shared, key, now, forget_after, failures_r, last_r);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key)) != NULL) {
		if (now - e->last_failure >= (int64_t)forget_after) {
			memset(e, 0, sizeof(*e));
		} else {
			*failures_r = e->failures;
			*last_r = e->last_failure;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

void throttle_fail(struct throttle *t, const struct throttle_key *key, const char *tag, int64_t now)
{
	struct entry *e, *set;
	size_t n = strnlen(tag, TAG_KEEP);

	if (t->shared != NULL) {
		if (throttle_store_fail(t->shared, key, tag, now) != STORE_OK)
			log_err("throttle: a failure could not be counted in the store");
		return;
	}
	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key)) == NULL) {
		set = set_of(t, key);
		e = &set[0];
		for (unsigned i = 0; i < THROTTLE_WAYS && e->used; i++)
			if (!set[i].used || set[i].last_failure < e->last_failure)
				e = &set[i];
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->key = *key;
	}
	if (n == 0 || e->tag[0] == '\0' || strlen(e->tag) != n || !secret_equal(e->tag, tag, n)) {
		e->failures++;
		memcpy(e->tag, tag, n);
		e->tag[n] = '\0';
		e->last_failure = now;
	}
	pthread_mutex_unlock(&t->lock);
}

void throttle_clear(struct throttle *t, const struct throttle_key *key)
{
	struct entry *e;

	if (t->shared != NULL) {
		if (throttle_store_clear(t->shared, key) != STORE_OK)
			log_err("throttle: a counter could not be cleared in the store");
		return;
	}
	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key)) != NULL)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&t->lock);
}
