/*
 * store verify: asks the daemon to prove its store whole.
 * store copy: moves a stopped node's store to another backend. The copy is
 * verdond's own code (verdond --copy-to), which alone opens stores; this
 * command makes sure the node is stopped and runs it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "client.h"
#include "proto.h"

/* verdond beside verdonctl (a build tree), else where the package puts it. */
static void find_verdond(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	snprintf(out, outlen, "/usr/sbin/verdond");
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	if ((size_t)snprintf(out, outlen, "%s/verdond", self) < outlen && access(out, X_OK) == 0)
		return;
	snprintf(out, outlen, "/usr/sbin/verdond");
}

int cmd_store_copy(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct proto_client *client = NULL;
	struct cli_args args;
	char verdond[PATH_MAX], err[256];
	const char *to;

	if (cli_args_parse(cmd, argc, argv, &args, err, sizeof(err)) == -1)
		return cli_usage_error(cmd, "%s", err);
	to = cli_args_opt(cmd, &args, "to");
	/* Copying under a running daemon would miss what it writes meanwhile: if the admin
	 * socket answers (where STATUS would go), the daemon runs. */
	if (proto_client_connect(ctx->socket_path, 2000, &client, err, sizeof(err)) == 0) {
		proto_client_free(client);
		cli_error("verdond answers on %s: stop it before copying its store",
		          ctx->socket_path);
		return CLI_EXIT_REFUSED;
	}
	find_verdond(verdond, sizeof(verdond));
	fflush(stdout);
	execl(verdond, verdond, "-c", ctx->conf_path, "--copy-to", to, args.pos[0], (char *)NULL);
	cli_error("%s: %s", verdond, strerror(errno));
	return CLI_EXIT_UNAVAILABLE;
}

static const struct cli_column problem_columns[] = {
    {"table", NULL, "TABLE"}, {"key", NULL, "KEY"}, {"problem", NULL, "PROBLEM"}};

/* store verify: the problems found (a table, or JSON), the counts; exit 1 on any problem. */
int cmd_store_verify(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;
	json_t *rows = json_array(), *out = NULL;
	const char *problems;
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (!ctx->timeout_given)
		ctx->timeout_ms = CLI_TIMEOUT_MAX; /* a walk of the whole store */
	if (r != CLI_EXIT_OK || (r = cli_send(ctx, &w)) != CLI_EXIT_OK)
		goto out;
	while ((r = cli_recv(ctx, "1", &msg)) == CLI_EXIT_OK && strcmp(msg.verb, "ROW") == 0)
		json_array_append_new(rows, cli_msg_json(&msg));
	if (r != CLI_EXIT_OK || (r = cli_answer_status(ctx, &msg, NULL)) != CLI_EXIT_OK)
		goto out;
	problems = proto_get(&msg, "problems");
	if (ctx->json) {
		out = cli_msg_json(&msg);
		json_object_set_new(out, "details", rows);
		rows = NULL;
		r = cli_json_emit(out) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	} else {
		if (json_array_size(rows) > 0)
			cli_print_table(stdout, rows, problem_columns,
			                sizeof(problem_columns) / sizeof(problem_columns[0]));
		printf(
		    "store verified: %s accounts, %s index entries, %s sessions, %s audit records: "
		    "%s problem(s)\n",
		    proto_get(&msg, "accounts"), proto_get(&msg, "index_entries"),
		    proto_get(&msg, "sessions"), proto_get(&msg, "audit"), problems);
	}
	if (r == CLI_EXIT_OK && (problems == NULL || strcmp(problems, "0") != 0))
		r = CLI_EXIT_REFUSED;
out:
	proto_writer_wipe(&w);
	json_decref(rows);
	return r;
}
