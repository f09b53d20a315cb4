/*
 * libFuzzer: the HTTP front end's own parsing, without a socket. The input
 * is cut at NULs into the trusted_proxies list, an X-Forwarded-For value, a
 * JSON request body and a FAIL reason: the proxies stay within their table,
 * a forwarded address is a real address that is not one of them, and a body
 * string is within its bound with no NUL inside.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_server hs;
	struct http_ctx hc;
	char *piece[4] = {0};
	size_t n = fuzz_split(data, size, 0, piece, 4);
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
	fuzz_free(piece, n);
	return 0;
}
