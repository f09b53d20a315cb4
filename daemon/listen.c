#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "listen.h"
#include "log.h"

#define ACTIVATED_MAX 4

/* Paths of the sockets systemd passed: theirs to keep, never unlinked here. */
static char activated_paths[ACTIVATED_MAX][sizeof(((struct sockaddr_un *)0)->sun_path)];

static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* A socket file left by a dead daemon is removed; a live daemon's is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0) {
		log_err("%s: another daemon is serving this socket", path);
		return -1;
	}
	return unlink(path);
}

/*
 * The listening socket systemd passed for path (socket activation), or -1.
 * Its file must not be more open than the configured mode, nor of another
 * group than the configured one: a .socket unit out of step with verdon.conf
 * must not open the admin socket to everybody.
 */
static int listen_activated(const char *path, unsigned mode, gid_t gid)
{
	int n = sd_listen_fds(0), slot;
	struct stat st;

	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, path, 0) <= 0)
			continue;
		if (stat(path, &st) < 0 || (st.st_mode & 0666 & ~mode) != 0 ||
		    (gid != (gid_t)-1 && st.st_gid != gid)) {
			log_err("%s: the socket systemd passed is more open than verdon.conf says "
			        "(mode %04o, group %u): align the .socket unit's SocketMode and "
			        "SocketGroup",
			        path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
			return -2;
		}
		for (slot = 0; slot < ACTIVATED_MAX && activated_paths[slot][0] != '\0'; slot++)
			;
		if (slot < ACTIVATED_MAX)
			snprintf(activated_paths[slot], sizeof(activated_paths[slot]), "%s", path);
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			return -2;
		log_info("%s: socket from systemd", path);
		return fd;
	}
	return -1;
}

void listen_release(const char *path)
{
	for (int i = 0; i < ACTIVATED_MAX; i++)
		if (strcmp(activated_paths[i], path) == 0)
			return;
	unlink(path);
}

int listen_unix(const char *path, unsigned mode, gid_t gid)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old_mask;
	int fd = -1;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("%s: socket path too long", path);
		return -1;
	}
	if ((fd = listen_activated(path, mode, gid)) != -1)
		return fd < 0 ? -1 : fd;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (make_parent(path) < 0 || clear_stale(path, &sun) < 0)
		goto fail;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	/* Born with no access, then opened up to the configured mode: no window. */
	old_mask = umask(0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old_mask);
		goto fail;
	}
	umask(old_mask);
	if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) || chmod(path, mode) < 0 ||
	    listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	log_err("listen on %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

bool peer_is_admin(uid_t uid, gid_t gid, gid_t admin_gid, bool have_group)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256;

	if (uid == 0 || uid == geteuid())
		return true;
	if (!have_group)
		return false;
	if (gid == admin_gid)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == admin_gid)
			return true;
	return false;
}

int listen_parse_inet(const char *text, struct sockaddr_storage *ss, bool *v6_r)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	size_t n = colon != NULL ? (size_t)(colon - text) : 0;
	char *end;
	unsigned long port = colon != NULL ? strtoul(colon + 1, &end, 10) : 0;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || *end != '\0' || colon[1] == '\0' || port == 0 || port > 65535)
		return -1;
	*v6_r = text[0] == '[';
	if (*v6_r && (n < 2 || text[n - 1] != ']'))
		return -1;
	if (*v6_r)
		text++, n -= 2;
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	if (*v6_r) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1 ? 0 : -1;
}

int listen_inet(const struct sockaddr_storage *ss, int type)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                           : sizeof(struct sockaddr_in);
	int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}
