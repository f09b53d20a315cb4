/* A typed code against an account: its TOTP token, then its recovery codes. */
#ifndef VERDON_OTPCHECK_H
#define VERDON_OTPCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "policy.h"

struct account;
struct account_otp;
struct crypto_keys;

struct code_result {
	enum policy_code code;
	int64_t step; /* ACCEPT: the step to record */
	int drift;
	int recovery; /* RECOVERY: index of the code used */
	bool broken;  /* the sealed secret did not open: a store problem, not the user's */
};

/* tok is the account's active token or its pending one; recovery codes only when allow_recovery. */
struct code_result otpcheck(const struct crypto_keys *keys, const struct account *a,
                            const struct account_otp *tok, const char *code, time_t now,
                            unsigned window, bool allow_recovery);
/* Records the code as used in a (last step and drift, or the recovery code removed). */
void otpcheck_consume(struct account *a, const struct code_result *r);

#endif
