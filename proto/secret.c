#include <stdlib.h>
#include <string.h>

#include "secret.h"

void secret_wipe(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}

void secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

bool secret_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *pa = a, *pb = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= pa[i] ^ pb[i];
	return diff == 0;
}

bool secret_equal_str(const char *a, const char *b, size_t cap)
{
	size_t alen = strnlen(a, cap), blen = strnlen(b, cap);
	size_t n = alen > blen ? alen : blen;
	unsigned char diff = alen != blen;
	const volatile unsigned char *pa = (const unsigned char *)a;
	const volatile unsigned char *pb = (const unsigned char *)b;

	/* Past the shorter string's end, compare its NUL against the other's bytes. */
	for (size_t i = 0; i < n; i++)
		diff |= (i < alen ? pa[i] : 0) ^ (i < blen ? pb[i] : 0);
	return diff == 0;
}
