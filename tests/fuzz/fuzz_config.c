/* libFuzzer: any bytes as verdon.conf through config_load, checking what a loaded config promises.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* a file in memory, reopened by name: nothing left on disk */
	memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void fuzz_check_config(const struct config *c)
{
	if (c->state_dir == NULL || c->auth_socket == NULL || c->admin_socket == NULL ||
	    c->mail_domain == NULL || c->issuer == NULL || c->organisation == NULL)
		abort();
	if (c->state_dir[0] != '/' || c->auth_socket[0] != '/' || c->admin_socket[0] != '/')
		abort();
	if (strcmp(c->path, path) != 0)
		abort();
	if (c->auth_socket_mode > 0777 || c->admin_socket_mode > 0777)
		abort();
	/* SPEC's floor for Argon2id */
	if (c->argon2.m_kib < 19456 || c->argon2.t < 2 || c->argon2.p < 1)
		abort();
	if (c->policy.min_chars < 8 || c->policy.max_bytes < 64)
		abort();
	if (c->otp_digits != 6 && c->otp_digits != 8)
		abort();
	if (c->otp_window > 10 || c->otp_period < 15 || c->otp_period > 120)
		abort();
	if (c->throttle.max_delay < c->throttle.base_delay || c->throttle.delay_after < 1 ||
	    c->throttle.lock_after < 1)
		abort();
	if (c->store_backend != NULL && strcmp(c->store_backend, "lmdb") != 0)
		abort();
	if (c->policy.dict_path != c->dictionary_path)
		abort();
}

/* "PATH: msg" or "PATH:LINE: msg", LINE within the input. */
static void fuzz_check_error(const char *err, const uint8_t *data, size_t size)
{
	size_t plen = strlen(path), lines = 1;
	char *end;
	long line;

	if (strncmp(err, path, plen) != 0 || err[plen] != ':')
		abort();
	if (err[plen + 1] == ' ')
		return;
	line = strtol(err + plen + 1, &end, 10);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (line < 1 || (size_t)line > lines || end[0] != ':' || end[1] != ' ')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char err[512];

	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	memset(err, 0, sizeof(err));
	if (config_load(path, &c, err, sizeof(err)) == 0) {
		if (c == NULL || err[0] != '\0')
			abort();
		fuzz_check_config(c);
	} else {
		if (c != NULL || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		fuzz_check_error(err, data, size);
	}
	config_free(c);
	return 0;
}
