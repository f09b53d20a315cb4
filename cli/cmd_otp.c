/*
 * otp enroll (a pending secret shown as URI, grouped secret, QR in the
 * terminal and optionally a PNG) and otp confirm (the first code, then the
 * recovery codes, shown once). reset and status are plain commands.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "cli_secret.h"
#include "proto.h"
#include "qr.h"
#include "secret.h"

/* Checked before enrolling, so a typo in --png does not leave a pending secret behind. */
static int png_dir_writable(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash != NULL && slash[1] == '\0') {
		errno = EISDIR;
		return -1;
	}
	if (cli_parent_dir(path, dir, sizeof(dir)) < 0)
		return -1;
	return access(dir, W_OK);
}

static int print_enrollment(const struct cli_ctx *ctx, const struct proto_msg *msg,
                            const char *login)
{
	const char *uri = proto_get(msg, "uri"), *secret = proto_get(msg, "secret");
	char grouped[256];

	if (ctx->json)
		return cli_json_emit(cli_msg_json(msg)) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	cli_group4(secret, grouped, sizeof(grouped));
	fputs("identifiant  ", stdout);
	cli_put_safe(stdout,
	             proto_get(msg, "identifiant") != NULL ? proto_get(msg, "identifiant") : login);
	fputs("\nuri          ", stdout);
	cli_put_safe(stdout, uri);
	fputs("\nsecret       ", stdout);
	cli_put_safe(stdout, grouped);
	fputs("\n\n", stdout);
	secret_wipe(grouped, sizeof(grouped));
	if (qr_write_terminal(uri, stdout) == -1)
		cli_error("cannot draw the QR code: use the URI or the secret above");
	printf("Scan the code, then confirm with: verdonctl otp confirm %s\n", login);
	return CLI_EXIT_OK;
}

int cmd_otp_enroll(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;
	const char *png;
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r != CLI_EXIT_OK)
		goto out;
	png = cli_args_opt(cmd, &args, "png");
	if (png != NULL && png_dir_writable(png) == -1) {
		r = cli_usage_error(cmd, "cannot write --png %s: %s", png, strerror(errno));
		goto out;
	}
	r = cli_call(ctx, &w, args.pos[0], &msg);
	if (r != CLI_EXIT_OK)
		goto out;
	if (proto_get(&msg, "uri") == NULL || proto_get(&msg, "secret") == NULL) {
		cli_error("the daemon's answer has no uri or secret");
		r = CLI_EXIT_UNAVAILABLE;
		goto out;
	}
	r = print_enrollment(ctx, &msg, args.pos[0]);
	errno = 0;
	if (png != NULL && qr_write_png_file(proto_get(&msg, "uri"), png) == -1) {
		cli_error("cannot write the QR code to %s: %s (the enrollment is pending: the URI "
		          "works)",
		          png, errno != 0 ? strerror(errno) : "error");
		r = CLI_EXIT_REFUSED;
	} else if (png != NULL && !ctx->json) {
		printf("QR code written to %s\n", png);
	}
out:
	proto_writer_wipe(&w);
	return r;
}

/* The comma-separated codes as a JSON array; NULL when out of memory. */
static json_t *codes_json(const char *codes)
{
	json_t *list = json_array();
	const char *c = codes;
	char one[128];

	while (list != NULL && c != NULL && *c != '\0') {
		size_t n = strcspn(c, ",");

		snprintf(one, sizeof(one), "%.*s", (int)(n < sizeof(one) ? n : sizeof(one) - 1), c);
		if (json_array_append_new(list, cli_json_string(one)) == -1) {
			json_decref(list);
			list = NULL;
		}
		c = c[n] == ',' ? c + n + 1 : NULL;
	}
	secret_wipe(one, sizeof(one));
	return list;
}

static int print_codes(const struct cli_ctx *ctx, const struct proto_msg *msg, const char *login)
{
	const char *codes = proto_get(msg, "recovery_codes");
	json_t *obj;

	if (codes == NULL)
		codes = "";
	if (ctx->json) {
		obj = cli_msg_json(msg);
		if (obj != NULL &&
		    json_object_set_new(obj, "recovery_codes", codes_json(codes)) == -1) {
			json_decref(obj);
			obj = NULL;
		}
		return cli_json_emit(obj) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	}
	cli_put_safe(stdout,
	             proto_get(msg, "identifiant") != NULL ? proto_get(msg, "identifiant") : login);
	fputs(": authenticator active\nrecovery codes (shown once: give them to the user):\n",
	      stdout);
	for (const char *c = codes; *c != '\0';) {
		size_t n = strcspn(c, ",");

		printf("  %.*s\n", (int)n, c);
		c += n + (c[n] == ',');
	}
	return CLI_EXIT_OK;
}

int cmd_otp_confirm(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct cli_args args;
	struct proto_writer w;
	struct proto_msg msg;
	char *code = NULL;
	int r;

	r = cli_prepare(ctx, cmd, argc, argv, &args, &w);
	if (r != CLI_EXIT_OK)
		goto out;
	if (args.npos < 2) {
		if (cli_secret_read(STDIN_FILENO, "Code : ", true, &code) != 1 || code[0] == '\0') {
			r = cli_usage_error(cmd,
			                    "no code: give it after LOGIN or on standard input");
			goto out;
		}
		proto_add(&w, "code", code);
	}
	r = cli_call(ctx, &w, args.pos[0], &msg);
	if (r == CLI_EXIT_OK)
		r = print_codes(ctx, &msg, args.pos[0]);
out:
	secret_free(code);
	proto_writer_wipe(&w);
	return r;
}
