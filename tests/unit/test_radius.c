/*
 * The RADIUS codec and memory (daemon/radius_codec.c, radius_state.c): the
 * RFC 2865 User-Password example, framing errors at their boundaries, MA and
 * Response Authenticator round trips, a flipped bit, single-use States with
 * injected time, and the retransmission cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "radius_codec.h"
#include "radius_state.h"

static const uint8_t secret[] = "xyzzy5461";
#define SLEN (sizeof(secret) - 1)

static size_t request(uint8_t *out, const char *user, const char *pw, bool ma)
{
	static const uint8_t auth[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct radius_writer w;
	uint8_t hidden[RADIUS_PASSWORD_MAX];
	size_t hlen;

	radius_begin(&w, RADIUS_ACCESS_REQUEST, 42, auth, ma);
	radius_add(&w, RADIUS_USER_NAME, user, strlen(user));
	assert_int_equal(radius_password_hide(pw, strlen(pw), auth, secret, SLEN, hidden, &hlen),
	                 0);
	radius_add(&w, RADIUS_USER_PASSWORD, hidden, hlen);
	assert_int_equal(radius_finish_request(&w, secret, SLEN), 0);
	memcpy(out, w.buf, w.len);
	return w.len;
}

/* RFC 2865 section 7.1: "arctangent" under secret xyzzy5461 and this authenticator. */
static void test_rfc2865_password(void **state)
{
	static const uint8_t auth[16] = {0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57,
	                                 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a};
	static const uint8_t hidden[16] = {0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce,
	                                   0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a, 0x0a, 0xee};
	struct radius_attr a = {.type = RADIUS_USER_PASSWORD, .len = 16, .value = hidden};
	uint8_t out[RADIUS_PASSWORD_MAX];
	char pw[RADIUS_PASSWORD_MAX + 1];
	size_t len;

	(void)state;
	assert_int_equal(radius_password_reveal(&a, auth, secret, SLEN, pw, &len), 0);
	assert_string_equal(pw, "arctangent");
	assert_int_equal(len, 10);
	assert_int_equal(radius_password_hide("arctangent", 10, auth, secret, SLEN, out, &len), 0);
	assert_int_equal(len, 16);
	assert_memory_equal(out, hidden, 16);
}

static void test_password_bounds(void **state)
{
	uint8_t buf[RADIUS_PACKET_MAX], hidden[RADIUS_PASSWORD_MAX + 16];
	char pw[RADIUS_PASSWORD_MAX + 2], out[RADIUS_PASSWORD_MAX + 1];
	struct radius_packet p;
	struct radius_attr a;
	size_t len;

	(void)state;
	memset(pw, 'a', RADIUS_PASSWORD_MAX);
	pw[RADIUS_PASSWORD_MAX] = '\0';
	len = request(buf, "u", pw, true);
	assert_int_equal(radius_decode(buf, len, &p), RADIUS_OK);
	assert_int_equal(radius_password_reveal(radius_find(&p, RADIUS_USER_PASSWORD),
	                                        p.authenticator, secret, SLEN, out, &len),
	                 0);
	assert_int_equal(len, RADIUS_PASSWORD_MAX);
	assert_memory_equal(out, pw, RADIUS_PASSWORD_MAX);
	/* 129 bytes do not hide; 15 or 144 bytes do not reveal */
	pw[RADIUS_PASSWORD_MAX] = 'a';
	pw[RADIUS_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(
	    radius_password_hide(pw, strlen(pw), p.authenticator, secret, SLEN, hidden, &len), -1);
	a = (struct radius_attr){.type = 2, .len = 15, .value = hidden};
	assert_int_equal(radius_password_reveal(&a, p.authenticator, secret, SLEN, out, &len), -1);
	a.len = 144;
	assert_int_equal(radius_password_reveal(&a, p.authenticator, secret, SLEN, out, &len), -1);
}

static void test_decode_errors(void **state)
{
	uint8_t buf[RADIUS_PACKET_MAX + 8];
	struct radius_packet p;
	size_t len;

	(void)state;
	len = request(buf, "jdupont", "pw", true);
	assert_int_equal(radius_decode(buf, 19, &p), RADIUS_ERR_SHORT);
	assert_int_equal(radius_decode(buf, len - 1, &p), RADIUS_ERR_SHORT);
	/* trailing bytes beyond Length are ignored (RFC 2865 3) */
	assert_int_equal(radius_decode(buf, len + 3, &p), RADIUS_OK);
	assert_int_equal(p.len, len);
	buf[2] = 0, buf[3] = 19;
	assert_int_equal(radius_decode(buf, len, &p), RADIUS_ERR_LENGTH);
	buf[2] = 0x10, buf[3] = 1; /* 4097 */
	assert_int_equal(radius_decode(buf, sizeof(buf), &p), RADIUS_ERR_LENGTH);
	buf[2] = (uint8_t)(len >> 8), buf[3] = (uint8_t)len;
	buf[RADIUS_HEADER_LEN + 18 + 1] = 1; /* User-Name length 1 */
	assert_int_equal(radius_decode(buf, len, &p), RADIUS_ERR_ATTR);
	buf[RADIUS_HEADER_LEN + 18 + 1] = 200; /* past the end */
	assert_int_equal(radius_decode(buf, len, &p), RADIUS_ERR_ATTR);
	buf[RADIUS_HEADER_LEN + 1] = 17; /* an MA of 15 bytes */
	assert_int_equal(radius_decode(buf, len, &p), RADIUS_ERR_MA);
}

static void test_message_authenticator(void **state)
{
	uint8_t buf[RADIUS_PACKET_MAX];
	struct radius_packet p, q;
	struct radius_writer w;
	size_t len;

	(void)state;
	len = request(buf, "jdupont", "pw", true);
	assert_int_equal(radius_decode(buf, len, &p), RADIUS_OK);
	assert_int_equal(p.ma_index, 0);
	assert_true(radius_request_ma_ok(&p, secret, SLEN));
	assert_false(radius_request_ma_ok(&p, (const uint8_t *)"other", 5));
	/* The thread keeps the last key: each change of secret must rekey. */
	assert_true(radius_request_ma_ok(&p, secret, SLEN));
	assert_true(radius_request_ma_ok(&p, secret, SLEN));
	assert_false(radius_request_ma_ok(&p, secret, SLEN - 1));
	assert_false(radius_request_ma_ok(&p, (const uint8_t *)"other", 5));
	assert_true(radius_request_ma_ok(&p, secret, SLEN));
	buf[RADIUS_HEADER_LEN + 2 + 5] ^= 0x10; /* one bit of the MA */
	assert_false(radius_request_ma_ok(&p, secret, SLEN));
	buf[RADIUS_HEADER_LEN + 2 + 5] ^= 0x10;
	buf[len - 1] ^= 1; /* one bit of the password */
	assert_false(radius_request_ma_ok(&p, secret, SLEN));
	buf[len - 1] ^= 1;
	len = request(buf, "jdupont", "pw", false);
	assert_int_equal(radius_decode(buf, len, &p), RADIUS_OK);
	assert_int_equal(p.ma_index, -1);
	assert_false(radius_request_ma_ok(&p, secret, SLEN));
	/* a reply: MA first, both authenticators check against the request's */
	radius_begin(&w, RADIUS_ACCESS_ACCEPT, p.id, p.authenticator, true);
	radius_add(&w, RADIUS_REPLY_MESSAGE, "Bienvenue", 9);
	assert_int_equal(radius_finish_reply(&w, secret, SLEN), 0);
	assert_int_equal(radius_decode(w.buf, w.len, &q), RADIUS_OK);
	assert_int_equal(q.ma_index, 0);
	assert_true(radius_reply_ok(&q, p.authenticator, secret, SLEN));
	w.buf[w.len - 1] ^= 1;
	assert_false(radius_reply_ok(&q, p.authenticator, secret, SLEN));
}

static void test_writer_overflow(void **state)
{
	static const uint8_t auth[16];
	uint8_t big[254] = {0};
	struct radius_writer w;

	(void)state;
	radius_begin(&w, RADIUS_ACCESS_ACCEPT, 1, auth, true);
	radius_add(&w, RADIUS_CLASS, big, 254);
	assert_int_equal(radius_finish_reply(&w, secret, SLEN), -1);
	radius_begin(&w, RADIUS_ACCESS_ACCEPT, 1, auth, true);
	for (int i = 0; i < 15; i++)
		radius_add(&w, RADIUS_CLASS, big, 253);
	assert_false(w.overflow);
	radius_add(&w, RADIUS_CLASS, big, 253);
	assert_true(w.overflow);
	assert_int_equal(radius_finish_reply(&w, secret, SLEN), -1);
}

static void test_states(void **state)
{
	struct radius_states *t = radius_states_new();
	uint8_t st[RADIUS_STATE_LEN], st2[RADIUS_STATE_LEN];
	char pw[RADIUS_PW_MAX + 1];

	(void)state;
	assert_non_null(t);
	assert_int_equal(radius_state_put(t, "vpn", "jdupont", "secret pw", 1000, 61000, st), 0);
	/* another client, another user: refused, and the State is spent */
	assert_int_equal(radius_state_take(t, st, sizeof(st), "wifi", "jdupont", 2000, pw),
	                 STATE_UNKNOWN);
	assert_int_equal(radius_state_take(t, st, sizeof(st), "vpn", "jdupont", 2000, pw),
	                 STATE_UNKNOWN);
	assert_int_equal(radius_state_put(t, "vpn", "jdupont", "secret pw", 1000, 61000, st), 0);
	assert_int_equal(radius_state_take(t, st, sizeof(st) - 1, "vpn", "jdupont", 2000, pw),
	                 STATE_UNKNOWN);
	assert_int_equal(radius_state_take(t, st, sizeof(st), "vpn", "jdupont", 61000, pw),
	                 STATE_TAKEN);
	assert_string_equal(pw, "secret pw");
	assert_int_equal(radius_state_take(t, st, sizeof(st), "vpn", "jdupont", 61000, pw),
	                 STATE_UNKNOWN); /* single use */
	/* one millisecond past its lifetime */
	assert_int_equal(radius_state_put(t, "vpn", "jdupont", "pw", 1000, 61000, st2), 0);
	assert_int_equal(radius_state_take(t, st2, sizeof(st2), "vpn", "jdupont", 61001, pw),
	                 STATE_EXPIRED);
	assert_int_equal(radius_state_take(t, st2, sizeof(st2), "vpn", "jdupont", 61001, pw),
	                 STATE_UNKNOWN);
	radius_states_free(t);
}

static void test_cache(void **state)
{
	struct radius_cache *c = radius_cache_new();
	uint8_t key[RADIUS_CACHE_KEY_LEN] = {1, 2, 3}, other[RADIUS_CACHE_KEY_LEN] = {1, 2, 4};
	const uint8_t *reply;
	size_t len;

	(void)state;
	assert_non_null(c);
	assert_int_equal(radius_cache_lookup(c, key, 1000, &reply, &len), CACHE_NEW);
	assert_int_equal(radius_cache_lookup(c, key, 1001, &reply, &len), CACHE_PENDING);
	assert_int_equal(radius_cache_lookup(c, other, 1001, &reply, &len), CACHE_NEW);
	radius_cache_done(c, key, (const uint8_t *)"reply", 5, 6000);
	assert_int_equal(radius_cache_lookup(c, key, 6000, &reply, &len), CACHE_DONE);
	assert_int_equal(len, 5);
	assert_memory_equal(reply, "reply", 5);
	/* past its time: a new request */
	assert_int_equal(radius_cache_lookup(c, key, 6001, &reply, &len), CACHE_NEW);
	radius_cache_forget(c, key);
	assert_int_equal(radius_cache_lookup(c, key, 6002, &reply, &len), CACHE_NEW);
	radius_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc2865_password),
	    cmocka_unit_test(test_password_bounds),
	    cmocka_unit_test(test_decode_errors),
	    cmocka_unit_test(test_message_authenticator),
	    cmocka_unit_test(test_writer_overflow),
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
