/*
 * Password storage: NFKC, Argon2id over HMAC(pepper, NFKC(pw)) in PHC form,
 * the $hmac$ form for generated secrets, and imported crypt(3) hashes.
 * The policy lives in password_policy.c.
 */
#include <crypt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <unistr.h>
#include <uninorm.h>

#include "crypto.h"
#include "hash_cost.h"
#include "log.h"
#include "password.h"
#include "secret.h"

/* Above any configurable max_bytes: longer input is never hashed. */
#define PASSWORD_INPUT_MAX 4096
#define SALT_LEN 16
#define HASH_LEN 32
/* What a stored PHC string may ask for: the config's ceilings, with room. */
#define PHC_M_MAX (4u << 20)
#define PHC_T_MAX 1000
#define PHC_P_MAX 255
#define PHC_SALT_MIN 8
#define PHC_SALT_MAX 48
#define PHC_HASH_MIN 16
#define PHC_HASH_MAX 64

static const char argon2_prefix[] = "$argon2id$";
static const char hmac_prefix[] = "$hmac$";

struct password_hasher {
	struct argon2_params params;
	uint8_t *area;
	size_t area_len;
	bool busy;
	const struct hash_limits *limits; /* NULL: stored hashes are not bounded */
	atomic_int hashing;               /* > 0 while a hash runs: shutdown does not wait long */
	atomic_llong since_ms;            /* when the outermost running hash began (monotonic) */
};

struct phc {
	struct argon2_params params;
	uint8_t salt[PHC_SALT_MAX];
	size_t salt_len;
	uint8_t hash[PHC_HASH_MAX];
	size_t hash_len;
};

/* argon2's allocator callback takes no user pointer; each worker thread owns one hasher. */
static __thread struct password_hasher *current_hasher;

static int area_alloc(uint8_t **memory, size_t bytes)
{
	struct password_hasher *h = current_hasher;
	void *p;

	if (h != NULL && !h->busy && bytes <= h->area_len) {
		h->busy = true;
		*memory = h->area;
		return ARGON2_OK;
	}
	/* A stored hash with more memory than ours: an area for this run only. */
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return ARGON2_MEMORY_ALLOCATION_ERROR;
	*memory = p;
	return ARGON2_OK;
}

/*
 * libargon2 wipes the whole area (its clear_internal_memory, on by default)
 * before it calls us, so neither path wipes again; its public flags only
 * cover the password and secret inputs, which are our own buffers.
 */
static void area_free(uint8_t *memory, size_t bytes)
{
	struct password_hasher *h = current_hasher;

	if (h != NULL && memory == h->area) {
		h->busy = false;
		return;
	}
	munmap(memory, bytes);
}

static bool params_valid(const struct argon2_params *p)
{
	return p->p >= 1 && p->p <= PHC_P_MAX && p->t >= 1 && p->t <= PHC_T_MAX &&
	       p->m_kib <= PHC_M_MAX && p->m_kib >= 2 * ARGON2_SYNC_POINTS * p->p;
}

struct password_hasher *password_hasher_new(const struct argon2_params *params)
{
	struct password_hasher *h;
	long page = sysconf(_SC_PAGESIZE);

	if (!params_valid(params) || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->params = *params;
	h->area_len = (size_t)params->m_kib * 1024;
	h->area =
	    mmap(NULL, h->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->area == MAP_FAILED) {
		free(h);
		return NULL;
	}
	/* Password-derived blocks have no place in a core dump. */
	madvise(h->area, h->area_len, MADV_DONTDUMP);
	/* Fault every page in now, so the first login does not pay for it. */
	for (size_t i = 0; i < h->area_len; i += (size_t)(page > 0 ? page : 4096))
		((volatile uint8_t *)h->area)[i] = 0;
	return h;
}

void password_hasher_limits(struct password_hasher *h, const struct hash_limits *lim)
{
	if (h != NULL)
		h->limits = lim;
}

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only h's own thread counts: the start is written before a reader can see the count move. */
static void hash_begin(struct password_hasher *h)
{
	if (atomic_load(&h->hashing) == 0)
		atomic_store(&h->since_ms, monotonic_ms());
	atomic_fetch_add(&h->hashing, 1);
}

static void hash_end(struct password_hasher *h)
{
	atomic_fetch_sub(&h->hashing, 1);
}

long long password_hasher_hashing_ms(struct password_hasher *h)
{
	long long since;

	if (h == NULL) /* a fast-lane worker never hashes */
		return -1;
	since = atomic_load(&h->since_ms);
	return atomic_load(&h->hashing) > 0 ? monotonic_ms() - since : -1;
}

void password_hasher_free(struct password_hasher *h)
{
	if (h == NULL)
		return;
	munmap(h->area, h->area_len);
	free(h);
}

static int argon2_run(struct password_hasher *h, const struct argon2_params *params,
                      const uint8_t pre[CRYPTO_HMAC_LEN], const uint8_t *salt, size_t salt_len,
                      uint8_t *out, size_t out_len)
{
	argon2_context ctx = {
	    .out = out,
	    .outlen = (uint32_t)out_len,
	    .pwd = (uint8_t *)pre,
	    .pwdlen = CRYPTO_HMAC_LEN,
	    .salt = (uint8_t *)salt,
	    .saltlen = (uint32_t)salt_len,
	    .t_cost = params->t,
	    .m_cost = params->m_kib,
	    .lanes = params->p,
	    .threads = params->p,
	    .version = ARGON2_VERSION_13,
	    .allocate_cbk = area_alloc,
	    .free_cbk = area_free,
	    .flags = ARGON2_DEFAULT_FLAGS,
	};
	int rc;

	current_hasher = h;
	rc = argon2_ctx(&ctx, Argon2_id);
	current_hasher = NULL;
	return rc == ARGON2_OK ? 0 : -1;
}

int password_normalize(const char *in, size_t len, char **out_r, size_t *out_len_r)
{
	uint8_t *nfkc = NULL;
	char *out = NULL;
	size_t n = 0;
	int r = -1;

	*out_r = NULL;
	*out_len_r = 0;
	if (memchr(in, '\0', len) != NULL || u8_check((const uint8_t *)in, len) != NULL)
		goto out;
	if (len > 0 &&
	    (nfkc = u8_normalize(UNINORM_NFKC, (const uint8_t *)in, len, NULL, &n)) == NULL)
		goto out;
	if ((out = malloc(n + 1)) == NULL)
		goto out;
	if (n > 0)
		memcpy(out, nfkc, n);
	out[n] = '\0';
	*out_r = out;
	*out_len_r = n;
	r = 0;
out:
	secret_wipe(nfkc, n);
	free(nfkc);
	return r;
}

/* Base64 without padding, as PHC strings carry it. */
static char *b64_nopad(const uint8_t *data, size_t len)
{
	char *s = crypto_b64_encode(data, len);
	char *eq = s != NULL ? strchr(s, '=') : NULL;

	if (eq != NULL)
		*eq = '\0';
	return s;
}

static int phc_encode(const struct argon2_params *p, const uint8_t *salt, const uint8_t *hash,
                      char out[PASSWORD_HASH_MAX])
{
	char *s = b64_nopad(salt, SALT_LEN), *hs = b64_nopad(hash, HASH_LEN);
	int n = -1;

	if (s != NULL && hs != NULL)
		n = snprintf(out, PASSWORD_HASH_MAX, "%sv=19$m=%u,t=%u,p=%u$%s$%s", argon2_prefix,
		             p->m_kib, p->t, p->p, s, hs);
	free(s);
	free(hs);
	return n > 0 && n < PASSWORD_HASH_MAX ? 0 : -1;
}

static int hash_phc(struct password_hasher *h, const struct crypto_keys *keys, const char *pw,
                    size_t len, char out[PASSWORD_HASH_MAX])
{
	uint8_t pre[CRYPTO_HMAC_LEN], salt[SALT_LEN], hash[HASH_LEN];
	char *nfkc = NULL;
	size_t nfkc_len = 0;
	int r = -1;

	if (len > PASSWORD_INPUT_MAX || password_normalize(pw, len, &nfkc, &nfkc_len) < 0)
		goto out;
	crypto_hmac(keys, "password", nfkc, nfkc_len, pre);
	if (crypto_random(salt, sizeof(salt)) < 0)
		goto out;
	if (argon2_run(h, &h->params, pre, salt, sizeof(salt), hash, sizeof(hash)) < 0)
		goto out;
	r = phc_encode(&h->params, salt, hash, out);
out:
	secret_wipe(pre, sizeof(pre));
	secret_wipe(hash, sizeof(hash));
	secret_free(nfkc);
	return r;
}

int password_hash(struct password_hasher *h, const struct crypto_keys *keys, const char *pw,
                  size_t len, char out[PASSWORD_HASH_MAX])
{
	int r;

	hash_begin(h);
	r = hash_phc(h, keys, pw, len, out);
	hash_end(h);
	return r;
}

void password_dummy(struct password_hasher *h, const struct crypto_keys *keys, const char *pw,
                    size_t len)
{
	static const uint8_t salt[SALT_LEN];
	uint8_t pre[CRYPTO_HMAC_LEN], hash[HASH_LEN];

	crypto_hmac(keys, "password", pw, len < PASSWORD_INPUT_MAX ? len : PASSWORD_INPUT_MAX, pre);
	hash_begin(h);
	(void)argon2_run(h, &h->params, pre, salt, sizeof(salt), hash, sizeof(hash));
	hash_end(h);
	secret_wipe(pre, sizeof(pre));
	secret_wipe(hash, sizeof(hash));
}

/* Decimal without sign or leading zero, at most max; advances *s. */
static int parse_u32(const char **s, const char *prefix, uint32_t max, uint32_t *v)
{
	const char *p = *s;
	uint64_t n = 0;
	size_t digits = 0;

	if (strncmp(p, prefix, strlen(prefix)) != 0)
		return -1;
	p += strlen(prefix);
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return -1;
	for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (digits == 0 || (*p >= '0' && *p <= '9') || n > max)
		return -1;
	*v = (uint32_t)n;
	*s = p;
	return 0;
}

/* Unpadded base64 up to the next '$' or the end; advances *s. */
static int parse_b64(const char **s, uint8_t *out, size_t min, size_t max, size_t *len_r)
{
	char buf[4 * ((PHC_HASH_MAX + 2) / 3) + 1];
	size_t n = strcspn(*s, "$");

	/* PHC fields are unpadded: a '=' is not theirs. */
	if (n >= sizeof(buf) - 2 || n % 4 == 1 || memchr(*s, '=', n) != NULL)
		return -1;
	memcpy(buf, *s, n);
	while (n % 4 != 0)
		buf[n++] = '=';
	buf[n] = '\0';
	if (crypto_b64_decode(buf, out, max, len_r) < 0 || *len_r < min)
		return -1;
	*s += strcspn(*s, "$");
	return 0;
}

static int phc_parse(const char *s, struct phc *phc)
{
	struct argon2_params *p = &phc->params;

	if (strncmp(s, argon2_prefix, strlen(argon2_prefix)) != 0)
		return -1;
	s += strlen(argon2_prefix);
	if (strncmp(s, "v=19$", 5) != 0)
		return -1;
	s += 5;
	if (parse_u32(&s, "m=", PHC_M_MAX, &p->m_kib) < 0 ||
	    parse_u32(&s, ",t=", PHC_T_MAX, &p->t) < 0 ||
	    parse_u32(&s, ",p=", PHC_P_MAX, &p->p) < 0 || !params_valid(p) || *s++ != '$')
		return -1;
	if (parse_b64(&s, phc->salt, PHC_SALT_MIN, PHC_SALT_MAX, &phc->salt_len) < 0 || *s++ != '$')
		return -1;
	if (parse_b64(&s, phc->hash, PHC_HASH_MIN, PHC_HASH_MAX, &phc->hash_len) < 0 || *s != '\0')
		return -1;
	return 0;
}

static enum password_match verify_argon2(struct password_hasher *h, const struct crypto_keys *keys,
                                         const char *pw, size_t len, const char *stored,
                                         bool *rehash_r)
{
	struct phc phc;
	uint8_t pre[CRYPTO_HMAC_LEN], hash[PHC_HASH_MAX];
	char *nfkc = NULL;
	size_t nfkc_len = 0;
	enum password_match r = PASSWORD_ERROR;

	if (phc_parse(stored, &phc) < 0) {
		password_dummy(h, keys, pw, len);
		goto out;
	}
	*rehash_r = phc.params.m_kib < h->params.m_kib || phc.params.t < h->params.t ||
	            phc.params.p < h->params.p;
	if (password_normalize(pw, len, &nfkc, &nfkc_len) < 0) {
		/* Bad UTF-8 can never have been hashed: it costs the same all the same. */
		password_dummy(h, keys, pw, len);
		r = PASSWORD_MISMATCH;
		goto out;
	}
	crypto_hmac(keys, "password", nfkc, nfkc_len, pre);
	if (argon2_run(h, &phc.params, pre, phc.salt, phc.salt_len, hash, phc.hash_len) < 0)
		goto out;
	r = secret_equal(hash, phc.hash, phc.hash_len) ? PASSWORD_MATCH : PASSWORD_MISMATCH;
out:
	secret_wipe(pre, sizeof(pre));
	secret_wipe(hash, sizeof(hash));
	secret_free(nfkc);
	return r;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

static enum password_match verify_hmac(struct password_hasher *h, const struct crypto_keys *keys,
                                       const char *pw, size_t len, const char *stored)
{
	const char *want = stored + strlen(hmac_prefix);
	char got[2 * CRYPTO_HMAC_LEN + 1];
	enum password_match r = PASSWORD_ERROR;

	/* The fast hash alone would tell a generated secret from a chosen one. */
	password_dummy(h, keys, pw, len);
	if (strnlen(want, sizeof(got)) != 2 * CRYPTO_HMAC_LEN ||
	    !is_lower_hex(want, 2 * CRYPTO_HMAC_LEN))
		return PASSWORD_ERROR;
	crypto_hmac_hex(keys, "secret", pw, len, got);
	r = secret_equal(got, want, 2 * CRYPTO_HMAC_LEN) ? PASSWORD_MATCH : PASSWORD_MISMATCH;
	secret_wipe(got, sizeof(got));
	return r;
}

static bool is_crypt_form(const char *stored)
{
	static const char *const prefixes[] = {"$6$", "$y$", "$2b$"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(stored, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* crypt(3) is slow enough by itself: no dummy Argon2 on this path. */
static enum password_match verify_crypt(const char *pw, size_t len, const char *stored)
{
	struct crypt_data *cd = NULL;
	char *phrase = NULL;
	const char *got;
	enum password_match r = PASSWORD_MISMATCH;

	if (memchr(pw, '\0', len) != NULL || len >= CRYPT_MAX_PASSPHRASE_SIZE)
		goto out;
	r = PASSWORD_ERROR;
	if ((phrase = strndup(pw, len)) == NULL || (cd = calloc(1, sizeof(*cd))) == NULL)
		goto out;
	if ((got = crypt_rn(phrase, stored, cd, (int)sizeof(*cd))) == NULL)
		goto out;
	/* Only a setting, not a hash ("$6$salt"): nothing could ever match it. */
	if (strlen(got) != strlen(stored))
		goto out;
	r = secret_equal_str(got, stored, CRYPT_OUTPUT_SIZE) ? PASSWORD_MATCH : PASSWORD_MISMATCH;
out:
	if (cd != NULL)
		secret_wipe(cd, sizeof(*cd));
	free(cd);
	secret_free(phrase);
	return r;
}

static enum password_match verify_any(struct password_hasher *h, const struct crypto_keys *keys,
                                      const char *pw, size_t len, const char *stored,
                                      bool *rehash_r)
{
	char why[160];

	if (len > PASSWORD_INPUT_MAX) {
		password_dummy(h, keys, pw, len);
		return PASSWORD_MISMATCH;
	}
	if (stored == NULL || strnlen(stored, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX) {
		password_dummy(h, keys, pw, len);
		return PASSWORD_ERROR;
	}
	/* Stored before the ceilings existed or were lowered: never run it. */
	if (h->limits != NULL && hash_cost_check(stored, h->limits, why, sizeof(why)) < 0) {
		log_err("a stored password hash is refused: %s; import it again or raise the limit",
		        why);
		password_dummy(h, keys, pw, len);
		return PASSWORD_ERROR;
	}
	if (strncmp(stored, argon2_prefix, strlen(argon2_prefix)) == 0)
		return verify_argon2(h, keys, pw, len, stored, rehash_r);
	if (strncmp(stored, hmac_prefix, strlen(hmac_prefix)) == 0)
		return verify_hmac(h, keys, pw, len, stored);
	if (is_crypt_form(stored)) {
		*rehash_r = true;
		return verify_crypt(pw, len, stored);
	}
	password_dummy(h, keys, pw, len);
	return PASSWORD_ERROR;
}

enum password_match password_verify(struct password_hasher *h, const struct crypto_keys *keys,
                                    const char *pw, size_t len, const char *stored, bool *rehash_r)
{
	enum password_match r;

	*rehash_r = false;
	hash_begin(h);
	r = verify_any(h, keys, pw, len, stored, rehash_r);
	hash_end(h);
	return r;
}

void password_hmac_hash(const struct crypto_keys *keys, const char *secret, size_t len,
                        char out[PASSWORD_HASH_MAX])
{
	char hex[2 * CRYPTO_HMAC_LEN + 1];

	crypto_hmac_hex(keys, "secret", secret, len, hex);
	snprintf(out, PASSWORD_HASH_MAX, "%s%s", hmac_prefix, hex);
	secret_wipe(hex, sizeof(hex));
}

/*
 * Crockford's base32 alphabet in lower case: no i, l, o or u, so what a
 * person reads off a printout is what they type. 32 divides 256, so each
 * random byte masked to 5 bits is uniform without rejection.
 */
static const char temp_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

int password_generate_temp(char out[PASSWORD_TEMP_LEN + 1])
{
	uint8_t rnd[PASSWORD_TEMP_LEN];

	_Static_assert(sizeof(temp_alphabet) - 1 == 32, "the alphabet must have 32 letters");
	if (crypto_random(rnd, sizeof(rnd)) < 0)
		return -1;
	for (size_t i = 0; i < PASSWORD_TEMP_LEN; i++)
		out[i] = temp_alphabet[rnd[i] & 31];
	out[PASSWORD_TEMP_LEN] = '\0';
	secret_wipe(rnd, sizeof(rnd));
	return 0;
}
