/*
 * Mail to the people: plain-text French messages submitted over SMTP to
 * [mail] relay through libcurl when it is set (what the hardened unit
 * needs: a setgid sendmail cannot run under NoNewPrivileges), else piped to
 * the configured sendmail command ([mail] sendmail), split on spaces and
 * run without a shell. Header values holding a line break are refused, so that nothing a
 * person typed can add a header or a recipient.
 */
#ifndef VERDON_MAILER_H
#define VERDON_MAILER_H

#include <stddef.h>
#include <time.h>

#define MAILER_TIMEOUT 30      /* seconds sendmail may take before it is killed */
#define MAILER_INFLIGHT_MAX 16 /* messages being handed over at once; beyond: dropped */
#define MAILER_ARGS_MAX 16     /* words of the sendmail command */
#define MAILER_HEADER_MAX 512  /* bytes of one header value */
#define MAILER_LINE_MAX 998    /* bytes of one body line (RFC 5322) */

struct config;

struct mail {
	const char *from;    /* ASCII: an address, or a name and <address> */
	const char *to;      /* ASCII address */
	const char *subject; /* UTF-8; encoded as RFC 2047 words when not ASCII */
	const char *body;    /* UTF-8 text, lines separated by LF */
};

/*
 * The whole message as sendmail -t reads it (LF line ends, 8bit UTF-8 body),
 * with From, To, Subject, Date (from now), Message-ID, MIME headers. -1 when
 * a header value is empty, too long, or holds a control character (CR and LF
 * above all) or non-ASCII in From/To, when a body line is too long or holds
 * a CR, or when memory or the RNG fails. *msg_r is malloc'd: secret_free it.
 */
int mailer_build(const struct mail *m, time_t now, char **msg_r, size_t *len_r);

/*
 * Splits a command line on spaces and tabs into a NULL-terminated argv
 * (*argv_r and its words in one malloc'd block: free(*argv_r)). -1 when
 * empty, with more than MAILER_ARGS_MAX words, or when the program is not
 * an absolute path (execv does not search PATH).
 */
int mailer_argv(const char *command, char ***argv_r);

/*
 * Runs command with msg on its standard input (fork and execv, no shell)
 * and waits at most timeout_s seconds, then kills it. 0 when it exited 0.
 * Blocks: for a thread that may wait.
 */
int mailer_run(const char *command, const char *msg, size_t len, unsigned timeout_s);

/*
 * Submits msg to relay (smtp:// or smtps:// URL) with the envelope sender
 * and recipient taken from m->from and m->to (the address inside <> when
 * there is one), at most timeout_s seconds. 0 when the relay took it.
 * Blocks: for a thread that may wait.
 */
int mailer_smtp(const char *relay, const struct mail *m, const char *msg, size_t len,
                unsigned timeout_s);

/*
 * Builds the message and hands it to a thread of its own that submits it
 * to [mail] relay, or runs [mail] sendmail when no relay is set, so that
 * the caller's answer does not wait on (or show the time of) the mail
 * system. -1 when the message cannot be built or too many messages are in
 * flight (logged).
 */
int mailer_send(const struct config *c, const struct mail *m, time_t now);

#endif
