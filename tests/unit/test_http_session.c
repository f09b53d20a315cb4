/* The web sessions: ids, idle and total lifetimes at their boundaries, eviction, ending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_session.h"

#define IDLE 1800
#define LIFE 43200
#define T0 1000000

static struct http_sessions *make(unsigned max)
{
	struct http_sessions *s = http_sessions_new(max, IDLE, LIFE);

	assert_non_null(s);
	return s;
}

static void test_ids(void **state)
{
	struct http_sessions *s = make(8);
	char a[HTTP_SESSION_ID_LEN + 1], b[HTTP_SESSION_ID_LEN + 1];

	(void)state;
	assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_ENROLL, T0, a), 0);
	assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_ENROLL, T0, b), 0);
	assert_int_equal(strlen(a), HTTP_SESSION_ID_LEN);
	assert_int_equal(
	    strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	    HTTP_SESSION_ID_LEN);
	assert_string_not_equal(a, b);
	http_sessions_free(s);
}

static void test_lookup_refusals(void **state)
{
	struct http_sessions *s = make(8);
	char id[HTTP_SESSION_ID_LEN + 1], other[HTTP_SESSION_ID_LEN + 2];
	struct http_session_info info;
	char long_ident[IDENT_MAX + 2];

	(void)state;
	assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_FULL, T0, id), 0);
	memcpy(other, id, sizeof(id));
	other[0] = other[0] == 'A' ? 'B' : 'A';
	const char *bad[] = {NULL, "", "short", other};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_session_get(s, bad[i], T0, &info), -1);
	memcpy(other, id, sizeof(id));
	strcat(other, "A"); /* one character too many */
	assert_int_equal(http_session_get(s, other, T0, &info), -1);
	memset(long_ident, 'a', IDENT_MAX + 1);
	long_ident[IDENT_MAX + 1] = '\0';
	assert_int_equal(http_session_create(s, long_ident, HTTP_STAGE_FULL, T0, other), -1);
	assert_int_equal(http_session_create(s, NULL, HTTP_STAGE_FULL, T0, other), -1);
	assert_int_equal(http_session_get(s, id, T0, &info), 0);
	assert_string_equal(info.identifiant, "jdupont");
	assert_int_equal(info.stage, HTTP_STAGE_FULL);
	assert_int_equal(info.since, T0);
	http_sessions_free(s);
}

/* Each row: create at T0, then gets at these offsets; the last get's outcome. */
static void test_lifetimes(void **state)
{
	static const struct {
		const char *name;
		long gets[8];
		int ngets;
		int last;
	} rows[] = {
	    {"fresh", {0}, 1, 0},
	    {"idle one second short", {IDLE - 1}, 1, 0},
	    {"idle exactly", {IDLE}, 1, -1},
	    {"idle clock restarts at each use", {IDLE - 1, 2 * IDLE - 2}, 2, 0},
	    {"idle after a use", {IDLE - 1, 2 * IDLE - 1}, 2, -1},
	    {"clock backwards", {-5}, 1, 0},
	};

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct http_sessions *s = make(4);
		char id[HTTP_SESSION_ID_LEN + 1];
		struct http_session_info info;
		int got = 0;

		assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_FULL, T0, id), 0);
		for (int g = 0; g < rows[r].ngets; g++)
			got = http_session_get(s, id, T0 + rows[r].gets[g], &info);
		if (got != rows[r].last)
			fail_msg("%s: got %d", rows[r].name, got);
		http_sessions_free(s);
	}
}

/* Used every 25 minutes, a session still dies after 12 hours in all. */
static void test_lifetime_bound(void **state)
{
	struct http_sessions *s = make(4);
	char id[HTTP_SESSION_ID_LEN + 1];
	struct http_session_info info;
	long t;

	(void)state;
	assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_FULL, T0, id), 0);
	for (t = 1500; t < LIFE; t += 1500)
		assert_int_equal(http_session_get(s, id, T0 + t, &info), 0);
	assert_int_equal(http_session_get(s, id, T0 + LIFE - 1, &info), 0);
	assert_int_equal(http_session_get(s, id, T0 + LIFE, &info), -1);
	http_sessions_free(s);
}

static void test_eviction(void **state)
{
	struct http_sessions *s = make(3);
	char id[4][HTTP_SESSION_ID_LEN + 1];
	struct http_session_info info;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(http_session_create(s, "p", HTTP_STAGE_FULL, T0 + i, id[i]), 0);
	assert_int_equal(http_session_get(s, id[0], T0 + 10, &info), 0);
	/* full: the one idle longest (id[1]) makes room */
	assert_int_equal(http_session_create(s, "q", HTTP_STAGE_FULL, T0 + 11, id[3]), 0);
	assert_int_equal(http_session_count(s, T0 + 11), 3);
	assert_int_equal(http_session_get(s, id[1], T0 + 12, &info), -1);
	assert_int_equal(http_session_get(s, id[0], T0 + 12, &info), 0);
	assert_int_equal(http_session_get(s, id[2], T0 + 12, &info), 0);
	assert_int_equal(http_session_get(s, id[3], T0 + 12, &info), 0);
	/* an expired slot is taken before a live one is evicted */
	assert_int_equal(http_session_get(s, id[0], T0 + 100, &info), 0);
	assert_int_equal(http_session_get(s, id[3], T0 + 100, &info), 0);
	assert_int_equal(http_session_create(s, "r", HTTP_STAGE_FULL, T0 + 12 + IDLE, id[1]), 0);
	assert_int_equal(http_session_get(s, id[0], T0 + 12 + IDLE, &info), 0);
	assert_int_equal(http_session_get(s, id[3], T0 + 12 + IDLE, &info), 0);
	http_sessions_free(s);
}

static void test_end(void **state)
{
	struct http_sessions *s = make(8);
	char a[HTTP_SESSION_ID_LEN + 1], b[HTTP_SESSION_ID_LEN + 1], c[HTTP_SESSION_ID_LEN + 1];
	struct http_session_info info;

	(void)state;
	assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_FULL, T0, a), 0);
	assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_FULL, T0, b), 0);
	assert_int_equal(http_session_create(s, "amartin", HTTP_STAGE_FULL, T0, c), 0);
	assert_int_equal(http_session_end_person(s, "jdupont", a), 1);
	assert_int_equal(http_session_get(s, a, T0, &info), 0);
	assert_int_equal(http_session_get(s, b, T0, &info), -1);
	assert_int_equal(http_session_get(s, c, T0, &info), 0);
	http_session_end(s, a);
	assert_int_equal(http_session_get(s, a, T0, &info), -1);
	assert_int_equal(http_session_end_person(s, "amartin", NULL), 1);
	assert_int_equal(http_session_count(s, T0), 0);
	http_session_end(s, "nonsense");
	http_sessions_free(s);
	http_sessions_free(NULL);
}

static void test_state(void **state)
{
	struct http_sessions *s = make(8);
	char id[HTTP_SESSION_ID_LEN + 1], uri[64], small[8];
	struct http_session_info info;

	(void)state;
	assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_ENROLL, T0, id), 0);
	assert_int_equal(http_session_get_uri(s, id, uri, sizeof(uri)), -1);
	assert_int_equal(http_session_set_uri(s, id, "otpauth://totp/x?secret=AB"), 0);
	assert_int_equal(http_session_get_uri(s, id, uri, sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/x?secret=AB");
	assert_int_equal(http_session_get_uri(s, id, small, sizeof(small)), -1);
	assert_int_equal(http_session_set_uri(s, id, NULL), 0);
	assert_int_equal(http_session_get_uri(s, id, uri, sizeof(uri)), -1);
	assert_int_equal(http_session_set_stage(s, id, HTTP_STAGE_FULL), 0);
	assert_int_equal(http_session_set_since(s, id, T0 + 5), 0);
	assert_int_equal(http_session_get(s, id, T0 + 6, &info), 0);
	assert_int_equal(info.stage, HTTP_STAGE_FULL);
	assert_int_equal(info.since, T0 + 5);
	assert_int_equal(http_session_set_stage(s, "unknown", HTTP_STAGE_FULL), -1);
	assert_int_equal(http_session_set_uri(s, "unknown", "x"), -1);
	http_sessions_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ids),       cmocka_unit_test(test_lookup_refusals),
	    cmocka_unit_test(test_lifetimes), cmocka_unit_test(test_lifetime_bound),
	    cmocka_unit_test(test_eviction),  cmocka_unit_test(test_end),
	    cmocka_unit_test(test_state),
	};

	return cmocka_run_group_tests_name("http_session", tests, NULL, NULL);
}
