/*
 * One-time codes. liboath does the HMAC and truncation; the comparison,
 * the window, replay and drift are ours, because oath_*_validate compares
 * with strcmp and stops at the first match.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <liboath/oath.h>
#include <openssl/rand.h>

#include "otp.h"
#include "secret.h"

/* A wider window is a configuration mistake, not a policy. */
#define OTP_WINDOW_MAX 16
/* Longest base32 text we read: the largest secret, grouped by spaces, padded. */
#define B32_TEXT_MAX 256
/* Bounds the encoder's arithmetic; far above any secret we hold. */
#define B32_DATA_MAX 4096

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/* No l, o, 0 or 1: codes are read off paper and typed by hand. */
static const char recovery_alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

static const char *const algo_names[] = {
    [OTP_SHA1] = "SHA1",
    [OTP_SHA256] = "SHA256",
    [OTP_SHA512] = "SHA512",
};

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc = -1;

static void otp_oath_init(void)
{
	oath_init_rc = oath_init();
}

static int otp_ready(void)
{
	if (pthread_once(&oath_once, otp_oath_init) != 0)
		return -1;
	return oath_init_rc == OATH_OK ? 0 : -1;
}

const char *otp_algo_name(enum otp_algo algo)
{
	if ((unsigned)algo >= sizeof(algo_names) / sizeof(algo_names[0]))
		return NULL;
	return algo_names[algo];
}

int otp_algo_parse(const char *name, enum otp_algo *algo_r)
{
	for (size_t i = 0; i < sizeof(algo_names) / sizeof(algo_names[0]); i++) {
		if (strcasecmp(name, algo_names[i]) == 0) {
			*algo_r = (enum otp_algo)i;
			return 0;
		}
	}
	return -1;
}

static bool otp_params_ok(size_t len, enum otp_algo algo, unsigned digits)
{
	return len > 0 && len <= OTP_SECRET_MAX && otp_algo_name(algo) != NULL &&
	       (digits == 6 || digits == 8);
}

static int otp_oath_flags(enum otp_algo algo)
{
	if (algo == OTP_SHA256)
		return OATH_TOTP_HMAC_SHA256;
	if (algo == OTP_SHA512)
		return OATH_TOTP_HMAC_SHA512;
	return 0;
}

int otp_hotp(const uint8_t *secret, size_t len, enum otp_algo algo, unsigned digits,
             uint64_t counter, char out[OTP_CODE_MAX + 1])
{
	int rc;

	if (!otp_params_ok(len, algo, digits) || counter > INT64_MAX || otp_ready() < 0)
		return -1;
	/*
	 * oath_hotp_generate only knows SHA1; a TOTP with a one-second step
	 * from the epoch is HOTP at counter "now" with any of the hashes.
	 */
	rc = oath_totp_generate2((const char *)secret, len, (time_t)counter, 1, 0, digits,
	                         otp_oath_flags(algo), out);
	if (rc != OATH_OK) {
		secret_wipe(out, OTP_CODE_MAX + 1);
		return -1;
	}
	return 0;
}

int otp_totp(const uint8_t *secret, size_t len, enum otp_algo algo, unsigned digits,
             unsigned period, time_t t, char out[OTP_CODE_MAX + 1])
{
	if (period == 0 || t < 0)
		return -1;
	return otp_hotp(secret, len, algo, digits, (uint64_t)t / period, out);
}

static bool otp_code_well_formed(const char *code, unsigned digits)
{
	size_t n = strnlen(code, OTP_CODE_MAX + 1);

	if (n != digits)
		return false;
	for (size_t i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

static bool otp_token_ok(const struct otp_token *token, time_t now, unsigned window)
{
	return otp_params_ok(token->secret_len, token->algo, token->digits) && token->period > 0 &&
	       now >= 0 && window <= OTP_WINDOW_MAX && token->drift > INT_MIN + OTP_WINDOW_MAX &&
	       token->drift < INT_MAX - OTP_WINDOW_MAX;
}

/*
 * Compares code with the value at one step; -1 when the step cannot be
 * computed (before the epoch), which counts as no match.
 */
static int otp_step_matches(const struct otp_token *token, const char *code, int64_t step)
{
	char cand[OTP_CODE_MAX + 1];
	int r = -1;

	if (step < 0)
		return -1;
	if (otp_hotp(token->secret, token->secret_len, token->algo, token->digits, (uint64_t)step,
	             cand) < 0)
		goto out;
	r = secret_equal(cand, code, token->digits) ? 1 : 0;
out:
	secret_wipe(cand, sizeof(cand));
	return r;
}

enum otp_result otp_verify(const struct otp_token *token, const char *code, time_t now,
                           unsigned window, int64_t *step_r, int *drift_r)
{
	int64_t cur, centre, fresh = -1;
	bool seen = false;

	if (!otp_token_ok(token, now, window) || !otp_code_well_formed(code, token->digits))
		return OTP_REJECT;
	cur = (int64_t)(now / token->period);
	centre = cur + token->drift;
	/* Every candidate is computed and compared: no exit on the first match. */
	for (int64_t step = centre - (int64_t)window; step <= centre + (int64_t)window; step++) {
		if (otp_step_matches(token, code, step) != 1)
			continue;
		seen = true;
		if (step > token->last_step && fresh < 0)
			fresh = step;
	}
	if (fresh >= 0) {
		*step_r = fresh;
		*drift_r = (int)(fresh - cur);
		return OTP_ACCEPT;
	}
	return seen ? OTP_REPLAY : OTP_REJECT;
}

int otp_new_secret(uint8_t secret[OTP_SECRET_LEN])
{
	return RAND_bytes(secret, OTP_SECRET_LEN) == 1 ? 0 : -1;
}

int otp_base32_encode(const uint8_t *data, size_t len, char *out, size_t cap)
{
	size_t need, o = 0;
	unsigned acc = 0, bits = 0;

	if (len > B32_DATA_MAX)
		return -1;
	need = (len * 8 + 4) / 5;
	if (cap <= need)
		return -1;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

static int b32_value(char c)
{
	const char *p;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == '\0' || (p = strchr(b32_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b32_alphabet);
}

int otp_base32_decode(const char *text, uint8_t *out, size_t cap, size_t *len_r)
{
	size_t n = strnlen(text, B32_TEXT_MAX + 1), o = 0, chars = 0;
	unsigned acc = 0, bits = 0;
	bool padding = false;
	int v, r = -1;

	if (n > B32_TEXT_MAX)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == ' ')
			continue;
		if (text[i] == '=') {
			padding = true;
			continue;
		}
		if (padding || (v = b32_value(text[i])) < 0)
			goto out;
		acc = ((acc << 5) | (unsigned)v) & 0xfff;
		bits += 5;
		chars++;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				goto out;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* 1, 3 or 6 characters in the last group cannot come from whole bytes. */
	if (chars % 8 == 1 || chars % 8 == 3 || chars % 8 == 6)
		goto out;
	*len_r = o;
	r = 0;
out:
	secret_wipe(&acc, sizeof(acc));
	if (r < 0)
		secret_wipe(out, o);
	return r;
}

static bool uri_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends s percent-encoded at *o; -1 when it does not fit before cap. */
static int uri_append_escaped(char *out, size_t cap, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		size_t need = uri_unreserved(*p) ? 1 : 3;

		if (cap - *o <= need)
			return -1;
		if (need == 1) {
			out[(*o)++] = (char)*p;
			continue;
		}
		out[(*o)++] = '%';
		out[(*o)++] = hex[*p >> 4];
		out[(*o)++] = hex[*p & 15];
	}
	out[*o] = '\0';
	return 0;
}

static int uri_append(char *out, size_t cap, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (cap - *o <= n)
		return -1;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return 0;
}

int otp_uri(const char *issuer, const char *account, const struct otp_token *token, char *out,
            size_t cap)
{
	char b32[OTP_B32_MAX + 1], tail[96];
	size_t o = 0;
	int r = -1;

	if (cap == 0 || token->period == 0 ||
	    !otp_params_ok(token->secret_len, token->algo, token->digits))
		return -1;
	if (otp_base32_encode(token->secret, token->secret_len, b32, sizeof(b32)) < 0)
		goto out;
	snprintf(tail, sizeof(tail), "&algorithm=%s&digits=%u&period=%u",
	         otp_algo_name(token->algo), token->digits, token->period);
	if (uri_append(out, cap, &o, "otpauth://totp/") < 0 ||
	    uri_append_escaped(out, cap, &o, issuer) < 0 || uri_append(out, cap, &o, ":") < 0 ||
	    uri_append_escaped(out, cap, &o, account) < 0 ||
	    uri_append(out, cap, &o, "?secret=") < 0 || uri_append(out, cap, &o, b32) < 0 ||
	    uri_append(out, cap, &o, "&issuer=") < 0 ||
	    uri_append_escaped(out, cap, &o, issuer) < 0 || uri_append(out, cap, &o, tail) < 0)
		goto out;
	r = 0;
out:
	secret_wipe(b32, sizeof(b32));
	if (r < 0)
		secret_wipe(out, cap);
	return r;
}

static int otp_recovery_one(char code[OTP_RECOVERY_LEN + 1])
{
	uint8_t rnd[10];
	size_t o = 0;
	int r = -1;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	/* 256 is a multiple of 32: the low five bits of a byte are uniform. */
	for (size_t i = 0; i < sizeof(rnd); i++) {
		if (i == 5)
			code[o++] = '-';
		code[o++] = recovery_alphabet[rnd[i] & 31];
	}
	code[o] = '\0';
	r = 0;
out:
	secret_wipe(rnd, sizeof(rnd));
	return r;
}

static bool otp_recovery_seen(char codes[][OTP_RECOVERY_LEN + 1], size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(codes[i], code) == 0)
			return true;
	return false;
}

int otp_recovery_generate(char codes[OTP_RECOVERY_COUNT][OTP_RECOVERY_LEN + 1])
{
	size_t n = 0;
	int r = -1;

	while (n < OTP_RECOVERY_COUNT) {
		if (otp_recovery_one(codes[n]) < 0)
			goto out;
		/* A repeat is one chance in 2^50; drawing again keeps the set at ten. */
		if (!otp_recovery_seen(codes, n, codes[n]))
			n++;
	}
	r = 0;
out:
	if (r < 0)
		secret_wipe(codes, sizeof(char[OTP_RECOVERY_COUNT][OTP_RECOVERY_LEN + 1]));
	return r;
}

int otp_recovery_normalize(const char *in, char out[OTP_RECOVERY_LEN + 1])
{
	size_t n = strnlen(in, 64), chars = 0, o = 0;
	bool dash = false;
	int r = -1;

	if (n >= 64)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == ' ')
			continue;
		if (c == '-' && chars == 5 && !dash) {
			dash = true;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (chars == 10 || c == '\0' || strchr(recovery_alphabet, c) == NULL)
			goto out;
		if (chars == 5)
			out[o++] = '-';
		out[o++] = c;
		chars++;
	}
	if (chars != 10)
		goto out;
	out[o] = '\0';
	r = 0;
out:
	if (r < 0)
		secret_wipe(out, OTP_RECOVERY_LEN + 1);
	return r;
}
