/* The import file's character sets (csv_charset.c): detection, decoding, errors, and the way back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csv.h"
#include "csv_charset.h"

struct decode_case {
	const char *data;
	const char *charset; /* given, or NULL to detect */
	const char *used;    /* the charset told back */
	const char *text;    /* decoded, or NULL when data is used as is; the error when used is NULL */
};

static const struct decode_case decode_cases[] = {
    {"nom;pr\xc3\xa9nom\n", NULL, "UTF-8", NULL},
    {"\xef\xbb\xbfnom\n", NULL, "UTF-8", NULL},
    {"nom;pr\xe9nom\r\n\xc9lodie;L\xe8" "fevre\r\n", NULL, "WINDOWS-1252",
     "nom;pr\xc3\xa9nom\r\n\xc3\x89lodie;L\xc3\xa8" "fevre\r\n"},
    /* Windows-1252's own letters: œ, the euro sign, curly quotes */
    {"C\x9cur \x80 \x93x\x94", NULL, "WINDOWS-1252",
     "C\xc5\x93ur \xe2\x82\xac \xe2\x80\x9cx\xe2\x80\x9d"},
    {"\xa4", "ISO-8859-15", "ISO-8859-15", "\xe2\x82\xac"},
    {"nom\n", "utf-8", "utf-8", NULL},
    /* 0x81 is not a Windows-1252 character: the line is named */
    {"nom\r\nok\r\nx\x81y\n", NULL, NULL, "line 3: byte 0x81 is not WINDOWS-1252 text"},
    {"nom\n", "KLINGON", NULL,
     "line 1: unknown encoding KLINGON (try WINDOWS-1252, ISO-8859-15 or UTF-8)"},
    {"nom\n", "AN-ENCODING-NAME-FAR-TOO-LONG-TO-BE-ONE", NULL, "line 1: unknown encoding"},
};

static void test_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];
		char used[CSV_CHARSET_NAME_MAX] = "", err[256] = "", *utf8 = NULL;
		size_t len = 0;
		int r = csv_charset_decode(c->data, strlen(c->data), c->charset, &utf8, &len, used,
		                           err, sizeof(err));

		if (c->used == NULL) {
			assert_int_equal(r, -1);
			assert_null(utf8);
			assert_string_equal(err, c->text);
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(used, c->used);
		if (c->text == NULL) {
			assert_null(utf8);
			assert_int_equal(len, strlen(c->data));
		} else {
			assert_non_null(utf8);
			assert_int_equal(len, strlen(c->text));
			assert_memory_equal(utf8, c->text, len);
		}
		csv_charset_free(utf8, len);
	}
	csv_charset_free(NULL, 0);
}

static void test_encode(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(csv_charset_encode("\xc3\x89lodie", "WINDOWS-1252", out, sizeof(out)), 0);
	assert_string_equal(out, "\xc9lodie");
	assert_int_equal(csv_charset_encode("\xc3\x89lodie", "UTF-8", out, sizeof(out)), 0);
	assert_string_equal(out, "\xc3\x89lodie");
	/* no form in the set, no room, no such set */
	assert_int_equal(csv_charset_encode("\xe2\x82\xac", "ISO-8859-1", out, sizeof(out)), -1);
	assert_int_equal(csv_charset_encode("0123456789abcdef", "WINDOWS-1252", out, sizeof(out)), -1);
	assert_int_equal(csv_charset_encode("0123456789abcdef", "UTF-8", out, sizeof(out)), -1);
	assert_int_equal(csv_charset_encode("x", "KLINGON", out, sizeof(out)), -1);
	assert_int_equal(csv_charset_encode("x", "UTF-8", out, 0), -1);
}

/* A French Excel export: accented headers in Windows-1252 name the columns once decoded. */
static void test_excel_header(void **state)
{
	static const char file[] =
	    "Nom;Pr\xe9nom;Date de naissance;NUMEN;Adresse de secours;\xc9tablissement;T\xe9l\xe9phone\r\n"
	    "L\xe8" "fevre;\xc9lodie;12/04/1980;12a3456789xyz;\"e;l@x.fr\";0750001A;06 00\r\n";
	char used[CSV_CHARSET_NAME_MAX], err[256] = "", *utf8 = NULL;
	struct csv_reader *rd = NULL;
	struct csv_row row;
	size_t len;

	(void)state;
	assert_int_equal(csv_charset_decode(file, strlen(file), NULL, &utf8, &len, used, err,
	                                    sizeof(err)),
	                 0);
	assert_int_equal(csv_open(utf8, len, &rd, err, sizeof(err)), 0);
	assert_string_equal(csv_column_name(rd, CSV_ETAB), "\xc3\x89tablissement");
	assert_int_equal(csv_separator(rd), ';');
	assert_int_equal(csv_next(rd, &row, err, sizeof(err)), 1);
	assert_string_equal(row.field[CSV_LAST], "L\xc3\xa8" "fevre");
	assert_string_equal(row.field[CSV_FIRST], "\xc3\x89lodie");
	assert_string_equal(row.field[CSV_BIRTH], "1980-04-12");
	assert_string_equal(row.field[CSV_NUMEN], "12A3456789XYZ");
	assert_string_equal(row.field[CSV_RESCUE_EMAIL], "e;l@x.fr");
	assert_string_equal(row.field[CSV_ETAB], "0750001A");
	assert_string_equal(row.field[CSV_MOBILE], "06 00");
	assert_int_equal(csv_next(rd, &row, err, sizeof(err)), 0);
	csv_close(rd);
	csv_charset_free(utf8, len);
}

static void test_column_keys(void **state)
{
	(void)state;
	assert_int_equal(csv_column_of_key("numen"), CSV_NUMEN);
	assert_int_equal(csv_column_of_key("rescue_email"), CSV_RESCUE_EMAIL);
	assert_int_equal(csv_column_of_key("etablissement"), CSV_ETAB);
	assert_int_equal(csv_column_of_key("identifiant"), CSV_ID);
	assert_int_equal(csv_column_of_key("nothing"), -1);
	assert_string_equal(csv_column_name(NULL, CSV_LAST), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_excel_header),
	    cmocka_unit_test(test_column_keys),
	};
	return cmocka_run_group_tests_name("csv_charset", tests, NULL, NULL);
}
