/*
 * What verdonctl reads: every command's arguments as the table parses
 * them and the request they build, the global options, the config, secret
 * lines from a pipe and the backup path. What it prints is in
 * test_cli_output.c.
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

#include "cli.h"
#include "cli_config.h"
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

#define ADD                                                                                        \
	"user", "add", "--first", "Jean", "--last", "Dupont", "--numen", "08E0612345ABC",          \
	    "--rescue-email", "j@x.fr"
#define ADD_LINE_B(b)                                                                              \
	"USER_ADD\t1\tfirst=Jean\tlast=Dupont\tbirth=" b "\tnumen=08E0612345ABC\t"                 \
	"rescue_email=j@x.fr"
#define ADD_LINE ADD_LINE_B("1980-05-12")

static const struct arg_case arg_cases[] = {
    {{ADD, "--birth", "1980-05-12"}, ADD_LINE, false},
    {{ADD, "--birth=1980-05-12", "--mobile", "0600000000", "--id=jd"},
     ADD_LINE "\tmobile=0600000000\tidentifiant=jd",
     false},
    {{ADD}, "!missing --birth", false},
    {{ADD, "--birth", "2000-02-29"}, ADD_LINE_B("2000-02-29"), false},
    {{ADD, "--birth", "2024-02-29"}, ADD_LINE_B("2024-02-29"), false},
    {{ADD, "--birth", "1900-02-29"}, "!bad value for --birth: 1900-02-29", false},
    {{ADD, "--birth", "1980-02-30"}, "!bad value for --birth", false},
    {{ADD, "--birth", "1980-04-31"}, "!bad value for --birth", false},
    {{ADD, "--birth", "1980-12-31"}, ADD_LINE_B("1980-12-31"), false},
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
     "!bad value for --numen: 08E0612345AB (expected 13 letters or digits)",
     false},
    {{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
      "08E0612345ABCD", "--rescue-email", "j@x.fr"},
     "!bad value for --numen",
     false},
    {{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
      "08E0612345AB-", "--rescue-email", "j@x.fr"},
     "!bad value for --numen",
     false},
    {{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
      "08E0612345ABC", "--rescue-email", "a@b@c"},
     "!bad value for --rescue-email",
     false},
    {{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
      "08E0612345ABC", "--rescue-email", "@x.fr"},
     "!bad value for --rescue-email",
     false},
    {{"user", "add", "--first", "J", "--last", "D", "--birth", "1980-05-12", "--numen",
      "08E0612345ABC", "--rescue-email", "j@"},
     "!bad value for --rescue-email",
     false},
    {{"user", "import", "accounts.csv"}, "USER_ADD\t1", false},
    {{"user", "import", "-"}, "USER_ADD\t1", false},
    {{"user", "import"}, "!missing argument", false},
    {{"user", "show", "jdupont"}, "USER_SHOW\t1\tlogin=jdupont", false},
    {{"user", "show", "jdupont", "--json"}, "USER_SHOW\t1\tlogin=jdupont", true},
    {{"user", "show", "--", "-odd"}, "USER_SHOW\t1\tlogin=-odd", false},
    {{"user", "show", "--numen", "12A3456789XYZ"}, "USER_SHOW\t1\tnumen=12A3456789XYZ", false},
    {{"user", "show", "--numen", "short"},
     "!bad value for --numen: short (expected 13 letters or digits)",
     false},
    {{"user", "set", "jd", "--last", "Martin", "--etablissement", "0750001A"},
     "USER_SET\t1\tlogin=jd\tlast=Martin\tetablissement=0750001A",
     false},
    {{"user", "rename", "jd"}, "USER_RENAME\t1\tlogin=jd", false},
    {{"user", "unalias", "jd", "old"}, "USER_UNALIAS\t1\tlogin=jd\talias=old", false},
    {{"user", "import", "f.csv", "--skip-bad", "--dry-run", "--out", "o.csv"},
     "USER_ADD\t1",
     false},
    {{"user", "import", "f.csv", "--skip-bad", "--skip-bad"},
     "!option --skip-bad given twice",
     false},
    {{"user", "show", ""}, "!empty argument", false},
    {{"user", "show", "a", "b"}, "!unexpected argument b", false},
    {{"user", "show", "a", "-x"}, "!unknown option -x", false},
    {{"user", "list"}, "USER_LIST\t1", false},
    {{"user", "list", "--state", "deleted", "--limit", "50"},
     "USER_LIST\t1\tstate=deleted\tlimit=50",
     false},
    {{"user", "list", "--limit", "1"}, "USER_LIST\t1\tlimit=1", false},
    {{"user", "list", "--limit", "1000000"}, "USER_LIST\t1\tlimit=1000000", false},
    {{"user", "list", "--limit", "0"}, "!bad value for --limit: 0", false},
    {{"user", "list", "--limit", "1000001"}, "!bad value for --limit", false},
    {{"user", "list", "--limit", "-5"}, "!bad value for --limit", false},
    {{"user", "list", "--limit", "12a"}, "!bad value for --limit", false},
    {{"user", "list", "--state", "Active"},
     "!bad value for --state: Active (expected one of active|suspended|deleted)",
     false},
    {{"user", "list", "--state", "activ"}, "!bad value for --state", false},
    {{"user", "list", "jdupont"}, "!unexpected argument jdupont", false},
    {{"user", "reset-password", "jd"}, "USER_RESET\t1\tlogin=jd", false},
    {{"user", "unlock", "jd"}, "USER_UNLOCK\t1\tlogin=jd", false},
    {{"user", "suspend", "jd"}, "USER_SUSPEND\t1\tlogin=jd", false},
    {{"user", "suspend", "jd", "--reason", "départ\tlà"}, "!bad value for --reason", false},
    {{"user", "suspend", "--reason=congé long", "jd"},
     "USER_SUSPEND\t1\tlogin=jd\treason=congé long",
     false},
    {{"user", "resume", "jd"}, "USER_RESUME\t1\tlogin=jd", false},
    {{"user", "delete", "jd"}, "USER_DELETE\t1\tlogin=jd", false},
    {{"user", "restore", "jd"}, "USER_RESTORE\t1\tlogin=jd", false},
    {{"otp", "enroll", "jd"}, "OTP_ENROLL\t1\tlogin=jd", false},
    {{"otp", "enroll", "jd", "--png", "/tmp/q.png", "--algorithm", "SHA256", "--digits", "8"},
     "OTP_ENROLL\t1\tlogin=jd\talgorithm=SHA256\tdigits=8",
     false},
    {{"otp", "enroll", "jd", "--algorithm", "SHA512"},
     "OTP_ENROLL\t1\tlogin=jd\talgorithm=SHA512",
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
     "AUTH\t1\tlogin=jd\tservice=imap\taddress=2001:db8::1",
     false},
    {{"auth", "check", "jd", "--address", "192.0.2.1"},
     "AUTH\t1\tlogin=jd\tservice=helpdesk\taddress=192.0.2.1",
     false},
    {{"auth", "check", "jd", "--address", "1.2.3"}, "!bad value for --address", false},
    {{"auth", "check", "jd", "--address", "256.1.1.1"}, "!bad value for --address", false},
    {{"auth", "check", "jd", "--password", "x"}, "!unknown option --password", false},
    {{"auth", "passwd", "jd"}, "PASSWD\t1\tlogin=jd", false},
    {{"auth", "passwd", "jd", "--service", "webmail"},
     "PASSWD\t1\tlogin=jd\tservice=webmail",
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
				fail_msg("case %zu (%s %s): got %d \"%s\", want \"%s\"", i,
				         c->argv[0], c->argv[1], r, err, c->want + 1);
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
	    {{"user", "add", NULL}, "add", 2},      {{"status", NULL, NULL}, "status", 1},
	    {{"help", NULL, NULL}, "help", 1},      {{"audit", "jd", NULL}, "audit", 1},
	    {{"user", NULL, NULL}, NULL, 0},        {{"user", "nope", NULL}, NULL, 0},
	    {{"nope", NULL, NULL}, NULL, 0},        {{"add", NULL, NULL}, NULL, 0},
	    {{"otp", "status", NULL}, "status", 2}, {{"auth", "check", "x"}, "check", 2},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int used = -1, argc = cases[i].argv[1] == NULL   ? 1
		                      : cases[i].argv[2] == NULL ? 2
		                                                 : 3;
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
		/* verdonctl help CMD explains every command, with an example */
		if (!cli_help_has_text(c))
			fail_msg("no help text for %s %s", c->group ? c->group : "", c->name);
		for (int k = 0; c->opts != NULL && c->opts[k].name != NULL; k++) {
			assert_true(k < CLI_OPTS_MAX);
			/* every option is named in the usage line */
			assert_non_null(strstr(c->usage, c->opts[k].name));
		}
	}
}

/* ---- global options ---- */

struct global_case {
	const char *argv[ARGV_MAX];
	int next; /* -1: error */
	const char *conf, *socket;
	int timeout;
	bool json, help;
};

static const struct global_case global_cases[] = {
    {{"verdonctl", "status"}, 1, CLI_DEFAULT_CONF, NULL, CLI_TIMEOUT_DEFAULT, false, false},
    {{"verdonctl", "-c", "/x.conf", "--json", "--socket", "/s", "--timeout", "500", "user", "show"},
     8,
     "/x.conf",
     "/s",
     500,
     true,
     false},
    {{"verdonctl", "-c/y.conf", "status"}, 2, "/y.conf", NULL, CLI_TIMEOUT_DEFAULT, false, false},
    {{"verdonctl", "--config=/z.conf", "--socket=/t", "status"},
     3,
     "/z.conf",
     "/t",
     CLI_TIMEOUT_DEFAULT,
     false,
     false},
    {{"verdonctl", "--timeout=1", "status"}, 2, CLI_DEFAULT_CONF, NULL, 1, false, false},
    {{"verdonctl", "--timeout", "3600000"}, 3, CLI_DEFAULT_CONF, NULL, 3600000, false, false},
    {{"verdonctl", "--timeout", "3600001"}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "--timeout=0", "status"}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "--timeout", "1s"}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "--timeout"}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "-c"}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "--socket="}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "-x", "status"}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "--jsonx", "status"}, -1, NULL, NULL, 0, false, false},
    {{"verdonctl", "--", "-c"}, 2, CLI_DEFAULT_CONF, NULL, CLI_TIMEOUT_DEFAULT, false, false},
    {{"verdonctl", "-h"}, 2, CLI_DEFAULT_CONF, NULL, CLI_TIMEOUT_DEFAULT, false, true},
    {{"verdonctl", "--help", "user"}, 2, CLI_DEFAULT_CONF, NULL, CLI_TIMEOUT_DEFAULT, false, true},
    {{"verdonctl"}, 1, CLI_DEFAULT_CONF, NULL, CLI_TIMEOUT_DEFAULT, false, false},
};

static void test_global_options(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(global_cases) / sizeof(global_cases[0]); i++) {
		const struct global_case *c = &global_cases[i];
		struct cli_ctx ctx = {.conf_path = CLI_DEFAULT_CONF,
		                      .timeout_ms = CLI_TIMEOUT_DEFAULT};
		char err[256] = "";
		int next = -7;
		int r = cli_global_parse(count_args(c->argv), (char **)c->argv, &ctx, &next, err,
		                         sizeof(err));

		if (c->next == -1) {
			if (r != -1 || err[0] == '\0')
				fail_msg("case %zu: accepted", i);
			continue;
		}
		if (r != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(next, c->next);
		assert_string_equal(ctx.conf_path, c->conf);
		assert_int_equal(ctx.conf_given, strcmp(c->conf, CLI_DEFAULT_CONF) != 0);
		if (c->socket != NULL)
			assert_string_equal(ctx.admin_socket, c->socket);
		assert_int_equal(ctx.socket_given, c->socket != NULL);
		assert_int_equal(ctx.timeout_ms, c->timeout);
		assert_int_equal(ctx.json, c->json);
		assert_int_equal(ctx.help, c->help);
	}
}

/* ---- config ---- */

struct config_case {
	const char *name;
	const char *text; /* NULL: the file does not exist */
	bool required;
	const char *admin, *auth; /* NULL: an error starting with err */
	const char *err;
};

static const struct config_case config_cases[] = {
    {"both", "[verdon]\nadmin_socket = /a.sock\nauth_socket=/b.sock\n", true, "/a.sock", "/b.sock",
     NULL},
    {"admin_only", "[verdon]\nadmin_socket = /a.sock\n", true, "/a.sock", CLI_DEFAULT_AUTH, NULL},
    {"other_keys_ignored",
     "; comment\n[verdon]\nstate_dir = /var/lib/verdon\nunknown_key = 1\n"
     "[password]\nadmin_socket = /wrong.sock\n[verdon]\nauth_socket = /b.sock\n",
     true, CLI_DEFAULT_ADMIN, "/b.sock", NULL},
    {"last_wins", "[verdon]\nadmin_socket = /a\nadmin_socket = /c\n", true, "/c", CLI_DEFAULT_AUTH,
     NULL},
    {"empty_file", "", true, CLI_DEFAULT_ADMIN, CLI_DEFAULT_AUTH, NULL},
    {"missing_default", NULL, false, CLI_DEFAULT_ADMIN, CLI_DEFAULT_AUTH, NULL},
    {"missing_given", NULL, true, NULL, NULL, "cannot read "},
    {"syntax", "[verdon]\nadmin_socket = /a\nthis line is wrong\n", true, NULL, NULL, ":3: "},
    {"empty_value", "[verdon]\nadmin_socket =\n", true, NULL, NULL, ""},
    {"too_long",
     "[verdon]\nauth_socket = /run/verdon/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
     true, NULL, NULL, ""},
};

static void test_config(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]); i++) {
		const struct config_case *c = &config_cases[i];
		char path[] = "/tmp/test_cli_conf.XXXXXX", err[512] = "";
		struct cli_config cfg = {NULL, NULL};
		int fd = mkstemp(path), r;

		assert_true(fd >= 0);
		if (c->text != NULL)
			assert_int_equal(write(fd, c->text, strlen(c->text)),
			                 (ssize_t)strlen(c->text));
		close(fd);
		if (c->text == NULL)
			unlink(path);
		r = cli_config_read(path, c->required, &cfg, err, sizeof(err));
		unlink(path);
		if (c->admin == NULL) {
			if (r != -1 || err[0] == '\0' || strstr(err, c->err) == NULL)
				fail_msg("%s: got %d \"%s\", want \"%s\"", c->name, r, err, c->err);
			assert_null(cfg.admin_socket);
			continue;
		}
		if (r != 0)
			fail_msg("%s: %s", c->name, err);
		assert_string_equal(cfg.admin_socket, c->admin);
		assert_string_equal(cfg.auth_socket, c->auth);
		cli_config_clear(&cfg);
	}
}

/* ---- secrets from a pipe ---- */

static int pipe_with(const char *data, size_t len)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], data, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

static void test_secret_read(void **state)
{
	static const char input[] = "pass word\r\ncode\n\n\r\nlast";
	static const char *const want[] = {"pass word", "code", "", "", "last"};
	char *line = NULL, *big;
	int fd = pipe_with(input, sizeof(input) - 1);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(cli_secret_read(fd, "prompt", false, &line), 1);
		assert_string_equal(line, want[i]);
		secret_free(line);
	}
	assert_int_equal(cli_secret_read(fd, NULL, true, &line), 0);
	assert_null(line);
	close(fd);

	/* The longest line that fits, then one byte more. */
	big = malloc(CLI_SECRET_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', CLI_SECRET_MAX + 1);
	big[CLI_SECRET_MAX - 1] = '\n';
	fd = pipe_with(big, CLI_SECRET_MAX);
	assert_int_equal(cli_secret_read(fd, NULL, false, &line), 1);
	assert_int_equal(strlen(line), CLI_SECRET_MAX - 1);
	secret_free(line);
	close(fd);
	big[CLI_SECRET_MAX - 1] = 'a';
	big[CLI_SECRET_MAX] = '\n';
	fd = pipe_with(big, CLI_SECRET_MAX + 1);
	errno = 0;
	assert_int_equal(cli_secret_read(fd, NULL, false, &line), -1);
	assert_int_equal(errno, E2BIG);
	assert_null(line);
	close(fd);
	free(big);
}

/* ---- backup path ---- */

static void test_backup_path(void **state)
{
	char dir[] = "/tmp/test_cli_bk.XXXXXX", in[PATH_MAX], out[PATH_MAX], want[PATH_MAX + 16];
	char real[PATH_MAX], *base;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	base = strrchr(dir, '/') + 1;
	snprintf(in, sizeof(in), "%s/../%s/backup.mdb", dir, base);
	snprintf(want, sizeof(want), "%s/backup.mdb", real);
	assert_int_equal(cli_backup_path(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(cli_backup_path("/x.mdb", out, sizeof(out)), 0);
	assert_string_equal(out, "/x.mdb");
	assert_int_equal(cli_backup_path(in, out, strlen(want)), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(cli_backup_path(in, out, strlen(want) + 1), 0);
	snprintf(in, sizeof(in), "%s/", dir);
	assert_int_equal(cli_backup_path(in, out, sizeof(out)), -1);
	assert_int_equal(errno, EISDIR);
	snprintf(in, sizeof(in), "%s/..", dir);
	assert_int_equal(cli_backup_path(in, out, sizeof(out)), -1);
	snprintf(in, sizeof(in), "%s/missing/backup.mdb", dir);
	assert_int_equal(cli_backup_path(in, out, sizeof(out)), -1);
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_args),  cmocka_unit_test(test_command_find),
	    cmocka_unit_test(test_command_table), cmocka_unit_test(test_global_options),
	    cmocka_unit_test(test_config),        cmocka_unit_test(test_secret_read),
	    cmocka_unit_test(test_backup_path),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
