/*
 * verdict_answer: the one place a login is audited, committed, counted and
 * answered (verdict.h).
 */
#include <string.h>

#include "attempt.h"
#include "daemon.h"
#include "store.h"
#include "throttle.h"
#include "verdict.h"

void verdict_init(struct verdict *v, const char *action)
{
	v->result = VERDICT_ERROR;
	v->reason = REASON_NONE;
	v->action = action;
	v->detail = NULL;
	v->wait = 0;
	v->delayed = v->wrong_secret = v->count_password = v->forgive = false;
	v->txn = NULL;
	v->ok_begun = false;
	v->ok.len = 0;
	v->ok.overflow = false;
}

void verdict_ok(struct verdict *v, const struct request *req, const char *identifiant,
                const char *credential, const char *label)
{
	v->result = VERDICT_OK;
	v->reason = REASON_NONE;
	proto_begin(&v->ok, "OK", req->msg.id);
	proto_add(&v->ok, "identifiant", identifiant);
	if (credential != NULL)
		proto_add(&v->ok, "credential", credential);
	if (label != NULL)
		proto_add(&v->ok, "label", label);
	v->ok_begun = true;
}

void verdict_fail(struct verdict *v, enum proto_reason reason, const char *detail)
{
	v->result = VERDICT_FAIL;
	v->reason = reason;
	v->detail = detail;
}

void verdict_error(struct verdict *v)
{
	store_abort(v->txn);
	v->txn = NULL;
	v->result = VERDICT_ERROR;
}

static void done(struct verdict *v)
{
	store_abort(v->txn);
	v->txn = NULL;
	if (v->ok_begun)
		proto_writer_wipe(&v->ok);
	v->ok_begun = false;
}

static void send_answer(struct request *req, struct verdict *v)
{
	struct proto_writer w;

	switch (v->result) {
	case VERDICT_OK:
		reply_line(req, &v->ok);
		v->ok_begun = false;
		return;
	case VERDICT_FAIL:
		if (!v->delayed) {
			reply_fail(req, v->reason, NULL);
			return;
		}
		proto_begin(&w, "FAIL", req->msg.id);
		proto_add(&w, "reason", proto_reason_name(v->reason));
		proto_addf(&w, "wait", "%u", v->wait);
		reply_line(req, &w);
		return;
	case VERDICT_TEMPFAIL:
	case VERDICT_ERROR:
		reply_tempfail(req);
		return;
	}
}

void verdict_answer(struct worker *w, struct request *req, struct attempt *at, struct verdict *v)
{
	const char *result = v->result == VERDICT_OK ? "ok" : "refused";

	if (v->result == VERDICT_ERROR) {
		done(v);
		reply_tempfail(req);
		return;
	}
	if (v->txn != NULL) {
		struct store_txn *txn = v->txn;

		v->txn = NULL;
		attempt_audit(txn, req, at, v->action, result, v->reason, v->detail);
		if (store_commit(txn) != STORE_OK) {
			/* Nothing of it happened: not counted, not forgiven, TEMPFAIL. */
			done(v);
			reply_tempfail(req);
			return;
		}
	} else {
		attempt_audit_later(w, req, at, v->action, result, v->reason, v->detail);
	}
	if (v->count_password)
		attempt_count_password(w, req, at);
	else if (v->result == VERDICT_OK && v->forgive)
		throttle_clear(w->daemon->throttle, attempt_tkey(w, at));
	at->failed = v->wrong_secret;
	at->succeeded = v->result == VERDICT_OK;
	send_answer(req, v);
	done(v);
}
