/*
 * The event loop's state, shared by its files: server.c (the loop, signals,
 * timers, reload), server_conn.c (connections: reading lines, answering),
 * server_hold.c (requests held by the address penalty).
 */
#ifndef VERDON_SERVER_PRIV_H
#define VERDON_SERVER_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

#include "conn.h"
#include "daemon.h"

struct server {
	struct daemon *d;
	struct pool *pool;
	struct http_server *http;       /* NULL without [http] listen */
	struct radius_server *radius;   /* NULL without [radius] or [radsec] listen */
	struct metrics_server *metrics; /* NULL without [metrics] listen */
	int ep, listen_fd[2], signal_fd, timer_fd, wake_fd;
	struct conn **conns; /* indexed by fd */
	unsigned nconns_max;
	unsigned nconns;
	uint64_t seq;
	bool stopping;
	time_t stop_deadline;
	struct request *held; /* by the address penalty, in arrival order */
	uint64_t held_next;   /* the soonest time a held request may run */
	bool held_wake;       /* a penalty was cleared: ask every held request again */
	unsigned ticks;
	bool inline_reads; /* the store reads without waiting: cheap requests run on the loop */
};

static inline const struct config *cfg(const struct server *s)
{
	/* Only the loop swaps the config, so the loop may read it without the lock. */
	return s->d->config;
}

static inline int watch(struct server *s, int fd, uint32_t events, uint64_t tag, int op)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};

	return epoll_ctl(s->ep, op, fd, &ev);
}

/* server_conn.c */
struct conn *conn_find(struct server *s, uint64_t id);
void conn_close(struct server *s, struct conn *c);
/* Writes what it can; closes the connection once done with it. false: it is gone. */
bool conn_flush(struct server *s, struct conn *c);
void conn_queue(struct conn *c, const char *data, size_t len);
void conn_answer(struct conn *c, const char *verb, const char *id, int reason, const char *detail);
void conn_reply(struct conn *c, const struct request *req);
void conn_read(struct server *s, struct conn *c);

/* server_hold.c */
/* Holds a request from a penalised address until its turn; false: run it now (or refuse). */
bool server_hold(struct server *s, struct request *req);
/* Hands over the held requests whose turn has come; ms until the next. */
int server_release_held(struct server *s);
/* From any thread: a penalty with requests held was cleared. */
void server_wake(void *ctx);

#endif
