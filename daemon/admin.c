#include <stdio.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "audit.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "store.h"

int admin_audit(struct store_txn *txn, struct request *req, const char *action,
                const char *identifiant, const char *result, int reason, const char *detail)
{
	char actor[48];
	struct audit_event ev = {
	    .time = req->now,
	    .actor = request_actor(req, actor, sizeof(actor)),
	    .action = action,
	    .identifiant = identifiant,
	    .result = result,
	    .reason = reason == REASON_NONE ? NULL : proto_reason_name(reason),
	    .detail = detail,
	};

	return audit_write(txn, &ev);
}

void admin_audit_now(struct worker *w, struct request *req, const char *action,
                     const char *identifiant, int reason, const char *detail)
{
	struct store_txn *txn;

	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		return;
	if (admin_audit(txn, req, action, identifiant, "refused", reason, detail) != STORE_OK) {
		store_abort(txn);
		return;
	}
	if (store_commit(txn) != STORE_OK)
		log_warn("audit of a refused %s not written", action);
}

/* Shared by admin_edit and admin_view: a view reads in a read transaction and writes nothing. */
static void admin_run(struct worker *w, struct request *req, const char *action,
                      admin_edit_fn *edit, void *ctx, bool view)
{
	char norm[FIELD_LOGIN_MAX + 1];
	const char *login, *detail = NULL;
	struct store_txn *txn = NULL;
	struct proto_writer ok;
	enum proto_reason reason;
	struct account a;
	bool bad = false, is_email, have = false;
	int r;

	if ((login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad)) == NULL)
		return;
	if (ident_login(login, norm, sizeof(norm), &is_email) < 0) {
		reply_fail(req, REASON_NOT_FOUND, NULL);
		return;
	}
	if (store_begin(w->daemon->store, !view, &txn) != STORE_OK)
		goto tempfail;
	if ((r = account_get(txn, norm, is_email, &a)) < 0)
		goto tempfail;
	if (r == STORE_NOTFOUND && view) {
		store_abort(txn);
		reply_fail(req, REASON_NOT_FOUND, NULL);
		return;
	}
	if (r == STORE_NOTFOUND) {
		admin_audit(txn, req, action, NULL, "refused", REASON_NOT_FOUND, NULL);
		store_commit(txn);
		reply_fail(req, REASON_NOT_FOUND, NULL);
		return;
	}
	have = true;
	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", a.identifiant);
	reason = edit(req, &a, &ok, ctx, &detail);
	if (view) {
		store_abort(txn);
		if (reason == REASON_NONE)
			reply_line(req, &ok);
		else
			reply_fail(req, reason, detail);
		proto_writer_wipe(&ok);
		account_wipe(&a);
		return;
	}
	if (reason != REASON_NONE) {
		proto_writer_wipe(&ok);
		admin_audit(txn, req, action, a.identifiant, "refused", reason, detail);
		if (store_commit(txn) != STORE_OK)
			log_warn("audit of a refused %s not written", action);
		reply_fail(req, reason, detail);
		account_wipe(&a);
		return;
	}
	if (account_put(txn, &a) != STORE_OK ||
	    admin_audit(txn, req, action, a.identifiant, "ok", REASON_NONE, detail) != STORE_OK)
		goto tempfail;
	r = store_commit(txn);
	txn = NULL;
	if (r != STORE_OK)
		goto tempfail;
	reply_line(req, &ok);
	account_wipe(&a);
	return;
tempfail:
	store_abort(txn);
	if (have) {
		proto_writer_wipe(&ok);
		account_wipe(&a);
	}
	reply_tempfail(req);
}

void admin_edit(struct worker *w, struct request *req, const char *action, admin_edit_fn *edit,
                void *ctx)
{
	admin_run(w, req, action, edit, ctx, false);
}

void admin_view(struct worker *w, struct request *req, admin_edit_fn *view, void *ctx)
{
	admin_run(w, req, NULL, view, ctx, true);
}
