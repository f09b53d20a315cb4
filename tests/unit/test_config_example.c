/*
 * docs/examples/verdon.conf lists every key the daemon knows: each key of
 * the parser's own table (config_key_at) must appear in its section, set or
 * commented out with its default, so that a key added to config.c without
 * its line in the example fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define EXAMPLE "docs/examples/verdon.conf"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Whether "key =" or "; key =" is a line of the section that begins with header. */
static bool has_key(const char *text, const char *header, const char *key)
{
	const char *sec = strstr(text, header), *line, *end;
	size_t n = strlen(key);

	if (sec == NULL)
		return false;
	end = strstr(sec + 1, "\n[");
	for (line = strchr(sec, '\n'); line != NULL && (end == NULL || line < end);
	     line = strchr(line + 1, '\n')) {
		const char *p = line + 1;

		if (*p == ';')
			p += 1 + (p[1] == ' ');
		if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == '='))
			return true;
	}
	return false;
}

static void test_every_key_in_example(void **state)
{
	char *text = slurp(EXAMPLE), header[80];
	const char *section, *key;
	int missing = 0;

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; (key = config_key_at(i, &section)) != NULL; i++) {
		snprintf(header, sizeof(header), "\n[%s]", section);
		if (!has_key(text, header, key)) {
			printf("missing from " EXAMPLE ": [%s] %s\n", section, key);
			missing++;
		}
	}
	for (size_t i = 0; (key = config_service_key_at(i)) != NULL; i++) {
		if (!has_key(text, "\n[service ", key)) {
			printf("missing from " EXAMPLE ": [service NAME] %s\n", key);
			missing++;
		}
	}
	free(text);
	assert_int_equal(missing, 0);
}

static void test_the_check_can_fail(void **state)
{
	(void)state;
	assert_false(has_key("\n[verdon]\n; a = 1\n[otp]\nb = 2\n", "\n[verdon]", "b"));
	assert_true(has_key("\n[verdon]\n; a = 1\n[otp]\nb = 2\n", "\n[verdon]", "a"));
	assert_true(has_key("\n[verdon]\n; a = 1\n[otp]\nb = 2\n", "\n[otp]", "b"));
	assert_false(has_key("\n[verdon]\n; ab = 1\n", "\n[verdon]", "a"));
}

static void test_example_loads(void **state)
{
	struct config *c = NULL;
	char err[512] = "";

	(void)state;
	if (config_load(EXAMPLE, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_key_in_example),
	    cmocka_unit_test(test_the_check_can_fail),
	    cmocka_unit_test(test_example_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
