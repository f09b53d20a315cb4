#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "account.h"
#include "audit.h"
#include "record.h"
#include "secret.h"
#include "store.h"
#include "store_fixture.h"

struct fixture {
	struct store_fixture sf;
	struct store_txn *txn; /* a write transaction, aborted by teardown */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	if (store_fixture_open(&f->sf, "account", 8u << 20) != 0 ||
	    store_begin(f->sf.st, true, &f->txn) != STORE_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_abort(f->txn);
	store_fixture_remove(&f->sf);
	free(f);
	return 0;
}

static void fill_otp(struct account_otp *otp, const char *sealed, enum otp_algo algo)
{
	snprintf(otp->sealed, sizeof(otp->sealed), "%s", sealed);
	otp->algo = algo;
	otp->digits = 8;
	otp->period = 60;
	otp->last_step = 55555555;
	otp->drift = -2;
}

/* Every field away from its default. */
static void fill_full(struct account *a)
{
	unsigned i;

	memset(a, 0, sizeof(*a));
	a->revision = 41;
	strcpy(a->identifiant, "jdupont2");
	strcpy(a->email, "Jean.Dupont@ac-exemple.fr");
	strcpy(a->first, "Jean-Éric");
	strcpy(a->last, "N'Guyen \"le grand\"");
	strcpy(a->birth, "1980-02-29");
	memset(a->numen_hmac, 'a', 64);
	strcpy(a->rescue_email, "jd@example.org");
	strcpy(a->mobile, "+33 6 12 34 56 78");
	a->state = ACCOUNT_SUSPENDED;
	strcpy(a->state_reason, "départ\tà la retraite");
	a->state_changed = 1700000000;
	a->created = -5;
	a->last_login = INT64_MAX;
	a->password_changed = 1600000000;
	strcpy(a->password_hash, "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA");
	a->password_temporary = true;
	a->temporary_expires = 1700086400;
	a->otp_active = true;
	fill_otp(&a->otp, "sealed-one", OTP_SHA256);
	a->otp_pending = true;
	fill_otp(&a->otp_next, "sealed-two", OTP_SHA512);
	a->recovery_count = OTP_RECOVERY_COUNT;
	for (i = 0; i < OTP_RECOVERY_COUNT; i++)
		memset(a->recovery[i], (int)('0' + i), 64);
	a->code_failures = 4;
	a->locked_since = 1700000001;
	a->ndevices = 2;
	for (i = 0; i < 2; i++) {
		snprintf(a->devices[i].id, sizeof(a->devices[i].id), "dev%05u", i);
		snprintf(a->devices[i].label, sizeof(a->devices[i].label), "Firefox %u", i);
		memset(a->devices[i].hash, (int)('a' + i), 64);
		a->devices[i].created = 1700000000 + (int64_t)i;
		a->devices[i].last_used = 1700000100;
		a->devices[i].expires = 1702592000;
		a->devices[i].trusted = i == 1;
		a->devices[i].gen = 3;
	}
}

static void test_round_trip(void **state)
{
	struct account a, b;
	uint8_t *rec;
	size_t len;

	(void)state;
	fill_full(&a);
	assert_int_equal(account_encode(&a, &rec, &len), 0);
	assert_int_equal(rec[0], RECORD_FORMAT); /* never '{': a JSON record of an older store */
	assert_true(len < 2048);
	assert_int_equal(account_decode(rec, len, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Every byte counts: a record cut anywhere does not decode. */
	for (size_t cut = 0; cut < len; cut++)
		if (account_decode(rec, cut, &b) == 0 && memcmp(&a, &b, sizeof(a)) == 0)
			fail_msg("a record cut at %zu of %zu decoded whole", cut, len);
	free(rec);
	assert_string_equal(account_state_name(ACCOUNT_DELETED), "deleted");
	assert_string_equal(account_state_name((enum account_state)9), "unknown");
	/* What cannot be written faithfully is not written. */
	a.recovery_count = OTP_RECOVERY_COUNT + 1;
	assert_int_equal(account_encode(&a, &rec, &len), -1);
	assert_null(rec);
	a.recovery_count = 0;
	a.state = (enum account_state)7;
	assert_int_equal(account_encode(&a, &rec, &len), -1);
	a.state = ACCOUNT_ACTIVE;
	a.otp.algo = (enum otp_algo)9;
	assert_int_equal(account_encode(&a, &rec, &len), -1);
	a.otp.algo = OTP_SHA1;
	memset(a.mobile, '1', sizeof(a.mobile)); /* no terminator */
	assert_int_equal(account_encode(&a, &rec, &len), -1);
	/* Bytes are kept as they are, even those no validation would let in. */
	strcpy(a.mobile, "\xff");
	assert_int_equal(account_encode(&a, &rec, &len), 0);
	assert_int_equal(account_decode(rec, len, &b), 0);
	assert_string_equal(b.mobile, "\xff");
	free(rec);
}

/* A record's bytes written by hand: format, then (tag << 3 | wire) and a value. */
static void test_binary_refused(void **state)
{
	static const struct {
		const char *what;
		const char *rec;
		size_t len;
	} bad[] = {
	    {"no format byte", "\x12\x01x", 3},
	    {"another format", "\x02\x12\x01x", 4},
	    {"a field twice",
	     "\x01\x12\x01"
	     "a\x12\x01"
	     "b",
	     7},
	    {"a string with a NUL",
	     "\x01\x12\x02"
	     "a\0",
	     5},
	    {"a string as a number", "\x01\x10\x05", 3},
	    {"a number as a string", "\x01\xb2\x01\x01x", 5},
	    {"a length past the end",
	     "\x01\x12\x09"
	     "ab",
	     5},
	    {"a varint past the end", "\x01\x08\xff", 3},
	    {"a varint over 64 bits", "\x01\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 12},
	    {"tag 0", "\x01\x00\x01", 3},
	    {"wire type 5", "\x01\x0d\x01\x02\x03\x04", 6},
	    {"a bool of 2", "\x01\x90\x01\x02", 4},
	    {"a state out of range", "\x01\x58\x07", 3},
	    {"code failures over 32 bits", "\x01\xb0\x01\x80\x80\x80\x80\x10", 8},
	    {"the otp twice", "\x01\xa2\x06\x00\xa2\x06\x00", 7},
	    {"an algo out of range", "\x01\xa2\x06\x02\x10\x09", 6},
	};
	/* An unknown tag (a newer daemon's field) is skipped, string or number. */
	static const char later[] = "\x01\x12\x07jdupont\xfa\x3e\x02"
	                            "zz\xf8\x3e\x05";
	struct account a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		if (account_decode(bad[i].rec, bad[i].len, &a) != -1)
			fail_msg("accepted: %s", bad[i].what);
		assert_string_equal(a.identifiant, "");
	}
	assert_int_equal(account_decode(later, sizeof(later) - 1, &a), 0);
	assert_string_equal(a.identifiant, "jdupont");
	assert_int_equal(a.otp.digits, 6); /* defaults hold where the record says nothing */
	assert_int_equal(a.otp.last_step, -1);
}

static void test_decode_defaults(void **state)
{
	static const char json[] = "{\"v\":1,\"id\":\"jdupont\",\"zzz\":[1,{\"x\":2}],"
	                           "\"otp\":{\"digits\":8,\"future\":true}}";
	struct account a;

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(account_decode(json, strlen(json), &a), 0);
	assert_string_equal(a.identifiant, "jdupont");
	assert_string_equal(a.email, "");
	assert_int_equal(a.revision, 0);
	assert_int_equal(a.state, ACCOUNT_ACTIVE);
	assert_false(a.otp_active);
	assert_int_equal(a.otp.digits, 8);
	assert_int_equal(a.otp.period, 30);
	assert_int_equal(a.otp.last_step, -1);
	assert_int_equal(a.otp_next.digits, 6);
	assert_int_equal(a.otp_next.last_step, -1);
	assert_int_equal(a.recovery_count, 0);
	assert_int_equal(a.code_failures, 0);
	assert_int_equal(a.ndevices, 0);
}

static char *json_with(const char *key, const char *fill, size_t n)
{
	char *s = malloc(n * strlen(fill) + 64), *p;
	size_t i;

	assert_non_null(s);
	p = s + sprintf(s, "{\"v\":1,\"%s\":\"", key);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s", fill);
	strcpy(p, "\"}");
	return s;
}

static void test_decode_bounds(void **state)
{
	static const struct {
		const char *key, *fill;
		size_t n;
		int want;
	} cases[] = {
	    {"id", "a", IDENT_MAX, 0},
	    {"id", "a", IDENT_MAX + 1, -1},
	    {"email", "e", EMAIL_MAX, 0},
	    {"email", "e", EMAIL_MAX + 1, -1},
	    {"first", "é", NAME_MAX_BYTES / 2, 0},
	    {"first", "é", NAME_MAX_BYTES / 2 + 1, -1},
	    {"birth", "1", 10, 0},
	    {"birth", "1", 11, -1},
	    {"numen", "f", 64, 0},
	    {"numen", "f", 65, -1},
	    {"mobile", "1", 23, 0},
	    {"mobile", "1", 24, -1},
	    {"pw", "$", PASSWORD_HASH_MAX - 1, 0},
	    {"pw", "$", PASSWORD_HASH_MAX, -1},
	};
	struct account a;
	char *json;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json = json_with(cases[i].key, cases[i].fill, cases[i].n);
		assert_int_equal(account_decode(json, strlen(json), &a), cases[i].want);
		free(json);
	}
}

static void test_decode_refused(void **state)
{
	static const char *const bad[] = {
	    "{\"v\":99,\"id\":\"jdupont\"}",
	    "{\"v\":2}",
	    "{\"v\":0}",
	    "{\"v\":\"1\"}",
	    "{\"id\":\"jdupont\"}",
	    "{\"v\":1,",
	    "",
	    "[1]",
	    "\"v\"",
	    "{\"v\":1,\"id\":\"a\",\"id\":\"b\"}",
	    "{\"v\":1,\"id\":\"a\\u0000b\"}",
	    "{\"v\":1,\"id\":5}",
	    "{\"v\":1,\"code_failures\":-1}",
	    "{\"v\":1,\"code_failures\":4294967296}",
	    "{\"v\":1,\"devices\":[1]}",
	    "{\"v\":1,\"devices\":[{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}]}",
	    "{\"v\":1,\"rev\":-1}",
	    "{\"v\":1,\"pw_temp\":1}",
	    "{\"v\":1,\"state\":\"gone\"}",
	    "{\"v\":1,\"otp\":[]}",
	    "{\"v\":1,\"otp\":{\"algo\":\"MD5\"}}",
	    "{\"v\":1,\"otp\":{\"drift\":2147483648}}",
	    "{\"v\":1,\"recovery\":\"x\"}",
	    "{\"v\":1,\"recovery\":[1]}",
	    ("{\"v\":1,\"recovery\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\","
	     "\"k\"]}"),
	};
	static const char max[] = "{\"v\":1,\"code_failures\":4294967295}";
	struct account a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		if (account_decode(bad[i], strlen(bad[i]), &a) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_string_equal(a.identifiant, ""); /* nothing half-decoded is left */
	}
	/* The boundary of the last two. */
	assert_int_equal(account_decode(max, strlen(max), &a), 0);
	assert_int_equal(a.code_failures, 4294967295u);
}

static struct account *new_account(const char *ident, const char *email, char numen)
{
	struct account *a = calloc(1, sizeof(*a));

	assert_non_null(a);
	strcpy(a->identifiant, ident);
	strcpy(a->email, email);
	if (numen != 0)
		memset(a->numen_hmac, numen, 64);
	return a;
}

static void test_put_get(void **state)
{
	struct fixture *f = *state;
	struct account *a = new_account("jdupont", "Jean.Dupont@Exemple.fr", 'a'), b;
	char ident[IDENT_MAX + 1], numen[65];

	assert_int_equal(account_get(f->txn, "jdupont", false, &b), STORE_NOTFOUND);
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(a->revision, 1);
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(a->revision, 2);
	assert_int_equal(account_get(f->txn, "jdupont", false, &b), STORE_OK);
	assert_memory_equal(a, &b, sizeof(b));
	assert_int_equal(account_get(f->txn, "JEAN.DUPONT@exemple.FR", true, &b), STORE_OK);
	assert_string_equal(b.identifiant, "jdupont");
	assert_int_equal(account_get(f->txn, "jean.dupont@exemple.f", true, &b), STORE_NOTFOUND);
	assert_int_equal(account_get(f->txn, "jdupon", false, &b), STORE_NOTFOUND);
	assert_int_equal(account_get(f->txn, "", false, &b), STORE_NOTFOUND);
	memset(numen, 'a', 64);
	numen[64] = '\0';
	assert_int_equal(account_by_numen(f->txn, numen, ident), STORE_OK);
	assert_string_equal(ident, "jdupont");
	numen[0] = 'b';
	assert_int_equal(account_by_numen(f->txn, numen, ident), STORE_NOTFOUND);
	assert_string_equal(ident, "");
	/* The change survives a commit. */
	assert_int_equal(store_commit(f->txn), STORE_OK);
	assert_int_equal(store_begin(f->sf.st, false, &f->txn), STORE_OK);
	assert_int_equal(account_get(f->txn, "jean.dupont@exemple.fr", true, &b), STORE_OK);
	assert_int_equal(b.revision, 2);
	free(a);
}

static void test_index_change(void **state)
{
	struct fixture *f = *state;
	struct account *a = new_account("jdupont", "old@exemple.fr", 'a'), b;
	char ident[IDENT_MAX + 1], numen[65];
	bool taken;

	assert_int_equal(account_put(f->txn, a), STORE_OK);
	strcpy(a->email, "New@Exemple.fr");
	memset(a->numen_hmac, 'c', 64);
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(account_get(f->txn, "old@exemple.fr", true, &b), STORE_NOTFOUND);
	assert_int_equal(account_email_taken(f->txn, "old@exemple.fr", &taken), STORE_OK);
	assert_false(taken);
	assert_int_equal(account_get(f->txn, "new@exemple.fr", true, &b), STORE_OK);
	memset(numen, 'a', 64);
	numen[64] = '\0';
	assert_int_equal(account_by_numen(f->txn, numen, ident), STORE_NOTFOUND);
	memset(numen, 'c', 64);
	assert_int_equal(account_by_numen(f->txn, numen, ident), STORE_OK);
	/* Only the case changes: the entry stays. */
	strcpy(a->email, "new@exemple.fr");
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(account_get(f->txn, "NEW@exemple.fr", true, &b), STORE_OK);
	/* No email, no NUMEN: no entries. */
	a->email[0] = '\0';
	a->numen_hmac[0] = '\0';
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(account_get(f->txn, "new@exemple.fr", true, &b), STORE_NOTFOUND);
	assert_int_equal(account_by_numen(f->txn, numen, ident), STORE_NOTFOUND);
	assert_int_equal(account_get(f->txn, "jdupont", false, &b), STORE_OK);
	free(a);
}

static void test_index_collision(void **state)
{
	struct fixture *f = *state;
	struct account *a = new_account("jdupont", "jd@exemple.fr", 'a');
	struct account *c = new_account("jdupont2", "JD@exemple.fr", 'c'), b;
	bool taken;

	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(account_put(f->txn, c), STORE_ERROR);
	assert_int_equal(c->revision, 0);
	strcpy(c->email, "jd2@exemple.fr");
	memset(c->numen_hmac, 'a', 64);
	assert_int_equal(account_put(f->txn, c), STORE_ERROR);
	/* Refusals wrote nothing: the transaction still commits cleanly. */
	assert_int_equal(store_commit(f->txn), STORE_OK);
	assert_int_equal(store_begin(f->sf.st, true, &f->txn), STORE_OK);
	assert_int_equal(account_ident_taken(f->txn, "jdupont2", &taken), STORE_OK);
	assert_false(taken);
	assert_int_equal(account_email_taken(f->txn, "jd2@exemple.fr", &taken), STORE_OK);
	assert_false(taken);
	assert_int_equal(account_get(f->txn, "jd@exemple.fr", true, &b), STORE_OK);
	assert_string_equal(b.identifiant, "jdupont");
	free(a);
	free(c);
}

static void test_remove_taken(void **state)
{
	struct fixture *f = *state;
	struct account *a = new_account("jdupont", "jd@exemple.fr", 'a'), b;
	char ident[IDENT_MAX + 1];
	bool taken = true;

	assert_int_equal(account_ident_taken(f->txn, "jdupont", &taken), STORE_OK);
	assert_false(taken);
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(account_ident_taken(f->txn, "jdupont", &taken), STORE_OK);
	assert_true(taken);
	assert_int_equal(account_email_taken(f->txn, "JD@exemple.fr", &taken), STORE_OK);
	assert_true(taken);
	assert_int_equal(account_email_taken(f->txn, "", &taken), STORE_OK);
	assert_false(taken);
	assert_int_equal(account_remove(f->txn, a), STORE_OK);
	assert_int_equal(account_get(f->txn, "jdupont", false, &b), STORE_NOTFOUND);
	assert_int_equal(account_ident_taken(f->txn, "jdupont", &taken), STORE_OK);
	assert_false(taken);
	assert_int_equal(account_email_taken(f->txn, "jd@exemple.fr", &taken), STORE_OK);
	assert_false(taken);
	assert_int_equal(account_by_numen(f->txn, a->numen_hmac, ident), STORE_NOTFOUND);
	assert_int_equal(account_remove(f->txn, a), STORE_NOTFOUND);
	/* The email is free again for someone else. */
	strcpy(a->identifiant, "jdupont3");
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	free(a);
}

/* A renamed account's former logins: found by account_get, taken for others, gone with a purge. */
static void test_aliases(void **state)
{
	struct fixture *f = *state;
	struct account *a = new_account("mdurand", "marie.durand@exemple.fr", 'a'), b;
	bool taken = false;

	strcpy(a->aliases[0], "mmartin");
	strcpy(a->aliases[1], "marie.martin@exemple.fr");
	a->naliases = 2;
	assert_int_equal(account_put(f->txn, a), STORE_OK);
	assert_int_equal(account_alias_add(f->txn, "mmartin", "mdurand"), STORE_OK);
	assert_int_equal(account_alias_add(f->txn, "Marie.Martin@exemple.fr", "mdurand"), STORE_OK);
	assert_int_equal(account_get(f->txn, "mmartin", false, &b), STORE_OK);
	assert_string_equal(b.identifiant, "mdurand");
	assert_int_equal(b.naliases, 2);
	assert_string_equal(b.aliases[1], "marie.martin@exemple.fr");
	assert_true(account_has_alias(&b, "marie.martin@exemple.fr"));
	assert_false(account_has_alias(&b, "mdurand"));
	assert_int_equal(account_get(f->txn, "marie.martin@exemple.fr", true, &b), STORE_OK);
	assert_string_equal(b.identifiant, "mdurand");
	assert_int_equal(account_ident_taken(f->txn, "mmartin", &taken), STORE_OK);
	assert_true(taken);
	/* an alias of another account is not removed by this one */
	assert_int_equal(account_alias_del(f->txn, "mmartin", "someone"), STORE_OK);
	assert_int_equal(account_get(f->txn, "mmartin", false, &b), STORE_OK);
	assert_int_equal(account_alias_del(f->txn, "mmartin", "mdurand"), STORE_OK);
	assert_int_equal(account_get(f->txn, "mmartin", false, &b), STORE_NOTFOUND);
	/* the purge takes the remaining one */
	assert_int_equal(account_remove(f->txn, a), STORE_OK);
	assert_int_equal(account_get(f->txn, "marie.martin@exemple.fr", true, &b), STORE_NOTFOUND);
	assert_int_equal(account_email_taken(f->txn, "marie.martin@exemple.fr", &taken), STORE_OK);
	assert_false(taken);
	free(a);
}

static void test_activated(void **state)
{
	struct account a = {0};

	(void)state;
	a.password_temporary = true;
	assert_false(account_activated(&a, false));
	a.password_temporary = false;
	assert_true(account_activated(&a, false));
	assert_false(account_activated(&a, true));
	a.otp_active = true;
	assert_true(account_activated(&a, true));
}

static void test_corrupt_record(void **state)
{
	static const char other[] = "{\"v\":1,\"id\":\"someone\"}";
	struct fixture *f = *state;
	struct account b;

	assert_int_equal(store_put(f->txn, STORE_ACCOUNTS, "jdupont", 7, other, strlen(other)),
	                 STORE_OK);
	assert_int_equal(account_get(f->txn, "jdupont", false, &b), STORE_ERROR);
	assert_int_equal(store_put(f->txn, STORE_ACCOUNTS, "jdupont", 7, "{", 1), STORE_OK);
	assert_int_equal(account_get(f->txn, "jdupont", false, &b), STORE_ERROR);
	assert_int_equal(store_put(f->txn, STORE_EMAIL, "x@y.fr", 6, "", 0), STORE_OK);
	assert_int_equal(account_get(f->txn, "x@y.fr", true, &b), STORE_ERROR);
}

struct seen {
	uint64_t seq[16];
	char json[16][1024];
	unsigned n;
	int ret; /* what the callback answers */
};

static int seen_cb(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct seen *s = ctx;

	if (s->n < 16 && len < sizeof(s->json[0]) && strlen(json) == len) {
		s->seq[s->n] = seq;
		memcpy(s->json[s->n++], json, len + 1);
	}
	return s->ret;
}

static void write_event(struct store_txn *txn, int64_t t, const char *id, const char *login,
                        const char *detail)
{
	struct audit_event ev = {.time = t,
	                         .actor = "auth",
	                         .action = "auth",
	                         .identifiant = id,
	                         .login = login,
	                         .result = "ok",
	                         .detail = detail};

	assert_int_equal(audit_write(txn, &ev), STORE_OK);
}

static void test_audit_read(void **state)
{
	static const struct {
		const char *ident;
		unsigned limit;
		unsigned n;
		uint64_t first;
	} cases[] = {
	    {NULL, 0, 6, 6},    {NULL, 2, 2, 6},    {"alice", 0, 4, 5}, {"alice", 3, 3, 5},
	    {"bob", 100, 2, 6}, {"carol", 0, 0, 0}, {"a\"b", 0, 0, 0},
	};
	struct fixture *f = *state;
	struct seen s;
	size_t i;
	unsigned j;

	for (i = 1; i <= 6; i++)
		write_event(f->txn, (int64_t)i, i % 3 == 0 ? "bob" : "alice",
		            "detail \"id\":\"bob\"", NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		assert_int_equal(audit_read(f->txn, cases[i].ident, cases[i].limit, seen_cb, &s),
		                 STORE_OK);
		assert_int_equal(s.n, cases[i].n);
		for (j = 0; j < s.n; j++) {
			assert_true(j == 0 ? s.seq[j] == cases[i].first : s.seq[j] < s.seq[j - 1]);
			if (cases[i].ident != NULL)
				assert_non_null(strstr(s.json[j], cases[i].ident));
		}
	}
	memset(&s, 0, sizeof(s));
	s.ret = 1;
	assert_int_equal(audit_read(f->txn, NULL, 0, seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	s.ret = -1;
	assert_int_equal(audit_read(f->txn, NULL, 0, seen_cb, &s), STORE_ERROR);
}

/* The one record's member, cleaned. */
static void audit_member(struct store_txn *txn, const char *name, char *out, size_t cap)
{
	struct seen s;
	json_t *obj, *v;

	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_read(txn, NULL, 1, seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 1);
	obj = json_loads(s.json[0], 0, NULL);
	assert_non_null(obj);
	v = json_object_get(obj, name);
	out[0] = '\0';
	if (json_is_string(v))
		snprintf(out, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	json_decref(obj);
}

static void test_audit_clean(void **state)
{
	static const char e_acute[] = "\xc3\xa9";
	static const struct {
		const char *in;
		const char *want; /* NULL: built below */
	} cases[] = {
	    {"ab\x01"
	     "c\nd\x7f"
	     "e\r\t",
	     "abcde"},
	    {"a\xff"
	     "b\xc3",
	     "ab"},
	    {"x\xc2\x85y\xe2\x80\xaez\xe2\x80\xa8!", "xyz!"},
	    {"\x1b[31mred", "[31mred"},
	    {"", ""},
	};
	struct fixture *f = *state;
	char in[1024], want[300], got[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_event(f->txn, 1, "id", cases[i].in, NULL);
		audit_member(f->txn, "login", got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
	/* Cut at 256 bytes, never inside a character. */
	memset(in, 'x', 300);
	in[300] = '\0';
	write_event(f->txn, 1, NULL, NULL, in);
	audit_member(f->txn, "detail", got, sizeof(got));
	assert_int_equal(strlen(got), AUDIT_VALUE_MAX);
	in[0] = '\0';
	for (i = 0; i < 200; i++)
		strcat(in, e_acute);
	memmove(in + 1, in, strlen(in) + 1);
	in[0] = 'x';
	write_event(f->txn, 1, NULL, NULL, in);
	audit_member(f->txn, "detail", got, sizeof(got));
	memcpy(want, in, 255);
	want[255] = '\0';
	assert_string_equal(got, want);
	/* NULL members are left out. */
	audit_member(f->txn, "id", got, sizeof(got));
	assert_string_equal(got, "");
	audit_member(f->txn, "t", got, sizeof(got));
	assert_string_equal(got, "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_binary_refused),
	    cmocka_unit_test(test_decode_defaults),
	    cmocka_unit_test(test_decode_bounds),
	    cmocka_unit_test(test_decode_refused),
	    cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_collision, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
	    cmocka_unit_test(test_activated),
	    cmocka_unit_test_setup_teardown(test_audit_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_clean, setup, teardown),
	};

	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
