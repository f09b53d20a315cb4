#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli_secret.h"
#include "secret.h"

/* Where to put the terminal back if a signal ends us while echo is off. */
static struct termios tty_saved;
static volatile sig_atomic_t tty_fd = -1;

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

static void tty_restore_on_signal(int sig)
{
	if (tty_fd != -1)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int echo_off(int fd, struct sigaction *old)
{
	struct termios t;
	struct sigaction sa;

	if (tcgetattr(fd, &tty_saved) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_restore_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &sa, &old[i]);
	tty_fd = fd;
	t = tty_saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(fd, TCSAFLUSH, &t) == 0)
		return 0;
	tty_fd = -1;
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	return -1;
}

static void echo_restore(int fd, const struct sigaction *old)
{
	tcsetattr(fd, TCSAFLUSH, &tty_saved);
	tty_fd = -1;
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	fputc('\n', stderr);
}

/* 1 a line, 0 end of input with nothing read, -1 error. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	int r = -1;
	char c = 0;
	ssize_t k;

	for (;;) {
		k = read(fd, &c, 1);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1)
			goto out;
		if (k == 0 || c == '\n')
			break;
		if (n + 1 >= cap) {
			errno = E2BIG;
			goto out;
		}
		buf[n++] = c;
	}
	if (k == 0 && n == 0) {
		r = 0;
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	r = 1;
out:
	secret_wipe(&c, sizeof(c));
	return r;
}

int cli_secret_read(int fd, const char *prompt, bool echo, char **line_r)
{
	struct sigaction old[NSIGNALS];
	bool tty = isatty(fd) == 1, muted = false;
	char *buf = calloc(1, CLI_SECRET_MAX);
	int r = -1, saved;

	*line_r = NULL;
	if (buf == NULL)
		goto out;
	if (tty && prompt != NULL) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	if (tty && !echo) {
		if (echo_off(fd, old) == -1)
			goto out;
		muted = true;
	}
	r = read_line(fd, buf, CLI_SECRET_MAX);
	if (r == 1) {
		*line_r = buf;
		buf = NULL;
	}
out:
	saved = errno;
	if (muted)
		echo_restore(fd, old);
	if (buf != NULL) {
		secret_wipe(buf, CLI_SECRET_MAX);
		free(buf);
	}
	errno = saved;
	return r;
}
