/*
 * Logins per second through PAM, in process: N threads each run
 * pam_start_confdir / pam_authenticate / pam_acct_mgmt / pam_end in a loop,
 * first on a baseline service (pam_permit), then on the service under test
 * (pam_verdon), both read from a private PAM directory. libpam alone costs
 * milliseconds a login (it loads the stack every time), so the module's
 * cost is the difference between the two. Every phase stops after
 * --seconds or --max logins, whichever comes first. Prints figures and
 * asserts nothing about time.
 *
 *   bench_pam --confdir DIR --baseline SERVICE --service SERVICE --user U
 *             --password-file F [--threads N] [--seconds S] [--max M]
 *
 * The conversation answers every hidden or echoed prompt with the password.
 * The last line is "RESULT key=value ...", for scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

#include "secret.h"

#define BP_PW_MAX 1024
#define BP_THREADS_MAX 256
#define BP_MAX_OPS 1000000UL
#define BP_SECONDS_MAX 3600
#define BP_REASONS 4

struct bp_opts {
	const char *confdir;
	const char *baseline;
	const char *service;
	const char *user;
	const char *password_file;
	unsigned threads;
	unsigned seconds;
	unsigned long max;
};

struct bp_phase {
	const struct bp_opts *opts;
	const char *service;
	const char *password;
	double deadline;
	atomic_ulong claimed;
	atomic_ulong done;
	atomic_ulong errors;
	double *latency_ms; /* opts->max slots; NAN for a login that failed */
	pthread_mutex_t lock;
	char reasons[BP_REASONS][96];
	unsigned long reason_count[BP_REASONS];
};

struct bp_figures {
	unsigned long ops, errors;
	double seconds, per_second, p50_ms, p99_ms;
};

static double bp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool bp_claim(struct bp_phase *ph, unsigned long *slot_r)
{
	unsigned long slot;

	if (bp_now() >= ph->deadline)
		return false;
	slot = atomic_fetch_add(&ph->claimed, 1);
	if (slot >= ph->opts->max)
		return false;
	*slot_r = slot;
	return true;
}

static void bp_error(struct bp_phase *ph, const char *why)
{
	atomic_fetch_add(&ph->errors, 1);
	pthread_mutex_lock(&ph->lock);
	for (unsigned i = 0; i < BP_REASONS; i++) {
		if (ph->reasons[i][0] == '\0')
			snprintf(ph->reasons[i], sizeof(ph->reasons[i]), "%s", why);
		if (strcmp(ph->reasons[i], why) == 0) {
			ph->reason_count[i]++;
			break;
		}
	}
	pthread_mutex_unlock(&ph->lock);
}

/* ---- PAM ---- */

static void bp_free_replies(struct pam_response *resp, int n)
{
	for (int i = 0; i < n; i++)
		secret_free(resp[i].resp);
	free(resp);
}

/* Every prompt gets the password; messages get no answer. */
static int bp_conv(int n, const struct pam_message **msg, struct pam_response **resp_r, void *data)
{
	const char *password = data;
	struct pam_response *resp;

	*resp_r = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	resp = calloc((size_t)n, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		resp[i].resp = strdup(password);
		if (resp[i].resp == NULL) {
			bp_free_replies(resp, n);
			return PAM_BUF_ERR;
		}
	}
	*resp_r = resp;
	return PAM_SUCCESS;
}

/* One login as an application does it; the latency of a success goes in its slot. */
static void bp_login(struct bp_phase *ph, unsigned long slot)
{
	struct pam_conv conv = {.conv = bp_conv, .appdata_ptr = (void *)ph->password};
	pam_handle_t *pamh = NULL;
	char why[96];
	double t0 = bp_now();
	int rc;

	rc = pam_start_confdir(ph->service, ph->opts->user, &conv, ph->opts->confdir, &pamh);
	if (rc != PAM_SUCCESS) {
		snprintf(why, sizeof(why), "pam_start_confdir: %s", pam_strerror(pamh, rc));
		bp_error(ph, why);
		return;
	}
	rc = pam_authenticate(pamh, PAM_SILENT);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(pamh, PAM_SILENT);
	if (rc != PAM_SUCCESS) {
		snprintf(why, sizeof(why), "%s", pam_strerror(pamh, rc));
		bp_error(ph, why);
	}
	/* pam_end unloads the stack: it is part of the login's cost. */
	pam_end(pamh, rc);
	if (rc == PAM_SUCCESS) {
		ph->latency_ms[slot] = (bp_now() - t0) * 1000.0;
		atomic_fetch_add(&ph->done, 1);
	}
}

static void *bp_thread(void *arg)
{
	struct bp_phase *ph = arg;
	unsigned long slot;

	while (bp_claim(ph, &slot))
		bp_login(ph, slot);
	return NULL;
}

/* ---- phases ---- */

static int bp_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: ceil(pct * n / 100), 1-based. */
static double bp_percentile(const double *sorted, unsigned long n, unsigned long pct)
{
	unsigned long rank = (pct * n + 99) / 100;

	return n == 0 ? NAN : sorted[rank > 0 ? rank - 1 : 0];
}

static void bp_latencies(struct bp_phase *ph, struct bp_figures *f)
{
	unsigned long n = 0, claimed = atomic_load(&ph->claimed);

	if (claimed > ph->opts->max)
		claimed = ph->opts->max;
	for (unsigned long i = 0; i < claimed; i++)
		if (!isnan(ph->latency_ms[i]))
			ph->latency_ms[n++] = ph->latency_ms[i];
	qsort(ph->latency_ms, n, sizeof(*ph->latency_ms), bp_cmp_double);
	f->p50_ms = bp_percentile(ph->latency_ms, n, 50);
	f->p99_ms = bp_percentile(ph->latency_ms, n, 99);
}

static int bp_threads(struct bp_phase *ph, double *seconds_r)
{
	pthread_t tids[BP_THREADS_MAX];
	unsigned started = 0, n = ph->opts->threads;
	double t0 = bp_now();
	int r = 0;

	for (; started < n; started++)
		if (pthread_create(&tids[started], NULL, bp_thread, ph) != 0) {
			r = -1;
			break;
		}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	*seconds_r = bp_now() - t0;
	return r;
}

static int bp_phase_run(const struct bp_opts *o, const char *service, const char *password,
                        struct bp_figures *f)
{
	struct bp_phase ph = {.opts = o, .service = service, .password = password};
	int r = -1;

	atomic_init(&ph.claimed, 0);
	atomic_init(&ph.done, 0);
	atomic_init(&ph.errors, 0);
	pthread_mutex_init(&ph.lock, NULL);
	ph.latency_ms = malloc(o->max * sizeof(*ph.latency_ms));
	if (ph.latency_ms == NULL)
		goto out;
	for (unsigned long i = 0; i < o->max; i++)
		ph.latency_ms[i] = NAN;
	ph.deadline = bp_now() + o->seconds;
	if (bp_threads(&ph, &f->seconds) < 0)
		goto out;
	f->ops = atomic_load(&ph.done);
	f->errors = atomic_load(&ph.errors);
	f->per_second = f->seconds > 0 ? (double)f->ops / f->seconds : 0;
	bp_latencies(&ph, f);
	printf("  PAM %-20s %7lu logins in %5.2f s = %8.1f logins/s  p50 %.3f ms  p99 %.3f ms  "
	       "(%u thread(s), %lu errors)\n",
	       service, f->ops, f->seconds, f->per_second, f->p50_ms, f->p99_ms, o->threads,
	       f->errors);
	for (unsigned i = 0; i < BP_REASONS && ph.reasons[i][0] != '\0'; i++)
		printf("    error: %s (%lu)\n", ph.reasons[i], ph.reason_count[i]);
	r = 0;
out:
	free(ph.latency_ms);
	pthread_mutex_destroy(&ph.lock);
	return r;
}

/* ---- command line ---- */

static void bp_usage(void)
{
	fprintf(stderr,
	        "usage: bench_pam --confdir DIR --baseline SERVICE --service SERVICE --user U\n"
	        "                 --password-file F [--threads N] [--seconds S] [--max M]\n");
}

static int bp_number(const char *name, const char *s, unsigned long lo, unsigned long hi,
                     unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "bench_pam: --%s: a number from %lu to %lu\n", name, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int bp_option(struct bp_opts *o, const char *name, const char *arg)
{
	const char **strings[] = {&o->confdir, &o->baseline, &o->service, &o->user,
	                          &o->password_file};
	static const char *const string_names[] = {"confdir", "baseline", "service", "user",
	                                           "password-file"};
	unsigned long v = 0;

	for (size_t i = 0; i < sizeof(string_names) / sizeof(string_names[0]); i++)
		if (strcmp(name, string_names[i]) == 0) {
			*strings[i] = arg;
			return 0;
		}
	if (strcmp(name, "threads") == 0) {
		if (bp_number(name, arg, 1, BP_THREADS_MAX, &v) < 0)
			return -1;
		o->threads = (unsigned)v;
	} else if (strcmp(name, "seconds") == 0) {
		if (bp_number(name, arg, 1, BP_SECONDS_MAX, &v) < 0)
			return -1;
		o->seconds = (unsigned)v;
	} else if (strcmp(name, "max") == 0) {
		if (bp_number(name, arg, 1, BP_MAX_OPS, &o->max) < 0)
			return -1;
	}
	return 0;
}

static int bp_parse(int argc, char **argv, struct bp_opts *o)
{
	static const struct option longopts[] = {
	    {"confdir", required_argument, NULL, 0},
	    {"baseline", required_argument, NULL, 0},
	    {"service", required_argument, NULL, 0},
	    {"user", required_argument, NULL, 0},
	    {"password-file", required_argument, NULL, 0},
	    {"threads", required_argument, NULL, 0},
	    {"seconds", required_argument, NULL, 0},
	    {"max", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	int c, index;

	*o = (struct bp_opts){.threads = 1, .seconds = 5, .max = 100000};
	while ((c = getopt_long(argc, argv, "", longopts, &index)) != -1)
		if (c != 0 || bp_option(o, longopts[index].name, optarg) < 0)
			return -1;
	return optind == argc && o->confdir != NULL && o->baseline != NULL && o->service != NULL &&
	               o->user != NULL && o->password_file != NULL
	           ? 0
	           : -1;
}

/* The first line of the file, without its LF; -1 when empty, unreadable or too long. */
static int bp_read_password(const char *path, char out[BP_PW_MAX])
{
	FILE *f = fopen(path, "r");
	size_t len;
	int r = -1;

	if (f == NULL) {
		fprintf(stderr, "bench_pam: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fgets(out, BP_PW_MAX, f) == NULL)
		goto out;
	len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	else if (!feof(f))
		goto out;
	r = len > 0 ? 0 : -1;
out:
	if (r < 0)
		fprintf(stderr, "bench_pam: %s: one line with the password expected\n", path);
	fclose(f);
	return r;
}

/*
 * What the module adds to a login: the difference of the wall time a login
 * takes at this concurrency (1 / rate), and of the p50 latencies.
 */
static void bp_report(const struct bp_opts *o, const struct bp_figures *base,
                      const struct bp_figures *mod)
{
	double wall_base = base->per_second > 0 ? 1000.0 / base->per_second : NAN;
	double wall_mod = mod->per_second > 0 ? 1000.0 / mod->per_second : NAN;
	double diff = wall_mod - wall_base, diff_p50 = mod->p50_ms - base->p50_ms;

	printf("  %s over %s: %+.3f ms a login (wall time at %u thread(s)), p50 %+.3f ms\n",
	       o->service, o->baseline, diff, o->threads, diff_p50);
	printf("RESULT threads=%u base=%.1f base_p50_ms=%.3f base_p99_ms=%.3f base_errors=%lu "
	       "module=%.1f module_p50_ms=%.3f module_p99_ms=%.3f module_errors=%lu "
	       "diff_ms=%.3f diff_p50_ms=%.3f\n",
	       o->threads, base->per_second, base->p50_ms, base->p99_ms, base->errors,
	       mod->per_second, mod->p50_ms, mod->p99_ms, mod->errors, diff, diff_p50);
}

int main(int argc, char **argv)
{
	struct bp_opts o;
	struct bp_figures base = {0}, mod = {0};
	char password[BP_PW_MAX];
	int r = 2;

	password[0] = '\0';
	if (bp_parse(argc, argv, &o) < 0) {
		bp_usage();
		return 2;
	}
	if (bp_read_password(o.password_file, password) < 0)
		goto out;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_pam: %s against %s from %s, %u thread(s); each phase stops after %u s or "
	       "%lu logins\n",
	       o.service, o.baseline, o.confdir, o.threads, o.seconds, o.max);
	r = 1;
	if (bp_phase_run(&o, o.baseline, password, &base) < 0 ||
	    bp_phase_run(&o, o.service, password, &mod) < 0)
		goto out;
	bp_report(&o, &base, &mod);
	r = base.errors + mod.errors > 0 ? 1 : 0;
out:
	secret_wipe(password, sizeof(password));
	return r;
}
