/*
 * verdonctl's output: JSON for scripts (one document on stdout) and aligned
 * tables for people. Every answer maps to JSON the same way: numbers as
 * numbers, 0/1 booleans as true/false, everything else as strings.
 */
#ifndef VERDON_CLI_OUTPUT_H
#define VERDON_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_t;
struct proto_msg;

struct cli_column {
	const char *key;
	const char *alt; /* another spelling of key, or NULL */
	const char *header;
};

/* Makes jansson wipe what it frees: answers carry temporary passwords and OTP secrets. */
void cli_output_init(void);
/* Every field of msg; NULL when out of memory. */
struct json_t *cli_msg_json(const struct proto_msg *msg);
/* A JSON string even from bytes that are not UTF-8 (they become '?'); NULL when out of memory. */
struct json_t *cli_json_string(const char *s);
/* Indented, then a newline. 0 or -1. */
int cli_json_print(FILE *out, const struct json_t *value);
/* Prints value (NULL: it could not be built) on stdout and drops it; -1 with a message on stderr.
 */
int cli_json_emit(struct json_t *value);

/* "key  value" lines, keys aligned, times and booleans spelt out; skip (may be NULL) left out. */
void cli_print_fields(FILE *out, const struct proto_msg *msg, const char *skip);
/* rows: a JSON array of objects; one header line, then a line a row, columns aligned. */
void cli_print_table(FILE *out, const struct json_t *rows, const struct cli_column *cols,
                     size_t ncols);

/* s in groups of four separated by spaces, cut to fit len: "JBSW Y3DP EHPK". */
void cli_group4(const char *s, char *out, size_t len);
/* ISO 8601 UTC ("2024-09-02T08:00:00Z"), or "-" for 0 and before. */
void cli_format_time(char *buf, size_t len, long long t);
/* Columns s takes on a terminal: UTF-8 sequences count once. */
size_t cli_display_width(const char *s);
/* s with control characters as '?', so an answer cannot drive the terminal. */
void cli_put_safe(FILE *out, const char *s);

#endif
