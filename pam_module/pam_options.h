/*
 * The module's arguments, as written in a PAM service file. Pure: no PAM
 * handle, no I/O, so every option and bound is unit-tested.
 */
#ifndef VERDON_PAM_OPTIONS_H
#define VERDON_PAM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* Nothing here is the host application's business: keep it out of the .so's symbols. */
#pragma GCC visibility push(hidden)

#define PV_SOCKET_DEFAULT "/run/verdon/auth.sock"
#define PV_SOCKET_MAX 107 /* sun_path holds 108 bytes with the NUL */
#define PV_SERVICE_MAX 64 /* the daemon's service names: [a-z0-9._-]{1,64} */
#define PV_TIMEOUT_DEFAULT 3000
#define PV_TIMEOUT_MIN 100
#define PV_TIMEOUT_MAX 60000
#define PV_REUSE_DEFAULT 5 /* seconds an OK to auth answers the account call of the same handle */
#define PV_REUSE_MAX 60

/* Where the one-time code comes from in `auth`. */
enum pv_otp_mode {
	PV_OTP_APPEND = 0, /* typed after the password: Dovecot, saslauthd */
	PV_OTP_PROMPT,     /* asked for by a second prompt */
	PV_OTP_NONE,       /* never: app passwords, session tokens */
};

struct pv_options {
	char socket[PV_SOCKET_MAX + 1];
	char service[PV_SERVICE_MAX + 1]; /* empty: use the PAM service name */
	enum pv_otp_mode otp;
	int timeout_ms;
	unsigned reuse_auth_s; /* 0: account always asks the daemon */
	bool debug;
};

/*
 * Fills opt_r from the module arguments, defaults first. Returns -1 at the
 * first unknown, malformed, out-of-range or repeated argument, with a
 * message naming it in err.
 */
int pv_options_parse(int argc, const char *const *argv, struct pv_options *opt_r, char *err,
                     size_t errlen);

/* A service name the daemon accepts: [a-z0-9._-]{1,64}. */
bool pv_service_valid(const char *name);

const char *pv_otp_mode_name(enum pv_otp_mode mode);

#pragma GCC visibility pop

#endif
