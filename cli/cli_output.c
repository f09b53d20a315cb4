#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli_output.h"
#include "proto.h"
#include "secret.h"

/* Answer fields that are numbers; those in time_keys are unix seconds. */
static const char *const number_keys[] = {
    "accounts",
    "activated",
    "bytes",
    "closed",
    "connections",
    "count",
    "code_failures",
    "created",
    "delay",
    "digits",
    "drift",
    "expired",
    "expires",
    "failures",
    "last_login",
    "last_used",
    "locked_since",
    "map_size",
    "map_used",
    "password_changed",
    "pending",
    "period",
    "purge_after",
    "queue",
    "recovery_codes",
    "recovery_left",
    "seq",
    "store_full_refused",
    "store_full_since",
    "temporary_expires",
    "time",
    "uptime",
    "wait",
    "workers",
    NULL,
};
static const char *const time_keys[] = {
    "created",
    "expires",
    "last_login",
    "last_used",
    "locked_since",
    "password_changed",
    "purge_after",
    "store_full_since",
    "t",
    "temporary_expires",
    "time",
    NULL,
};
static const char *const bool_keys[] = {"locked",  "otp",        "password_temporary",
                                        "trusted", "store_full", NULL};

static bool key_in(const char *const *keys, const char *key)
{
	for (; *keys != NULL; keys++)
		if (strcmp(*keys, key) == 0)
			return true;
	return false;
}

static void *json_alloc(size_t n)
{
	return malloc(n);
}

static void json_wipe_free(void *p)
{
	if (p == NULL)
		return;
	secret_wipe(p, malloc_usable_size(p));
	free(p);
}

void cli_output_init(void)
{
	json_set_alloc_funcs(json_alloc, json_wipe_free);
}

static bool parse_int(const char *s, long long *n_r)
{
	char *end;

	if (*s == '\0')
		return false;
	errno = 0;
	*n_r = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

json_t *cli_json_string(const char *s)
{
	json_t *v = json_string(s);
	char *copy;

	if (v != NULL || (copy = strdup(s)) == NULL)
		return v;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	secret_free(copy);
	return v;
}

static json_t *field_json(const char *key, const char *value)
{
	long long n;

	if (key_in(bool_keys, key) && (strcmp(value, "0") == 0 || strcmp(value, "1") == 0))
		return json_boolean(value[0] == '1');
	if (key_in(number_keys, key) && value[0] == '\0')
		return json_null();
	if (key_in(number_keys, key) && parse_int(value, &n))
		return json_integer(n);
	return cli_json_string(value);
}

json_t *cli_msg_json(const struct proto_msg *msg)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj != NULL && i < msg->nfields; i++) {
		const struct proto_field *f = &msg->fields[i];

		if (json_object_set_new(obj, f->key, field_json(f->key, f->value)) == -1) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

int cli_json_print(FILE *out, const json_t *value)
{
	if (json_dumpf(value, out, JSON_INDENT(2)) == -1)
		return -1;
	return fputc('\n', out) == EOF ? -1 : 0;
}

int cli_json_emit(json_t *value)
{
	int r = 0;

	if (value == NULL || cli_json_print(stdout, value) == -1) {
		fputs("verdonctl: cannot write the answer as JSON (out of memory?)\n", stderr);
		r = -1;
	}
	json_decref(value);
	return r;
}

void cli_group4(const char *s, char *out, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return;
	for (size_t i = 0; s[i] != '\0' && n + 1 < len; i++) {
		if (i > 0 && i % 4 == 0) {
			if (n + 2 >= len)
				break;
			out[n++] = ' ';
		}
		out[n++] = s[i];
	}
	out[n] = '\0';
}

void cli_format_time(char *buf, size_t len, long long t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
}

size_t cli_display_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void cli_put_safe(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/* A field's value as people read it; buf holds it when it is not value itself. */
static const char *human_value(const char *key, const char *value, char *buf, size_t len)
{
	long long n;

	if (key_in(time_keys, key) && parse_int(value, &n)) {
		cli_format_time(buf, len, n);
		return buf;
	}
	if (key_in(bool_keys, key) && (strcmp(value, "0") == 0 || strcmp(value, "1") == 0))
		return value[0] == '1' ? "yes" : "no";
	return value[0] == '\0' ? "-" : value;
}

void cli_print_fields(FILE *out, const struct proto_msg *msg, const char *skip)
{
	size_t width = 0;
	char buf[64];

	for (size_t i = 0; i < msg->nfields; i++)
		if (strlen(msg->fields[i].key) > width)
			width = strlen(msg->fields[i].key);
	for (size_t i = 0; i < msg->nfields; i++) {
		const struct proto_field *f = &msg->fields[i];

		if (skip != NULL && strcmp(f->key, skip) == 0)
			continue;
		fputs(f->key, out);
		pad(out, width - strlen(f->key) + 2);
		cli_put_safe(out, human_value(f->key, f->value, buf, sizeof(buf)));
		fputc('\n', out);
	}
}

static const char *cell_text(const json_t *row, const struct cli_column *col, char *buf, size_t len)
{
	const char *key = col->key;
	const json_t *v = json_object_get(row, key);

	if (v == NULL && col->alt != NULL) {
		key = col->alt;
		v = json_object_get(row, key);
	}
	if (json_is_string(v))
		return json_string_value(v)[0] == '\0' ? "-" : json_string_value(v);
	if (json_is_boolean(v))
		return json_is_true(v) ? "yes" : "no";
	if (json_is_integer(v) && key_in(time_keys, key))
		cli_format_time(buf, len, (long long)json_integer_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, len, "-");
	return buf;
}

static void print_row(FILE *out, const json_t *row, const struct cli_column *cols, size_t ncols,
                      const size_t *widths)
{
	char buf[64];

	for (size_t c = 0; c < ncols; c++) {
		const char *text =
		    row != NULL ? cell_text(row, &cols[c], buf, sizeof(buf)) : cols[c].header;

		cli_put_safe(out, text);
		if (c + 1 < ncols)
			pad(out, widths[c] - cli_display_width(text) + 2);
	}
	fputc('\n', out);
}

void cli_print_table(FILE *out, const json_t *rows, const struct cli_column *cols, size_t ncols)
{
	size_t *widths = calloc(ncols, sizeof(*widths));
	size_t i;
	json_t *row;
	char buf[64];

	if (widths == NULL)
		return;
	for (size_t c = 0; c < ncols; c++)
		widths[c] = cli_display_width(cols[c].header);
	json_array_foreach(rows, i, row) for (size_t c = 0; c < ncols; c++)
	{
		size_t w = cli_display_width(cell_text(row, &cols[c], buf, sizeof(buf)));

		if (w > widths[c])
			widths[c] = w;
	}
	print_row(out, NULL, cols, ncols, widths);
	json_array_foreach(rows, i, row) print_row(out, row, cols, ncols, widths);
	free(widths);
}
