#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"

enum key_type { KEY_STRING, KEY_UINT, KEY_OCTAL, KEY_BOOL, KEY_TEMP_KIND, KEY_ALGO };

struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	unsigned long min, max;
};

#define OFF(field) offsetof(struct config, field)

static const struct config_key config_keys[] = {
    {"verdon", "state_dir", KEY_STRING, OFF(state_dir), 0, 0},
    {"verdon", "auth_socket", KEY_STRING, OFF(auth_socket), 0, 0},
    {"verdon", "admin_socket", KEY_STRING, OFF(admin_socket), 0, 0},
    {"verdon", "mail_domain", KEY_STRING, OFF(mail_domain), 0, 0},
    {"verdon", "issuer", KEY_STRING, OFF(issuer), 0, 0},
    {"verdon", "organisation", KEY_STRING, OFF(organisation), 0, 0},
    {"verdon", "admin_group", KEY_STRING, OFF(admin_group), 0, 0},
    {"verdon", "auth_group", KEY_STRING, OFF(auth_group), 0, 0},
    {"verdon", "auth_socket_mode", KEY_OCTAL, OFF(auth_socket_mode), 0, 0777},
    {"verdon", "admin_socket_mode", KEY_OCTAL, OFF(admin_socket_mode), 0, 0777},
    {"verdon", "map_size_mb", KEY_UINT, OFF(map_size_mb), 1, 1024 * 1024},
    {"verdon", "workers", KEY_UINT, OFF(workers), 0, 256},
    {"verdon", "fast_workers", KEY_UINT, OFF(fast_workers), 0, 256},
    {"verdon", "queue_max", KEY_UINT, OFF(queue_max), 1, 100000},
    {"verdon", "max_connections", KEY_UINT, OFF(max_connections), 1, 100000},
    {"verdon", "idle_timeout", KEY_UINT, OFF(idle_timeout), 1, 86400},
    {"verdon", "line_timeout", KEY_UINT, OFF(line_timeout), 1, 3600},
    {"verdon", "max_connections_per_uid", KEY_UINT, OFF(max_connections_per_uid), 1, 100000},
    {"verdon", "max_pending", KEY_UINT, OFF(max_pending), 1, 1024},
    {"verdon", "admin_max_pending", KEY_UINT, OFF(admin_max_pending), 1, 1024},
    {"verdon", "debug", KEY_BOOL, OFF(debug), 0, 0},
    {"verdon", "delete_grace_days", KEY_UINT, OFF(delete_grace_days), 0, 3650},
    {"verdon", "temporary_password", KEY_TEMP_KIND, OFF(temporary_password), 0, 0},
    {"verdon", "temporary_password_days", KEY_UINT, OFF(temporary_password_days), 1, 90},
    /* Short only for tests: crossing a lifetime of days cannot be waited for. */
    {"verdon", "temporary_password_seconds", KEY_UINT, OFF(temporary_password_seconds), 10, 7776000},
    /* SPEC: never below m=19 MiB, t=2. */
    {"store", "backend", KEY_STRING, OFF(store_backend), 0, 0},
    {"store", "conninfo", KEY_STRING, OFF(store_conninfo), 0, 0},
    {"store", "password_file", KEY_STRING, OFF(store_password_file), 0, 0},
    {"password", "argon2_memory_kib", KEY_UINT, OFF(argon2.m_kib), 19456, 4u << 20},
    {"password", "argon2_time", KEY_UINT, OFF(argon2.t), 2, 100},
    {"password", "argon2_parallelism", KEY_UINT, OFF(argon2.p), 1, 16},
    {"password", "min_length", KEY_UINT, OFF(policy.min_chars), 8, 1024},
    {"password", "max_bytes", KEY_UINT, OFF(policy.max_bytes), 64, 4096},
    {"password", "character_classes", KEY_BOOL, OFF(policy.classes), 0, 0},
    {"password", "dictionary", KEY_BOOL, OFF(policy.dictionary), 0, 0},
    {"password", "dictionary_path", KEY_STRING, OFF(dictionary_path), 0, 0},
    /* What a stored (imported) hash may cost: libxcrypt's own ceilings at most. */
    {"password", "hash_max_sha512_rounds", KEY_UINT, OFF(hash_limits.sha512_rounds), 1000,
     999999999},
    {"password", "hash_max_yescrypt_cost", KEY_UINT, OFF(hash_limits.yescrypt_cost), 1, 11},
    {"password", "hash_max_bcrypt_cost", KEY_UINT, OFF(hash_limits.bcrypt_cost), 4, 31},
    {"password", "hash_max_argon2_memory_kib", KEY_UINT, OFF(hash_limits.argon2.m_kib), 19456,
     4u << 20},
    {"password", "hash_max_argon2_time", KEY_UINT, OFF(hash_limits.argon2.t), 2, 100},
    {"password", "hash_max_argon2_parallelism", KEY_UINT, OFF(hash_limits.argon2.p), 1, 16},
    {"otp", "required", KEY_BOOL, OFF(otp_required), 0, 0},
    {"otp", "window", KEY_UINT, OFF(otp_window), 0, 10},
    {"otp", "digits", KEY_UINT, OFF(otp_digits), 6, 8},
    {"otp", "algorithm", KEY_ALGO, OFF(otp_algorithm), 0, 0},
    {"otp", "period", KEY_UINT, OFF(otp_period), 15, 120},
    {"throttle", "delay_after", KEY_UINT, OFF(throttle.delay_after), 1, 1000},
    {"throttle", "base_delay", KEY_UINT, OFF(throttle.base_delay), 0, 86400},
    {"throttle", "max_delay", KEY_UINT, OFF(throttle.max_delay), 0, 86400},
    {"throttle", "lock_after", KEY_UINT, OFF(throttle.lock_after), 1, 1000},
    {"throttle", "forget_after", KEY_UINT, OFF(throttle.forget_after), 60, 30 * 86400},
    /* Floors low enough for a test to cross them for real; shorter is only stricter. */
    {"session", "idle_timeout", KEY_UINT, OFF(session_idle), 4, 86400},
    {"session", "trusted_browser_days", KEY_UINT, OFF(trusted_browser_days), 0, 90},
    {"session", "device_days", KEY_UINT, OFF(device_days), 1, 365},
    {"session", "lifetime", KEY_UINT, OFF(session_lifetime), 4, 30 * 86400},
    {"session", "touch_interval", KEY_UINT, OFF(session_touch), 1, 3600},
    {"penalty", "base_ms", KEY_UINT, OFF(penalty_base_ms), 0, 60000},
    {"penalty", "max_ms", KEY_UINT, OFF(penalty_max_ms), 0, 300000},
    {"http", "listen", KEY_STRING, OFF(http_listen), 0, 0},
    {"http", "trusted_proxies", KEY_STRING, OFF(http_trusted_proxies), 0, 0},
    {"http", "max_connections", KEY_UINT, OFF(http_max_connections), 1, 100000},
    {"http", "per_ip_connections", KEY_UINT, OFF(http_per_ip_connections), 1, 10000},
    {"http", "timeout", KEY_UINT, OFF(http_timeout), 1, 3600},
    {"http", "body_max", KEY_UINT, OFF(http_body_max), 1024, 1 << 20},
    {"http", "threads", KEY_UINT, OFF(http_threads), 1, 64},
    {"http", "secure_cookie", KEY_BOOL, OFF(http_secure_cookie), 0, 0},
    {"http", "webmail_url", KEY_STRING, OFF(http_webmail_url), 0, 0},
    /* Never below 30 s: a code must survive a slow mailbox. */
    {"http", "rescue_code_lifetime", KEY_UINT, OFF(rescue_code_lifetime), 30, 86400},
    {"radius", "listen", KEY_STRING, OFF(radius_listen), 0, 0},
    /* a State lives at least 10 s: a person types a code in that time */
    {"radius", "state_lifetime", KEY_UINT, OFF(radius_state_lifetime), 10, 600},
    {"radius", "cache_seconds", KEY_UINT, OFF(radius_cache_seconds), 1, 60},
    {"radius", "log_per_second", KEY_UINT, OFF(radius_log_per_second), 1, 1000},
    {"radsec", "listen", KEY_STRING, OFF(radsec_listen), 0, 0},
    {"radsec", "certificate", KEY_STRING, OFF(radsec_certificate), 0, 0},
    {"radsec", "key", KEY_STRING, OFF(radsec_key), 0, 0},
    {"radsec", "ca_file", KEY_STRING, OFF(radsec_ca_file), 0, 0},
    {"metrics", "listen", KEY_STRING, OFF(metrics_listen), 0, 0},
    {"mail", "relay", KEY_STRING, OFF(mail_relay), 0, 0},
    {"mail", "sendmail", KEY_STRING, OFF(mail_sendmail), 0, 0},
    {"mail", "from", KEY_STRING, OFF(mail_from), 0, 0},
    /* Never below 2 s: a working sendmail or relay must not be killed mid-submission. */
    {"mail", "timeout", KEY_UINT, OFF(mail_timeout), 2, 600},
    {"recovery", "mails_per_hour", KEY_UINT, OFF(recovery.per_hour), 1, MAIL_LIMIT_PER_DAY_MAX},
    {"recovery", "mails_per_day", KEY_UINT, OFF(recovery.per_day), 1, MAIL_LIMIT_PER_DAY_MAX},
    /* The floor keeps the limit a limit; tests set it short and wait it out. */
    {"recovery", "hour_window", KEY_UINT, OFF(recovery.hour_window), 10, 3600},
    {"recovery", "resend_while_outstanding", KEY_BOOL, OFF(recovery_resend), 0, 0},
};

static const struct {
	const char *name;
	unsigned bit;
} credential_names[] = {
    {"password_otp", CRED_PASSWORD_OTP}, {"appended_otp", CRED_APPENDED_OTP},
    {"app_password", CRED_APP_PASSWORD}, {"session_token", CRED_SESSION_TOKEN},
    {"password", CRED_PASSWORD},
};

/* SPEC's defaults: mail clients keep one password, so codes travel appended or not at all. */
static const struct service_policy builtin_services[] = {
    {.name = "imap", .credentials = CRED_APP_PASSWORD | CRED_SESSION_TOKEN | CRED_APPENDED_OTP},
    {.name = "smtp", .credentials = CRED_APP_PASSWORD | CRED_SESSION_TOKEN | CRED_APPENDED_OTP},
    {.name = "webmail", .credentials = CRED_PASSWORD_OTP, .issue_tokens = true},
};
static const struct service_policy safe_default = {.name = "default",
                                                   .credentials = CRED_PASSWORD_OTP};

#define INIH_SECTION_MAX 50 /* inih's MAX_SECTION, in ini.c only */

struct parse_state {
	struct config *config;
	char msg[256];
	FILE *file;
	int line;     /* the line inih is parsing */
	int msg_line; /* the line msg is about */
	int read_errno;
};

static void config_defaults(struct config *c)
{
	/* Root (Dovecot's auth worker) by default; a webmail's user joins auth_group. */
	c->auth_socket_mode = 0660;
	c->admin_socket_mode = 0660;
	c->map_size_mb = 1024;
	c->queue_max = 256;
	c->max_connections = 1024;
	c->idle_timeout = 60;
	c->line_timeout = 10;
	c->max_connections_per_uid = 512;
	c->max_pending = 16;
	c->admin_max_pending = 128;
	c->delete_grace_days = 30;
	c->temporary_password = TEMP_PASSWORD_RANDOM;
	c->temporary_password_days = 7;
	c->argon2 = (struct argon2_params){.m_kib = 65536, .t = 3, .p = 1};
	/* About a third of a second each on one core of the build host (crypt(3), measured). */
	c->hash_limits = (struct hash_limits){.sha512_rounds = 1000000,
	                                      .yescrypt_cost = 8,
	                                      .bcrypt_cost = 13,
	                                      .argon2 = {.m_kib = 262144, .t = 10, .p = 16}};
	c->policy =
	    (struct password_policy){.min_chars = 12, .max_bytes = 1024, .dictionary = true};
	c->otp_required = true;
	c->otp_window = 1;
	c->otp_digits = 6;
	c->otp_algorithm = OTP_SHA1;
	c->otp_period = 30;
	c->throttle = (struct throttle_conf){.delay_after = 5,
	                                     .base_delay = 30,
	                                     .max_delay = 3600,
	                                     .lock_after = 10,
	                                     .forget_after = 86400};
	c->device_days = 30;
	c->session_idle = 1800;
	c->session_lifetime = 43200;
	c->session_touch = 60;
	c->penalty_base_ms = 2000;
	c->penalty_max_ms = 15000;
	c->recovery = (struct mail_limit_conf){.per_hour = 3, .per_day = 10, .hour_window = 3600};
	c->http_max_connections = 256;
	c->http_per_ip_connections = 32;
	c->http_timeout = 15;
	c->http_body_max = 16384;
	c->http_threads = 4;
	c->rescue_code_lifetime = 900;
	c->mail_timeout = 30;
	c->radius_state_lifetime = 60;
	c->radius_cache_seconds = 5;
	c->radius_log_per_second = 10;
}

static int parse_bool(const char *value, bool *out);

int config_parse_bool(const char *value, bool *out)
{
	return parse_bool(value, out);
}

int config_credentials_parse(const char *list, unsigned *bits_r)
{
	char buf[256], *tok, *save = NULL;
	unsigned bits = 0;

	if (strlen(list) >= sizeof(buf))
		return -1;
	memcpy(buf, list, strlen(list) + 1);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		size_t i;

		for (i = 0; i < sizeof(credential_names) / sizeof(credential_names[0]); i++)
			if (strcmp(tok, credential_names[i].name) == 0)
				break;
		if (i == sizeof(credential_names) / sizeof(credential_names[0]))
			return -1;
		bits |= credential_names[i].bit;
	}
	if (bits == 0)
		return -1;
	*bits_r = bits;
	return 0;
}

static const struct service_policy *find_service(const struct service_policy *list, unsigned n,
                                                 const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

int64_t config_temporary_lifetime(const struct config *config)
{
	if (config->temporary_password_seconds > 0)
		return config->temporary_password_seconds;
	return (int64_t)config->temporary_password_days * 86400;
}

const struct service_policy *config_service(const struct config *c, const char *name)
{
	const char *bare = strncmp(name, "verdon-", 7) == 0 ? name + 7 : name;
	const struct service_policy *p;
	unsigned nbuiltin = sizeof(builtin_services) / sizeof(builtin_services[0]);

	if ((p = find_service(c->services, c->nservices, name)) != NULL ||
	    (p = find_service(c->services, c->nservices, bare)) != NULL ||
	    (p = find_service(builtin_services, nbuiltin, bare)) != NULL ||
	    (p = find_service(c->services, c->nservices, "default")) != NULL)
		return p;
	return &safe_default;
}

/* [service NAME] sections: credentials = …, issue_tokens = yes|no. */
static int service_key(struct parse_state *ps, const char *section, const char *name,
                       const char *value)
{
	struct config *c = ps->config;
	const char *sname = section + strlen("service ");
	struct service_policy *p =
	    (struct service_policy *)find_service(c->services, c->nservices, sname);
	char why[120];
	int r;

	/* inih cuts section names to 49 bytes: a longer one would name another service */
	if (strlen(section) >= INIH_SECTION_MAX - 1) {
		snprintf(ps->msg, sizeof(ps->msg),
		         "[%.40s...]: section name too long (at most %d bytes)", section,
		         INIH_SECTION_MAX - 2);
		return 0;
	}
	if (p == NULL) {
		if (c->nservices == SERVICES_MAX || strlen(sname) == 0 ||
		    strlen(sname) > SERVICE_NAME_MAX ||
		    strspn(sname, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(sname)) {
			snprintf(
			    ps->msg, sizeof(ps->msg),
			    "[%.40s]: a service name is [a-z0-9._-]{1,64}, at most %d sections",
			    section, SERVICES_MAX);
			return 0;
		}
		p = &c->services[c->nservices++];
		snprintf(p->name, sizeof(p->name), "%s", sname);
		p->credentials = CRED_PASSWORD_OTP;
	}
	if (strcmp(name, "credentials") == 0) {
		if (config_credentials_parse(value, &p->credentials) < 0) {
			snprintf(ps->msg, sizeof(ps->msg),
			         "credentials: a list of password_otp, appended_otp, app_password, "
			         "session_token, password");
			return 0;
		}
		return 1;
	}
	if (strcmp(name, "issue_tokens") == 0) {
		if (parse_bool(value, &p->issue_tokens) < 0) {
			snprintf(ps->msg, sizeof(ps->msg), "issue_tokens: expected yes or no");
			return 0;
		}
		return 1;
	}
	/* what a RADIUS Access-Accept carries for this service (docs/radius.md) */
	if (strncmp(name, "radius_", 7) == 0 &&
	    (r = config_radius_reply_key(&p->radius, name + 7, value, why, sizeof(why))) <= 0) {
		if (r == 0)
			return 1;
		snprintf(ps->msg, sizeof(ps->msg), "%.64s: %s", name, why);
		return 0;
	}
	snprintf(ps->msg, sizeof(ps->msg), "unknown key '%.64s' in section [%.40s]", name, section);
	return 0;
}

static int parse_uint(const char *value, int base, unsigned long *out)
{
	char *end;

	if (*value == '\0' || *value == '-' || *value == '+')
		return -1;
	errno = 0;
	*out = strtoul(value, &end, base);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

static int parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(value, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int set_key(struct parse_state *ps, const struct config_key *k, const char *value)
{
	void *field = (char *)ps->config + k->offset;
	unsigned long n;

	switch (k->type) {
	case KEY_STRING:
		if (*value == '\0' || strlen(value) > 4096)
			goto bad;
		free(*(char **)field);
		if ((*(char **)field = strdup(value)) == NULL)
			goto bad;
		return 0;
	case KEY_UINT:
	case KEY_OCTAL:
		if (parse_uint(value, k->type == KEY_OCTAL ? 8 : 10, &n) < 0 || n < k->min ||
		    n > k->max) {
			if (k->type == KEY_UINT)
				snprintf(ps->msg, sizeof(ps->msg),
				         "%s: expected a number from %lu to %lu", k->name, k->min,
				         k->max);
			else
				snprintf(ps->msg, sizeof(ps->msg),
				         "%s: expected an octal mode from 0 to 0777", k->name);
			return -1;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	case KEY_BOOL:
		if (parse_bool(value, (bool *)field) < 0) {
			snprintf(ps->msg, sizeof(ps->msg), "%s: expected yes or no", k->name);
			return -1;
		}
		return 0;
	case KEY_TEMP_KIND:
		if (strcmp(value, "random") == 0)
			*(enum temp_password_kind *)field = TEMP_PASSWORD_RANDOM;
		else if (strcmp(value, "numen") == 0)
			*(enum temp_password_kind *)field = TEMP_PASSWORD_NUMEN;
		else {
			snprintf(ps->msg, sizeof(ps->msg), "%s: expected random or numen", k->name);
			return -1;
		}
		return 0;
	case KEY_ALGO:
		if (otp_algo_parse(value, (enum otp_algo *)field) < 0) {
			snprintf(ps->msg, sizeof(ps->msg), "%s: expected SHA1, SHA256 or SHA512",
			         k->name);
			return -1;
		}
		return 0;
	}
bad:
	snprintf(ps->msg, sizeof(ps->msg), "%s: empty or invalid value", k->name);
	return -1;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;

	/* inih goes on after an error but reports the first one's line: keep its message. */
	if (ps->msg[0] != '\0')
		return 0;
	if (strncmp(section, "service ", 8) == 0)
		return service_key(ps, section, name, value);
	if (strncmp(section, "radius.client ", 14) == 0)
		return config_radius_key(ps->config, section + 14, name, value, ps->msg,
		                         sizeof(ps->msg)) == 0;
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
			return set_key(ps, k, value) == 0;
	}
	snprintf(ps->msg, sizeof(ps->msg), "unknown key '%.64s' in section [%.32s]", name, section);
	return 0;
}

/* The password never sits in the config: a 0600 file that libpq reads (passfile=). */
static const char *store_config_check(const struct config *c)
{
	static char msg[512];
	struct stat st;

	if (c->store_backend == NULL || strcmp(c->store_backend, "lmdb") == 0) {
		if (c->store_conninfo != NULL || c->store_password_file != NULL)
			return "[store] conninfo and password_file go with backend = postgresql";
		return NULL;
	}
	if (strcmp(c->store_backend, "postgresql") != 0)
		return "[store] backend must be lmdb or postgresql";
	if (c->store_conninfo == NULL)
		return "[store] backend = postgresql needs conninfo";
	if (strstr(c->store_conninfo, "password") != NULL)
		return "[store] conninfo must not hold a password: use password_file (0600) or "
		       "peer "
		       "authentication";
	if (c->store_password_file != NULL) {
		if (stat(c->store_password_file, &st) < 0) {
			snprintf(msg, sizeof(msg), "[store] password_file %s: %s",
			         c->store_password_file, strerror(errno));
			return msg;
		}
		if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
			snprintf(msg, sizeof(msg),
			         "[store] password_file %s: must be a regular file readable by its "
			         "owner "
			         "only (chmod 600)",
			         c->store_password_file);
			return msg;
		}
	}
	return NULL;
}

static const char *config_check(struct config *c)
{
	static const struct {
		size_t offset;
		const char *name;
	} required[] = {
	    {OFF(state_dir), "state_dir"},
	    {OFF(auth_socket), "auth_socket"},
	    {OFF(admin_socket), "admin_socket"},
	    {OFF(mail_domain), "mail_domain"},
	    {OFF(issuer), "issuer"},
	};
	static char msg[512];
	const char *msg_r;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (*(char **)((char *)c + required[i].offset) == NULL) {
			snprintf(msg, sizeof(msg), "[verdon] %s is required", required[i].name);
			return msg;
		}
	if (c->state_dir[0] != '/' || c->auth_socket[0] != '/' || c->admin_socket[0] != '/')
		return "state_dir, auth_socket and admin_socket must be absolute paths";
	/* Our own hashes must pass the ceiling that every stored hash passes. */
	if (c->argon2.m_kib > c->hash_limits.argon2.m_kib ||
	    c->argon2.t > c->hash_limits.argon2.t || c->argon2.p > c->hash_limits.argon2.p)
		return "[password] argon2_memory_kib, argon2_time and argon2_parallelism must not "
		       "exceed "
		       "hash_max_argon2_memory_kib, hash_max_argon2_time and "
		       "hash_max_argon2_parallelism";
	if (c->recovery.per_day < c->recovery.per_hour)
		return "[recovery] mails_per_day must not be below mails_per_hour";
	if (c->throttle.max_delay < c->throttle.base_delay)
		return "[throttle] max_delay must not be below base_delay";
	if (c->throttle.forget_after < c->throttle.max_delay)
		return "[throttle] forget_after must not be below max_delay";
	/* otp_params_ok would refuse every enrollment with 7 */
	if (c->otp_digits != 6 && c->otp_digits != 8)
		return "[otp] digits must be 6 or 8";
	if ((msg_r = store_config_check(c)) != NULL)
		return msg_r;
	if (c->mail_relay != NULL && strncmp(c->mail_relay, "smtp://", 7) != 0 &&
	    strncmp(c->mail_relay, "smtps://", 8) != 0)
		return "[mail] relay must be smtp://HOST[:PORT] or smtps://HOST[:PORT]";
	if (c->mail_sendmail == NULL &&
	    (c->mail_sendmail = strdup("/usr/sbin/sendmail -t -i")) == NULL)
		return "out of memory";
	if (c->mail_from == NULL && asprintf(&c->mail_from, "verdon@%s", c->mail_domain) < 0) {
		c->mail_from = NULL;
		return "out of memory";
	}
	if (c->organisation == NULL && (c->organisation = strdup(c->issuer)) == NULL)
		return "out of memory";
	/* The page links to it: a plain http(s) URL, nothing a browser would run. */
	if (c->http_webmail_url != NULL &&
	    ((strncmp(c->http_webmail_url, "https://", 8) != 0 &&
	      strncmp(c->http_webmail_url, "http://", 7) != 0) ||
	     strlen(c->http_webmail_url) > 512 ||
	     strcspn(c->http_webmail_url, " \t\"'<>\\") != strlen(c->http_webmail_url)))
		return "[http] webmail_url: an http:// or https:// URL without spaces or quotes, at "
		       "most 512 bytes";
	c->policy.dict_path = c->dictionary_path;
	/* A missing dictionary would silently weaken every password change: refuse to start. */
	if (c->policy.dictionary &&
	    password_dictionary_check(c->dictionary_path, msg, sizeof(msg)) < 0)
		return msg;
	if ((msg_r = config_radius_check(c)) != NULL)
		return msg_r;
	if (c->auth_group != NULL) {
		struct group *gr = getgrnam(c->auth_group);

		if (gr == NULL)
			return "[verdon] auth_group: no such group";
		c->auth_gid = gr->gr_gid;
	}
	if (c->admin_group != NULL) {
		struct group *gr = getgrnam(c->admin_group);

		if (gr == NULL)
			return "[verdon] admin_group: no such group";
		c->admin_gid = gr->gr_gid;
	}
	return NULL;
}

/* The handler's message, if any, is about the line parsed last. */
static void note_msg_line(struct parse_state *ps)
{
	if (ps->msg[0] != '\0' && ps->msg_line == 0)
		ps->msg_line = ps->line;
}

/*
 * fgets for inih, counting lines so that an error names its own line. inih
 * would cut a long line in two (the rest parsed as a line of its own) and
 * skip what follows a NUL byte: both stop the parse here instead.
 */
static char *config_reader(char *buf, int size, void *stream)
{
	struct parse_state *ps = stream;
	int c = EOF, n = 0;

	note_msg_line(ps);
	if (ps->msg[0] != '\0')
		return NULL;
	while (n < size - 1 && (c = getc(ps->file)) != EOF && c != '\0') {
		buf[n++] = (char)c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	if (c == EOF && ferror(ps->file))
		ps->read_errno = errno;
	if (n == 0 && c == EOF)
		return NULL;
	ps->line++;
	if (c == '\0')
		snprintf(ps->msg, sizeof(ps->msg), "a NUL byte");
	else if (n == size - 1 && buf[n - 1] != '\n')
		snprintf(ps->msg, sizeof(ps->msg), "line too long (at most %d bytes)", size - 2);
	else
		return buf;
	ps->msg_line = ps->line;
	return NULL;
}

int config_load(const char *path, struct config **config_r, char *err, size_t errlen)
{
	struct parse_state ps = {0};
	struct config *c;
	const char *why;
	FILE *f;
	int line;

	if ((c = calloc(1, sizeof(*c))) == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	config_defaults(c);
	ps.config = c;
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	ps.file = f;
	line = ini_parse_stream(config_reader, &ps, config_handler, &ps);
	note_msg_line(&ps);
	fclose(f);
	if (ps.read_errno != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(ps.read_errno));
		goto fail;
	}
	/* inih returns the first error's line, ours or its own (a syntax error). */
	if (ps.msg_line != 0 && (line == 0 || ps.msg_line <= line)) {
		snprintf(err, errlen, "%s:%d: %s", path, ps.msg_line, ps.msg);
		goto fail;
	}
	if (line != 0) {
		snprintf(err, errlen, "%s:%d: syntax error", path, line);
		goto fail;
	}
	if ((why = config_check(c)) != NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	*config_r = c;
	return 0;
fail:
	config_free(c);
	return -1;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (config_keys[i].type == KEY_STRING)
			free(*(char **)((char *)c + config_keys[i].offset));
	config_radius_free(c);
	free(c->path);
	free(c);
}

const char *config_key_at(size_t i, const char **section_r)
{
	if (i >= sizeof(config_keys) / sizeof(config_keys[0]))
		return NULL;
	*section_r = config_keys[i].section;
	return config_keys[i].name;
}

const char *config_service_key_at(size_t i)
{
	static const char *const service_keys[] = {"credentials", "issue_tokens",
	                                           "radius_reply_message", "radius_class",
	                                           "radius_session_timeout"};

	return i < sizeof(service_keys) / sizeof(service_keys[0]) ? service_keys[i] : NULL;
}
