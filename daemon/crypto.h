/*
 * Keys and primitives. One key file (state_dir/verdon.key, 0600, created on
 * first start, refused when group or others can read it) holds two 32-byte
 * keys: the AES-256-GCM key that seals OTP secrets and the HMAC pepper used
 * for password hashes, fast keyed hashes and the NUMEN index.
 */
#ifndef VERDON_CRYPTO_H
#define VERDON_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 32
#define CRYPTO_HMAC_LEN 32
#define CRYPTO_NONCE_LEN 12
#define CRYPTO_TAG_LEN 16

struct crypto_keys {
	uint8_t seal[CRYPTO_KEY_LEN];
	uint8_t pepper[CRYPTO_KEY_LEN];
};

/* Loads path, creating it (0600, O_EXCL) when absent; err gets "path: why". */
int crypto_keys_load(const char *path, struct crypto_keys *keys, char *err, size_t errlen);
void crypto_keys_wipe(struct crypto_keys *keys);

/* OpenSSL's RNG; -1 when it fails (the caller must refuse to go on). */
int crypto_random(void *buf, size_t len);

/*
 * HMAC-SHA256 with the pepper over domain || 0x00 || data, so that the same
 * secret hashed for two purposes never gives the same value.
 */
void crypto_hmac(const struct crypto_keys *keys, const char *domain, const void *data, size_t len,
                 uint8_t out[CRYPTO_HMAC_LEN]);
/* The same, as lowercase hex (65 bytes with the NUL). */
void crypto_hmac_hex(const struct crypto_keys *keys, const char *domain, const void *data,
                     size_t len, char out[2 * CRYPTO_HMAC_LEN + 1]);

/*
 * AES-256-GCM with aad as associated data (the identifiant, so a sealed
 * secret moved to another account does not open). Output: base64 of
 * nonce || ciphertext || tag, NUL-terminated, in a malloc'd string.
 */
int crypto_seal(const struct crypto_keys *keys, const char *aad, const uint8_t *plain,
                size_t plain_len, char **sealed_r);
/* -1 on a bad encoding, wrong aad or tampering; plain is wiped on failure. */
int crypto_open(const struct crypto_keys *keys, const char *aad, const char *sealed, uint8_t *plain,
                size_t plain_cap, size_t *plain_len_r);

/* Standard base64 without line breaks; *_decode returns -1 on bad input. */
char *crypto_b64_encode(const uint8_t *data, size_t len); /* malloc'd */
int crypto_b64_decode(const char *text, uint8_t *out, size_t cap, size_t *len_r);
void crypto_hex(const uint8_t *data, size_t len, char *out); /* out: 2*len+1 */

#endif
