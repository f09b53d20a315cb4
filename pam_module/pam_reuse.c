#include <string.h>

#include "pam_reuse.h"

int pv_auth_ok_set(struct pv_auth_ok *ok_r, const char *identifiant, const char *service,
                   long long now_ms)
{
	size_t ilen = strlen(identifiant), slen = strlen(service);

	memset(ok_r, 0, sizeof(*ok_r));
	if (ilen == 0 || ilen > PV_IDENT_MAX || slen == 0 || slen > PV_SERVICE_MAX)
		return -1;
	memcpy(ok_r->identifiant, identifiant, ilen + 1);
	memcpy(ok_r->service, service, slen + 1);
	ok_r->at_ms = now_ms;
	return 0;
}

bool pv_auth_ok_fits(const struct pv_auth_ok *ok, const char *user, const char *service,
                     long long now_ms, unsigned window_s)
{
	if (ok == NULL || user == NULL || window_s == 0 || ok->identifiant[0] == '\0')
		return false;
	if (now_ms < ok->at_ms || now_ms - ok->at_ms > (long long)window_s * 1000)
		return false;
	return strcmp(ok->identifiant, user) == 0 && strcmp(ok->service, service) == 0;
}
