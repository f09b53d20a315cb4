/* What AUTH and PASSWD share: reading the fields, the account, the throttle, the audit. */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "attempt.h"
#include "audit.h"
#include "auditq.h"
#include "config.h"
#include "credential.h"
#include "crypto.h"
#include "daemon.h"
#include "device.h"
#include "fields.h"
#include "log.h"
#include "observe.h"
#include "policy.h"
#include "reason.h"
#include "secret.h"
#include "store.h"
#include "throttle.h"
#include "verdict.h"

static void fill_event(struct audit_event *ev, struct request *req, const struct attempt *at,
                       const char *action, const char *result, int reason, const char *detail)
{
	*ev = (struct audit_event){
	    .time = req->now,
	    .actor = req->kind == SOCKET_HTTP     ? "http"
	             : req->kind == SOCKET_RADIUS ? "radius"
	                                          : "auth",
	    .action = action,
	    .identifiant = at->found ? at->a.identifiant : NULL,
	    /* People type passwords into the login field: never the login in clear. */
	    .login = at->found || at->audit_login[0] == '\0' ? NULL : at->audit_login,
	    .service = at->service,
	    .address = at->address,
	    .result = result,
	    .reason = reason == REASON_NONE ? NULL : proto_reason_name(reason),
	    .detail = detail,
	};
}

/* The metrics and the fail2ban line see every decision the audit trail records. */
static void observe(const struct audit_event *ev, const struct attempt *at)
{
	observe_decision(ev, at->policy != NULL ? at->policy->name : NULL,
	                 observe_credential(at->password, at->code),
	                 at->norm_ok ? at->norm : at->login);
}

void attempt_audit(struct store_txn *txn, struct request *req, const struct attempt *at,
                   const char *action, const char *result, int reason, const char *detail)
{
	struct audit_event ev;

	fill_event(&ev, req, at, action, result, reason, detail);
	if (audit_write(txn, &ev) != STORE_OK)
		log_warn("audit write failed");
	observe(&ev, at);
}

void attempt_audit_later(struct worker *w, struct request *req, const struct attempt *at,
                         const char *action, const char *result, int reason, const char *detail)
{
	struct audit_event ev;

	fill_event(&ev, req, at, action, result, reason, detail);
	auditq_push(w->daemon->auditq, &ev);
	observe(&ev, at);
}

/*
 * What the audit keeps of a login that names no account: its first two
 * characters when it reads as a login at all, and a keyed hash, so that the
 * helpdesk can match a known typo and a password typed in the wrong field
 * is not kept.
 */
static void audit_login(struct worker *w, struct attempt *at)
{
	const char *s = at->norm_ok ? at->norm : at->login;
	char hex[2 * CRYPTO_HMAC_LEN + 1];
	size_t n = at->norm_ok && (unsigned char)s[0] < 0x80 && (unsigned char)s[1] < 0x80 ? 2 : 0;

	if (s == NULL)
		return;
	n = strnlen(s, n);
	crypto_hmac_hex(&w->daemon->keys, "audit-login", s, strlen(s), hex);
	snprintf(at->audit_login, sizeof(at->audit_login), "%.*s…#%.16s", (int)n, s, hex);
	secret_wipe(hex, sizeof(hex));
}

/* The alive device the attempt came with, if any. */
static void attempt_device(struct worker *w, struct request *req, struct attempt *at)
{
	at->dev = -1;
	at->device_tag[0] = '\0';
	at->tkey_made = false;
	if (at->device != NULL && cred_is_device(at->device)) {
		cred_tag(&w->daemon->keys, "device", at->device, at->device_tag);
		if (at->found)
			at->dev = device_find(&at->a, at->device_tag, req->now);
	}
}

const struct throttle_key *attempt_tkey(struct worker *w, struct attempt *at)
{
	uint8_t mac[CRYPTO_HMAC_LEN];
	const char *s = at->norm_ok ? at->norm : at->login;

	if (at->tkey_made)
		return &at->tkey;
	if (at->dev >= 0) {
		crypto_hmac(&w->daemon->keys, "throttle-device", at->device_tag, CRED_TAG_LEN, mac);
		memcpy(at->tkey.b, mac, THROTTLE_KEY_LEN);
		secret_wipe(mac, sizeof(mac));
	} else {
		attempt_throttle_key(&w->daemon->keys, s != NULL ? s : "", &at->tkey);
	}
	at->tkey_made = true;
	return &at->tkey;
}

void attempt_throttle_key(const struct crypto_keys *keys, const char *login,
                          struct throttle_key *key_r)
{
	uint8_t mac[CRYPTO_HMAC_LEN];

	crypto_hmac(keys, "throttle", login, strlen(login), mac);
	memcpy(key_r->b, mac, THROTTLE_KEY_LEN);
	secret_wipe(mac, sizeof(mac));
}

int attempt_read_in(struct worker *w, struct request *req, struct attempt *at,
                    struct store_txn *txn)
{
	int r = STORE_NOTFOUND;

	at->found = false;
	if (at->norm_ok && (r = account_get(txn, at->norm, at->is_email, &at->a)) < 0)
		return r;
	at->found = r == STORE_OK;
	attempt_device(w, req, at);
	if (!at->found)
		audit_login(w, at);
	return STORE_OK;
}

int attempt_read(struct worker *w, struct request *req, struct attempt *at)
{
	struct store_txn *txn;
	int r;

	if (store_begin(w->daemon->store, false, &txn) != STORE_OK)
		return STORE_ERROR;
	r = attempt_read_in(w, req, at, txn);
	store_abort(txn);
	return r;
}

bool attempt_load(struct worker *w, struct request *req, struct attempt *at)
{
	if (attempt_read(w, req, at) == STORE_OK)
		return true;
	reply_tempfail(req);
	return false;
}

bool attempt_delayed(struct worker *w, struct request *req, struct attempt *at, struct verdict *v)
{
	const struct throttle_conf *tc = &req->config->throttle;
	unsigned failures, wait;
	int64_t last;

	throttle_get(w->daemon->throttle, attempt_tkey(w, at), req->now, tc->forget_after,
	             &failures, &last);
	if (policy_throttle(tc, failures, last, req->now, &wait) == THROTTLE_OPEN)
		return false;
	/* It changes nothing: no transaction, so that a flood of throttled guesses costs no
	 * synced write. */
	verdict_fail(v, REASON_LOCKED, "delayed");
	v->delayed = true;
	v->wait = wait;
	return true;
}

/* Throttled attempts cost no hashing: audit, answer, done. */
bool attempt_throttled(struct worker *w, struct request *req, struct attempt *at,
                       const char *action)
{
	struct verdict v;

	verdict_init(&v, action);
	if (!attempt_delayed(w, req, at, &v))
		return false;
	verdict_answer(w, req, at, &v);
	return true;
}

void attempt_tag_make(const struct crypto_keys *keys, const char *secret, const char *second,
                      char tag[CRED_TAG_LEN + 1])
{
	char both[2 * FIELD_SECRET_MAX + 2];
	size_t sl = strnlen(secret, FIELD_SECRET_MAX);
	size_t cl = second != NULL ? strnlen(second, FIELD_SECRET_MAX) : 0;

	/* By hand, not snprintf: it once cost a cheap login more than its HMAC. */
	memcpy(both, secret, sl);
	both[sl] = '\n';
	memcpy(both + sl + 1, second != NULL ? second : "", cl);
	both[sl + 1 + cl] = '\0';
	cred_tag(keys, "attempt", both, tag);
	secret_wipe(both, sl + cl + 2);
}

const char *attempt_tag(struct attempt *at)
{
	if (at->tag[0] == '\0' && at->keys != NULL && at->sent_password != NULL)
		attempt_tag_make(at->keys, at->sent_password, at->sent_code, at->tag);
	return at->tag;
}

void attempt_count_password(struct worker *w, struct request *req, struct attempt *at)
{
	throttle_fail(w->daemon->throttle, attempt_tkey(w, at), attempt_tag(at), req->now);
}

bool attempt_count_code(struct account *b, struct attempt *at, const struct throttle_conf *conf,
                        int64_t now)
{
	const char *tag = attempt_tag(at);

	if (tag[0] != '\0' && b->last_bad[0] != '\0' &&
	    secret_equal(b->last_bad, tag, sizeof(b->last_bad) - 1))
		return false;
	b->code_failures++;
	memcpy(b->last_bad, tag, sizeof(b->last_bad) - 1);
	b->last_bad[sizeof(b->last_bad) - 1] = '\0';
	if (b->locked_since != 0 || !policy_code_locked(conf, b->code_failures))
		return false;
	b->locked_since = now;
	return true;
}

bool attempt_fields(struct request *req, struct attempt *at, bool passwd)
{
	const char *trust;
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
	at->device = field_get(req, "device", FIELD_SECRET_MAX, false, &bad);
	at->device_label = field_get(req, "device_label", DEVICE_LABEL_MAX, false, &bad);
	trust = field_get(req, "trust", 1, false, &bad);
	at->trust = trust != NULL && strcmp(trust, "1") == 0;
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
	const char *detail = rf->audit_detail;
	int r = STORE_ERROR;

	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto out;
	if ((rf->also != NULL || rf->code) && at->found &&
	    account_get(txn, at->a.identifiant, false, &b) == STORE_OK) {
		if (rf->also != NULL)
			rf->also(&b, req->now);
		if (rf->code && attempt_count_code(&b, at, &req->config->throttle, req->now))
			detail = "wrong codes: locked until unlocked";
		r = account_put(txn, &b);
		account_wipe(&b);
		if (r != STORE_OK) {
			store_abort(txn);
			goto out;
		}
	}
	attempt_audit(txn, req, at, rf->action, "refused", rf->reason, detail);
	r = store_commit(txn);
out:
	if (rf->count)
		attempt_count_password(w, req, at);
	/* A refusal that could not count must not read as an ordinary one: try later. */
	if (r != STORE_OK && (rf->code || rf->also != NULL))
		reply_tempfail(req);
	else
		reply_fail(req, rf->reason, rf->reply_detail);
}
