/* Handling secrets: wipe before free, compare in constant time. */
#ifndef VERDON_SECRET_H
#define VERDON_SECRET_H

#include <stdbool.h>
#include <stddef.h>

void secret_wipe(void *p, size_t n);
/* Wipes a NUL-terminated string and frees it; NULL is a no-op. */
void secret_free(char *s);
/* Constant time in n: no early exit. */
bool secret_equal(const void *a, const void *b, size_t n);
/* Constant time in max(alen, blen) bounded by cap; false when lengths differ. */
bool secret_equal_str(const char *a, const char *b, size_t cap);

#endif
