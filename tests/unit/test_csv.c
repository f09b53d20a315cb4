/* CSV import: each case is a file and what csv_open/csv_next must say about it, in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csv.h"

#define MAX_OUT 8

struct csv_case {
	const char *name;
	const char *data;
	size_t len; /* 0: strlen(data) */
	/* "L first|last|…|id|mobile" per row (~ for NULL), the error text per bad line */
	const char *out[MAX_OUT];
};

#define H5C "last,first,birth,numen,rescue_email\n"
#define H5S "last;first;birth;numen;rescue_email\n"
#define R_C "Dupont,Jean,1980-03-05,ABCDEFGHIJ123,jean@example.org"
#define R_S "Dupont;Jean;1980-03-05;ABCDEFGHIJ123;jean@example.org"
#define OUT1(l) #l " Dupont|Jean|1980-03-05|ABCDEFGHIJ123|jean@example.org|~|~"

static const struct csv_case cases[] = {
    {"comma_lf", H5C R_C "\n" R_C "\n", 0, {OUT1(2), OUT1(3)}},
    {"semicolon_crlf_bom",
     "\xef\xbb\xbf"
     "last;first;birth;numen;rescue_email\r\n" R_S "\r\n" R_S "\r\n",
     0,
     {OUT1(2), OUT1(3)}},
    {"bom_comma", "\xef\xbb\xbf" H5C R_C "\n", 0, {OUT1(2)}},
    {"last_line_without_newline", H5S R_S "\n" R_S, 0, {OUT1(2), OUT1(3)}},
    {"lone_cr", H5S R_S "\r" R_S "\r", 0, {OUT1(2), OUT1(3)}},
    {"header_only", H5C, 0, {NULL}},
    {"password_hash_column",
     "last,first,birth,numen,rescue_email,password_hash\n"
     "Dupont,Jean,1980-03-05,ABCDEFGHIJ123,jean@example.org,$6$salt$abc/def.\n",
     0,
     {"2 Dupont|Jean|1980-03-05|ABCDEFGHIJ123|jean@example.org|~|~|hash=$6$salt$abc/def."}},
    {"header_only_no_newline", "last;first;birth;numen;rescue_email", 0, {NULL}},
    {"quoted_separator_and_quotes",
     H5S "\"Du;pont\";\"Jean \"\"Jo\"\"\";1980-03-05;ABCDEFGHIJ123;\"a;b@x.fr\"\n",
     0,
     {"2 Du;pont|Jean \"Jo\"|1980-03-05|ABCDEFGHIJ123|a;b@x.fr|~|~"}},
    {"quoted_newline_line_numbers",
     H5C "\"Du\npont\",\"Jean\r\nJo\",1980-03-05,ABCDEFGHIJ123,j@x.fr\n" R_C "\nx,y\n",
     0,
     {"2 Du\npont|Jean\r\nJo|1980-03-05|ABCDEFGHIJ123|j@x.fr|~|~", OUT1(5),
      "line 6: 2 fields, the header has 5"}},
    {"trimmed_outside_quotes",
     H5S "  Dupont \t;\" Jean \" ; 1980-03-05 ; ABCDEFGHIJ123 ;jean@example.org  \n",
     0,
     {"2 Dupont| Jean |1980-03-05|ABCDEFGHIJ123|jean@example.org|~|~"}},
    {"french_aliases_and_optional",
     " Nom ;Prénom;Date de naissance;NUMEN;Email_Secours;Identifiant;Téléphone\n"
     "Élie;Zoé;05/03/1980;abcdefghij123;z@x.fr;zelie;0600000000\n"
     "Élie;Zoé;5/3/1980;abcdefghij123;z@x.fr;;\n",
     0,
     {"2 Élie|Zoé|1980-03-05|ABCDEFGHIJ123|z@x.fr|zelie|0600000000",
      "3 Élie|Zoé|1980-03-05|ABCDEFGHIJ123|z@x.fr||"}},
    {"more_aliases", "NOM,PRÉNOM,naissance,numen,mail_secours,id,portable\n", 0, {NULL}},
    {"aliases_email_telephone", "nom;prenom;date_naissance;numen;email;telephone\n", 0, {NULL}},
    {"missing_column",
     "nom;prenom;naissance;email_secours\n" R_S "\n",
     0,
     {"open: line 1: missing column \"numen\""}},
    {"missing_first",
     "nom;naissance;numen;email_secours\n",
     0,
     {"open: line 1: missing column \"first\" (or \"prenom\")"}},
    {"unknown_column",
     "nom;prenom;naissance;numen;email_secours;Adresse\n",
     0,
     {"open: line 1: unknown column \"Adresse\""}},
    {"repeated_column",
     "nom;prenom;naissance;numen;email_secours;Last\n",
     0,
     {"open: line 1: column \"Last\" given twice"}},
    {"unnamed_column_inside",
     "nom;;prenom;naissance;numen;email_secours\n",
     0,
     {"open: line 1: column 2 has no name"}},
    {"unnamed_trailing_columns",
     "nom;prenom;naissance;numen;email_secours;;\n" R_S ";;\n" R_S ";x;\n" R_S "\n",
     0,
     {OUT1(2), OUT1(3), "line 4: 5 fields, the header has 7"}},
    {"both_separators",
     "nom;prenom,naissance;numen;email_secours\n",
     0,
     {"open: line 1: cannot tell the separator (use ; or ,)"}},
    {"no_separator", "nom\n", 0, {"open: line 1: cannot tell the separator (use ; or ,)"}},
    {"separator_inside_quotes_ignored",
     "\"nom,x\";prenom;naissance;numen;email_secours\n",
     0,
     {"open: line 1: unknown column \"nom,x\""}},
    {"empty_file", "", 0, {"open: line 1: empty file, expected a header"}},
    {"bom_only", "\xef\xbb\xbf", 0, {"open: line 1: empty file, expected a header"}},
    {"header_bad_utf8",
     "nom;pr\xe9nom;naissance;numen;email_secours\n",
     0,
     {"open: line 1: invalid UTF-8"}},
    {"header_quote_not_closed",
     "nom;\"prenom;naissance;numen;email_secours\n",
     0,
     {"open: line 1: quote not closed"}},
    {"header_text_after_quote",
     "nom;\"prenom\"x;naissance;numen;email_secours\n",
     0,
     {"open: line 1: text after a closing quote"}},
    {"wrong_field_count",
     H5C "Dupont,Jean,1980-03-05,ABCDEFGHIJ123\n" R_C ",x\nx\n" R_C "\n",
     0,
     {"line 2: 4 fields, the header has 5", "line 3: 6 fields, the header has 5",
      "line 4: 1 field, the header has 5", OUT1(5)}},
    {"empty_required",
     H5S "Dupont;;1980-03-05;ABCDEFGHIJ123;j@x.fr\n" R_S "\n",
     0,
     {"line 2: \"first\" is empty", OUT1(3)}},
    {"empty_quoted_required",
     "nom;prénom;naissance;numen;email_secours\nD;\"\";1980-03-05;ABCDEFGHIJ123;j\n",
     0,
     {"line 2: \"prénom\" is empty"}},
    {"dates",
     H5S "D;J;29/02/2020;ABCDEFGHIJ123;j\nD;J;31/02/2020;ABCDEFGHIJ123;j\n"
         "D;J;29/02/2019;ABCDEFGHIJ123;j\nD;J;29/02/1900;ABCDEFGHIJ123;j\n"
         "D;J;2000-02-29;ABCDEFGHIJ123;j\nD;J;2020-13-01;ABCDEFGHIJ123;j\n"
         "D;J;1980-3-5;ABCDEFGHIJ123;j\nD;J;31/12/1899;ABCDEFGHIJ123;j\n",
     0,
     {"2 D|J|2020-02-29|ABCDEFGHIJ123|j|~|~",
      "line 3: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "line 4: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "line 5: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "6 D|J|2000-02-29|ABCDEFGHIJ123|j|~|~",
      "line 7: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "line 8: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "line 9: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)"}},
    {"more_dates",
     H5S "D;J;00/01/2000;ABCDEFGHIJ123;j\nD;J;31/04/2000;ABCDEFGHIJ123;j\n"
         "D;J;31/12/2100;ABCDEFGHIJ123;j\nD;J;01/01/1900;ABCDEFGHIJ123;j\n"
         "D;J;1980-03-05x;ABCDEFGHIJ123;j\nD;J;05/03/80;ABCDEFGHIJ123;j\n",
     0,
     {"line 2: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "line 3: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "4 D|J|2100-12-31|ABCDEFGHIJ123|j|~|~", "5 D|J|1900-01-01|ABCDEFGHIJ123|j|~|~",
      "line 6: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)",
      "line 7: \"birth\" is not a date (YYYY-MM-DD or DD/MM/YYYY)"}},
    {"numen",
     H5S "D;J;1980-03-05;abcdefghij12;j\nD;J;1980-03-05;ABCDEFGHIJ1234;j\n"
         "D;J;1980-03-05;ABCDEF-HIJ123;j\nD;J;1980-03-05;ABCDEFGHIJ12é;j\n"
         "D;J;1980-03-05;0a1b2c3d4e5f6;j\n",
     0,
     {"line 2: \"numen\" must be 13 letters or digits",
      "line 3: \"numen\" must be 13 letters or digits",
      "line 4: \"numen\" must be 13 letters or digits",
      "line 5: \"numen\" must be 13 letters or digits", "6 D|J|1980-03-05|0A1B2C3D4E5F6|j|~|~"}},
    {"blank_lines_skipped", H5S "\n;;;;\n  \r\n;;\n\"\";\"\";;;\n" R_S "\n\n", 0, {OUT1(7)}},
    {"bad_utf8_then_next",
     H5S "D\xc3;J;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n",
     0,
     {"line 2: invalid UTF-8", OUT1(3)}},
    {"overlong_utf8",
     H5S "D\xc0\xaf;J;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n",
     0,
     {"line 2: invalid UTF-8", OUT1(3)}},
    {"bad_utf8_in_quoted_second_line",
     H5S "\"D\nx\xff\";J;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n",
     0,
     {"line 3: invalid UTF-8", OUT1(4)}},
    {"nul_byte",
     H5S "D\0;J;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n",
     sizeof(H5S "D\0;J;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n") - 1,
     {"line 2: NUL byte", OUT1(3)}},
    {"quote_not_closed_then_next",
     H5S "D;\"J;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n" R_S,
     0,
     {"line 2: quote not closed", OUT1(3), OUT1(4)}},
    {"text_after_quote",
     H5S "\"D\"x;J;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n",
     0,
     {"line 2: text after a closing quote", OUT1(3)}},
    {"quote_inside_plain_field_literal",
     H5S "O\"Neil;J;1980-03-05;ABCDEFGHIJ123;j\n",
     0,
     {"2 O\"Neil|J|1980-03-05|ABCDEFGHIJ123|j|~|~"}},
    {"spaces_then_quote",
     H5S "D;J;1980-03-05;ABCDEFGHIJ123;\"j\" \n",
     0,
     {"2 D|J|1980-03-05|ABCDEFGHIJ123|j|~|~"}},
    {"quote_space_quote",
     H5S "D;\"J\" \"K\";1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n",
     0,
     {"line 2: text after a closing quote", OUT1(3)}},
};

static void describe(const struct csv_row *row, char *out, size_t outlen)
{
	size_t used;
	int col;

	used = (size_t)snprintf(out, outlen, "%u ", row->line);
	for (col = 0; col <= CSV_MOBILE && used < outlen; col++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", col > 0 ? "|" : "",
		                         row->field[col] != NULL ? row->field[col] : "~");
	/* The migration column shows only where a file has it. */
	if (row->field[CSV_PASSWORD_HASH] != NULL && used < outlen)
		snprintf(out + used, outlen - used, "|hash=%s", row->field[CSV_PASSWORD_HASH]);
}

/* Runs the reader over data; the outcomes as strings into out, their count returned. */
static size_t run(const char *data, size_t len, char out[][CSV_LINE_MAX * 2], size_t max)
{
	struct csv_reader *rd = NULL;
	struct csv_row row;
	char err[256];
	size_t n = 0;
	unsigned last = 0;
	int r;

	if (csv_open(data, len, &rd, err, sizeof(err)) < 0) {
		assert_null(rd);
		snprintf(out[n++], sizeof(out[0]), "open: %s", err);
		return n;
	}
	while ((r = csv_next(rd, &row, err, sizeof(err))) != 0) {
		assert_true(n < max);
		if (r == 1) {
			assert_true(row.line > last);
			last = row.line;
			describe(&row, out[n++], sizeof(out[0]));
		} else {
			assert_int_equal(r, -1);
			snprintf(out[n++], sizeof(out[0]), "%s", err);
		}
	}
	assert_int_equal(csv_next(rd, &row, err, sizeof(err)), 0);
	csv_close(rd);
	return n;
}

static char got[MAX_OUT + 1][CSV_LINE_MAX * 2];

static void test_case(void **state)
{
	const struct csv_case *c = *state;
	size_t len = c->len != 0 ? c->len : strlen(c->data), n, want = 0, i;

	while (want < MAX_OUT && c->out[want] != NULL)
		want++;
	n = run(c->data, len, got, MAX_OUT + 1);
	for (i = 0; i < n && i < want; i++)
		assert_string_equal(got[i], c->out[i]);
	assert_int_equal(n, want);
}

/* A row of padding around a valid row, total bytes without the line break. */
static char *padded_row(size_t total)
{
	const char *row = R_S;
	char *s = malloc(total + 1);
	size_t pad = total - strlen(row);

	assert_non_null(s);
	memset(s, ' ', pad);
	memcpy(s + pad, row, strlen(row) + 1);
	return s;
}

/* Checks what a generated file gives: the expected outcomes, NULL-terminated. */
static void check_one(const char *file, ...)
{
	size_t n = run(file, strlen(file), got, MAX_OUT + 1), i = 0;
	const char *want;
	va_list ap;

	va_start(ap, file);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < n);
		assert_string_equal(got[i++], want);
	}
	va_end(ap);
	assert_int_equal(n, i);
}

static void test_line_max(void **state)
{
	char *ok = padded_row(CSV_LINE_MAX), *bad = padded_row(CSV_LINE_MAX + 1);
	char *file = malloc(3 * CSV_LINE_MAX);

	(void)state;
	assert_non_null(file);
	snprintf(file, 3 * CSV_LINE_MAX, H5S "%s\r\n" R_S "\n", ok);
	check_one(file, OUT1(2), OUT1(3), NULL);
	snprintf(file, 3 * CSV_LINE_MAX, H5S "%s\n" R_S "\n", bad);
	check_one(file, "line 2: row longer than 4096 bytes", OUT1(3), NULL);
	/* a quote never closed stops at the row limit, then the next line is read */
	snprintf(file, 3 * CSV_LINE_MAX, H5S "D;\"J;x\n%s\n" R_S "\n", ok);
	check_one(file, "line 2: row longer than 4096 bytes (a quote not closed?)", OUT1(3),
	          OUT1(4), NULL);
	free(ok);
	free(bad);
	free(file);
}

static void test_field_max(void **state)
{
	char name[CSV_FIELD_MAX + 2], file[2 * CSV_FIELD_MAX + 256], want[CSV_FIELD_MAX + 128];

	(void)state;
	memset(name, 'a', CSV_FIELD_MAX);
	name[CSV_FIELD_MAX] = '\0';
	snprintf(file, sizeof(file), H5S "%s;J;1980-03-05;ABCDEFGHIJ123;j\n", name);
	snprintf(want, sizeof(want), "2 %s|J|1980-03-05|ABCDEFGHIJ123|j|~|~", name);
	check_one(file, want, NULL);
	/* quoted, the field's length is its content: the quotes do not count */
	snprintf(file, sizeof(file), H5S "\"%s\";J;1980-03-05;ABCDEFGHIJ123;j\n", name);
	check_one(file, want, NULL);
	name[CSV_FIELD_MAX] = 'a';
	name[CSV_FIELD_MAX + 1] = '\0';
	snprintf(file, sizeof(file), H5S "D;%s;1980-03-05;ABCDEFGHIJ123;j\n" R_S "\n", name);
	check_one(file, "line 2: field 2 longer than 512 bytes", OUT1(3), NULL);
}

static void test_many_fields(void **state)
{
	char file[1024];
	size_t used;
	int i;

	(void)state;
	used = (size_t)snprintf(file, sizeof(file), H5S R_S);
	for (i = 0; i < 100; i++)
		used += (size_t)snprintf(file + used, sizeof(file) - used, ";");
	snprintf(file + used, sizeof(file) - used, "x\n" R_S "\n");
	check_one(file, "line 2: 105 fields, the header has 5", OUT1(3), NULL);
	/* only the fields past what the reader stores are non-empty: not a blank line */
	used = (size_t)snprintf(file, sizeof(file), H5S);
	for (i = 0; i < 80; i++)
		used += (size_t)snprintf(file + used, sizeof(file) - used, ";");
	snprintf(file + used, sizeof(file) - used, "x\n");
	check_one(file, "line 2: 81 fields, the header has 5", NULL);
}

static void test_err_buffer(void **state)
{
	struct csv_reader *rd = (struct csv_reader *)1;
	struct csv_row row;
	char small[8];
	const char *file = H5S "x\n";

	(void)state;
	assert_int_equal(csv_open("nom\n", 4, &rd, small, sizeof(small)), -1);
	assert_null(rd);
	assert_string_equal(small, "line 1:");
	assert_int_equal(csv_open("nom\n", 4, &rd, NULL, 0), -1);
	assert_int_equal(csv_open(file, strlen(file), &rd, NULL, 0), 0);
	assert_int_equal(csv_next(rd, &row, NULL, 0), -1);
	assert_int_equal(csv_next(rd, &row, NULL, 0), 0);
	csv_close(rd);
	csv_close(NULL);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 4];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct CMUnitTest t = {cases[i].name, test_case, NULL, NULL, (void *)&cases[i]};

		tests[i] = t;
	}
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_line_max);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_field_max);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_many_fields);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_err_buffer);
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
