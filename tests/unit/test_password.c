#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <cmocka.h>
#include <crypt.h>

#include "crypto.h"
#include "password.h"

#define STRONG "Velo-Rouge-Matin-42"

static const struct argon2_params small = {.m_kib = 1024, .t = 1, .p = 1};

static void fixed_keys(struct crypto_keys *k)
{
	for (int i = 0; i < CRYPTO_KEY_LEN; i++) {
		k->seal[i] = (uint8_t)(0x80 + i);
		k->pepper[i] = (uint8_t)i;
	}
}

/* ---- the policy table ---- */

enum profile { DEFAULT, DICT, ACAD, ACAD_DICT, NO_DICT_FILE };

static const struct password_policy profiles[] = {
    [DEFAULT] = {.min_chars = 12, .max_bytes = 1024},
    [DICT] = {.min_chars = 12, .max_bytes = 1024, .dictionary = true},
    [ACAD] = {.min_chars = 8, .max_bytes = 1024, .classes = true},
    [ACAD_DICT] = {.min_chars = 8, .max_bytes = 1024, .classes = true, .dictionary = true},
    [NO_DICT_FILE] = {.min_chars = 12,
                      .max_bytes = 1024,
                      .dictionary = true,
                      .dict_path = "/nonexistent/cracklib_dict"},
};

static const struct password_context dupont = {
    .identifiant = "jdupont",
    .first = "Jean",
    .last = "Dupont",
    .numen = "12E3456789ABC",
    .birth = "1980-04-12",
    .organisation = "Académie de Versailles",
};
static const struct password_context lea = {.first = "Léa", .last = "Ng", .birth = "bad"};

struct policy_row {
	enum profile profile;
	const struct password_context *ctx;
	const char *pw;
	size_t len;     /* 0: strlen(pw) */
	unsigned times; /* pw repeated, then tail; 0 means once */
	const char *tail;
	const char *old;
	enum proto_reason want;
};

#define E "\xc3\xa9"         /* é, 2 bytes */
#define E_DECOMP "e\xcc\x81" /* e + combining acute: NFKC makes it é */
#define FI "\xef\xac\x81"    /* ﬁ ligature: NFKC makes it "fi" */

static const struct policy_row policy_rows[] = {
    /* length in code points after NFKC */
    {DEFAULT, NULL, "abcdefghijk", 0, 0, NULL, NULL, REASON_TOO_SHORT},
    {DEFAULT, NULL, "abcdefghijkl", 0, 0, NULL, NULL, REASON_NONE},
    {DEFAULT, NULL, E, 0, 11, NULL, NULL, REASON_TOO_SHORT},
    {DEFAULT, NULL, E, 0, 12, NULL, NULL, REASON_NONE},
    {DEFAULT, NULL, E_DECOMP, 0, 11, NULL, NULL, REASON_TOO_SHORT},
    {DEFAULT, NULL, E_DECOMP, 0, 12, NULL, NULL, REASON_NONE},
    {DEFAULT, NULL, FI, 0, 6, NULL, NULL, REASON_NONE},
    {DEFAULT, NULL, FI, 0, 5, "a", NULL, REASON_TOO_SHORT},
    {DEFAULT, NULL, "\xef\xbd\x81", 0, 11, NULL, NULL, REASON_TOO_SHORT}, /* fullwidth a */
    {DEFAULT, NULL, "", 0, 0, NULL, NULL, REASON_TOO_SHORT},
    /* length in bytes */
    {DEFAULT, NULL, "abcdefgh", 0, 128, NULL, NULL, REASON_NONE},
    {DEFAULT, NULL, "abcdefgh", 0, 128, "x", NULL, REASON_TOO_LONG},
    {DEFAULT, NULL, E, 0, 512, NULL, NULL, REASON_NONE},
    {DEFAULT, NULL, E, 0, 512, "a", NULL, REASON_TOO_LONG},
    {DEFAULT, NULL, E, 0, 2048, NULL, NULL, REASON_TOO_LONG},
    /* UTF-8 validity comes first */
    {DEFAULT, NULL,
     "\xff\xfe"
     "abcdefghijkl",
     0, 0, NULL, NULL, REASON_NOT_UTF8},
    {DEFAULT, NULL, "abcdefghijkl\xc3", 0, 0, NULL, NULL, REASON_NOT_UTF8},
    {DEFAULT, NULL, "abcdef\xc0\xafghijkl", 0, 0, NULL, NULL, REASON_NOT_UTF8},
    {DEFAULT, NULL, "abcdef\xed\xa0\x80ghijkl", 0, 0, NULL, NULL, REASON_NOT_UTF8},
    {DEFAULT, NULL, "abcdefgh\0ijklmn", 15, 0, NULL, NULL, REASON_NOT_UTF8},
    {DEFAULT, NULL, "abc", 0, 0, "\xff", NULL, REASON_NOT_UTF8},
    {DEFAULT, NULL, "abcdefgh", 0, 200, "\xff", NULL, REASON_NOT_UTF8},
    /* the académie profile: 8+ with every class */
    {ACAD, NULL, "Abcdef1!", 0, 0, NULL, NULL, REASON_NONE},
    {ACAD, NULL, "Abcde1!", 0, 0, NULL, NULL, REASON_TOO_SHORT},
    {ACAD, NULL, "Abcdefg1", 0, 0, NULL, NULL, REASON_CHARACTER_CLASSES},
    {ACAD, NULL, "abcdef1!", 0, 0, NULL, NULL, REASON_CHARACTER_CLASSES},
    {ACAD, NULL, "ABCDEF1!", 0, 0, NULL, NULL, REASON_CHARACTER_CLASSES},
    {ACAD, NULL, "Abcdefg!", 0, 0, NULL, NULL, REASON_CHARACTER_CLASSES},
    {ACAD, NULL, "Abcdef1 ", 0, 0, NULL, NULL, REASON_NONE},
    {ACAD, NULL,
     "\xc3\x89"
     "bcdef1!",
     0, 0, NULL, NULL, REASON_NONE},                                       /* É */
    {ACAD, NULL, "ABCDEF1" E, 0, 0, NULL, NULL, REASON_CHARACTER_CLASSES}, /* é: no special */
    {ACAD, NULL, "ABCDE1!" E, 0, 0, NULL, NULL, REASON_NONE},              /* é is lower */
    {ACAD, NULL, "Ab1\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x96\x87\xe5\xad\x97", 0, 0, NULL,
     NULL, /* 日本語文字 */
     REASON_CHARACTER_CLASSES},
    {ACAD, NULL,
     "\xef\xbc\xa1"
     "bcdef1\xef\xbc\x81",
     0, 0, NULL, NULL, REASON_NONE}, /* Ａ ！ */
    {ACAD_DICT, NULL, "Password1!", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {ACAD_DICT, NULL, "Velo-Rouge-42", 0, 0, NULL, NULL, REASON_NONE},
    /* reuse, compared after NFKC */
    {DEFAULT, NULL, STRONG, 0, 0, NULL, STRONG, REASON_REUSED},
    {DEFAULT, NULL, STRONG, 0, 0, NULL, STRONG "!", REASON_NONE},
    {DEFAULT, NULL, "\xc3\x89t\xc3\xa9-Rouge-Matin", 0, 0, NULL, "E\xcc\x81te\xcc\x81-Rouge-Matin",
     REASON_REUSED},
    {DEFAULT, &dupont, "jdupont-velo-rouge", 0, 0, NULL, "jdupont-velo-rouge", REASON_REUSED},
    /* context words */
    {DEFAULT, &dupont, STRONG, 0, 0, NULL, NULL, REASON_NONE},
    {DEFAULT, &dupont, "jdupont-velo-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "JDupont!velo-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "J.Dupont-velo-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-DUPONT-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-D\xc3\xbap\xc3\xb4nt-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-Jean-rouge-42", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-12041980-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-19800412-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-1980-04-12-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-12/04/1980-rouge", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-1980-rouge-matin", 0, 0, NULL, NULL, REASON_NONE},
    {DEFAULT, &dupont, "velo-12e3456789abc-x", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-rouge-versailles", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-rouge-ACADEMIE", 0, 0, NULL, NULL, REASON_CONTEXT},
    {DEFAULT, &dupont, "velo-de-rouge-matin", 0, 0, NULL, NULL, REASON_NONE},
    {DEFAULT, &lea, "velo-lea-ng-rouge", 0, 0, NULL, NULL, REASON_NONE},
    {DICT, &dupont, "jdupont12345678", 0, 0, NULL, NULL, REASON_CONTEXT},
    /* the dictionary of common passwords */
    {DICT, NULL, STRONG, 0, 0, NULL, NULL, REASON_NONE},
    {DICT, NULL, "correct horse battery staple", 0, 0, NULL, NULL, REASON_NONE},
    {DICT, NULL, "password12345", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, "azertyuiop123", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, "P@ssw0rd2024!", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, "MotDePasse123", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, "2024!Soleil!!", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, "abcdefgh1234", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, "123456789012", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, "aaaaaaaaaaaa", 0, 0, NULL, NULL, REASON_DICTIONARY},
    {DICT, NULL, E, 0, 12, NULL, NULL, REASON_DICTIONARY},
    {DEFAULT, NULL, "password12345", 0, 0, NULL, NULL, REASON_NONE},
    {NO_DICT_FILE, NULL, STRONG, 0, 0, NULL, NULL, REASON_TEMPFAIL},
};

static char *row_password(const struct policy_row *row, size_t *len_r)
{
	size_t one = row->len ? row->len : strlen(row->pw);
	size_t times = row->times ? row->times : 1;
	size_t tail = row->tail ? strlen(row->tail) : 0;
	char *pw = malloc(one * times + tail + 1);

	assert_non_null(pw);
	for (size_t i = 0; i < times; i++)
		memcpy(pw + i * one, row->pw, one);
	memcpy(pw + one * times, row->tail ? row->tail : "", tail + 1);
	*len_r = one * times + tail;
	return pw;
}

static void test_policy_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(policy_rows) / sizeof(policy_rows[0]); i++) {
		const struct policy_row *row = &policy_rows[i];
		char detail[256] = "unset";
		size_t len;
		char *pw = row_password(row, &len);
		enum proto_reason got = password_check_policy(
		    &profiles[row->profile], row->ctx, pw, len, row->old, detail, sizeof(detail));

		if (got != row->want)
			fail_msg("row %zu (%.40s): got %s, want %s", i, pw, proto_reason_name(got),
			         proto_reason_name(row->want));
		/* A sentence for every refusal, nothing for a success, never the password. */
		if (row->want == REASON_NONE)
			assert_string_equal(detail, "");
		else
			assert_true(strlen(detail) > 20 &&
			            (len == 0 || strstr(detail, pw) == NULL));
		free(pw);
	}
}

static void test_policy_detail(void **state)
{
	const struct password_policy p = {.min_chars = 14, .max_bytes = 64};
	char detail[128], tiny[8];

	(void)state;
	assert_int_equal(password_check_policy(&p, NULL, "abc", 3, NULL, detail, sizeof(detail)),
	                 REASON_TOO_SHORT);
	assert_string_equal(detail, "Le mot de passe doit contenir au moins 14 caractères.");
	assert_int_equal(password_check_policy(&p, NULL, STRONG STRONG STRONG STRONG, 76, NULL,
	                                       detail, sizeof(detail)),
	                 REASON_TOO_LONG);
	assert_string_equal(detail, "Le mot de passe ne doit pas dépasser 64 octets.");
	assert_int_equal(password_check_policy(&p, NULL, "abc", 3, NULL, tiny, sizeof(tiny)),
	                 REASON_TOO_SHORT);
	assert_int_equal(strlen(tiny), 7);
	assert_int_equal(password_check_policy(&p, NULL, "abc", 3, NULL, NULL, 0),
	                 REASON_TOO_SHORT);
}

static void test_dictionary_check(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(password_dictionary_check(NULL, err, sizeof(err)), 0);
	assert_int_equal(
	    password_dictionary_check("/var/cache/cracklib/cracklib_dict", err, sizeof(err)), 0);
	assert_int_equal(password_dictionary_check("/nonexistent/dict", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dict.pwd: "));
}

static void test_normalize(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want; /* NULL: refused */
	} rows[] = {
	    {"", 0, ""},
	    {"abc", 3, "abc"},
	    {FI, 3, "fi"},
	    {"\xef\xbc\xa1\xef\xbd\x82", 6, "Ab"},
	    {E_DECOMP, 3, E},
	    {"\xe2\x84\xab", 3, "\xc3\x85"}, /* Å angstrom sign */
	    {"a\0b", 3, NULL},
	    {"\xc3", 1, NULL},
	    {"\xf4\x90\x80\x80", 4, NULL}, /* above U+10FFFF */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *out = (char *)1;
		size_t n = 99;
		int r = password_normalize(rows[i].in, rows[i].len, &out, &n);

		if (rows[i].want == NULL) {
			assert_int_equal(r, -1);
			assert_null(out);
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(out, rows[i].want);
		assert_int_equal(n, strlen(rows[i].want));
		free(out);
	}
}

/* ---- hashing ---- */

static void test_hasher_params(void **state)
{
	static const struct argon2_params bad[] = {
	    {.m_kib = 7, .t = 1, .p = 1},
	    {.m_kib = 1024, .t = 0, .p = 1},
	    {.m_kib = 1024, .t = 1, .p = 0},
	    {.m_kib = 15, .t = 1, .p = 2},
	};
	struct password_hasher *h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(password_hasher_new(&bad[i]));
	h = password_hasher_new(&(struct argon2_params){.m_kib = 8, .t = 1, .p = 1});
	assert_non_null(h);
	password_hasher_free(h);
	password_hasher_free(NULL);
}

static void test_hash_round_trip(void **state)
{
	static const char prefix[] = "$argon2id$v=19$m=1024,t=1,p=1$";
	struct password_hasher *h = password_hasher_new(&small);
	struct crypto_keys k;
	char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
	uint8_t pre[CRYPTO_HMAC_LEN];
	bool rehash = true;

	(void)state;
	fixed_keys(&k);
	assert_int_equal(password_hash(h, &k, STRONG, strlen(STRONG), a), 0);
	assert_int_equal(password_hash(h, &k, STRONG, strlen(STRONG), b), 0);
	assert_string_not_equal(a, b);
	assert_memory_equal(a, prefix, strlen(prefix));
	/* 22 characters of salt, '$', 43 of hash: no padding. */
	assert_int_equal(strlen(a), strlen(prefix) + 22 + 1 + 43);
	assert_null(strchr(a + strlen(prefix), '='));
	assert_int_equal(password_verify(h, &k, STRONG, strlen(STRONG), a, &rehash),
	                 PASSWORD_MATCH);
	assert_false(rehash);
	assert_int_equal(password_verify(h, &k, STRONG "x", strlen(STRONG) + 1, a, &rehash),
	                 PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, &k, "", 0, a, &rehash), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, &k, "\xff", 1, a, &rehash), PASSWORD_MISMATCH);
	/* libargon2 itself reads our string, over HMAC(pepper, "password", pw). */
	crypto_hmac(&k, "password", STRONG, strlen(STRONG), pre);
	assert_int_equal(argon2id_verify(a, pre, sizeof(pre)), ARGON2_OK);
	/* Another pepper, another hash. */
	k.pepper[0] ^= 1;
	assert_int_equal(password_verify(h, &k, STRONG, strlen(STRONG), a, &rehash),
	                 PASSWORD_MISMATCH);
	password_hasher_free(h);
}

/* A string libargon2 wrote (16-byte hash, 8-byte salt) is read back by our parser. */
static void test_hash_foreign_phc(void **state)
{
	struct password_hasher *h = password_hasher_new(&small);
	struct crypto_keys k;
	uint8_t pre[CRYPTO_HMAC_LEN];
	char enc[PASSWORD_HASH_MAX];
	bool rehash;

	(void)state;
	fixed_keys(&k);
	crypto_hmac(&k, "password", "hunter2-hunter2", 15, pre);
	assert_int_equal(argon2id_hash_encoded(2, 1024, 1, pre, sizeof(pre), "saltsalt", 8, 16, enc,
	                                       sizeof(enc)),
	                 ARGON2_OK);
	assert_int_equal(password_verify(h, &k, "hunter2-hunter2", 15, enc, &rehash),
	                 PASSWORD_MATCH);
	assert_false(rehash);
	assert_int_equal(password_verify(h, &k, "hunter2-hunter3", 15, enc, &rehash),
	                 PASSWORD_MISMATCH);
	password_hasher_free(h);
}

static void test_hash_nfkc(void **state)
{
	static const struct {
		const char *a, *b;
	} rows[] = {
	    {"\xc3\x89t\xc3\xa9-velo-rouge", "E\xcc\x81te\xcc\x81-velo-rouge"},
	    {"velo-rouge-matin", "\xef\xbd\x96\xef\xbd\x85\xef\xbd\x8c\xef\xbd\x8f-rouge-matin"},
	    {"fin-de-velo-rouge", FI "n-de-velo-rouge"},
	};
	struct password_hasher *h = password_hasher_new(&small);
	struct crypto_keys k;
	char stored[PASSWORD_HASH_MAX];
	bool rehash;

	(void)state;
	fixed_keys(&k);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(password_hash(h, &k, rows[i].a, strlen(rows[i].a), stored), 0);
		assert_int_equal(
		    password_verify(h, &k, rows[i].b, strlen(rows[i].b), stored, &rehash),
		    PASSWORD_MATCH);
	}
	assert_int_equal(password_hash(h, &k, "a\xff", 2, stored), -1);
	assert_int_equal(password_hash(h, &k, "a\0b", 3, stored), -1);
	password_hasher_free(h);
}

static void test_hash_lengths(void **state)
{
	struct password_hasher *h = password_hasher_new(&small);
	struct crypto_keys k;
	char stored[PASSWORD_HASH_MAX], *big = malloc(4098);
	bool rehash = true;

	(void)state;
	fixed_keys(&k);
	memset(big, 'a', 4097);
	big[4097] = '\0';
	assert_int_equal(password_hash(h, &k, big, 4096, stored), 0);
	assert_int_equal(password_verify(h, &k, big, 4096, stored, &rehash), PASSWORD_MATCH);
	assert_int_equal(password_hash(h, &k, big, 4097, stored), -1);
	assert_int_equal(password_verify(h, &k, big, 4097, stored, &rehash), PASSWORD_MISMATCH);
	assert_false(rehash);
	password_dummy(h, &k, big, 4097);
	free(big);
	password_hasher_free(h);
}

static void test_rehash(void **state)
{
	static const struct {
		struct argon2_params now;
		bool rehash;
	} rows[] = {
	    {{.m_kib = 1024, .t = 1, .p = 1}, false},
	    {{.m_kib = 2048, .t = 1, .p = 1}, true},
	    {{.m_kib = 1024, .t = 2, .p = 1}, true},
	    {{.m_kib = 1024, .t = 1, .p = 2}, true},
	    /* Stored above the hasher's memory: verified in a temporary area. */
	    {{.m_kib = 512, .t = 1, .p = 1}, false},
	};
	struct password_hasher *old = password_hasher_new(&small);
	struct crypto_keys k;
	char stored[PASSWORD_HASH_MAX];

	(void)state;
	fixed_keys(&k);
	assert_int_equal(password_hash(old, &k, STRONG, strlen(STRONG), stored), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct password_hasher *h = password_hasher_new(&rows[i].now);
		bool rehash = !rows[i].rehash;

		assert_int_equal(password_verify(h, &k, STRONG, strlen(STRONG), stored, &rehash),
		                 PASSWORD_MATCH);
		assert_int_equal(rehash, rows[i].rehash);
		assert_int_equal(password_verify(h, &k, "wrong", 5, stored, &rehash),
		                 PASSWORD_MISMATCH);
		password_hasher_free(h);
	}
	password_hasher_free(old);
}

static void test_hmac_form(void **state)
{
	struct password_hasher *h = password_hasher_new(&small);
	struct crypto_keys k;
	char stored[PASSWORD_HASH_MAX], bad[PASSWORD_HASH_MAX];
	bool rehash = true;

	(void)state;
	fixed_keys(&k);
	password_hmac_hash(&k, "k3xq7mzr8wpt2vnd", 16, stored);
	assert_int_equal(strlen(stored), 6 + 64);
	assert_memory_equal(stored, "$hmac$", 6);
	assert_int_equal(password_verify(h, &k, "k3xq7mzr8wpt2vnd", 16, stored, &rehash),
	                 PASSWORD_MATCH);
	assert_false(rehash);
	assert_int_equal(password_verify(h, &k, "k3xq7mzr8wpt2vne", 16, stored, &rehash),
	                 PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, &k, "k3xq7mzr8wpt2vnd", 15, stored, &rehash),
	                 PASSWORD_MISMATCH);
	/* Not normalized: a generated secret is bytes. */
	password_hmac_hash(&k, E, 2, stored);
	assert_int_equal(password_verify(h, &k, E_DECOMP, 3, stored, &rehash), PASSWORD_MISMATCH);
	snprintf(bad, sizeof(bad), "%.69s", stored);
	assert_int_equal(password_verify(h, &k, E, 2, bad, &rehash), PASSWORD_ERROR);
	snprintf(bad, sizeof(bad), "%.200s0", stored);
	assert_int_equal(password_verify(h, &k, E, 2, bad, &rehash), PASSWORD_ERROR);
	snprintf(bad, sizeof(bad), "$hmac$%064d", 0);
	bad[10] = 'A';
	assert_int_equal(password_verify(h, &k, E, 2, bad, &rehash), PASSWORD_ERROR);
	password_hasher_free(h);
}

static void test_crypt_forms(void **state)
{
	static const struct {
		const char *prefix;
		unsigned long count;
	} rows[] = {{"$6$", 1000}, {"$y$", 0}, {"$2b$", 4}};
	struct password_hasher *h = password_hasher_new(&small);
	struct crypto_keys k;
	struct crypt_data *cd = calloc(1, sizeof(*cd));

	(void)state;
	fixed_keys(&k);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char setting[CRYPT_GENSALT_OUTPUT_SIZE], stored[PASSWORD_HASH_MAX];
		bool rehash = false;

		assert_non_null(crypt_gensalt_rn(rows[i].prefix, rows[i].count, NULL, 0, setting,
		                                 sizeof(setting)));
		assert_non_null(crypt_rn(STRONG, setting, cd, sizeof(*cd)));
		assert_true(strlen(cd->output) < sizeof(stored));
		memcpy(stored, cd->output, strlen(cd->output) + 1);
		assert_memory_equal(stored, rows[i].prefix, strlen(rows[i].prefix));
		assert_int_equal(password_verify(h, &k, STRONG, strlen(STRONG), stored, &rehash),
		                 PASSWORD_MATCH);
		assert_true(rehash);
		rehash = false;
		assert_int_equal(password_verify(h, &k, "Velo-Rouge-Matin-43", 19, stored, &rehash),
		                 PASSWORD_MISMATCH);
		assert_true(rehash);
		assert_int_equal(password_verify(h, &k, "Velo\0Rouge", 10, stored, &rehash),
		                 PASSWORD_MISMATCH);
	}
	free(cd);
	password_hasher_free(h);
}

static void test_malformed_stored(void **state)
{
	static const char salt[] = "c2FsdHNhbHRzYWx0c2FsdA";                      /* 16 bytes */
	static const char hash[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY"; /* 32 */
	char rows[][PASSWORD_HASH_MAX] = {
	    "",
	    "plain",
	    "$argon2id$",
	    "$argon2i$v=19$m=1024,t=1,p=1$%s$%s",
	    "$argon2id$v=16$m=1024,t=1,p=1$%s$%s",
	    "$argon2id$m=1024,t=1,p=1$%s$%s",
	    "$argon2id$v=19$m=1024,t=1,p=1$%s",
	    "$argon2id$v=19$m=1024,t=1,p=1$%s$",
	    "$argon2id$v=19$m=1024,t=1,p=1$$%s",
	    "$argon2id$v=19$m=01024,t=1,p=1$%s$%s",
	    "$argon2id$v=19$m=99999999999,t=1,p=1$%s$%s",
	    "$argon2id$v=19$m=4194305,t=1,p=1$%s$%s",
	    "$argon2id$v=19$m=1024,t=0,p=1$%s$%s",
	    "$argon2id$v=19$m=1024,t=1,p=0$%s$%s",
	    "$argon2id$v=19$m=7,t=1,p=1$%s$%s",
	    "$argon2id$v=19$m=1024,t=1$%s$%s",
	    "$argon2id$v=19$t=1,m=1024,p=1$%s$%s",
	    "$argon2id$v=19$m=1024,t=1,p=1,x=1$%s$%s",
	    "$argon2id$v=19$m=+1024,t=1,p=1$%s$%s",
	    "$argon2id$v=19$m= 1024,t=1,p=1$%s$%s",
	    "$argon2id$v=19$m=1024,t=1,p=1$%s$%s$",
	    "$argon2id$v=19$m=1024,t=1,p=1$%s$%s=",
	    "$argon2id$v=19$m=1024,t=1,p=1$%s$%s ",
	    "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$%s",      /* 4-byte salt */
	    "$argon2id$v=19$m=1024,t=1,p=1$%s$QUJDREVGR0g", /* 8-byte hash */
	    "$argon2id$v=19$m=1024,t=1,p=1$c2Fsd!Nhb$%s",
	    "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzY$%s", /* length % 4 == 1 */
	    "$hmac$",
	    "$5$rounds=1000$salt$hash",
	    "$1$salt$hash",
	    "$2b$99$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    "$6$",
	};
	struct password_hasher *h = password_hasher_new(&small);
	struct crypto_keys k;
	char stored[PASSWORD_HASH_MAX + 64];
	bool rehash;

	(void)state;
	fixed_keys(&k);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(stored, sizeof(stored), rows[i], strstr(rows[i], "%s$%s") ? salt : hash,
		         hash);
		if (password_verify(h, &k, STRONG, strlen(STRONG), stored, &rehash) !=
		    PASSWORD_ERROR)
			fail_msg("row %zu: \"%s\" accepted", i, stored);
	}
	/* The same template, well formed, parses (and mismatches). */
	snprintf(stored, sizeof(stored), "$argon2id$v=19$m=1024,t=1,p=1$%s$%s", salt, hash);
	assert_int_equal(password_verify(h, &k, STRONG, strlen(STRONG), stored, &rehash),
	                 PASSWORD_MISMATCH);
	memset(stored, 'a', sizeof(stored) - 1);
	stored[sizeof(stored) - 1] = '\0';
	memcpy(stored, "$hmac$", 6);
	assert_int_equal(password_verify(h, &k, STRONG, strlen(STRONG), stored, &rehash),
	                 PASSWORD_ERROR);
	assert_int_equal(password_verify(h, &k, STRONG, strlen(STRONG), NULL, &rehash),
	                 PASSWORD_ERROR);
	password_hasher_free(h);
}

static void test_generate_temp(void **state)
{
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
	char seen[64][PASSWORD_TEMP_LEN + 1];
	unsigned used[256] = {0};

	(void)state;
	for (size_t i = 0; i < 64; i++) {
		assert_int_equal(password_generate_temp(seen[i]), 0);
		assert_int_equal(strlen(seen[i]), PASSWORD_TEMP_LEN);
		assert_int_equal(strspn(seen[i], alphabet), PASSWORD_TEMP_LEN);
		for (size_t j = 0; j < PASSWORD_TEMP_LEN; j++)
			used[(unsigned char)seen[i][j]]++;
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
	/* 1024 draws over 32 letters: each letter shows up (miss chance ~1e-13). */
	for (size_t i = 0; i < 32; i++)
		assert_true(used[(unsigned char)alphabet[i]] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_table),     cmocka_unit_test(test_policy_detail),
	    cmocka_unit_test(test_dictionary_check), cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_hasher_params),    cmocka_unit_test(test_hash_round_trip),
	    cmocka_unit_test(test_hash_foreign_phc), cmocka_unit_test(test_hash_nfkc),
	    cmocka_unit_test(test_hash_lengths),     cmocka_unit_test(test_rehash),
	    cmocka_unit_test(test_hmac_form),        cmocka_unit_test(test_crypt_forms),
	    cmocka_unit_test(test_malformed_stored), cmocka_unit_test(test_generate_temp),
	};

	return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
