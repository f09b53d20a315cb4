#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otp.h"

#define RFC_SEED20 "12345678901234567890"
#define RFC_SEED32 RFC_SEED20 "123456789012"
#define RFC_SEED64 RFC_SEED20 RFC_SEED20 RFC_SEED20 "1234"
#define NOW ((time_t)1111111111)

static void test_algo_names(void **state)
{
	enum otp_algo a = OTP_SHA1;

	(void)state;
	assert_string_equal(otp_algo_name(OTP_SHA256), "SHA256");
	assert_null(otp_algo_name((enum otp_algo)7));
	assert_int_equal(otp_algo_parse("sha512", &a), 0);
	assert_int_equal(a, OTP_SHA512);
	assert_int_equal(otp_algo_parse("MD5", &a), -1);
	assert_int_equal(otp_algo_parse("", &a), -1);
}

/* RFC 4226 Appendix D. */
static void test_hotp_rfc4226(void **state)
{
	static const char *const want[] = {"755224", "287082", "359152", "969429", "338314",
	                                   "254676", "287922", "162583", "399871", "520489"};
	char out[OTP_CODE_MAX + 1];

	(void)state;
	for (uint64_t c = 0; c < 10; c++) {
		assert_int_equal(otp_hotp((const uint8_t *)RFC_SEED20, 20, OTP_SHA1, 6, c, out), 0);
		assert_string_equal(out, want[c]);
	}
	assert_int_equal(otp_hotp((const uint8_t *)RFC_SEED20, 20, OTP_SHA1, 7, 0, out), -1);
	assert_int_equal(otp_hotp((const uint8_t *)RFC_SEED20, 0, OTP_SHA1, 6, 0, out), -1);
	assert_int_equal(otp_hotp((const uint8_t *)RFC_SEED64, 65, OTP_SHA1, 6, 0, out), -1);
}

/* RFC 6238 Appendix B. */
static void test_totp_rfc6238(void **state)
{
	static const struct {
		time_t t;
		const char *sha1, *sha256, *sha512;
	} rows[] = {
	    {59, "94287082", "46119246", "90693936"},
	    {1111111109, "07081804", "68084774", "25091201"},
	    {1111111111, "14050471", "67062674", "99943326"},
	    {1234567890, "89005924", "91819424", "93441116"},
	    {2000000000, "69279037", "90698825", "38618901"},
	    {20000000000, "65353130", "77737706", "47863826"},
	};
	const uint8_t *s20 = (const uint8_t *)RFC_SEED20, *s32 = (const uint8_t *)RFC_SEED32,
	              *s64 = (const uint8_t *)RFC_SEED64;
	char out[OTP_CODE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(otp_totp(s20, 20, OTP_SHA1, 8, 30, rows[i].t, out), 0);
		assert_string_equal(out, rows[i].sha1);
		assert_int_equal(otp_totp(s32, 32, OTP_SHA256, 8, 30, rows[i].t, out), 0);
		assert_string_equal(out, rows[i].sha256);
		assert_int_equal(otp_totp(s64, 64, OTP_SHA512, 8, 30, rows[i].t, out), 0);
		assert_string_equal(out, rows[i].sha512);
	}
	assert_int_equal(otp_totp(s20, 20, OTP_SHA1, 6, 0, NOW, out), -1);
	assert_int_equal(otp_totp(s20, 20, OTP_SHA1, 6, 30, -1, out), -1);
}

static struct otp_token rfc_token(unsigned digits)
{
	struct otp_token t = {.secret_len = 20,
	                      .algo = OTP_SHA1,
	                      .digits = digits,
	                      .period = 30,
	                      .last_step = -1,
	                      .drift = 0};

	memcpy(t.secret, RFC_SEED20, 20);
	return t;
}

/* The code the token shows at step now/30 + off. */
static void code_at(const struct otp_token *t, int64_t off, char out[OTP_CODE_MAX + 1])
{
	uint64_t step = (uint64_t)(NOW / 30 + off);

	assert_int_equal(otp_hotp(t->secret, t->secret_len, t->algo, t->digits, step, out), 0);
}

static void test_verify_window(void **state)
{
	static const struct {
		int off;
		enum otp_result want;
	} rows[] = {
	    {-3, OTP_REJECT}, {-2, OTP_REJECT}, {-1, OTP_ACCEPT}, {0, OTP_ACCEPT},
	    {1, OTP_ACCEPT},  {2, OTP_REJECT},  {3, OTP_REJECT},
	};
	struct otp_token t = rfc_token(6);
	char code[OTP_CODE_MAX + 1];
	int64_t step;
	int drift;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		step = -7;
		drift = 99;

		code_at(&t, rows[i].off, code);
		assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), rows[i].want);
		if (rows[i].want != OTP_ACCEPT)
			continue;
		assert_int_equal(step, NOW / 30 + rows[i].off);
		assert_int_equal(drift, rows[i].off);
	}
	/* Window 0: only the current step. */
	code_at(&t, 1, code);
	assert_int_equal(otp_verify(&t, code, NOW, 0, &step, &drift), OTP_REJECT);
	code_at(&t, 0, code);
	assert_int_equal(otp_verify(&t, code, NOW, 0, &step, &drift), OTP_ACCEPT);
	/* A window past the limit is refused outright. */
	assert_int_equal(otp_verify(&t, code, NOW, 17, &step, &drift), OTP_REJECT);
}

static void test_verify_wrong_code(void **state)
{
	struct otp_token t = rfc_token(6);
	char code[OTP_CODE_MAX + 1];
	int64_t step;
	int drift;

	(void)state;
	code_at(&t, 0, code);
	code[5] = code[5] == '9' ? '0' : (char)(code[5] + 1);
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_REJECT);
	/* Same secret, other hash: the code must not match. */
	code_at(&t, 0, code);
	t.algo = OTP_SHA256;
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_REJECT);
}

static void test_verify_replay(void **state)
{
	struct otp_token t = rfc_token(6);
	char code[OTP_CODE_MAX + 1];
	int64_t step;
	int drift;

	(void)state;
	code_at(&t, 0, code);
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_ACCEPT);
	t.last_step = step;
	t.drift = drift;
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_REPLAY);
	assert_int_equal(otp_verify(&t, code, NOW + 29, 1, &step, &drift), OTP_REPLAY);
	/* An older code still inside the window is a replay too. */
	code_at(&t, -1, code);
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_REPLAY);
	/* The next step is fresh. */
	code_at(&t, 1, code);
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_ACCEPT);
	assert_int_equal(step, NOW / 30 + 1);
}

static void test_verify_drift(void **state)
{
	struct otp_token t = rfc_token(6);
	char code[OTP_CODE_MAX + 1];
	int64_t step;
	int drift;

	(void)state;
	/* The token runs one step behind. */
	code_at(&t, -1, code);
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_ACCEPT);
	assert_int_equal(drift, -1);
	t.last_step = step;
	t.drift = drift;
	/* Ten steps later the window is centred one step back: -2 passes, +1 does not. */
	code_at(&t, 10 - 2, code);
	assert_int_equal(otp_verify(&t, code, NOW + 300, 1, &step, &drift), OTP_ACCEPT);
	assert_int_equal(drift, -2);
	code_at(&t, 10 + 1, code);
	assert_int_equal(otp_verify(&t, code, NOW + 300, 1, &step, &drift), OTP_REJECT);
}

static void test_verify_malformed(void **state)
{
	struct otp_token t = rfc_token(6);
	char code[OTP_CODE_MAX + 1], bad[32];
	int64_t step;
	int drift;
	static const char *const junk[] = {"",          "12345",  "abcdef", "1234567",
	                                   "123456789", " 12345", "12 345", "+12345"};

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(otp_verify(&t, junk[i], NOW, 1, &step, &drift), OTP_REJECT);
	/* The right code spoiled in one place. */
	code_at(&t, 0, code);
	snprintf(bad, sizeof(bad), "%.5sa", code);
	assert_int_equal(otp_verify(&t, bad, NOW, 1, &step, &drift), OTP_REJECT);
	snprintf(bad, sizeof(bad), "%s0", code);
	assert_int_equal(otp_verify(&t, bad, NOW, 1, &step, &drift), OTP_REJECT);
	snprintf(bad, sizeof(bad), "%s\n", code);
	assert_int_equal(otp_verify(&t, bad, NOW, 1, &step, &drift), OTP_REJECT);
	snprintf(bad, sizeof(bad), " %s", code);
	assert_int_equal(otp_verify(&t, bad, NOW, 1, &step, &drift), OTP_REJECT);
	/* A broken token refuses everything. */
	t.digits = 7;
	assert_int_equal(otp_verify(&t, code, NOW, 1, &step, &drift), OTP_REJECT);
}

static void test_verify_8_digits(void **state)
{
	struct otp_token t = rfc_token(8);
	char code[OTP_CODE_MAX + 1];
	int64_t step;
	int drift;

	(void)state;
	code_at(&t, 0, code);
	assert_string_equal(code, "14050471");
	assert_int_equal(otp_verify(&t, "14050471", NOW, 1, &step, &drift), OTP_ACCEPT);
	/* The last six digits are not a valid 8-digit code. */
	t.last_step = -1;
	assert_int_equal(otp_verify(&t, "050471", NOW, 1, &step, &drift), OTP_REJECT);
}

static void test_base32_vectors(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
	    {"", ""},
	    {"f", "MY"},
	    {"fo", "MZXQ"},
	    {"foo", "MZXW6"},
	    {"foob", "MZXW6YQ"},
	    {"fooba", "MZXW6YTB"},
	    {"foobar", "MZXW6YTBOI"},
	};
	char text[OTP_B32_MAX + 1];
	uint8_t bin[OTP_SECRET_MAX];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = strlen(rows[i].in);

		assert_int_equal(
		    otp_base32_encode((const uint8_t *)rows[i].in, n, text, sizeof(text)), 0);
		assert_string_equal(text, rows[i].out);
		assert_int_equal(otp_base32_decode(rows[i].out, bin, sizeof(bin), &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(bin, rows[i].in, n);
	}
	/* Room for the text and its NUL, not one byte less. */
	assert_int_equal(otp_base32_encode((const uint8_t *)"foobar", 6, text, 11), 0);
	assert_int_equal(otp_base32_encode((const uint8_t *)"foobar", 6, text, 10), -1);
}

static void test_base32_decode_forms(void **state)
{
	static const struct {
		const char *text;
		int rc;
	} rows[] = {
	    {"mzxw6ytboi", 0},  {"MZXW 6YTB OI", 0},  {"MZXW6YTBOI======", 0}, {"mZxW6yTbOi==", 0},
	    {"MZXW6YTBO1", -1}, {"MZXW6YTBOI=X", -1}, {"=MZXW6YTBOI", -1},     {"M", -1},
	    {"MZX", -1},        {"MZXW6Y", -1},       {"MZXW6YTB-OI", -1},
	};
	uint8_t bin[OTP_SECRET_MAX];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(otp_base32_decode(rows[i].text, bin, sizeof(bin), &len),
		                 rows[i].rc);
		if (rows[i].rc == 0) {
			assert_int_equal(len, 6);
			assert_memory_equal(bin, "foobar", 6);
		}
	}
	assert_int_equal(otp_base32_decode("MZXW6YTBOI", bin, 6, &len), 0);
	assert_int_equal(otp_base32_decode("MZXW6YTBOI", bin, 5, &len), -1);
}

static void test_base32_round_trip(void **state)
{
	uint8_t data[OTP_SECRET_MAX], back[OTP_SECRET_MAX];
	char text[OTP_B32_MAX + 1];
	size_t len;

	(void)state;
	for (size_t n = 0; n <= OTP_SECRET_MAX; n++) {
		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)(i * 37 + n * 11 + 0x80);
		assert_int_equal(otp_base32_encode(data, n, text, sizeof(text)), 0);
		assert_int_equal(strlen(text), (n * 8 + 4) / 5);
		assert_int_equal(otp_base32_decode(text, back, sizeof(back), &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(back, data, n);
	}
	assert_int_equal(otp_new_secret(data), 0);
	assert_int_equal(otp_base32_encode(data, OTP_SECRET_LEN, text, sizeof(text)), 0);
	assert_int_equal(strlen(text), 32);
}

static void test_uri(void **state)
{
	static const char want[] =
	    "otpauth://totp/Acad%C3%A9mie%20de%20Test:jdupont"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acad%C3%A9mie%20de%20Test"
	    "&algorithm=SHA1&digits=6&period=30";
	struct otp_token t = rfc_token(6);
	char out[OTP_URI_MAX];

	(void)state;
	assert_int_equal(otp_uri("Académie de Test", "jdupont", &t, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(otp_uri("Académie de Test", "jdupont", &t, out, sizeof(want)), 0);
	assert_int_equal(otp_uri("Académie de Test", "jdupont", &t, out, sizeof(want) - 1), -1);
	/* Reserved characters in the account are escaped, unreserved ones kept. */
	t.algo = OTP_SHA512;
	t.digits = 8;
	assert_int_equal(otp_uri("A", "j.d_u-p~t:x@y&z", &t, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "/A:j.d_u-p~t%3Ax%40y%26z?"));
	assert_non_null(strstr(out, "&algorithm=SHA512&digits=8&period=30"));
}

static bool recovery_shape_ok(const char *c)
{
	if (strlen(c) != OTP_RECOVERY_LEN || c[5] != '-')
		return false;
	for (size_t i = 0; i < OTP_RECOVERY_LEN; i++)
		if (i != 5 && strchr("abcdefghijkmnpqrstuvwxyz23456789", c[i]) == NULL)
			return false;
	return true;
}

static void test_recovery_generate(void **state)
{
	enum { ROUNDS = 50 };
	static char all[ROUNDS * OTP_RECOVERY_COUNT][OTP_RECOVERY_LEN + 1];
	char codes[OTP_RECOVERY_COUNT][OTP_RECOVERY_LEN + 1];
	char norm[OTP_RECOVERY_LEN + 1];
	size_t n = 0;

	(void)state;
	for (int r = 0; r < ROUNDS; r++) {
		assert_int_equal(otp_recovery_generate(codes), 0);
		for (size_t i = 0; i < OTP_RECOVERY_COUNT; i++) {
			assert_true(recovery_shape_ok(codes[i]));
			assert_int_equal(otp_recovery_normalize(codes[i], norm), 0);
			assert_string_equal(norm, codes[i]);
			memcpy(all[n++], codes[i], OTP_RECOVERY_LEN + 1);
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(all[i], all[j]);
}

static void test_recovery_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
	    {"abcde-fghij", "abcde-fghij"},
	    {"abcdefghij", "abcde-fghij"},
	    {"ABCDE-FGHIJ", "abcde-fghij"},
	    {" abcde fghij ", "abcde-fghij"},
	    {"ab cde - fgh ij", "abcde-fghij"},
	    {"23456-789ab", "23456-789ab"},
	    {"abcde-fghi", NULL},
	    {"abcde-fghijk", NULL},
	    {"abcdef-ghij", NULL},
	    {"-abcdefghij", NULL},
	    {"abcde--fghij", NULL},
	    {"abcde-fghi0", NULL},
	    {"abcde-fghil", NULL},
	    {"abcde-fghio", NULL},
	    {"abcde_fghij", NULL},
	    {"abcde-fghij\n", NULL},
	    {"", NULL},
	};
	char out[OTP_RECOVERY_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = otp_recovery_normalize(rows[i].in, out);

		if (rows[i].out == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(out, rows[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_algo_names),
	    cmocka_unit_test(test_hotp_rfc4226),
	    cmocka_unit_test(test_totp_rfc6238),
	    cmocka_unit_test(test_verify_window),
	    cmocka_unit_test(test_verify_wrong_code),
	    cmocka_unit_test(test_verify_replay),
	    cmocka_unit_test(test_verify_drift),
	    cmocka_unit_test(test_verify_malformed),
	    cmocka_unit_test(test_verify_8_digits),
	    cmocka_unit_test(test_base32_vectors),
	    cmocka_unit_test(test_base32_decode_forms),
	    cmocka_unit_test(test_base32_round_trip),
	    cmocka_unit_test(test_uri),
	    cmocka_unit_test(test_recovery_generate),
	    cmocka_unit_test(test_recovery_normalize),
	};

	return cmocka_run_group_tests_name("otp", tests, NULL, NULL);
}
