/*
 * verdonctl's pure parts: every command's arguments as the table parses
 * them and the request they build, the global options, the config, the
 * output (JSON mapping, tables, times), the error lines, the AUTH result,
 * and reading secret lines from a pipe.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "cli.h"
#include "cli_config.h"
#include "cli_output.h"
#include "cli_secret.h"
#include "proto.h"
#include "secret.h"

#define ARGV_MAX 16

/* ---- commands: argv → request line, or the start of the error ---- */

struct arg_case {
	const char *argv[ARGV_MAX]; /* command words first */
	const char *want;           /* the request without LF, or "!error prefix" */
	bool json;
};

#define ADD "user", "add", "--first", "Jean", "--last", "Dupont", "--numen", "08E0612345ABC", \
	    "--rescue-email", "j@x.fr"
#define ADD_LINE "USER_ADD\t1\tfirst=Jean\tlast=Dupont\tbirth=1980-05-12\tnumen=08E0612345ABC\t" \
		 "rescue_email=j@x.fr"

static const struct arg_case arg_cases[] = {
	{{ADD, "--birth", "1980-05-12"}, ADD_LINE, false},
	{{ADD, "--birth=1980-05-12", "--mobile", "0600000000", "--id=jd"},
	 ADD_LINE "\tmobile=0600000000\tidentifiant=jd", false},
	{{ADD}, "!missing --birth", false},
	{{ADD, "--birth", "2000-02-29"}, "USER_ADD", false},
	{{ADD, "--birth", "2024-02-29"}, "USER_ADD", false},
	{{ADD, "--birth", "1900-02-29"}, "!bad value for --birth: 1900-02-29", false},
	{{ADD, "--birth", "1980-02-30"}, "!bad value for --birth", false},
	{{ADD, "--birth", "1980-04-31"}, "!bad value for --birth", false},
	{{ADD, "--birth", "1980-12-31"}, "USER_ADD", false},
	{{ADD, "--birth", "1980-13-01"}, "!bad value for --birth", false},
	{{ADD, "--birth", "12/05/1980"}, "!bad value for --birth", false},
	{{ADD, "--birth", "1980-5-12"}, "!bad value for --birth", false},
	{{ADD, "--birth"}, "!option --birth needs a value", false},
	{{ADD, "--birth", "1980-05-12", "--first", "Paul"}, "!option --first given twice", false},
	{{ADD, "--birth", "1980-05-12", "extra"}, "!unexpected argument extra", false},
	{{ADD, "--birth", "1980-05-12", "--password", "x"}, "!unknown option --password", false},
	{{ADD, "--birth", "1980-05-12", "--firstname", "x"}, "!unknown option --firstname", false},
	{{ADD, "--birth", "1980-05-12", "--mobile", ""}, "!bad value for --mobile", false},
	{{ADD, "--birth", "1980-05-12", "--id", "a\tb"}, "!bad value for --id", false},
	{{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
	  "08E0612345AB", "--rescue-email", "j@x.fr"},
	 "!bad value for --numen: 08E0612345AB (expected 13 letters or digits)", false},
	{{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
	  "08E0612345ABCD", "--rescue-email", "j@x.fr"},
	 "!bad value for --numen", false},
	{{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
	  "08E0612345AB-", "--rescue-email", "j@x.fr"},
	 "!bad value for --numen", false},
	{{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
	  "08E0612345ABC", "--rescue-email", "a@b@c"},
	 "!bad value for --rescue-email", false},
	{{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
	  "08E0612345ABC", "--rescue-email", "@x.fr"},
	 "!bad value for --rescue-email", false},
	{{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
	  "08E0612345ABC", "--rescue-email", "j@"},
	 "!bad value for --rescue-email", false},
	{{"user", "import", "accounts.csv"}, "USER_ADD\t1", false},
	{{"user", "import", "-"}, "USER_ADD\t1", false},
	{{"user", "import"}, "!missing argument", false},
	{{"user", "show", "jdupont"}, "USER_SHOW\t1\tlogin=jdupont", false},
	{{"user", "show", "jdupont", "--json"}, "USER_SHOW\t1\tlogin=jdupont", true},
	{{"user", "show", "--", "-odd"}, "USER_SHOW\t1\tlogin=-odd", false},
	{{"user", "show"}, "!missing argument", false},
	{{"user", "show", ""}, "!empty argument", false},
	{{"user", "show", "a", "b"}, "!unexpected argument b", false},
	{{"user", "show", "a", "-x"}, "!unknown option -x", false},
	{{"user", "list"}, "USER_LIST\t1", false},
	{{"user", "list", "--state", "deleted", "--limit", "50"},
	 "USER_LIST\t1\tstate=deleted\tlimit=50", false},
	{{"user", "list", "--limit", "1"}, "USER_LIST\t1\tlimit=1", false},
	{{"user", "list", "--limit", "1000000"}, "USER_LIST\t1\tlimit=1000000", false},
	{{"user", "list", "--limit", "0"}, "!bad value for --limit: 0", false},
	{{"user", "list", "--limit", "1000001"}, "!bad value for --limit", false},
	{{"user", "list", "--limit", "-5"}, "!bad value for --limit", false},
	{{"user", "list", "--limit", "12a"}, "!bad value for --limit", false},
	{{"user", "list", "--state", "Active"},
	 "!bad value for --state: Active (expected one of active|suspended|deleted)", false},
	{{"user", "list", "--state", "activ"}, "!bad value for --state", false},
	{{"user", "list", "jdupont"}, "!unexpected argument jdupont", false},
	{{"user", "reset-password", "jd"}, "USER_RESET\t1\tlogin=jd", false},
	{{"user", "unlock", "jd"}, "USER_UNLOCK\t1\tlogin=jd", false},
	{{"user", "suspend", "jd"}, "USER_SUSPEND\t1\tlogin=jd", false},
	{{"user", "suspend", "jd", "--reason", "départ\tlà"}, "!bad value for --reason", false},
	{{"user", "suspend", "--reason=congé long", "jd"},
	 "USER_SUSPEND\t1\tlogin=jd\treason=congé long", false},
	{{"user", "resume", "jd"}, "USER_RESUME\t1\tlogin=jd", false},
	{{"user", "delete", "jd"}, "USER_DELETE\t1\tlogin=jd", false},
	{{"user", "restore", "jd"}, "USER_RESTORE\t1\tlogin=jd", false},
	{{"otp", "enroll", "jd"}, "OTP_ENROLL\t1\tlogin=jd", false},
	{{"otp", "enroll", "jd", "--png", "/tmp/q.png", "--algorithm", "SHA256", "--digits", "8"},
	 "OTP_ENROLL\t1\tlogin=jd\talgorithm=SHA256\tdigits=8", false},
	{{"otp", "enroll", "jd", "--algorithm", "SHA512"}, "OTP_ENROLL\t1\tlogin=jd\talgorithm=SHA512",
	 false},
	{{"otp", "enroll", "jd", "--algorithm", "sha1"}, "!bad value for --algorithm", false},
	{{"otp", "enroll", "jd", "--algorithm", "SHA"}, "!bad value for --algorithm", false},
	{{"otp", "enroll", "jd", "--digits", "7"}, "!bad value for --digits: 7", false},
	{{"otp", "enroll", "jd", "--png", ""}, "!bad value for --png", false},
	{{"otp", "confirm", "jd", "123456"}, "OTP_CONFIRM\t1\tlogin=jd\tcode=123456", false},
	{{"otp", "confirm", "jd"}, "OTP_CONFIRM\t1\tlogin=jd", false},
	{{"otp", "confirm", "jd", "1", "2"}, "!unexpected argument 2", false},
	{{"otp", "reset", "jd"}, "OTP_RESET\t1\tlogin=jd", false},
	{{"otp", "status", "jd"}, "OTP_STATUS\t1\tlogin=jd", false},
	{{"auth", "check", "jd"}, "AUTH\t1\tlogin=jd\tservice=helpdesk", false},
	{{"auth", "check", "jd", "--service", "imap", "--address", "2001:db8::1"},
	 "AUTH\t1\tlogin=jd\tservice=imap\taddress=2001:db8::1", false},
	{{"auth", "check", "jd", "--address", "192.0.2.1"},
	 "AUTH\t1\tlogin=jd\tservice=helpdesk\taddress=192.0.2.1", false},
	{{"auth", "check", "jd", "--address", "1.2.3"}, "!bad value for --address", false},
	{{"auth", "check", "jd", "--address", "256.1.1.1"}, "!bad value for --address", false},
	{{"auth", "check", "jd", "--password", "x"}, "!unknown option --password", false},
	{{"auth", "passwd", "jd"}, "PASSWD\t1\tlogin=jd", false},
	{{"auth", "passwd", "jd", "--service", "webmail"}, "PASSWD\t1\tlogin=jd\tservice=webmail",
	 false},
	{{"audit"}, "AUDIT\t1", false},
	{{"audit", "jd", "--limit", "5"}, "AUDIT\t1\tlogin=jd\tlimit=5", false},
	{{"audit", "a", "b"}, "!unexpected argument b", false},
	{{"backup", "/var/backups/verdon.mdb"}, "BACKUP\t1", false},
	{{"backup"}, "!missing argument", false},
	{{"status"}, "STATUS\t1", false},
	{{"status", "--json"}, "STATUS\t1", true},
	{{"status", "now"}, "!unexpected argument now", false},
};

static int count_args(const char *const *argv)
{
	int n = 0;

	while (n < ARGV_MAX && argv[n] != NULL)
		n++;
	return n;
}

static void test_command_args(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(arg_cases) / sizeof(arg_cases[0]); i++) {
		const struct arg_case *c = &arg_cases[i];
		char **argv = (char **)c->argv, err[512] = "";
		int argc = count_args(c->argv), used, r;
		const struct cli_command *cmd = cli_command_find(argc, argv, &used);
		struct cli_args args;
		struct proto_writer w;

		assert_non_null(cmd);
		r = cli_args_parse(cmd, argc - used, argv + used, &args, err, sizeof(err));
		if (c->want[0] == '!') {
			if (r != -1 || strncmp(err, c->want + 1, strlen(c->want + 1)) != 0)
				fail_msg("case %zu (%s %s): got %d \"%s\", want \"%s\"", i, c->argv[0],
					 c->argv[1], r, err, c->want + 1);
			continue;
		}
		if (r != 0)
			fail_msg("case %zu (%s %s): %s", i, c->argv[0], c->argv[1], err);
		assert_int_equal(args.json, c->json);
		cli_request_build(cmd, &args, "1", &w);
		assert_int_equal(proto_end(&w), 0);
		w.buf[w.len - 1] = '\0';
		if (strcmp(w.buf, c->want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, w.buf, c->want);
		proto_writer_wipe(&w);
	}
}

static void test_command_find(void **state)
{
	static const struct {
		const char *argv[3];
		const char *name; /* NULL: not found */
		int used;
	} cases[] = {
		{{"user", "add", NULL}, "add", 2},    {{"status", NULL, NULL}, "status", 1},
		{{"help", NULL, NULL}, "help", 1},    {{"audit", "jd", NULL}, "audit", 1},
		{{"user", NULL, NULL}, NULL, 0},      {{"user", "nope", NULL}, NULL, 0},
		{{"nope", NULL, NULL}, NULL, 0},      {{"add", NULL, NULL}, NULL, 0},
		{{"otp", "status", NULL}, "status", 2}, {{"auth", "check", "x"}, "check", 2},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int used = -1, argc = cases[i].argv[1] == NULL ? 1 : cases[i].argv[2] == NULL ? 2 : 3;
		const struct cli_command *cmd =
			cli_command_find(argc, (char **)cases[i].argv, &used);

		if (cases[i].name == NULL) {
			assert_null(cmd);
			continue;
		}
		assert_non_null(cmd);
		assert_string_equal(cmd->name, cases[i].name);
		assert_int_equal(used, cases[i].used);
	}
	assert_null(cli_command_find(0, NULL, &(int){0}));
}

/* Every entry is usable: a usage line, a handler, a verb when it talks to the daemon. */
static void test_command_table(void **state)
{
	(void)state;
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++) {
		assert_non_null(c->run);
		assert_non_null(c->usage);
		assert_true(c->min_args <= c->max_args && c->max_args <= CLI_ARGS_MAX);
		assert_true(c->socket == CLI_SOCKET_NONE || c->verb != NULL);
		for (int k = 0; c->opts != NULL && c->opts[k].name != NULL; k++)
			assert_true(k < CLI_OPTS_MAX);
	}
}

#include "test_cli_more.inc"
