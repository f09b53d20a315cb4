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
struct argon2_params;
struct pool;

/* nthreads hash workers (each with its Argon2 memory of params) and nfast fast-lane workers. */
struct pool *pool_new(struct daemon *d, unsigned nthreads, unsigned nfast, unsigned queue_max,
                      const struct argon2_params *params);
/* Queued on req->lane. Fails (false) when that lane's queue is full or the pool is stopping: the caller answers TEMPFAIL. */
bool pool_submit(struct pool *p, struct request *req);
/* The eventfd to watch; readable when finished requests wait. */
int pool_done_fd(struct pool *p);
/* Takes every finished request, oldest first. */
struct request *pool_take_done(struct pool *p);
/* Requests queued or running. */
unsigned pool_busy(struct pool *p);
/* Lets queued requests finish, then joins the threads. */
void pool_free(struct pool *p);

#endif
