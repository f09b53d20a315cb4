/*
 * libFuzzer: any bytes as a record read back from the store (an account, a
 * session): decoding never crashes, and what decodes encodes back to a record
 * that decodes to the same thing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "fuzz_util.h"
#include "session.h"

static void fuzz_account(const uint8_t *data, size_t size)
{
	struct account *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char *json = NULL;
	size_t len = 0;

	if (a == NULL || b == NULL)
		abort();
	if (account_decode(data, size, a) == 0) {
		if (account_encode(a, &json, &len) < 0 || account_decode(json, len, b) < 0)
			abort();
		if (strcmp(a->identifiant, b->identifiant) != 0 ||
		    strcmp(a->email, b->email) != 0 || a->state != b->state ||
		    a->code_failures != b->code_failures || a->napps != b->napps ||
		    a->naliases != b->naliases || strcmp(a->etablissement, b->etablissement) != 0 ||
		    a->otp_active != b->otp_active || a->otp.last_step != b->otp.last_step ||
		    a->session_gen != b->session_gen || a->napps > ACCOUNT_APPS_MAX)
			abort();
	}
	free(json);
	account_wipe(a);
	account_wipe(b);
	free(a);
	free(b);
}

static void fuzz_session(const uint8_t *data, size_t size)
{
	struct session s;

	if (session_decode("0123abcd", data, size, &s) == 0 &&
	    (strlen(s.identifiant) > IDENT_MAX || strlen(s.service) >= sizeof(s.service)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_session(data + 1, size - 1);
	else
		fuzz_account(data + 1, size - 1);
	return 0;
}
