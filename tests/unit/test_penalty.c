#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "penalty.h"

#define T0 UINT64_C(1700000000000)
#define BASE 400
#define MAX 10000

static int setup(void **state)
{
	*state = penalty_new();
	return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	penalty_free(*state);
	return 0;
}

/* n failures from addr, each with a secret of its own, at now. */
static void fail_n(struct penalty *p, const char *addr, unsigned n, uint64_t now)
{
	static unsigned serial;

	for (unsigned i = 0; i < n; i++) {
		char tag[32];

		snprintf(tag, sizeof(tag), "tag%u", serial++);
		penalty_record(p, addr, true, tag, now);
	}
}

static void test_delay_grows_capped(void **state)
{
	static const struct {
		unsigned fails, base, max, want;
	} rows[] = {
	    {0, BASE, MAX, 0},       {1, BASE, MAX, 400},         {2, BASE, MAX, 800},
	    {3, BASE, MAX, 1600},    {4, BASE, MAX, 3200},        {5, BASE, MAX, 6400},
	    {6, BASE, MAX, 10000},   {7, BASE, MAX, 10000},       {20, BASE, MAX, 10000},
	    {21, BASE, MAX, 10000},  {64, BASE, MAX, 10000},      {100, BASE, MAX, 10000},
	    {5, BASE, 6400, 6400},   {6, BASE, 6400, 6400},       {5, BASE, 6399, 6399},
	    {1, 2000, 15000, 2000},  {4, 2000, 15000, 15000},     {3, 2000, 15000, 8000},
	    {1, 2000, 1000, 1000},   {20, 60000, 300000, 300000}, {1, 0, MAX, 0},
	    {9, 0, MAX, 0},          {1, 1, 300000, 1},           {19, 1, 300000, 262144},
	    {20, 1, 300000, 300000}, {40, 1, 300000, 300000},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct penalty *p = penalty_new();
		unsigned got;

		assert_non_null(p);
		fail_n(p, "192.0.2.1", rows[i].fails, T0);
		got = penalty_delay(p, "192.0.2.1", rows[i].base, rows[i].max);
		if (got != rows[i].want)
			fail_msg("%u failures, base %u max %u: %u, want %u", rows[i].fails,
			         rows[i].base, rows[i].max, got, rows[i].want);
		penalty_free(p);
	}
}

static void test_delay_never_shrinks(void **state)
{
	struct penalty *p = *state;
	unsigned prev = 0;

	for (unsigned n = 1; n <= 80; n++) {
		unsigned d;

		fail_n(p, "192.0.2.7", 1, T0 + n);
		d = penalty_delay(p, "192.0.2.7", 1, 300000);
		if (d < prev || d > 300000 || d == 0)
			fail_msg("after %u failures: %u (before: %u)", n, d, prev);
		prev = d;
	}
	assert_int_equal(prev, 300000);
}

static void test_no_failure_runs_now(void **state)
{
	struct penalty *p = *state;

	/* more than PENALTY_DEFER_MAX: nothing is held for a clean address */
	for (unsigned i = 0; i < 2 * PENALTY_DEFER_MAX; i++)
		assert_int_equal(penalty_slot(p, "192.0.2.1", T0 + i, BASE, MAX), T0 + i);
	assert_int_equal(penalty_delay(p, "192.0.2.1", BASE, MAX), 0);
	/* a success on an unknown address creates nothing */
	penalty_record(p, "192.0.2.1", false, "t", T0);
	assert_int_equal(penalty_slot(p, "192.0.2.1", T0, BASE, MAX), T0);
}

static void test_flood_is_paced(void **state)
{
	struct penalty *p = *state;
	uint64_t now = T0 + 100, big = 60000;

	fail_n(p, "198.51.100.9", 1, T0);
	/* one slot per delay after the failure, however fast the requests come */
	for (unsigned i = 1; i <= PENALTY_DEFER_MAX; i++) {
		uint64_t got = penalty_slot(p, "198.51.100.9", now, BASE, big);

		if (got != T0 + (uint64_t)i * BASE)
			fail_msg("request %u: slot %llu, want %llu", i,
			         (unsigned long long)(got - T0), (unsigned long long)i * BASE);
	}
	/* the queue is full: refused, and no slot taken */
	assert_true(penalty_slot(p, "198.51.100.9", now, BASE, big) == UINT64_MAX);
	assert_true(penalty_slot(p, "198.51.100.9", now + 1, BASE, big) == UINT64_MAX);
	/* one held request leaves: one more may queue, at the end of the queue */
	penalty_release(p, "198.51.100.9");
	assert_int_equal(penalty_slot(p, "198.51.100.9", now, BASE, big),
	                 T0 + (uint64_t)PENALTY_DEFER_MAX * BASE);
	assert_true(penalty_slot(p, "198.51.100.9", now, BASE, big) == UINT64_MAX);
	/* a release with nothing held does not go below zero */
	for (unsigned i = 0; i < PENALTY_DEFER_MAX + 3; i++)
		penalty_release(p, "198.51.100.9");
	for (unsigned i = 0; i < PENALTY_DEFER_MAX; i++)
		assert_true(penalty_slot(p, "198.51.100.9", now, BASE, big) != UINT64_MAX);
	assert_true(penalty_slot(p, "198.51.100.9", now, BASE, big) == UINT64_MAX);
}

/* Issue 7 point 3: what cannot be served within the cap is refused at once, not parked. */
static void test_cap_bounds_queue(void **state)
{
	struct penalty *p = *state;
	unsigned held = 0;

	fail_n(p, "198.51.100.10", 2, T0); /* 800 ms, cap 2000 ms */
	for (unsigned i = 0; i < 50; i++) {
		uint64_t got = penalty_slot(p, "198.51.100.10", T0, BASE, 2000);

		if (got == UINT64_MAX)
			continue;
		assert_true(got <= T0 + 2000);
		held++;
	}
	/* slots at 800 and 1600; 2400 would pass the cap */
	assert_int_equal(held, 2);
	/* at the cap itself one request is still held (a delay equal to the cap) */
	fail_n(p, "198.51.100.10", 5, T0);
	for (unsigned i = 0; i < 2; i++)
		penalty_release(p, "198.51.100.10");
	assert_int_equal(penalty_slot(p, "198.51.100.10", T0, BASE, 2000), T0 + 2000);
	assert_true(penalty_slot(p, "198.51.100.10", T0, BASE, 2000) == UINT64_MAX);
}

/* Held requests asked in order run one per delay, at once when a success clears the penalty,
 * and never later than their arrival plus the cap. */
static void test_turn(void **state)
{
	struct penalty *p = *state;
	const char *a = "192.0.2.77";
	uint64_t big = 60000;

	fail_n(p, a, 2, T0); /* 800 ms */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(penalty_slot(p, a, T0, BASE, big), T0 + 800 * (i + 1));
	/* before the first slot: nobody runs */
	assert_int_equal(penalty_turn(p, a, T0 + 799, T0, BASE, big), T0 + 800);
	/* at it: the first runs, the next waits a delay from then */
	assert_int_equal(penalty_turn(p, a, T0 + 800, T0, BASE, big), 0);
	penalty_release(p, a);
	assert_int_equal(penalty_turn(p, a, T0 + 800, T0, BASE, big), T0 + 1600);
	/* a success clears it: all the rest run at once */
	penalty_record(p, a, false, NULL, T0 + 900);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(penalty_turn(p, a, T0 + 901, T0, BASE, big), 0);
		penalty_release(p, a);
	}
	/* a penalty that grows after a request was held: it waits at most the cap */
	fail_n(p, a, 20, T0 + 1000); /* capped at 2000 here */
	assert_int_equal(penalty_slot(p, a, T0 + 1000, BASE, 2000), T0 + 3000);
	fail_n(p, a, 1, T0 + 2500); /* the next slot moves to 4500, past the cap */
	assert_int_equal(penalty_turn(p, a, T0 + 2600, T0 + 1000, BASE, 2000), T0 + 3000);
	assert_int_equal(penalty_turn(p, a, T0 + 3000, T0 + 1000, BASE, 2000), 0);
	penalty_release(p, a);
	/* an address the table no longer knows runs */
	assert_int_equal(penalty_turn(p, "192.0.2.78", T0, T0, BASE, big), 0);
}

static int wakes;
static void count_wake(void *ctx)
{
	(void)ctx;
	wakes++;
}

static void test_clear_wakes_holders(void **state)
{
	struct penalty *p = *state;

	wakes = 0;
	assert_int_equal(penalty_on_clear(p, count_wake, NULL), 0);
	fail_n(p, "192.0.2.90", 1, T0);
	penalty_record(p, "192.0.2.90", false, NULL, T0 + 1); /* nothing held: no wake */
	assert_int_equal(wakes, 0);
	fail_n(p, "192.0.2.90", 1, T0 + 2);
	assert_int_equal(penalty_slot(p, "192.0.2.90", T0 + 3, BASE, MAX), T0 + 402);
	fail_n(p, "192.0.2.90", 1, T0 + 4); /* a failure: no wake */
	assert_int_equal(wakes, 0);
	penalty_record(p, "192.0.2.90", false, NULL, T0 + 5);
	assert_int_equal(wakes, 1);
}

static void test_slot_after_delay(void **state)
{
	struct penalty *p = *state;

	fail_n(p, "198.51.100.9", 2, T0); /* 800 ms */
	/* just before the delay is over: held until it is */
	assert_int_equal(penalty_slot(p, "198.51.100.9", T0 + 799, BASE, MAX), T0 + 800);
	penalty_release(p, "198.51.100.9");
	/* the delay over and nothing held: runs now, and the next one waits a delay */
	assert_int_equal(penalty_slot(p, "198.51.100.9", T0 + 5000, BASE, MAX), T0 + 5000);
	assert_int_equal(penalty_slot(p, "198.51.100.9", T0 + 5000, BASE, MAX), T0 + 5800);
	assert_int_equal(penalty_slot(p, "198.51.100.9", T0 + 5001, BASE, MAX), T0 + 6600);
	/* exactly at its slot with nothing held: runs now */
	penalty_release(p, "198.51.100.9");
	penalty_release(p, "198.51.100.9");
	assert_int_equal(penalty_slot(p, "198.51.100.9", T0 + 7400, BASE, MAX), T0 + 7400);
	/* a later failure moves the slot: a delay from that failure, doubled */
	fail_n(p, "198.51.100.9", 1, T0 + 7500);
	assert_int_equal(penalty_slot(p, "198.51.100.9", T0 + 7500, BASE, MAX), T0 + 7500 + 1600);
}

static void test_success_clears(void **state)
{
	struct penalty *p = *state;

	fail_n(p, "203.0.113.5", 4, T0);
	assert_int_equal(penalty_delay(p, "203.0.113.5", BASE, MAX), 3200);
	assert_int_equal(penalty_slot(p, "203.0.113.5", T0, BASE, MAX), T0 + 3200);
	penalty_release(p, "203.0.113.5");
	penalty_record(p, "203.0.113.5", false, "good", T0 + 10);
	assert_int_equal(penalty_delay(p, "203.0.113.5", BASE, MAX), 0);
	for (unsigned i = 0; i < 2 * PENALTY_DEFER_MAX; i++)
		assert_int_equal(penalty_slot(p, "203.0.113.5", T0 + 10, BASE, MAX), T0 + 10);
	/* the count starts over */
	fail_n(p, "203.0.113.5", 1, T0 + 20);
	assert_int_equal(penalty_delay(p, "203.0.113.5", BASE, MAX), 400);
	assert_int_equal(penalty_slot(p, "203.0.113.5", T0 + 20, BASE, MAX), T0 + 420);
}

static void test_same_tag_counts_once(void **state)
{
	struct penalty *p = *state;
	static const char *const tags[] = {"aaaa", "aaaa", "aaaa", "bbbb",
	                                   "bbbb", "aaaa", NULL,   NULL};
	static const unsigned want[] = {400, 400, 400, 800, 800, 1600, 3200, 6400};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		unsigned got;

		penalty_record(p, "192.0.2.44", true, tags[i], T0 + i);
		got = penalty_delay(p, "192.0.2.44", BASE, MAX);
		if (got != want[i])
			fail_msg("after tag %zu (%s): %u, want %u", i,
			         tags[i] != NULL ? tags[i] : "NULL", got, want[i]);
	}
	/* a success forgets the tag: the same secret wrong again counts */
	penalty_record(p, "192.0.2.44", false, NULL, T0 + 50);
	penalty_record(p, "192.0.2.44", true, "cccc", T0 + 60);
	penalty_record(p, "192.0.2.44", false, NULL, T0 + 70);
	penalty_record(p, "192.0.2.44", true, "cccc", T0 + 80);
	assert_int_equal(penalty_delay(p, "192.0.2.44", BASE, MAX), 400);
	/* a retried secret does not move the slot either */
	assert_int_equal(penalty_slot(p, "192.0.2.44", T0 + 80, BASE, MAX), T0 + 480);
	penalty_release(p, "192.0.2.44");
	penalty_record(p, "192.0.2.44", true, "cccc", T0 + 300);
	assert_int_equal(penalty_slot(p, "192.0.2.44", T0 + 80, BASE, MAX), T0 + 480);
}

static void test_other_addresses_unaffected(void **state)
{
	static const char *const others[] = {"192.0.2.10", "192.0.2.11",  "192.0.2.",
	                                     "192.0.2.1 ", "2001:db8::1", "local",
	                                     "192.0.2.1\n"};
	struct penalty *p = *state;

	fail_n(p, "192.0.2.1", 10, T0);
	for (unsigned i = 0; i < PENALTY_DEFER_MAX; i++)
		assert_true(penalty_slot(p, "192.0.2.1", T0, BASE, MAX) > T0);
	assert_true(penalty_slot(p, "192.0.2.1", T0, BASE, MAX) == UINT64_MAX);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(penalty_delay(p, others[i], BASE, MAX), 0);
		assert_int_equal(penalty_slot(p, others[i], T0, BASE, MAX), T0);
	}
	/* and their failures are their own */
	fail_n(p, "2001:db8::1", 1, T0);
	assert_int_equal(penalty_delay(p, "2001:db8::1", BASE, MAX), 400);
	assert_int_equal(penalty_delay(p, "192.0.2.1", BASE, MAX), MAX);
	penalty_record(p, "2001:db8::1", false, NULL, T0);
	assert_int_equal(penalty_delay(p, "192.0.2.1", BASE, MAX), MAX);
}

static void test_bad_addresses_ignored(void **state)
{
	struct penalty *p = *state;
	char longest[PENALTY_ADDR_MAX + 1], too_long[PENALTY_ADDR_MAX + 2];

	memset(longest, 'a', PENALTY_ADDR_MAX);
	longest[PENALTY_ADDR_MAX] = '\0';
	memset(too_long, 'a', PENALTY_ADDR_MAX + 1);
	too_long[PENALTY_ADDR_MAX + 1] = '\0';

	penalty_record(p, NULL, true, "t", T0);
	assert_int_equal(penalty_slot(p, NULL, T0, BASE, MAX), T0);
	assert_int_equal(penalty_delay(p, NULL, BASE, MAX), 0);
	penalty_release(p, NULL);

	/* an empty address is no address: not one penalty shared by all */
	fail_n(p, "", 3, T0);
	assert_int_equal(penalty_delay(p, "", BASE, MAX), 0);
	assert_int_equal(penalty_slot(p, "", T0, BASE, MAX), T0);
	penalty_release(p, "");

	fail_n(p, too_long, 3, T0);
	assert_int_equal(penalty_delay(p, too_long, BASE, MAX), 0);
	assert_int_equal(penalty_slot(p, too_long, T0, BASE, MAX), T0);
	penalty_release(p, too_long);
	/* and not mistaken for its first PENALTY_ADDR_MAX bytes */
	assert_int_equal(penalty_delay(p, longest, BASE, MAX), 0);

	fail_n(p, longest, 3, T0);
	assert_int_equal(penalty_delay(p, longest, BASE, MAX), 1600);
	assert_int_equal(penalty_slot(p, longest, T0, BASE, MAX), T0 + 1600);
	assert_int_equal(penalty_delay(p, too_long, BASE, MAX), 0);
	penalty_free(NULL);
}

static void test_base_zero_disables(void **state)
{
	struct penalty *p = *state;

	fail_n(p, "192.0.2.1", 30, T0);
	assert_int_equal(penalty_delay(p, "192.0.2.1", 0, MAX), 0);
	for (unsigned i = 0; i < 2 * PENALTY_DEFER_MAX; i++)
		assert_int_equal(penalty_slot(p, "192.0.2.1", T0, 0, MAX), T0);
	/* max 0 caps every delay at nothing as well */
	assert_int_equal(penalty_delay(p, "192.0.2.1", BASE, 0), 0);
	assert_int_equal(penalty_slot(p, "192.0.2.1", T0, BASE, 0), T0);
	/* the failures were still counted */
	assert_int_equal(penalty_delay(p, "192.0.2.1", BASE, MAX), MAX);
}

static void addr_of(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

static void test_many_addresses(void **state)
{
	struct penalty *p = *state;
	unsigned n = 50000, remembered = 0, recent = 0;
	char addr[32];

	/* one held request: its address must survive the flood */
	fail_n(p, "192.0.2.250", 1, T0);
	assert_int_equal(penalty_slot(p, "192.0.2.250", T0, BASE, MAX), T0 + BASE);
	for (unsigned i = 0; i < n; i++) {
		addr_of(addr, sizeof(addr), i);
		fail_n(p, addr, 1, T0 + 1 + i);
	}
	for (unsigned i = 0; i < n; i++) {
		addr_of(addr, sizeof(addr), i);
		if (penalty_delay(p, addr, BASE, MAX) == BASE) {
			remembered++;
			recent += i >= n - 1000;
		}
	}
	/* the table is bounded, the stalest forgotten first, the newest kept */
	assert_true(remembered <= 4096);
	assert_true(remembered >= 2048);
	assert_true(recent >= 990);
	addr_of(addr, sizeof(addr), n - 1);
	assert_int_equal(penalty_delay(p, addr, BASE, MAX), BASE);
	assert_int_equal(penalty_delay(p, "192.0.2.250", BASE, MAX), BASE);
	/* and it still works */
	fail_n(p, "198.51.100.77", 2, T0 + n + 10);
	assert_int_equal(penalty_delay(p, "198.51.100.77", BASE, MAX), 800);
	assert_int_equal(penalty_slot(p, "198.51.100.77", T0 + n + 10, BASE, MAX),
	                 T0 + n + 10 + 800);
	assert_int_equal(penalty_slot(p, "198.51.100.1", T0 + n + 10, BASE, MAX), T0 + n + 10);
}

/* penalty.c's table hash (FNV-1a) and size: white box, to fill one probe run. */
static unsigned start_of(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % 4096;
}

/* A held address at the start of a full probe run must not stop newer ones being tracked. */
static void test_held_entry_not_a_victim(void **state)
{
	struct penalty *p = *state;
	char same[9][32];
	unsigned k = 0, start;

	snprintf(same[0], sizeof(same[0]), "h0");
	start = start_of(same[0]);
	for (unsigned i = 1; k < 8; i++) {
		snprintf(same[k + 1], sizeof(same[0]), "h%u", i);
		if (start_of(same[k + 1]) == start)
			k++;
	}
	/* wherever the table puts them, the run ends up with one held entry among 8 */
	for (unsigned i = 1; i <= 7; i++)
		fail_n(p, same[i], 1, T0 + i);
	fail_n(p, same[0], 1, T0 + 8);
	assert_int_equal(penalty_slot(p, same[0], T0 + 8, BASE, MAX), T0 + 8 + BASE); /* held */
	/* the held one is now the stalest */
	for (unsigned i = 1; i <= 7; i++)
		fail_n(p, same[i], 1, T0 + 20 + i);
	/* the run is full: the stalest one not held (same[1]) makes room */
	fail_n(p, same[8], 1, T0 + 100);
	assert_int_equal(penalty_delay(p, same[8], BASE, MAX), BASE);
	assert_int_equal(penalty_delay(p, same[0], BASE, MAX), BASE);
	assert_int_equal(penalty_delay(p, same[1], BASE, MAX), 0);
	for (unsigned i = 2; i <= 7; i++)
		assert_int_equal(penalty_delay(p, same[i], BASE, MAX), 2 * BASE);
}

/* What a front end that tells its client to come back reads: the wait, without taking a slot. */
static void test_wait_takes_no_slot(void **state)
{
	struct penalty *p = *state;

	assert_int_equal(penalty_wait(p, "192.0.2.20", T0, BASE, MAX), 0);
	fail_n(p, "192.0.2.20", 1, T0);
	assert_int_equal(penalty_wait(p, "192.0.2.20", T0 + 100, BASE, MAX), BASE - 100);
	/* asked again and again, the same answer: nothing was taken */
	for (unsigned i = 0; i < 3 * PENALTY_DEFER_MAX; i++)
		assert_int_equal(penalty_wait(p, "192.0.2.20", T0 + 100, BASE, MAX), BASE - 100);
	/* once the delay is over, it runs at once */
	assert_int_equal(penalty_wait(p, "192.0.2.20", T0 + BASE, BASE, MAX), 0);
	assert_int_equal(penalty_slot(p, "192.0.2.20", T0 + BASE, BASE, MAX), T0 + BASE);
	/* that run took the slot: the next one is told to wait a delay */
	assert_int_equal(penalty_wait(p, "192.0.2.20", T0 + BASE, BASE, MAX), BASE);
	/* a held request goes first */
	assert_int_equal(penalty_slot(p, "192.0.2.20", T0 + BASE, BASE, MAX), T0 + 2 * BASE);
	assert_int_equal(penalty_wait(p, "192.0.2.20", T0 + 2 * BASE, BASE, MAX), BASE);
	/* no address, or base 0: no wait */
	assert_int_equal(penalty_wait(p, "", T0, BASE, MAX), 0);
	assert_int_equal(penalty_wait(p, "192.0.2.20", T0, 0, MAX), 0);
}

static void test_now_ms(void **state)
{
	uint64_t a = penalty_now_ms(), b = penalty_now_ms();

	(void)state;
	assert_true(a > T0 - UINT64_C(86400000) * 365 * 10); /* not seconds, not zero */
	assert_true(b >= a && b - a < 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delay_grows_capped),
	    cmocka_unit_test_setup_teardown(test_delay_never_shrinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_failure_runs_now, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flood_is_paced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap_bounds_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_turn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_wakes_holders, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slot_after_delay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_success_clears, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_tag_counts_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_addresses_unaffected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_addresses_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_base_zero_disables, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_addresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_entry_not_a_victim, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_takes_no_slot, setup, teardown),
	    cmocka_unit_test(test_now_ms),
	};

	return cmocka_run_group_tests_name("penalty", tests, NULL, NULL);
}
