#include <string.h>

#include "reason.h"

static const char *const reason_names[REASON_COUNT] = {
    [REASON_NONE] = "none",
    [REASON_INVALID] = "invalid",
    [REASON_OTP_REQUIRED] = "otp_required",
    [REASON_PASSWORD_CHANGE_REQUIRED] = "password_change_required",
    [REASON_OTP_ENROLLMENT_REQUIRED] = "otp_enrollment_required",
    [REASON_LOCKED] = "locked",
    [REASON_DISABLED] = "disabled",
    [REASON_TEMPFAIL] = "tempfail",
    [REASON_TOO_SHORT] = "too_short",
    [REASON_TOO_LONG] = "too_long",
    [REASON_NOT_UTF8] = "not_utf8",
    [REASON_DICTIONARY] = "dictionary",
    [REASON_CONTEXT] = "context",
    [REASON_CHARACTER_CLASSES] = "character_classes",
    [REASON_REUSED] = "reused",
    [REASON_BAD_REQUEST] = "bad_request",
    [REASON_UNKNOWN_VERB] = "unknown_verb",
    [REASON_FORBIDDEN] = "forbidden",
    [REASON_NOT_FOUND] = "not_found",
    [REASON_EXISTS] = "exists",
    [REASON_WRONG_STATE] = "wrong_state",
    [REASON_NO_PENDING_OTP] = "no_pending_otp",
};

const char *proto_reason_name(enum proto_reason reason)
{
	if ((unsigned)reason >= REASON_COUNT || reason_names[reason] == NULL)
		return "none";
	return reason_names[reason];
}

enum proto_reason proto_reason_parse(const char *name)
{
	for (unsigned i = 1; i < REASON_COUNT; i++)
		if (reason_names[i] != NULL && strcmp(reason_names[i], name) == 0)
			return (enum proto_reason)i;
	return REASON_NONE;
}

const char *proto_outcome_verb(enum proto_outcome outcome)
{
	switch (outcome) {
	case OUTCOME_OK:
		return "OK";
	case OUTCOME_FAIL:
		return "FAIL";
	case OUTCOME_TEMPFAIL:
		return "TEMPFAIL";
	}
	return "TEMPFAIL";
}
