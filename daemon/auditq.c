#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auditq.h"
#include "log.h"
#include "store.h"

#define AUDITQ_MAX 100000 /* a minute of a busy académie's logins, with room to spare */

struct auditq {
	pthread_mutex_t lock;
	/* Held from taking the records to their commit: a reader that flushes finds them
	 * written, not taken away by a flush still under way. */
	pthread_mutex_t flush_lock;
	char **items;
	size_t n, cap;
	unsigned long dropped;
};

struct auditq *auditq_new(void)
{
	struct auditq *q = calloc(1, sizeof(*q));

	if (q != NULL) {
		pthread_mutex_init(&q->lock, NULL);
		pthread_mutex_init(&q->flush_lock, NULL);
	}
	return q;
}

static void free_items(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

void auditq_free(struct auditq *q)
{
	if (q == NULL)
		return;
	free_items(q->items, q->n);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->flush_lock);
	free(q);
}

void auditq_push(struct auditq *q, const struct audit_event *ev)
{
	char *text = audit_format(ev);

	if (text == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->n == q->cap) {
		size_t cap = q->cap == 0 ? 256 : q->cap * 2;
		char **items = cap <= AUDITQ_MAX ? realloc(q->items, cap * sizeof(*items)) : NULL;

		if (items == NULL) {
			q->dropped++;
			pthread_mutex_unlock(&q->lock);
			free(text);
			return;
		}
		q->items = items;
		q->cap = cap;
	}
	q->items[q->n++] = text;
	pthread_mutex_unlock(&q->lock);
}

size_t auditq_pending(struct auditq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void auditq_flush(struct auditq *q, struct store *store)
{
	struct store_txn *txn = NULL;
	char **items;
	size_t n, i;
	unsigned long dropped;
	uint64_t seq;

	pthread_mutex_lock(&q->flush_lock);
	pthread_mutex_lock(&q->lock);
	items = q->items;
	n = q->n;
	dropped = q->dropped;
	q->items = NULL;
	q->n = q->cap = 0;
	q->dropped = 0;
	pthread_mutex_unlock(&q->lock);
	if (dropped > 0)
		log_err("audit: %lu records dropped: the queue was full", dropped);
	if (n == 0)
		goto out;
	if (store_begin(store, true, &txn) != STORE_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (store_append(txn, STORE_AUDIT, items[i], strlen(items[i]), &seq) != STORE_OK)
			goto fail;
	if (store_commit(txn) != STORE_OK) {
		txn = NULL;
		goto fail;
	}
	goto out;
fail:
	store_abort(txn);
	log_err("audit: %zu queued records could not be written", n);
out:
	pthread_mutex_unlock(&q->flush_lock);
	free_items(items, n);
}
