/*
 * libFuzzer target for the line codec: whatever parses must re-encode with
 * proto_writer and parse back to the same verb, id and fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

/* The re-encoded length, LF included, to tell a fair overflow from a bug. */
static size_t fuzz_encoded_len(const struct proto_msg *msg)
{
	size_t n = strlen(msg->verb) + 1 + strlen(msg->id) + 1;

	for (size_t i = 0; i < msg->nfields; i++)
		n += 1 + strlen(msg->fields[i].key) + 1 +
		     proto_escaped_len(msg->fields[i].value, msg->fields[i].value_len);
	return n;
}

static void fuzz_same(const struct proto_msg *a, const struct proto_msg *b)
{
	fuzz_check(strcmp(a->verb, b->verb) == 0);
	fuzz_check(strcmp(a->id, b->id) == 0);
	fuzz_check(a->nfields == b->nfields);
	for (size_t i = 0; i < a->nfields; i++) {
		const struct proto_field *fa = &a->fields[i], *fb = &b->fields[i];

		fuzz_check(strcmp(fa->key, fb->key) == 0);
		fuzz_check(fa->value_len == fb->value_len);
		fuzz_check(memcmp(fa->value, fb->value, fa->value_len + 1) == 0);
	}
}

static void fuzz_reencode(const struct proto_msg *msg)
{
	static struct proto_writer w;
	struct proto_msg again;

	proto_begin(&w, msg->verb, msg->id);
	for (size_t i = 0; i < msg->nfields; i++)
		proto_add_len(&w, msg->fields[i].key, msg->fields[i].value,
		              msg->fields[i].value_len);
	if (proto_end(&w) < 0) {
		/* Escaping a raw CR or LF may grow a line past the limit, nothing else. */
		fuzz_check(fuzz_encoded_len(msg) > PROTO_LINE_MAX);
		return;
	}
	fuzz_check(w.len == fuzz_encoded_len(msg));
	fuzz_check(proto_parse(w.buf, w.len - 1, &again) == PROTO_OK);
	fuzz_same(msg, &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg msg;
	char *line = malloc(size + 1);
	int r;

	if (line == NULL)
		return 0;
	/* proto_parse may write a NUL where the LF was. */
	memcpy(line, data, size);
	line[size] = '\n';
	r = proto_parse(line, size, &msg);
	if (r == PROTO_OK)
		fuzz_reencode(&msg);
	else
		fuzz_check(r <= PROTO_E_EMPTY && r >= PROTO_E_NUL);
	free(line);
	return 0;
}
