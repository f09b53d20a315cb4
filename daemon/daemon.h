/*
 * What every request handler shares: the configuration (swapped on SIGHUP
 * under a lock), the store, the keys, and the request being served.
 */
#ifndef VERDON_DAEMON_H
#define VERDON_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "crypto.h"
#include "proto.h"

struct auditq;
struct config;
struct store;
struct password_hasher;
struct penalty;
struct throttle;
struct mail_limit;

struct daemon {
	struct config *config; /* read under config_lock */
	struct pool *pool;     /* set once the loop has started it */
	pthread_rwlock_t config_lock;
	struct store *store;
	struct crypto_keys keys;
	struct auditq *auditq;         /* records of decisions that change nothing */
	struct penalty *penalty;       /* per client address */
	struct throttle *throttle;     /* per login: wrong passwords (throttle.h) */
	struct mail_limit *mail_limit; /* recovery mails per account and rescue address */
	time_t started;
	atomic_uint connections;
	atomic_ulong hashes; /* Argon2 runs: what a throttle or penalty must not spend */
	atomic_uint queued;
	unsigned workers;
	bool abandoned; /* stopped with workers inside a hash: exit without freeing */
};

struct pool;

struct worker {
	struct daemon *daemon;
	struct pool *pool;
	struct password_hasher *hasher; /* owns this thread's Argon2 memory */
	unsigned index;
	/* Work the request left for after its answer has gone (a mail), run under the config lock.
	 */
	void (*after)(struct worker *w, const struct config *config);
};

/* Which workers may run a request (workers.c): only the hash lane's own Argon2 memory. */
enum lane_kind {
	LANE_HASH = 0, /* may hash: passwords, password changes, admin writes */
	LANE_FAST,     /* never hashes: tokens, app passwords, ACCT, LOGOUT, reads */
	LANE_COUNT
};

enum socket_kind {
	SOCKET_AUTH,
	SOCKET_ADMIN,
	SOCKET_HTTP,   /* the HTTP front end, through bridge.c: audited as "http" */
	SOCKET_RADIUS, /* the RADIUS front end, through bridge.c: audited as "radius" */
};

/* A caller outside the loop (the HTTP threads) waits for its request here. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

/* Answer lines accumulated by a handler, sent together. */
struct reply {
	char *data;
	size_t len;
	size_t cap;
	bool failed; /* out of memory: the connection gets a TEMPFAIL instead */
};

struct request {
	struct request *next;
	uint64_t conn_id;
	enum socket_kind kind;
	uid_t uid; /* the peer's credentials, from SO_PEERCRED */
	gid_t gid;
	pid_t pid;
	const struct verb *verb;
	char *line; /* owned copy of the request line: msg points into it; wiped */
	size_t line_len;
	struct proto_msg msg;
	struct reply reply;
	const struct config *config; /* valid while the handler runs */
	time_t now;
	struct waiter *waiter; /* not NULL: handed back to this waiter, not to a connection */
	/* not NULL: called by the worker with the answer instead (bridge_submit) */
	void (*notify)(struct request *req, void *arg);
	void *notify_arg;
	uint64_t due_ms;     /* held by the address penalty: when to ask again */
	uint64_t held_since; /* when the hold began: it never lasts past the penalty's cap */
	enum lane_kind lane;
	bool held;
	/* not NULL: runs with the requests of its group queued right behind it (workers.c) */
	const struct verb_group *group;
	struct timespec submitted; /* handed to the workers: the metrics' latency */
	/* Run by the event loop itself (pool_run_inline): a handler that would write sets
	 * deferred instead, answers nothing, and the request goes to a worker. */
	bool inline_try, deferred;
};

/*
 * In a handler, before its first write transaction: true when it runs on the
 * event loop, which must never wait for a synced commit; the handler then
 * returns at once, having changed and answered nothing.
 */
static inline bool request_defer_write(struct request *req)
{
	if (req->inline_try)
		req->deferred = true;
	return req->inline_try;
}

typedef void verb_handler(struct worker *w, struct request *req);

enum verb_flags {
	VERB_PENALIZED = 1 << 0, /* subject to the per-address penalty */
	VERB_FAST = 1 << 1,      /* never hashes: the fast lane */
	VERB_INLINE = 1 << 2,    /* on the fast lane, may run on the event loop (pool_run_inline) */
};

struct verb {
	const char *name;
	verb_handler *handler;
	unsigned flags;
};

/*
 * Requests of a verb that may share one write transaction: takes says whether
 * this one may (import rows, not dry runs); run serves n of them, queued one
 * behind the other, in their order, and answers each once all are committed.
 */
struct verb_group {
	verb_handler *handler; /* the verb's */
	bool (*takes)(const struct config *config, const struct request *req);
	void (*run)(struct worker *w, struct request **reqs, size_t n);
};
/* Every group, NULL-terminated (admin_misc.c, beside the dispatch tables). */
extern const struct verb_group *const verb_groups[];

/* The dispatch tables of the two sockets, NULL-terminated. */
extern const struct verb auth_verbs[];
extern const struct verb admin_verbs[];

/* Appends a finished writer's line (proto_end is called here) and wipes the writer. */
void reply_line(struct request *req, struct proto_writer *w);
void reply_ok_ident(struct request *req, const char *identifiant);
/* FAIL reason=R [detail]; locked says wait=0, the hard lock only an admin lifts. */
void reply_fail(struct request *req, int reason, const char *detail);
void reply_tempfail(struct request *req);

void reply_wipe(struct reply *reply);
/* Frees a request, wiping its line and answer; NULL is a no-op. */
void request_free(struct request *req);

/*
 * The lane a request goes to: VERB_FAST verbs, and AUTH with what the
 * service's policy reads as a session token or an app password (the very
 * test auth.c dispatches on), go to the fast lane.
 */
enum lane_kind request_lane(const struct config *config, const struct request *req);
/* The group req may run in with its neighbours in the queue (struct verb_group), or NULL. */
const struct verb_group *request_group(const struct config *config, const struct request *req);

/* "admin:uid=N" or "auth" — who acts, for the audit trail. */
const char *request_actor(const struct request *req, char *buf, size_t len);

#endif

/* Internal verbs the loop submits itself: the audited refusal of a non-admin peer, the purge sweep.
 */
extern const struct verb admin_forbidden_verb;
extern const struct verb purge_verb;
/* Health checks run by a worker every minute: stale readers, map usage. */
extern const struct verb housekeeping_verb;
/* Writes the queued audit records, every second when there are some. */
extern const struct verb audit_flush_verb;
