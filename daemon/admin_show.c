/* USER_SHOW and USER_LIST: what an account is, never what its secrets are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "attempt.h"
#include "policy.h"
#include "secret.h"
#include "store.h"
#include "throttle.h"

#define LIST_DEFAULT 1000
#define LIST_MAX 10000
/* show_lookup has answered already (a bad request). */
#define SHOW_ANSWERED (-100)

/* Where an account stands in its first login, for the support desk's "who has not activated?". */
enum activation {
	ACTIVATION_DONE = 0, /* temporary password replaced, authenticator enrolled if demanded */
	ACTIVATION_PENDING,  /* not yet, the temporary password still valid */
	ACTIVATION_EXPIRED,  /* not yet, and the temporary password has expired */
	ACTIVATION_CLOSED,   /* suspended or deleted: not counted as pending */
	ACTIVATION_COUNT
};

static const char *const activation_names[ACTIVATION_COUNT] = {"activated", "pending", "expired",
                                                               "closed"};

static enum activation activation_of(const struct request *req, const struct account *a)
{
	if (a->state != ACCOUNT_ACTIVE)
		return ACTIVATION_CLOSED;
	if (account_activated(a, req->config->otp_required))
		return ACTIVATION_DONE;
	if (a->password_temporary && a->temporary_expires <= req->now)
		return ACTIVATION_EXPIRED;
	return ACTIVATION_PENDING;
}

static const char *activation_name(const struct request *req, const struct account *a)
{
	return activation_names[activation_of(req, a)];
}

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

/* The former logins that still name the account, comma-separated. */
static void show_aliases(struct proto_writer *w, const struct account *a)
{
	char list[ACCOUNT_ALIASES_MAX * (EMAIL_MAX + 1)] = "";
	size_t n = 0;

	for (unsigned i = 0; i < a->naliases && i < ACCOUNT_ALIASES_MAX; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i > 0 ? "," : "",
		                      a->aliases[i]);
	proto_add(w, "aliases", list);
}

static void show_fields(struct proto_writer *w, const struct request *req, const struct account *a)
{
	proto_add(w, "identifiant", a->identifiant);
	proto_add(w, "email", a->email);
	proto_add(w, "first", a->first);
	proto_add(w, "last", a->last);
	proto_add(w, "birth", a->birth);
	proto_add(w, "rescue_email", a->rescue_email);
	proto_add(w, "mobile", a->mobile);
	proto_add(w, "etablissement", a->etablissement);
	proto_add(w, "state", account_state_name(a->state));
	proto_add(w, "activation", activation_name(req, a));
	proto_add(w, "state_reason", a->state_reason);
	proto_addf(w, "created", "%lld", (long long)a->created);
	proto_addf(w, "last_login", "%lld", (long long)a->last_login);
	proto_addf(w, "password_changed", "%lld", (long long)a->password_changed);
	proto_addf(w, "password_temporary", "%d", a->password_temporary);
	proto_addf(w, "temporary_expires", "%lld", (long long)a->temporary_expires);
	proto_add(w, "otp", otp_state(a));
	proto_addf(w, "recovery_codes", "%u", a->recovery_count);
	show_aliases(w, a);
}

/* The account login= names, or numen= (through the NUMEN index). */
static int show_lookup(struct worker *w, struct request *req, struct store_txn *txn,
                       struct account *a)
{
	char norm[FIELD_LOGIN_MAX + 1], numen[NUMEN_LEN + 1], hmac[2 * CRYPTO_HMAC_LEN + 1];
	char ident[IDENT_MAX + 1];
	const char *login, *given;
	bool bad = false, is_email;
	int r;

	login = field_get(req, "login", FIELD_LOGIN_MAX, false, &bad);
	given = field_get(req, "numen", NUMEN_LEN, false, &bad);
	if (bad)
		return SHOW_ANSWERED;
	if ((login == NULL) == (given == NULL)) {
		reply_fail(req, REASON_BAD_REQUEST, "login or numen: one of them");
		return SHOW_ANSWERED;
	}
	if (login != NULL)
		return ident_login(login, norm, sizeof(norm), &is_email) < 0
		           ? STORE_NOTFOUND
		           : account_get(txn, norm, is_email, a);
	if (ident_numen_canonical(given, numen) < 0)
		return STORE_NOTFOUND;
	crypto_hmac_hex(&w->daemon->keys, "numen", numen, NUMEN_LEN, hmac);
	secret_wipe(numen, sizeof(numen));
	if ((r = account_by_numen(txn, hmac, ident)) != STORE_OK)
		return r;
	return account_get(txn, ident, false, a);
}

void admin_user_show(struct worker *w, struct request *req)
{
	struct store_txn *txn;
	struct proto_writer ok;
	struct account a;
	int r;

	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	r = show_lookup(w, req, txn, &a);
	store_abort(txn);
	if (r == SHOW_ANSWERED)
		return;
	if (r < 0) {
		reply_tempfail(req);
		return;
	}
	if (r == STORE_NOTFOUND) {
		reply_fail(req, REASON_NOT_FOUND, NULL);
		return;
	}
	proto_begin(&ok, "OK", req->msg.id);
	show_fields(&ok, req, &a);
	show_throttle(&ok, w, req, &a);
	reply_line(req, &ok);
	account_wipe(&a);
}

struct list_ctx {
	struct request *req;
	const char *after;
	int state;             /* -1: all */
	bool pending, expired; /* only accounts not activated / whose temporary password expired */
	const char *etab;      /* only this établissement, or NULL */
	unsigned limit, count;
	char last[IDENT_MAX + 1];
	bool more, broken;
};

static bool list_match(const struct list_ctx *lc, const struct account *a)
{
	enum activation act = activation_of(lc->req, a);

	if (lc->state >= 0 && (int)a->state != lc->state)
		return false;
	if (lc->etab != NULL && strcmp(a->etablissement, lc->etab) != 0)
		return false;
	if (lc->pending && act != ACTIVATION_PENDING && act != ACTIVATION_EXPIRED)
		return false;
	return !lc->expired || act == ACTIVATION_EXPIRED;
}

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
	if (list_match(lc, &a)) {
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
		proto_add(&row, "etablissement", a.etablissement);
		proto_add(&row, "state", account_state_name(a.state));
		proto_add(&row, "otp", otp_state(&a));
		proto_add(&row, "activation", activation_name(lc->req, &a));
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
	const char *state, *limit, *only;
	struct store_txn *txn;
	struct proto_writer ok;
	bool bad = false;
	int r;

	state = field_get(req, "state", 16, false, &bad);
	lc.after = field_get(req, "after", IDENT_MAX, false, &bad);
	limit = field_get(req, "limit", 6, false, &bad);
	only = field_get(req, "only", 16, false, &bad);
	lc.etab = field_get(req, "etablissement", UAI_MAX, false, &bad);
	if (bad)
		return;
	lc.pending = only != NULL && strcmp(only, "pending") == 0;
	lc.expired = only != NULL && strcmp(only, "expired") == 0;
	if (only != NULL && !lc.pending && !lc.expired) {
		reply_fail(req, REASON_BAD_REQUEST, "only: pending|expired");
		return;
	}
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

/* STATS: accounts by activation and by établissement, one ROW a établissement. */
#define STATS_ETAB_MAX 20000

struct stats_etab {
	char uai[UAI_MAX + 1];
	unsigned n[ACTIVATION_COUNT];
};

struct stats_ctx {
	const struct request *req;
	unsigned total[ACTIVATION_COUNT];
	struct stats_etab *etab;
	size_t netab, cap, last;
	bool broken;
};

static struct stats_etab *stats_find(struct stats_ctx *sc, const char *uai)
{
	struct stats_etab *bigger;

	if (sc->last < sc->netab && strcmp(sc->etab[sc->last].uai, uai) == 0)
		return &sc->etab[sc->last];
	for (size_t i = 0; i < sc->netab; i++)
		if (strcmp(sc->etab[i].uai, uai) == 0)
			return &sc->etab[sc->last = i];
	if (sc->netab == sc->cap) {
		if (sc->cap >= STATS_ETAB_MAX)
			return NULL;
		sc->cap = sc->cap == 0 ? 64 : sc->cap * 2;
		if ((bigger = realloc(sc->etab, sc->cap * sizeof(*bigger))) == NULL)
			return NULL;
		sc->etab = bigger;
	}
	memset(&sc->etab[sc->netab], 0, sizeof(sc->etab[0]));
	snprintf(sc->etab[sc->netab].uai, sizeof(sc->etab[0].uai), "%s", uai);
	return &sc->etab[sc->last = sc->netab++];
}

static int stats_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct stats_ctx *sc = ctx;
	struct stats_etab *e;
	struct account a;
	enum activation act;

	(void)key, (void)klen;
	if (account_decode(val, vlen, &a) < 0) {
		sc->broken = true;
		return 1;
	}
	act = activation_of(sc->req, &a);
	sc->total[act]++;
	if ((e = stats_find(sc, a.etablissement)) != NULL)
		e->n[act]++;
	account_wipe(&a);
	return 0;
}

static int stats_cmp(const void *x, const void *y)
{
	return strcmp(((const struct stats_etab *)x)->uai, ((const struct stats_etab *)y)->uai);
}

static void stats_add(struct proto_writer *w, const unsigned n[ACTIVATION_COUNT])
{
	unsigned all = 0;

	for (int k = 0; k < ACTIVATION_COUNT; k++) {
		proto_addf(w, activation_names[k], "%u", n[k]);
		all += n[k];
	}
	proto_addf(w, "accounts", "%u", all);
}

void admin_stats(struct worker *w, struct request *req)
{
	struct stats_ctx sc = {.req = req};
	struct store_txn *txn;
	struct proto_writer ok, row;
	int r;

	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	r = store_scan(txn, STORE_ACCOUNTS, NULL, 0, false, stats_one, &sc);
	store_abort(txn);
	if (r != STORE_OK || sc.broken) {
		free(sc.etab);
		reply_tempfail(req);
		return;
	}
	if (sc.netab > 0)
		qsort(sc.etab, sc.netab, sizeof(sc.etab[0]), stats_cmp);
	for (size_t i = 0; i < sc.netab; i++) {
		proto_begin(&row, "ROW", req->msg.id);
		proto_add(&row, "etablissement", sc.etab[i].uai);
		stats_add(&row, sc.etab[i].n);
		reply_line(req, &row);
	}
	free(sc.etab);
	proto_begin(&ok, "OK", req->msg.id);
	stats_add(&ok, sc.total);
	reply_line(req, &ok);
}
