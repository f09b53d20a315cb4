/*
 * verdict_answer (daemon/verdict.c), the one place a login is audited,
 * committed, counted and answered: on a real LMDB store, a real audit queue
 * and the real throttle, what each kind of verdict writes, counts and says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attempt.h"
#include "audit.h"
#include "auditq.h"
#include "daemon.h"
#include "store.h"
#include "store_fixture.h"
#include "throttle.h"
#include "verdict.h"

#define NOW 1800000000

struct fixture {
	struct store_fixture sf; /* d.store is its store */
	struct daemon d;
	struct worker w;
	struct request req;
	struct attempt at;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	if (store_fixture_open(&f->sf, "verdict", 8u << 20) != 0)
		return -1;
	f->d.store = f->sf.st;
	if ((f->d.auditq = auditq_new()) == NULL || (f->d.throttle = throttle_new()) == NULL)
		return -1;
	f->w.daemon = &f->d;
	f->req.kind = SOCKET_AUTH;
	f->req.msg.id = "7";
	f->req.now = NOW;
	f->at.found = true;
	strcpy(f->at.a.identifiant, "jdupont");
	f->at.service = "imap";
	memset(f->at.tkey.b, 0x42, sizeof(f->at.tkey.b));
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	reply_wipe(&f->req.reply);
	auditq_free(f->d.auditq);
	throttle_free(f->d.throttle);
	store_fixture_remove(&f->sf);
	free(f);
	return 0;
}

static int count_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
	(void)seq, (void)json, (void)len;
	++*(int *)ctx;
	return 0;
}

/* Audit records committed in the store. */
static int audited(struct fixture *f)
{
	struct store_txn *txn;
	int n = 0;

	assert_int_equal(store_begin(f->d.store, false, &txn), STORE_OK);
	assert_int_equal(audit_read(txn, NULL, 0, count_one, &n), STORE_OK);
	store_abort(txn);
	return n;
}

static unsigned failures(struct fixture *f)
{
	unsigned n;
	int64_t last;

	throttle_get(f->d.throttle, &f->at.tkey, NOW, 3600, &n, &last);
	return n;
}

static void said(struct fixture *f, const char *want)
{
	assert_int_equal(f->req.reply.len, strlen(want));
	assert_memory_equal(f->req.reply.data, want, strlen(want));
}

/* An OK that changed state: its audit record is committed with the change, the throttle forgiven.
 */
static void test_ok_commits_and_forgives(void **state)
{
	struct fixture *f = *state;
	struct verdict v;
	struct store_val val = {0};
	struct store_txn *txn;

	throttle_fail(f->d.throttle, &f->at.tkey, "aa", NOW);
	verdict_init(&v, "auth");
	assert_int_equal(store_begin(f->d.store, true, &v.txn), STORE_OK);
	assert_int_equal(store_put(v.txn, STORE_META, "staged", 6, "1", 1), STORE_OK);
	verdict_ok(&v, &f->req, "jdupont", "password_otp", NULL);
	proto_add(&v.ok, "token", "vt-x");
	v.forgive = true;
	verdict_answer(&f->w, &f->req, &f->at, &v);
	said(f, "OK\t7\tidentifiant=jdupont\tcredential=password_otp\ttoken=vt-x\n");
	assert_int_equal(audited(f), 1);
	assert_int_equal(auditq_pending(f->d.auditq), 0);
	assert_true(f->at.succeeded && !f->at.failed);
	assert_int_equal(failures(f), 0);
	assert_int_equal(store_begin(f->d.store, false, &txn), STORE_OK);
	assert_int_equal(store_get(txn, STORE_META, "staged", 6, &val), STORE_OK);
	store_val_free(&val);
	store_abort(txn);
	assert_null(v.txn);
}

/* A wrong password changes nothing: queued audit, one more failure, the penalty told. */
static void test_wrong_secret_counts(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	verdict_init(&v, "auth");
	verdict_fail(&v, REASON_INVALID, NULL);
	v.wrong_secret = v.count_password = true;
	verdict_answer(&f->w, &f->req, &f->at, &v);
	said(f, "FAIL\t7\treason=invalid\n");
	assert_int_equal(audited(f), 0);
	assert_int_equal(auditq_pending(f->d.auditq), 1);
	assert_true(f->at.failed && !f->at.succeeded);
	assert_int_equal(failures(f), 1);
}

/* The throttle's delay says how long; it counts nothing more. */
static void test_delayed_says_wait(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	verdict_init(&v, "passwd");
	verdict_fail(&v, REASON_LOCKED, "delayed");
	v.delayed = true;
	v.wait = 12;
	verdict_answer(&f->w, &f->req, &f->at, &v);
	said(f, "FAIL\t7\treason=locked\twait=12\n");
	assert_int_equal(auditq_pending(f->d.auditq), 1);
	assert_int_equal(failures(f), 0);
	assert_false(f->at.failed || f->at.succeeded);
}

/* A store error: what was staged is dropped, nothing audited or counted, TEMPFAIL. */
static void test_error_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct verdict v;
	struct store_val val = {0};
	struct store_txn *txn;

	verdict_init(&v, "auth");
	assert_int_equal(store_begin(f->d.store, true, &v.txn), STORE_OK);
	assert_int_equal(store_put(v.txn, STORE_META, "staged", 6, "1", 1), STORE_OK);
	verdict_ok(&v, &f->req, "jdupont", "password", NULL);
	v.count_password = true;
	verdict_error(&v);
	verdict_answer(&f->w, &f->req, &f->at, &v);
	said(f, "TEMPFAIL\t7\treason=tempfail\n");
	assert_int_equal(audited(f), 0);
	assert_int_equal(auditq_pending(f->d.auditq), 0);
	assert_int_equal(failures(f), 0);
	assert_false(f->at.failed || f->at.succeeded);
	assert_int_equal(store_begin(f->d.store, false, &txn), STORE_OK);
	assert_int_equal(store_get(txn, STORE_META, "staged", 6, &val), STORE_NOTFOUND);
	store_abort(txn);
}

/* The policy's TEMPFAIL is a decision: audited as a refusal, answered TEMPFAIL. */
static void test_policy_tempfail_audited(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	verdict_init(&v, "auth");
	assert_int_equal(store_begin(f->d.store, true, &v.txn), STORE_OK);
	verdict_fail(&v, REASON_TEMPFAIL, NULL);
	v.result = VERDICT_TEMPFAIL;
	verdict_answer(&f->w, &f->req, &f->at, &v);
	said(f, "TEMPFAIL\t7\treason=tempfail\n");
	assert_int_equal(audited(f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ok_commits_and_forgives, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_secret_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delayed_says_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_tempfail_audited, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
