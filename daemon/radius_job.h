/*
 * What the three files of the RADIUS front end share: radius.c (the thread,
 * its loop, the UDP sockets, the timer list), radius_request.c (from a
 * packet to a decision) and radius_reply.c (from a decision to the reply).
 * Everything here runs in the RADIUS thread, under the config's read lock.
 */
#ifndef VERDON_RADIUS_JOB_H
#define VERDON_RADIUS_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "daemon.h"
#include "fields.h"
#include "radius_codec.h"
#include "radius_priv.h"
#include "radius_state.h"

#define LISTEN_MAX 8

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
	char addr[FIELD_ADDRESS_MAX + 1]; /* Calling-Station-Id, else the peer's IP */
	size_t proxy_len;
	unsigned cache_ms;
	struct request *req; /* the worker's answer */
	/* From here on, no secret and not cleared when a spare job is taken again. */
	uint8_t proxy_state[RADIUS_PACKET_MAX]; /* the Proxy-State attributes, whole, in order */
	struct radius_writer out;
};

/* The part of a job that is cleared for each request, and wiped when it ends. */
#define RAD_JOB_CLEARED offsetof(struct rad_job, proxy_state)
#define RAD_JOB_SPARE_MAX 64 /* finished jobs kept for the next requests */

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
	/*
	 * Fast-lane decisions (no Argon2) run in this thread, as this worker,
	 * with the LMDB store (local reads of a microsecond; a store across the
	 * network would stall the loop): two thread hand-offs saved a request.
	 */
	struct worker here;
	bool decide_here;
	struct rad_job *held; /* held requests and delayed replies, soonest first */
	unsigned nheld;
	struct radius_states *states;
	struct radius_cache *cache;
	struct rad_job *spare; /* finished jobs, to take again: no 10 kB allocation a request */
	unsigned nspare;
	struct radius_packet packet; /* the one being read */
	uint64_t seq;
	unsigned log_max;    /* [radius] log_per_second, copied under the config lock */
	uint64_t log_second; /* bounded drop logging */
	unsigned log_lines;
	unsigned long log_suppressed;
};

static inline const struct config *radius_cfg(const struct radius_server *rs)
{
	return rs->d->config; /* read under config_lock */
}

/* radius.c */
uint64_t radius_mono_ms(void);
/* One log line about a peer, at most [radius] log_per_second a second; the rest are counted. */
void radius_rate_log(struct radius_server *rs, const struct radius_peer *peer, const char *what,
                     const char *why);
/* Puts a job in the timed list, soonest first; false when the list is full. */
bool radius_hold(struct radius_server *rs, struct rad_job *job);

/* radius_request.c */
/* A cleared job for a request (NULL when out of memory). */
struct rad_job *radius_job_new(struct radius_server *rs);
/* Wipes it and keeps it spare, or frees it; NULL is a no-op. */
void radius_job_free(struct rad_job *job);
/* Frees the spare jobs (at stop). */
void radius_jobs_spare_free(struct radius_server *rs);
/* Hands a job's AUTH to the workers (or drops it, freed, when they are busy). */
void radius_job_submit(struct radius_server *rs, struct rad_job *job);

/* radius_reply.c */
/* A packet to a peer, by UDP or through its RadSec connection. */
void radius_send(struct radius_server *rs, const struct radius_peer *peer, const uint8_t *buf,
                 size_t len);
/* Sends a job's built reply, keeps it for retransmissions, frees the job. */
void radius_job_reply(struct radius_server *rs, struct rad_job *job);
/* The workers' answer in job->req: Access-Accept, -Challenge or -Reject (maybe delayed), or
 * silence. */
void radius_job_answered(struct radius_server *rs, struct rad_job *job);
/* Access-Reject, delayed as the penalty of the job's address says. */
void radius_reply_reject(struct radius_server *rs, struct rad_job *job);
/* Status-Server (RFC 5997): an Access-Accept. */
void radius_reply_status(struct radius_server *rs, struct rad_job *job);

#endif
