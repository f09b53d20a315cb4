/*
 * One-time codes: RFC 4226 HOTP and RFC 6238 TOTP through liboath for the
 * arithmetic, our own constant-time comparison, replay and drift tracking,
 * recovery codes. Pure: time is always passed in.
 */
#ifndef VERDON_OTP_H
#define VERDON_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define OTP_SECRET_LEN 20 /* 160 bits */
#define OTP_SECRET_MAX 64
#define OTP_CODE_MAX 8
#define OTP_B32_MAX (OTP_SECRET_MAX * 8 / 5 + 8)
#define OTP_URI_MAX 1024
#define OTP_RECOVERY_COUNT 10
#define OTP_RECOVERY_LEN 11 /* "xxxxx-xxxxx" */

enum otp_algo {
	OTP_SHA1 = 0,
	OTP_SHA256,
	OTP_SHA512,
};

struct otp_token {
	uint8_t secret[OTP_SECRET_MAX];
	size_t secret_len;
	enum otp_algo algo;
	unsigned digits;   /* 6 or 8 */
	unsigned period;   /* seconds, 30 */
	int64_t last_step; /* last accepted step; -1 when none */
	int drift;         /* steps the token's clock is off, from the last success */
};

const char *otp_algo_name(enum otp_algo algo); /* "SHA1" … */
int otp_algo_parse(const char *name, enum otp_algo *algo_r);

/* HOTP value for a counter; out gets digits characters. */
int otp_hotp(const uint8_t *secret, size_t len, enum otp_algo algo, unsigned digits,
             uint64_t counter, char out[OTP_CODE_MAX + 1]);
/* TOTP value at time t. */
int otp_totp(const uint8_t *secret, size_t len, enum otp_algo algo, unsigned digits,
             unsigned period, time_t t, char out[OTP_CODE_MAX + 1]);

enum otp_result {
	OTP_ACCEPT,
	OTP_REJECT, /* wrong, malformed, or outside the window */
	OTP_REPLAY, /* right, but its step is not after last_step */
};

/*
 * Checks code against steps now/period + drift ± window. On OTP_ACCEPT,
 * *step_r and *drift_r are the values to store (the caller commits them
 * before answering). Every candidate is compared, in constant time.
 */
enum otp_result otp_verify(const struct otp_token *token, const char *code, time_t now,
                           unsigned window, int64_t *step_r, int *drift_r);

/* A fresh 160-bit secret from OpenSSL's RNG. */
int otp_new_secret(uint8_t secret[OTP_SECRET_LEN]);

/* RFC 4648 base32, no padding; decode accepts lower case, spaces and padding. */
int otp_base32_encode(const uint8_t *data, size_t len, char *out, size_t cap);
int otp_base32_decode(const char *text, uint8_t *out, size_t cap, size_t *len_r);

/*
 * otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…&digits=…&period=…
 * with issuer and account percent-encoded (UTF-8 kept as %XX).
 */
int otp_uri(const char *issuer, const char *account, const struct otp_token *token, char *out,
            size_t cap);

/* Recovery codes "xxxxx-xxxxx" from an unambiguous alphabet (50 bits each). */
int otp_recovery_generate(char codes[OTP_RECOVERY_COUNT][OTP_RECOVERY_LEN + 1]);
/* Canonical form of a typed recovery code (lower case, dash restored); -1 if it is not one. */
int otp_recovery_normalize(const char *in, char out[OTP_RECOVERY_LEN + 1]);

#endif
