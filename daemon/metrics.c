/*
 * The counters behind /metrics. Series are created on first use under one
 * mutex (a decision costs milliseconds; a mutex costs nanoseconds) and never
 * freed; their number is bounded, and what would pass the bound is counted
 * in verdon_metrics_series_dropped_total instead of growing memory.
 */
#define _GNU_SOURCE /* open_memstream */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "daemon.h"
#include "metrics.h"
#include "penalty.h"
#include "store.h"
#include "version.h"
#include "workers.h"

#define LABEL_MAX 32
#define DECISION_SERIES_MAX 1024
#define LATENCY_SERIES_MAX 128
#define COUNTS_TTL 10 /* seconds the account, session and app password counts are reused */

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct decision_series {
	char service[LABEL_MAX], action[LABEL_MAX], credential[LABEL_MAX], result[LABEL_MAX],
	    reason[LABEL_MAX];
	unsigned long n;
};

struct latency_series {
	const char *socket; /* static strings: the socket kind, the lane, the verb table's names */
	const char *lane;
	const char *verb;
	unsigned long bucket[NBUCKETS]; /* cumulative at render time, not here */
	unsigned long count;
	double sum;
};

static struct {
	pthread_mutex_t lock;
	struct decision_series dec[DECISION_SERIES_MAX];
	unsigned ndec;
	struct latency_series lat[LATENCY_SERIES_MAX];
	unsigned nlat;
	unsigned long dropped;
} m = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Counts read from the store, refreshed at most every COUNTS_TTL seconds, outside m.lock. */
static struct {
	pthread_mutex_t lock;
	time_t counted_at;
	unsigned long accounts, sessions, apps;
	bool ok;
} counts = {.lock = PTHREAD_MUTEX_INITIALIZER};

static atomic_ulong tempfails;
static atomic_ulong mails[METRICS_MAIL_KINDS];

void metrics_label(const char *in, const char *dflt, char *out, size_t cap)
{
	size_t i = 0;

	if (in == NULL || in[0] == '\0')
		in = dflt;
	for (; in[i] != '\0' && i + 1 < cap; i++) {
		char ch = in[i];
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
		out[i] = plain ? ch : '_';
	}
	out[i] = '\0';
}

static void label_copy(char dst[LABEL_MAX], const char *src)
{
	metrics_label(src, "none", dst, LABEL_MAX);
}

void metrics_decision(const char *service, const char *action, const char *credential,
                      const char *result, const char *reason)
{
	struct decision_series key;
	unsigned i;

	label_copy(key.service, service);
	label_copy(key.action, action);
	label_copy(key.credential, credential);
	label_copy(key.result, result);
	label_copy(key.reason, reason);
	pthread_mutex_lock(&m.lock);
	for (i = 0; i < m.ndec; i++) {
		struct decision_series *s = &m.dec[i];

		if (strcmp(s->service, key.service) == 0 && strcmp(s->action, key.action) == 0 &&
		    strcmp(s->credential, key.credential) == 0 &&
		    strcmp(s->result, key.result) == 0 && strcmp(s->reason, key.reason) == 0)
			break;
	}
	if (i == m.ndec && m.ndec < DECISION_SERIES_MAX) {
		key.n = 0;
		m.dec[m.ndec++] = key;
	}
	if (i < m.ndec)
		m.dec[i].n++;
	else
		m.dropped++;
	pthread_mutex_unlock(&m.lock);
}

static const char *lane_name(enum lane_kind lane)
{
	return lane == LANE_HASH ? "hash" : lane == LANE_FAST ? "fast" : "other";
}

/* Who answered: a worker of its lane, or the event loop itself (pool_run_inline). */
static const char *answered_by(const struct request *req)
{
	return req->inline_try ? "loop" : lane_name(req->lane);
}

static const char *socket_name(enum socket_kind kind)
{
	switch (kind) {
	case SOCKET_AUTH:
		return "auth";
	case SOCKET_ADMIN:
		return "admin";
	case SOCKET_HTTP:
		return "http";
	case SOCKET_RADIUS:
		return "radius";
	}
	return "other";
}

void metrics_request_done(const struct request *req, double seconds)
{
	const char *socket = socket_name(req->kind), *lane = answered_by(req);
	const char *verb = req->verb != NULL ? req->verb->name : "none";
	unsigned i, b;

	pthread_mutex_lock(&m.lock);
	for (i = 0; i < m.nlat; i++)
		if (m.lat[i].socket == socket && m.lat[i].lane == lane &&
		    strcmp(m.lat[i].verb, verb) == 0)
			break;
	if (i == m.nlat && m.nlat < LATENCY_SERIES_MAX)
		m.lat[m.nlat++] =
		    (struct latency_series){.socket = socket, .lane = lane, .verb = verb};
	if (i < m.nlat) {
		for (b = 0; b < NBUCKETS && seconds > buckets[b]; b++)
			;
		if (b < NBUCKETS)
			m.lat[i].bucket[b]++;
		m.lat[i].count++;
		m.lat[i].sum += seconds;
	} else {
		m.dropped++;
	}
	pthread_mutex_unlock(&m.lock);
}

void metrics_tempfail(void)
{
	atomic_fetch_add(&tempfails, 1);
}

void metrics_mail(enum metrics_mail what)
{
	if (what < METRICS_MAIL_KINDS)
		atomic_fetch_add(&mails[what], 1);
}

static int count_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	++*(unsigned long *)ctx;
	return 0;
}

struct account_count {
	unsigned long accounts, apps;
	struct account a; /* decoded into, one record after another */
};

static int count_account(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct account_count *c = ctx;

	(void)k, (void)kl;
	c->accounts++;
	if (account_decode(v, vl, &c->a) == 0)
		c->apps += c->a.napps;
	return 0;
}

/* Accounts, sessions and app passwords: one read transaction, reused for COUNTS_TTL. */
static void refresh_counts(struct daemon *d, time_t now)
{
	struct account_count *c;
	unsigned long sessions = 0;
	struct store_txn *txn;
	bool ok;

	if (counts.counted_at != 0 && now - counts.counted_at < COUNTS_TTL)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL || store_begin(d->store, false, &txn) != STORE_OK) {
		free(c);
		counts.ok = false;
		return;
	}
	ok = store_scan(txn, STORE_ACCOUNTS, NULL, 0, false, count_account, c) == STORE_OK &&
	     store_scan(txn, STORE_SESSIONS, NULL, 0, false, count_one, &sessions) == STORE_OK;
	store_abort(txn);
	counts.ok = ok;
	if (ok) {
		counts.accounts = c->accounts, counts.sessions = sessions, counts.apps = c->apps;
		counts.counted_at = now;
	}
	account_wipe(&c->a);
	free(c);
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void render_decisions(FILE *f)
{
	help(f, "verdon_decisions_total", "counter",
	     "Audited decisions by service policy, action, credential kind, result and reason.");
	for (unsigned i = 0; i < m.ndec; i++) {
		const struct decision_series *s = &m.dec[i];

		fprintf(f,
		        "verdon_decisions_total{service=\"%s\",action=\"%s\",credential=\"%s\","
		        "result=\"%s\",reason=\"%s\"} %lu\n",
		        s->service, s->action, s->credential, s->result, s->reason, s->n);
	}
}

static void render_latency(FILE *f)
{
	help(f, "verdon_request_duration_seconds", "histogram",
	     "Time from a request's hand-over to the workers until its answer, per socket, worker "
	     "lane (hash: Argon2, fast: never hashes, loop: answered by the event loop) and verb.");
	for (unsigned i = 0; i < m.nlat; i++) {
		const struct latency_series *s = &m.lat[i];
		char labels[160];
		unsigned long cum = 0;

		snprintf(labels, sizeof(labels), "socket=\"%s\",lane=\"%s\",verb=\"%s\"", s->socket,
		         s->lane, s->verb);
		for (unsigned b = 0; b < NBUCKETS; b++) {
			cum += s->bucket[b];
			fprintf(f, "verdon_request_duration_seconds_bucket{%s,le=\"%g\"} %lu\n",
			        labels, buckets[b], cum);
		}
		fprintf(f, "verdon_request_duration_seconds_bucket{%s,le=\"+Inf\"} %lu\n", labels,
		        s->count);
		fprintf(f, "verdon_request_duration_seconds_sum{%s} %.6f\n", labels, s->sum);
		fprintf(f, "verdon_request_duration_seconds_count{%s} %lu\n", labels, s->count);
	}
}

static void gauge(FILE *f, const char *name, const char *text, double value)
{
	help(f, name, "gauge", text);
	fprintf(f, "%s %.17g\n", name, value);
}

static void counter(FILE *f, const char *name, const char *text, unsigned long value)
{
	help(f, name, "counter", text);
	fprintf(f, "%s %lu\n", name, value);
}

static void render_state(FILE *f, struct daemon *d, time_t now, unsigned long dropped)
{
	static const char *const mail_names[METRICS_MAIL_KINDS] = {"sent", "failed", "limited",
	                                                           "dropped"};
	struct store_usage u = {0};
	unsigned queued[LANE_COUNT] = {0}, running = 0;

	if (d->pool != NULL)
		pool_stats(d->pool, queued, &running);
	help(f, "verdon_worker_queue_depth", "gauge",
	     "Requests waiting for a worker, per lane (hash: Argon2, fast: never hashes).");
	for (int i = 0; i < LANE_COUNT; i++)
		fprintf(f, "verdon_worker_queue_depth{lane=\"%s\"} %u\n",
		        lane_name((enum lane_kind)i), queued[i]);
	gauge(f, "verdon_worker_in_flight", "Requests a worker is running now.", running);
	gauge(f, "verdon_workers", "Hash-lane workers: Argon2 hashes that may run at once.",
	      d->workers);
	counter(f, "verdon_argon2_hashes_total", "Argon2 hashes run.", atomic_load(&d->hashes));
	counter(f, "verdon_tempfail_total", "TEMPFAIL answers (overload, store errors).",
	        atomic_load(&tempfails));
	gauge(f, "verdon_penalised_addresses", "Client addresses with a failure penalty.",
	      penalty_count(d->penalty));
	help(f, "verdon_mails_total", "counter", "Mails to people by outcome.");
	for (int i = 0; i < METRICS_MAIL_KINDS; i++)
		fprintf(f, "verdon_mails_total{result=\"%s\"} %lu\n", mail_names[i],
		        atomic_load(&mails[i]));
	gauge(f, "verdon_connections", "Open connections on the unix sockets.",
	      atomic_load(&d->connections));
	if (store_usage(d->store, &u) == STORE_OK) {
		gauge(f, "verdon_store_used_bytes", "Bytes of the store in use.", (double)u.used);
		gauge(f, "verdon_store_size_bytes", "Size of the store's map.", (double)u.map_size);
		gauge(f, "verdon_store_usage_ratio", "Fullness of the store's map (alarm at 0.9).",
		      u.map_size > 0 ? (double)u.used / (double)u.map_size : 0);
		gauge(f, "verdon_store_readers", "Reader slots taken.", u.readers);
	}
	pthread_mutex_lock(&counts.lock);
	refresh_counts(d, now);
	if (counts.ok) {
		gauge(f, "verdon_accounts", "Accounts in the store.", (double)counts.accounts);
		gauge(f, "verdon_sessions", "Session tokens in the store.",
		      (double)counts.sessions);
		gauge(f, "verdon_app_passwords", "App passwords in the store.",
		      (double)counts.apps);
	}
	pthread_mutex_unlock(&counts.lock);
	counter(f, "verdon_metrics_series_dropped_total",
	        "Observations not kept because the series limit was reached.", dropped);
	gauge(f, "verdon_start_time_seconds", "When the daemon started (unix time).",
	      (double)d->started);
	help(f, "verdon_build_info", "gauge", "The running release.");
	fprintf(f, "verdon_build_info{version=\"%s\"} 1\n", VERDON_VERSION);
}

int metrics_render(struct daemon *d, char **text_r, size_t *len_r)
{
	char *buf = NULL;
	size_t len = 0;
	unsigned long dropped;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return -1;
	pthread_mutex_lock(&m.lock);
	render_decisions(f);
	render_latency(f);
	dropped = m.dropped;
	pthread_mutex_unlock(&m.lock);
	/* The store is read without m.lock: decisions keep counting meanwhile. */
	render_state(f, d, time(NULL), dropped);
	if (fclose(f) != 0) {
		free(buf);
		return -1;
	}
	*text_r = buf;
	*len_r = len;
	return 0;
}
