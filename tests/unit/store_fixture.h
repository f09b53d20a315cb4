/* A real LMDB store in a fresh temporary directory, for the unit tests that need one. */
#ifndef VERDON_TEST_STORE_FIXTURE_H
#define VERDON_TEST_STORE_FIXTURE_H

#include <stddef.h>

struct store;

struct store_fixture {
	char tmp[64];  /* made by mkdtemp, removed with all it holds */
	char dir[128]; /* tmp/db: the store creates it */
	char err[256]; /* what the last store_open refused */
	struct store *st;
};

/* Makes tmp as /tmp/verdon-test-NAME-XXXXXX and names dir, opening nothing. 0 or -1. */
int store_fixture_make(struct store_fixture *sf, const char *name);

/* store_fixture_make, then opens the "lmdb" store in dir with a map of map bytes. 0, or -1 with
 * the error on stderr and nothing left behind. */
int store_fixture_open(struct store_fixture *sf, const char *name, size_t map);

/* Closes the store, if open, and removes tmp with everything in it. */
void store_fixture_remove(struct store_fixture *sf);

#endif
