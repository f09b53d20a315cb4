#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "account.h"
#include "config.h"
#include "policy.h"

#define NOW INT64_C(1700000000)

static const struct throttle_conf spec_throttle = {
    .delay_after = 5, .base_delay = 30, .max_delay = 3600, .lock_after = 50};

struct throttle_row {
	const char *what;
	unsigned failures;
	int64_t last_failure;
	enum throttle_state want;
	unsigned want_wait;
};

static void check_throttle(const struct throttle_conf *conf, const struct throttle_row *rows,
                           size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned wait = 12345;
		enum throttle_state got;

		got = policy_throttle(conf, rows[i].failures, rows[i].last_failure, NOW, &wait);
		if (got != rows[i].want || wait != rows[i].want_wait)
			fail_msg("%s: state %d wait %u, want state %d wait %u", rows[i].what,
			         (int)got, wait, (int)rows[i].want, rows[i].want_wait);
	}
}

static void test_throttle_spec_defaults(void **state)
{
	static const struct throttle_row rows[] = {
	    {"no failure", 0, 0, THROTTLE_OPEN, 0},
	    {"1 failure, just now", 1, NOW, THROTTLE_OPEN, 0},
	    {"3 failures, just now", 3, NOW, THROTTLE_OPEN, 0},
	    {"4 failures, just now", 4, NOW, THROTTLE_OPEN, 0},
	    {"5 failures, just now", 5, NOW, THROTTLE_DELAYED, 30},
	    {"5 failures, 1 s ago", 5, NOW - 1, THROTTLE_DELAYED, 29},
	    {"5 failures, 29 s ago", 5, NOW - 29, THROTTLE_DELAYED, 1},
	    {"5 failures, 30 s ago", 5, NOW - 30, THROTTLE_OPEN, 0},
	    {"5 failures, 31 s ago", 5, NOW - 31, THROTTLE_OPEN, 0},
	    {"6 failures, just now", 6, NOW, THROTTLE_DELAYED, 60},
	    {"6 failures, 59 s ago", 6, NOW - 59, THROTTLE_DELAYED, 1},
	    {"6 failures, 60 s ago", 6, NOW - 60, THROTTLE_OPEN, 0},
	    {"7 failures", 7, NOW, THROTTLE_DELAYED, 120},
	    {"8 failures", 8, NOW, THROTTLE_DELAYED, 240},
	    {"11 failures: 1920 s", 11, NOW, THROTTLE_DELAYED, 1920},
	    {"12 failures: 3840 capped", 12, NOW, THROTTLE_DELAYED, 3600},
	    {"12 failures, 3599 s ago", 12, NOW - 3599, THROTTLE_DELAYED, 1},
	    {"12 failures, 3600 s ago", 12, NOW - 3600, THROTTLE_OPEN, 0},
	    {"20 failures: capped", 20, NOW, THROTTLE_DELAYED, 3600},
	    {"36 failures: shift by 31", 36, NOW, THROTTLE_DELAYED, 3600},
	    {"37 failures: shift by 32 guarded", 37, NOW, THROTTLE_DELAYED, 3600},
	    {"40 failures: shift overflow guard", 40, NOW, THROTTLE_DELAYED, 3600},
	    {"49 failures: still delayed", 49, NOW - 100, THROTTLE_DELAYED, 3500},
	    {"49 failures, an hour ago", 49, NOW - 3600, THROTTLE_OPEN, 0},
	    /* wrong passwords never lock: the delay is capped, and over once waited */
	    {"50 failures: capped delay", 50, NOW, THROTTLE_DELAYED, 3600},
	    {"50 failures, a year ago: open", 50, NOW - 365 * 86400, THROTTLE_OPEN, 0},
	    {"50 failures, never stamped: open", 50, 0, THROTTLE_OPEN, 0},
	    {"1000 failures: capped", 1000, NOW, THROTTLE_DELAYED, 3600},
	    {"UINT_MAX failures: capped", UINT_MAX, NOW, THROTTLE_DELAYED, 3600},
	    {"UINT_MAX failures, an hour ago: open", UINT_MAX, NOW - 3600, THROTTLE_OPEN, 0},
	};

	(void)state;
	check_throttle(&spec_throttle, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_throttle_without_lock_overflow(void **state)
{
	/* lock far away, so the doubling itself is exercised at huge counts */
	static const struct throttle_conf conf = {
	    .delay_after = 1, .base_delay = 86400, .max_delay = 86400, .lock_after = 100000};
	static const struct throttle_row rows[] = {
	    {"0 failures", 0, NOW, THROTTLE_OPEN, 0},
	    {"1 failure: base", 1, NOW, THROTTLE_DELAYED, 86400},
	    {"2 failures: capped", 2, NOW, THROTTLE_DELAYED, 86400},
	    {"33 failures: shift 32", 33, NOW, THROTTLE_DELAYED, 86400},
	    /* 86400 = 675 << 7: shifted by 57 it wraps to exactly 0 in 64 bits */
	    {"58 failures: shift 57 would wrap to 0", 58, NOW, THROTTLE_DELAYED, 86400},
	    {"65 failures: shift 64", 65, NOW, THROTTLE_DELAYED, 86400},
	    {"99999 failures", 99999, NOW - 86399, THROTTLE_DELAYED, 1},
	    {"99999 failures, a day ago", 99999, NOW - 86400, THROTTLE_OPEN, 0},
	    {"100000: still a delay", 100000, NOW, THROTTLE_DELAYED, 86400},
	};

	(void)state;
	check_throttle(&conf, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_throttle_no_delay(void **state)
{
	/* base_delay 0: never delayed */
	static const struct throttle_conf conf = {
	    .delay_after = 5, .base_delay = 0, .max_delay = 3600, .lock_after = 50};
	static const struct throttle_row rows[] = {
	    {"4 failures", 4, NOW, THROTTLE_OPEN, 0},
	    {"5 failures", 5, NOW, THROTTLE_OPEN, 0},
	    {"40 failures", 40, NOW, THROTTLE_OPEN, 0},
	    {"49 failures", 49, NOW, THROTTLE_OPEN, 0},
	    {"50 failures", 50, NOW, THROTTLE_OPEN, 0},
	    {"50 failures, long ago", 50, 0, THROTTLE_OPEN, 0},
	};

	(void)state;
	check_throttle(&conf, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_code_lock(void **state)
{
	static const struct throttle_conf conf = {
	    .delay_after = 5, .base_delay = 30, .max_delay = 3600, .lock_after = 10};

	(void)state;
	assert_false(policy_code_locked(&conf, 0));
	assert_false(policy_code_locked(&conf, 9));
	assert_true(policy_code_locked(&conf, 10));
	assert_true(policy_code_locked(&conf, UINT_MAX));
}

static void test_throttle_max_equals_base(void **state)
{
	static const struct throttle_conf conf = {
	    .delay_after = 3, .base_delay = 10, .max_delay = 10, .lock_after = 5};
	static const struct throttle_row rows[] = {
	    {"2 failures", 2, NOW, THROTTLE_OPEN, 0},
	    {"3 failures", 3, NOW, THROTTLE_DELAYED, 10},
	    {"4 failures: no doubling past max", 4, NOW, THROTTLE_DELAYED, 10},
	    {"4 failures, 10 s ago", 4, NOW - 10, THROTTLE_OPEN, 0},
	    {"5 failures, long ago", 5, NOW - 1000, THROTTLE_OPEN, 0},
	    {"5 failures, just now", 5, NOW, THROTTLE_DELAYED, 10},
	};

	(void)state;
	check_throttle(&conf, rows, sizeof(rows) / sizeof(rows[0]));
}

/* The account each decision row starts from. */
enum acct_kind {
	ACCT_NONE, /* unknown login */
	ACCT_PLAIN,
	ACCT_OTP,
	ACCT_SUSPENDED,
	ACCT_DELETED,
	ACCT_SUSPENDED_OTP,
	ACCT_TEMP_VALID,
	ACCT_TEMP_EXPIRED,
	ACCT_TEMP_EXPIRES_NOW,
	ACCT_TEMP_OTP,
	ACCT_PENDING_OTP, /* enrolled, not yet confirmed: not active */
};

static const struct account *make_account(enum acct_kind kind, struct account *a)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->identifiant, "jdupont");
	strcpy(a->email, "jean.dupont@example.org");
	strcpy(a->password_hash, "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA");
	a->state = ACCOUNT_ACTIVE;
	a->created = NOW - 86400;
	a->code_failures = 3;
	switch (kind) {
	case ACCT_NONE:
		return NULL;
	case ACCT_PLAIN:
		break;
	case ACCT_OTP:
		a->otp_active = true;
		break;
	case ACCT_SUSPENDED:
		a->state = ACCOUNT_SUSPENDED;
		strcpy(a->state_reason, "left the school");
		break;
	case ACCT_DELETED:
		a->state = ACCOUNT_DELETED;
		break;
	case ACCT_SUSPENDED_OTP:
		a->state = ACCOUNT_SUSPENDED;
		a->otp_active = true;
		break;
	case ACCT_TEMP_VALID:
		a->password_temporary = true;
		a->temporary_expires = NOW + 1;
		break;
	case ACCT_TEMP_EXPIRED:
		a->password_temporary = true;
		a->temporary_expires = NOW - 1;
		break;
	case ACCT_TEMP_EXPIRES_NOW:
		a->password_temporary = true;
		a->temporary_expires = NOW;
		break;
	case ACCT_TEMP_OTP:
		a->password_temporary = true;
		a->temporary_expires = NOW + 86400;
		a->otp_active = true;
		break;
	case ACCT_PENDING_OTP:
		a->otp_pending = true;
		break;
	}
	return a;
}

struct decide_row {
	const char *what;
	enum acct_kind acct;
	enum policy_password pw;
	enum policy_code code;
	bool otp_required;
	enum proto_outcome outcome;
	enum proto_reason reason;
	bool count_failure;
	bool login_success;
	bool count_code; /* toward the hard lock */
	bool locked, trusted_device;
};

#define PW_OK POLICY_PW_MATCH
#define PW_BAD POLICY_PW_MISMATCH
#define PW_ERR POLICY_PW_ERROR
#define C_NONE POLICY_CODE_NONE
#define C_OK POLICY_CODE_ACCEPT
#define C_REC POLICY_CODE_RECOVERY
#define C_BAD POLICY_CODE_REJECT

/* The last three columns (count_code, locked, trusted_device) are false where left out. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct decide_row decide_rows[] = {
    /* unknown login: invalid, counted for its login's throttle as a known one is */
    {"unknown", ACCT_NONE, PW_BAD, C_NONE, true, OUTCOME_FAIL, REASON_INVALID, true, false},
    {"unknown, 'right' pw", ACCT_NONE, PW_OK, C_OK, true, OUTCOME_FAIL, REASON_INVALID, true,
     false},
    {"unknown, pw error", ACCT_NONE, PW_ERR, C_NONE, false, OUTCOME_FAIL, REASON_INVALID, true,
     false},
    {"unknown, locked and trusted mean nothing", ACCT_NONE, PW_OK, C_NONE, false, OUTCOME_FAIL,
     REASON_INVALID, true, false, false, true, true},
    /* the hard lock: told only after a right password, never counted */
    {"locked, wrong pw", ACCT_OTP, PW_BAD, C_NONE, true, OUTCOME_FAIL, REASON_INVALID, true, false,
     false, true},
    {"locked, right pw and code", ACCT_OTP, PW_OK, C_OK, true, OUTCOME_FAIL, REASON_LOCKED, false,
     false, false, true},
    {"locked, right pw, wrong code", ACCT_OTP, PW_OK, C_BAD, true, OUTCOME_FAIL, REASON_LOCKED,
     false, false, false, true},
    {"locked, one factor", ACCT_PLAIN, PW_OK, C_NONE, false, OUTCOME_FAIL, REASON_LOCKED, false,
     false, false, true},
    /* a trusted browser stands in for the code, for an active account only */
    {"trusted, no code", ACCT_OTP, PW_OK, C_NONE, true, OUTCOME_OK, REASON_NONE, false, true, false,
     false, true},
    {"trusted, wrong pw", ACCT_OTP, PW_BAD, C_NONE, true, OUTCOME_FAIL, REASON_INVALID, true, false,
     false, false, true},
    {"trusted, wrong code", ACCT_OTP, PW_OK, C_BAD, true, OUTCOME_FAIL, REASON_INVALID, false,
     false, true, false, true},
    {"trusted, suspended", ACCT_SUSPENDED_OTP, PW_OK, C_NONE, true, OUTCOME_FAIL, REASON_DISABLED,
     false, false, false, false, true},
    {"trusted, temporary", ACCT_TEMP_OTP, PW_OK, C_NONE, true, OUTCOME_FAIL,
     REASON_PASSWORD_CHANGE_REQUIRED, false, false, false, false, true},
    /* wrong password: invalid and counted, whatever else */
    {"mismatch", ACCT_PLAIN, PW_BAD, C_NONE, false, OUTCOME_FAIL, REASON_INVALID, true, false},
    {"mismatch, otp required", ACCT_PLAIN, PW_BAD, C_NONE, true, OUTCOME_FAIL, REASON_INVALID, true,
     false},
    {"mismatch, right code", ACCT_OTP, PW_BAD, C_OK, true, OUTCOME_FAIL, REASON_INVALID, true,
     false},
    {"mismatch, recovery code", ACCT_OTP, PW_BAD, C_REC, true, OUTCOME_FAIL, REASON_INVALID, true,
     false},
    {"mismatch, no code", ACCT_OTP, PW_BAD, C_NONE, true, OUTCOME_FAIL, REASON_INVALID, true,
     false},
    {"mismatch, temporary", ACCT_TEMP_VALID, PW_BAD, C_NONE, true, OUTCOME_FAIL, REASON_INVALID,
     true, false},
    /* the state is told only after a right password */
    {"suspended, wrong pw", ACCT_SUSPENDED, PW_BAD, C_NONE, false, OUTCOME_FAIL, REASON_INVALID,
     true, false},
    {"deleted, wrong pw", ACCT_DELETED, PW_BAD, C_NONE, false, OUTCOME_FAIL, REASON_INVALID, true,
     false},
    /* an unreadable hash: tempfail, never counted, never a success */
    {"pw error", ACCT_PLAIN, PW_ERR, C_NONE, false, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, false,
     false},
    {"pw error, right code", ACCT_OTP, PW_ERR, C_OK, true, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, false,
     false},
    {"pw error, suspended", ACCT_SUSPENDED, PW_ERR, C_NONE, false, OUTCOME_TEMPFAIL,
     REASON_TEMPFAIL, false, false},
    /* suspended / deleted with the right password */
    {"suspended", ACCT_SUSPENDED, PW_OK, C_NONE, false, OUTCOME_FAIL, REASON_DISABLED, false,
     false},
    {"deleted", ACCT_DELETED, PW_OK, C_NONE, false, OUTCOME_FAIL, REASON_DISABLED, false, false},
    {"suspended, right code", ACCT_SUSPENDED_OTP, PW_OK, C_OK, true, OUTCOME_FAIL, REASON_DISABLED,
     false, false},
    {"suspended, wrong code", ACCT_SUSPENDED_OTP, PW_OK, C_BAD, true, OUTCOME_FAIL, REASON_DISABLED,
     false, false},
    /* temporary password */
    {"temporary, valid", ACCT_TEMP_VALID, PW_OK, C_NONE, true, OUTCOME_FAIL,
     REASON_PASSWORD_CHANGE_REQUIRED, false, false},
    {"temporary, valid, otp not required", ACCT_TEMP_VALID, PW_OK, C_NONE, false, OUTCOME_FAIL,
     REASON_PASSWORD_CHANGE_REQUIRED, false, false},
    {"temporary, with an active otp", ACCT_TEMP_OTP, PW_OK, C_OK, true, OUTCOME_FAIL,
     REASON_PASSWORD_CHANGE_REQUIRED, false, false},
    {"temporary, expired", ACCT_TEMP_EXPIRED, PW_OK, C_NONE, true, OUTCOME_FAIL, REASON_INVALID,
     false, false},
    {"temporary, expires this second", ACCT_TEMP_EXPIRES_NOW, PW_OK, C_NONE, true, OUTCOME_FAIL,
     REASON_INVALID, false, false},
    /* no active authenticator */
    {"no otp, required", ACCT_PLAIN, PW_OK, C_NONE, true, OUTCOME_FAIL,
     REASON_OTP_ENROLLMENT_REQUIRED, false, false},
    {"pending otp only, required", ACCT_PENDING_OTP, PW_OK, C_NONE, true, OUTCOME_FAIL,
     REASON_OTP_ENROLLMENT_REQUIRED, false, false},
    {"no otp, not required", ACCT_PLAIN, PW_OK, C_NONE, false, OUTCOME_OK, REASON_NONE, false,
     true},
    {"pending otp only, not required", ACCT_PENDING_OTP, PW_OK, C_NONE, false, OUTCOME_OK,
     REASON_NONE, false, true},
    /* an active authenticator */
    {"otp, no code", ACCT_OTP, PW_OK, C_NONE, true, OUTCOME_FAIL, REASON_OTP_REQUIRED, false,
     false},
    {"otp, no code, not required", ACCT_OTP, PW_OK, C_NONE, false, OUTCOME_FAIL,
     REASON_OTP_REQUIRED, false, false},
    {"otp, right code", ACCT_OTP, PW_OK, C_OK, true, OUTCOME_OK, REASON_NONE, false, true},
    {"otp, right code, not required", ACCT_OTP, PW_OK, C_OK, false, OUTCOME_OK, REASON_NONE, false,
     true},
    {"otp, recovery code", ACCT_OTP, PW_OK, C_REC, true, OUTCOME_OK, REASON_NONE, false, true},
    /* a wrong code after a right password: toward the hard lock, not the password throttle */
    {"otp, wrong code", ACCT_OTP, PW_OK, C_BAD, true, OUTCOME_FAIL, REASON_INVALID, false, false,
     true},
    {"otp, wrong code, not required", ACCT_OTP, PW_OK, C_BAD, false, OUTCOME_FAIL, REASON_INVALID,
     false, false, true},
};
#pragma GCC diagnostic pop

static void test_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decide_rows) / sizeof(decide_rows[0]); i++) {
		const struct decide_row *r = &decide_rows[i];
		struct account a;
		struct policy_input in = {
		    .account = make_account(r->acct, &a),
		    .password = r->pw,
		    .code = r->code,
		    .otp_required = r->otp_required,
		    .locked = r->locked,
		    .trusted_device = r->trusted_device,
		    .now = NOW,
		};
		struct policy_decision d = policy_decide(&in);

		if (d.outcome != r->outcome || d.reason != r->reason ||
		    d.count_failure != r->count_failure || d.login_success != r->login_success ||
		    d.count_code_failure != r->count_code ||
		    d.trusted_browser != (r->trusted_device && d.outcome == OUTCOME_OK))
			fail_msg("%s: got %d/%d count=%d success=%d code=%d, want %d/%d count=%d "
			         "success=%d code=%d",
			         r->what, (int)d.outcome, (int)d.reason, d.count_failure,
			         d.login_success, d.count_code_failure, (int)r->outcome,
			         (int)r->reason, r->count_failure, r->login_success, r->count_code);
	}
}

/* Invariants over every combination, not just the table's rows. */
static void test_decide_invariants(void **state)
{
	static const enum acct_kind kinds[] = {
	    ACCT_NONE,     ACCT_PLAIN,         ACCT_OTP,        ACCT_SUSPENDED,
	    ACCT_DELETED,  ACCT_SUSPENDED_OTP, ACCT_TEMP_VALID, ACCT_TEMP_EXPIRED,
	    ACCT_TEMP_OTP, ACCT_PENDING_OTP,
	};
	unsigned successes = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (int pw = POLICY_PW_MATCH; pw <= POLICY_PW_ERROR; pw++)
			for (int code = POLICY_CODE_NONE; code <= POLICY_CODE_REJECT; code++)
				for (int req = 0; req <= 1; req++) {
					struct account a;
					struct policy_input in = {
					    .account = make_account(kinds[k], &a),
					    .password = (enum policy_password)pw,
					    .code = (enum policy_code)code,
					    .otp_required = req,
					    .now = NOW,
					};
					struct policy_decision d = policy_decide(&in);

					/* OK and only OK carries a success and no reason */
					assert_int_equal(d.login_success, d.outcome == OUTCOME_OK);
					if (d.outcome == OUTCOME_OK) {
						successes++;
						assert_int_equal(d.reason, REASON_NONE);
						assert_int_equal(pw, POLICY_PW_MATCH);
						assert_non_null(in.account);
						assert_int_equal(a.state, ACCOUNT_ACTIVE);
						assert_false(a.password_temporary);
						if (a.otp_active)
							assert_true(code == POLICY_CODE_ACCEPT ||
							            code == POLICY_CODE_RECOVERY);
					} else {
						assert_int_not_equal(d.reason, REASON_NONE);
					}
					assert_false(d.count_failure && d.login_success);
					/* a tempfail is never counted */
					if (d.outcome == OUTCOME_TEMPFAIL)
						assert_false(d.count_failure);
					/* a wrong password says nothing more than invalid */
					if (pw == POLICY_PW_MISMATCH) {
						assert_int_equal(d.outcome, OUTCOME_FAIL);
						assert_int_equal(d.reason, REASON_INVALID);
					}
					/* unlocked, the decision never says locked: a delay is the
					 * throttle's */
					assert_int_not_equal(d.reason, REASON_LOCKED);
					/* a wrong password never counts toward the hard lock */
					if (pw != POLICY_PW_MATCH)
						assert_false(d.count_code_failure);
				}
	/* plain and pending: any code, otp not required; otp: two codes, either way */
	assert_int_equal(successes, 4 + 4 + 2 * 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_throttle_spec_defaults),
	    cmocka_unit_test(test_throttle_without_lock_overflow),
	    cmocka_unit_test(test_throttle_no_delay),
	    cmocka_unit_test(test_throttle_max_equals_base),
	    cmocka_unit_test(test_code_lock),
	    cmocka_unit_test(test_decide_table),
	    cmocka_unit_test(test_decide_invariants),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
