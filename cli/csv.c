/*
 * The account import file. One record parser serves the header and the rows;
 * a bad row costs only itself: after a structural error (a quote never closed,
 * a row over CSV_LINE_MAX) reading resumes on the next physical line, so one
 * stray quote cannot swallow the rest of the file.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "csv.h"

/* Header columns, trailing unnamed ones (a spreadsheet's used range) included. */
#define CSV_MAX_FIELDS 64
#define CSV_NAME_MAX 48
#define CSV_YEAR_MIN 1900
#define CSV_YEAR_MAX 2100
#define CSV_NUMEN_LEN 13
#define CSV_STR(x) #x
#define CSV_XSTR(x) CSV_STR(x)
#define CSV_TOO_LONG "row longer than " CSV_XSTR(CSV_LINE_MAX) " bytes"

struct csv_reader {
	const char *data;
	size_t len;
	size_t pos;
	unsigned line; /* line number at pos */
	char sep;
	int bom;
	size_t ncols;
	int map[CSV_MAX_FIELDS]; /* header position -> enum csv_column, -1 ignored */
	char name[CSV_COLUMN_COUNT][CSV_NAME_MAX]; /* as the header spells them */
	char birth[11];
	/* the record being read */
	size_t nfields;
	size_t off[CSV_MAX_FIELDS];
	size_t flen[CSV_MAX_FIELDS];
	size_t used;
	size_t cur; /* bytes in the current field, stored or not */
	int nonempty;
	/* every field takes at most its raw bytes plus a NUL */
	char buf[2 * CSV_LINE_MAX + 2];
};

/* Header names after csv_fold, space-separated; spaces cannot occur in a folded name. */
static const char *const csv_aliases[CSV_COLUMN_COUNT] = {
    " last nom ",
    " first prenom ",
    " birth naissance date_naissance date_de_naissance ",
    " numen ",
    (" rescue_email email_secours email mail_secours courriel mail e_mail adresse_de_secours "
     "courriel_de_secours email_de_secours mail_de_secours "),
    " id identifiant login ",
    " mobile portable telephone telephone_portable ",
    " password_hash hash crypt ",
    " etablissement uai rne etab ",
};

/* How a missing column is named: the English name and the French one. */
static const char *const csv_names[CSV_COLUMN_COUNT] = {
    "\"last\" (or \"nom\")",
    "\"first\" (or \"prenom\")",
    "\"birth\" (or \"naissance\")",
    "\"numen\"",
    "\"rescue_email\" (or \"email_secours\")",
    "\"id\" (or \"identifiant\")",
    "\"mobile\" (or \"portable\")",
    "\"password_hash\"",
    "\"etablissement\" (or \"uai\")",
};

/* U+00C0..U+00FF (UTF-8 C3 80..C3 BF) without their accents; '?' has no base letter. */
static const char csv_latin1[] = "aaaaaa?ceeeeiiii?nooooo?ouuuuy??"
                                 "aaaaaa?ceeeeiiii?nooooo?ouuuuy?y";

static void __attribute__((format(printf, 3, 4)))
csv_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int csv_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Offset just past the line break that ends the physical line holding i. */
static size_t csv_line_end(const char *d, size_t n, size_t i)
{
	for (; i < n; i++) {
		if (d[i] == '\n')
			return i + 1;
		if (d[i] == '\r')
			return i + 1 < n && d[i + 1] == '\n' ? i + 2 : i + 1;
	}
	return n;
}

/* Line breaks (LF, CRLF, lone CR) in d[from, to). */
static unsigned csv_count_lines(const char *d, size_t n, size_t from, size_t to)
{
	unsigned lines = 0;

	while (from < to) {
		from = csv_line_end(d, n, from);
		if (from <= to && (d[from - 1] == '\n' || d[from - 1] == '\r'))
			lines++;
	}
	return lines;
}

/* Fields past CSV_MAX_FIELDS are only counted: the row is bad anyway. */
static void csv_append(struct csv_reader *rd, char c)
{
	if (rd->nfields < CSV_MAX_FIELDS)
		rd->buf[rd->used++] = c;
	rd->cur++;
}

/* Ends the current field, keeping its first keep bytes (a plain field's trailing spaces go). */
static void csv_field_end(struct csv_reader *rd, size_t keep)
{
	if (rd->nfields < CSV_MAX_FIELDS) {
		rd->flen[rd->nfields] = keep;
		rd->used = rd->off[rd->nfields] + keep;
		rd->buf[rd->used++] = '\0';
		if (rd->nfields + 1 < CSV_MAX_FIELDS)
			rd->off[rd->nfields + 1] = rd->used;
	}
	if (keep > 0)
		rd->nonempty = 1;
	rd->nfields++;
	rd->cur = 0;
}

enum csv_state { CSV_START, CSV_PLAIN, CSV_QUOTED, CSV_CLOSED, CSV_AFTER };

struct csv_scan {
	enum csv_state st;
	size_t keep; /* a plain field's length without its trailing spaces */
};

/* One byte of a record that is not its line break; NULL or the structural error. */
static const char *csv_byte(struct csv_reader *rd, struct csv_scan *sc, char c)
{
	switch (sc->st) {
	case CSV_START:
		if (c == '"') {
			sc->st = CSV_QUOTED;
		} else if (c == rd->sep) {
			csv_field_end(rd, 0);
		} else if (!csv_is_space(c)) {
			csv_append(rd, c);
			sc->keep = rd->cur;
			sc->st = CSV_PLAIN;
		}
		break;
	case CSV_PLAIN:
		if (c == rd->sep) {
			csv_field_end(rd, sc->keep);
			sc->st = CSV_START;
			break;
		}
		csv_append(rd, c);
		if (!csv_is_space(c))
			sc->keep = rd->cur;
		break;
	case CSV_QUOTED:
		if (c == '"')
			sc->st = CSV_CLOSED;
		else
			csv_append(rd, c);
		break;
	case CSV_CLOSED:
	case CSV_AFTER:
		if (c == '"' && sc->st == CSV_CLOSED) {
			csv_append(rd, '"'); /* a doubled quote */
			sc->st = CSV_QUOTED;
		} else if (c == rd->sep) {
			csv_field_end(rd, rd->cur);
			sc->st = CSV_START;
		} else if (csv_is_space(c)) {
			sc->st = CSV_AFTER;
		} else {
			return "text after a closing quote";
		}
		break;
	}
	return NULL;
}

/*
 * One record (RFC 4180) from rd->pos into rd->buf. NULL and *end_r, *lines_r
 * (line breaks consumed) on success, else the structural error.
 */
static const char *csv_record(struct csv_reader *rd, size_t *end_r, unsigned *lines_r)
{
	const char *d = rd->data, *why;
	size_t n = rd->len, start = rd->pos, i;
	struct csv_scan sc = {CSV_START, 0};
	unsigned lines = 0;

	rd->nfields = rd->used = rd->cur = 0;
	rd->off[0] = 0;
	rd->nonempty = 0;
	for (i = start; i < n; i++) {
		int brk = d[i] == '\n' || (d[i] == '\r' && !(i + 1 < n && d[i + 1] == '\n'));

		if (sc.st != CSV_QUOTED && (d[i] == '\n' || d[i] == '\r')) {
			i = csv_line_end(d, n, i);
			lines++;
			break;
		}
		if (i - start >= CSV_LINE_MAX)
			return sc.st == CSV_QUOTED ? CSV_TOO_LONG " (a quote not closed?)"
			                           : CSV_TOO_LONG;
		if ((why = csv_byte(rd, &sc, d[i])) != NULL)
			return why;
		lines += brk && sc.st == CSV_QUOTED;
	}
	if (i >= n && sc.st == CSV_QUOTED)
		return "quote not closed";
	csv_field_end(rd, sc.st == CSV_PLAIN ? sc.keep : rd->cur);
	*end_r = i;
	*lines_r = lines;
	return NULL;
}

/* 0, or -1 with err naming the line of the first NUL or invalid UTF-8 byte. */
static int csv_check_encoding(const struct csv_reader *rd, size_t start, size_t end, unsigned line,
                              char *err, size_t errlen)
{
	const char *nul = memchr(rd->data + start, '\0', end - start);
	const uint8_t *bad = u8_check((const uint8_t *)rd->data + start, end - start);
	size_t at;

	if (nul == NULL && bad == NULL)
		return 0;
	if (nul != NULL && (bad == NULL || (const char *)bad > nul))
		at = (size_t)(nul - rd->data);
	else
		at = (size_t)((const char *)bad - rd->data);
	line += csv_count_lines(rd->data, rd->len, start, at);
	csv_err(err, errlen, "line %u: %s", line,
	        rd->data[at] == '\0' ? "NUL byte" : "invalid UTF-8");
	return -1;
}

/* Lowercase ASCII with accents of Latin-1 letters dropped, spaces and hyphens as '_'. */
static int csv_fold(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 1 >= outlen)
			return -1;
		if (c == 0xc3 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0xbf)
			c = (unsigned char)csv_latin1[(unsigned char)s[++i] - 0x80];
		else if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (c == ' ' || c == '-')
			c = '_';
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int csv_lookup(const char *s, size_t n)
{
	char folded[CSV_NAME_MAX + 2] = " ";
	int col;

	if (csv_fold(s, n, folded + 1, sizeof(folded) - 2) < 0 || strchr(folded + 1, ' ') != NULL)
		return -1;
	strcat(folded, " ");
	for (col = 0; col < CSV_COLUMN_COUNT; col++)
		if (strstr(csv_aliases[col], folded) != NULL)
			return col;
	return -1;
}

/* A header name fit for a message: control bytes as '?', cut on a character boundary. */
static void csv_printable(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (n >= outlen) {
		n = outlen - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[n] = '\0';
}

/* The separator is the one of ';' and ',' found in the header outside quotes. */
static int csv_find_sep(struct csv_reader *rd)
{
	size_t i;
	int quoted = 0, semi = 0, comma = 0;

	for (i = rd->pos; i < rd->len && i - rd->pos < CSV_LINE_MAX; i++) {
		char c = rd->data[i];

		if (c == '"')
			quoted = !quoted;
		else if (!quoted && (c == '\n' || c == '\r'))
			break;
		else if (!quoted && c == ';')
			semi = 1;
		else if (!quoted && c == ',')
			comma = 1;
	}
	if (semi == comma)
		return -1;
	rd->sep = semi ? ';' : ',';
	return 0;
}

static int csv_header_column(struct csv_reader *rd, size_t k, unsigned seen, char *err,
                             size_t errlen)
{
	const char *s = rd->buf + rd->off[k];
	char shown[CSV_NAME_MAX];
	int col = csv_lookup(s, rd->flen[k]);

	csv_printable(s, rd->flen[k], shown, sizeof(shown));
	if (col < 0) {
		csv_err(err, errlen, "line 1: unknown column \"%s\"", shown);
		return -1;
	}
	if (seen & (1u << col)) {
		csv_err(err, errlen, "line 1: column \"%s\" given twice", shown);
		return -1;
	}
	memcpy(rd->name[col], shown, sizeof(shown));
	rd->map[k] = col;
	return col;
}

static int csv_header(struct csv_reader *rd, char *err, size_t errlen)
{
	unsigned seen = 0;
	size_t k, named;
	int col;

	for (named = rd->nfields; named > 0 && rd->flen[named - 1] == 0; named--)
		rd->map[named - 1] = -1;
	for (k = 0; k < named; k++) {
		if (rd->flen[k] == 0) {
			csv_err(err, errlen, "line 1: column %zu has no name", k + 1);
			return -1;
		}
		if ((col = csv_header_column(rd, k, seen, err, errlen)) < 0)
			return -1;
		seen |= 1u << col;
	}
	for (col = 0; col < CSV_ID; col++) {
		if (!(seen & (1u << col))) {
			csv_err(err, errlen, "line 1: missing column %s", csv_names[col]);
			return -1;
		}
	}
	rd->ncols = rd->nfields;
	return 0;
}

int csv_open(const char *data, size_t len, struct csv_reader **reader_r, char *err, size_t errlen)
{
	struct csv_reader *rd = NULL;
	const char *why;
	size_t end;
	unsigned lines;
	int r = -1;

	*reader_r = NULL;
	if ((rd = calloc(1, sizeof(*rd))) == NULL) {
		csv_err(err, errlen, "out of memory");
		goto out;
	}
	rd->data = data;
	rd->len = data == NULL ? 0 : len;
	if (rd->len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		rd->pos = 3;
		rd->bom = 1;
	}
	if (rd->pos >= rd->len) {
		csv_err(err, errlen, "line 1: empty file, expected a header");
		goto out;
	}
	if (csv_find_sep(rd) < 0) {
		csv_err(err, errlen, "line 1: cannot tell the separator (use ; or ,)");
		goto out;
	}
	if ((why = csv_record(rd, &end, &lines)) != NULL) {
		csv_err(err, errlen, "line 1: %s", why);
		goto out;
	}
	if (csv_check_encoding(rd, rd->pos, end, 1, err, errlen) < 0)
		goto out;
	if (rd->nfields > CSV_MAX_FIELDS) {
		csv_err(err, errlen, "line 1: more than %d columns", CSV_MAX_FIELDS);
		goto out;
	}
	if (csv_header(rd, err, errlen) < 0)
		goto out;
	rd->pos = end;
	rd->line = 1 + lines;
	*reader_r = rd;
	rd = NULL;
	r = 0;
out:
	csv_close(rd);
	return r;
}

static int csv_days(unsigned y, unsigned m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* Reads exactly n..max digits at s; the count read, or -1. */
static int csv_digits(const char *s, int min, int max, unsigned *v_r)
{
	int i;

	*v_r = 0;
	for (i = 0; i < max && s[i] >= '0' && s[i] <= '9'; i++)
		*v_r = *v_r * 10 + (unsigned)(s[i] - '0');
	return i < min ? -1 : i;
}

/* YYYY-MM-DD or D[D]/M[M]/YYYY into rd->birth as YYYY-MM-DD; -1 when not a real date. */
static int csv_date(struct csv_reader *rd, const char *s)
{
	unsigned y, m, d;
	int a, b, c;

	if ((a = csv_digits(s, 4, 4, &y)) > 0 && s[a] == '-') {
		if ((b = csv_digits(s + 5, 2, 2, &m)) < 0 || s[7] != '-' ||
		    (c = csv_digits(s + 8, 2, 2, &d)) < 0 || s[10] != '\0')
			return -1;
	} else if ((a = csv_digits(s, 1, 2, &d)) > 0 && s[a] == '/') {
		if ((b = csv_digits(s + a + 1, 1, 2, &m)) < 0 || s[a + 1 + b] != '/' ||
		    (c = csv_digits(s + a + b + 2, 4, 4, &y)) < 0 || s[a + b + 2 + c] != '\0')
			return -1;
	} else {
		return -1;
	}
	if (y < CSV_YEAR_MIN || y > CSV_YEAR_MAX || m < 1 || m > 12 || d < 1 ||
	    (int)d > csv_days(y, m))
		return -1;
	/* The bounds above keep this within 10 characters; the mask tells the compiler so. */
	snprintf(rd->birth, sizeof(rd->birth), "%04u-%02u-%02u", y % 10000, m % 100, d % 100);
	return 0;
}

static int csv_numen(char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			s[i] = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return -1;
	}
	return i == CSV_NUMEN_LEN ? 0 : -1;
}

/* Fills row from the record just read; -1 with err when a field is not acceptable. */
static int csv_fill(struct csv_reader *rd, struct csv_row *row, unsigned line, char *err,
                    size_t errlen)
{
	char *f[CSV_COLUMN_COUNT] = {NULL};
	size_t k;
	int col;

	if (rd->nfields != rd->ncols) {
		csv_err(err, errlen, "line %u: %zu field%s, the header has %zu", line, rd->nfields,
		        rd->nfields == 1 ? "" : "s", rd->ncols);
		return -1;
	}
	for (k = 0; k < rd->ncols; k++) {
		if (rd->flen[k] > CSV_FIELD_MAX) {
			csv_err(err, errlen, "line %u: field %zu longer than %d bytes", line, k + 1,
			        CSV_FIELD_MAX);
			return -1;
		}
		if (rd->map[k] >= 0)
			f[rd->map[k]] = rd->buf + rd->off[k];
	}
	for (col = 0; col < CSV_ID; col++) {
		if (f[col][0] == '\0') {
			csv_err(err, errlen, "line %u: \"%s\" is empty", line, rd->name[col]);
			return -1;
		}
	}
	if (csv_date(rd, f[CSV_BIRTH]) < 0) {
		csv_err(err, errlen, "line %u: \"%s\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
		        line, rd->name[CSV_BIRTH]);
		return -1;
	}
	if (csv_numen(f[CSV_NUMEN]) < 0) {
		csv_err(err, errlen, "line %u: \"%s\" must be 13 letters or digits", line,
		        rd->name[CSV_NUMEN]);
		return -1;
	}
	row->line = line;
	for (col = 0; col < CSV_COLUMN_COUNT; col++)
		row->field[col] = f[col];
	row->field[CSV_BIRTH] = rd->birth;
	return 1;
}

/* 1 a row, 2 a blank line, -1 a bad line. */
static int csv_row(struct csv_reader *rd, struct csv_row *row, char *err, size_t errlen)
{
	size_t start = rd->pos, end;
	unsigned line = rd->line, lines;
	const char *why;

	if ((why = csv_record(rd, &end, &lines)) != NULL) {
		rd->pos = csv_line_end(rd->data, rd->len, start);
		rd->line++;
		csv_err(err, errlen, "line %u: %s", line, why);
		return -1;
	}
	rd->pos = end;
	rd->line += lines;
	if (csv_check_encoding(rd, start, end, line, err, errlen) < 0)
		return -1;
	if (!rd->nonempty)
		return 2;
	return csv_fill(rd, row, line, err, errlen);
}

int csv_next(struct csv_reader *reader, struct csv_row *row, char *err, size_t errlen)
{
	int r;

	if (reader == NULL) {
		csv_err(err, errlen, "no file open");
		return -1;
	}
	do {
		if (reader->pos >= reader->len)
			return 0;
		r = csv_row(reader, row, err, errlen);
	} while (r == 2);
	return r;
}

const char *csv_column_name(const struct csv_reader *reader, enum csv_column column)
{
	if (reader == NULL || (unsigned)column >= CSV_COLUMN_COUNT)
		return "";
	return reader->name[column];
}

char csv_separator(const struct csv_reader *reader)
{
	return reader != NULL ? reader->sep : ',';
}

int csv_has_bom(const struct csv_reader *reader)
{
	return reader != NULL && reader->bom;
}

int csv_column_of_key(const char *key)
{
	static const char *const keys[CSV_COLUMN_COUNT] = {
	    "last",        "first",  "birth",         "numen",         "rescue_email",
	    "identifiant", "mobile", "password_hash", "etablissement",
	};

	for (int col = 0; col < CSV_COLUMN_COUNT; col++)
		if (strcmp(keys[col], key) == 0)
			return col;
	return -1;
}

void csv_close(struct csv_reader *reader)
{
	if (reader == NULL)
		return;
	/* the rows hold personal data and NUMENs */
	explicit_bzero(reader, sizeof(*reader));
	free(reader);
}
