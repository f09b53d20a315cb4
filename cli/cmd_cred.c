/*
 * app-password, session and device: the credentials a person's devices, webmail sessions and
 * browsers hold.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "proto.h"

static const struct cli_column app_columns[] = {
    {"app_id", NULL, "ID"},       {"label", NULL, "LABEL"},         {"services", NULL, "SERVICES"},
    {"created", NULL, "CREATED"}, {"last_used", NULL, "LAST USED"},
};

static const struct cli_column session_columns[] = {
    {"session_id", NULL, "ID"},       {"service", NULL, "SERVICE"}, {"created", NULL, "CREATED"},
    {"last_used", NULL, "LAST USED"}, {"expires", NULL, "EXPIRES"},
};

static const struct cli_column device_columns[] = {
    {"device_id", NULL, "ID"},    {"label", NULL, "LABEL"},         {"trusted", NULL, "TRUSTED"},
    {"created", NULL, "CREATED"}, {"last_used", NULL, "LAST USED"}, {"expires", NULL, "EXPIRES"},
};

/* One request whose answer is ROW lines and a final OK: a table, or a JSON array. */
int cmd_rows(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	bool apps = strcmp(cmd->verb, "APP_LIST") == 0;
	bool devices = strcmp(cmd->verb, "DEVICE_LIST") == 0;
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;
	json_t *rows = json_array();
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r != CLI_EXIT_OK || (r = cli_send(ctx, &w)) != CLI_EXIT_OK)
		goto out;
	while ((r = cli_recv(ctx, "1", &msg)) == CLI_EXIT_OK && strcmp(msg.verb, "ROW") == 0)
		json_array_append_new(rows, cli_msg_json(&msg));
	if (r != CLI_EXIT_OK || (r = cli_answer_status(ctx, &msg, args.pos[0])) != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		r = cli_json_emit(rows) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
		rows = NULL;
	} else if (apps) {
		cli_print_table(stdout, rows, app_columns,
		                sizeof(app_columns) / sizeof(app_columns[0]));
	} else if (devices) {
		cli_print_table(stdout, rows, device_columns,
		                sizeof(device_columns) / sizeof(device_columns[0]));
	} else {
		cli_print_table(stdout, rows, session_columns,
		                sizeof(session_columns) / sizeof(session_columns[0]));
	}
out:
	proto_writer_wipe(&w);
	json_decref(rows);
	return r;
}

/* revoke LOGIN ID, or revoke LOGIN --all. */
int cmd_revoke(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	char *kept[CLI_ARGS_MAX + 8];
	int n = 0, r;
	bool all = false;
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;

	for (int i = 0; i < argc && n < (int)(sizeof(kept) / sizeof(kept[0])); i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = true;
		else
			kept[n++] = argv[i];
	}
	if (all == (n == 2)) {
		cli_error("usage: verdonctl %s %s", cmd->group, cmd->usage);
		return CLI_EXIT_USAGE;
	}
	r = cli_prepare(ctx, cmd, n, kept, &args, &w);
	if (r != CLI_EXIT_OK)
		goto out;
	if (all)
		proto_add(&w, "all", "1");
	if ((r = cli_call(ctx, &w, args.pos[0], &msg)) != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		r = cli_json_emit(cli_msg_json(&msg)) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	} else {
		cli_put_safe(stdout, proto_get(&msg, "identifiant"));
		printf(": %s revoked\n", proto_get(&msg, "revoked"));
	}
out:
	proto_writer_wipe(&w);
	return r;
}
