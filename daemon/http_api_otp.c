/*
 * Enrollment (a pending secret, its QR code, its confirmation) and password
 * change for the person of the session. The pending URI stays in the session
 * only until confirmation, for the QR images.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fields.h"
#include "http_api.h"
#include "http_priv.h"
#include "otp.h"
#include "proto.h"
#include "qr.h"
#include "secret.h"

#define QR_SCALE 8 /* pixels a module: large enough for a phone held at arm's length */
#define RECOVERY_CODES_MAX 16

/* "ABCD EFGH …": the secret for people who type it. */
static void groups_of_four(const char *b32, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; b32[i] != '\0' && o + 2 < cap; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = b32[i];
	}
	out[o] = '\0';
}

void api_otp_enroll(struct http_ctx *hc)
{
	char groups[OTP_B32_MAX + OTP_B32_MAX / 4 + 1];
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *uri, *secret;

	proto_begin(&w, "OTP_ENROLL", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	uri = proto_get(&msg, "uri");
	secret = proto_get(&msg, "secret");
	if (!api_is(&msg, "OK") || uri == NULL || secret == NULL) {
		api_fail(hc, &msg, 0);
		goto out;
	}
	if (http_session_set_uri(hc->hs->sessions, hc->sid, uri) < 0) {
		http_reply_error(hc, 503, "tempfail", NULL);
		goto out;
	}
	groups_of_four(secret, groups, sizeof(groups));
	http_reply_json(hc, 200,
	                json_pack("{ssssssssss}", "uri", uri, "secret", secret, "secret_groups",
	                          groups, "qr_png", "/api/otp/qr.png", "qr_svg",
	                          "/api/otp/qr.svg"));
	secret_wipe(groups, sizeof(groups));
out:
	http_answer_free(buf);
}

static void qr_reply(struct http_ctx *hc, bool png)
{
	char uri[OTP_URI_MAX];
	unsigned char *data = NULL;
	char *svg = NULL;
	size_t len = 0;
	int r;

	if (http_session_get_uri(hc->hs->sessions, hc->sid, uri, sizeof(uri)) < 0) {
		http_reply_error(hc, 404, "no_pending_otp", NULL);
		return;
	}
	r = png ? qr_png(uri, QR_SCALE, &data, &len) : qr_svg(uri, &svg, &len);
	secret_wipe(uri, sizeof(uri));
	if (r < 0)
		http_reply_error(hc, 503, "tempfail", NULL);
	else if (png)
		http_reply_raw(hc, 200, "image/png", data, len, true);
	else
		http_reply_raw(hc, 200, "image/svg+xml", svg, len, true);
	/* the image is the secret too */
	secret_wipe(png ? (void *)data : (void *)svg, len);
	free(data);
	free(svg);
}

void api_otp_qr_png(struct http_ctx *hc)
{
	qr_reply(hc, true);
}

void api_otp_qr_svg(struct http_ctx *hc)
{
	qr_reply(hc, false);
}

static json_t *split_codes(const char *list)
{
	json_t *codes = json_array();
	const char *p = list;

	while (codes != NULL && *p != '\0' && json_array_size(codes) < RECOVERY_CODES_MAX) {
		size_t n = strcspn(p, ",");

		json_array_append_new(codes, json_stringn(p, n));
		p += n;
		p += *p == ',';
	}
	return codes;
}

void api_otp_confirm(struct http_ctx *hc)
{
	const char *code = http_body_string(hc, "code", FIELD_CODE_MAX), *list;
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;

	if (code == NULL) {
		api_bad_request(hc, "code");
		return;
	}
	proto_begin(&w, "OTP_CONFIRM", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	proto_add(&w, "code", code);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	if (!api_is(&msg, "OK") || (list = proto_get(&msg, "recovery_codes")) == NULL) {
		/* a wrong code is bad input here, not a refused login */
		api_fail(hc, &msg, api_reason_is(&msg, "invalid") ? 400 : 0);
		goto out;
	}
	http_session_set_uri(hc->hs->sessions, hc->sid, NULL);
	http_session_set_stage(hc->hs->sessions, hc->sid, HTTP_STAGE_FULL);
	http_reply_json(hc, 200, json_pack("{so}", "recovery_codes", split_codes(list)));
out:
	http_answer_free(buf);
}

void api_password(struct http_ctx *hc)
{
	const char *current = http_body_string(hc, "current", FIELD_SECRET_MAX);
	const char *new = http_body_string(hc, "new", FIELD_SECRET_MAX);
	const char *otp = http_body_string(hc, "otp", FIELD_CODE_MAX);
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;

	if (current == NULL || new == NULL || otp == NULL) {
		api_bad_request(hc, "current, new, otp");
		return;
	}
	proto_begin(&w, "PASSWD", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	proto_add(&w, "password", current);
	proto_add(&w, "new", new);
	if (otp[0] != '\0')
		proto_add(&w, "otp", otp);
	proto_add(&w, "service", "selfservice");
	if (http_client_address(hc)[0] != '\0')
		proto_add(&w, "address", http_client_address(hc));
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	if (!api_is(&msg, "OK")) {
		api_fail(hc, &msg, 0);
		goto out;
	}
	/* This session knows the new password; every other one ends with the old. */
	http_session_set_since(hc->hs->sessions, hc->sid, time(NULL));
	http_session_end_person(hc->hs->sessions, http_session_identifiant(hc), hc->sid);
	http_reply_json(hc, 200, json_object());
out:
	http_answer_free(buf);
}
