/*
 * The device cookie (OWASP "device cookies") and the person's browsers: the
 * page's login sends the cookie's secret as device=, a full login sets a new
 * one, and GET / DELETE /api/devices list and revoke them.
 */
#include <ctype.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "credential.h"
#include "http_api.h"
#include "http_priv.h"
#include "proto.h"

#define DEVICE_COOKIE "verdon_device"

const char *api_device_cookie(struct http_ctx *hc)
{
	const char *v = MHD_lookup_connection_value(hc->conn, MHD_COOKIE_KIND, DEVICE_COOKIE);

	return v != NULL && cred_is_device(v) ? v : NULL;
}

void api_device_set(struct http_ctx *hc, const struct proto_msg *ok)
{
	const char *secret = proto_get(ok, "device"), *expires = proto_get(ok, "device_expires");
	bool secure = hc->hs->set.secure_cookie || hc->https;
	long long age;

	if (secret == NULL || expires == NULL || !cred_is_device(secret))
		return;
	age = strtoll(expires, NULL, 10) - (long long)time(NULL);
	snprintf(hc->device_cookie, sizeof(hc->device_cookie),
	         DEVICE_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", secret,
	         age > 0 ? age : 0, secure ? "; Secure" : "");
}

void api_device_label(struct http_ctx *hc, char *out, size_t len)
{
	static const struct {
		const char *mark, *name;
	} browsers[] = {{"Edg/", "Edge"},          {"OPR/", "Opera"},     {"Firefox/", "Firefox"},
	                {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}},
	  systems[] = {{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"},
	               {"Windows", "Windows"}, {"Mac OS", "macOS"},  {"CrOS", "ChromeOS"},
	               {"Linux", "Linux"}};
	const char *ua = MHD_lookup_connection_value(hc->conn, MHD_HEADER_KIND, "User-Agent");
	const char *b = "Navigateur", *s = NULL;

	for (size_t i = 0; ua != NULL && i < sizeof(browsers) / sizeof(browsers[0]); i++)
		if (strstr(ua, browsers[i].mark) != NULL) {
			b = browsers[i].name;
			break;
		}
	for (size_t i = 0; ua != NULL && i < sizeof(systems) / sizeof(systems[0]); i++)
		if (strstr(ua, systems[i].mark) != NULL) {
			s = systems[i].name;
			break;
		}
	snprintf(out, len, "%s%s%s", b, s != NULL ? " sur " : "", s != NULL ? s : "");
}

static json_t *device_of(const struct proto_msg *row)
{
	const char *id = proto_get(row, "device_id"), *label = proto_get(row, "label");
	const char *created = proto_get(row, "created"), *used = proto_get(row, "last_used");
	const char *expires = proto_get(row, "expires"), *trusted = proto_get(row, "trusted");

	if (id == NULL || label == NULL || created == NULL || used == NULL || expires == NULL ||
	    trusted == NULL)
		return NULL;
	return json_pack("{sssssIsIsIsb}", "id", id, "label", label, "created",
	                 (json_int_t)strtoll(created, NULL, 10), "last_used",
	                 (json_int_t)strtoll(used, NULL, 10), "expires",
	                 (json_int_t)strtoll(expires, NULL, 10), "trusted",
	                 strcmp(trusted, "1") == 0);
}

void api_device_list(struct http_ctx *hc)
{
	api_list(hc, "DEVICE_LIST", "devices", device_of);
}

void api_device_revoke(struct http_ctx *hc)
{
	const char *id = http_path_rest(hc);
	size_t n = strlen(id);

	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)id[i]))
			n = 0;
	if (n != DEVICE_ID_LEN) {
		http_reply_error(hc, 404, "not_found", NULL);
		return;
	}
	api_revoke(hc, "DEVICE_REVOKE", "device_id", id);
}
