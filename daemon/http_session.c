#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "http_session.h"
#include "secret.h"

#define ID_BYTES 32
#define DIGEST_LEN 32

struct entry {
	bool used;
	uint8_t digest[DIGEST_LEN]; /* SHA-256 of the id: the id itself is never kept */
	char identifiant[IDENT_MAX + 1];
	enum http_stage stage;
	time_t created, last_used, since;
	char *uri; /* a pending secret: wiped */
};

struct http_sessions {
	pthread_mutex_t lock;
	unsigned max, idle, lifetime;
	struct entry *entries;
};

struct http_sessions *http_sessions_new(unsigned max, unsigned idle, unsigned lifetime)
{
	struct http_sessions *s = calloc(1, sizeof(*s));

	if (s == NULL || max == 0 || (s->entries = calloc(max, sizeof(*s->entries))) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->max = max;
	s->idle = idle;
	s->lifetime = lifetime;
	return s;
}

static void entry_clear(struct entry *e)
{
	secret_free(e->uri);
	secret_wipe(e, sizeof(*e));
}

void http_sessions_free(struct http_sessions *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->max; i++)
		entry_clear(&s->entries[i]);
	free(s->entries);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool alive(const struct http_sessions *s, const struct entry *e, time_t now)
{
	return e->used && now - e->last_used < (time_t)s->idle &&
	       now - e->created < (time_t)s->lifetime;
}

static int digest_of(const char *id, uint8_t out[DIGEST_LEN])
{
	unsigned len = 0;

	if (id == NULL || strlen(id) != HTTP_SESSION_ID_LEN)
		return -1;
	if (EVP_Digest(id, HTTP_SESSION_ID_LEN, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != DIGEST_LEN)
		return -1;
	return 0;
}

/* Called with the lock held. An expired entry found here is cleared. */
static struct entry *find(struct http_sessions *s, const char *id, time_t now, bool check_time)
{
	uint8_t d[DIGEST_LEN];
	struct entry *found = NULL;

	if (digest_of(id, d) < 0)
		return NULL;
	for (unsigned i = 0; i < s->max && found == NULL; i++)
		if (s->entries[i].used && memcmp(s->entries[i].digest, d, DIGEST_LEN) == 0)
			found = &s->entries[i];
	if (found != NULL && check_time && !alive(s, found, now)) {
		entry_clear(found);
		found = NULL;
	}
	return found;
}

/* A free or expired slot, else the one idle longest. */
static struct entry *slot_for_new(struct http_sessions *s, time_t now)
{
	struct entry *victim = &s->entries[0];

	for (unsigned i = 0; i < s->max; i++) {
		struct entry *e = &s->entries[i];

		if (!alive(s, e, now))
			return e;
		if (e->last_used < victim->last_used)
			victim = e;
	}
	return victim;
}

static void b64url(const uint8_t *in, size_t len, char *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = abc[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = abc[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

int http_session_create(struct http_sessions *s, const char *identifiant, enum http_stage stage,
                        time_t now, char id_r[HTTP_SESSION_ID_LEN + 1])
{
	uint8_t raw[ID_BYTES], d[DIGEST_LEN];
	struct entry *e;
	int r = -1;

	if (identifiant == NULL || strlen(identifiant) > IDENT_MAX ||
	    crypto_random(raw, sizeof(raw)) < 0)
		goto out;
	b64url(raw, sizeof(raw), id_r);
	if (digest_of(id_r, d) < 0)
		goto out;
	pthread_mutex_lock(&s->lock);
	e = slot_for_new(s, now);
	entry_clear(e);
	e->used = true;
	memcpy(e->digest, d, DIGEST_LEN);
	memcpy(e->identifiant, identifiant, strlen(identifiant) + 1);
	e->stage = stage;
	e->created = e->last_used = e->since = now;
	pthread_mutex_unlock(&s->lock);
	r = 0;
out:
	secret_wipe(raw, sizeof(raw));
	secret_wipe(d, sizeof(d));
	if (r < 0)
		secret_wipe(id_r, HTTP_SESSION_ID_LEN + 1);
	return r;
}

int http_session_get(struct http_sessions *s, const char *id, time_t now,
                     struct http_session_info *info_r)
{
	struct entry *e;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, now, true)) != NULL) {
		if (now > e->last_used)
			e->last_used = now;
		memcpy(info_r->identifiant, e->identifiant, sizeof(info_r->identifiant));
		info_r->stage = e->stage;
		info_r->since = e->since;
		r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int http_session_set_stage(struct http_sessions *s, const char *id, enum http_stage stage)
{
	struct entry *e;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, 0, false)) != NULL) {
		e->stage = stage;
		r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int http_session_set_since(struct http_sessions *s, const char *id, time_t since)
{
	struct entry *e;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, 0, false)) != NULL) {
		e->since = since;
		r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int http_session_set_uri(struct http_sessions *s, const char *id, const char *uri)
{
	char *copy = NULL;
	struct entry *e;
	int r = -1;

	if (uri != NULL && (copy = strdup(uri)) == NULL)
		return -1;
	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, 0, false)) != NULL) {
		secret_free(e->uri);
		e->uri = copy;
		copy = NULL;
		r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	secret_free(copy);
	return r;
}

int http_session_get_uri(struct http_sessions *s, const char *id, char *buf, size_t len)
{
	struct entry *e;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, 0, false)) != NULL && e->uri != NULL && strlen(e->uri) < len) {
		memcpy(buf, e->uri, strlen(e->uri) + 1);
		r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

void http_session_end(struct http_sessions *s, const char *id)
{
	struct entry *e;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id, 0, false)) != NULL)
		entry_clear(e);
	pthread_mutex_unlock(&s->lock);
}

unsigned http_session_end_person(struct http_sessions *s, const char *identifiant,
                                 const char *keep_id)
{
	uint8_t keep[DIGEST_LEN];
	bool have_keep = digest_of(keep_id, keep) == 0;
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->max; i++) {
		struct entry *e = &s->entries[i];

		if (!e->used || strcmp(e->identifiant, identifiant) != 0 ||
		    (have_keep && memcmp(e->digest, keep, DIGEST_LEN) == 0))
			continue;
		entry_clear(e);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

unsigned http_session_count(struct http_sessions *s, time_t now)
{
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->max; i++)
		n += alive(s, &s->entries[i], now);
	pthread_mutex_unlock(&s->lock);
	return n;
}
