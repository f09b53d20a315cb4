/* The per-login password throttle's table: counting, retries, forgetting, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "throttle.h"

#define NOW INT64_C(1700000000)
#define FORGET 86400

static struct throttle_key key_of(unsigned n)
{
	struct throttle_key k;
	uint64_t x = n;

	/* spread as a keyed hash would be (splitmix64), yet reproducible */
	for (size_t i = 0; i < sizeof(k.b); i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15u);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		z ^= z >> 31;
		memcpy(k.b + i, &z, 8);
	}
	return k;
}

static unsigned failures(struct throttle *t, const struct throttle_key *k, int64_t now)
{
	unsigned f;
	int64_t last;

	throttle_get(t, k, now, FORGET, &f, &last);
	return f;
}

static void test_counts_and_clears(void **state)
{
	struct throttle *t = throttle_new();
	struct throttle_key a = key_of(1), b = key_of(2);
	unsigned f;
	int64_t last;

	(void)state;
	assert_non_null(t);
	assert_int_equal(failures(t, &a, NOW), 0);
	throttle_fail(t, &a, "aaaa", NOW);
	throttle_fail(t, &a, "bbbb", NOW + 1);
	throttle_get(t, &a, NOW + 1, FORGET, &f, &last);
	assert_int_equal(f, 2);
	assert_int_equal(last, NOW + 1);
	/* another login is another counter */
	assert_int_equal(failures(t, &b, NOW), 0);
	throttle_clear(t, &a);
	assert_int_equal(failures(t, &a, NOW), 0);
	throttle_clear(t, &b); /* clearing what is not there is harmless */
	throttle_free(t);
	throttle_free(NULL);
}

static void test_same_secret_counts_once(void **state)
{
	struct throttle *t = throttle_new();
	struct throttle_key a = key_of(7);

	(void)state;
	for (int i = 0; i < 5; i++)
		throttle_fail(t, &a, "0123456789abcdef0123", NOW + i);
	assert_int_equal(failures(t, &a, NOW + 10), 1);
	throttle_fail(t, &a, "fedcba9876543210", NOW + 11);
	throttle_fail(t, &a, "0123456789abcdef0123", NOW + 12); /* back to the first: counts */
	assert_int_equal(failures(t, &a, NOW + 12), 3);
	/* without a tag, every failure counts */
	throttle_fail(t, &a, "", NOW + 13);
	throttle_fail(t, &a, "", NOW + 14);
	assert_int_equal(failures(t, &a, NOW + 14), 5);
	throttle_free(t);
}

static void test_forgotten_after_quiet(void **state)
{
	struct throttle *t = throttle_new();
	struct throttle_key a = key_of(9);

	(void)state;
	throttle_fail(t, &a, "x1", NOW);
	throttle_fail(t, &a, "x2", NOW);
	assert_int_equal(failures(t, &a, NOW + FORGET - 1), 2);
	assert_int_equal(failures(t, &a, NOW + FORGET), 0);
	/* and stays forgotten */
	assert_int_equal(failures(t, &a, NOW), 0);
	throttle_free(t);
}

/* A flood of other logins evicts the stalest entries first, and never grows the table. */
static void test_bounded_eviction(void **state)
{
	struct throttle *t = throttle_new();
	struct throttle_key target = key_of(424242);
	unsigned total = THROTTLE_SETS * THROTTLE_WAYS, kept = 0;

	(void)state;
	for (unsigned i = 0; i < 10; i++)
		throttle_fail(t, &target, i % 2 ? "t1" : "t2", NOW + 1000);
	/* many more old entries than the table holds */
	for (unsigned i = 0; i < 2 * total; i++) {
		struct throttle_key k = key_of(i + 1000000);

		throttle_fail(t, &k, "", NOW);
	}
	/* the target failed more recently than every flooded entry: it is kept */
	assert_int_equal(failures(t, &target, NOW + 1000), 10);
	for (unsigned i = 0; i < 2 * total; i++) {
		struct throttle_key k = key_of(i + 1000000);

		kept += failures(t, &k, NOW) > 0;
	}
	assert_true(kept <= total);
	assert_true(kept > total / 2);
	throttle_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_and_clears),
	    cmocka_unit_test(test_same_secret_counts_once),
	    cmocka_unit_test(test_forgotten_after_quiet),
	    cmocka_unit_test(test_bounded_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
