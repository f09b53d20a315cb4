/*
 * verdonctl: the command table, argument parsing, and the calls to the
 * daemon that every command shares. A command is one table entry (what it
 * sends, where, which arguments and options) and a handler; the options
 * that map to request fields are sent without handler code.
 */
#ifndef VERDON_CLI_H
#define VERDON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct proto_client;
struct proto_msg;
struct proto_writer;

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,    /* any FAIL answer; a failed import line */
	CLI_EXIT_USAGE = 2,      /* unknown command or option, missing argument, bad value */
	CLI_EXIT_UNAVAILABLE = 3 /* daemon unreachable, timeout, TEMPFAIL */
};

enum cli_socket {
	CLI_SOCKET_NONE = 0,
	CLI_SOCKET_ADMIN,
	CLI_SOCKET_AUTH,
};

#define CLI_ARGS_MAX 2
#define CLI_OPTS_MAX 12
#define CLI_COUNT_MAX 1000000
#define CLI_TIMEOUT_DEFAULT 30000
#define CLI_TIMEOUT_MAX 3600000
#define CLI_DEFAULT_CONF "/etc/verdon/verdon.conf"
#define CLI_DEFAULT_ADMIN "/run/verdon/admin.sock"
#define CLI_DEFAULT_AUTH "/run/verdon/auth.sock"

enum cli_check {
	CLI_V_TEXT = 0, /* non-empty, no control character */
	CLI_V_DATE,     /* YYYY-MM-DD, a real date */
	CLI_V_COUNT,    /* a decimal integer in 1..CLI_COUNT_MAX */
	CLI_V_CHOICE,   /* one of the '|'-separated choices */
	CLI_V_NUMEN,    /* 13 letters or digits */
	CLI_V_EMAIL,    /* local@domain */
	CLI_V_ADDRESS,  /* an IPv4 or IPv6 address */
	CLI_V_PATH,     /* non-empty */
};

/* One --name VALUE option of a command, or a --name flag (its value is then "1"). */
struct cli_opt {
	const char *name;
	const char *key; /* request field, or NULL when the handler uses the value itself */
	enum cli_check check;
	const char *choices; /* for CLI_V_CHOICE */
	const char *def;     /* taken when the option is absent */
	bool required;
	bool flag; /* takes no value */
};

struct cli_args {
	int npos;
	const char *pos[CLI_ARGS_MAX];
	const char *opt[CLI_OPTS_MAX]; /* by index in the command's opts; NULL when absent */
	bool json;                     /* --json given after the command */
};

struct cli_ctx {
	const char *conf_path;
	bool conf_given;
	const char *admin_socket;
	const char *auth_socket;
	bool socket_given; /* --socket */
	int timeout_ms;
	bool timeout_given;
	bool json;
	bool help;
	/* the running command's socket, chosen from its table entry */
	const char *socket_path;
	const char *socket_key; /* the config key to check when it cannot be reached */
	struct proto_client *client;
};

struct cli_command;
typedef int cli_run(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

struct cli_command {
	const char *group; /* "user", "otp", "auth", or NULL for a top-level command */
	const char *name;
	cli_run *run;
	enum cli_socket socket;
	int min_args, max_args;
	const char *verb;                  /* the request the command sends */
	const char *arg_key[CLI_ARGS_MAX]; /* request field of each positional argument, or NULL */
	const struct cli_opt *opts;        /* ends with a NULL name; NULL when none */
	const char *done;                  /* "unlocked": what a bare OK means, or NULL */
	const char *usage;                 /* after "verdonctl " */
};

/* cli_commands.c: the table. */
extern const struct cli_command cli_commands[];
/* The command named by argv (one or two words): *used_r words consumed; NULL when none matches. */
const struct cli_command *cli_command_find(int argc, char **argv, int *used_r);
/* Usage lines of every command of group (all when group is NULL). */
void cli_help(FILE *out, const char *group);
/* Whether group names a group of commands ("user", "otp" …). */
bool cli_is_group(const char *group);
/* Whether argv (up to a "--") asks for help: --help or -h. */
bool cli_wants_help(int argc, char **argv);

/* cli_help.c: one command's usage, options and an example. */
void cli_help_command(FILE *out, const struct cli_command *cmd);
bool cli_help_has_text(const struct cli_command *cmd);

/* cli_args.c: pure parsing. -1 with a message in err. */
int cli_global_parse(int argc, char **argv, struct cli_ctx *ctx, int *next_r, char *err,
                     size_t errlen);
int cli_args_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *args,
                   char *err, size_t errlen);
bool cli_value_ok(const struct cli_opt *opt, const char *value);
/* The option's value by name (NULL when absent and without default). */
const char *cli_args_opt(const struct cli_command *cmd, const struct cli_args *args,
                         const char *name);
/* Begins cmd->verb with id and adds the mapped arguments and options; proto_end is the caller's. */
void cli_request_build(const struct cli_command *cmd, const struct cli_args *args, const char *id,
                       struct proto_writer *w);
/* Parse and build, printing the error and the usage line: an exit code. */
int cli_prepare(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                struct cli_args *args, struct proto_writer *w);
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_session.c: talking to the daemon; every function prints its own error. */
int cli_connect(struct cli_ctx *ctx);
/* Ends w, sends it and wipes it: an exit code. */
int cli_send(struct cli_ctx *ctx, struct proto_writer *w);
/* The next answer, which must carry id: an exit code. */
int cli_recv(struct cli_ctx *ctx, const char *id, struct proto_msg *msg_r);
/* Exit code of a final answer, reporting FAIL and TEMPFAIL about subject (may be NULL). */
int cli_answer_status(const struct cli_ctx *ctx, const struct proto_msg *msg, const char *subject);
/* Connect, send w, and read the final answer (ROW lines are an error): an exit code. */
int cli_call(struct cli_ctx *ctx, struct proto_writer *w, const char *subject,
             struct proto_msg *msg_r);
/* The one-line message for a FAIL answer, without the "verdonctl: " prefix. */
void cli_fail_message(char *buf, size_t len, const char *subject, const char *reason,
                      const char *detail, const char *wait);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The handlers. */
int cmd_help(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_simple(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_user_list(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_user_show(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_stats(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_rows(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_revoke(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_user_import(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_otp_enroll(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_otp_confirm(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_auth_check(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_auth_passwd(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_audit(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_backup(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_store_verify(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int cmd_store_copy(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

/* cmd_auth.c: prints an AUTH or PASSWD answer as the command's result: an exit code. */
int cli_auth_result(FILE *out, bool json, const struct proto_msg *msg, bool with_detail);

/* audit --follow (cmd_follow.c): limit is the first batch's size (NULL: 20). Runs until an error. */
int cli_audit_follow(struct cli_ctx *ctx, const char *login, const char *limit);
/* cmd_misc.c: PATH made absolute through its directory's realpath; -1 with errno. */
int cli_backup_path(const char *path, char *out, size_t outlen);
/* cmd_misc.c: the directory of PATH ("." or "/" when it names none); -1 with errno. */
int cli_parent_dir(const char *path, char *dir, size_t dirlen);

#endif
