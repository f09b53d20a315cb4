/* USER_SHOW and USER_LIST: what an account is, never what its secrets are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "config.h"
#include "daemon.h"
#include "fields.h"
#include "attempt.h"
#include "policy.h"
#include "store.h"
#include "throttle.h"

#define LIST_DEFAULT 1000
#define LIST_MAX 10000

static const char *otp_state(const struct account *a)
{
	if (a->otp_active)
		return "active";
	return a->otp_pending ? "pending" : "none";
}

/* The password throttle of the account's two logins, as the next attempt would find it. */
static void show_throttle(struct proto_writer *w, struct worker *wk, const struct request *req,
                          const struct account *a)
{
	const struct throttle_conf *tc = &req->config->throttle;
	const char *logins[] = {a->identifiant, a->email};
	unsigned failures = 0, delay = 0;

	for (size_t i = 0; i < 2; i++) {
		struct throttle_key key;
		unsigned f, wait;
		int64_t last;

		if (logins[i][0] == '\0')
			continue;
		attempt_throttle_key(&wk->daemon->keys, logins[i], &key);
		throttle_get(wk->daemon->throttle, &key, req->now, tc->forget_after, &f, &last);
		policy_throttle(tc, f, last, req->now, &wait);
		failures = f > failures ? f : failures;
		delay = wait > delay ? wait : delay;
	}
	proto_addf(w, "failures", "%u", failures);
	proto_addf(w, "delay", "%u", delay);
	proto_addf(w, "code_failures", "%u", a->code_failures);
	proto_addf(w, "locked", "%d", a->locked_since != 0);
	proto_addf(w, "locked_since", "%lld", (long long)a->locked_since);
}

static void show_fields(struct proto_writer *w, const struct account *a)
{
	proto_add(w, "identifiant", a->identifiant);
	proto_add(w, "email", a->email);
	proto_add(w, "first", a->first);
	proto_add(w, "last", a->last);
	proto_add(w, "birth", a->birth);
	proto_add(w, "rescue_email", a->rescue_email);
	proto_add(w, "mobile", a->mobile);
	proto_add(w, "state", account_state_name(a->state));
	proto_add(w, "state_reason", a->state_reason);
	proto_addf(w, "created", "%lld", (long long)a->created);
	proto_addf(w, "last_login", "%lld", (long long)a->last_login);
	proto_addf(w, "password_changed", "%lld", (long long)a->password_changed);
	proto_addf(w, "password_temporary", "%d", a->password_temporary);
	proto_addf(w, "temporary_expires", "%lld", (long long)a->temporary_expires);
	proto_add(w, "otp", otp_state(a));
	proto_addf(w, "recovery_codes", "%u", a->recovery_count);
}

void admin_user_show(struct worker *w, struct request *req)
{
	char norm[FIELD_LOGIN_MAX + 1];
	struct store_txn *txn;
	struct proto_writer ok;
	struct account a;
	const char *login;
	bool bad = false, is_email;
	int r;

	if ((login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad)) == NULL)
		return;
	if (ident_login(login, norm, sizeof(norm), &is_email) < 0) {
		reply_fail(req, REASON_NOT_FOUND, NULL);
		return;
	}
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	r = account_get(txn, norm, is_email, &a);
	store_abort(txn);
	if (r < 0) {
		reply_tempfail(req);
		return;
	}
	if (r == STORE_NOTFOUND) {
		reply_fail(req, REASON_NOT_FOUND, NULL);
		return;
	}
	proto_begin(&ok, "OK", req->msg.id);
	show_fields(&ok, &a);
	show_throttle(&ok, w, req, &a);
	reply_line(req, &ok);
	account_wipe(&a);
}

struct list_ctx {
	struct request *req;
	const char *after;
	int state; /* -1: all */
	unsigned limit, count;
	char last[IDENT_MAX + 1];
	bool more, broken;
};

static int list_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct list_ctx *lc = ctx;
	struct proto_writer row;
	struct account a;

	if (lc->after != NULL && klen == strlen(lc->after) && memcmp(key, lc->after, klen) == 0)
		return 0; /* `after` is exclusive */
	if (account_decode(val, vlen, &a) < 0) {
		lc->broken = true;
		return 1;
	}
	if (lc->state < 0 || (int)a.state == lc->state) {
		if (lc->count == lc->limit) {
			lc->more = true;
			account_wipe(&a);
			return 1;
		}
		proto_begin(&row, "ROW", lc->req->msg.id);
		proto_add(&row, "identifiant", a.identifiant);
		proto_add(&row, "email", a.email);
		proto_add(&row, "first", a.first);
		proto_add(&row, "last", a.last);
		proto_add(&row, "state", account_state_name(a.state));
		proto_add(&row, "otp", otp_state(&a));
		reply_line(lc->req, &row);
		lc->count++;
		snprintf(lc->last, sizeof(lc->last), "%s", a.identifiant);
	}
	account_wipe(&a);
	return 0;
}

static int parse_state(const char *s)
{
	for (int st = ACCOUNT_ACTIVE; st <= ACCOUNT_DELETED; st++)
		if (strcmp(s, account_state_name((enum account_state)st)) == 0)
			return st;
	return -2;
}

void admin_user_list(struct worker *w, struct request *req)
{
	struct list_ctx lc = {.req = req, .state = -1, .limit = LIST_DEFAULT};
	const char *state, *limit;
	struct store_txn *txn;
	struct proto_writer ok;
	bool bad = false;
	int r;

	state = field_get(req, "state", 16, false, &bad);
	lc.after = field_get(req, "after", IDENT_MAX, false, &bad);
	limit = field_get(req, "limit", 6, false, &bad);
	if (bad)
		return;
	if ((state != NULL && (lc.state = parse_state(state)) < -1) ||
	    (limit != NULL && ((lc.limit = (unsigned)atoi(limit)) == 0 || lc.limit > LIST_MAX))) {
		reply_fail(req, REASON_BAD_REQUEST,
		           "state: active|suspended|deleted; limit: 1..10000");
		return;
	}
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	r = store_scan(txn, STORE_ACCOUNTS, lc.after, lc.after != NULL ? strlen(lc.after) : 0,
	               false, list_one, &lc);
	store_abort(txn);
	if (r != STORE_OK || lc.broken) {
		reply_wipe(&req->reply);
		reply_tempfail(req);
		return;
	}
	proto_begin(&ok, "OK", req->msg.id);
	proto_addf(&ok, "count", "%u", lc.count);
	if (lc.more)
		proto_add(&ok, "next", lc.last);
	reply_line(req, &ok);
}
