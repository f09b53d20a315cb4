/*
 * libFuzzer: what people type, through every rule that reads it: login
 * normalisation (identifiant or email), name folding and the identifiant
 * and email built from names, the admin field validators, NFKC password
 * normalisation and the password policy, recovery-code normalisation and
 * base32 secrets. Checks what each promises.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ident.h"
#include "otp.h"
#include "password.h"
#include "reason.h"

#define FUZZ_LOGIN_OUT (EMAIL_MAX + 1)

static void fuzz_ident(const char *s)
{
	char out[FUZZ_LOGIN_OUT], again[FUZZ_LOGIN_OUT], base[IDENT_MAX + 1], local[EMAIL_MAX + 1];
	char numen[NUMEN_LEN + 1];
	bool is_email, again_email;

	if (ident_login(s, out, sizeof(out), &is_email) == 0) {
		/* lowercase, no surrounding space, and a fixed point */
		for (const char *p = out; *p != '\0'; p++)
			if (isupper((unsigned char)*p))
				abort();
		if (out[0] == ' ' || (out[0] != '\0' && out[strlen(out) - 1] == ' '))
			abort();
		if (ident_login(out, again, sizeof(again), &again_email) != 0 ||
		    strcmp(out, again) != 0 || is_email != again_email)
			abort();
	}
	if (ident_base(s, s, base, sizeof(base)) == 0 && !ident_valid(base) && base[0] != '\0')
		abort();
	(void)ident_email_local(s, "Dupont", local, sizeof(local));
	if (ident_numen_canonical(s, numen) == 0 && !ident_numen_valid(numen))
		abort();
	(void)ident_email_valid(s);
	(void)ident_date_valid(s);
	(void)ident_name_valid(s);
	(void)ident_mobile_valid(s);
}

static void fuzz_secret(const char *s, size_t len, bool classes)
{
	struct password_policy policy = {.min_chars = 8, .max_bytes = 1024, .classes = classes};
	struct password_context ctx = {"jdupont", "Jean", "Dupont", "12A3456789XYZ", "1980-04-12",
	                               "Académie"};
	char detail[256], rec[OTP_RECOVERY_LEN + 1];
	uint8_t raw[256];
	size_t raw_len;
	char *norm = NULL;
	size_t norm_len;

	if (password_normalize(s, len, &norm, &norm_len) == 0) {
		char *twice = NULL;
		size_t twice_len;

		/* NFKC is idempotent */
		if (password_normalize(norm, norm_len, &twice, &twice_len) != 0 ||
		    twice_len != norm_len || memcmp(norm, twice, norm_len) != 0)
			abort();
		free(twice);
	}
	free(norm);
	(void)password_check_policy(&policy, &ctx, s, len, "ancien-mot-de-passe", detail,
	                            sizeof(detail));
	if (otp_recovery_normalize(s, rec) == 0 && strlen(rec) != OTP_RECOVERY_LEN)
		abort();
	(void)otp_base32_decode(s, raw, sizeof(raw), &raw_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0 || size > 4096)
		return 0;
	if ((s = malloc(size)) == NULL)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (data[0] & 1)
		fuzz_ident(s);
	else
		fuzz_secret(s, strlen(s), data[0] & 2);
	free(s);
	return 0;
}
