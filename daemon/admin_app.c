/* App passwords and session tokens on the admin socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "credential.h"
#include "daemon.h"
#include "fields.h"
#include "secret.h"
#include "session.h"
#include "store.h"

static bool services_valid(const char *list)
{
	size_t n = strlen(list);

	return n > 0 && n <= APP_SERVICES_MAX &&
	       strspn(list, "abcdefghijklmnopqrstuvwxyz0123456789._-,") == n && list[0] != ',' &&
	       list[n - 1] != ',' && strstr(list, ",,") == NULL;
}

struct app_add {
	struct worker *w;
	const char *label, *services;
};

static enum proto_reason edit_app_add(struct request *req, struct account *a,
                                      struct proto_writer *ok, void *ctx, const char **detail)
{
	struct app_add *aa = ctx;
	char pw[APP_PASSWORD_LEN + 1], id[APP_PASSWORD_LEN + 1];
	struct account_app *app;

	if (a->state == ACCOUNT_DELETED)
		return *detail = "deleted", REASON_WRONG_STATE;
	if (a->napps == ACCOUNT_APPS_MAX)
		return *detail = "16 app passwords at most: revoke one first", REASON_WRONG_STATE;
	if (cred_new_app_password(pw) < 0 || cred_new_app_password(id) < 0)
		return REASON_TEMPFAIL;
	app = &a->apps[a->napps++];
	memset(app, 0, sizeof(*app));
	/* Eight letters from a spare draw, dash skipped: a handle, not a secret. */
	memcpy(app->id, id, 4);
	memcpy(app->id + 4, id + 5, 4);
	app->id[APP_ID_LEN] = '\0';
	snprintf(app->label, sizeof(app->label), "%s", aa->label);
	snprintf(app->services, sizeof(app->services), "%s", aa->services);
	cred_tag(&aa->w->daemon->keys, "app", pw, app->hash);
	app->created = req->now;
	proto_add(ok, "app_id", app->id);
	proto_add(ok, "password", pw);
	*detail = aa->label;
	secret_wipe(pw, sizeof(pw));
	return REASON_NONE;
}

void admin_app_add(struct worker *w, struct request *req)
{
	struct app_add aa = {.w = w};
	bool bad = false;

	aa.label = field_get(req, "label", APP_LABEL_MAX, true, &bad);
	aa.services = field_get(req, "services", APP_SERVICES_MAX, true, &bad);
	if (bad)
		return;
	if (!services_valid(aa.services)) {
		reply_fail(req, REASON_BAD_REQUEST,
		           "services: a comma-separated list such as imap,smtp");
		return;
	}
	admin_edit(w, req, "app.add", edit_app_add, &aa);
}

static enum proto_reason edit_app_list(struct request *req, struct account *a,
                                       struct proto_writer *ok, void *ctx, const char **detail)
{
	(void)ctx, (void)detail;
	for (unsigned i = 0; i < a->napps; i++) {
		struct proto_writer row;

		proto_begin(&row, "ROW", req->msg.id);
		proto_add(&row, "app_id", a->apps[i].id);
		proto_add(&row, "label", a->apps[i].label);
		proto_add(&row, "services", a->apps[i].services);
		proto_addf(&row, "created", "%lld", (long long)a->apps[i].created);
		proto_addf(&row, "last_used", "%lld", (long long)a->apps[i].last_used);
		reply_line(req, &row);
	}
	proto_addf(ok, "count", "%u", a->napps);
	return REASON_NONE;
}

void admin_app_list(struct worker *w, struct request *req)
{
	admin_view(w, req, edit_app_list, NULL);
}

static enum proto_reason edit_app_revoke(struct request *req, struct account *a,
                                         struct proto_writer *ok, void *ctx, const char **detail)
{
	const char *id = ctx;
	unsigned kept = 0, revoked;

	(void)req;
	for (unsigned i = 0; i < a->napps; i++) {
		if (id == NULL || strcmp(a->apps[i].id, id) == 0)
			continue;
		a->apps[kept++] = a->apps[i];
	}
	revoked = a->napps - kept;
	secret_wipe(&a->apps[kept], (a->napps - kept) * sizeof(a->apps[0]));
	a->napps = kept;
	if (revoked == 0)
		return *detail = "no such app password", REASON_NOT_FOUND;
	proto_addf(ok, "revoked", "%u", revoked);
	*detail = id == NULL ? "all" : id;
	return REASON_NONE;
}

void admin_app_revoke(struct worker *w, struct request *req)
{
	const char *id, *all;
	bool bad = false;

	id = field_get(req, "app_id", APP_ID_LEN, false, &bad);
	all = field_get(req, "all", 1, false, &bad);
	if (bad)
		return;
	if ((id == NULL) == (all == NULL || strcmp(all, "1") != 0)) {
		reply_fail(req, REASON_BAD_REQUEST, "give app_id or all=1");
		return;
	}
	admin_edit(w, req, "app.revoke", edit_app_revoke, (void *)id);
}

struct sessions {
	struct request *req;
	const char *id; /* NULL: all */
	unsigned n;
	char keys[256][CRED_TAG_LEN + 1];
	bool list;
};

static int session_row(void *ctx, const struct session *s)
{
	struct sessions *ss = ctx;
	struct proto_writer row;

	if (!ss->list) {
		if (ss->id == NULL || strncmp(s->key, ss->id, SESSION_ID_LEN) == 0)
			memcpy(ss->keys[ss->n++], s->key, sizeof(ss->keys[0]));
		return ss->n == 256;
	}
	proto_begin(&row, "ROW", ss->req->msg.id);
	proto_add_len(&row, "session_id", s->key, SESSION_ID_LEN);
	proto_add(&row, "service", s->service);
	proto_addf(&row, "created", "%lld", (long long)s->created);
	proto_addf(&row, "last_used", "%lld", (long long)s->last_used);
	proto_addf(&row, "expires", "%lld", (long long)s->expires);
	reply_line(ss->req, &row);
	ss->n++;
	return 0;
}

/* The identifiant a login names, in its own read transaction; false after answering. */
static bool resolve(struct worker *w, struct request *req, char ident[IDENT_MAX + 1])
{
	char norm[FIELD_LOGIN_MAX + 1];
	struct store_txn *txn;
	struct account a;
	const char *login;
	bool bad = false, is_email;
	int r;

	if ((login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad)) == NULL)
		return false;
	if (ident_login(login, norm, sizeof(norm), &is_email) < 0) {
		reply_fail(req, REASON_NOT_FOUND, NULL);
		return false;
	}
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		reply_tempfail(req);
		return false;
	}
	r = account_get(txn, norm, is_email, &a);
	store_abort(txn);
	if (r != STORE_OK) {
		if (r < 0)
			reply_tempfail(req);
		else
			reply_fail(req, REASON_NOT_FOUND, NULL);
		return false;
	}
	memcpy(ident, a.identifiant, IDENT_MAX + 1);
	account_wipe(&a);
	return true;
}

void admin_session_list(struct worker *w, struct request *req)
{
	struct sessions *ss = calloc(1, sizeof(*ss));
	char ident[IDENT_MAX + 1];
	struct store_txn *txn;
	struct proto_writer ok;

	if (ss == NULL) {
		reply_tempfail(req);
		return;
	}
	ss->req = req;
	ss->list = true;
	if (!resolve(w, req, ident))
		goto out;
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK ||
	    session_each(txn, ident, session_row, ss) != STORE_OK) {
		store_abort(txn);
		reply_wipe(&req->reply);
		reply_tempfail(req);
		goto out;
	}
	store_abort(txn);
	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", ident);
	proto_addf(&ok, "count", "%u", ss->n);
	reply_line(req, &ok);
out:
	free(ss);
}

void admin_session_revoke(struct worker *w, struct request *req)
{
	struct sessions *ss = calloc(1, sizeof(*ss));
	char ident[IDENT_MAX + 1];
	struct store_txn *txn = NULL;
	struct proto_writer ok;
	const char *all;
	bool bad = false;

	if (ss == NULL) {
		reply_tempfail(req);
		return;
	}
	ss->req = req;
	ss->id = field_get(req, "session_id", SESSION_ID_LEN, false, &bad);
	all = field_get(req, "all", 1, false, &bad);
	if (bad)
		goto out;
	if ((ss->id == NULL) == (all == NULL || strcmp(all, "1") != 0)) {
		reply_fail(req, REASON_BAD_REQUEST, "give session_id or all=1");
		goto out;
	}
	if (!resolve(w, req, ident))
		goto out;
	if (store_begin(w->daemon->store, true, &txn) != STORE_OK ||
	    session_each(txn, ident, session_row, ss) != STORE_OK)
		goto tempfail;
	for (unsigned i = 0; i < ss->n; i++)
		if (session_del(txn, ss->keys[i]) != STORE_OK)
			goto tempfail;
	if (admin_audit(txn, req, "session.revoke", ident, "ok", REASON_NONE,
	                ss->id == NULL ? "all" : ss->id) != STORE_OK ||
	    store_commit(txn) != STORE_OK) {
		txn = NULL;
		goto tempfail;
	}
	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "identifiant", ident);
	proto_addf(&ok, "revoked", "%u", ss->n);
	reply_line(req, &ok);
	goto out;
tempfail:
	store_abort(txn);
	reply_tempfail(req);
out:
	secret_wipe(ss, sizeof(*ss));
	free(ss);
}
