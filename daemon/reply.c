#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "metrics.h"
#include "reason.h"
#include "secret.h"

/* Answers larger than this are cut short with a TEMPFAIL: they would be a bug or an abuse. */
#define REPLY_MAX (64u << 20)

void reply_line(struct request *req, struct proto_writer *w)
{
	struct reply *r = &req->reply;

	if (proto_end(w) < 0 || r->failed) {
		r->failed = true;
		goto out;
	}
	if (r->len + w->len > r->cap) {
		size_t cap = r->cap == 0 ? 256 : r->cap;
		char *data;

		while (cap < r->len + w->len)
			cap *= 2;
		if (cap > REPLY_MAX || (data = malloc(cap)) == NULL) {
			r->failed = true;
			goto out;
		}
		/* Answers carry secrets (temporary passwords): never leave a copy behind. */
		if (r->data != NULL) {
			memcpy(data, r->data, r->len);
			secret_wipe(r->data, r->cap);
			free(r->data);
		}
		r->data = data;
		r->cap = cap;
	}
	memcpy(r->data + r->len, w->buf, w->len);
	r->len += w->len;
out:
	proto_writer_wipe(w);
}

void reply_ok_ident(struct request *req, const char *identifiant)
{
	struct proto_writer w;

	proto_begin(&w, "OK", req->msg.id);
	proto_add(&w, "identifiant", identifiant);
	reply_line(req, &w);
}

void reply_fail(struct request *req, int reason, const char *detail)
{
	struct proto_writer w;

	proto_begin(&w, "FAIL", req->msg.id);
	proto_add(&w, "reason", proto_reason_name(reason));
	/* Said here, locked is the hard lock (wait=0); a delay goes through attempt_throttled. */
	if (reason == REASON_LOCKED)
		proto_add(&w, "wait", "0");
	if (detail != NULL)
		proto_add(&w, "detail", detail);
	reply_line(req, &w);
}

void reply_tempfail(struct request *req)
{
	struct proto_writer w;

	metrics_tempfail();
	proto_begin(&w, "TEMPFAIL", req->msg.id);
	proto_add(&w, "reason", "tempfail");
	reply_line(req, &w);
}

void reply_wipe(struct reply *r)
{
	if (r->data != NULL) {
		secret_wipe(r->data, r->cap);
		free(r->data);
	}
	memset(r, 0, sizeof(*r));
}

const char *request_actor(const struct request *req, char *buf, size_t len)
{
	if (req->kind == SOCKET_AUTH)
		return "auth";
	if (req->kind == SOCKET_HTTP)
		return "http";
	if (req->kind == SOCKET_RADIUS)
		return "radius";
	snprintf(buf, len, "admin:uid=%u", (unsigned)req->uid);
	return buf;
}

void request_free(struct request *req)
{
	if (req == NULL)
		return;
	secret_wipe(req->line, req->line_len);
	free(req->line);
	reply_wipe(&req->reply);
	free(req);
}
