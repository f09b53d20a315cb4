/*
 * Commands that send one request and print its answer (most of them), and
 * user list, which follows the daemon's pages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "proto.h"

static const struct cli_column user_columns[] = {
    {"identifiant", NULL, "IDENTIFIANT"},
    {"email", NULL, "EMAIL"},
    {"first", NULL, "FIRST"},
    {"last", NULL, "LAST"},
    {"state", NULL, "STATE"},
    {"otp", NULL, "OTP"},
};

static int print_json(json_t *value)
{
	return cli_json_emit(value) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
}

static int print_answer(const struct cli_ctx *ctx, const struct cli_command *cmd,
                        const struct proto_msg *msg, const char *subject)
{
	const char *ident = proto_get(msg, "identifiant");

	if (ctx->json)
		return print_json(cli_msg_json(msg));
	if (cmd->done == NULL) {
		cli_print_fields(stdout, msg, NULL);
		return CLI_EXIT_OK;
	}
	cli_put_safe(stdout, ident != NULL ? ident : subject != NULL ? subject : "-");
	printf(": %s\n", cmd->done);
	cli_print_fields(stdout, msg, "identifiant");
	return CLI_EXIT_OK;
}

int cmd_simple(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;
	const char *subject;
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r != CLI_EXIT_OK)
		goto out;
	subject = args.npos > 0 ? args.pos[0] : cli_args_opt(cmd, &args, "id");
	r = cli_call(ctx, &w, subject, &msg);
	if (r != CLI_EXIT_OK)
		goto out;
	r = print_answer(ctx, cmd, &msg, subject);
out:
	proto_writer_wipe(&w);
	return r;
}

/* Reads one page's ROW lines into rows and its final OK; *next_r is the next page's start. */
static int read_page(struct cli_ctx *ctx, const char *id, json_t *rows, char **next_r)
{
	struct proto_msg msg;
	const char *next;
	int r;

	*next_r = NULL;
	for (;;) {
		r = cli_recv(ctx, id, &msg);
		if (r != CLI_EXIT_OK)
			return r;
		if (strcmp(msg.verb, "ROW") != 0)
			break;
		if (json_array_append_new(rows, cli_msg_json(&msg)) == -1)
			goto oom;
	}
	r = cli_answer_status(ctx, &msg, NULL);
	if (r != CLI_EXIT_OK)
		return r;
	next = proto_get(&msg, "next");
	if (next == NULL || next[0] == '\0')
		return CLI_EXIT_OK;
	*next_r = strdup(next);
	if (*next_r != NULL)
		return CLI_EXIT_OK;
oom:
	cli_error("out of memory");
	return CLI_EXIT_REFUSED;
}

static int list_pages(struct cli_ctx *ctx, const struct cli_command *cmd,
                      const struct cli_args *args, struct proto_writer *w, json_t *rows)
{
	char id[16] = "1", *after = NULL, *next = NULL;
	int r;

	for (unsigned page = 1;; page++) {
		if (page > 1) {
			snprintf(id, sizeof(id), "%u", page);
			cli_request_build(cmd, args, id, w);
			proto_add(w, "after", after);
		}
		r = cli_send(ctx, w);
		if (r == CLI_EXIT_OK)
			r = read_page(ctx, id, rows, &next);
		/* With --limit the admin asked for one page. */
		if (r != CLI_EXIT_OK || next == NULL || cli_args_opt(cmd, args, "limit") != NULL)
			break;
		if (after != NULL && strcmp(after, next) == 0) {
			cli_error("the daemon sent the same page twice (after %s)", after);
			r = CLI_EXIT_UNAVAILABLE;
			break;
		}
		free(after);
		after = next;
		next = NULL;
	}
	free(after);
	free(next);
	return r;
}

int cmd_user_list(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	json_t *rows = json_array();
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r != CLI_EXIT_OK)
		goto out;
	if (rows == NULL) {
		cli_error("out of memory");
		r = CLI_EXIT_REFUSED;
		goto out;
	}
	r = list_pages(ctx, cmd, &args, &w, rows);
	if (r != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		r = print_json(rows);
		rows = NULL;
	} else {
		cli_print_table(stdout, rows, user_columns,
		                sizeof(user_columns) / sizeof(user_columns[0]));
	}
out:
	proto_writer_wipe(&w);
	json_decref(rows);
	return r;
}
