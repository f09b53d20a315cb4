#include "account.h"
#include "config.h"
#include "policy.h"

enum throttle_state policy_throttle(const struct throttle_conf *conf, unsigned failures,
                                    int64_t last_failure, int64_t now, unsigned *wait_r)
{
	uint64_t delay;
	unsigned doublings;
	int64_t until;

	*wait_r = 0;
	if (failures < conf->delay_after || conf->base_delay == 0)
		return THROTTLE_OPEN;
	/* From delay_after failures on, base_delay doubling with each one, capped. */
	doublings = failures - conf->delay_after;
	delay = doublings >= 32 ? conf->max_delay : (uint64_t)conf->base_delay << doublings;
	if (delay > conf->max_delay)
		delay = conf->max_delay;
	until = last_failure + (int64_t)delay;
	if (now >= until)
		return THROTTLE_OPEN;
	*wait_r = (unsigned)(until - now);
	return THROTTLE_DELAYED;
}

bool policy_code_locked(const struct throttle_conf *conf, unsigned code_failures)
{
	return code_failures >= conf->lock_after;
}

static struct policy_decision refuse(enum proto_reason reason, bool count)
{
	return (struct policy_decision){
	    .outcome = OUTCOME_FAIL, .reason = reason, .count_failure = count};
}

struct policy_decision policy_decide(const struct policy_input *in)
{
	const struct account *a = in->account;

	/* An unknown login counts as a known one does: the throttle tells nothing. */
	if (a == NULL)
		return refuse(REASON_INVALID, true);
	if (in->password == POLICY_PW_ERROR)
		return (struct policy_decision){.outcome = OUTCOME_TEMPFAIL,
		                                .reason = REASON_TEMPFAIL};
	if (in->password == POLICY_PW_MISMATCH)
		return refuse(REASON_INVALID, true);
	/* Past this point the password was right: the reason may be told. */
	if (in->locked)
		return refuse(REASON_LOCKED, false);
	if (a->state != ACCOUNT_ACTIVE)
		return refuse(REASON_DISABLED, false);
	if (a->password_temporary) {
		if (in->now >= a->temporary_expires)
			return refuse(REASON_INVALID, false);
		return refuse(REASON_PASSWORD_CHANGE_REQUIRED, false);
	}
	if (in->one_factor)
		return (struct policy_decision){.outcome = OUTCOME_OK, .login_success = true};
	if (!a->otp_active) {
		if (in->otp_required)
			return refuse(REASON_OTP_ENROLLMENT_REQUIRED, false);
		return (struct policy_decision){.outcome = OUTCOME_OK, .login_success = true};
	}
	switch (in->code) {
	case POLICY_CODE_NONE:
		if (in->trusted_device)
			return (struct policy_decision){
			    .outcome = OUTCOME_OK, .login_success = true, .trusted_browser = true};
		return refuse(REASON_OTP_REQUIRED, false);
	case POLICY_CODE_ACCEPT:
	case POLICY_CODE_RECOVERY:
		return (struct policy_decision){.outcome = OUTCOME_OK, .login_success = true};
	case POLICY_CODE_REJECT:
		break;
	}
	return (struct policy_decision){
	    .outcome = OUTCOME_FAIL, .reason = REASON_INVALID, .count_code_failure = true};
}
