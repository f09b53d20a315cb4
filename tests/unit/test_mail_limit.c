#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mail_limit.h"

static const struct mail_limit_conf conf = {.per_hour = 3, .per_day = 10, .hour_window = 3600};

static bool take(struct mail_limit *ml, const char *acc, const char *addr, int64_t now,
                 const char **why)
{
	return mail_limit_take(ml, &conf, acc, addr, now, why);
}

/* A table where a:jdupont and r:x had their three mails of the hour at 1000, 1001 and 1002. */
static struct mail_limit *hour_spent(void)
{
	struct mail_limit *ml = mail_limit_new(16);
	const char *why;

	assert_non_null(ml);
	for (int i = 0; i < 3; i++)
		assert_true(take(ml, "a:jdupont", "r:x", 1000 + i, &why));
	assert_false(take(ml, "a:jdupont", "r:x", 1003, &why));
	assert_string_equal(why, "mail limit: mails_per_hour for this account");
	return ml;
}

/* Three an hour; the fourth waits until the first leaves the window. */
static void test_hourly(void **state)
{
	struct mail_limit *ml = hour_spent();
	const char *why;

	(void)state;
	assert_false(take(ml, "a:jdupont", "r:x", 1000 + 3599, &why)); /* the first is still in */
	assert_true(take(ml, "a:jdupont", "r:x", 1000 + 3600, &why));  /* and now out */
	mail_limit_free(ml);
}

/* Ten a day, whatever the hours. */
static void test_daily(void **state)
{
	struct mail_limit *ml = mail_limit_new(16);
	const char *why;
	int64_t t = 100000;

	(void)state;
	for (int i = 0; i < 10; i++, t += 3601)
		assert_true(take(ml, "a:jdupont", "r:x", t, &why));
	assert_false(take(ml, "a:jdupont", "r:x", t, &why));
	assert_string_equal(why, "mail limit: mails_per_day for this account");
	/* A day after the first: one more. */
	assert_true(take(ml, "a:jdupont", "r:x", 100000 + MAIL_LIMIT_DAY + 1, &why));
	mail_limit_free(ml);
}

/* Accounts sharing a rescue address share its limit. */
static void test_address(void **state)
{
	struct mail_limit *ml = mail_limit_new(16);
	const char *why;

	(void)state;
	assert_true(take(ml, "a:one", "r:shared", 10, &why));
	assert_true(take(ml, "a:two", "r:shared", 11, &why));
	assert_true(take(ml, "a:three", "r:shared", 12, &why));
	assert_false(take(ml, "a:four", "r:shared", 13, &why));
	assert_string_equal(why, "mail limit: mails_per_hour for this rescue address");
	assert_true(take(ml, "a:four", "r:other", 13, &why));
	mail_limit_free(ml);
}

/* The unknown account's path counts nothing and is refused. */
static void test_null(void **state)
{
	struct mail_limit *ml = mail_limit_new(2);
	const char *why;

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_false(take(ml, NULL, NULL, 10 + i, &why));
	assert_true(take(ml, "a:one", "r:x", 30, &why));
	assert_null(mail_limit_new(1));
	mail_limit_free(NULL);
	mail_limit_free(ml);
}

/* A full table forgets the least recently mailed first. */
static void test_eviction(void **state)
{
	struct mail_limit *ml = mail_limit_new(4);
	const char *why;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(take(ml, "a:old", "r:old", 10 + i, &why));
	assert_false(take(ml, "a:old", "r:old", 13, &why));
	assert_true(take(ml, "a:new", "r:new", 20, &why));     /* takes the two free entries */
	assert_true(take(ml, "a:newer", "r:newer", 21, &why)); /* evicts a:old and r:old */
	assert_true(take(ml, "a:old", "r:old", 22, &why));
	mail_limit_free(ml);
}

/* A mail that did not go gives its send back, for both keys, and only that send. */
static void test_give_back(void **state)
{
	struct mail_limit *ml = hour_spent();
	const char *why;

	(void)state;
	mail_limit_give_back(ml, "a:jdupont", "r:x", 1001);
	assert_true(take(ml, "a:jdupont", "r:x", 1004, &why));
	assert_false(take(ml, "a:jdupont", "r:x", 1005, &why));
	/* a time never counted, an unknown key, no time: nothing given back */
	mail_limit_give_back(ml, "a:jdupont", "r:x", 999);
	mail_limit_give_back(ml, "a:nobody", "r:y", 1000);
	mail_limit_give_back(ml, "a:jdupont", "r:x", 0);
	assert_false(take(ml, "a:jdupont", "r:x", 1006, &why));
	/* the address's count too: another account on it is let through once more */
	assert_false(take(ml, "a:other", "r:x", 1007, &why));
	assert_string_equal(why, "mail limit: mails_per_hour for this rescue address");
	mail_limit_give_back(ml, NULL, "r:x", 1000);
	assert_true(take(ml, "a:other", "r:x", 1008, &why));
	mail_limit_free(ml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hourly),   cmocka_unit_test(test_daily),
	    cmocka_unit_test(test_address),  cmocka_unit_test(test_null),
	    cmocka_unit_test(test_eviction), cmocka_unit_test(test_give_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
