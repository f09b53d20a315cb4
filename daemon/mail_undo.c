/*
 * A failed mail's undo (mail_undo.h), run by the mailer in the mail's
 * thread: the slot given back to the limit, then one write transaction that
 * withdraws the code when the record still holds that very code (a newer
 * ask's is kept) and appends the audit record, then one log line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "audit.h"
#include "daemon.h"
#include "log.h"
#include "mail_undo.h"
#include "mailer.h"
#include "rescue.h"
#include "reset.h"
#include "secret.h"
#include "store.h"

/* What each kind of mail is, for the log and the audit, and what its failure withdraws. */
static const struct {
	const char *what, *action;
	const char *withdrawn; /* the code was the record's: what the undo says */
	const char *kept;      /* nothing to withdraw */
} kinds[] = {
    [MAIL_UNDO_RESET_CODE] = {"the reset code", "reset.mail",
                              "code withdrawn, a new ask mails a new one at once",
                              "no code withdrawn (replaced, used or expired meanwhile)"},
    [MAIL_UNDO_RESET_HELPDESK] = {"the helpdesk notice", "reset.mail", NULL,
                                  "a new ask may mail it at once"},
    [MAIL_UNDO_RESET_DONE] = {"the password-changed notice", "reset.mail", NULL,
                              "the new password stands; the person was not told"},
    [MAIL_UNDO_IDENT] = {"the identifiant", "ident.mail", NULL, "a new ask may mail it at once"},
    [MAIL_UNDO_RESCUE_CODE] = {"the rescue-address code", "rescue.mail",
                               "change withdrawn, a new ask mails a new code at once",
                               "no change withdrawn (replaced, confirmed or expired meanwhile)"},
    [MAIL_UNDO_RESCUE_NOTICE] = {"the rescue-address-changed notice", "rescue.mail", NULL,
                                 "the new address stands; the old one was not told"},
};

void recovery_mail_keys(const struct crypto_keys *keys, const char *identifiant,
                        const char *address, char acc_r[MAIL_LIMIT_KEY_MAX + 1],
                        char addr_r[MAIL_LIMIT_KEY_MAX + 1])
{
	char lower[EMAIL_MAX + 1], hex[2 * CRYPTO_HMAC_LEN + 1];
	size_t i;

	for (i = 0; address[i] != '\0' && i < EMAIL_MAX; i++)
		lower[i] = (char)tolower((unsigned char)address[i]);
	lower[i] = '\0';
	crypto_hmac_hex(keys, "rescue", lower, strlen(lower), hex);
	snprintf(acc_r, MAIL_LIMIT_KEY_MAX + 1, "a:%s", identifiant);
	snprintf(addr_r, MAIL_LIMIT_KEY_MAX + 1, "r:%s", hex);
}

/* Clears the code when it is still ctx's; true when it was. */
static bool withdraw_code(const struct mail_undo_ctx *ctx, struct account *a)
{
	bool reset = ctx->kind == MAIL_UNDO_RESET_CODE;
	const char *held = reset ? a->reset_hmac : a->rescue_hmac;

	if (!secret_equal_str(held, ctx->hmac, sizeof(a->reset_hmac)))
		return false;
	if (reset)
		reset_code_clear(a);
	else
		rescue_code_clear(a);
	return true;
}

/* The record's code withdrawn when it is ctx's, and the audit record, in one commit. */
static int record(const struct mail_undo_ctx *ctx, const char *why, const char **outcome_r)
{
	struct store *store = ctx->daemon->store;
	struct account a;
	struct store_txn *txn;
	char detail[AUDIT_VALUE_MAX];
	bool withdrawn = false;
	int r;

	*outcome_r = kinds[ctx->kind].kept;
	if (store_begin(store, true, &txn) != STORE_OK)
		return STORE_ERROR;
	if (ctx->hmac[0] != '\0') {
		r = account_get(txn, ctx->identifiant, false, &a);
		if (r == STORE_OK && (withdrawn = withdraw_code(ctx, &a)))
			r = account_put(txn, &a);
		account_wipe(&a);
		if (r < 0)
			goto fail;
	}
	if (withdrawn)
		*outcome_r = kinds[ctx->kind].withdrawn;
	snprintf(detail, sizeof(detail), "%s not sent: %s (%s)", kinds[ctx->kind].what, *outcome_r,
	         why);
	if (audit_write(txn, &(struct audit_event){.time = time(NULL),
	                                           .actor = "mailer",
	                                           .action = kinds[ctx->kind].action,
	                                           .identifiant = ctx->identifiant,
	                                           .result = "failed",
	                                           .reason = "tempfail",
	                                           .detail = detail}) != STORE_OK)
		goto fail;
	return store_commit(txn);
fail:
	store_abort(txn);
	return STORE_ERROR;
}

static void undo(void *arg, const char *why)
{
	const struct mail_undo_ctx *ctx = arg;
	char acc[MAIL_LIMIT_KEY_MAX + 1], addr[MAIL_LIMIT_KEY_MAX + 1];
	const char *outcome;

	if (ctx->taken != 0) {
		recovery_mail_keys(&ctx->daemon->keys, ctx->identifiant, ctx->address, acc, addr);
		mail_limit_give_back(ctx->daemon->mail_limit, acc, addr, ctx->taken);
	}
	if (record(ctx, why, &outcome) != STORE_OK)
		log_err("mail: %s for %s not sent (%s); the store failed: %s",
		        kinds[ctx->kind].what, ctx->identifiant,
		        ctx->hmac[0] != '\0' ? "its code may stay outstanding" : "not audited",
		        why);
	else
		log_err("mail: %s for %s not sent: %s (%s)", kinds[ctx->kind].what,
		        ctx->identifiant, outcome, why);
}

void mail_undo_of(const struct mail_undo_ctx *ctx, struct mail_undo *undo_r)
{
	struct mail_undo_ctx *copy = malloc(sizeof(*copy));

	*undo_r = (struct mail_undo){0};
	if (copy == NULL)
		return;
	memcpy(copy, ctx, sizeof(*copy));
	*undo_r = (struct mail_undo){.fn = undo, .arg = copy, .arg_len = sizeof(*copy)};
}
