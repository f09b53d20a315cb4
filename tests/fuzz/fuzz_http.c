/*
 * libFuzzer: the HTTP front end's own parsing, without a socket. The input
 * is cut at NULs into the trusted_proxies list, an X-Forwarded-For value, a
 * JSON request body, a FAIL reason, a method, a path and a session cookie's
 * value: the proxies stay within their table, a forwarded address is a real
 * address that is not one of them, a body string is within its bound with
 * no NUL inside, a route found (in the daemon's own tables) has that method
 * and that path or prefix with its rest inside the path, a 405's Allow list
 * names only the path's other methods, once each, within its buffer, and a
 * cookie taken as a session id is 43 base64url characters.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "fields.h"
#include "fuzz_util.h"
#include "http_priv.h"
#include "http_route.h"

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

static void fuzz_forwarded(const struct http_settings *set, const char *xff)
{
	char out[HTTP_ADDRESS_MAX];
	unsigned char addr[16];
	int family;

	if (!http_forwarded_address(set, xff, out, sizeof(out)))
		return;
	family = strchr(out, ':') != NULL ? AF_INET6 : AF_INET;
	fuzz_check(inet_pton(family, out, addr) == 1);
	for (unsigned i = 0; i < set->nproxies; i++)
		fuzz_check(set->proxies[i].family != family ||
		           memcmp(set->proxies[i].addr, addr, family == AF_INET ? 4 : 16) != 0);
}

static void fuzz_body(struct http_ctx *hc, const char *text)
{
	static const struct {
		const char *key;
		size_t max;
	} keys[] = {
	    {"login", FIELD_LOGIN_MAX},
	    {"password", FIELD_SECRET_MAX},
	    {"otp", FIELD_CODE_MAX},
	    {"address", FIELD_ADDRESS_MAX},
	    {"name", 8},
	};
	const char *v;

	hc->json = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, NULL);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = http_body_string(hc, keys[i].key, keys[i].max)) != NULL)
			fuzz_check(strlen(v) <= keys[i].max &&
			           strlen(v) ==
			               json_string_length(json_object_get(hc->json, keys[i].key)));
	json_decref(hc->json);
	hc->json = NULL;
}

/* Whether one of tables' routes has method on a path that matches. */
static bool has_route(const struct http_route *const *tables, const char *method, const char *path)
{
	const char *rest;

	for (; *tables != NULL; tables++)
		for (const struct http_route *r = *tables; r->path != NULL; r++)
			if (strcmp(r->method, method) == 0 && http_route_path(r->path, path, &rest))
				return true;
	return false;
}

static void fuzz_route(const char *method, const char *path)
{
	static const struct http_route *const tables[] = {http_api_routes, http_forgot_routes,
	                                                  http_self_routes, NULL};
	struct http_match m;
	size_t plen = strlen(path), rlen, nseen = 0;
	char list[HTTP_ALLOW_MAX], *save = NULL;
	const char *seen[HTTP_ALLOW_MAX / 2];

	http_route_find(tables, method, path, &m);
	fuzz_check(m.rest != NULL && m.rest >= path && m.rest <= path + plen);
	fuzz_check(strlen(m.allow) < HTTP_ALLOW_MAX);
	if (m.route != NULL) {
		rlen = strlen(m.route->path);
		fuzz_check(strcmp(m.route->method, method) == 0 && m.allow[0] == '\0');
		if (m.route->path[rlen - 1] == '/')
			fuzz_check(strncmp(path, m.route->path, rlen) == 0 &&
			           m.rest == path + rlen && m.rest[0] != '\0');
		else
			fuzz_check(strcmp(path, m.route->path) == 0 && m.rest[0] == '\0');
		return;
	}
	fuzz_check(m.rest[0] == '\0' && !has_route(tables, method, path));
	/* every method the Allow list names has a route on this path, and none comes twice */
	memcpy(list, m.allow, sizeof(list));
	for (char *tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		tok += tok != list && tok[0] == ' ';
		fuzz_check(tok[0] != '\0' && nseen < sizeof(seen) / sizeof(seen[0]));
		fuzz_check(has_route(tables, tok, path) && strcmp(tok, method) != 0);
		for (size_t i = 0; i < nseen; i++)
			fuzz_check(strcmp(seen[i], tok) != 0);
		seen[nseen++] = tok;
	}
}

static void fuzz_cookie(const char *value)
{
	size_t n = strlen(value);
	bool form = n == HTTP_SESSION_ID_LEN;

	for (size_t i = 0; i < n; i++)
		form =
		    form &&
		    ((value[i] >= 'A' && value[i] <= 'Z') || (value[i] >= 'a' && value[i] <= 'z') ||
		     (value[i] >= '0' && value[i] <= '9') || value[i] == '-' || value[i] == '_');
	fuzz_check(http_cookie_id_ok(value) == form);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_server hs;
	struct http_ctx hc;
	char *piece[7] = {0};
	size_t n = fuzz_split(data, size, 0, piece, 7);
	unsigned status;

	memset(&hs, 0, sizeof(hs));
	memset(&hc, 0, sizeof(hc));
	hc.hs = &hs;
	if (n > 0 && http_settings_proxies(&hs.set, piece[0]) < 0)
		hs.set.nproxies = 0; /* refused at start-up: the daemon would not run */
	fuzz_check(hs.set.nproxies <= HTTP_PROXIES_MAX);
	if (n > 1)
		fuzz_forwarded(&hs.set, piece[1]);
	if (n > 2)
		fuzz_body(&hc, piece[2]);
	if (n > 3) {
		status = http_status_for(piece[3]);
		fuzz_check(status >= 400 && status < 600);
	}
	if (n > 5)
		fuzz_route(piece[4], piece[5]);
	if (n > 6)
		fuzz_cookie(piece[6]);
	fuzz_free(piece, n);
	return 0;
}
