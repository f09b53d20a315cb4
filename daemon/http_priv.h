/*
 * Inside the HTTP front end: what http.c, http_reply.c, http_watch.c and the
 * handlers of http_api.c share. Handlers elsewhere use http.h only.
 */
#ifndef VERDON_HTTP_PRIV_H
#define VERDON_HTTP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"
#include "http_route.h"
#include "http_session.h"

#define HTTP_ADDRESS_MAX 46 /* INET6_ADDRSTRLEN */
#define HTTP_PROXIES_MAX 16
#define HTTP_COOKIE_MAX 160

struct MHD_Connection;
struct MHD_Daemon;
struct http_limit;
struct http_watch;
struct http_watched;
struct sockaddr;
struct reply;

/* [http] as it was at start-up: changing it takes a restart. */
struct http_settings {
	unsigned body_max;
	unsigned timeout;
	bool secure_cookie;
	unsigned trusted_browser_days; /* what the page offers; the daemon decides with its live config */
	unsigned penalty_base_ms, penalty_max_ms;
	unsigned nproxies;
	struct {
		int family;
		unsigned char addr[16];
	} proxies[HTTP_PROXIES_MAX];
};

struct http_server {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	struct http_sessions *sessions;
	struct http_watch *watch;
	struct http_limit
	    *limit;           /* per client address: direct peers' connections, proxied requests */
	unsigned per_address; /* [http] per_ip_connections */
	struct http_settings set;
};

/* One request, from its headers to its answer. */
struct http_ctx {
	struct http_server *hs;
	struct MHD_Connection *conn;
	struct http_watched *watched;
	const char *method;
	const char *path;
	const struct http_route *route;
	const char *path_rest;
	char *body; /* wiped */
	size_t body_len, body_cap;
	json_t *json;
	bool too_large, answered;
	bool admitted;     /* passed the checks on method, CSRF, type, size, session */
	char allow[HTTP_ALLOW_MAX]; /* the Allow header of a 405; "": none */
	bool held;         /* parked by the address penalty: the dispatcher must not answer */
	bool released;     /* back from the hold: the next penalised call runs at once */
	bool https;        /* a trusted proxy said the client spoke TLS */
	bool proxied;      /* the peer is a trusted proxy: address is the one it forwards */
	bool counted;      /* counted in hs->limit under address until the request ends */
	char address[HTTP_ADDRESS_MAX];
	char sid[HTTP_SESSION_ID_LEN + 1]; /* the cookie's id, when well formed */
	bool has_session;
	struct http_session_info session;
	char cookie[HTTP_COOKIE_MAX];        /* a Set-Cookie to send, or "" */
	char device_cookie[HTTP_COOKIE_MAX]; /* the device cookie's Set-Cookie (a secret), or "" */
};

/* The API's routes (http_api.c), NULL-terminated. */
extern const struct http_route http_api_routes[];

/* http_reply.c */
void http_reply_raw(struct http_ctx *hc, unsigned status, const char *type, const void *data,
                    size_t len, bool secret);
void http_resolve_address(struct http_ctx *hc);
/* A peer's address as text (IPv4-mapped IPv6 as IPv4); whether it is one of trusted_proxies. */
int http_peer_address(const struct http_settings *set, const struct sockaddr *sa, char *buf,
                      size_t len, bool *trusted_r);

/* http_limit.c: how many connections or requests each client address holds. */
struct http_limit *http_limit_new(void);
void http_limit_free(struct http_limit *l);
unsigned http_limit_count(struct http_limit *l, const char *addr);
/* One more for addr unless it has max already (false: nothing taken). */
bool http_limit_take(struct http_limit *l, const char *addr, unsigned max);
void http_limit_drop(struct http_limit *l, const char *addr);
int http_settings_proxies(struct http_settings *set, const char *list);
/*
 * The right-most address of an X-Forwarded-For value that is not one of set's
 * proxies, in out; false when an item is not an address (out may hold junk).
 */
bool http_forwarded_address(const struct http_settings *set, const char *xff, char *out,
                            size_t outlen);
/* Like http_call, but every answer line, NUL-terminated, in *buf_r (free with http_answer_free). */
int http_call_lines(struct http_ctx *hc, struct proto_writer *w, char **buf_r, size_t *len_r);
void http_set_cookie(struct http_ctx *hc, const char *id); /* NULL: clear it */

/* http_watch.c: slow clients cut off, penalised addresses held without hashing. */
struct http_watch *http_watch_new(unsigned timeout);
/* Resumes every held connection; call before MHD_stop_daemon. */
void http_watch_stop(struct http_watch *w);
void http_watch_free(struct http_watch *w);
void http_watch_opened(struct http_watch *w, struct MHD_Connection *conn, void **ctx_r);
void http_watch_closed(struct http_watch *w, void **ctx);
enum http_phase { HTTP_PHASE_WAIT, HTTP_PHASE_BUSY };
void http_watch_phase(struct http_watch *w, struct http_watched *c, enum http_phase phase);
/*
 * Suspends the request's connection until its turn (due_ms at the pace of now; asked again of
 * penalty_turn); false when stopping (do not hold).
 */
bool http_watch_hold(struct http_watch *w, struct http_ctx *hc, uint64_t due_ms);
/* penalty_on_clear's callback: ask every hold again now. */
void http_watch_wake(void *ctx);

#endif
