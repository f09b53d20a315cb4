/*
 * libFuzzer: any bytes as a request line, parsed as the server does, then
 * read through field_get and field_service: what they return is within its
 * bound, a service is [a-z0-9._-], and every refusal leaves a FAIL answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fields.h"
#include "fuzz_util.h"
#include "proto.h"

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

static void fuzz_fields(struct request *req, unsigned pick)
{
	static const struct {
		const char *key;
		size_t max;
	} fields[] = {
	    {"login", FIELD_LOGIN_MAX},
	    {"password", FIELD_SECRET_MAX},
	    {"otp", FIELD_CODE_MAX},
	    {"address", FIELD_ADDRESS_MAX},
	    {"reason", FIELD_TEXT_MAX},
	    {"identifiant", 8},
	    {"new_password", FIELD_SECRET_MAX},
	};
	bool bad = false;
	const char *v;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t before = req->reply.len;
		bool required = (pick >> i) & 1;

		v = field_get(req, fields[i].key, fields[i].max, required, &bad);
		if (v != NULL)
			fuzz_check(!bad && *v != '\0' && strlen(v) <= fields[i].max);
		if (bad) {
			fuzz_check(v == NULL && req->reply.len > 0);
			fuzz_check(req->reply.len == before ||
			           strncmp(req->reply.data, "FAIL\t", 5) == 0);
		}
	}
	bad = false;
	reply_wipe(&req->reply);
	memset(&req->reply, 0, sizeof(req->reply));
	v = field_service(req, &bad);
	fuzz_check((v == NULL) == bad);
	if (v != NULL)
		fuzz_check(strlen(v) >= 1 && strlen(v) <= FIELD_SERVICE_MAX &&
		           strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(v));
	else
		fuzz_check(req->reply.len > 0 && strncmp(req->reply.data, "FAIL\t", 5) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request *req;

	if (size == 0)
		return 0;
	if ((req = calloc(1, sizeof(*req))) == NULL || (req->line = malloc(size)) == NULL)
		abort();
	memcpy(req->line, data + 1, size - 1);
	req->line[size - 1] = '\0';
	req->line_len = size - 1;
	if (proto_parse(req->line, req->line_len, &req->msg) == PROTO_OK)
		fuzz_fields(req, data[0]);
	request_free(req);
	return 0;
}
