#include <string.h>

#include "credential.h"
#include "crypto.h"
#include "secret.h"

/* Crockford's base32 in lower case: no i, l, o, u to misread. */
static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

static int random_letters(char *out, size_t n)
{
	unsigned char rnd[64];

	if (n > sizeof(rnd) || crypto_random(rnd, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rnd[i] & 31];
	secret_wipe(rnd, sizeof(rnd));
	return 0;
}

static bool letters(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(alphabet, s[i]) == NULL)
			return false;
	return true;
}

int cred_new_app_password(char out[APP_PASSWORD_LEN + 1])
{
	char raw[20];

	if (random_letters(raw, sizeof(raw)) < 0)
		return -1;
	for (int g = 0, o = 0; g < 5; g++) {
		memcpy(out + o, raw + 4 * g, 4);
		o += 4;
		out[o++] = g < 4 ? '-' : '\0';
	}
	secret_wipe(raw, sizeof(raw));
	return 0;
}

bool cred_is_app_password(const char *s)
{
	if (strlen(s) != APP_PASSWORD_LEN)
		return false;
	for (int g = 0; g < 5; g++)
		if (!letters(s + 5 * g, 4) || (g < 4 && s[5 * g + 4] != '-'))
			return false;
	return true;
}

/* A prefix of three characters and n - 3 random letters. */
static int prefixed(char *out, const char *prefix, size_t n)
{
	memcpy(out, prefix, 3);
	if (random_letters(out + 3, n - 3) < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static bool is_prefixed(const char *s, const char *prefix, size_t n)
{
	return strlen(s) == n && strncmp(s, prefix, 3) == 0 && letters(s + 3, n - 3);
}

int cred_new_token(char out[TOKEN_LEN + 1])
{
	return prefixed(out, "vt-", TOKEN_LEN);
}

bool cred_is_token(const char *s)
{
	return is_prefixed(s, "vt-", TOKEN_LEN);
}

int cred_new_device(char out[DEVICE_SECRET_LEN + 1])
{
	return prefixed(out, "vd-", DEVICE_SECRET_LEN);
}

bool cred_is_device(const char *s)
{
	return is_prefixed(s, "vd-", DEVICE_SECRET_LEN);
}

void cred_tag(const struct crypto_keys *keys, const char *domain, const char *secret,
              char out[CRED_TAG_LEN + 1])
{
	crypto_hmac_hex(keys, domain, secret, strlen(secret), out);
}

static bool entry_is(const char *entry, size_t n, const char *name)
{
	return n == strlen(name) && strncmp(entry, name, n) == 0;
}

bool cred_service_listed(const char *list, const char *service)
{
	const char *bare = strncmp(service, "verdon-", 7) == 0 ? service + 7 : service;

	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		/* the name as sent (admins may list "verdon-imap") or without the prefix */
		if (entry_is(p, n, service) || entry_is(p, n, bare))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}
