/* App passwords of the session's person: list, create (shown once), revoke. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "http_api.h"
#include "http_priv.h"
#include "proto.h"
#include "secret.h"

#define SERVICES_IN_ONE 16

static json_t *split_services(const char *list)
{
	json_t *services = json_array();
	const char *p = list;

	while (services != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_array_append_new(services, json_stringn(p, n));
		p += n;
		p += *p == ',';
	}
	return services;
}

static json_t *app_of(const struct proto_msg *row)
{
	const char *id = proto_get(row, "app_id"), *label = proto_get(row, "label");
	const char *services = proto_get(row, "services"), *created = proto_get(row, "created");
	const char *used = proto_get(row, "last_used");

	if (id == NULL || label == NULL || services == NULL || created == NULL || used == NULL)
		return NULL;
	return json_pack("{sssssosIsI}", "id", id, "label", label, "services",
	                 split_services(services), "created",
	                 (json_int_t)strtoll(created, NULL, 10), "last_used",
	                 (json_int_t)strtoll(used, NULL, 10));
}

json_t *api_rows(char *lines, size_t len, struct proto_msg *last_r, api_row_fn *row_of)
{
	json_t *apps = json_array();
	char *p = lines, *end = lines + len;

	while (apps != NULL && p < end) {
		char *lf = memchr(p, '\n', (size_t)(end - p));

		if (lf == NULL)
			lf = end;
		*lf = '\0';
		if (proto_parse(p, (size_t)(lf - p), last_r) != PROTO_OK) {
			json_decref(apps);
			return NULL;
		}
		if (api_is(last_r, "ROW") && json_array_append_new(apps, row_of(last_r)) < 0) {
			json_decref(apps);
			return NULL;
		}
		if (!api_is(last_r, "ROW"))
			break;
		p = lf + 1;
	}
	return apps;
}

void api_list(struct http_ctx *hc, const char *verb, const char *key, api_row_fn *row_of)
{
	struct proto_writer w;
	struct proto_msg last = {.verb = "TEMPFAIL"};
	char *buf = NULL;
	size_t len = 0;
	json_t *rows;

	proto_begin(&w, verb, "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	if (http_call_lines(hc, &w, &buf, &len) < 0)
		return;
	if ((rows = api_rows(buf, len, &last, row_of)) == NULL || api_is(&last, "TEMPFAIL"))
		http_reply_error(hc, 503, "tempfail", NULL);
	else if (!api_is(&last, "OK"))
		api_fail(hc, &last, 0);
	else
		http_reply_json(hc, 200, json_pack("{sO}", key, rows));
	json_decref(rows);
	http_answer_free(buf);
}

void api_app_list(struct http_ctx *hc)
{
	api_list(hc, "APP_LIST", "app_passwords", app_of);
}

/* ["imap","smtp"] → "imap,smtp"; -1 when not a short list of service names. */
static int join_services(json_t *list, char *out, size_t cap)
{
	size_t o = 0, i;
	json_t *v;

	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > SERVICES_IN_ONE)
		return -1;
	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v);
		size_t n = s != NULL ? strlen(s) : 0;

		if (n == 0 || n != json_string_length(v) || o + n + 2 > cap)
			return -1;
		for (size_t k = 0; k < n; k++)
			if (!islower((unsigned char)s[k]) && !isdigit((unsigned char)s[k]) &&
			    strchr("._-", s[k]) == NULL)
				return -1;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

void api_app_add(struct http_ctx *hc)
{
	const char *label = http_body_string(hc, "label", APP_LABEL_MAX), *id, *pw;
	char services[APP_SERVICES_MAX + 1];
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;

	if (label == NULL || label[0] == '\0' ||
	    join_services(json_object_get(http_body(hc), "services"), services, sizeof(services)) <
	        0) {
		api_bad_request(hc, "label, services: [\"imap\", \"smtp\"]");
		return;
	}
	proto_begin(&w, "APP_ADD", "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	proto_add(&w, "label", label);
	proto_add(&w, "services", services);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	id = proto_get(&msg, "app_id");
	pw = proto_get(&msg, "password");
	if (!api_is(&msg, "OK") || id == NULL || pw == NULL)
		api_fail(hc, &msg, 0);
	else
		http_reply_json(hc, 200, json_pack("{ssss}", "id", id, "password", pw));
	http_answer_free(buf);
}

void api_app_revoke(struct http_ctx *hc)
{
	const char *id = http_path_rest(hc);
	size_t n = strlen(id);

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]))
			n = 0;
	if (n == 0 || n > APP_ID_LEN) {
		http_reply_error(hc, 404, "not_found", NULL);
		return;
	}
	api_revoke(hc, "APP_REVOKE", "app_id", id);
}

void api_revoke(struct http_ctx *hc, const char *verb, const char *key, const char *id)
{
	struct proto_writer w;
	struct proto_msg msg;
	char *buf = NULL;

	proto_begin(&w, verb, "h");
	proto_add(&w, "login", http_session_identifiant(hc));
	proto_add(&w, key, id);
	if (http_call(hc, &w, &msg, &buf) < 0)
		return;
	if (api_is(&msg, "OK"))
		http_reply_json(hc, 200, json_object());
	else
		api_fail(hc, &msg, 0);
	http_answer_free(buf);
}
