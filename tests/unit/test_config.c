#include "config_util.h"

static void test_minimal_defaults(void **state)
{
	struct config *c = load_ok(MINIMAL);

	(void)state;
	assert_string_equal(c->path, conf_path);
	assert_string_equal(c->state_dir, "/var/lib/verdon");
	assert_string_equal(c->auth_socket, "/run/verdon/auth.sock");
	assert_string_equal(c->admin_socket, "/run/verdon/admin.sock");
	assert_string_equal(c->mail_domain, "example.org");
	assert_string_equal(c->issuer, "Verdon");
	assert_string_equal(c->organisation, "Verdon"); /* defaults to the issuer */
	assert_null(c->admin_group);
	assert_null(c->store_backend);
	assert_null(c->dictionary_path);
	assert_int_equal(c->auth_socket_mode, 0660);
	assert_int_equal(c->admin_socket_mode, 0660);
	assert_int_equal(c->map_size_mb, 1024);
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->queue_max, 256);
	assert_int_equal(c->max_connections, 1024);
	assert_int_equal(c->idle_timeout, 60);
	assert_int_equal(c->line_timeout, 10);
	assert_int_equal(c->max_connections_per_uid, 512);
	assert_int_equal(c->max_pending, 16);
	assert_false(c->debug);
	assert_int_equal(c->delete_grace_days, 30);
	assert_int_equal(c->temporary_password, TEMP_PASSWORD_RANDOM);
	assert_int_equal(c->temporary_password_days, 7);
	assert_int_equal(config_temporary_lifetime(c), 7 * 86400);
	assert_int_equal(c->argon2.m_kib, 65536);
	assert_int_equal(c->argon2.t, 3);
	assert_int_equal(c->argon2.p, 1);
	assert_int_equal(c->policy.min_chars, 12);
	assert_int_equal(c->policy.max_bytes, 1024);
	assert_false(c->policy.classes);
	assert_true(c->policy.dictionary);
	assert_null(c->policy.dict_path);
	assert_true(c->otp_required);
	assert_int_equal(c->otp_window, 1);
	assert_int_equal(c->otp_digits, 6);
	assert_int_equal(c->otp_algorithm, OTP_SHA1);
	assert_int_equal(c->otp_period, 30);
	assert_int_equal(c->throttle.delay_after, 5);
	assert_int_equal(c->throttle.base_delay, 30);
	assert_int_equal(c->throttle.max_delay, 3600);
	assert_int_equal(c->throttle.lock_after, 10);
	assert_int_equal(c->throttle.forget_after, 86400);
	assert_int_equal(c->trusted_browser_days, 0);
	assert_int_equal(c->device_days, 30);
	assert_int_equal(c->session_idle, 1800);
	assert_int_equal(c->session_lifetime, 43200);
	assert_int_equal(c->session_touch, 60);
	assert_int_equal(c->penalty_base_ms, 2000);
	assert_int_equal(c->penalty_max_ms, 15000);
	assert_int_equal(c->nservices, 0);
	config_free(c);
}

static void test_full(void **state)
{
	struct config *c = load_ok("; a comment\n"
	                           "# another\n"
	                           "\n" MINIMAL "organisation = Lycée Verdon\n"
	                           "admin_group = root\n"
	                           "auth_socket_mode = 0640\n"
	                           "admin_socket_mode = 600\n"
	                           "[store]\nbackend = lmdb\n[verdon]\n"
	                           "map_size_mb = 4096\n"
	                           "workers = 4\n"
	                           "queue_max = 100000\n"
	                           "max_connections = 1\n"
	                           "idle_timeout = 86400\n"
	                           "max_pending = 1024\n"
	                           "debug = yes\n"
	                           "delete_grace_days = 0\n"
	                           "temporary_password = numen\n"
	                           "temporary_password_days = 90\n"
	                           "temporary_password_seconds = 10\n"
	                           "[password]\n"
	                           "argon2_memory_kib = 19456\n"
	                           "argon2_time = 2\n"
	                           "argon2_parallelism = 16\n"
	                           "min_length = 8\n"
	                           "max_bytes = 64\n"
	                           "character_classes = on\n"
	                           "dictionary = off\n"
	                           "dictionary_path = /nonexistent/dict\n"
	                           "[otp]\n"
	                           "required = false\n"
	                           "window = 0\n"
	                           "digits = 8\n"
	                           "algorithm = SHA256\n"
	                           "period = 60\n"
	                           "[throttle]\n"
	                           "delay_after = 3\n"
	                           "base_delay = 0\n"
	                           "max_delay = 0\n"
	                           "lock_after = 10\n");

	(void)state;
	assert_string_equal(c->organisation, "Lycée Verdon");
	assert_string_equal(c->admin_group, "root");
	assert_int_equal(c->admin_gid, 0);
	assert_int_equal(c->auth_socket_mode, 0640);
	assert_int_equal(c->admin_socket_mode, 0600);
	assert_string_equal(c->store_backend, "lmdb");
	assert_int_equal(c->map_size_mb, 4096);
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->queue_max, 100000);
	assert_int_equal(c->max_connections, 1);
	assert_int_equal(c->idle_timeout, 86400);
	assert_int_equal(c->max_pending, 1024);
	assert_true(c->debug);
	assert_int_equal(c->delete_grace_days, 0);
	assert_int_equal(c->temporary_password, TEMP_PASSWORD_NUMEN);
	assert_int_equal(c->temporary_password_days, 90);
	assert_int_equal(config_temporary_lifetime(c), 10);
	assert_int_equal(c->argon2.m_kib, 19456);
	assert_int_equal(c->argon2.t, 2);
	assert_int_equal(c->argon2.p, 16);
	assert_int_equal(c->policy.min_chars, 8);
	assert_int_equal(c->policy.max_bytes, 64);
	assert_true(c->policy.classes);
	assert_false(c->policy.dictionary);
	/* no dictionary check: a missing one is not an error */
	assert_string_equal(c->dictionary_path, "/nonexistent/dict");
	assert_string_equal(c->policy.dict_path, "/nonexistent/dict");
	assert_false(c->otp_required);
	assert_int_equal(c->otp_window, 0);
	assert_int_equal(c->otp_digits, 8);
	assert_int_equal(c->otp_algorithm, OTP_SHA256);
	assert_int_equal(c->otp_period, 60);
	assert_int_equal(c->throttle.delay_after, 3);
	assert_int_equal(c->throttle.base_delay, 0);
	assert_int_equal(c->throttle.max_delay, 0);
	assert_int_equal(c->throttle.lock_after, 10);
	config_free(c);
}

static void test_missing_required(void **state)
{
	static const char *const keys[] = {"state_dir", "auth_socket", "admin_socket",
	                                   "mail_domain", "issuer"};
	static const char *const lines[] = {
	    "state_dir = /var/lib/verdon\n",
	    "auth_socket = /run/verdon/auth.sock\n",
	    "admin_socket = /run/verdon/admin.sock\n",
	    "mail_domain = example.org\n",
	    "issuer = Verdon\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char text[512] = "[verdon]\n", want[128];

		for (size_t j = 0; j < sizeof(lines) / sizeof(lines[0]); j++)
			if (j != i)
				strcat(text, lines[j]);
		snprintf(want, sizeof(want), ": [verdon] %s is required", keys[i]);
		load_fails(text, want);
	}
	load_fails("", ": [verdon] state_dir is required");
	load_fails("[verdon]\n", ": [verdon] state_dir is required");
}

#define CREDS_MSG                                                                                  \
	"credentials: a list of password_otp, appended_otp, app_password, session_token, password"

struct error_row {
	const char *text; /* appended to MINIMAL unless it starts with '!' */
	const char *want; /* after the path; MINIMAL is 6 lines */
};

#define WEBMAIL_MSG                                                                                \
	": [http] webmail_url: an http:// or https:// URL without spaces or quotes, at most 512 "  \
	"bytes"

static const struct error_row error_rows[] = {
    /* the page's keys (issue 8): a code lives 30 s at least, the webmail link is plain http(s) */
    {"[http]\nrescue_code_lifetime = 29\n",
     ":8: rescue_code_lifetime: expected a number from 30 to 86400"},
    {"[http]\nrescue_code_lifetime = 86401\n",
     ":8: rescue_code_lifetime: expected a number from 30 to 86400"},
    {"[mail]\ntimeout = 1\n", ":8: timeout: expected a number from 2 to 600"},
    {"[mail]\ntimeout = 601\n", ":8: timeout: expected a number from 2 to 600"},
    {"[http]\nwebmail_url = javascript:alert(1)\n", WEBMAIL_MSG},
    {"[http]\nwebmail_url = https://x.example/\"onclick\n", WEBMAIL_MSG},
    {"[http]\nwebmail_url = https://x.example/a b\n", WEBMAIL_MSG},
    /* unknown keys and sections, with their line */
    {"colour = blue\n", ":7: unknown key 'colour' in section [verdon]"},
    {"\n\n; comment\nfoo = 1\n", ":10: unknown key 'foo' in section [verdon]"},
    {"[otp]\nargon2_time = 3\n", ":8: unknown key 'argon2_time' in section [otp]"},
    {"[verdun]\nstate_dir = /x\n", ":8: unknown key 'state_dir' in section [verdun]"},
    {"[Verdon]\ndebug = yes\n", ":8: unknown key 'debug' in section [Verdon]"},
    {"!stray = 1\n" MINIMAL, ":1: unknown key 'stray' in section []"},
    {"!\xef\xbb\xbfstray = 1\n" MINIMAL, ":1: unknown key 'stray' in section []"},
    /* syntax */
    {"no equals sign here\n", ":7: syntax error"},
    {"[unclosed\n", ":7: syntax error"},
    /* numbers: bad and out of range */
    {"[password]\nargon2_memory_kib = 1000\n",
     ":8: argon2_memory_kib: expected a number from 19456 to 4194304"},
    {"[password]\nargon2_memory_kib = 19455\n",
     ":8: argon2_memory_kib: expected a number from 19456 to 4194304"},
    {"[password]\nargon2_memory_kib = 4194305\n",
     ":8: argon2_memory_kib: expected a number from 19456 to 4194304"},
    {"[password]\nargon2_time = 1\n", ":8: argon2_time: expected a number from 2 to 100"},
    {"[password]\nargon2_time = 101\n", ":8: argon2_time: expected a number from 2 to 100"},
    {"[password]\nargon2_parallelism = 0\n",
     ":8: argon2_parallelism: expected a number from 1 to 16"},
    {"[password]\nmin_length = 7\n", ":8: min_length: expected a number from 8 to 1024"},
    {"[password]\nmax_bytes = 63\n", ":8: max_bytes: expected a number from 64 to 4096"},
    {"workers = 257\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = -1\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = +1\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = 4x\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = 0x4\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = 4.0\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = four\n", ":7: workers: expected a number from 0 to 256"},
    {"workers =\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = 18446744073709551616\n", ":7: workers: expected a number from 0 to 256"},
    {"workers = 4294967300\n", ":7: workers: expected a number from 0 to 256"},
    {"map_size_mb = 0\n", ":7: map_size_mb: expected a number from 1 to 1048576"},
    {"idle_timeout = 0\n", ":7: idle_timeout: expected a number from 1 to 86400"},
    {"line_timeout = 0\n", ":7: line_timeout: expected a number from 1 to 3600"},
    {"max_connections_per_uid = 0\n",
     ":7: max_connections_per_uid: expected a number from 1 to 100000"},
    {"temporary_password_days = 91\n",
     ":7: temporary_password_days: expected a number from 1 to 90"},
    {"temporary_password_seconds = 9\n",
     ":7: temporary_password_seconds: expected a number from 10 to 7776000"},
    {"[otp]\nwindow = 11\n", ":8: window: expected a number from 0 to 10"},
    {"[otp]\ndigits = 9\n", ":8: digits: expected a number from 6 to 8"},
    {"[otp]\ndigits = 7\n", ": [otp] digits must be 6 or 8"},
    {"[otp]\nperiod = 14\n", ":8: period: expected a number from 15 to 120"},
    {"[throttle]\ndelay_after = 0\n", ":8: delay_after: expected a number from 1 to 1000"},
    {"[throttle]\nlock_after = 0\n", ":8: lock_after: expected a number from 1 to 1000"},
    {"[throttle]\nlock_after = 1001\n", ":8: lock_after: expected a number from 1 to 1000"},
    {"[throttle]\nforget_after = 59\n", ":8: forget_after: expected a number from 60 to 2592000"},
    {"[throttle]\nforget_after = 600\n", ": [throttle] forget_after must not be below max_delay"},
    {"[session]\ntrusted_browser_days = 91\n",
     ":8: trusted_browser_days: expected a number from 0 to 90"},
    {"[session]\ndevice_days = 0\n", ":8: device_days: expected a number from 1 to 365"},
    {"[throttle]\nbase_delay = 86401\n", ":8: base_delay: expected a number from 0 to 86400"},
    /* octal modes */
    {"auth_socket_mode = 1000\n", ":7: auth_socket_mode: expected an octal mode from 0 to 0777"},
    {"auth_socket_mode = 0800\n", ":7: auth_socket_mode: expected an octal mode from 0 to 0777"},
    {"auth_socket_mode = 8\n", ":7: auth_socket_mode: expected an octal mode from 0 to 0777"},
    {"auth_socket_mode = 0o660\n", ":7: auth_socket_mode: expected an octal mode from 0 to 0777"},
    {"admin_socket_mode = rw\n", ":7: admin_socket_mode: expected an octal mode from 0 to 0777"},
    {"admin_socket_mode = 04660\n", ":7: admin_socket_mode: expected an octal mode from 0 to 0777"},
    /* booleans */
    {"debug = maybe\n", ":7: debug: expected yes or no"},
    {"debug = y\n", ":7: debug: expected yes or no"},
    {"debug = 2\n", ":7: debug: expected yes or no"},
    {"debug =\n", ":7: debug: expected yes or no"},
    {"[otp]\nrequired = nope\n", ":8: required: expected yes or no"},
    /* enumerations */
    {"temporary_password = birthday\n", ":7: temporary_password: expected random or numen"},
    {"[otp]\nalgorithm = MD5\n", ":8: algorithm: expected SHA1, SHA256 or SHA512"},
    /* strings */
    {"organisation =\n", ":7: organisation: empty or invalid value"},
    {"[store]\nbackend = bdb\n", ": [store] backend must be lmdb or postgresql"},
    {"[store]\nbackend = postgresql\n", ": [store] backend = postgresql needs conninfo"},
    {"[store]\nconninfo = host=db\n",
     ": [store] conninfo and password_file go with backend = postgresql"},
    {"[store]\nbackend = postgresql\nconninfo = host=db password=x\n",
     ": [store] conninfo must not hold a password: use password_file (0600) or peer "
     "authentication"},
    {"[store]\nbackend = postgresql\nconninfo = host=db\npassword_file = /nonexistent/pgpass\n",
     ": [store] password_file /nonexistent/pgpass: No such file or directory"},
    {"[verdon]\nstore = lmdb\n", ":8: unknown key 'store' in section [verdon]"},
    /* paths must be absolute */
    {"!"
     "[verdon]\nstate_dir = var/lib/verdon\nauth_socket = /a\nadmin_socket = /b\n"
     "mail_domain = example.org\nissuer = V\n",
     ": state_dir, auth_socket and admin_socket must be absolute paths"},
    {"!"
     "[verdon]\nstate_dir = /v\nauth_socket = auth.sock\nadmin_socket = /b\n"
     "mail_domain = example.org\nissuer = V\n",
     ": state_dir, auth_socket and admin_socket must be absolute paths"},
    {"!"
     "[verdon]\nstate_dir = /v\nauth_socket = /a\nadmin_socket = ./admin.sock\n"
     "mail_domain = example.org\nissuer = V\n",
     ": state_dir, auth_socket and admin_socket must be absolute paths"},
    /* cross-key checks */
    {"[throttle]\nbase_delay = 60\nmax_delay = 59\n",
     ": [throttle] max_delay must not be below base_delay"},
    {"[throttle]\nbase_delay = 7200\n", ": [throttle] max_delay must not be below base_delay"},
    {"[password]\nargon2_memory_kib = 300000\n",
     ": [password] argon2_memory_kib, argon2_time and argon2_parallelism must not exceed "
     "hash_max_argon2_memory_kib, hash_max_argon2_time and hash_max_argon2_parallelism"},
    {"[password]\nargon2_time = 5\nhash_max_argon2_time = 4\n",
     ": [password] argon2_memory_kib, argon2_time and argon2_parallelism must not exceed "
     "hash_max_argon2_memory_kib, hash_max_argon2_time and hash_max_argon2_parallelism"},
    {"[password]\nhash_max_sha512_rounds = 999\n",
     ":8: hash_max_sha512_rounds: expected a number from 1000 to 999999999"},
    {"[password]\nhash_max_bcrypt_cost = 32\n",
     ":8: hash_max_bcrypt_cost: expected a number from 4 to 31"},
    {"admin_group = verdon-no-such-group\n", ": [verdon] admin_group: no such group"},
    {"[password]\ndictionary_path = /nonexistent/dict\n",
     ": /nonexistent/dict.pwd: no cracklib dictionary (install cracklib-runtime or fix "
     "dictionary_path)"},
    /* two errors: the first one's line and message */
    {"colour = blue\nworkers = many\n", ":7: unknown key 'colour' in section [verdon]"},
    {"workers = many\ncolour = blue\n", ":7: workers: expected a number from 0 to 256"},
    {"[password]\nargon2_time = 1\nargon2_memory_kib = 1000\n",
     ":8: argon2_time: expected a number from 2 to 100"},
    {"no equals sign\ncolour = blue\n", ":7: syntax error"},
    {"colour = blue\nno equals sign\n", ":7: unknown key 'colour' in section [verdon]"},
    {"[unclosed\n[otp]\nwindow = 99\n", ":7: syntax error"},
    {"[otp]\nwindow = 99\n[unclosed\n", ":8: window: expected a number from 0 to 10"},
    /* [session] and [penalty] bounds */
    {"[session]\nidle_timeout = 3\n", ":8: idle_timeout: expected a number from 4 to 86400"},
    {"[session]\nidle_timeout = 86401\n", ":8: idle_timeout: expected a number from 4 to 86400"},
    {"[session]\nlifetime = 3\n", ":8: lifetime: expected a number from 4 to 2592000"},
    {"[session]\nlifetime = 2592001\n", ":8: lifetime: expected a number from 4 to 2592000"},
    {"[session]\nlifetime = -1\n", ":8: lifetime: expected a number from 4 to 2592000"},
    {"[session]\ntouch_interval = 0\n", ":8: touch_interval: expected a number from 1 to 3600"},
    {"[session]\ntouch_interval = 3601\n", ":8: touch_interval: expected a number from 1 to 3600"},
    {"[session]\nmax_ms = 10\n", ":8: unknown key 'max_ms' in section [session]"},
    {"[penalty]\nbase_ms = 60001\n", ":8: base_ms: expected a number from 0 to 60000"},
    {"[penalty]\nbase_ms = 2s\n", ":8: base_ms: expected a number from 0 to 60000"},
    {"[penalty]\nmax_ms = 300001\n", ":8: max_ms: expected a number from 0 to 300000"},
    {"[penalty]\nmax_ms =\n", ":8: max_ms: expected a number from 0 to 300000"},
    {"[penalty]\nidle_timeout = 10\n", ":8: unknown key 'idle_timeout' in section [penalty]"},
    /* [service NAME] */
    {"[service imap]\ncredentials = password_otp, sms\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = sms\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = app-password\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = App_Password\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = password_otp;app_password\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = password_otpx\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials =\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = ,\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = , \t,\n", ":8: " CREDS_MSG},
    {"[service imap]\nissue_tokens = ja\n", ":8: issue_tokens: expected yes or no"},
    {"[service imap]\nissue_tokens =\n", ":8: issue_tokens: expected yes or no"},
    {"[service imap]\ncolour = blue\n", ":8: unknown key 'colour' in section [service imap]"},
    {"[service imap]\nidle_timeout = 60\n",
     ":8: unknown key 'idle_timeout' in section [service imap]"},
    {"[service imap]\ncredentials = password\nissue_token = yes\n",
     ":9: unknown key 'issue_token' in section [service imap]"},
    {"[service IMAP]\ncredentials = password\n", ":8: [service IMAP]: " SERVICE_NAME_MSG},
    {"[service im ap]\ncredentials = password\n", ":8: [service im ap]: " SERVICE_NAME_MSG},
    {"[service verdon/imap]\ncredentials = password\n",
     ":8: [service verdon/imap]: " SERVICE_NAME_MSG},
    {"[service imap\xc3\xa9]\ncredentials = password\n",
     ":8: [service imap\xc3\xa9]: " SERVICE_NAME_MSG},
    {"[service ]\ncredentials = password\n", ":8: [service ]: " SERVICE_NAME_MSG},
    {"[service]\ncredentials = password\n", ":8: unknown key 'credentials' in section [service]"},
    {"[services imap]\ncredentials = password\n",
     ":8: unknown key 'credentials' in section [services imap]"},
    /* a service error is the first one, as any other */
    {"[service imap]\ncredentials = sms\ncolour = blue\n", ":8: " CREDS_MSG},
    {"[service imap]\ncredentials = password\n[service smtp]\ncredentials = sms\n",
     ":10: " CREDS_MSG},
    /* a line error comes before the whole-file checks */
    {"!"
     "[verdon]\nstate_dir = relative\nworkers = 999\n",
     ":3: workers: expected a number from 0 to 256"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
		const char *t = error_rows[i].text;
		char text[1024];

		if (t[0] == '!')
			snprintf(text, sizeof(text), "%s", t + 1);
		else
			snprintf(text, sizeof(text), "%s%s", MINIMAL, t);
		load_fails(text, error_rows[i].want);
	}
}

static void test_page_keys(void **state)
{
	struct config *c = load_ok(MINIMAL);

	(void)state;
	assert_null(c->http_webmail_url);
	assert_int_equal(c->rescue_code_lifetime, 900);
	assert_int_equal(c->mail_timeout, 30);
	config_free(c);
	c = load_ok(MINIMAL "[mail]\ntimeout = 2\n");
	assert_int_equal(c->mail_timeout, 2);
	config_free(c);
	c = load_ok(MINIMAL "organisation = Académie de Lyon\n[http]\n"
	                    "webmail_url = https://webmail.ac-lyon.fr/?_task=mail\n"
	                    "rescue_code_lifetime = 30\n");
	assert_string_equal(c->organisation, "Académie de Lyon");
	assert_string_equal(c->http_webmail_url, "https://webmail.ac-lyon.fr/?_task=mail");
	assert_int_equal(c->rescue_code_lifetime, 30);
	config_free(c);
}

static void test_booleans(void **state)
{
	static const struct {
		const char *value;
		bool want;
	} rows[] = {
	    {"yes", true}, {"no", false},  {"true", true}, {"false", false},
	    {"on", true},  {"off", false}, {"1", true},    {"0", false},
	    {"YES", true}, {"No", false},  {"True", true}, {"OFF", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[512];
		struct config *c;

		/* start from the opposite of the default, so the value must be read */
		snprintf(text, sizeof(text), MINIMAL "debug = %s\n[otp]\nrequired = %s\n",
		         rows[i].value, rows[i].value);
		c = load_ok(text);
		if (c->debug != rows[i].want || c->otp_required != rows[i].want)
			fail_msg("'%s': debug %d required %d", rows[i].value, c->debug,
			         c->otp_required);
		config_free(c);
	}
}

static void test_octal_modes(void **state)
{
	static const struct {
		const char *value;
		unsigned want;
	} rows[] = {
	    {"0600", 0600}, {"600", 0600}, {"0777", 0777}, {"777", 0777},
	    {"0", 0},       {"00", 0},     {"0640", 0640}, {"0000660", 0660},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[512];
		struct config *c;

		snprintf(text, sizeof(text),
		         MINIMAL "auth_socket_mode = %s\nadmin_socket_mode = %s\n", rows[i].value,
		         rows[i].value);
		c = load_ok(text);
		if (c->auth_socket_mode != rows[i].want || c->admin_socket_mode != rows[i].want)
			fail_msg("'%s': %o and %o, want %o", rows[i].value, c->auth_socket_mode,
			         c->admin_socket_mode, rows[i].want);
		config_free(c);
	}
}

static void test_missing_file(void **state)
{
	char path[300], err[512], want[512];
	struct config *c = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
	assert_null(c);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	/* a directory opens, then fails to read */
	assert_int_equal(config_load(tmpdir, &c, err, sizeof(err)), -1);
	assert_null(c);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	assert_string_equal(err, want);
}

static void test_utf8_and_whitespace(void **state)
{
	struct config *c = load_ok("[verdon]\n"
	                           "  state_dir   =   /var/lib/verdon  \n"
	                           "auth_socket=/run/a.sock\n"
	                           "admin_socket : /run/b.sock\n"
	                           "mail_domain = example.org ; the mail domain\n"
	                           "issuer = Académie de Test\n"
	                           "organisation = Région Île-de-France — DANE\n");

	(void)state;
	assert_string_equal(c->state_dir, "/var/lib/verdon");
	assert_string_equal(c->auth_socket, "/run/a.sock");
	assert_string_equal(c->admin_socket, "/run/b.sock");
	assert_string_equal(c->mail_domain, "example.org");
	assert_string_equal(c->issuer, "Acad\xc3\xa9mie de Test");
	assert_string_equal(c->organisation,
	                    "R\xc3\xa9gion \xc3\x8ele-de-France \xe2\x80\x94 DANE");
	config_free(c);
}

/* MINIMAL then "organisation = " padded with 'x' to a line of len bytes, newline excluded */
static void long_line(char *text, size_t textlen, size_t len, const char *after)
{
	char line[512];
	size_t prefix = strlen("organisation = ");

	assert_true(len > prefix && len < sizeof(line));
	memcpy(line, "organisation = ", prefix);
	memset(line + prefix, 'x', len - prefix);
	line[len] = '\0';
	snprintf(text, textlen, MINIMAL "%s%s", line, after);
}

static void test_long_lines(void **state)
{
	char text[1024];
	struct config *c;

	(void)state;
	/* inih's line buffer is 200 bytes: 198 and the newline fit */
	long_line(text, sizeof(text), 198, "\n");
	c = load_ok(text);
	assert_int_equal(strlen(c->organisation), 198 - strlen("organisation = "));
	config_free(c);
	long_line(text, sizeof(text), 198, "");
	c = load_ok(text);
	assert_int_equal(strlen(c->organisation), 198 - strlen("organisation = "));
	config_free(c);
	/* one more is refused, not cut: the rest would be parsed as line 8 */
	long_line(text, sizeof(text), 199, "\n");
	load_fails(text, ":7: line too long (at most 198 bytes)");
	long_line(text, sizeof(text), 199, "");
	load_fails(text, ":7: line too long (at most 198 bytes)");
	long_line(text, sizeof(text), 300, "\ndebug = yes\n");
	load_fails(text, ":7: line too long (at most 198 bytes)");
	/* the rest of the line looks like a key: still the long line's error */
	long_line(text, sizeof(text), 240, " colour = blue\n");
	load_fails(text, ":7: line too long (at most 198 bytes)");
	/* a long comment is a long line too */
	snprintf(text, sizeof(text), "; %0300d\n" MINIMAL, 0);
	load_fails(text, ":1: line too long (at most 198 bytes)");
	/* an earlier error comes first */
	long_line(text, sizeof(text), 300, "\n");
	strcat(text, "colour = blue\n");
	load_fails(text, ":7: line too long (at most 198 bytes)");
}

static void write_bytes(const char *data, size_t len)
{
	FILE *f = fopen(conf_path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_nul_byte(void **state)
{
	static const char with_nul[] = MINIMAL "organisation = Lyc\0ee\n";
	static const char nul_last[] = MINIMAL "debug = no\0";
	static const char nul_in_issuer[] = "[verdon]\nissuer = A\0B\n";
	char err[512], want[512];
	struct config *c = NULL;

	(void)state;
	write_bytes(with_nul, sizeof(with_nul) - 1);
	assert_int_equal(config_load(conf_path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:7: a NUL byte", conf_path);
	assert_string_equal(err, want);
	write_bytes(nul_last, sizeof(nul_last) - 1);
	assert_int_equal(config_load(conf_path, &c, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	write_bytes(nul_in_issuer, sizeof(nul_in_issuer) - 1);
	assert_int_equal(config_load(conf_path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: a NUL byte", conf_path);
	assert_string_equal(err, want);
	assert_null(c);
}

static void test_service_names(void **state)
{
	char name[64], text[1024], want[256];
	const struct service_policy *p;
	struct config *c;

	(void)state;
	/* inih keeps 49 bytes of a section name: "service " and 40 fit whole */
	memset(name, 'a', 40);
	name[40] = '\0';
	snprintf(text, sizeof(text), MINIMAL "[service %s]\ncredentials = password\n", name);
	c = load_ok(text);
	assert_int_equal(c->nservices, 1);
	assert_string_equal(c->services[0].name, name);
	p = config_service(c, name);
	assert_int_equal(p->credentials, CRED_PASSWORD);
	config_free(c);
	/* one more would have been cut to another name */
	strcat(name, "b");
	snprintf(text, sizeof(text), MINIMAL "[service %s]\ncredentials = password\n", name);
	snprintf(want, sizeof(want),
	         ":8: [service %.32s...]: section name too long (at most 48 bytes)", name);
	load_fails(text, want);
}

static void test_later_value_wins(void **state)
{
	struct config *c = load_ok(MINIMAL "issuer = Second\nworkers = 2\nworkers = 3\n"
	                                   "[password]\n[verdon]\ndebug = on\n");

	(void)state;
	assert_string_equal(c->issuer, "Second");
	assert_string_equal(c->organisation, "Second");
	assert_int_equal(c->workers, 3);
	assert_true(c->debug);
	config_free(c);
}

static void test_small_error_buffer(void **state)
{
	char err[8];
	struct config *c = NULL;

	(void)state;
	write_conf(MINIMAL "colour = blue\n");
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_load(conf_path, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	config_free(NULL);
}

static void test_session_penalty_bounds(void **state)
{
	static const struct {
		const char *text;
		unsigned idle, lifetime, base, max;
	} rows[] = {
	    {"[session]\nidle_timeout = 10\nlifetime = 60\n", 10, 60, 2000, 15000},
	    {"[session]\nidle_timeout = 86400\nlifetime = 2592000\n", 86400, 2592000, 2000, 15000},
	    {"[session]\nidle_timeout = 30\n", 30, 43200, 2000, 15000},
	    {"[penalty]\nbase_ms = 0\nmax_ms = 0\n", 1800, 43200, 0, 0},
	    {"[penalty]\nbase_ms = 60000\nmax_ms = 300000\n", 1800, 43200, 60000, 300000},
	    {"[penalty]\nbase_ms = 400\n", 1800, 43200, 400, 15000},
	    {"[session]\nlifetime = 600\n[penalty]\nmax_ms = 5000\n", 1800, 600, 2000, 5000},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[1024];
		struct config *c;

		snprintf(text, sizeof(text), MINIMAL "%s", rows[i].text);
		c = load_ok(text);
		if (c->session_idle != rows[i].idle || c->session_lifetime != rows[i].lifetime ||
		    c->penalty_base_ms != rows[i].base || c->penalty_max_ms != rows[i].max)
			fail_msg("row %zu: idle %u lifetime %u base %u max %u", i, c->session_idle,
			         c->session_lifetime, c->penalty_base_ms, c->penalty_max_ms);
		config_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_page_keys),
	    cmocka_unit_test(test_booleans),
	    cmocka_unit_test(test_octal_modes),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_utf8_and_whitespace),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_service_names),
	    cmocka_unit_test(test_later_value_wins),
	    cmocka_unit_test(test_small_error_buffer),
	    cmocka_unit_test(test_session_penalty_bounds),
	};

	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
