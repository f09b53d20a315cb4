/*
 * verdonctl: the admin CLI. It reads where the sockets are, finds the
 * command in the table (cli_commands.c) and runs it; every admin task goes
 * through the daemon's admin socket, like smtpctl talks to smtpd.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_config.h"
#include "cli_output.h"
#include "client.h"

static int unknown_command(int argc, char **argv)
{
	if (!cli_is_group(argv[0]))
		return cli_usage_error(NULL, "unknown command %s", argv[0]);
	if (argc >= 2 && cli_wants_help(argc - 1, argv + 1)) {
		cli_help(stdout, argv[0]);
		return CLI_EXIT_OK;
	}
	if (argc < 2)
		fprintf(stderr, "verdonctl: %s: which command?\n", argv[0]);
	else
		fprintf(stderr, "verdonctl: %s: unknown command %s\n", argv[0], argv[1]);
	cli_help(stderr, argv[0]);
	return CLI_EXIT_USAGE;
}

/* The command's socket, from the config unless --socket names the admin one. */
static int choose_socket(struct cli_ctx *ctx, const struct cli_command *cmd, struct cli_config *cfg)
{
	char err[512];

	if (cmd->socket == CLI_SOCKET_NONE)
		return CLI_EXIT_OK;
	if (cli_config_read(ctx->conf_path, ctx->conf_given, cfg, err, sizeof(err)) == -1) {
		cli_error("%s (give another file with -c CONF)", err);
		return CLI_EXIT_USAGE;
	}
	if (!ctx->socket_given)
		ctx->admin_socket = cfg->admin_socket;
	ctx->auth_socket = cfg->auth_socket;
	if (cmd->socket == CLI_SOCKET_ADMIN) {
		ctx->socket_path = ctx->admin_socket;
		ctx->socket_key = "admin_socket";
	} else {
		ctx->socket_path = ctx->auth_socket;
		ctx->socket_key = "auth_socket";
	}
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {.conf_path = CLI_DEFAULT_CONF, .timeout_ms = CLI_TIMEOUT_DEFAULT};
	struct cli_config cfg = {NULL, NULL};
	const struct cli_command *cmd;
	char err[512];
	int next, used, r;

	/* A daemon that goes away mid-request is an error to report, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	cli_output_init();
	if (cli_global_parse(argc, argv, &ctx, &next, err, sizeof(err)) == -1)
		return cli_usage_error(NULL, "%s", err);
	if (ctx.help) {
		cli_help(stdout, NULL);
		return CLI_EXIT_OK;
	}
	if (next >= argc)
		return cli_usage_error(NULL, "no command");
	cmd = cli_command_find(argc - next, argv + next, &used);
	if (cmd == NULL)
		return unknown_command(argc - next, argv + next);
	if (cli_wants_help(argc - next - used, argv + next + used)) {
		cli_help_command(stdout, cmd);
		return CLI_EXIT_OK;
	}
	r = choose_socket(&ctx, cmd, &cfg);
	if (r == CLI_EXIT_OK)
		r = cmd->run(&ctx, cmd, argc - next - used, argv + next + used);
	proto_client_free(ctx.client);
	cli_config_clear(&cfg);
	if (fflush(stdout) == EOF && r == CLI_EXIT_OK) {
		cli_error("cannot write the output: %s", strerror(errno));
		r = CLI_EXIT_REFUSED;
	}
	return r;
}
