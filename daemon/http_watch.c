/*
 * What libmicrohttpd does not do for us. Its timeout restarts with every byte,
 * so a client that sends its headers one byte at a time would hold a
 * connection for days: here a request must arrive whole within [http] timeout
 * of the connection's start (or of the previous answer), else its socket is
 * shut down. And a request from a penalised address is suspended until its
 * slot, as the loop holds a socket request, instead of blocking a thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "daemon.h"
#include "http_priv.h"
#include "log.h"
#include "penalty.h"

struct http_watched {
	struct http_watched *prev, *next;
	int fd;
	enum http_phase phase;
	uint64_t since; /* monotonic ms */
	bool cut;
};

struct hold {
	struct hold *next;
	struct http_ctx *hc;
	uint64_t since_ms; /* when the hold began */
};

struct http_watch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, stopping;
	unsigned timeout;
	struct http_watched *conns;
	struct hold *holds;  /* in arrival order */
	uint64_t holds_next; /* the soonest a held request may run */
	bool rescan;         /* a penalty was cleared: ask every hold again */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void resume_all(struct hold *h)
{
	while (h != NULL) {
		struct hold *next = h->next;

		MHD_resume_connection(h->hc->conn);
		free(h);
		h = next;
	}
}

/* Takes the holds whose turn has come (all when stopping) off the list; called locked. */
static struct hold *take_due(struct http_watch *w, uint64_t now)
{
	struct hold *due = NULL, **tail = &due, **pp = &w->holds;
	uint64_t next = 0;

	if (!w->stopping && !w->rescan && now < w->holds_next)
		return NULL;
	w->rescan = false;
	while (*pp != NULL) {
		struct hold *h = *pp;
		const struct http_server *hs = h->hc->hs;
		uint64_t at = 0;

		if (!w->stopping)
			at = penalty_turn(hs->d->penalty, h->hc->address, now, h->since_ms,
			                  hs->set.penalty_base_ms, hs->set.penalty_max_ms);
		if (at != 0) {
			if (next == 0 || at < next)
				next = at;
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		h->next = NULL;
		h->hc->released = true;
		*tail = h;
		tail = &h->next;
	}
	w->holds_next = next;
	return due;
}

static void reap(struct http_watch *w)
{
	uint64_t now = mono_ms();

	for (struct http_watched *c = w->conns; c != NULL; c = c->next) {
		if (c->cut || c->phase != HTTP_PHASE_WAIT || now - c->since <= w->timeout * 1000ull)
			continue;
		/* The record lives until libmicrohttpd's CLOSED notice, which takes our lock
		 * before it closes the socket: this fd is still that connection's. */
		shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
	}
}

static void *watch_main(void *arg)
{
	struct http_watch *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		uint64_t now = penalty_now_ms(), until = now + 1000;
		struct timespec ts;
		struct hold *due;

		if (w->holds != NULL && w->holds_next < until)
			until = w->holds_next;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000;
		pthread_cond_timedwait(&w->wake, &w->lock, &ts);
		due = take_due(w, penalty_now_ms());
		reap(w);
		pthread_mutex_unlock(&w->lock);
		resume_all(due);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct http_watch *http_watch_new(unsigned timeout)
{
	struct http_watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->timeout = timeout;
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		http_watch_free(w);
		return NULL;
	}
	w->started = true;
	return w;
}

void http_watch_stop(struct http_watch *w)
{
	struct hold *due;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
	pthread_mutex_lock(&w->lock);
	due = take_due(w, UINT64_MAX);
	pthread_mutex_unlock(&w->lock);
	resume_all(due);
}

void http_watch_free(struct http_watch *w)
{
	if (w == NULL)
		return;
	http_watch_stop(w);
	while (w->conns != NULL) {
		struct http_watched *c = w->conns;

		w->conns = c->next;
		free(c);
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void http_watch_opened(struct http_watch *w, struct MHD_Connection *conn, void **ctx_r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct http_watched *c;

	*ctx_r = NULL;
	if (ci == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return; /* not watched: libmicrohttpd's own timeout still applies */
	c->fd = ci->connect_fd;
	c->phase = HTTP_PHASE_WAIT;
	c->since = mono_ms();
	pthread_mutex_lock(&w->lock);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	pthread_mutex_unlock(&w->lock);
	*ctx_r = c;
}

void http_watch_closed(struct http_watch *w, void **ctx)
{
	struct http_watched *c = *ctx;

	if (c == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&w->lock);
	free(c);
	*ctx = NULL;
}

void http_watch_phase(struct http_watch *w, struct http_watched *c, enum http_phase phase)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	c->phase = phase;
	c->since = mono_ms();
	pthread_mutex_unlock(&w->lock);
}

void http_watch_wake(void *ctx)
{
	struct http_watch *w = ctx;

	pthread_mutex_lock(&w->lock);
	w->rescan = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

bool http_watch_hold(struct http_watch *w, struct http_ctx *hc, uint64_t due_ms)
{
	struct hold *h = calloc(1, sizeof(*h)), **pp;
	bool stopping;

	pthread_mutex_lock(&w->lock);
	stopping = w->stopping;
	pthread_mutex_unlock(&w->lock);
	if (h == NULL || stopping) {
		free(h);
		return false;
	}
	h->hc = hc;
	h->since_ms = penalty_now_ms();
	/* Suspended before it is listed, so that nothing resumes it too early. */
	MHD_suspend_connection(hc->conn);
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		hc->released = true;
		h->next = NULL;
		resume_all(h);
		return true;
	}
	for (pp = &w->holds; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = h;
	if (w->holds_next == 0 || due_ms < w->holds_next)
		w->holds_next = due_ms;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return true;
}
