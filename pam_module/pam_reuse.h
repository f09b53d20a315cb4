/*
 * The daemon's OK to auth, kept in the PAM handle for the account call that follows it in the same
 * handle (Dovecot, saslauthd): one round trip to the daemon a login instead of two. Pure: the
 * caller gives the clock, so the window is unit-tested.
 */
#ifndef VERDON_PAM_REUSE_H
#define VERDON_PAM_REUSE_H

#include <stdbool.h>

#include "pam_answer.h"
#include "pam_options.h"

#pragma GCC visibility push(hidden)

#define PV_DATA_AUTH_OK "verdon_auth_ok"

struct pv_auth_ok {
	char identifiant[PV_IDENT_MAX + 1]; /* the canonical login the daemon said OK to */
	char service[PV_SERVICE_MAX + 1];
	long long at_ms; /* CLOCK_MONOTONIC */
};

/* Fills ok_r; -1 when a name does not fit (then nothing is kept). */
int pv_auth_ok_set(struct pv_auth_ok *ok_r, const char *identifiant, const char *service,
                   long long now_ms);

/*
 * Whether ok answers the account call for user on service at now_ms: the same identifiant and
 * service, at most window_s seconds later (0: never), and not earlier (a clock that went back).
 */
bool pv_auth_ok_fits(const struct pv_auth_ok *ok, const char *user, const char *service,
                     long long now_ms, unsigned window_s);

#pragma GCC visibility pop

#endif
