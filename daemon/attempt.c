/* What AUTH and PASSWD share: reading the fields, the account, the throttle, the audit. */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "attempt.h"
#include "audit.h"
#include "auditq.h"
#include "config.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "policy.h"
#include "reason.h"
#include "secret.h"
#include "store.h"

static void fill_event(struct audit_event *ev, struct request *req, const struct attempt *at,
                       const char *action, const char *result, int reason, const char *detail,
                       char *login, size_t loginlen)
{
	*ev = (struct audit_event){
	    .time = req->now,
	    .actor = req->kind == SOCKET_HTTP ? "http" : "auth",
	    .action = action,
	    .identifiant = at->found ? at->a.identifiant : NULL,
	    .login = at->found ? NULL : log_sanitize(at->login, login, loginlen),
	    .service = at->service,
	    .address = at->address,
	    .result = result,
	    .reason = reason == REASON_NONE ? NULL : proto_reason_name(reason),
	    .detail = detail,
	};
}

void attempt_audit(struct store_txn *txn, struct request *req, const struct attempt *at,
                   const char *action, const char *result, int reason, const char *detail)
{
	struct audit_event ev;
	char login[80];

	fill_event(&ev, req, at, action, result, reason, detail, login, sizeof(login));
	if (audit_write(txn, &ev) != STORE_OK)
		log_warn("audit write failed");
}

void attempt_audit_later(struct worker *w, struct request *req, const struct attempt *at,
                         const char *action, const char *result, int reason, const char *detail)
{
	struct audit_event ev;
	char login[80];

	fill_event(&ev, req, at, action, result, reason, detail, login, sizeof(login));
	auditq_push(w->daemon->auditq, &ev);
}

/* Reads the account named by the login; false after answering TEMPFAIL. */
bool attempt_load(struct worker *w, struct request *req, struct attempt *at)
{
	struct store_txn *txn;
	int r;

	at->found = false;
	if (!at->norm_ok)
		return true;
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		reply_tempfail(req);
		return false;
	}
	r = account_get(txn, at->norm, at->is_email, &at->a);
	store_abort(txn);
	if (r < 0) {
		reply_tempfail(req);
		return false;
	}
	at->found = r == STORE_OK;
	return true;
}

/* Throttled attempts cost no hashing: audit, answer, done. */
bool attempt_throttled(struct worker *w, struct request *req, struct attempt *at,
                       const char *action, const struct account *a)
{
	struct store_txn *txn;
	struct proto_writer pw;
	enum throttle_state ts;
	unsigned wait;

	ts = policy_throttle(&req->config->throttle, a->failures, a->last_failure, req->now, &wait);
	if (ts == THROTTLE_OPEN)
		return false;
	if (store_begin(w->daemon->store, true, &txn) == STORE_OK) {
		attempt_audit(txn, req, at, action, "refused", REASON_LOCKED,
		              ts == THROTTLE_LOCKED ? "locked until unlocked" : "delayed");
		store_commit(txn);
	}
	proto_begin(&pw, "FAIL", req->msg.id);
	proto_add(&pw, "reason", "locked");
	proto_addf(&pw, "wait", "%u", wait);
	reply_line(req, &pw);
	return true;
}

bool attempt_fields(struct request *req, struct attempt *at, bool passwd)
{
	bool bad = false;

	at->login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad);
	at->password = field_get(req, "password", FIELD_SECRET_MAX, true, &bad);
	if (passwd)
		(void)field_get(req, "new", FIELD_SECRET_MAX, true, &bad);
	at->code = field_get(req, "otp", FIELD_CODE_MAX, false, &bad);
	at->service = field_service(req, &bad);
	at->address = field_get(req, "address", FIELD_ADDRESS_MAX, false, &bad);
	at->appended = field_get(req, "appended", 1, false, &bad) != NULL;
	at->want_token = field_get(req, "token", 1, false, &bad) != NULL;
	if (bad)
		return false;
	at->policy = config_service(req->config, at->service);
	at->norm_ok = ident_login(at->login, at->norm, sizeof(at->norm), &at->is_email) == 0;
	return true;
}

void attempt_refuse(struct worker *w, struct request *req, struct attempt *at,
                    const struct refusal *rf)
{
	struct store_txn *txn;
	struct account b;
	int r = STORE_ERROR;

	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto out;
	if (rf->count && at->found && account_get(txn, at->a.identifiant, false, &b) == STORE_OK) {
		if (rf->also != NULL)
			rf->also(&b, req->now);
		/* The same wrong secret sent again (a client that caches it) counts once. */
		if (!rf->once || at->tag[0] == '\0' || b.last_bad[0] == '\0' ||
		    !secret_equal(b.last_bad, at->tag, sizeof(b.last_bad) - 1)) {
			b.failures++;
			b.last_failure = req->now;
			memcpy(b.last_bad, at->tag, sizeof(b.last_bad) - 1);
			b.last_bad[sizeof(b.last_bad) - 1] = '\0';
		}
		r = account_put(txn, &b);
		account_wipe(&b);
		if (r != STORE_OK) {
			store_abort(txn);
			goto out;
		}
	}
	attempt_audit(txn, req, at, rf->action, "refused", rf->reason, rf->audit_detail);
	r = store_commit(txn);
out:
	/* A refusal that could not count must not read as an ordinary one: try later. */
	if (r != STORE_OK && rf->count)
		reply_tempfail(req);
	else
		reply_fail(req, rf->reason, rf->reply_detail);
}
