/*
 * What the benchmark programs (bench_login, bench_creds, bench_pam) share: a
 * phase's clock and operation slots, its errors by reason, its threads, its
 * latency percentiles, and the reading of their options and secret files.
 * A program's own phase embeds a struct bench_phase and passes it here.
 */
#ifndef VERDON_BENCH_COMMON_H
#define VERDON_BENCH_COMMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define BENCH_THREADS_MAX 256
#define BENCH_REASONS 4 /* distinct error reasons remembered */

/* One phase: threads claim operation slots until the count or the time runs out. */
struct bench_phase {
	unsigned long max; /* slots */
	double deadline;
	atomic_uint started; /* threads connected so far: picks their socket (bench_connect) */
	atomic_ulong claimed;
	atomic_ulong done;
	atomic_ulong errors;
	double *latency_ms; /* max slots; NAN for an operation that failed or was not timed */
	pthread_mutex_t lock;
	char reasons[BENCH_REASONS][96];
	unsigned long reason_count[BENCH_REASONS];
};

/* What a phase gives: ran is false for a phase that was skipped. */
struct bench_figures {
	bool ran;
	unsigned long ops, errors;
	double seconds, per_second, p50_ms, p99_ms;
};

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* The next slot, or false when the phase is over (count reached or time up). */
bool bench_claim(struct bench_phase *ph, unsigned long *slot_r);
/* The operation in slot succeeded; t0 is when it began (bench_now): its latency is kept. */
void bench_ok(struct bench_phase *ph, unsigned long slot, double t0);
/* Counts a failure and remembers its reason, so that the report says it. */
void bench_error(struct bench_phase *ph, const char *why);
/* A phase's bounds: --clients (or --threads), --seconds, --max. */
struct bench_limits {
	unsigned threads;
	unsigned seconds;  /* at most */
	unsigned long max; /* operations at most */
};
/*
 * Runs thread(arg) on lim->threads threads within lim's bounds (ph's slots
 * allocated here and freed after): fills f with the count, errors, wall time,
 * rate and the nearest-rank p50 and p99 of the successes; print(arg, f) says
 * the phase's line, then each error reason follows with its count ("    error:
 * REASON (N)"). -1 when out of memory or a thread did not start.
 */
int bench_phase_run(struct bench_phase *ph, const struct bench_limits *lim,
                    void *(*thread)(void *arg),
                    void (*print)(void *arg, const struct bench_figures *f), void *arg,
                    struct bench_figures *f);
/* What a client thread sends to the auth socket (or to an echo of it): AUTH login= password=
 * service=, one at a time, and the verb that answers a success. */
struct bench_auth {
	const char *prog; /* for the messages */
	const char *socket;
	const char *socket2; /* not NULL: every other client goes there (a second node) */
	const char *login, *secret, *service;
	const char *expect; /* "OK", or "AUTH" from an echo */
	int timeout_ms;
};
/* A client thread's life: connect, then one AUTH a slot until the phase is over, or until an
 * answer is lost (the connection is out of step). */
void bench_auth_client(struct bench_phase *ph, const struct bench_auth *a);
/* A --NAME VALUE option kept as a string. */
struct bench_string_option {
	const char *name;
	const char **value;
};

/*
 * A program's options, every one --NAME VALUE: its strings, the three every
 * program takes (--clients or --threads as threads_name says, --seconds,
 * --max up to ops_max), and its own numbers (names in numbers[], each handed
 * to number(), which returns -1 for a bad value).
 */
struct bench_options {
	const char *prog;
	const struct bench_string_option *strings; /* ended by {NULL, NULL} */
	const char *threads_name;
	unsigned long ops_max;
	struct bench_limits *limits;
	const char *const *numbers; /* NULL-terminated; NULL: none */
	int (*number)(void *ctx, const char *name, const char *arg);
	void *ctx;
};
/* getopt_long over argv as spec says: -1 for an unknown option, a bad value or a stray argument. */
int bench_parse(const struct bench_options *spec, int argc, char **argv);
/* An unsigned option within [lo, hi], or -1 with "PROG: --NAME: a number from lo to hi". */
int bench_number(const char *prog, const char *name, const char *s, unsigned long lo,
                 unsigned long hi, unsigned long *out);
/* The first line of path without its LF into out (cap bytes); -1, said on stderr as "one line
 * with the WHAT expected", when empty, unreadable or too long. */
int bench_read_line(const char *prog, const char *path, const char *what, char *out, size_t cap);

#endif
