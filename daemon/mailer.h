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

#define MAILER_INFLIGHT_MAX 16 /* messages being handed over at once; beyond: dropped */
#define MAILER_ARGS_MAX 16     /* words of the sendmail command */
#define MAILER_HEADER_MAX 512  /* bytes of one header value */
#define MAILER_LINE_MAX 998    /* bytes of one body line (RFC 5322) */
#define MAILER_WHY_MAX 256     /* bytes of why a mail did not go: no secret, no URL */

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
 * Runs command with msg on its standard input (posix_spawn, no shell, in a
 * process group of its own) and waits at most timeout_s seconds, then kills
 * the group. 0 when it exited 0; else -1 with why_r (MAILER_WHY_MAX bytes)
 * saying what happened. Logs nothing. Blocks: for a thread that may wait.
 */
int mailer_run(const char *command, const char *msg, size_t len, unsigned timeout_s, char *why_r);

/*
 * Submits msg to relay (smtp:// or smtps:// URL) with the envelope sender
 * and recipient taken from m->from and m->to (the address inside <> when
 * there is one), at most timeout_s seconds. 0 when the relay took it; else
 * -1 with why_r as mailer_run's (never the URL: it may hold a password).
 * Logs nothing. Blocks: for a thread that may wait.
 */
int mailer_smtp(const char *relay, const struct mail *m, const char *msg, size_t len,
                unsigned timeout_s, char *why_r);

/*
 * What a mail that did not go must undo (a code nobody received, a mail
 * limit slot): fn runs once with why, on the mailer's one undo thread (one
 * at a time, so a store keeping a connection per thread keeps one); it
 * logs the failure's one line. arg is malloc'd and belongs to the mailer
 * from mailer_send on: wiped and freed, sent or not.
 */
typedef void mailer_failed_fn(void *arg, const char *why);
struct mail_undo {
	mailer_failed_fn *fn; /* NULL: the mailer logs the failure itself */
	void *arg;
	size_t arg_len;
};

/*
 * Builds the message and hands it to a thread of its own that submits it
 * to [mail] relay, or runs [mail] sendmail when no relay is set, at most
 * [mail] timeout seconds, so that the caller's answer does not wait on (or
 * show the time of) the mail system. -1 when the message cannot be built
 * or too many messages are in flight. Every failure, then or in the
 * thread, runs undo (may be NULL) or logs one line.
 */
int mailer_send(const struct config *c, const struct mail *m, time_t now,
                const struct mail_undo *undo);

/*
 * After it, no undo runs any more (a mail failing later only logs): called
 * once the workers are stopped, before the store closes. Waits for the
 * undo running, if any, and stops the undo thread.
 */
void mailer_quiesce(void);

#endif
