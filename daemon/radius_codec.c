#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "radius_codec.h"

#define MA_LEN 16

/* MD5 fetched once: an implicit fetch per digest costs more than the digest (OpenSSL 3). */
static EVP_MD *md5_alg;
static pthread_once_t md5_once = PTHREAD_ONCE_INIT;

static void md5_fetch(void)
{
	md5_alg = EVP_MD_fetch(NULL, "MD5", NULL);
}

static const EVP_MD *md5(void)
{
	pthread_once(&md5_once, md5_fetch);
	return md5_alg != NULL ? md5_alg : EVP_md5();
}

int radius_decode(const uint8_t *buf, size_t len, struct radius_packet *p_r)
{
	size_t plen, off;

	p_r->nattrs = 0;
	p_r->ma_index = -1;
	if (len < RADIUS_HEADER_LEN)
		return RADIUS_ERR_SHORT;
	plen = (size_t)buf[2] << 8 | buf[3];
	if (plen < RADIUS_HEADER_LEN || plen > RADIUS_PACKET_MAX)
		return RADIUS_ERR_LENGTH;
	if (plen > len)
		return RADIUS_ERR_SHORT;
	p_r->data = buf;
	p_r->len = plen;
	p_r->code = buf[0];
	p_r->id = buf[1];
	p_r->authenticator = buf + 4;
	for (off = RADIUS_HEADER_LEN; off < plen;) {
		struct radius_attr *a;

		if (plen - off < 2 || buf[off + 1] < 2 || buf[off + 1] > plen - off)
			return RADIUS_ERR_ATTR;
		if (p_r->nattrs == RADIUS_ATTRS_MAX)
			return RADIUS_ERR_TOO_MANY;
		a = &p_r->attrs[p_r->nattrs];
		a->type = buf[off];
		a->len = (uint8_t)(buf[off + 1] - 2);
		a->value = buf + off + 2;
		if (a->type == RADIUS_MESSAGE_AUTHENTICATOR) {
			if (a->len != MA_LEN || p_r->ma_index >= 0)
				return RADIUS_ERR_MA;
			p_r->ma_index = (int)p_r->nattrs;
		}
		p_r->nattrs++;
		off += buf[off + 1];
	}
	return RADIUS_OK;
}

const char *radius_error_str(int error)
{
	switch (error) {
	case RADIUS_OK:
		return "ok";
	case RADIUS_ERR_SHORT:
		return "truncated packet";
	case RADIUS_ERR_LENGTH:
		return "bad Length";
	case RADIUS_ERR_ATTR:
		return "bad attribute length";
	case RADIUS_ERR_TOO_MANY:
		return "too many attributes";
	case RADIUS_ERR_MA:
		return "bad Message-Authenticator attribute";
	}
	return "unknown error";
}

const struct radius_attr *radius_find(const struct radius_packet *p, uint8_t type)
{
	for (unsigned i = 0; i < p->nattrs; i++)
		if (p->attrs[i].type == type)
			return &p->attrs[i];
	return NULL;
}

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;

/*
 * Per thread, one HMAC-MD5 context (its digest set once) and one MD5
 * context, reused: no provider lookup nor allocation per packet. The HMAC
 * context keeps the last client's key: packets mostly come from the client
 * before, and rekeying (two MD5 blocks and OpenSSL's parameter handling) was
 * a tenth of a request. Freed, the key wiped, when the thread ends.
 */
#define KEY_KEPT_MAX 256

struct md5_ctxs {
	EVP_MAC_CTX *mac;
	EVP_MD_CTX *md;
	size_t key_len; /* 0: no key kept */
	uint8_t key[KEY_KEPT_MAX];
};

static void ctxs_free(void *p)
{
	struct md5_ctxs *c = p;

	EVP_MAC_CTX_free(c->mac);
	EVP_MD_CTX_free(c->md);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}

/* Begins an HMAC-MD5 with secret, reusing the key schedule when it is the last one's. */
static int mac_begin(struct md5_ctxs *c, const uint8_t *secret, size_t slen)
{
	if (slen > 0 && slen == c->key_len && CRYPTO_memcmp(c->key, secret, slen) == 0)
		return EVP_MAC_init(c->mac, NULL, 0, NULL);
	c->key_len = 0;
	if (EVP_MAC_init(c->mac, secret, slen, NULL) != 1)
		return 0;
	if (slen <= sizeof(c->key)) {
		memcpy(c->key, secret, slen);
		c->key_len = slen;
	}
	return 1;
}

static void hmac_fetch(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (pthread_key_create(&ctx_key, ctxs_free) != 0) {
		EVP_MAC_free(hmac_alg);
		hmac_alg = NULL;
	}
}

/* This thread's contexts; NULL when OpenSSL or memory fails. */
static struct md5_ctxs *ctxs(void)
{
	char digest[] = "MD5";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	struct md5_ctxs *c;

	pthread_once(&hmac_once, hmac_fetch);
	if (hmac_alg == NULL)
		return NULL;
	if ((c = pthread_getspecific(ctx_key)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->mac = EVP_MAC_CTX_new(hmac_alg)) == NULL || (c->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_MAC_CTX_set_params(c->mac, params) != 1 || pthread_setspecific(ctx_key, c) != 0) {
		ctxs_free(c);
		return NULL;
	}
	return c;
}

/* The thread's MD5 context, begun; NULL when it cannot be. */
static EVP_MD_CTX *md5_begin(void)
{
	struct md5_ctxs *c = ctxs();

	return c != NULL && EVP_DigestInit_ex(c->md, md5(), NULL) == 1 ? c->md : NULL;
}

/*
 * HMAC-MD5 of the packet with its MA zeroed and auth (when not NULL) in the
 * authenticator field (RFC 3579 3.2), fed in pieces: no copy of the packet.
 */
static void ma_compute(const uint8_t *data, size_t len, size_t ma_off, const uint8_t *auth,
                       const uint8_t *secret, size_t slen, uint8_t out[MA_LEN])
{
	static const uint8_t zero[MA_LEN];
	struct md5_ctxs *c = ctxs();
	EVP_MAC_CTX *ctx = c != NULL ? c->mac : NULL;
	size_t outl = 0;

	if (ctx == NULL || mac_begin(c, secret, slen) != 1 || EVP_MAC_update(ctx, data, 4) != 1 ||
	    EVP_MAC_update(ctx, auth != NULL ? auth : data + 4, RADIUS_AUTH_LEN) != 1 ||
	    EVP_MAC_update(ctx, data + RADIUS_HEADER_LEN, ma_off - RADIUS_HEADER_LEN) != 1 ||
	    EVP_MAC_update(ctx, zero, MA_LEN) != 1 ||
	    EVP_MAC_update(ctx, data + ma_off + MA_LEN, len - ma_off - MA_LEN) != 1 ||
	    EVP_MAC_final(ctx, out, &outl, MA_LEN) != 1 || outl != MA_LEN)
		RAND_bytes(out, MA_LEN); /* out of memory: a value nobody matches */
}

static size_t ma_offset(const struct radius_packet *p)
{
	return (size_t)(p->attrs[p->ma_index].value - p->data);
}

bool radius_request_ma_ok(const struct radius_packet *p, const uint8_t *secret, size_t slen)
{
	uint8_t mac[MA_LEN];

	if (p->ma_index < 0)
		return false;
	ma_compute(p->data, p->len, ma_offset(p), NULL, secret, slen, mac);
	return CRYPTO_memcmp(mac, p->attrs[p->ma_index].value, MA_LEN) == 0;
}

static void response_auth(const uint8_t *data, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
                          const uint8_t *secret, size_t slen, uint8_t out[RADIUS_AUTH_LEN])
{
	EVP_MD_CTX *ctx = md5_begin();
	unsigned olen = RADIUS_AUTH_LEN;

	if (ctx == NULL || EVP_DigestUpdate(ctx, data, 4) != 1 ||
	    EVP_DigestUpdate(ctx, req_auth, RADIUS_AUTH_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, data + RADIUS_HEADER_LEN, len - RADIUS_HEADER_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, secret, slen) != 1 || EVP_DigestFinal_ex(ctx, out, &olen) != 1)
		memset(out, 0, RADIUS_AUTH_LEN); /* out of memory: a reply nobody accepts */
}

bool radius_reply_ok(const struct radius_packet *p, const uint8_t req_auth[RADIUS_AUTH_LEN],
                     const uint8_t *secret, size_t slen)
{
	uint8_t mac[MA_LEN], ra[RADIUS_AUTH_LEN];

	response_auth(p->data, p->len, req_auth, secret, slen, ra);
	if (CRYPTO_memcmp(ra, p->authenticator, RADIUS_AUTH_LEN) != 0)
		return false;
	if (p->ma_index < 0)
		return false;
	ma_compute(p->data, p->len, ma_offset(p), req_auth, secret, slen, mac);
	return CRYPTO_memcmp(mac, p->attrs[p->ma_index].value, MA_LEN) == 0;
}

/* b = MD5(secret + prev) (RFC 2865 5.2). */
static int pad_block(const uint8_t *secret, size_t slen, const uint8_t prev[16], uint8_t b[16])
{
	EVP_MD_CTX *ctx = md5_begin();
	unsigned olen = 16;

	if (ctx != NULL && EVP_DigestUpdate(ctx, secret, slen) == 1 &&
	    EVP_DigestUpdate(ctx, prev, 16) == 1 && EVP_DigestFinal_ex(ctx, b, &olen) == 1)
		return 0;
	return -1;
}

int radius_password_reveal(const struct radius_attr *a, const uint8_t req_auth[RADIUS_AUTH_LEN],
                           const uint8_t *secret, size_t slen, char *out, size_t *len_r)
{
	const uint8_t *prev = req_auth;
	uint8_t b[16];
	size_t n;
	int r = -1;

	if (a->len < 16 || a->len > RADIUS_PASSWORD_MAX || a->len % 16 != 0)
		return -1;
	for (size_t off = 0; off < a->len; off += 16) {
		if (pad_block(secret, slen, prev, b) < 0)
			goto out;
		for (size_t i = 0; i < 16; i++)
			out[off + i] = (char)(a->value[off + i] ^ b[i]);
		prev = a->value + off;
	}
	for (n = a->len; n > 0 && out[n - 1] == '\0'; n--)
		;
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL)
		goto out;
	*len_r = n;
	r = 0;
out:
	OPENSSL_cleanse(b, sizeof(b));
	if (r < 0)
		OPENSSL_cleanse(out, RADIUS_PASSWORD_MAX + 1);
	return r;
}

int radius_password_hide(const char *pw, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
                         const uint8_t *secret, size_t slen, uint8_t *out, size_t *len_r)
{
	size_t padded = len == 0 ? 16 : (len + 15) / 16 * 16;
	const uint8_t *prev = req_auth;
	uint8_t b[16];

	if (len > RADIUS_PASSWORD_MAX)
		return -1;
	memset(out, 0, padded);
	memcpy(out, pw, len);
	for (size_t off = 0; off < padded; off += 16) {
		if (pad_block(secret, slen, prev, b) < 0)
			return -1;
		for (size_t i = 0; i < 16; i++)
			out[off + i] ^= b[i];
		prev = out + off;
	}
	OPENSSL_cleanse(b, sizeof(b));
	*len_r = padded;
	return 0;
}

void radius_begin(struct radius_writer *w, uint8_t code, uint8_t id,
                  const uint8_t auth[RADIUS_AUTH_LEN], bool with_ma)
{
	static const uint8_t zero[MA_LEN];

	w->buf[0] = code;
	w->buf[1] = id;
	memcpy(w->buf + 4, auth, RADIUS_AUTH_LEN);
	w->len = RADIUS_HEADER_LEN;
	w->overflow = false;
	w->has_ma = with_ma;
	if (with_ma)
		radius_add(w, RADIUS_MESSAGE_AUTHENTICATOR, zero, MA_LEN);
}

void radius_add(struct radius_writer *w, uint8_t type, const void *value, size_t len)
{
	if (len > RADIUS_STRING_MAX || w->len + 2 + len > RADIUS_PACKET_MAX) {
		w->overflow = true;
		return;
	}
	w->buf[w->len] = type;
	w->buf[w->len + 1] = (uint8_t)(len + 2);
	if (len > 0)
		memcpy(w->buf + w->len + 2, value, len);
	w->len += 2 + len;
}

static int finish(struct radius_writer *w, const uint8_t *secret, size_t slen, bool reply)
{
	uint8_t req_auth[RADIUS_AUTH_LEN];

	if (w->overflow)
		return -1;
	w->buf[2] = (uint8_t)(w->len >> 8);
	w->buf[3] = (uint8_t)w->len;
	memcpy(req_auth, w->buf + 4, RADIUS_AUTH_LEN);
	/* The MA is first when there is one: its value sits right after the header. */
	if (w->has_ma)
		ma_compute(w->buf, w->len, RADIUS_HEADER_LEN + 2, NULL, secret, slen,
		           w->buf + RADIUS_HEADER_LEN + 2);
	if (reply)
		response_auth(w->buf, w->len, req_auth, secret, slen, w->buf + 4);
	return 0;
}

int radius_finish_reply(struct radius_writer *w, const uint8_t *secret, size_t slen)
{
	return finish(w, secret, slen, true);
}

int radius_finish_request(struct radius_writer *w, const uint8_t *secret, size_t slen)
{
	return finish(w, secret, slen, false);
}
