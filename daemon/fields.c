#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "fields.h"
#include "reason.h"

const char *field_get(struct request *req, const char *key, size_t max, bool required, bool *bad)
{
	const char *v = proto_get(&req->msg, key);
	char detail[96];

	if (*bad)
		return NULL;
	if (v != NULL && *v == '\0')
		v = NULL;
	if (v == NULL && !required)
		return NULL;
	if (v == NULL || strlen(v) > max) {
		snprintf(detail, sizeof(detail), v == NULL ? "%s is required" : "%s is too long",
		         key);
		reply_fail(req, REASON_BAD_REQUEST, detail);
		*bad = true;
		return NULL;
	}
	return v;
}

const char *field_service(struct request *req, bool *bad)
{
	const char *v = field_get(req, "service", FIELD_SERVICE_MAX, false, bad);

	if (v == NULL)
		return *bad ? NULL : "default";
	if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(v)) {
		reply_fail(req, REASON_BAD_REQUEST, "service must be [a-z0-9._-]");
		*bad = true;
		return NULL;
	}
	return v;
}
