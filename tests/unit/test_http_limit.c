#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_priv.h"

static int setup(void **state)
{
	*state = http_limit_new();
	return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	http_limit_free(*state);
	return 0;
}

static void test_take_up_to_max(void **state)
{
	struct http_limit *l = *state;

	for (unsigned i = 0; i < 4; i++)
		assert_true(http_limit_take(l, "203.0.113.1", 4));
	assert_int_equal(http_limit_count(l, "203.0.113.1"), 4);
	/* one more is refused and takes nothing */
	assert_false(http_limit_take(l, "203.0.113.1", 4));
	assert_int_equal(http_limit_count(l, "203.0.113.1"), 4);
	/* one ends: one more may come */
	http_limit_drop(l, "203.0.113.1");
	assert_true(http_limit_take(l, "203.0.113.1", 4));
	assert_false(http_limit_take(l, "203.0.113.1", 4));
	/* a max of 0 takes nothing and leaves nothing behind */
	assert_false(http_limit_take(l, "203.0.113.9", 0));
	assert_int_equal(http_limit_count(l, "203.0.113.9"), 0);
}

static void test_addresses_apart(void **state)
{
	static const char *const others[] = {"203.0.113.10", "203.0.113.", "203.0.113.1 ",
	                                     "2001:db8::1", "::ffff:203.0.113.1"};
	struct http_limit *l = *state;

	for (unsigned i = 0; i < 3; i++)
		assert_true(http_limit_take(l, "203.0.113.1", 3));
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(http_limit_count(l, others[i]), 0);
		assert_true(http_limit_take(l, others[i], 1));
		assert_false(http_limit_take(l, others[i], 1));
	}
	assert_int_equal(http_limit_count(l, "203.0.113.1"), 3);
}

static void test_drop_to_zero_and_below(void **state)
{
	struct http_limit *l = *state;
	char addr[32];

	/* many addresses come and go: each ends at zero, nothing is kept */
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		assert_true(http_limit_take(l, addr, UINT_MAX));
	}
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		http_limit_drop(l, addr);
		assert_int_equal(http_limit_count(l, addr), 0);
	}
	/* a drop of what was never taken changes nothing */
	http_limit_drop(l, "198.51.100.1");
	assert_true(http_limit_take(l, "198.51.100.1", 1));
	assert_false(http_limit_take(l, "198.51.100.1", 1));
}

static void test_bad_addresses(void **state)
{
	struct http_limit *l = *state;
	char too_long[HTTP_ADDRESS_MAX + 1];

	memset(too_long, '1', HTTP_ADDRESS_MAX);
	too_long[HTTP_ADDRESS_MAX] = '\0';
	/* an empty or oversized address is never one counter shared by all */
	assert_false(http_limit_take(l, "", 10));
	assert_false(http_limit_take(l, too_long, 10));
	assert_int_equal(http_limit_count(l, ""), 0);
	http_limit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_take_up_to_max, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_addresses_apart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_to_zero_and_below, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_addresses, setup, teardown),
	};

	return cmocka_run_group_tests_name("http_limit", tests, NULL, NULL);
}
