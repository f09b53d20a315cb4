/* Reading passwords and codes: one line from standard input or a terminal prompt. */
#ifndef VERDON_CLI_SECRET_H
#define VERDON_CLI_SECRET_H

#include <stdbool.h>

/* Longer than any password the policy accepts (1024 bytes), so the daemon says why. */
#define CLI_SECRET_MAX 4096

/*
 * Reads one line from fd, without its LF and a CR before it. On a terminal,
 * writes prompt to stderr first and, unless echo, turns echo off while the
 * line is typed. Bytes are read one at a time and never sit in a stdio
 * buffer. 1 with *line_r (free it with secret_free), 0 at end of input with
 * nothing read, -1 on error (errno E2BIG for a line over CLI_SECRET_MAX).
 */
int cli_secret_read(int fd, const char *prompt, bool echo, char **line_r);

#endif
