/*
 * auth check and auth passwd: what a front end does, on the auth socket,
 * for the helpdesk to try a login or change a password. Secrets come from
 * standard input, one a line, or from prompts without echo on a terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "cli_secret.h"
#include "proto.h"
#include "secret.h"

#define PROMPT_PASSWORD "Mot de passe : "
#define PROMPT_CURRENT "Mot de passe actuel : "
#define PROMPT_NEW "Nouveau mot de passe : "
#define PROMPT_AGAIN "Confirmation : "
#define PROMPT_CODE "Code (vide si aucun) : "

static json_t *result_json(const struct proto_msg *msg, const char *result, bool with_detail)
{
	const char *ident = proto_get(msg, "identifiant"), *wait = proto_get(msg, "wait");
	const char *reason = proto_get(msg, "reason"), *detail = proto_get(msg, "detail");
	json_t *obj = json_object();

	json_object_set_new(obj, "result", json_string(result));
	if (strcmp(result, "ok") == 0)
		json_object_set_new(obj, "identifiant",
		                    cli_json_string(ident != NULL ? ident : ""));
	if (strcmp(result, "tempfail") == 0)
		reason = "tempfail";
	json_object_set_new(obj, "reason", reason != NULL ? cli_json_string(reason) : json_null());
	if (wait != NULL)
		json_object_set_new(obj, "wait", json_integer(strtoll(wait, NULL, 10)));
	if (with_detail && detail != NULL)
		json_object_set_new(obj, "detail", cli_json_string(detail));
	return obj;
}

static void result_line(FILE *out, const struct proto_msg *msg, const char *result,
                        bool with_detail)
{
	const char *wait = proto_get(msg, "wait"), *detail = proto_get(msg, "detail");
	const char *reason = proto_get(msg, "reason");

	fputs(result, out);
	if (strcmp(result, "ok") == 0) {
		fputc(' ', out);
		cli_put_safe(out,
		             proto_get(msg, "identifiant") ? proto_get(msg, "identifiant") : "");
	} else if (strcmp(result, "refused") == 0) {
		fputs(": ", out);
		cli_put_safe(out, reason != NULL ? reason : "unknown");
		if (with_detail && detail != NULL) {
			fputs(": ", out);
			cli_put_safe(out, detail);
		}
		if (wait != NULL && strcmp(wait, "0") == 0)
			fputs(" (until an admin unlocks it)", out);
		else if (wait != NULL)
			fprintf(out, " (wait %lld s)", strtoll(wait, NULL, 10));
	}
	fputc('\n', out);
}

int cli_auth_result(FILE *out, bool json, const struct proto_msg *msg, bool with_detail)
{
	const char *result;
	int r;

	if (strcmp(msg->verb, "OK") == 0) {
		result = "ok";
		r = CLI_EXIT_OK;
	} else if (strcmp(msg->verb, "FAIL") == 0) {
		result = "refused";
		r = CLI_EXIT_REFUSED;
	} else if (strcmp(msg->verb, "TEMPFAIL") == 0) {
		result = "tempfail";
		r = CLI_EXIT_UNAVAILABLE;
	} else {
		cli_error("unexpected answer %s from the daemon", msg->verb);
		return CLI_EXIT_UNAVAILABLE;
	}
	if (!json) {
		result_line(out, msg, result, with_detail);
	} else {
		json_t *obj = result_json(msg, result, with_detail);

		if (obj == NULL || cli_json_print(out, obj) == -1)
			r = CLI_EXIT_REFUSED;
		json_decref(obj);
	}
	return r;
}

/* One secret line into w as key; an exit code. Optional: an empty line or EOF adds nothing. */
static int read_into(const struct cli_command *cmd, const char *prompt, bool optional,
                     const char *key, struct proto_writer *w)
{
	char *line = NULL;
	int k = cli_secret_read(STDIN_FILENO, prompt, false, &line), r = CLI_EXIT_OK;

	if (k == -1 && errno == E2BIG)
		r = cli_usage_error(cmd, "%s: longer than %d bytes", key, CLI_SECRET_MAX - 1);
	else if (k == -1)
		r = cli_usage_error(cmd, "cannot read %s: %s", key, strerror(errno));
	else if (k == 0 && !optional)
		r = cli_usage_error(cmd, "no %s on standard input", key);
	else if (k == 1 && (line[0] != '\0' || !optional))
		proto_add(w, key, line);
	secret_free(line);
	return r;
}

/* On a terminal the new password is typed twice. */
static int read_new_password(const struct cli_command *cmd, struct proto_writer *w)
{
	char *first = NULL, *again = NULL;
	int r = CLI_EXIT_USAGE, k;

	k = cli_secret_read(STDIN_FILENO, PROMPT_NEW, false, &first);
	if (k != 1) {
		r = cli_usage_error(cmd, k == -1 && errno == E2BIG
		                             ? "new: longer than the limit"
		                             : "no new password on standard input");
		goto out;
	}
	if (isatty(STDIN_FILENO) == 1) {
		k = cli_secret_read(STDIN_FILENO, PROMPT_AGAIN, false, &again);
		if (k != 1 || !secret_equal_str(first, again, CLI_SECRET_MAX)) {
			cli_error("the two new passwords differ: nothing changed");
			r = CLI_EXIT_REFUSED;
			goto out;
		}
	}
	proto_add(w, "new", first);
	r = CLI_EXIT_OK;
out:
	secret_free(first);
	secret_free(again);
	return r;
}

static int exchange(struct cli_ctx *ctx, struct proto_writer *w, bool with_detail)
{
	struct proto_msg msg;
	int r = cli_send(ctx, w);

	if (r == CLI_EXIT_OK)
		r = cli_recv(ctx, "1", &msg);
	if (r == CLI_EXIT_OK)
		r = cli_auth_result(stdout, ctx->json, &msg, with_detail);
	return r;
}

int cmd_auth_check(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r == CLI_EXIT_OK)
		r = read_into(cmd, PROMPT_PASSWORD, false, "password", &w);
	if (r == CLI_EXIT_OK)
		r = read_into(cmd, PROMPT_CODE, true, "otp", &w);
	if (r == CLI_EXIT_OK)
		r = exchange(ctx, &w, false);
	proto_writer_wipe(&w);
	return r;
}

int cmd_auth_passwd(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r == CLI_EXIT_OK)
		r = read_into(cmd, PROMPT_CURRENT, false, "password", &w);
	if (r == CLI_EXIT_OK)
		r = read_new_password(cmd, &w);
	if (r == CLI_EXIT_OK)
		r = read_into(cmd, PROMPT_CODE, true, "otp", &w);
	if (r == CLI_EXIT_OK)
		r = exchange(ctx, &w, true);
	proto_writer_wipe(&w);
	return r;
}
