/* libFuzzer: any bytes through csv_open and csv_next, checking the reader's promises. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define FUZZ_CALLS_MAX 10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_row(const struct csv_row *row, unsigned last)
{
	int col;

	if (row->line <= last)
		abort();
	for (col = 0; col < CSV_COLUMN_COUNT; col++) {
		if (col < CSV_ID && (row->field[col] == NULL || row->field[col][0] == '\0'))
			abort();
		if (row->field[col] != NULL && strlen(row->field[col]) > CSV_FIELD_MAX)
			abort();
	}
	if (strlen(row->field[CSV_BIRTH]) != 10 || strlen(row->field[CSV_NUMEN]) != 13)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader *rd = NULL;
	struct csv_row row;
	char err[128];
	unsigned last = 0;
	int i, r;

	if (csv_open((const char *)data, size, &rd, err, sizeof(err)) < 0) {
		if (rd != NULL || strncmp(err, "line ", 5) != 0)
			abort();
		return 0;
	}
	for (i = 0; i < FUZZ_CALLS_MAX; i++) {
		memset(err, 0, sizeof(err));
		r = csv_next(rd, &row, err, sizeof(err));
		if (r == 0)
			break;
		if (r == 1) {
			fuzz_check_row(&row, last);
			last = row.line;
		} else if (r != -1 || strncmp(err, "line ", 5) != 0) {
			abort();
		}
	}
	/* every call consumes at least a byte: a shorter input ends within the bound */
	if (size < FUZZ_CALLS_MAX &&
	    (i == FUZZ_CALLS_MAX || csv_next(rd, &row, err, sizeof(err)) != 0))
		abort();
	csv_close(rd);
	return 0;
}
