/*
 * Messages are built whole in memory, then a detached thread pipes them to
 * sendmail: posix_spawn (no shell, so the command's words are never
 * interpreted), a deadline for writing and for the exit, SIGKILL to its
 * process group after it. A mail that does not go runs its undo.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "log.h"
#include "mailer.h"
#include "metrics.h"
#include "secret.h"

#define B64_CHUNK 45 /* input bytes of one encoded word: 60 base64 chars, under 75 in all */
#define MSGID_BYTES 16

static atomic_uint mailer_inflight;

/*
 * Failed mails' undos, run one at a time by one thread of their own: an undo writes to the store,
 * and a store may keep a connection per thread (store_pg.c), which a short-lived mail thread would
 * leave open. closed: the store is about to close, undo nothing more.
 */
struct undo_item {
	struct undo_item *next;
	struct mail_undo undo;
	char why[MAILER_WHY_MAX];
};
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct undo_item *head, **tail;
	pthread_t tid;
	bool started, closed;
} undoq = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .tail = &undoq.head};

/* Printable ASCII only: no CR, no LF, nothing a header parser could take for a separator. */
static bool header_ok(const char *v, bool ascii)
{
	size_t len;

	if (v == NULL || (len = strlen(v)) == 0 || len > MAILER_HEADER_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (ascii && *p > 0x7f))
			return false;
	return true;
}

static bool body_ok(const char *body)
{
	size_t line = 0;

	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\r')
			return false;
		line = *p == '\n' ? 0 : line + 1;
		if (line > MAILER_LINE_MAX)
			return false;
	}
	return true;
}

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 0x7f)
			return false;
	return true;
}

/* An UTF-8 cut no longer than max that does not split a character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	while (n > 0 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* RFC 2047 "B" words, folded on continuation lines. */
static int put_subject(FILE *f, const char *subject)
{
	size_t len = strlen(subject), off = 0, n;
	char *b64;

	if (is_ascii(subject))
		return fprintf(f, "Subject: %s\n", subject) < 0 ? -1 : 0;
	fputs("Subject:", f);
	while (off < len) {
		if ((n = utf8_cut(subject + off, len - off, B64_CHUNK)) == 0)
			return -1;
		if ((b64 = crypto_b64_encode((const uint8_t *)subject + off, n)) == NULL)
			return -1;
		fprintf(f, "%s=?UTF-8?B?%s?=", off == 0 ? " " : "\n ", b64);
		free(b64);
		off += n;
	}
	return fputc('\n', f) == EOF ? -1 : 0;
}

/* The From address's domain, for the Message-ID; "localhost" when it has none worth using. */
static void from_domain(const char *from, char *out, size_t cap)
{
	const char *at = strrchr(from, '@');
	size_t n;

	snprintf(out, cap, "localhost");
	if (at == NULL)
		return;
	n = strspn(at + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
	if (n > 0 && n < cap)
		snprintf(out, cap, "%.*s", (int)n, at + 1);
}

/* RFC 5322 date in UTC, with English names whatever the locale. */
static void mail_date(time_t now, char *out, size_t cap)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
	         tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	         tm.tm_sec);
}

static int put_headers(FILE *f, const struct mail *m, time_t now)
{
	uint8_t rnd[MSGID_BYTES];
	char id[2 * MSGID_BYTES + 1], domain[256], date[64];

	if (crypto_random(rnd, sizeof(rnd)) < 0)
		return -1;
	crypto_hex(rnd, sizeof(rnd), id);
	from_domain(m->from, domain, sizeof(domain));
	mail_date(now, date, sizeof(date));
	fprintf(f, "From: %s\nTo: %s\n", m->from, m->to);
	if (put_subject(f, m->subject) < 0)
		return -1;
	fprintf(f,
	        "Date: %s\nMessage-ID: <%s@%s>\nMIME-Version: 1.0\n"
	        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
	        "Auto-Submitted: auto-generated\n\n",
	        date, id, domain);
	return 0;
}

int mailer_build(const struct mail *m, time_t now, char **msg_r, size_t *len_r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int r = -1;

	*msg_r = NULL;
	*len_r = 0;
	if (!header_ok(m->from, true) || !header_ok(m->to, true) || !header_ok(m->subject, false) ||
	    m->body == NULL || !body_ok(m->body))
		return -1;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return -1;
	if (put_headers(f, m, now) < 0 || fputs(m->body, f) == EOF)
		goto out;
	if (m->body[0] != '\0' && m->body[strlen(m->body) - 1] != '\n' && fputc('\n', f) == EOF)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	*msg_r = buf;
	*len_r = len;
	buf = NULL;
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	if (buf != NULL) /* open_memstream's buffer may be larger than len: cleared as written */
		secret_wipe(buf, len);
	free(buf);
	return r;
}

int mailer_argv(const char *command, char ***argv_r)
{
	size_t len = strlen(command), n = 0;
	char **argv, *words, *save = NULL, *tok;

	*argv_r = NULL;
	/* one block: the pointers, then a copy of the command cut into words */
	argv = malloc((MAILER_ARGS_MAX + 1) * sizeof(char *) + len + 1);
	if (argv == NULL)
		return -1;
	words = (char *)(argv + MAILER_ARGS_MAX + 1);
	memcpy(words, command, len + 1);
	for (tok = strtok_r(words, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		if (n == MAILER_ARGS_MAX)
			goto fail;
		argv[n++] = tok;
	}
	if (n == 0 || argv[0][0] != '/')
		goto fail;
	argv[n] = NULL;
	*argv_r = argv;
	return 0;
fail:
	free(argv);
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * posix_spawn, not fork: glibc spawns with CLONE_VM|CLONE_VFORK, so a daemon holding
 * hundreds of MiB of Argon2 and LMDB mappings copies no page tables and stalls no other
 * thread (a fork made the answers that send mail measurably slower than the others).
 */
static int spawn(int in, char *const argv[], pid_t *pid_r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int r;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	/* the store, the sockets and the key stay with the daemon */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	/* a group of its own: a hung sendmail's children die with it */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                    POSIX_SPAWN_SETPGROUP);
	r = posix_spawn(pid_r, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/* Writes everything before the deadline; -1 when the child stopped reading or time ran out. */
static int feed(int fd, const char *msg, size_t len, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		int64_t left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		n = write(fd, msg + off, len - off);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* The child's exit status, waiting until the deadline and killing its group after. */
static int reap(pid_t pid, int64_t deadline, bool *killed_r)
{
	struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
	int status = 0;
	pid_t r;

	*killed_r = false;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		nanosleep(&nap, NULL);
	if (r == 0) {
		kill(-pid, SIGKILL);
		*killed_r = true;
		while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
	}
	if (r < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int mailer_run(const char *command, const char *msg, size_t len, unsigned timeout_s, char *why_r)
{
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	char **argv = NULL;
	int p[2] = {-1, -1}, status, r = -1;
	bool fed, killed;
	pid_t pid;

	if (mailer_argv(command, &argv) < 0) {
		snprintf(why_r, MAILER_WHY_MAX,
		         "[mail] sendmail: not an absolute path followed by at most %d words",
		         MAILER_ARGS_MAX - 1);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(why_r, MAILER_WHY_MAX, "sendmail: cannot start: %s", strerror(errno));
		goto out;
	}
	if ((errno = spawn(p[0], argv, &pid)) != 0) {
		snprintf(why_r, MAILER_WHY_MAX, "sendmail: cannot start %.128s: %s", argv[0],
		         strerror(errno));
		goto out;
	}
	close(p[0]);
	p[0] = -1;
	fed = fcntl(p[1], F_SETFL, O_NONBLOCK) == 0 && feed(p[1], msg, len, deadline) == 0;
	close(p[1]);
	p[1] = -1;
	status = reap(pid, deadline, &killed);
	if (killed)
		snprintf(why_r, MAILER_WHY_MAX,
		         "sendmail: %.128s killed after %u seconds ([mail] timeout)", argv[0],
		         timeout_s);
	else if (status != 0)
		snprintf(why_r, MAILER_WHY_MAX, "sendmail: %.128s exited with status %d", argv[0],
		         status);
	else if (!fed)
		snprintf(why_r, MAILER_WHY_MAX, "sendmail: %.128s did not read the whole message",
		         argv[0]);
	else
		r = 0;
out:
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	free(argv);
	return r;
}

struct mail_job {
	char *command; /* the sendmail command, or the relay's URL when relay */
	bool relay;
	unsigned timeout; /* [mail] timeout when it was sent */
	char *from, *to;
	char *msg;
	size_t len;
	struct mail_undo undo;
};

static void undo_free(struct mail_undo *undo)
{
	if (undo->arg != NULL)
		secret_wipe(undo->arg, undo->arg_len);
	free(undo->arg);
	*undo = (struct mail_undo){0};
}

static void undo_skipped(const struct mail_undo *undo, const char *why)
{
	log_err("mail not sent: %s%s", why, undo->fn != NULL ? " (stopping: nothing undone)" : "");
}

static void *undo_thread(void *arg)
{
	struct undo_item *it;

	(void)arg;
	pthread_mutex_lock(&undoq.lock);
	for (;;) {
		while (undoq.head == NULL && !undoq.closed)
			pthread_cond_wait(&undoq.cond, &undoq.lock);
		if ((it = undoq.head) == NULL)
			break;
		if ((undoq.head = it->next) == NULL)
			undoq.tail = &undoq.head;
		if (undoq.closed) {
			undo_skipped(&it->undo, it->why);
		} else {
			pthread_mutex_unlock(&undoq.lock);
			it->undo.fn(it->undo.arg, it->why);
			pthread_mutex_lock(&undoq.lock);
		}
		undo_free(&it->undo);
		free(it);
	}
	pthread_mutex_unlock(&undoq.lock);
	return NULL;
}

/* Queues *undo (taken over: *undo is emptied) to run with why, or logs why when it has no fn. */
static void undo_run(struct mail_undo *undo, const char *why)
{
	struct undo_item *it = NULL;

	pthread_mutex_lock(&undoq.lock);
	if (undo->fn != NULL && !undoq.closed && (it = calloc(1, sizeof(*it))) != NULL) {
		if (!undoq.started)
			undoq.started = pthread_create(&undoq.tid, NULL, undo_thread, NULL) == 0;
		if (!undoq.started) {
			free(it);
			it = NULL;
		}
	}
	if (it != NULL) {
		it->undo = *undo;
		*undo = (struct mail_undo){0};
		snprintf(it->why, sizeof(it->why), "%s", why);
		*undoq.tail = it;
		undoq.tail = &it->next;
		pthread_cond_signal(&undoq.cond);
	} else {
		undo_skipped(undo, why);
	}
	pthread_mutex_unlock(&undoq.lock);
	undo_free(undo);
}

static void job_free(struct mail_job *job)
{
	if (job == NULL)
		return;
	if (job->msg != NULL)
		secret_wipe(job->msg, job->len);
	free(job->msg);
	free(job->command);
	free(job->from);
	free(job->to);
	undo_free(&job->undo);
	free(job);
}

static void *mailer_thread(void *arg)
{
	struct mail_job *job = arg;
	struct mail m = {.from = job->from, .to = job->to};
	char why[MAILER_WHY_MAX] = "";
	int r;

	if (job->relay)
		r = mailer_smtp(job->command, &m, job->msg, job->len, job->timeout, why);
	else
		r = mailer_run(job->command, job->msg, job->len, job->timeout, why);
	if (r == 0)
		log_info("mail handed to %s", job->relay ? "the relay" : "sendmail");
	else
		undo_run(&job->undo, why);
	metrics_mail(r == 0 ? METRICS_MAIL_SENT : METRICS_MAIL_FAILED);
	job_free(job);
	atomic_fetch_sub(&mailer_inflight, 1);
	return NULL;
}

/* The job of a mail to send, or NULL with why_r. */
static struct mail_job *job_new(const struct config *c, const struct mail *m, time_t now,
                                const char **why_r)
{
	struct mail_job *job = calloc(1, sizeof(*job));
	const char *command = c->mail_relay != NULL ? c->mail_relay : c->mail_sendmail;

	*why_r = "out of memory";
	if (job == NULL || (job->command = strdup(command)) == NULL ||
	    (job->from = strdup(m->from)) == NULL || (job->to = strdup(m->to)) == NULL)
		goto fail;
	if (mailer_build(m, now, &job->msg, &job->len) < 0) {
		*why_r = "the message could not be built";
		goto fail;
	}
	job->relay = c->mail_relay != NULL;
	job->timeout = c->mail_timeout;
	return job;
fail:
	job_free(job);
	return NULL;
}

int mailer_send(const struct config *c, const struct mail *m, time_t now,
                const struct mail_undo *undo)
{
	struct mail_undo u = undo != NULL ? *undo : (struct mail_undo){0};
	struct mail_job *job = NULL;
	const char *why = NULL;
	pthread_attr_t attr;
	pthread_t tid;
	bool started = false;
	char line[MAILER_WHY_MAX];

	if (atomic_fetch_add(&mailer_inflight, 1) >= MAILER_INFLIGHT_MAX) {
		snprintf(line, sizeof(line), "dropped: %d messages already waiting to be sent",
		         MAILER_INFLIGHT_MAX);
		why = line;
		metrics_mail(METRICS_MAIL_DROPPED);
		goto out;
	}
	if ((job = job_new(c, m, now, &why)) == NULL)
		goto out;
	job->undo = u; /* the job owns it now */
	u = (struct mail_undo){0};
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&tid, &attr, mailer_thread, job) == 0;
	pthread_attr_destroy(&attr);
	if (!started) {
		why = "no thread to send it";
		u = job->undo;
		job->undo = (struct mail_undo){0};
	}
out:
	if (started)
		return 0;
	undo_run(&u, why);
	atomic_fetch_sub(&mailer_inflight, 1);
	job_free(job);
	return -1;
}

void mailer_quiesce(void)
{
	bool started;

	pthread_mutex_lock(&undoq.lock);
	undoq.closed = true;
	started = undoq.started;
	pthread_cond_signal(&undoq.cond);
	pthread_mutex_unlock(&undoq.lock);
	/* the undo running finishes; the ones queued after it are only logged */
	if (started)
		pthread_join(undoq.tid, NULL);
}
