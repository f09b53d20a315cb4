#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "password.h"
#include "workers.h"

struct pool {
	struct daemon *daemon;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct request *head, *tail; /* queued */
	struct request *done_head, *done_tail;
	unsigned queued, running, queue_max;
	bool stopping;
	int done_fd;
	unsigned nthreads;
	pthread_t *threads;
	struct worker *workers;
};

static void pool_finish(struct pool *p, struct request *req)
{
	uint64_t one = 1;

	if (req->waiter != NULL) {
		pthread_mutex_lock(&p->lock);
		p->running--;
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_lock(&req->waiter->lock);
		req->waiter->done = true;
		pthread_cond_signal(&req->waiter->cond);
		pthread_mutex_unlock(&req->waiter->lock);
		return;
	}
	pthread_mutex_lock(&p->lock);
	req->next = NULL;
	if (p->done_tail != NULL)
		p->done_tail->next = req;
	else
		p->done_head = req;
	p->done_tail = req;
	p->running--;
	pthread_mutex_unlock(&p->lock);
	if (write(p->done_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("eventfd write: %m");
}

static void run_request(struct worker *w, struct request *req)
{
	struct daemon *d = w->daemon;

	/* The config may be swapped by SIGHUP: hold it for the whole request. */
	pthread_rwlock_rdlock(&d->config_lock);
	req->config = d->config;
	req->now = time(NULL);
	req->verb->handler(w, req);
	req->config = NULL;
	pthread_rwlock_unlock(&d->config_lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	struct request *req;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->head == NULL) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		req = p->head;
		p->head = req->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		p->running++;
		pthread_mutex_unlock(&p->lock);
		run_request(w, req);
		pool_finish(p, req);
	}
}

struct pool *pool_new(struct daemon *d, unsigned nthreads, unsigned queue_max,
                      const struct argon2_params *params)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->daemon = d;
	p->queue_max = queue_max;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->threads = calloc(nthreads, sizeof(*p->threads));
	p->workers = calloc(nthreads, sizeof(*p->workers));
	if (p->done_fd < 0 || p->threads == NULL || p->workers == NULL)
		goto fail;
	for (unsigned i = 0; i < nthreads; i++) {
		struct worker *w = &p->workers[i];

		w->daemon = d;
		w->pool = p;
		w->index = i;
		/* Each worker owns its Argon2 memory, allocated once (SPEC: one hash per core). */
		if ((w->hasher = password_hasher_new(params)) == NULL)
			goto fail;
		if (pthread_create(&p->threads[i], NULL, worker_main, w) != 0) {
			password_hasher_free(w->hasher);
			w->hasher = NULL;
			goto fail;
		}
		p->nthreads++;
	}
	return p;
fail:
	pool_free(p);
	return NULL;
}

bool pool_submit(struct pool *p, struct request *req)
{
	bool ok = false;

	pthread_mutex_lock(&p->lock);
	if (!p->stopping && p->queued < p->queue_max) {
		req->next = NULL;
		if (p->tail != NULL)
			p->tail->next = req;
		else
			p->head = req;
		p->tail = req;
		p->queued++;
		pthread_cond_signal(&p->wake);
		ok = true;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

int pool_done_fd(struct pool *p)
{
	return p->done_fd;
}

struct request *pool_take_done(struct pool *p)
{
	struct request *list;
	uint64_t n;

	if (read(p->done_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("eventfd read: %m");
	pthread_mutex_lock(&p->lock);
	list = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	return list;
}

unsigned pool_busy(struct pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->queued + p->running;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned i = 0; p->workers != NULL && i < p->nthreads; i++)
		password_hasher_free(p->workers[i].hasher);
	if (p->done_fd >= 0)
		close(p->done_fd);
	free(p->threads);
	free(p->workers);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
