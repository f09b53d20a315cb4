/* What the RADIUS front end (radius.c, radius_request.c, radius_reply.c) and radsec.c share. */
#ifndef VERDON_RADIUS_PRIV_H
#define VERDON_RADIUS_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;
struct radius_server;
struct radsec;

/* Where a packet came from, and so where its reply goes. */
struct radius_peer {
	int fd; /* the UDP socket; -1 for RadSec */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t tls_id; /* the RadSec connection; 0 for UDP */
};

/* epoll tags from this one up are RadSec's: its listening sockets, then its connections. */
#define RADSEC_TAG_MIN (1ull << 32)
#define RADSEC_LISTEN_MAX 8

/*
 * One packet from a peer; tls_client names the client section a RadSec
 * certificate maps to (NULL: UDP, found by address). Called in the loop.
 */
void radius_packet_in(struct radius_server *rs, const struct radius_peer *peer, const uint8_t *buf,
                      size_t len, const char *tls_client);
/* A bounded-rate log line about a dropped packet or peer. */
void radius_drop(struct radius_server *rs, const struct radius_peer *peer, const char *why);
/*
 * Opens a socket of type at each ADDRESS:PORT or [ADDRESS]:PORT of a list
 * separated by commas or blanks, into fds[*n_r…max); -1 with a log line
 * naming what ("radius", "radsec") when one is malformed or cannot be bound.
 */
int radius_listen_list(const char *what, const char *list, int type, int *fds, unsigned max,
                       unsigned *n_r);
/* "127.0.0.1" for an address. */
void radius_peer_ip(const struct radius_peer *peer, char *buf, size_t len);

/* RadSec in radsec.c, driven by radius.c's loop. */
struct daemon;
struct radsec *radsec_new(struct radius_server *rs, struct daemon *d, int ep);
void radsec_event(struct radsec *r, uint64_t tag, uint32_t events);
/* Cuts slow handshakes and idle connections; called at least once a second. */
void radsec_tick(struct radsec *r);
/* Queues a reply on a connection (gone: dropped). */
void radsec_send(struct radsec *r, uint64_t tls_id, const uint8_t *buf, size_t len);
/* The client section a certificate maps to; called with the config read-locked. */
const char *radsec_client_of(const struct config *c, void *x509);
void radsec_free(struct radsec *r); /* NULL is a no-op */

#endif
