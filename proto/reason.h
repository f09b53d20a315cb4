/*
 * Outcomes and reasons shared by the daemon and every client.
 * An answer is OK, FAIL (refused, with a reason) or TEMPFAIL: three
 * distinct outcomes all the way to the wire and to PAM.
 */
#ifndef VERDON_REASON_H
#define VERDON_REASON_H

enum proto_outcome {
	OUTCOME_OK = 0,
	OUTCOME_FAIL,
	OUTCOME_TEMPFAIL,
};

enum proto_reason {
	REASON_NONE = 0,
	/* the authentication decision (SPEC "The authentication decision") */
	REASON_INVALID,
	REASON_OTP_REQUIRED,
	REASON_PASSWORD_CHANGE_REQUIRED,
	REASON_OTP_ENROLLMENT_REQUIRED,
	REASON_LOCKED,
	REASON_DISABLED,
	REASON_TEMPFAIL,
	/* the password policy */
	REASON_TOO_SHORT,
	REASON_TOO_LONG,
	REASON_NOT_UTF8,
	REASON_DICTIONARY,
	REASON_CONTEXT,
	REASON_CHARACTER_CLASSES,
	REASON_REUSED,
	/* requests and admin operations */
	REASON_BAD_REQUEST,
	REASON_UNKNOWN_VERB,
	REASON_FORBIDDEN,
	REASON_NOT_FOUND,
	REASON_EXISTS,
	REASON_WRONG_STATE,
	REASON_NO_PENDING_OTP,
	REASON_COUNT
};

const char *proto_reason_name(enum proto_reason reason);
/* REASON_NONE when name is unknown. */
enum proto_reason proto_reason_parse(const char *name);
const char *proto_outcome_verb(enum proto_outcome outcome);

#endif
