/*
 * The RADIUS front end. One thread runs an epoll loop over the UDP sockets,
 * RadSec (radsec.c), the completions of the worker pool and a timer. An
 * Access-Request is checked (client, framing, Message-Authenticator), looked
 * up in the retransmission cache, then turned into the AUTH request a socket
 * client would send and handed to the worker pool through bridge.c: the
 * decision is the one every front end gets. The answer comes back here and
 * becomes Access-Accept, -Challenge (with a single-use State) or -Reject.
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

#include "audit.h"
#include "auditq.h"
#include "bridge.h"
#include "config.h"
#include "daemon.h"
#include "fields.h"
#include "listen.h"
#include "log.h"
#include "observe.h"
#include "penalty.h"
#include "proto.h"
#include "radius.h"
#include "radius_codec.h"
#include "radius_priv.h"
#include "radius_state.h"
#include "reason.h"
#include "secret.h"

#define LISTEN_MAX 8
#define STOP_GRACE_MS 10000
#define HELD_MAX 4096 /* held requests and delayed rejects, all addresses together */

enum { TAG_DONE = 1, TAG_STOP, TAG_UDP_MIN = 16 };

enum job_phase {
	JOB_HELD,    /* waiting for its address's penalty slot */
	JOB_RUNNING, /* with the workers */
	JOB_DELAYED, /* an Access-Reject waiting for the penalty's delay */
};

/* One Access-Request, from its arrival to its reply. */
struct rad_job {
	struct rad_job *next;
	struct radius_server *rs;
	enum job_phase phase;
	uint64_t due_ms;
	struct radius_peer peer;
	uint8_t key[RADIUS_CACHE_KEY_LEN];
	uint8_t id, req_auth[RADIUS_AUTH_LEN];
	/* the client section, copied: a SIGHUP may free the config meanwhile */
	struct radius_client client;
	char user[RADIUS_USER_MAX + 1];
	char password[RADIUS_PW_MAX + 1]; /* wiped */
	char code[RADIUS_PW_MAX + 1];     /* the answer to a challenge; wiped */
	bool answers_challenge;
	char addr[FIELD_ADDRESS_MAX + 1];       /* Calling-Station-Id, else the peer's IP */
	uint8_t proxy_state[RADIUS_PACKET_MAX]; /* the Proxy-State attributes, whole, in order */
	size_t proxy_len;
	unsigned cache_ms;
	struct request *req; /* the worker's answer */
	struct radius_writer out;
};

struct radius_server {
	struct daemon *d;
	pthread_t thread;
	bool started;
	int ep, done_fd, stop_fd;
	int udp[LISTEN_MAX];
	unsigned nudp;
	struct radsec *radsec;
	pthread_mutex_t lock; /* the workers' finished jobs */
	struct rad_job *done;
	unsigned inflight;    /* jobs given to the workers */
	struct rad_job *held; /* held requests and delayed replies, soonest first */
	unsigned nheld;
	struct radius_states *states;
	struct radius_cache *cache;
	uint64_t seq;
	unsigned log_max;    /* [radius] log_per_second, copied under the config lock */
	uint64_t log_second; /* bounded drop logging */
	unsigned log_lines;
	unsigned long log_suppressed;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const struct config *cfg(const struct radius_server *rs)
{
	return rs->d->config; /* read under config_lock */
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
static void rate_log(struct radius_server *rs, const struct radius_peer *peer, const char *what,
                     const char *why)
{
	uint64_t second = mono_ms() / 1000;
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
	rate_log(rs, peer, "dropped a packet", why);
}

static bool cidr_match(const struct radius_client *rc, const struct radius_peer *peer)
{
	const unsigned char *a;
	unsigned full, rest;

	if (rc->address == NULL)
		return false;
	if (peer->addr.ss_family == AF_INET && rc->family == AF_INET)
		a = (const unsigned char *)&((const struct sockaddr_in *)&peer->addr)->sin_addr;
	else if (peer->addr.ss_family == AF_INET6 && rc->family == AF_INET6)
		a = ((const struct sockaddr_in6 *)&peer->addr)->sin6_addr.s6_addr;
	else
		return false;
	full = rc->prefix / 8;
	rest = rc->prefix % 8;
	if (memcmp(a, rc->net, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ rc->net[full]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

static const struct radius_client *
find_client(const struct config *c, const struct radius_peer *peer, const char *tls_client)
{
	for (unsigned i = 0; i < c->nradius_clients; i++) {
		const struct radius_client *rc = &c->radius_clients[i];

		if (tls_client != NULL ? strcmp(rc->name, tls_client) == 0 : cidr_match(rc, peer))
			return rc;
	}
	return NULL;
}

static void cache_key(const struct radius_peer *peer, const struct radius_packet *p,
                      uint8_t key[RADIUS_CACHE_KEY_LEN])
{
	memset(key, 0, RADIUS_CACHE_KEY_LEN);
	if (peer->tls_id != 0) {
		memcpy(key, &peer->tls_id, sizeof(peer->tls_id));
	} else if (peer->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&peer->addr;

		memcpy(key, &s6->sin6_addr, 16);
		memcpy(key + 16, &s6->sin6_port, 2);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&peer->addr;

		memcpy(key, &s4->sin_addr, 4);
		memcpy(key + 16, &s4->sin_port, 2);
	}
	key[18] = (uint8_t)peer->addr.ss_family;
	memcpy(key + 19, &peer->fd, sizeof(peer->fd));
	key[28] = p->id;
	memcpy(key + 29, p->authenticator, RADIUS_AUTH_LEN);
}

static void send_packet(struct radius_server *rs, const struct radius_peer *peer,
                        const uint8_t *buf, size_t len)
{
	if (peer->tls_id != 0) {
		radsec_send(rs->radsec, peer->tls_id, buf, len);
		return;
	}
	if (sendto(peer->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&peer->addr,
	           peer->addrlen) < 0)
		radius_drop(rs, peer, strerror(errno)); /* a full send buffer: the client retries */
}

static void job_free(struct rad_job *job)
{
	if (job == NULL)
		return;
	request_free(job->req);
	secret_wipe(job, sizeof(*job));
	free(job);
}

/* A refusal made here, before any decision (CHAP, EAP, a bad State): audited like the others. */
static void audit_refusal(struct radius_server *rs, const struct rad_job *job, const char *detail)
{
	char login[80];
	struct audit_event ev = {
	    .time = time(NULL),
	    .actor = "radius",
	    .action = "auth",
	    .login = log_sanitize(job->user, login, sizeof(login)),
	    .service = job->client.service,
	    .address = job->addr,
	    .result = "refused",
	    .reason = proto_reason_name(REASON_INVALID),
	    .detail = detail,
	};

	auditq_push(rs->d->auditq, &ev);
	observe_decision(&ev, job->client.service, "none", job->user);
}

/* Inserts a job in the timed list, soonest first; false when the list is full. */
static bool hold(struct radius_server *rs, struct rad_job *job)
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

/* Sends a job's built reply, keeps it for retransmissions, frees the job. */
static void job_reply(struct radius_server *rs, struct rad_job *job)
{
	send_packet(rs, &job->peer, job->out.buf, job->out.len);
	radius_cache_done(rs->cache, job->key, job->out.buf, job->out.len,
	                  mono_ms() + job->cache_ms);
	job_free(job);
}

static void begin_reply(struct rad_job *job, uint8_t code)
{
	/* BlastRADIUS: the Message-Authenticator first in every reply. */
	radius_begin(&job->out, code, job->id, job->req_auth, true);
}

/* Echoes the Proxy-States and signs; false (job freed) when it does not fit. */
static bool finish_reply(struct radius_server *rs, struct rad_job *job)
{
	/* RFC 2865 5.33: every Proxy-State, in order, as it came. */
	if (job->out.len + job->proxy_len > RADIUS_PACKET_MAX)
		job->out.overflow = true;
	else if (job->proxy_len > 0) {
		memcpy(job->out.buf + job->out.len, job->proxy_state, job->proxy_len);
		job->out.len += job->proxy_len;
	}
	if (radius_finish_reply(&job->out, job->client.secret, job->client.secret_len) < 0) {
		radius_drop(rs, &job->peer, "reply too large");
		radius_cache_forget(rs->cache, job->key);
		job_free(job);
		return false;
	}
	return true;
}

static void reply_accept(struct radius_server *rs, struct rad_job *job)
{
	const struct radius_reply *rr =
	    &job->client.reply; /* the service's, the client's over it */

	begin_reply(job, RADIUS_ACCESS_ACCEPT);
	if (rr->message[0] != '\0')
		radius_add(&job->out, RADIUS_REPLY_MESSAGE, rr->message, strlen(rr->message));
	if (rr->class_value[0] != '\0')
		radius_add(&job->out, RADIUS_CLASS, rr->class_value, strlen(rr->class_value));
	if (rr->session_timeout > 0) {
		uint8_t t[4] = {(uint8_t)(rr->session_timeout >> 24),
		                (uint8_t)(rr->session_timeout >> 16),
		                (uint8_t)(rr->session_timeout >> 8), (uint8_t)rr->session_timeout};

		radius_add(&job->out, RADIUS_SESSION_TIMEOUT, t, sizeof(t));
	}
	if (finish_reply(rs, job))
		job_reply(rs, job);
}

static void reply_reject(struct radius_server *rs, struct rad_job *job)
{
	unsigned delay;

	begin_reply(job, RADIUS_ACCESS_REJECT);
	if (!finish_reply(rs, job))
		return;
	/* The reject waits as long as this address's penalty says, in the loop: nobody else waits.
	 */
	delay = penalty_delay(rs->d->penalty, job->addr, cfg(rs)->penalty_base_ms,
	                      cfg(rs)->penalty_max_ms);
	job->phase = JOB_DELAYED;
	job->due_ms = penalty_now_ms() + delay;
	if (delay == 0 || !hold(rs, job))
		job_reply(rs, job);
}

/* The password was right and a code is due: a single-use State bound to client, user, lifetime. */
static void reply_challenge(struct radius_server *rs, struct rad_job *job)
{
	uint8_t state[RADIUS_STATE_LEN];
	uint64_t now = mono_ms();

	if (radius_state_put(rs->states, job->client.name, job->user, job->password, now,
	                     now + cfg(rs)->radius_state_lifetime * 1000ull, state) < 0) {
		radius_drop(rs, &job->peer, "no room for another State");
		radius_cache_forget(rs->cache, job->key);
		job_free(job);
		return;
	}
	begin_reply(job, RADIUS_ACCESS_CHALLENGE);
	radius_add(&job->out, RADIUS_REPLY_MESSAGE, job->client.challenge_message,
	           strlen(job->client.challenge_message));
	radius_add(&job->out, RADIUS_STATE, state, sizeof(state));
	if (finish_reply(rs, job))
		job_reply(rs, job);
}

/* The worker's answer line, read as a socket client reads it. */
static void job_answered(struct radius_server *rs, struct rad_job *job)
{
	struct reply *r = &job->req->reply;
	struct proto_msg msg;
	const char *reason;
	char *lf;

	if (r->failed || r->data == NULL || (lf = memchr(r->data, '\n', r->len)) == NULL ||
	    proto_parse(r->data, (size_t)(lf - r->data), &msg) != PROTO_OK ||
	    strcmp(msg.verb, "TEMPFAIL") == 0) {
		/* No answer at all: the NAS retries or fails over; RADIUS has no "try later". */
		radius_drop(rs, &job->peer, "no decision for now (tempfail)");
		radius_cache_forget(rs->cache, job->key);
		job_free(job);
		return;
	}
	reason = proto_get(&msg, "reason");
	if (strcmp(msg.verb, "OK") == 0)
		reply_accept(rs, job);
	else if (reason != NULL && strcmp(reason, "otp_required") == 0 && !job->answers_challenge &&
	         job->client.otp == RADIUS_OTP_CHALLENGE)
		reply_challenge(rs, job);
	else
		reply_reject(rs, job);
}

/* In a worker's thread: back to the loop. */
static void job_notify(struct request *req, void *arg)
{
	struct rad_job *job = arg;
	struct radius_server *rs = job->rs;
	uint64_t one = 1;

	bool first;

	job->req = req;
	pthread_mutex_lock(&rs->lock);
	job->next = rs->done;
	first = rs->done == NULL;
	rs->done = job;
	pthread_mutex_unlock(&rs->lock);
	/* One wake-up for a batch: the loop takes the whole list at once. */
	if (first && write(rs->done_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("radius: eventfd write: %s", strerror(errno));
}

/* The AUTH a socket client would send, to the worker pool. */
static void job_submit(struct radius_server *rs, struct rad_job *job)
{
	struct proto_writer w;
	char id[24];

	snprintf(id, sizeof(id), "r%llu", (unsigned long long)++rs->seq);
	proto_begin(&w, "AUTH", id);
	proto_add(&w, "login", job->user);
	proto_add(&w, "password", job->password);
	if (job->answers_challenge)
		proto_add(&w, "otp", job->code);
	proto_add(&w, "service", job->client.service);
	proto_add(&w, "address", job->addr);
	if (job->client.otp == RADIUS_OTP_APPEND)
		proto_add(&w, "appended", "1");
	job->phase = JOB_RUNNING;
	if (proto_end(&w) < 0 || bridge_submit(rs->d, &w, job_notify, job) < 0) {
		radius_drop(rs, &job->peer, "the workers are busy");
		radius_cache_forget(rs->cache, job->key);
		job_free(job);
	} else {
		rs->inflight++;
	}
	proto_writer_wipe(&w);
}

/* Submits now, or holds until the address's penalty slot (no hashing meanwhile). */
static void job_start(struct radius_server *rs, struct rad_job *job)
{
	uint64_t now = penalty_now_ms();
	uint64_t slot = penalty_slot(rs->d->penalty, job->addr, now, cfg(rs)->penalty_base_ms,
	                             cfg(rs)->penalty_max_ms);

	if (slot == UINT64_MAX) {
		radius_drop(rs, &job->peer, "too many requests held for this address");
		radius_cache_forget(rs->cache, job->key);
		job_free(job);
		return;
	}
	if (slot <= now) {
		job_submit(rs, job);
		return;
	}
	job->phase = JOB_HELD;
	job->due_ms = slot;
	if (!hold(rs, job)) {
		penalty_release(rs->d->penalty, job->addr);
		radius_drop(rs, &job->peer, "too many requests held");
		radius_cache_forget(rs->cache, job->key);
		job_free(job);
	}
}

/*
 * The address of the penalty and the audit. A numeric Calling-Station-Id as
 * it is (the person's IP as the NAS saw it, like a trusted proxy's
 * X-Forwarded-For); any other (a MAC, a phone number) as STATION@NAS-IP,
 * bytes outside STATION_CHARS read '_', cut to fit: never an IP, so it aims
 * neither a penalty nor a ban at another front end's address, and the
 * refusal line names both (observe.h). No Calling-Station-Id: the NAS's IP.
 */
static void job_address(struct rad_job *job, const struct radius_packet *p)
{
	const struct radius_attr *a = radius_find(p, RADIUS_CALLING_STATION_ID);
	unsigned char bin[sizeof(struct in6_addr)];
	char nas[INET6_ADDRSTRLEN];
	size_t n, max;

	radius_peer_ip(&job->peer, nas, sizeof(nas));
	if (a == NULL || a->len == 0) {
		memcpy(job->addr, nas, strlen(nas) + 1);
		return;
	}
	if (a->len < INET6_ADDRSTRLEN && memchr(a->value, '\0', a->len) == NULL) {
		memcpy(job->addr, a->value, a->len);
		job->addr[a->len] = '\0';
		if (inet_pton(AF_INET, job->addr, bin) == 1 ||
		    inet_pton(AF_INET6, job->addr, bin) == 1)
			return;
	}
	max = sizeof(job->addr) - 2 - strlen(nas);
	for (n = 0; n < a->len && n < max; n++) {
		char ch = (char)a->value[n];

		job->addr[n] = ch != '\0' && strchr(STATION_CHARS, ch) != NULL ? ch : '_';
	}
	snprintf(job->addr + n, sizeof(job->addr) - n, "@%s", nas);
}

static bool copy_string(const struct radius_attr *a, char *out, size_t max)
{
	if (a == NULL || a->len == 0 || a->len > max || memchr(a->value, '\0', a->len) != NULL)
		return false;
	memcpy(out, a->value, a->len);
	out[a->len] = '\0';
	return true;
}

/* The Proxy-States, whole, to echo in the reply. */
static void copy_proxy_states(struct rad_job *job, const struct radius_packet *p)
{
	for (unsigned i = 0; i < p->nattrs; i++) {
		const struct radius_attr *a = &p->attrs[i];

		if (a->type != RADIUS_PROXY_STATE)
			continue;
		job->proxy_state[job->proxy_len] = a->type;
		job->proxy_state[job->proxy_len + 1] = (uint8_t)(a->len + 2);
		memcpy(job->proxy_state + job->proxy_len + 2, a->value, a->len);
		job->proxy_len += a->len + 2u;
	}
}

/* A refusal before any decision: audited, answered with a (delayed) reject. */
static void refuse(struct radius_server *rs, struct rad_job *job, const char *detail)
{
	rate_log(rs, &job->peer, "refused a request", detail);
	audit_refusal(rs, job, detail);
	reply_reject(rs, job);
}

/* The State of a challenge's answer: the password it kept comes back with the code. */
static bool take_state(struct radius_server *rs, struct rad_job *job, const struct radius_attr *st)
{
	switch (radius_state_take(rs->states, st->value, st->len, job->client.name, job->user,
	                          mono_ms(), job->password)) {
	case STATE_TAKEN:
		job->answers_challenge = true;
		return true;
	case STATE_EXPIRED:
		refuse(rs, job, "expired State");
		return false;
	case STATE_UNKNOWN:
		break;
	}
	refuse(rs, job, "unknown or used State");
	return false;
}

/* A Microsoft vendor attribute (vendor 311) of MS-CHAP (types 1, 11, 25: challenge, responses). */
static bool is_mschap(const struct radius_packet *p)
{
	for (unsigned i = 0; i < p->nattrs; i++) {
		const struct radius_attr *a = &p->attrs[i];

		if (a->type == RADIUS_VENDOR_SPECIFIC && a->len >= 6 && a->value[0] == 0 &&
		    a->value[1] == 0 && a->value[2] == 0x01 && a->value[3] == 0x37 &&
		    (a->value[4] == 1 || a->value[4] == 11 || a->value[4] == 25))
			return true;
	}
	return false;
}

static void access_request(struct radius_server *rs, struct rad_job *job,
                           const struct radius_packet *p)
{
	const struct radius_attr *pw = radius_find(p, RADIUS_USER_PASSWORD);
	const struct radius_attr *st = radius_find(p, RADIUS_STATE);
	char typed[RADIUS_PASSWORD_MAX + 1];
	size_t len;

	copy_proxy_states(job, p);
	job_address(job, p);
	if (!copy_string(radius_find(p, RADIUS_USER_NAME), job->user, RADIUS_USER_MAX)) {
		refuse(rs, job, "no usable User-Name");
		return;
	}
	if (radius_find(p, RADIUS_CHAP_PASSWORD) != NULL) {
		refuse(rs, job, "CHAP cannot be checked against Argon2 hashes: use PAP");
		return;
	}
	if (is_mschap(p)) {
		refuse(rs, job, "MS-CHAP cannot be checked against Argon2 hashes: use PAP");
		return;
	}
	if (radius_find(p, RADIUS_EAP_MESSAGE) != NULL) {
		refuse(rs, job, "EAP is not supported: use PAP");
		return;
	}
	if (pw == NULL || radius_password_reveal(pw, p->authenticator, job->client.secret,
	                                         job->client.secret_len, typed, &len) < 0) {
		refuse(rs, job, "no usable User-Password");
		return;
	}
	if (st != NULL) {
		memcpy(job->code, typed, len + 1);
		secret_wipe(typed, sizeof(typed));
		if (take_state(rs, job, st))
			job_start(rs, job);
		return;
	}
	memcpy(job->password, typed, len + 1);
	secret_wipe(typed, sizeof(typed));
	job_start(rs, job);
}

/* RFC 5997: an Access-Accept, which says the server is up. */
static void status_server(struct radius_server *rs, struct rad_job *job)
{
	begin_reply(job, RADIUS_ACCESS_ACCEPT);
	if (finish_reply(rs, job))
		job_reply(rs, job);
}

/* Who sent it, is it well-formed and signed, and is it new: everything before a decision. */
static void packet_in(struct radius_server *rs, const struct radius_peer *peer, const uint8_t *buf,
                      size_t len, const char *tls_client)
{
	const struct radius_client *rc = find_client(cfg(rs), peer, tls_client);
	struct radius_packet *p = NULL;
	struct rad_job *job = NULL;
	const uint8_t *cached, *secret;
	size_t cached_len, slen;
	int r;

	if (rc == NULL) {
		radius_drop(rs, peer, "unknown client");
		return;
	}
	/* RFC 6614 2.3: inside TLS the shared secret is "radsec". */
	secret = tls_client != NULL ? (const uint8_t *)"radsec" : rc->secret;
	slen = tls_client != NULL ? 6 : rc->secret_len;
	if ((p = malloc(sizeof(*p))) == NULL || (job = calloc(1, sizeof(*job))) == NULL)
		goto out;
	if ((r = radius_decode(buf, len, p)) != RADIUS_OK) {
		radius_drop(rs, peer, radius_error_str(r));
		goto out;
	}
	if (p->code != RADIUS_ACCESS_REQUEST && p->code != RADIUS_STATUS_SERVER) {
		radius_drop(rs, peer, "not an Access-Request nor a Status-Server");
		goto out;
	}
	if (p->ma_index < 0 && (rc->require_ma || p->code == RADIUS_STATUS_SERVER)) {
		radius_drop(rs, peer, "no Message-Authenticator (required)");
		goto out;
	}
	if (p->ma_index >= 0 && !radius_request_ma_ok(p, secret, slen)) {
		radius_drop(rs, peer, "bad Message-Authenticator (wrong secret?)");
		goto out;
	}
	cache_key(peer, p, job->key);
	switch (radius_cache_lookup(rs->cache, job->key, mono_ms(), &cached, &cached_len)) {
	case CACHE_DONE:
		log_debug("radius: a retransmission answered from the cache");
		send_packet(rs, peer, cached, cached_len);
		goto out;
	case CACHE_PENDING:
		goto out; /* being decided: its answer will come */
	case CACHE_FULL:
		radius_drop(rs, peer, "retransmission cache full");
		goto out;
	case CACHE_NEW:
		break;
	}
	job->rs = rs;
	job->peer = *peer;
	job->id = p->id;
	memcpy(job->req_auth, p->authenticator, RADIUS_AUTH_LEN);
	job->client = *rc;
	/* the config's strings may be freed by a reload: the job keeps none */
	job->client.address = job->client.secret_file = job->client.tls_name = NULL;
	config_radius_reply(cfg(rs), rc, &job->client.reply);
	memcpy(job->client.secret, secret, slen);
	job->client.secret_len = slen;
	job->cache_ms = cfg(rs)->radius_cache_seconds * 1000u;
	if (p->code == RADIUS_STATUS_SERVER)
		status_server(rs, job);
	else
		access_request(rs, job, p);
	job = NULL;
out:
	job_free(job);
	free(p);
}

void radius_packet_in(struct radius_server *rs, const struct radius_peer *peer, const uint8_t *buf,
                      size_t len, const char *tls_client)
{
	pthread_rwlock_rdlock(&rs->d->config_lock);
	rs->log_max = cfg(rs)->radius_log_per_second;
	packet_in(rs, peer, buf, len, tls_client);
	pthread_rwlock_unlock(&rs->d->config_lock);
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
		job_answered(rs, job);
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
			job_reply(rs, job);
			continue;
		}
		penalty_release(rs->d->penalty, job->addr);
		job_submit(rs, job);
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
				deadline = mono_ms() + STOP_GRACE_MS;
			else if (tag >= RADSEC_TAG_MIN && deadline == 0)
				radsec_event(rs->radsec, tag, evs[i].events);
			else if (tag >= TAG_UDP_MIN && tag < TAG_UDP_MIN + LISTEN_MAX &&
			         deadline == 0)
				udp_read(rs, rs->udp[tag - TAG_UDP_MIN]);
		}
		radsec_tick(rs->radsec);
		/* Stopping: every decision in flight is answered first (its state is committed). */
		if (deadline != 0 && (rs->inflight == 0 || mono_ms() > deadline))
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
		job_free(job);
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
	radius_states_free(rs->states);
	radius_cache_free(rs->cache);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}
