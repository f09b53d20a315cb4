/*
 * The event loop's connections: reading their lines, handing requests on
 * (or answering cheap ones on the spot), writing answers back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "reason.h"
#include "secret.h"
#include "server_priv.h"
#include "workers.h"

#define WBUF_MAX (64u << 20)

struct conn *conn_find(struct server *s, uint64_t id)
{
	int fd = (int)(id & 0xffffffffu);

	if (fd < 0 || (unsigned)fd >= s->nconns_max || s->conns[fd] == NULL ||
	    s->conns[fd]->id != id)
		return NULL;
	return s->conns[fd];
}

void conn_close(struct server *s, struct conn *c)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	s->conns[c->fd] = NULL;
	s->nconns--;
	atomic_fetch_sub(&s->d->connections, 1);
	secret_wipe(c->rbuf, PROTO_LINE_MAX);
	free(c->rbuf);
	if (c->wbuf != NULL)
		secret_wipe(c->wbuf, c->wcap);
	free(c->wbuf);
	free(c);
}

/* Writes what it can; closes the connection once done with it. false: it is gone. */
bool conn_flush(struct server *s, struct conn *c)
{
	uint32_t events;

	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(s, c);
			return false;
		}
		c->woff += (size_t)n;
		c->last_active = time(NULL);
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if ((c->closing || c->read_closed) && c->pending == 0 && c->wlen == 0) {
		conn_close(s, c);
		return false;
	}
	/* Stop watching input once no more requests are taken, or EOF would wake us forever. A
	 * system call a request saved: only a change is told to epoll. */
	events = (c->read_closed || c->closing ? 0 : EPOLLIN | EPOLLRDHUP) |
	         (c->wlen > 0 ? EPOLLOUT : 0);
	if (events != c->events && watch(s, c->fd, events, c->id, EPOLL_CTL_MOD) == 0)
		c->events = events;
	return true;
}

void conn_queue(struct conn *c, const char *data, size_t len)
{
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap == 0 ? 4096 : c->wcap;
		char *buf;

		while (cap < c->wlen + len)
			cap *= 2;
		if (cap > WBUF_MAX || (buf = malloc(cap)) == NULL) {
			c->closing = true; /* cannot answer: hang up rather than lie */
			return;
		}
		if (c->wbuf != NULL) {
			memcpy(buf, c->wbuf, c->wlen);
			secret_wipe(c->wbuf, c->wcap);
			free(c->wbuf);
		}
		c->wbuf = buf;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
}

void conn_answer(struct conn *c, const char *verb, const char *id, int reason, const char *detail)
{
	struct proto_writer w;

	if (reason == REASON_TEMPFAIL)
		metrics_tempfail();
	proto_begin(&w, verb, id);
	proto_add(&w, "reason", proto_reason_name(reason));
	if (detail != NULL)
		proto_add(&w, "detail", detail);
	if (proto_end(&w) == 0)
		conn_queue(c, w.buf, w.len);
}

/* A protocol error: say why once, then hang up. The id is "0" when it could not be read. */
static void conn_reject(struct conn *c, const char *id, const char *why)
{
	conn_answer(c, "FAIL", id != NULL ? id : "0", REASON_BAD_REQUEST, why);
	c->closing = true;
	c->read_closed = true;
}

/* A handler's answer, or TEMPFAIL when it could not write one. */
void conn_reply(struct conn *c, const struct request *req)
{
	if (req->reply.failed || req->reply.len == 0)
		conn_answer(c, "TEMPFAIL", req->msg.id, REASON_TEMPFAIL, NULL);
	else
		conn_queue(c, req->reply.data, req->reply.len);
}

static const struct verb *verb_find(const struct verb *table, const char *name)
{
	for (; table->name != NULL; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

static void handshake(struct conn *c, char *line, size_t len)
{
	struct proto_msg msg;
	const char *major;

	if (proto_parse(line, len, &msg) != PROTO_OK || strcmp(msg.verb, "VERSION") != 0 ||
	    (major = proto_get(&msg, "major")) == NULL || strcmp(major, "1") != 0) {
		conn_reject(c, msg.id, "expected VERSION with major=1 first");
		return;
	}
	c->handshake_done = true;
}

static struct request *request_new(struct conn *c, const char *line, size_t len)
{
	struct request *req = calloc(1, sizeof(*req));

	if (req == NULL || (req->line = malloc(len + 1)) == NULL) {
		free(req);
		return NULL;
	}
	memcpy(req->line, line, len);
	req->line[len] = '\0';
	req->line_len = len;
	req->conn_id = c->id;
	req->kind = c->kind;
	req->uid = c->uid;
	req->gid = c->gid;
	req->pid = c->pid;
	return req;
}

static void conn_request(struct server *s, struct conn *c, const char *line, size_t len)
{
	struct request *req = request_new(c, line, len);
	/* An import keeps many rows in flight, so that they share commits (admin_add.c). */
	unsigned max_pending =
	    c->kind == SOCKET_ADMIN ? cfg(s)->admin_max_pending : cfg(s)->max_pending;
	int r;

	if (req == NULL) {
		conn_answer(c, "TEMPFAIL", "0", REASON_TEMPFAIL, NULL);
		return;
	}
	if ((r = proto_parse(req->line, len, &req->msg)) != PROTO_OK) {
		conn_reject(c, req->msg.id, proto_error_str(r));
		goto drop;
	}
	req->verb = verb_find(c->kind == SOCKET_AUTH ? auth_verbs : admin_verbs, req->msg.verb);
	if (req->verb == NULL) {
		conn_answer(c, "FAIL", req->msg.id, REASON_UNKNOWN_VERB, NULL);
		goto drop;
	}
	if (c->kind == SOCKET_ADMIN && !c->admin_ok)
		req->verb = &admin_forbidden_verb;
	req->lane = request_lane(cfg(s), req);
	req->group = request_group(cfg(s), req);
	if (!s->stopping && c->pending < max_pending && (req->verb->flags & VERB_PENALIZED) &&
	    server_hold(s, req)) {
		c->pending++;
		return;
	}
	if (s->stopping || c->pending >= max_pending || req->due_ms == UINT64_MAX) {
		conn_answer(c, "TEMPFAIL", req->msg.id, REASON_TEMPFAIL, NULL);
		goto drop;
	}
	/* Answered here when it needs no write; conn_read flushes the answers of its lines. */
	if (s->inline_reads && req->lane == LANE_FAST && (req->verb->flags & VERB_INLINE) &&
	    pool_run_inline(s->pool, req)) {
		conn_reply(c, req);
		goto drop;
	}
	if (!pool_submit(s->pool, req)) {
		conn_answer(c, "TEMPFAIL", req->msg.id, REASON_TEMPFAIL, NULL);
		goto drop;
	}
	c->pending++;
	return;
drop:
	request_free(req);
}

static void conn_lines(struct server *s, struct conn *c)
{
	size_t start = 0;
	char *lf;

	while (!c->closing && (lf = memchr(c->rbuf + start, '\n', c->rlen - start)) != NULL) {
		size_t len = (size_t)(lf - (c->rbuf + start));
		char *line = c->rbuf + start;

		/* Be lenient with a CRLF client such as telnet: a raw CR is never data. */
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (!c->handshake_done)
			handshake(c, line, len);
		else
			conn_request(s, c, line, len);
		start += (size_t)(lf - (c->rbuf + start)) + 1;
	}
	secret_wipe(c->rbuf, start);
	memmove(c->rbuf, c->rbuf + start, c->rlen - start);
	c->rlen -= start;
	/* What is left is a line begun by this read: its clock starts now. */
	if (start > 0)
		c->line_since = time(NULL);
	if (c->rlen == PROTO_LINE_MAX)
		conn_reject(c, NULL, "line too long");
}

void conn_read(struct server *s, struct conn *c)
{
	while (!c->read_closed && !c->closing) {
		size_t room = PROTO_LINE_MAX - c->rlen;
		ssize_t n = read(c->fd, c->rbuf + c->rlen, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* Half-close: answer everything already asked, then close. */
			c->read_closed = true;
			break;
		}
		if (c->rlen == 0)
			c->line_since = time(NULL);
		c->rlen += (size_t)n;
		c->last_active = time(NULL);
		conn_lines(s, c);
		/* A short read emptied the socket: epoll (level-triggered) says when more comes, so
		 * a read that would only answer EAGAIN is a system call a request saved. */
		if ((size_t)n < room)
			break;
	}
	conn_flush(s, c);
}
