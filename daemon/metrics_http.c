/*
 * GET /metrics on [metrics] listen: a libmicrohttpd daemon of its own, one
 * thread, few connections, short timeouts; nothing else is served. Keep it
 * on loopback or behind a firewall: it tells how busy the service is.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "config.h"
#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"

#define METRICS_CONNECTIONS 8
#define METRICS_TIMEOUT 10 /* seconds */

struct metrics_server {
	struct daemon *d;
	struct MHD_Daemon *mhd;
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
                              const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    len, body, body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
	struct metrics_server *ms = cls;
	static int first;
	char *text;
	size_t len;

	(void)version, (void)upload;
	if (*state == NULL) { /* headers only so far: wait for the (empty) body */
		*state = &first;
		return MHD_YES;
	}
	if (*upload_len != 0) {
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return answer(conn, MHD_HTTP_NOT_FOUND, NULL, 0, "text/plain");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, 0, "text/plain");
	if (metrics_render(ms->d, &text, &len) < 0)
		return answer(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, 0, "text/plain");
	return answer(conn, MHD_HTTP_OK, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

struct metrics_server *metrics_start(struct daemon *d)
{
	const struct config *c = d->config;
	struct metrics_server *ms = calloc(1, sizeof(*ms));
	struct sockaddr_storage ss;
	bool v6;

	if (ms == NULL)
		return NULL;
	ms->d = d;
	if (listen_parse_inet(c->metrics_listen, &ss, &v6) < 0) {
		log_err("metrics: listen = %s: give ADDRESS:PORT, [ADDRESS]:PORT for IPv6",
		        c->metrics_listen);
		goto fail;
	}
	ms->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    on_request, ms, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_END);
	if (ms->mhd == NULL) {
		log_err("metrics: cannot listen on %s", c->metrics_listen);
		goto fail;
	}
	log_info("metrics on http://%s/metrics", c->metrics_listen);
	return ms;
fail:
	free(ms);
	return NULL;
}

void metrics_stop(struct metrics_server *ms)
{
	if (ms == NULL)
		return;
	MHD_stop_daemon(ms->mhd);
	free(ms);
}
