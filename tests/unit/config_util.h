/* What the config unit tests share: a minimal config, a file to write it to, load and assert. */
#ifndef VERDON_TEST_CONFIG_UTIL_H
#define VERDON_TEST_CONFIG_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* The minimal config of the issue: the five required [verdon] keys. */
#define MINIMAL                                                                                    \
	"[verdon]\n"                                                                               \
	"state_dir = /var/lib/verdon\n"                                                            \
	"auth_socket = /run/verdon/auth.sock\n"                                                    \
	"admin_socket = /run/verdon/admin.sock\n"                                                  \
	"mail_domain = example.org\n"                                                              \
	"issuer = Verdon\n"

static char tmpdir[] = "/tmp/verdon-test-config-XXXXXX";
static char conf_path[256];

static inline int group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/verdon.conf", tmpdir);
	return 0;
}

static inline int group_teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	return rmdir(tmpdir);
}

static inline void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Loads text; on failure err holds the message and NULL is returned. */
static inline struct config *load(const char *text, char *err, size_t errlen)
{
	struct config *c = NULL;
	int r;

	write_conf(text);
	memset(err, 0, errlen);
	r = config_load(conf_path, &c, err, errlen);
	if (r == 0) {
		assert_non_null(c);
		assert_string_equal(err, "");
	} else {
		assert_int_equal(r, -1);
		assert_null(c);
	}
	return c;
}

static inline struct config *load_ok(const char *text)
{
	char err[512];
	struct config *c = load(text, err, sizeof(err));

	if (c == NULL)
		fail_msg("refused: %s\n--- config:\n%s", err, text);
	return c;
}

/* Asserts text is refused with "<path><suffix>", suffix being ":LINE: msg" or ": msg". */
static inline void load_fails(const char *text, const char *suffix)
{
	char err[512], want[512];
	struct config *c = load(text, err, sizeof(err));

	if (c != NULL) {
		config_free(c);
		fail_msg("accepted, want error '%s'\n--- config:\n%s", suffix, text);
	}
	snprintf(want, sizeof(want), "%s%s", conf_path, suffix);
	if (strcmp(err, want) != 0)
		fail_msg("error '%s'\n want '%s'\n--- config:\n%s", err, want, text);
}

/* What a bad [service NAME] is told. */
#define SERVICE_NAME_MSG "a service name is [a-z0-9._-]{1,64}, at most 32 sections"

#endif
