/* The rescue address's pure parts (rescue.h) and the mailed-code check it shares with reset.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "rescue.h"
#include "reset.h"

#define NOW 1800000000

static void test_mask(void **state)
{
	static const struct {
		const char *email, *want;
	} rows[] = {
	    {"jean@example.org", "j***@e***.org"},
	    {"jean.dupont@gmail.com", "je***@g***.com"},
	    {"a@b.fr", "a***@b***.fr"},
	    {"x@localhost", "x***@l***"},
	    {"élodie.martin@laposte.net", "é***@l***.net"}, /* never half a character */
	    {"no-at-sign", "***"},
	    {"@example.org", "***"},
	    {"jean@example.averyveryverylongtld", "j***@e***"}, /* a long tail is not shown */
	};
	char out[RESCUE_MASK_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rescue_mask(rows[i].email, out);
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("%s: %s, want %s", rows[i].email, out, rows[i].want);
	}
	/* the longest address still fits, and never shows more than its first bytes */
	char long_email[260];
	memset(long_email, 'a', 200);
	snprintf(long_email + 200, sizeof(long_email) - 200, "@%s.fr",
	         "bbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	rescue_mask(long_email, out);
	assert_string_equal(out, "aa***@b***.fr");
}

static void test_duration(void **state)
{
	char out[32];

	(void)state;
	rescue_duration(30, out);
	assert_string_equal(out, "30 secondes");
	rescue_duration(119, out);
	assert_string_equal(out, "119 secondes");
	rescue_duration(900, out);
	assert_string_equal(out, "15 minutes");
	rescue_duration(86400, out);
	assert_string_equal(out, "1440 minutes");
}

static void test_bodies(void **state)
{
	char *code = rescue_body_code("jdupont", "042042", 900, "Académie de Test");
	char *notice = rescue_body_notice("jdupont", "no***@e***.net", "Académie de Test");

	(void)state;
	assert_non_null(code);
	assert_non_null(notice);
	assert_non_null(strstr(code, "Votre code de confirmation : 042042\n"));
	assert_non_null(strstr(code, "valable 15 minutes"));
	assert_non_null(strstr(code, "jdupont"));
	assert_non_null(strstr(code, "ignorez ce message")); /* what to do if it was not you */
	assert_non_null(strstr(notice, "no***@e***.net"));
	assert_non_null(strstr(notice, "assistance"));
	assert_null(strstr(notice, "042042"));
	/* every line fits a mail line */
	for (char *p = code, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		assert_true(nl - p <= 78);
	free(code);
	free(notice);
}

static void test_mailed_code(void **state)
{
	struct crypto_keys keys;
	char hex[2 * CRYPTO_HMAC_LEN + 1], reset_hex[2 * CRYPTO_HMAC_LEN + 1];
	struct mailed_code mc = {hex, NOW + 30, RESCUE_TRIES};

	(void)state;
	memset(&keys, 0, sizeof(keys));
	memset(keys.pepper, 0x22, sizeof(keys.pepper));
	crypto_hmac_hex(&keys, "rescue", "042042", 6, hex);
	crypto_hmac_hex(&keys, "reset", "042042", 6, reset_hex);
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042042", NOW), RESET_CODE_OK);
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042 042", NOW), RESET_CODE_OK);
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042043", NOW), RESET_CODE_WRONG);
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "42042", NOW), RESET_CODE_WRONG);
	/* the last second of its life, then expired */
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042042", NOW + 29),
	                 RESET_CODE_OK);
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042042", NOW + 30),
	                 RESET_CODE_EXPIRED);
	/* a reset code is no rescue code: the domains differ */
	mc.hmac = reset_hex;
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042042", NOW), RESET_CODE_WRONG);
	mc.hmac = hex;
	mc.tries = 0;
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042042", NOW), RESET_CODE_NONE);
	mc.tries = 1;
	hex[0] = '\0'; /* none outstanding: the buffer is still read whole, in constant time */
	assert_int_equal(mailed_code_check(&keys, "rescue", &mc, "042042", NOW), RESET_CODE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mask),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_mailed_code),
	};

	return cmocka_run_group_tests_name("rescue", tests, NULL, NULL);
}
