/* audit (ROW lines carrying JSON records) and backup (a path the daemon can use). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "proto.h"

/* A backup of a large store takes longer than any request. */
#define BACKUP_TIMEOUT 600000

/* verdond spells some keys short ("t", "id", "addr"); both spellings are read. */
static const struct cli_column audit_columns[] = {
    {"time", "t", "TIME"},        {"actor", NULL, "ACTOR"},
    {"action", NULL, "ACTION"},   {"identifiant", "id", "IDENTIFIANT"},
    {"service", NULL, "SERVICE"}, {"address", "addr", "ADDRESS"},
    {"result", NULL, "RESULT"},   {"reason", NULL, "REASON"},
    {"detail", NULL, "DETAIL"},
};

/* A record the daemon sent is kept even when it does not parse, as its raw text. */
static json_t *record_json(const struct proto_msg *msg)
{
	const char *text = proto_get(msg, "json");
	json_t *rec = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (json_is_object(rec))
		return rec;
	json_decref(rec);
	rec = json_object();
	json_object_set_new(rec, "raw", cli_json_string(text != NULL ? text : ""));
	return rec;
}

static int read_records(struct cli_ctx *ctx, const char *login, json_t *records)
{
	struct proto_msg msg;
	int r;

	for (;;) {
		r = cli_recv(ctx, "1", &msg);
		if (r != CLI_EXIT_OK)
			return r;
		if (strcmp(msg.verb, "ROW") != 0)
			break;
		if (json_array_append_new(records, record_json(&msg)) == -1) {
			cli_error("out of memory");
			return CLI_EXIT_REFUSED;
		}
	}
	return cli_answer_status(ctx, &msg, login);
}

/* Takes --follow out of argv (every table option takes a value; this one does not). */
static bool take_follow(int *argc, char **argv)
{
	bool follow = false;
	int o = 0;

	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--follow") == 0)
			follow = true;
		else
			argv[o++] = argv[i];
	}
	*argc = o;
	return follow;
}

int cmd_audit(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	json_t *records = json_array();
	bool follow = take_follow(&argc, argv);
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r == CLI_EXIT_OK && follow) {
		json_decref(records);
		proto_writer_wipe(&w);
		return cli_audit_follow(ctx, args.npos > 0 ? args.pos[0] : NULL, args.opt[0]);
	}
	if (r == CLI_EXIT_OK)
		r = cli_send(ctx, &w);
	if (r == CLI_EXIT_OK && records == NULL) {
		cli_error("out of memory");
		r = CLI_EXIT_REFUSED;
	}
	if (r == CLI_EXIT_OK)
		r = read_records(ctx, args.npos > 0 ? args.pos[0] : NULL, records);
	if (r == CLI_EXIT_OK && ctx->json) {
		r = cli_json_emit(records) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
		records = NULL;
	} else if (r == CLI_EXIT_OK) {
		cli_print_table(stdout, records, audit_columns,
		                sizeof(audit_columns) / sizeof(audit_columns[0]));
	}
	proto_writer_wipe(&w);
	json_decref(records);
	return r;
}

int cli_parent_dir(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash != NULL ? (size_t)(slash - path) : 0;

	if (n >= dirlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (slash == NULL)
		snprintf(dir, dirlen, ".");
	else if (n == 0)
		snprintf(dir, dirlen, "/");
	else
		snprintf(dir, dirlen, "%.*s", (int)n, path);
	return 0;
}

int cli_backup_path(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	char dir[PATH_MAX], real[PATH_MAX];
	int len;

	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		errno = EISDIR;
		return -1;
	}
	if (cli_parent_dir(path, dir, sizeof(dir)) < 0 || realpath(dir, real) == NULL)
		return -1;
	len = snprintf(out, outlen, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
	if (len < 0 || (size_t)len >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int cmd_backup(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;
	char path[PATH_MAX];
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r != CLI_EXIT_OK)
		goto out;
	if (cli_backup_path(args.pos[0], path, sizeof(path)) == -1) {
		r = cli_usage_error(cmd, "%s: %s (PATH is a new file in an existing directory)",
		                    args.pos[0], strerror(errno));
		goto out;
	}
	proto_add(&w, "path", path);
	if (!ctx->timeout_given)
		ctx->timeout_ms = BACKUP_TIMEOUT;
	r = cli_call(ctx, &w, path, &msg);
	if (r != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		r = cli_json_emit(cli_msg_json(&msg)) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
		goto out;
	}
	fputs("backup written to ", stdout);
	cli_put_safe(stdout, proto_get(&msg, "path") != NULL ? proto_get(&msg, "path") : path);
	fputs(" (", stdout);
	cli_put_safe(stdout, proto_get(&msg, "bytes") != NULL ? proto_get(&msg, "bytes") : "?");
	fputs(" bytes)\n", stdout);
out:
	proto_writer_wipe(&w);
	return r;
}
