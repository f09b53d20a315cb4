/*
 * The cost a stored password hash asks for, against configured ceilings:
 * an imported $6$ with rounds=999999999 would keep a worker busy for minutes
 * on every unauthenticated try. Pure: bytes in, a verdict out.
 */
#ifndef VERDON_HASH_COST_H
#define VERDON_HASH_COST_H

#include <stddef.h>

#include "password.h"

struct hash_limits {
	unsigned sha512_rounds;      /* $6$rounds=N (5000 when absent) */
	unsigned yescrypt_cost;      /* $y$: crypt_gensalt's cost, 512 KiB << cost of work */
	unsigned bcrypt_cost;        /* $2b$NN$: 2^NN rounds */
	struct argon2_params argon2; /* $argon2id$ m, t, p */
};

/*
 * 0 when stored asks for no more than lim allows (forms without a cost, such
 * as $hmac$, included); -1 otherwise, with why naming the configuration key
 * and both figures ("hash_max_sha512_rounds: 999999999 rounds, above 1000000"),
 * or saying that the cost cannot be read.
 */
int hash_cost_check(const char *stored, const struct hash_limits *lim, char *why, size_t whylen);

#endif
