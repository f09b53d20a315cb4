#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "throttle.h"

#define TAG_KEEP 16 /* hex digits of the last wrong secret's tag: enough to tell a retry */

struct entry {
	struct throttle_key key;
	bool used;
	unsigned failures;
	int64_t last_failure;
	char tag[TAG_KEEP + 1];
};

struct throttle {
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

	pthread_mutex_lock(&t->lock);
	if ((e = find(t, key)) != NULL)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&t->lock);
}
