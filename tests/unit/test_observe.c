/* observe.c: the parts of the fail2ban line, and the credential kind by shape. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "credential.h"
#include "observe.h"

static void test_address(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"192.0.2.1", "192.0.2.1"},
	    {"2001:db8::7", "2001:db8::7"},
	    {"::1", "::1"},
	    {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
	    {NULL, "-"},
	    {"", "-"},
	    {"evil.example", "-"},
	    {"192.0.2.1 address=203.0.113.9", "-"},
	    {"192.0.2.1\n", "-"},
	    {"256.0.0.1", "-"},
	    {"1.2.3.4.5", "-"},
	    {"fe80::1%eth0", "-"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		observe_address(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	/* too long for the buffer: "-", never a cut address */
	observe_address("2001:db8:1:2:3:4:5:6", out, 8);
	assert_string_equal(out, "-");
}

static void test_token(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"verdon-imap", "verdon-imap"},
	    {"a.b_c-9", "a.b_c-9"},
	    {NULL, "-"},
	    {"", "-"},
	    {"x address=1.2.3.4", "x_address_1.2.3.4"},
	    {"é", "__"},
	    {"a\tb\nc", "a_b_c"},
	};
	char out[64], small[4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		observe_token(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	observe_token("abcdef", small, sizeof(small));
	assert_string_equal(small, "abc");
}

/* A RADIUS station's address, STATION@NAS: both parts for the line, else nothing. */
static void test_station(void **state)
{
	static const struct {
		const char *in, *nas, *station; /* nas NULL: not a station's address */
	} cases[] = {
	    {"AA-BB-CC-DD-EE-FF@192.0.2.1", "192.0.2.1", "AA-BB-CC-DD-EE-FF"},
	    {"aa:bb:cc:dd:ee:ff@2001:db8::7", "2001:db8::7", "aa:bb:cc:dd:ee:ff"},
	    {"0612345678@::1", "::1", "0612345678"},
	    {"a@b@192.0.2.1", NULL, NULL}, /* '@' is no station byte */
	    {"@192.0.2.1", NULL, NULL},
	    {"st@", NULL, NULL},
	    {"st@evil.example", NULL, NULL},
	    {"st@192.0.2.1 address=203.0.113.9", NULL, NULL},
	    {"st x@192.0.2.1", NULL, NULL},
	    {"st=x@192.0.2.1", NULL, NULL},
	    {"192.0.2.1", NULL, NULL},
	    {"", NULL, NULL},
	    {NULL, NULL, NULL},
	};
	char nas[64], station[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool is = observe_station(cases[i].in, nas, sizeof(nas), station, sizeof(station));

		if (is != (cases[i].nas != NULL))
			fail_msg("'%s': %d", cases[i].in, is);
		if (!is)
			continue;
		assert_string_equal(nas, cases[i].nas);
		assert_string_equal(station, cases[i].station);
	}
	/* a station longer than the buffer is no station: never a cut one */
	assert_false(observe_station("0123456789@192.0.2.1", nas, sizeof(nas), station, 8));
}

static void test_credential(void **state)
{
	char app[APP_PASSWORD_LEN + 1], token[TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(cred_new_app_password(app), 0);
	assert_int_equal(cred_new_token(token), 0);
	assert_string_equal(observe_credential(NULL, NULL), "none");
	assert_string_equal(observe_credential("secret-password", NULL), "password");
	assert_string_equal(observe_credential("secret-password", ""), "password");
	assert_string_equal(observe_credential("secret-password", "123456"), "password_otp");
	assert_string_equal(observe_credential(app, NULL), "app_password");
	assert_string_equal(observe_credential(token, NULL), "session_token");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_address),
	    cmocka_unit_test(test_token),
	    cmocka_unit_test(test_station),
	    cmocka_unit_test(test_credential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
