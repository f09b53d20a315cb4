/* The benchmark programs' shared timing, slots, errors, percentiles and option reading. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "client.h"
#include "proto.h"

#define BENCH_SECONDS_MAX 3600

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int phase_init(struct bench_phase *ph, unsigned long max)
{
	memset(ph, 0, sizeof(*ph));
	ph->max = max;
	atomic_init(&ph->started, 0);
	atomic_init(&ph->claimed, 0);
	atomic_init(&ph->done, 0);
	atomic_init(&ph->errors, 0);
	pthread_mutex_init(&ph->lock, NULL);
	ph->latency_ms = malloc(max * sizeof(*ph->latency_ms));
	if (ph->latency_ms == NULL)
		return -1;
	for (unsigned long i = 0; i < max; i++)
		ph->latency_ms[i] = NAN;
	return 0;
}

static void phase_free(struct bench_phase *ph)
{
	free(ph->latency_ms);
	ph->latency_ms = NULL;
	pthread_mutex_destroy(&ph->lock);
}

bool bench_claim(struct bench_phase *ph, unsigned long *slot_r)
{
	unsigned long slot;

	if (bench_now() >= ph->deadline)
		return false;
	slot = atomic_fetch_add(&ph->claimed, 1);
	if (slot >= ph->max)
		return false;
	*slot_r = slot;
	return true;
}

void bench_ok(struct bench_phase *ph, unsigned long slot, double t0)
{
	ph->latency_ms[slot] = (bench_now() - t0) * 1000.0;
	atomic_fetch_add(&ph->done, 1);
}

void bench_error(struct bench_phase *ph, const char *why)
{
	atomic_fetch_add(&ph->errors, 1);
	pthread_mutex_lock(&ph->lock);
	for (unsigned i = 0; i < BENCH_REASONS; i++) {
		if (ph->reasons[i][0] == '\0')
			snprintf(ph->reasons[i], sizeof(ph->reasons[i]), "%s", why);
		if (strcmp(ph->reasons[i], why) == 0) {
			ph->reason_count[i]++;
			break;
		}
	}
	pthread_mutex_unlock(&ph->lock);
}

static void print_errors(const struct bench_phase *ph)
{
	for (unsigned i = 0; i < BENCH_REASONS && ph->reasons[i][0] != '\0'; i++)
		printf("    error: %s (%lu)\n", ph->reasons[i], ph->reason_count[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: ceil(pct * n / 100), 1-based. */
static double percentile(const double *sorted, unsigned long n, unsigned long pct)
{
	unsigned long rank = (pct * n + 99) / 100;

	return n == 0 ? NAN : sorted[rank > 0 ? rank - 1 : 0];
}

static void latencies(struct bench_phase *ph, struct bench_figures *f)
{
	unsigned long n = 0, claimed = atomic_load(&ph->claimed);

	if (claimed > ph->max)
		claimed = ph->max;
	for (unsigned long i = 0; i < claimed; i++)
		if (!isnan(ph->latency_ms[i]))
			ph->latency_ms[n++] = ph->latency_ms[i];
	qsort(ph->latency_ms, n, sizeof(*ph->latency_ms), cmp_double);
	f->p50_ms = percentile(ph->latency_ms, n, 50);
	f->p99_ms = percentile(ph->latency_ms, n, 99);
}

static int phase_threads(unsigned n, void *(*thread)(void *arg), void *arg)
{
	pthread_t tids[BENCH_THREADS_MAX];
	unsigned started = 0;
	int r = 0;

	for (; started < n && started < BENCH_THREADS_MAX; started++)
		if (pthread_create(&tids[started], NULL, thread, arg) != 0) {
			r = -1;
			break;
		}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return r;
}

int bench_phase_run(struct bench_phase *ph, const struct bench_limits *lim,
                    void *(*thread)(void *arg),
                    void (*print)(void *arg, const struct bench_figures *f), void *arg,
                    struct bench_figures *f)
{
	double t0;
	int r = -1;

	if (phase_init(ph, lim->max) < 0)
		goto out;
	t0 = bench_now();
	ph->deadline = t0 + lim->seconds;
	if (phase_threads(lim->threads, thread, arg) < 0)
		goto out;
	f->seconds = bench_now() - t0;
	f->ran = true;
	f->ops = atomic_load(&ph->done);
	f->errors = atomic_load(&ph->errors);
	f->per_second = f->seconds > 0 ? (double)f->ops / f->seconds : 0;
	latencies(ph, f);
	print(arg, f);
	print_errors(ph);
	r = 0;
out:
	phase_free(ph);
	return r;
}

int bench_number(const char *prog, const char *name, const char *s, unsigned long lo,
                 unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "%s: --%s: a number from %lu to %lu\n", prog, name, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int bench_read_line(const char *prog, const char *path, const char *what, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t len;
	int r = -1;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	if (fgets(out, (int)cap, f) == NULL)
		goto out;
	len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	else if (!feof(f))
		goto out;
	r = len > 0 ? 0 : -1;
out:
	if (r < 0)
		fprintf(stderr, "%s: %s: one line with the %s expected\n", prog, path, what);
	fclose(f);
	return r;
}

/* A client of a->socket, or of a->socket2 for every other thread; NULL (said and counted as an
 * error) when it cannot connect. */
static struct proto_client *bench_connect(struct bench_phase *ph, const struct bench_auth *a)
{
	const char *path = a->socket;
	struct proto_client *c = NULL;
	char err[256];

	if (a->socket2 != NULL && atomic_fetch_add(&ph->started, 1) % 2 == 1)
		path = a->socket2;
	if (proto_client_connect(path, a->timeout_ms, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", a->prog, err);
		bench_error(ph, "connect failed");
		return NULL;
	}
	return c;
}

/* One AUTH and its answer, timed into slot: -1 when the connection is no longer in step. */
static int bench_auth_once(struct bench_phase *ph, struct proto_client *c, unsigned long slot,
                           const struct bench_auth *a)
{
	struct proto_writer w;
	struct proto_msg msg;
	const char *reason;
	char id[32];
	double t0 = bench_now();
	int r = -1;

	snprintf(id, sizeof(id), "%lu", slot);
	proto_begin(&w, "AUTH", id);
	proto_add(&w, "login", a->login);
	proto_add(&w, "password", a->secret);
	proto_add(&w, "service", a->service);
	if (proto_end(&w) < 0 || proto_client_send(c, &w) < 0) {
		bench_error(ph, "send failed");
		goto out;
	}
	if (proto_client_recv(c, &msg) < 0) {
		bench_error(ph, "no answer");
		goto out;
	}
	if (strcmp(msg.id, id) != 0) {
		bench_error(ph, "answer with another id");
		goto out;
	}
	r = 0; /* an answer came: the connection is still usable */
	if (strcmp(msg.verb, a->expect) != 0) {
		reason = proto_get(&msg, "reason");
		bench_error(ph, reason != NULL ? reason : msg.verb);
		goto out;
	}
	bench_ok(ph, slot, t0);
out:
	proto_writer_wipe(&w);
	return r;
}

void bench_auth_client(struct bench_phase *ph, const struct bench_auth *a)
{
	struct proto_client *c = bench_connect(ph, a);
	unsigned long slot;

	if (c == NULL)
		return;
	while (bench_claim(ph, &slot))
		if (bench_auth_once(ph, c, slot, a) < 0)
			break;
	proto_client_free(c);
}

#define BENCH_OPTIONS_MAX 32

/* The three options every program takes: 1 when name was one of them, 0 when not, -1 when bad. */
static int limit_option(const struct bench_options *spec, const char *name, const char *arg)
{
	unsigned long v;

	if (strcmp(name, spec->threads_name) == 0) {
		if (bench_number(spec->prog, name, arg, 1, BENCH_THREADS_MAX, &v) < 0)
			return -1;
		spec->limits->threads = (unsigned)v;
	} else if (strcmp(name, "seconds") == 0) {
		if (bench_number(spec->prog, name, arg, 1, BENCH_SECONDS_MAX, &v) < 0)
			return -1;
		spec->limits->seconds = (unsigned)v;
	} else if (strcmp(name, "max") == 0) {
		if (bench_number(spec->prog, name, arg, 1, spec->ops_max, &spec->limits->max) < 0)
			return -1;
	} else {
		return 0;
	}
	return 1;
}

static int one_option(const struct bench_options *spec, const char *name, const char *arg)
{
	int r;

	for (const struct bench_string_option *s = spec->strings; s->name != NULL; s++)
		if (strcmp(name, s->name) == 0) {
			*s->value = arg;
			return 0;
		}
	if ((r = limit_option(spec, name, arg)) != 0)
		return r < 0 ? -1 : 0;
	return spec->number != NULL ? spec->number(spec->ctx, name, arg) : -1;
}

int bench_parse(const struct bench_options *spec, int argc, char **argv)
{
	const char *const limits[] = {spec->threads_name, "seconds", "max"};
	struct option longopts[BENCH_OPTIONS_MAX + 1];
	size_t n = 0;
	int c, index;

	for (const struct bench_string_option *s = spec->strings; s->name != NULL; s++)
		if (n < BENCH_OPTIONS_MAX)
			longopts[n++] = (struct option){s->name, required_argument, NULL, 0};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]) && n < BENCH_OPTIONS_MAX; i++)
		longopts[n++] = (struct option){limits[i], required_argument, NULL, 0};
	for (size_t i = 0; spec->numbers != NULL && spec->numbers[i] != NULL; i++)
		if (n < BENCH_OPTIONS_MAX)
			longopts[n++] =
			    (struct option){spec->numbers[i], required_argument, NULL, 0};
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	while ((c = getopt_long(argc, argv, "", longopts, &index)) != -1)
		if (c != 0 || one_option(spec, longopts[index].name, optarg) < 0)
			return -1;
	return optind == argc ? 0 : -1;
}
