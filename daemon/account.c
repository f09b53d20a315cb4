/*
 * Account records as JSON objects (jansson), with a schema version "v".
 * Each field is described once, in a table, for both directions.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "account.h"
#include "secret.h"

#define ACCOUNT_JSON_MAX 65536

enum field_type {
	FIELD_STR,
	FIELD_I64,
	FIELD_U64,
	FIELD_UINT,
	FIELD_INT,
	FIELD_BOOL,
	FIELD_STATE,
	FIELD_ALGO,
};

struct field {
	const char *name;
	enum field_type type;
	size_t off;
	size_t size;
};

#define FIELD_OF(st, name, type, member)                                                           \
	{                                                                                          \
		name, type, offsetof(struct st, member), sizeof(((struct st *)0)->member)          \
	}
#define A(name, type, member) FIELD_OF(account, name, type, member)
#define O(name, type, member) FIELD_OF(account_otp, name, type, member)

static const struct field account_fields[] = {
    A("rev", FIELD_U64, revision),
    A("id", FIELD_STR, identifiant),
    A("email", FIELD_STR, email),
    A("first", FIELD_STR, first),
    A("last", FIELD_STR, last),
    A("birth", FIELD_STR, birth),
    A("numen", FIELD_STR, numen_hmac),
    A("rescue", FIELD_STR, rescue_email),
    A("mobile", FIELD_STR, mobile),
    A("etab", FIELD_STR, etablissement),
    A("state", FIELD_STATE, state),
    A("state_reason", FIELD_STR, state_reason),
    A("state_changed", FIELD_I64, state_changed),
    A("created", FIELD_I64, created),
    A("last_login", FIELD_I64, last_login),
    A("pw_changed", FIELD_I64, password_changed),
    A("pw", FIELD_STR, password_hash),
    A("pw_temp", FIELD_BOOL, password_temporary),
    A("temp_expires", FIELD_I64, temporary_expires),
    A("otp_active", FIELD_BOOL, otp_active),
    A("otp_pending", FIELD_BOOL, otp_pending),
    A("code_failures", FIELD_UINT, code_failures),
    A("locked", FIELD_I64, locked_since),
    A("last_bad", FIELD_STR, last_bad),
    A("session_gen", FIELD_UINT, session_gen),
    A("reset", FIELD_STR, reset_hmac),
    A("reset_expires", FIELD_I64, reset_expires),
    A("reset_tries", FIELD_UINT, reset_tries),
    A("rescue_next", FIELD_STR, rescue_next),
    A("rescue_code", FIELD_STR, rescue_hmac),
    A("rescue_expires", FIELD_I64, rescue_expires),
    A("rescue_tries", FIELD_UINT, rescue_tries),
};

#define P(name, type, member) FIELD_OF(account_app, name, type, member)
static const struct field app_fields[] = {
    P("id", FIELD_STR, id),
    P("label", FIELD_STR, label),
    P("services", FIELD_STR, services),
    P("hash", FIELD_STR, hash),
    P("created", FIELD_I64, created),
    P("last_used", FIELD_I64, last_used),
};

#define D(name, type, member) FIELD_OF(account_device, name, type, member)
static const struct field device_fields[] = {
    D("id", FIELD_STR, id),           D("label", FIELD_STR, label),
    D("hash", FIELD_STR, hash),       D("created", FIELD_I64, created),
    D("last_used", FIELD_I64, last_used), D("expires", FIELD_I64, expires),
    D("trusted", FIELD_BOOL, trusted), D("gen", FIELD_UINT, gen),
};

static const struct field otp_fields[] = {
    O("sealed", FIELD_STR, sealed),       O("algo", FIELD_ALGO, algo),
    O("digits", FIELD_UINT, digits),      O("period", FIELD_UINT, period),
    O("last_step", FIELD_I64, last_step), O("drift", FIELD_INT, drift),
};

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

static const char *const account_state_names[] = {
    [ACCOUNT_ACTIVE] = "active",
    [ACCOUNT_SUSPENDED] = "suspended",
    [ACCOUNT_DELETED] = "deleted",
};

const char *account_state_name(enum account_state state)
{
	if ((unsigned)state >= COUNT(account_state_names))
		return "unknown";
	return account_state_names[state];
}

static int account_state_parse(const char *name, enum account_state *state_r)
{
	size_t i;

	for (i = 0; i < COUNT(account_state_names); i++) {
		if (strcmp(name, account_state_names[i]) == 0) {
			*state_r = (enum account_state)i;
			return 0;
		}
	}
	return -1;
}

static json_t *field_encode(const struct field *f, const void *base)
{
	const char *p = (const char *)base + f->off;
	uint64_t u;

	switch (f->type) {
	case FIELD_STR:
		return strnlen(p, f->size) < f->size ? json_string(p) : NULL;
	case FIELD_I64:
		return json_integer(*(const int64_t *)p);
	case FIELD_U64:
		u = *(const uint64_t *)p;
		return u <= INT64_MAX ? json_integer((json_int_t)u) : NULL;
	case FIELD_UINT:
		return json_integer(*(const unsigned *)p);
	case FIELD_INT:
		return json_integer(*(const int *)p);
	case FIELD_BOOL:
		return json_boolean(*(const bool *)p);
	case FIELD_STATE:
		if ((unsigned)*(const enum account_state *)p >= COUNT(account_state_names))
			return NULL;
		return json_string(account_state_name(*(const enum account_state *)p));
	case FIELD_ALGO:
		p = otp_algo_name(*(const enum otp_algo *)p);
		return p != NULL ? json_string(p) : NULL;
	}
	return NULL;
}

static int field_decode_int(const struct field *f, json_int_t n, void *p)
{
	switch (f->type) {
	case FIELD_I64:
		*(int64_t *)p = n;
		return 0;
	case FIELD_U64:
		if (n < 0)
			return -1;
		*(uint64_t *)p = (uint64_t)n;
		return 0;
	case FIELD_UINT:
		if (n < 0 || n > UINT_MAX)
			return -1;
		*(unsigned *)p = (unsigned)n;
		return 0;
	case FIELD_INT:
		if (n < INT_MIN || n > INT_MAX)
			return -1;
		*(int *)p = (int)n;
		return 0;
	default:
		return -1;
	}
}

/* A value of the wrong type or too long for its array is an error, not a default. */
static int field_decode(const struct field *f, json_t *v, void *base)
{
	char *p = (char *)base + f->off;

	switch (f->type) {
	case FIELD_STR:
		if (!json_is_string(v) || json_string_length(v) >= f->size)
			return -1;
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return 0;
	case FIELD_BOOL:
		if (!json_is_boolean(v))
			return -1;
		*(bool *)p = json_is_true(v);
		return 0;
	case FIELD_STATE:
		if (!json_is_string(v))
			return -1;
		return account_state_parse(json_string_value(v), (enum account_state *)p);
	case FIELD_ALGO:
		if (!json_is_string(v))
			return -1;
		return otp_algo_parse(json_string_value(v), (enum otp_algo *)p);
	default:
		if (!json_is_integer(v))
			return -1;
		return field_decode_int(f, json_integer_value(v), p);
	}
}

static int fields_encode(json_t *obj, const struct field *f, size_t n, const void *base)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (json_object_set_new(obj, f[i].name, field_encode(&f[i], base)) != 0)
			return -1;
	}
	return 0;
}

/* Keys we do not know are skipped, so that a newer daemon can add fields. */
static int fields_decode(json_t *obj, const struct field *f, size_t n, void *base)
{
	json_t *v;
	size_t i;

	for (i = 0; i < n; i++) {
		v = json_object_get(obj, f[i].name);
		if (v != NULL && field_decode(&f[i], v, base) == -1)
			return -1;
	}
	return 0;
}

static int otp_encode(json_t *obj, const char *key, const struct account_otp *otp)
{
	json_t *o = json_object();

	if (o == NULL || fields_encode(o, otp_fields, COUNT(otp_fields), otp) == -1) {
		json_decref(o);
		return -1;
	}
	return json_object_set_new(obj, key, o);
}

static int otp_decode(json_t *obj, const char *key, struct account_otp *otp)
{
	json_t *o = json_object_get(obj, key);

	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return -1;
	return fields_decode(o, otp_fields, COUNT(otp_fields), otp);
}

/* n strings of an array of char[stride] as a JSON array under key (left out when empty and !always). */
static int strings_encode(json_t *obj, const char *key, const char *items, size_t stride,
                          unsigned n, unsigned max, bool always)
{
	json_t *arr;

	if (n == 0 && !always)
		return 0;
	if (n > max || (arr = json_array()) == NULL)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const char *item = items + i * stride;

		if (strnlen(item, stride) == stride ||
		    json_array_append_new(arr, json_string(item)) != 0) {
			json_decref(arr);
			return -1;
		}
	}
	return json_object_set_new(obj, key, arr);
}

/* The JSON array under key into char[stride] items; absent is none. */
static int strings_decode(json_t *obj, const char *key, char *items, size_t stride, unsigned max,
                          unsigned *n_r)
{
	json_t *arr = json_object_get(obj, key), *v;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > max)
		return -1;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) >= stride)
			return -1;
		memcpy(items + i * stride, json_string_value(v), json_string_length(v) + 1);
	}
	*n_r = (unsigned)json_array_size(arr);
	return 0;
}

static int recovery_encode(json_t *obj, const struct account *a)
{
	return strings_encode(obj, "recovery", a->recovery[0], sizeof(a->recovery[0]),
	                      a->recovery_count, OTP_RECOVERY_COUNT, true);
}

static int recovery_decode(json_t *obj, struct account *a)
{
	return strings_decode(obj, "recovery", a->recovery[0], sizeof(a->recovery[0]),
	                      OTP_RECOVERY_COUNT, &a->recovery_count);
}

static int aliases_encode(json_t *obj, const struct account *a)
{
	return strings_encode(obj, "aliases", a->aliases[0], sizeof(a->aliases[0]), a->naliases,
	                      ACCOUNT_ALIASES_MAX, false);
}

static int aliases_decode(json_t *obj, struct account *a)
{
	return strings_decode(obj, "aliases", a->aliases[0], sizeof(a->aliases[0]),
	                      ACCOUNT_ALIASES_MAX, &a->naliases);
}

bool account_has_alias(const struct account *a, const char *login)
{
	for (unsigned i = 0; i < a->naliases && i < ACCOUNT_ALIASES_MAX; i++)
		if (strcasecmp(a->aliases[i], login) == 0)
			return true;
	return false;
}

bool account_activated(const struct account *a, bool otp_required)
{
	return !a->password_temporary && (a->otp_active || !otp_required);
}

/* An array of records described by a field table: apps, devices. */
struct list {
	const char *key;
	const struct field *fields;
	size_t nfields, size, max;
};

static const struct list apps_list = {"apps", app_fields, COUNT(app_fields),
                                      sizeof(struct account_app), ACCOUNT_APPS_MAX};
static const struct list devices_list = {"devices", device_fields, COUNT(device_fields),
                                         sizeof(struct account_device), ACCOUNT_DEVICES_MAX};

static int list_encode(json_t *obj, const struct list *l, const void *items, unsigned n)
{
	json_t *arr = json_array(), *o;

	if (arr == NULL || n > l->max)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		if ((o = json_object()) == NULL || json_array_append_new(arr, o) != 0 ||
		    fields_encode(o, l->fields, l->nfields, (const char *)items + i * l->size) == -1)
			goto fail;
	}
	return json_object_set_new(obj, l->key, arr);
fail:
	json_decref(arr);
	return -1;
}

static int list_decode(json_t *obj, const struct list *l, void *items, unsigned *n_r)
{
	json_t *arr = json_object_get(obj, l->key), *v;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > l->max)
		return -1;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_object(v) ||
		    fields_decode(v, l->fields, l->nfields, (char *)items + i * l->size) == -1)
			return -1;
	}
	*n_r = (unsigned)json_array_size(arr);
	return 0;
}

static void account_otp_defaults(struct account_otp *otp)
{
	otp->algo = OTP_SHA1;
	otp->digits = 6;
	otp->period = 30;
	otp->last_step = -1;
}

void account_wipe(struct account *a)
{
	secret_wipe(a, sizeof(*a));
}

int account_encode(const struct account *a, char **json_r, size_t *len_r)
{
	json_t *obj = json_object();
	char *text = NULL;
	int r = -1;

	*json_r = NULL;
	*len_r = 0;
	if (obj == NULL || json_object_set_new(obj, "v", json_integer(ACCOUNT_SCHEMA)) != 0 ||
	    fields_encode(obj, account_fields, COUNT(account_fields), a) == -1 ||
	    otp_encode(obj, "otp", &a->otp) == -1 ||
	    otp_encode(obj, "otp_next", &a->otp_next) == -1 || recovery_encode(obj, a) == -1 ||
	    list_encode(obj, &apps_list, a->apps, a->napps) == -1 ||
	    list_encode(obj, &devices_list, a->devices, a->ndevices) == -1 ||
	    aliases_encode(obj, a) == -1)
		goto out;
	if ((text = json_dumps(obj, JSON_COMPACT)) == NULL)
		goto out;
	*len_r = strlen(text);
	*json_r = text;
	r = 0;
out:
	json_decref(obj);
	return r;
}

int account_decode(const void *json, size_t len, struct account *a)
{
	json_t *obj = NULL, *v;
	json_error_t jerr;
	int r = -1;

	account_wipe(a);
	account_otp_defaults(&a->otp);
	account_otp_defaults(&a->otp_next);
	if (len > ACCOUNT_JSON_MAX)
		goto out;
	obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL || !json_is_object(obj))
		goto out;
	v = json_object_get(obj, "v");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > ACCOUNT_SCHEMA)
		goto out;
	if (fields_decode(obj, account_fields, COUNT(account_fields), a) == -1 ||
	    otp_decode(obj, "otp", &a->otp) == -1 ||
	    otp_decode(obj, "otp_next", &a->otp_next) == -1 || recovery_decode(obj, a) == -1 ||
	    list_decode(obj, &apps_list, a->apps, &a->napps) == -1 ||
	    list_decode(obj, &devices_list, a->devices, &a->ndevices) == -1 ||
	    aliases_decode(obj, a) == -1)
		goto out;
	r = 0;
out:
	json_decref(obj);
	secret_wipe(&jerr, sizeof(jerr)); /* its excerpt may quote a hash */
	if (r != 0)
		account_wipe(a);
	return r;
}
