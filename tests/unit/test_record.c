/* The binary record codec (daemon/record.c): values at their limits, nesting, bounds. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"

struct sample {
	char name[8];
	int64_t i64;
	uint64_t u64;
	unsigned u;
	int i;
	bool b;
	int kind;
};

static const char *kind_name(int kind)
{
	return kind == 0 ? "zero" : kind == 1 ? "one" : NULL;
}

static const struct rec_field sample_fields[] = {
    REC_FIELD(sample, "name", REC_STR, name),
    REC_FIELD(sample, "i64", REC_I64, i64),
    REC_FIELD(sample, "u64", REC_U64, u64),
    REC_FIELD(sample, "u", REC_UINT, u),
    REC_FIELD(sample, "i", REC_INT, i),
    REC_FIELD(sample, "b", REC_BOOL, b),
    REC_ENUM_FIELD(sample, "kind", kind, kind_name),
};
#define NFIELDS (sizeof(sample_fields) / sizeof(sample_fields[0]))

static uint8_t *encode(const struct sample *s, size_t max, size_t *len)
{
	struct rec_buf b;

	rec_buf_init(&b, max);
	rec_put_format(&b);
	rec_put_fields(&b, sample_fields, NFIELDS, s);
	return rec_buf_take(&b, len);
}

static int decode(const uint8_t *p, size_t len, struct sample *s)
{
	struct rec_reader r;

	memset(s, 0, sizeof(*s));
	if (rec_reader_init(&r, p, len) < 0)
		return -1;
	return rec_get_fields(r.p, (size_t)(r.end - r.p), sample_fields, NFIELDS, s);
}

static void test_limits_round_trip(void **state)
{
	const struct sample cases[] = {
	    {"", 0, 0, 0, 0, false, 0},
	    {"1234567", INT64_MIN, UINT64_MAX, UINT_MAX, INT_MIN, true, 1},
	    {"x", INT64_MAX, 1, 1, INT_MAX, false, 0},
	    {"é", -1, 127, 128, -64, true, 1},
	};
	struct sample got;
	uint8_t *p;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sample want;

		memset(&want, 0, sizeof(want));
		want = cases[i];
		p = encode(&want, 4096, &len);
		assert_non_null(p);
		assert_int_equal(p[0], RECORD_FORMAT);
		assert_int_equal(decode(p, len, &got), 0);
		assert_string_equal(got.name, want.name);
		assert_true(got.i64 == want.i64 && got.u64 == want.u64 && got.u == want.u &&
		            got.i == want.i && got.b == want.b && got.kind == want.kind);
		free(p);
	}
}

static void test_small_values_are_small(void **state)
{
	struct sample s = {"", -1, 0, 0, 0, false, 0};
	size_t len;
	uint8_t *p;

	(void)state;
	p = encode(&s, 4096, &len);
	/* format + six one-byte keys with one-byte values; the empty name left out */
	assert_int_equal(len, 1 + 6 * 2);
	free(p);
}

static void test_refused(void **state)
{
	struct sample s = {"abc", 1, 2, 3, 4, true, 1};
	size_t len;

	(void)state;
	/* A buffer's bound is a failure, not a cut record. */
	assert_null(encode(&s, 8, &len));
	assert_int_equal(len, 0);
	/* An enum value without a name, a string without its NUL: not written. */
	s.kind = 2;
	assert_null(encode(&s, 4096, &len));
	s.kind = 0;
	memset(s.name, 'a', sizeof(s.name));
	assert_null(encode(&s, 4096, &len));
	/* Values that do not fit the field on the way back. */
	static const struct {
		const char *what, *rec;
		size_t len;
	} bad[] = {
	    {"a string of 8 for char[8]",
	     "\x01\x0a\x08"
	     "abcdefgh",
	     11},
	    {"an int over INT_MAX", "\x01\x28\x80\x80\x80\x80\x10", 7},
	    {"an unsigned over UINT_MAX", "\x01\x20\x80\x80\x80\x80\x10", 7},
	    {"an enum without a name", "\x01\x38\x02", 3},
	    {"a bool of 2", "\x01\x30\x02", 3},
	    {"the same field twice", "\x01\x30\x01\x30\x01", 5},
	};
	struct sample got;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode((const uint8_t *)bad[i].rec, bad[i].len, &got) != -1)
			fail_msg("accepted: %s", bad[i].what);
}

static void test_nested_and_unknown(void **state)
{
	struct sample inner = {"in", 7, 0, 0, 0, false, 1}, got;
	struct rec_buf b;
	struct rec_reader r;
	struct rec_item it;
	uint8_t *p;
	size_t len;
	int n = 0;

	(void)state;
	rec_buf_init(&b, 4096);
	rec_put_format(&b);
	rec_put_uint(&b, 900, 5);
	rec_put_nested(&b, 100, sample_fields, NFIELDS, &inner);
	rec_put_bytes(&b, 901, "later", 5);
	p = rec_buf_take(&b, &len);
	assert_non_null(p);
	assert_int_equal(rec_reader_init(&r, p, len), 0);
	while (rec_next(&r, &it) == 1) {
		n++;
		if (it.tag == 100) {
			assert_int_equal(it.wire, REC_WIRE_BYTES);
			memset(&got, 0, sizeof(got));
			assert_int_equal(
			    rec_get_fields(it.data, it.len, sample_fields, NFIELDS, &got), 0);
			assert_string_equal(got.name, "in");
			assert_int_equal(got.i64, 7);
			assert_int_equal(got.kind, 1);
		}
	}
	assert_int_equal(n, 3);
	/* A reader of this table skips the tags it does not know. */
	assert_int_equal(decode(p, len, &got), 0);
	assert_string_equal(got.name, "");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_round_trip),
	    cmocka_unit_test(test_small_values_are_small),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_nested_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
