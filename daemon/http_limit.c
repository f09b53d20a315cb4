/*
 * Connections and requests per client address on the HTTP front end, in
 * place of libmicrohttpd's per-IP limit, which sees only the reverse proxy:
 * a direct peer's connections are counted by its address, a trusted proxy's
 * requests by the address it forwards (http_reply.c resolves it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http_priv.h"

#define BUCKETS 1024

struct node {
	struct node *next;
	char addr[HTTP_ADDRESS_MAX];
	unsigned n;
};

struct http_limit {
	pthread_mutex_t lock;
	struct node *buckets[BUCKETS];
};

static unsigned bucket(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % BUCKETS;
}

struct http_limit *http_limit_new(void)
{
	struct http_limit *l = calloc(1, sizeof(*l));

	if (l != NULL)
		pthread_mutex_init(&l->lock, NULL);
	return l;
}

void http_limit_free(struct http_limit *l)
{
	if (l == NULL)
		return;
	for (unsigned i = 0; i < BUCKETS; i++)
		while (l->buckets[i] != NULL) {
			struct node *n = l->buckets[i];

			l->buckets[i] = n->next;
			free(n);
		}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* The node of addr (created with create), or NULL; called locked. */
static struct node **find(struct http_limit *l, const char *addr)
{
	struct node **pp = &l->buckets[bucket(addr)];

	while (*pp != NULL && strcmp((*pp)->addr, addr) != 0)
		pp = &(*pp)->next;
	return pp;
}

unsigned http_limit_count(struct http_limit *l, const char *addr)
{
	struct node **pp;
	unsigned n;

	pthread_mutex_lock(&l->lock);
	pp = find(l, addr);
	n = *pp != NULL ? (*pp)->n : 0;
	pthread_mutex_unlock(&l->lock);
	return n;
}

bool http_limit_take(struct http_limit *l, const char *addr, unsigned max)
{
	struct node **pp;
	bool ok = false;

	if (addr[0] == '\0' || strlen(addr) >= HTTP_ADDRESS_MAX)
		return false;
	pthread_mutex_lock(&l->lock);
	pp = find(l, addr);
	if (*pp == NULL && (*pp = calloc(1, sizeof(**pp))) != NULL)
		memcpy((*pp)->addr, addr, strlen(addr) + 1);
	if (*pp != NULL && (*pp)->n < max) {
		(*pp)->n++;
		ok = true;
	}
	if (*pp != NULL && (*pp)->n == 0) {
		struct node *n = *pp;

		*pp = n->next;
		free(n);
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void http_limit_drop(struct http_limit *l, const char *addr)
{
	struct node **pp;

	pthread_mutex_lock(&l->lock);
	pp = find(l, addr);
	if (*pp != NULL && --(*pp)->n == 0) {
		struct node *n = *pp;

		*pp = n->next;
		free(n);
	}
	pthread_mutex_unlock(&l->lock);
}
