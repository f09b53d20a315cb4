#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "due.h"
#include "record.h"
#include "secret.h"
#include "session.h"
#include "store.h"

#define S(name, type, member) REC_FIELD(session, name, type, member)
/* Binary tags are positions plus one: add fields at the end only. */
static const struct rec_field session_fields[] = {
    S("id", REC_STR, identifiant),  S("service", REC_STR, service),
    S("created", REC_I64, created), S("last_used", REC_I64, last_used),
    S("expires", REC_I64, expires), S("gen", REC_UINT, gen),
};
#define SESSION_FIELDS (sizeof(session_fields) / sizeof(session_fields[0]))
#define SESSION_RECORD_MAX 1024

static int copy_str(json_t *obj, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) >= cap)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* The JSON records of stores written before the binary form (migrate.c rewrites them). */
static int session_decode_json(const void *val, size_t vlen, struct session *s)
{
	json_t *obj = json_loadb(val, vlen, 0, NULL);
	int r = -1;

	if (obj == NULL || copy_str(obj, "id", s->identifiant, sizeof(s->identifiant)) < 0 ||
	    copy_str(obj, "service", s->service, sizeof(s->service)) < 0)
		goto out;
	s->created = json_integer_value(json_object_get(obj, "created"));
	s->last_used = json_integer_value(json_object_get(obj, "last_used"));
	s->expires = json_integer_value(json_object_get(obj, "expires"));
	s->gen = (unsigned)json_integer_value(json_object_get(obj, "gen"));
	r = 0;
out:
	json_decref(obj);
	return r;
}

int session_decode(const char *key, const void *val, size_t vlen, struct session *s)
{
	struct rec_reader r;
	int got;

	memset(s, 0, sizeof(*s));
	if (strlen(key) > CRED_TAG_LEN || vlen == 0 || vlen > SESSION_RECORD_MAX)
		return -1;
	snprintf(s->key, sizeof(s->key), "%s", key);
	if (*(const uint8_t *)val == '{')
		got = session_decode_json(val, vlen, s);
	else if (rec_reader_init(&r, val, vlen) < 0)
		got = -1;
	else
		got = rec_get_fields(r.p, (size_t)(r.end - r.p), session_fields, SESSION_FIELDS, s);
	if (got != 0)
		memset(s, 0, sizeof(*s));
	return got;
}

int session_encode(const struct session *s, uint8_t **rec_r, size_t *len_r)
{
	struct rec_buf b;

	rec_buf_init(&b, SESSION_RECORD_MAX);
	rec_put_format(&b);
	rec_put_fields(&b, session_fields, SESSION_FIELDS, s);
	*rec_r = rec_buf_take(&b, len_r);
	return *rec_r != NULL ? 0 : -1;
}

int session_get(struct store_txn *txn, const char *key, struct session *s_r)
{
	struct store_val v = {0};
	char k[CRED_TAG_LEN + 1];
	int r;

	/* key may live inside *s_r (ss.key), which decode() clears first: copy it. */
	if (strlen(key) > CRED_TAG_LEN)
		return STORE_NOTFOUND;
	memcpy(k, key, strlen(key) + 1);
	r = store_get(txn, STORE_SESSIONS, k, strlen(k), &v);
	if (r != STORE_OK)
		return r;
	r = session_decode(k, v.data, v.len, s_r) < 0 ? STORE_ERROR : STORE_OK;
	store_val_free(&v);
	return r;
}

int session_put(struct store_txn *txn, const struct session *s)
{
	uint8_t *rec;
	size_t len;
	int r;

	if (session_encode(s, &rec, &len) < 0)
		return STORE_ERROR;
	r = store_put(txn, STORE_SESSIONS, s->key, strlen(s->key), rec, len);
	if (r == STORE_OK)
		r = due_put(txn, DUE_SESSION, s->expires, s->key);
	free(rec);
	return r;
}

int session_del(struct store_txn *txn, const char *key)
{
	struct session s;
	int r = session_get(txn, key, &s);

	/* key may be s.key of a caller's struct: session_get copies it first */
	if (r == STORE_OK && (r = due_del(txn, DUE_SESSION, s.expires, s.key)) == STORE_OK)
		r = store_del(txn, STORE_SESSIONS, s.key, strlen(s.key));
	return r == STORE_NOTFOUND ? STORE_OK : r;
}

unsigned session_touch_window(unsigned touch, unsigned idle)
{
	unsigned half = idle / 2 > 0 ? idle / 2 : 1;

	return touch < half ? touch : half;
}

bool session_alive(const struct session *s, const struct account *a, int64_t now, unsigned idle)
{
	return strcmp(s->identifiant, a->identifiant) == 0 && a->state == ACCOUNT_ACTIVE &&
	       s->gen == a->session_gen && now < s->expires && now - s->last_used < (int64_t)idle;
}

struct walk {
	const char *identifiant;
	session_cb *cb;
	void *ctx;
};

static int walk_one(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ctx;
	char k[CRED_TAG_LEN + 1];
	struct session s;

	if (klen > CRED_TAG_LEN)
		return 0;
	memcpy(k, key, klen);
	k[klen] = '\0';
	if (session_decode(k, val, vlen, &s) < 0)
		return 0;
	if (w->identifiant != NULL && strcmp(s.identifiant, w->identifiant) != 0)
		return 0;
	return w->cb(w->ctx, &s);
}

int session_each(struct store_txn *txn, const char *identifiant, session_cb *cb, void *ctx)
{
	struct walk w = {identifiant, cb, ctx};

	return store_scan(txn, STORE_SESSIONS, NULL, 0, false, walk_one, &w);
}

struct doomed {
	char (*keys)[CRED_TAG_LEN + 1];
	size_t n, cap;
	bool oom;
};

static int doom_one(void *ctx, const struct session *s)
{
	struct doomed *d = ctx;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		void *p = realloc(d->keys, cap * sizeof(*d->keys));

		if (p == NULL) {
			d->oom = true;
			return 1;
		}
		d->keys = p;
		d->cap = cap;
	}
	memcpy(d->keys[d->n++], s->key, sizeof(s->key));
	return 0;
}

int session_remove_all(struct store_txn *txn, const char *identifiant)
{
	struct doomed d = {0};
	int r = session_each(txn, identifiant, doom_one, &d);

	/* Collected first: a scan's callback must not write through its transaction. */
	if (r == STORE_OK && d.oom)
		r = STORE_ERROR;
	for (size_t i = 0; i < d.n && r == STORE_OK; i++)
		r = session_del(txn, d.keys[i]);
	free(d.keys);
	return r;
}
