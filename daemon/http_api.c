/*
 * The self-service API (docs/http-api.md): each handler turns JSON into one
 * protocol request for the same handlers as the sockets, and the answer back
 * into JSON. Login, first login, logout, me and health live here; OTP
 * enrollment and app passwords in http_api_otp.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "daemon.h"
#include "account.h"
#include "fields.h"
#include "http_api.h"
#include "http_priv.h"
#include "proto.h"
#include "rescue.h"
#include "secret.h"

/* Selfservice is no configured service: the default policy, password + code, is the page's. */
#define SERVICE "selfservice"

void api_fail(struct http_ctx *hc, const struct proto_msg *msg, unsigned status)
{
	const char *reason = proto_get(msg, "reason"), *wait = proto_get(msg, "wait");
	const char *detail = proto_get(msg, "detail");
	json_t *obj = json_pack("{ss}", "error", reason != NULL ? reason : "invalid");

	if (obj != NULL && detail != NULL)
		json_object_set_new(obj, "detail", json_string(detail));
	if (obj != NULL && wait != NULL)
		json_object_set_new(obj, "wait", json_integer(strtoll(wait, NULL, 10)));
	http_reply_json(hc, status != 0 ? status : http_status_for(reason), obj);
}

void api_bad_request(struct http_ctx *hc, const char *detail)
{
	http_reply_error(hc, 400, "bad_request", detail);
}

bool api_is(const struct proto_msg *msg, const char *verb)
{
	return strcmp(msg->verb, verb) == 0;
}

bool api_reason_is(const struct proto_msg *msg, const char *reason)
{
	const char *r = proto_get(msg, "reason");

	return r != NULL && strcmp(r, reason) == 0;
}

/* An optional string field: absent or empty gives NULL, anything but a short string is bad. */
static bool optional_string(struct http_ctx *hc, const char *key, size_t max, const char **out)
{
	json_t *v = http_body(hc) != NULL ? json_object_get(http_body(hc), key) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if ((*out = http_body_string(hc, key, max)) == NULL)
		return false;
	if ((*out)[0] == '\0')
		*out = NULL;
	return true;
}

/* A new session for this person, replacing the one the cookie named; its cookie set. */
static int session_begin(struct http_ctx *hc, const char *identifiant, enum http_stage stage)
{
	char id[HTTP_SESSION_ID_LEN + 1];
	int r;

	if (hc->sid[0] != '\0')
		http_session_end(hc->hs->sessions, hc->sid);
	r = http_session_create(hc->hs->sessions, identifiant, stage, time(NULL), id);
	if (r == 0) {
		http_set_cookie(hc, id);
		memcpy(hc->sid, id, sizeof(id));
	}
	secret_wipe(id, sizeof(id));
	return r;
}

static void reply_session(struct http_ctx *hc, const char *identifiant, enum http_stage stage)
{
	if (identifiant == NULL || session_begin(hc, identifiant, stage) < 0) {
		http_reply_error(hc, 503, "tempfail", NULL);
		return;
	}
	http_reply_json(hc, 200,
	                json_pack("{ssss}", "identifiant", identifiant, "stage",
	                          stage == HTTP_STAGE_FULL ? "full" : "enroll"));
}

/* The canonical identifiant of a login (maybe an email), or "" when unknown. */
static int identifiant_of(struct http_ctx *hc, const char *login, char out[IDENT_MAX + 1])
{
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *ident;

	out[0] = '\0';
	proto_begin(&w, "USER_SHOW", "h");
	proto_add(&w, "login", login);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return -1;
	if (api_is(&msg, "OK") && (ident = proto_get(&msg, "identifiant")) != NULL &&
	    strlen(ident) <= IDENT_MAX)
		memcpy(out, ident, strlen(ident) + 1);
	http_answer_free(buf);
	return 0;
}

static void add_address(struct http_ctx *hc, struct proto_writer *w)
{
	if (http_client_address(hc)[0] != '\0')
		proto_add(w, "address", http_client_address(hc));
}

/* The device cookie it holds, a label for a new one, and whether to trust this browser. */
static bool add_device(struct http_ctx *hc, struct proto_writer *w)
{
	json_t *trust = json_object_get(http_body(hc), "trust");
	const char *device = api_device_cookie(hc);
	char label[DEVICE_LABEL_MAX + 1];

	if (trust != NULL && !json_is_boolean(trust))
		return false;
	if (device != NULL)
		proto_add(w, "device", device);
	api_device_label(hc, label, sizeof(label));
	proto_add(w, "device_label", label);
	if (json_is_true(trust))
		proto_add(w, "trust", "1");
	return true;
}

static void api_login(struct http_ctx *hc)
{
	const char *login = http_body_string(hc, "login", FIELD_LOGIN_MAX);
	const char *password = http_body_string(hc, "password", FIELD_SECRET_MAX), *otp;
	char ident[IDENT_MAX + 1];
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;

	if (login == NULL || password == NULL ||
	    !optional_string(hc, "otp", FIELD_CODE_MAX, &otp)) {
		api_bad_request(hc, "login, password, otp?, trust?");
		return;
	}
	proto_begin(&w, "AUTH", "h");
	proto_add(&w, "login", login);
	proto_add(&w, "password", password);
	if (otp != NULL)
		proto_add(&w, "otp", otp);
	proto_add(&w, "service", SERVICE);
	add_address(hc, &w);
	if (!add_device(hc, &w)) {
		proto_writer_wipe(&w);
		api_bad_request(hc, "trust: true or false");
		return;
	}
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	if (api_is(&msg, "OK")) {
		/* A full login: this browser gets (or renews) its device cookie. */
		api_device_set(hc, &msg);
		reply_session(hc, proto_get(&msg, "identifiant"), HTTP_STAGE_FULL);
	} else if (api_reason_is(&msg, "otp_required") && hc->hs->set.trusted_browser_days > 0) {
		/* The page may offer to trust this browser on its code step. */
		http_reply_json(hc, 401,
		                json_pack("{sssi}", "error", "otp_required", "trusted_browser_days",
		                          (int)hc->hs->set.trusted_browser_days));
	} else if (api_reason_is(&msg, "otp_enrollment_required")) {
		/* Only said after a right password; the answer names no identifiant. */
		if (identifiant_of(hc, login, ident) == 0)
			reply_session(hc, ident[0] != '\0' ? ident : NULL, HTTP_STAGE_ENROLL);
	} else {
		api_fail(hc, &msg, 0);
	}
	http_answer_free(buf);
}

/* After a first login, "active", "pending" or "none"; NULL when it could not be read. */
static const char *otp_state(struct http_ctx *hc, const char *ident, char *out, size_t len)
{
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *state;

	proto_begin(&w, "USER_SHOW", "h");
	proto_add(&w, "login", ident);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return NULL;
	out[0] = '\0';
	if (api_is(&msg, "OK") && (state = proto_get(&msg, "otp")) != NULL && strlen(state) < len)
		memcpy(out, state, strlen(state) + 1);
	http_answer_free(buf);
	if (out[0] == '\0')
		http_reply_error(hc, 503, "tempfail", NULL);
	return out[0] != '\0' ? out : NULL;
}

static void api_first_login(struct http_ctx *hc)
{
	const char *login = http_body_string(hc, "login", FIELD_LOGIN_MAX);
	const char *temp = http_body_string(hc, "temporary_password", FIELD_SECRET_MAX);
	const char *new = http_body_string(hc, "new_password", FIELD_SECRET_MAX);
	char ident[IDENT_MAX + 1] = "", state[16];
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *id;

	if (login == NULL || temp == NULL || new == NULL) {
		api_bad_request(hc, "login, temporary_password, new_password");
		return;
	}
	proto_begin(&w, "PASSWD", "h");
	proto_add(&w, "login", login);
	proto_add(&w, "password", temp);
	proto_add(&w, "new", new);
	proto_add(&w, "service", SERVICE);
	add_address(hc, &w);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	if (!api_is(&msg, "OK")) {
		api_fail(hc, &msg, 0);
		goto out;
	}
	if ((id = proto_get(&msg, "identifiant")) != NULL && strlen(id) <= IDENT_MAX)
		memcpy(ident, id, strlen(id) + 1);
	if (otp_state(hc, ident, state, sizeof(state)) == NULL)
		goto out;
	/* A temporary password proves no second factor: it may not replace an active one. */
	if (strcmp(state, "active") == 0)
		http_reply_json(hc, 200,
		                json_pack("{ssss}", "identifiant", ident, "stage", "login"));
	else
		reply_session(hc, ident, HTTP_STAGE_ENROLL);
out:
	http_answer_free(buf);
}

static void api_logout(struct http_ctx *hc)
{
	if (hc->sid[0] != '\0')
		http_session_end(hc->hs->sessions, hc->sid);
	http_set_cookie(hc, NULL);
	http_reply_json(hc, 200, json_object());
}

static void api_me(struct http_ctx *hc)
{
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *email, *otp, *rescue;
	char masked[RESCUE_MASK_MAX];

	proto_begin(&w, "USER_SHOW", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	email = proto_get(&msg, "email");
	otp = proto_get(&msg, "otp");
	rescue = proto_get(&msg, "rescue_email");
	/* The rescue address partly masked: a glance over the shoulder must not read it. */
	if (rescue != NULL && rescue[0] != '\0')
		rescue_mask(rescue, masked);
	else
		masked[0] = '\0';
	if (!api_is(&msg, "OK") || email == NULL || otp == NULL)
		api_fail(hc, &msg, 0);
	else
		http_reply_json(hc, 200,
		                json_pack("{ssssssssss}", "identifiant",
		                          http_session_identifiant(hc), "email", email, "stage",
		                          hc->session.stage == HTTP_STAGE_FULL ? "full" : "enroll",
		                          "otp", otp, "rescue_email_masked", masked));
	http_answer_free(buf);
}

/* A read of one account: any answer but TEMPFAIL proves the store answers. */
static void api_health(struct http_ctx *hc)
{
	struct proto_writer w;
	struct reply reply = {0};
	bool ok;

	proto_begin(&w, "USER_SHOW", "h");
	proto_add(&w, "login", "healthprobe");
	ok = bridge_call(http_daemon(hc), &w, &reply) == 0 && reply.len > 0 &&
	     (strncmp(reply.data, "OK\t", 3) == 0 || strncmp(reply.data, "FAIL\t", 5) == 0);
	reply_wipe(&reply);
	if (ok)
		http_reply_json(hc, 200, json_pack("{ss}", "status", "ok"));
	else
		http_reply_json(hc, 503, json_pack("{ss}", "status", "unavailable"));
}

const struct http_route http_api_routes[] = {
    {"GET", "/api/health", api_health, HTTP_PUBLIC},
    {"POST", "/api/login", api_login, HTTP_PUBLIC},
    {"POST", "/api/first-login", api_first_login, HTTP_PUBLIC},
    {"POST", "/api/logout", api_logout, HTTP_PUBLIC},
    {"GET", "/api/me", api_me, HTTP_SESSION},
    {"POST", "/api/otp/enroll", api_otp_enroll, HTTP_SESSION},
    {"GET", "/api/otp/qr.png", api_otp_qr_png, HTTP_SESSION},
    {"GET", "/api/otp/qr.svg", api_otp_qr_svg, HTTP_SESSION},
    {"POST", "/api/otp/confirm", api_otp_confirm, HTTP_SESSION},
    {"POST", "/api/password", api_password, HTTP_FULL},
    {"GET", "/api/app-passwords", api_app_list, HTTP_FULL},
    {"POST", "/api/app-passwords", api_app_add, HTTP_FULL},
    {"DELETE", "/api/app-passwords/", api_app_revoke, HTTP_FULL},
    {"GET", "/api/devices", api_device_list, HTTP_FULL},
    {"DELETE", "/api/devices/", api_device_revoke, HTTP_FULL},
    {NULL, NULL, NULL, 0},
};
