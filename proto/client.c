#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
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

#define CLIENT_ERR_MAX 512

struct proto_client {
	int fd;
	int timeout_ms;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char err[CLIENT_ERR_MAX];
	/* Unread bytes are buf[start..end); one more than a line tells "too long". */
	size_t start, end;
	char buf[PROTO_LINE_MAX + 1];
};

static void client_error(struct proto_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void client_error(struct proto_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static int64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until fd is ready for events or the deadline passes. Every call of the
 * API has one deadline, so EINTR and partial transfers do not extend it.
 */
static int client_wait(struct proto_client *c, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};
	int64_t left;
	int n;

	for (;;) {
		left = deadline - client_now_ms();
		if (left <= 0)
			break;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			client_error(c, "%s: poll: %s", c->path, strerror(errno));
			return -1;
		}
	}
	client_error(c, "%s: timed out after %d ms", c->path, c->timeout_ms);
	return -1;
}

/* A unix connect does not go in progress: a full backlog says EAGAIN, so retry. */
static int client_connect_fd(struct proto_client *c, int64_t deadline)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	memcpy(sun.sun_path, c->path, sizeof(c->path));
	for (;;) {
		if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS)
			break;
		if (errno != EAGAIN) {
			client_error(c, "connect %s: %s", c->path, strerror(errno));
			return -1;
		}
		if (client_now_ms() >= deadline) {
			client_error(c, "%s: timed out after %d ms", c->path, c->timeout_ms);
			return -1;
		}
		poll(NULL, 0, 10);
	}
	if (client_wait(c, POLLOUT, deadline) < 0)
		return -1;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr != 0) {
		client_error(c, "connect %s: %s", c->path, strerror(soerr));
		return -1;
	}
	return 0;
}

static int client_write(struct proto_client *c, const char *data, size_t len, int64_t deadline)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(c->fd, data + done, len - done, MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			client_error(c, "%s: write: %s", c->path, strerror(errno));
			return -1;
		}
		if (client_wait(c, POLLOUT, deadline) < 0)
			return -1;
	}
	return 0;
}

/* Reads more bytes into the buffer, after moving what is left to its front. */
static int client_fill(struct proto_client *c, int64_t deadline)
{
	ssize_t n;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->buf)) {
		client_error(c, "%s: answer line longer than %d bytes", c->path, PROTO_LINE_MAX);
		return -1;
	}
	for (;;) {
		n = recv(c->fd, c->buf + c->end, sizeof(c->buf) - c->end, 0);
		if (n > 0) {
			c->end += (size_t)n;
			return 0;
		}
		if (n == 0) {
			client_error(c, "%s: connection closed by the daemon", c->path);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			client_error(c, "%s: read: %s", c->path, strerror(errno));
			return -1;
		}
		if (client_wait(c, POLLIN, deadline) < 0)
			return -1;
	}
}

static int client_read_line(struct proto_client *client, struct proto_msg *msg_r, int64_t deadline)
{
	char *line, *lf;
	size_t len;
	int r;

	for (;;) {
		line = client->buf + client->start;
		lf = memchr(line, '\n', client->end - client->start);
		if (lf != NULL)
			break;
		if (client_fill(client, deadline) < 0)
			return -1;
	}
	len = (size_t)(lf - line);
	/* Consumed now, so a malformed line does not block the next one. */
	client->start += len + 1;
	r = proto_parse(line, len, msg_r);
	if (r != PROTO_OK) {
		client_error(client, "%s: malformed answer: %s", client->path, proto_error_str(r));
		return -1;
	}
	return 0;
}

int proto_client_recv(struct proto_client *client, struct proto_msg *msg_r)
{
	return client_read_line(client, msg_r, client_now_ms() + client->timeout_ms);
}

int proto_client_send(struct proto_client *client, const struct proto_writer *w)
{
	if (w->overflow || w->len == 0 || w->buf[w->len - 1] != '\n') {
		client_error(client, "%s: request line too long or not ended", client->path);
		return -1;
	}
	return client_write(client, w->buf, w->len, client_now_ms() + client->timeout_ms);
}

static const char client_hello[] = "VERSION\t0\tmajor=1\tminor=0\n";

/* Reads the daemon's VERSION line and checks its major version. */
static int client_version(struct proto_client *c, int64_t deadline)
{
	struct proto_msg msg;
	const char *major;

	if (client_read_line(c, &msg, deadline) < 0)
		return -1;
	if (strcmp(msg.verb, "VERSION") != 0) {
		client_error(c, "%s: expected VERSION from the daemon, got %s", c->path, msg.verb);
		return -1;
	}
	major = proto_get(&msg, "major");
	if (major == NULL || strcmp(major, "1") != 0) {
		/* Only digits reach the message: the value comes from the peer. */
		if (major == NULL || major[0] == '\0' || major[strspn(major, "0123456789")] != '\0')
			major = "?";
		client_error(c, "%s: the daemon speaks protocol version %.16s, this client %d",
		             c->path, major, PROTO_VERSION_MAJOR);
		return -1;
	}
	return 0;
}

/* Our VERSION line, and first (may be NULL) in the same write: the daemon reads both at once. */
static int client_hello_with(struct proto_client *c, const struct proto_writer *first,
                             int64_t deadline)
{
	char buf[sizeof(client_hello) + PROTO_LINE_MAX];
	size_t len = sizeof(client_hello) - 1;
	int r;

	memcpy(buf, client_hello, len);
	if (first != NULL) {
		memcpy(buf + len, first->buf, first->len);
		len += first->len;
	}
	r = client_write(c, buf, len, deadline);
	secret_wipe(buf, len); /* the request may carry a password */
	return r;
}

/* A socket of its own, connected before deadline. */
static struct proto_client *client_new(const char *path, int timeout_ms, int64_t *deadline_r,
                                       char *err, size_t errlen)
{
	struct proto_client *c;

	if (strlen(path) >= sizeof(c->path)) {
		snprintf(err, errlen, "%.64s...: socket path too long", path);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	memcpy(c->path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		client_error(c, "socket: %s", strerror(errno));
		goto fail;
	}
	/* One deadline for the connect and the VERSION exchange together. */
	*deadline_r = client_now_ms() + c->timeout_ms;
	if (client_connect_fd(c, *deadline_r) < 0)
		goto fail;
	return c;
fail:
	snprintf(err, errlen, "%s", c->err);
	proto_client_free(c);
	return NULL;
}

int proto_client_connect(const char *path, int timeout_ms, struct proto_client **client_r,
                         char *err, size_t errlen)
{
	return proto_client_open(path, timeout_ms, NULL, client_r, err, errlen);
}

int proto_client_open(const char *path, int timeout_ms, const struct proto_writer *first,
                      struct proto_client **client_r, char *err, size_t errlen)
{
	struct proto_client *c;
	int64_t deadline;

	*client_r = NULL;
	if ((c = client_new(path, timeout_ms, &deadline, err, errlen)) == NULL)
		return -1;
	if (first != NULL &&
	    (first->overflow || first->len == 0 || first->buf[first->len - 1] != '\n'))
		client_error(c, "%s: request line too long or not ended", c->path);
	else if (client_hello_with(c, first, deadline) == 0 && client_version(c, deadline) == 0) {
		*client_r = c;
		return 0;
	}
	snprintf(err, errlen, "%s", c->err);
	proto_client_free(c);
	return -1;
}

void proto_client_half_close(struct proto_client *client)
{
	/* The answers still come: a failure here only means the peer is gone. */
	(void)shutdown(client->fd, SHUT_WR);
}

const char *proto_client_error(const struct proto_client *client)
{
	return client->err;
}

void proto_client_free(struct proto_client *client)
{
	if (client == NULL)
		return;
	if (client->fd >= 0)
		close(client->fd);
	secret_wipe(client, sizeof(*client));
	free(client);
}
