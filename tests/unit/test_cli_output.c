/*
 * What verdonctl prints: the JSON mapping of a reply, times, secrets in
 * groups of four, display widths, field lists and tables, the error lines
 * and the AUTH result. What it reads is in test_cli.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "proto.h"

/* ---- output ---- */

static void parse_line(const char *text, char *buf, size_t len, struct proto_msg *msg)
{
	snprintf(buf, len, "%s", text);
	assert_int_equal(proto_parse(buf, strlen(buf), msg), PROTO_OK);
}

static void test_msg_json(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
	    {"OK\t1\tidentifiant=jd\tcreated=1700000000\tlocked=1\tpassword_temporary=0\t"
	     "failures=3\tlast_login=\tmobile=\totp=none\tdrift=-1\tversion=0.1.0",
	     "{\"identifiant\":\"jd\",\"created\":1700000000,\"locked\":true,"
	     "\"password_temporary\":false,\"failures\":3,\"last_login\":null,\"mobile\":\"\","
	     "\"otp\":\"none\",\"drift\":-1,\"version\":\"0.1.0\"}"},
	    /* A numeric key whose value is not a number stays a string. */
	    {"OK\t1\trecovery_codes=ab12-cd34,ef56-gh78\tcount=12x\tlocked=2",
	     "{\"recovery_codes\":\"ab12-cd34,ef56-gh78\",\"count\":\"12x\",\"locked\":\"2\"}"},
	    {"OK\t1", "{}"},
	    {"OK\t1\tfirst=H\xc3\xa9l\xc3\xa8ne\tlast=bad\xff",
	     "{\"first\":\"Hélène\",\"last\":\"bad?\"}"},
	    {"OK\t1\tcount=99999999999999999999", "{\"count\":\"99999999999999999999\"}"},
	};
	char buf[1024];
	struct proto_msg msg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *obj;
		char *out;

		parse_line(cases[i].line, buf, sizeof(buf), &msg);
		obj = cli_msg_json(&msg);
		assert_non_null(obj);
		out = json_dumps(obj, JSON_COMPACT);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, out, cases[i].want);
		free(out);
		json_decref(obj);
	}
}

static void test_format_time(void **state)
{
	static const struct {
		long long t;
		const char *want;
	} cases[] = {
	    {0, "-"},
	    {-5, "-"},
	    {1, "1970-01-01T00:00:01Z"},
	    {1700000000, "2023-11-14T22:13:20Z"},
	    {951782400, "2000-02-29T00:00:00Z"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_format_time(buf, sizeof(buf), cases[i].t);
		assert_string_equal(buf, cases[i].want);
	}
	cli_format_time(buf, 5, 1700000000);
	assert_string_equal(buf, "-");
}

static void test_group4(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
	    {"", 64, ""},
	    {"ABC", 64, "ABC"},
	    {"ABCD", 64, "ABCD"},
	    {"ABCDE", 64, "ABCD E"},
	    {"SBR4ZRQEASMIUXSTAF25IJ2ZXY2JZHDM", 64, "SBR4 ZRQE ASMI UXST AF25 IJ2Z XY2J ZHDM"},
	    {"ABCDEFGH", 6, "ABCD"},
	    {"ABCDEFGH", 7, "ABCD E"},
	    {"ABCDEFGH", 1, ""},
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_group4(cases[i].in, buf, cases[i].len);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_display_width(void **state)
{
	(void)state;
	assert_int_equal(cli_display_width(""), 0);
	assert_int_equal(cli_display_width("abc"), 3);
	assert_int_equal(cli_display_width("Hélène"), 6);
	assert_int_equal(cli_display_width("N'Guyen-Élie"), 12);
	assert_int_equal(cli_display_width("\xe2\x96\x80"), 1);
}

/* Runs fn on a memory stream and compares what it wrote. */
#define EXPECT_OUTPUT(want, call)                                                                  \
	do {                                                                                       \
		char *text_ = NULL;                                                                \
		size_t len_ = 0;                                                                   \
		FILE *out = open_memstream(&text_, &len_);                                         \
		assert_non_null(out);                                                              \
		call;                                                                              \
		fclose(out);                                                                       \
		assert_string_equal(text_, want);                                                  \
		free(text_);                                                                       \
	} while (0)

static void test_print_fields(void **state)
{
	char buf[512];
	struct proto_msg msg;

	(void)state;
	parse_line("OK\t1\tidentifiant=jd\tcreated=1700000000\tlocked=1\tmobile=\t"
	           "state_reason=a\001tb\033[31m",
	           buf, sizeof(buf), &msg);
	EXPECT_OUTPUT("identifiant   jd\n"
	              "created       2023-11-14T22:13:20Z\n"
	              "locked        yes\n"
	              "mobile        -\n"
	              "state_reason  a?b?[31m\n",
	              cli_print_fields(out, &msg, NULL));
	EXPECT_OUTPUT("created       2023-11-14T22:13:20Z\n"
	              "locked        yes\n"
	              "mobile        -\n"
	              "state_reason  a?b?[31m\n",
	              cli_print_fields(out, &msg, "identifiant"));
}

static void test_print_table(void **state)
{
	static const struct cli_column cols[] = {
	    {"identifiant", "id", "IDENTIFIANT"},
	    {"first", NULL, "FIRST"},
	    {"time", "t", "TIME"},
	    {"otp", NULL, "OTP"},
	};
	json_t *rows =
	    json_loads("[{\"identifiant\":\"jd\",\"first\":\"Hélène\",\"t\":1,\"otp\":true},"
	               "{\"id\":\"abcdefghijklm\",\"first\":\"\",\"time\":0,\"otp\":\"none\"},"
	               "{\"first\":7}]",
	               0, NULL);

	(void)state;
	assert_non_null(rows);
	EXPECT_OUTPUT("IDENTIFIANT    FIRST   TIME                  OTP\n"
	              "jd             Hélène  1970-01-01T00:00:01Z  yes\n"
	              "abcdefghijklm  -       -                     none\n"
	              "-              7       -                     -\n",
	              cli_print_table(out, rows, cols, 4));
	json_decref(rows);
	rows = json_array();
	EXPECT_OUTPUT("IDENTIFIANT  FIRST  TIME  OTP\n", cli_print_table(out, rows, cols, 4));
	json_decref(rows);
}

static void test_put_safe(void **state)
{
	(void)state;
	EXPECT_OUTPUT("?[2J?x\x7e?", cli_put_safe(out, "\033[2J\nx~\x7f"));
	EXPECT_OUTPUT("Élie", cli_put_safe(out, "Élie"));
}

/* ---- errors and results ---- */

static void test_fail_message(void **state)
{
	static const struct {
		const char *subject, *reason, *detail, *wait, *want;
	} cases[] = {
	    {"jd", "not_found", NULL, NULL, "jd: not found"},
	    {NULL, "forbidden", NULL, NULL,
	     "refused: forbidden (run as root or a member of the admin group)"},
	    {"jd", "forbidden", NULL, NULL,
	     "refused: forbidden (run as root or a member of the admin group)"},
	    {"jd", "bad_request", "numen: 13 characters", NULL,
	     "jd: refused: bad_request: numen: 13 characters"},
	    {NULL, "bad_request", "state", NULL, "refused: bad_request: state"},
	    {"jd", "locked", NULL, "30", "jd: refused: locked (wait 30 s)"},
	    {"jd", "locked", NULL, "0", "jd: refused: locked (locked until verdonctl user unlock)"},
	    {"jd", "no_pending_otp", NULL, NULL,
	     "jd: no authenticator waiting for confirmation (run verdonctl otp enroll first)"},
	    {"jd", "exists", NULL, NULL,
	     "jd: already exists (verdonctl user show tells which account holds it)"},
	    {"jd", "wrong_state", "not active", NULL,
	     "jd: refused: wrong_state: not active (verdonctl user show gives the account's "
	     "state)"},
	    {NULL, NULL, NULL, NULL, "refused: unknown"},
	    {"jd", "brand_new", "x\ny", NULL, "jd: refused: brand_new: x?y"},
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_fail_message(buf, sizeof(buf), cases[i].subject, cases[i].reason,
		                 cases[i].detail, cases[i].wait);
		assert_string_equal(buf, cases[i].want);
	}
	cli_fail_message(buf, 8, "jdupont", "not_found", NULL, NULL);
	assert_string_equal(buf, "jdupont");
}

static void test_auth_result(void **state)
{
	static const struct {
		const char *line;
		bool detail;
		int exit;
		const char *text, *json;
	} cases[] = {
	    {"OK\t1\tidentifiant=jdupont", false, 0, "ok jdupont\n",
	     "{\"result\":\"ok\",\"identifiant\":\"jdupont\",\"reason\":null}"},
	    {"FAIL\t1\treason=otp_required", false, 1, "refused: otp_required\n",
	     "{\"result\":\"refused\",\"reason\":\"otp_required\"}"},
	    {"FAIL\t1\treason=invalid", false, 1, "refused: invalid\n",
	     "{\"result\":\"refused\",\"reason\":\"invalid\"}"},
	    {"FAIL\t1\treason=locked\twait=30", false, 1, "refused: locked (wait 30 s)\n",
	     "{\"result\":\"refused\",\"reason\":\"locked\",\"wait\":30}"},
	    {"FAIL\t1\treason=locked\twait=0", false, 1,
	     "refused: locked (until an admin unlocks it)\n",
	     "{\"result\":\"refused\",\"reason\":\"locked\",\"wait\":0}"},
	    {"TEMPFAIL\t1\treason=tempfail", false, 3, "tempfail\n",
	     "{\"result\":\"tempfail\",\"reason\":\"tempfail\"}"},
	    {"TEMPFAIL\t1", false, 3, "tempfail\n",
	     "{\"result\":\"tempfail\",\"reason\":\"tempfail\"}"},
	    {"FAIL\t1\treason=too_short\tdetail=Trop court", true, 1,
	     "refused: too_short: Trop court\n",
	     "{\"result\":\"refused\",\"reason\":\"too_short\",\"detail\":\"Trop court\"}"},
	    {"FAIL\t1\treason=too_short\tdetail=Trop court", false, 1, "refused: too_short\n",
	     "{\"result\":\"refused\",\"reason\":\"too_short\"}"},
	    {"OK\t1\tidentifiant=jd", true, 0, "ok jd\n",
	     "{\"result\":\"ok\",\"identifiant\":\"jd\",\"reason\":null}"},
	};
	char buf[256];
	struct proto_msg msg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *got, *want;
		char *text = NULL;
		size_t len = 0;
		FILE *jout;

		parse_line(cases[i].line, buf, sizeof(buf), &msg);
		EXPECT_OUTPUT(cases[i].text,
		              assert_int_equal(cli_auth_result(out, false, &msg, cases[i].detail),
		                               cases[i].exit));
		jout = open_memstream(&text, &len);
		assert_int_equal(cli_auth_result(jout, true, &msg, cases[i].detail), cases[i].exit);
		fclose(jout);
		got = json_loads(text, 0, NULL);
		want = json_loads(cases[i].json, 0, NULL);
		if (!json_equal(got, want))
			fail_msg("case %zu: got %s", i, text);
		json_decref(got);
		json_decref(want);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg_json),     cmocka_unit_test(test_format_time),
	    cmocka_unit_test(test_group4),       cmocka_unit_test(test_display_width),
	    cmocka_unit_test(test_print_fields), cmocka_unit_test(test_print_table),
	    cmocka_unit_test(test_put_safe),     cmocka_unit_test(test_fail_message),
	    cmocka_unit_test(test_auth_result),
	};

	/* verdonctl's own allocator for jansson, which wipes what it frees */
	cli_output_init();
	return cmocka_run_group_tests_name("cli_output", tests, NULL, NULL);
}
