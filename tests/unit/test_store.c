#include <sys/stat.h>
#include <sys/wait.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_fixture.h"

#define MAP (8u << 20)

/* Each test opens the store itself (open_store), test_map_full with a tiny map. */
static int setup(void **state)
{
	struct store_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || store_fixture_make(f, "store") != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct store_fixture *f = *state;

	store_fixture_remove(f);
	free(f);
	return 0;
}

static void open_store(struct store_fixture *f, size_t map)
{
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open("lmdb", f->dir, map, &f->st, f->err, sizeof(f->err)), STORE_OK);
}

static void put_commit(struct store *st, enum store_table t, const char *k, const char *v)
{
	struct store_txn *txn;

	assert_int_equal(store_begin(st, true, &txn), STORE_OK);
	assert_int_equal(store_put(txn, t, k, strlen(k), v, strlen(v)), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

/* STORE_OK with the value compared to want, or the status of the get. */
static int get_check(struct store *st, enum store_table t, const char *k, const char *want)
{
	struct store_txn *txn;
	struct store_val v;
	int r;

	assert_int_equal(store_begin(st, false, &txn), STORE_OK);
	r = store_get(txn, t, k, strlen(k), &v);
	store_abort(txn);
	if (r == STORE_OK) {
		assert_int_equal(v.len, strlen(want));
		assert_memory_equal(v.data, want, v.len);
		store_val_free(&v);
		assert_null(v.data);
	} else {
		assert_null(v.data);
	}
	return r;
}

static void test_reopen_keeps_commits(void **state)
{
	struct store_fixture *f = *state;

	open_store(f, MAP);
	put_commit(f->st, STORE_ACCOUNTS, "jdupont", "{\"v\":1}");
	open_store(f, MAP);
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "jdupont", "{\"v\":1}"), STORE_OK);
	/* Tables are distinct. */
	assert_int_equal(get_check(f->st, STORE_EMAIL, "jdupont", ""), STORE_NOTFOUND);
}

static void test_abort_discards(void **state)
{
	struct store_fixture *f = *state;
	struct store_txn *txn;

	open_store(f, MAP);
	assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
	assert_int_equal(store_put(txn, STORE_META, "k", 1, "v", 1), STORE_OK);
	store_abort(txn);
	store_abort(NULL);
	assert_int_equal(get_check(f->st, STORE_META, "k", "v"), STORE_NOTFOUND);
	/* A read transaction refuses changes. */
	assert_int_equal(store_begin(f->st, false, &txn), STORE_OK);
	assert_int_equal(store_put(txn, STORE_META, "k", 1, "v", 1), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_ERROR);
	assert_int_equal(get_check(f->st, STORE_META, "k", "v"), STORE_NOTFOUND);
}

/* A child of fork() never uses its parent's store (LMDB forbids it): it is refused there. */
static void test_refused_after_fork(void **state)
{
	struct store_fixture *f = *state;
	struct store_txn *txn;
	int status;
	pid_t pid;

	open_store(f, MAP);
	assert_int_equal(store_begin(f->st, false, &txn), STORE_OK);
	store_abort(txn);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(store_begin(f->st, false, &txn) == STORE_ERROR &&
		              store_begin(f->st, true, &txn) == STORE_ERROR
		          ? 0
		          : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent goes on. */
	assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
	assert_int_equal(store_put(txn, STORE_META, "k", 1, "v", 1), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static void test_get_del(void **state)
{
	struct store_fixture *f = *state;
	struct store_txn *txn;

	open_store(f, MAP);
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "nobody", ""), STORE_NOTFOUND);
	put_commit(f->st, STORE_ACCOUNTS, "a", "1");
	put_commit(f->st, STORE_ACCOUNTS, "a", "22"); /* overwrite */
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "a", "22"), STORE_OK);
	assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
	assert_int_equal(store_del(txn, STORE_ACCOUNTS, "a", 1), STORE_OK);
	assert_int_equal(store_del(txn, STORE_ACCOUNTS, "a", 1), STORE_NOTFOUND);
	/* An empty key is no key: an error, not a crash. */
	assert_int_equal(store_del(txn, STORE_ACCOUNTS, "", 0), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_ERROR);
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "a", "22"), STORE_OK);
	assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
	assert_int_equal(store_del(txn, STORE_ACCOUNTS, "a", 1), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "a", ""), STORE_NOTFOUND);
}

struct collect {
	char keys[16];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect_cb(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct collect *c = ctx;

	(void)val;
	(void)vlen;
	if (klen != 1 || c->n + 1 >= sizeof(c->keys))
		return 1;
	c->keys[c->n++] = *(const char *)key;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void test_scan(void **state)
{
	static const struct {
		const char *from;
		bool reverse;
		size_t stop_after;
		const char *want;
	} cases[] = {
	    {NULL, false, 0, "ace"}, {NULL, true, 0, "eca"}, {"b", false, 0, "ce"},
	    {"c", false, 0, "ce"},   {"f", false, 0, ""},    {"d", true, 0, "ca"},
	    {"c", true, 0, "ca"},    {"z", true, 0, "eca"},  {"0", true, 0, ""},
	    {"a", true, 0, "a"},     {NULL, false, 2, "ac"}, {"e", true, 1, "e"},
	};
	struct store_fixture *f = *state;
	struct store_txn *txn;
	struct collect c;
	size_t i;

	open_store(f, MAP);
	put_commit(f->st, STORE_EMAIL, "c", "3");
	put_commit(f->st, STORE_EMAIL, "e", "5");
	put_commit(f->st, STORE_EMAIL, "a", "1");
	put_commit(f->st, STORE_NUMEN, "b", "other table");
	assert_int_equal(store_begin(f->st, false, &txn), STORE_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.stop_after = cases[i].stop_after;
		assert_int_equal(store_scan(txn, STORE_EMAIL, cases[i].from,
		                            cases[i].from ? strlen(cases[i].from) : 0,
		                            cases[i].reverse, collect_cb, &c),
		                 STORE_OK);
		assert_string_equal(c.keys, cases[i].want);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_scan(txn, STORE_AUDIT, NULL, 0, false, collect_cb, &c), STORE_OK);
	assert_int_equal(c.n, 0);
	store_abort(txn);
}

static int seq_cb(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	uint64_t *last = ctx, seq = 0;
	size_t i;

	(void)val;
	(void)vlen;
	if (klen != 8)
		return 1;
	for (i = 0; i < 8; i++)
		seq = seq << 8 | ((const uint8_t *)key)[i];
	if (seq <= *last)
		return 1;
	*last = seq;
	return 0;
}

static void test_append(void **state)
{
	struct store_fixture *f = *state;
	struct store_txn *txn;
	uint64_t seq, last = 0;
	uint64_t i;

	open_store(f, MAP);
	assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
	for (i = 1; i <= 300; i++) {
		assert_int_equal(store_append(txn, STORE_AUDIT, "x", 1, &seq), STORE_OK);
		assert_int_equal(seq, i);
	}
	assert_int_equal(store_commit(txn), STORE_OK);
	open_store(f, MAP);
	assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
	assert_int_equal(store_append(txn, STORE_AUDIT, "y", 1, &seq), STORE_OK);
	assert_int_equal(seq, 301);
	/* Keys are big-endian: byte order is numeric order (256 follows 255). */
	assert_int_equal(store_scan(txn, STORE_AUDIT, NULL, 0, false, seq_cb, &last), STORE_OK);
	assert_int_equal(last, 301);
	/* A table holding other keys is not a sequence. */
	assert_int_equal(store_put(txn, STORE_META, "zz", 2, "v", 1), STORE_OK);
	assert_int_equal(store_append(txn, STORE_META, "v", 1, &seq), STORE_ERROR);
	assert_int_equal(seq, 0);
	assert_int_equal(store_commit(txn), STORE_ERROR);
	assert_int_equal(get_check(f->st, STORE_META, "zz", "v"), STORE_NOTFOUND);
}

static void test_map_full(void **state)
{
	struct store_fixture *f = *state;
	struct store_txn *txn;
	char key[16], big[4096];
	int i, r = STORE_OK;

	open_store(f, 64 * 1024);
	put_commit(f->st, STORE_ACCOUNTS, "keep", "kept");
	memset(big, 'x', sizeof(big));
	assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
	for (i = 0; i < 100 && r == STORE_OK; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		r = store_put(txn, STORE_ACCOUNTS, key, strlen(key), big, sizeof(big));
	}
	assert_int_equal(r, STORE_FULL);
	assert_true(i > 1);
	/* The failed transaction refuses more and its commit reports the failure. */
	assert_int_equal(store_put(txn, STORE_ACCOUNTS, "z", 1, "z", 1), STORE_FULL);
	assert_int_equal(store_commit(txn), STORE_FULL);
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "keep", "kept"), STORE_OK);
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "k000", ""), STORE_NOTFOUND);
	put_commit(f->st, STORE_ACCOUNTS, "after", "ok");
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "after", "ok"), STORE_OK);
}

static void test_backup(void **state)
{
	struct store_fixture *f = *state;
	char path[192], cmd[256], restore[192], data[256];
	struct stat sb;

	open_store(f, MAP);
	put_commit(f->st, STORE_ACCOUNTS, "jdupont", "record");
	snprintf(path, sizeof(path), "%s/backup.mdb", f->tmp);
	assert_int_equal(store_backup(f->st, "backup.mdb", f->err, sizeof(f->err)), STORE_ERROR);
	assert_non_null(strstr(f->err, "absolute"));
	assert_int_equal(store_backup(f->st, path, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* Never over an existing file. */
	assert_int_equal(store_backup(f->st, path, f->err, sizeof(f->err)), STORE_ERROR);
	if (access("/usr/bin/mdb_stat", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "/usr/bin/mdb_stat -n %s >/dev/null", path);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(restore, sizeof(restore), "%s/restore", f->tmp);
	snprintf(data, sizeof(data), "%s/data.mdb", restore);
	assert_int_equal(mkdir(restore, 0700), 0);
	assert_int_equal(rename(path, data), 0);
	store_close(f->st);
	assert_int_equal(store_open(NULL, restore, MAP, &f->st, f->err, sizeof(f->err)), STORE_OK);
	assert_int_equal(get_check(f->st, STORE_ACCOUNTS, "jdupont", "record"), STORE_OK);
}

static void test_schema(void **state)
{
	static const struct {
		const char *value;
		int want;
	} cases[] = {
	    {"1", STORE_OK},     {"2", STORE_ERROR},           {"0", STORE_ERROR},
	    {"1x", STORE_ERROR}, {"99999999999", STORE_ERROR},
	};
	struct store_fixture *f = *state;
	size_t i;

	open_store(f, MAP);
	assert_int_equal(get_check(f->st, STORE_META, "schema", "1"), STORE_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A store refused for its schema cannot be mended here: one per case. */
		snprintf(f->dir, sizeof(f->dir), "%s/db%zu", f->tmp, i);
		open_store(f, MAP);
		put_commit(f->st, STORE_META, "schema", cases[i].value);
		store_close(f->st);
		f->st = NULL;
		f->err[0] = '\0';
		assert_int_equal(store_open("lmdb", f->dir, MAP, &f->st, f->err, sizeof(f->err)),
		                 cases[i].want);
		if (cases[i].want != STORE_OK) {
			assert_null(f->st);
			assert_non_null(strstr(f->err, "schema"));
		}
	}
}

static void test_permissions(void **state)
{
	struct store_fixture *f = *state;
	char path[192];
	struct stat sb;
	struct store *st = NULL;

	open_store(f, MAP);
	assert_int_equal(stat(f->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	store_close(f->st);
	f->st = NULL;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(store_open("lmdb", f->dir, MAP, &st, f->err, sizeof(f->err)), STORE_ERROR);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(chmod(f->dir, 0770), 0);
	assert_int_equal(store_open("lmdb", f->dir, MAP, &st, f->err, sizeof(f->err)), STORE_ERROR);
	assert_non_null(strstr(f->err, "writable"));
	assert_int_equal(chmod(f->dir, 0750), 0); /* readable by the group: allowed */
	open_store(f, MAP);
	assert_int_equal(store_open("lmdb", path, MAP, &st, f->err, sizeof(f->err)), STORE_ERROR);
	assert_non_null(strstr(f->err, "not a directory"));
	assert_int_equal(store_open("nosuch", f->dir, MAP, &st, f->err, sizeof(f->err)),
	                 STORE_ERROR);
	assert_non_null(strstr(f->err, "unknown store backend"));
	assert_null(st);
}

static void test_usage_readers(void **state)
{
	struct store_fixture *f = *state;
	struct store_usage u;
	int cleared = -1;

	open_store(f, MAP);
	assert_int_equal(store_usage(f->st, &u), STORE_OK);
	assert_int_equal(u.map_size, MAP);
	assert_true(u.used > 0 && u.used < u.map_size);
	assert_true(u.max_readers > 0);
	assert_int_equal(store_check_readers(f->st, &cleared), STORE_OK);
	assert_int_equal(cleared, 0);
}

struct reader {
	struct store *st;
	atomic_bool *done;
	unsigned reads, bad;
};

static int read_pair(struct store *st, char a[32], char b[32])
{
	struct store_txn *txn;
	struct store_val va = {NULL, 0}, vb = {NULL, 0};
	int r = -1;

	if (store_begin(st, false, &txn) != STORE_OK)
		return -1;
	if (store_get(txn, STORE_META, "a", 1, &va) == STORE_OK &&
	    store_get(txn, STORE_META, "b", 1, &vb) == STORE_OK && va.len < 32 && vb.len < 32) {
		memcpy(a, va.data, va.len);
		a[va.len] = '\0';
		memcpy(b, vb.data, vb.len);
		b[vb.len] = '\0';
		r = 0;
	}
	store_abort(txn);
	store_val_free(&va);
	store_val_free(&vb);
	return r;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	char a[32], b[32];

	while (!atomic_load(rd->done) || rd->reads < 100) {
		if (read_pair(rd->st, a, b) == -1 || strcmp(a, b) != 0)
			rd->bad++;
		rd->reads++;
	}
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	struct store_fixture *f = *state;
	struct reader rd[4];
	pthread_t th[4];
	atomic_bool done = false;
	struct store_txn *txn;
	char v[32];
	int i, n;

	open_store(f, MAP);
	put_commit(f->st, STORE_META, "a", "0");
	put_commit(f->st, STORE_META, "b", "0");
	for (i = 0; i < 4; i++) {
		rd[i] = (struct reader){.st = f->st, .done = &done};
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
	}
	for (i = 1; i <= 300; i++) {
		n = snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(store_begin(f->st, true, &txn), STORE_OK);
		assert_int_equal(store_put(txn, STORE_META, "a", 1, v, (size_t)n), STORE_OK);
		assert_int_equal(store_put(txn, STORE_META, "b", 1, v, (size_t)n), STORE_OK);
		assert_int_equal(store_commit(txn), STORE_OK);
	}
	atomic_store(&done, true);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(rd[i].reads >= 100);
		assert_int_equal(rd[i].bad, 0);
	}
	assert_int_equal(get_check(f->st, STORE_META, "a", "300"), STORE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_commits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_discards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_after_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_del, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_usage_readers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
