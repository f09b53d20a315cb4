/*
 * user import: one USER_ADD import=1 per CSV row, pipelined, each line's
 * outcome printed as its answer comes back (answers may come out of order:
 * the request id is the row's line number). The daemon makes it idempotent:
 * running an import again reports the existing accounts and adds the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "client.h"
#include "csv.h"
#include "proto.h"
#include "secret.h"

/*
 * One row at a time: the file's order decides the numbering (the first Jean Dupont of the
 * file is jdupont, the next jdupont2), which pipelined rows on two workers would not keep.
 * The daemon commits one write at a time anyway, so little speed is lost.
 */
#define IMPORT_WINDOW 1
#define IMPORT_FILE_MAX (64u << 20)

struct import {
	struct cli_ctx *ctx;
	const struct cli_command *cmd;
	struct csv_reader *csv;
	unsigned inflight, created, existing, errors, reported;
	bool eof;
};

static int read_fd(int fd, char **data_r, size_t *len_r)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t n;

	while (buf != NULL) {
		if (len == cap) {
			bigger = cap < IMPORT_FILE_MAX ? malloc(cap * 2) : NULL;
			if (bigger != NULL)
				memcpy(bigger, buf, len);
			/* The file holds NUMENs: no copy is left behind. */
			secret_wipe(buf, cap);
			free(buf);
			buf = bigger;
			cap *= 2;
			if (buf == NULL) {
				errno = cap > IMPORT_FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0) {
				*data_r = buf;
				*len_r = len;
				return 0;
			}
			secret_wipe(buf, cap);
			free(buf);
			buf = NULL;
		} else {
			len += (size_t)n;
		}
	}
	return -1;
}

static int read_file(const char *path, char **data_r, size_t *len_r)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	int r, saved;

	if (fd == -1)
		return -1;
	r = read_fd(fd, data_r, len_r);
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	errno = saved;
	return r;
}

static const char *str_or(const char *s, const char *def)
{
	return s != NULL ? s : def;
}

static void cell(const char *s, size_t width)
{
	size_t w = cli_display_width(s);

	cli_put_safe(stdout, s);
	for (; w < width + 2; w++)
		fputc(' ', stdout);
}

/* One line's outcome; obj holds its fields and is dropped. */
static void report(struct import *im, json_t *obj)
{
	char line[16];
	const char *status = json_string_value(json_object_get(obj, "status"));
	const char *reason = json_string_value(json_object_get(obj, "reason"));
	const char *detail = json_string_value(json_object_get(obj, "detail"));
	const char *pass = json_string_value(json_object_get(obj, "temporary_password"));

	if (im->ctx->json) {
		fputs(im->reported > 0 ? ",\n    " : "    ", stdout);
		if (obj == NULL || json_dumpf(obj, stdout, JSON_COMPACT) == -1)
			fputs("null", stdout);
	} else {
		snprintf(line, sizeof(line), "%lld",
		         (long long)json_integer_value(json_object_get(obj, "line")));
		cell(line, 6);
		cell(status != NULL ? status : "error", 8);
		cell(str_or(json_string_value(json_object_get(obj, "identifiant")), "-"), 20);
		cell(str_or(json_string_value(json_object_get(obj, "email")), "-"), 36);
		if (pass != NULL)
			cli_put_safe(stdout, pass);
		if (reason != NULL)
			cli_put_safe(stdout, reason);
		if (reason != NULL && detail != NULL)
			fputs(": ", stdout);
		if (detail != NULL)
			cli_put_safe(stdout, detail);
		fputc('\n', stdout);
	}
	im->reported++;
	json_decref(obj);
}

static void report_error(struct import *im, unsigned line, const char *reason, const char *detail)
{
	json_t *obj = json_object();

	im->errors++;
	json_object_set_new(obj, "line", json_integer(line));
	json_object_set_new(obj, "status", json_string("error"));
	json_object_set_new(obj, "reason", cli_json_string(reason));
	if (detail != NULL)
		json_object_set_new(obj, "detail", cli_json_string(detail));
	report(im, obj);
}

static int send_row(struct import *im, const struct csv_row *row)
{
	static const struct {
		enum csv_column column;
		const char *key;
	} map[] = {
	    {CSV_FIRST, "first"},
	    {CSV_LAST, "last"},
	    {CSV_BIRTH, "birth"},
	    {CSV_NUMEN, "numen"},
	    {CSV_RESCUE_EMAIL, "rescue_email"},
	    {CSV_ID, "identifiant"},
	    {CSV_MOBILE, "mobile"},
	    {CSV_PASSWORD_HASH, "password_hash"},
	};
	struct proto_writer w;
	char id[16];

	snprintf(id, sizeof(id), "%u", row->line);
	proto_begin(&w, im->cmd->verb, id);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = row->field[map[i].column];
		bool optional = map[i].column >= CSV_ID;

		if (v != NULL && (!optional || v[0] != '\0'))
			proto_add(&w, map[i].key, v);
	}
	proto_add(&w, "import", "1");
	return cli_send(im->ctx, &w);
}

static int handle_answer(struct import *im, const struct proto_msg *msg)
{
	unsigned line = (unsigned)strtoul(msg->id, NULL, 10);
	json_t *obj;

	im->inflight -= im->inflight > 0;
	if (strcmp(msg->verb, "OK") == 0) {
		obj = cli_msg_json(msg);
		json_object_set_new(obj, "line", json_integer(line));
		if (json_object_get(obj, "status") == NULL)
			json_object_set_new(obj, "status", json_string("created"));
		if (strcmp(str_or(proto_get(msg, "status"), ""), "exists") == 0)
			im->existing++;
		else
			im->created++;
		report(im, obj);
	} else if (strcmp(msg->verb, "FAIL") == 0 &&
	           strcmp(str_or(proto_get(msg, "reason"), ""), "forbidden") == 0) {
		/* Every other line would say the same. */
		return cli_answer_status(im->ctx, msg, NULL);
	} else if (strcmp(msg->verb, "FAIL") == 0) {
		report_error(im, line, str_or(proto_get(msg, "reason"), "unknown"),
		             proto_get(msg, "detail"));
	} else {
		report_error(im, line, "tempfail", "the daemon is busy: run the import again");
	}
	return CLI_EXIT_OK;
}

static int import_run(struct import *im)
{
	struct csv_row row;
	struct proto_msg msg;
	char err[512];
	unsigned line;
	int r, k;

	while (!im->eof || im->inflight > 0) {
		while (!im->eof && im->inflight < IMPORT_WINDOW) {
			k = csv_next(im->csv, &row, err, sizeof(err));
			if (k == 0) {
				im->eof = true;
				if (im->ctx->client != NULL)
					proto_client_half_close(im->ctx->client);
			} else if (k == -1) {
				line = sscanf(err, "line %u", &line) == 1 ? line : 0;
				report_error(im, line, "csv", err);
			} else if ((r = send_row(im, &row)) != CLI_EXIT_OK) {
				return r;
			} else {
				im->inflight++;
			}
		}
		if (im->inflight == 0)
			break;
		r = cli_recv(im->ctx, NULL, &msg);
		if (r == CLI_EXIT_OK)
			r = handle_answer(im, &msg);
		if (r != CLI_EXIT_OK)
			return r;
	}
	return CLI_EXIT_OK;
}

static void import_begin(const struct import *im)
{
	if (im->ctx->json)
		fputs("{\n  \"lines\": [\n", stdout);
	else
		printf("%-8s%-10s%-22s%-38s%s\n", "LINE", "STATUS", "IDENTIFIANT", "EMAIL",
		       "TEMPORARY PASSWORD / ERROR");
}

static void import_end(const struct import *im)
{
	if (im->ctx->json)
		printf("%s  ],\n  \"created\": %u,\n  \"existing\": %u,\n  \"errors\": %u\n}\n",
		       im->reported > 0 ? "\n" : "", im->created, im->existing, im->errors);
	else
		printf("%u created, %u existing, %u errors\n", im->created, im->existing,
		       im->errors);
}

int cmd_user_import(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct import im = {.ctx = ctx, .cmd = cmd};
	struct cli_args args;
	char err[512], *data = NULL;
	size_t len = 0;
	int r;

	if (cli_args_parse(cmd, argc, argv, &args, err, sizeof(err)) == -1)
		return cli_usage_error(cmd, "%s", err);
	ctx->json = ctx->json || args.json;
	r = CLI_EXIT_REFUSED;
	if (read_file(args.pos[0], &data, &len) == -1) {
		cli_error("cannot read %s: %s", args.pos[0], strerror(errno));
		goto out;
	}
	if (csv_open(data, len, &im.csv, err, sizeof(err)) == -1) {
		cli_error("%s: %s (nothing imported)", args.pos[0], err);
		goto out;
	}
	import_begin(&im);
	r = import_run(&im);
	import_end(&im);
	if (r == CLI_EXIT_UNAVAILABLE)
		cli_error("import stopped with %u lines unanswered: it is idempotent, run it again",
		          im.inflight);
	if (r == CLI_EXIT_OK && im.errors > 0)
		r = CLI_EXIT_REFUSED;
out:
	csv_close(im.csv);
	if (data != NULL) {
		secret_wipe(data, len);
		free(data);
	}
	return r;
}
