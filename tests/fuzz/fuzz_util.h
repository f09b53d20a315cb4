/* Shared by the fuzz targets: cutting one input into NUL-terminated pieces. */
#ifndef VERDON_FUZZ_UTIL_H
#define VERDON_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PIECES_MAX 16

/* Splits data at each NUL (or at sep when sep != 0) into at most max malloc'd strings. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char sep, char **out, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= size && n < max; i++) {
		if (i == size || data[i] == (uint8_t)sep || data[i] == 0) {
			out[n] = malloc(i - start + 1);
			if (out[n] == NULL)
				abort();
			memcpy(out[n], data + start, i - start);
			out[n][i - start] = '\0';
			n++;
			start = i + 1;
		}
	}
	return n;
}

static inline void fuzz_free(char **p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i]);
}

#endif
