/*
 * RESCUE_ASK, RESCUE_CONFIRM and PAGE_CONFIG (rescue.h): the person's own
 * rescue address, and what the page must know of the config. The new
 * address proves itself with a 6-digit code mailed to it (kept as an HMAC,
 * bounded tries and lifetime); the old one is told once the change is made.
 * Every outcome is audited, in the transaction of the change it records;
 * every ask and every wrong code counts against the client's address.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account.h"
#include "attempt.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "log.h"
#include "mail_undo.h"
#include "mailer.h"
#include "penalty.h"
#include "reason.h"
#include "rescue.h"
#include "reset.h"
#include "secret.h"
#include "store.h"

#define SUBJECT_CODE "Confirmez votre nouvelle adresse de secours"
#define SUBJECT_NOTICE "Votre adresse de secours a été changée"

/*
 * The mail a request leaves for after its answer (workers.c runs it once the answer has gone, as
 * reset.c's): the code to the new address, or the notice to the old one. One per worker thread.
 */
static __thread struct {
	char to[EMAIL_MAX + 1];
	char identifiant[IDENT_MAX + 1];
	char code[RESET_CODE_LEN + 1]; /* "": the notice */
	char masked[RESCUE_MASK_MAX];  /* the new address, for the notice */
	unsigned lifetime;
	char hmac[2 * CRYPTO_HMAC_LEN + 1]; /* the code's, as the record keeps it */
	int64_t taken;                      /* when the mail limit counted it; 0: it did not */
} later;

/* What the mail undoes if it does not go (mail_undo.h): the pending change and the limit's slot. */
static void undo_of(struct worker *w, bool code, struct mail_undo *undo_r)
{
	struct mail_undo_ctx ctx = {.daemon = w->daemon,
	                            .kind = code ? MAIL_UNDO_RESCUE_CODE : MAIL_UNDO_RESCUE_NOTICE,
	                            .taken = later.taken};

	snprintf(ctx.identifiant, sizeof(ctx.identifiant), "%s", later.identifiant);
	snprintf(ctx.address, sizeof(ctx.address), "%s", later.to);
	if (code)
		memcpy(ctx.hmac, later.hmac, sizeof(ctx.hmac));
	mail_undo_of(&ctx, undo_r);
	secret_wipe(&ctx, sizeof(ctx));
}

static void mail_after(struct worker *w, const struct config *c)
{
	bool code = later.code[0] != '\0';
	char *text =
	    code ? rescue_body_code(later.identifiant, later.code, later.lifetime, c->organisation)
	         : rescue_body_notice(later.identifiant, later.masked, c->organisation);
	struct mail m = {.from = c->mail_from,
	                 .to = later.to,
	                 .subject = code ? SUBJECT_CODE : SUBJECT_NOTICE,
	                 .body = text};
	struct mail_undo undo;

	if (text == NULL) {
		log_err("mail dropped: out of memory");
	} else {
		undo_of(w, code, &undo);
		(void)mailer_send(c, &m, time(NULL), &undo);
	}
	secret_free(text);
	secret_wipe(&later, sizeof(later));
}

/* hmac and taken: the code's and when the limit counted it (NULL and 0 for the notice). */
static void mail_later(struct worker *w, const char *to, const char *identifiant, const char *code,
                       const char *masked, unsigned lifetime, const char *hmac, int64_t taken)
{
	snprintf(later.to, sizeof(later.to), "%s", to);
	snprintf(later.identifiant, sizeof(later.identifiant), "%s", identifiant);
	snprintf(later.code, sizeof(later.code), "%s", code != NULL ? code : "");
	snprintf(later.masked, sizeof(later.masked), "%s", masked != NULL ? masked : "");
	later.lifetime = lifetime;
	snprintf(later.hmac, sizeof(later.hmac), "%s", hmac != NULL ? hmac : "");
	later.taken = taken;
	w->after = mail_after;
}

/* The session's account, read in txn; false after answering (a refusal audited). */
static bool load(struct worker *w, struct request *req, struct store_txn *txn, struct attempt *at,
                 const char *action)
{
	int r = account_get(txn, at->login, false, &at->a);
	int reason = r == STORE_OK ? REASON_DISABLED : REASON_NOT_FOUND;

	at->found = r == STORE_OK;
	if (r == STORE_OK && at->a.state == ACCOUNT_ACTIVE)
		return true;
	if (r < 0) {
		reply_tempfail(req);
		return false;
	}
	attempt_audit_later(w, req, at, action, "refused", reason, "account not active");
	reply_fail(req, reason, NULL);
	return false;
}

/* The record and the audit line already in txn, committed together; txn is over either way. */
static int save(struct store_txn *txn, struct account *a)
{
	if (account_put(txn, a) != STORE_OK) {
		store_abort(txn);
		return STORE_ERROR;
	}
	return store_commit(txn);
}

static const char *ask_refusal(const struct account *a, const char *email)
{
	if (!ident_email_valid(email))
		return "ce n'est pas une adresse électronique";
	if (strcasecmp(email, a->email) == 0)
		return "l'adresse de secours doit être une autre messagerie que votre adresse "
		       "académique";
	if (strcasecmp(email, a->rescue_email) == 0)
		return "c'est déjà votre adresse de secours";
	return NULL;
}

/* The pending address, its code and one commit; false after answering. */
static bool ask_commit(struct worker *w, struct request *req, struct attempt *at, const char *email,
                       const char *hex)
{
	const char *why;
	struct store_txn *txn;
	char detail[EMAIL_MAX + 32];

	if (store_begin(w->daemon->store, true, &txn) != STORE_OK) {
		reply_tempfail(req);
		return false;
	}
	if (!load(w, req, txn, at, "rescue.ask"))
		goto refused;
	if ((why = ask_refusal(&at->a, email)) != NULL) {
		attempt_audit(txn, req, at, "rescue.ask", "refused", REASON_BAD_REQUEST, why);
		if (store_commit(txn) != STORE_OK)
			reply_tempfail(req);
		else
			reply_fail(req, REASON_BAD_REQUEST, why);
		return false;
	}
	snprintf(at->a.rescue_next, sizeof(at->a.rescue_next), "%s", email);
	snprintf(at->a.rescue_hmac, sizeof(at->a.rescue_hmac), "%s", hex);
	at->a.rescue_expires = req->now + req->config->rescue_code_lifetime;
	at->a.rescue_tries = RESCUE_TRIES;
	snprintf(detail, sizeof(detail), "code mailed to %s", email);
	attempt_audit(txn, req, at, "rescue.ask", "ok", REASON_NONE, detail);
	if (save(txn, &at->a) != STORE_OK) {
		reply_tempfail(req);
		return false;
	}
	return true;
refused:
	store_abort(txn);
	return false;
}

static void rescue_ask(struct worker *w, struct request *req)
{
	char code[RESET_CODE_LEN + 1] = "", hex[2 * CRYPTO_HMAC_LEN + 1] = "";
	struct attempt at = {0};
	struct proto_writer pw;
	const char *email, *why;
	bool bad = false;

	at.login = field_get(req, "login", IDENT_MAX, true, &bad);
	email = field_get(req, "email", EMAIL_MAX, true, &bad);
	at.address = field_get(req, "address", FIELD_ADDRESS_MAX, false, &bad);
	if (bad)
		return;
	/* The recovery mail limits hold here too: a person cannot flood an address with codes. */
	if (!recovery_mail_allowed(w, req, at.login, email, &why)) {
		log_info("rescue ask for %s held back: %s", at.login, why);
		reply_fail(req, REASON_LOCKED, "Trop de messages envoyés : réessayez plus tard.");
		goto out;
	}
	if (reset_code_new(code) < 0) {
		reply_tempfail(req);
		goto out;
	}
	crypto_hmac_hex(&w->daemon->keys, "rescue", code, RESET_CODE_LEN, hex);
	if (ask_commit(w, req, &at, email, hex)) {
		proto_begin(&pw, "OK", req->msg.id);
		proto_addf(&pw, "expires", "%u", req->config->rescue_code_lifetime);
		reply_line(req, &pw);
		mail_later(w, email, at.a.identifiant, code, NULL,
		           req->config->rescue_code_lifetime, hex, req->now);
	}
	/* Every ask counts: asking is how a mailbox gets flooded. */
	penalty_record(w->daemon->penalty, at.address, true, NULL, penalty_now_ms());
out:
	secret_wipe(code, sizeof(code));
	secret_wipe(hex, sizeof(hex));
	account_wipe(&at.a);
}

void rescue_code_clear(struct account *a)
{
	a->rescue_next[0] = '\0';
	secret_wipe(a->rescue_hmac, sizeof(a->rescue_hmac));
	a->rescue_expires = 0;
	a->rescue_tries = 0;
}

/* A refused code, as the person should read it; the try is spent in a. */
static const char *confirm_miss(struct account *a, enum reset_check rc, const char **why_r)
{
	if (rc == RESET_CODE_EXPIRED) {
		rescue_code_clear(a);
		*why_r = "expired";
		return "Code expiré : demandez-en un nouveau.";
	}
	if (rc == RESET_CODE_NONE) {
		rescue_code_clear(a);
		*why_r = "none";
		return "Aucun changement en attente (code déjà utilisé ou trop d'essais) : "
		       "recommencez.";
	}
	*why_r = "wrong";
	if (--a->rescue_tries == 0) {
		rescue_code_clear(a);
		return "Code incorrect, et c'était le dernier essai : demandez un nouveau code.";
	}
	return "Code incorrect : vérifiez le dernier message reçu à la nouvelle adresse.";
}

static void confirm_refuse(struct request *req, struct store_txn *txn, struct attempt *at,
                           enum reset_check rc)
{
	const char *why, *detail = confirm_miss(&at->a, rc, &why);
	struct proto_writer pw;
	unsigned tries = at->a.rescue_tries;

	attempt_audit(txn, req, at, "rescue.confirm", "refused", REASON_INVALID, why);
	if (save(txn, &at->a) != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	proto_begin(&pw, "FAIL", req->msg.id);
	proto_add(&pw, "reason", "invalid");
	proto_add(&pw, "why", why);
	proto_addf(&pw, "tries", "%u", tries);
	proto_add(&pw, "detail", detail);
	reply_line(req, &pw);
}

/* The change and its audit in one commit; then the answer, then the notice to the old address. */
static bool confirm_apply(struct worker *w, struct request *req, struct store_txn *txn,
                          struct attempt *at)
{
	char old[EMAIL_MAX + 1], masked[RESCUE_MASK_MAX];
	struct proto_writer pw;

	memcpy(old, at->a.rescue_email, sizeof(old));
	memcpy(at->a.rescue_email, at->a.rescue_next, sizeof(at->a.rescue_email));
	rescue_code_clear(&at->a);
	attempt_audit(txn, req, at, "rescue.confirm", "ok", REASON_NONE, "rescue address changed");
	if (save(txn, &at->a) != STORE_OK) {
		reply_tempfail(req);
		return false;
	}
	proto_begin(&pw, "OK", req->msg.id);
	proto_add(&pw, "rescue_email", at->a.rescue_email);
	reply_line(req, &pw);
	rescue_mask(at->a.rescue_email, masked);
	if (old[0] != '\0')
		mail_later(w, old, at->a.identifiant, NULL, masked, 0, NULL, 0);
	return true;
}

static void rescue_confirm(struct worker *w, struct request *req)
{
	struct attempt at = {0};
	struct store_txn *txn;
	enum reset_check rc;
	const char *code;
	bool bad = false, done = false;

	at.login = field_get(req, "login", IDENT_MAX, true, &bad);
	code = field_get(req, "code", FIELD_CODE_MAX, true, &bad);
	at.address = field_get(req, "address", FIELD_ADDRESS_MAX, false, &bad);
	if (bad)
		return;
	if (store_begin(w->daemon->store, true, &txn) != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	if (!load(w, req, txn, &at, "rescue.confirm")) {
		store_abort(txn);
		goto out;
	}
	rc = mailed_code_check(
	    &w->daemon->keys, "rescue",
	    &(struct mailed_code){at.a.rescue_hmac, at.a.rescue_expires, at.a.rescue_tries}, code,
	    req->now);
	if (rc == RESET_CODE_OK)
		done = confirm_apply(w, req, txn, &at);
	else
		confirm_refuse(req, txn, &at, rc);
	/* A wrong code counts against the address; a success forgives it. */
	penalty_record(w->daemon->penalty, at.address, !done, NULL, penalty_now_ms());
out:
	account_wipe(&at.a);
}

/* Where the person stands: the rescue address and the change waiting for its code, both masked. */
static void rescue_status(struct worker *w, struct request *req)
{
	char masked[RESCUE_MASK_MAX];
	struct attempt at = {0};
	struct store_txn *txn;
	struct proto_writer pw;
	bool bad = false;

	at.login = field_get(req, "login", IDENT_MAX, true, &bad);
	if (bad)
		return;
	if (store_begin(w->daemon->store, false, &txn) != STORE_OK) {
		reply_tempfail(req);
		return;
	}
	if (load(w, req, txn, &at, "rescue.status")) {
		proto_begin(&pw, "OK", req->msg.id);
		rescue_mask(at.a.rescue_email, masked);
		proto_add(&pw, "rescue_email", at.a.rescue_email[0] != '\0' ? masked : "");
		/* a code past its life or out of tries waits for nothing */
		if (at.a.rescue_next[0] != '\0' && at.a.rescue_tries > 0 &&
		    at.a.rescue_expires > req->now) {
			rescue_mask(at.a.rescue_next, masked);
			proto_add(&pw, "pending", masked);
			proto_addf(&pw, "expires", "%lld",
			           (long long)(at.a.rescue_expires - req->now));
		}
		reply_line(req, &pw);
	}
	store_abort(txn);
	account_wipe(&at.a);
}

static void page_config(struct worker *w, struct request *req)
{
	const struct config *c = req->config;
	struct proto_writer pw;

	(void)w;
	proto_begin(&pw, "OK", req->msg.id);
	proto_add(&pw, "organisation", c->organisation);
	if (c->http_webmail_url != NULL)
		proto_add(&pw, "webmail_url", c->http_webmail_url);
	proto_addf(&pw, "min_length", "%u", c->policy.min_chars);
	proto_add(&pw, "character_classes", c->policy.classes ? "1" : "0");
	proto_add(&pw, "dictionary", c->policy.dictionary ? "1" : "0");
	proto_addf(&pw, "rescue_code_lifetime", "%u", c->rescue_code_lifetime);
	reply_line(req, &pw);
}

/* None of them hashes: the fast lane, never behind Argon2. */
const struct verb self_verbs[] = {
    {"RESCUE_ASK", rescue_ask, VERB_PENALIZED | VERB_FAST},
    {"RESCUE_CONFIRM", rescue_confirm, VERB_PENALIZED | VERB_FAST},
    {"RESCUE_STATUS", rescue_status, VERB_FAST},
    {"PAGE_CONFIG", page_config, VERB_FAST},
    {NULL, NULL, 0},
};
