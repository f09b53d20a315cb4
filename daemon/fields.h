/* Reading request fields with their bounds: every length is checked once, here. */
#ifndef VERDON_FIELDS_H
#define VERDON_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

struct request;

#define FIELD_SECRET_MAX 4096 /* passwords: the policy's max_bytes is below */
#define FIELD_CODE_MAX 32
#define FIELD_SERVICE_MAX 64
#define FIELD_ADDRESS_MAX 64
#define FIELD_LOGIN_MAX 320
#define FIELD_TEXT_MAX 256

/*
 * The value of key, or NULL. When the field is absent and required, or
 * longer than max, answers FAIL bad_request naming it, sets *bad and
 * returns NULL. Empty optional fields count as absent.
 */
const char *field_get(struct request *req, const char *key, size_t max, bool required, bool *bad);
/* A service name: [a-z0-9._-]{1,64}; NULL and *bad set otherwise. */
const char *field_service(struct request *req, bool *bad);

#endif
