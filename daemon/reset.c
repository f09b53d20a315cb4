/*
 * RESET_ASK, RESET_CONFIRM and IDENT_ASK (reset.h). The answers and the work
 * are the same whether the account exists or not: a code is drawn and
 * hashed for every ask, one write commits every ask and every refused
 * confirmation, an unknown login costs one Argon2 run as a known one does,
 * and mail leaves from a thread of its own after the answer, so that its
 * time shows nowhere. Every outcome is audited; every ask counts against the
 * client's address, as a failed login does.
 */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "attempt.h"
#include "config.h"
#include "credential.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "mail_limit.h"
#include "mail_undo.h"
#include "mailer.h"
#include "metrics.h"
#include "otpcheck.h"
#include "password.h"
#include "penalty.h"
#include "policy.h"
#include "reason.h"
#include "reset.h"
#include "secret.h"
#include "store.h"

#define SUBJECT_CODE "Votre code pour choisir un nouveau mot de passe"
#define SUBJECT_HELPDESK "Votre demande de nouveau mot de passe"
#define SUBJECT_DONE "Votre mot de passe a été changé"
#define SUBJECT_IDENT "Votre identifiant"
#define DATE_MAX 32

/* Where a message goes, copied out of the record before it is wiped. */
struct recipient {
	char identifiant[IDENT_MAX + 1];
	char email[EMAIL_MAX + 1];
	char to[EMAIL_MAX + 1];
};

static void recipient_of(struct recipient *rc, const struct account *a)
{
	snprintf(rc->identifiant, sizeof(rc->identifiant), "%s", a->identifiant);
	snprintf(rc->email, sizeof(rc->email), "%s", a->email);
	snprintf(rc->to, sizeof(rc->to), "%s", a->rescue_email);
}

enum mail_kind { MAIL_NONE, MAIL_CODE, MAIL_HELPDESK, MAIL_IDENT, MAIL_DONE };

/*
 * The mail a request leaves for after its answer (workers.c runs it once the
 * answer has gone): the body is built and sendmail started then, so that
 * neither shows in the answer's time. One per worker thread.
 */
static __thread struct {
	enum mail_kind kind;
	struct recipient rc;
	char code[RESET_CODE_LEN + 1];
	char hmac[2 * CRYPTO_HMAC_LEN + 1]; /* the code's, as the record keeps it */
	int64_t taken;                      /* when the mail limit counted it; 0: it did not */
} later;

/* What the mail undoes if it does not go (mail_undo.h). */
static void undo_of(struct worker *w, struct mail_undo *undo_r)
{
	static const enum mail_undo_kind kinds[] = {
	    [MAIL_CODE] = MAIL_UNDO_RESET_CODE,
	    [MAIL_HELPDESK] = MAIL_UNDO_RESET_HELPDESK,
	    [MAIL_IDENT] = MAIL_UNDO_IDENT,
	    [MAIL_DONE] = MAIL_UNDO_RESET_DONE,
	};
	struct mail_undo_ctx ctx = {
	    .daemon = w->daemon, .kind = kinds[later.kind], .taken = later.taken};

	snprintf(ctx.identifiant, sizeof(ctx.identifiant), "%s", later.rc.identifiant);
	snprintf(ctx.address, sizeof(ctx.address), "%s", later.rc.to);
	if (later.kind == MAIL_CODE)
		memcpy(ctx.hmac, later.hmac, sizeof(ctx.hmac));
	mail_undo_of(&ctx, undo_r);
	secret_wipe(&ctx, sizeof(ctx));
}

static void mail_after(struct worker *w, const struct config *c)
{
	static const char *const subjects[] = {
	    [MAIL_CODE] = SUBJECT_CODE,
	    [MAIL_HELPDESK] = SUBJECT_HELPDESK,
	    [MAIL_IDENT] = SUBJECT_IDENT,
	    [MAIL_DONE] = SUBJECT_DONE,
	};
	const char *id = later.rc.identifiant, *org = c->organisation;
	struct mail_undo undo;
	char *text = NULL;

	switch (later.kind) {
	case MAIL_CODE:
		text = reset_body_code(id, later.code, org);
		break;
	case MAIL_HELPDESK:
		text = reset_body_helpdesk(id, org);
		break;
	case MAIL_IDENT:
		text = reset_body_ident(id, later.rc.email, org);
		break;
	case MAIL_DONE:
		text = reset_body_done(id, org);
		break;
	case MAIL_NONE:
		goto out;
	}
	if (text == NULL) {
		log_err("mail dropped: out of memory");
	} else {
		struct mail m = {.from = c->mail_from,
		                 .to = later.rc.to,
		                 .subject = subjects[later.kind],
		                 .body = text};

		undo_of(w, &undo);
		(void)mailer_send(c, &m, time(NULL), &undo);
	}
	secret_free(text);
out:
	secret_wipe(&later, sizeof(later));
}

/*
 * Leaves kind's mail for after the answer: code and its hmac when it carries
 * one, taken when the mail limit counted it. Every ask calls it, mail or
 * not, with the same copies, so that the work before the answer is the same.
 */
static void mail_later(struct worker *w, enum mail_kind kind, const struct recipient *rc,
                       const char *code, const char *hmac, int64_t taken)
{
	later.kind = kind;
	memcpy(&later.rc, rc, sizeof(later.rc));
	snprintf(later.code, sizeof(later.code), "%s", code != NULL ? code : "");
	snprintf(later.hmac, sizeof(later.hmac), "%s", hmac != NULL ? hmac : "");
	later.taken = taken;
	w->after = mail_after;
}

/*
 * The recovery mail limits (mail_limit.h) for an account and an address it mails (its rescue
 * address, or the new one it asks for); NULL identifiant: the path that sends nothing scans the
 * same table.
 */
bool recovery_mail_allowed(struct worker *w, const struct request *req, const char *identifiant,
                           const char *address, const char **why_r)
{
	char acc[MAIL_LIMIT_KEY_MAX + 1], addr[MAIL_LIMIT_KEY_MAX + 1];

	/* the same keying for every ask, whether it may mail or not */
	recovery_mail_keys(&w->daemon->keys, identifiant != NULL ? identifiant : "",
	                   identifiant != NULL ? address : "", acc, addr);
	if (mail_limit_take(w->daemon->mail_limit, &req->config->recovery,
	                    identifiant != NULL ? acc : NULL, identifiant != NULL ? addr : NULL,
	                    req->now, why_r))
		return true;
	if (identifiant != NULL)
		metrics_mail(METRICS_MAIL_LIMITED);
	return false;
}

static bool mail_allowed(struct worker *w, const struct request *req, const struct account *a,
                         const char **why_r)
{
	return recovery_mail_allowed(w, req, a != NULL ? a->identifiant : NULL,
	                             a != NULL ? a->rescue_email : "", why_r);
}

static void reply_ok(struct request *req)
{
	struct proto_writer w;

	proto_begin(&w, "OK", req->msg.id);
	reply_line(req, &w);
}

static void login_norm(struct attempt *at)
{
	at->norm_ok = ident_login(at->login, at->norm, sizeof(at->norm), &at->is_email) == 0;
}

/* RESET_ASK --------------------------------------------------------------- */

enum ask_mail { ASK_NONE, ASK_CODE, ASK_HELPDESK };

/* What this ask leads to, and why (for the audit). */
static enum ask_mail ask_kind(const struct request *req, const struct account *a, int *reason_r,
                              const char **why_r)
{
	*reason_r = REASON_NONE;
	if (a->state != ACCOUNT_ACTIVE) {
		*reason_r = REASON_DISABLED;
		*why_r = "account not active";
	} else if (a->rescue_email[0] == '\0') {
		*reason_r = REASON_INVALID;
		*why_r = "no rescue address";
	} else if (a->locked_since != 0) {
		*reason_r = REASON_LOCKED;
		*why_r = "locked: no mail";
	} else if (a->otp_active && !req->config->recovery_resend && a->reset_hmac[0] != '\0' &&
	           a->reset_tries > 0 && req->now < a->reset_expires) {
		/* The code mailed earlier stays the one: an ask cannot replace a person's code. */
		*reason_r = REASON_LOCKED;
		*why_r = "a code is outstanding: no mail";
	} else if (!a->otp_active) {
		*why_r = "no active authenticator: helpdesk notice mailed";
		return ASK_HELPDESK;
	} else {
		*why_r = "code mailed";
		return ASK_CODE;
	}
	return ASK_NONE;
}

/* One write for every ask, known or not: the lookup, the new code, the audit line. */
static int ask_commit(struct worker *w, struct request *req, struct attempt *at, const char *hex,
                      struct recipient *rc, enum ask_mail *kind_r)
{
	struct store_txn *txn;
	const char *why = "unknown login", *limit_why;
	int r = STORE_NOTFOUND, reason = REASON_INVALID;

	*kind_r = ASK_NONE;
	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		return STORE_ERROR;
	if (at->norm_ok && (r = account_get(txn, at->norm, at->is_email, &at->a)) < 0)
		goto fail;
	at->found = r == STORE_OK;
	if (!at->found && account_decoy(txn) != STORE_OK)
		goto fail;
	if (at->found) {
		*kind_r = ask_kind(req, &at->a, &reason, &why);
		recipient_of(rc, &at->a);
	}
	/* Scanned for every ask, counted only for a mail that goes. */
	if (!mail_allowed(w, req, *kind_r != ASK_NONE ? &at->a : NULL, &limit_why) &&
	    *kind_r != ASK_NONE) {
		*kind_r = ASK_NONE;
		reason = REASON_LOCKED;
		why = limit_why;
	}
	if (*kind_r == ASK_CODE) {
		reset_code_set(&at->a, hex, req->now);
		if (account_put(txn, &at->a) != STORE_OK)
			goto fail;
	}
	attempt_audit(txn, req, at, "reset.ask", *kind_r != ASK_NONE ? "ok" : "refused", reason,
	              why);
	return store_commit(txn);
fail:
	store_abort(txn);
	return STORE_ERROR;
}

void reset_ask_handle(struct worker *w, struct request *req)
{
	char code[RESET_CODE_LEN + 1] = "", hex[2 * CRYPTO_HMAC_LEN + 1];
	struct recipient rc = {0};
	struct attempt at = {0};
	enum ask_mail kind;
	bool bad = false;

	at.login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad);
	at.address = field_get(req, "address", FIELD_ADDRESS_MAX, false, &bad);
	if (bad)
		return;
	login_norm(&at);
	/* Drawn and hashed for every ask, whether or not it will be kept. */
	if (reset_code_new(code) < 0) {
		reply_tempfail(req);
		goto out;
	}
	crypto_hmac_hex(&w->daemon->keys, "reset", code, RESET_CODE_LEN, hex);
	if (ask_commit(w, req, &at, hex, &rc, &kind) != STORE_OK) {
		reply_tempfail(req);
		goto out;
	}
	mail_later(w,
	           kind == ASK_CODE       ? MAIL_CODE
	           : kind == ASK_HELPDESK ? MAIL_HELPDESK
	                                  : MAIL_NONE,
	           &rc, code, hex, kind != ASK_NONE ? req->now : 0);
	reply_ok(req);
	/* Every ask counts: asking is how a mailbox gets flooded. */
	penalty_record(w->daemon->penalty, at.address, true, NULL, penalty_now_ms());
out:
	secret_wipe(code, sizeof(code));
	secret_wipe(hex, sizeof(hex));
	account_wipe(&at.a);
}

/* RESET_CONFIRM ----------------------------------------------------------- */

struct confirm {
	struct attempt at;
	const char *code, *second, *new;
	bool succeeded;
};

static bool confirm_fields(struct worker *w, struct request *req, struct confirm *c)
{
	const char *otp, *recovery;
	bool bad = false;

	c->at.login = field_get(req, "login", FIELD_LOGIN_MAX, true, &bad);
	c->code = field_get(req, "code", FIELD_CODE_MAX, true, &bad);
	otp = field_get(req, "otp", FIELD_CODE_MAX, false, &bad);
	recovery = field_get(req, "recovery", FIELD_CODE_MAX, false, &bad);
	c->new = field_get(req, "new", FIELD_SECRET_MAX, true, &bad);
	c->at.address = field_get(req, "address", FIELD_ADDRESS_MAX, false, &bad);
	if (bad)
		return false;
	if (otp == NULL && recovery == NULL) {
		reply_fail(req, REASON_BAD_REQUEST, "otp or recovery is required");
		return false;
	}
	c->second = otp != NULL ? otp : recovery;
	login_norm(&c->at);
	/* What identifies this try for the address penalty: the same one again counts once. */
	attempt_tag_make(&w->daemon->keys, c->code, c->second, c->at.tag);
	return true;
}

/* The code, then the second factor, on a record: NULL when both hold, else why not. */
static const char *confirm_check(struct worker *w, const struct request *req,
                                 const struct account *a, const struct confirm *c,
                                 struct code_result *cr)
{
	enum reset_check rc = reset_code_check(&w->daemon->keys, a, c->code, req->now);

	*cr = (struct code_result){.code = POLICY_CODE_NONE, .recovery = -1};
	if (rc == RESET_CODE_NONE)
		return "no code outstanding";
	if (rc == RESET_CODE_EXPIRED)
		return "expired code";
	if (rc != RESET_CODE_OK)
		return "wrong code";
	if (a->state != ACCOUNT_ACTIVE)
		return "account not active";
	/* Losing both the password and the phone is a helpdesk case. */
	if (!a->otp_active)
		return "no active authenticator: helpdesk case";
	*cr = otpcheck(&w->daemon->keys, a, &a->otp, c->second, req->now, req->config->otp_window,
	               true);
	if (cr->code != POLICY_CODE_ACCEPT && cr->code != POLICY_CODE_RECOVERY)
		return "wrong second factor";
	return NULL;
}

/* A refusal spends one of the code's tries and counts as a failed login; unknown logins commit too.
 */
static void confirm_refuse(struct worker *w, struct request *req, struct confirm *c,
                           const char *why)
{
	struct refusal rf = {.action = "reset.confirm",
	                     .reason = REASON_INVALID,
	                     .count = true,
	                     .audit_detail = why,
	                     .also = reset_code_miss};

	c->at.failed = true;
	attempt_refuse(w, req, &c->at, &rf);
}

static void confirm_broken(struct request *req, const struct account *a)
{
	log_err("%s: the OTP secret does not open", a->identifiant);
	reply_tempfail(req);
}

static void apply_reset(struct account *b, const struct code_result *cr, const char *phc,
                        int64_t now)
{
	otpcheck_consume(b, cr);
	memcpy(b->password_hash, phc, PASSWORD_HASH_MAX);
	b->password_temporary = false;
	b->temporary_expires = 0;
	b->password_changed = now;
	b->last_bad[0] = '\0';
	reset_code_clear(b);
	b->session_gen++; /* every session dies with the old password */
}

/* The checks again on a fresh read (a code or a step may have been spent meanwhile), then one
 * commit. */
static void confirm_commit(struct worker *w, struct request *req, struct confirm *c,
                           const char *phc)
{
	struct attempt *at = &c->at;
	struct code_result cr;
	struct recipient rc;
	struct store_txn *txn;
	const char *why;
	struct account b;
	int r;

	if (store_begin(w->daemon->store, true, &txn) != STORE_OK)
		goto tempfail;
	if (account_get(txn, at->a.identifiant, false, &b) != STORE_OK) {
		store_abort(txn);
		goto tempfail;
	}
	if ((why = confirm_check(w, req, &b, c, &cr)) != NULL || cr.broken) {
		store_abort(txn);
		if (cr.broken)
			confirm_broken(req, &b);
		else
			confirm_refuse(w, req, c, why);
		account_wipe(&b);
		return;
	}
	apply_reset(&b, &cr, phc, req->now);
	recipient_of(&rc, &b);
	if (account_put(txn, &b) != STORE_OK) {
		store_abort(txn);
		account_wipe(&b);
		goto tempfail;
	}
	attempt_audit(txn, req, at, "reset.confirm", "ok", REASON_NONE,
	              cr.code == POLICY_CODE_RECOVERY ? "recovery code used" : NULL);
	r = store_commit(txn);
	account_wipe(&b);
	if (r != STORE_OK)
		goto tempfail;
	c->succeeded = true;
	mail_later(w, MAIL_DONE, &rc, NULL, NULL, 0);
	reply_ok_ident(req, rc.identifiant);
	return;
tempfail:
	reply_tempfail(req);
}

/* The policy as PASSWD applies it, with the account's own words to avoid. */
static enum proto_reason confirm_policy(const struct request *req, const struct account *a,
                                        const char *new, char *detail, size_t dlen)
{
	struct password_context ctx = {
	    .identifiant = a->identifiant,
	    .first = a->first,
	    .last = a->last,
	    .birth = a->birth,
	    .organisation = req->config->organisation,
	};

	return password_check_policy(&req->config->policy, &ctx, new, strlen(new), NULL, detail,
	                             dlen);
}

/* A refusal the person can act on: code and second factor were right, the password is not. */
static void confirm_weak(struct worker *w, struct request *req, struct confirm *c, int reason,
                         const char *detail)
{
	attempt_audit_later(w, req, &c->at, "reset.confirm", "refused", reason, NULL);
	reply_fail(req, reason, detail);
}

static void confirm_run(struct worker *w, struct request *req, struct confirm *c)
{
	char phc[PASSWORD_HASH_MAX], detail[256] = "";
	struct attempt *at = &c->at;
	struct code_result cr = {.code = POLICY_CODE_NONE};
	enum proto_reason reason;
	const char *why;

	if (!attempt_load(w, req, at))
		return;
	if (attempt_throttled(w, req, at, "reset.confirm"))
		return;
	why = at->found ? confirm_check(w, req, &at->a, c, &cr) : "unknown login";
	if (at->found && cr.broken) {
		confirm_broken(req, &at->a);
		return;
	}
	atomic_fetch_add(&w->daemon->hashes, 1);
	if (why != NULL) {
		/* What a right code would cost: an unknown login does not answer sooner. */
		password_dummy(w->hasher, &w->daemon->keys, c->new, strlen(c->new));
		confirm_refuse(w, req, c, why);
		return;
	}
	reason = confirm_policy(req, &at->a, c->new, detail, sizeof(detail));
	if (reason == REASON_TEMPFAIL) {
		reply_tempfail(req);
	} else if (reason != REASON_NONE) {
		confirm_weak(w, req, c, reason, detail);
	} else if (password_hash(w->hasher, &w->daemon->keys, c->new, strlen(c->new), phc) < 0) {
		reply_tempfail(req);
	} else {
		confirm_commit(w, req, c, phc);
	}
	secret_wipe(phc, sizeof(phc));
}

void reset_confirm_handle(struct worker *w, struct request *req)
{
	struct confirm c = {0};

	if (!confirm_fields(w, req, &c))
		return;
	confirm_run(w, req, &c);
	/* A success forgives the address, a refusal counts; a throttled try is neither. */
	if (c.at.failed || c.succeeded)
		penalty_record(w->daemon->penalty, c.at.address, c.at.failed, c.at.tag,
		               penalty_now_ms());
	account_wipe(&c.at.a);
}

/* IDENT_ASK --------------------------------------------------------------- */

struct ident_ask {
	const char *numen, *birth, *last;
	struct attempt at; /* for the audit: no login, the account when the NUMEN names one */
};

/* The NUMEN's account, or a lookup of the same cost that finds nothing. */
static int ident_lookup(struct worker *w, const char *numen, struct attempt *at)
{
	char canon[NUMEN_LEN + 1], hex[2 * CRYPTO_HMAC_LEN + 1], ident[IDENT_MAX + 1] = "-";
	struct store_txn *txn;
	bool valid;
	int r;

	valid = ident_numen_canonical(numen, canon) == 0;
	if (!valid)
		snprintf(canon, sizeof(canon), "0000000000000");
	crypto_hmac_hex(&w->daemon->keys, "numen", canon, NUMEN_LEN, hex);
	secret_wipe(canon, sizeof(canon));
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK)
		return STORE_ERROR;
	r = account_by_numen(txn, hex, ident);
	if (r == STORE_OK || r == STORE_NOTFOUND)
		r = account_get(txn, valid && r == STORE_OK ? ident : "-", false, &at->a);
	if (r == STORE_NOTFOUND)
		r = account_decoy(txn) == STORE_OK ? STORE_NOTFOUND : STORE_ERROR;
	store_abort(txn);
	at->found = r == STORE_OK;
	return r < 0 ? STORE_ERROR : STORE_OK;
}

/* Birth date and folded surname, both compared whatever the first gave. */
static bool ident_matches(const struct ident_ask *ia)
{
	char typed[NAME_MAX_BYTES + 1], stored[NAME_MAX_BYTES + 1];
	const struct account *a = &ia->at.a;
	bool birth, last;

	birth = secret_equal_str(ia->birth, a->birth, DATE_MAX);
	last = ident_fold(ia->last, false, typed, sizeof(typed)) == 0 &&
	       ident_fold(ia->at.found ? a->last : ia->last, false, stored, sizeof(stored)) == 0 &&
	       secret_equal_str(typed, stored, sizeof(typed));
	return ia->at.found && birth && last && a->state == ACCOUNT_ACTIVE &&
	       a->rescue_email[0] != '\0';
}

void ident_ask_handle(struct worker *w, struct request *req)
{
	struct ident_ask ia = {0};
	struct recipient rc;
	const char *why;
	bool bad = false, match, allowed;

	ia.numen = field_get(req, "numen", FIELD_CODE_MAX, true, &bad);
	ia.birth = field_get(req, "birth", DATE_MAX, true, &bad);
	ia.last = field_get(req, "last", NAME_MAX_BYTES, true, &bad);
	ia.at.address = field_get(req, "address", FIELD_ADDRESS_MAX, false, &bad);
	if (bad)
		return;
	if (ident_lookup(w, ia.numen, &ia.at) != STORE_OK) {
		reply_tempfail(req);
		goto out;
	}
	match = ident_matches(&ia);
	recipient_of(&rc, &ia.at.a);
	/* Scanned for every ask, counted only for a mail that goes. */
	allowed = mail_allowed(w, req, match ? &ia.at.a : NULL, &why);
	/* Nothing changes in the store: queued, the same for every answer. */
	attempt_audit_later(w, req, &ia.at, "ident.ask", match && allowed ? "ok" : "refused",
	                    !match    ? REASON_INVALID
	                    : allowed ? REASON_NONE
	                              : REASON_LOCKED,
	                    !match    ? "no match"
	                    : allowed ? "identifiant mailed"
	                              : why);
	mail_later(w, match && allowed ? MAIL_IDENT : MAIL_NONE, &rc, NULL, NULL,
	           match && allowed ? req->now : 0);
	reply_ok(req);
	penalty_record(w->daemon->penalty, ia.at.address, true, NULL, penalty_now_ms());
out:
	account_wipe(&ia.at.a);
}

const struct verb reset_verbs[] = {
    {"RESET_ASK", reset_ask_handle, VERB_PENALIZED},
    {"RESET_CONFIRM", reset_confirm_handle, VERB_PENALIZED},
    {"IDENT_ASK", ident_ask_handle, VERB_PENALIZED},
    {NULL, NULL, 0},
};
