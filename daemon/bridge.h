/*
 * The HTTP and RADIUS front ends ask the same handlers as the sockets: a
 * request line goes to the worker pool and the caller waits for the answer
 * (bridge_call) or is told of it (bridge_submit). One decision, whatever the
 * front end (SPEC "The authentication decision").
 */
#ifndef VERDON_BRIDGE_H
#define VERDON_BRIDGE_H

#include <stddef.h>

struct daemon;
struct proto_writer;
struct reply;
struct request;
struct worker;

/*
 * Runs one request (a finished writer: proto_end done or not) through the
 * handlers of the auth and admin sockets, audited with actor "http".
 * 0 with the answer lines in *reply_r (reply_wipe it), -1 when the pool is
 * full or stopping (answer 503).
 */
int bridge_call(struct daemon *d, const struct proto_writer *w, struct reply *reply_r);

/*
 * The same without waiting, audited with actor "radius": notify(req, arg)
 * runs in the worker's thread once req->reply holds the answer; the callee
 * then owns req (request_free); 0. With here (a worker of the caller's own,
 * without Argon2 memory; the caller holds the config's read lock), fast-lane
 * work (an app password, a token) runs at once in the calling thread
 * instead: 1, the answered request in *done_r, the caller's to free. -1 when
 * the pool is full or stopping.
 */
int bridge_submit(struct daemon *d, const struct proto_writer *w, struct worker *here,
                  struct request **done_r, void (*notify)(struct request *req, void *arg),
                  void *arg);

#endif
