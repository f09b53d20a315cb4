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
#include "password.h"

struct throttle_conf {
	unsigned delay_after; /* failures before the first delay */
	unsigned base_delay;  /* seconds; doubles with each further failure */
	unsigned max_delay;
	unsigned lock_after;  /* failures that lock until an admin unlocks */
};

enum temp_password_kind {
	TEMP_PASSWORD_RANDOM = 0,
	TEMP_PASSWORD_NUMEN,
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
	char *admin_group; /* NULL: root only */
	gid_t admin_gid;
	unsigned auth_socket_mode;
	unsigned admin_socket_mode;
	char *store_backend;
	unsigned map_size_mb;
	unsigned workers; /* 0: one per core */
	unsigned queue_max;
	unsigned max_connections;
	unsigned idle_timeout; /* seconds */
	unsigned max_pending;  /* requests a connection may have in flight */
	bool debug;
	unsigned delete_grace_days;
	enum temp_password_kind temporary_password;
	unsigned temporary_password_days;
	/* [password] */
	struct argon2_params argon2;
	struct password_policy policy;
	char *dictionary_path;
	/* [otp] */
	bool otp_required;
	unsigned otp_window;
	unsigned otp_digits;
	enum otp_algo otp_algorithm;
	unsigned otp_period;
	/* [throttle] */
	struct throttle_conf throttle;
};

/* -1 with err "file:line: message" (or "file: message"). */
int config_load(const char *path, struct config **config_r, char *err, size_t errlen);
void config_free(struct config *config);

#endif
