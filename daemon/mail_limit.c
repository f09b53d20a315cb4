/*
 * A fixed array of entries, each a key and a ring of its last send times.
 * Every call scans the whole array, whatever it finds, so that its time
 * tells nothing about who was mailed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mail_limit.h"

struct entry {
	char key[MAIL_LIMIT_KEY_MAX + 1]; /* "": free */
	int64_t sent[MAIL_LIMIT_PER_DAY_MAX];
	unsigned next; /* ring position of the next send */
	int64_t last;  /* the latest send, for eviction */
};

struct mail_limit {
	pthread_mutex_t lock;
	unsigned capacity;
	struct entry *entries;
};

struct mail_limit *mail_limit_new(unsigned capacity)
{
	struct mail_limit *ml = calloc(1, sizeof(*ml));

	if (ml == NULL || capacity < 2 ||
	    (ml->entries = calloc(capacity, sizeof(*ml->entries))) == NULL) {
		free(ml);
		return NULL;
	}
	ml->capacity = capacity;
	pthread_mutex_init(&ml->lock, NULL);
	return ml;
}

void mail_limit_free(struct mail_limit *ml)
{
	if (ml == NULL)
		return;
	pthread_mutex_destroy(&ml->lock);
	free(ml->entries);
	free(ml);
}

static unsigned count_since(const struct entry *e, int64_t from)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAIL_LIMIT_PER_DAY_MAX; i++)
		n += e->sent[i] != 0 && e->sent[i] > from;
	return n;
}

/* Why e may not be mailed now, or NULL. */
static const char *over(const struct entry *e, const struct mail_limit_conf *c, int64_t now,
                        const char *hour_why, const char *day_why)
{
	if (e == NULL)
		return NULL;
	if (count_since(e, now - (int64_t)c->hour_window) >= c->per_hour)
		return hour_why;
	if (count_since(e, now - MAIL_LIMIT_DAY) >= c->per_day)
		return day_why;
	return NULL;
}

/* The entry for key, or a free or least recently mailed one made its own. */
static struct entry *claim(struct entry *found, struct entry *spare, const char *key)
{
	if (found != NULL)
		return found;
	memset(spare, 0, sizeof(*spare));
	strncpy(spare->key, key, MAIL_LIMIT_KEY_MAX);
	return spare;
}

static void record(struct entry *e, int64_t now)
{
	e->sent[e->next] = now;
	e->next = (e->next + 1) % MAIL_LIMIT_PER_DAY_MAX;
	e->last = now;
}

bool mail_limit_take(struct mail_limit *ml, const struct mail_limit_conf *conf,
                     const char *account_key, const char *address_key, int64_t now,
                     const char **why_r)
{
	struct entry *acc = NULL, *addr = NULL, *old1 = NULL, *old2 = NULL;
	const char *why;

	*why_r = "no account";
	pthread_mutex_lock(&ml->lock);
	/* The whole array, always; the two least recently mailed entries kept as spares. */
	for (unsigned i = 0; i < ml->capacity; i++) {
		struct entry *e = &ml->entries[i];

		if (account_key != NULL && e->key[0] != '\0' &&
		    strncmp(e->key, account_key, MAIL_LIMIT_KEY_MAX) == 0)
			acc = e;
		else if (address_key != NULL && e->key[0] != '\0' &&
		         strncmp(e->key, address_key, MAIL_LIMIT_KEY_MAX) == 0)
			addr = e;
		else if (old1 == NULL || e->last < old1->last) {
			old2 = old1;
			old1 = e;
		} else if (old2 == NULL || e->last < old2->last) {
			old2 = e;
		}
	}
	if (account_key == NULL || address_key == NULL)
		goto out;
	why = over(acc, conf, now, "mail limit: mails_per_hour for this account",
	           "mail limit: mails_per_day for this account");
	if (why == NULL)
		why = over(addr, conf, now, "mail limit: mails_per_hour for this rescue address",
		           "mail limit: mails_per_day for this rescue address");
	*why_r = why;
	if (why != NULL)
		goto out;
	/* Two entries at least (mail_limit_new): the spares are there when needed. */
	acc = claim(acc, old1, account_key);
	addr = claim(addr, acc == old1 ? old2 : old1, address_key);
	record(acc, now);
	record(addr, now);
	*why_r = NULL;
out:
	pthread_mutex_unlock(&ml->lock);
	return *why_r == NULL;
}

/* One send at `when` forgotten: the latest of the ring's equal times. */
static void forget(struct entry *e, int64_t when)
{
	for (unsigned n = 1; n <= MAIL_LIMIT_PER_DAY_MAX; n++) {
		unsigned i = (e->next + MAIL_LIMIT_PER_DAY_MAX - n) % MAIL_LIMIT_PER_DAY_MAX;

		if (e->sent[i] == when) {
			e->sent[i] = 0;
			return;
		}
	}
}

void mail_limit_give_back(struct mail_limit *ml, const char *account_key, const char *address_key,
                          int64_t when)
{
	if (when == 0)
		return;
	pthread_mutex_lock(&ml->lock);
	for (unsigned i = 0; i < ml->capacity; i++) {
		struct entry *e = &ml->entries[i];

		if (e->key[0] == '\0')
			continue;
		if ((account_key != NULL &&
		     strncmp(e->key, account_key, MAIL_LIMIT_KEY_MAX) == 0) ||
		    (address_key != NULL && strncmp(e->key, address_key, MAIL_LIMIT_KEY_MAX) == 0))
			forget(e, when);
	}
	pthread_mutex_unlock(&ml->lock);
}
