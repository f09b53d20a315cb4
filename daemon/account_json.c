/*
 * The JSON account records of stores written before the binary form
 * (schema "v" 1): read only, at start-up's migration and until then.
 */
#include <limits.h>
#include <string.h>

#include <jansson.h>

#include "account_record.h"
#include "secret.h"

static int enum_parse(const struct rec_field *f, const char *name, int *value_r)
{
	for (int v = 0; v < 16; v++) {
		const char *known = f->enum_name(v);

		if (known != NULL && strcmp(known, name) == 0) {
			*value_r = v;
			return 0;
		}
	}
	return -1;
}

static int field_decode_int(const struct rec_field *f, json_int_t n, void *p)
{
	switch (f->type) {
	case REC_I64:
		*(int64_t *)p = n;
		return 0;
	case REC_U64:
		if (n < 0)
			return -1;
		*(uint64_t *)p = (uint64_t)n;
		return 0;
	case REC_UINT:
		if (n < 0 || n > UINT_MAX)
			return -1;
		*(unsigned *)p = (unsigned)n;
		return 0;
	case REC_INT:
		if (n < INT_MIN || n > INT_MAX)
			return -1;
		*(int *)p = (int)n;
		return 0;
	default:
		return -1;
	}
}

/* A value of the wrong type or too long for its array is an error, not a default. */
static int field_decode(const struct rec_field *f, json_t *v, void *base)
{
	char *p = (char *)base + f->off;

	switch (f->type) {
	case REC_STR:
		if (!json_is_string(v) || json_string_length(v) >= f->size ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return -1;
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return 0;
	case REC_BOOL:
		if (!json_is_boolean(v))
			return -1;
		*(bool *)p = json_is_true(v);
		return 0;
	case REC_ENUM:
		if (!json_is_string(v))
			return -1;
		return enum_parse(f, json_string_value(v), (int *)p);
	default:
		if (!json_is_integer(v))
			return -1;
		return field_decode_int(f, json_integer_value(v), p);
	}
}

/* Keys we do not know are skipped, so that a newer daemon could add fields. */
static int fields_decode(json_t *obj, const struct rec_table *t, void *base)
{
	for (size_t i = 0; i < t->n; i++) {
		json_t *v = json_object_get(obj, t->fields[i].name);

		if (v != NULL && field_decode(&t->fields[i], v, base) == -1)
			return -1;
	}
	return 0;
}

static int otp_decode(json_t *obj, const char *key, struct account_otp *otp)
{
	json_t *o = json_object_get(obj, key);

	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return -1;
	return fields_decode(o, &otp_table, otp);
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
		if (!json_is_string(v) || json_string_length(v) >= stride ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return -1;
		memcpy(items + i * stride, json_string_value(v), json_string_length(v) + 1);
	}
	*n_r = (unsigned)json_array_size(arr);
	return 0;
}

static int list_decode(json_t *obj, const struct rec_list *l, void *items, unsigned *n_r)
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
		    fields_decode(v, &l->t, (char *)items + i * l->size) == -1)
			return -1;
	}
	*n_r = (unsigned)json_array_size(arr);
	return 0;
}

int account_decode_json(const void *json, size_t len, struct account *a)
{
	json_t *obj, *v;
	json_error_t jerr;
	int r = -1;

	account_defaults(a);
	obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL || !json_is_object(obj))
		goto out;
	v = json_object_get(obj, "v");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > ACCOUNT_SCHEMA)
		goto out;
	if (fields_decode(obj, &account_table, a) == -1 || otp_decode(obj, "otp", &a->otp) == -1 ||
	    otp_decode(obj, "otp_next", &a->otp_next) == -1 ||
	    strings_decode(obj, "recovery", a->recovery[0], sizeof(a->recovery[0]),
	                   OTP_RECOVERY_COUNT, &a->recovery_count) == -1 ||
	    list_decode(obj, &apps_list, a->apps, &a->napps) == -1 ||
	    list_decode(obj, &devices_list, a->devices, &a->ndevices) == -1 ||
	    strings_decode(obj, "aliases", a->aliases[0], sizeof(a->aliases[0]),
	                   ACCOUNT_ALIASES_MAX, &a->naliases) == -1)
		goto out;
	r = 0;
out:
	json_decref(obj);
	secret_wipe(&jerr, sizeof(jerr)); /* its excerpt may quote a hash */
	if (r != 0)
		account_wipe(a);
	return r;
}
