/*
 * Keys and primitives over OpenSSL: the key file, the RNG, HMAC-SHA256 with
 * the pepper, AES-256-GCM sealing and base64.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto.h"

#define KEY_FILE_LEN (2 * CRYPTO_KEY_LEN)
/* Sealed values are OTP secrets and the like: a few hundred bytes at most. */
#define SEAL_PLAIN_MAX 4096
#define SEAL_TEXT_MAX (4 * ((CRYPTO_NONCE_LEN + SEAL_PLAIN_MAX + CRYPTO_TAG_LEN + 2) / 3))
/* Keeps base64 sizes far from EVP's int arithmetic. */
#define B64_DATA_MAX (1u << 24)

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* A new file is only durable once the directory entry naming it is. */
static int fsync_parent(const char *path)
{
	char copy[PATH_MAX];
	int fd, r;

	if (strlen(path) >= sizeof(copy))
		return -1;
	strcpy(copy, path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static int keys_create(const char *path, uint8_t buf[KEY_FILE_LEN], char *err, size_t errlen)
{
	int r = -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		set_err(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	if (crypto_random(buf, KEY_FILE_LEN) < 0) {
		set_err(err, errlen, "%s: the random generator failed", path);
		goto out;
	}
	if (write_full(fd, buf, KEY_FILE_LEN) < 0 || fsync(fd) < 0) {
		set_err(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		goto out;
	}
	if (fsync_parent(path) < 0) {
		set_err(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	/* A short file would be refused at every later start: leave none. */
	if (r < 0)
		unlink(path);
	return r;
}

static int keys_check(const char *path, const struct stat *st, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st->st_uid != geteuid()) {
		set_err(err, errlen, "%s: owned by uid %u, not by the daemon's uid %u", path,
		        (unsigned)st->st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st->st_mode & 077) {
		set_err(err, errlen,
		        "%s: readable by group or others (mode %04o); run chmod 600 %s", path,
		        (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	if (st->st_size != KEY_FILE_LEN) {
		set_err(err, errlen, "%s: %lld bytes, a key file has exactly %d", path,
		        (long long)st->st_size, KEY_FILE_LEN);
		return -1;
	}
	return 0;
}

/* 1 when the file does not exist, 0 when read, -1 when refused. */
static int keys_read(const char *path, uint8_t buf[KEY_FILE_LEN], char *err, size_t errlen)
{
	struct stat st;
	int r = -1;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path,
		        errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (keys_check(path, &st, err, errlen) < 0)
		goto out;
	if (read_full(fd, buf, KEY_FILE_LEN) < 0) {
		set_err(err, errlen, "%s: cannot read all %d bytes", path, KEY_FILE_LEN);
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

int crypto_keys_load(const char *path, struct crypto_keys *keys, char *err, size_t errlen)
{
	uint8_t buf[KEY_FILE_LEN];
	int r = keys_read(path, buf, err, errlen);

	if (r == 1)
		r = keys_create(path, buf, err, errlen);
	if (r == 0) {
		memcpy(keys->seal, buf, CRYPTO_KEY_LEN);
		memcpy(keys->pepper, buf + CRYPTO_KEY_LEN, CRYPTO_KEY_LEN);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

void crypto_keys_wipe(struct crypto_keys *keys)
{
	if (keys != NULL)
		OPENSSL_cleanse(keys, sizeof(*keys));
}

int crypto_random(void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1)
		return -1;
	return 0;
}

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t hmac_key;

/*
 * Each thread keeps one HMAC context keyed with the pepper, and only resets it
 * (EVP_MAC_init without a key) for each MAC: no digest lookup, no key
 * schedule, no allocation on a login's path. It is keyed again when another
 * pepper comes (tests use several), and freed when its thread ends.
 */
struct hmac_cache {
	EVP_MAC_CTX *ctx;
	uint8_t pepper[CRYPTO_KEY_LEN];
};

static void hmac_cache_free(void *p)
{
	struct hmac_cache *c = p;

	EVP_MAC_CTX_free(c->ctx);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* Fetching is a provider lookup under a lock: do it once, share the result. */
static void hmac_fetch(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (pthread_key_create(&hmac_key, hmac_cache_free) != 0) {
		EVP_MAC_free(hmac_alg);
		hmac_alg = NULL;
	}
}

/* This thread's context, ready for a MAC under keys' pepper; NULL when OpenSSL fails. */
static EVP_MAC_CTX *hmac_ctx(const struct crypto_keys *keys)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	struct hmac_cache *c;

	pthread_once(&hmac_once, hmac_fetch);
	if (hmac_alg == NULL)
		return NULL;
	if ((c = pthread_getspecific(hmac_key)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return NULL;
		if ((c->ctx = EVP_MAC_CTX_new(hmac_alg)) == NULL ||
		    pthread_setspecific(hmac_key, c) != 0) {
			hmac_cache_free(c);
			return NULL;
		}
	} else if (CRYPTO_memcmp(c->pepper, keys->pepper, CRYPTO_KEY_LEN) == 0) {
		return EVP_MAC_init(c->ctx, NULL, 0, NULL) == 1 ? c->ctx : NULL;
	}
	if (EVP_MAC_init(c->ctx, keys->pepper, CRYPTO_KEY_LEN, params) != 1) {
		OPENSSL_cleanse(c->pepper, sizeof(c->pepper)); /* never taken as keyed */
		return NULL;
	}
	memcpy(c->pepper, keys->pepper, CRYPTO_KEY_LEN);
	return c->ctx;
}

static int hmac_run(const struct crypto_keys *keys, const char *domain, const void *data,
                    size_t len, uint8_t out[CRYPTO_HMAC_LEN])
{
	static const uint8_t zero = 0;
	EVP_MAC_CTX *ctx = hmac_ctx(keys);
	size_t outl = 0;

	if (ctx == NULL || EVP_MAC_update(ctx, (const uint8_t *)domain, strlen(domain)) != 1 ||
	    EVP_MAC_update(ctx, &zero, 1) != 1 || EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, out, &outl, CRYPTO_HMAC_LEN) != 1 || outl != CRYPTO_HMAC_LEN)
		return -1;
	return 0;
}

void crypto_hmac(const struct crypto_keys *keys, const char *domain, const void *data, size_t len,
                 uint8_t out[CRYPTO_HMAC_LEN])
{
	/*
	 * The interface has no error path and any value we made up would be
	 * wrong (a password match, an index key): a failing HMAC is a broken
	 * invariant, like running out of memory inside OpenSSL.
	 */
	if (hmac_run(keys, domain, data, len, out) < 0) {
		fputs("verdon: HMAC-SHA256 failed in OpenSSL\n", stderr);
		abort();
	}
}

void crypto_hmac_hex(const struct crypto_keys *keys, const char *domain, const void *data,
                     size_t len, char out[2 * CRYPTO_HMAC_LEN + 1])
{
	uint8_t mac[CRYPTO_HMAC_LEN];

	crypto_hmac(keys, domain, data, len, mac);
	crypto_hex(mac, sizeof(mac), out);
	OPENSSL_cleanse(mac, sizeof(mac));
}

static int gcm_seal(const struct crypto_keys *keys, const char *aad, const uint8_t *plain,
                    size_t plain_len, uint8_t *buf)
{
	uint8_t *nonce = buf, *ct = buf + CRYPTO_NONCE_LEN, *tag = ct + plain_len;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, r = -1;

	if (ctx == NULL || crypto_random(nonce, CRYPTO_NONCE_LEN) < 0)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, keys->seal, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n, plain, (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int crypto_seal(const struct crypto_keys *keys, const char *aad, const uint8_t *plain,
                size_t plain_len, char **sealed_r)
{
	size_t buf_len = CRYPTO_NONCE_LEN + plain_len + CRYPTO_TAG_LEN;
	uint8_t *buf = NULL;
	int r = -1;

	*sealed_r = NULL;
	if (plain_len > SEAL_PLAIN_MAX || strlen(aad) > INT_MAX)
		goto out;
	if ((buf = malloc(buf_len)) == NULL)
		goto out;
	if (gcm_seal(keys, aad, plain, plain_len, buf) < 0)
		goto out;
	if ((*sealed_r = crypto_b64_encode(buf, buf_len)) == NULL)
		goto out;
	r = 0;
out:
	if (buf != NULL)
		OPENSSL_cleanse(buf, buf_len);
	free(buf);
	return r;
}

static int gcm_open(const struct crypto_keys *keys, const char *aad, uint8_t *buf, size_t ct_len,
                    uint8_t *plain)
{
	uint8_t *nonce = buf, *ct = buf + CRYPTO_NONCE_LEN, *tag = ct + ct_len;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, r = -1;

	if (ctx == NULL)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, keys->seal, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(ctx, plain, &n, ct, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + n, &fin) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int crypto_open(const struct crypto_keys *keys, const char *aad, const char *sealed, uint8_t *plain,
                size_t plain_cap, size_t *plain_len_r)
{
	size_t cap = 3 * (SEAL_TEXT_MAX / 4), len = 0, ct_len;
	uint8_t *buf = NULL;
	int r = -1;

	*plain_len_r = 0;
	if (strnlen(sealed, SEAL_TEXT_MAX + 1) > SEAL_TEXT_MAX || strlen(aad) > INT_MAX)
		goto out;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	if (crypto_b64_decode(sealed, buf, cap, &len) < 0 ||
	    len < CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN)
		goto out;
	ct_len = len - CRYPTO_NONCE_LEN - CRYPTO_TAG_LEN;
	if (ct_len > plain_cap || gcm_open(keys, aad, buf, ct_len, plain) < 0)
		goto out;
	*plain_len_r = ct_len;
	r = 0;
out:
	if (r < 0 && plain != NULL)
		OPENSSL_cleanse(plain, plain_cap);
	if (buf != NULL)
		OPENSSL_cleanse(buf, cap);
	free(buf);
	return r;
}

char *crypto_b64_encode(const uint8_t *data, size_t len)
{
	char *out;

	if (len > B64_DATA_MAX)
		return NULL;
	if ((out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Number of '=' at the end, or -1 unless text is canonical padded base64. */
static int b64_padding(const char *text, size_t n)
{
	int pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n > 0 && text[n - 1] == '=')
		pad = (n > 1 && text[n - 2] == '=') ? 2 : 1;
	for (size_t i = 0; i < n - (size_t)pad; i++)
		if (!b64_char(text[i]))
			return -1;
	return pad;
}

int crypto_b64_decode(const char *text, uint8_t *out, size_t cap, size_t *len_r)
{
	size_t n = strnlen(text, 4 * (B64_DATA_MAX / 3) + 1), raw_len;
	uint8_t *raw = NULL;
	int pad, r = -1;

	*len_r = 0;
	if (n > 4 * (B64_DATA_MAX / 3) || (pad = b64_padding(text, n)) < 0)
		goto out;
	raw_len = 3 * (n / 4);
	/* EVP_DecodeBlock writes the padding's zero bytes too: decode aside. */
	if (raw_len - (size_t)pad > cap || (raw = malloc(raw_len + 1)) == NULL)
		goto out;
	if (EVP_DecodeBlock(raw, (const unsigned char *)text, (int)n) != (int)raw_len)
		goto out;
	memcpy(out, raw, raw_len - (size_t)pad);
	*len_r = raw_len - (size_t)pad;
	r = 0;
out:
	if (raw != NULL)
		OPENSSL_cleanse(raw, raw_len + 1);
	free(raw);
	return r;
}

void crypto_hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * len] = '\0';
}
