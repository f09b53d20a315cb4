/* http_route.c: which route a method and a path reach, the Allow list, the session cookie's form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "http_route.h"
#include "http_session.h"

static void h_a(struct http_ctx *hc)
{
	(void)hc;
}

/* The shape of the daemon's tables: exact paths, prefixes, one path under several methods. */
static const struct http_route api[] = {
    {"GET", "/api/rescue-email", h_a, HTTP_FULL},
    {"POST", "/api/rescue-email", h_a, HTTP_FULL},
    {"POST", "/api/rescue-email/confirm", h_a, HTTP_FULL},
    {"GET", "/api/devices", h_a, HTTP_FULL},
    {"DELETE", "/api/devices/", h_a, HTTP_FULL},
    {NULL, NULL, NULL, 0},
};
static const struct http_route forgot[] = {
    {"POST", "/api/forgot-password", h_a, HTTP_PUBLIC},
    {"GET", "/api/rescue-email", h_a, HTTP_PUBLIC}, /* shadowed by api's: never reached */
    {"PUT", "/api/rescue-email", h_a, HTTP_PUBLIC},
    {NULL, NULL, NULL, 0},
};
static const struct http_route *const tables[] = {api, forgot, NULL};

static void test_path(void **state)
{
	static const struct {
		const char *route, *path;
		bool match;
		const char *rest;
	} rows[] = {
	    {"/api/me", "/api/me", true, ""},
	    {"/api/me", "/api/me/", false, ""},
	    {"/api/me", "/api/mex", false, ""},
	    {"/api/me", "/api/m", false, ""},
	    {"/api/me", "", false, ""},
	    {"/api/devices/", "/api/devices/ab12", true, "ab12"},
	    {"/api/devices/", "/api/devices/a/b", true, "a/b"},
	    {"/api/devices/", "/api/devices/", false, ""}, /* a prefix needs something after it */
	    {"/api/devices/", "/api/devices", false, ""},
	    {"/api/devices/", "/api/device/x", false, ""},
	    {"/", "/x", true, "x"},
	    {"/", "/", false, ""},
	    {"", "", true, ""},
	    {"", "/", false, ""},
	};
	const char *rest;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rest = NULL;
		assert_int_equal(http_route_path(rows[i].route, rows[i].path, &rest),
		                 rows[i].match);
		assert_non_null(rest);
		if (rows[i].match)
			assert_string_equal(rest, rows[i].rest);
	}
}

static void test_find(void **state)
{
	static const struct {
		const char *method, *path;
		const struct http_route *route; /* NULL: none */
		const char *rest, *allow;
	} rows[] = {
	    {"GET", "/api/rescue-email", &api[0], "", ""},
	    {"POST", "/api/rescue-email", &api[1], "", ""},
	    {"PUT", "/api/rescue-email", &forgot[2], "", ""}, /* the second table's */
	    {"DELETE", "/api/rescue-email", NULL, "", "GET, POST, PUT"},
	    {"get", "/api/rescue-email", NULL, "",
	     "GET, POST, PUT"}, /* methods are case-sensitive */
	    {"POST", "/api/rescue-email/confirm", &api[2], "", ""},
	    {"GET", "/api/rescue-email/confirm", NULL, "", "POST"},
	    {"DELETE", "/api/devices/0a1b", &api[4], "0a1b", ""},
	    {"GET", "/api/devices/0a1b", NULL, "", "DELETE"},
	    {"GET", "/api/devices", &api[3], "", ""},
	    {"DELETE", "/api/devices", NULL, "", "GET"},
	    {"DELETE", "/api/devices/", NULL, "", ""},
	    {"POST", "/api/forgot-password", &forgot[0], "", ""},
	    {"GET", "/api/nothing", NULL, "", ""},
	    {"GET", "/", NULL, "", ""},
	    {"", "", NULL, "", ""},
	};
	struct http_match m;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		http_route_find(tables, rows[i].method, rows[i].path, &m);
		assert_ptr_equal(m.route, rows[i].route);
		assert_string_equal(m.rest, rows[i].rest);
		assert_string_equal(m.allow, rows[i].allow);
	}
}

/* The Allow list stays within its buffer however many routes share a path. */
static void test_allow_bounded(void **state)
{
	static const struct http_route many[] = {
	    {"GET", "/x", h_a, 0}, {"POST", "/x", h_a, 0},     {"DELETE", "/x", h_a, 0},
	    {"PUT", "/x", h_a, 0}, {"PATCH", "/x", h_a, 0},    {"OPTIONS", "/x", h_a, 0},
	    {"GET", "/x", h_a, 0}, {"PROPFIND", "/x", h_a, 0}, {NULL, NULL, NULL, 0},
	};
	static const struct http_route *const t[] = {many, NULL};
	struct http_match m;

	(void)state;
	http_route_find(t, "TRACE", "/x", &m);
	assert_null(m.route);
	assert_true(strlen(m.allow) < HTTP_ALLOW_MAX);
	assert_string_equal(m.allow, "GET, POST, DELETE, PUT, PATCH");
	http_route_find(t, "GETX", "/x", &m); /* a method that starts like one listed */
	assert_string_equal(m.allow, "GET, POST, DELETE, PUT, PATCH");
}

static void test_cookie(void **state)
{
	char id[HTTP_SESSION_ID_LEN + 2];

	(void)state;
	memset(id, 'A', HTTP_SESSION_ID_LEN);
	id[HTTP_SESSION_ID_LEN] = '\0';
	assert_true(http_cookie_id_ok(id));
	id[0] = '-';
	id[1] = '_';
	id[2] = 'z';
	id[3] = '9';
	assert_true(http_cookie_id_ok(id));
	id[HTTP_SESSION_ID_LEN - 1] = '\0'; /* one short */
	assert_false(http_cookie_id_ok(id));
	id[HTTP_SESSION_ID_LEN - 1] = 'A';
	id[HTTP_SESSION_ID_LEN] = 'A'; /* one long */
	id[HTTP_SESSION_ID_LEN + 1] = '\0';
	assert_false(http_cookie_id_ok(id));
	id[HTTP_SESSION_ID_LEN] = '\0';
	for (const char *bad = "+/= ;\"\t\x7f\x80"; *bad != '\0'; bad++) {
		id[7] = *bad; /* base64 (not url), padding, separators, controls, high bytes */
		assert_false(http_cookie_id_ok(id));
	}
	assert_false(http_cookie_id_ok(""));
	assert_false(http_cookie_id_ok(NULL));
}

/* What http_session_create hands out passes the check. */
static void test_cookie_of_session(void **state)
{
	struct http_sessions *s = http_sessions_new(4, 60, 600);
	char id[HTTP_SESSION_ID_LEN + 1];

	(void)state;
	assert_non_null(s);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(http_session_create(s, "jdupont", HTTP_STAGE_FULL, 1000, id), 0);
		assert_true(http_cookie_id_ok(id));
	}
	http_sessions_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_allow_bounded),
	    cmocka_unit_test(test_cookie),
	    cmocka_unit_test(test_cookie_of_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
