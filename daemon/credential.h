/*
 * Secrets the daemon generates for people: app passwords and session
 * tokens. Their shape tells them apart from a password before any hashing;
 * their entropy (100 and 160 bits) lets a keyed fast hash store them.
 */
#ifndef VERDON_CREDENTIAL_H
#define VERDON_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>

struct crypto_keys;

#define APP_PASSWORD_LEN 24  /* "xxxx-xxxx-xxxx-xxxx-xxxx": 20 letters, 100 bits */
#define TOKEN_LEN 35         /* "vt-" and 32 letters: 160 bits */
#define DEVICE_SECRET_LEN 35 /* "vd-" and 32 letters: 160 bits */
#define CRED_TAG_LEN 64      /* hex HMAC */

int cred_new_app_password(char out[APP_PASSWORD_LEN + 1]);
bool cred_is_app_password(const char *s);
int cred_new_token(char out[TOKEN_LEN + 1]);
bool cred_is_token(const char *s);
int cred_new_device(char out[DEVICE_SECRET_LEN + 1]);
bool cred_is_device(const char *s);
/* HMAC(pepper, domain, secret) as hex: what is stored and compared. */
void cred_tag(const struct crypto_keys *keys, const char *domain, const char *secret,
              char out[CRED_TAG_LEN + 1]);
/* Whether a comma-separated list names service (or service without its "verdon-" prefix). */
bool cred_service_listed(const char *list, const char *service);

#endif
