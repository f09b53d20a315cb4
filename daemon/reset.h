/*
 * Forgotten password and forgotten identifiant (SPEC "Front ends", HTTP API):
 *
 *   RESET_ASK     login= address=            → always OK; a 6-digit code is mailed
 *                                              to the rescue address when the account
 *                                              can be reset
 *   RESET_CONFIRM login= code= otp=|recovery= new= address=
 *                                            → OK identifiant=, or FAIL invalid (the
 *                                              same for every wrong, expired, used or
 *                                              unknown thing), locked, a policy reason
 *   IDENT_ASK     numen= birth= last= address= → always OK; the identifiant is mailed
 *                                              when the three match
 *
 * A reset never skips the second factor: the code proves the mailbox, the
 * TOTP code (or a recovery code) proves the phone.
 */
#ifndef VERDON_RESET_H
#define VERDON_RESET_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h" /* struct verb: an array needs its element type */

struct account;
struct crypto_keys;

#define RESET_CODE_LEN 6
#define RESET_CODE_TTL (15 * 60) /* seconds */
#define RESET_TRIES 5

/* The three verbs, NULL-terminated; auth.c lists their handlers in the auth socket's table. */
extern const struct verb reset_verbs[];
void reset_ask_handle(struct worker *w, struct request *req);
void reset_confirm_handle(struct worker *w, struct request *req);
void ident_ask_handle(struct worker *w, struct request *req);
/* May one more recovery mail go to address for this account (mail_limit.h)? Counted if so; why_r
 * names the limit if not. */
bool recovery_mail_allowed(struct worker *w, const struct request *req, const char *identifiant,
                           const char *address, const char **why_r);

/* The pure parts, for the tests. */

/* A code from 32 random bits; false when r falls in the tail that would bias it (draw again). */
bool reset_code_from_random(uint32_t r, char out[RESET_CODE_LEN + 1]);
/* A uniformly random code; -1 when the RNG fails. */
int reset_code_new(char out[RESET_CODE_LEN + 1]);
/* The code as typed: spaces dropped, then exactly six digits; -1 otherwise. */
int reset_code_normalize(const char *typed, char out[RESET_CODE_LEN + 1]);

/* Makes hmac (crypto_hmac_hex of "reset" over the code) the only outstanding code. */
void reset_code_set(struct account *a, const char *hmac, int64_t now);
void reset_code_clear(struct account *a);

enum reset_check {
	RESET_CODE_OK,
	RESET_CODE_NONE, /* none outstanding: never asked, used, or out of tries */
	RESET_CODE_EXPIRED,
	RESET_CODE_WRONG, /* malformed or not the one */
};

/* A mailed code as a record keeps it: HMAC hex (domain over the code), expiry, tries left. */
struct mailed_code {
	const char *hmac; /* a buffer of 2 * CRYPTO_HMAC_LEN + 1 bytes, read whole; "": none */
	int64_t expires;
	unsigned tries;
};

/* Constant time in the code; the same HMAC is computed whatever the outcome. */
enum reset_check mailed_code_check(const struct crypto_keys *keys, const char *domain,
                                   const struct mailed_code *mc, const char *typed, int64_t now);
/* The same for the forgotten-password code of an account. */
enum reset_check reset_code_check(const struct crypto_keys *keys, const struct account *a,
                                  const char *typed, int64_t now);
/* A try spent: one fewer left, and the code gone when none are left or it expired. */
void reset_code_miss(struct account *a, int64_t now);

/* The French messages' bodies (malloc'd, NULL when out of memory); they say what to do if it was
 * not you. */
char *reset_body_code(const char *identifiant, const char *code, const char *signature);
char *reset_body_helpdesk(const char *identifiant, const char *signature);
char *reset_body_done(const char *identifiant, const char *signature);
char *reset_body_ident(const char *identifiant, const char *email, const char *signature);

#endif
