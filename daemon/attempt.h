/* One login attempt, as AUTH and PASSWD see it. */
#ifndef VERDON_ATTEMPT_H
#define VERDON_ATTEMPT_H

#include <stdbool.h>

#include "account.h"
#include "fields.h"

struct request;
struct store_txn;
struct worker;

struct attempt {
	const char *login, *password, *code, *service, *address;
	char norm[FIELD_LOGIN_MAX + 1];
	bool norm_ok, is_email;
	struct account a; /* as read before hashing */
	bool found;
};

enum step { STEP_DONE, STEP_RETRY };

/* Reads login, password, otp, service, address (and checks new= for PASSWD); false after answering. */
bool attempt_fields(struct request *req, struct attempt *at, bool passwd);
/* Reads the account the login names; false after answering TEMPFAIL. */
bool attempt_load(struct worker *w, struct request *req, struct attempt *at);
/* true after answering locked (audited, no hashing done). */
bool attempt_throttled(struct worker *w, struct request *req, struct attempt *at,
		       const char *action, const struct account *a);
void attempt_audit(struct store_txn *txn, struct request *req, const struct attempt *at,
		   const char *action, const char *result, int reason, const char *detail);

#endif

/* PASSWD, in passwd.c. */
void passwd_handle(struct worker *w, struct request *req);
