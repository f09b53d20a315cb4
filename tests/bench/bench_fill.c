/*
 * Fills a stopped daemon's LMDB store with N plain accounts (an active
 * person each, with a password hash never checked), as the store would hold
 * them after an import, written in large transactions through account_put so
 * that every index entry is there. For the start-up, memory and latency
 * figures at 100,000 and 1,000,000 accounts that no import would reach in a
 * benchmark's time. Prints how long it took.
 *
 *   bench_fill --state DIR --count N [--map-mb M]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "store.h"

#define FILL_MAX 10000000UL
#define FILL_TXN 20000 /* accounts a transaction: few syncs, a bounded dirty set */

/* Any Argon2id string: the filler's accounts are never logged in to. */
static const char fill_hash[] = "$argon2id$v=19$m=65536,t=3,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fill_one(struct account *a, unsigned long i, int64_t when)
{
	account_wipe(a);
	snprintf(a->identifiant, sizeof(a->identifiant), "fill%07lu", i);
	snprintf(a->email, sizeof(a->email), "fill.%07lu@example.org", i);
	snprintf(a->first, sizeof(a->first), "Remplissage");
	snprintf(a->last, sizeof(a->last), "Numero%lu", i);
	snprintf(a->birth, sizeof(a->birth), "1980-01-01");
	snprintf(a->password_hash, sizeof(a->password_hash), "%s", fill_hash);
	a->otp.algo = OTP_SHA1;
	a->otp.digits = 6;
	a->otp.period = 30;
	a->otp.last_step = -1;
	a->otp_next = a->otp;
	a->state = ACCOUNT_ACTIVE;
	a->created = a->state_changed = a->password_changed = when;
}

static int fill(struct store *st, unsigned long count)
{
	struct account *a = calloc(1, sizeof(*a));
	struct store_txn *txn = NULL;
	int64_t when = time(NULL);
	int r = STORE_OK;

	if (a == NULL)
		return STORE_ERROR;
	for (unsigned long i = 0; i < count && r == STORE_OK; i++) {
		if (txn == NULL && (r = store_begin(st, true, &txn)) != STORE_OK)
			break;
		fill_one(a, i, when);
		r = account_put(txn, a);
		if (r == STORE_OK && ((i + 1) % FILL_TXN == 0 || i + 1 == count)) {
			r = store_commit(txn);
			txn = NULL;
		}
	}
	store_abort(txn);
	account_wipe(a);
	free(a);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"state", required_argument, NULL, 's'},
	                                     {"count", required_argument, NULL, 'n'},
	                                     {"map-mb", required_argument, NULL, 'm'},
	                                     {NULL, 0, NULL, 0}};
	const char *state = NULL;
	unsigned long count = 0, map_mb = 0;
	struct store *st;
	char err[256];
	double t0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			state = optarg;
		else if (c == 'n')
			count = strtoul(optarg, NULL, 10);
		else if (c == 'm')
			map_mb = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (state == NULL || count == 0 || count > FILL_MAX || map_mb > 1024 * 1024) {
		fprintf(stderr, "usage: bench_fill --state DIR --count N (1 to %lu) [--map-mb M]\n",
		        FILL_MAX);
		return 2;
	}
	if (store_open("lmdb", state, (size_t)map_mb << 20, &st, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "bench_fill: %s: %s\n", state, err);
		return 1;
	}
	t0 = now_s();
	r = fill(st, count);
	store_close(st);
	if (r != STORE_OK) {
		fprintf(stderr, "bench_fill: writing the accounts failed (%d)\n", r);
		return 1;
	}
	printf("bench_fill: %lu accounts in %.1f s\n", count, now_s() - t0);
	return 0;
}
