/* The API's handlers, split over http_api.c, http_api_otp.c and http_api_app.c. */
#ifndef VERDON_HTTP_API_H
#define VERDON_HTTP_API_H

#include <stdbool.h>

#include <jansson.h>

struct http_ctx;
struct proto_msg;

/* A FAIL answer as JSON: status 0 picks http_status_for(reason). */
void api_fail(struct http_ctx *hc, const struct proto_msg *msg, unsigned status);
void api_bad_request(struct http_ctx *hc, const char *detail);
bool api_is(const struct proto_msg *msg, const char *verb);
bool api_reason_is(const struct proto_msg *msg, const char *reason);
/* The ROW lines before the OK, each through row_of, as a JSON array; NULL when a line does not
 * read. */
typedef json_t *api_row_fn(const struct proto_msg *row);
json_t *api_rows(char *lines, size_t len, struct proto_msg *last_r, api_row_fn *row_of);
/* GET of a ROW-listing admin verb for the session's person: {key: [rows]}. */
void api_list(struct http_ctx *hc, const char *verb, const char *key, api_row_fn *row_of);
/* DELETE of one of the session's person's items, by an id already checked: 200 {} or the FAIL. */
void api_revoke(struct http_ctx *hc, const char *verb, const char *key, const char *id);
/* The device cookie's secret, when the request carries a well-formed one; else NULL. */
const char *api_device_cookie(struct http_ctx *hc);
/* Sets the device cookie from an OK answer that carries device= and device_expires=. */
void api_device_set(struct http_ctx *hc, const struct proto_msg *ok);
/* A short browser name from the User-Agent, for the device's label. */
void api_device_label(struct http_ctx *hc, char *out, size_t len);

void api_otp_enroll(struct http_ctx *hc);
void api_otp_qr_png(struct http_ctx *hc);
void api_otp_qr_svg(struct http_ctx *hc);
void api_otp_confirm(struct http_ctx *hc);
void api_password(struct http_ctx *hc);
void api_app_list(struct http_ctx *hc);
void api_app_add(struct http_ctx *hc);
void api_app_revoke(struct http_ctx *hc);
void api_device_list(struct http_ctx *hc);
void api_device_revoke(struct http_ctx *hc);

#endif
