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
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "bench_common.h"
#include "secret.h"

#define BP_PW_MAX 1024
#define BP_MAX_OPS 1000000UL

struct bp_opts {
	const char *confdir;
	const char *baseline;
	const char *service;
	const char *user;
	const char *password_file;
	struct bench_limits lim; /* --threads, --seconds, --max */
};

struct bp_phase {
	struct bench_phase b;
	const struct bp_opts *opts;
	const char *service;
	const char *password;
};

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
	double t0 = bench_now();
	int rc;

	rc = pam_start_confdir(ph->service, ph->opts->user, &conv, ph->opts->confdir, &pamh);
	if (rc != PAM_SUCCESS) {
		snprintf(why, sizeof(why), "pam_start_confdir: %s", pam_strerror(pamh, rc));
		bench_error(&ph->b, why);
		return;
	}
	rc = pam_authenticate(pamh, PAM_SILENT);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(pamh, PAM_SILENT);
	if (rc != PAM_SUCCESS) {
		snprintf(why, sizeof(why), "%s", pam_strerror(pamh, rc));
		bench_error(&ph->b, why);
	}
	/* pam_end unloads the stack: it is part of the login's cost. */
	pam_end(pamh, rc);
	if (rc == PAM_SUCCESS)
		bench_ok(&ph->b, slot, t0);
}

static void *bp_thread(void *arg)
{
	struct bp_phase *ph = arg;
	unsigned long slot;

	while (bench_claim(&ph->b, &slot))
		bp_login(ph, slot);
	return NULL;
}

/* ---- phases ---- */

static void bp_print(void *arg, const struct bench_figures *f)
{
	const struct bp_phase *ph = arg;

	printf("  PAM %-20s %7lu logins in %5.2f s = %8.1f logins/s  p50 %.3f ms  p99 %.3f ms  "
	       "(%u thread(s), %lu errors)\n",
	       ph->service, f->ops, f->seconds, f->per_second, f->p50_ms, f->p99_ms,
	       ph->opts->lim.threads, f->errors);
}

static int bp_phase_run(const struct bp_opts *o, const char *service, const char *password,
                        struct bench_figures *f)
{
	struct bp_phase ph = {.opts = o, .service = service, .password = password};
	return bench_phase_run(&ph.b, &o->lim, bp_thread, bp_print, &ph, f);
}

/* ---- command line ---- */

static void bp_usage(void)
{
	fprintf(stderr,
	        "usage: bench_pam --confdir DIR --baseline SERVICE --service SERVICE --user U\n"
	        "                 --password-file F [--threads N] [--seconds S] [--max M]\n");
}

static int bp_parse(int argc, char **argv, struct bp_opts *o)
{
	const struct bench_string_option strings[] = {
	    {"confdir", &o->confdir},
	    {"baseline", &o->baseline},
	    {"service", &o->service},
	    {"user", &o->user},
	    {"password-file", &o->password_file},
	    {NULL, NULL},
	};
	const struct bench_options spec = {
	    .prog = "bench_pam",
	    .strings = strings,
	    .threads_name = "threads",
	    .ops_max = BP_MAX_OPS,
	    .limits = &o->lim,
	};

	*o = (struct bp_opts){.lim = {.threads = 1, .seconds = 5, .max = 100000}};
	if (bench_parse(&spec, argc, argv) < 0)
		return -1;
	return o->confdir != NULL && o->baseline != NULL && o->service != NULL && o->user != NULL &&
	               o->password_file != NULL
	           ? 0
	           : -1;
}

/*
 * What the module adds to a login: the difference of the wall time a login
 * takes at this concurrency (1 / rate), and of the p50 latencies.
 */
static void bp_report(const struct bp_opts *o, const struct bench_figures *base,
                      const struct bench_figures *mod)
{
	double wall_base = base->per_second > 0 ? 1000.0 / base->per_second : NAN;
	double wall_mod = mod->per_second > 0 ? 1000.0 / mod->per_second : NAN;
	double diff = wall_mod - wall_base, diff_p50 = mod->p50_ms - base->p50_ms;

	printf("  %s over %s: %+.3f ms a login (wall time at %u thread(s)), p50 %+.3f ms\n",
	       o->service, o->baseline, diff, o->lim.threads, diff_p50);
	printf("RESULT threads=%u base=%.1f base_p50_ms=%.3f base_p99_ms=%.3f base_errors=%lu "
	       "module=%.1f module_p50_ms=%.3f module_p99_ms=%.3f module_errors=%lu "
	       "diff_ms=%.3f diff_p50_ms=%.3f\n",
	       o->lim.threads, base->per_second, base->p50_ms, base->p99_ms, base->errors,
	       mod->per_second, mod->p50_ms, mod->p99_ms, mod->errors, diff, diff_p50);
}

int main(int argc, char **argv)
{
	struct bp_opts o;
	struct bench_figures base = {0}, mod = {0};
	char password[BP_PW_MAX];
	int r = 2;

	password[0] = '\0';
	if (bp_parse(argc, argv, &o) < 0) {
		bp_usage();
		return 2;
	}
	if (bench_read_line("bench_pam", o.password_file, "password", password, sizeof(password)) <
	    0)
		goto out;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_pam: %s against %s from %s, %u thread(s); each phase stops after %u s or "
	       "%lu logins\n",
	       o.service, o.baseline, o.confdir, o.lim.threads, o.lim.seconds, o.lim.max);
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
