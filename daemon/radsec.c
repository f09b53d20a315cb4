/*
 * RadSec (RADIUS over TLS, RFC 6614) in radius.c's loop: non-blocking
 * OpenSSL, TLS 1.2 or later, a client certificate required and checked
 * against [radsec] ca_file, then mapped to the [radius.client NAME] whose
 * tls_name it carries (DNS name or CN). Packets are framed by their Length.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "radius_codec.h"
#include "radius_priv.h"
#include "secret.h"

#define CONNS_MAX 64
#define WBUF_MAX (1u << 20)
#define HANDSHAKE_MS 10000 /* a handshake not done by then: cut */
#define IDLE_MS 600000     /* RadSec peers keep connections open; a silent one goes after this */

struct tls_conn {
	struct tls_conn *next;
	uint64_t tag;
	SSL *ssl;
	bool ready;     /* handshake done and the certificate mapped */
	uint64_t since; /* monotonic ms: accepted, or last packet */
	char client[RADIUS_NAME_MAX + 1];
	struct radius_peer peer;
	uint8_t rbuf[RADIUS_PACKET_MAX];
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen;
};

struct radsec {
	struct radius_server *rs;
	struct daemon *d;
	SSL_CTX *ctx;
	int lfds[RADSEC_LISTEN_MAX], ep;
	unsigned nlfds;
	struct tls_conn *conns;
	unsigned nconns;
	uint64_t next_tag;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_close(struct radsec *r, struct tls_conn *tc)
{
	struct tls_conn **pp;

	for (pp = &r->conns; *pp != NULL && *pp != tc; pp = &(*pp)->next)
		;
	if (*pp == tc)
		*pp = tc->next;
	epoll_ctl(r->ep, EPOLL_CTL_DEL, tc->peer.fd, NULL);
	SSL_free(tc->ssl);
	close(tc->peer.fd);
	if (tc->wbuf != NULL)
		secret_wipe(tc->wbuf, WBUF_MAX);
	free(tc->wbuf);
	secret_wipe(tc, sizeof(*tc));
	free(tc);
	r->nconns--;
}

static void conn_watch(struct radsec *r, struct tls_conn *tc, bool want_write)
{
	struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0u),
	                         .data.u64 = tc->tag};

	epoll_ctl(r->ep, EPOLL_CTL_MOD, tc->peer.fd, &ev);
}

const char *radsec_client_of(const struct config *c, void *x509)
{
	for (unsigned i = 0; i < c->nradius_clients; i++) {
		const struct radius_client *rc = &c->radius_clients[i];

		if (rc->tls_name != NULL &&
		    X509_check_host(x509, rc->tls_name, strlen(rc->tls_name), 0, NULL) == 1)
			return rc->name;
	}
	return NULL;
}

/* After the handshake: the chain was verified by OpenSSL; which client is it? */
static bool conn_map(struct radsec *r, struct tls_conn *tc)
{
	X509 *cert = SSL_get1_peer_certificate(tc->ssl);
	const char *name = NULL;

	if (cert != NULL && SSL_get_verify_result(tc->ssl) == X509_V_OK) {
		pthread_rwlock_rdlock(&r->d->config_lock);
		name = radsec_client_of(r->d->config, cert);
		if (name != NULL)
			memcpy(tc->client, name, strlen(name) + 1);
		pthread_rwlock_unlock(&r->d->config_lock);
	}
	X509_free(cert);
	if (name == NULL) {
		radius_drop(r->rs, &tc->peer,
		            "radsec: no client section's tls_name in the certificate");
		return false;
	}
	tc->ready = true;
	return true;
}

/* Writes what it can; false: the connection is gone. */
static bool conn_flush(struct radsec *r, struct tls_conn *tc)
{
	while (tc->wlen > 0) {
		int n = SSL_write(tc->ssl, tc->wbuf, (int)tc->wlen);

		if (n <= 0) {
			int e = SSL_get_error(tc->ssl, n);

			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				conn_watch(r, tc, true);
				return true;
			}
			conn_close(r, tc);
			return false;
		}
		memmove(tc->wbuf, tc->wbuf + n, tc->wlen - (size_t)n);
		tc->wlen -= (size_t)n;
	}
	conn_watch(r, tc, false);
	return true;
}

/* Hands over every whole packet; false on a framing error (closed). */
static bool conn_packets(struct radsec *r, struct tls_conn *tc)
{
	while (tc->rlen >= 4) {
		size_t plen = (size_t)tc->rbuf[2] << 8 | tc->rbuf[3];

		if (plen < RADIUS_HEADER_LEN || plen > RADIUS_PACKET_MAX) {
			radius_drop(r->rs, &tc->peer, "radsec: bad Length: connection closed");
			conn_close(r, tc);
			return false;
		}
		if (tc->rlen < plen)
			break;
		tc->since = mono_ms();
		radius_packet_in(r->rs, &tc->peer, tc->rbuf, plen, tc->client);
		memmove(tc->rbuf, tc->rbuf + plen, tc->rlen - plen);
		tc->rlen -= plen;
	}
	return true;
}

static void conn_event(struct radsec *r, struct tls_conn *tc)
{
	int n, e;

	if (!tc->ready) {
		n = SSL_do_handshake(tc->ssl);
		if (n != 1) {
			e = SSL_get_error(tc->ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				conn_watch(r, tc, e == SSL_ERROR_WANT_WRITE);
				return;
			}
			radius_drop(r->rs, &tc->peer, "radsec: TLS handshake failed");
			ERR_clear_error();
			conn_close(r, tc);
			return;
		}
		if (!conn_map(r, tc)) {
			conn_close(r, tc);
			return;
		}
	}
	for (;;) {
		n = SSL_read(tc->ssl, tc->rbuf + tc->rlen, (int)(sizeof(tc->rbuf) - tc->rlen));
		if (n <= 0) {
			e = SSL_get_error(tc->ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				break;
			ERR_clear_error();
			conn_close(r, tc); /* closed by the peer, or broken */
			return;
		}
		tc->rlen += (size_t)n;
		if (!conn_packets(r, tc))
			return;
	}
	conn_flush(r, tc);
}

static void accept_conns(struct radsec *r, int lfd)
{
	for (;;) {
		struct radius_peer peer = {.addrlen = sizeof(peer.addr)};
		struct epoll_event ev = {.events = EPOLLIN};
		struct tls_conn *tc;
		int fd = accept4(lfd, (struct sockaddr *)&peer.addr, &peer.addrlen,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		peer.fd = fd;
		if (r->nconns >= CONNS_MAX || (tc = calloc(1, sizeof(*tc))) == NULL) {
			radius_drop(r->rs, &peer, "radsec: too many connections");
			close(fd);
			continue;
		}
		tc->peer = peer;
		tc->since = mono_ms();
		tc->tag = ++r->next_tag;
		tc->peer.tls_id = tc->tag;
		if ((tc->ssl = SSL_new(r->ctx)) == NULL || SSL_set_fd(tc->ssl, fd) != 1) {
			SSL_free(tc->ssl);
			free(tc);
			close(fd);
			continue;
		}
		SSL_set_accept_state(tc->ssl);
		tc->next = r->conns;
		r->conns = tc;
		r->nconns++;
		ev.data.u64 = tc->tag;
		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			conn_close(r, tc);
			continue;
		}
		conn_event(r, tc);
	}
}

static struct tls_conn *conn_find(struct radsec *r, uint64_t tag)
{
	for (struct tls_conn *tc = r->conns; tc != NULL; tc = tc->next)
		if (tc->tag == tag)
			return tc;
	return NULL;
}

void radsec_event(struct radsec *r, uint64_t tag, uint32_t events)
{
	struct tls_conn *tc;

	(void)events;
	if (r == NULL)
		return;
	if (tag < RADSEC_TAG_MIN + r->nlfds)
		accept_conns(r, r->lfds[tag - RADSEC_TAG_MIN]);
	else if ((tc = conn_find(r, tag)) != NULL)
		conn_event(r, tc);
}

void radsec_tick(struct radsec *r)
{
	uint64_t now = mono_ms();
	struct tls_conn *tc, *next;

	if (r == NULL)
		return;
	for (tc = r->conns; tc != NULL; tc = next) {
		next = tc->next;
		if (now - tc->since > (tc->ready ? IDLE_MS : HANDSHAKE_MS)) {
			radius_drop(r->rs, &tc->peer,
			            tc->ready ? "radsec: idle connection closed"
			                      : "radsec: handshake too slow: closed");
			conn_close(r, tc);
		}
	}
}

void radsec_send(struct radsec *r, uint64_t tls_id, const uint8_t *buf, size_t len)
{
	struct tls_conn *tc = r != NULL ? conn_find(r, tls_id) : NULL;

	if (tc == NULL)
		return; /* gone meanwhile */
	if (tc->wbuf == NULL && (tc->wbuf = malloc(WBUF_MAX)) == NULL)
		return;
	if (tc->wlen + len > WBUF_MAX) {
		radius_drop(r->rs, &tc->peer, "radsec: peer does not read its replies: closed");
		conn_close(r, tc);
		return;
	}
	memcpy(tc->wbuf + tc->wlen, buf, len);
	tc->wlen += len;
	conn_flush(r, tc);
}

static SSL_CTX *ctx_new(const struct config *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, c->radsec_certificate) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, c->radsec_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, c->radsec_ca_file, NULL) != 1) {
		log_err("radsec: certificate %s, key %s or ca_file %s unusable: %s",
		        c->radsec_certificate, c->radsec_key, c->radsec_ca_file,
		        ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

struct radsec *radsec_new(struct radius_server *rs, struct daemon *d, int ep)
{
	const struct config *c = d->config;
	struct radsec *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->rs = rs;
	r->d = d;
	r->ep = ep;
	/* connections' tags follow the listening sockets' */
	r->next_tag = RADSEC_TAG_MIN + RADSEC_LISTEN_MAX;
	if ((r->ctx = ctx_new(c)) == NULL ||
	    radius_listen_list("radsec", c->radsec_listen, SOCK_STREAM, r->lfds, RADSEC_LISTEN_MAX,
	                       &r->nlfds) < 0)
		goto fail;
	for (unsigned i = 0; i < r->nlfds; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = RADSEC_TAG_MIN + i};

		if (epoll_ctl(ep, EPOLL_CTL_ADD, r->lfds[i], &ev) < 0)
			goto fail;
	}
	return r;
fail:
	radsec_free(r);
	return NULL;
}

void radsec_free(struct radsec *r)
{
	if (r == NULL)
		return;
	while (r->conns != NULL)
		conn_close(r, r->conns);
	for (unsigned i = 0; i < r->nlfds; i++)
		close(r->lfds[i]);
	SSL_CTX_free(r->ctx);
	free(r);
}
