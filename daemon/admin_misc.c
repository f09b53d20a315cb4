/* The admin socket's table, and the verbs that are not about one account. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "audit.h"
#include "auditq.h"
#include "config.h"
#include "daemon.h"
#include "due.h"
#include "fields.h"
#include "log.h"
#include "session.h"
#include "store.h"
#include "throttle.h"
#include "throttle_store.h"

#include "version.h"
#define VERSION VERDON_VERSION
#define AUDIT_DEFAULT 100
#define AUDIT_MAX 10000
#define PURGE_BATCH 1000
#define PURGE_ROUNDS 100 /* batches a purge runs at most; the rest waits for the next one */
#define MAP_ALARM_PERCENT 90

struct audit_ctx {
	struct request *req;
	unsigned count;
};

static int audit_row(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct audit_ctx *ac = ctx;
	struct request *req = ac->req;
	struct proto_writer row;

	ac->count++;
	proto_begin(&row, "ROW", req->msg.id);
	proto_addf(&row, "seq", "%llu", (unsigned long long)seq);
	proto_add_len(&row, "json", json, len);
	reply_line(req, &row);
	return 0;
}

static void admin_audit_read(struct worker *w, struct request *req)
{
	char norm[FIELD_LOGIN_MAX + 1], ident[IDENT_MAX + 1];
	const char *login, *limit, *after_s, *filter = NULL;
	unsigned long long after = 0;
	char *end;
	struct store_txn *txn;
	struct proto_writer ok;
	struct account a;
	struct audit_ctx ac = {.req = req};
	unsigned n = AUDIT_DEFAULT;
	bool bad = false, is_email;
	int r;

	login = field_get(req, "login", FIELD_LOGIN_MAX, false, &bad);
	limit = field_get(req, "limit", 6, false, &bad);
	after_s = field_get(req, "after", 20, false, &bad);
	if (bad)
		return;
	if (after_s != NULL &&
	    (after_s[0] < '0' || after_s[0] > '9' ||
	     (errno = 0, after = strtoull(after_s, &end, 10), errno != 0) || *end != '\0')) {
		reply_fail(req, REASON_BAD_REQUEST, "after: a sequence number");
		return;
	}
	if (limit != NULL && ((n = (unsigned)atoi(limit)) == 0 || n > AUDIT_MAX)) {
		reply_fail(req, REASON_BAD_REQUEST, "limit: 1..10000");
		return;
	}
	/* The trail holds every decision answered before this read, the queued ones too. */
	auditq_flush(w->daemon->auditq, w->daemon->store);
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK)
		goto tempfail;
	if (login != NULL) {
		if (ident_login(login, norm, sizeof(norm), &is_email) < 0) {
			store_abort(txn);
			reply_fail(req, REASON_NOT_FOUND, NULL);
			return;
		}
		filter = norm;
		/* An email names the account it belongs to now. */
		if (is_email && account_get(txn, norm, true, &a) == STORE_OK) {
			snprintf(ident, sizeof(ident), "%s", a.identifiant);
			account_wipe(&a);
			filter = ident;
		}
	}
	r = audit_read_after(txn, filter, (uint64_t)after, n, audit_row, &ac);
	store_abort(txn);
	if (r != STORE_OK)
		goto tempfail;
	proto_begin(&ok, "OK", req->msg.id);
	proto_addf(&ok, "count", "%u", ac.count);
	reply_line(req, &ok);
	return;
tempfail:
	reply_wipe(&req->reply);
	reply_tempfail(req);
}

static void admin_backup(struct worker *w, struct request *req)
{
	char err[256];
	const char *path;
	struct proto_writer ok;
	struct store_txn *txn;
	bool bad = false;
	FILE *f;
	long size = 0;

	if ((path = field_get(req, "path", 1024, true, &bad)) == NULL)
		return;
	if (path[0] != '/') {
		reply_fail(req, REASON_BAD_REQUEST, "path must be absolute");
		return;
	}
	if (store_backup(w->daemon->store, path, err, sizeof(err)) != STORE_OK) {
		admin_audit_now(w, req, "backup", NULL, REASON_BAD_REQUEST, err);
		reply_fail(req, REASON_BAD_REQUEST, err);
		return;
	}
	if (store_begin(w->daemon->store, true, &txn) == STORE_OK) {
		if (admin_audit(txn, req, "backup", NULL, "ok", REASON_NONE, path) == STORE_OK)
			store_commit(txn);
		else
			store_abort(txn);
	}
	if ((f = fopen(path, "re")) != NULL) {
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
	}
	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "path", path);
	proto_addf(&ok, "bytes", "%ld", size);
	reply_line(req, &ok);
}

static int count_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(unsigned *)ctx)++;
	return 0;
}

static void admin_status(struct worker *w, struct request *req)
{
	struct daemon *d = w->daemon;
	struct store_usage u = {0};
	struct store_full full;
	struct store_txn *txn;
	struct proto_writer ok;
	unsigned accounts = 0;

	if (store_begin(d->store, false, &txn) != STORE_OK ||
	    store_scan(txn, STORE_ACCOUNTS, NULL, 0, false, count_one, &accounts) != STORE_OK) {
		store_abort(txn);
		reply_tempfail(req);
		return;
	}
	store_abort(txn);
	store_usage(d->store, &u);
	proto_begin(&ok, "OK", req->msg.id);
	proto_add(&ok, "version", VERSION);
	proto_addf(&ok, "accounts", "%u", accounts);
	proto_addf(&ok, "workers", "%u", d->workers);
	proto_addf(&ok, "queue", "%u", atomic_load(&d->queued));
	proto_addf(&ok, "connections", "%u", atomic_load(&d->connections));
	proto_addf(&ok, "map_used", "%zu", u.used);
	proto_addf(&ok, "map_size", "%zu", u.map_size);
	proto_addf(&ok, "uptime", "%lld", (long long)(req->now - d->started));
	proto_addf(&ok, "hashes", "%lu", atomic_load(&d->hashes));
	store_full_state(&full);
	proto_addf(&ok, "store_full", "%d", full.full ? 1 : 0);
	proto_addf(&ok, "store_full_refused", "%lu", full.refused);
	if (full.full)
		proto_addf(&ok, "store_full_since", "%lld", (long long)full.since);
	reply_line(req, &ok);
}

static void admin_forbidden(struct worker *w, struct request *req)
{
	char detail[64];

	snprintf(detail, sizeof(detail), "peer uid=%u gid=%u pid=%d", (unsigned)req->uid,
	         (unsigned)req->gid, (int)req->pid);
	admin_audit_now(w, req, "admin.connect", NULL, REASON_FORBIDDEN, detail);
	log_warn("admin socket: refused %s", detail);
	reply_fail(req, REASON_FORBIDDEN, "root or the admin group only");
}

/* What is due, from the due-time index (due.h): never a walk of every account. */
struct due_list {
	unsigned n;
	char key[PURGE_BATCH][DUE_NAME_MAX];
};

static int due_collect(void *ctx, int64_t when, const char *key)
{
	struct due_list *dl = ctx;

	(void)when;
	snprintf(dl->key[dl->n], DUE_NAME_MAX, "%s", key);
	return ++dl->n == PURGE_BATCH;
}

static int due_batch(struct worker *w, char kind, int64_t until, struct due_list *dl)
{
	struct store_txn *txn;
	int r;

	dl->n = 0;
	if ((r = store_begin(w->daemon->store, false, &txn)) != STORE_OK)
		return r;
	r = due_each(txn, kind, until, due_collect, dl);
	store_abort(txn);
	return r;
}

/* A deleted account past its grace period goes for good, its sessions too, with an audit line. */
static int purge_account(struct request *req, struct store_txn *txn, const char *ident,
                         int64_t before)
{
	struct account a;
	int r = account_get(txn, ident, false, &a);

	if (r == STORE_NOTFOUND)
		return STORE_OK;
	if (r == STORE_OK && a.state == ACCOUNT_DELETED && a.state_changed <= before &&
	    ((r = account_remove(txn, &a)) != STORE_OK ||
	     (r = session_remove_all(txn, a.identifiant)) != STORE_OK ||
	     (r = admin_audit(txn, req, "user.purge", a.identifiant, "ok", REASON_NONE,
	                      "grace period over")) != STORE_OK))
		log_err("purge of %s failed", a.identifiant);
	account_wipe(&a);
	return r;
}

/* One batch of what is due of kind: STORE_OK and *n_r how many went. */
static int purge_batch(struct worker *w, struct request *req, char kind, int64_t until,
                       struct due_list *dl, unsigned *n_r)
{
	struct store_txn *txn = NULL;
	int r;

	*n_r = 0;
	if ((r = due_batch(w, kind, until, dl)) != STORE_OK || dl->n == 0)
		return r;
	if ((r = store_begin(w->daemon->store, true, &txn)) != STORE_OK)
		return r;
	for (unsigned i = 0; i < dl->n && r == STORE_OK; i++)
		r = kind == DUE_DELETED ? purge_account(req, txn, dl->key[i], until)
		                        : session_del(txn, dl->key[i]);
	r = r == STORE_OK ? store_commit(txn) : (store_abort(txn), r);
	if (r == STORE_OK)
		*n_r = dl->n;
	return r;
}

/* Deleted accounts past their grace period, sessions past their lifetime, and (in a cluster)
 * password throttle counters past forget_after. */
static void purge(struct worker *w, struct request *req)
{
	struct due_list *dl = calloc(1, sizeof(*dl));
	int64_t before = req->now - (int64_t)req->config->delete_grace_days * 86400;
	unsigned n, accounts = 0, sessions = 0, counters = 0;

	if (dl == NULL)
		goto out;
	for (int i = 0; i < PURGE_ROUNDS; i++)
		if (purge_batch(w, req, DUE_DELETED, before, dl, &n) != STORE_OK ||
		    (accounts += n, n < PURGE_BATCH))
			break;
	for (int i = 0; i < PURGE_ROUNDS; i++)
		if (purge_batch(w, req, DUE_SESSION, req->now, dl, &n) != STORE_OK ||
		    (sessions += n, n < PURGE_BATCH))
			break;
	if (throttle_shared(w->daemon->throttle))
		for (int i = 0; i < PURGE_ROUNDS; i++)
			if (throttle_store_purge(w->daemon->store, req->now,
			                         req->config->throttle.forget_after,
			                         &n) != STORE_OK ||
			    (counters += n, n < THROTTLE_PURGE_BATCH))
				break;
	if (counters > 0)
		log_info("forgot %u password throttle counters past forget_after", counters);
	if (accounts > 0)
		log_info("purged %u deleted accounts past their grace period", accounts);
	if (sessions > 0)
		log_info("purged %u sessions past their lifetime", sessions);
out:
	free(dl);
	reply_ok_ident(req, "-");
}

static void housekeeping(struct worker *w, struct request *req)
{
	struct store_usage u;
	int cleared = 0;

	if (store_check_readers(w->daemon->store, &cleared) == STORE_OK && cleared > 0)
		log_warn("store: cleared %d reader slots left by dead processes", cleared);
	if (store_usage(w->daemon->store, &u) == STORE_OK && u.map_size > 0 &&
	    u.used * 100 / u.map_size >= MAP_ALARM_PERCENT)
		log_err("store: %zu%% of the map is used: raise map_size_mb before it is full",
		        u.used * 100 / u.map_size);
	reply_ok_ident(req, "-");
}

static void audit_flush(struct worker *w, struct request *req)
{
	auditq_flush(w->daemon->auditq, w->daemon->store);
	reply_ok_ident(req, "-");
}

const struct verb audit_flush_verb = {"AUDIT_FLUSH", audit_flush, 0};
const struct verb admin_forbidden_verb = {"FORBIDDEN", admin_forbidden, 0};
const struct verb purge_verb = {"PURGE", purge, 0};
const struct verb housekeeping_verb = {"HOUSEKEEPING", housekeeping, 0};

const struct verb_group *const verb_groups[] = {
    &admin_user_add_group,
    NULL,
};

const struct verb admin_verbs[] = {
    {"USER_ADD", admin_user_add, 0},
    {"USER_SHOW", admin_user_show, VERB_FAST},
    {"USER_LIST", admin_user_list, VERB_FAST},
    {"USER_SET", admin_user_set, 0},
    {"USER_RENAME", admin_user_rename, 0},
    {"USER_UNALIAS", admin_user_unalias, 0},
    {"STATS", admin_stats, VERB_FAST},
    {"USER_RESET", admin_user_reset, 0},
    {"USER_UNLOCK", admin_user_unlock, 0},
    {"USER_SUSPEND", admin_user_suspend, 0},
    {"USER_RESUME", admin_user_resume, 0},
    {"USER_DELETE", admin_user_delete, 0},
    {"USER_RESTORE", admin_user_restore, 0},
    {"OTP_ENROLL", admin_otp_enroll, 0},
    {"OTP_CONFIRM", admin_otp_confirm, 0},
    {"OTP_RESET", admin_otp_reset, 0},
    {"OTP_STATUS", admin_otp_status, VERB_FAST},
    {"AUDIT", admin_audit_read, VERB_FAST},
    {"BACKUP", admin_backup, 0},
    {"STATUS", admin_status, VERB_FAST},
    {"STORE_VERIFY", admin_store_verify, 0},
#ifdef VERDON_FAILPOINTS
    {"FAILPOINT", admin_failpoint, 0},
#endif
    {"APP_ADD", admin_app_add, 0},
    {"APP_LIST", admin_app_list, VERB_FAST},
    {"APP_REVOKE", admin_app_revoke, 0},
    {"DEVICE_LIST", admin_device_list, VERB_FAST},
    {"DEVICE_REVOKE", admin_device_revoke, 0},
    {"SESSION_LIST", admin_session_list, VERB_FAST},
    {"SESSION_REVOKE", admin_session_revoke, 0},
    {NULL, NULL, 0},
};
