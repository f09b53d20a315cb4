/* Device secrets in the account record: alive, found, added within bounds, removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "account.h"
#include "credential.h"
#include "device.h"

#define NOW INT64_C(1700000000)
#define DAY 86400

static void tag_of(unsigned n, char out[65])
{
	snprintf(out, 65, "%08u%056u", n, 0u);
}

static void fresh(struct account *a)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->identifiant, "jdupont");
	a->state = ACCOUNT_ACTIVE;
	a->session_gen = 4;
}

static void test_alive_and_found(void **state)
{
	struct account a;
	char t1[65], t2[65];
	unsigned i;

	(void)state;
	fresh(&a);
	tag_of(1, t1);
	tag_of(2, t2);
	i = device_add(&a, t1, "Firefox sur Linux", true, NOW, NOW + 30 * DAY);
	assert_int_equal(i, 0);
	assert_string_equal(a.devices[0].id, "00000001");
	assert_string_equal(a.devices[0].label, "Firefox sur Linux");
	assert_true(a.devices[0].trusted);
	assert_int_equal(device_find(&a, t1, NOW), 0);
	assert_int_equal(device_find(&a, t2, NOW), -1);
	assert_int_equal(device_find(&a, "short", NOW), -1);
	/* expiry is exclusive */
	assert_int_equal(device_find(&a, t1, NOW + 30 * DAY - 1), 0);
	assert_int_equal(device_find(&a, t1, NOW + 30 * DAY), -1);
	/* a password change, OTP reset, suspension or deletion moves session_gen: dead */
	a.session_gen++;
	assert_int_equal(device_find(&a, t1, NOW), -1);
	a.session_gen--;
	a.state = ACCOUNT_SUSPENDED;
	assert_int_equal(device_find(&a, t1, NOW), -1);
	a.state = ACCOUNT_ACTIVE;
	assert_int_equal(device_prune(&a, NOW), 0);
	a.session_gen++;
	assert_int_equal(device_prune(&a, NOW), 1);
	assert_int_equal(a.ndevices, 0);
}

static void test_bounded_and_labels(void **state)
{
	struct account a;
	char tag[65], label[200];
	unsigned i;

	(void)state;
	fresh(&a);
	for (i = 0; i < ACCOUNT_DEVICES_MAX; i++) {
		tag_of(100 + i, tag);
		device_add(&a, tag, "x", false, NOW + i, NOW + DAY);
	}
	assert_int_equal(a.ndevices, ACCOUNT_DEVICES_MAX);
	a.devices[3].last_used = NOW - 100; /* the least recently used */
	tag_of(999, tag);
	i = device_add(&a, tag, NULL, false, NOW + 50, NOW + DAY);
	assert_int_equal(a.ndevices, ACCOUNT_DEVICES_MAX);
	assert_string_equal(a.devices[i].label, "navigateur");
	tag_of(103, tag);
	assert_int_equal(device_find(&a, tag, NOW + 50), -1); /* evicted */
	tag_of(104, tag);
	assert_true(device_find(&a, tag, NOW + 50) >= 0);
	/* a long label is cut on a character boundary */
	memset(label, 0, sizeof(label));
	for (i = 0; i + 2 <= 100; i += 2)
		memcpy(label + i, "\xc3\xa9", 2); /* é */
	assert_true(device_remove(&a, "00000104"));
	assert_false(device_remove(&a, "00000104"));
	tag_of(5000, tag);
	i = device_add(&a, tag, label, false, NOW, NOW + DAY);
	assert_int_equal(strlen(a.devices[i].label), DEVICE_LABEL_MAX);
	label[1] = '\0';
	memmove(label, "a", 1);
	for (i = 1; i + 2 <= 100; i += 2)
		memcpy(label + i, "\xc3\xa9", 2);
	label[101] = '\0';
	tag_of(5001, tag);
	i = device_add(&a, tag, label, false, NOW, NOW + DAY);
	assert_int_equal(strlen(a.devices[i].label), DEVICE_LABEL_MAX - 1);
}

static void test_secret_shape(void **state)
{
	char s[DEVICE_SECRET_LEN + 1], t[DEVICE_SECRET_LEN + 1];

	(void)state;
	assert_int_equal(cred_new_device(s), 0);
	assert_int_equal(cred_new_device(t), 0);
	assert_int_equal(strlen(s), DEVICE_SECRET_LEN);
	assert_memory_equal(s, "vd-", 3);
	assert_true(cred_is_device(s));
	assert_string_not_equal(s, t);
	assert_false(cred_is_token(s));
	s[10] = 'u'; /* not in the alphabet */
	assert_false(cred_is_device(s));
	assert_false(cred_is_device("vd-"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alive_and_found),
	    cmocka_unit_test(test_bounded_and_labels),
	    cmocka_unit_test(test_secret_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
