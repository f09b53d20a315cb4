/*
 * libFuzzer: any bytes as a record read back from the store (an account, a
 * session; binary or the JSON of older stores): decoding never crashes, and
 * what decodes encodes back to a binary record that decodes to the same thing.
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
	uint8_t *rec = NULL;
	size_t len = 0;

	if (a == NULL || b == NULL)
		abort();
	if (account_decode(data, size, a) == 0) {
		if (account_encode(a, &rec, &len) < 0 || account_decode(rec, len, b) < 0)
			abort();
		/* The binary form keeps every field as it is: the same struct, byte for byte. */
		if (memcmp(a, b, sizeof(*a)) != 0 || a->napps > ACCOUNT_APPS_MAX)
			abort();
	}
	free(rec);
	account_wipe(a);
	account_wipe(b);
	free(a);
	free(b);
}

static void fuzz_session(const uint8_t *data, size_t size)
{
	struct session s, t;
	uint8_t *rec;
	size_t len;

	if (session_decode("0123abcd", data, size, &s) != 0)
		return;
	if (strlen(s.identifiant) > IDENT_MAX || strlen(s.service) >= sizeof(s.service) ||
	    session_encode(&s, &rec, &len) < 0 || session_decode("0123abcd", rec, len, &t) != 0 ||
	    memcmp(&s, &t, sizeof(s)) != 0)
		abort();
	free(rec);
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
