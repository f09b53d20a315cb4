#ifndef VERDON_STORE_COPY_H
#define VERDON_STORE_COPY_H

#include <stddef.h>
#include <stdio.h>

#include "store.h"

/* Rows in a table, by a read transaction of its own. */
int store_count(struct store *s, enum store_table table, size_t *n_r);
/* Copies every table of from into to, which must hold no data; -1 with err. */
int store_copy(struct store *from, struct store *to, FILE *report, char *err, size_t errlen);

#endif
