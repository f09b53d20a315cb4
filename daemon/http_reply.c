/* Answers, the bridge to the handlers, and what a handler may ask about its request. */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "bridge.h"
#include "daemon.h"
#include "http_priv.h"
#include "log.h"
#include "penalty.h"
#include "proto.h"
#include "reason.h"
#include "rescue.h"
#include "secret.h"

#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void wipe_free(void *p)
{
	if (p != NULL)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static bool is_api(const struct http_ctx *hc)
{
	return strncmp(hc->path, "/api/", 5) == 0;
}

static void add_headers(struct http_ctx *hc, struct MHD_Response *resp, const char *type)
{
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control", is_api(hc) ? "no-store" : "no-cache");
	if (hc->cookie[0] != '\0')
		MHD_add_response_header(resp, "Set-Cookie", hc->cookie);
	if (hc->device_cookie[0] != '\0')
		MHD_add_response_header(resp, "Set-Cookie", hc->device_cookie);
}

void http_reply_raw(struct http_ctx *hc, unsigned status, const char *type, const void *data,
                    size_t len, bool secret)
{
	struct MHD_Response *resp;
	void *copy = NULL;

	if (hc->answered)
		return;
	hc->answered = true;
	if (secret) {
		/* libmicrohttpd would free its own copy unwiped: it gets ours, wiped when sent. */
		if ((copy = malloc(len > 0 ? len : 1)) == NULL)
			return;
		memcpy(copy, data, len);
		resp = MHD_create_response_from_buffer_with_free_callback(len, copy, wipe_free);
	} else {
		resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL) {
		wipe_free(copy);
		return;
	}
	add_headers(hc, resp, type);
	if (hc->allow[0] != '\0')
		MHD_add_response_header(resp, "Allow", hc->allow);
	MHD_queue_response(hc->conn, status, resp);
	MHD_destroy_response(resp);
}

void http_reply_json(struct http_ctx *hc, unsigned status, json_t *obj)
{
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;

	if (text == NULL)
		http_reply_raw(hc, 500, "application/json", "{\"error\":\"tempfail\"}", 20, false);
	else
		http_reply_raw(hc, status, "application/json", text, strlen(text), true);
	wipe_free(text);
	json_decref(obj);
}

void http_reply_error(struct http_ctx *hc, unsigned status, const char *error, const char *detail)
{
	json_t *obj = json_pack("{ss}", "error", error);

	if (obj != NULL && detail != NULL)
		json_object_set_new(obj, "detail", json_string(detail));
	http_reply_json(hc, status, obj);
}

unsigned http_status_for(const char *reason)
{
	static const struct {
		enum proto_reason reason;
		unsigned status;
	} map[] = {
	    {REASON_INVALID, 401},
	    {REASON_OTP_REQUIRED, 401},
	    {REASON_PASSWORD_CHANGE_REQUIRED, 401},
	    {REASON_OTP_ENROLLMENT_REQUIRED, 401},
	    {REASON_DISABLED, 401},
	    {REASON_LOCKED, 429},
	    {REASON_TEMPFAIL, 503},
	    {REASON_FORBIDDEN, 403},
	    {REASON_NOT_FOUND, 404},
	};
	enum proto_reason r = reason != NULL ? proto_reason_parse(reason) : REASON_NONE;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].reason == r)
			return map[i].status;
	/* the policy's reasons, bad_request, exists, wrong_state, no_pending_otp */
	return 400;
}

void http_set_cookie(struct http_ctx *hc, const char *id)
{
	bool secure = hc->hs->set.secure_cookie || hc->https;

	snprintf(hc->cookie, sizeof(hc->cookie),
	         "verdon_session=%s; Path=/; HttpOnly; SameSite=Strict%s%s", id != NULL ? id : "",
	         id == NULL ? "; Max-Age=0" : "", secure ? "; Secure" : "");
}

static bool penalised(const char *line)
{
	const struct verb *tables[] = {auth_verbs, admin_verbs, self_verbs};
	size_t n = strcspn(line, "\t\n");

	for (size_t t = 0; t < 3; t++)
		for (const struct verb *v = tables[t]; v->name != NULL; v++)
			if (strlen(v->name) == n && strncmp(v->name, line, n) == 0)
				return (v->flags & VERB_PENALIZED) != 0;
	return false;
}

/* The page asks to be told how long to wait (X-Verdon-No-Hold: 1): a 429 with the wait, at once. */
static bool tell_wait(struct http_ctx *hc)
{
	struct http_server *hs = hc->hs;
	const char *h = MHD_lookup_connection_value(hc->conn, MHD_HEADER_KIND, "X-Verdon-No-Hold");
	uint64_t wait;

	if (h == NULL || strcmp(h, "1") != 0)
		return false;
	wait = penalty_wait(hs->d->penalty, hc->address, penalty_now_ms(), hs->set.penalty_base_ms,
	                    hs->set.penalty_max_ms);
	if (wait == 0)
		return false;
	http_reply_json(
	    hc, 429,
	    json_pack("{sssI}", "error", "penalty", "wait", (json_int_t)((wait + 999) / 1000)));
	return true;
}

/*
 * The address penalty, as the loop applies it to socket requests: 1 when the request is parked,
 * 2 when it was answered with the time to wait.
 */
static int hold(struct http_ctx *hc, const struct proto_writer *w)
{
	struct http_server *hs = hc->hs;
	uint64_t now = penalty_now_ms(), due;

	if (hc->released) {
		hc->released = false;
		penalty_release(hs->d->penalty, hc->address);
		return 0;
	}
	if (!penalised(w->buf))
		return 0;
	if (tell_wait(hc))
		return 2;
	due = penalty_slot(hs->d->penalty, hc->address, now, hs->set.penalty_base_ms,
	                   hs->set.penalty_max_ms);
	if (due == UINT64_MAX)
		return -1;
	if (due <= now)
		return 0;
	if (!http_watch_hold(hs->watch, hc, due)) {
		penalty_release(hs->d->penalty, hc->address);
		return 0;
	}
	hc->held = true;
	return 1;
}

int http_call_lines(struct http_ctx *hc, struct proto_writer *w, char **buf_r, size_t *len_r)
{
	struct reply reply = {0};
	char *buf = NULL;
	int r = -1, h;

	*buf_r = NULL;
	if ((h = hold(hc, w)) > 0)
		goto out;
	if (h < 0 || bridge_call(hc->hs->d, w, &reply) < 0 || reply.len == 0 ||
	    (buf = malloc(reply.len + 1)) == NULL) {
		http_reply_error(hc, 503, "tempfail", NULL);
		goto out;
	}
	memcpy(buf, reply.data, reply.len);
	buf[reply.len] = '\0';
	*len_r = reply.len;
	*buf_r = buf;
	r = 0;
out:
	proto_writer_wipe(w);
	reply_wipe(&reply);
	return r;
}

int http_call(struct http_ctx *hc, struct proto_writer *w, struct proto_msg *msg_r, char **buf_r)
{
	char *buf = NULL, *lf;
	size_t len;

	*buf_r = NULL;
	if (http_call_lines(hc, w, &buf, &len) < 0)
		return -1;
	if ((lf = memchr(buf, '\n', len)) != NULL)
		*lf = '\0';
	if (proto_parse(buf, strlen(buf), msg_r) != PROTO_OK ||
	    strcmp(msg_r->verb, "TEMPFAIL") == 0) {
		http_answer_free(buf);
		http_reply_error(hc, 503, "tempfail", NULL);
		return -1;
	}
	*buf_r = buf;
	return 0;
}

void http_answer_free(char *buf)
{
	wipe_free(buf);
}

struct daemon *http_daemon(struct http_ctx *hc)
{
	return hc->hs->d;
}

json_t *http_body(struct http_ctx *hc)
{
	return hc->json;
}

const char *http_body_string(struct http_ctx *hc, const char *key, size_t max)
{
	json_t *v = hc->json != NULL ? json_object_get(hc->json, key) : NULL;

	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL; /* a NUL inside would cut the value short on the wire */
	return json_string_value(v);
}

const char *http_client_address(struct http_ctx *hc)
{
	return hc->address;
}

const char *http_path_rest(struct http_ctx *hc)
{
	return hc->path_rest;
}

const char *http_session_identifiant(struct http_ctx *hc)
{
	return hc->has_session ? hc->session.identifiant : NULL;
}

/* An address in canonical form (IPv4-mapped IPv6 as IPv4); -1 when it is none. */
static int addr_parse(const char *text, int *family_r, unsigned char addr[16])
{
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family_r = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) != 1)
		return -1;
	*family_r = AF_INET6;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
		memmove(addr, addr + 12, 4);
		*family_r = AF_INET;
	}
	return 0;
}

int http_settings_proxies(struct http_settings *set, const char *list)
{
	char item[HTTP_ADDRESS_MAX];

	set->nproxies = 0;
	while (list != NULL && *list != '\0') {
		size_t n = strcspn(list, ", ");

		if (n > 0) {
			if (n >= sizeof(item) || set->nproxies == HTTP_PROXIES_MAX)
				return -1;
			memcpy(item, list, n);
			item[n] = '\0';
			if (addr_parse(item, &set->proxies[set->nproxies].family,
			               set->proxies[set->nproxies].addr) < 0)
				return -1;
			set->nproxies++;
		}
		list += n;
		list += strspn(list, ", ");
	}
	return 0;
}

static bool trusted(const struct http_settings *set, int family, const unsigned char *addr)
{
	for (unsigned i = 0; i < set->nproxies; i++)
		if (set->proxies[i].family == family &&
		    memcmp(set->proxies[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

bool http_forwarded_address(const struct http_settings *set, const char *xff, char *out,
                            size_t outlen)
{
	char item[HTTP_ADDRESS_MAX];
	unsigned char addr[16];
	size_t end = strlen(xff);
	int family;

	while (end > 0) {
		size_t start = end, len;

		while (start > 0 && xff[start - 1] != ',')
			start--;
		while (start < end && xff[start] == ' ')
			start++;
		len = end;
		while (len > start && xff[len - 1] == ' ')
			len--;
		len -= start;
		if (len == 0 || len >= sizeof(item))
			return false;
		memcpy(item, xff + start, len);
		item[len] = '\0';
		if (addr_parse(item, &family, addr) < 0)
			return false;
		if (!trusted(set, family, addr))
			return inet_ntop(family, addr, out, outlen) != NULL;
		end = start > 0 ? start - 1 : 0;
	}
	return false;
}

/* The address of sa in addr (4 or 16 bytes) and its family; -1 when not IP. */
static int peer_of(const struct sockaddr *sa, int *family_r, unsigned char addr[16])
{
	if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return -1;
	*family_r = sa->sa_family;
	if (*family_r == AF_INET)
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	if (*family_r == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
		memmove(addr, addr + 12, 4);
		*family_r = AF_INET;
	}
	return 0;
}

int http_peer_address(const struct http_settings *set, const struct sockaddr *sa, char *buf,
                      size_t len, bool *trusted_r)
{
	unsigned char addr[16];
	int family;

	*trusted_r = false;
	if (peer_of(sa, &family, addr) < 0 || inet_ntop(family, addr, buf, len) == NULL)
		return -1;
	*trusted_r = trusted(set, family, addr);
	return 0;
}

void http_resolve_address(struct http_ctx *hc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(hc->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
	unsigned char addr[16];
	const char *xff, *proto;
	int family;

	hc->address[0] = '\0';
	if (peer_of(sa, &family, addr) < 0)
		return;
	inet_ntop(family, addr, hc->address, sizeof(hc->address));
	if (!trusted(&hc->hs->set, family, addr))
		return;
	hc->proxied = true;
	proto = MHD_lookup_connection_value(hc->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
	hc->https = proto != NULL && strcasecmp(proto, "https") == 0;
	xff = MHD_lookup_connection_value(hc->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (xff != NULL &&
	    !http_forwarded_address(&hc->hs->set, xff, hc->address, sizeof(hc->address)))
		inet_ntop(family, addr, hc->address, sizeof(hc->address));
}
