/*
 * Session tokens: what a webmail uses as the IMAP password after a full
 * password + code login. Stored under HMAC(pepper, "session", token), never
 * the token itself. A token is alive while: unused for less than the idle
 * time, younger than its lifetime, and issued under the account's current
 * session generation (bumped by a password change, an OTP reset, a
 * suspension or a deletion).
 */
#ifndef VERDON_SESSION_H
#define VERDON_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "credential.h"
#include "ident.h"

struct store_txn;
struct account;

#define SESSION_ID_LEN 8 /* the first hex digits of the key: what admins see */

struct session {
	char key[CRED_TAG_LEN + 1];
	char identifiant[IDENT_MAX + 1];
	char service[65];
	int64_t created;
	int64_t last_used;
	int64_t expires; /* created + lifetime */
	unsigned gen;
};

int session_get(struct store_txn *txn, const char *key, struct session *s_r);
/* A record as the store holds it (key: its NUL-terminated key); -1 when it does not decode. */
int session_decode(const char *key, const void *val, size_t vlen, struct session *s);
/* The record the store keeps (malloc'd); -1 when a field does not fit. */
int session_encode(const struct session *s, uint8_t **rec_r, size_t *len_r);
int session_put(struct store_txn *txn, const struct session *s);
int session_del(struct store_txn *txn, const char *key);
/* Every session of an account (it is being purged). */
int session_remove_all(struct store_txn *txn, const char *identifiant);
/*
 * Seconds between two writes of a token's last use ([session] touch_interval),
 * at most half the idle time so that a token in use never looks idle.
 */
unsigned session_touch_window(unsigned touch, unsigned idle);
/* Alive for this account now? */
bool session_alive(const struct session *s, const struct account *a, int64_t now, unsigned idle);

typedef int session_cb(void *ctx, const struct session *s);
/* Every session (of one identifiant when not NULL); cb returns nonzero to stop. */
int session_each(struct store_txn *txn, const char *identifiant, session_cb *cb, void *ctx);

#endif
