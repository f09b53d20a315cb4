/*
 * The authentication decision, pure: it takes what the worker found out
 * (the account, whether the password matched, what the code was worth) and
 * the time, and says what to answer and what state to change. No I/O.
 */
#ifndef VERDON_POLICY_H
#define VERDON_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "reason.h"

struct account;
struct throttle_conf;

enum throttle_state {
	THROTTLE_OPEN,
	THROTTLE_DELAYED, /* wait *wait_r seconds */
};

/*
 * Consecutive wrong passwords for one login (throttle.h) → may this attempt
 * be heard now? Wrong passwords only ever delay: from delay_after failures
 * on, base_delay doubling with each further one, capped at max_delay.
 */
enum throttle_state policy_throttle(const struct throttle_conf *conf, unsigned failures,
                                    int64_t last_failure, int64_t now, unsigned *wait_r);
/* Consecutive wrong or replayed codes after a right password → locked until an admin unlocks? */
bool policy_code_locked(const struct throttle_conf *conf, unsigned code_failures);

enum policy_password {
	POLICY_PW_MATCH,
	POLICY_PW_MISMATCH,
	POLICY_PW_ERROR, /* the stored hash is unreadable */
};

enum policy_code {
	POLICY_CODE_NONE,     /* no code sent */
	POLICY_CODE_ACCEPT,   /* a right, fresh TOTP code */
	POLICY_CODE_RECOVERY, /* an unused recovery code */
	POLICY_CODE_REJECT,   /* wrong, malformed or replayed */
};

struct policy_input {
	const struct account *account; /* NULL: unknown login */
	enum policy_password password;
	enum policy_code code;
	bool otp_required;   /* the config demands an active authenticator */
	bool one_factor;     /* the service accepts the password alone */
	bool locked;         /* the account's hard lock (policy_code_locked) */
	bool trusted_device; /* a trusted browser's secret for this account came with it */
	int64_t now;
};

struct policy_decision {
	enum proto_outcome outcome;
	enum proto_reason reason;
	bool count_failure;      /* a wrong password: one more for the login's throttle */
	bool count_code_failure; /* a wrong or replayed code after a right password: toward the lock
	                          */
	bool login_success;      /* reset failures, stamp last login, consume the code */
	bool trusted_browser;    /* the code was skipped for a trusted browser */
};

struct policy_decision policy_decide(const struct policy_input *in);

#endif
