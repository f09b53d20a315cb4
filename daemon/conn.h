/* One client connection: its buffers, its handshake, its requests in flight. */
#ifndef VERDON_CONN_H
#define VERDON_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon.h"

struct conn {
	int fd;
	uint64_t id; /* (sequence << 32) | fd: a reused fd never matches an old id */
	enum socket_kind kind;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin_ok;
	bool handshake_done;
	bool read_closed; /* EOF seen, or shutting down: no more requests */
	bool closing;     /* answer what is in flight, flush, then close */
	unsigned pending; /* requests at the workers */
	time_t last_active;
	time_t line_since; /* when the partial line in rbuf began (rlen > 0) */
	char *rbuf;        /* PROTO_LINE_MAX bytes */
	size_t rlen;
	char *wbuf;
	size_t wlen, woff, wcap;
	uint32_t events; /* what epoll watches for it now: changed only when it must be */
};

#endif
