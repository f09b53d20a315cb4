/*
 * Talking to the daemon for a command: connect on first use, send, read the
 * answer, and turn every failure into one line on stderr that says what to
 * do, and an exit code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "client.h"
#include "proto.h"

static const struct {
	const char *reason;
	const char *text;
	const char *hint;
	bool about_caller; /* says nothing about the subject */
} fail_texts[] = {
    {"not_found", "not found", NULL, false},
    {"exists", "already exists", "verdonctl user show tells which account holds it", false},
    {"forbidden", "refused: forbidden", "run as root or a member of the admin group", true},
    {"wrong_state", "refused: wrong_state", "verdonctl user show gives the account's state", false},
    {"no_pending_otp", "no authenticator waiting for confirmation",
     "run verdonctl otp enroll first", false},
    {"unknown_verb", "refused: unknown_verb", "verdond is older than verdonctl: update it", true},
    {"invalid", "refused: invalid", NULL, false},
    {"disabled", "refused: disabled", "the account is suspended or deleted", false},
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("verdonctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void cli_fail_message(char *buf, size_t len, const char *subject, const char *reason,
                      const char *detail, const char *wait)
{
	const char *text = NULL, *hint = NULL;
	char waitbuf[96], textbuf[96];
	bool about_caller = false;

	if (reason == NULL || reason[0] == '\0')
		reason = "unknown";
	for (size_t i = 0; i < sizeof(fail_texts) / sizeof(fail_texts[0]); i++)
		if (strcmp(fail_texts[i].reason, reason) == 0) {
			text = fail_texts[i].text;
			hint = fail_texts[i].hint;
			about_caller = fail_texts[i].about_caller;
		}
	if (text == NULL) {
		snprintf(textbuf, sizeof(textbuf), "refused: %.64s", reason);
		text = textbuf;
	}
	if (strcmp(reason, "locked") == 0 && wait != NULL) {
		if (strcmp(wait, "0") == 0)
			snprintf(waitbuf, sizeof(waitbuf), "locked until verdonctl user unlock");
		else
			snprintf(waitbuf, sizeof(waitbuf), "wait %.16s s", wait);
		hint = waitbuf;
	}
	snprintf(buf, len, "%s%s%s%s%s%s%s%s", subject != NULL && !about_caller ? subject : "",
	         subject != NULL && !about_caller ? ": " : "", text, detail != NULL ? ": " : "",
	         detail != NULL ? detail : "", hint != NULL ? " (" : "", hint != NULL ? hint : "",
	         hint != NULL ? ")" : "");
	sanitize(buf);
}

/* The client's message without the path we print already. */
static const char *client_why(const struct cli_ctx *ctx, const char *err)
{
	static const char *const prefixes[] = {"connect ", ""};
	size_t plen = strlen(ctx->socket_path);

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(err, prefixes[i], n) == 0 &&
		    strncmp(err + n, ctx->socket_path, plen) == 0 &&
		    strncmp(err + n + plen, ": ", 2) == 0)
			return err + n + plen + 2;
	}
	return err;
}

int cli_connect(struct cli_ctx *ctx)
{
	char err[512];
	const char *why;

	if (ctx->client != NULL)
		return CLI_EXIT_OK;
	if (proto_client_connect(ctx->socket_path, ctx->timeout_ms, &ctx->client, err,
	                         sizeof(err)) == 0)
		return CLI_EXIT_OK;
	ctx->client = NULL;
	why = client_why(ctx, err);
	if (strstr(why, "Permission denied") != NULL)
		cli_error("cannot reach the daemon at %s: %s (run as root or a member of the admin "
		          "group)",
		          ctx->socket_path, why);
	else if (ctx->socket_given && strcmp(ctx->socket_key, "admin_socket") == 0)
		cli_error("cannot reach the daemon at %s: %s (is verdond running? check --socket)",
		          ctx->socket_path, why);
	else
		cli_error("cannot reach the daemon at %s: %s (is verdond running? check %s in %s)",
		          ctx->socket_path, why, ctx->socket_key, ctx->conf_path);
	return CLI_EXIT_UNAVAILABLE;
}

int cli_send(struct cli_ctx *ctx, struct proto_writer *w)
{
	int r;

	if (proto_end(w) == -1) {
		cli_error("the request is too long: a value does not fit in a %d-byte line",
		          PROTO_LINE_MAX);
		r = CLI_EXIT_USAGE;
		goto out;
	}
	r = cli_connect(ctx);
	if (r != CLI_EXIT_OK)
		goto out;
	if (proto_client_send(ctx->client, w) == -1) {
		cli_error("lost the daemon at %s: %s", ctx->socket_path,
		          client_why(ctx, proto_client_error(ctx->client)));
		r = CLI_EXIT_UNAVAILABLE;
	}
out:
	proto_writer_wipe(w);
	return r;
}

int cli_recv(struct cli_ctx *ctx, const char *id, struct proto_msg *msg_r)
{
	if (proto_client_recv(ctx->client, msg_r) == -1) {
		cli_error("no answer from the daemon at %s: %s (try again, or raise --timeout)",
		          ctx->socket_path, client_why(ctx, proto_client_error(ctx->client)));
		return CLI_EXIT_UNAVAILABLE;
	}
	/* Id 0 is the daemon's answer to a line it could not read. */
	if (id != NULL && strcmp(msg_r->id, id) != 0 && strcmp(msg_r->id, "0") != 0) {
		cli_error("unexpected answer from the daemon at %s (id %s, expected %s)",
		          ctx->socket_path, msg_r->id, id);
		return CLI_EXIT_UNAVAILABLE;
	}
	return CLI_EXIT_OK;
}

/*
 * With --json a refusal is a document on standard output too, so that a
 * script reading it sees why: {"result","reason","message","detail"?,"wait"?}.
 */
static void json_refusal(const struct proto_msg *msg, const char *result, const char *reason,
                         const char *message)
{
	const char *detail = proto_get(msg, "detail"), *wait = proto_get(msg, "wait");
	json_t *obj = json_object();

	if (obj == NULL)
		return;
	json_object_set_new(obj, "result", json_string(result));
	json_object_set_new(obj, "reason", cli_json_string(reason));
	json_object_set_new(obj, "message", cli_json_string(message));
	if (detail != NULL)
		json_object_set_new(obj, "detail", cli_json_string(detail));
	if (wait != NULL)
		json_object_set_new(obj, "wait", json_integer(strtoll(wait, NULL, 10)));
	(void)cli_json_emit(obj);
}

int cli_answer_status(const struct cli_ctx *ctx, const struct proto_msg *msg, const char *subject)
{
	char buf[1024];
	const char *reason;

	if (strcmp(msg->verb, "OK") == 0)
		return CLI_EXIT_OK;
	if (strcmp(msg->verb, "FAIL") == 0) {
		reason = proto_get(msg, "reason");
		cli_fail_message(buf, sizeof(buf), subject, reason, proto_get(msg, "detail"),
		                 proto_get(msg, "wait"));
		cli_error("%s", buf);
		if (ctx->json)
			json_refusal(msg, "refused", reason != NULL ? reason : "unknown", buf);
		return CLI_EXIT_REFUSED;
	}
	if (strcmp(msg->verb, "TEMPFAIL") == 0) {
		snprintf(buf, sizeof(buf),
		         "the daemon cannot answer now (tempfail): try again later");
		reason = "tempfail";
	} else {
		snprintf(buf, sizeof(buf), "unexpected answer %.32s from the daemon at %s",
		         msg->verb, ctx->socket_path);
		reason = "unexpected_answer";
	}
	cli_error("%s", buf);
	if (ctx->json)
		json_refusal(msg, "tempfail", reason, buf);
	return CLI_EXIT_UNAVAILABLE;
}

int cli_call(struct cli_ctx *ctx, struct proto_writer *w, const char *subject,
             struct proto_msg *msg_r)
{
	int r = cli_send(ctx, w);

	if (r == CLI_EXIT_OK)
		r = cli_recv(ctx, "1", msg_r);
	if (r == CLI_EXIT_OK)
		r = cli_answer_status(ctx, msg_r, subject);
	return r;
}
