#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <ini.h>

#include "cli.h"
#include "cli_config.h"

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cli_config *cfg = user;
	char **slot = NULL;

	if (strcmp(section, "verdon") != 0)
		return 1;
	if (strcmp(name, "admin_socket") == 0)
		slot = &cfg->admin_socket;
	else if (strcmp(name, "auth_socket") == 0)
		slot = &cfg->auth_socket;
	if (slot == NULL)
		return 1;
	free(*slot);
	*slot = strdup(value);
	return *slot != NULL;
}

static int check_path(const char *path, const char *key, const char *value, char *err,
                      size_t errlen)
{
	if (value[0] == '\0' || strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "%s: %s: empty or longer than %zu bytes", path, key,
		         sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -1;
	}
	return 0;
}

static int set_default(char **slot, const char *def)
{
	if (*slot == NULL)
		*slot = strdup(def);
	return *slot == NULL ? -1 : 0;
}

int cli_config_read(const char *path, bool required, struct cli_config *cfg, char *err,
                    size_t errlen)
{
	int r = -1, line;

	cfg->admin_socket = NULL;
	cfg->auth_socket = NULL;
	errno = 0;
	line = ini_parse(path, config_handler, cfg);
	if (line == -1 && (required || (errno != ENOENT && errno != EACCES))) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: cannot parse this line", path, line);
		goto out;
	}
	if (line == -2 || set_default(&cfg->admin_socket, CLI_DEFAULT_ADMIN) == -1 ||
	    set_default(&cfg->auth_socket, CLI_DEFAULT_AUTH) == -1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (check_path(path, "admin_socket", cfg->admin_socket, err, errlen) == -1 ||
	    check_path(path, "auth_socket", cfg->auth_socket, err, errlen) == -1)
		goto out;
	r = 0;
out:
	if (r == -1)
		cli_config_clear(cfg);
	return r;
}

void cli_config_clear(struct cli_config *cfg)
{
	free(cfg->admin_socket);
	free(cfg->auth_socket);
	cfg->admin_socket = NULL;
	cfg->auth_socket = NULL;
}
