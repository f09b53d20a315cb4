/*
 * The page's own routes (docs/http-api.md): what the page shows of the
 * config (organisation, webmail, password policy), and the person's rescue
 * address, changed with a code mailed to the new one (rescue.c).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fields.h"
#include "http.h"
#include "ident.h"
#include "proto.h"
#include "rescue.h"

static void add_address(struct http_ctx *hc, struct proto_writer *w)
{
	const char *addr = http_client_address(hc);

	if (addr != NULL && addr[0] != '\0' && strlen(addr) <= FIELD_ADDRESS_MAX)
		proto_add(w, "address", addr);
}

static json_t *refusal(const struct proto_msg *msg)
{
	const char *reason = proto_get(msg, "reason"), *detail = proto_get(msg, "detail");
	const char *why = proto_get(msg, "why"), *tries = proto_get(msg, "tries");
	const char *wait = proto_get(msg, "wait");
	json_t *obj = json_pack("{ss}", "error", reason != NULL ? reason : "tempfail");

	if (obj == NULL)
		return NULL;
	if (detail != NULL)
		json_object_set_new(obj, "detail", json_string(detail));
	if (why != NULL)
		json_object_set_new(obj, "why", json_string(why));
	if (tries != NULL)
		json_object_set_new(obj, "tries_left", json_integer(strtol(tries, NULL, 10)));
	if (wait != NULL)
		json_object_set_new(obj, "wait", json_integer(strtol(wait, NULL, 10)));
	return obj;
}

/* A refused code is a 400 (the session is fine); the rest as the conventions say. */
static void reply_refusal(struct http_ctx *hc, const struct proto_msg *msg)
{
	const char *reason = proto_get(msg, "reason");
	unsigned status;

	if (strcmp(msg->verb, "FAIL") != 0 || reason == NULL) {
		http_reply_error(hc, 503, "tempfail", NULL);
		return;
	}
	status = strcmp(reason, "invalid") == 0 ? 400 : http_status_for(reason);
	http_reply_json(hc, status, refusal(msg));
}

static void rescue_ask(struct http_ctx *hc)
{
	const char *email = http_body_string(hc, "email", EMAIL_MAX);
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *expires;

	if (email == NULL) {
		http_reply_error(hc, 400, "bad_request", "email");
		return;
	}
	proto_begin(&w, "RESCUE_ASK", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	proto_add(&w, "email", email);
	add_address(hc, &w);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	if (strcmp(msg.verb, "OK") == 0 && (expires = proto_get(&msg, "expires")) != NULL)
		http_reply_json(hc, 200,
		                json_pack("{sssI}", "status", "code_sent", "expires_in",
		                          (json_int_t)strtol(expires, NULL, 10)));
	else
		reply_refusal(hc, &msg);
	http_answer_free(buf);
}

static void rescue_confirm(struct http_ctx *hc)
{
	const char *code = http_body_string(hc, "code", FIELD_CODE_MAX), *email;
	char masked[RESCUE_MASK_MAX];
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;

	if (code == NULL) {
		http_reply_error(hc, 400, "bad_request", "code");
		return;
	}
	proto_begin(&w, "RESCUE_CONFIRM", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	proto_add(&w, "code", code);
	add_address(hc, &w);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	if (strcmp(msg.verb, "OK") == 0 && (email = proto_get(&msg, "rescue_email")) != NULL) {
		rescue_mask(email, masked);
		http_reply_json(hc, 200, json_pack("{ss}", "rescue_email_masked", masked));
	} else {
		reply_refusal(hc, &msg);
	}
	http_answer_free(buf);
}

static void rescue_get(struct http_ctx *hc)
{
	const char *current, *pending, *expires;
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	json_t *obj;

	proto_begin(&w, "RESCUE_STATUS", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	current = proto_get(&msg, "rescue_email");
	pending = proto_get(&msg, "pending");
	expires = proto_get(&msg, "expires");
	if (strcmp(msg.verb, "OK") != 0 || current == NULL) {
		reply_refusal(hc, &msg);
		goto out;
	}
	obj = json_pack("{ss}", "rescue_email_masked", current);
	if (obj != NULL && pending != NULL && expires != NULL) {
		json_object_set_new(obj, "pending_masked", json_string(pending));
		json_object_set_new(obj, "expires_in", json_integer(strtol(expires, NULL, 10)));
	}
	http_reply_json(hc, 200, obj);
out:
	http_answer_free(buf);
}

static void page_config(struct http_ctx *hc)
{
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *org, *url, *min, *classes, *dict, *life;
	json_t *obj;

	proto_begin(&w, "PAGE_CONFIG", "h");
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	org = proto_get(&msg, "organisation");
	url = proto_get(&msg, "webmail_url");
	min = proto_get(&msg, "min_length");
	classes = proto_get(&msg, "character_classes");
	dict = proto_get(&msg, "dictionary");
	life = proto_get(&msg, "rescue_code_lifetime");
	if (strcmp(msg.verb, "OK") != 0 || org == NULL || min == NULL || classes == NULL ||
	    dict == NULL || life == NULL) {
		http_reply_error(hc, 503, "tempfail", NULL);
		goto out;
	}
	obj = json_pack("{sss{sIsbsb}sI}", "organisation", org, "password", "min_length",
	                (json_int_t)strtol(min, NULL, 10), "character_classes",
	                strcmp(classes, "1") == 0, "dictionary", strcmp(dict, "1") == 0,
	                "rescue_code_lifetime", (json_int_t)strtol(life, NULL, 10));
	if (obj != NULL && url != NULL)
		json_object_set_new(obj, "webmail_url", json_string(url));
	http_reply_json(hc, 200, obj);
out:
	http_answer_free(buf);
}

const struct http_route http_self_routes[] = {
    {"GET", "/api/config", page_config, HTTP_PUBLIC},
    {"GET", "/api/rescue-email", rescue_get, HTTP_FULL},
    {"POST", "/api/rescue-email", rescue_ask, HTTP_FULL},
    {"POST", "/api/rescue-email/confirm", rescue_confirm, HTTP_FULL},
    {NULL, NULL, NULL, 0},
};
