/*
 * The HTTP front end: libmicrohttpd with every limit set (its defaults are
 * unsafe), our own body accumulation instead of MHD_PostProcessor, a routing
 * table, and the checks every request passes before a handler sees it:
 * method, CSRF header, content type, size, session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "config.h"
#include "daemon.h"
#include "http_priv.h"
#include "http_route.h"
#include "listen.h"
#include "log.h"
#include "penalty.h"
#include "proto.h"
#include "secret.h"
#include "web_assets.h"

#define MEMORY_LIMIT (64u * 1024) /* per connection: headers over this get a 431 */

/* jansson frees what it parsed (passwords) and what it printed (recovery codes): wiped first. */
/* What a connection carries while it lives: its watch record, and whether it counts. */
struct http_conn {
	struct http_watched *watched;
	char addr[HTTP_ADDRESS_MAX];
	bool counted; /* a direct peer's connection, counted under addr */
};

static void *json_alloc(size_t n)
{
	return malloc(n);
}

static void json_wipe_free(void *p)
{
	if (p != NULL)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static const struct http_route *route_find(struct http_ctx *hc)
{
	static const struct http_route *const tables[] = {http_api_routes, http_forgot_routes,
	                                                  http_self_routes, NULL};
	struct http_match m;

	http_route_find(tables, hc->method, hc->path, &m);
	hc->path_rest = m.rest;
	memcpy(hc->allow, m.allow, sizeof(hc->allow));
	return m.route;
}

static bool serve_asset(struct http_ctx *hc)
{
	const char *path = strcmp(hc->path, "/") == 0 ? "/index.html" : hc->path;

	if (strcmp(hc->method, "GET") != 0 && strcmp(hc->method, "HEAD") != 0)
		return false;
	for (const struct web_asset *a = web_assets; a->path != NULL; a++)
		if (strcmp(a->path, path) == 0) {
			http_reply_raw(hc, 200, a->type, a->data, a->len, false);
			return true;
		}
	return false;
}

static const char *header(struct http_ctx *hc, const char *name)
{
	return MHD_lookup_connection_value(hc->conn, MHD_HEADER_KIND, name);
}

static bool is_json_type(const char *type)
{
	size_t n = strlen("application/json");

	return type != NULL && strncasecmp(type, "application/json", n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* Loads the cookie's session; false after answering 401 or 403. */
static bool session_load(struct http_ctx *hc)
{
	const char *id = MHD_lookup_connection_value(hc->conn, MHD_COOKIE_KIND, "verdon_session");

	if (http_cookie_id_ok(id))
		memcpy(hc->sid, id, HTTP_SESSION_ID_LEN + 1);
	if (!(hc->route->flags & (HTTP_SESSION | HTTP_FULL)))
		return true;
	if (hc->sid[0] == '\0' ||
	    http_session_get(hc->hs->sessions, hc->sid, time(NULL), &hc->session) < 0) {
		if (hc->sid[0] != '\0')
			http_set_cookie(hc, NULL);
		http_reply_error(hc, 401, "unauthenticated", NULL);
		return false;
	}
	hc->has_session = true;
	if ((hc->route->flags & HTTP_FULL) && hc->session.stage != HTTP_STAGE_FULL) {
		http_reply_error(hc, 403, "wrong_state", "enrollment first");
		return false;
	}
	return true;
}

static bool has_body(struct http_ctx *hc)
{
	const char *cl = header(hc, "Content-Length");

	return header(hc, "Transfer-Encoding") != NULL ||
	       (cl != NULL && strtoull(cl, NULL, 10) > 0);
}

/* What can be refused from the headers alone; false after answering. */
static bool admit(struct http_ctx *hc)
{
	const char *cl = header(hc, "Content-Length");
	const char *csrf = header(hc, "X-Verdon-Request");
	unsigned long long len = cl != NULL ? strtoull(cl, NULL, 10) : 0;

	if ((hc->route = route_find(hc)) == NULL) {
		if (hc->allow[0] != '\0')
			http_reply_error(hc, 405, "method_not_allowed", NULL);
		else if (strncmp(hc->path, "/api/", 5) == 0 || !serve_asset(hc))
			http_reply_error(hc, 404, "not_found", NULL);
		return false;
	}
	if ((strcmp(hc->method, "POST") == 0 || strcmp(hc->method, "DELETE") == 0) &&
	    (csrf == NULL || strcmp(csrf, "1") != 0)) {
		http_reply_error(hc, 403, "csrf", NULL);
		return false;
	}
	if (has_body(hc) && !is_json_type(header(hc, "Content-Type"))) {
		http_reply_error(hc, 415, "unsupported_media_type", NULL);
		return false;
	}
	if (len > hc->hs->set.body_max) {
		http_reply_error(hc, 413, "too_large", NULL);
		return false;
	}
	return session_load(hc);
}

/* Accumulates a piece of the body; past the limit, marks the request too large. */
static void take_body(struct http_ctx *hc, const char *data, size_t len)
{
	size_t max = hc->hs->set.body_max, cap;
	char *grown;

	if (len > max - hc->body_len)
		goto too_large;
	if (hc->body_len + len > hc->body_cap) {
		for (cap = hc->body_cap == 0 ? 1024 : hc->body_cap; cap < hc->body_len + len;)
			cap *= 2;
		if (cap > max)
			cap = max;
		if ((grown = malloc(cap)) == NULL)
			goto too_large; /* out of memory: refused the same way */
		if (hc->body != NULL)
			memcpy(grown, hc->body, hc->body_len);
		secret_wipe(hc->body, hc->body_cap);
		free(hc->body);
		hc->body = grown;
		hc->body_cap = cap;
	}
	memcpy(hc->body + hc->body_len, data, len);
	hc->body_len += len;
	return;
too_large:
	hc->too_large = true;
	secret_wipe(hc->body, hc->body_cap);
	hc->body_len = 0;
}

/*
 * The session's person may have changed meanwhile through another front end:
 * suspended, deleted, given a new or a temporary password.
 */
static bool session_current(struct http_ctx *hc)
{
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;
	const char *state, *changed, *temporary;
	bool ok = false;

	proto_begin(&w, "USER_SHOW", "h");
	proto_add(&w, "login", hc->session.identifiant);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return false;
	state = proto_get(&msg, "state");
	changed = proto_get(&msg, "password_changed");
	temporary = proto_get(&msg, "password_temporary");
	ok = strcmp(msg.verb, "OK") == 0 && state != NULL && strcmp(state, "active") == 0 &&
	     changed != NULL && strtoll(changed, NULL, 10) <= (long long)hc->session.since &&
	     temporary != NULL && strcmp(temporary, "0") == 0;
	http_answer_free(buf);
	if (!ok) {
		http_session_end(hc->hs->sessions, hc->sid);
		hc->has_session = false;
		http_set_cookie(hc, NULL);
		http_reply_error(hc, 401, "unauthenticated", NULL);
	}
	return ok;
}

static void dispatch(struct http_ctx *hc)
{
	json_error_t err;

	http_watch_phase(hc->hs->watch, hc->watched, HTTP_PHASE_BUSY);
	if (hc->json == NULL && hc->body_len > 0) {
		hc->json = json_loadb(hc->body, hc->body_len, JSON_REJECT_DUPLICATES, &err);
		secret_wipe(hc->body, hc->body_cap);
		secret_wipe(&err, sizeof(err)); /* its text may quote the body */
		hc->body_len = 0;
		if (!json_is_object(hc->json)) {
			http_reply_error(hc, 400, "bad_json", NULL);
			return;
		}
	}
	if (hc->has_session && !session_current(hc))
		return;
	hc->route->handler(hc);
	if (hc->held)
		hc->held = false; /* parked: the handler runs again when its slot comes */
	else if (!hc->answered)
		http_reply_error(hc, 500, "tempfail", NULL);
}

static struct http_ctx *ctx_new(struct http_server *hs, struct MHD_Connection *conn,
                                const char *url, const char *method)
{
	struct http_ctx *hc = calloc(1, sizeof(*hc));
	const union MHD_ConnectionInfo *ci;

	if (hc == NULL)
		return NULL;
	hc->hs = hs;
	hc->conn = conn;
	hc->path = url;
	hc->method = method;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	hc->watched = ci != NULL && ci->socket_context != NULL
	                  ? ((struct http_conn *)ci->socket_context)->watched
	                  : NULL;
	http_resolve_address(hc);
	/* Behind a trusted proxy, the address it forwards holds at most per_ip_connections
	 * requests at once, as a direct peer holds that many connections (on_accept). */
	if (hc->proxied)
		hc->counted = http_limit_take(hs->limit, hc->address, hs->per_address);
	return hc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_len, void **req_ctx)
{
	struct http_ctx *hc = *req_ctx;

	(void)version;
	if (hc == NULL) {
		if ((hc = ctx_new(cls, conn, url, method)) == NULL)
			return MHD_NO;
		*req_ctx = hc;
		if (hc->proxied && !hc->counted) {
			http_reply_error(hc, 503, "tempfail",
			                 "too many connections from this address");
			return MHD_YES;
		}
		/* With a body, refused now: it is never read and libmicrohttpd closes after the
		 * answer. Without, answered in the last call, which keeps the connection alive. */
		if (has_body(hc))
			hc->admitted = admit(hc);
		return MHD_YES;
	}
	if (*data_len > 0) {
		/* Over the limit, the rest is read and dropped: the watch cuts a body
		 * that does not end within [http] timeout. */
		if (!hc->answered && !hc->too_large)
			take_body(hc, data, *data_len);
		*data_len = 0;
		return MHD_YES;
	}
	if (hc->answered)
		return MHD_YES;
	if (hc->too_large) {
		http_reply_error(hc, 413, "too_large", NULL);
		return MHD_YES;
	}
	if (!hc->admitted && !(hc->admitted = admit(hc)))
		return MHD_YES;
	dispatch(hc);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_ctx,
                         enum MHD_RequestTerminationCode why)
{
	struct http_server *hs = cls;
	struct http_ctx *hc = *req_ctx;

	(void)conn, (void)why;
	if (hc == NULL)
		return;
	if (hc->counted)
		http_limit_drop(hs->limit, hc->address);
	http_watch_phase(hs->watch, hc->watched, HTTP_PHASE_WAIT);
	secret_wipe(hc->body, hc->body_cap);
	free(hc->body);
	json_decref(hc->json);
	secret_wipe(hc, sizeof(*hc));
	free(hc);
	*req_ctx = NULL;
}

/* A direct peer beyond per_ip_connections is refused; a trusted proxy's requests count instead. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct http_server *hs = cls;
	char addr[HTTP_ADDRESS_MAX];
	bool proxy;

	(void)len;
	if (http_peer_address(&hs->set, sa, addr, sizeof(addr), &proxy) < 0 || proxy)
		return MHD_YES;
	return http_limit_count(hs->limit, addr) < hs->per_address ? MHD_YES : MHD_NO;
}

/* A direct peer's connection counts under its address; beyond per_ip_connections it is cut. */
static bool count_peer(struct http_server *hs, struct MHD_Connection *conn, struct http_conn *hcn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	bool proxy;

	if (ci == NULL ||
	    http_peer_address(&hs->set, ci->client_addr, hcn->addr, sizeof(hcn->addr), &proxy) < 0)
		return false;
	if (proxy)
		return true;
	hcn->counted = http_limit_take(hs->limit, hcn->addr, hs->per_address);
	return hcn->counted;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **sock_ctx,
                          enum MHD_ConnectionNotificationCode what)
{
	struct http_server *hs = cls;
	struct http_conn *hcn = *sock_ctx;
	const union MHD_ConnectionInfo *ci;
	void *watched = NULL;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		*sock_ctx = hcn = calloc(1, sizeof(*hcn));
		/* on_accept let it in, but others from its address may have been counted since. */
		if (hcn == NULL || !count_peer(hs, conn, hcn)) {
			ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
			if (ci != NULL)
				shutdown(ci->connect_fd, SHUT_RDWR);
			return;
		}
		http_watch_opened(hs->watch, conn, &watched);
		hcn->watched = watched;
		return;
	}
	if (hcn == NULL)
		return;
	if (hcn->counted)
		http_limit_drop(hs->limit, hcn->addr);
	watched = hcn->watched;
	http_watch_closed(hs->watch, &watched);
	free(hcn);
	*sock_ctx = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warn("http: %s", line);
}

static int settings_load(struct http_server *hs, const struct config *c)
{
	hs->set.body_max = c->http_body_max;
	hs->set.timeout = c->http_timeout;
	hs->set.secure_cookie = c->http_secure_cookie;
	hs->set.trusted_browser_days = c->trusted_browser_days;
	hs->set.penalty_base_ms = c->penalty_base_ms;
	hs->set.penalty_max_ms = c->penalty_max_ms;
	if (http_settings_proxies(&hs->set, c->http_trusted_proxies) < 0) {
		log_err("http: trusted_proxies: addresses separated by commas, at most %d",
		        HTTP_PROXIES_MAX);
		return -1;
	}
	return 0;
}

/* Why libmicrohttpd could not listen, found by binding as it does. */
static const char *bind_error(const struct sockaddr_storage *ss, bool v6)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1, err;

	if (fd < 0)
		return strerror(errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	err = bind(fd, (const struct sockaddr *)ss,
	           v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0
	          ? errno
	          : 0;
	close(fd);
	if (err == EADDRINUSE)
		return "the port is in use (another verdond or another server listens there)";
	return err != 0 ? strerror(err) : "see the message above";
}

static struct MHD_Daemon *mhd_start(struct http_server *hs, const struct config *c,
                                    struct sockaddr_storage *ss, bool v6)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
	                 MHD_ALLOW_SUSPEND_RESUME | (v6 ? MHD_USE_DUAL_STACK : 0);
	unsigned limit =
	    c->http_max_connections < c->http_threads ? c->http_threads : c->http_max_connections;
	uint16_t port = ntohs(v6 ? ((struct sockaddr_in6 *)ss)->sin6_port
	                         : ((struct sockaddr_in *)ss)->sin_port);

	return MHD_start_daemon(
	    flags, port, on_accept, hs, on_request, hs, MHD_OPTION_EXTERNAL_LOGGER, on_log, hs,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)c->http_threads, MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->http_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
	    /* SO_REUSEADDR only: with SO_REUSEPORT a second daemon would share the port. */
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, hs, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, hs, MHD_OPTION_END);
}

struct http_server *http_start(struct daemon *d)
{
	const struct config *c = d->config; /* the loop's thread: it alone swaps the config */
	struct http_server *hs = calloc(1, sizeof(*hs));
	struct sockaddr_storage ss;
	bool v6;

	if (hs == NULL)
		goto fail;
	hs->d = d;
	json_set_alloc_funcs(json_alloc, json_wipe_free);
	if (listen_parse_inet(c->http_listen, &ss, &v6) < 0) {
		log_err("http: listen = %s: give ADDRESS:PORT, [ADDRESS]:PORT for IPv6",
		        c->http_listen);
		goto fail;
	}
	hs->per_address = c->http_per_ip_connections;
	if (settings_load(hs, c) < 0 || (hs->limit = http_limit_new()) == NULL ||
	    (hs->sessions = http_sessions_new(HTTP_SESSIONS_MAX, c->session_idle,
	                                      c->session_lifetime)) == NULL ||
	    (hs->watch = http_watch_new(c->http_timeout)) == NULL ||
	    penalty_on_clear(d->penalty, http_watch_wake, hs->watch) < 0)
		goto fail;
	if ((hs->mhd = mhd_start(hs, c, &ss, v6)) == NULL) {
		log_err("http: cannot listen on %s: %s", c->http_listen, bind_error(&ss, v6));
		goto fail;
	}
	log_info("http: serving the self-service page on %s with %u threads", c->http_listen,
	         c->http_threads);
	return hs;
fail:
	http_stop(hs);
	return NULL;
}

void http_stop(struct http_server *hs)
{
	if (hs == NULL)
		return;
	if (hs->watch != NULL)
		penalty_off_clear(hs->d->penalty, http_watch_wake, hs->watch);
	/* Parked requests must be resumed before libmicrohttpd may stop. */
	http_watch_stop(hs->watch);
	if (hs->mhd != NULL)
		MHD_stop_daemon(hs->mhd);
	http_watch_free(hs->watch);
	http_limit_free(hs->limit);
	http_sessions_free(hs->sessions);
	free(hs);
}
