/*
 * The command table: every verdonctl command is one entry. It lives in
 * libcli rather than in verdonctl.c so that the unit test can drive each
 * command's argument parsing through the very entries the binary uses.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define LOGIN_ONLY                                                                                 \
	{                                                                                          \
		"login", NULL                                                                      \
	}

static const struct cli_opt user_add_opts[] = {
    {.name = "first", .key = "first", .check = CLI_V_TEXT, .required = true},
    {.name = "last", .key = "last", .check = CLI_V_TEXT, .required = true},
    {.name = "birth", .key = "birth", .check = CLI_V_DATE, .required = true},
    {.name = "numen", .key = "numen", .check = CLI_V_NUMEN, .required = true},
    {.name = "rescue-email", .key = "rescue_email", .check = CLI_V_EMAIL, .required = true},
    {.name = "mobile", .key = "mobile", .check = CLI_V_TEXT},
    {.name = "id", .key = "identifiant", .check = CLI_V_TEXT},
    {.name = NULL},
};

static const struct cli_opt user_import_opts[] = {
    {.name = "encoding", .check = CLI_V_TEXT},
    {.name = "out", .check = CLI_V_PATH},
    {.name = "skip-bad", .flag = true},
    {.name = "dry-run", .flag = true},
    {.name = NULL},
};

static const struct cli_opt user_list_opts[] = {
    {.name = "state", .key = "state", .check = CLI_V_CHOICE, .choices = "active|suspended|deleted"},
    {.name = "limit", .key = "limit", .check = CLI_V_COUNT},
    {.name = "pending", .key = NULL, .flag = true},
    {.name = "expired", .key = NULL, .flag = true},
    {.name = "etablissement", .key = "etablissement", .check = CLI_V_TEXT},
    {.name = NULL},
};

static const struct cli_opt user_show_opts[] = {
    {.name = "numen", .key = "numen", .check = CLI_V_NUMEN},
    {.name = NULL},
};

static const struct cli_opt user_set_opts[] = {
    {.name = "first", .key = "first", .check = CLI_V_TEXT},
    {.name = "last", .key = "last", .check = CLI_V_TEXT},
    {.name = "rescue-email", .key = "rescue_email", .check = CLI_V_EMAIL},
    {.name = "mobile", .key = "mobile", .check = CLI_V_TEXT},
    {.name = "etablissement", .key = "etablissement", .check = CLI_V_TEXT},
    {.name = NULL},
};

static const struct cli_opt user_suspend_opts[] = {
    {.name = "reason", .key = "reason", .check = CLI_V_TEXT},
    {.name = NULL},
};

/* Only for a config that hands out the NUMEN as the temporary password. */
static const struct cli_opt user_reset_opts[] = {
    {.name = "numen", .key = "numen", .check = CLI_V_NUMEN},
    {.name = NULL},
};

static const struct cli_opt otp_enroll_opts[] = {
    {.name = "png", .key = NULL, .check = CLI_V_PATH},
    {.name = "algorithm",
     .key = "algorithm",
     .check = CLI_V_CHOICE,
     .choices = "SHA1|SHA256|SHA512"},
    {.name = "digits", .key = "digits", .check = CLI_V_CHOICE, .choices = "6|8"},
    {.name = NULL},
};

static const struct cli_opt audit_opts[] = {
    {.name = "limit", .key = "limit", .check = CLI_V_COUNT},
    {.name = NULL},
};

static const struct cli_opt auth_check_opts[] = {
    {.name = "service", .key = "service", .check = CLI_V_TEXT, .def = "helpdesk"},
    {.name = "address", .key = "address", .check = CLI_V_ADDRESS},
    {.name = NULL},
};

static const struct cli_opt auth_passwd_opts[] = {
    {.name = "service", .key = "service", .check = CLI_V_TEXT},
    {.name = NULL},
};

static const struct cli_opt store_copy_opts[] = {
    {.name = "to", .key = NULL, .check = CLI_V_CHOICE, .choices = "lmdb|postgresql", .required = true},
    {.name = NULL},
};

static const struct cli_opt app_add_opts[] = {
    {.name = "label", .key = "label", .check = CLI_V_TEXT, .required = true},
    {.name = "services", .key = "services", .check = CLI_V_TEXT, .required = true},
    {.name = NULL},
};

/* clang-format off */
const struct cli_command cli_commands[] = {
	{"user", "add", cmd_simple, CLI_SOCKET_ADMIN, 0, 0, "USER_ADD", {NULL, NULL}, user_add_opts, NULL,
	 "user add --first F --last L --birth YYYY-MM-DD --numen N --rescue-email E [--mobile M] [--id IDENT]"},
	{"user", "import", cmd_user_import, CLI_SOCKET_ADMIN, 1, 1, "USER_ADD", {NULL, NULL}, user_import_opts, NULL,
	 "user import FILE|- [--encoding CHARSET] [--out FILE.csv] [--skip-bad] [--dry-run]"},
	{"user", "show", cmd_user_show, CLI_SOCKET_ADMIN, 0, 1, "USER_SHOW", LOGIN_ONLY, user_show_opts, NULL,
	 "user show LOGIN | user show --numen N"},
	{"user", "list", cmd_user_list, CLI_SOCKET_ADMIN, 0, 0, "USER_LIST", {NULL, NULL}, user_list_opts, NULL,
	 "user list [--state active|suspended|deleted] [--pending|--expired] [--etablissement UAI] [--limit N]"},
	{"user", "set", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_SET", LOGIN_ONLY, user_set_opts, "changed",
	 "user set LOGIN [--first F] [--last L] [--rescue-email E] [--mobile M] [--etablissement UAI]"},
	{"user", "rename", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_RENAME", LOGIN_ONLY, NULL, NULL,
	 "user rename LOGIN"},
	{"user", "unalias", cmd_simple, CLI_SOCKET_ADMIN, 2, 2, "USER_UNALIAS", {"login", "alias"}, NULL, "alias removed",
	 "user unalias LOGIN ALIAS"},
	{"user", "reset-password", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_RESET", LOGIN_ONLY, user_reset_opts, NULL,
	 "user reset-password LOGIN [--numen N]"},
	{"user", "unlock", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_UNLOCK", LOGIN_ONLY, NULL, "unlocked",
	 "user unlock LOGIN"},
	{"user", "suspend", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_SUSPEND", LOGIN_ONLY, user_suspend_opts,
	 "suspended", "user suspend LOGIN [--reason TEXT]"},
	{"user", "resume", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_RESUME", LOGIN_ONLY, NULL, "resumed",
	 "user resume LOGIN"},
	{"user", "delete", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_DELETE", LOGIN_ONLY, NULL, "deleted",
	 "user delete LOGIN"},
	{"user", "restore", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "USER_RESTORE", LOGIN_ONLY, NULL, "restored",
	 "user restore LOGIN"},
	{"otp", "enroll", cmd_otp_enroll, CLI_SOCKET_ADMIN, 1, 1, "OTP_ENROLL", LOGIN_ONLY, otp_enroll_opts, NULL,
	 "otp enroll LOGIN [--png FILE] [--algorithm SHA1|SHA256|SHA512] [--digits 6|8]"},
	{"otp", "confirm", cmd_otp_confirm, CLI_SOCKET_ADMIN, 1, 2, "OTP_CONFIRM", {"login", "code"}, NULL, NULL,
	 "otp confirm LOGIN [CODE]   (CODE read from standard input when absent)"},
	{"otp", "reset", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "OTP_RESET", LOGIN_ONLY, NULL, "authenticator reset",
	 "otp reset LOGIN"},
	{"otp", "status", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "OTP_STATUS", LOGIN_ONLY, NULL, NULL,
	 "otp status LOGIN"},
	{"auth", "check", cmd_auth_check, CLI_SOCKET_AUTH, 1, 1, "AUTH", LOGIN_ONLY, auth_check_opts, NULL,
	 "auth check LOGIN [--service S] [--address IP]   (password, then code, on standard input)"},
	{"auth", "passwd", cmd_auth_passwd, CLI_SOCKET_AUTH, 1, 1, "PASSWD", LOGIN_ONLY, auth_passwd_opts, NULL,
	 "auth passwd LOGIN [--service S]   (current, new password, then code, on standard input)"},
	{"app-password", "add", cmd_simple, CLI_SOCKET_ADMIN, 1, 1, "APP_ADD", LOGIN_ONLY, app_add_opts, NULL,
	 "app-password add LOGIN --label TEXT --services imap,smtp   (the password is shown once)"},
	{"app-password", "list", cmd_rows, CLI_SOCKET_ADMIN, 1, 1, "APP_LIST", LOGIN_ONLY, NULL, NULL,
	 "app-password list LOGIN"},
	{"app-password", "revoke", cmd_revoke, CLI_SOCKET_ADMIN, 1, 2, "APP_REVOKE", {"login", "app_id"}, NULL, NULL,
	 "app-password revoke LOGIN ID|--all"},
	{"session", "list", cmd_rows, CLI_SOCKET_ADMIN, 1, 1, "SESSION_LIST", LOGIN_ONLY, NULL, NULL,
	 "session list LOGIN"},
	{"session", "revoke", cmd_revoke, CLI_SOCKET_ADMIN, 1, 2, "SESSION_REVOKE", {"login", "session_id"}, NULL, NULL,
	 "session revoke LOGIN ID|--all"},
	{"device", "list", cmd_rows, CLI_SOCKET_ADMIN, 1, 1, "DEVICE_LIST", LOGIN_ONLY, NULL, NULL,
	 "device list LOGIN   (trusted browsers and device cookies)"},
	{"device", "revoke", cmd_revoke, CLI_SOCKET_ADMIN, 1, 2, "DEVICE_REVOKE", {"login", "device_id"}, NULL, NULL,
	 "device revoke LOGIN ID|--all"},
	{NULL, "audit", cmd_audit, CLI_SOCKET_ADMIN, 0, 1, "AUDIT", LOGIN_ONLY, audit_opts, NULL,
	 "audit [LOGIN] [--limit N] [--follow]"},
	{NULL, "backup", cmd_backup, CLI_SOCKET_ADMIN, 1, 1, "BACKUP", {NULL, NULL}, NULL, NULL,
	 "backup PATH"},
	{"store", "copy", cmd_store_copy, CLI_SOCKET_ADMIN, 1, 1, "STATUS", {NULL, NULL}, store_copy_opts, NULL,
	 "store copy --to lmdb|postgresql TARGET   (verdond stopped; TARGET: a new state directory or a connection string)"},
	{"store", "verify", cmd_store_verify, CLI_SOCKET_ADMIN, 0, 0, "STORE_VERIFY", {NULL, NULL}, NULL, NULL,
	 "store verify   (every record decodes, every index entry and session points at its account, the audit has no gap; exit 1 on a problem)"},
	{NULL, "stats", cmd_stats, CLI_SOCKET_ADMIN, 0, 0, "STATS", {NULL, NULL}, NULL, NULL,
	 "stats"},
	{NULL, "status", cmd_simple, CLI_SOCKET_ADMIN, 0, 0, "STATUS", {NULL, NULL}, NULL, NULL,
	 "status"},
	{NULL, "help", cmd_help, CLI_SOCKET_NONE, 0, 2, NULL, {NULL, NULL}, NULL, NULL,
	 "help [COMMAND]"},
	{NULL, NULL, NULL, CLI_SOCKET_NONE, 0, 0, NULL, {NULL, NULL}, NULL, NULL, NULL},
};
/* clang-format on */

static bool command_is(const struct cli_command *c, const char *group, const char *name)
{
	if (strcmp(c->name, name) != 0)
		return false;
	if (c->group == NULL || group == NULL)
		return c->group == group;
	return strcmp(c->group, group) == 0;
}

const struct cli_command *cli_command_find(int argc, char **argv, int *used_r)
{
	*used_r = 0;
	if (argc < 1)
		return NULL;
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++) {
		if (command_is(c, NULL, argv[0])) {
			*used_r = 1;
			return c;
		}
		if (argc >= 2 && command_is(c, argv[0], argv[1])) {
			*used_r = 2;
			return c;
		}
	}
	return NULL;
}

void cli_help(FILE *out, const char *group)
{
	fprintf(out,
	        "usage: verdonctl [-c CONF] [--json] [--socket PATH] [--timeout MS] COMMAND ...\n"
	        "commands:\n");
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
		if (group == NULL || (c->group != NULL && strcmp(c->group, group) == 0))
			fprintf(out, "  verdonctl %s\n", c->usage);
	if (group == NULL)
		fprintf(out, "Passwords are never taken from the command line: they are read from\n"
		             "standard input, or prompted for on a terminal.\n"
		             "Exit codes: 0 done, 1 refused or not found, 2 usage, 3 daemon "
		             "unreachable, timeout or temporary failure.\n");
}

bool cli_is_group(const char *group)
{
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
		if (c->group != NULL && strcmp(c->group, group) == 0)
			return true;
	return false;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* help, help GROUP, help COMMAND: exit 0 when the topic is known. */
int cmd_help(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	const struct cli_command *topic;
	struct cli_args args;
	char err[256];
	int used;

	(void)ctx;
	if (cli_args_parse(cmd, argc, argv, &args, err, sizeof(err)) == -1)
		return cli_usage_error(cmd, "%s", err);
	if (args.npos == 0) {
		cli_help(stdout, NULL);
		return CLI_EXIT_OK;
	}
	topic = cli_command_find(args.npos, (char **)args.pos, &used);
	if (topic != NULL && used == args.npos) {
		cli_help_command(stdout, topic);
		return CLI_EXIT_OK;
	}
	if (args.npos == 1 && cli_is_group(args.pos[0])) {
		cli_help(stdout, args.pos[0]);
		return CLI_EXIT_OK;
	}
	return cli_usage_error(cmd, "no command %s%s%s", args.pos[0], args.npos > 1 ? " " : "",
	                       args.npos > 1 ? args.pos[1] : "");
}
