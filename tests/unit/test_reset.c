/*
 * The pure parts of the forgotten-password flow: the code (format, uniform
 * draw, normalisation, expiry, tries), the French messages, and the mailer's
 * message building, header-injection refusal, command splitting and run.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "account.h"
#include "config.h"
#include "crypto.h"
#include "mailer.h"
#include "reset.h"
#include "secret.h"

#define NOW INT64_C(1700000000) /* Tue, 14 Nov 2023 22:13:20 +0000 */

static struct crypto_keys keys;

static int setup(void **state)
{
	(void)state;
	memset(keys.seal, 0x11, sizeof(keys.seal));
	memset(keys.pepper, 0x22, sizeof(keys.pepper));
	return 0;
}

/* The code ---------------------------------------------------------------- */

static void test_code_from_random(void **state)
{
	static const struct {
		uint32_t r;
		const char *want; /* NULL: refused, draw again */
	} rows[] = {
	    {0, "000000"},         {1, "000001"},           {999999, "999999"}, {1000000, "000000"},
	    {123456789, "456789"}, {4293999999u, "999999"}, /* the last value kept */
	    {4294000000u, NULL},                            /* the first of the biased tail */
	    {4294967295u, NULL},
	};
	char out[RESET_CODE_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool got = reset_code_from_random(rows[i].r, out);

		if (got != (rows[i].want != NULL))
			fail_msg("%u: kept %d", rows[i].r, got);
		if (got && strcmp(out, rows[i].want) != 0)
			fail_msg("%u: %s, want %s", rows[i].r, out, rows[i].want);
	}
}

static void test_code_new(void **state)
{
	unsigned first[10] = {0}, last[10] = {0};
	char code[RESET_CODE_LEN + 1], prev[RESET_CODE_LEN + 1] = "";
	unsigned repeats = 0;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(reset_code_new(code), 0);
		assert_int_equal(strlen(code), RESET_CODE_LEN);
		assert_int_equal(strspn(code, "0123456789"), RESET_CODE_LEN);
		first[code[0] - '0']++;
		last[code[5] - '0']++;
		repeats += strcmp(code, prev) == 0;
		memcpy(prev, code, sizeof(prev));
	}
	/* 2000 draws: each digit is expected 200 times in each place; 100 is 7 sigma off. */
	for (int d = 0; d < 10; d++)
		if (first[d] < 100 || last[d] < 100)
			fail_msg("digit %d: %u first, %u last in 2000 codes", d, first[d], last[d]);
	assert_true(repeats < 3);
}

static void test_code_normalize(void **state)
{
	static const struct {
		const char *typed;
		const char *want; /* NULL: refused */
	} rows[] = {
	    {"123456", "123456"},
	    {"000000", "000000"},
	    {"123 456", "123456"},
	    {" 1 2 3 4 5 6 ", "123456"},
	    {"", NULL},
	    {"      ", NULL},
	    {"12345", NULL},
	    {"1234567", NULL},
	    {"12a456", NULL},
	    {"123-456", NULL},
	    {"123456\n", NULL},
	    {"\xef\xbc\x91"
	     "23456",
	     NULL}, /* a full-width one */
	};
	char out[RESET_CODE_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = reset_code_normalize(rows[i].typed, out);

		if ((r == 0) != (rows[i].want != NULL))
			fail_msg("\"%s\": %d", rows[i].typed, r);
		if (r == 0 && strcmp(out, rows[i].want) != 0)
			fail_msg("\"%s\": %s, want %s", rows[i].typed, out, rows[i].want);
	}
}

/* An account holding the code "042042", asked at NOW. */
static void with_code(struct account *a, const char *code)
{
	char hex[2 * CRYPTO_HMAC_LEN + 1];

	memset(a, 0, sizeof(*a));
	crypto_hmac_hex(&keys, "reset", code, strlen(code), hex);
	reset_code_set(a, hex, NOW);
}

static void test_code_check(void **state)
{
	static const struct {
		const char *what, *typed;
		int64_t now;
		enum reset_check want;
	} rows[] = {
	    {"right, at once", "042042", NOW, RESET_CODE_OK},
	    {"right, typed with a space", "042 042", NOW, RESET_CODE_OK},
	    {"right, last second", "042042", NOW + RESET_CODE_TTL - 1, RESET_CODE_OK},
	    {"right, 15 minutes on", "042042", NOW + RESET_CODE_TTL, RESET_CODE_EXPIRED},
	    {"right, a day on", "042042", NOW + 86400, RESET_CODE_EXPIRED},
	    {"wrong", "042043", NOW, RESET_CODE_WRONG},
	    {"malformed", "04204", NOW, RESET_CODE_WRONG},
	    {"empty", "", NOW, RESET_CODE_WRONG},
	    {"wrong and expired", "111111", NOW + RESET_CODE_TTL, RESET_CODE_EXPIRED},
	};
	struct account a;

	(void)state;
	with_code(&a, "042042");
	assert_int_equal(a.reset_tries, RESET_TRIES);
	assert_int_equal(a.reset_expires, NOW + RESET_CODE_TTL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum reset_check got = reset_code_check(&keys, &a, rows[i].typed, rows[i].now);

		if (got != rows[i].want)
			fail_msg("%s: %d, want %d", rows[i].what, got, rows[i].want);
	}
	/* The HMAC is keyed: the same code under another pepper is not the one. */
	keys.pepper[0] ^= 1;
	assert_int_equal(reset_code_check(&keys, &a, "042042", NOW), RESET_CODE_WRONG);
	keys.pepper[0] ^= 1;
}

static void test_code_none(void **state)
{
	struct account a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(reset_code_check(&keys, &a, "000000", NOW), RESET_CODE_NONE);
	assert_int_equal(reset_code_check(&keys, &a, "", NOW), RESET_CODE_NONE);
	/* A malformed code is never taken for a stored "000000". */
	with_code(&a, "000000");
	assert_int_equal(reset_code_check(&keys, &a, "abc", NOW), RESET_CODE_WRONG);
	assert_int_equal(reset_code_check(&keys, &a, "000000", NOW), RESET_CODE_OK);
	reset_code_clear(&a);
	assert_int_equal(reset_code_check(&keys, &a, "000000", NOW), RESET_CODE_NONE);
	assert_int_equal(a.reset_hmac[0], '\0');
}

static void test_code_tries(void **state)
{
	struct account a;

	(void)state;
	with_code(&a, "123456");
	for (unsigned i = 1; i < RESET_TRIES; i++) {
		reset_code_miss(&a, NOW);
		assert_int_equal(a.reset_tries, RESET_TRIES - i);
		assert_int_equal(reset_code_check(&keys, &a, "123456", NOW), RESET_CODE_OK);
	}
	reset_code_miss(&a, NOW); /* the fifth miss: the code is gone, even typed right */
	assert_int_equal(a.reset_tries, 0);
	assert_int_equal(a.reset_hmac[0], '\0');
	assert_int_equal(reset_code_check(&keys, &a, "123456", NOW), RESET_CODE_NONE);
	reset_code_miss(&a, NOW); /* nothing left to spend */
	assert_int_equal(a.reset_tries, 0);

	/* A miss on an expired code clears it at once. */
	with_code(&a, "123456");
	reset_code_miss(&a, NOW + RESET_CODE_TTL);
	assert_int_equal(a.reset_hmac[0], '\0');

	/* A new ask replaces the old code and gives back every try. */
	with_code(&a, "123456");
	reset_code_miss(&a, NOW);
	{
		char hex[2 * CRYPTO_HMAC_LEN + 1];

		crypto_hmac_hex(&keys, "reset", "654321", RESET_CODE_LEN, hex);
		reset_code_set(&a, hex, NOW + 60);
	}
	assert_int_equal(a.reset_tries, RESET_TRIES);
	assert_int_equal(reset_code_check(&keys, &a, "123456", NOW + 60), RESET_CODE_WRONG);
	assert_int_equal(reset_code_check(&keys, &a, "654321", NOW + 60), RESET_CODE_OK);
	assert_int_equal(reset_code_check(&keys, &a, "654321", NOW + 60 + RESET_CODE_TTL),
	                 RESET_CODE_EXPIRED);
}

/* The code record survives the account's JSON encoding. */
static void test_code_record(void **state)
{
	struct account a, b;
	uint8_t *rec;
	size_t len;

	(void)state;
	with_code(&a, "777777");
	snprintf(a.identifiant, sizeof(a.identifiant), "jdupont");
	reset_code_miss(&a, NOW);
	assert_int_equal(account_encode(&a, &rec, &len), 0);
	assert_int_equal(account_decode(rec, len, &b), 0);
	free(rec);
	assert_string_equal(b.reset_hmac, a.reset_hmac);
	assert_int_equal(b.reset_expires, NOW + RESET_CODE_TTL);
	assert_int_equal(b.reset_tries, RESET_TRIES - 1);
	assert_int_equal(reset_code_check(&keys, &b, "777777", NOW), RESET_CODE_OK);
}

/* The messages ------------------------------------------------------------ */

static void test_bodies(void **state)
{
	static const char *const not_you = "Si vous n'êtes pas à l'origine de cette demande";
	char *code = reset_body_code("jdupont", "042042", "Académie de Test");
	char *help = reset_body_helpdesk("jdupont", "Académie de Test");
	char *done = reset_body_done("jdupont", "Académie de Test");
	char *ident = reset_body_ident("jdupont", "jean.dupont@example.org", "Académie de Test");

	(void)state;
	assert_non_null(code);
	assert_non_null(help);
	assert_non_null(done);
	assert_non_null(ident);
	assert_non_null(strstr(code, "Votre code : 042042\n"));
	assert_non_null(strstr(code, "valable 15 minutes"));
	assert_non_null(strstr(code, "jdupont"));
	assert_non_null(strstr(code, not_you));
	assert_non_null(strstr(help, "assistance"));
	assert_non_null(strstr(help, not_you));
	assert_null(strstr(help, "code :"));
	assert_non_null(strstr(done, "Si ce n'est pas vous"));
	assert_non_null(strstr(ident, "Votre identifiant : jdupont\n"));
	assert_non_null(strstr(ident, "jean.dupont@example.org"));
	assert_non_null(strstr(ident, not_you));
	assert_non_null(strstr(ident, "\n-- \nAcadémie de Test\n"));
	free(code);
	free(help);
	free(done);
	free(ident);
}

/* The mailer -------------------------------------------------------------- */

static const struct mail good = {
    .from = "verdon@example.org",
    .to = "jean@example.net",
    .subject = "Votre code pour choisir un nouveau mot de passe",
    .body = "Bonjour,\n\nVotre code : 042042\n",
};

/* The header block of a built message, NUL-terminated at the blank line. */
static char *build(const struct mail *m, size_t *len_r)
{
	char *msg = NULL;
	size_t len;

	assert_int_equal(mailer_build(m, NOW, &msg, &len), 0);
	assert_int_equal(strlen(msg), len);
	if (len_r != NULL)
		*len_r = len;
	return msg;
}

static void test_build(void **state)
{
	char *msg = build(&good, NULL), *body;
	const char *id;

	(void)state;
	body = strstr(msg, "\n\n");
	assert_non_null(body);
	assert_string_equal(body + 2, good.body);
	*body = '\0';
	assert_non_null(strstr(msg, "From: verdon@example.org\n"));
	assert_non_null(strstr(msg, "\nTo: jean@example.net\n"));
	assert_non_null(
	    strstr(msg, "\nSubject: Votre code pour choisir un nouveau mot de passe\n"));
	assert_non_null(strstr(msg, "\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n"));
	assert_non_null(strstr(msg, "\nMIME-Version: 1.0\n"));
	assert_non_null(strstr(msg, "\nContent-Type: text/plain; charset=utf-8\n"));
	assert_non_null(strstr(msg, "\nContent-Transfer-Encoding: 8bit\n"));
	assert_null(strchr(msg, '\r'));
	id = strstr(msg, "\nMessage-ID: <");
	assert_non_null(id);
	id += strlen("\nMessage-ID: <");
	assert_int_equal(strspn(id, "0123456789abcdef"), 32);
	assert_memory_equal(id + 32, "@example.org>\n", 14);
	secret_free(msg);
}

static void test_build_ids_differ(void **state)
{
	char *a = build(&good, NULL), *b = build(&good, NULL);

	(void)state;
	assert_string_not_equal(strstr(a, "Message-ID:"), strstr(b, "Message-ID:"));
	secret_free(a);
	secret_free(b);
}

/* A subject with accents travels as RFC 2047 words that give it back whole. */
static void test_build_subject_encoded(void **state)
{
	static const char subject[] = "Votre mot de passe a été changé : réinitialisation réussie "
	                              "pour l'académie";
	struct mail m = good;
	char *msg, *p, *end, joined[256] = "";
	uint8_t dec[256];
	size_t n, off = 0;

	(void)state;
	m.subject = subject;
	msg = build(&m, NULL);
	p = strstr(msg, "\nSubject: ");
	assert_non_null(p);
	p += strlen("\nSubject: ");
	/* every word "=?UTF-8?B?…?=", folded words begin "\n " */
	while (strncmp(p, "=?UTF-8?B?", 10) == 0) {
		end = strstr(p + 10, "?=");
		assert_non_null(end);
		assert_true(end + 2 - p <= 75);
		snprintf(joined, sizeof(joined), "%.*s", (int)(end - p - 10), p + 10);
		assert_int_equal(crypto_b64_decode(joined, dec + off, sizeof(dec) - off, &n), 0);
		off += n;
		p = end + 2;
		if (strncmp(p, "\n ", 2) == 0)
			p += 2;
	}
	assert_int_equal(*p, '\n');
	assert_int_equal(off, strlen(subject));
	assert_memory_equal(dec, subject, off);
	secret_free(msg);
}

static void test_build_refused(void **state)
{
	char long_header[MAILER_HEADER_MAX + 2], long_line[MAILER_LINE_MAX + 2];
	char max_line[MAILER_LINE_MAX + 2];
	static const struct {
		const char *what;
		int field; /* 0 from, 1 to, 2 subject, 3 body */
		const char *value;
	} rows[] = {
	    {"LF in To", 1, "jean@example.net\nBcc: all@example.net"},
	    {"CR in To", 1, "jean@example.net\rBcc: all@example.net"},
	    {"CRLF in To", 1, "jean@example.net\r\nBcc: all@example.net"},
	    {"LF in From", 0, "verdon@example.org\nBcc: x@example.net"},
	    {"LF in Subject", 2, "Code\nBcc: x@example.net"},
	    {"CR in Subject", 2, "Code\r"},
	    {"a lone LF as Subject", 2, "\n"},
	    {"TAB in To", 1, "jean@example.net\tx"},
	    {"DEL in To", 1, "jean@example.net\x7f"},
	    {"non-ASCII in To", 1, "jéan@example.net"},
	    {"empty To", 1, ""},
	    {"empty Subject", 2, ""},
	    {"no To", 1, NULL},
	    {"CR in the body", 3, "Bonjour\r\n"},
	    {"no body", 3, NULL},
	};
	char *msg = (char *)1;
	size_t len = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct mail m = good;
		const char **f[] = {&m.from, &m.to, &m.subject, &m.body};

		*f[rows[i].field] = rows[i].value;
		if (mailer_build(&m, NOW, &msg, &len) != -1 || msg != NULL || len != 0)
			fail_msg("%s: built", rows[i].what);
	}
	/* Length limits, each side of the boundary. */
	memset(long_header, 'a', sizeof(long_header) - 1);
	long_header[sizeof(long_header) - 1] = '\0';
	{
		struct mail m = good;

		m.subject = long_header; /* MAILER_HEADER_MAX + 1 bytes */
		assert_int_equal(mailer_build(&m, NOW, &msg, &len), -1);
		long_header[MAILER_HEADER_MAX] = '\0';
		m.subject = long_header;
		assert_int_equal(mailer_build(&m, NOW, &msg, &len), 0);
		secret_free(msg);
	}
	memset(long_line, 'b', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0'; /* MAILER_LINE_MAX + 1 */
	memcpy(max_line, long_line, sizeof(max_line));
	max_line[MAILER_LINE_MAX] = '\0';
	{
		struct mail m = good;

		m.body = long_line;
		assert_int_equal(mailer_build(&m, NOW, &msg, &len), -1);
		m.body = max_line;
		assert_int_equal(mailer_build(&m, NOW, &msg, &len), 0);
		secret_free(msg);
	}
}

/* Every message the daemon sends builds, and holds no line a mail system would cut. */
static void test_bodies_build(void **state)
{
	char *bodies[] = {
	    reset_body_code("jdupont", "042042", "Académie de Test"),
	    reset_body_helpdesk("jdupont", "Académie de Test"),
	    reset_body_done("jdupont", "Académie de Test"),
	    reset_body_ident("jdupont", "jean.dupont@example.org", "Académie de Test"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct mail m = good;
		char *msg;
		size_t len;

		assert_non_null(bodies[i]);
		m.body = bodies[i];
		assert_int_equal(mailer_build(&m, NOW, &msg, &len), 0);
		for (char *line = strtok(bodies[i], "\n"); line != NULL; line = strtok(NULL, "\n"))
			if (strlen(line) > 78 + 2) /* a few accents count twice */
				fail_msg("body %zu: a line of %zu bytes", i, strlen(line));
		secret_free(msg);
		free(bodies[i]);
	}
}

static void test_argv(void **state)
{
	static const struct {
		const char *command;
		int words; /* -1: refused */
		const char *last;
	} rows[] = {
	    {"/usr/sbin/sendmail -t -i", 3, "-i"},
	    {"  /bin/sh   /tmp/x.sh  ", 2, "/tmp/x.sh"},
	    {"/bin/sh\t/tmp/x.sh", 2, "/tmp/x.sh"},
	    {"/usr/sbin/sendmail", 1, "/usr/sbin/sendmail"},
	    {"sendmail -t -i", -1, NULL}, /* execv does not search PATH */
	    {"", -1, NULL},
	    {"   ", -1, NULL},
	    {"/a 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", 16, "16"},
	    {"/a 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", -1, NULL},
	    {"/bin/sh -c 'a;b'", 3, "'a;b'"}, /* no shell: quotes are plain characters */
	};
	char **argv;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = mailer_argv(rows[i].command, &argv), n = 0;

		if ((r == 0) != (rows[i].words >= 0))
			fail_msg("\"%s\": %d", rows[i].command, r);
		if (r != 0)
			continue;
		while (argv[n] != NULL)
			n++;
		if (n != rows[i].words || strcmp(argv[n - 1], rows[i].last) != 0)
			fail_msg("\"%s\": %d words, last \"%s\"", rows[i].command, n, argv[n - 1]);
		free(argv);
	}
}

/* The command gets the message on its standard input; failures and hangs are reported. */
/* A process that runs (a zombie nobody reaped does not). */
static bool running(int pid)
{
	char path[64], stat[256] = "";
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	return strstr(stat, ") Z ") == NULL;
}

static void test_run(void **state)
{
	char dir[] = "/tmp/verdon-test-mailer.XXXXXX", script[128], out[128], cmd[300];
	char got[256] = "", why[MAILER_WHY_MAX];
	FILE *f;
	size_t n;
	time_t start;
	int child = 0;

	(void)state;
	/* As the daemon (server.c): a sendmail that exits before reading is an error, not a
	 * SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/sendmail.sh", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "cat > \"$1\"\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/bin/sh %s %s", script, out);
	assert_int_equal(mailer_run(cmd, "Subject: x\n\nhello\n", 18, 10, why), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = '\0';
	assert_string_equal(got, "Subject: x\n\nhello\n");

	/* every failure says why, in words the log line can carry */
	assert_int_equal(mailer_run("/bin/false", "x\n", 2, 10, why), -1);
	assert_string_equal(why, "sendmail: /bin/false exited with status 1");
	assert_int_equal(mailer_run("/nonexistent/sendmail -t", "x\n", 2, 10, why), -1);
	assert_string_equal(
	    why, "sendmail: cannot start /nonexistent/sendmail: No such file or directory");
	assert_int_equal(mailer_run("sendmail -t", "x\n", 2, 10, why), -1);
	assert_non_null(strstr(why, "not an absolute path"));
	start = time(NULL);
	assert_int_equal(mailer_run("/bin/sleep 30", "x\n", 2, 1, why), -1); /* killed after 1 s */
	assert_true(time(NULL) - start < 10);
	assert_string_equal(why, "sendmail: /bin/sleep killed after 1 seconds ([mail] timeout)");

	/* a hung sendmail's own children die with it: its process group is killed */
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "sleep 30 &\necho $! > \"$1\"\nwait\n");
	fclose(f);
	assert_int_equal(mailer_run(cmd, "x\n", 2, 1, why), -1);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &child), 1);
	fclose(f);
	for (int i = 0; i < 100 && running(child); i++)
		usleep(20 * 1000);
	assert_false(running(child));
	unlink(out);
	unlink(script);
	rmdir(dir);
}

/* What the undo of test_send saw: each call's why, in order. */
static struct {
	pthread_mutex_t lock;
	char why[4][MAILER_WHY_MAX];
	int calls;
} undone = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void undo_fn(void *arg, const char *why)
{
	pthread_mutex_lock(&undone.lock);
	assert_string_equal(arg, "ctx");
	if (undone.calls < 4)
		snprintf(undone.why[undone.calls], MAILER_WHY_MAX, "%s", why);
	undone.calls++;
	pthread_mutex_unlock(&undone.lock);
}

static int calls_after(int want, int ms)
{
	int n;

	for (int i = 0; i < ms / 10; i++) {
		pthread_mutex_lock(&undone.lock);
		n = undone.calls;
		pthread_mutex_unlock(&undone.lock);
		if (n >= want)
			break;
		usleep(10 * 1000);
	}
	pthread_mutex_lock(&undone.lock);
	n = undone.calls;
	pthread_mutex_unlock(&undone.lock);
	return n;
}

static struct mail_undo undo_new(void)
{
	return (struct mail_undo){.fn = undo_fn, .arg = strdup("ctx"), .arg_len = 4};
}

/*
 * mailer_send runs the undo of a mail that failed, once, with why; never for a mail that went;
 * and after mailer_quiesce (the daemon stopping) never again. Last: the quiesce is for good.
 */
static void test_send(void **state)
{
	struct config c = {.mail_from = "verdon@example.org", .mail_timeout = 2};
	struct mail m = {.from = "verdon@example.org",
	                 .to = "rescue@example.net",
	                 .subject = "Test",
	                 .body = "hello\n"};
	struct mail_undo u;

	(void)state;
	c.mail_sendmail = "/bin/cat"; /* reads it all, to /dev/null */
	u = undo_new();
	assert_int_equal(mailer_send(&c, &m, time(NULL), &u), 0);
	c.mail_sendmail = "/bin/false";
	u = undo_new();
	assert_int_equal(mailer_send(&c, &m, time(NULL), &u), 0);
	assert_int_equal(calls_after(1, 5000), 1);
	assert_string_equal(undone.why[0], "sendmail: /bin/false exited with status 1");
	c.mail_sendmail = "/nonexistent/sendmail";
	u = undo_new();
	assert_int_equal(mailer_send(&c, &m, time(NULL), &u), 0);
	assert_int_equal(calls_after(2, 5000), 2);
	assert_string_equal(
	    undone.why[1],
	    "sendmail: cannot start /nonexistent/sendmail: No such file or directory");
	/* a message that cannot be built fails at once, its undo too */
	m.to = "rescue@example.net\nBcc: x@example.org";
	u = undo_new();
	assert_int_equal(mailer_send(&c, &m, time(NULL), &u), -1);
	assert_int_equal(calls_after(3, 5000), 3);
	assert_string_equal(undone.why[2], "the message could not be built");
	/* the /bin/cat mail went: no call for it, even given time */
	assert_int_equal(calls_after(4, 500), 3);
	mailer_quiesce();
	c.mail_sendmail = "/bin/false";
	m.to = "rescue@example.net";
	u = undo_new();
	assert_int_equal(mailer_send(&c, &m, time(NULL), &u), 0);
	assert_int_equal(calls_after(4, 1000), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_code_from_random),
	    cmocka_unit_test(test_code_new),
	    cmocka_unit_test(test_code_normalize),
	    cmocka_unit_test(test_code_check),
	    cmocka_unit_test(test_code_none),
	    cmocka_unit_test(test_code_tries),
	    cmocka_unit_test(test_code_record),
	    cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_build_ids_differ),
	    cmocka_unit_test(test_build_subject_encoded),
	    cmocka_unit_test(test_build_refused),
	    cmocka_unit_test(test_bodies_build),
	    cmocka_unit_test(test_argv),
	    cmocka_unit_test(test_run),
	    cmocka_unit_test(test_send),
	};

	/* As the daemon (server.c): /bin/false gone before its input is written must not kill us.
	 */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("reset", tests, setup, NULL);
}
