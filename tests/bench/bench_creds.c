/*
 * Logins per second through the auth socket with the credentials a mail
 * client carries (an app password, a session token), beside the floor of a
 * bare unix-socket echo measured in the same run with the same clients and
 * the same request line. No Argon2 runs for either credential, so the echo
 * is what the daemon should be compared with. Every phase stops after
 * --seconds or --max requests, whichever comes first. Prints figures and
 * asserts nothing about time.
 *
 *   bench_creds --socket PATH --echo-socket PATH --login L [--token-login L]
 *               [--app-password-file F] [--token-file F] [--service S]
 *               [--clients N] [--seconds S] [--max M]
 *
 * A phase whose secret file is not given is skipped. The last line is
 * "RESULT key=value ...", for scripts.
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"
#include "secret.h"

#define BC_SECRET_MAX 256
#define BC_CLIENTS_MAX 256
#define BC_MAX_OPS 10000000UL
#define BC_SECONDS_MAX 3600
#define BC_TIMEOUT_MS 30000
#define BC_REASONS 4
#define BC_ECHO_BACKLOG 512

struct bc_opts {
	const char *socket;
	const char *socket2; /* a second node: every other client goes there */
	const char *echo_socket;
	const char *login;
	const char *token_login; /* the token's owner; --login when absent */
	const char *app_file;
	const char *token_file;
	const char *service;
	unsigned clients;
	unsigned seconds;
	unsigned long max;
};

/* One phase: N clients claim request slots until the count or the time runs out. */
struct bc_phase {
	const struct bc_opts *opts;
	const char *socket;
	const char *socket2; /* NULL: every client on socket */
	const char *login;
	const char *secret; /* sent as password= */
	bool echo;          /* the answer is the request itself */
	double deadline;
	atomic_uint started; /* clients connected so far: picks their socket */
	atomic_ulong claimed;
	atomic_ulong done;
	atomic_ulong errors;
	double *latency_ms; /* opts->max slots; NAN for a request that failed */
	pthread_mutex_t lock;
	char reasons[BC_REASONS][64];
	unsigned long reason_count[BC_REASONS];
};

struct bc_figures {
	bool ran;
	unsigned long ops, errors;
	double seconds, per_second, p50_ms, p99_ms;
};

static double bc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool bc_claim(struct bc_phase *ph, unsigned long *slot_r)
{
	unsigned long slot;

	if (bc_now() >= ph->deadline)
		return false;
	slot = atomic_fetch_add(&ph->claimed, 1);
	if (slot >= ph->opts->max)
		return false;
	*slot_r = slot;
	return true;
}

static void bc_error(struct bc_phase *ph, const char *why)
{
	atomic_fetch_add(&ph->errors, 1);
	pthread_mutex_lock(&ph->lock);
	for (unsigned i = 0; i < BC_REASONS; i++) {
		if (ph->reasons[i][0] == '\0')
			snprintf(ph->reasons[i], sizeof(ph->reasons[i]), "%s", why);
		if (strcmp(ph->reasons[i], why) == 0) {
			ph->reason_count[i]++;
			break;
		}
	}
	pthread_mutex_unlock(&ph->lock);
}

/* ---- the echo server: one thread, one poll loop, every line sent back as it came ---- */

struct bc_conn {
	int fd;
	size_t len;
	char buf[PROTO_LINE_MAX];
};

struct bc_echo {
	const char *path;
	int listen_fd;
	int stop[2]; /* a byte on stop[1] ends the loop */
	pthread_t tid;
	struct bc_conn *conns[BC_CLIENTS_MAX];
	unsigned nconns;
};

static void bc_echo_drop(struct bc_echo *e, unsigned i)
{
	close(e->conns[i]->fd);
	free(e->conns[i]);
	e->conns[i] = e->conns[--e->nconns];
}

static void bc_echo_accept(struct bc_echo *e)
{
	struct timeval tv = {.tv_sec = 1};
	struct bc_conn *c;
	int fd;

	while ((fd = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		c = e->nconns < BC_CLIENTS_MAX ? malloc(sizeof(*c)) : NULL;
		if (c == NULL) {
			close(fd);
			continue;
		}
		/* Blocking, read only when poll says so; a write to a stuck peer gives up after 1
		 * s. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c->fd = fd;
		c->len = 0;
		e->conns[e->nconns++] = c;
	}
}

/* Reads what came and writes back every complete line; -1 closes the connection. */
static int bc_echo_serve(struct bc_conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	size_t lines = 0;

	if (n <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
	c->len += (size_t)n;
	for (size_t i = c->len; i > 0; i--)
		if (c->buf[i - 1] == '\n') {
			lines = i;
			break;
		}
	if (lines == 0)
		return c->len < sizeof(c->buf) ? 0 : -1; /* a line over the limit */
	if (send(c->fd, c->buf, lines, MSG_NOSIGNAL) != (ssize_t)lines)
		return -1;
	memmove(c->buf, c->buf + lines, c->len - lines);
	c->len -= lines;
	return 0;
}

static void *bc_echo_thread(void *arg)
{
	struct bc_echo *e = arg;
	struct pollfd pfds[2 + BC_CLIENTS_MAX];
	unsigned n;

	for (;;) {
		pfds[0] = (struct pollfd){.fd = e->stop[0], .events = POLLIN};
		pfds[1] = (struct pollfd){.fd = e->listen_fd, .events = POLLIN};
		n = e->nconns;
		for (unsigned i = 0; i < n; i++)
			pfds[2 + i] = (struct pollfd){.fd = e->conns[i]->fd, .events = POLLIN};
		if (poll(pfds, 2 + n, -1) < 0 && errno != EINTR)
			break;
		if (pfds[0].revents != 0)
			break;
		/* Backwards, so that dropping one (the last moves into its place) skips nobody. */
		for (unsigned i = n; i > 0; i--)
			if (pfds[1 + i].revents != 0 && bc_echo_serve(e->conns[i - 1]) < 0)
				bc_echo_drop(e, i - 1);
		if (pfds[1].revents != 0)
			bc_echo_accept(e);
	}
	while (e->nconns > 0)
		bc_echo_drop(e, e->nconns - 1);
	return NULL;
}

static int bc_echo_listen(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = -1;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bench_creds: %s: socket path too long\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || (unlink(path) < 0 && errno != ENOENT) ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, BC_ECHO_BACKLOG) < 0) {
		fprintf(stderr, "bench_creds: echo socket %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int bc_echo_start(struct bc_echo *e, const char *path)
{
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->stop[0] = e->stop[1] = -1;
	e->listen_fd = bc_echo_listen(path);
	if (e->listen_fd < 0)
		return -1;
	if (pipe2(e->stop, O_CLOEXEC) < 0 ||
	    pthread_create(&e->tid, NULL, bc_echo_thread, e) != 0) {
		fprintf(stderr, "bench_creds: cannot start the echo server\n");
		close(e->listen_fd);
		unlink(path);
		if (e->stop[0] >= 0) {
			close(e->stop[0]);
			close(e->stop[1]);
		}
		return -1;
	}
	return 0;
}

static void bc_echo_stop(struct bc_echo *e)
{
	ssize_t n;

	do
		n = write(e->stop[1], "x", 1);
	while (n < 0 && errno == EINTR);
	pthread_join(e->tid, NULL);
	close(e->stop[0]);
	close(e->stop[1]);
	close(e->listen_fd);
	unlink(e->path);
}

/* ---- the clients ---- */

/* One request, one answer; the latency of a good answer goes in its slot. -1: out of step. */
static int bc_request(struct bc_phase *ph, struct proto_client *c, unsigned long slot)
{
	struct proto_writer w;
	struct proto_msg msg;
	const char *reason;
	char id[32];
	double t0 = bc_now();
	int r = -1;

	snprintf(id, sizeof(id), "%lu", slot);
	proto_begin(&w, "AUTH", id);
	proto_add(&w, "login", ph->login);
	proto_add(&w, "password", ph->secret);
	proto_add(&w, "service", ph->opts->service);
	if (proto_end(&w) < 0 || proto_client_send(c, &w) < 0) {
		bc_error(ph, "send failed");
		goto out;
	}
	if (proto_client_recv(c, &msg) < 0) {
		bc_error(ph, "no answer");
		goto out;
	}
	if (strcmp(msg.id, id) != 0) {
		bc_error(ph, "answer with another id");
		goto out;
	}
	r = 0;
	if (strcmp(msg.verb, ph->echo ? "AUTH" : "OK") != 0) {
		reason = proto_get(&msg, "reason");
		bc_error(ph, reason != NULL ? reason : msg.verb);
		goto out;
	}
	ph->latency_ms[slot] = (bc_now() - t0) * 1000.0;
	atomic_fetch_add(&ph->done, 1);
out:
	proto_writer_wipe(&w);
	return r;
}

static void *bc_client_thread(void *arg)
{
	struct bc_phase *ph = arg;
	struct proto_client *c = NULL;
	char err[256];
	unsigned long slot;

	const char *path = ph->socket;

	if (ph->socket2 != NULL && atomic_fetch_add(&ph->started, 1) % 2 == 1)
		path = ph->socket2;
	if (proto_client_connect(path, BC_TIMEOUT_MS, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_creds: %s\n", err);
		bc_error(ph, "connect failed");
		return NULL;
	}
	while (bc_claim(ph, &slot))
		if (bc_request(ph, c, slot) < 0)
			break;
	proto_client_free(c);
	return NULL;
}

/* ---- phases ---- */

static int bc_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: ceil(pct * n / 100), 1-based. */
static double bc_percentile(const double *sorted, unsigned long n, unsigned long pct)
{
	unsigned long rank = (pct * n + 99) / 100;

	return n == 0 ? NAN : sorted[rank > 0 ? rank - 1 : 0];
}

static void bc_latencies(struct bc_phase *ph, struct bc_figures *f)
{
	unsigned long n = 0, claimed = atomic_load(&ph->claimed);

	if (claimed > ph->opts->max)
		claimed = ph->opts->max;
	for (unsigned long i = 0; i < claimed; i++)
		if (!isnan(ph->latency_ms[i]))
			ph->latency_ms[n++] = ph->latency_ms[i];
	qsort(ph->latency_ms, n, sizeof(*ph->latency_ms), bc_cmp_double);
	f->p50_ms = bc_percentile(ph->latency_ms, n, 50);
	f->p99_ms = bc_percentile(ph->latency_ms, n, 99);
}

static int bc_threads(unsigned n, struct bc_phase *ph, double *seconds_r)
{
	pthread_t tids[BC_CLIENTS_MAX];
	unsigned started = 0;
	double t0 = bc_now();
	int r = 0;

	for (; started < n; started++)
		if (pthread_create(&tids[started], NULL, bc_client_thread, ph) != 0) {
			r = -1;
			break;
		}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	*seconds_r = bc_now() - t0;
	return r;
}

static void bc_print(const char *what, const struct bc_phase *ph, const struct bc_figures *f,
                     size_t line_len)
{
	printf("  %-24s %8lu requests in %5.2f s = %9.1f /s  p50 %.3f ms  p99 %.3f ms  "
	       "(%u client(s), %zu-byte request, %lu errors)\n",
	       what, f->ops, f->seconds, f->per_second, f->p50_ms, f->p99_ms, ph->opts->clients,
	       line_len, f->errors);
	for (unsigned i = 0; i < BC_REASONS && ph->reasons[i][0] != '\0'; i++)
		printf("    error: %s (%lu)\n", ph->reasons[i], ph->reason_count[i]);
}

/* The request's length on the wire, for the report. */
static size_t bc_line_len(const struct bc_phase *ph)
{
	struct proto_writer w;
	size_t len;

	proto_begin(&w, "AUTH", "0");
	proto_add(&w, "login", ph->login);
	proto_add(&w, "password", ph->secret);
	proto_add(&w, "service", ph->opts->service);
	len = proto_end(&w) < 0 ? 0 : w.len;
	proto_writer_wipe(&w);
	return len;
}

static int bc_phase_run(const char *what, struct bc_phase *ph, struct bc_figures *f)
{
	int r = -1;

	atomic_init(&ph->claimed, 0);
	atomic_init(&ph->done, 0);
	atomic_init(&ph->errors, 0);
	pthread_mutex_init(&ph->lock, NULL);
	ph->latency_ms = malloc(ph->opts->max * sizeof(*ph->latency_ms));
	if (ph->latency_ms == NULL)
		goto out;
	for (unsigned long i = 0; i < ph->opts->max; i++)
		ph->latency_ms[i] = NAN;
	ph->deadline = bc_now() + ph->opts->seconds;
	if (bc_threads(ph->opts->clients, ph, &f->seconds) < 0)
		goto out;
	f->ran = true;
	f->ops = atomic_load(&ph->done);
	f->errors = atomic_load(&ph->errors);
	f->per_second = f->seconds > 0 ? (double)f->ops / f->seconds : 0;
	bc_latencies(ph, f);
	bc_print(what, ph, f, bc_line_len(ph));
	r = 0;
out:
	free(ph->latency_ms);
	ph->latency_ms = NULL;
	pthread_mutex_destroy(&ph->lock);
	return r;
}

/* The floor: the same clients and the same line, to a server that only sends it back. */
static int bc_echo_phase(const struct bc_opts *o, const char *secret, struct bc_figures *f)
{
	char filler[BC_SECRET_MAX];
	struct bc_echo echo;
	struct bc_phase ph = {.opts = o, .socket = o->echo_socket, .login = o->login, .echo = true};
	size_t len = strlen(secret);
	int r;

	/* The secret never travels to the echo: a filler of its length does. */
	memset(filler, 'x', len);
	filler[len] = '\0';
	ph.secret = filler;
	if (bc_echo_start(&echo, o->echo_socket) < 0)
		return -1;
	r = bc_phase_run("unix-socket echo floor", &ph, f);
	bc_echo_stop(&echo);
	return r;
}

static int bc_auth_phase(const struct bc_opts *o, const char *what, const char *login,
                         const char *secret, struct bc_figures *f)
{
	struct bc_phase ph = {
	    .opts = o, .socket = o->socket, .socket2 = o->socket2, .login = login, .secret = secret};

	return bc_phase_run(what, &ph, f);
}

/* ---- command line ---- */

static void bc_usage(void)
{
	fprintf(stderr,
	        "usage: bench_creds --socket PATH [--socket2 PATH] --echo-socket PATH --login L\n"
	        "                   [--token-login L]\n"
	        "                   [--app-password-file F] [--token-file F] [--service S]\n"
	        "                   [--clients N] [--seconds S] [--max M]\n");
}

static int bc_number(const char *name, const char *s, unsigned long lo, unsigned long hi,
                     unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "bench_creds: --%s: a number from %lu to %lu\n", name, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int bc_option(struct bc_opts *o, const char *name, const char *arg)
{
	const char **strings[] = {&o->socket,   &o->echo_socket, &o->login,   &o->token_login,
	                          &o->app_file, &o->token_file,  &o->service, &o->socket2};
	static const char *const string_names[] = {
	    "socket",     "echo-socket", "login",   "token-login", "app-password-file",
	    "token-file", "service",     "socket2"};
	unsigned long v = 0;

	for (size_t i = 0; i < sizeof(string_names) / sizeof(string_names[0]); i++)
		if (strcmp(name, string_names[i]) == 0) {
			*strings[i] = arg;
			return 0;
		}
	if (strcmp(name, "clients") == 0) {
		if (bc_number(name, arg, 1, BC_CLIENTS_MAX, &v) < 0)
			return -1;
		o->clients = (unsigned)v;
	} else if (strcmp(name, "seconds") == 0) {
		if (bc_number(name, arg, 1, BC_SECONDS_MAX, &v) < 0)
			return -1;
		o->seconds = (unsigned)v;
	} else if (strcmp(name, "max") == 0) {
		if (bc_number(name, arg, 1, BC_MAX_OPS, &o->max) < 0)
			return -1;
	}
	return 0;
}

static int bc_parse(int argc, char **argv, struct bc_opts *o)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 0},
	    {"echo-socket", required_argument, NULL, 0},
	    {"socket2", required_argument, NULL, 0},
	    {"login", required_argument, NULL, 0},
	    {"token-login", required_argument, NULL, 0},
	    {"app-password-file", required_argument, NULL, 0},
	    {"token-file", required_argument, NULL, 0},
	    {"service", required_argument, NULL, 0},
	    {"clients", required_argument, NULL, 0},
	    {"seconds", required_argument, NULL, 0},
	    {"max", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	int c, index;

	*o = (struct bc_opts){.service = "imap", .clients = 1, .seconds = 5, .max = 100000};
	while ((c = getopt_long(argc, argv, "", longopts, &index)) != -1)
		if (c != 0 || bc_option(o, longopts[index].name, optarg) < 0)
			return -1;
	if (o->token_login == NULL)
		o->token_login = o->login;
	return optind == argc && o->socket != NULL && o->echo_socket != NULL && o->login != NULL
	           ? 0
	           : -1;
}

/* The first line of a file, without its LF; -1 when empty, unreadable or too long. */
static int bc_read_secret(const char *path, char out[BC_SECRET_MAX])
{
	FILE *f = fopen(path, "r");
	size_t len;
	int r = -1;

	if (f == NULL) {
		fprintf(stderr, "bench_creds: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fgets(out, BC_SECRET_MAX, f) == NULL)
		goto out;
	len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	else if (!feof(f))
		goto out;
	r = len > 0 ? 0 : -1;
out:
	if (r < 0)
		fprintf(stderr, "bench_creds: %s: one line with the secret expected\n", path);
	fclose(f);
	return r;
}

/* key=value, or key=- for a phase that did not run. */
static void bc_result_fields(const char *key, const struct bc_figures *f)
{
	if (!f->ran) {
		printf(" %s=- %s_p50_ms=- %s_p99_ms=- %s_errors=-", key, key, key, key);
		return;
	}
	printf(" %s=%.1f %s_p50_ms=%.3f %s_p99_ms=%.3f %s_errors=%lu", key, f->per_second, key,
	       f->p50_ms, key, f->p99_ms, key, f->errors);
}

static void bc_over_floor(const char *what, const struct bc_figures *f,
                          const struct bc_figures *echo)
{
	if (!f->ran || !echo->ran || f->per_second <= 0)
		return;
	printf("  %-24s %.2f times the echo's time a request, p50 %+.3f ms over the floor\n", what,
	       echo->per_second / f->per_second, f->p50_ms - echo->p50_ms);
}

static void bc_report(const struct bc_opts *o, const struct bc_figures *echo,
                      const struct bc_figures *app, const struct bc_figures *token)
{
	bc_over_floor("app password", app, echo);
	bc_over_floor("session token", token, echo);
	printf("RESULT clients=%u", o->clients);
	bc_result_fields("echo", echo);
	bc_result_fields("app", app);
	bc_result_fields("token", token);
	printf("\n");
}

/* Reads both secrets; the echo's request is as long as the app password's (or the token's). */
static int bc_secrets(const struct bc_opts *o, char app[BC_SECRET_MAX], char token[BC_SECRET_MAX])
{
	app[0] = token[0] = '\0';
	if (o->app_file != NULL && bc_read_secret(o->app_file, app) < 0)
		return -1;
	if (o->token_file != NULL && bc_read_secret(o->token_file, token) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bc_opts o;
	struct bc_figures echo = {0}, app = {0}, token = {0};
	char app_pw[BC_SECRET_MAX], tok[BC_SECRET_MAX];
	int r = 2;

	app_pw[0] = tok[0] = '\0';
	if (bc_parse(argc, argv, &o) < 0) {
		bc_usage();
		return 2;
	}
	if (bc_secrets(&o, app_pw, tok) < 0)
		goto out;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_creds: service=%s, %u client(s), each phase stops after %u s or %lu "
	       "requests\n",
	       o.service, o.clients, o.seconds, o.max);
	r = 1;
	if (bc_echo_phase(&o, app_pw[0] != '\0' ? app_pw : tok, &echo) < 0)
		goto out;
	if (app_pw[0] != '\0' &&
	    bc_auth_phase(&o, "AUTH with app password", o.login, app_pw, &app) < 0)
		goto out;
	if (tok[0] != '\0' &&
	    bc_auth_phase(&o, "AUTH with session token", o.token_login, tok, &token) < 0)
		goto out;
	bc_report(&o, &echo, &app, &token);
	r = echo.errors + app.errors + token.errors > 0 ? 1 : 0;
out:
	secret_wipe(app_pw, sizeof(app_pw));
	secret_wipe(tok, sizeof(tok));
	return r;
}
