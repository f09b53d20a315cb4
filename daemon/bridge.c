#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "daemon.h"
#include "rescue.h"
#include "secret.h"
#include "workers.h"

static const struct verb *find_verb(const char *name)
{
	/* self_verbs: only this front end, with the identifiant of its session, sends them. */
	const struct verb *tables[] = {auth_verbs, admin_verbs, self_verbs};

	for (size_t t = 0; t < 3; t++)
		for (const struct verb *v = tables[t]; v->name != NULL; v++)
			if (strcmp(v->name, name) == 0)
				return v;
	return NULL;
}

/* A request for the handlers from a finished writer; NULL when out of memory or unknown. */
static struct request *request_of(const struct proto_writer *w, enum socket_kind kind)
{
	struct request *req = calloc(1, sizeof(*req));
	size_t len = w->len;

	if (req == NULL)
		return NULL;
	if (len > 0 && w->buf[len - 1] == '\n')
		len--;
	if ((req->line = malloc(len + 1)) == NULL)
		goto fail;
	memcpy(req->line, w->buf, len);
	req->line[len] = '\0';
	req->line_len = len;
	if (proto_parse(req->line, len, &req->msg) != PROTO_OK ||
	    (req->verb = find_verb(req->msg.verb)) == NULL)
		goto fail;
	req->kind = kind;
	req->lane = (req->verb->flags & VERB_FAST) ? LANE_FAST : LANE_HASH;
	return req;
fail:
	request_free(req);
	return NULL;
}

int bridge_submit(struct daemon *d, const struct proto_writer *w, struct worker *here,
                  struct request **done_r, void (*notify)(struct request *req, void *arg),
                  void *arg)
{
	struct request *req;

	if (d->pool == NULL || (req = request_of(w, SOCKET_RADIUS)) == NULL)
		return -1;
	/* An app password goes to the fast lane, as on the auth socket (the caller holds the
	 * config's read lock). */
	req->lane = request_lane(d->config, req);
	if (here != NULL && req->lane == LANE_FAST) {
		pool_run_here(here, req, d->config);
		*done_r = req;
		return 1;
	}
	req->notify = notify;
	req->notify_arg = arg;
	if (!pool_submit(d->pool, req)) {
		request_free(req);
		return -1;
	}
	return 0;
}

int bridge_call(struct daemon *d, const struct proto_writer *w, struct reply *reply_r)
{
	struct waiter waiter = {.done = false};
	struct request *req = NULL;
	int r = -1;

	memset(reply_r, 0, sizeof(*reply_r));
	if (d->pool == NULL || (req = request_of(w, SOCKET_HTTP)) == NULL)
		goto out;
	req->waiter = &waiter;
	pthread_mutex_init(&waiter.lock, NULL);
	pthread_cond_init(&waiter.cond, NULL);
	if (!pool_submit(d->pool, req))
		goto destroy;
	pthread_mutex_lock(&waiter.lock);
	while (!waiter.done)
		pthread_cond_wait(&waiter.cond, &waiter.lock);
	pthread_mutex_unlock(&waiter.lock);
	*reply_r = req->reply;
	memset(&req->reply, 0, sizeof(req->reply));
	r = reply_r->failed ? -1 : 0;
destroy:
	pthread_cond_destroy(&waiter.cond);
	pthread_mutex_destroy(&waiter.lock);
out:
	request_free(req);
	return r;
}
