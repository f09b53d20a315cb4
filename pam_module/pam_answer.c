#include <stdio.h>
#include <string.h>

#include <security/pam_modules.h>

#include "pam_answer.h"
#include "proto.h"

struct pv_map {
	enum proto_reason reason;
	int code;
};

/*
 * Each call lists the reasons it tells apart; any other refusal gets the
 * call's refusal code. The zero of a designated array would be PAM_SUCCESS,
 * hence lists with a fallback rather than arrays indexed by reason.
 */
struct pv_table {
	const struct pv_map *map;
	size_t n;
	int refused;
};

/* The daemon is there but cannot decide: never a refusal, never a success. */
#define PV_CANNOT_DECIDE                                                                           \
	{REASON_TEMPFAIL, PAM_AUTHINFO_UNAVAIL}, {REASON_UNKNOWN_VERB, PAM_AUTHINFO_UNAVAIL},      \
	{                                                                                          \
		REASON_FORBIDDEN, PAM_AUTHINFO_UNAVAIL                                             \
	}

/*
 * auth never says PAM_USER_UNKNOWN: an unknown login answers invalid, like a
 * wrong password. A temporary password does not log in either: it only
 * allows a password change (account says PAM_NEW_AUTHTOK_REQD).
 */
static const struct pv_map auth_map[] = {
    {REASON_INVALID, PAM_AUTH_ERR},
    {REASON_OTP_REQUIRED, PAM_AUTH_ERR},
    {REASON_PASSWORD_CHANGE_REQUIRED, PAM_AUTH_ERR},
    {REASON_OTP_ENROLLMENT_REQUIRED, PAM_AUTH_ERR},
    {REASON_LOCKED, PAM_MAXTRIES},
    {REASON_DISABLED, PAM_PERM_DENIED},
    PV_CANNOT_DECIDE,
};

/* account runs after a successful auth: naming an unknown user reveals nothing then. */
static const struct pv_map acct_map[] = {
    {REASON_PASSWORD_CHANGE_REQUIRED, PAM_NEW_AUTHTOK_REQD},
    {REASON_DISABLED, PAM_PERM_DENIED},
    {REASON_LOCKED, PAM_MAXTRIES},
    {REASON_INVALID, PAM_USER_UNKNOWN},
    {REASON_NOT_FOUND, PAM_USER_UNKNOWN},
    PV_CANNOT_DECIDE,
};

static const struct pv_map passwd_map[] = {
    {REASON_INVALID, PAM_AUTH_ERR},      {REASON_OTP_REQUIRED, PAM_AUTH_ERR},
    {REASON_LOCKED, PAM_MAXTRIES},       {REASON_DISABLED, PAM_PERM_DENIED},
    {REASON_TOO_SHORT, PAM_AUTHTOK_ERR}, {REASON_TOO_LONG, PAM_AUTHTOK_ERR},
    {REASON_NOT_UTF8, PAM_AUTHTOK_ERR},  {REASON_DICTIONARY, PAM_AUTHTOK_ERR},
    {REASON_CONTEXT, PAM_AUTHTOK_ERR},   {REASON_CHARACTER_CLASSES, PAM_AUTHTOK_ERR},
    {REASON_REUSED, PAM_AUTHTOK_ERR},    PV_CANNOT_DECIDE,
};

#define PV_TABLE(m, r)                                                                             \
	{                                                                                          \
		m, sizeof(m) / sizeof((m)[0]), r                                                   \
	}

static const struct pv_table pv_tables[] = {
    [PV_CALL_AUTH] = PV_TABLE(auth_map, PAM_AUTH_ERR),
    [PV_CALL_ACCT] = PV_TABLE(acct_map, PAM_PERM_DENIED),
    [PV_CALL_PASSWD] = PV_TABLE(passwd_map, PAM_AUTHTOK_ERR),
};

int pv_pam_code(enum pv_call call, enum proto_outcome outcome, enum proto_reason reason)
{
	const struct pv_table *t;

	if ((unsigned)call >= sizeof(pv_tables) / sizeof(pv_tables[0]))
		return PAM_SERVICE_ERR;
	if (outcome == OUTCOME_OK)
		return PAM_SUCCESS;
	if (outcome != OUTCOME_FAIL)
		return PAM_AUTHINFO_UNAVAIL;
	t = &pv_tables[call];
	for (size_t i = 0; i < t->n; i++)
		if (t->map[i].reason == reason)
			return t->map[i].code;
	return t->refused;
}

const char *pv_passwd_message(enum proto_reason reason)
{
	switch (reason) {
	case REASON_INVALID:
		return "Mot de passe actuel ou code incorrect.";
	case REASON_OTP_REQUIRED:
		return "Le code de votre application d'authentification est nécessaire.";
	case REASON_LOCKED:
		return "Trop d'échecs : réessayez plus tard.";
	case REASON_DISABLED:
		return "Ce compte est désactivé.";
	case REASON_TOO_SHORT:
	case REASON_TOO_LONG:
	case REASON_NOT_UTF8:
	case REASON_DICTIONARY:
	case REASON_CONTEXT:
	case REASON_CHARACTER_CLASSES:
	case REASON_REUSED:
		return "Ce mot de passe ne respecte pas la politique des mots de passe.";
	case REASON_TEMPFAIL:
		return "Le service est indisponible : réessayez plus tard.";
	default:
		return NULL;
	}
}

bool pv_identifiant_valid(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= PV_IDENT_MAX && strchr("._-", s[0]) == NULL &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* The length of s[0..n) without a trailing incomplete UTF-8 sequence. */
static size_t pv_utf8_cut(const char *s, size_t n)
{
	size_t start = n, need;
	unsigned char lead;

	while (start > 0 && n - start < 4 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0)
		return n;
	lead = (unsigned char)s[start - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return n - (start - 1) < need ? start - 1 : n;
}

void pv_sanitize(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (; in[n] != '\0' && n + 1 < outlen; n++) {
		unsigned char c = (unsigned char)in[n];

		out[n] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (in[n] != '\0')
		n = pv_utf8_cut(out, n);
	out[n] = '\0';
}

void pv_answer_tempfail(struct pv_answer *a_r)
{
	memset(a_r, 0, sizeof(*a_r));
	a_r->outcome = OUTCOME_TEMPFAIL;
	a_r->reason = REASON_TEMPFAIL;
}

static int pv_read_ok(const struct proto_msg *msg, bool need_identifiant, struct pv_answer *a_r,
                      char *err, size_t errlen)
{
	const char *ident = proto_get(msg, "identifiant");

	if (ident != NULL && pv_identifiant_valid(ident))
		memcpy(a_r->identifiant, ident, strlen(ident) + 1);
	else if (need_identifiant) {
		snprintf(err, errlen, "OK without a valid identifiant");
		return -1;
	}
	a_r->outcome = OUTCOME_OK;
	a_r->reason = REASON_NONE;
	return 0;
}

static int pv_read_fail(const struct proto_msg *msg, struct pv_answer *a_r, char *err,
                        size_t errlen)
{
	const char *reason = proto_get(msg, "reason");
	const char *detail = proto_get(msg, "detail");

	if (reason == NULL) {
		snprintf(err, errlen, "FAIL without a reason");
		return -1;
	}
	/* A reason this module does not know is still a refusal. */
	a_r->outcome = OUTCOME_FAIL;
	a_r->reason = proto_reason_parse(reason);
	if (detail != NULL)
		pv_sanitize(detail, a_r->detail, sizeof(a_r->detail));
	return 0;
}

int pv_answer_read(const struct proto_msg *msg, const char *id, bool need_identifiant,
                   struct pv_answer *a_r, char *err, size_t errlen)
{
	int r = -1;

	pv_answer_tempfail(a_r);
	if (strcmp(msg->id, id) != 0) {
		snprintf(err, errlen, "answer to request '%.32s', expected '%s'", msg->id, id);
		goto out;
	}
	if (strcmp(msg->verb, "OK") == 0)
		r = pv_read_ok(msg, need_identifiant, a_r, err, errlen);
	else if (strcmp(msg->verb, "FAIL") == 0)
		r = pv_read_fail(msg, a_r, err, errlen);
	else if (strcmp(msg->verb, "TEMPFAIL") == 0)
		r = 0;
	else
		snprintf(err, errlen, "unexpected %.24s", msg->verb);
out:
	if (r < 0)
		pv_answer_tempfail(a_r);
	return r;
}
