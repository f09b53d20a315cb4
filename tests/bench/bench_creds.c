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

#include "bench_common.h"
#include "client.h"
#include "proto.h"
#include "secret.h"

#define BC_SECRET_MAX 256
#define BC_CLIENTS_MAX BENCH_THREADS_MAX
#define BC_MAX_OPS 10000000UL
#define BC_TIMEOUT_MS 30000
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
	struct bench_limits lim; /* --clients, --seconds, --max */
};

/* One phase: N clients claim request slots until the count or the time runs out. */
struct bc_phase {
	struct bench_phase b;
	const struct bc_opts *opts;
	struct bench_auth auth; /* the echo answers the request itself: expect "AUTH" */
	const char *what;       /* the phase's name in its line */
};

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
static void *bc_client_thread(void *arg)
{
	struct bc_phase *ph = arg;

	bench_auth_client(&ph->b, &ph->auth);
	return NULL;
}

/* ---- phases ---- */

/* The request's length on the wire, for the report. */
static size_t bc_line_len(const struct bc_phase *ph)
{
	struct proto_writer w;
	size_t len;

	proto_begin(&w, "AUTH", "0");
	proto_add(&w, "login", ph->auth.login);
	proto_add(&w, "password", ph->auth.secret);
	proto_add(&w, "service", ph->auth.service);
	len = proto_end(&w) < 0 ? 0 : w.len;
	proto_writer_wipe(&w);
	return len;
}

static void bc_print(void *arg, const struct bench_figures *f)
{
	const struct bc_phase *ph = arg;

	printf("  %-24s %8lu requests in %5.2f s = %9.1f /s  p50 %.3f ms  p99 %.3f ms  "
	       "(%u client(s), %zu-byte request, %lu errors)\n",
	       ph->what, f->ops, f->seconds, f->per_second, f->p50_ms, f->p99_ms,
	       ph->opts->lim.threads, bc_line_len(ph), f->errors);
}

static int bc_phase_run(const char *what, struct bc_phase *ph, struct bench_figures *f)
{
	ph->what = what;
	return bench_phase_run(&ph->b, &ph->opts->lim, bc_client_thread, bc_print, ph, f);
}

/* The floor: the same clients and the same line, to a server that only sends it back. */
static int bc_echo_phase(const struct bc_opts *o, const char *secret, struct bench_figures *f)
{
	char filler[BC_SECRET_MAX];
	struct bc_echo echo;
	struct bc_phase ph = {.opts = o,
	                      .auth = {.prog = "bench_creds",
	                               .socket = o->echo_socket,
	                               .login = o->login,
	                               .secret = filler,
	                               .service = o->service,
	                               .expect = "AUTH",
	                               .timeout_ms = BC_TIMEOUT_MS}};
	size_t len = strlen(secret);
	int r;

	/* The secret never travels to the echo: a filler of its length does. */
	memset(filler, 'x', len);
	filler[len] = '\0';
	if (bc_echo_start(&echo, o->echo_socket) < 0)
		return -1;
	r = bc_phase_run("unix-socket echo floor", &ph, f);
	bc_echo_stop(&echo);
	return r;
}

static int bc_auth_phase(const struct bc_opts *o, const char *what, const char *login,
                         const char *secret, struct bench_figures *f)
{
	struct bc_phase ph = {.opts = o,
	                      .auth = {.prog = "bench_creds",
	                               .socket = o->socket,
	                               .socket2 = o->socket2,
	                               .login = login,
	                               .secret = secret,
	                               .service = o->service,
	                               .expect = "OK",
	                               .timeout_ms = BC_TIMEOUT_MS}};

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

static int bc_parse(int argc, char **argv, struct bc_opts *o)
{
	const struct bench_string_option strings[] = {
	    {"socket", &o->socket},
	    {"echo-socket", &o->echo_socket},
	    {"socket2", &o->socket2},
	    {"login", &o->login},
	    {"token-login", &o->token_login},
	    {"app-password-file", &o->app_file},
	    {"token-file", &o->token_file},
	    {"service", &o->service},
	    {NULL, NULL},
	};
	const struct bench_options spec = {
	    .prog = "bench_creds",
	    .strings = strings,
	    .threads_name = "clients",
	    .ops_max = BC_MAX_OPS,
	    .limits = &o->lim,
	};

	*o =
	    (struct bc_opts){.service = "imap", .lim = {.threads = 1, .seconds = 5, .max = 100000}};
	if (bench_parse(&spec, argc, argv) < 0)
		return -1;
	if (o->token_login == NULL)
		o->token_login = o->login;
	return o->socket != NULL && o->echo_socket != NULL && o->login != NULL ? 0 : -1;
}

/* key=value, or key=- for a phase that did not run. */
static void bc_result_fields(const char *key, const struct bench_figures *f)
{
	if (!f->ran) {
		printf(" %s=- %s_p50_ms=- %s_p99_ms=- %s_errors=-", key, key, key, key);
		return;
	}
	printf(" %s=%.1f %s_p50_ms=%.3f %s_p99_ms=%.3f %s_errors=%lu", key, f->per_second, key,
	       f->p50_ms, key, f->p99_ms, key, f->errors);
}

static void bc_over_floor(const char *what, const struct bench_figures *f,
                          const struct bench_figures *echo)
{
	if (!f->ran || !echo->ran || f->per_second <= 0)
		return;
	printf("  %-24s %.2f times the echo's time a request, p50 %+.3f ms over the floor\n", what,
	       echo->per_second / f->per_second, f->p50_ms - echo->p50_ms);
}

static void bc_report(const struct bc_opts *o, const struct bench_figures *echo,
                      const struct bench_figures *app, const struct bench_figures *token)
{
	bc_over_floor("app password", app, echo);
	bc_over_floor("session token", token, echo);
	printf("RESULT clients=%u", o->lim.threads);
	bc_result_fields("echo", echo);
	bc_result_fields("app", app);
	bc_result_fields("token", token);
	printf("\n");
}

/* Reads both secrets; the echo's request is as long as the app password's (or the token's). */
static int bc_secrets(const struct bc_opts *o, char app[BC_SECRET_MAX], char token[BC_SECRET_MAX])
{
	app[0] = token[0] = '\0';
	if (o->app_file != NULL &&
	    bench_read_line("bench_creds", o->app_file, "secret", app, BC_SECRET_MAX) < 0)
		return -1;
	if (o->token_file != NULL &&
	    bench_read_line("bench_creds", o->token_file, "secret", token, BC_SECRET_MAX) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bc_opts o;
	struct bench_figures echo = {0}, app = {0}, token = {0};
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
	       o.service, o.lim.threads, o.lim.seconds, o.lim.max);
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
