#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "credential.h"
#include "crypto.h"

#define ALPHABET "0123456789abcdefghjkmnpqrstvwxyz"
#define ROUNDS 1000

static void test_app_password_shape(void **state)
{
	static char seen[ROUNDS][APP_PASSWORD_LEN + 1];
	unsigned counts[256] = {0};

	(void)state;
	for (unsigned i = 0; i < ROUNDS; i++) {
		char *pw = seen[i];

		memset(pw, '!', APP_PASSWORD_LEN + 1);
		assert_int_equal(cred_new_app_password(pw), 0);
		assert_int_equal(strlen(pw), APP_PASSWORD_LEN);
		if (!cred_is_app_password(pw) || cred_is_token(pw))
			fail_msg("generated '%s' is not an app password", pw);
		for (unsigned j = 0; j < APP_PASSWORD_LEN; j++)
			if (j % 5 == 4)
				assert_int_equal(pw[j], '-');
			else
				counts[(unsigned char)pw[j]]++;
		for (unsigned k = 0; k < i; k++)
			if (strcmp(seen[k], pw) == 0)
				fail_msg("app password %u repeats %u: %s", i, k, pw);
	}
	/* 20000 letters: each of the 32 comes (about 625 times), nothing else */
	for (unsigned c = 0; c < 256; c++) {
		bool in = c != 0 && strchr(ALPHABET, (int)c) != NULL;

		if (in ? counts[c] < 400 || counts[c] > 850 : counts[c] != 0)
			fail_msg("letter 0x%02x seen %u times", c, counts[c]);
	}
}

static void test_token_shape(void **state)
{
	static char seen[ROUNDS][TOKEN_LEN + 1];
	unsigned counts[256] = {0};

	(void)state;
	for (unsigned i = 0; i < ROUNDS; i++) {
		char *t = seen[i];

		memset(t, '!', TOKEN_LEN + 1);
		assert_int_equal(cred_new_token(t), 0);
		assert_int_equal(strlen(t), TOKEN_LEN);
		assert_memory_equal(t, "vt-", 3);
		if (!cred_is_token(t) || cred_is_app_password(t))
			fail_msg("generated '%s' is not a token", t);
		for (unsigned j = 3; j < TOKEN_LEN; j++)
			counts[(unsigned char)t[j]]++;
		for (unsigned k = 0; k < i; k++)
			if (strcmp(seen[k], t) == 0)
				fail_msg("token %u repeats %u", i, k);
	}
	/* 32000 letters: about 1000 each */
	for (unsigned c = 0; c < 256; c++) {
		bool in = c != 0 && strchr(ALPHABET, (int)c) != NULL;

		if (in ? counts[c] < 700 || counts[c] > 1300 : counts[c] != 0)
			fail_msg("letter 0x%02x seen %u times", c, counts[c]);
	}
}

struct shape_row {
	const char *s;
	bool app, token;
};

static const struct shape_row shape_rows[] = {
    {"abcd-efgh-jkmn-pqrs-tvwx", true, false},
    {"0123-4567-89ab-cdef-ghjk", true, false},
    {"zzzz-zzzz-zzzz-zzzz-zzzz", true, false},
    {"0000-0000-0000-0000-0000", true, false},
    /* wrong lengths */
    {"abcd-efgh-jkmn-pqrs-tvw", false, false},
    {"abcd-efgh-jkmn-pqrs-tvwxy", false, false},
    {"abcd-efgh-jkmn-pqrs-tvwx-", false, false},
    {"abcd-efgh-jkmn-pqrs", false, false},
    {"abcdefghjkmnpqrstvwx", false, false},
    {"", false, false},
    /* dashes misplaced, missing or doubled */
    {"abcde-fgh-jkmn-pqrs-tvwx", false, false},
    {"abc-defgh-jkmn-pqrs-tvwx", false, false},
    {"abcd-efgh-jkmn-pqrst-vwx", false, false},
    {"abcd-efgh-jkmnp-qrs-tvwx", false, false},
    {"abcdaefgh-jkmn-pqrs-tvwx", false, false},
    {"abcd-efgh-jkmn-pqrsatvwx", false, false},
    {"abcd-efgh-jkmn-pqrs--vwx", false, false},
    {"-bcd-efgh-jkmn-pqrs-tvwx", false, false},
    {"abcd_efgh_jkmn_pqrs_tvwx", false, false},
    {"abcd efgh jkmn pqrs tvwx", false, false},
    /* letters outside the alphabet */
    {"abcd-efgh-jkmn-pqrs-tvwi", false, false},
    {"lbcd-efgh-jkmn-pqrs-tvwx", false, false},
    {"abcd-efgo-jkmn-pqrs-tvwx", false, false},
    {"abcd-efgh-jumn-pqrs-tvwx", false, false},
    {"Abcd-efgh-jkmn-pqrs-tvwx", false, false},
    {"ABCD-EFGH-JKMN-PQRS-TVWX", false, false},
    {"abcd-efgh-jkmn-pqrs-tvw!", false, false},
    {"abcd-efgh-jkmn-pqrs-tvw\xc3", false, false},
    {"abcd-efgh-jkmn-pqr\xc3\xa9-tvwx", false, false},
    /* tokens */
    {"vt-0123456789abcdefghjkmnpqrstvwxyz", false, true},
    {"vt-00000000000000000000000000000000", false, true},
    {"vt-0123456789abcdefghjkmnpqrstvwxy", false, false},
    {"vt-0123456789abcdefghjkmnpqrstvwxyzz", false, false},
    {"0123456789abcdefghjkmnpqrstvwxyz", false, false},
    {"vt0123456789abcdefghjkmnpqrstvwxyzz", false, false},
    {"xt-0123456789abcdefghjkmnpqrstvwxyz", false, false},
    {"VT-0123456789abcdefghjkmnpqrstvwxyz", false, false},
    {"vt_0123456789abcdefghjkmnpqrstvwxyz", false, false},
    {"vt--123456789abcdefghjkmnpqrstvwxyz", false, false},
    {"vt-0123456789abcdefghjkmnpqrstvwxyZ", false, false},
    {"vt-0123456789abcdefghijkmnpqrstvwxy", false, false},
    {"vt-0123456789abcdefghjklmnpqrstvwxy", false, false},
    {"vt-0123456789abcdefghjkmnopqrstvwxy", false, false},
    {"vt-0123456789abcdefghjkmnpqrstuvwxy", false, false},
    {"vt-0123456789abcdefgh kmnpqrstvwxyz", false, false},
    {"vt-", false, false},
    {"vt-abcd-efgh-jkmn-pqrs-tvwx", false, false},
};

static void test_shape_checkers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(shape_rows) / sizeof(shape_rows[0]); i++) {
		const struct shape_row *r = &shape_rows[i];
		bool app = cred_is_app_password(r->s), token = cred_is_token(r->s);

		if (app != r->app || token != r->token)
			fail_msg("'%s': app %d token %d, want %d %d", r->s, app, token, r->app,
			         r->token);
	}
}

/* A NUL inside the shape: the C string ends there, so it is too short. */
static void test_shape_embedded_nul(void **state)
{
	char pw[APP_PASSWORD_LEN + 1] = "abcd-efgh-jkmn-pqrs-tvwx";
	char t[TOKEN_LEN + 1] = "vt-0123456789abcdefghjkmnpqrstvwxyz";

	(void)state;
	pw[7] = '\0';
	t[20] = '\0';
	assert_false(cred_is_app_password(pw));
	assert_false(cred_is_token(t));
}

struct listed_row {
	const char *list, *service;
	bool want;
};

static const struct listed_row listed_rows[] = {
    {"imap,smtp", "imap", true},
    {"imap,smtp", "smtp", true},
    {"imap,smtp", "verdon-imap", true},
    {"imap,smtp", "verdon-smtp", true},
    {"imap,smtp", "imaps", false},
    {"imap,smtp", "ima", false},
    {"imap,smtp", "map", false},
    {"imap,smtp", "smt", false},
    {"imap,smtp", "smtps", false},
    {"imap,smtp", "", false},
    {"imap,smtp", "verdon-", false},
    {"imap,smtp", "verdon-imaps", false},
    {"imap,smtp", "verdonimap", false},
    {"imap,smtp", "xverdon-imap", false},
    {"imap,smtp", "IMAP", false},
    {"imap,smtp", "imap,smtp", false},
    {"imap,smtp", "imap,", false},
    {"imap,smtp", ",smtp", false},
    {"imap,smtp", "webmail", false},
    {"imap", "imap", true},
    {"imap", "verdon-imap", true},
    {"imap", "smtp", false},
    {"imap", "imaps", false},
    {"imap", "", false},
    {"smtp", "smtp", true},
    {"smtp", "imap", false},
    {"", "imap", false},
    {"", "", false},
    {"webmail,imap,smtp", "imap", true},
    {"webmail,imap,smtp", "webmail", true},
    {"webmail,imap,smtp", "mail", false},
    {"sieve", "verdon-sieve", true},
    /* a list may name the PAM service itself */
    {"verdon-imap", "verdon-imap", true},
    {"verdon-imap", "imap", false},
    {"smtp,verdon-imap", "verdon-imap", true},
};

static void test_service_listed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(listed_rows) / sizeof(listed_rows[0]); i++) {
		const struct listed_row *r = &listed_rows[i];
		bool got = cred_service_listed(r->list, r->service);

		if (got != r->want)
			fail_msg("'%s' in '%s': %d, want %d", r->service, r->list, got, r->want);
	}
}

static void fill_keys(struct crypto_keys *k, uint8_t seal)
{
	for (unsigned i = 0; i < CRYPTO_KEY_LEN; i++) {
		k->seal[i] = seal;
		k->pepper[i] = (uint8_t)i;
	}
}

static void test_tag(void **state)
{
	struct crypto_keys k, k2;
	char a[CRED_TAG_LEN + 1], b[CRED_TAG_LEN + 1];

	(void)state;
	fill_keys(&k, 0xaa);
	memset(a, '!', sizeof(a));
	/* HMAC-SHA256(pepper, domain || 0 || secret), as hex: computed with Python's hmac */
	cred_tag(&k, "app", "abcd-efgh-jkmn-pqrs-tvwx", a);
	assert_string_equal(a, "a64d70172132fc87d3669cc58e0c905cc9e331d4c59b09f7353070fa8f70589e");
	cred_tag(&k, "session", "abcd-efgh-jkmn-pqrs-tvwx", a);
	assert_string_equal(a, "b0dbe368becc37beab2997416d4230ae75914bfc9752c61833e0c43f182a7be1");
	cred_tag(&k, "app", "", a);
	assert_string_equal(a, "dbc8f43aedc1896b785c7ec6987938f6e5fc5e92228b98cde0f9e02aed062e88");

	/* the same input, the same tag; any change, another */
	cred_tag(&k, "app", "abcd-efgh-jkmn-pqrs-tvwx", a);
	cred_tag(&k, "app", "abcd-efgh-jkmn-pqrs-tvwx", b);
	assert_string_equal(a, b);
	cred_tag(&k, "app", "abcd-efgh-jkmn-pqrs-tvwy", b);
	assert_string_not_equal(a, b);
	cred_tag(&k, "ap", "pabcd-efgh-jkmn-pqrs-tvwx", b);
	assert_string_not_equal(a, b);
	cred_tag(&k, "app", "abcd-efgh-jkmn-pqrs-tvwx ", b);
	assert_string_not_equal(a, b);
	/* the pepper keys it, the sealing key does not */
	fill_keys(&k2, 0x55);
	cred_tag(&k2, "app", "abcd-efgh-jkmn-pqrs-tvwx", b);
	assert_string_equal(a, b);
	k2.pepper[31] ^= 1;
	cred_tag(&k2, "app", "abcd-efgh-jkmn-pqrs-tvwx", b);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(b), CRED_TAG_LEN);
	assert_int_equal(strspn(b, "0123456789abcdef"), CRED_TAG_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_app_password_shape), cmocka_unit_test(test_token_shape),
	    cmocka_unit_test(test_shape_checkers),     cmocka_unit_test(test_shape_embedded_nul),
	    cmocka_unit_test(test_service_listed),     cmocka_unit_test(test_tag),
	};

	return cmocka_run_group_tests_name("credential", tests, NULL, NULL);
}
