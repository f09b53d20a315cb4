#ifndef VERDON_VERIFY_H
#define VERDON_VERIFY_H

#include <stdint.h>

struct store;

/* Called for each problem found: the table, its key (printable), what is wrong. */
typedef void verify_problem_cb(void *ctx, const char *table, const char *key, const char *what);

struct verify_report {
	verify_problem_cb *cb; /* NULL: only counted */
	void *ctx;
	uint64_t problems;
	uint64_t accounts, index_entries, sessions, audit;
};

/* STORE_OK when the walk ran to its end (rep->problems says what it found), else a store error. */
int store_verify(struct store *store, struct verify_report *rep);

#endif
