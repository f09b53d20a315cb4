/* OTP enrollment on the admin socket: a pending secret, confirmed by a code from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "fields.h"
#include "otpcheck.h"
#include "secret.h"
#include "store.h"

struct enroll_ctx {
	struct worker *w;
	enum otp_algo algo;
	unsigned digits;
};

static enum proto_reason edit_enroll(struct request *req, struct account *a,
                                     struct proto_writer *ok, void *ctx, const char **detail)
{
	struct enroll_ctx *ec = ctx;
	struct otp_token tok = {.algo = ec->algo,
	                        .digits = ec->digits,
	                        .period = req->config->otp_period,
	                        .last_step = -1};
	char *sealed = NULL, uri[OTP_URI_MAX], b32[OTP_B32_MAX];
	enum proto_reason reason = REASON_TEMPFAIL;

	if (a->state == ACCOUNT_DELETED)
		return *detail = "deleted", REASON_WRONG_STATE;
	tok.secret_len = OTP_SECRET_LEN;
	if (otp_new_secret(tok.secret) < 0 ||
	    crypto_seal(&ec->w->daemon->keys, a->identifiant, tok.secret, tok.secret_len, &sealed) <
	        0 ||
	    strlen(sealed) >= sizeof(a->otp_next.sealed) ||
	    otp_uri(req->config->issuer, a->identifiant, &tok, uri, sizeof(uri)) < 0 ||
	    otp_base32_encode(tok.secret, tok.secret_len, b32, sizeof(b32)) < 0)
		goto out;
	memset(&a->otp_next, 0, sizeof(a->otp_next));
	memcpy(a->otp_next.sealed, sealed, strlen(sealed) + 1);
	a->otp_next.algo = tok.algo;
	a->otp_next.digits = tok.digits;
	a->otp_next.period = tok.period;
	a->otp_next.last_step = -1;
	a->otp_pending = true;
	proto_add(ok, "uri", uri);
	proto_add(ok, "secret", b32);
	*detail = "pending secret created";
	reason = REASON_NONE;
out:
	secret_free(sealed);
	secret_wipe(&tok, sizeof(tok));
	secret_wipe(uri, sizeof(uri));
	secret_wipe(b32, sizeof(b32));
	return reason;
}

void admin_otp_enroll(struct worker *w, struct request *req)
{
	struct enroll_ctx ec = {
	    .w = w, .algo = req->config->otp_algorithm, .digits = req->config->otp_digits};
	const char *algo, *digits;
	bool bad = false;

	algo = field_get(req, "algorithm", 8, false, &bad);
	digits = field_get(req, "digits", 1, false, &bad);
	if (bad)
		return;
	if ((algo != NULL && otp_algo_parse(algo, &ec.algo) < 0) ||
	    (digits != NULL && strcmp(digits, "6") != 0 && strcmp(digits, "8") != 0)) {
		reply_fail(req, REASON_BAD_REQUEST, "algorithm: SHA1|SHA256|SHA512; digits: 6|8");
		return;
	}
	if (digits != NULL)
		ec.digits = (unsigned)atoi(digits);
	admin_edit(w, req, "otp.enroll", edit_enroll, &ec);
}

struct confirm_ctx {
	struct worker *w;
	const char *code;
};

static int new_recovery(struct worker *w, struct account *a, struct proto_writer *ok)
{
	char codes[OTP_RECOVERY_COUNT][OTP_RECOVERY_LEN + 1];
	char list[OTP_RECOVERY_COUNT * (OTP_RECOVERY_LEN + 1)] = "";

	if (otp_recovery_generate(codes) < 0)
		return -1;
	for (unsigned i = 0; i < OTP_RECOVERY_COUNT; i++) {
		crypto_hmac_hex(&w->daemon->keys, "recovery", codes[i], strlen(codes[i]),
		                a->recovery[i]);
		if (i > 0)
			strcat(list, ",");
		strcat(list, codes[i]);
	}
	a->recovery_count = OTP_RECOVERY_COUNT;
	proto_add(ok, "recovery_codes", list);
	secret_wipe(codes, sizeof(codes));
	secret_wipe(list, sizeof(list));
	return 0;
}

static enum proto_reason edit_confirm(struct request *req, struct account *a,
                                      struct proto_writer *ok, void *ctx, const char **detail)
{
	struct confirm_ctx *cc = ctx;
	struct code_result cr;

	if (!a->otp_pending)
		return REASON_NO_PENDING_OTP;
	cr = otpcheck(&cc->w->daemon->keys, a, &a->otp_next, cc->code, req->now,
	              req->config->otp_window, false);
	if (cr.broken)
		return *detail = "pending secret does not open", REASON_TEMPFAIL;
	if (cr.code != POLICY_CODE_ACCEPT)
		return *detail = "wrong code", REASON_INVALID;
	a->otp = a->otp_next;
	a->otp.last_step = cr.step;
	a->otp.drift = cr.drift;
	a->otp_active = true;
	a->otp_pending = false;
	memset(&a->otp_next, 0, sizeof(a->otp_next));
	if (new_recovery(cc->w, a, ok) < 0)
		return REASON_TEMPFAIL;
	*detail = "authenticator active";
	return REASON_NONE;
}

void admin_otp_confirm(struct worker *w, struct request *req)
{
	struct confirm_ctx cc = {.w = w};
	bool bad = false;

	if ((cc.code = field_get(req, "code", FIELD_CODE_MAX, true, &bad)) != NULL)
		admin_edit(w, req, "otp.confirm", edit_confirm, &cc);
}

static enum proto_reason edit_otp_reset(struct request *req, struct account *a,
                                        struct proto_writer *ok, void *ctx, const char **detail)
{
	(void)req, (void)ok, (void)ctx;
	*detail = a->otp_active ? "authenticator removed" : "no authenticator was active";
	a->otp_active = a->otp_pending = false;
	a->session_gen++;
	secret_wipe(&a->otp, sizeof(a->otp));
	secret_wipe(&a->otp_next, sizeof(a->otp_next));
	a->otp.last_step = a->otp_next.last_step = -1;
	secret_wipe(a->recovery, sizeof(a->recovery));
	a->recovery_count = 0;
	return REASON_NONE;
}

void admin_otp_reset(struct worker *w, struct request *req)
{
	admin_edit(w, req, "otp.reset", edit_otp_reset, NULL);
}

/* Read-only: the same lookup as the edits, in a read transaction. */
static enum proto_reason edit_status(struct request *req, struct account *a,
                                     struct proto_writer *ok, void *ctx, const char **detail)
{
	const struct account_otp *t = a->otp_active ? &a->otp : &a->otp_next;

	(void)req, (void)ctx, (void)detail;
	proto_add(ok, "state", a->otp_active ? "active" : a->otp_pending ? "pending" : "none");
	if (a->otp_active || a->otp_pending) {
		proto_add(ok, "algorithm", otp_algo_name(t->algo));
		proto_addf(ok, "digits", "%u", t->digits);
		proto_addf(ok, "period", "%u", t->period);
	}
	proto_addf(ok, "last_used", "%lld",
	           a->otp_active && a->otp.last_step >= 0
	               ? (long long)a->otp.last_step * a->otp.period
	               : 0LL);
	proto_addf(ok, "drift", "%d", a->otp_active ? a->otp.drift : 0);
	proto_addf(ok, "recovery_left", "%u", a->recovery_count);
	return REASON_NONE;
}

void admin_otp_status(struct worker *w, struct request *req)
{
	admin_view(w, req, edit_status, NULL);
}
