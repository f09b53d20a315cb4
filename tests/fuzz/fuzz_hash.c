/*
 * libFuzzer: any bytes as a stored password hash against the cost ceilings.
 * hash_cost_check never crashes, a refusal always says why, and what it
 * accepts asks for no more than the limits (checked here for the forms whose
 * cost reads plainly). No hashing: a fuzzed cost could be huge.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "hash_cost.h"

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

/* $6$rounds=N$: N has at most 10 digits and is within the limit. */
static void accepted_sha512(const char *s, const struct hash_limits *lim)
{
	size_t digits;

	if (strncmp(s, "$6$rounds=", 10) != 0)
		return;
	s += 10;
	digits = strspn(s, "0123456789");
	fuzz_check(digits >= 1 && digits <= 10 && s[digits] == '$');
	fuzz_check(strtoull(s, NULL, 10) <= lim->sha512_rounds);
}

static void accepted_bcrypt(const char *s, const struct hash_limits *lim)
{
	s += strlen("$2b$");
	fuzz_check(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '$');
	fuzz_check((unsigned)((s[0] - '0') * 10 + (s[1] - '0')) <= lim->bcrypt_cost);
}

static void accepted_argon2(const char *s, const struct hash_limits *lim)
{
	unsigned long long m, t, p;

	fuzz_check(sscanf(s, "$argon2id$v=19$m=%llu,t=%llu,p=%llu", &m, &t, &p) == 3);
	fuzz_check(m <= lim->argon2.m_kib && t <= lim->argon2.t && p <= lim->argon2.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The configuration's defaults, and the tightest ceilings it allows. */
	static const struct hash_limits limits[] = {
	    {1000000, 8, 14, {262144, 8, 8}},
	    {5000, 1, 4, {8, 1, 1}},
	};
	const struct hash_limits *lim;
	char why[160], *stored;

	if (size == 0)
		return 0;
	lim = &limits[data[0] & 1];
	if ((stored = malloc(size)) == NULL)
		abort();
	memcpy(stored, data + 1, size - 1);
	stored[size - 1] = '\0';
	memset(why, 'x', sizeof(why));
	why[0] = '\0';
	if (hash_cost_check(stored, lim, why, sizeof(why)) < 0) {
		fuzz_check(why[0] != '\0' && memchr(why, '\0', sizeof(why)) != NULL);
	} else if (strncmp(stored, "$6$", 3) == 0) {
		accepted_sha512(stored, lim);
	} else if (strncmp(stored, "$2b$", 4) == 0) {
		accepted_bcrypt(stored, lim);
	} else if (strncmp(stored, "$argon2id$", 10) == 0) {
		accepted_argon2(stored, lim);
	}
	free(stored);
	return 0;
}
