#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	{"verdon", "auth_socket_mode", KEY_OCTAL, OFF(auth_socket_mode), 0, 0777},
	{"verdon", "admin_socket_mode", KEY_OCTAL, OFF(admin_socket_mode), 0, 0777},
	{"verdon", "store", KEY_STRING, OFF(store_backend), 0, 0},
	{"verdon", "map_size_mb", KEY_UINT, OFF(map_size_mb), 1, 1024 * 1024},
	{"verdon", "workers", KEY_UINT, OFF(workers), 0, 256},
	{"verdon", "queue_max", KEY_UINT, OFF(queue_max), 1, 100000},
	{"verdon", "max_connections", KEY_UINT, OFF(max_connections), 1, 100000},
	{"verdon", "idle_timeout", KEY_UINT, OFF(idle_timeout), 1, 86400},
	{"verdon", "max_pending", KEY_UINT, OFF(max_pending), 1, 1024},
	{"verdon", "debug", KEY_BOOL, OFF(debug), 0, 0},
	{"verdon", "delete_grace_days", KEY_UINT, OFF(delete_grace_days), 0, 3650},
	{"verdon", "temporary_password", KEY_TEMP_KIND, OFF(temporary_password), 0, 0},
	{"verdon", "temporary_password_days", KEY_UINT, OFF(temporary_password_days), 1, 90},
	/* SPEC: never below m=19 MiB, t=2. */
	{"password", "argon2_memory_kib", KEY_UINT, OFF(argon2.m_kib), 19456, 4u << 20},
	{"password", "argon2_time", KEY_UINT, OFF(argon2.t), 2, 100},
	{"password", "argon2_parallelism", KEY_UINT, OFF(argon2.p), 1, 16},
	{"password", "min_length", KEY_UINT, OFF(policy.min_chars), 8, 1024},
	{"password", "max_bytes", KEY_UINT, OFF(policy.max_bytes), 64, 4096},
	{"password", "character_classes", KEY_BOOL, OFF(policy.classes), 0, 0},
	{"password", "dictionary", KEY_BOOL, OFF(policy.dictionary), 0, 0},
	{"password", "dictionary_path", KEY_STRING, OFF(dictionary_path), 0, 0},
	{"otp", "required", KEY_BOOL, OFF(otp_required), 0, 0},
	{"otp", "window", KEY_UINT, OFF(otp_window), 0, 10},
	{"otp", "digits", KEY_UINT, OFF(otp_digits), 6, 8},
	{"otp", "algorithm", KEY_ALGO, OFF(otp_algorithm), 0, 0},
	{"otp", "period", KEY_UINT, OFF(otp_period), 15, 120},
	{"throttle", "delay_after", KEY_UINT, OFF(throttle.delay_after), 1, 1000},
	{"throttle", "base_delay", KEY_UINT, OFF(throttle.base_delay), 0, 86400},
	{"throttle", "max_delay", KEY_UINT, OFF(throttle.max_delay), 0, 86400},
	{"throttle", "lock_after", KEY_UINT, OFF(throttle.lock_after), 1, 100000},
};

struct parse_state {
	struct config *config;
	char msg[256];
};

static void config_defaults(struct config *c)
{
	c->auth_socket_mode = 0666;
	c->admin_socket_mode = 0660;
	c->map_size_mb = 1024;
	c->queue_max = 256;
	c->max_connections = 1024;
	c->idle_timeout = 60;
	c->max_pending = 16;
	c->delete_grace_days = 30;
	c->temporary_password = TEMP_PASSWORD_RANDOM;
	c->temporary_password_days = 7;
	c->argon2 = (struct argon2_params){.m_kib = 65536, .t = 3, .p = 1};
	c->policy = (struct password_policy){.min_chars = 12, .max_bytes = 1024, .dictionary = true};
	c->otp_required = true;
	c->otp_window = 1;
	c->otp_digits = 6;
	c->otp_algorithm = OTP_SHA1;
	c->otp_period = 30;
	c->throttle = (struct throttle_conf){
		.delay_after = 5, .base_delay = 30, .max_delay = 3600, .lock_after = 50};
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
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
			return set_key(ps, k, value) == 0;
	}
	snprintf(ps->msg, sizeof(ps->msg), "unknown key '%.64s' in section [%.32s]", name,
		 section);
	return 0;
}

static const char *config_check(struct config *c)
{
	static const struct {
		size_t offset;
		const char *name;
	} required[] = {
		{OFF(state_dir), "state_dir"},     {OFF(auth_socket), "auth_socket"},
		{OFF(admin_socket), "admin_socket"}, {OFF(mail_domain), "mail_domain"},
		{OFF(issuer), "issuer"},
	};
	static char msg[512];

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (*(char **)((char *)c + required[i].offset) == NULL) {
			snprintf(msg, sizeof(msg), "[verdon] %s is required", required[i].name);
			return msg;
		}
	if (c->state_dir[0] != '/' || c->auth_socket[0] != '/' || c->admin_socket[0] != '/')
		return "state_dir, auth_socket and admin_socket must be absolute paths";
	if (c->throttle.max_delay < c->throttle.base_delay)
		return "[throttle] max_delay must not be below base_delay";
	if (c->store_backend != NULL && strcmp(c->store_backend, "lmdb") != 0)
		return "[verdon] store: the only backend is lmdb";
	if (c->organisation == NULL && (c->organisation = strdup(c->issuer)) == NULL)
		return "out of memory";
	c->policy.dict_path = c->dictionary_path;
	/* A missing dictionary would silently weaken every password change: refuse to start. */
	if (c->policy.dictionary &&
	    password_dictionary_check(c->dictionary_path, msg, sizeof(msg)) < 0)
		return msg;
	if (c->admin_group != NULL) {
		struct group *gr = getgrnam(c->admin_group);

		if (gr == NULL)
			return "[verdon] admin_group: no such group";
		c->admin_gid = gr->gr_gid;
	}
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
	line = ini_parse_file(f, config_handler, &ps);
	fclose(f);
	if (line != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 ps.msg[0] != '\0' ? ps.msg : "syntax error");
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
	free(c->path);
	free(c);
}
