/*
 * The HTTP front end's routing and cookie checks as pure functions (no
 * libmicrohttpd, no I/O): which route a method and a path reach, what
 * follows a prefix route, the Allow list of a 405, and whether a session
 * cookie's value is an id as http_session.c makes them. Fuzzed by
 * tests/fuzz/fuzz_http.c.
 */
#ifndef VERDON_HTTP_ROUTE_H
#define VERDON_HTTP_ROUTE_H

#include <stdbool.h>

struct http_route;

#define HTTP_ALLOW_MAX 32 /* "GET, POST, DELETE, PUT" and its NUL */

struct http_match {
	const struct http_route *route; /* NULL: no route for this method and path */
	const char *rest;               /* into path: after a prefix route's path, else "" */
	char allow[HTTP_ALLOW_MAX]; /* route NULL: the path's methods, ", "-separated; "": none */
};

/*
 * Whether path is route_path (exact), or extends it when route_path ends
 * with '/' (a prefix route: at least one more character). *rest_r points
 * into path: what follows the prefix, else path's end ("").
 */
bool http_route_path(const char *route_path, const char *path, const char **rest_r);

/*
 * The first route of tables (a NULL-terminated list of NULL-terminated
 * tables) whose method and path match; else m_r->route NULL and m_r->allow
 * the distinct methods of the routes whose path matched, in table order.
 */
void http_route_find(const struct http_route *const *tables, const char *method, const char *path,
                     struct http_match *m_r);

/* Whether a verdon_session cookie's value is a session id: HTTP_SESSION_ID_LEN base64url
 * characters. */
bool http_cookie_id_ok(const char *value);

#endif
