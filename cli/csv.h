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
	CSV_ETAB,          /* optional: the établissement's UAI */
	CSV_COLUMN_COUNT
};

struct csv_row {
	unsigned line; /* 1-based line number in the file where the row starts */
	const char *field[CSV_COLUMN_COUNT]; /* NULL when the column is absent; "" when empty */
};

struct csv_reader;

/*
 * Reads the header from data (the whole file in memory, UTF-8: csv_charset.c
 * decodes the others first). Column names are matched ignoring case, accents,
 * spaces and hyphens, French names accepted (nom, prénom, date de naissance,
 * numen, courriel / adresse de secours / mail, identifiant, mobile / portable,
 * établissement / uai).
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

/* The column's name as the header spells it ("" when absent). */
const char *csv_column_name(const struct csv_reader *reader, enum csv_column column);
/* The separator the header uses, ';' or ','. */
char csv_separator(const struct csv_reader *reader);
/* Whether the file began with a UTF-8 BOM. */
int csv_has_bom(const struct csv_reader *reader);
/* The column a request field names ("first", "rescue_email" …), or -1. */
int csv_column_of_key(const char *key);

#endif
