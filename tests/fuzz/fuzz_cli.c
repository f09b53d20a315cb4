/*
 * libFuzzer: verdonctl's command line (pieces separated by NULs): the global
 * options, the command lookup and each command's arguments and options, as
 * the binary parses them before it sends anything. What parses must hold
 * values its checks accept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pieces[FUZZ_PIECES_MAX], *argv[FUZZ_PIECES_MAX + 2], err[512];
	size_t n = fuzz_split(data, size, 0, pieces, FUZZ_PIECES_MAX);
	struct cli_ctx ctx = {0};
	const struct cli_command *cmd;
	struct cli_args args;
	int next = 0, used = 0, argc;

	argv[0] = (char *)"verdonctl";
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = pieces[i];
	argc = (int)n + 1;
	argv[argc] = NULL;
	if (cli_global_parse(argc, argv, &ctx, &next, err, sizeof(err)) == 0 && next < argc &&
	    (cmd = cli_command_find(argc - next, argv + next, &used)) != NULL &&
	    cli_args_parse(cmd, argc - next - used, argv + next + used, &args, err, sizeof(err)) == 0) {
		if (args.npos < cmd->min_args || args.npos > cmd->max_args)
			abort();
		for (size_t i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++)
			if (args.opt[i] != NULL && !cli_value_ok(&cmd->opts[i], args.opt[i]))
				abort();
	}
	fuzz_free(pieces, n);
	return 0;
}
