#define _GNU_SOURCE /* nftw */

#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_fixture.h"

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

int store_fixture_make(struct store_fixture *sf, const char *name)
{
	int n;

	memset(sf, 0, sizeof(*sf));
	n = snprintf(sf->tmp, sizeof(sf->tmp), "/tmp/verdon-test-%s-XXXXXX", name);
	if (n < 0 || (size_t)n >= sizeof(sf->tmp) || mkdtemp(sf->tmp) == NULL) {
		sf->tmp[0] = '\0'; /* nothing for store_fixture_remove to remove */
		return -1;
	}
	snprintf(sf->dir, sizeof(sf->dir), "%s/db", sf->tmp);
	return 0;
}

int store_fixture_open(struct store_fixture *sf, const char *name, size_t map)
{
	if (store_fixture_make(sf, name) != 0)
		return -1;
	if (store_open("lmdb", sf->dir, map, &sf->st, sf->err, sizeof(sf->err)) != STORE_OK) {
		fprintf(stderr, "store_fixture: %s\n", sf->err);
		store_fixture_remove(sf); /* a failed setup gets no teardown */
		return -1;
	}
	return 0;
}

void store_fixture_remove(struct store_fixture *sf)
{
	store_close(sf->st);
	sf->st = NULL;
	if (sf->tmp[0] != '\0')
		nftw(sf->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	sf->tmp[0] = '\0';
}
