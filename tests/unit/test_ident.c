#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ident.h"

/* A string of n copies of c, in one of a few static buffers. */
static const char *rep(char c, size_t n)
{
	static char bufs[4][512];
	static unsigned next;
	char *b = bufs[next++ % 4];

	assert_true(n < sizeof(bufs[0]));
	memset(b, c, n);
	b[n] = '\0';
	return b;
}

static void test_fold(void **state)
{
	static const struct {
		const char *in, *flat, *hyph; /* NULL: refused */
	} rows[] = {
	    {"Jean", "jean", "jean"},
	    {"Élodie", "elodie", "elodie"},
	    {"E\xcc\x81lodie", "elodie", "elodie"}, /* already decomposed */
	    {"N'Guyen-Lefèvre", "nguyenlefevre", "nguyen-lefevre"},
	    {"Lœuvre", "loeuvre", "loeuvre"},
	    {"ŒDIPE", "oedipe", "oedipe"},
	    {"François", "francois", "francois"},
	    {"ÇELIK", "celik", "celik"},
	    {"Ñúñez", "nunez", "nunez"},
	    {"Schröder", "schroder", "schroder"},
	    {"Östen", "osten", "osten"},
	    {"Æsa", "aesa", "aesa"},
	    {"Lætitia", "laetitia", "laetitia"},
	    {"Strauß", "strauss", "strauss"},
	    {"Øystein", "oystein", "oystein"},
	    {"Łukasz", "lukasz", "lukasz"},
	    {"Đorđe", "dorde", "dorde"},
	    {"Işık", "isik", "isik"},
	    {"O'Brien", "obrien", "obrien"},
	    {"D’Artagnan", "dartagnan", "dartagnan"},
	    {"Anne  Marie", "annemarie", "anne-marie"},
	    {"Jean - Pierre", "jeanpierre", "jean-pierre"},
	    {"Jean\xe2\x80\x90Pierre", "jeanpierre", "jean-pierre"}, /* U+2010 */
	    {"-Anne", "anne", "anne"},
	    {"Anne- ", "anne", "anne"},
	    {" De La Tour ", "delatour", "de-la-tour"},
	    {"王", NULL, NULL},
	    {"Jean 王", NULL, NULL},
	    {"Иван", NULL, NULL},
	    {"Jean2", NULL, NULL},
	    {"Jean.Pierre", NULL, NULL},
	    {"", NULL, NULL},
	    {"'", NULL, NULL},
	    {" - ", NULL, NULL},
	    {"\xcc\x81", NULL, NULL},       /* a lone accent */
	    {"Jo\xc3\x28", NULL, NULL},     /* truncated sequence */
	    {"Jo\xc0\xaf", NULL, NULL},     /* overlong */
	    {"Jo\xed\xa0\x80", NULL, NULL}, /* surrogate */
	};
	char out[NAME_MAX_BYTES + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int want = rows[i].flat != NULL ? 0 : -1;

		assert_int_equal(ident_fold(rows[i].in, false, out, sizeof(out)), want);
		if (want == 0)
			assert_string_equal(out, rows[i].flat);
		assert_int_equal(ident_fold(rows[i].in, true, out, sizeof(out)), want);
		if (want == 0)
			assert_string_equal(out, rows[i].hyph);
	}
}

static void test_fold_bounds(void **state)
{
	char out[NAME_MAX_BYTES + 1];

	(void)state;
	assert_int_equal(ident_fold(rep('a', NAME_MAX_BYTES), false, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), NAME_MAX_BYTES);
	assert_int_equal(ident_fold(rep('a', NAME_MAX_BYTES + 1), false, out, sizeof(out)), -1);
	/* The output buffer holds "strauss" and its NUL, not one byte less. */
	assert_int_equal(ident_fold("Strauß", false, out, 8), 0);
	assert_int_equal(ident_fold("Strauß", false, out, 7), -1);
	assert_int_equal(ident_fold("Jean", false, out, 0), -1);
	assert_true(ident_name_valid("Élodie"));
	assert_true(ident_name_valid(rep('b', NAME_MAX_BYTES)));
	assert_false(ident_name_valid(rep('b', NAME_MAX_BYTES + 1)));
	assert_false(ident_name_valid("王"));
	assert_false(ident_name_valid(""));
}

static void test_base_and_email(void **state)
{
	static const struct {
		const char *first, *last, *base, *email;
	} rows[] = {
	    {"Jean", "Dupont", "jdupont", "jean.dupont"},
	    {"Élodie", "N'Guyen-Lefèvre", "enguyenlefevre", "elodie.nguyen-lefevre"},
	    {"Jean-Pierre", "N'Guyen-Élie", "jnguyenelie", "jean-pierre.nguyen-elie"},
	    {"Chloé", "Lœuvre", "cloeuvre", "chloe.loeuvre"},
	    {"Anne Marie", "De La Tour", "adelatour", "anne-marie.de-la-tour"},
	    {"Ægidius", "Strauß", "astrauss", "aegidius.strauss"},
	    {"'Jean", "D’Artagnan", "jdartagnan", "jean.dartagnan"},
	    {"Jean", "王", NULL, NULL},
	    {"", "Dupont", NULL, NULL},
	    {"Jean", "", NULL, NULL},
	};
	char out[IDENT_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int want = rows[i].base != NULL ? 0 : -1;

		assert_int_equal(ident_base(rows[i].first, rows[i].last, out, sizeof(out)), want);
		if (want == 0) {
			assert_string_equal(out, rows[i].base);
			assert_true(ident_valid(out));
		}
		assert_int_equal(ident_email_local(rows[i].first, rows[i].last, out, sizeof(out)),
		                 want);
		if (want == 0)
			assert_string_equal(out, rows[i].email);
	}
}

static void test_base_truncation(void **state)
{
	char out[IDENT_MAX + 1], last[80];

	(void)state;
	assert_int_equal(ident_base("Jean", rep('a', 70), out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 60);
	assert_int_equal(out[0], 'j');
	assert_int_equal(ident_base("Jean", rep('a', 59), out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 60);
	assert_int_equal(ident_base("Jean", "Dupont", out, 8), 0);
	assert_int_equal(ident_base("Jean", "Dupont", out, 7), -1);
	/* Cut at a hyphen: the email part never ends with one. */
	snprintf(last, sizeof(last), "%s-bbbb", rep('a', 54));
	assert_int_equal(ident_email_local("Jean", last, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 59);
	assert_int_equal(out[58], 'a');
	/* Cut right after the dot. */
	assert_int_equal(ident_email_local(rep('c', 59), "Dupont", out, sizeof(out)), 0);
	assert_string_equal(out, rep('c', 59));
}

static void test_numbered(void **state)
{
	static const struct {
		const char *base;
		unsigned n;
		size_t cap;
		const char *want;
	} rows[] = {
	    {"jdupont", 1, 65, "jdupont"},    {"jdupont", 2, 65, "jdupont2"},
	    {"jdupont", 10, 65, "jdupont10"}, {"jean.dupont", 3, 65, "jean.dupont3"},
	    {"jdupont", 2, 9, "jdupont2"},    {"jdupont", 2, 8, NULL},
	    {"jdupont", 1, 8, "jdupont"},     {"jdupont", 1, 7, NULL},
	    {"jdupont", 0, 65, NULL},         {"", 2, 65, NULL},
	};
	char out[IDENT_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = ident_numbered(rows[i].base, rows[i].n, out, rows[i].cap);

		assert_int_equal(rc, rows[i].want != NULL ? 0 : -1);
		if (rc == 0)
			assert_string_equal(out, rows[i].want);
	}
}

static void test_login(void **state)
{
	static const struct {
		const char *in, *want;
		bool email;
	} rows[] = {
	    {"  Jean.Dupont@Example.org ", "jean.dupont@example.org", true},
	    {"JDupont", "jdupont", false},
	    {"\tjdupont\r\n", "jdupont", false},
	    {"jdupont", "jdupont", false},
	    {"", NULL, false},
	    {" \t\r\n", NULL, false},
	    {"jdu\tpont", NULL, false},
	    {"jdu\x7fpont", NULL, false},
	    {"jdupönt", NULL, false},
	    {"\vjdupont", NULL, false},
	};
	char out[EMAIL_MAX + 1], in[EMAIL_MAX + 8];
	bool email = false;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = ident_login(rows[i].in, out, sizeof(out), &email);

		assert_int_equal(rc, rows[i].want != NULL ? 0 : -1);
		if (rc < 0)
			continue;
		assert_string_equal(out, rows[i].want);
		assert_int_equal(email, rows[i].email);
	}
	assert_int_equal(ident_login(rep('A', EMAIL_MAX), out, sizeof(out), &email), 0);
	assert_string_equal(out, rep('a', EMAIL_MAX));
	assert_int_equal(ident_login(rep('a', EMAIL_MAX + 1), out, sizeof(out), &email), -1);
	snprintf(in, sizeof(in), "  %s \n", rep('a', EMAIL_MAX));
	assert_int_equal(ident_login(in, out, sizeof(out), &email), 0);
	assert_int_equal(ident_login("jdupont", out, 7, &email), -1);
	assert_int_equal(ident_login("jdupont", out, 8, &email), 0);
}

static void test_ident_valid(void **state)
{
	(void)state;
	assert_true(ident_valid("jdupont"));
	assert_true(ident_valid("jdupont2"));
	assert_true(ident_valid("j"));
	assert_true(ident_valid(rep('a', IDENT_MAX)));
	assert_false(ident_valid(rep('a', IDENT_MAX + 1)));
	assert_false(ident_valid(""));
	assert_false(ident_valid("2jdupont"));
	assert_false(ident_valid("JDupont"));
	assert_false(ident_valid("j-dupont"));
	assert_false(ident_valid("j.dupont"));
}

static void test_numen(void **state)
{
	static const struct {
		const char *in;
		bool ok;
	} rows[] = {
	    {"123456789012", false},  {"1234567890123", true}, {"12345678901234", false},
	    {"12345678901ab", true},  {"ABCDEFGHIJKLM", true}, {"123456789012-", false},
	    {"123456 789012", false}, {"12345678901é", false}, {"", false},
	};
	char out[NUMEN_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(ident_numen_valid(rows[i].in), rows[i].ok);
		assert_int_equal(ident_numen_canonical(rows[i].in, out), rows[i].ok ? 0 : -1);
	}
	assert_int_equal(ident_numen_canonical("12345678901ab", out), 0);
	assert_string_equal(out, "12345678901AB");
}

static void test_date(void **state)
{
	static const struct {
		const char *in;
		bool ok;
	} rows[] = {
	    {"2024-02-29", true},  {"2023-02-29", false},
	    {"2023-02-28", true},  {"2000-02-29", true},
	    {"1900-02-29", false}, {"2100-02-29", false},
	    {"1899-12-31", false}, {"1900-01-01", true},
	    {"2100-12-31", true},  {"2101-01-01", false},
	    {"2024-04-30", true},  {"2024-04-31", false},
	    {"2024-12-31", true},  {"2024-12-32", false},
	    {"2024-13-01", false}, {"2024-00-10", false},
	    {"2024-01-00", false}, {"2024-1-01", false},
	    {"2024/01/01", false}, {"2024-01-011", false},
	    {"20a4-01-01", false}, {"2024-01-+1", false},
	    {"", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(ident_date_valid(rows[i].in), rows[i].ok);
}

static void test_email(void **state)
{
	static const struct {
		const char *in;
		bool ok;
	} rows[] = {
	    {"jean.dupont@example.org", true},
	    {"jdupont@example.org", true},
	    {"jean+tag@ac-test.fr", true},
	    {"o'brien@example.org", true},
	    {"jdupont@localhost", false},
	    {".jean@example.org", false},
	    {"jean.@example.org", false},
	    {"jean..dupont@example.org", false},
	    {"@example.org", false},
	    {"jean@", false},
	    {"jean@@example.org", false},
	    {"jean@ex@ample.org", false},
	    {"jean dupont@example.org", false},
	    {"jean@-example.org", false},
	    {"jean@example-.org", false},
	    {"jean@example..org", false},
	    {"jean@example.org.", false},
	    {"jean@.example.org", false},
	    {"jean@ex_ample.org", false},
	    {"jeân@example.org", false},
	    {"", false},
	};
	char buf[300];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(ident_email_valid(rows[i].in), rows[i].ok);
	/* 64 + 1 + 189 = 254 characters, then one more. */
	snprintf(buf, sizeof(buf), "%s@%s.%s.%s", rep('a', 64), rep('b', 63), rep('c', 63),
	         rep('d', 61));
	assert_int_equal(strlen(buf), 254);
	assert_true(ident_email_valid(buf));
	snprintf(buf, sizeof(buf), "%s@%s.%s.%s", rep('a', 64), rep('b', 63), rep('c', 63),
	         rep('d', 62));
	assert_false(ident_email_valid(buf));
	snprintf(buf, sizeof(buf), "%s@example.org", rep('a', 65));
	assert_false(ident_email_valid(buf));
	snprintf(buf, sizeof(buf), "j@%s.org", rep('b', 64));
	assert_false(ident_email_valid(buf));
}

static void test_mobile(void **state)
{
	static const struct {
		const char *in;
		bool ok;
	} rows[] = {
	    {"+33 6 12 34 56 78", true},
	    {"0612345678", true},
	    {"123456", true},
	    {"+12345", true},
	    {"12345", false},
	    {"+1234", false},
	    {"12345678901234567890", true},
	    {"123456789012345678901", false},
	    {"+1234567890123456789", true},
	    {"06-12-34-56", false},
	    {"+ 33612345", false},
	    {"0612345678 ", false},
	    {" 0612345678", false},
	    {"++33612345", false},
	    {"06123a5678", false},
	    {"", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(ident_mobile_valid(rows[i].in), rows[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold),           cmocka_unit_test(test_fold_bounds),
	    cmocka_unit_test(test_base_and_email), cmocka_unit_test(test_base_truncation),
	    cmocka_unit_test(test_numbered),       cmocka_unit_test(test_login),
	    cmocka_unit_test(test_ident_valid),    cmocka_unit_test(test_numen),
	    cmocka_unit_test(test_date),           cmocka_unit_test(test_email),
	    cmocka_unit_test(test_mobile),
	};

	return cmocka_run_group_tests_name("ident", tests, NULL, NULL);
}
