/*
 * From a decision to the RADIUS reply: Access-Accept with the service's or
 * the client's attributes, Access-Challenge with a single-use State,
 * Access-Reject after the penalty's delay, or silence for a TEMPFAIL; the
 * Message-Authenticator first (BlastRADIUS), the Proxy-States echoed, the
 * reply signed, sent, and kept for retransmissions (RFC 5080).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"
#include "penalty.h"
#include "proto.h"
#include "radius_job.h"

void radius_send(struct radius_server *rs, const struct radius_peer *peer, const uint8_t *buf,
                 size_t len)
{
	if (peer->tls_id != 0) {
		radsec_send(rs->radsec, peer->tls_id, buf, len);
		return;
	}
	if (sendto(peer->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&peer->addr,
	           peer->addrlen) < 0)
		radius_drop(rs, peer, strerror(errno)); /* a full send buffer: the client retries */
}

/* Sends a job's built reply, keeps it for retransmissions, frees the job. */
void radius_job_reply(struct radius_server *rs, struct rad_job *job)
{
	radius_send(rs, &job->peer, job->out.buf, job->out.len);
	radius_cache_done(rs->cache, job->key, job->out.buf, job->out.len,
	                  radius_mono_ms() + job->cache_ms);
	radius_job_free(job);
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
		radius_job_free(job);
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
		radius_job_reply(rs, job);
}

void radius_reply_reject(struct radius_server *rs, struct rad_job *job)
{
	unsigned delay;

	begin_reply(job, RADIUS_ACCESS_REJECT);
	if (!finish_reply(rs, job))
		return;
	/* The reject waits as long as this address's penalty says, in the loop: nobody else waits.
	 */
	delay = penalty_delay(rs->d->penalty, job->addr, radius_cfg(rs)->penalty_base_ms,
	                      radius_cfg(rs)->penalty_max_ms);
	job->phase = JOB_DELAYED;
	job->due_ms = penalty_now_ms() + delay;
	if (delay == 0 || !radius_hold(rs, job))
		radius_job_reply(rs, job);
}

/* The password was right and a code is due: a single-use State bound to client, user, lifetime. */
static void reply_challenge(struct radius_server *rs, struct rad_job *job)
{
	uint8_t state[RADIUS_STATE_LEN];
	uint64_t now = radius_mono_ms();

	if (radius_state_put(rs->states, job->client.name, job->user, job->password, now,
	                     now + radius_cfg(rs)->radius_state_lifetime * 1000ull, state) < 0) {
		radius_drop(rs, &job->peer, "no room for another State");
		radius_cache_forget(rs->cache, job->key);
		radius_job_free(job);
		return;
	}
	begin_reply(job, RADIUS_ACCESS_CHALLENGE);
	radius_add(&job->out, RADIUS_REPLY_MESSAGE, job->client.challenge_message,
	           strlen(job->client.challenge_message));
	radius_add(&job->out, RADIUS_STATE, state, sizeof(state));
	if (finish_reply(rs, job))
		radius_job_reply(rs, job);
}

/* The worker's answer line, read as a socket client reads it. */
void radius_job_answered(struct radius_server *rs, struct rad_job *job)
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
		radius_job_free(job);
		return;
	}
	reason = proto_get(&msg, "reason");
	if (strcmp(msg.verb, "OK") == 0)
		reply_accept(rs, job);
	else if (reason != NULL && strcmp(reason, "otp_required") == 0 && !job->answers_challenge &&
	         job->client.otp == RADIUS_OTP_CHALLENGE)
		reply_challenge(rs, job);
	else
		radius_reply_reject(rs, job);
}

/* RFC 5997: an Access-Accept, which says the server is up. */
void radius_reply_status(struct radius_server *rs, struct rad_job *job)
{
	begin_reply(job, RADIUS_ACCESS_ACCEPT);
	if (finish_reply(rs, job))
		radius_job_reply(rs, job);
}
