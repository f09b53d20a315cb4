/*
 * The account record and its indexes. Records are kept in the compact binary
 * form of record.h, whose tagged fields let a daemon add fields without a
 * migration day; stores written before it hold JSON (schema "v" 1), read too.
 * Secrets in a record are hashed (passwords, NUMEN, recovery codes) or
 * sealed with the identifiant as associated data (OTP secrets).
 */
#ifndef VERDON_ACCOUNT_H
#define VERDON_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ident.h"
#include "otp.h"
#include "password.h"

struct store_txn;

#define ACCOUNT_SCHEMA 1
#define ACCOUNT_SEALED_MAX 256
#define ACCOUNT_REASON_MAX 256
#define ACCOUNT_ALIASES_MAX 8

enum account_state {
	ACCOUNT_ACTIVE = 0,
	ACCOUNT_SUSPENDED,
	ACCOUNT_DELETED,
};

struct account_otp {
	char sealed[ACCOUNT_SEALED_MAX]; /* crypto_seal of the secret, aad = identifiant */
	enum otp_algo algo;
	unsigned digits;
	unsigned period;
	int64_t last_step; /* -1: never used */
	int drift;
};

#define ACCOUNT_APPS_MAX 16
#define APP_ID_LEN 8
#define APP_LABEL_MAX 64
#define APP_SERVICES_MAX 128

/* An app password: a random per-device secret, kept as HMAC(pepper, "app", secret) hex. */
struct account_app {
	char id[APP_ID_LEN + 1];
	char label[APP_LABEL_MAX + 1];
	char services[APP_SERVICES_MAX + 1]; /* comma-separated service names */
	char hash[65];
	int64_t created;
	int64_t last_used; /* coarse: updated at most once a minute */
};

#define ACCOUNT_DEVICES_MAX 16
#define DEVICE_ID_LEN 8
#define DEVICE_LABEL_MAX 64
/*
 * A device secret (device.h): a browser's random secret, kept as
 * HMAC(pepper, "device", secret) hex, alive while unexpired and issued under
 * the account's current session_gen.
 */
struct account_device {
	char id[DEVICE_ID_LEN + 1]; /* the hash's first hex digits: what people and admins see */
	char label[DEVICE_LABEL_MAX + 1];
	char hash[65];
	int64_t created;
	int64_t last_used; /* coarse: updated at most once a minute */
	int64_t expires;
	bool trusted; /* may stand in for the code */
	unsigned gen;
};

struct account {
	uint64_t revision; /* bumped by every account_put */
	char identifiant[IDENT_MAX + 1];
	char email[EMAIL_MAX + 1];
	char first[NAME_MAX_BYTES + 1];
	char last[NAME_MAX_BYTES + 1];
	char birth[11];
	char numen_hmac[65]; /* crypto_hmac_hex(keys, "numen", canonical NUMEN) */
	char rescue_email[EMAIL_MAX + 1];
	char mobile[24];
	char etablissement[UAI_MAX + 1]; /* the établissement's UAI, "" when unknown */
	/* Former logins (identifiants, emails) that still name this account after a rename. */
	unsigned naliases;
	char aliases[ACCOUNT_ALIASES_MAX][EMAIL_MAX + 1];

	enum account_state state;
	char state_reason[ACCOUNT_REASON_MAX];
	int64_t state_changed;

	int64_t created;
	int64_t last_login;      /* 0: never */
	int64_t password_changed; /* 0: never by the person */

	char password_hash[PASSWORD_HASH_MAX];
	bool password_temporary;
	int64_t temporary_expires;

	bool otp_active;
	struct account_otp otp;
	bool otp_pending;
	struct account_otp otp_next; /* enrolled, not yet confirmed */
	unsigned recovery_count;
	char recovery[OTP_RECOVERY_COUNT][65]; /* HMAC hex of each unused code */

	/*
	 * Consecutive wrong or replayed codes after a right password; from
	 * [throttle] lock_after on the account is locked until an admin unlocks
	 * it. Wrong passwords are counted elsewhere, in memory (throttle.h).
	 */
	unsigned code_failures;
	int64_t locked_since; /* 0: not locked */
	/* The same wrong password and code sent again by a client that caches them counts once. */
	char last_bad[33];

	unsigned napps;
	struct account_app apps[ACCOUNT_APPS_MAX];
	unsigned ndevices;
	struct account_device devices[ACCOUNT_DEVICES_MAX];
	/* Bumped by a password change, an OTP reset, a suspension, a deletion: older tokens die. */
	unsigned session_gen;

	/* The forgotten-password code (reset.c): one outstanding, kept as HMAC(pepper, "reset", code). */
	char reset_hmac[65]; /* "": none */
	int64_t reset_expires;
	unsigned reset_tries; /* left */

	/* A rescue address asked for (rescue.c), until the code mailed to it confirms it. */
	char rescue_next[EMAIL_MAX + 1]; /* "": none pending */
	char rescue_hmac[65];            /* HMAC(pepper, "rescue", code) */
	int64_t rescue_expires;
	unsigned rescue_tries; /* left */
};

const char *account_state_name(enum account_state state);

/* JSON encoding; *json_r is malloc'd and must be wiped (it holds hashes). */
/* The record the store keeps: malloc'd, wipe it before free; -1 when a field does not fit. */
int account_encode(const struct account *a, uint8_t **rec_r, size_t *len_r);
/* A binary or JSON record: 0, or -1 with *a wiped. */
int account_decode(const void *rec, size_t len, struct account *a);
void account_wipe(struct account *a);

/*
 * Looks up by identifiant, or through the email index when is_email.
 * STORE_OK, STORE_NOTFOUND or an error.
 */
int account_get(struct store_txn *txn, const char *login, bool is_email, struct account *a_r);
/*
 * Reads and decodes a record and drops it: for the paths that find no
 * account, so that they cost what a lookup that finds one does.
 */
int account_decoy(struct store_txn *txn);
/* The identifiant indexed under a NUMEN HMAC, if any. */
int account_by_numen(struct store_txn *txn, const char *numen_hmac, char ident_r[IDENT_MAX + 1]);
/*
 * Writes a, bumping its revision, and keeps the email and NUMEN indexes
 * true (old entries of the same account removed). STORE_ERROR when an
 * index already points to another account.
 */
int account_put(struct store_txn *txn, struct account *a);
/* Removes the record and its index entries (purge). */
int account_remove(struct store_txn *txn, const struct account *a);
/*
 * Whether the account has been activated: its temporary password replaced,
 * and an authenticator enrolled when otp_required says one is demanded.
 */
bool account_activated(const struct account *a, bool otp_required);

/*
 * Login aliases (a renamed account's former identifiant and email): they
 * live in the email index (key: the alias, lowercased), which account_get
 * reads for an identifiant it does not find. account_alias_add points alias
 * to a's identifiant; account_alias_del removes the entry when it names a.
 */
int account_alias_add(struct store_txn *txn, const char *alias, const char *identifiant);
/* Whether login (lowercased, as the index keeps it) is one of a's former logins. */
bool account_has_alias(const struct account *a, const char *login);
int account_alias_del(struct store_txn *txn, const char *alias, const char *identifiant);
/* Whether an identifiant / email is taken (by any account, any state, or as an alias). */
int account_ident_taken(struct store_txn *txn, const char *identifiant, bool *taken_r);
int account_email_taken(struct store_txn *txn, const char *email, bool *taken_r);

#endif
