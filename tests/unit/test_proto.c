/* The line codec, reasons and secret helpers; the client is in test_proto_client.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"
#include "reason.h"
#include "secret.h"

/* Encodes one field v=value, checks the escaping, parses it back. */
static void roundtrip(const char *value, size_t len)
{
	struct proto_writer w;
	struct proto_msg msg;

	proto_begin(&w, "SET", "1");
	proto_add_len(&w, "v", value, len);
	assert_int_equal(proto_end(&w), 0);
	assert_int_equal(w.len, 9 + proto_escaped_len(value, len)); /* "SET\t1\tv=" LF */
	assert_int_equal(w.buf[w.len - 1], '\n');
	assert_null(memchr(w.buf, '\n', w.len - 1));
	assert_int_equal(proto_parse(w.buf, w.len - 1, &msg), PROTO_OK);
	assert_string_equal(msg.verb, "SET");
	assert_string_equal(msg.id, "1");
	assert_int_equal(msg.nfields, 1);
	assert_string_equal(msg.fields[0].key, "v");
	assert_int_equal(msg.fields[0].value_len, len);
	assert_memory_equal(msg.fields[0].value, value, len);
	assert_int_equal(msg.fields[0].value[len], '\0');
}

static void test_escape_specials(void **state)
{
	static const struct {
		const char *value, *escaped;
	} cases[] = {
	    {"\t", "\001t"},   {"\n", "\001n"},     {"\r", "\001r"},
	    {"\001", "\0011"}, {"\001t", "\0011t"}, {"a=b=c", "a=b=c"},
	    {"", ""},          {"x\r", "x\001r"},   {"\t\n\r\001", "\001t\001n\001r\0011"},
	};
	struct proto_writer w;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t elen = strlen(cases[i].escaped);

		proto_begin(&w, "SET", "1");
		proto_add(&w, "v", cases[i].value);
		assert_int_equal(proto_end(&w), 0);
		assert_int_equal(w.len, 9 + elen);
		assert_memory_equal(w.buf + 8, cases[i].escaped, elen);
		assert_int_equal(proto_escaped_len(cases[i].value, strlen(cases[i].value)), elen);
		roundtrip(cases[i].value, strlen(cases[i].value));
	}
}

static void test_escape_every_byte(void **state)
{
	char value[512];

	(void)state;
	for (int c = 1; c <= 255; c++) {
		value[0] = (char)c;
		roundtrip(value, 1);
		value[c - 1] = (char)c;
	}
	roundtrip(value, 255);
	srand(4226);
	for (int i = 0; i < 500; i++) {
		size_t len = (size_t)rand() % sizeof(value);

		for (size_t j = 0; j < len; j++)
			value[j] = (char)(1 + rand() % 255);
		roundtrip(value, len);
	}
}

static const struct parse_case {
	const char *line;
	size_t len; /* 0: strlen */
	int error;
	size_t nfields;
	const char *key, *value; /* checked when set */
} parse_cases[] = {
    {"", 0, PROTO_E_EMPTY, 0, NULL, NULL},
    {"AUTH", 0, PROTO_E_ID, 0, NULL, NULL},
    {"AUTH\t", 0, PROTO_E_ID, 0, NULL, NULL},
    {"auth\t1", 0, PROTO_E_VERB, 0, NULL, NULL},
    {"\t1", 0, PROTO_E_VERB, 0, NULL, NULL},
    {"AU-TH\t1", 0, PROTO_E_VERB, 0, NULL, NULL},
    {"USER_ADD\t1", 0, PROTO_OK, 0, NULL, NULL},
    {"AUTH\ta.B_-9", 0, PROTO_OK, 0, NULL, NULL},
    {"AUTH\ta/b", 0, PROTO_E_ID, 0, NULL, NULL},
    {"AUTH\t1 2", 0, PROTO_E_ID, 0, NULL, NULL},
    {"AUTH\t1\r", 0, PROTO_E_ID, 0, NULL, NULL},
    {"AUTH\t1\t", 0, PROTO_E_FIELD, 0, NULL, NULL},
    {"AUTH\t1\t\tk=v", 0, PROTO_E_FIELD, 0, NULL, NULL},
    {"AUTH\t1\tk", 0, PROTO_E_FIELD, 0, NULL, NULL},
    {"AUTH\t1\t=v", 0, PROTO_E_FIELD, 0, NULL, NULL},
    {"AUTH\t1\tK=v", 0, PROTO_E_FIELD, 0, NULL, NULL},
    {"AUTH\t1\tk-1=v", 0, PROTO_E_FIELD, 0, NULL, NULL},
    {"AUTH\t1\tk=v\t", 0, PROTO_E_FIELD, 1, NULL, NULL},
    {"AUTH\t1\tk=", 0, PROTO_OK, 1, "k", ""},
    {"AUTH\t1\tk=a=b=", 0, PROTO_OK, 1, "k", "a=b="},
    {"AUTH\t1\tk==", 0, PROTO_OK, 1, "k", "="},
    {"AUTH\t1\tk=v\r", 0, PROTO_OK, 1, "k", "v\r"},
    {"AUTH\t1\ta_9=1\tb=2\tc=3", 0, PROTO_OK, 3, "c", "3"},
    {"AUTH\t1\tk=\001t\001n\001r\0011", 0, PROTO_OK, 1, "k", "\t\n\r\001"},
    {"AUTH\t1\tk=\001x", 0, PROTO_E_ESCAPE, 1, NULL, NULL},
    {"AUTH\t1\tk=\001T", 0, PROTO_E_ESCAPE, 1, NULL, NULL},
    {"AUTH\t1\tk=a\001", 0, PROTO_E_ESCAPE, 1, NULL, NULL},
    {"AUTH\t1\tk=\001\tl=2", 0, PROTO_E_ESCAPE, 1, NULL, NULL},
    {"AUTH\t1\tk=1\tk=2", 0, PROTO_E_DUPLICATE, 1, NULL, NULL},
    {"AUTH\t1\tk=1\tl=\tk=", 0, PROTO_E_DUPLICATE, 2, NULL, NULL},
    {"AUTH\t1\tk=a\0b", 12, PROTO_E_NUL, 0, NULL, NULL},
    {"\0UTH\t1", 6, PROTO_E_NUL, 0, NULL, NULL},
};

static void test_parse_table(void **state)
{
	char buf[128];
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->line);
		struct proto_msg msg;

		memcpy(buf, c->line, len);
		buf[len] = '\n';
		r = proto_parse(buf, len, &msg);
		if (r != c->error || msg.nfields != c->nfields)
			fail_msg("case %zu: error %d, %zu fields", i, r, msg.nfields);
		if (c->key != NULL) {
			assert_non_null(proto_get(&msg, c->key));
			assert_string_equal(proto_get(&msg, c->key), c->value);
		}
	}
}

/* On error the verb and id are kept when read, so a server can answer the id. */
static void test_parse_error_keeps_id(void **state)
{
	char bad_field[] = "AUTH\tr-7\tk=\001z\n", bad_id[] = "AUTH\t#\n";
	struct proto_msg msg;

	(void)state;
	assert_int_equal(proto_parse(bad_field, strlen(bad_field) - 1, &msg), PROTO_E_ESCAPE);
	assert_string_equal(msg.verb, "AUTH");
	assert_string_equal(msg.id, "r-7");
	assert_int_equal(proto_parse(bad_id, strlen(bad_id) - 1, &msg), PROTO_E_ID);
	assert_null(msg.id);
}

/* Builds "V\t1" followed by n fields f<i>=<value>, in a buffer of PROTO_LINE_MAX + 1. */
static int parse_built(const char *verb, const char *id, int nfields, const char *key,
                       size_t value_len)
{
	char *buf = malloc(PROTO_LINE_MAX + 1);
	struct proto_msg msg;
	size_t len;
	int r;

	assert_non_null(buf);
	len = (size_t)snprintf(buf, 128, "%s\t%s", verb, id);
	for (int i = 0; i < nfields; i++)
		len += (size_t)snprintf(buf + len, 64, "\tf%d=%d", i, i);
	if (key != NULL) {
		len += (size_t)snprintf(buf + len, 64, "\t%s=", key);
		assert_true(len + value_len <= PROTO_LINE_MAX);
		memset(buf + len, 'a', value_len);
		len += value_len;
	}
	r = proto_parse(buf, len, &msg);
	if (r == PROTO_OK && key != NULL)
		assert_int_equal(strlen(proto_get(&msg, key)), value_len);
	free(buf);
	return r;
}

static void test_parse_limits(void **state)
{
	/* "V\t1\tk=" is 6 bytes; the LF makes a line of value + 7. */
	size_t fill = PROTO_LINE_MAX - 7;
	char k32[33], k33[34];

	(void)state;
	memset(k32, 'k', 32), k32[32] = '\0';
	memset(k33, 'k', 33), k33[33] = '\0';
	assert_int_equal(parse_built("V", "1", 0, "k", fill), PROTO_OK);
	assert_int_equal(parse_built("V", "1", 0, "k", fill + 1), PROTO_E_TOO_LONG);
	assert_int_equal(parse_built("V", "1", 32, NULL, 0), PROTO_OK);
	assert_int_equal(parse_built("V", "1", 33, NULL, 0), PROTO_E_TOO_MANY);
	assert_int_equal(parse_built("VVVVVVVVVVVVVVVVVVVVVVVV", "1", 0, NULL, 0), PROTO_OK);
	assert_int_equal(parse_built("VVVVVVVVVVVVVVVVVVVVVVVVV", "1", 0, NULL, 0), PROTO_E_VERB);
	assert_int_equal(parse_built("V", k32, 0, NULL, 0), PROTO_OK);
	assert_int_equal(parse_built("V", k33, 0, NULL, 0), PROTO_E_ID);
	assert_int_equal(parse_built("V", "1", 0, k32, 1), PROTO_OK);
	assert_int_equal(parse_built("V", "1", 0, k33, 1), PROTO_E_FIELD);
}

static void test_writer_limits(void **state)
{
	size_t fill = PROTO_LINE_MAX - 7;
	char *value = malloc(fill + 1);
	struct proto_writer w;

	(void)state;
	assert_non_null(value);
	memset(value, 'a', fill + 1);
	proto_begin(&w, "V", "1");
	proto_add_len(&w, "k", value, fill);
	assert_int_equal(proto_end(&w), 0);
	assert_int_equal(w.len, PROTO_LINE_MAX);
	assert_int_equal(proto_end(&w), 0); /* already ended: no second LF */
	assert_int_equal(w.len, PROTO_LINE_MAX);
	proto_begin(&w, "V", "1");
	proto_add_len(&w, "k", value, fill + 1);
	assert_true(w.overflow);
	assert_int_equal(proto_end(&w), -1);
	/* An escaped byte counts twice. */
	value[fill - 2] = '\t';
	proto_begin(&w, "V", "1");
	proto_add_len(&w, "k", value, fill - 1);
	assert_int_equal(proto_end(&w), 0);
	proto_begin(&w, "V", "1");
	proto_add_len(&w, "k", value, fill);
	assert_int_equal(proto_end(&w), -1);
	free(value);
}

static void test_writer_fails_and_stays_failed(void **state)
{
	struct proto_writer w;
	char key[16];

	(void)state;
	proto_begin(&w, "V", "1");
	proto_addf(&w, "big", "%*s", PROTO_LINE_MAX, "x");
	assert_true(w.overflow);
	proto_add(&w, "k", "v");
	assert_true(w.overflow);
	assert_int_equal(proto_end(&w), -1);
	assert_int_equal(proto_end(&w), -1);

	proto_begin(&w, "bad", "1");
	assert_int_equal(proto_end(&w), -1);
	proto_begin(&w, "V", "no space");
	assert_int_equal(proto_end(&w), -1);
	proto_begin(&w, "V", "1");
	proto_add(&w, "Key", "v");
	assert_int_equal(proto_end(&w), -1);
	proto_begin(&w, "V", "1");
	proto_add_len(&w, "k", "a\0b", 3);
	assert_int_equal(proto_end(&w), -1);
	proto_begin(&w, "V", "1");
	proto_add(&w, "ab", "1");
	proto_add(&w, "b", "2");
	proto_add(&w, "ab", "3");
	assert_int_equal(proto_end(&w), -1);
	proto_begin(&w, "V", "1");
	for (int i = 0; i < PROTO_FIELDS_MAX; i++) {
		snprintf(key, sizeof(key), "f%d", i);
		proto_add(&w, key, "");
	}
	assert_false(w.overflow);
	proto_add(&w, "last", "");
	assert_int_equal(proto_end(&w), -1);
}

static void test_writer_addf_and_wipe(void **state)
{
	struct proto_writer w;
	struct proto_msg msg;
	size_t written;

	(void)state;
	/* Bytes never written: the wipe leaves them as they are. */
	memset(&w, 'Z', sizeof(w));
	proto_begin(&w, "OK", "42");
	proto_addf(&w, "n", "%d-%s", 7, "a\tb");
	proto_add(&w, "empty", "");
	assert_int_equal(proto_end(&w), 0);
	assert_int_equal(proto_parse(w.buf, w.len - 1, &msg), PROTO_OK);
	assert_string_equal(proto_get(&msg, "n"), "7-a\tb");
	assert_string_equal(proto_get(&msg, "empty"), "");
	assert_null(proto_get(&msg, "absent"));
	assert_null(proto_get(&msg, "n2"));
	written = w.len;
	proto_writer_wipe(&w);
	for (size_t i = 0; i < sizeof(w.buf); i++)
		assert_int_equal(w.buf[i], i < written ? 0 : 'Z');
	assert_int_equal(w.len, 0);
	assert_false(w.overflow);
	/* A writer never begun: the wipe stays inside its buffer. */
	memset(&w, 0xff, sizeof(w));
	proto_writer_wipe(&w);
	for (size_t i = 0; i < sizeof(w.buf); i++)
		assert_int_equal(w.buf[i], 0);
}

static void test_error_strings(void **state)
{
	(void)state;
	for (int e = PROTO_OK; e >= PROTO_E_NUL; e--) {
		assert_string_not_equal(proto_error_str(e), "unknown error");
		for (int f = e - 1; f >= PROTO_E_NUL; f--)
			assert_string_not_equal(proto_error_str(e), proto_error_str(f));
	}
	assert_string_equal(proto_error_str(PROTO_E_NUL - 1), "unknown error");
	assert_string_equal(proto_error_str(1), "unknown error");
}

static void test_reasons(void **state)
{
	(void)state;
	for (int r = 1; r < REASON_COUNT; r++) {
		const char *name = proto_reason_name((enum proto_reason)r);

		assert_string_not_equal(name, "none");
		assert_int_equal(proto_reason_parse(name), r);
	}
	assert_string_equal(proto_reason_name(REASON_NONE), "none");
	assert_string_equal(proto_reason_name(REASON_COUNT), "none");
	assert_int_equal(proto_reason_parse("none"), REASON_NONE);
	assert_int_equal(proto_reason_parse("Invalid"), REASON_NONE);
	assert_int_equal(proto_reason_parse(""), REASON_NONE);
	assert_string_equal(proto_outcome_verb(OUTCOME_OK), "OK");
	assert_string_equal(proto_outcome_verb(OUTCOME_FAIL), "FAIL");
	assert_string_equal(proto_outcome_verb(OUTCOME_TEMPFAIL), "TEMPFAIL");
}

static void test_secret_equal(void **state)
{
	static const struct {
		const char *a, *b;
		size_t cap;
		bool equal;
	} cases[] = {
	    {"", "", 64, true},        {"abc", "abc", 64, true}, {"abc", "abd", 64, false},
	    {"abc", "ab", 64, false},  {"ab", "abc", 64, false}, {"", "a", 64, false},
	    {"abcX", "abcY", 3, true}, {"abcd", "abc", 3, true}, {"\xff", "\x7f", 64, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(secret_equal_str(cases[i].a, cases[i].b, cases[i].cap),
		                 cases[i].equal);
	assert_true(secret_equal("abc", "abd", 2));
	assert_false(secret_equal("abc", "abd", 3));
	assert_true(secret_equal("", "x", 0));
	assert_false(secret_equal("\0a", "\0b", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_specials),
	    cmocka_unit_test(test_escape_every_byte),
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_error_keeps_id),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_writer_limits),
	    cmocka_unit_test(test_writer_fails_and_stays_failed),
	    cmocka_unit_test(test_writer_addf_and_wipe),
	    cmocka_unit_test(test_error_strings),
	    cmocka_unit_test(test_reasons),
	    cmocka_unit_test(test_secret_equal),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
