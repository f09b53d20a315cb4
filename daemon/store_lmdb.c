/*
 * The embedded store: one LMDB environment in the state directory, one named
 * database per table. The only file that includes lmdb.h. In the spirit of
 * Postfix slmdb.c: short transactions, values copied out before a transaction
 * ends, a full map reported as such, and durable commits only (never
 * MDB_NOSYNC, MDB_NOMETASYNC, MDB_WRITEMAP, MDB_NOMEMINIT or MDB_NOTLS).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"

#define LMDB_SCHEMA 1
#define LMDB_SCHEMA_KEY "schema"

struct store {
	const struct store_backend *be;
	MDB_env *env;
	MDB_dbi dbi[STORE_TABLE_COUNT];
	pid_t pid; /* the environment must not be used after fork() */
	unsigned long fork_mark;
};

struct store_txn {
	const struct store_backend *be;
	struct store *store;
	MDB_txn *txn;
	int failed; /* the first error of a write: commit then aborts with it */
};

static int lmdb_status(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_NOTFOUND;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		return STORE_FULL;
	default:
		return STORE_ERROR;
	}
}

/* A failed change dooms the transaction: LMDB may have left it half done. */
static int lmdb_fail(struct store_txn *t, int rc)
{
	int r = lmdb_status(rc);

	if (r < 0 && t->failed == STORE_OK)
		t->failed = r;
	return r;
}

static int lmdb_error(char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
	return lmdb_status(rc) == STORE_FULL ? STORE_FULL : STORE_ERROR;
}

/* The state directory holds password hashes: ours alone. */
static int lmdb_check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char path[PATH_MAX];
	int n;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0700) == -1 || stat(dir, &st) == -1) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, errlen, "%s: writable by group or others", dir);
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "%s: readable or writable by group or others", path);
		return -1;
	}
	return 0;
}

/* "1" … "4294967295"; 0 when unreadable. */
static unsigned long lmdb_schema_parse(const MDB_val *v)
{
	const char *p = v->mv_data;
	unsigned long n = 0;
	size_t i;

	if (v->mv_size == 0 || v->mv_size > 10)
		return 0;
	for (i = 0; i < v->mv_size; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		n = n * 10 + (unsigned long)(p[i] - '0');
	}
	return n;
}

static int lmdb_schema(MDB_txn *txn, MDB_dbi meta, char *err, size_t errlen)
{
	MDB_val k = {sizeof(LMDB_SCHEMA_KEY) - 1, LMDB_SCHEMA_KEY}, v;
	char text[16];
	unsigned long found;
	int rc;

	rc = mdb_get(txn, meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_size = (size_t)snprintf(text, sizeof(text), "%d", LMDB_SCHEMA);
		v.mv_data = text;
		rc = mdb_put(txn, meta, &k, &v, 0);
		return rc == 0 ? STORE_OK : lmdb_error(err, errlen, "writing the schema", rc);
	}
	if (rc != 0)
		return lmdb_error(err, errlen, "reading the schema", rc);
	found = lmdb_schema_parse(&v);
	if (found == 0) {
		snprintf(err, errlen, "the store's schema version is unreadable");
		return STORE_ERROR;
	}
	if (found > LMDB_SCHEMA) {
		snprintf(err, errlen,
		         "the store has schema %lu, newer than this verdond knows (%d): "
		         "upgrade verdond",
		         found, LMDB_SCHEMA);
		return STORE_ERROR;
	}
	return STORE_OK;
}

static int lmdb_setup(struct store *s, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	int i, rc, r;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return lmdb_error(err, errlen, "setup", rc);
	for (i = 0; i < STORE_TABLE_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_table_name((enum store_table)i), MDB_CREATE, &s->dbi[i]);
		if (rc != 0) {
			r = lmdb_error(err, errlen, store_table_name((enum store_table)i), rc);
			goto out;
		}
	}
	if ((r = lmdb_schema(txn, s->dbi[STORE_META], err, errlen)) != STORE_OK)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		r = lmdb_error(err, errlen, "setup commit", rc);
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return r;
}

static void lmdb_close(struct store *s)
{
	if (s == NULL)
		return;
	/* In a forked child, closing would clear the parent's reader slots. */
	if (s->env != NULL && s->pid == getpid())
		mdb_env_close(s->env);
	free(s);
}

static int lmdb_open(const char *dir, size_t map_size, struct store **store_r, char *err,
                     size_t errlen)
{
	struct store *s = NULL;
	int r = STORE_ERROR, rc, dead;

	*store_r = NULL;
	if (lmdb_check_dir(dir, err, errlen) == -1)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	s->be = &store_lmdb_backend;
	s->pid = getpid();
	s->fork_mark = store_fork_mark();
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, STORE_TABLE_COUNT)) != 0 ||
	    (map_size != 0 && (rc = mdb_env_set_mapsize(s->env, map_size)) != 0) ||
	    (rc = mdb_env_open(s->env, dir, 0, 0600)) != 0) {
		r = lmdb_error(err, errlen, dir, rc);
		goto out;
	}
	if ((r = lmdb_setup(s, err, errlen)) != STORE_OK)
		goto out;
	if ((rc = mdb_reader_check(s->env, &dead)) != 0) {
		r = lmdb_error(err, errlen, "reader check", rc);
		goto out;
	}
	*store_r = s;
	s = NULL;
	r = STORE_OK;
out:
	lmdb_close(s);
	return r;
}

static int lmdb_begin(struct store *s, bool write, struct store_txn **txn_r)
{
	struct store_txn *t;
	int rc, dead;

	*txn_r = NULL;
	if (store_forked(s->fork_mark) || (t = calloc(1, sizeof(*t))) == NULL)
		return STORE_ERROR;
	t->be = s->be;
	t->store = s;
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	/* Slots left by a dead process are the one cause worth a retry. */
	if (rc == MDB_READERS_FULL && mdb_reader_check(s->env, &dead) == 0 && dead > 0)
		rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc != 0) {
		free(t);
		return lmdb_status(rc) == STORE_FULL ? STORE_FULL : STORE_ERROR;
	}
	*txn_r = t;
	return STORE_OK;
}

static int lmdb_commit(struct store_txn *t)
{
	int r = t->failed, rc;

	if (r != STORE_OK) {
		mdb_txn_abort(t->txn);
	} else if ((rc = mdb_txn_commit(t->txn)) != 0) {
		r = lmdb_status(rc) == STORE_FULL ? STORE_FULL : STORE_ERROR;
	}
	free(t);
	return r;
}

static void lmdb_abort(struct store_txn *t)
{
	mdb_txn_abort(t->txn);
	free(t);
}

static int lmdb_get(struct store_txn *t, enum store_table table, const void *key, size_t klen,
                    struct store_val *val_r)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc;

	if (t->failed != STORE_OK)
		return t->failed;
	if ((rc = mdb_get(t->txn, t->store->dbi[table], &k, &v)) != 0)
		return lmdb_status(rc);
	if ((val_r->data = malloc(v.mv_size > 0 ? v.mv_size : 1)) == NULL)
		return STORE_ERROR;
	memcpy(val_r->data, v.mv_data, v.mv_size);
	val_r->len = v.mv_size;
	return STORE_OK;
}

static int lmdb_put(struct store_txn *t, enum store_table table, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc;

	if (t->failed != STORE_OK)
		return t->failed;
	if ((rc = mdb_put(t->txn, t->store->dbi[table], &k, &v, 0)) != 0)
		return lmdb_fail(t, rc);
	return STORE_OK;
}

static int lmdb_del(struct store_txn *t, enum store_table table, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	int rc;

	if (t->failed != STORE_OK)
		return t->failed;
	rc = mdb_del(t->txn, t->store->dbi[table], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	return rc == 0 ? STORE_OK : lmdb_fail(t, rc);
}

/* Positions c on the first key to visit; in reverse, the greatest key <= from. */
static int lmdb_scan_start(MDB_cursor *c, MDB_val *k, MDB_val *v, const void *from, size_t flen,
                           bool reverse)
{
	int rc;

	if (from == NULL)
		return mdb_cursor_get(c, k, v, reverse ? MDB_LAST : MDB_FIRST);
	k->mv_size = flen;
	k->mv_data = (void *)from;
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (!reverse)
		return rc;
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	if (rc != 0 || (k->mv_size == flen && memcmp(k->mv_data, from, flen) == 0))
		return rc;
	return mdb_cursor_get(c, k, v, MDB_PREV);
}

static int lmdb_scan(struct store_txn *t, enum store_table table, const void *from, size_t flen,
                     bool reverse, store_scan_cb *cb, void *ctx)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc;

	if (t->failed != STORE_OK)
		return t->failed;
	if ((rc = mdb_cursor_open(t->txn, t->store->dbi[table], &c)) != 0)
		return STORE_ERROR;
	rc = lmdb_scan_start(c, &k, &v, from, flen, reverse);
	while (rc == 0) {
		if (cb(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, reverse ? MDB_PREV : MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? STORE_OK : STORE_ERROR;
}

static void lmdb_be64_put(uint8_t b[8], uint64_t n)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)n;
		n >>= 8;
	}
}

static uint64_t lmdb_be64_get(const uint8_t b[8])
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < 8; i++)
		n = n << 8 | b[i];
	return n;
}

static int lmdb_append(struct store_txn *t, enum store_table table, const void *val, size_t vlen,
                       uint64_t *seq_r)
{
	MDB_dbi dbi = t->store->dbi[table];
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint8_t key[8];
	uint64_t seq = 1;
	int rc;

	*seq_r = 0;
	if (t->failed != STORE_OK)
		return t->failed;
	if ((rc = mdb_cursor_open(t->txn, dbi, &c)) != 0)
		return lmdb_fail(t, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == sizeof(key))
		seq = lmdb_be64_get(k.mv_data) + 1;
	else if (rc == 0)
		rc = MDB_CORRUPTED; /* a table that is not a sequence */
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_fail(t, rc);
	if (seq == 0)
		return lmdb_fail(t, MDB_CORRUPTED);
	lmdb_be64_put(key, seq);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = vlen;
	v.mv_data = (void *)val;
	if ((rc = mdb_put(t->txn, dbi, &k, &v, MDB_APPEND)) != 0)
		return lmdb_fail(t, rc);
	*seq_r = seq;
	return STORE_OK;
}

/* The backup's directory entry must survive a crash too. */
static int lmdb_sync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, r;

	if (strlen(path) >= sizeof(dir))
		return -1;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* Uses a read transaction of its own: not while this thread holds one. */
static int lmdb_backup(struct store *s, const char *path, char *err, size_t errlen)
{
	int fd = -1, rc, r = STORE_ERROR;

	if (path[0] != '/') {
		snprintf(err, errlen, "%s: the backup path must be absolute", path);
		return STORE_ERROR;
	}
	if (s->pid != getpid()) {
		snprintf(err, errlen, "the store cannot be used after fork()");
		return STORE_ERROR;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return STORE_ERROR;
	}
	if ((rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT)) != 0) {
		r = lmdb_error(err, errlen, path, rc);
		goto out;
	}
	if (fsync(fd) == -1) {
		r = lmdb_error(err, errlen, path, errno);
		goto out;
	}
	rc = close(fd);
	fd = -1; /* close(2) is not retried */
	if (rc == -1 || lmdb_sync_parent(path) == -1) {
		r = lmdb_error(err, errlen, path, errno);
		goto out;
	}
	r = STORE_OK;
out:
	if (fd != -1)
		close(fd);
	if (r != STORE_OK)
		unlink(path);
	return r;
}

static int lmdb_check_readers(struct store *s, int *cleared_r)
{
	*cleared_r = 0;
	return mdb_reader_check(s->env, cleared_r) == 0 ? STORE_OK : STORE_ERROR;
}

static int lmdb_usage(struct store *s, struct store_usage *usage_r)
{
	MDB_envinfo info;
	MDB_stat st;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return STORE_ERROR;
	usage_r->map_size = info.me_mapsize;
	usage_r->used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
	usage_r->readers = info.me_numreaders;
	usage_r->max_readers = info.me_maxreaders;
	return STORE_OK;
}

const struct store_backend store_lmdb_backend = {
    .name = "lmdb",
    .open = lmdb_open,
    .close = lmdb_close,
    .begin = lmdb_begin,
    .commit = lmdb_commit,
    .abort = lmdb_abort,
    .get = lmdb_get,
    .put = lmdb_put,
    .del = lmdb_del,
    .scan = lmdb_scan,
    .append = lmdb_append,
    .backup = lmdb_backup,
    .check_readers = lmdb_check_readers,
    .usage = lmdb_usage,
};
