/* Unix listening sockets and who may use the admin one. */
#ifndef VERDON_LISTEN_H
#define VERDON_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

/* A non-blocking listening socket at path with mode and group (gid -1: unchanged). */
int listen_unix(const char *path, unsigned mode, gid_t gid);
/* Root, the daemon's own user, or a member of the admin group. */
bool peer_is_admin(uid_t uid, gid_t gid, gid_t admin_gid, bool have_group);

#endif
