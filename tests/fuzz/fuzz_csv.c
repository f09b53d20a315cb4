/*
 * libFuzzer: any bytes through the import's path: csv_charset_decode (a file
 * that is not UTF-8 is read as Windows-1252 through iconv), then csv_open and
 * csv_next, checking each one's promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "csv.h"
#include "csv_charset.h"

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

/* The reader over text, UTF-8 by now. */
static void fuzz_read(const char *text, size_t size)
{
	struct csv_reader *rd = NULL;
	struct csv_row row;
	char err[128];
	unsigned last = 0;
	int i, r;

	if (csv_open(text, size, &rd, err, sizeof(err)) < 0) {
		if (rd != NULL || strncmp(err, "line ", 5) != 0)
			abort();
		return;
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char used[CSV_CHARSET_NAME_MAX], err[128], *utf8 = NULL;
	size_t len = 0;

	if (csv_charset_decode((const char *)data, size, NULL, &utf8, &len, used, err,
	                       sizeof(err)) < 0) {
		/* only Windows-1252's five undefined bytes can fail, and the line is named */
		if (utf8 != NULL || strncmp(err, "line ", 5) != 0 || strstr(err, "WINDOWS-1252") == NULL)
			abort();
		return 0;
	}
	if (utf8 == NULL) {
		/* kept as is only when it is UTF-8 */
		if (u8_check(data, size) != NULL || len != size)
			abort();
		fuzz_read((const char *)data, size);
		return 0;
	}
	if (u8_check((const uint8_t *)utf8, len) != NULL || len > 3 * size || utf8[len] != '\0')
		abort();
	fuzz_read(utf8, len);
	csv_charset_free(utf8, len);
	return 0;
}
