/*
 * Passwords: NFKC normalisation, the policy, Argon2id with a pepper, the fast
 * keyed hash for secrets the daemon generates, and imported crypt(3) hashes.
 *
 * Stored forms:
 *   $argon2id$v=19$m=M,t=T,p=P$salt$hash   Argon2id over HMAC(pepper, NFKC(pw))
 *   $hmac$<64 hex>                        HMAC(pepper, "secret", pw): generated secrets only
 *   $6$…, $y$…, $2b$…                     imported; verified by crypt_r, then re-hashed
 */
#ifndef VERDON_PASSWORD_H
#define VERDON_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reason.h"

struct crypto_keys;
struct hash_limits;

#define PASSWORD_HASH_MAX 256 /* any stored form, NUL included */
#define PASSWORD_TEMP_LEN 16  /* generated temporary passwords: 16 chars, 80 bits */

struct argon2_params {
	uint32_t m_kib;
	uint32_t t;
	uint32_t p;
};

/* Owns one Argon2 memory area, allocated and pre-faulted once, reused by every hash. */
struct password_hasher;
struct password_hasher *password_hasher_new(const struct argon2_params *params);
void password_hasher_free(struct password_hasher *h);
/* Ceilings on what a stored hash may ask for (hash_cost.h); lim must outlive its use. NULL h:
 * no-op. */
void password_hasher_limits(struct password_hasher *h, const struct hash_limits *lim);
/* How long h has been running a hash, in ms, or -1 (any thread may ask): shutdown waits only so
 * long. */
long long password_hasher_hashing_ms(struct password_hasher *h);

/* Hashes with Argon2id; out gets the PHC string. -1 on error (bad UTF-8 included). */
int password_hash(struct password_hasher *h, const struct crypto_keys *keys, const char *pw,
                  size_t len, char out[PASSWORD_HASH_MAX]);

enum password_match {
	PASSWORD_MATCH,
	PASSWORD_MISMATCH,
	PASSWORD_ERROR,
};

/*
 * Verifies pw against a stored form, in constant time for the comparison.
 * *rehash_r is set when the stored form is imported or below h's parameters.
 * Every form costs one Argon2 run at h's parameters, so that what is stored
 * (or that nothing is) does not show in the time of an answer.
 */
enum password_match password_verify(struct password_hasher *h, const struct crypto_keys *keys,
                                    const char *pw, size_t len, const char *stored, bool *rehash_r);
/* The cost of a verification with nothing to verify against (unknown users). */
void password_dummy(struct password_hasher *h, const struct crypto_keys *keys, const char *pw,
                    size_t len);

/* $hmac$ form of a generated secret. */
void password_hmac_hash(const struct crypto_keys *keys, const char *secret, size_t len,
                        char out[PASSWORD_HASH_MAX]);
/* 16 characters of an unambiguous 32-letter alphabet (80 bits); -1 if the RNG fails. */
int password_generate_temp(char out[PASSWORD_TEMP_LEN + 1]);

/* NFKC of UTF-8 input; malloc'd, NUL-terminated; -1 on invalid UTF-8 or a NUL byte. */
int password_normalize(const char *in, size_t len, char **out_r, size_t *out_len_r);

struct password_policy {
	unsigned min_chars;    /* code points after NFKC; default 12 */
	unsigned max_bytes;    /* default 1024 */
	bool classes;          /* require upper, lower, digit and special */
	bool dictionary;       /* cracklib dictionary check through libpwquality */
	const char *dict_path; /* NULL: cracklib's default */
};

/* Words the password must not be built on. NULL members are skipped. */
struct password_context {
	const char *identifiant;
	const char *first;
	const char *last;
	const char *numen;
	const char *birth; /* YYYY-MM-DD */
	const char *organisation;
};

/*
 * REASON_NONE when pw is acceptable, else the reason; detail gets one French
 * or English sentence fit to show the person (never the password).
 */
enum proto_reason password_check_policy(const struct password_policy *policy,
                                        const struct password_context *ctx, const char *pw,
                                        size_t len, const char *old_pw, char *detail,
                                        size_t detail_len);
/*
 * -1 with "path: why" in err when cracklib's dictionary (dict_path, NULL for
 * cracklib's default) cannot be read: for start-up and `verdond -n`, since at
 * run time a missing dictionary makes every check REASON_TEMPFAIL.
 */
int password_dictionary_check(const char *dict_path, char *err, size_t errlen);

#endif
