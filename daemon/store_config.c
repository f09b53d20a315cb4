/*
 * The store the configuration names: LMDB in the state directory by default,
 * or a shared PostgreSQL database for a cluster (docs/cluster.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store.h"

bool store_config_shared(const struct config *c)
{
	return c->store_backend != NULL && strcmp(c->store_backend, "postgresql") == 0;
}

int store_open_configured(const struct config *c, struct store **store_r, char *err, size_t errlen)
{
	if (!store_config_shared(c))
		return store_open("lmdb", c->state_dir, (size_t)c->map_size_mb << 20, store_r, err,
		                  errlen);
	/* libpq reads the password file named here unless conninfo names one; called at
	 * start-up, before any thread. */
	if (c->store_password_file != NULL && setenv("PGPASSFILE", c->store_password_file, 1) < 0) {
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	return store_open("postgresql", c->store_conninfo, 0, store_r, err, errlen);
}
