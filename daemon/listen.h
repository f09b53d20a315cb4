/* Unix listening sockets and who may use the admin one. */
#ifndef VERDON_LISTEN_H
#define VERDON_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

struct sockaddr_storage;

/*
 * A non-blocking listening socket at path with mode and group (gid -1: unchanged): the one
 * systemd passed for that path when socket-activated (refused when more open than mode and
 * gid allow), else a new one.
 */
int listen_unix(const char *path, unsigned mode, gid_t gid);
/* Unlinks the socket file at path, unless systemd passed it (then it is systemd's to keep). */
void listen_release(const char *path);
/* Root, the daemon's own user, or a member of the admin group. */
bool peer_is_admin(uid_t uid, gid_t gid, gid_t admin_gid, bool have_group);

/* "127.0.0.1:8080" or "[::1]:8080", numeric only; -1 when malformed. */
int listen_parse_inet(const char *text, struct sockaddr_storage *ss, bool *v6_r);
/* A non-blocking, close-on-exec socket bound at ss: SOCK_DGRAM, or SOCK_STREAM listening. */
int listen_inet(const struct sockaddr_storage *ss, int type);

#endif
