/*
 * Reads the work factor out of $6$, $y$, $2b$ and $argon2id$ strings, the
 * way libxcrypt and libargon2 would read it, and compares it with the
 * configured ceilings before any hashing starts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hash_cost.h"

#define SHA512_ROUNDS_DEFAULT 5000
/* yescrypt work of cost c is r * N = 2^(c + 12): N=4096, r=32 at libxcrypt's default 5. */
#define YESCRYPT_COST_SHIFT 12
#define YESCRYPT_COST_MAX 63

/* Decimal digits at s (at most 10), advancing *s; -1 when none or too many. */
static int read_decimal(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;
	size_t digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits == 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0)
		return -1;
	*v = n;
	*s = p;
	return 0;
}

static int over(char *why, size_t whylen, const char *key, uint64_t got, const char *unit,
                unsigned max)
{
	snprintf(why, whylen, "%s: %llu%s, above %u", key, (unsigned long long)got, unit, max);
	return -1;
}

static int unreadable(char *why, size_t whylen, const char *form)
{
	snprintf(why, whylen, "password_hash: the cost of this %s hash cannot be read", form);
	return -1;
}

static int check_sha512(const char *s, const struct hash_limits *lim, char *why, size_t whylen)
{
	uint64_t rounds = SHA512_ROUNDS_DEFAULT;

	s += strlen("$6$");
	if (strncmp(s, "rounds=", 7) == 0) {
		s += 7;
		/* libxcrypt takes any count and clamps it: too many digits is too many rounds. */
		if (read_decimal(&s, &rounds) < 0) {
			if (*s < '0' || *s > '9')
				return unreadable(why, whylen, "$6$");
			s += strspn(s, "0123456789");
			rounds = UINT64_MAX;
		}
		if (*s != '$')
			return unreadable(why, whylen, "$6$");
	}
	if (rounds > lim->sha512_rounds)
		return over(why, whylen, "hash_max_sha512_rounds", rounds, " rounds",
		            lim->sha512_rounds);
	return 0;
}

static int check_bcrypt(const char *s, const struct hash_limits *lim, char *why, size_t whylen)
{
	unsigned cost;

	s += strlen("$2b$");
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != '$')
		return unreadable(why, whylen, "$2b$");
	cost = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	if (cost > lim->bcrypt_cost)
		return over(why, whylen, "hash_max_bcrypt_cost", cost, "", lim->bcrypt_cost);
	return 0;
}

/* yescrypt's "./0-9A-Za-z" alphabet; 64 for anything else. */
static unsigned atoi64(char c)
{
	static const char alphabet[] =
	    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (unsigned)(p - alphabet) : 64;
}

/* yescrypt-common.c's decode64_uint32: a variable-length number, at least min. */
static int decode64_uint32(const char **s, const char *end, uint32_t min, uint64_t *v)
{
	uint64_t start = 0, stop = 47, bits = 0, n = min;
	unsigned chars = 1, c;

	if (*s >= end || (c = atoi64(**s)) > 63)
		return -1;
	(*s)++;
	while (c > stop) {
		n += (stop + 1 - start) << bits;
		start = stop + 1;
		stop = start + (62 - stop) / 2;
		chars++;
		bits += 6;
	}
	n += (c - start) << bits;
	while (--chars) {
		if (*s >= end || (c = atoi64(**s)) > 63)
			return -1;
		(*s)++;
		bits -= 6;
		n += (uint64_t)c << bits;
	}
	*v = n;
	return 0;
}

static unsigned log2_ceil(uint64_t x)
{
	unsigned n = 0;

	while (n < 64 && ((uint64_t)1 << n) < x)
		n++;
	return n;
}

/*
 * $y$ flavor N_log2 r [have [p] [t]] $salt$hash. The work is r * N * p *
 * (t + 1); the other extensions (g, ROM) are not something we bound, so they
 * are refused.
 */
static int check_yescrypt(const char *s, const struct hash_limits *lim, char *why, size_t whylen)
{
	const char *end;
	uint64_t flavor, n_log2, r, have = 0, p = 1, t = 0;
	unsigned cost;

	s += strlen("$y$");
	if ((end = strchr(s, '$')) == NULL || decode64_uint32(&s, end, 0, &flavor) < 0 ||
	    decode64_uint32(&s, end, 1, &n_log2) < 0 || decode64_uint32(&s, end, 1, &r) < 0)
		return unreadable(why, whylen, "$y$");
	if (s < end && decode64_uint32(&s, end, 1, &have) < 0)
		return unreadable(why, whylen, "$y$");
	if ((have & ~(uint64_t)3) != 0 || ((have & 1) && decode64_uint32(&s, end, 2, &p) < 0) ||
	    ((have & 2) && decode64_uint32(&s, end, 1, &t) < 0) || s != end)
		return unreadable(why, whylen, "$y$");
	if (n_log2 > 40 || r > (1u << 20) || p > (1u << 10) || t > (1u << 10))
		return over(why, whylen, "hash_max_yescrypt_cost", YESCRYPT_COST_MAX, "",
		            lim->yescrypt_cost);
	cost = log2_ceil(r * p * (t + 1)) + (unsigned)n_log2;
	cost = cost > YESCRYPT_COST_SHIFT ? cost - YESCRYPT_COST_SHIFT : 0;
	if (cost > lim->yescrypt_cost)
		return over(why, whylen, "hash_max_yescrypt_cost", cost, "", lim->yescrypt_cost);
	return 0;
}

static int check_argon2(const char *s, const struct hash_limits *lim, char *why, size_t whylen)
{
	static const char *const names[] = {"m=", ",t=", ",p="};
	static const char *const keys[] = {"hash_max_argon2_memory_kib", "hash_max_argon2_time",
	                                   "hash_max_argon2_parallelism"};
	const unsigned max[] = {lim->argon2.m_kib, lim->argon2.t, lim->argon2.p};
	uint64_t v;

	s += strlen("$argon2id$");
	if (strncmp(s, "v=19$", 5) != 0)
		return unreadable(why, whylen, "$argon2id$");
	s += 5;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strncmp(s, names[i], strlen(names[i])) != 0)
			return unreadable(why, whylen, "$argon2id$");
		s += strlen(names[i]);
		if (read_decimal(&s, &v) < 0)
			return unreadable(why, whylen, "$argon2id$");
		if (v > max[i])
			return over(why, whylen, keys[i], v, "", max[i]);
	}
	return 0;
}

int hash_cost_check(const char *stored, const struct hash_limits *lim, char *why, size_t whylen)
{
	static const struct {
		const char *prefix;
		int (*check)(const char *, const struct hash_limits *, char *, size_t);
	} forms[] = {
	    {"$6$", check_sha512},
	    {"$y$", check_yescrypt},
	    {"$2b$", check_bcrypt},
	    {"$argon2id$", check_argon2},
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strncmp(stored, forms[i].prefix, strlen(forms[i].prefix)) == 0)
			return forms[i].check(stored, lim, why, whylen);
	return 0;
}
