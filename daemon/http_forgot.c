/*
 * The forgotten password and identifiant routes (docs/http-api.md): each is
 * one request line to the auth handlers (RESET_ASK, RESET_CONFIRM,
 * IDENT_ASK in reset.c), with the client's address for the penalty. A
 * missing or oversized field is left out of the line, so the daemon names it
 * in its bad_request answer, the same for everybody.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fields.h"
#include "http.h"
#include "ident.h"
#include "proto.h"
#include "secret.h"

/* A body field copied into the line when present and within max bytes. */
static void add_field(struct http_ctx *hc, struct proto_writer *w, const char *json_key,
                      const char *key, size_t max)
{
	const char *v = http_body_string(hc, json_key, max);

	if (v != NULL)
		proto_add(w, key, v);
}

static void add_address(struct http_ctx *hc, struct proto_writer *w)
{
	const char *addr = http_client_address(hc);

	if (addr != NULL && strlen(addr) <= FIELD_ADDRESS_MAX)
		proto_add(w, "address", addr);
}

/*
 * FAIL or TEMPFAIL as {"error","detail"?,"wait"?} with the status the
 * conventions give, except that a refused reset is a 400: nobody logged in.
 */
static void reply_refusal(struct http_ctx *hc, const struct proto_msg *msg)
{
	const char *reason = proto_get(msg, "reason"), *detail = proto_get(msg, "detail");
	const char *wait = proto_get(msg, "wait");
	unsigned status;
	json_t *obj;

	if (strcmp(msg->verb, "FAIL") != 0 || reason == NULL)
		reason = "tempfail";
	status = strcmp(msg->verb, "FAIL") != 0   ? 503
	         : strcmp(reason, "invalid") == 0 ? 400
	                                          : http_status_for(reason);
	obj = json_pack("{s:s}", "error", reason);
	if (obj != NULL && detail != NULL)
		json_object_set_new(obj, "detail", json_string(detail));
	if (obj != NULL && wait != NULL)
		json_object_set_new(obj, "wait", json_integer(strtol(wait, NULL, 10)));
	if (obj == NULL)
		http_reply_error(hc, 503, "tempfail", NULL);
	else
		http_reply_json(hc, status, obj);
}

/* Sends the line; on OK answers ok (stolen), else the refusal. */
static void forward(struct http_ctx *hc, struct proto_writer *w, json_t *ok)
{
	struct proto_msg msg;
	char *buf = NULL;

	if (http_call(hc, w, &msg, &buf) < 0)
		goto out;
	if (strcmp(msg.verb, "OK") == 0) {
		http_reply_json(hc, 200, ok);
		ok = NULL;
	} else {
		reply_refusal(hc, &msg);
	}
out:
	json_decref(ok);
	proto_writer_wipe(w);
	http_answer_free(buf);
}

static json_t *sent_if_known(void)
{
	return json_pack("{s:s}", "status", "sent_if_known");
}

static void forgot_password(struct http_ctx *hc)
{
	struct proto_writer w;

	proto_begin(&w, "RESET_ASK", "1");
	add_field(hc, &w, "login", "login", FIELD_LOGIN_MAX);
	add_address(hc, &w);
	forward(hc, &w, sent_if_known());
}

static void reset_password(struct http_ctx *hc)
{
	struct proto_writer w;

	proto_begin(&w, "RESET_CONFIRM", "1");
	add_field(hc, &w, "login", "login", FIELD_LOGIN_MAX);
	add_field(hc, &w, "code", "code", FIELD_CODE_MAX);
	add_field(hc, &w, "otp", "otp", FIELD_CODE_MAX);
	add_field(hc, &w, "recovery_code", "recovery", FIELD_CODE_MAX);
	add_field(hc, &w, "new_password", "new", FIELD_SECRET_MAX);
	add_address(hc, &w);
	forward(hc, &w, json_object());
}

static void forgot_identifiant(struct http_ctx *hc)
{
	struct proto_writer w;

	proto_begin(&w, "IDENT_ASK", "1");
	add_field(hc, &w, "numen", "numen", FIELD_CODE_MAX);
	add_field(hc, &w, "birth", "birth", FIELD_CODE_MAX);
	add_field(hc, &w, "last", "last", NAME_MAX_BYTES);
	add_address(hc, &w);
	forward(hc, &w, sent_if_known());
}

const struct http_route http_forgot_routes[] = {
    {"POST", "/api/forgot-password", forgot_password, HTTP_PUBLIC},
    {"POST", "/api/reset-password", reset_password, HTTP_PUBLIC},
    {"POST", "/api/forgot-identifiant", forgot_identifiant, HTTP_PUBLIC},
    {NULL, NULL, NULL, 0},
};
