/*
 * pam_verdon: auth, account and password through verdond's auth socket.
 * The module writes no file: every call parses its arguments, asks the
 * daemon at most once and wipes what it was given. The one thing kept is in
 * the PAM handle: the daemon's OK to auth, which answers the account call
 * that follows it in the same handle (pam_reuse.h).
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_PASSWORD
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_answer.h"
#include "pam_exchange.h"
#include "pam_options.h"
#include "pam_reuse.h"
#include "proto.h"
#include "secret.h"

#define PV_ADDRESS_MAX 64 /* the daemon's limit: a longer PAM_RHOST is a host name, not sent */
#define PV_LOG_LOGIN 80

/* What every call starts from. */
struct pv_call_ctx {
	struct pv_options opt;
	char service[PV_SERVICE_MAX + 1];
	const char *user; /* PAM's copy: invalid once PAM_USER is set again */
};

/* Options, then the service name the daemon will see: the option, else PAM's. */
static int pv_setup(pam_handle_t *pamh, int argc, const char **argv, struct pv_call_ctx *ctx)
{
	const void *item = NULL;
	char err[256], name[PV_SERVICE_MAX + 1];

	memset(ctx, 0, sizeof(*ctx));
	if (pv_options_parse(argc, argv, &ctx->opt, err, sizeof(err)) < 0) {
		pam_syslog(pamh, LOG_ERR, "%s", err);
		return PAM_SERVICE_ERR;
	}
	if (ctx->opt.service[0] != '\0') {
		memcpy(ctx->service, ctx->opt.service, sizeof(ctx->service));
		return PAM_SUCCESS;
	}
	if (pam_get_item(pamh, PAM_SERVICE, &item) != PAM_SUCCESS || item == NULL ||
	    !pv_service_valid(item)) {
		pv_sanitize(item != NULL ? item : "", name, sizeof(name));
		pam_syslog(
		    pamh, LOG_ERR,
		    "the PAM service name '%s' is not a verdon service name: set service=", name);
		return PAM_SERVICE_ERR;
	}
	memcpy(ctx->service, item, strlen(item) + 1);
	return PAM_SUCCESS;
}

/* A conversation that cannot go on now is PAM_INCOMPLETE, as pam_unix says. */
static int pv_conv_code(int r)
{
	return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
}

static int pv_get_user(pam_handle_t *pamh, struct pv_call_ctx *ctx)
{
	int r = pam_get_user(pamh, &ctx->user, NULL);

	if (r != PAM_SUCCESS)
		return pv_conv_code(r);
	return ctx->user != NULL ? PAM_SUCCESS : PAM_AUTH_ERR;
}

static int pv_get_authtok(pam_handle_t *pamh, int item, const char **tok_r)
{
	int r = pam_get_authtok(pamh, item, tok_r, NULL);

	if (r != PAM_SUCCESS)
		return pv_conv_code(r);
	return *tok_r != NULL ? PAM_SUCCESS : PAM_AUTH_ERR;
}

/* The reply is ours: the caller wipes it with secret_free. */
static int pv_prompt_code(pam_handle_t *pamh, const char *prompt, char **code_r)
{
	int r;

	*code_r = NULL;
	r = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, code_r, "%s", prompt);
	if (r != PAM_SUCCESS) {
		secret_free(*code_r);
		*code_r = NULL;
		return pv_conv_code(r);
	}
	return PAM_SUCCESS;
}

/* A request with the fields every verb takes; NULL when out of memory. */
static struct proto_writer *pv_request(pam_handle_t *pamh, const char *verb,
                                       const struct pv_call_ctx *ctx, bool with_address)
{
	struct proto_writer *w = pv_request_new(verb);
	const void *rhost = NULL;

	if (w == NULL)
		return NULL;
	proto_add(w, "login", ctx->user);
	proto_add(w, "service", ctx->service);
	if (with_address && pam_get_item(pamh, PAM_RHOST, &rhost) == PAM_SUCCESS && rhost != NULL &&
	    strlen(rhost) <= PV_ADDRESS_MAX && *(const char *)rhost != '\0')
		proto_add(w, "address", rhost);
	return w;
}

static void pv_debug_answer(pam_handle_t *pamh, const struct pv_call_ctx *ctx, const char *what,
                            const struct pv_answer *a, int code)
{
	char login[PV_LOG_LOGIN];

	if (!ctx->opt.debug)
		return;
	pv_sanitize(ctx->user != NULL ? ctx->user : "", login, sizeof(login));
	pam_syslog(pamh, LOG_DEBUG, "%s '%s' service=%s: %s%s%s -> %s", what, login, ctx->service,
	           proto_outcome_verb(a->outcome), a->outcome == OUTCOME_FAIL ? " reason=" : "",
	           a->outcome == OUTCOME_FAIL ? proto_reason_name(a->reason) : "",
	           pam_strerror(pamh, code));
}

/* After an email login, the application must see the canonical identifiant. */
static int pv_set_user(pam_handle_t *pamh, struct pv_call_ctx *ctx, const char *identifiant)
{
	int r;

	if (strcmp(ctx->user, identifiant) == 0)
		return PAM_SUCCESS;
	r = pam_set_item(pamh, PAM_USER, identifiant);
	ctx->user = NULL;
	if (r != PAM_SUCCESS)
		pam_syslog(pamh, LOG_ERR, "cannot set PAM_USER: %s", pam_strerror(pamh, r));
	else if (ctx->opt.debug)
		pam_syslog(pamh, LOG_DEBUG, "PAM_USER is now '%s'", identifiant);
	return r;
}

/* The credentials as the otp= option says, in an AUTH request. */
static int pv_auth_request(pam_handle_t *pamh, const struct pv_call_ctx *ctx,
                           struct proto_writer **w_r)
{
	const char *password = NULL;
	char *code = NULL;
	int r;

	*w_r = NULL;
	if ((r = pv_get_authtok(pamh, PAM_AUTHTOK, &password)) != PAM_SUCCESS)
		goto out;
	if (ctx->opt.otp == PV_OTP_PROMPT &&
	    (r = pv_prompt_code(pamh, "Code : ", &code)) != PAM_SUCCESS)
		goto out;
	if ((*w_r = pv_request(pamh, "AUTH", ctx, true)) == NULL) {
		r = PAM_BUF_ERR;
		goto out;
	}
	proto_add(*w_r, "password", password);
	if (code != NULL && code[0] != '\0')
		proto_add(*w_r, "otp", code);
	if (ctx->opt.otp == PV_OTP_APPEND)
		proto_add(*w_r, "appended", "1");
out:
	secret_free(code);
	return r;
}

static long long pv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pv_forget_auth_ok(pam_handle_t *pamh)
{
	pam_set_data(pamh, PV_DATA_AUTH_OK, NULL, NULL);
}

static void pv_free_auth_ok(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	free(data);
}

/* After an OK: kept for the account call, unless the module was told never to. */
static void pv_keep_auth_ok(pam_handle_t *pamh, const struct pv_call_ctx *ctx,
                            const char *identifiant)
{
	struct pv_auth_ok *ok;

	if (ctx->opt.reuse_auth_s == 0 || (ok = malloc(sizeof(*ok))) == NULL)
		return;
	if (pv_auth_ok_set(ok, identifiant, ctx->service, pv_now_ms()) < 0 ||
	    pam_set_data(pamh, PV_DATA_AUTH_OK, ok, pv_free_auth_ok) != PAM_SUCCESS)
		free(ok);
}

/* The daemon said OK to auth for this person and service a moment ago, in this handle. */
static bool pv_auth_ok_reused(pam_handle_t *pamh, const struct pv_call_ctx *ctx)
{
	const void *data = NULL;
	const struct pv_auth_ok *ok;
	long long now = pv_now_ms();

	if (pam_get_data(pamh, PV_DATA_AUTH_OK, &data) != PAM_SUCCESS || data == NULL)
		return false;
	ok = data;
	if (!pv_auth_ok_fits(ok, ctx->user, ctx->service, now, ctx->opt.reuse_auth_s))
		return false;
	if (ctx->opt.debug) {
		char login[PV_LOG_LOGIN];

		pv_sanitize(ctx->user, login, sizeof(login));
		pam_syslog(pamh, LOG_DEBUG,
		           "account '%s' service=%s: the daemon's OK to auth %lld ms ago -> %s", login,
		           ctx->service, now - ok->at_ms, pam_strerror(pamh, PAM_SUCCESS));
	}
	return true;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pv_call_ctx ctx;
	struct proto_writer *w = NULL;
	struct pv_answer a;
	int r;

	(void)flags;
	/* A second auth in this handle, whatever its outcome, ends what the first one said. */
	pv_forget_auth_ok(pamh);
	if ((r = pv_setup(pamh, argc, argv, &ctx)) != PAM_SUCCESS ||
	    (r = pv_get_user(pamh, &ctx)) != PAM_SUCCESS ||
	    (r = pv_auth_request(pamh, &ctx, &w)) != PAM_SUCCESS)
		goto out;
	pv_exchange(pamh, &ctx.opt, w, true, &a);
	r = pv_pam_code(PV_CALL_AUTH, a.outcome, a.reason);
	pv_debug_answer(pamh, &ctx, "auth", &a, r);
	if (r == PAM_SUCCESS)
		r = pv_set_user(pamh, &ctx, a.identifiant);
	if (r == PAM_SUCCESS)
		pv_keep_auth_ok(pamh, &ctx, a.identifiant);
out:
	pv_request_free(w);
	return r;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pv_call_ctx ctx;

	(void)flags;
	/* Nothing to establish, but a broken service file is still never a success. */
	return pv_setup(pamh, argc, argv, &ctx);
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pv_call_ctx ctx;
	struct proto_writer *w = NULL;
	struct pv_answer a;
	int r;

	(void)flags;
	if ((r = pv_setup(pamh, argc, argv, &ctx)) != PAM_SUCCESS ||
	    (r = pv_get_user(pamh, &ctx)) != PAM_SUCCESS)
		goto out;
	if (pv_auth_ok_reused(pamh, &ctx))
		goto out;
	if ((w = pv_request(pamh, "ACCT", &ctx, false)) == NULL) {
		r = PAM_BUF_ERR;
		goto out;
	}
	pv_exchange(pamh, &ctx.opt, w, true, &a);
	r = pv_pam_code(PV_CALL_ACCT, a.outcome, a.reason);
	pv_debug_answer(pamh, &ctx, "account", &a, r);
out:
	pv_request_free(w);
	return r;
}

/* Tells the person why a change was refused: the daemon's detail, else a sentence of ours. */
static void pv_passwd_explain(pam_handle_t *pamh, int flags, const struct pv_answer *a)
{
	const char *msg = a->detail[0] != '\0' ? a->detail : pv_passwd_message(a->reason);

	if (a->outcome != OUTCOME_OK && msg != NULL && !(flags & PAM_SILENT))
		pam_error(pamh, "%s", msg);
}

/* Current password, new password (typed twice by pam_get_authtok), and the code. */
static int pv_passwd_request(pam_handle_t *pamh, const struct pv_call_ctx *ctx,
                             struct proto_writer **w_r)
{
	const char *old = NULL, *new = NULL;
	char *code = NULL;
	int r;

	*w_r = NULL;
	if ((r = pv_get_authtok(pamh, PAM_OLDAUTHTOK, &old)) != PAM_SUCCESS ||
	    (r = pv_get_authtok(pamh, PAM_AUTHTOK, &new)) != PAM_SUCCESS)
		goto out;
	if (ctx->opt.otp != PV_OTP_NONE &&
	    (r = pv_prompt_code(pamh, "Code (vide si aucun) : ", &code)) != PAM_SUCCESS)
		goto out;
	if ((*w_r = pv_request(pamh, "PASSWD", ctx, true)) == NULL) {
		r = PAM_BUF_ERR;
		goto out;
	}
	proto_add(*w_r, "password", old);
	proto_add(*w_r, "new", new);
	if (code != NULL && code[0] != '\0')
		proto_add(*w_r, "otp", code);
out:
	secret_free(code);
	return r;
}

static int pv_passwd_update(pam_handle_t *pamh, int flags, struct pv_call_ctx *ctx)
{
	struct proto_writer *w = NULL;
	struct pv_answer a;
	int r;

	if ((r = pv_get_user(pamh, ctx)) != PAM_SUCCESS ||
	    (r = pv_passwd_request(pamh, ctx, &w)) != PAM_SUCCESS)
		goto out;
	pv_exchange(pamh, &ctx->opt, w, true, &a);
	r = pv_pam_code(PV_CALL_PASSWD, a.outcome, a.reason);
	pv_debug_answer(pamh, ctx, "password", &a, r);
	pv_passwd_explain(pamh, flags, &a);
out:
	pv_request_free(w);
	return r;
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pv_call_ctx ctx;
	int r;

	if ((r = pv_setup(pamh, argc, argv, &ctx)) != PAM_SUCCESS)
		return r;
	/* The first pass only asks whether a change could be made now. */
	if (flags & PAM_PRELIM_CHECK)
		return pv_reachable(pamh, &ctx.opt) ? PAM_SUCCESS : PAM_TRY_AGAIN;
	if (!(flags & PAM_UPDATE_AUTHTOK))
		return PAM_SERVICE_ERR;
	return pv_passwd_update(pamh, flags, &ctx);
}
