/*
 * The PAM module's pure parts (options, answers, the reason → PAM code
 * tables, sanitizing) and its exchange with a fake daemon on a unix socket.
 */
#define _GNU_SOURCE /* memmem */
#include <sys/socket.h>
#include <sys/un.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <security/pam_modules.h>

#include "../../pam_module/pam_answer.h"
#include "../../pam_module/pam_exchange.h"
#include "../../pam_module/pam_options.h"
#include "../../pam_module/pam_reuse.h"
#include "proto.h"
#include "reason.h"

#define ARGS_MAX 4
/* Socket paths of 107 bytes (the most sun_path holds) and service names of 64. */
#define S107                                                                                       \
	"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"a"                                                                                        \
	"aaaaaaaaaaaaaaaaaa"
#define S64 "abcdefghijklmnopqrstuvwxyz0123456789._-abcdefghijklmnopqrstuvwxy"

/* ---- options ------------------------------------------------------------------------------ */

struct options_case {
	const char *args[ARGS_MAX]; /* NULL-terminated unless full */
	int rc;
	const char *socket, *service; /* expected on success */
	enum pv_otp_mode otp;
	int timeout;
	bool debug;
	const char *err; /* a substring of the message on failure */
};

#define DEF_SOCKET PV_SOCKET_DEFAULT
#define DEF DEF_SOCKET, "", PV_OTP_APPEND, PV_TIMEOUT_DEFAULT, false, NULL

static const struct options_case options_cases[] = {
    {{NULL}, 0, DEF},
    {{"debug"}, 0, DEF_SOCKET, "", PV_OTP_APPEND, 3000, true, NULL},
    {{"socket=/tmp/a.sock"}, 0, "/tmp/a.sock", "", PV_OTP_APPEND, 3000, false, NULL},
    {{"socket=" S107}, 0, S107, "", PV_OTP_APPEND, 3000, false, NULL},
    {{"socket=" S107 "a"}, -1, .err = "socket=/aaa"},
    {{"socket=relative.sock"}, -1, .err = "absolute path"},
    {{"socket="}, -1, .err = "absolute path"},
    {{"socket"}, -1, .err = "unknown option 'socket'"},
    {{"service=imap"}, 0, DEF_SOCKET, "imap", PV_OTP_APPEND, 3000, false, NULL},
    {{"service=verdon-smtp.2_x"},
     0,
     DEF_SOCKET,
     "verdon-smtp.2_x",
     PV_OTP_APPEND,
     3000,
     false,
     NULL},
    {{"service=" S64}, 0, DEF_SOCKET, S64, PV_OTP_APPEND, 3000, false, NULL},
    {{"service=" S64 "z"}, -1, .err = "service="},
    {{"service="}, -1, .err = "[a-z0-9._-]"},
    {{"service=IMAP"}, -1, .err = "[a-z0-9._-]"},
    {{"service=im ap"}, -1, .err = "[a-z0-9._-]"},
    {{"otp=append"}, 0, DEF_SOCKET, "", PV_OTP_APPEND, 3000, false, NULL},
    {{"otp=prompt"}, 0, DEF_SOCKET, "", PV_OTP_PROMPT, 3000, false, NULL},
    {{"otp=none"}, 0, DEF_SOCKET, "", PV_OTP_NONE, 3000, false, NULL},
    {{"otp=APPEND"}, -1, .err = "append, prompt or none"},
    {{"otp="}, -1, .err = "append, prompt or none"},
    {{"otp=appendx"}, -1, .err = "append, prompt or none"},
    {{"timeout=100"}, 0, DEF_SOCKET, "", PV_OTP_APPEND, 100, false, NULL},
    {{"timeout=60000"}, 0, DEF_SOCKET, "", PV_OTP_APPEND, 60000, false, NULL},
    {{"timeout=00250"}, 0, DEF_SOCKET, "", PV_OTP_APPEND, 250, false, NULL},
    {{"timeout=99"}, -1, .err = "from 100 to 60000"},
    {{"timeout=60001"}, -1, .err = "from 100 to 60000"},
    {{"timeout=0"}, -1, .err = "from 100 to 60000"},
    {{"timeout="}, -1, .err = "from 100 to 60000"},
    {{"timeout=+500"}, -1, .err = "from 100 to 60000"},
    {{"timeout= 500"}, -1, .err = "from 100 to 60000"},
    {{"timeout=0x200"}, -1, .err = "from 100 to 60000"},
    {{"timeout=999999999999"}, -1, .err = "from 100 to 60000"},
    {{"debug=1"}, -1, .err = "unknown option 'debug=1'"},
    {{"frobnicate"}, -1, .err = "unknown option 'frobnicate'"},
    {{"Socket=/a"}, -1, .err = "unknown option"},
    {{"sockets=/a"}, -1, .err = "unknown option"},
    {{""}, -1, .err = "unknown option ''"},
    {{"use_first_pass"}, -1, .err = "unknown option"},
    {{"debug", "debug"}, -1, .err = "'debug' given twice"},
    {{"socket=/a", "socket=/a"}, -1, .err = "'socket' given twice"},
    {{"otp=none", "otp=prompt"}, -1, .err = "'otp' given twice"},
    {{"service=a", "timeout=500", "service=b"}, -1, .err = "'service' given twice"},
    {{"timeout=500", "timeout=500"}, -1, .err = "'timeout' given twice"},
    /* The first bad argument is the one named. */
    {{"debug", "bogus", "otp=xx"}, -1, .err = "'bogus'"},
    {{"socket=/run/v.sock", "service=imap", "otp=prompt", "timeout=1500"},
     0,
     "/run/v.sock",
     "imap",
     PV_OTP_PROMPT,
     1500,
     false,
     NULL},
    {{"otp=none", "debug", "service=smtp"}, 0, DEF_SOCKET, "smtp", PV_OTP_NONE, 3000, true, NULL},
};

static void test_options(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(options_cases) / sizeof(options_cases[0]); i++) {
		const struct options_case *c = &options_cases[i];
		struct pv_options opt;
		char err[256] = "";
		int argc = 0;

		while (argc < ARGS_MAX && c->args[argc] != NULL)
			argc++;
		print_message("case %zu: %s ...\n", i, argc > 0 ? c->args[0] : "(none)");
		assert_int_equal(pv_options_parse(argc, c->args, &opt, err, sizeof(err)), c->rc);
		if (c->rc < 0) {
			assert_non_null(strstr(err, c->err));
			continue;
		}
		assert_string_equal(opt.socket, c->socket);
		assert_string_equal(opt.service, c->service);
		assert_int_equal(opt.otp, c->otp);
		assert_int_equal(opt.timeout_ms, c->timeout);
		assert_int_equal(opt.debug, c->debug);
	}
}

static void test_options_null_and_long(void **state)
{
	const char *args[] = {"debug", NULL};
	char big[600], err[128];
	const char *one[] = {big};
	struct pv_options opt;

	(void)state;
	/* A NULL among the arguments is refused, not dereferenced. */
	assert_int_equal(pv_options_parse(2, args, &opt, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown option"));
	/* A huge argument: the message is bounded and still names it. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pv_options_parse(1, one, &opt, err, sizeof(err)), -1);
	assert_true(strlen(err) < 100);
	assert_non_null(strstr(err, "unknown option 'xxxx"));
	/* A tiny error buffer is never overrun. */
	assert_int_equal(pv_options_parse(1, one, &opt, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_string_equal(pv_otp_mode_name(PV_OTP_NONE), "none");
}

static void test_service_valid(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
	    {"imap", true},   {"verdon-imap", true}, {"a", true},     {S64, true},
	    {S64 "x", false}, {"", false},           {"Imap", false}, {"im/ap", false},
	    {"im ap", false}, {"imap\n", false},     {"é", false},    {"smtp.1_x-y", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("service '%s'\n", cases[i].name);
		assert_int_equal(pv_service_valid(cases[i].name), cases[i].ok);
	}
}

/* ---- reason → PAM code -------------------------------------------------------------------- */

struct code_case {
	enum pv_call call;
	enum proto_outcome outcome;
	enum proto_reason reason;
	int code;
};

static const struct code_case code_cases[] = {
    /* auth */
    {PV_CALL_AUTH, OUTCOME_OK, REASON_NONE, PAM_SUCCESS},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_INVALID, PAM_AUTH_ERR},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_OTP_REQUIRED, PAM_AUTH_ERR},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_PASSWORD_CHANGE_REQUIRED, PAM_AUTH_ERR},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_OTP_ENROLLMENT_REQUIRED, PAM_AUTH_ERR},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_LOCKED, PAM_MAXTRIES},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_DISABLED, PAM_PERM_DENIED},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_TEMPFAIL, PAM_AUTHINFO_UNAVAIL},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_UNKNOWN_VERB, PAM_AUTHINFO_UNAVAIL},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_FORBIDDEN, PAM_AUTHINFO_UNAVAIL},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_BAD_REQUEST, PAM_AUTH_ERR},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_NOT_FOUND, PAM_AUTH_ERR},
    {PV_CALL_AUTH, OUTCOME_FAIL, REASON_NONE, PAM_AUTH_ERR},
    {PV_CALL_AUTH, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, PAM_AUTHINFO_UNAVAIL},
    /* account */
    {PV_CALL_ACCT, OUTCOME_OK, REASON_NONE, PAM_SUCCESS},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_PASSWORD_CHANGE_REQUIRED, PAM_NEW_AUTHTOK_REQD},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_DISABLED, PAM_PERM_DENIED},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_LOCKED, PAM_MAXTRIES},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_INVALID, PAM_USER_UNKNOWN},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_NOT_FOUND, PAM_USER_UNKNOWN},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_OTP_ENROLLMENT_REQUIRED, PAM_PERM_DENIED},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_BAD_REQUEST, PAM_PERM_DENIED},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_NONE, PAM_PERM_DENIED},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_TEMPFAIL, PAM_AUTHINFO_UNAVAIL},
    {PV_CALL_ACCT, OUTCOME_FAIL, REASON_UNKNOWN_VERB, PAM_AUTHINFO_UNAVAIL},
    {PV_CALL_ACCT, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, PAM_AUTHINFO_UNAVAIL},
    /* password */
    {PV_CALL_PASSWD, OUTCOME_OK, REASON_NONE, PAM_SUCCESS},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_INVALID, PAM_AUTH_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_OTP_REQUIRED, PAM_AUTH_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_LOCKED, PAM_MAXTRIES},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_DISABLED, PAM_PERM_DENIED},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_TOO_SHORT, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_TOO_LONG, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_NOT_UTF8, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_DICTIONARY, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_CONTEXT, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_CHARACTER_CLASSES, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_REUSED, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_BAD_REQUEST, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_NONE, PAM_AUTHTOK_ERR},
    {PV_CALL_PASSWD, OUTCOME_FAIL, REASON_TEMPFAIL, PAM_AUTHINFO_UNAVAIL},
    {PV_CALL_PASSWD, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, PAM_AUTHINFO_UNAVAIL},
    /* a call that does not exist */
    {(enum pv_call)7, OUTCOME_OK, REASON_NONE, PAM_SERVICE_ERR},
};

static void test_codes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(code_cases) / sizeof(code_cases[0]); i++) {
		const struct code_case *c = &code_cases[i];

		print_message("call %d %s %s\n", c->call, proto_outcome_verb(c->outcome),
		              proto_reason_name(c->reason));
		assert_int_equal(pv_pam_code(c->call, c->outcome, c->reason), c->code);
	}
}

/* Whatever the daemon says short of OK, no call succeeds; auth never names unknown users. */
static void test_codes_never_success(void **state)
{
	static const enum proto_outcome refused[] = {OUTCOME_FAIL, OUTCOME_TEMPFAIL, 17};

	(void)state;
	for (int call = PV_CALL_AUTH; call <= PV_CALL_PASSWD; call++) {
		for (size_t o = 0; o < sizeof(refused) / sizeof(refused[0]); o++) {
			for (int r = 0; r <= REASON_COUNT; r++) {
				int code = pv_pam_code(call, refused[o], r);

				assert_int_not_equal(code, PAM_SUCCESS);
				if (call == PV_CALL_AUTH)
					assert_int_not_equal(code, PAM_USER_UNKNOWN);
				if (refused[o] != OUTCOME_FAIL)
					assert_int_equal(code, PAM_AUTHINFO_UNAVAIL);
			}
		}
	}
}

static void test_passwd_messages(void **state)
{
	(void)state;
	for (int r = REASON_TOO_SHORT; r <= REASON_REUSED; r++)
		assert_non_null(pv_passwd_message(r));
	assert_non_null(strstr(pv_passwd_message(REASON_INVALID), "incorrect"));
	assert_non_null(pv_passwd_message(REASON_LOCKED));
	assert_null(pv_passwd_message(REASON_NONE));
	assert_null(pv_passwd_message(REASON_NOT_FOUND));
}

/* ---- answers ------------------------------------------------------------------------------ */

struct answer_case {
	const char *line; /* without LF */
	bool need_ident;
	int rc;
	enum proto_outcome outcome;
	enum proto_reason reason;
	const char *ident, *detail, *err;
};

static const struct answer_case answer_cases[] = {
    {"OK\t1\tidentifiant=jdupont", true, 0, OUTCOME_OK, REASON_NONE, "jdupont", "", NULL},
    {"OK\t1\tidentifiant=jdupont\tcredential=app_password\tlabel=x", true, 0, OUTCOME_OK,
     REASON_NONE, "jdupont", "", NULL},
    {"OK\t1", false, 0, OUTCOME_OK, REASON_NONE, "", "", NULL},
    {"OK\t1", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "", "without a valid identifiant"},
    {"OK\t1\tidentifiant=", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "", "identifiant"},
    {"OK\t1\tidentifiant=../root", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "",
     "identifiant"},
    {"OK\t1\tidentifiant=JDupont", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "",
     "identifiant"},
    {"OK\t1\tidentifiant=j\001tx", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "",
     "identifiant"},
    {"OK\t1\tidentifiant=" S64, true, 0, OUTCOME_OK, REASON_NONE, S64, "", NULL},
    {"OK\t1\tidentifiant=" S64 "z", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "",
     "identifiant"},
    {"OK\t2\tidentifiant=jdupont", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "",
     "answer to request '2'"},
    {"FAIL\t1\treason=invalid", true, 0, OUTCOME_FAIL, REASON_INVALID, "", "", NULL},
    {"FAIL\t1\treason=locked\twait=0", true, 0, OUTCOME_FAIL, REASON_LOCKED, "", "", NULL},
    {"FAIL\t1\treason=too_short\tdetail=Au moins 12 caract\xc3\xa8res.", true, 0, OUTCOME_FAIL,
     REASON_TOO_SHORT, "", "Au moins 12 caract\xc3\xa8res.", NULL},
    {"FAIL\t1\treason=context\tdetail=a\001nb\001tc", true, 0, OUTCOME_FAIL, REASON_CONTEXT, "",
     "a?b?c", NULL},
    /* A reason from a newer daemon is still a refusal. */
    {"FAIL\t1\treason=brand_new", true, 0, OUTCOME_FAIL, REASON_NONE, "", "", NULL},
    {"FAIL\t1", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "", "FAIL without a reason"},
    {"TEMPFAIL\t1\treason=tempfail", true, 0, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "", NULL},
    {"ROW\t1\tapp_id=3", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "", "unexpected ROW"},
    {"VERSION\t1\tmajor=1", true, -1, OUTCOME_TEMPFAIL, REASON_TEMPFAIL, "", "",
     "unexpected VERSION"},
};

static void test_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(answer_cases) / sizeof(answer_cases[0]); i++) {
		const struct answer_case *c = &answer_cases[i];
		char line[PROTO_LINE_MAX], err[256] = "";
		struct proto_msg msg;
		struct pv_answer a;

		print_message("answer %zu\n", i);
		snprintf(line, sizeof(line), "%s", c->line);
		assert_int_equal(proto_parse(line, strlen(line), &msg), PROTO_OK);
		assert_int_equal(
		    pv_answer_read(&msg, PV_REQUEST_ID, c->need_ident, &a, err, sizeof(err)),
		    c->rc);
		assert_int_equal(a.outcome, c->outcome);
		assert_int_equal(a.reason, c->reason);
		assert_string_equal(a.identifiant, c->ident);
		assert_string_equal(a.detail, c->detail);
		if (c->err != NULL)
			assert_non_null(strstr(err, c->err));
	}
}

/* ---- sanitizing and identifiants ---------------------------------------------------------- */

static void test_sanitize(void **state)
{
	static const struct {
		const char *in;
		size_t outlen;
		const char *out;
	} cases[] = {
	    {"plain", 64, "plain"},
	    {"", 64, ""},
	    {"a\tb\nc\rd\x1b[31me\x7f", 64, "a?b?c?d?[31me?"},
	    {"abcdef", 4, "abc"},
	    {"abcdef", 1, ""},
	    {"caract\xc3\xa8re", 64, "caract\xc3\xa8re"},
	    /* cut inside é (2 bytes), € (3 bytes), 🙂 (4 bytes): the partial sequence goes */
	    {"ab\xc3\xa9", 4, "ab"},
	    {"ab\xc3\xa9", 5, "ab\xc3\xa9"},
	    {"a\xe2\x82\xac", 3, "a"},
	    {"a\xe2\x82\xac", 4, "a"},
	    {"a\xe2\x82\xacz", 5, "a\xe2\x82\xac"},
	    {"a\xf0\x9f\x99\x82", 5, "a"},
	    {"a\xf0\x9f\x99\x82z", 6, "a\xf0\x9f\x99\x82"},
	    /* stray continuation bytes are left alone, never read before the buffer */
	    {"\x80\x80\x80\x80\x80\x80", 4, "\x80\x80\x80"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("sanitize %zu\n", i);
		memset(out, 'Z', sizeof(out));
		pv_sanitize(cases[i].in, out, cases[i].outlen);
		assert_string_equal(out, cases[i].out);
		assert_true(strlen(out) < cases[i].outlen);
	}
}

static void test_identifiant_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	    {"jdupont", true}, {"jdupont2", true}, {"a", true},    {S64, true},
	    {S64 "a", false},  {"", false},        {".a", false},  {"-a", false},
	    {"_a", false},     {"a/b", false},     {"a b", false}, {"Jdupont", false},
	    {"a.b-c_d", true}, {"a@b", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("identifiant '%s'\n", cases[i].s);
		assert_int_equal(pv_identifiant_valid(cases[i].s), cases[i].ok);
	}
}

/* ---- the exchange, against a fake daemon -------------------------------------------------- */

struct fake {
	const char *answer; /* NULL: say nothing until released */
	int release;
	char request[PROTO_LINE_MAX];
	int lfd;
	char dir[64], path[128];
	pthread_t thread;
};

static void fake_write(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0 && (n = send(fd, s, len, MSG_NOSIGNAL)) > 0)
		s += n, len -= (size_t)n;
}

static int fake_read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size && read(fd, buf + len, 1) == 1) {
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return 0;
		}
		len++;
	}
	buf[len] = '\0';
	return -1;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	struct timeval tv = {.tv_sec = 5};
	char version[128];
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fake_write(fd, "VERSION\t0\tmajor=1\tminor=0\n");
	fake_read_line(fd, version, sizeof(version));
	fake_read_line(fd, f->request, sizeof(f->request));
	if (f->answer != NULL)
		fake_write(fd, f->answer);
	while (f->answer == NULL && !__atomic_load_n(&f->release, __ATOMIC_SEQ_CST))
		usleep(10000);
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, const char *answer)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	f->answer = answer;
	strcpy(f->dir, "/tmp/test_pam.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	strcpy(sun.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	__atomic_store_n(&f->release, 1, __ATOMIC_SEQ_CST);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}

static void options_for(struct pv_options *opt, const char *path, int timeout_ms)
{
	char arg1[160], arg2[32], err[256];
	const char *argv[] = {arg1, arg2};

	snprintf(arg1, sizeof(arg1), "socket=%s", path);
	snprintf(arg2, sizeof(arg2), "timeout=%d", timeout_ms);
	assert_int_equal(pv_options_parse(2, argv, opt, err, sizeof(err)), 0);
}

static struct proto_writer *auth_request(const char *password)
{
	struct proto_writer *w = pv_request_new("AUTH");

	assert_non_null(w);
	proto_add(w, "login", "jdupont");
	proto_add(w, "password", password);
	proto_add(w, "appended", "1");
	return w;
}

/* pam_syslog takes a NULL handle: the exchange's log lines go nowhere here. */
static void test_exchange_answers(void **state)
{
	static const struct {
		const char *answer;
		enum proto_outcome outcome;
		enum proto_reason reason;
		const char *ident;
	} cases[] = {
	    {"OK\t1\tidentifiant=jdupont\n", OUTCOME_OK, REASON_NONE, "jdupont"},
	    {"FAIL\t1\treason=otp_required\n", OUTCOME_FAIL, REASON_OTP_REQUIRED, ""},
	    {"TEMPFAIL\t1\treason=tempfail\n", OUTCOME_TEMPFAIL, REASON_TEMPFAIL, ""},
	    {"OK\t9\tidentifiant=jdupont\n", OUTCOME_TEMPFAIL, REASON_TEMPFAIL, ""},
	    {"OK\t1\tidentifiant=a\001xb\n", OUTCOME_TEMPFAIL, REASON_TEMPFAIL, ""},
	    {"", OUTCOME_TEMPFAIL, REASON_TEMPFAIL, ""}, /* closed without a word */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pv_options opt;
		struct proto_writer *w = auth_request("Secret-1\t123456");
		struct pv_answer a;
		struct fake f;

		print_message("exchange %zu\n", i);
		fake_start(&f, cases[i].answer);
		options_for(&opt, f.path, 2000);
		pv_exchange(NULL, &opt, w, true, &a);
		/* The request went out whole and escaped, and the writer was wiped after. */
		assert_string_equal(f.request,
		                    "AUTH\t1\tlogin=jdupont\tpassword=Secret-1\001t123456"
		                    "\tappended=1");
		assert_int_equal(w->len, 0);
		assert_null(memmem(w->buf, sizeof(w->buf), "Secret-1", 8));
		pv_request_free(w);
		fake_stop(&f);
		assert_int_equal(a.outcome, cases[i].outcome);
		assert_int_equal(a.reason, cases[i].reason);
		assert_string_equal(a.identifiant, cases[i].ident);
	}
	pv_request_free(NULL);
}

static void test_exchange_unreachable(void **state)
{
	struct pv_options opt;
	struct proto_writer *w;
	struct pv_answer a;
	struct fake f;

	(void)state;
	/* No socket at all. */
	options_for(&opt, "/nonexistent/verdon/auth.sock", 500);
	w = auth_request("x");
	pv_exchange(NULL, &opt, w, true, &a);
	assert_int_equal(a.outcome, OUTCOME_TEMPFAIL);
	assert_int_equal(pv_pam_code(PV_CALL_AUTH, a.outcome, a.reason), PAM_AUTHINFO_UNAVAIL);
	assert_false(pv_reachable(NULL, &opt));
	pv_request_free(w);

	/* A daemon that reads the request and never answers: tempfail after the timeout. */
	fake_start(&f, NULL);
	options_for(&opt, f.path, 150);
	w = auth_request("x");
	pv_exchange(NULL, &opt, w, true, &a);
	assert_int_equal(a.outcome, OUTCOME_TEMPFAIL);
	pv_request_free(w);
	fake_stop(&f);

	fake_start(&f, "");
	options_for(&opt, f.path, 2000);
	assert_true(pv_reachable(NULL, &opt));
	fake_stop(&f);
}

/* A request over the line limit is refused here, never sent, never a success. */
static void test_exchange_too_long(void **state)
{
	struct pv_options opt;
	struct proto_writer *w;
	struct pv_answer a;
	char *big = malloc(PROTO_LINE_MAX);

	(void)state;
	assert_non_null(big);
	memset(big, 'p', PROTO_LINE_MAX - 1);
	big[PROTO_LINE_MAX - 1] = '\0';
	options_for(&opt, "/nonexistent/verdon/auth.sock", 500);
	w = auth_request(big);
	pv_exchange(NULL, &opt, w, true, &a);
	assert_int_equal(a.outcome, OUTCOME_FAIL);
	assert_int_equal(a.reason, REASON_BAD_REQUEST);
	assert_int_equal(pv_pam_code(PV_CALL_AUTH, a.outcome, a.reason), PAM_AUTH_ERR);
	assert_null(memmem(w->buf, sizeof(w->buf), "pppppppp", 8));
	pv_request_free(w);
	free(big);
}

static void test_reuse_option(void **state)
{
	static const struct {
		const char *arg;
		int rc;
		unsigned seconds;
	} cases[] = {
	    {NULL, 0, PV_REUSE_DEFAULT}, {"reuse_auth=0", 0, 0},       {"reuse_auth=60", 0, 60},
	    {"reuse_auth=007", 0, 7},     {"reuse_auth=61", -1, 0},      {"reuse_auth=", -1, 0},
	    {"reuse_auth=-1", -1, 0},     {"reuse_auth=1s", -1, 0},      {"reuse_auth=999999", -1, 0},
	    {"reuse_auth", -1, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = {cases[i].arg};
		struct pv_options opt;
		char err[128] = "";

		assert_int_equal(pv_options_parse(cases[i].arg != NULL, argv, &opt, err, sizeof(err)),
		                 cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(opt.reuse_auth_s, cases[i].seconds);
		else
			assert_non_null(strstr(err, "reuse_auth"));
	}
}

static void test_auth_ok_fits(void **state)
{
	struct pv_auth_ok ok;
	char long_name[PV_IDENT_MAX + 2];

	(void)state;
	assert_int_equal(pv_auth_ok_set(&ok, "jdupont", "imap", 1000), 0);
	assert_true(pv_auth_ok_fits(&ok, "jdupont", "imap", 1000, 5));
	assert_true(pv_auth_ok_fits(&ok, "jdupont", "imap", 6000, 5));
	/* Past the window, before it (a clock gone back), another person or service, or off. */
	assert_false(pv_auth_ok_fits(&ok, "jdupont", "imap", 6001, 5));
	assert_false(pv_auth_ok_fits(&ok, "jdupont", "imap", 999, 5));
	assert_false(pv_auth_ok_fits(&ok, "jdupon", "imap", 1000, 5));
	assert_false(pv_auth_ok_fits(&ok, "jdupont2", "imap", 1000, 5));
	assert_false(pv_auth_ok_fits(&ok, "jdupont", "smtp", 1000, 5));
	assert_false(pv_auth_ok_fits(&ok, "jdupont", "imap", 1000, 0));
	assert_false(pv_auth_ok_fits(&ok, NULL, "imap", 1000, 5));
	assert_false(pv_auth_ok_fits(NULL, "jdupont", "imap", 1000, 5));
	/* Names that do not fit are not kept, and what is left answers nothing. */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(pv_auth_ok_set(&ok, long_name, "imap", 1000), -1);
	assert_false(pv_auth_ok_fits(&ok, "", "imap", 1000, 5));
	assert_int_equal(pv_auth_ok_set(&ok, "", "imap", 1000), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_reuse_option),
	    cmocka_unit_test(test_auth_ok_fits),
	    cmocka_unit_test(test_options_null_and_long),
	    cmocka_unit_test(test_service_valid),
	    cmocka_unit_test(test_codes),
	    cmocka_unit_test(test_codes_never_success),
	    cmocka_unit_test(test_passwd_messages),
	    cmocka_unit_test(test_answers),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_identifiant_valid),
	    cmocka_unit_test(test_exchange_answers),
	    cmocka_unit_test(test_exchange_unreachable),
	    cmocka_unit_test(test_exchange_too_long),
	};

	return cmocka_run_group_tests_name("pam", tests, NULL, NULL);
}
