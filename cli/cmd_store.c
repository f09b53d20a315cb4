/*
 * store copy: moves a stopped node's store to another backend. The copy is
 * verdond's own code (verdond --copy-to), which alone opens stores; this
 * command makes sure the node is stopped and runs it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"

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
