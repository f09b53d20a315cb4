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
    {"etablissement", NULL, "ETABLISSEMENT"},
    {"state", NULL, "STATE"},
    {"activation", NULL, "ACTIVATION"},
    {"otp", NULL, "OTP"},
};

static const struct cli_column stats_columns[] = {
    {"etablissement", NULL, "ETABLISSEMENT"},
    {"accounts", NULL, "ACCOUNTS"},
    {"activated", NULL, "ACTIVATED"},
    {"pending", NULL, "PENDING"},
    {"expired", NULL, "EXPIRED"},
    {"closed", NULL, "SUSPENDED/DELETED"},
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

/* --pending and --expired are one request field, only=. */
static int user_list_only(const struct cli_command *cmd, const struct cli_args *args,
                          struct proto_writer *w)
{
	const char *pending = cli_args_opt(cmd, args, "pending");
	const char *expired = cli_args_opt(cmd, args, "expired");

	if (pending != NULL && expired != NULL)
		return cli_usage_error(cmd, "--pending and --expired: one of them");
	if (pending != NULL || expired != NULL)
		proto_add(w, "only", pending != NULL ? "pending" : "expired");
	return CLI_EXIT_OK;
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
			user_list_only(cmd, args, w);
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
	r = user_list_only(cmd, &args, &w);
	if (r == CLI_EXIT_OK)
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

int cmd_user_show(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	char err[256];

	if (cli_args_parse(cmd, argc, argv, &args, err, sizeof(err)) == -1)
		return cli_usage_error(cmd, "%s", err);
	if ((args.npos == 1) == (cli_args_opt(cmd, &args, "numen") != NULL))
		return cli_usage_error(cmd, "give a LOGIN or --numen N");
	return cmd_simple(ctx, cmd, argc, argv);
}

int cmd_stats(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;
	json_t *rows = json_array(), *doc;
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r == CLI_EXIT_OK && rows == NULL)
		r = CLI_EXIT_REFUSED;
	if (r == CLI_EXIT_OK)
		r = cli_send(ctx, &w);
	while (r == CLI_EXIT_OK && (r = cli_recv(ctx, "1", &msg)) == CLI_EXIT_OK &&
	       strcmp(msg.verb, "ROW") == 0)
		json_array_append_new(rows, cli_msg_json(&msg));
	if (r == CLI_EXIT_OK)
		r = cli_answer_status(ctx, &msg, NULL);
	if (r != CLI_EXIT_OK)
		goto out;
	doc = cli_msg_json(&msg);
	if (ctx->json) {
		json_object_set(doc, "etablissements", rows);
		r = print_json(doc);
		goto out;
	}
	printf("accounts %lld: %lld activated, %lld pending, %lld expired, %lld suspended or "
	       "deleted\n\n",
	       (long long)json_integer_value(json_object_get(doc, "accounts")),
	       (long long)json_integer_value(json_object_get(doc, "activated")),
	       (long long)json_integer_value(json_object_get(doc, "pending")),
	       (long long)json_integer_value(json_object_get(doc, "expired")),
	       (long long)json_integer_value(json_object_get(doc, "closed")));
	json_decref(doc);
	cli_print_table(stdout, rows, stats_columns,
	                sizeof(stats_columns) / sizeof(stats_columns[0]));
out:
	proto_writer_wipe(&w);
	json_decref(rows);
	return r;
}
