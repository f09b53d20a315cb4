/*
 * libFuzzer target for the RADIUS codec (daemon/radius_codec.c): whatever
 * decodes must have its attributes inside the packet, verify or not without
 * reading past it, reveal a User-Password within bounds, and re-encode into a
 * reply that decodes again with its Message-Authenticator first and right.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radius_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

static const uint8_t secret[] = "fuzz-secret-0123";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct radius_packet p, q;
	static struct radius_writer w;
	const struct radius_attr *pw;
	char out[RADIUS_PASSWORD_MAX + 1];
	size_t len;

	if (radius_decode(data, size, &p) != RADIUS_OK)
		return 0;
	fuzz_check(p.len >= RADIUS_HEADER_LEN && p.len <= size && p.len <= RADIUS_PACKET_MAX);
	for (unsigned i = 0; i < p.nattrs; i++)
		fuzz_check(p.attrs[i].value >= data + RADIUS_HEADER_LEN &&
		           p.attrs[i].value + p.attrs[i].len <= data + p.len);
	(void)radius_request_ma_ok(&p, secret, sizeof(secret) - 1);
	if ((pw = radius_find(&p, RADIUS_USER_PASSWORD)) != NULL &&
	    radius_password_reveal(pw, p.authenticator, secret, sizeof(secret) - 1, out, &len) == 0)
		fuzz_check(len <= RADIUS_PASSWORD_MAX && strlen(out) == len);
	/* A reply echoing every attribute: it decodes, MA first, and checks against the request. */
	radius_begin(&w, RADIUS_ACCESS_REJECT, p.id, p.authenticator, true);
	for (unsigned i = 0; i < p.nattrs; i++)
		if (p.attrs[i].type != RADIUS_MESSAGE_AUTHENTICATOR)
			radius_add(&w, p.attrs[i].type, p.attrs[i].value, p.attrs[i].len);
	if (radius_finish_reply(&w, secret, sizeof(secret) - 1) < 0 || p.nattrs >= RADIUS_ATTRS_MAX)
		return 0;
	fuzz_check(radius_decode(w.buf, w.len, &q) == RADIUS_OK);
	fuzz_check(q.ma_index == 0 && q.nattrs == p.nattrs + (p.ma_index < 0 ? 1u : 0u));
	fuzz_check(radius_reply_ok(&q, p.authenticator, secret, sizeof(secret) - 1));
	return 0;
}
