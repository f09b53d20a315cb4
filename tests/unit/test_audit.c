/*
 * audit_format (daemon/audit.c) writes its JSON record by hand: its bytes
 * must be exactly what jansson's json_dumps(JSON_COMPACT) makes of the same
 * members, for every value a client could send. The cleaning of values is
 * tested in test_account (test_audit_clean).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit.h"

#define ROUNDS 20000

static const char *const names[] = {"actor", "action", "id",     "login", "service",
                                    "addr",  "result", "reason", "detail"};
#define NMEMBERS (sizeof(names) / sizeof(names[0]))

static const char **member(struct audit_event *ev, size_t i)
{
	const char **m[NMEMBERS] = {&ev->actor,  &ev->action,  &ev->identifiant,
	                            &ev->login,  &ev->service, &ev->address,
	                            &ev->result, &ev->reason,  &ev->detail};
	return m[i];
}

/* jansson's record of the event, whose values need no cleaning. */
static char *reference(struct audit_event *ev)
{
	json_t *obj = json_object();
	char *text;
	size_t i;

	assert_non_null(obj);
	assert_int_equal(json_object_set_new(obj, "t", json_integer(ev->time)), 0);
	for (i = 0; i < NMEMBERS; i++) {
		if (*member(ev, i) != NULL)
			assert_int_equal(
			    json_object_set_new(obj, names[i], json_string(*member(ev, i))), 0);
	}
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	assert_non_null(text);
	return text;
}

static void same_as_jansson(struct audit_event *ev)
{
	char *ours = audit_format(ev), *theirs = reference(ev);

	assert_non_null(ours);
	assert_string_equal(ours, theirs);
	free(ours);
	free(theirs);
}

/* Characters cleaning keeps as they are: printable ASCII (quote and backslash
 * among them) and whole UTF-8 characters outside the control ranges. */
static size_t clean_char(char *out)
{
	/* é, œ, €, ’ and a key emoji: one to four bytes. */
	static const char *const wide[] = {"\xc3\xa9", "\xc5\x93", "\xe2\x82\xac", "\xe2\x80\x99",
	                                   "\xf0\x9f\x94\x91"};
	int r = rand() % 10;
	const char *w;

	if (r < 7) {
		out[0] = r == 0 ? '"' : r == 1 ? '\\' : (char)(0x20 + rand() % 95);
		return 1;
	}
	w = wide[rand() % 5];
	memcpy(out, w, strlen(w));
	return strlen(w);
}

/* A value of up to max bytes that cleaning leaves alone. */
static void clean_value(char *out, size_t max)
{
	size_t len = 0, want = (size_t)rand() % (max + 1);
	char c[4];
	size_t n;

	while (len < want) {
		n = clean_char(c);
		if (len + n > want)
			break;
		memcpy(out + len, c, n);
		len += n;
	}
	out[len] = '\0';
}

static void test_random_events(void **state)
{
	char values[NMEMBERS][AUDIT_VALUE_MAX + 1];
	struct audit_event ev;
	unsigned round;
	size_t i;

	(void)state;
	srand(7);
	for (round = 0; round < ROUNDS; round++) {
		memset(&ev, 0, sizeof(ev));
		ev.time = round % 3 == 0 ? -(int64_t)round : (int64_t)round * 1000003;
		for (i = 0; i < NMEMBERS; i++) {
			if (rand() % 4 == 0)
				continue; /* an absent member is left out */
			clean_value(values[i], rand() % 8 == 0 ? AUDIT_VALUE_MAX : 24);
			*member(&ev, i) = values[i];
		}
		same_as_jansson(&ev);
	}
}

/* Every member at its longest, every byte escaped: the record's worst case fits. */
static void test_longest(void **state)
{
	char quotes[AUDIT_VALUE_MAX + 1], slashes[AUDIT_VALUE_MAX + 1];
	struct audit_event ev = {.time = INT64_MIN};
	size_t i;

	(void)state;
	memset(quotes, '"', AUDIT_VALUE_MAX);
	quotes[AUDIT_VALUE_MAX] = '\0';
	memset(slashes, '\\', AUDIT_VALUE_MAX);
	slashes[AUDIT_VALUE_MAX] = '\0';
	for (i = 0; i < NMEMBERS; i++)
		*member(&ev, i) = i % 2 == 0 ? quotes : slashes;
	same_as_jansson(&ev);
	ev.time = INT64_MAX;
	same_as_jansson(&ev);
}

/* What a client can send that cleaning changes still gives JSON jansson reads and writes back
 * byte for byte: whatever the cleaning left, it was escaped as jansson would. */
static void test_any_bytes_canonical(void **state)
{
	char value[600];
	struct audit_event ev = {.time = 1800000000, .actor = "auth", .result = "refused"};
	unsigned round;
	char *ours, *again;
	json_t *obj;
	size_t i, len;

	(void)state;
	srand(11);
	for (round = 0; round < ROUNDS; round++) {
		len = (size_t)rand() % (sizeof(value) - 1);
		for (i = 0; i < len; i++)
			value[i] = (char)(1 + rand() % 255);
		value[len] = '\0';
		ev.login = value;
		ev.detail = round % 2 == 0 ? value : NULL;
		ours = audit_format(&ev);
		assert_non_null(ours);
		obj = json_loads(ours, 0, NULL);
		assert_non_null(obj);
		again = json_dumps(obj, JSON_COMPACT);
		assert_string_equal(ours, again);
		free(again);
		json_decref(obj);
		free(ours);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_events),
	    cmocka_unit_test(test_longest),
	    cmocka_unit_test(test_any_bytes_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
