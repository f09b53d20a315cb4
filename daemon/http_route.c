/*
 * Routing and the session cookie's form (http_route.h): pure, so that the
 * unit tests and the fuzzer reach every path a request can take here.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "http_route.h"
#include "http_session.h"

bool http_route_path(const char *route_path, const char *path, const char **rest_r)
{
	size_t n = strlen(route_path);

	*rest_r = path + strlen(path); /* "", inside path */
	if (n > 0 && route_path[n - 1] == '/') {
		if (strncmp(path, route_path, n) != 0 || path[n] == '\0')
			return false;
		*rest_r = path + n;
		return true;
	}
	return strcmp(path, route_path) == 0;
}

/* Adds method to the ", "-separated list unless it is there already. */
static void allow_add(char allow[HTTP_ALLOW_MAX], const char *method)
{
	size_t len = strlen(method), used = strlen(allow);

	for (const char *p = allow; (p = strstr(p, method)) != NULL; p += len)
		if ((p == allow || p[-1] == ' ') && (p[len] == '\0' || p[len] == ','))
			return;
	if (used + len + (used > 0 ? 2 : 0) < HTTP_ALLOW_MAX)
		snprintf(allow + used, HTTP_ALLOW_MAX - used, "%s%s", used > 0 ? ", " : "", method);
}

void http_route_find(const struct http_route *const *tables, const char *method, const char *path,
                     struct http_match *m_r)
{
	const char *rest;

	*m_r = (struct http_match){.rest = path + strlen(path)};
	for (; *tables != NULL; tables++)
		for (const struct http_route *r = *tables; r->path != NULL; r++) {
			if (!http_route_path(r->path, path, &rest))
				continue;
			if (strcmp(r->method, method) == 0) {
				m_r->route = r;
				m_r->rest = rest;
				m_r->allow[0] = '\0';
				return;
			}
			allow_add(m_r->allow, r->method);
		}
}

bool http_cookie_id_ok(const char *value)
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	return value != NULL && strlen(value) == HTTP_SESSION_ID_LEN &&
	       strspn(value, b64url) == HTTP_SESSION_ID_LEN;
}
