/*
 * verdon.conf: INI via inih. Every key is known (an unknown one is an
 * error), every number bounded; errors read "file:line: message".
 */
#ifndef VERDON_CONFIG_H
#define VERDON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "otp.h"
#include "hash_cost.h"
#include "mail_limit.h"
#include "password.h"

struct throttle_conf {
	unsigned delay_after;  /* wrong passwords for one login before the first delay */
	unsigned base_delay;   /* seconds; doubles with each further failure; 0: never delayed */
	unsigned max_delay;
	unsigned lock_after;   /* wrong or replayed codes after a right password: admin unlock */
	unsigned forget_after; /* seconds without a failure after which a login's count goes */
};

enum temp_password_kind {
	TEMP_PASSWORD_RANDOM = 0,
	TEMP_PASSWORD_NUMEN,
};

/* What a service accepts in AUTH's password field (SPEC "per-service policy"). */
enum credential {
	CRED_PASSWORD_OTP = 1 << 0,  /* password, code in otp= */
	CRED_APPENDED_OTP = 1 << 1,  /* password with the code appended */
	CRED_APP_PASSWORD = 1 << 2,  /* a per-device app password */
	CRED_SESSION_TOKEN = 1 << 3, /* a token from a webmail login */
	CRED_PASSWORD = 1 << 4,      /* the password alone: one factor */
};

#define SERVICE_NAME_MAX 64
#define SERVICES_MAX 32
#define RADIUS_SESSION_TIMEOUT_MAX 31536000 /* a year */

/*
 * What a RADIUS Access-Accept carries: radius_* keys of a [service NAME], each
 * overridden by the same key of a [radius.client NAME] that sets it.
 */
struct radius_reply {
	char message[254];        /* Reply-Message; "": none */
	char class_value[254];    /* Class; "": none */
	unsigned session_timeout; /* Session-Timeout; 0: none */
	bool message_set, class_set, timeout_set;
};

struct service_policy {
	char name[SERVICE_NAME_MAX + 1];
	unsigned credentials; /* enum credential bits */
	bool issue_tokens;
	struct radius_reply radius; /* radius_reply_message, radius_class, radius_session_timeout */
};

#define RADIUS_CLIENTS_MAX 64
#define RADIUS_SECRET_MAX 128
#define RADIUS_NAME_MAX 40

enum radius_otp {
	RADIUS_OTP_CHALLENGE = 0, /* Access-Challenge asks for the code (a State) */
	RADIUS_OTP_APPEND,        /* the code appended to the password */
};

/* [radius.client NAME]: one NAS, or a RadSec peer by its certificate (docs/radius.md). */
struct radius_client {
	char name[RADIUS_NAME_MAX + 1];
	char *address; /* CIDR as written; NULL: RadSec only */
	int family;    /* AF_INET or AF_INET6 */
	unsigned char net[16];
	unsigned prefix;
	char *secret_file;
	unsigned char secret[RADIUS_SECRET_MAX]; /* read at load; wiped by config_free */
	size_t secret_len;
	char *tls_name; /* a certificate's DNS name or CN; NULL: UDP only */
	char service[SERVICE_NAME_MAX + 1];
	enum radius_otp otp;
	bool require_ma;
	char challenge_message[254]; /* Reply-Message of an Access-Challenge */
	struct radius_reply reply;   /* what it sets overrides its service's */
};

struct config {
	char *path;
	/* [verdon] */
	char *state_dir;
	char *auth_socket;
	char *admin_socket;
	char *mail_domain;
	char *issuer;
	char *organisation;
	char *auth_group;  /* group of the auth socket (e.g. the webmail's); NULL: unchanged */
	gid_t auth_gid;
	char *admin_group; /* NULL: root only */
	gid_t admin_gid;
	unsigned auth_socket_mode;
	unsigned admin_socket_mode;
	unsigned map_size_mb;
	/* [store] */
	char *store_backend;       /* "lmdb" (NULL) or "postgresql" */
	char *store_conninfo;      /* libpq connection string, never with a password */
	char *store_password_file; /* a 0600 libpq password file */
	unsigned workers;      /* 0: one per core */
	unsigned fast_workers; /* the fast lane's (no Argon2 memory); 0: as many as workers */
	unsigned queue_max;
	unsigned max_connections;
	unsigned idle_timeout; /* seconds */
	unsigned line_timeout; /* seconds a partial line may take to complete */
	unsigned max_connections_per_uid; /* per peer uid, on both sockets */
	unsigned max_pending;  /* requests a connection may have in flight */
	unsigned admin_max_pending; /* the same on the admin socket (an import's rows) */
	bool debug;
	unsigned delete_grace_days;
	enum temp_password_kind temporary_password;
	unsigned temporary_password_days;
	unsigned temporary_password_seconds; /* when set, replaces temporary_password_days */
	/* [password] */
	struct argon2_params argon2;
	struct password_policy policy;
	char *dictionary_path;
	struct hash_limits hash_limits; /* ceilings on stored hashes' cost */
	/* [otp] */
	bool otp_required;
	unsigned otp_window;
	unsigned otp_digits;
	enum otp_algo otp_algorithm;
	unsigned otp_period;
	/* [throttle] */
	struct throttle_conf throttle;
	/* [session] */
	unsigned session_idle;     /* seconds a token may stay unused */
	unsigned session_lifetime; /* seconds a token lives in all */
	unsigned trusted_browser_days; /* 0: no trusted browsers */
	unsigned device_days;          /* life of a device secret that is not trusted */
	unsigned session_touch;    /* last use of tokens and app passwords is written this coarse */
	/* [penalty]: per client address, as Dovecot's auth penalty */
	unsigned penalty_base_ms;
	unsigned penalty_max_ms;
	/* [http]: the self-service page and its API; off when listen is absent */
	char *http_listen; /* "127.0.0.1:8080" or "[::1]:8080" */
	char *http_trusted_proxies; /* comma-separated addresses whose X-Forwarded-For is believed */
	unsigned http_max_connections;
	unsigned http_per_ip_connections;
	unsigned http_timeout; /* seconds a connection may stay idle or slow */
	unsigned http_body_max;
	unsigned http_threads;
	bool http_secure_cookie; /* Secure even without X-Forwarded-Proto: https */
	char *http_webmail_url;  /* the page's link to the webmail; NULL: none */
	unsigned rescue_code_lifetime; /* seconds a rescue-address code may be used */
	/* [metrics]: Prometheus text on GET /metrics; off when listen is absent */
	char *metrics_listen;
	/* [mail] */
	char *mail_relay;    /* smtp://host:port: submission through libcurl, before sendmail */
	char *mail_sendmail; /* a command line, run without a shell */
	char *mail_from;
	unsigned mail_timeout; /* seconds sendmail or the relay may take; then killed or dropped */
	/* [recovery]: recovery mails per account and per rescue address */
	struct mail_limit_conf recovery;
	bool recovery_resend; /* a new ask replaces a code still outstanding, and mails it */
	/* [radius], [radsec] and [radius.client NAME]: off when no listen is set */
	char *radius_listen;   /* "127.0.0.1:1812, [::1]:1812" */
	unsigned radius_state_lifetime; /* seconds an Access-Challenge's State stays usable */
	unsigned radius_cache_seconds;  /* a retransmission gets the cached reply this long */
	unsigned radius_log_per_second; /* drop log lines; beyond: counted, summed up later */
	char *radsec_listen;
	char *radsec_certificate;
	char *radsec_key;
	char *radsec_ca_file;
	struct radius_client radius_clients[RADIUS_CLIENTS_MAX];
	unsigned nradius_clients;
	/* [service NAME] */
	struct service_policy services[SERVICES_MAX];
	unsigned nservices;
};

/*
 * The policy for a service name as a front end sends it: the configured
 * section, else the same name without a "verdon-" prefix (PAM services are
 * named verdon-imap, verdon-smtp), else the built-in imap, smtp and webmail,
 * else [service default], else password + code only.
 */
/* Seconds a temporary password is valid: temporary_password_seconds if set, else the days. */
int64_t config_temporary_lifetime(const struct config *config);
const struct service_policy *config_service(const struct config *config, const char *name);
/* "password_otp, app_password" for logs and docs. */
int config_credentials_parse(const char *list, unsigned *bits_r);

/* [radius.client NAME] keys and their checks once the file is read, in config_radius.c. */
int config_radius_key(struct config *c, const char *cname, const char *name, const char *value,
                      char *msg, size_t msglen);
const char *config_radius_check(struct config *c);
void config_radius_free(struct config *c);
/*
 * reply_message, class or session_timeout (without the radius_ prefix of a
 * [service NAME]): 0 set, -1 a bad value (msg says why, without the key), 1 not
 * such a key.
 */
int config_radius_reply_key(struct radius_reply *r, const char *name, const char *value, char *msg,
                            size_t msglen);
/* An Access-Accept's attributes for a client: its own where set, else its service's. */
void config_radius_reply(const struct config *c, const struct radius_client *rc,
                         struct radius_reply *out_r);
int config_parse_bool(const char *value, bool *out);

/* -1 with err "file:line: message" (or "file: message"). */
int config_load(const char *path, struct config **config_r, char *err, size_t errlen);
void config_free(struct config *config);
/* The i-th key the parser knows and its section; NULL past the last (the example-file test). */
const char *config_key_at(size_t i, const char **section_r);
/* The i-th key of a [service NAME] section; NULL past the last. */
const char *config_service_key_at(size_t i);

#endif
