/*
 * What the daemon answered, and what PAM is told. Pure: the answer is read
 * from a parsed line and mapped to a PAM code by tables, one per PAM call.
 */
#ifndef VERDON_PAM_ANSWER_H
#define VERDON_PAM_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "reason.h"

/* Nothing here is the host application's business: keep it out of the .so's symbols. */
#pragma GCC visibility push(hidden)

struct proto_msg;

#define PV_REQUEST_ID "1" /* one request a connection */
#define PV_IDENT_MAX 64
#define PV_DETAIL_MAX 300

/*
 * One request's outcome. Anything but a well-formed answer (no daemon, no
 * answer in time, a malformed line) is OUTCOME_TEMPFAIL: never a success.
 */
struct pv_answer {
	enum proto_outcome outcome;
	enum proto_reason reason;           /* FAIL: REASON_NONE when the name is unknown */
	char identifiant[PV_IDENT_MAX + 1]; /* OK: the canonical login */
	char detail[PV_DETAIL_MAX + 1];     /* FAIL: printable, for the person */
};

enum pv_call {
	PV_CALL_AUTH,   /* pam_sm_authenticate */
	PV_CALL_ACCT,   /* pam_sm_acct_mgmt */
	PV_CALL_PASSWD, /* pam_sm_chauthtok, PAM_UPDATE_AUTHTOK */
};

/* An answer that could not be had. */
void pv_answer_tempfail(struct pv_answer *a_r);

/*
 * Reads the answer to request id. An OK must carry a valid identifiant when
 * need_identifiant. -1 with a message in err (and a_r set to tempfail) when
 * msg is not a well-formed answer to that request.
 */
int pv_answer_read(const struct proto_msg *msg, const char *id, bool need_identifiant,
                   struct pv_answer *a_r, char *err, size_t errlen);

/* The PAM code of an outcome and reason for one call. Only OUTCOME_OK gives PAM_SUCCESS. */
int pv_pam_code(enum pv_call call, enum proto_outcome outcome, enum proto_reason reason);

/* A French sentence for a refused password change, or NULL. */
const char *pv_passwd_message(enum proto_reason reason);

/* An identifiant fit for PAM_USER: [a-z0-9][a-z0-9._-]{0,63}. */
bool pv_identifiant_valid(const char *s);

/*
 * Copies in to out (size outlen >= 1) for a log line or a message: control
 * bytes become '?', and a cut never splits a UTF-8 sequence.
 */
void pv_sanitize(const char *in, char *out, size_t outlen);

#pragma GCC visibility pop

#endif
