/*
 * The RADIUS front end's thread: one epoll loop over the UDP sockets, RadSec
 * (radsec.c), the answers of the worker pool, and a timer list (requests
 * held by the address penalty, delayed rejects). A packet goes to
 * radius_request.c, which turns it into the AUTH a socket client would send;
 * the answer comes back here and radius_reply.c makes the reply.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "penalty.h"
#include "radius.h"
#include "radius_job.h"
#include "secret.h"

#define STOP_GRACE_MS 10000
#define HELD_MAX 4096 /* held requests and delayed rejects, all addresses together */

enum { TAG_DONE = 1, TAG_STOP, TAG_UDP_MIN = 16 };

uint64_t radius_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void radius_peer_ip(const struct radius_peer *peer, char *buf, size_t len)
{
	const void *a = peer->addr.ss_family == AF_INET6
	                    ? (const void *)&((const struct sockaddr_in6 *)&peer->addr)->sin6_addr
	                    : (const void *)&((const struct sockaddr_in *)&peer->addr)->sin_addr;

	if (inet_ntop(peer->addr.ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static unsigned peer_port(const struct radius_peer *peer)
{
	return ntohs(peer->addr.ss_family == AF_INET6
	                 ? ((const struct sockaddr_in6 *)&peer->addr)->sin6_port
	                 : ((const struct sockaddr_in *)&peer->addr)->sin_port);
}

/* One log line about a peer, at most log_max a second; the rest are counted. */
void radius_rate_log(struct radius_server *rs, const struct radius_peer *peer, const char *what,
                     const char *why)
{
	uint64_t second = radius_mono_ms() / 1000;
	char ip[INET6_ADDRSTRLEN];

	if (second != rs->log_second) {
		if (rs->log_suppressed > 0)
			log_warn(
			    "radius: %lu more lines about dropped or refused packets not logged",
			    rs->log_suppressed);
		rs->log_second = second;
		rs->log_lines = 0;
		rs->log_suppressed = 0;
	}
	if (rs->log_lines >= rs->log_max) {
		rs->log_suppressed++;
		return;
	}
	rs->log_lines++;
	radius_peer_ip(peer, ip, sizeof(ip));
	log_warn("radius: %s from %s%s port %u: %s", what, ip, peer->tls_id != 0 ? " (radsec)" : "",
	         peer_port(peer), why);
}

void radius_drop(struct radius_server *rs, const struct radius_peer *peer, const char *why)
{
	radius_rate_log(rs, peer, "dropped a packet", why);
}

/* Inserts a job in the timed list, soonest first; false when the list is full. */
bool radius_hold(struct radius_server *rs, struct rad_job *job)
{
	struct rad_job **pp;

	if (rs->nheld >= HELD_MAX)
		return false;
	rs->nheld++;
	for (pp = &rs->held; *pp != NULL && (*pp)->due_ms <= job->due_ms; pp = &(*pp)->next)
		;
	job->next = *pp;
	*pp = job;
	return true;
}

static void udp_read(struct radius_server *rs, int fd)
{
	uint8_t buf[RADIUS_PACKET_MAX];

	/* A bounded batch per wake-up, so that no socket starves the others. */
	for (int i = 0; i < 64; i++) {
		struct radius_peer peer = {.fd = fd, .addrlen = sizeof(peer.addr)};
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		                     (struct sockaddr *)&peer.addr, &peer.addrlen);

		if (n < 0)
			break;
		radius_packet_in(rs, &peer, buf, (size_t)n, NULL);
	}
	secret_wipe(buf, sizeof(buf));
}

static void take_done(struct radius_server *rs)
{
	struct rad_job *list;
	uint64_t n;

	if (read(rs->done_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("radius: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&rs->lock);
	list = rs->done;
	rs->done = NULL;
	pthread_mutex_unlock(&rs->lock);
	pthread_rwlock_rdlock(&rs->d->config_lock);
	while (list != NULL) {
		struct rad_job *job = list;

		list = job->next;
		rs->inflight--;
		radius_job_answered(rs, job);
	}
	pthread_rwlock_unlock(&rs->d->config_lock);
}

/* Runs what is due; ms until the next one (at most a second). */
static int run_held(struct radius_server *rs, bool all)
{
	uint64_t now = penalty_now_ms();

	pthread_rwlock_rdlock(&rs->d->config_lock);
	while (rs->held != NULL && (all || rs->held->due_ms <= now)) {
		struct rad_job *job = rs->held;

		rs->held = job->next;
		rs->nheld--;
		if (job->phase == JOB_DELAYED) {
			radius_job_reply(rs, job);
			continue;
		}
		penalty_release(rs->d->penalty, job->addr);
		radius_job_submit(rs, job);
	}
	pthread_rwlock_unlock(&rs->d->config_lock);
	if (rs->held == NULL)
		return 1000;
	return rs->held->due_ms - now > 1000 ? 1000 : (int)(rs->held->due_ms - now);
}

static void *radius_main(void *arg)
{
	struct radius_server *rs = arg;
	struct epoll_event evs[32];
	uint64_t deadline = 0;

	for (;;) {
		int n = epoll_wait(rs->ep, evs, 32, run_held(rs, deadline != 0));

		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_DONE)
				take_done(rs);
			else if (tag == TAG_STOP && deadline == 0)
				deadline = radius_mono_ms() + STOP_GRACE_MS;
			else if (tag >= RADSEC_TAG_MIN && deadline == 0)
				radsec_event(rs->radsec, tag, evs[i].events);
			else if (tag >= TAG_UDP_MIN && tag < TAG_UDP_MIN + LISTEN_MAX &&
			         deadline == 0)
				udp_read(rs, rs->udp[tag - TAG_UDP_MIN]);
		}
		radsec_tick(rs->radsec);
		/* Stopping: every decision in flight is answered first (its state is committed). */
		if (deadline != 0 && (rs->inflight == 0 || radius_mono_ms() > deadline))
			break;
	}
	return NULL;
}

int radius_listen_list(const char *what, const char *list, int type, int *fds, unsigned max,
                       unsigned *n_r)
{
	char buf[1024], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return -1;
	memcpy(buf, list, strlen(list) + 1);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		struct sockaddr_storage ss;
		bool v6;
		int fd;

		if (*n_r == max || listen_parse_inet(tok, &ss, &v6) < 0) {
			log_err("%s: listen = %s: give up to %u ADDRESS:PORT or [ADDRESS]:PORT",
			        what, tok, max);
			return -1;
		}
		if ((fd = listen_inet(&ss, type)) < 0) {
			log_err("%s: cannot listen on %s: %s", what, tok, strerror(errno));
			return -1;
		}
		fds[(*n_r)++] = fd;
		log_info("%s: listening on %s", what, tok);
	}
	return 0;
}

static int listen_all(struct radius_server *rs, const char *list)
{
	if (radius_listen_list("radius", list, SOCK_DGRAM, rs->udp, LISTEN_MAX, &rs->nudp) < 0)
		return -1;
	for (unsigned i = 0; i < rs->nudp; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_UDP_MIN + i};

		if (epoll_ctl(rs->ep, EPOLL_CTL_ADD, rs->udp[i], &ev) < 0)
			return -1;
	}
	return 0;
}

struct radius_server *radius_start(struct daemon *d)
{
	const struct config *c = d->config;
	struct radius_server *rs = calloc(1, sizeof(*rs));
	struct epoll_event ev = {.events = EPOLLIN};

	if (rs == NULL)
		return NULL;
	rs->d = d;
	rs->here.daemon = d;
	rs->decide_here = c->store_backend == NULL || strcmp(c->store_backend, "lmdb") == 0;
	rs->log_max = c->radius_log_per_second;
	rs->done_fd = rs->stop_fd = -1;
	pthread_mutex_init(&rs->lock, NULL);
	if ((rs->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (rs->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (rs->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (rs->states = radius_states_new()) == NULL || (rs->cache = radius_cache_new()) == NULL)
		goto fail;
	ev.data.u64 = TAG_DONE;
	if (epoll_ctl(rs->ep, EPOLL_CTL_ADD, rs->done_fd, &ev) < 0)
		goto fail;
	ev.data.u64 = TAG_STOP;
	if (epoll_ctl(rs->ep, EPOLL_CTL_ADD, rs->stop_fd, &ev) < 0)
		goto fail;
	if (c->radius_listen != NULL && listen_all(rs, c->radius_listen) < 0)
		goto fail;
	if (c->radsec_listen != NULL && (rs->radsec = radsec_new(rs, d, rs->ep)) == NULL)
		goto fail;
	if (pthread_create(&rs->thread, NULL, radius_main, rs) != 0)
		goto fail;
	rs->started = true;
	return rs;
fail:
	log_err("radius: start-up failed");
	radius_stop(rs);
	return NULL;
}

void radius_stop(struct radius_server *rs)
{
	uint64_t one = 1;

	if (rs == NULL)
		return;
	if (rs->started) {
		if (write(rs->stop_fd, &one, sizeof(one)) < 0)
			log_err("radius: eventfd write: %s", strerror(errno));
		pthread_join(rs->thread, NULL);
	}
	/*
	 * What the workers still hold (a hash that outlived the grace) will come
	 * back here: leave this memory to the exit, as the pool leaves its own.
	 */
	if (rs->inflight > 0) {
		log_warn("radius: %u decisions still running at exit", rs->inflight);
		return;
	}
	while (rs->held != NULL) {
		struct rad_job *job = rs->held;

		rs->held = job->next;
		rs->nheld--;
		if (job->phase == JOB_HELD)
			penalty_release(rs->d->penalty, job->addr);
		radius_job_free(job);
	}
	radsec_free(rs->radsec);
	for (unsigned i = 0; i < rs->nudp; i++)
		close(rs->udp[i]);
	if (rs->ep >= 0)
		close(rs->ep);
	if (rs->done_fd >= 0)
		close(rs->done_fd);
	if (rs->stop_fd >= 0)
		close(rs->stop_fd);
	radius_jobs_spare_free(rs);
	radius_states_free(rs->states);
	radius_cache_free(rs->cache);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}
