/*
 * From a RADIUS packet to a decision: the client it comes from (by address,
 * or a RadSec certificate), its framing and Message-Authenticator, the
 * retransmission cache, what PAP can carry (CHAP, MS-CHAP and EAP refused),
 * a challenge's State, the address the penalty and the audit key on; then
 * the AUTH request a socket client would send, held for the penalty's slot
 * or handed to the worker pool through bridge.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auditq.h"
#include "bridge.h"
#include "log.h"
#include "observe.h"
#include "penalty.h"
#include "proto.h"
#include "radius_job.h"
#include "reason.h"
#include "secret.h"

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

struct rad_job *radius_job_new(struct radius_server *rs)
{
	struct rad_job *job = rs->spare;

	if (job != NULL) {
		rs->spare = job->next;
		rs->nspare--;
	} else if ((job = malloc(sizeof(*job))) == NULL) {
		return NULL;
	}
	memset(job, 0, RAD_JOB_CLEARED);
	job->rs = rs;
	return job;
}

void radius_job_free(struct rad_job *job)
{
	struct radius_server *rs;

	if (job == NULL)
		return;
	rs = job->rs;
	request_free(job->req);
	/* the password, the code, the client's secret; the reply and Proxy-States are no secret */
	secret_wipe(job, RAD_JOB_CLEARED);
	if (rs->nspare < RAD_JOB_SPARE_MAX) {
		job->next = rs->spare;
		rs->spare = job;
		rs->nspare++;
		return;
	}
	free(job);
}

void radius_jobs_spare_free(struct radius_server *rs)
{
	while (rs->spare != NULL) {
		struct rad_job *job = rs->spare;

		rs->spare = job->next;
		free(job);
	}
	rs->nspare = 0;
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

/*
 * The AUTH a socket client would send: decided at once in this thread when it
 * needs no Argon2 (an app password: rs->decide_here), else by the worker pool.
 */
void radius_job_submit(struct radius_server *rs, struct rad_job *job)
{
	struct proto_writer w;
	struct request *done = NULL;
	char id[24];
	int r;

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
	r = proto_end(&w) < 0 ? -1
	                      : bridge_submit(rs->d, &w, rs->decide_here ? &rs->here : NULL, &done,
	                                      job_notify, job);
	proto_writer_wipe(&w);
	if (r < 0) {
		radius_drop(rs, &job->peer, "the workers are busy");
		radius_cache_forget(rs->cache, job->key);
		radius_job_free(job);
	} else if (r == 0) {
		rs->inflight++;
	} else {
		/* Decided here (no Argon2): no hand-off to a worker and back. */
		job->req = done;
		radius_job_answered(rs, job);
		if (rs->here.after != NULL) {
			rs->here.after(&rs->here, radius_cfg(rs));
			rs->here.after = NULL;
		}
	}
}

/* Submits now, or holds until the address's penalty slot (no hashing meanwhile). */
static void job_start(struct radius_server *rs, struct rad_job *job)
{
	uint64_t now = penalty_now_ms();
	uint64_t slot =
	    penalty_slot(rs->d->penalty, job->addr, now, radius_cfg(rs)->penalty_base_ms,
	                 radius_cfg(rs)->penalty_max_ms);

	if (slot == UINT64_MAX) {
		radius_drop(rs, &job->peer, "too many requests held for this address");
		radius_cache_forget(rs->cache, job->key);
		radius_job_free(job);
		return;
	}
	if (slot <= now) {
		radius_job_submit(rs, job);
		return;
	}
	job->phase = JOB_HELD;
	job->due_ms = slot;
	if (!radius_hold(rs, job)) {
		penalty_release(rs->d->penalty, job->addr);
		radius_drop(rs, &job->peer, "too many requests held");
		radius_cache_forget(rs->cache, job->key);
		radius_job_free(job);
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
	radius_rate_log(rs, &job->peer, "refused a request", detail);
	audit_refusal(rs, job, detail);
	radius_reply_reject(rs, job);
}

/* The State of a challenge's answer: the password it kept comes back with the code. */
static bool take_state(struct radius_server *rs, struct rad_job *job, const struct radius_attr *st)
{
	switch (radius_state_take(rs->states, st->value, st->len, job->client.name, job->user,
	                          radius_mono_ms(), job->password)) {
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

/* Who sent it, is it well-formed and signed, and is it new: everything before a decision. */
static void packet_in(struct radius_server *rs, const struct radius_peer *peer, const uint8_t *buf,
                      size_t len, const char *tls_client)
{
	const struct radius_client *rc = find_client(radius_cfg(rs), peer, tls_client);
	struct radius_packet *p = &rs->packet; /* packet_in is never re-entered */
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
	if ((job = radius_job_new(rs)) == NULL)
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
	switch (radius_cache_lookup(rs->cache, job->key, radius_mono_ms(), &cached, &cached_len)) {
	case CACHE_DONE:
		log_debug("radius: a retransmission answered from the cache");
		radius_send(rs, peer, cached, cached_len);
		goto out;
	case CACHE_PENDING:
		goto out; /* being decided: its answer will come */
	case CACHE_FULL:
		radius_drop(rs, peer, "retransmission cache full");
		goto out;
	case CACHE_NEW:
		break;
	}
	job->peer = *peer;
	job->id = p->id;
	memcpy(job->req_auth, p->authenticator, RADIUS_AUTH_LEN);
	job->client = *rc;
	/* the config's strings may be freed by a reload: the job keeps none */
	job->client.address = job->client.secret_file = job->client.tls_name = NULL;
	config_radius_reply(radius_cfg(rs), rc, &job->client.reply);
	memcpy(job->client.secret, secret, slen);
	job->client.secret_len = slen;
	job->cache_ms = radius_cfg(rs)->radius_cache_seconds * 1000u;
	if (p->code == RADIUS_STATUS_SERVER)
		radius_reply_status(rs, job);
	else
		access_request(rs, job, p);
	job = NULL;
out:
	radius_job_free(job);
}

void radius_packet_in(struct radius_server *rs, const struct radius_peer *peer, const uint8_t *buf,
                      size_t len, const char *tls_client)
{
	pthread_rwlock_rdlock(&rs->d->config_lock);
	rs->log_max = radius_cfg(rs)->radius_log_per_second;
	packet_in(rs, peer, buf, len, tls_client);
	pthread_rwlock_unlock(&rs->d->config_lock);
}
