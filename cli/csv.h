/*
 * The account import file as admins have it: a header naming the columns,
 * comma or semicolon separated (a French spreadsheet export), UTF-8 with or
 * without BOM, CRLF or LF, RFC 4180 quoting. Pure: bytes in, rows out.
 */
#ifndef VERDON_CSV_H
#define VERDON_CSV_H

#include <stddef.h>

#define CSV_LINE_MAX 4096
#define CSV_FIELD_MAX 512

enum csv_column {
	CSV_LAST = 0,
	CSV_FIRST,
	CSV_BIRTH,
	CSV_NUMEN,
	CSV_RESCUE_EMAIL,
	CSV_ID,            /* optional */
	CSV_MOBILE,        /* optional */
	CSV_PASSWORD_HASH, /* optional: a crypt(3) hash from the directory being migrated */
	CSV_COLUMN_COUNT
};

struct csv_row {
	unsigned line; /* 1-based line number in the file where the row starts */
	const char *field[CSV_COLUMN_COUNT]; /* NULL when the column is absent; "" when empty */
};

struct csv_reader;

/*
 * Reads the header from data (the whole file in memory). Column names are
 * matched case-insensitively, French aliases accepted (nom, prenom/prénom,
 * naissance/date_naissance, numen, email_secours, identifiant, mobile/portable).
 * -1 with err "line 1: …" when a required column is missing, a column is
 * unknown or repeated, or the separator cannot be told.
 */
int csv_open(const char *data, size_t len, struct csv_reader **reader_r, char *err, size_t errlen);

/*
 * Next row: 1 a row, 0 end of file, -1 a bad line (err "line N: …"; the
 * reader has moved past it, so the caller reports it and goes on). Blank
 * lines are skipped. Dates are also accepted as DD/MM/YYYY and given back as
 * YYYY-MM-DD. Fields point into the reader until the next call.
 */
int csv_next(struct csv_reader *reader, struct csv_row *row, char *err, size_t errlen);
void csv_close(struct csv_reader *reader); /* NULL is a no-op */

#endif
