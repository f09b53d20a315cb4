/*
 * Command-line parsing: the global options before the command, then each
 * command's arguments and --name VALUE options checked against its table
 * entry. Pure: no I/O but the usage messages of cli_prepare.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

/*
 * 1 when argv[*i] is --name VALUE or --name=VALUE (*i moves past a separate
 * value), 0 when it is another option, -1 when the value is missing.
 */
static int match_long(int argc, char **argv, int *i, const char *name, const char **value_r)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
		return 0;
	if (a[2 + n] == '=') {
		*value_r = a + 3 + n;
		return 1;
	}
	if (a[2 + n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*i += 1;
	*value_r = argv[*i];
	return 1;
}

static bool parse_count(const char *s, long max, long *n_r)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)s[0]))
		return false;
	n = strtol(s, &end, 10);
	if (*end != '\0' || n < 1 || n > max)
		return false;
	*n_r = n;
	return true;
}

static bool text_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool date_ok(const char *s)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

static bool choice_ok(const char *choices, const char *s)
{
	size_t n = strlen(s);
	const char *c = choices;

	while (c != NULL) {
		size_t len = strcspn(c, "|");

		if (n > 0 && len == n && strncmp(c, s, n) == 0)
			return true;
		c = c[len] == '|' ? c + len + 1 : NULL;
	}
	return false;
}

static bool numen_ok(const char *s)
{
	if (strlen(s) != 13)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s))
			return false;
	return true;
}

static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	return text_ok(s) && at != NULL && at != s && at[1] != '\0' &&
	       strchr(at + 1, '@') == NULL && strpbrk(s, " ,;") == NULL;
}

static bool address_ok(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool cli_value_ok(const struct cli_opt *opt, const char *value)
{
	long n;

	switch (opt->check) {
	case CLI_V_TEXT:
		return text_ok(value);
	case CLI_V_DATE:
		return date_ok(value);
	case CLI_V_COUNT:
		return parse_count(value, CLI_COUNT_MAX, &n);
	case CLI_V_CHOICE:
		return choice_ok(opt->choices, value);
	case CLI_V_NUMEN:
		return numen_ok(value);
	case CLI_V_EMAIL:
		return email_ok(value);
	case CLI_V_ADDRESS:
		return address_ok(value);
	case CLI_V_PATH:
		return value[0] != '\0';
	}
	return false;
}

static const char *expected(const struct cli_opt *opt)
{
	static const char *const what[] = {
	    [CLI_V_TEXT] = "non-empty text without control characters",
	    [CLI_V_DATE] = "a date as YYYY-MM-DD",
	    [CLI_V_COUNT] = "a number from 1 to 1000000",
	    [CLI_V_CHOICE] = "one of",
	    [CLI_V_NUMEN] = "13 letters or digits",
	    [CLI_V_EMAIL] = "an address like name@example.org",
	    [CLI_V_ADDRESS] = "an IPv4 or IPv6 address",
	    [CLI_V_PATH] = "a file name",
	};
	return what[opt->check];
}

int cli_global_parse(int argc, char **argv, struct cli_ctx *ctx, int *next_r, char *err,
                     size_t errlen)
{
	const char *v = NULL;
	long n;
	int i, m;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--json") == 0) {
			ctx->json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			ctx->help = true;
		} else if (strncmp(a, "-c", 2) == 0 && strncmp(a, "--", 2) != 0) {
			if (a[2] == '\0' && i + 1 >= argc)
				goto missing;
			ctx->conf_path = a[2] != '\0' ? a + 2 : argv[++i];
			ctx->conf_given = true;
		} else if ((m = match_long(argc, argv, &i, "config", &v)) != 0) {
			if (m == -1)
				goto missing;
			ctx->conf_path = v;
			ctx->conf_given = true;
		} else if ((m = match_long(argc, argv, &i, "socket", &v)) != 0) {
			if (m == -1 || v[0] == '\0')
				goto missing;
			ctx->admin_socket = v;
			ctx->socket_given = true;
		} else if ((m = match_long(argc, argv, &i, "timeout", &v)) != 0) {
			if (m == -1)
				goto missing;
			if (!parse_count(v, CLI_TIMEOUT_MAX, &n)) {
				snprintf(err, errlen,
				         "bad value for --timeout: %s (milliseconds, 1 to %d)", v,
				         CLI_TIMEOUT_MAX);
				return -1;
			}
			ctx->timeout_ms = (int)n;
			ctx->timeout_given = true;
		} else {
			snprintf(err, errlen, "unknown option %s", a);
			return -1;
		}
	}
	*next_r = i;
	return 0;
missing:
	snprintf(err, errlen, "option %s needs a value", argv[i]);
	return -1;
}

static int parse_option(const struct cli_command *cmd, int argc, char **argv, int *i,
                        struct cli_args *args, char *err, size_t errlen)
{
	const char *v = NULL;
	const char *a = argv[*i];

	if (strcmp(a, "--json") == 0) {
		args->json = true;
		return 0;
	}
	for (int k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++) {
		const struct cli_opt *o = &cmd->opts[k];
		int m;

		if (o->flag) {
			if (strncmp(a, "--", 2) != 0 || strcmp(a + 2, o->name) != 0)
				continue;
			if (args->opt[k] != NULL) {
				snprintf(err, errlen, "option --%s given twice", o->name);
				return -1;
			}
			args->opt[k] = "1";
			return 0;
		}
		m = match_long(argc, argv, i, o->name, &v);

		if (m == 0)
			continue;
		if (m == -1) {
			snprintf(err, errlen, "option --%s needs a value", o->name);
			return -1;
		}
		if (args->opt[k] != NULL) {
			snprintf(err, errlen, "option --%s given twice", o->name);
			return -1;
		}
		if (!cli_value_ok(o, v)) {
			snprintf(err, errlen, "bad value for --%s: %s (expected %s%s%s)", o->name,
			         v, expected(o), o->choices ? " " : "",
			         o->choices ? o->choices : "");
			return -1;
		}
		args->opt[k] = v;
		return 0;
	}
	snprintf(err, errlen, "unknown option %s", a);
	return -1;
}

static int finish_options(const struct cli_command *cmd, struct cli_args *args, char *err,
                          size_t errlen)
{
	for (int k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++) {
		if (args->opt[k] == NULL)
			args->opt[k] = cmd->opts[k].def;
		if (args->opt[k] == NULL && cmd->opts[k].required) {
			snprintf(err, errlen, "missing --%s", cmd->opts[k].name);
			return -1;
		}
	}
	return 0;
}

int cli_args_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *args,
                   char *err, size_t errlen)
{
	bool only_pos = false;

	memset(args, 0, sizeof(*args));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
		} else if (!only_pos && a[0] == '-' && a[1] != '\0') {
			if (parse_option(cmd, argc, argv, &i, args, err, errlen) == -1)
				return -1;
		} else if (args->npos >= cmd->max_args) {
			snprintf(err, errlen, "unexpected argument %s", a);
			return -1;
		} else if (a[0] == '\0') {
			snprintf(err, errlen, "empty argument");
			return -1;
		} else {
			args->pos[args->npos++] = a;
		}
	}
	if (args->npos < cmd->min_args) {
		snprintf(err, errlen, "missing argument");
		return -1;
	}
	return finish_options(cmd, args, err, errlen);
}

const char *cli_args_opt(const struct cli_command *cmd, const struct cli_args *args,
                         const char *name)
{
	for (int k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++)
		if (strcmp(cmd->opts[k].name, name) == 0)
			return args->opt[k];
	return NULL;
}

void cli_request_build(const struct cli_command *cmd, const struct cli_args *args, const char *id,
                       struct proto_writer *w)
{
	proto_begin(w, cmd->verb, id);
	for (int i = 0; i < args->npos; i++)
		if (cmd->arg_key[i] != NULL)
			proto_add(w, cmd->arg_key[i], args->pos[i]);
	for (int k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++)
		if (cmd->opts[k].key != NULL && args->opt[k] != NULL)
			proto_add(w, cmd->opts[k].key, args->opt[k]);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("verdonctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(stderr, "\nusage: verdonctl %s\n", cmd->usage);
	else
		fputs(
		    "\nusage: verdonctl [-c CONF] [--json] [--socket PATH] [--timeout MS] COMMAND "
		    "...\n(verdonctl help lists the commands)\n",
		    stderr);
	return CLI_EXIT_USAGE;
}

int cli_prepare(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                struct cli_args *args, struct proto_writer *w)
{
	char err[512];

	/* The writer is wiped on every path, so it must be valid even when parsing fails. */
	proto_begin(w, cmd->verb, "1");
	if (cli_args_parse(cmd, argc, argv, args, err, sizeof(err)) == -1)
		return cli_usage_error(cmd, "%s", err);
	ctx->json = ctx->json || args->json;
	cli_request_build(cmd, args, "1", w);
	return CLI_EXIT_OK;
}
