/*
 * Requests from a penalised address wait in the loop, not in a thread: each
 * is held until its turn (the penalty's delay), then handed to the workers.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "penalty.h"
#include "reason.h"
#include "server_priv.h"
#include "workers.h"

/* Holds a request from a penalised address until its turn; false: run it now (or refuse). */
bool server_hold(struct server *s, struct request *req)
{
	const char *addr = proto_get(&req->msg, "address");
	uint64_t now = penalty_now_ms();
	struct request **pp;

	if (addr == NULL)
		return false;
	req->due_ms =
	    penalty_slot(s->d->penalty, addr, now, cfg(s)->penalty_base_ms, cfg(s)->penalty_max_ms);
	if (req->due_ms <= now || req->due_ms == UINT64_MAX)
		return false;
	req->held = true;
	req->held_since = now;
	req->next = NULL;
	for (pp = &s->held; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = req;
	if (s->held_next == 0 || req->due_ms < s->held_next)
		s->held_next = req->due_ms;
	return true;
}

/* Runs a request taken off the hold, or answers TEMPFAIL when it cannot. */
static void unhold(struct server *s, struct request *req)
{
	struct conn *c = conn_find(s, req->conn_id);

	penalty_release(s->d->penalty, proto_get(&req->msg, "address"));
	req->held = false;
	req->next = NULL;
	if (c == NULL) {
		request_free(req);
		return;
	}
	if (s->stopping || !pool_submit(s->pool, req)) {
		conn_answer(c, "TEMPFAIL", req->msg.id, REASON_TEMPFAIL, NULL);
		c->pending--;
		request_free(req);
		conn_flush(s, c);
	}
}

/*
 * Hands over the held requests whose turn has come, asking the penalty as it
 * is now (a success clears it: all run at once); returns ms until the next.
 */
int server_release_held(struct server *s)
{
	uint64_t now = penalty_now_ms(), next = 0;
	struct request **pp = &s->held;

	if (s->held == NULL)
		return 1000;
	if (!s->held_wake && !s->stopping && now < s->held_next)
		return s->held_next - now > 1000 ? 1000 : (int)(s->held_next - now);
	s->held_wake = false;
	while (*pp != NULL) {
		struct request *req = *pp;
		uint64_t at = 0;

		if (!s->stopping && conn_find(s, req->conn_id) != NULL)
			at = penalty_turn(s->d->penalty, proto_get(&req->msg, "address"), now,
			                  req->held_since, cfg(s)->penalty_base_ms,
			                  cfg(s)->penalty_max_ms);
		if (at != 0) {
			req->due_ms = at;
			if (next == 0 || at < next)
				next = at;
			pp = &req->next;
			continue;
		}
		*pp = req->next;
		unhold(s, req);
	}
	s->held_next = next;
	if (s->held == NULL)
		return 1000;
	return next <= now ? 0 : next - now > 1000 ? 1000 : (int)(next - now);
}

/* From any thread: a penalty with requests held was cleared. */
void server_wake(void *ctx)
{
	struct server *s = ctx;
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("penalty wake-up: %s", strerror(errno));
}
