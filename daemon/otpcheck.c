#include <string.h>

#include "account.h"
#include "crypto.h"
#include "otpcheck.h"
#include "secret.h"

#define OTP_DRIFT_MAX 4 /* steps */

static bool recovery_match(const struct crypto_keys *keys, const struct account *a,
                           const char *code, int *index_r)
{
	char canon[OTP_RECOVERY_LEN + 1], hex[2 * CRYPTO_HMAC_LEN + 1];
	bool found = false;

	if (otp_recovery_normalize(code, canon) < 0)
		return false;
	crypto_hmac_hex(keys, "recovery", canon, strlen(canon), hex);
	/* Every slot is compared, so the time says nothing of which one matched. */
	for (unsigned i = 0; i < a->recovery_count && i < OTP_RECOVERY_COUNT; i++)
		if (secret_equal(hex, a->recovery[i], sizeof(hex) - 1) && !found) {
			found = true;
			*index_r = (int)i;
		}
	secret_wipe(canon, sizeof(canon));
	return found;
}

struct code_result otpcheck(const struct crypto_keys *keys, const struct account *a,
                            const struct account_otp *tok, const char *code, time_t now,
                            unsigned window, bool allow_recovery)
{
	struct code_result r = {.code = POLICY_CODE_REJECT, .recovery = -1};
	struct otp_token token = {0};

	if (code == NULL || *code == '\0') {
		r.code = POLICY_CODE_NONE;
		return r;
	}
	if (crypto_open(keys, a->identifiant, tok->sealed, token.secret, sizeof(token.secret),
	                &token.secret_len) < 0) {
		r.broken = true;
		return r;
	}
	token.algo = tok->algo;
	token.digits = tok->digits;
	token.period = tok->period;
	token.last_step = tok->last_step;
	token.drift = tok->drift;
	if (otp_verify(&token, code, now, window, &r.step, &r.drift) == OTP_ACCEPT)
		r.code = POLICY_CODE_ACCEPT;
	else if (allow_recovery && recovery_match(keys, a, code, &r.recovery))
		r.code = POLICY_CODE_RECOVERY;
	secret_wipe(&token, sizeof(token));
	return r;
}

void otpcheck_consume(struct account *a, const struct code_result *r)
{
	if (r->code == POLICY_CODE_ACCEPT) {
		a->otp.last_step = r->step;
		/* A clock may be off by a minute or two; a token that ran further is not followed.
		 */
		a->otp.drift = r->drift > OTP_DRIFT_MAX    ? OTP_DRIFT_MAX
		               : r->drift < -OTP_DRIFT_MAX ? -OTP_DRIFT_MAX
		                                           : r->drift;
	} else if (r->code == POLICY_CODE_RECOVERY && r->recovery >= 0 &&
	           (unsigned)r->recovery < a->recovery_count) {
		unsigned last = a->recovery_count - 1;

		memcpy(a->recovery[r->recovery], a->recovery[last], sizeof(a->recovery[0]));
		secret_wipe(a->recovery[last], sizeof(a->recovery[0]));
		a->recovery_count--;
	}
}
