/*
 * Account records in the compact binary form of record.h. Each field is
 * described once, in a table, for both directions; stores written before it
 * hold JSON, still read (account_json.c) and rewritten at start (migrate.c).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account_record.h"
#include "secret.h"

#define ACCOUNT_RECORD_MAX 65536

/* Tags after the fields of account_table (which ends well before them). */
enum {
	TAG_OTP = 100,
	TAG_OTP_NEXT,
	TAG_RECOVERY, /* one per code */
	TAG_APP,      /* one per app password */
	TAG_DEVICE,   /* one per device */
	TAG_ALIAS,    /* one per alias */
};

static const char *const account_state_names[] = {
    [ACCOUNT_ACTIVE] = "active",
    [ACCOUNT_SUSPENDED] = "suspended",
    [ACCOUNT_DELETED] = "deleted",
};

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

static const char *state_name(int state)
{
	if (state < 0 || (size_t)state >= COUNT(account_state_names))
		return NULL;
	return account_state_names[state];
}

static const char *algo_name(int algo)
{
	return algo < 0 ? NULL : otp_algo_name((enum otp_algo)algo);
}

const char *account_state_name(enum account_state state)
{
	const char *name = state_name((int)state);

	return name != NULL ? name : "unknown";
}

#define A(name, type, member) REC_FIELD(account, name, type, member)
static const struct rec_field account_fields[] = {
    A("rev", REC_U64, revision),
    A("id", REC_STR, identifiant),
    A("email", REC_STR, email),
    A("first", REC_STR, first),
    A("last", REC_STR, last),
    A("birth", REC_STR, birth),
    A("numen", REC_STR, numen_hmac),
    A("rescue", REC_STR, rescue_email),
    A("mobile", REC_STR, mobile),
    A("etab", REC_STR, etablissement),
    REC_ENUM_FIELD(account, "state", state, state_name),
    A("state_reason", REC_STR, state_reason),
    A("state_changed", REC_I64, state_changed),
    A("created", REC_I64, created),
    A("last_login", REC_I64, last_login),
    A("pw_changed", REC_I64, password_changed),
    A("pw", REC_STR, password_hash),
    A("pw_temp", REC_BOOL, password_temporary),
    A("temp_expires", REC_I64, temporary_expires),
    A("otp_active", REC_BOOL, otp_active),
    A("otp_pending", REC_BOOL, otp_pending),
    A("code_failures", REC_UINT, code_failures),
    A("locked", REC_I64, locked_since),
    A("last_bad", REC_STR, last_bad),
    A("session_gen", REC_UINT, session_gen),
    A("reset", REC_STR, reset_hmac),
    A("reset_expires", REC_I64, reset_expires),
    A("reset_tries", REC_UINT, reset_tries),
    A("rescue_next", REC_STR, rescue_next),
    A("rescue_code", REC_STR, rescue_hmac),
    A("rescue_expires", REC_I64, rescue_expires),
    A("rescue_tries", REC_UINT, rescue_tries),
};

#define P(name, type, member) REC_FIELD(account_app, name, type, member)
static const struct rec_field app_fields[] = {
    P("id", REC_STR, id),     P("label", REC_STR, label),     P("services", REC_STR, services),
    P("hash", REC_STR, hash), P("created", REC_I64, created), P("last_used", REC_I64, last_used),
};

#define D(name, type, member) REC_FIELD(account_device, name, type, member)
static const struct rec_field device_fields[] = {
    D("id", REC_STR, id),
    D("label", REC_STR, label),
    D("hash", REC_STR, hash),
    D("created", REC_I64, created),
    D("last_used", REC_I64, last_used),
    D("expires", REC_I64, expires),
    D("trusted", REC_BOOL, trusted),
    D("gen", REC_UINT, gen),
};

#define O(name, type, member) REC_FIELD(account_otp, name, type, member)
static const struct rec_field otp_fields[] = {
    O("sealed", REC_STR, sealed),       REC_ENUM_FIELD(account_otp, "algo", algo, algo_name),
    O("digits", REC_UINT, digits),      O("period", REC_UINT, period),
    O("last_step", REC_I64, last_step), O("drift", REC_INT, drift),
};

const struct rec_table account_table = {account_fields, COUNT(account_fields)};
const struct rec_table otp_table = {otp_fields, COUNT(otp_fields)};
const struct rec_list apps_list = {
    "apps", {app_fields, COUNT(app_fields)}, sizeof(struct account_app), ACCOUNT_APPS_MAX};
const struct rec_list devices_list = {"devices",
                                      {device_fields, COUNT(device_fields)},
                                      sizeof(struct account_device),
                                      ACCOUNT_DEVICES_MAX};

_Static_assert(COUNT(account_fields) < TAG_OTP, "account fields run into the nested tags");
_Static_assert(COUNT(account_fields) <= 64, "rec_set_field tells repeated fields by a 64-bit mask");

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

void account_defaults(struct account *a)
{
	account_wipe(a);
	account_otp_defaults(&a->otp);
	account_otp_defaults(&a->otp_next);
}

static void put_strings(struct rec_buf *b, unsigned tag, const char *items, size_t stride,
                        unsigned n, unsigned max)
{
	if (n > max) {
		b->failed = true;
		return;
	}
	for (unsigned i = 0; i < n && !b->failed; i++) {
		const char *item = items + i * stride;
		size_t len = strnlen(item, stride);

		if (len == stride)
			b->failed = true;
		else
			rec_put_bytes(b, tag, item, len);
	}
}

static void put_list(struct rec_buf *b, unsigned tag, const struct rec_list *l, const void *items,
                     unsigned n)
{
	if (n > l->max) {
		b->failed = true;
		return;
	}
	for (unsigned i = 0; i < n && !b->failed; i++)
		rec_put_nested(b, tag, l->t.fields, l->t.n, (const char *)items + i * l->size);
}

int account_encode(const struct account *a, uint8_t **rec_r, size_t *len_r)
{
	struct rec_buf b;

	rec_buf_init(&b, ACCOUNT_RECORD_MAX);
	rec_put_format(&b);
	rec_put_fields(&b, account_fields, COUNT(account_fields), a);
	rec_put_nested(&b, TAG_OTP, otp_fields, COUNT(otp_fields), &a->otp);
	rec_put_nested(&b, TAG_OTP_NEXT, otp_fields, COUNT(otp_fields), &a->otp_next);
	put_strings(&b, TAG_RECOVERY, a->recovery[0], sizeof(a->recovery[0]), a->recovery_count,
	            OTP_RECOVERY_COUNT);
	put_list(&b, TAG_APP, &apps_list, a->apps, a->napps);
	put_list(&b, TAG_DEVICE, &devices_list, a->devices, a->ndevices);
	put_strings(&b, TAG_ALIAS, a->aliases[0], sizeof(a->aliases[0]), a->naliases,
	            ACCOUNT_ALIASES_MAX);
	*rec_r = rec_buf_take(&b, len_r);
	return *rec_r != NULL ? 0 : -1;
}

/* One more string of an array of char[stride]. */
static int get_string(const struct rec_item *it, char *items, size_t stride, unsigned max,
                      unsigned *n)
{
	char *item = items + *n * stride;

	if (it->wire != REC_WIRE_BYTES || *n >= max || it->len >= stride ||
	    memchr(it->data, '\0', it->len) != NULL)
		return -1;
	memcpy(item, it->data, it->len);
	item[it->len] = '\0';
	++*n;
	return 0;
}

static int get_item(const struct rec_item *it, const struct rec_list *l, void *items, unsigned *n)
{
	if (it->wire != REC_WIRE_BYTES || *n >= l->max ||
	    rec_get_fields(it->data, it->len, l->t.fields, l->t.n, (char *)items + *n * l->size) <
	        0)
		return -1;
	++*n;
	return 0;
}

static int get_otp(const struct rec_item *it, struct account_otp *otp, bool *seen)
{
	if (it->wire != REC_WIRE_BYTES || *seen)
		return -1;
	*seen = true;
	return rec_get_fields(it->data, it->len, otp_fields, COUNT(otp_fields), otp);
}

static int decode_nested(const struct rec_item *it, struct account *a, bool otp_seen[2])
{
	switch (it->tag) {
	case TAG_OTP:
		return get_otp(it, &a->otp, &otp_seen[0]);
	case TAG_OTP_NEXT:
		return get_otp(it, &a->otp_next, &otp_seen[1]);
	case TAG_RECOVERY:
		return get_string(it, a->recovery[0], sizeof(a->recovery[0]), OTP_RECOVERY_COUNT,
		                  &a->recovery_count);
	case TAG_APP:
		return get_item(it, &apps_list, a->apps, &a->napps);
	case TAG_DEVICE:
		return get_item(it, &devices_list, a->devices, &a->ndevices);
	case TAG_ALIAS:
		return get_string(it, a->aliases[0], sizeof(a->aliases[0]), ACCOUNT_ALIASES_MAX,
		                  &a->naliases);
	default:
		return 0; /* written by a newer daemon */
	}
}

static int decode_binary(const void *rec, size_t len, struct account *a)
{
	struct rec_reader r;
	struct rec_item it;
	uint64_t seen = 0;
	bool otp_seen[2] = {false, false};
	int got;

	if (rec_reader_init(&r, rec, len) < 0)
		return -1;
	while ((got = rec_next(&r, &it)) == 1) {
		int set = rec_set_field(account_fields, COUNT(account_fields), &it, a, &seen);

		if (set < 0 || (set == 0 && decode_nested(&it, a, otp_seen) < 0))
			return -1;
	}
	return got;
}

int account_decode(const void *rec, size_t len, struct account *a)
{
	int r;

	account_defaults(a);
	if (len == 0 || len > ACCOUNT_RECORD_MAX)
		return -1;
	if (*(const uint8_t *)rec == '{')
		return account_decode_json(rec, len, a);
	r = decode_binary(rec, len, a);
	if (r != 0)
		account_wipe(a);
	return r;
}
