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

#include "bench_common.h"
#include "client.h"
#include "proto.h"
#include "secret.h"

#define BENCH_PW_MAX 1024
#define BENCH_MAX_OPS 10000000UL
#define BENCH_TIMEOUT_MS 30000
#define BENCH_SALT_LEN 16 /* as the daemon's */
#define BENCH_HASH_LEN 32
#define BENCH_PRE_LEN 32 /* the daemon hashes HMAC(pepper, pw): 32 bytes */

struct bench_opts {
	const char *socket;
	const char *socket2; /* a second node: every other client goes there */
	const char *login;
	const char *password_file;
	struct bench_limits lim; /* --clients, --seconds, --max */
	uint32_t m_kib, t, p;
};

/* One phase: raw hashes (with reused memory or fresh) or logins on the auth socket. */
struct bench_run {
	struct bench_phase b;
	const struct bench_opts *opts;
	bool reused; /* raw hashes: with the pre-faulted area */
	unsigned threads;
	struct bench_auth auth; /* logins */
};

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

static void *bench_raw_thread(void *arg)
{
	struct bench_run *run = arg;
	uint8_t pre[BENCH_PRE_LEN], salt[BENCH_SALT_LEN], out[BENCH_HASH_LEN];
	unsigned long slot;
	int rc;

	memset(pre, 'p', sizeof(pre));
	memset(salt, 's', sizeof(salt));
	if (run->reused && bench_area_new((size_t)run->opts->m_kib * 1024) < 0) {
		bench_error(&run->b, "mmap failed");
		return NULL;
	}
	while (bench_claim(&run->b, &slot)) {
		salt[0] = (uint8_t)slot;
		rc = run->reused ? bench_hash_reused(run->opts, pre, salt, out)
		                 : bench_hash_fresh(run->opts, pre, salt, out);
		if (rc < 0)
			bench_error(&run->b, "argon2 failed");
		else
			atomic_fetch_add(&run->b.done, 1);
	}
	bench_area_drop();
	return NULL;
}

/* ---- the auth socket ---- */

static void *bench_auth_thread(void *arg)
{
	struct bench_run *run = arg;

	bench_auth_client(&run->b, &run->auth);
	return NULL;
}

/* ---- phases ---- */

static unsigned bench_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

static void bench_raw_print(void *arg, const struct bench_figures *res)
{
	const struct bench_run *run = arg;

	printf("  raw argon2id, %-13s %7lu hashes in %6.2f s = %8.2f hashes/s  (%u thread(s))\n",
	       run->reused ? "reused memory" : "fresh memory", res->ops, res->seconds,
	       res->per_second, run->threads);
}

static int bench_raw_phase(const struct bench_opts *o, unsigned threads, bool reused,
                           struct bench_figures *res)
{
	struct bench_run run = {.opts = o, .reused = reused, .threads = threads};
	struct bench_limits lim = o->lim;

	lim.threads = threads;
	return bench_phase_run(&run.b, &lim, bench_raw_thread, bench_raw_print, &run, res);
}

static void bench_auth_print(void *arg, const struct bench_figures *res)
{
	const struct bench_run *run = arg;

	printf("  auth socket AUTH         %7lu logins in %6.2f s = %8.2f logins/s  (%u client(s), "
	       "%lu errors)\n",
	       res->ops, res->seconds, res->per_second, run->threads, res->errors);
	printf("  login latency            p50 %.1f ms, p99 %.1f ms\n", res->p50_ms, res->p99_ms);
}

static int bench_auth_phase(const struct bench_opts *o, const char *password,
                            struct bench_figures *res)
{
	struct bench_run run = {.opts = o,
	                        .threads = o->lim.threads,
	                        .auth = {.prog = "bench_login",
	                                 .socket = o->socket,
	                                 .socket2 = o->socket2,
	                                 .login = o->login,
	                                 .secret = password,
	                                 .service = "bench",
	                                 .expect = "OK",
	                                 .timeout_ms = BENCH_TIMEOUT_MS}};
	return bench_phase_run(&run.b, &o->lim, bench_auth_thread, bench_auth_print, &run, res);
}

/* ---- command line ---- */

static void bench_usage(void)
{
	fprintf(stderr,
	        "usage: bench_login --socket PATH --login L --password-file F [--clients N]\n"
	        "                   [--seconds S] [--max M] [--argon2-m KIB] [--argon2-t T]\n"
	        "                   [--argon2-p P] [--socket2 PATH]\n");
}

/* --argon2-m, --argon2-t, --argon2-p: the raw hashes' parameters, as the daemon's. */
static int bench_argon2_option(void *ctx, const char *name, const char *arg)
{
	struct bench_opts *o = ctx;
	unsigned long v;

	if (strcmp(name, "argon2-m") == 0) {
		if (bench_number("bench_login", name, arg, 8, 4u << 20, &v) < 0)
			return -1;
		o->m_kib = (uint32_t)v;
	} else if (strcmp(name, "argon2-t") == 0) {
		if (bench_number("bench_login", name, arg, 1, 1000, &v) < 0)
			return -1;
		o->t = (uint32_t)v;
	} else {
		if (bench_number("bench_login", name, arg, 1, 255, &v) < 0)
			return -1;
		o->p = (uint32_t)v;
	}
	return 0;
}

static int bench_parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const char *const argon2[] = {"argon2-m", "argon2-t", "argon2-p", NULL};
	const struct bench_string_option strings[] = {
	    {"socket", &o->socket}, {"socket2", &o->socket2},
	    {"login", &o->login},   {"password-file", &o->password_file},
	    {NULL, NULL},
	};
	const struct bench_options spec = {
	    .prog = "bench_login",
	    .strings = strings,
	    .threads_name = "clients",
	    .ops_max = BENCH_MAX_OPS,
	    .limits = &o->lim,
	    .numbers = argon2,
	    .number = bench_argon2_option,
	    .ctx = o,
	};

	*o = (struct bench_opts){
	    .lim = {.threads = 1, .seconds = 10, .max = 1000}, .m_kib = 65536, .t = 3, .p = 1};
	if (bench_parse(&spec, argc, argv) < 0 || o->socket == NULL || o->login == NULL ||
	    o->password_file == NULL || o->m_kib < 8 * o->p)
		return -1;
	return 0;
}

static void bench_report(const struct bench_opts *o, unsigned threads,
                         const struct bench_figures *fresh, const struct bench_figures *reused,
                         const struct bench_figures *auth)
{
	double ratio = reused->per_second > 0 ? auth->per_second / reused->per_second : 0;
	double ratio_fresh = fresh->per_second > 0 ? auth->per_second / fresh->per_second : 0;

	printf("  ratio logins/hashes      %.3f against reused memory, %.3f against fresh\n", ratio,
	       ratio_fresh);
	printf("RESULT clients=%u threads=%u m_kib=%" PRIu32 " t=%" PRIu32 " p=%" PRIu32
	       " raw_fresh=%.2f raw_reused=%.2f logins=%.2f errors=%lu ratio=%.3f p50_ms=%.1f "
	       "p99_ms=%.1f\n",
	       o->lim.threads, threads, o->m_kib, o->t, o->p, fresh->per_second, reused->per_second,
	       auth->per_second, auth->errors, ratio, auth->p50_ms, auth->p99_ms);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_figures fresh = {0}, reused = {0}, auth = {0};
	char password[BENCH_PW_MAX];
	unsigned threads;
	int r = 2;

	if (bench_parse_args(argc, argv, &o) < 0) {
		bench_usage();
		return 2;
	}
	if (bench_read_line("bench_login", o.password_file, "password", password,
	                    sizeof(password)) < 0)
		goto out;
	/* More hashing threads than cores only measures the scheduler. */
	threads = o.lim.threads < bench_cores() ? o.lim.threads : bench_cores();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_login: argon2id m=%" PRIu32 " KiB t=%" PRIu32 " p=%" PRIu32
	       ", %u client(s), %u cores; each phase stops after %u s or %lu operations\n",
	       o.m_kib, o.t, o.p, o.lim.threads, bench_cores(), o.lim.seconds, o.lim.max);
	r = 1;
	if (bench_raw_phase(&o, threads, false, &fresh) < 0 ||
	    bench_raw_phase(&o, threads, true, &reused) < 0 ||
	    bench_auth_phase(&o, password, &auth) < 0)
		goto out;
	bench_report(&o, threads, &fresh, &reused, &auth);
	r = auth.errors > 0 || fresh.errors > 0 || reused.errors > 0 ? 1 : 0;
out:
	secret_wipe(password, sizeof(password));
	return r;
}
