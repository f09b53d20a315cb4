#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "account.h"
#include "session.h"
#include "store.h"
#include "store_fixture.h"

#define CREATED INT64_C(1700000000)
#define IDLE 1800u
#define LIFETIME 43200

static struct account account;
static struct session session;

/* An active account and a token issued to it at CREATED, last used 100 s later. */
static int setup(void **state)
{
	(void)state;
	memset(&account, 0, sizeof(account));
	snprintf(account.identifiant, sizeof(account.identifiant), "jdupont");
	account.state = ACCOUNT_ACTIVE;
	account.session_gen = 3;
	memset(&session, 0, sizeof(session));
	memset(session.key, 'a', CRED_TAG_LEN);
	snprintf(session.identifiant, sizeof(session.identifiant), "jdupont");
	snprintf(session.service, sizeof(session.service), "webmail");
	session.created = CREATED;
	session.last_used = CREATED + 100;
	session.expires = CREATED + LIFETIME;
	session.gen = 3;
	return 0;
}

struct alive_row {
	const char *what;
	int64_t now;
	unsigned idle;
	bool want;
};

static void check_rows(const struct alive_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool got = session_alive(&session, &account, rows[i].now, rows[i].idle);

		if (got != rows[i].want)
			fail_msg("%s: alive %d, want %d", rows[i].what, got, rows[i].want);
	}
}

static void test_alive_times(void **state)
{
	static const struct alive_row rows[] = {
	    {"just used", CREATED + 100, IDLE, true},
	    {"a minute later", CREATED + 160, IDLE, true},
	    {"idle one second short", CREATED + 100 + IDLE - 1, IDLE, true},
	    {"idle exactly", CREATED + 100 + IDLE, IDLE, false},
	    {"idle exceeded", CREATED + 100 + IDLE + 1, IDLE, false},
	    {"idle long exceeded", CREATED + 100 + 10 * IDLE, IDLE, false},
	    {"short idle, within", CREATED + 109, 10, true},
	    {"short idle, at its end", CREATED + 110, 10, false},
	    {"idle 0: never alive", CREATED + 100, 0, false},
	    /* a clock set back: unused for a negative time is still within idle */
	    {"before its last use", CREATED + 50, IDLE, true},
	};

	(void)state;
	check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_lifetime(void **state)
{
	static const struct alive_row rows[] = {
	    {"a second before expiry", CREATED + LIFETIME - 1, IDLE, true},
	    {"at expiry", CREATED + LIFETIME, IDLE, false},
	    {"after expiry", CREATED + LIFETIME + 1, IDLE, false},
	    {"a day after", CREATED + LIFETIME + 86400, IDLE, false},
	};

	(void)state;
	/* used a moment ago each time: only the lifetime can end it */
	session.last_used = CREATED + LIFETIME - 10;
	check_rows(rows, sizeof(rows) / sizeof(rows[0]));
	/* the lifetime ends it even with a huge idle allowance */
	assert_false(session_alive(&session, &account, CREATED + LIFETIME, UINT32_MAX));
	assert_true(session_alive(&session, &account, CREATED + LIFETIME - 1, UINT32_MAX));
}

static void test_other_identifiant(void **state)
{
	static const char *const others[] = {"jdupon",   "jdupont2", "Jdupont",
	                                     "jdupont ", "",         "mmartin"};

	(void)state;
	assert_true(session_alive(&session, &account, CREATED + 200, IDLE));
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(account.identifiant, sizeof(account.identifiant), "%s", others[i]);
		if (session_alive(&session, &account, CREATED + 200, IDLE))
			fail_msg("token of jdupont alive for '%s'", others[i]);
	}
}

static void test_account_state(void **state)
{
	(void)state;
	account.state = ACCOUNT_SUSPENDED;
	assert_false(session_alive(&session, &account, CREATED + 200, IDLE));
	account.state = ACCOUNT_DELETED;
	assert_false(session_alive(&session, &account, CREATED + 200, IDLE));
	account.state = ACCOUNT_ACTIVE;
	assert_true(session_alive(&session, &account, CREATED + 200, IDLE));
}

static void test_generation(void **state)
{
	static const unsigned gens[] = {0, 2, 4, 5, 1000, UINT32_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		account.session_gen = gens[i];
		if (session_alive(&session, &account, CREATED + 200, IDLE))
			fail_msg("token of generation 3 alive at generation %u", gens[i]);
	}
	/* a token issued under the new generation lives */
	account.session_gen = 4;
	session.gen = 4;
	assert_true(session_alive(&session, &account, CREATED + 200, IDLE));
}

static void test_touch_window(void **state)
{
	(void)state;
	assert_int_equal(session_touch_window(60, 1800), 60);
	assert_int_equal(session_touch_window(60, 10), 5); /* never more than half the idle time */
	assert_int_equal(session_touch_window(2, 8), 2);
	assert_int_equal(session_touch_window(5, 1), 1);
}

/*
 * A record read into the struct that holds its own key (session_get(txn, ss.key, &ss),
 * account_get(txn, a.identifiant, false, &a)): the key must survive the decoder clearing the
 * struct. Before 36d5b51 the session's touch was written under an empty key.
 */
static void test_get_into_own_key(void **state)
{
	struct store_fixture sf;
	struct store *st;
	struct store_txn *txn;
	struct account *a = calloc(1, sizeof(*a));

	(void)state;
	assert_non_null(a);
	assert_int_equal(store_fixture_open(&sf, "session", 8u << 20), 0);
	st = sf.st;
	*a = account;
	a->created = CREATED;
	assert_int_equal(store_begin(st, true, &txn), STORE_OK);
	assert_int_equal(session_put(txn, &session), STORE_OK);
	assert_int_equal(account_put(txn, a), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);

	assert_int_equal(store_begin(st, true, &txn), STORE_OK);
	assert_int_equal(session_get(txn, session.key, &session), STORE_OK);
	assert_int_equal(strlen(session.key), CRED_TAG_LEN);
	assert_string_equal(session.identifiant, "jdupont");
	session.last_used = CREATED + 500;
	assert_int_equal(session_put(txn, &session), STORE_OK);
	assert_int_equal(account_get(txn, a->identifiant, false, a), STORE_OK);
	assert_string_equal(a->identifiant, "jdupont");
	assert_int_equal(account_put(txn, a), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);

	assert_int_equal(store_begin(st, false, &txn), STORE_OK);
	assert_int_equal(session_get(txn, session.key, &session), STORE_OK);
	assert_int_equal(session.last_used, CREATED + 500);
	store_abort(txn);
	account_wipe(a);
	free(a);
	store_fixture_remove(&sf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_alive_times, setup),
	    cmocka_unit_test_setup(test_lifetime, setup),
	    cmocka_unit_test_setup(test_other_identifiant, setup),
	    cmocka_unit_test_setup(test_account_state, setup),
	    cmocka_unit_test_setup(test_generation, setup),
	    cmocka_unit_test(test_touch_window),
	    cmocka_unit_test_setup(test_get_into_own_key, setup),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
