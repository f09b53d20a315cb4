/* [service NAME] sections: credentials, lookups, built-in policies, RADIUS reply attributes. */
#include "config_util.h"

static void test_service_credentials(void **state)
{
	static const struct {
		const char *value;
		unsigned want;
	} rows[] = {
	    {"password_otp", CRED_PASSWORD_OTP},
	    {"appended_otp", CRED_APPENDED_OTP},
	    {"app_password", CRED_APP_PASSWORD},
	    {"session_token", CRED_SESSION_TOKEN},
	    {"password", CRED_PASSWORD},
	    {"app_password, session_token", CRED_APP_PASSWORD | CRED_SESSION_TOKEN},
	    {"app_password,session_token,appended_otp",
	     CRED_APP_PASSWORD | CRED_SESSION_TOKEN | CRED_APPENDED_OTP},
	    {"password_otp ,\tpassword", CRED_PASSWORD_OTP | CRED_PASSWORD},
	    {"password, password", CRED_PASSWORD},
	    {",app_password,", CRED_APP_PASSWORD},
	    {"password_otp, appended_otp, app_password, session_token, password", 31},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[1024];
		const struct service_policy *p;
		struct config *c;

		snprintf(text, sizeof(text), MINIMAL "[service pop3]\ncredentials = %s\n",
		         rows[i].value);
		c = load_ok(text);
		assert_int_equal(c->nservices, 1);
		assert_string_equal(c->services[0].name, "pop3");
		p = config_service(c, "pop3");
		assert_ptr_equal(p, &c->services[0]);
		if (p->credentials != rows[i].want || p->issue_tokens)
			fail_msg("'%s': credentials %#x tokens %d, want %#x", rows[i].value,
			         p->credentials, p->issue_tokens, rows[i].want);
		config_free(c);
	}
}

static void test_service_sections(void **state)
{
	struct config *c = load_ok(MINIMAL "[service imap]\n"
	                                   "credentials = password\n"
	                                   "[service webmail]\n"
	                                   "issue_tokens = no\n"
	                                   "[service sieve]\n"
	                                   "issue_tokens = yes\n"
	                                   "[service imap]\n"
	                                   "issue_tokens = on\n"
	                                   "credentials = app_password\n"
	                                   "[service verdon-smtp]\n"
	                                   "credentials = session_token\n"
	                                   "[service mail.example-2_b]\n"
	                                   "credentials = password\n");
	const struct service_policy *p;

	(void)state;
	/* a section met twice is one service: its later keys win */
	assert_int_equal(c->nservices, 5);
	p = config_service(c, "imap");
	assert_string_equal(p->name, "imap");
	assert_int_equal(p->credentials, CRED_APP_PASSWORD);
	assert_true(p->issue_tokens);
	assert_ptr_equal(config_service(c, "verdon-imap"), p);
	/* a section without credentials: password + code, whatever the built-in says */
	p = config_service(c, "webmail");
	assert_int_equal(p->credentials, CRED_PASSWORD_OTP);
	assert_false(p->issue_tokens);
	p = config_service(c, "sieve");
	assert_int_equal(p->credentials, CRED_PASSWORD_OTP);
	assert_true(p->issue_tokens);
	/* a section named as the PAM service is found by that name only */
	p = config_service(c, "verdon-smtp");
	assert_string_equal(p->name, "verdon-smtp");
	assert_int_equal(p->credentials, CRED_SESSION_TOKEN);
	p = config_service(c, "smtp");
	assert_string_equal(p->name, "smtp");
	assert_int_equal(p->credentials,
	                 CRED_APP_PASSWORD | CRED_SESSION_TOKEN | CRED_APPENDED_OTP);
	assert_int_equal(config_service(c, "mail.example-2_b")->credentials, CRED_PASSWORD);
	config_free(c);
}

static void test_service_exact_first(void **state)
{
	struct config *c = load_ok(MINIMAL "[service imap]\n"
	                                   "credentials = password\n"
	                                   "[service verdon-imap]\n"
	                                   "credentials = app_password\n");

	(void)state;
	assert_int_equal(config_service(c, "verdon-imap")->credentials, CRED_APP_PASSWORD);
	assert_int_equal(config_service(c, "imap")->credentials, CRED_PASSWORD);
	/* the prefix is taken off once, and only at the start */
	assert_int_equal(config_service(c, "verdon-verdon-imap")->credentials, CRED_APP_PASSWORD);
	assert_int_equal(config_service(c, "x-verdon-imap")->credentials, CRED_PASSWORD_OTP);
	assert_int_equal(config_service(c, "verdonimap")->credentials, CRED_PASSWORD_OTP);
	assert_int_equal(config_service(c, "IMAP")->credentials, CRED_PASSWORD_OTP);
	config_free(c);
}

struct lookup_row {
	const char *name;
	unsigned credentials;
	bool issue_tokens;
};

#define MAILBOX (CRED_APP_PASSWORD | CRED_SESSION_TOKEN | CRED_APPENDED_OTP)

static void check_lookups(const struct config *c, const struct lookup_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct service_policy *p = config_service(c, rows[i].name);

		assert_non_null(p);
		if (p->credentials != rows[i].credentials ||
		    p->issue_tokens != rows[i].issue_tokens)
			fail_msg("'%s': credentials %#x tokens %d, want %#x %d", rows[i].name,
			         p->credentials, p->issue_tokens, rows[i].credentials,
			         rows[i].issue_tokens);
	}
}

static void test_service_builtins(void **state)
{
	static const struct lookup_row rows[] = {
	    {"imap", MAILBOX, false},
	    {"verdon-imap", MAILBOX, false},
	    {"smtp", MAILBOX, false},
	    {"verdon-smtp", MAILBOX, false},
	    {"webmail", CRED_PASSWORD_OTP, true},
	    {"verdon-webmail", CRED_PASSWORD_OTP, true},
	    /* unknown names: the safe default, password + code, no token */
	    {"pop3", CRED_PASSWORD_OTP, false},
	    {"imaps", CRED_PASSWORD_OTP, false},
	    {"ima", CRED_PASSWORD_OTP, false},
	    {"sshd", CRED_PASSWORD_OTP, false},
	    {"default", CRED_PASSWORD_OTP, false},
	    {"verdon-", CRED_PASSWORD_OTP, false},
	    {"", CRED_PASSWORD_OTP, false},
	    {"Imap", CRED_PASSWORD_OTP, false},
	};
	struct config *c = load_ok(MINIMAL);

	(void)state;
	check_lookups(c, rows, sizeof(rows) / sizeof(rows[0]));
	config_free(c);
}

static void test_service_default_section(void **state)
{
	static const struct lookup_row rows[] = {
	    {"pop3", CRED_PASSWORD | CRED_APP_PASSWORD, false},
	    {"verdon-pop3", CRED_PASSWORD | CRED_APP_PASSWORD, false},
	    {"sshd", CRED_PASSWORD | CRED_APP_PASSWORD, false},
	    {"", CRED_PASSWORD | CRED_APP_PASSWORD, false},
	    {"default", CRED_PASSWORD | CRED_APP_PASSWORD, false},
	    {"verdon-default", CRED_PASSWORD | CRED_APP_PASSWORD, false},
	    /* the built-ins still come first */
	    {"imap", MAILBOX, false},
	    {"verdon-smtp", MAILBOX, false},
	    {"webmail", CRED_PASSWORD_OTP, true},
	    /* and configured sections before them */
	    {"sieve", CRED_SESSION_TOKEN, true},
	};
	struct config *c = load_ok(MINIMAL "[service default]\n"
	                                   "credentials = password, app_password\n"
	                                   "[service sieve]\n"
	                                   "credentials = session_token\n"
	                                   "issue_tokens = yes\n");

	(void)state;
	check_lookups(c, rows, sizeof(rows) / sizeof(rows[0]));
	config_free(c);
}

static void test_service_count(void **state)
{
	char text[4096], want[256];
	size_t len;
	struct config *c;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), "%s", MINIMAL);
	for (unsigned i = 0; i < SERVICES_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		                        "[service s%u]\ncredentials = password\n", i);
	c = load_ok(text);
	assert_int_equal(c->nservices, SERVICES_MAX);
	assert_int_equal(config_service(c, "s31")->credentials, CRED_PASSWORD);
	assert_int_equal(config_service(c, "s32")->credentials, CRED_PASSWORD_OTP);
	config_free(c);
	/* one section too many, at its first key (line 6 + 2 * 32 + 2) */
	snprintf(text + len, sizeof(text) - len, "[service s32]\ncredentials = password\n");
	snprintf(want, sizeof(want), ":%d: [service s32]: " SERVICE_NAME_MSG, 6 + 2 * 32 + 2);
	load_fails(text, want);
	/* a section met again is no new one */
	snprintf(text + len, sizeof(text) - len, "[service s0]\nissue_tokens = yes\n");
	c = load_ok(text);
	assert_int_equal(c->nservices, SERVICES_MAX);
	assert_true(config_service(c, "s0")->issue_tokens);
	config_free(c);
}

/* radius_* keys of a [service NAME]; a [radius.client NAME] overrides each key it sets. */
static void test_radius_reply(void **state)
{
	static const char base[] = MINIMAL "[service radius-vpn]\n"
	                                   "radius_reply_message = Bienvenue sur le VPN\n"
	                                   "radius_class = vpn-service\n"
	                                   "radius_session_timeout = 7200\n"
	                                   "[service default]\n"
	                                   "radius_class = by-default\n"
	                                   "[radius.client plain]\n"
	                                   "tls_name = plain.test\n"
	                                   "service = radius-vpn\n"
	                                   "[radius.client over]\n"
	                                   "tls_name = over.test\n"
	                                   "service = radius-vpn\n"
	                                   "class = vpn-staff\n"
	                                   "session_timeout = 0\n"
	                                   "[radius.client other]\n"
	                                   "tls_name = other.test\n"
	                                   "service = radius-wifi\n"
	                                   "reply_message = Wi-Fi\n";
	struct config *c = load_ok(base);
	struct radius_reply r;

	(void)state;
	assert_int_equal(c->nradius_clients, 3);
	/* a client that sets nothing: its service's three */
	config_radius_reply(c, &c->radius_clients[0], &r);
	assert_string_equal(r.message, "Bienvenue sur le VPN");
	assert_string_equal(r.class_value, "vpn-service");
	assert_int_equal(r.session_timeout, 7200);
	/* the client's class and session_timeout win, 0 (none) included; the message stays */
	config_radius_reply(c, &c->radius_clients[1], &r);
	assert_string_equal(r.message, "Bienvenue sur le VPN");
	assert_string_equal(r.class_value, "vpn-staff");
	assert_int_equal(r.session_timeout, 0);
	/* a service without a section: [service default]'s, under the client's own */
	config_radius_reply(c, &c->radius_clients[2], &r);
	assert_string_equal(r.message, "Wi-Fi");
	assert_string_equal(r.class_value, "by-default");
	assert_int_equal(r.session_timeout, 0);
	config_free(c);
	/* the service's section alone, without clients, is accepted: other front ends ignore it */
	c = load_ok(MINIMAL "[service imap]\nradius_session_timeout = 31536000\n");
	assert_int_equal(config_service(c, "imap")->radius.session_timeout, 31536000);
	config_free(c);
}

static void test_radius_reply_errors(void **state)
{
	static const struct {
		const char *lines, *want;
	} rows[] = {
	    {"[service v]\nradius_session_timeout = 31536001\n",
	     ":8: radius_session_timeout: expected a number of seconds from 0 (none) to 31536000"},
	    {"[service v]\nradius_session_timeout = -1\n",
	     ":8: radius_session_timeout: expected a number of seconds from 0 (none) to 31536000"},
	    {"[service v]\nradius_session_timeout = 1h\n",
	     ":8: radius_session_timeout: expected a number of seconds from 0 (none) to 31536000"},
	    {"[service v]\nradius_reply_message = a\tb\n",
	     ":8: radius_reply_message: 1 to 253 bytes without control characters"},
	    {"[service v]\nradius_class =\n",
	     ":8: radius_class: 1 to 253 bytes without control characters"},
	    {"[service v]\nradius_colour = red\n",
	     ":8: unknown key 'radius_colour' in section [service v]"},
	    {"[service v]\nreply_message = x\n",
	     ":8: unknown key 'reply_message' in section [service v]"},
	    {"[radius.client n]\ntls_name = n.test\nclass = a\x01b\n",
	     ":9: [radius.client n] class: 1 to 253 bytes without control characters"},
	    {"[radius.client n]\ntls_name = n.test\nsession_timeout = 99999999999\n",
	     ":9: [radius.client n] session_timeout: expected a number of seconds from 0 (none) "
	     "to 31536000"},
	    {"[radius.client n]\ntls_name = n.test\nradius_class = x\n",
	     ":9: unknown key 'radius_class' in section [radius.client n]"},
	};
	char text[1024], long_value[300];
	struct config *c;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "%s", rows[i].lines);
		load_fails(text, rows[i].want);
	}
	/* a line holds 198 bytes (inih): the longest message fits in one attribute */
	memset(long_value, 'x', 175);
	long_value[175] = '\0';
	snprintf(text, sizeof(text), MINIMAL "[service v]\nradius_reply_message = %s\n",
	         long_value);
	c = load_ok(text);
	assert_int_equal(strlen(config_service(c, "v")->radius.message), 175);
	config_free(c);
}

static void test_credentials_parse(void **state)
{
	unsigned bits = 12345;

	(void)state;
	assert_int_equal(config_credentials_parse("password_otp, session_token", &bits), 0);
	assert_int_equal(bits, CRED_PASSWORD_OTP | CRED_SESSION_TOKEN);
	bits = 12345;
	assert_int_equal(config_credentials_parse("", &bits), -1);
	assert_int_equal(config_credentials_parse("password, otp", &bits), -1);
	assert_int_equal(bits, 12345); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_service_credentials),
	    cmocka_unit_test(test_service_sections),
	    cmocka_unit_test(test_service_exact_first),
	    cmocka_unit_test(test_service_builtins),
	    cmocka_unit_test(test_service_default_section),
	    cmocka_unit_test(test_service_count),
	    cmocka_unit_test(test_radius_reply),
	    cmocka_unit_test(test_radius_reply_errors),
	    cmocka_unit_test(test_credentials_parse),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
