/*
 * The shared store: the same named key/value tables on PostgreSQL, so that
 * several verdond nodes decide on one state. The only file that includes
 * libpq-fe.h.
 *
 * The guarantees are LMDB's, kept across nodes:
 * - write transactions are serialised cluster-wide by one transaction-level
 *   advisory lock taken before their first read, so a read-modify-write
 *   (failure counter, last OTP step, token use) sees every commit before it,
 *   and audit sequence numbers stay dense and totally ordered;
 * - read transactions are REPEATABLE READ READ ONLY snapshots;
 * - a commit whose outcome is not known (lost connection, error) is reported
 *   as STORE_ERROR, which the callers answer with TEMPFAIL, never OK.
 * Each thread keeps its own connection, re-established after a failure with a
 * bounded back-off; while backing off, a begin fails at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store.h"

#define PG_SCHEMA 1
/* The cluster-wide writer lock (an arbitrary number of ours). */
#define PG_WRITE_LOCK "SELECT pg_advisory_xact_lock(5646480001)"
#define PG_SCAN_PAGE 512
#define PG_BACKOFF_MIN_MS 100
#define PG_BACKOFF_MAX_MS 2000
#define PG_CONNECT_TIMEOUT "5"

/* One connection per thread, listed so that close() can finish them all. */
struct pg_conn {
	PGconn *conn;
	struct timespec retry_at; /* no connection attempt before this */
	unsigned backoff_ms;
	struct pg_conn *next;
};

struct store {
	const struct store_backend *be;
	char *conninfo;
	pthread_key_t key;
	pthread_mutex_t lock; /* guards conns */
	struct pg_conn *conns;
	pid_t pid;
	unsigned long fork_mark;
};

struct store_txn {
	const struct store_backend *be;
	struct store *store;
	struct pg_conn *c;
	int failed; /* the first error: commit then rolls back with it */
};

enum pg_stmt { PG_GET, PG_PUT, PG_DEL, PG_LAST, PG_STMT_COUNT };

static void pg_stmt_name(enum store_table table, enum pg_stmt op, char *buf, size_t len)
{
	snprintf(buf, len, "v_%s_%d", store_table_name(table), (int)op);
}

static int64_t ms_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

static void pg_drop(struct pg_conn *c)
{
	struct timespec now;

	if (c->conn != NULL)
		PQfinish(c->conn);
	c->conn = NULL;
	c->backoff_ms = c->backoff_ms == 0 ? PG_BACKOFF_MIN_MS : c->backoff_ms * 2;
	if (c->backoff_ms > PG_BACKOFF_MAX_MS)
		c->backoff_ms = PG_BACKOFF_MAX_MS;
	clock_gettime(CLOCK_MONOTONIC, &now);
	c->retry_at.tv_sec = now.tv_sec + c->backoff_ms / 1000;
	c->retry_at.tv_nsec = now.tv_nsec + (long)(c->backoff_ms % 1000) * 1000000;
	if (c->retry_at.tv_nsec >= 1000000000) {
		c->retry_at.tv_sec++;
		c->retry_at.tv_nsec -= 1000000000;
	}
}

static bool pg_command_ok(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

static bool pg_prepare_all(PGconn *conn)
{
	char name[64], sql[256];

	for (int t = 0; t < STORE_TABLE_COUNT; t++) {
		const char *tn = store_table_name((enum store_table)t);
		static const char *const fmt[PG_STMT_COUNT] = {
		    [PG_GET] = "SELECT val FROM verdon_%s WHERE key = $1",
		    [PG_PUT] = ("INSERT INTO verdon_%s (key, val) VALUES ($1, $2) "
		                "ON CONFLICT (key) DO UPDATE SET val = EXCLUDED.val"),
		    [PG_DEL] = "DELETE FROM verdon_%s WHERE key = $1",
		    [PG_LAST] = "SELECT key FROM verdon_%s ORDER BY key DESC LIMIT 1",
		};
		for (int op = 0; op < PG_STMT_COUNT; op++) {
			PGresult *res;
			bool ok;

			pg_stmt_name((enum store_table)t, (enum pg_stmt)op, name, sizeof(name));
			snprintf(sql, sizeof(sql), fmt[op], tn);
			res = PQprepare(conn, name, sql, 0, NULL);
			ok = PQresultStatus(res) == PGRES_COMMAND_OK;
			PQclear(res);
			if (!ok)
				return false;
		}
	}
	return true;
}

static PGconn *pg_connect(const char *conninfo, char *err, size_t errlen)
{
	/* Our defaults first: what the configured string says wins. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {PG_CONNECT_TIMEOUT, "verdond", conninfo, NULL};
	PGconn *conn = PQconnectdbParams(keys, vals, 1);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		if (err != NULL)
			snprintf(err, errlen, "postgresql: %s",
			         conn != NULL ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* This thread's connection, made or re-made when needed; NULL while backing off. */
static struct pg_conn *pg_thread_conn(struct store *s)
{
	struct pg_conn *c = pthread_getspecific(s->key);

	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return NULL;
		pthread_mutex_lock(&s->lock);
		c->next = s->conns;
		s->conns = c;
		pthread_mutex_unlock(&s->lock);
		pthread_setspecific(s->key, c);
	}
	if (c->conn != NULL && PQstatus(c->conn) != CONNECTION_OK)
		pg_drop(c);
	if (c->conn != NULL)
		return c;
	if (ms_until(&c->retry_at) > 0)
		return NULL;
	if ((c->conn = pg_connect(s->conninfo, NULL, 0)) == NULL || !pg_prepare_all(c->conn)) {
		pg_drop(c);
		return NULL;
	}
	c->backoff_ms = 0;
	return c;
}

static int pg_schema(PGconn *conn, char *err, size_t errlen)
{
	char sql[256];
	PGresult *res;
	int version = 0, r = STORE_ERROR;

	/* Two nodes starting at once must not both create the tables. */
	if (!pg_command_ok(conn, "BEGIN") || !pg_command_ok(conn, PG_WRITE_LOCK) ||
	    !pg_command_ok(conn,
	                   "CREATE TABLE IF NOT EXISTS verdon_schema (version integer NOT NULL)"))
		goto sqlerr;
	for (int t = 0; t < STORE_TABLE_COUNT; t++) {
		snprintf(sql, sizeof(sql),
		         "CREATE TABLE IF NOT EXISTS verdon_%s (key bytea PRIMARY KEY, val bytea "
		         "NOT NULL)",
		         store_table_name((enum store_table)t));
		if (!pg_command_ok(conn, sql))
			goto sqlerr;
	}
	res = PQexec(conn, "SELECT max(version) FROM verdon_schema");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (version > PG_SCHEMA) {
		snprintf(
		    err, errlen,
		    "the store has schema %d, newer than this verdond knows (%d): upgrade verdond",
		    version, PG_SCHEMA);
		pg_command_ok(conn, "ROLLBACK");
		return STORE_ERROR;
	}
	if (version == 0 && !pg_command_ok(conn, "INSERT INTO verdon_schema VALUES (1)"))
		goto sqlerr;
	if (!pg_command_ok(conn, "COMMIT"))
		goto sqlerr;
	return STORE_OK;
sqlerr:
	snprintf(err, errlen, "postgresql: creating the schema: %s", PQerrorMessage(conn));
	pg_command_ok(conn, "ROLLBACK");
	return r;
}

static void pg_conn_free(void *p)
{
	(void)p; /* freed by close(): the list owns every connection */
}

static void pg_close(struct store *s)
{
	struct pg_conn *c, *next;

	if (s == NULL)
		return;
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->conn != NULL && s->pid == getpid())
			PQfinish(c->conn);
		free(c);
	}
	pthread_key_delete(s->key);
	pthread_mutex_destroy(&s->lock);
	free(s->conninfo);
	free(s);
}

/* dir is the libpq connection string; map_size means nothing here. */
static int pg_open(const char *conninfo, size_t map_size, struct store **store_r, char *err,
                   size_t errlen)
{
	struct store *s;
	PGconn *conn;
	int r;

	(void)map_size;
	*store_r = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	s->be = &store_pg_backend;
	s->pid = getpid();
	s->fork_mark = store_fork_mark();
	pthread_mutex_init(&s->lock, NULL);
	if (pthread_key_create(&s->key, pg_conn_free) != 0) {
		pthread_mutex_destroy(&s->lock);
		free(s->conninfo);
		free(s);
		snprintf(err, errlen, "out of thread keys");
		return STORE_ERROR;
	}
	if ((conn = pg_connect(conninfo, err, errlen)) == NULL) {
		pg_close(s);
		return STORE_ERROR;
	}
	r = pg_schema(conn, err, errlen);
	PQfinish(conn);
	if (r != STORE_OK) {
		pg_close(s);
		return r;
	}
	*store_r = s;
	return STORE_OK;
}

static int pg_begin(struct store *s, bool write, struct store_txn **txn_r)
{
	static const char write_sql[] = "BEGIN ISOLATION LEVEL READ COMMITTED; " PG_WRITE_LOCK;
	struct store_txn *t;
	struct pg_conn *c;

	*txn_r = NULL;
	if (store_forked(s->fork_mark) || (c = pg_thread_conn(s)) == NULL)
		return STORE_ERROR;
	if (!pg_command_ok(c->conn,
	                   write ? write_sql : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) {
		pg_command_ok(c->conn, "ROLLBACK");
		if (PQstatus(c->conn) != CONNECTION_OK)
			pg_drop(c);
		return STORE_ERROR;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		pg_command_ok(c->conn, "ROLLBACK");
		return STORE_ERROR;
	}
	t->be = s->be;
	t->store = s;
	t->c = c;
	*txn_r = t;
	return STORE_OK;
}

static void pg_end(struct store_txn *t)
{
	if (PQstatus(t->c->conn) != CONNECTION_OK)
		pg_drop(t->c);
	free(t);
}

static int pg_commit(struct store_txn *t)
{
	PGresult *res;
	int r = t->failed;

	if (r != STORE_OK) {
		pg_command_ok(t->c->conn, "ROLLBACK");
	} else {
		/* A transaction PostgreSQL has aborted "commits" as ROLLBACK: check the tag. */
		res = PQexec(t->c->conn, "COMMIT");
		if (PQresultStatus(res) != PGRES_COMMAND_OK ||
		    strcmp(PQcmdStatus(res), "COMMIT") != 0)
			r = STORE_ERROR;
		PQclear(res);
	}
	pg_end(t);
	return r;
}

static void pg_abort(struct store_txn *t)
{
	pg_command_ok(t->c->conn, "ROLLBACK");
	pg_end(t);
}

/* Runs a prepared statement with binary parameters and results. */
static PGresult *pg_run(struct store_txn *t, enum store_table table, enum pg_stmt op,
                        const void *key, size_t klen, const void *val, size_t vlen)
{
	char name[64];
	const char *values[2] = {key, val};
	int lengths[2] = {(int)klen, (int)vlen};
	int formats[2] = {1, 1};
	int n = op == PG_PUT ? 2 : op == PG_LAST ? 0 : 1;

	pg_stmt_name(table, op, name, sizeof(name));
	return PQexecPrepared(t->c->conn, name, n, values, lengths, formats, 1);
}

static int pg_fail(struct store_txn *t, PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int r = STORE_ERROR;

	/* 53100 disk_full, 53200 out_of_memory: fail closed as a full map does. */
	if (state != NULL && (strcmp(state, "53100") == 0 || strcmp(state, "53200") == 0))
		r = STORE_FULL;
	PQclear(res);
	if (t->failed == STORE_OK)
		t->failed = r;
	return r;
}

static int pg_get(struct store_txn *t, enum store_table table, const void *key, size_t klen,
                  struct store_val *val_r)
{
	PGresult *res;
	int len;

	if (t->failed != STORE_OK)
		return t->failed;
	res = pg_run(t, table, PG_GET, key, klen, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(t, res);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return STORE_NOTFOUND;
	}
	len = PQgetlength(res, 0, 0);
	if ((val_r->data = malloc(len > 0 ? (size_t)len : 1)) == NULL) {
		PQclear(res);
		return STORE_ERROR;
	}
	memcpy(val_r->data, PQgetvalue(res, 0, 0), (size_t)len);
	val_r->len = (size_t)len;
	PQclear(res);
	return STORE_OK;
}

static int pg_put(struct store_txn *t, enum store_table table, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
	PGresult *res;

	if (t->failed != STORE_OK)
		return t->failed;
	if (klen > INT32_MAX || vlen > INT32_MAX)
		return pg_fail(t, NULL);
	res = pg_run(t, table, PG_PUT, key, klen, vlen > 0 ? val : "", vlen);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(t, res);
	PQclear(res);
	return STORE_OK;
}

static int pg_del(struct store_txn *t, enum store_table table, const void *key, size_t klen)
{
	PGresult *res;
	int r;

	if (t->failed != STORE_OK)
		return t->failed;
	res = pg_run(t, table, PG_DEL, key, klen, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(t, res);
	r = strcmp(PQcmdTuples(res), "0") == 0 ? STORE_NOTFOUND : STORE_OK;
	PQclear(res);
	return r;
}

/*
 * Keyset pages: the callback sees the rows of one page at a time, the next
 * page starting after the last key seen. bytea orders as memcmp then length,
 * as LMDB's default comparison does.
 */
static int pg_scan(struct store_txn *t, enum store_table table, const void *from, size_t flen,
                   bool reverse, store_scan_cb *cb, void *ctx)
{
	char sql[256];
	uint8_t *last = NULL;
	size_t last_len = 0;
	bool first = true, stop = false;
	int r = STORE_OK;

	if (t->failed != STORE_OK)
		return t->failed;
	while (!stop) {
		const char *cond = first ? (reverse ? "key <= $1" : "key >= $1")
		                         : (reverse ? "key < $1" : "key > $1");
		const void *bound = first ? from : last;
		size_t blen = first ? flen : last_len;
		const char *values[1] = {bound};
		int lengths[1] = {(int)blen}, formats[1] = {1};
		PGresult *res;
		int n;

		snprintf(sql, sizeof(sql),
		         "SELECT key, val FROM verdon_%s %s%s ORDER BY key %s LIMIT %d",
		         store_table_name(table), bound != NULL ? "WHERE " : "",
		         bound != NULL ? cond : "", reverse ? "DESC" : "ASC", PG_SCAN_PAGE);
		res = PQexecParams(t->c->conn, sql, bound != NULL ? 1 : 0, NULL, values, lengths,
		                   formats, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			r = pg_fail(t, res);
			break;
		}
		n = PQntuples(res);
		for (int i = 0; i < n && !stop; i++)
			stop = cb(ctx, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0),
			          PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1)) != 0;
		if (!stop && n == PG_SCAN_PAGE) {
			size_t len = (size_t)PQgetlength(res, n - 1, 0);
			uint8_t *k = malloc(len > 0 ? len : 1);

			if (k == NULL) {
				PQclear(res);
				r = STORE_ERROR;
				break;
			}
			memcpy(k, PQgetvalue(res, n - 1, 0), len);
			free(last);
			last = k;
			last_len = len;
		} else {
			stop = true;
		}
		first = false;
		PQclear(res);
	}
	free(last);
	return r;
}

static uint64_t be64_get(const uint8_t *b)
{
	uint64_t n = 0;

	for (int i = 0; i < 8; i++)
		n = n << 8 | b[i];
	return n;
}

/* Under the writer lock, max + 1 is dense and totally ordered across nodes. */
static int pg_append(struct store_txn *t, enum store_table table, const void *val, size_t vlen,
                     uint64_t *seq_r)
{
	PGresult *res;
	uint8_t key[8];
	uint64_t seq = 1;

	*seq_r = 0;
	if (t->failed != STORE_OK)
		return t->failed;
	res = pg_run(t, table, PG_LAST, NULL, 0, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(t, res);
	if (PQntuples(res) == 1) {
		if (PQgetlength(res, 0, 0) != 8)
			return pg_fail(t, res); /* a table that is not a sequence */
		seq = be64_get((const uint8_t *)PQgetvalue(res, 0, 0)) + 1;
	}
	PQclear(res);
	for (int i = 7; i >= 0; i--)
		key[i] = (uint8_t)(seq >> (8 * (7 - i)));
	if (pg_put(t, table, key, sizeof(key), val, vlen) != STORE_OK)
		return t->failed;
	*seq_r = seq;
	return STORE_OK;
}

static int pg_backup(struct store *s, const char *path, char *err, size_t errlen)
{
	(void)s, (void)path;
	snprintf(err, errlen,
	         "a PostgreSQL store is backed up by PostgreSQL (pg_dump, pg_basebackup): "
	         "see docs/cluster.md");
	return STORE_ERROR;
}

static int pg_check_readers(struct store *s, int *cleared_r)
{
	(void)s;
	*cleared_r = 0;
	return STORE_OK;
}

/* No map to fill: the database's size, with map_size 0 (no alarm). */
static int pg_usage(struct store *s, struct store_usage *usage_r)
{
	struct pg_conn *c = pg_thread_conn(s);
	PGresult *res;
	int r = STORE_ERROR;

	if (c == NULL)
		return STORE_ERROR;
	res = PQexec(c->conn, "SELECT pg_database_size(current_database())");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		usage_r->used = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		r = STORE_OK;
	}
	PQclear(res);
	return r;
}

const struct store_backend store_pg_backend = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .abort = pg_abort,
    .get = pg_get,
    .put = pg_put,
    .del = pg_del,
    .scan = pg_scan,
    .append = pg_append,
    .backup = pg_backup,
    .check_readers = pg_check_readers,
    .usage = pg_usage,
};
