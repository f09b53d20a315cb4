/*
 * Logins per second through the auth socket against raw libargon2 hashes
 * per second at the same parameters, on the same machine, in one run. The
 * ratio is the figure: the daemon should spend almost nothing around the
 * hash. Every phase stops after --seconds or --max operations, whichever
 * comes first. Prints figures and asserts nothing about time.
 *
 *   bench_login --socket PATH --login L --password-file F [--clients N]
 *               [--seconds S] [--max M] [--argon2-m KIB] [--argon2-t T]
 *               [--argon2-p P]
 *
 * The last line is "RESULT key=value ...", for scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>

#include "client.h"
#include "proto.h"
#include "secret.h"

#define BENCH_PW_MAX 1024
#define BENCH_CLIENTS_MAX 256
#define BENCH_MAX_OPS 10000000UL
#define BENCH_SECONDS_MAX 3600
#define BENCH_TIMEOUT_MS 30000
#define BENCH_SALT_LEN 16 /* as the daemon's */
#define BENCH_HASH_LEN 32
#define BENCH_PRE_LEN 32 /* the daemon hashes HMAC(pepper, pw): 32 bytes */
#define BENCH_REASONS 4  /* distinct error reasons remembered */

struct bench_opts {
	const char *socket;
	const char *socket2; /* a second node: every other client goes there */
	const char *login;
	const char *password_file;
	unsigned clients;
	unsigned seconds;
	unsigned long max;
	uint32_t m_kib, t, p;
};

/* One phase: threads claim operation slots until the count or the time runs out. */
struct bench_run {
	const struct bench_opts *opts;
	const char *password;
	double deadline;
	atomic_uint started; /* clients connected so far: picks their socket */
	atomic_ulong claimed;
	atomic_ulong done;
	atomic_ulong errors;
	double *latency_ms; /* opts->max slots; NAN for an operation that failed */
	pthread_mutex_t lock;
	char reasons[BENCH_REASONS][64];
	unsigned long reason_count[BENCH_REASONS];
};

struct bench_result {
	unsigned long ops, errors;
	double seconds;
	double per_second;
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The next slot, or false when the phase is over (count reached or time up). */
static bool bench_claim(struct bench_run *run, unsigned long *slot_r)
{
	unsigned long slot;

	if (bench_now() >= run->deadline)
		return false;
	slot = atomic_fetch_add(&run->claimed, 1);
	if (slot >= run->opts->max)
		return false;
	*slot_r = slot;
	return true;
}

/* Remembers why an operation failed, so that the report says it. */
static void bench_error(struct bench_run *run, const char *why)
{
	unsigned i;

	atomic_fetch_add(&run->errors, 1);
	pthread_mutex_lock(&run->lock);
	for (i = 0; i < BENCH_REASONS; i++) {
		if (run->reasons[i][0] == '\0')
			snprintf(run->reasons[i], sizeof(run->reasons[i]), "%s", why);
		if (strcmp(run->reasons[i], why) == 0) {
			run->reason_count[i]++;
			break;
		}
	}
	pthread_mutex_unlock(&run->lock);
}

/* ---- raw libargon2 ---- */

/* argon2's allocator callback takes no user pointer: one area per thread, as in the daemon. */
static __thread uint8_t *bench_area;
static __thread size_t bench_area_len;

static int bench_area_alloc(uint8_t **memory, size_t bytes)
{
	if (bench_area == NULL || bytes > bench_area_len)
		return ARGON2_MEMORY_ALLOCATION_ERROR;
	*memory = bench_area;
	return ARGON2_OK;
}

static void bench_area_free(uint8_t *memory, size_t bytes)
{
	(void)memory;
	(void)bytes;
}

static int bench_area_new(size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	/* Pre-faulted like the daemon's hasher, so the first hash does not pay for it. */
	for (size_t i = 0; i < len; i += (size_t)(page > 0 ? page : 4096))
		((volatile uint8_t *)p)[i] = 0;
	bench_area = p;
	bench_area_len = len;
	return 0;
}

static void bench_area_drop(void)
{
	if (bench_area != NULL)
		munmap(bench_area, bench_area_len);
	bench_area = NULL;
	bench_area_len = 0;
}

static int bench_hash_reused(const struct bench_opts *o, uint8_t *pre, uint8_t *salt, uint8_t *out)
{
	argon2_context ctx = {
	    .out = out,
	    .outlen = BENCH_HASH_LEN,
	    .pwd = pre,
	    .pwdlen = BENCH_PRE_LEN,
	    .salt = salt,
	    .saltlen = BENCH_SALT_LEN,
	    .t_cost = o->t,
	    .m_cost = o->m_kib,
	    .lanes = o->p,
	    .threads = o->p,
	    .version = ARGON2_VERSION_13,
	    .allocate_cbk = bench_area_alloc,
	    .free_cbk = bench_area_free,
	    .flags = ARGON2_DEFAULT_FLAGS,
	};

	return argon2_ctx(&ctx, Argon2_id) == ARGON2_OK ? 0 : -1;
}

static int bench_hash_fresh(const struct bench_opts *o, uint8_t *pre, uint8_t *salt, uint8_t *out)
{
	int rc = argon2id_hash_raw(o->t, o->m_kib, o->p, pre, BENCH_PRE_LEN, salt, BENCH_SALT_LEN,
	                           out, BENCH_HASH_LEN);

	return rc == ARGON2_OK ? 0 : -1;
}

struct bench_raw {
	struct bench_run *run;
	bool reused;
};

static void *bench_raw_thread(void *arg)
{
	struct bench_raw *raw = arg;
	struct bench_run *run = raw->run;
	uint8_t pre[BENCH_PRE_LEN], salt[BENCH_SALT_LEN], out[BENCH_HASH_LEN];
	unsigned long slot;
	int rc;

	memset(pre, 'p', sizeof(pre));
	memset(salt, 's', sizeof(salt));
	if (raw->reused && bench_area_new((size_t)run->opts->m_kib * 1024) < 0) {
		bench_error(run, "mmap failed");
		return NULL;
	}
	while (bench_claim(run, &slot)) {
		salt[0] = (uint8_t)slot;
		rc = raw->reused ? bench_hash_reused(run->opts, pre, salt, out)
		                 : bench_hash_fresh(run->opts, pre, salt, out);
		if (rc < 0)
			bench_error(run, "argon2 failed");
		else
			atomic_fetch_add(&run->done, 1);
	}
	bench_area_drop();
	return NULL;
}

/* ---- the auth socket ---- */

/* One AUTH, one answer; the latency of an OK answer goes in its slot. */
static int bench_auth_once(struct bench_run *run, struct proto_client *c, unsigned long slot)
{
	struct proto_writer w;
	struct proto_msg msg;
	char id[32];
	const char *reason;
	double t0 = bench_now();
	int r = -1;

	snprintf(id, sizeof(id), "%lu", slot);
	proto_begin(&w, "AUTH", id);
	proto_add(&w, "login", run->opts->login);
	proto_add(&w, "password", run->password);
	proto_add(&w, "service", "bench");
	if (proto_end(&w) < 0 || proto_client_send(c, &w) < 0) {
		bench_error(run, "send failed");
		goto out;
	}
	if (proto_client_recv(c, &msg) < 0) {
		bench_error(run, "no answer");
		goto out;
	}
	if (strcmp(msg.id, id) != 0) {
		bench_error(run, "answer with another id");
		goto out;
	}
	r = 0; /* an answer came: the connection is still usable */
	if (strcmp(msg.verb, "OK") != 0) {
		reason = proto_get(&msg, "reason");
		bench_error(run, reason != NULL ? reason : msg.verb);
		goto out;
	}
	run->latency_ms[slot] = (bench_now() - t0) * 1000.0;
	atomic_fetch_add(&run->done, 1);
out:
	proto_writer_wipe(&w);
	return r;
}

static void *bench_auth_thread(void *arg)
{
	struct bench_run *run = arg;
	struct proto_client *c = NULL;
	char err[256];
	unsigned long slot;

	const char *path = run->opts->socket;

	if (run->opts->socket2 != NULL && atomic_fetch_add(&run->started, 1) % 2 == 1)
		path = run->opts->socket2;
	if (proto_client_connect(path, BENCH_TIMEOUT_MS, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_login: %s\n", err);
		bench_error(run, "connect failed");
		return NULL;
	}
	/* A connection that lost its answer is out of step: this client stops. */
	while (bench_claim(run, &slot))
		if (bench_auth_once(run, c, slot) < 0)
			break;
	proto_client_free(c);
	return NULL;
}

/* ---- phases ---- */

static unsigned bench_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

static int bench_run_init(struct bench_run *run, const struct bench_opts *o, const char *password)
{
	memset(run, 0, sizeof(*run));
	run->opts = o;
	run->password = password;
	atomic_init(&run->claimed, 0);
	atomic_init(&run->done, 0);
	atomic_init(&run->errors, 0);
	pthread_mutex_init(&run->lock, NULL);
	run->latency_ms = malloc(o->max * sizeof(*run->latency_ms));
	if (run->latency_ms == NULL)
		return -1;
	for (unsigned long i = 0; i < o->max; i++)
		run->latency_ms[i] = NAN;
	return 0;
}

static void bench_run_free(struct bench_run *run)
{
	free(run->latency_ms);
	pthread_mutex_destroy(&run->lock);
}

/* Runs fn(args[i]) on n threads; the wall time in *seconds_r. */
static int bench_threads(unsigned n, void *(*fn)(void *), void **args, double *seconds_r)
{
	pthread_t tids[BENCH_CLIENTS_MAX];
	unsigned started = 0;
	double t0 = bench_now();
	int r = 0;

	for (; started < n; started++)
		if (pthread_create(&tids[started], NULL, fn, args[started]) != 0) {
			r = -1;
			break;
		}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	*seconds_r = bench_now() - t0;
	return r;
}

static void bench_print_errors(const struct bench_run *run)
{
	for (unsigned i = 0; i < BENCH_REASONS && run->reasons[i][0] != '\0'; i++)
		printf("    error: %s (%lu)\n", run->reasons[i], run->reason_count[i]);
}

static void bench_result(struct bench_run *run, double seconds, struct bench_result *res)
{
	res->ops = atomic_load(&run->done);
	res->errors = atomic_load(&run->errors);
	res->seconds = seconds;
	res->per_second = seconds > 0 ? (double)res->ops / seconds : 0;
}

static int bench_raw_phase(const struct bench_opts *o, unsigned threads, bool reused,
                           struct bench_result *res)
{
	struct bench_raw raws[BENCH_CLIENTS_MAX];
	void *args[BENCH_CLIENTS_MAX];
	struct bench_run run;
	double seconds;
	int r = -1;

	if (bench_run_init(&run, o, NULL) < 0)
		return -1;
	run.deadline = bench_now() + o->seconds;
	for (unsigned i = 0; i < threads; i++) {
		raws[i] = (struct bench_raw){.run = &run, .reused = reused};
		args[i] = &raws[i];
	}
	if (bench_threads(threads, bench_raw_thread, args, &seconds) < 0)
		goto out;
	bench_result(&run, seconds, res);
	printf("  raw argon2id, %-13s %7lu hashes in %6.2f s = %8.2f hashes/s  (%u thread(s))\n",
	       reused ? "reused memory" : "fresh memory", res->ops, seconds, res->per_second,
	       threads);
	bench_print_errors(&run);
	r = 0;
out:
	bench_run_free(&run);
	return r;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the OK latencies, compacted and sorted in place. */
static double bench_percentile(const double *sorted, unsigned long n, unsigned long pct)
{
	unsigned long rank;

	if (n == 0)
		return NAN;
	/* ceil(pct * n / 100) without libm, which the build does not link. */
	rank = (pct * n + 99) / 100;
	return sorted[rank > 0 ? rank - 1 : 0];
}

static unsigned long bench_sort_latencies(struct bench_run *run)
{
	unsigned long n = 0, claimed = atomic_load(&run->claimed);

	if (claimed > run->opts->max)
		claimed = run->opts->max;
	for (unsigned long i = 0; i < claimed; i++)
		if (!isnan(run->latency_ms[i]))
			run->latency_ms[n++] = run->latency_ms[i];
	qsort(run->latency_ms, n, sizeof(*run->latency_ms), bench_cmp_double);
	return n;
}

static int bench_auth_phase(const struct bench_opts *o, const char *password,
                            struct bench_result *res, double *p50_r, double *p99_r)
{
	struct bench_run run;
	void *args[BENCH_CLIENTS_MAX];
	double seconds;
	unsigned long n;
	int r = -1;

	if (bench_run_init(&run, o, password) < 0)
		return -1;
	run.deadline = bench_now() + o->seconds;
	for (unsigned i = 0; i < o->clients; i++)
		args[i] = &run;
	if (bench_threads(o->clients, bench_auth_thread, args, &seconds) < 0)
		goto out;
	bench_result(&run, seconds, res);
	n = bench_sort_latencies(&run);
	*p50_r = bench_percentile(run.latency_ms, n, 50);
	*p99_r = bench_percentile(run.latency_ms, n, 99);
	printf("  auth socket AUTH         %7lu logins in %6.2f s = %8.2f logins/s  (%u client(s), "
	       "%lu errors)\n",
	       res->ops, seconds, res->per_second, o->clients, res->errors);
	printf("  login latency            p50 %.1f ms, p99 %.1f ms\n", *p50_r, *p99_r);
	bench_print_errors(&run);
	r = 0;
out:
	bench_run_free(&run);
	return r;
}

/* ---- command line ---- */

static void bench_usage(void)
{
	fprintf(stderr,
	        "usage: bench_login --socket PATH --login L --password-file F [--clients N]\n"
	        "                   [--seconds S] [--max M] [--argon2-m KIB] [--argon2-t T]\n"
	        "                   [--argon2-p P] [--socket2 PATH]\n");
}

/* An unsigned option within [lo, hi]; -1 otherwise. */
static int bench_number(const char *name, const char *s, unsigned long lo, unsigned long hi,
                        unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "bench_login: --%s: a number from %lu to %lu\n", name, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int bench_option(struct bench_opts *o, const char *name, const char *arg)
{
	unsigned long v = 0;
	int r = 0;

	if (strcmp(name, "socket") == 0)
		o->socket = arg;
	else if (strcmp(name, "socket2") == 0)
		o->socket2 = arg;
	else if (strcmp(name, "login") == 0)
		o->login = arg;
	else if (strcmp(name, "password-file") == 0)
		o->password_file = arg;
	else if (strcmp(name, "clients") == 0 &&
	         (r = bench_number(name, arg, 1, BENCH_CLIENTS_MAX, &v)) == 0)
		o->clients = (unsigned)v;
	else if (strcmp(name, "seconds") == 0 &&
	         (r = bench_number(name, arg, 1, BENCH_SECONDS_MAX, &v)) == 0)
		o->seconds = (unsigned)v;
	else if (strcmp(name, "max") == 0 &&
	         (r = bench_number(name, arg, 1, BENCH_MAX_OPS, &v)) == 0)
		o->max = v;
	else if (strcmp(name, "argon2-m") == 0 &&
	         (r = bench_number(name, arg, 8, 4u << 20, &v)) == 0)
		o->m_kib = (uint32_t)v;
	else if (strcmp(name, "argon2-t") == 0 && (r = bench_number(name, arg, 1, 1000, &v)) == 0)
		o->t = (uint32_t)v;
	else if (strcmp(name, "argon2-p") == 0 && (r = bench_number(name, arg, 1, 255, &v)) == 0)
		o->p = (uint32_t)v;
	return r;
}

static int bench_parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 0},        {"login", required_argument, NULL, 0},
	    {"password-file", required_argument, NULL, 0}, {"clients", required_argument, NULL, 0},
	    {"seconds", required_argument, NULL, 0},       {"max", required_argument, NULL, 0},
	    {"argon2-m", required_argument, NULL, 0},      {"argon2-t", required_argument, NULL, 0},
	    {"argon2-p", required_argument, NULL, 0},      {"socket2", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	int c, index;

	*o = (struct bench_opts){
	    .clients = 1, .seconds = 10, .max = 1000, .m_kib = 65536, .t = 3, .p = 1};
	while ((c = getopt_long(argc, argv, "", longopts, &index)) != -1) {
		if (c != 0 || bench_option(o, longopts[index].name, optarg) < 0)
			return -1;
	}
	if (optind != argc || o->socket == NULL || o->login == NULL || o->password_file == NULL ||
	    o->m_kib < 8 * o->p)
		return -1;
	return 0;
}

/* The first line of the file, without its LF; -1 when empty, unreadable or too long. */
static int bench_read_password(const char *path, char out[BENCH_PW_MAX])
{
	FILE *f = fopen(path, "r");
	size_t len;
	int r = -1;

	if (f == NULL) {
		fprintf(stderr, "bench_login: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fgets(out, BENCH_PW_MAX, f) == NULL)
		goto out;
	len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	else if (!feof(f))
		goto out;
	r = len > 0 ? 0 : -1;
out:
	if (r < 0)
		fprintf(stderr, "bench_login: %s: one line with the password expected\n", path);
	fclose(f);
	return r;
}

static void bench_report(const struct bench_opts *o, unsigned threads,
                         const struct bench_result *fresh, const struct bench_result *reused,
                         const struct bench_result *auth, double p50, double p99)
{
	double ratio = reused->per_second > 0 ? auth->per_second / reused->per_second : 0;
	double ratio_fresh = fresh->per_second > 0 ? auth->per_second / fresh->per_second : 0;

	printf("  ratio logins/hashes      %.3f against reused memory, %.3f against fresh\n", ratio,
	       ratio_fresh);
	printf("RESULT clients=%u threads=%u m_kib=%" PRIu32 " t=%" PRIu32 " p=%" PRIu32
	       " raw_fresh=%.2f raw_reused=%.2f logins=%.2f errors=%lu ratio=%.3f p50_ms=%.1f "
	       "p99_ms=%.1f\n",
	       o->clients, threads, o->m_kib, o->t, o->p, fresh->per_second, reused->per_second,
	       auth->per_second, auth->errors, ratio, p50, p99);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_result fresh = {0}, reused = {0}, auth = {0};
	char password[BENCH_PW_MAX];
	double p50 = NAN, p99 = NAN;
	unsigned threads;
	int r = 2;

	if (bench_parse(argc, argv, &o) < 0) {
		bench_usage();
		return 2;
	}
	if (bench_read_password(o.password_file, password) < 0)
		goto out;
	/* More hashing threads than cores only measures the scheduler. */
	threads = o.clients < bench_cores() ? o.clients : bench_cores();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_login: argon2id m=%" PRIu32 " KiB t=%" PRIu32 " p=%" PRIu32
	       ", %u client(s), %u cores; each phase stops after %u s or %lu operations\n",
	       o.m_kib, o.t, o.p, o.clients, bench_cores(), o.seconds, o.max);
	r = 1;
	if (bench_raw_phase(&o, threads, false, &fresh) < 0 ||
	    bench_raw_phase(&o, threads, true, &reused) < 0 ||
	    bench_auth_phase(&o, password, &auth, &p50, &p99) < 0)
		goto out;
	bench_report(&o, threads, &fresh, &reused, &auth, p50, p99);
	r = auth.errors > 0 || fresh.errors > 0 || reused.errors > 0 ? 1 : 0;
out:
	secret_wipe(password, sizeof(password));
	return r;
}
