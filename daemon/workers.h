/*
 * A fixed pool of worker threads behind a bounded queue, so that hashing
 * never blocks the event loop. Finished requests come back on a list the
 * loop drains when the eventfd wakes it.
 */
#ifndef VERDON_WORKERS_H
#define VERDON_WORKERS_H

#include <stdbool.h>

struct daemon;
struct request;
struct worker;
struct argon2_params;
struct pool;

/* nthreads hash workers (each with its Argon2 memory of params) and nfast fast-lane workers. */
struct pool *pool_new(struct daemon *d, unsigned nthreads, unsigned nfast, unsigned queue_max,
                      const struct argon2_params *params);
/* Queued on req->lane. Fails (false) when that lane's queue is full or the pool is stopping: the
 * caller answers TEMPFAIL. */
bool pool_submit(struct pool *p, struct request *req);
/*
 * Runs a VERB_INLINE request on the calling thread (the event loop); true when
 * it has been answered (req->reply), false when it must go to pool_submit.
 */
bool pool_run_inline(struct pool *p, struct request *req);
/*
 * Runs a fast-lane request (req->lane) in the calling thread, acting as w: a
 * worker of the caller's own, without Argon2 memory (hasher NULL), the
 * caller holding the config's read lock. For a front end whose cheap
 * requests cost less than two thread hand-offs (radius_request.c). The
 * caller runs w->after, if set, once it has answered.
 */
struct config;
void pool_run_here(struct worker *w, struct request *req, const struct config *config);
/* The eventfd to watch; readable when finished requests wait. */
int pool_done_fd(struct pool *p);
/* Takes every finished request, oldest first. */
struct request *pool_take_done(struct pool *p);
/* Requests queued or running. */
unsigned pool_busy(struct pool *p);
/* Requests waiting in each lane's queue (enum lane_kind) and running now, for the metrics. */
void pool_stats(struct pool *p, unsigned queued_r[], unsigned *running_r);
/* Grouped requests (struct verb_group) one worker takes at once: one write transaction. */
#define POOL_GROUP_MAX 64
/* How long shutdown waits for a password hash: a bounded one takes well under a second. */
#define POOL_HASH_WAIT_MS 5000

/* Threads running a request. */
unsigned pool_running(struct pool *p);
/* Threads inside a password hash for POOL_HASH_WAIT_MS or more. */
unsigned pool_long_hashes(struct pool *p);
/*
 * Stops taking requests and joins every thread, except those inside a
 * password hash for POOL_HASH_WAIT_MS, which are left running; returns how
 * many were left. Then the process must exit without freeing what they use
 * (the pool, the store).
 */
unsigned pool_stop(struct pool *p);
/* pool_stop, then frees everything unless a thread was left hashing. */
void pool_free(struct pool *p);

#endif
