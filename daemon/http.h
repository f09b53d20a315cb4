/*
 * The HTTP front end (libmicrohttpd): the self-service page and its JSON API
 * (docs/http-api.md). Handlers run in libmicrohttpd's threads and reach the
 * decision through bridge.c, like any other front end.
 */
#ifndef VERDON_HTTP_H
#define VERDON_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct daemon;
struct http_ctx;
struct http_server;
struct proto_msg;
struct proto_writer;

/* Starts listening where [http] listen says; NULL with a log line on failure. Not called when absent. */
struct http_server *http_start(struct daemon *d);
void http_stop(struct http_server *hs); /* NULL is a no-op */

enum http_route_flags {
	HTTP_PUBLIC = 0,
	HTTP_SESSION = 1 << 0, /* a session cookie of any stage */
	HTTP_FULL = 1 << 1,    /* a session of stage "full" */
};

typedef void http_handler(struct http_ctx *hc);

struct http_route {
	const char *method;
	const char *path; /* exact, or a prefix when it ends with '/' */
	http_handler *handler;
	unsigned flags;
};

/* The forgotten password and identifiant routes, in http_forgot.c; NULL-terminated. */
extern const struct http_route http_forgot_routes[];
/* The page's config and the rescue address, in http_api_self.c; NULL-terminated. */
extern const struct http_route http_self_routes[];

/* For handlers. */
struct daemon *http_daemon(struct http_ctx *hc);
json_t *http_body(struct http_ctx *hc);               /* the request's JSON object, or NULL */
const char *http_body_string(struct http_ctx *hc, const char *key, size_t max); /* NULL: absent/bad */
const char *http_client_address(struct http_ctx *hc); /* after trusted-proxy resolution */
const char *http_path_rest(struct http_ctx *hc);      /* what follows a prefix route's path */
const char *http_session_identifiant(struct http_ctx *hc); /* NULL without a session */
/* Answers; obj is stolen. Every /api/ answer is no-store. */
void http_reply_json(struct http_ctx *hc, unsigned status, json_t *obj);
void http_reply_error(struct http_ctx *hc, unsigned status, const char *error, const char *detail);
/*
 * Sends a request line through bridge.c and parses the first answer line into
 * *msg_r (pointing into *buf_r: free it with http_answer_free, which wipes it
 * all; secret_free would stop at the first field). -1 after answering 503, or
 * when the address penalty parked the request: return at once, the handler
 * runs again from the start when its slot comes.
 */
int http_call(struct http_ctx *hc, struct proto_writer *w, struct proto_msg *msg_r, char **buf_r);
void http_answer_free(char *buf); /* NULL is a no-op */
/* The HTTP status for a FAIL reason (docs/http-api.md "Conventions"). */
unsigned http_status_for(const char *reason);

#endif
