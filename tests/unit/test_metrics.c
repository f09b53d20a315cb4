/* metrics.c: series, labels, histogram buckets and the exposition, over a real LMDB store. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon.h"
#include "metrics.h"
#include "penalty.h"
#include "store.h"
#include "store_fixture.h"

struct fixture {
	struct store_fixture sf; /* d.store is its store */
	struct daemon d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (store_fixture_open(&f->sf, "metrics", 16u << 20) != 0 ||
	    (f->d.penalty = penalty_new()) == NULL)
		return -1;
	f->d.store = f->sf.st;
	f->d.workers = 2;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_fixture_remove(&f->sf);
	penalty_free(f->d.penalty);
	free(f);
	return 0;
}

/* The value of one sample line, or -1 when absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return atof(p + n + 1);
	return -1;
}

static char *render(struct fixture *f)
{
	char *text;
	size_t len;

	assert_int_equal(metrics_render(&f->d, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_decisions(void **state)
{
	struct fixture *f = *state;
	char *text;

	metrics_decision("imap", "auth", "password", "refused", "invalid");
	metrics_decision("imap", "auth", "password", "refused", "invalid");
	metrics_decision("webmail", "auth", "password_otp", "ok", NULL);
	/* A label can never break the format: quotes, spaces, newlines become '_'. */
	metrics_decision("a\"b c\nd", "auth", "password", "refused", "invalid");
	text = render(f);
	assert_true(sample(text,
	                   "verdon_decisions_total{service=\"imap\",action=\"auth\","
	                   "credential=\"password\",result=\"refused\",reason=\"invalid\"}") == 2);
	assert_true(sample(text,
	                   "verdon_decisions_total{service=\"webmail\",action=\"auth\","
	                   "credential=\"password_otp\",result=\"ok\",reason=\"none\"}") == 1);
	assert_true(sample(text,
	                   "verdon_decisions_total{service=\"a_b_c_d\",action=\"auth\","
	                   "credential=\"password\",result=\"refused\",reason=\"invalid\"}") == 1);
	assert_non_null(strstr(text, "# TYPE verdon_decisions_total counter\n"));
	free(text);
}

static void test_latency_buckets(void **state)
{
	struct fixture *f = *state;
	const struct verb v = {"TESTVERB", NULL, 0};
	struct request req = {.kind = SOCKET_AUTH, .lane = LANE_FAST, .verb = &v};
	char *text;

	metrics_request_done(&req, 0.001); /* on a bound: counted in that bucket (le) */
	metrics_request_done(&req, 0.0011);
	metrics_request_done(&req, 20); /* past the last bound: +Inf only */
	text = render(f);
#define B(le)                                                                                      \
	"verdon_request_duration_seconds_bucket{socket=\"auth\",lane=\"fast\",verb=\"TESTVERB\","  \
	"le=\"" le "\"}"
	assert_true(sample(text, B("0.001")) == 1);
	assert_true(sample(text, B("0.0025")) == 2);
	assert_true(sample(text, B("10")) == 2);
	assert_true(sample(text, B("+Inf")) == 3);
#undef B
	assert_true(sample(text, "verdon_request_duration_seconds_count{socket=\"auth\",lane="
	                         "\"fast\",verb=\"TESTVERB\"}") == 3);
	free(text);
}

static void test_gauges(void **state)
{
	struct fixture *f = *state;
	char *text;

	metrics_tempfail();
	metrics_mail(METRICS_MAIL_LIMITED);
	metrics_mail(METRICS_MAIL_KINDS); /* out of range: ignored */
	penalty_record(f->d.penalty, "192.0.2.1", true, "t1", 1000);
	text = render(f);
	assert_true(sample(text, "verdon_tempfail_total") >= 1);
	assert_true(sample(text, "verdon_mails_total{result=\"limited\"}") == 1);
	assert_true(sample(text, "verdon_penalised_addresses") == 1);
	assert_true(sample(text, "verdon_accounts") == 0);
	assert_true(sample(text, "verdon_workers") == 2);
	assert_true(sample(text, "verdon_worker_queue_depth{lane=\"hash\"}") == 0);
	assert_true(sample(text, "verdon_worker_queue_depth{lane=\"fast\"}") == 0);
	assert_true(sample(text, "verdon_store_usage_ratio") > 0);
	assert_non_null(strstr(text, "verdon_build_info{version=\""));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decisions),
	    cmocka_unit_test(test_latency_buckets),
	    cmocka_unit_test(test_gauges),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
