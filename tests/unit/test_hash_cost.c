#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hash_cost.h"

static const struct hash_limits lim = {
    .sha512_rounds = 20000,
    .yescrypt_cost = 5,
    .bcrypt_cost = 12,
    .argon2 = {.m_kib = 65536, .t = 3, .p = 1},
};

struct row {
	const char *stored;
	int want;
	const char *key; /* the start of why when refused */
};

static const struct row rows[] = {
    /* $6$: rounds absent means 5000; libxcrypt would clamp any count, we refuse above ours */
    {"$6$abcdefgh$xyz", 0, NULL},
    {"$6$rounds=20000$abcdefgh$xyz", 0, NULL},
    {"$6$rounds=20001$abcdefgh$xyz", -1, "hash_max_sha512_rounds: 20001 rounds, above 20000"},
    {"$6$rounds=999999999$abcdefgh$xyz", -1, "hash_max_sha512_rounds: 999999999"},
    {"$6$rounds=99999999999999999999$abcdefgh$xyz", -1, "hash_max_sha512_rounds"},
    {"$6$rounds=$abcdefgh$xyz", -1, "password_hash: the cost"},
    {"$6$rounds=12x$abcdefgh$xyz", -1, "password_hash: the cost"},
    /* $2b$: two digits */
    {"$2b$12$abcdefghijklmnopqrstuu", 0, NULL},
    {"$2b$13$abcdefghijklmnopqrstuu", -1, "hash_max_bcrypt_cost: 13, above 12"},
    {"$2b$31$abcdefghijklmnopqrstuu", -1, "hash_max_bcrypt_cost: 31"},
    {"$2b$1$abcdefghijklmnopqrstuu", -1, "password_hash: the cost"},
    /* $y$: j9T is libxcrypt's default (cost 5: N=4096, r=32), jBT cost 7, jAT cost 6 */
    {"$y$j9T$abcdefgh$xyz", 0, NULL},
    {"$y$jAT$abcdefgh$xyz", -1, "hash_max_yescrypt_cost: 6, above 5"},
    {"$y$jBT$abcdefgh$xyz", -1, "hash_max_yescrypt_cost: 7"},
    {"$y$j9T.$abcdefgh$xyz", -1, "password_hash: the cost"},    /* have = 1, p missing */
    {"$y$j9T/.$abcdefgh$xyz", -1, "hash_max_yescrypt_cost: 6"}, /* t = 1: twice the work */
    {"$y$j9T$", 0, NULL},
    {"$y$j$abcdefgh$xyz", -1, "password_hash: the cost"},
    {"$y$j9T0.$abcdefgh$xyz", -1, "password_hash: the cost"}, /* have = 3 wants p and t */
    {"$y$j9T4.$abcdefgh$xyz", -1, "password_hash: the cost"}, /* have = 4: g, not bounded */
    {"$y$jzzzzzz$abcdefgh$xyz", -1, "password_hash: the cost"},
    /* $argon2id$ */
    {"$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", 0, NULL},
    {"$argon2id$v=19$m=65537,t=3,p=1$c2FsdHNhbHQ$aGFzaA", -1, "hash_max_argon2_memory_kib"},
    {"$argon2id$v=19$m=65536,t=4,p=1$c2FsdHNhbHQ$aGFzaA", -1, "hash_max_argon2_time: 4"},
    {"$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaA", -1, "hash_max_argon2_parallelism"},
    {"$argon2id$v=19$t=3$", -1, "password_hash: the cost"},
    /* no cost to bound */
    {"$hmac$00", 0, NULL},
    {"", 0, NULL},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char why[160] = "";
		int got = hash_cost_check(rows[i].stored, &lim, why, sizeof(why));

		if (got != rows[i].want ||
		    (rows[i].key != NULL && strncmp(why, rows[i].key, strlen(rows[i].key)) != 0))
			fail_msg("%s: got %d \"%s\"", rows[i].stored, got, why);
	}
}

/* Twice the work of the default is one more unit of cost. */
static void test_yescrypt_t(void **state)
{
	struct hash_limits five = lim, six = lim;
	char why[160];

	(void)state;
	six.yescrypt_cost = 6;
	assert_int_equal(hash_cost_check("$y$j9T/.$s$h", &five, why, sizeof(why)), -1);
	assert_int_equal(hash_cost_check("$y$j9T/.$s$h", &six, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_yescrypt_t),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
