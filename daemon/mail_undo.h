/*
 * What a mail to a person undoes when it does not go (mailer.h's undo): the
 * code it carried is withdrawn from the record, so that nobody holds a code
 * that never arrived, and the recovery mail limit's slot it took is given
 * back, so that the person may ask again at once. The failure is audited
 * (result "failed") and logged on one line; never the code.
 */
#ifndef VERDON_MAIL_UNDO_H
#define VERDON_MAIL_UNDO_H

#include <stdint.h>

#include "crypto.h"
#include "ident.h"
#include "mail_limit.h"

struct daemon;
struct mail_undo;

enum mail_undo_kind {
	MAIL_UNDO_RESET_CODE,     /* RESET_ASK's code: withdrawn */
	MAIL_UNDO_RESET_HELPDESK, /* RESET_ASK's helpdesk notice */
	MAIL_UNDO_RESET_DONE,     /* the "password changed" notice: nothing to undo */
	MAIL_UNDO_IDENT,          /* IDENT_ASK's identifiant */
	MAIL_UNDO_RESCUE_CODE,    /* RESCUE_ASK's code: the pending address withdrawn */
	MAIL_UNDO_RESCUE_NOTICE,  /* the "rescue address changed" notice: nothing to undo */
};

struct mail_undo_ctx {
	struct daemon *daemon;
	enum mail_undo_kind kind;
	char identifiant[IDENT_MAX + 1];
	char address[EMAIL_MAX + 1];        /* the address mailed: the limit's key */
	char hmac[2 * CRYPTO_HMAC_LEN + 1]; /* the code's, as the record keeps it; "": none */
	int64_t taken;                      /* when the limit counted this mail; 0: it did not */
};

/* The undo of ctx for mailer_send (its arg a malloc'd copy; fn NULL when out of memory). */
void mail_undo_of(const struct mail_undo_ctx *ctx, struct mail_undo *undo_r);

/* The recovery mail limit's keys of an account and an address it mails (the address lowercased
 * and keyed: the table never holds it in clear). */
void recovery_mail_keys(const struct crypto_keys *keys, const char *identifiant,
                        const char *address, char acc_r[MAIL_LIMIT_KEY_MAX + 1],
                        char addr_r[MAIL_LIMIT_KEY_MAX + 1]);

#endif
