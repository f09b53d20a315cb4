#define _GNU_SOURCE /* pthread_tryjoin_np */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "password.h"
#include "store.h"
#include "workers.h"

/*
 * Two lanes, so that a cheap request never waits behind Argon2: the hash
 * lane's workers (one per core, each with its Argon2 memory) take hash-lane
 * work first and fast-lane work when idle; the fast lane's workers own no
 * Argon2 memory and take only fast-lane work (tokens, app passwords, ACCT,
 * LOGOUT, reads). Each lane has its bounded queue; both share the list of
 * finished requests and its eventfd.
 */
struct lane {
	pthread_cond_t wake;
	struct request *head, *tail;
	unsigned queued;
};

struct pool {
	struct daemon *daemon;
	pthread_mutex_t lock;
	struct lane lanes[LANE_COUNT];
	struct request *done_head, *done_tail;
	unsigned running, queue_max;
	bool group_running; /* one group at a time: the rows behind it gather into the next */
	bool stopping;
	bool stopped;       /* pool_stop has run */
	unsigned abandoned; /* threads left inside a hash at pool_stop */
	int done_fd;
	unsigned nthreads;
	pthread_t *threads;
	struct worker *workers;
	struct worker loop_worker; /* the event loop's, for pool_run_inline: no Argon2 memory */
};

static void pool_finish(struct pool *p, struct request *req)
{
	uint64_t one = 1;

	if (req->notify != NULL) {
		pthread_mutex_lock(&p->lock);
		p->running--;
		pthread_mutex_unlock(&p->lock);
		req->notify(req, req->notify_arg);
		return;
	}
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

/* The handler, with the config the caller holds read-locked; then the metrics' latency. */
static void run_locked(struct worker *w, struct request *req, const struct config *config)
{
	struct timespec done;

	req->config = config;
	req->now = time(NULL);
	password_hasher_limits(w->hasher, &req->config->hash_limits);
#ifdef VERDON_FAILPOINTS
	/* The loop's own requests (timers) have no connection and no waiter. */
	store_failpoint_thread(req->conn_id != 0 || req->waiter != NULL);
#endif
	req->verb->handler(w, req);
	password_hasher_limits(w->hasher, NULL);
	req->config = NULL;
	if (req->deferred)
		return; /* counted once, by the worker that runs it */
	clock_gettime(CLOCK_MONOTONIC, &done);
	metrics_request_done(req, (double)(done.tv_sec - req->submitted.tv_sec) +
	                              (double)(done.tv_nsec - req->submitted.tv_nsec) / 1e9);
}

static void run_request(struct worker *w, struct request *req)
{
	struct daemon *d = w->daemon;

	/* The config may be swapped by SIGHUP: hold it for the whole request. */
	pthread_rwlock_rdlock(&d->config_lock);
	run_locked(w, req, d->config);
	pthread_rwlock_unlock(&d->config_lock);
}

void pool_run_here(struct worker *w, struct request *req, const struct config *config)
{
	clock_gettime(CLOCK_MONOTONIC, &req->submitted);
	run_locked(w, req, config);
}

const struct verb_group *request_group(const struct config *config, const struct request *req)
{
	for (const struct verb_group *const *g = verb_groups; *g != NULL; g++)
		if ((*g)->handler == req->verb->handler && (*g)->takes(config, req))
			return *g;
	return NULL;
}

/* Runs a group (POOL_GROUP_MAX at most) in one go, the config held as for one request. */
static void run_group(struct worker *w, struct request **reqs, size_t n)
{
	struct daemon *d = w->daemon;
	struct timespec done;
	time_t now = time(NULL);

	pthread_rwlock_rdlock(&d->config_lock);
	for (size_t i = 0; i < n; i++) {
		reqs[i]->config = d->config;
		reqs[i]->now = now;
	}
	password_hasher_limits(w->hasher, &d->config->hash_limits);
#ifdef VERDON_FAILPOINTS
	store_failpoint_thread(true);
#endif
	reqs[0]->group->run(w, reqs, n);
	password_hasher_limits(w->hasher, NULL);
	pthread_rwlock_unlock(&d->config_lock);
	clock_gettime(CLOCK_MONOTONIC, &done);
	for (size_t i = 0; i < n; i++) {
		reqs[i]->config = NULL;
		metrics_request_done(reqs[i],
		                     (double)(done.tv_sec - reqs[i]->submitted.tv_sec) +
		                         (double)(done.tv_nsec - reqs[i]->submitted.tv_nsec) / 1e9);
	}
}

/* The next request for a worker of lane mine, or NULL when it has none. Under the lock. */
static struct request *lane_take(struct pool *p, enum lane_kind mine)
{
	struct lane *l = &p->lanes[mine];
	struct request *req;

	/* An idle hash worker helps the fast lane; a fast worker never takes a hash. So does one
	 * whose next request waits for the group running now to commit. */
	if ((l->head == NULL || (l->head->group != NULL && p->group_running)) && mine == LANE_HASH)
		l = &p->lanes[LANE_FAST];
	if ((req = l->head) == NULL || (req->group != NULL && p->group_running))
		return NULL;
	l->head = req->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->queued--;
	return req;
}

/*
 * A grouped request takes with it the requests of its group queued right
 * behind it, in their order: one write transaction for all (a group commit).
 * One group runs at a time (the store has one writer anyway), so the rows
 * that arrive while it commits gather into the next one instead of making
 * a small group of their own wait for the write lock. Under the lock;
 * returns how many are in reqs.
 */
static size_t group_take(struct pool *p, struct request *first,
                         struct request *reqs[POOL_GROUP_MAX])
{
	struct lane *l = &p->lanes[first->lane];
	size_t n = 1;

	reqs[0] = first;
	while (n < POOL_GROUP_MAX && l->head != NULL && l->head->group == first->group)
		reqs[n++] = lane_take(p, first->lane);
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	enum lane_kind mine = w->hasher != NULL ? LANE_HASH : LANE_FAST;
	struct request *req, *group[POOL_GROUP_MAX];
	size_t n = 0;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while ((req = lane_take(p, mine)) == NULL && !p->stopping)
			pthread_cond_wait(&p->lanes[mine].wake, &p->lock);
		if (req == NULL) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		if (req->group != NULL) {
			n = group_take(p, req, group);
			p->group_running = true;
		}
		p->running += req->group != NULL ? (unsigned)n : 1;
		pthread_mutex_unlock(&p->lock);
		if (req->group != NULL) {
			/* Every answer leaves once the group's transaction has committed. */
			run_group(w, group, n);
			pthread_mutex_lock(&p->lock);
			p->group_running = false;
			pthread_cond_broadcast(&p->lanes[LANE_HASH].wake);
			pthread_mutex_unlock(&p->lock);
			for (size_t i = 0; i < n; i++)
				pool_finish(p, group[i]);
			continue;
		}
		run_request(w, req);
		pool_finish(p, req);
		if (w->after != NULL) {
			/* The answer has gone: what it must not wait for (nor show the time of). */
			pthread_rwlock_rdlock(&w->daemon->config_lock);
			w->after(w, w->daemon->config);
			pthread_rwlock_unlock(&w->daemon->config_lock);
			w->after = NULL;
		}
	}
}

struct pool *pool_new(struct daemon *d, unsigned nthreads, unsigned nfast, unsigned queue_max,
                      const struct argon2_params *params)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->daemon = d;
	p->queue_max = queue_max;
	p->loop_worker.daemon = d;
	p->loop_worker.pool = p;
	p->loop_worker.index = nthreads + nfast;
	pthread_mutex_init(&p->lock, NULL);
	for (int k = 0; k < LANE_COUNT; k++)
		pthread_cond_init(&p->lanes[k].wake, NULL);
	p->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->threads = calloc(nthreads + nfast, sizeof(*p->threads));
	p->workers = calloc(nthreads + nfast, sizeof(*p->workers));
	if (p->done_fd < 0 || p->threads == NULL || p->workers == NULL)
		goto fail;
	for (unsigned i = 0; i < nthreads + nfast; i++) {
		struct worker *w = &p->workers[i];

		w->daemon = d;
		w->pool = p;
		w->index = i;
		/* Each hash worker owns its Argon2 memory, allocated once (SPEC: one hash per
		 * core); fast workers have none. */
		if (i < nthreads && (w->hasher = password_hasher_new(params)) == NULL)
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
	struct lane *l = &p->lanes[req->lane];
	bool ok = false;

	pthread_mutex_lock(&p->lock);
	if (!p->stopping && l->queued < p->queue_max) {
		req->next = NULL;
		clock_gettime(CLOCK_MONOTONIC, &req->submitted);
		if (l->tail != NULL)
			l->tail->next = req;
		else
			l->head = req;
		l->tail = req;
		l->queued++;
		pthread_cond_signal(&l->wake);
		/* An idle hash worker may take fast work too. */
		if (req->lane == LANE_FAST)
			pthread_cond_signal(&p->lanes[LANE_HASH].wake);
		ok = true;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/*
 * A cheap request costs less than the two thread wake-ups a hand-off to a
 * worker and back takes: the event loop runs it itself when the store answers
 * reads without waiting (LMDB, not a database over the network). What would
 * write, and so wait for a synced commit, is deferred to the workers.
 */
bool pool_run_inline(struct pool *p, struct request *req)
{
	struct worker *w = &p->loop_worker;

	req->inline_try = true;
	req->deferred = false;
	clock_gettime(CLOCK_MONOTONIC, &req->submitted);
	run_request(w, req);
#ifdef VERDON_FAILPOINTS
	store_failpoint_thread(false); /* the loop's own timers do not count */
#endif
	req->inline_try = false;
	if (w->after != NULL) {
		pthread_rwlock_rdlock(&w->daemon->config_lock);
		w->after(w, w->daemon->config);
		pthread_rwlock_unlock(&w->daemon->config_lock);
		w->after = NULL;
	}
	if (!req->deferred)
		return true;
	req->deferred = false;
	return false;
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

void pool_stats(struct pool *p, unsigned queued_r[], unsigned *running_r)
{
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < LANE_COUNT; i++)
		queued_r[i] = p->lanes[i].queued;
	*running_r = p->running;
	pthread_mutex_unlock(&p->lock);
}

unsigned pool_busy(struct pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->lanes[LANE_HASH].queued + p->lanes[LANE_FAST].queued + p->running;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned pool_long_hashes(struct pool *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->nthreads; i++)
		n += password_hasher_hashing_ms(p->workers[i].hasher) >= POOL_HASH_WAIT_MS;
	return n;
}

unsigned pool_running(struct pool *p)
{
	unsigned running;

	pthread_mutex_lock(&p->lock);
	running = p->running;
	pthread_mutex_unlock(&p->lock);
	return running;
}

/*
 * A hash has decided nothing yet and cannot be interrupted (crypt_rn on a
 * stored hash of minutes): a thread inside one for POOL_HASH_WAIT_MS is left
 * behind, the process exits around it. Anything else is waited for.
 */
unsigned pool_stop(struct pool *p)
{
	static const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};

	if (p->stopped)
		return p->abandoned;
	p->stopped = true;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	for (int k = 0; k < LANE_COUNT; k++)
		pthread_cond_broadcast(&p->lanes[k].wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++) {
		while (pthread_tryjoin_np(p->threads[i], NULL) == EBUSY) {
			if (password_hasher_hashing_ms(p->workers[i].hasher) >= POOL_HASH_WAIT_MS) {
				pthread_detach(p->threads[i]);
				p->abandoned++;
				break;
			}
			nanosleep(&tick, NULL);
		}
	}
	if (p->abandoned > 0)
		log_warn("stopping without waiting for %u password hashes running for %d s or more",
		         p->abandoned, POOL_HASH_WAIT_MS / 1000);
	return p->abandoned;
}

void pool_free(struct pool *p)
{
	/* A thread still hashing holds its hasher and the pool: the process exits around it. */
	if (p == NULL || pool_stop(p) > 0)
		return;
	for (unsigned i = 0; p->workers != NULL && i < p->nthreads; i++)
		password_hasher_free(p->workers[i].hasher);
	if (p->done_fd >= 0)
		close(p->done_fd);
	free(p->threads);
	free(p->workers);
	for (int k = 0; k < LANE_COUNT; k++)
		pthread_cond_destroy(&p->lanes[k].wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
