/* The blocking client against a tiny server thread on a unix socket. */
#include <sys/socket.h>
#include <sys/un.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "proto.h"

/* A tiny server in a thread: one connection, one behaviour. */
enum server_mode { SRV_ECHO, SRV_SILENT, SRV_MUTE, SRV_MAJOR2, SRV_LONG, SRV_CLOSE };

struct server {
	enum server_mode mode;
	int lfd;
	char dir[64], path[128];
	pthread_t thread;
};

static void srv_write(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0 && (n = send(fd, s, len, MSG_NOSIGNAL)) > 0)
		s += n, len -= (size_t)n;
}

/* Reads one line (LF dropped) into buf; -1 at EOF. */
static int srv_read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size && read(fd, buf + len, 1) == 1) {
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return (int)len;
		}
		len++;
	}
	return -1;
}

static void srv_send_long(int fd)
{
	size_t size = 3 * PROTO_LINE_MAX;
	char *line = malloc(size);

	assert_non_null(line);
	memset(line, 'a', size);
	/* Exactly the limit, LF included; then one byte over; then far over. */
	memcpy(line, "OK\t1\tk=", 7);
	line[PROTO_LINE_MAX - 1] = '\n';
	srv_write(fd, line, PROTO_LINE_MAX);
	line[PROTO_LINE_MAX - 1] = 'a';
	line[PROTO_LINE_MAX] = '\n';
	srv_write(fd, line, PROTO_LINE_MAX + 1);
	line[PROTO_LINE_MAX] = 'a';
	srv_write(fd, line, size);
	free(line);
}

static void *srv_main(void *arg)
{
	struct server *s = arg;
	struct timeval tv = {.tv_sec = 5};
	char line[PROTO_LINE_MAX], answer[256], *id, *tab;
	int fd = accept(s->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (s->mode == SRV_MAJOR2)
		srv_write(fd, "VERSION\t0\tmajor=2\tminor=0\n", 26);
	else if (s->mode != SRV_SILENT)
		srv_write(fd, "VERSION\t0\tmajor=1\tminor=0\n", 26);
	if (s->mode == SRV_LONG)
		srv_send_long(fd);
	/* Close only after the client's VERSION, so its handshake write cannot fail. */
	if (s->mode == SRV_CLOSE)
		srv_read_line(fd, line, sizeof(line));
	while (s->mode != SRV_CLOSE && srv_read_line(fd, line, sizeof(line)) >= 0) {
		id = strchr(line, '\t');
		if (s->mode != SRV_ECHO || id == NULL || strncmp(line, "VERSION\t", 8) == 0)
			continue;
		*id++ = '\0';
		if ((tab = strchr(id, '\t')) != NULL)
			*tab = '\0';
		snprintf(answer, sizeof(answer), "OK\t%.32s\techo=%.24s\n", id, line);
		srv_write(fd, answer, strlen(answer));
	}
	close(fd);
	return NULL;
}

static void server_start(struct server *s, enum server_mode mode)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	s->mode = mode;
	strcpy(s->dir, "/tmp/test_proto.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/sock", s->dir);
	strcpy(sun.sun_path, s->path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
}

static void send_request(struct proto_client *c, const char *verb, const char *id)
{
	struct proto_writer w;

	proto_begin(&w, verb, id);
	proto_add(&w, "login", "x\ty");
	assert_int_equal(proto_end(&w), 0);
	assert_int_equal(proto_client_send(c, &w), 0);
}

static void test_client_echo(void **state)
{
	struct proto_client *c = NULL;
	struct proto_msg msg;
	struct server s;
	char err[256], expect[256];

	(void)state;
	server_start(&s, SRV_ECHO);
	assert_int_equal(proto_client_connect(s.path, 2000, &c, err, sizeof(err)), 0);
	send_request(c, "AUTH", "7");
	assert_int_equal(proto_client_recv(c, &msg), 0);
	assert_string_equal(msg.verb, "OK");
	assert_string_equal(msg.id, "7");
	assert_string_equal(proto_get(&msg, "echo"), "AUTH");
	/* Pipelined: both answers may arrive in one read. */
	send_request(c, "PASSWD", "a");
	send_request(c, "STATUS", "b");
	proto_client_half_close(c);
	assert_int_equal(proto_client_recv(c, &msg), 0);
	assert_string_equal(msg.id, "a");
	assert_int_equal(proto_client_recv(c, &msg), 0);
	assert_string_equal(proto_get(&msg, "echo"), "STATUS");
	assert_int_equal(proto_client_recv(c, &msg), -1);
	snprintf(expect, sizeof(expect), "%s: connection closed by the daemon", s.path);
	assert_string_equal(proto_client_error(c), expect);
	proto_client_free(c);
	proto_client_free(NULL);
	server_stop(&s);
}

/* proto_client_open: the first request leaves with our VERSION line, its answer follows the
 * daemon's; a daemon of another major version or an unfinished line is an error. */
static void test_client_open(void **state)
{
	struct proto_client *c = NULL;
	struct proto_writer w;
	struct proto_msg msg;
	struct server s;
	char err[256];

	(void)state;
	proto_begin(&w, "AUTH", "9");
	proto_add(&w, "login", "x");
	assert_int_equal(proto_end(&w), 0);
	server_start(&s, SRV_ECHO);
	assert_int_equal(proto_client_open(s.path, 2000, &w, &c, err, sizeof(err)), 0);
	proto_client_half_close(c);
	assert_int_equal(proto_client_recv(c, &msg), 0);
	assert_string_equal(msg.id, "9");
	assert_string_equal(proto_get(&msg, "echo"), "AUTH");
	assert_int_equal(proto_client_recv(c, &msg), -1);
	proto_client_free(c);
	server_stop(&s);

	server_start(&s, SRV_MAJOR2);
	assert_int_equal(proto_client_open(s.path, 2000, &w, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_non_null(strstr(err, "protocol version 2"));
	server_stop(&s);

	server_start(&s, SRV_ECHO);
	proto_begin(&w, "AUTH", "10"); /* never ended */
	assert_int_equal(proto_client_open(s.path, 2000, &w, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_non_null(strstr(err, "not ended"));
	server_stop(&s);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_client_timeouts(void **state)
{
	struct proto_client *c = NULL;
	struct proto_msg msg;
	struct server s;
	char err[256], expect[256];
	int64_t t0;

	(void)state;
	server_start(&s, SRV_SILENT);
	t0 = now_ms();
	assert_int_equal(proto_client_connect(s.path, 200, &c, err, sizeof(err)), -1);
	assert_true(now_ms() - t0 >= 195 && now_ms() - t0 < 2000);
	assert_null(c);
	snprintf(expect, sizeof(expect), "%s: timed out after 200 ms", s.path);
	assert_string_equal(err, expect);
	server_stop(&s);

	server_start(&s, SRV_MUTE);
	snprintf(expect, sizeof(expect), "%s: timed out after 200 ms", s.path);
	assert_int_equal(proto_client_connect(s.path, 200, &c, err, sizeof(err)), 0);
	send_request(c, "AUTH", "1");
	t0 = now_ms();
	assert_int_equal(proto_client_recv(c, &msg), -1);
	assert_true(now_ms() - t0 >= 195 && now_ms() - t0 < 2000);
	assert_string_equal(proto_client_error(c), expect);
	proto_client_free(c);
	server_stop(&s);
}

static void test_client_errors(void **state)
{
	struct proto_client *c = NULL;
	struct proto_writer w;
	struct proto_msg msg;
	struct server s;
	char err[256], expect[256];

	(void)state;
	assert_int_equal(proto_client_connect("/nonexistent/x.sock", 200, &c, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "connect /nonexistent/x.sock: No such file or directory");

	server_start(&s, SRV_MAJOR2);
	assert_int_equal(proto_client_connect(s.path, 2000, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_non_null(strstr(err, "protocol version 2"));
	server_stop(&s);

	server_start(&s, SRV_LONG);
	assert_int_equal(proto_client_connect(s.path, 2000, &c, err, sizeof(err)), 0);
	assert_int_equal(proto_client_recv(c, &msg), 0);
	assert_int_equal(strlen(proto_get(&msg, "k")), PROTO_LINE_MAX - 8);
	assert_int_equal(proto_client_recv(c, &msg), -1);
	assert_non_null(strstr(proto_client_error(c), "line too long"));
	assert_int_equal(proto_client_recv(c, &msg), -1);
	assert_non_null(strstr(proto_client_error(c), "longer than"));
	proto_client_free(c);
	server_stop(&s);

	/* A daemon gone: EPIPE, not SIGPIPE. */
	server_start(&s, SRV_CLOSE);
	assert_int_equal(proto_client_connect(s.path, 2000, &c, err, sizeof(err)), 0);
	assert_int_equal(proto_client_recv(c, &msg), -1);
	snprintf(expect, sizeof(expect), "%s: connection closed by the daemon", s.path);
	assert_string_equal(proto_client_error(c), expect);
	server_stop(&s);
	proto_begin(&w, "AUTH", "2");
	assert_int_equal(proto_end(&w), 0);
	assert_int_equal(proto_client_send(c, &w), -1);
	assert_non_null(strstr(proto_client_error(c), "Broken pipe"));
	/* An unfinished line is refused before anything is sent. */
	proto_begin(&w, "AUTH", "3");
	assert_int_equal(proto_client_send(c, &w), -1);
	proto_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_echo),
	    cmocka_unit_test(test_client_open),
	    cmocka_unit_test(test_client_timeouts),
	    cmocka_unit_test(test_client_errors),
	};

	return cmocka_run_group_tests_name("proto_client", tests, NULL, NULL);
}
