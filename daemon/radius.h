/*
 * The RADIUS front end (RFC 2865 PAP, RFC 5080 retransmissions, RFC 5997
 * Status-Server) and RadSec (RFC 6614): one thread with its own epoll loop;
 * every Access-Request becomes an AUTH for the worker pool through bridge.c,
 * so the decision, the policies and the audit are every front end's.
 */
#ifndef VERDON_RADIUS_H
#define VERDON_RADIUS_H

struct daemon;
struct radius_server;

/* Listens where [radius] and [radsec] listen say; NULL with a log line on failure. */
struct radius_server *radius_start(struct daemon *d);
/* Stops taking packets, waits for the decisions in flight, frees. NULL is a no-op. */
void radius_stop(struct radius_server *rs);

#endif
