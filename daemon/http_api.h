/* The API's handlers, split over http_api.c, http_api_otp.c and http_api_app.c. */
#ifndef VERDON_HTTP_API_H
#define VERDON_HTTP_API_H

#include <stdbool.h>

struct http_ctx;
struct proto_msg;

/* A FAIL answer as JSON: status 0 picks http_status_for(reason). */
void api_fail(struct http_ctx *hc, const struct proto_msg *msg, unsigned status);
void api_bad_request(struct http_ctx *hc, const char *detail);
bool api_is(const struct proto_msg *msg, const char *verb);
bool api_reason_is(const struct proto_msg *msg, const char *reason);

void api_otp_enroll(struct http_ctx *hc);
void api_otp_qr_png(struct http_ctx *hc);
void api_otp_qr_svg(struct http_ctx *hc);
void api_otp_confirm(struct http_ctx *hc);
void api_password(struct http_ctx *hc);
void api_app_list(struct http_ctx *hc);
void api_app_add(struct http_ctx *hc);
void api_app_revoke(struct http_ctx *hc);

#endif
