/* verdonctl's view of the daemon's config: only where the sockets are. */
#ifndef VERDON_CLI_CONFIG_H
#define VERDON_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct cli_config {
	char *admin_socket;
	char *auth_socket;
};

/*
 * Takes admin_socket and auth_socket from section [verdon] of path and
 * ignores every other key (the daemon validates its config). A missing or
 * unreadable file gives the defaults unless required (-c was given).
 * -1 with err "path:line: …" or "cannot read path: …".
 */
int cli_config_read(const char *path, bool required, struct cli_config *cfg, char *err,
                    size_t errlen);
void cli_config_clear(struct cli_config *cfg);

#endif
