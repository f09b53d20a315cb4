/*
 * The event loop (epoll, one thread): the sockets, signals, the one-second
 * timer, reload and shutdown, and the hand-back of finished requests; the
 * connections themselves are in server_conn.c, held requests in server_hold.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "daemon.h"
#include "http.h"
#include "listen.h"
#include "auditq.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "penalty.h"
#include "radius.h"
#include "reason.h"
#include "secret.h"
#include "server.h"
#include "server_priv.h"
#include "store.h"
#include "workers.h"

/* epoll tags below this are not connections. */
enum {
	TAG_AUTH = 1,
	TAG_ADMIN,
	TAG_SIGNAL,
	TAG_DONE,
	TAG_TIMER,
	TAG_WAKE,
	TAG_CONN_MIN = 1u << 16
};

#define SHUTDOWN_GRACE 10 /* seconds to finish what is in flight */

static unsigned conns_of_uid(const struct server *s, uid_t uid)
{
	unsigned n = 0;

	for (unsigned fd = 0, seen = 0; fd < s->nconns_max && seen < s->nconns; fd++)
		if (s->conns[fd] != NULL) {
			seen++;
			n += s->conns[fd]->uid == uid;
		}
	return n;
}

static void server_accept(struct server *s, enum socket_kind kind)
{
	int fd = accept4(s->listen_fd[kind], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct conn *c = NULL;
	struct proto_writer w;

	if (fd < 0)
		return;
	if ((unsigned)fd >= s->nconns_max || s->nconns >= cfg(s)->max_connections ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (c = calloc(1, sizeof(*c))) == NULL || (c->rbuf = malloc(PROTO_LINE_MAX)) == NULL) {
		log_warn("connection refused: too many connections or out of memory");
		free(c);
		close(fd);
		return;
	}
	/* One local user cannot take every connection from the others. */
	if (conns_of_uid(s, cred.uid) >= cfg(s)->max_connections_per_uid) {
		log_warn("connection refused: uid %u has %u connections (max_connections_per_uid)",
		         (unsigned)cred.uid, cfg(s)->max_connections_per_uid);
		free(c->rbuf);
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->id = (++s->seq << 32) | (unsigned)fd;
	c->kind = kind;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->last_active = time(NULL);
	if (kind == SOCKET_ADMIN)
		c->admin_ok = peer_is_admin(cred.uid, cred.gid, cfg(s)->admin_gid,
		                            cfg(s)->admin_group != NULL);
	s->conns[fd] = c;
	s->nconns++;
	atomic_fetch_add(&s->d->connections, 1);
	proto_begin(&w, "VERSION", "0");
	proto_addf(&w, "major", "%d", PROTO_VERSION_MAJOR);
	proto_addf(&w, "minor", "%d", PROTO_VERSION_MINOR);
	proto_end(&w);
	conn_queue(c, w.buf, w.len);
	c->events = EPOLLIN | EPOLLRDHUP;
	watch(s, fd, c->events, c->id, EPOLL_CTL_ADD);
	/* A one-request client (the PAM module) sends its request with its VERSION line: read it
	 * now, and our VERSION leaves with the answer, in one write the client waits for once. */
	conn_read(s, c);
}

static void server_done(struct server *s)
{
	struct request *req = pool_take_done(s->pool), *next;

	for (; req != NULL; req = next) {
		struct conn *c = conn_find(s, req->conn_id);

		next = req->next;
		if (c != NULL) {
			c->pending--;
			conn_reply(c, req);
			conn_flush(s, c);
		}
		request_free(req);
	}
}

static void server_internal(struct server *s, const struct verb *verb)
{
	struct request *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return;
	req->verb = verb;
	req->kind = SOCKET_ADMIN;
	req->msg.id = "0";
	req->msg.verb = verb->name;
	if (!pool_submit(s->pool, req))
		request_free(req);
}

/* Two optional strings are equal (both absent counts). */
static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void server_reload(struct server *s)
{
	struct config *fresh, *old = s->d->config;
	char err[512];

	if (config_load(old->path, &fresh, err, sizeof(err)) < 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(fresh->state_dir, old->state_dir) != 0 ||
	    strcmp(fresh->auth_socket, old->auth_socket) != 0 ||
	    strcmp(fresh->admin_socket, old->admin_socket) != 0 || fresh->workers != old->workers ||
	    fresh->argon2.m_kib != old->argon2.m_kib ||
	    !same(fresh->radius_listen, old->radius_listen) ||
	    !same(fresh->radsec_listen, old->radsec_listen))
		log_warn(
		    "reload: state_dir, sockets, workers, argon2 memory and the RADIUS listeners "
		    "change only at restart");
	pthread_rwlock_wrlock(&s->d->config_lock);
	s->d->config = fresh;
	pthread_rwlock_unlock(&s->d->config_lock);
	config_free(old);
	s->held_wake = true; /* the penalty's pace may have changed: ask the held requests again */
	log_set_debug(fresh->debug);
	log_info("configuration reloaded from %s", fresh->path);
	notify_reloading();
}

static void server_stop(struct server *s)
{
	if (s->stopping)
		return;
	notify_stopping();
	s->stopping = true;
	s->stop_deadline = time(NULL) + SHUTDOWN_GRACE;
	for (int k = 0; k < 2; k++) {
		epoll_ctl(s->ep, EPOLL_CTL_DEL, s->listen_fd[k], NULL);
		close(s->listen_fd[k]);
		s->listen_fd[k] = -1;
	}
	listen_release(cfg(s)->auth_socket);
	listen_release(cfg(s)->admin_socket);
	for (unsigned fd = 0; fd < s->nconns_max; fd++) {
		/* Lines already received get their answer (TEMPFAIL), not a silent hang-up. */
		if (s->conns[fd] != NULL)
			conn_read(s, s->conns[fd]);
		if (s->conns[fd] != NULL) {
			s->conns[fd]->read_closed = true;
			conn_flush(s, s->conns[fd]);
		}
	}
	log_info("stopping: finishing %u requests in flight", pool_busy(s->pool));
}

static void server_signal(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			server_reload(s);
		else
			server_stop(s);
	}
}

static void server_tick(struct server *s)
{
	uint64_t expirations;
	time_t now = time(NULL);

	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	notify_watchdog(); /* the loop turns: a hung loop stops these and systemd restarts it */
	for (unsigned fd = 0; fd < s->nconns_max; fd++) {
		struct conn *c = s->conns[fd];

		if (c == NULL)
			continue;
		/* Idle, or a reader too slow to take its answers: cut it off. */
		if (c->pending == 0 && now - c->last_active > (time_t)cfg(s)->idle_timeout) {
			conn_close(s, c);
			continue;
		}
		/* A line sent a byte at a time: whatever its pace, it must end in time. */
		if (c->rlen > 0 && now - c->line_since >= (time_t)cfg(s)->line_timeout) {
			log_warn("connection of uid %u cut: a line unfinished after %u s",
			         (unsigned)c->uid, cfg(s)->line_timeout);
			conn_close(s, c);
		}
	}
	if (s->stopping)
		return;
	if (auditq_pending(s->d->auditq) > 0)
		server_internal(s, &audit_flush_verb);
	if (++s->ticks % 60 == 1)
		server_internal(s, &housekeeping_verb);
	if (s->ticks % 3600 == 2)
		server_internal(s, &purge_verb);
}

static void server_event(struct server *s, const struct epoll_event *ev)
{
	struct conn *c;

	switch (ev->data.u64) {
	case TAG_AUTH:
		server_accept(s, SOCKET_AUTH);
		return;
	case TAG_ADMIN:
		server_accept(s, SOCKET_ADMIN);
		return;
	case TAG_SIGNAL:
		server_signal(s);
		return;
	case TAG_DONE:
		server_done(s);
		return;
	case TAG_TIMER:
		server_tick(s);
		return;
	case TAG_WAKE: {
		uint64_t n;

		if (read(s->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			log_warn("penalty wake-up: %s", strerror(errno));
		s->held_wake = true;
		return;
	}
	}
	if ((c = conn_find(s, ev->data.u64)) == NULL)
		return;
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(s, c);
	else if (ev->events & EPOLLOUT)
		conn_flush(s, c);
}

static int server_setup(struct server *s)
{
	const struct config *c = cfg(s);
	struct itimerspec one_second = {.it_interval = {1, 0}, .it_value = {1, 0}};
	struct rlimit rl;
	sigset_t mask;
	unsigned nworkers = c->workers;

	s->listen_fd[0] = s->listen_fd[1] = s->signal_fd = s->timer_fd = s->wake_fd = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	s->nconns_max = (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536)
	                    ? (unsigned)rl.rlim_cur
	                    : 65536;
	if ((s->conns = calloc(s->nconns_max, sizeof(*s->conns))) == NULL)
		return -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	/* Blocked before the workers start, so they inherit it and the signalfd gets them all. */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (nworkers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nworkers = n > 0 ? (unsigned)n : 1;
	}
	s->d->workers = nworkers;
	/* A database over the network may keep a read waiting (a failover): never the loop. */
	s->inline_reads = !store_config_shared(c);
	if ((s->pool = pool_new(s->d, nworkers, c->fast_workers != 0 ? c->fast_workers : nworkers,
	                        c->queue_max, &c->argon2)) == NULL) {
		log_err("cannot start %u workers with %u KiB of Argon2 memory each", nworkers,
		        c->argon2.m_kib);
		return -1;
	}
	s->d->pool = s->pool;
	/* After the pool (its requests go there) and the signal mask (its threads inherit it). */
	if (c->http_listen != NULL && (s->http = http_start(s->d)) == NULL)
		return -1;
	if ((c->radius_listen != NULL || c->radsec_listen != NULL) &&
	    (s->radius = radius_start(s->d)) == NULL)
		return -1;
	if (c->metrics_listen != NULL && (s->metrics = metrics_start(s->d)) == NULL)
		return -1;
	if ((s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(s->timer_fd, 0, &one_second, NULL) < 0 ||
	    (s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    penalty_on_clear(s->d->penalty, server_wake, s) < 0)
		return -1;
	s->listen_fd[SOCKET_AUTH] = listen_unix(c->auth_socket, c->auth_socket_mode,
	                                        c->auth_group != NULL ? c->auth_gid : (gid_t)-1);
	s->listen_fd[SOCKET_ADMIN] = listen_unix(c->admin_socket, c->admin_socket_mode,
	                                         c->admin_group != NULL ? c->admin_gid : (gid_t)-1);
	if (s->listen_fd[0] < 0 || s->listen_fd[1] < 0)
		return -1;
	if (watch(s, s->listen_fd[SOCKET_AUTH], EPOLLIN, TAG_AUTH, EPOLL_CTL_ADD) < 0 ||
	    watch(s, s->listen_fd[SOCKET_ADMIN], EPOLLIN, TAG_ADMIN, EPOLL_CTL_ADD) < 0 ||
	    watch(s, s->signal_fd, EPOLLIN, TAG_SIGNAL, EPOLL_CTL_ADD) < 0 ||
	    watch(s, pool_done_fd(s->pool), EPOLLIN, TAG_DONE, EPOLL_CTL_ADD) < 0 ||
	    watch(s, s->timer_fd, EPOLLIN, TAG_TIMER, EPOLL_CTL_ADD) < 0 ||
	    watch(s, s->wake_fd, EPOLLIN, TAG_WAKE, EPOLL_CTL_ADD) < 0)
		return -1;
	return 0;
}

static void server_teardown(struct server *s)
{
	for (unsigned fd = 0; s->conns != NULL && fd < s->nconns_max; fd++)
		if (s->conns[fd] != NULL)
			conn_close(s, s->conns[fd]);
	metrics_stop(s->metrics);
	s->metrics = NULL;
	/* Before the pool: the RADIUS thread answers what the workers hold for it (bounded). */
	radius_stop(s->radius);
	s->radius = NULL;
	/*
	 * Joins the workers: every request they hold finishes its commit first,
	 * HTTP threads waiting for one get its answer. A worker inside a hash
	 * is not waited for: then HTTP threads may wait for it too, and the
	 * process exits around both (main.c).
	 */
	if (s->pool != NULL && pool_stop(s->pool) > 0) {
		s->d->abandoned = true;
	} else {
		http_stop(s->http);
		s->http = NULL;
		s->d->pool = NULL;
		pool_free(s->pool);
	}
	for (int k = 0; k < 2; k++)
		if (s->listen_fd[k] >= 0) {
			close(s->listen_fd[k]);
			listen_release(k == SOCKET_AUTH ? cfg(s)->auth_socket
			                                : cfg(s)->admin_socket);
		}
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->wake_fd >= 0) {
		penalty_off_clear(s->d->penalty, server_wake, s);
		close(s->wake_fd);
	}
	if (s->ep >= 0)
		close(s->ep);
	free(s->conns);
}

int server_run(struct daemon *d)
{
	struct server s = {.d = d, .ep = -1};
	struct epoll_event evs[64];
	int r = 1;

	if (server_setup(&s) < 0) {
		log_err("start-up failed");
		goto out;
	}
	log_info("serving %s and %s with %u workers", cfg(&s)->auth_socket, cfg(&s)->admin_socket,
	         d->workers);
	notify_ready();
	for (;;) {
		int n = epoll_wait(s.ep, evs, 64, server_release_held(&s));

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			server_event(&s, &evs[i]);
		server_release_held(&s);
		if (s.stopping && (s.nconns == 0 || time(NULL) > s.stop_deadline) &&
		    pool_busy(s.pool) == 0)
			break;
		if (s.stopping && time(NULL) > s.stop_deadline + SHUTDOWN_GRACE)
			break;
		/* Only hashes running for long are left: they decided nothing, do not wait. */
		if (s.stopping && pool_long_hashes(s.pool) > 0 &&
		    pool_long_hashes(s.pool) == pool_running(s.pool))
			break;
	}
	r = 0;
out:
	server_teardown(&s);
	return r;
}
